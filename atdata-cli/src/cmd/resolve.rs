//! `atdata resolve`: a handle, DID or AT-URI to its identity, the handle checked both ways.

use atdata_core::syntax::{AtIdentifier, AtUri};
use atdata_identity::Identity;
use clap::Args;

use crate::output::Output;
use crate::resolver::{identity_failure, ResolverArgs};
use crate::Failure;

#[derive(Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    resolver: ResolverArgs,
    /// A handle, a DID, or an at:// URI (its authority is resolved).
    id: String,
}

pub fn run(args: ResolveArgs, out: &Output) -> Result<(), Failure> {
    let id = parse_id(&args.id)?;
    let resolver = args.resolver.build()?;
    let identity = resolver.lookup(&id).map_err(|e| identity_failure(&e))?;
    let json = identity_json(&identity)?;
    out.emit(&json, || summary(&identity))
}

/// The identifier to look up: `ID` itself, or an AT-URI's authority.
fn parse_id(id: &str) -> Result<AtIdentifier, Failure> {
    if id.starts_with("at://") {
        let uri: AtUri = id
            .parse()
            .map_err(|e| Failure::Usage(format!("ID {id:?}: {e}")))?;
        return Ok(uri.authority().clone());
    }
    AtIdentifier::new(id).map_err(|e| {
        Failure::Usage(format!(
            "ID {id:?}: not a handle, a DID or an at:// URI ({e})"
        ))
    })
}

fn identity_json(identity: &Identity) -> Result<serde_json::Value, Failure> {
    // The document as it was served: the resolver has parsed it already, so this cannot fail
    // short of a bug; say so rather than panic.
    let doc: serde_json::Value = serde_json::from_str(identity.document_json()).map_err(|e| {
        Failure::Invalid(format!(
            "{}: the DID document is not JSON: {e}",
            identity.did()
        ))
    })?;
    let mut json = serde_json::json!({
        "did": identity.did().as_str(),
        "handle": identity.handle().as_str(),
        "handle_verified": identity.handle_verified(),
        "pds": identity.pds(),
        "signing_key": identity.signing_key().ok().map(|k| k.to_did_key()),
        "also_known_as": identity.also_known_as(),
        "doc": doc,
    });
    if let (Ok(key), Some(object)) = (identity.labeler_key(), json.as_object_mut()) {
        object.insert("labeler_key".into(), key.to_did_key().into());
    }
    Ok(json)
}

/// The identity for people: one field a line.
fn summary(identity: &Identity) -> String {
    let handle = if identity.handle_verified() {
        format!("{} (verified)", identity.handle())
    } else {
        match identity.claimed_handle() {
            Some(claimed) => format!("{} (claims {claimed}, not verified)", identity.handle()),
            None => format!("{} (no handle claimed)", identity.handle()),
        }
    };
    let signing_key = identity
        .signing_key()
        .map_or_else(|e| format!("none ({e})"), |k| k.to_did_key());
    let mut lines = vec![
        format!("did:           {}", identity.did()),
        format!("handle:        {handle}"),
        format!("pds:           {}", identity.pds().unwrap_or("none")),
        format!("signing key:   {signing_key}"),
    ];
    if let Ok(key) = identity.labeler_key() {
        lines.push(format!("labeler key:   {}", key.to_did_key()));
    }
    if !identity.also_known_as().is_empty() {
        lines.push(format!(
            "also known as: {}",
            identity.also_known_as().join(", ")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_handles_dids_or_uri_authorities() {
        let did = |s: &str| parse_id(s).ok().map(|id| id.as_str().to_owned());
        assert_eq!(
            did("did:plc:ewvi7nxzyoun6zhxrhs64oiz").as_deref(),
            Some("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        );
        assert_eq!(did("alice.test").as_deref(), Some("alice.test"));
        assert_eq!(
            did("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3k").as_deref(),
            Some("did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        );
        assert_eq!(did("at://alice.test").as_deref(), Some("alice.test"));
        for bad in ["not a handle", "at://", "did:plc", "https://alice.test"] {
            assert!(
                matches!(parse_id(bad), Err(Failure::Usage(_))),
                "{bad} parsed"
            );
        }
    }
}
