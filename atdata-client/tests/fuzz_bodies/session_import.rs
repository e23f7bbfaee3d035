//! The body of the `session_import` fuzz target (fuzz/fuzz_targets/session_import.rs), shared
//! with the stable property test `tests/session_import_no_panic.rs` so that it runs in every
//! `cargo test`, not only under nightly cargo-fuzz.
//!
//! Arbitrary bytes as an exported session, in our JSON form or the Python SDK's
//! `handle:::did:::access:::refresh:::pds` form: `Session::import` never panics, and a session
//! it accepts exports to a string that imports to an equal session.

use atdata_client::Session;

/// Runs the property on one input; panics only when it is violated.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip(text);
    // Lines as the five Python fields, so the fuzzer reaches the field checks without first
    // having to find `:::` four times.
    let fields: Vec<&str> = text.splitn(5, '\n').collect();
    if fields.len() == 5 {
        round_trip(&fields.join(":::"));
    }
}

fn round_trip(text: &str) {
    let Ok(session) = Session::import(text) else {
        return;
    };
    let exported = session.export();
    match Session::import(&exported) {
        Ok(again) => assert!(again == session, "export/import changed the session"),
        Err(e) => panic!("an exported session does not import: {e}"),
    }
}
