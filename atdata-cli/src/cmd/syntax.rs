//! `atdata syntax check KIND VALUE`.

use atdata_core::syntax;
use clap::{Subcommand, ValueEnum};

use crate::output::Output;
use crate::Failure;

#[derive(Subcommand)]
pub enum SyntaxCommand {
    /// Exit 0 if VALUE is a valid KIND, 1 (with the reason on stderr) if not.
    Check {
        /// What VALUE should be.
        kind: Kind,
        /// The value, exactly as given (no trimming).
        value: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Did,
    Handle,
    Nsid,
    AtUri,
    AtIdentifier,
    Tid,
    RecordKey,
    Datetime,
    Language,
    Cid,
    Uri,
}

impl From<Kind> for syntax::SyntaxKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Did => syntax::SyntaxKind::Did,
            Kind::Handle => syntax::SyntaxKind::Handle,
            Kind::Nsid => syntax::SyntaxKind::Nsid,
            Kind::AtUri => syntax::SyntaxKind::AtUri,
            Kind::AtIdentifier => syntax::SyntaxKind::AtIdentifier,
            Kind::Tid => syntax::SyntaxKind::Tid,
            Kind::RecordKey => syntax::SyntaxKind::RecordKey,
            Kind::Datetime => syntax::SyntaxKind::Datetime,
            Kind::Language => syntax::SyntaxKind::Language,
            Kind::Cid => syntax::SyntaxKind::Cid,
            Kind::Uri => syntax::SyntaxKind::Uri,
        }
    }
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Did => "did",
            Kind::Handle => "handle",
            Kind::Nsid => "nsid",
            Kind::AtUri => "at-uri",
            Kind::AtIdentifier => "at-identifier",
            Kind::Tid => "tid",
            Kind::RecordKey => "record-key",
            Kind::Datetime => "datetime",
            Kind::Language => "language",
            Kind::Cid => "cid",
            Kind::Uri => "uri",
        }
    }
}

/// Checks `value`; on success returns extra facts worth showing.
fn check(kind: Kind, value: &str) -> Result<serde_json::Value, String> {
    use serde_json::json;
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // Validity is core's one syntax door, shared with the lexicon validator; the facts below
    // come from the parsed identifier.
    syntax::check(kind.into(), value).map_err(|e| err(&e))?;
    Ok(match kind {
        Kind::Did => {
            let did: syntax::Did = value.parse().map_err(|e| err(&e))?;
            json!({ "method": did.method() })
        }
        Kind::Handle => {
            let handle: syntax::Handle = value.parse().map_err(|e| err(&e))?;
            json!({ "normalized": handle.normalize().to_string() })
        }
        Kind::Nsid => {
            let nsid: syntax::Nsid = value.parse().map_err(|e| err(&e))?;
            json!({ "authority": nsid.authority(), "name": nsid.name() })
        }
        Kind::AtUri => {
            let uri: syntax::AtUri = value.parse().map_err(|e| err(&e))?;
            json!({
                "authority": uri.authority().to_string(),
                "collection": uri.collection().map(|c| c.to_string()),
                "rkey": uri.rkey().map(|r| r.to_string()),
            })
        }
        Kind::AtIdentifier => {
            let id: syntax::AtIdentifier = value.parse().map_err(|e| err(&e))?;
            let is_did = matches!(id, syntax::AtIdentifier::Did(_));
            json!({ "type": if is_did { "did" } else { "handle" } })
        }
        Kind::Tid => {
            let tid: syntax::Tid = value.parse().map_err(|e| err(&e))?;
            json!({ "timestamp_micros": tid.timestamp_micros(), "clock_id": tid.clock_id() })
        }
        Kind::RecordKey => {
            let _: syntax::RecordKey = value.parse().map_err(|e| err(&e))?;
            json!({})
        }
        Kind::Datetime => {
            let _: syntax::Datetime = value.parse().map_err(|e| err(&e))?;
            json!({})
        }
        Kind::Language => {
            let _: syntax::Language = value.parse().map_err(|e| err(&e))?;
            json!({})
        }
        Kind::Uri => json!({}),
        Kind::Cid => {
            // The lexicon `cid` string format is a syntax check; say too whether it is a CIDv1
            // this library can decode.
            match value.parse::<atdata_core::Cid>() {
                Ok(cid) => json!({ "decoded": true, "codec": cid.codec() }),
                Err(e) => json!({ "decoded": false, "why": e.to_string() }),
            }
        }
    })
}

pub fn run(command: SyntaxCommand, out: &Output) -> Result<(), Failure> {
    let SyntaxCommand::Check { kind, value } = command;
    match check(kind, &value) {
        Ok(mut facts) => {
            if let Some(map) = facts.as_object_mut() {
                map.insert("valid".into(), true.into());
                map.insert("kind".into(), kind.name().into());
                map.insert("value".into(), value.clone().into());
            }
            out.emit(&facts, || format!("valid {}: {value}", kind.name()))?;
            Ok(())
        }
        // The reason already names the kind ("invalid DID: …").
        Err(reason) => Err(Failure::Invalid(reason)),
    }
}
