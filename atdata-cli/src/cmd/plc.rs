//! `atdata plc log`: a did:plc's operation log, fetched from the PLC directory, verified, and
//! checked against the document the directory serves.

use atdata_core::syntax::Did;
use atdata_identity::plc::{AuditReport, OpKind, PlcState, VerifyOptions};
use atdata_identity::Error;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::output::Output;
use crate::resolver::{identity_failure, ResolverArgs};
use crate::Failure;

/// `atdata plc`'s subcommands.
#[derive(Subcommand)]
pub enum PlcCommand {
    /// Fetch a did:plc's operation log (`/{did}/log/audit`) from the PLC directory, verify the
    /// chain, and check the document the directory serves against it.
    ///
    /// Every operation must be signed by a rotation key of the one before it (the genesis
    /// operation by one of its own, and it must hash to the DID), name it by CID, and come in
    /// order; recoveries must be signed by a higher-ranked key within 72 hours, and the
    /// nullified entries must be the ones the history implies. The state the last live
    /// operation sets must be what the directory serves at `/{did}` (a tombstoned DID: no
    /// document at all).
    ///
    /// Prints {"did", "ops", "nullified", "tombstoned", "verified", "matches_document", "head",
    /// "operations", "state"}. Exit 1 when the log does not verify or the document does not
    /// match (what is wrong is on stderr), or the DID is not found; 3 when the directory cannot
    /// be reached.
    Log(LogArgs),
}

/// `atdata plc log`'s arguments.
#[derive(Args)]
pub struct LogArgs {
    #[command(flatten)]
    resolver: ResolverArgs,
    /// Also accept high-S P-256 signatures, and flag them ("high_s": true). The spec requires
    /// low-S signatures, but plc.directory accepted high-S P-256 ones in its early days (the
    /// reference implementation of the time made them), so some old histories only verify
    /// with this. High-S secp256k1 signatures are refused either way.
    #[arg(long)]
    historical: bool,
    /// The did:plc.
    did: String,
}

/// `atdata plc …`.
pub fn run(command: PlcCommand, out: &Output) -> Result<(), Failure> {
    match command {
        PlcCommand::Log(args) => log(args, out),
    }
}

fn log(args: LogArgs, out: &Output) -> Result<(), Failure> {
    let did = parse_did(&args.did)?;
    let resolver = args.resolver.build()?;
    let audit_log = resolver
        .plc_audit_log(&did)
        .map_err(|e| identity_failure(&e))?;
    let options = if args.historical {
        VerifyOptions::historical()
    } else {
        VerifyOptions::strict()
    };
    let report = audit_log.verify_with(&did, options).map_err(|e| {
        let hint = if args.historical {
            ""
        } else {
            " (--historical accepts the high-S P-256 signatures of old operations)"
        };
        Failure::Invalid(format!(
            "{did}: the operation log does not verify: {e}{hint}"
        ))
    })?;
    let mismatch = document_mismatch(&resolver, &report)?;
    let json = report_json(&report, mismatch.as_deref());
    out.emit(&json, || summary(&report, mismatch.as_deref()))?;
    match mismatch {
        None => Ok(()),
        Some(why) => Err(Failure::Invalid(format!("{did}: {why}"))),
    }
}

/// The DID, which must be a did:plc: other methods have no operation log (exit 2).
fn parse_did(did: &str) -> Result<Did, Failure> {
    let parsed = Did::new(did.trim())
        .map_err(|e| Failure::Usage(format!("DID {did:?}: not a DID ({e})")))?;
    if parsed.method() != "plc" {
        return Err(Failure::Usage(format!(
            "{parsed}: only a did:plc has an operation log in the PLC directory (a did:{} \
             document lives with its method; `atdata resolve` reads it)",
            parsed.method()
        )));
    }
    Ok(parsed)
}

/// What is wrong with the document the directory serves now, compared with the verified log:
/// `None` when it matches. A tombstoned DID must have no document: the directory answers 410
/// (or 404 "not available", as older directories do, such as the local one in
/// `scripts/pds/`). Failing to ask (unreachable, a broken document) is a failure of its own.
fn document_mismatch(
    resolver: &atdata_identity::blocking::Resolver,
    report: &AuditReport,
) -> Result<Option<String>, Failure> {
    match resolver.resolve_did(&report.did) {
        Ok(doc) => Ok(report.matches_document(&doc).err().map(|e| e.to_string())),
        Err(e @ (Error::DidDeactivated { .. } | Error::DidNotFound { .. })) => {
            if report.is_tombstoned() {
                Ok(None)
            } else {
                Ok(Some(format!(
                    "the operation log ends in a live operation ({}), but the directory serves \
                     no document: {e}",
                    report.head
                )))
            }
        }
        Err(e) => Err(identity_failure(&e)),
    }
}

fn report_json(report: &AuditReport, mismatch: Option<&str>) -> Value {
    let operations: Vec<Value> = report
        .ops
        .iter()
        .map(|op| {
            json!({
                "cid": op.cid.to_string(),
                "kind": op.kind.type_name(),
                "created_at": op.created_at.to_string(),
                "prev": op.prev.map(|cid| cid.to_string()),
                "signer_key": op.signer_key,
                "nullified": op.is_nullified(),
                "high_s": op.high_s,
            })
        })
        .collect();
    let mut json = json!({
        "did": report.did.as_str(),
        "ops": report.op_count(),
        "nullified": report.nullified_count(),
        "tombstoned": report.is_tombstoned(),
        "verified": true,
        "matches_document": mismatch.is_none(),
        "head": report.head.to_string(),
        "operations": operations,
        "state": report.state.as_ref().map(state_json),
    });
    if let (Some(why), Some(object)) = (mismatch, json.as_object_mut()) {
        object.insert("mismatch".into(), why.into());
    }
    json
}

fn state_json(state: &PlcState) -> Value {
    let services: serde_json::Map<String, Value> = state
        .services
        .iter()
        .map(|(name, service)| {
            let entry = json!({ "type": service.r#type, "endpoint": service.endpoint });
            (name.clone(), entry)
        })
        .collect();
    json!({
        "rotation_keys": state.rotation_keys,
        "verification_methods": state.verification_methods,
        "also_known_as": state.also_known_as,
        "services": services,
    })
}

/// The report for people: the verdict, the state, then one operation a line.
fn summary(report: &AuditReport, mismatch: Option<&str>) -> String {
    let nullified = match report.nullified_count() {
        0 => String::new(),
        n => format!(", {n} nullified"),
    };
    let mut lines = vec![
        format!("did:         {}", report.did),
        format!(
            "operations:  {}{nullified}, chain verified",
            report.op_count()
        ),
        format!("head:        {}", report.head),
        format!(
            "document:    {}",
            match mismatch {
                None if report.is_tombstoned() => "none served (tombstoned), as the log says",
                None => "matches the log",
                Some(_) => "DOES NOT MATCH the log",
            }
        ),
    ];
    match &report.state {
        None => lines.push("state:       tombstoned (deactivated)".into()),
        Some(state) => {
            let or_none = |v: Option<String>| v.unwrap_or_else(|| "none".into());
            lines.push(format!(
                "handle:      {}",
                or_none(state.handle().map(|h| h.to_string()))
            ));
            lines.push(format!(
                "pds:         {}",
                or_none(state.pds_endpoint().map(str::to_owned))
            ));
            lines.push(format!(
                "signing key: {}",
                or_none(state.signing_key().map(str::to_owned))
            ));
            lines.push(format!("rotation:    {}", state.rotation_keys.join(", ")));
        }
    }
    for op in &report.ops {
        let kind = match op.kind {
            OpKind::Regular if op.prev.is_none() => "genesis",
            OpKind::Regular => "update",
            OpKind::Tombstone => "tombstone",
            OpKind::LegacyCreate => "create (legacy)",
            _ => op.kind.type_name(),
        };
        let mut flags = String::new();
        if op.is_nullified() {
            flags.push_str(" [nullified]");
        }
        if op.high_s {
            flags.push_str(" [high-S]");
        }
        lines.push(format!(
            "  {:>3}  {}  {:<15} {}  signed by {}{flags}",
            op.index, op.created_at, kind, op.cid, op.signer_key
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plc_dids_have_a_log() {
        assert!(parse_did("did:plc:ewvi7nxzyoun6zhxrhs64oiz").is_ok());
        assert!(parse_did(" did:plc:ewvi7nxzyoun6zhxrhs64oiz\n").is_ok());
        for bad in ["did:web:example.com", "alice.test", "did:plc", ""] {
            assert!(
                matches!(parse_did(bad), Err(Failure::Usage(_))),
                "{bad} accepted"
            );
        }
    }
}
