//! atproto JSON into `Value` and back: `Value::from_json_str` never panics, and what it accepts
//! prints and parses back equal. The property is in
//! `atdata-core/tests/fuzz_bodies/value_json.rs`, which a stable property test in that crate
//! runs too, so both check the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../atdata-core/tests/fuzz_bodies/value_json.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::check(data));
