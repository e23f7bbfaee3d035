//! Property test: atproto JSON from arbitrary text never panics `Value::from_json_str`, and
//! whatever parses prints and parses back equal (the stable counterpart of the `value_json`
//! fuzz target, with the same body).

use proptest::prelude::*;

#[path = "fuzz_bodies/value_json.rs"]
mod body;

/// JSON documents built from the data model's vocabulary: `$link`, `$bytes`, `$type`, blobs,
/// integers at the edges, floats (which the data model refuses) and deep nesting.
fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value as J};
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(J::String),
        Just(json!(
            "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
        )),
        Just(json!({"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"})),
        "[A-Za-z0-9+/=]{0,12}".prop_map(|b| json!({ "$bytes": b })),
        Just(
            json!({"$type": "blob", "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"}, "mimeType": "image/png", "size": 1})
        ),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("$type".to_owned()),
                    Just("$link".to_owned()),
                    Just("$bytes".to_owned()),
                    Just("ref".to_owned()),
                    "[a-z$]{0,6}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        body::check(&data);
    }

    #[test]
    fn structured_json(doc in json()) {
        body::check(doc.to_string().as_bytes());
    }

    #[test]
    fn nesting_at_the_limits(depth in 100usize..140) {
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        body::check(text.as_bytes());
        let text = format!("{}{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        body::check(text.as_bytes());
    }
}
