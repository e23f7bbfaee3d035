//! The body of the `value_json` fuzz target (fuzz/fuzz_targets/value_json.rs), shared with the
//! stable property test `tests/proptest_value_json.rs` so that it runs in every `cargo test`,
//! not only under nightly cargo-fuzz.
//!
//! Arbitrary bytes as atproto JSON: `Value::from_json_str` never panics, and what it accepts
//! renders back to JSON that parses to an equal value.

use atdata_core::Value;

/// Runs the property on one input; panics only when it is violated.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = Value::from_json_str(text) else {
        return;
    };
    let json = match value.try_to_json() {
        Ok(json) => json,
        Err(e) => panic!("parsed JSON has no JSON form: {e}"),
    };
    let printed = json.to_string();
    match Value::from_json_str(&printed) {
        Ok(again) => assert!(again == value, "JSON round trip differs: {printed}"),
        Err(e) => panic!("printed JSON does not parse back: {e}: {printed}"),
    }
}
