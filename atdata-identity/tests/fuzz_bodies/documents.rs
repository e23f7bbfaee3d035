//! Properties of the parsers that read what strangers serve: DID documents, PLC audit logs
//! and did:web names. Shared by the stable property test (tests/parsers.rs) and the cargo-fuzz
//! targets (fuzz/fuzz_targets/identity_*.rs), so both check the same thing.

use atdata_core::syntax::Did;
use atdata_identity::plc::AuditLog;
use atdata_identity::{did_web_url, Identity};

/// A DID document: parsing never panics; an accepted one answers every accessor and
/// survives a round trip through its JSON.
pub fn check_document(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for verified in [false, true] {
        let Ok(identity) = Identity::from_json(text, verified) else {
            continue;
        };
        let _ = identity.signing_key();
        let _ = identity.labeler_key();
        let _ = identity.pds();
        let _ = identity.services().len();
        let _ = identity.service_endpoint("#atproto_labeler", "AtprotoLabeler");
        assert_eq!(
            identity.handle_verified(),
            verified && identity.claimed_handle().is_some()
        );
        let json =
            serde_json::to_string(identity.document()).expect("a parsed document serializes");
        let again = Identity::from_json(&json, verified).expect("its own JSON parses");
        assert_eq!(again.did(), identity.did());
        assert_eq!(again.signing_key().ok(), identity.signing_key().ok());
        assert_eq!(again.pds(), identity.pds());
    }
}

/// A PLC audit log: parsing and verification never panic, whatever the bytes.
pub fn check_audit_log(data: &[u8]) {
    let Ok(log) = AuditLog::from_json(data) else {
        return;
    };
    let Some(first) = log.entries().first() else {
        return;
    };
    let did = first.did.clone();
    if let Ok(report) = log.verify(&did) {
        assert_eq!(report.did, did);
        let _ = report.to_document();
    }
}

/// A did:web name: the document URL is an https URL on the host (or http on localhost in
/// development mode), never anything else.
pub fn check_did_web(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(did) = Did::new(&format!("did:web:{text}")) else {
        return;
    };
    for development in [false, true] {
        if let Ok(url) = did_web_url(&did, development) {
            let parsed = url::Url::parse(&url).expect("a URL");
            assert!(parsed.path() == "/.well-known/did.json", "{url}");
            assert!(
                parsed.query().is_none() && parsed.fragment().is_none(),
                "{url}"
            );
            assert!(
                parsed.username().is_empty() && parsed.password().is_none(),
                "{url}"
            );
            match parsed.scheme() {
                "https" => assert!(parsed.port().is_none(), "{url}"),
                "http" => assert!(
                    development && parsed.host_str() == Some("localhost"),
                    "{url}"
                ),
                other => panic!("scheme {other} in {url}"),
            }
        }
    }
}
