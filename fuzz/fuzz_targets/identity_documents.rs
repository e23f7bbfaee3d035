//! DID documents, PLC audit logs and did:web names from arbitrary bytes: never a panic, and
//! an accepted document survives a round trip. The properties are in
//! `atdata-identity/tests/fuzz_bodies/documents.rs`, which a stable property test runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../atdata-identity/tests/fuzz_bodies/documents.rs"]
mod body;

fuzz_target!(|data: &[u8]| {
    body::check_document(data);
    body::check_audit_log(data);
    body::check_did_web(data);
});
