//! Property test: `Session::import` never panics on arbitrary text, in either accepted form,
//! and what it accepts survives export and import (the stable counterpart of the
//! `session_import` fuzz target, with the same body).
#![cfg(feature = "http")]

use proptest::prelude::*;

#[path = "fuzz_bodies/session_import.rs"]
mod body;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln";

#[test]
fn a_valid_python_string_round_trips() {
    let python = format!("alice.test:::did:plc:abc123:::{JWT}:::{JWT}:::https://pds.example.com/");
    assert!(atdata_client::Session::import(&python).is_ok());
    body::check(python.as_bytes());
    body::check(b"alice.test\ndid:plc:abc123\na\nb\nhttp://localhost:2583");
}

/// One field of a Python session string: something valid for some field, or noise.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("alice.test".to_owned()),
        Just("did:plc:abc123".to_owned()),
        Just(JWT.to_owned()),
        Just("https://pds.example.com".to_owned()),
        Just(String::new()),
        Just("{".to_owned()),
        Just(":".to_owned()),
        ".{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        body::check(&data);
    }

    #[test]
    fn python_shaped(fields in proptest::collection::vec(field(), 0..8), pad in "[ \t\n]{0,2}") {
        let text = format!("{pad}{}{pad}", fields.join(":::"));
        body::check(text.as_bytes());
    }

    #[test]
    fn json_shaped(
        version in prop_oneof![Just("1".to_owned()), Just("2".to_owned()), Just("\"1\"".to_owned()), "[0-9]{1,3}"],
        did in field(),
        handle in field(),
        access in field(),
        pds in prop_oneof![Just("null".to_owned()), field().prop_map(|f| format!("{f:?}"))],
    ) {
        let text = format!(
            r#"{{"version":{version},"did":{did:?},"handle":{handle:?},"accessJwt":{access:?},"refreshJwt":{access:?},"pds":{pds}}}"#
        );
        body::check(text.as_bytes());
    }
}
