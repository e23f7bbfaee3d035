//! Property tests for the data model codecs: encode/decode round trips, canonical encoding, and
//! no panic or unbounded work on arbitrary input.

use std::collections::BTreeMap;

use atdata_core::car::CarReader;
use atdata_core::ReadValue;
use atdata_core::{cbor, Cid, Value, ValueRef};
use proptest::prelude::*;

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Integer),
        (-1000i64..1000).prop_map(Value::Integer),
        ".{0,40}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        proptest::collection::vec(any::<u8>(), 1..64)
            .prop_map(|d| Value::Link(Cid::for_dag_cbor(&d))),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z0-9_]{0,12}", inner, 0..8)
                .prop_map(|m: BTreeMap<String, Value>| Value::Map(m)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn cbor_round_trips_and_is_canonical(v in arb_value()) {
        let bytes = v.to_dag_cbor();
        let back = Value::from_dag_cbor(&bytes).expect("own encoding decodes");
        prop_assert_eq!(&back, &v);
        // The serde path and the zero-copy path agree byte for byte.
        prop_assert_eq!(cbor::to_vec(&v).expect("serde encode"), bytes.clone());
        let borrowed = ValueRef::from_dag_cbor(&bytes).expect("zero-copy decode");
        prop_assert_eq!(borrowed.to_dag_cbor(), bytes.clone());
        let via_serde: Value = cbor::from_slice(&bytes).expect("serde decode");
        prop_assert_eq!(via_serde, v);
    }

    #[test]
    fn direct_value_conversions_match_the_encoded_round_trips(v in arb_value()) {
        // to_value / from_value give what a trip through DAG-CBOR gives, from_value_json what a
        // trip through atproto JSON gives, without the bytes in between.
        let direct = atdata_core::to_value(&v).expect("to_value");
        let via_cbor: Value = cbor::from_slice(&cbor::to_vec(&v).expect("encode")).expect("decode");
        prop_assert_eq!(&direct, &via_cbor);
        let back: Value = atdata_core::from_value(v.clone()).expect("from_value");
        prop_assert_eq!(&back, &v);
        let json: serde_json::Value = atdata_core::from_value_json(v.clone()).expect("json view");
        prop_assert_eq!(&json, &v.to_json());
        let back: Value = atdata_core::from_value_json(v.clone()).expect("json view to Value");
        prop_assert_eq!(back, v);
    }

    #[test]
    fn the_three_representations_read_the_same_through_read_value(v in arb_value()) {
        let bytes = v.to_dag_cbor();
        let borrowed = cbor::decode_ref(&bytes).expect("decode_ref");
        let mut tape = cbor::Tape::new();
        let taped = tape.decode(&bytes).expect("tape");
        prop_assert_eq!(&rebuild(&v), &v);
        prop_assert_eq!(&rebuild(&borrowed), &v);
        prop_assert_eq!(&rebuild(&taped), &v);
        prop_assert_eq!(ReadValue::to_value(&taped), v.clone());
        prop_assert_eq!(ReadValue::type_name(&borrowed), v.type_name());
    }

    #[test]
    fn json_round_trips(v in arb_value()) {
        let json = v.to_json();
        let back = Value::from_json(json).expect("own JSON parses");
        prop_assert_eq!(back, v);
    }

    #[test]
    fn accepted_bytes_are_exactly_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Strict decoding means one encoding per value: whatever decodes must re-encode to the
        // identical bytes.
        if let Ok(v) = cbor::decode_ref(&bytes) {
            prop_assert_eq!(v.to_dag_cbor(), bytes.clone());
        }
        let serde_ok = cbor::from_slice::<Value>(&bytes).is_ok();
        prop_assert_eq!(serde_ok, cbor::decode_ref(&bytes).is_ok());
    }

    #[test]
    fn mutated_encodings_never_panic(v in arb_value(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let mut bytes = v.to_dag_cbor();
        for (pos, x) in flips {
            let len = bytes.len();
            bytes[pos % len] ^= x;
        }
        if let Ok(decoded) = cbor::decode_ref(&bytes) {
            prop_assert_eq!(decoded.to_dag_cbor(), bytes.clone());
        }
    }

    #[test]
    fn car_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(reader) = CarReader::new(&bytes) {
            for block in reader.blocks().flatten() {
                let _ = block.decode();
            }
        }
    }
}

#[test]
fn mutated_real_car_never_panics() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/corpus/repo-stream/car-samples/tiny.car"
    );
    let original = std::fs::read(path).expect("tiny.car");
    // Deterministic xorshift so failures reproduce.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let mut bytes = original.clone();
        let pos = (next() % bytes.len() as u64) as usize;
        bytes[pos] ^= (next() % 255 + 1) as u8;
        if let Ok(reader) = atdata_core::car::CarReader::with_options(
            &bytes,
            atdata_core::car::ReadOptions::unverified(),
        ) {
            for b in reader.blocks().flatten() {
                let _ = b.decode();
            }
        }
    }
}

/// A `Value` rebuilt through the `ReadValue` accessors alone.
fn rebuild<V: ReadValue>(v: &V) -> Value {
    match v.kind() {
        "null" => Value::Null,
        "boolean" => Value::Bool(v.as_bool().expect("bool")),
        "integer" => Value::Integer(v.as_integer().expect("integer")),
        "string" => Value::String(v.as_str().expect("string").to_owned()),
        "bytes" => Value::Bytes(v.as_bytes().expect("bytes").to_vec()),
        "cid-link" => Value::Link(v.as_link().expect("link")),
        "array" => {
            assert_eq!(v.items().count(), v.len());
            Value::Array(v.items().map(|item| rebuild(&item)).collect())
        }
        "map" => {
            assert_eq!(v.entries().count(), v.len());
            for (key, item) in v.entries() {
                assert_eq!(v.get(key).map(|got| rebuild(&got)), Some(rebuild(&item)));
            }
            Value::Map(
                v.entries()
                    .map(|(k, item)| (k.to_owned(), rebuild(&item)))
                    .collect(),
            )
        }
        other => panic!("unknown kind {other}"),
    }
}
