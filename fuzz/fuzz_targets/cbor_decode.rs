//! Strict DAG-CBOR decoding of arbitrary bytes: never panics, and whatever is accepted
//! re-encodes to exactly the input (one encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = atdata_core::cbor::decode_ref(data) {
        assert_eq!(value.to_dag_cbor(), data);
    }
    let _ = atdata_core::cbor::from_slice::<atdata_core::Value>(data);
});
