//! A blob (`$type: "blob"`) has exactly `$type`, `ref`, `mimeType` and `size`, as in the
//! reference implementations (indigo refuses any other count of keys, the TypeScript blob
//! schema is strict). Every decoder, the serde serializer and the `Blob` type agree.

use atdata_core::cbor::{self, DecodeErrorKind, Tape};
use atdata_core::{Blob, Map, Value};

const CID: &str = "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity";

fn blob_json(extra: Option<(&str, serde_json::Value)>) -> serde_json::Value {
    let mut json = serde_json::json!({
        "$type": "blob",
        "ref": {"$link": CID},
        "mimeType": "image/jpeg",
        "size": 10000,
    });
    if let Some((key, value)) = extra {
        json[key] = value;
    }
    json
}

/// The blob as a hand-built `Value`, which nothing has checked.
fn blob_value(extra: Option<(&str, Value)>) -> Value {
    let mut map = Map::new();
    map.insert("$type".into(), "blob".into());
    map.insert("ref".into(), Value::Link(CID.parse().expect("CID")));
    map.insert("mimeType".into(), "image/jpeg".into());
    map.insert("size".into(), 10000.into());
    if let Some((key, value)) = extra {
        map.insert(key.into(), value);
    }
    Value::Map(map)
}

#[test]
fn a_blob_with_exactly_its_four_keys_is_accepted() {
    let value = Value::from_json(blob_json(None)).expect("valid blob");
    let cbor = cbor::to_vec(&value).expect("encodes");
    assert_eq!(cbor, value.to_dag_cbor());
    assert!(cbor::decode_ref(&cbor).is_ok());
    assert!(Tape::new().decode(&cbor).is_ok());
    let blob: Blob = serde_json::from_value(blob_json(None)).expect("Blob from JSON");
    assert_eq!(
        cbor::from_slice::<Blob>(&cbor).expect("Blob from CBOR"),
        blob
    );
}

#[test]
fn a_blob_with_another_key_is_rejected_everywhere() {
    for (key, json, value) in [
        ("alt", serde_json::json!("a cat"), Value::from("a cat")),
        ("width", serde_json::json!(3), Value::from(3)),
        ("$extra", serde_json::json!(null), Value::Null),
    ] {
        let why = format!("blob has an unexpected key \"{key}\"");
        // JSON into the data model.
        let err = Value::from_json(blob_json(Some((key, json.clone())))).expect_err("JSON");
        assert!(err.to_string().contains(&why), "{err}");
        // JSON into the Blob type.
        assert!(serde_json::from_value::<Blob>(blob_json(Some((key, json)))).is_err());

        // A hand-built value: the checked encoder refuses it...
        let hand_built = blob_value(Some((key, value)));
        let err = cbor::to_vec(&hand_built).expect_err("checked encoder");
        assert!(err.to_string().contains(&why), "{err}");
        // ...and the bytes the unchecked one writes are refused by both decoders, alike.
        let cbor = hand_built.to_dag_cbor();
        let err = cbor::decode_ref(&cbor).expect_err("tree decoder");
        assert_eq!(
            err.kind(),
            &DecodeErrorKind::DataModel(format!(
                "{why}: a blob has exactly $type, ref, mimeType and size"
            ))
        );
        assert_eq!(Tape::new().decode(&cbor).map(|_| ()), Err(err));
        assert!(cbor::from_slice::<Blob>(&cbor).is_err());
        assert!(cbor::from_slice::<Value>(&cbor).is_err());
    }
}
