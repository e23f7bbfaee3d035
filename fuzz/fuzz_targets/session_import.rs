//! `Session::import` on arbitrary bytes, in our JSON form or the Python SDK's `:::` form: never
//! panics, and an accepted session survives export and import. The property is in
//! `atdata-client/tests/fuzz_bodies/session_import.rs`, which a stable property test in that
//! crate runs too, so both check the same thing.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../atdata-client/tests/fuzz_bodies/session_import.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::check(data));
