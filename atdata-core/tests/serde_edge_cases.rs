//! Serde shapes real users write (tagged and untagged enums, flatten), JSON numbers, and the
//! rules both encoders and decoders must agree on. Several of these were found in review.

use atdata_core::{cbor, Blob, Bytes, Cid, CidLink, DidDocument, Value};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Image {
    alt: String,
    image: Blob,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "$type")]
enum Embed {
    #[serde(rename = "app.bsky.embed.images")]
    Images { images: Vec<Image> },
    #[serde(rename = "app.example.link")]
    Link { target: CidLink },
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Untagged {
    Link(CidLink),
    Bytes(Bytes),
    Text(String),
}

fn blob() -> Blob {
    Blob::new(Cid::for_raw(b"image bytes"), "image/png", 11)
}

#[test]
fn internally_tagged_enums_read_links_and_blobs_from_cbor() {
    for embed in [
        Embed::Images {
            images: vec![Image {
                alt: "a cat".into(),
                image: blob(),
            }],
        },
        Embed::Link {
            target: CidLink(Cid::for_dag_cbor(b"x")),
        },
    ] {
        let bytes = cbor::to_vec(&embed).expect("encode");
        let back: Embed = cbor::from_slice(&bytes).expect("decode from CBOR");
        assert_eq!(back, embed);
        let json = serde_json::to_string(&embed).expect("json");
        assert_eq!(
            serde_json::from_str::<Embed>(&json).expect("from JSON"),
            embed
        );
    }
}

#[test]
fn untagged_enums_pick_the_right_variant_from_cbor() {
    for v in [
        Untagged::Link(CidLink(Cid::for_raw(b"y"))),
        Untagged::Bytes(Bytes(vec![1, 2])),
        Untagged::Text("hi".into()),
    ] {
        let bytes = cbor::to_vec(&v).expect("encode");
        assert_eq!(cbor::from_slice::<Untagged>(&bytes).expect("decode"), v);
        let json = serde_json::to_string(&v).expect("json");
        assert_eq!(
            serde_json::from_str::<Untagged>(&json).expect("json back"),
            v
        );
    }
}

#[test]
fn json_floats_that_would_round_are_rejected() {
    assert_eq!(
        Value::from_json_str("123.0").expect("integer-like"),
        Value::Integer(123)
    );
    // Below 2^53 an integer-valued float is exact: it must come back as that very integer.
    assert_eq!(
        Value::from_json_str("7625096206832519.0").expect("exact"),
        Value::Integer(7_625_096_206_832_519)
    );
    for bad in [
        "9007199254740993.0",
        "1.5",
        "1e400",
        "-9223372036854775809",
        "12345678901234567890123",
    ] {
        assert!(Value::from_json_str(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Value::from_json_str("9223372036854775807").expect("i64 max"),
        Value::Integer(i64::MAX)
    );
}

#[test]
fn encoders_refuse_what_the_decoder_rejects() {
    let mut empty_type = Value::from_json(serde_json::json!({"a": 1})).expect("value");
    let Value::Map(m) = &mut empty_type else {
        unreachable!()
    };
    let mut m = std::mem::take(m);
    m.insert("$type".into(), Value::String(String::new()));
    assert!(cbor::to_vec(&Value::Map(m.clone())).is_err());
    assert!(atdata_core::cid_for(&Value::Map(m.clone())).is_err());
    m.insert("$type".into(), Value::String("blob".into()));
    assert!(cbor::to_vec(&Value::Map(m)).is_err(), "blob without ref");

    let mut deep = Value::Null;
    for _ in 0..200 {
        deep = Value::Array(vec![deep]);
    }
    assert!(cbor::to_vec(&deep).is_err());

    #[derive(Serialize, Deserialize)]
    struct T {
        #[serde(rename = "$type")]
        t: i32,
    }
    assert!(cbor::to_vec(&T { t: 1 }).is_err());
    // A hand-made {"$type": 1}: the serde decoder applies the same rule as decode_ref.
    let bytes = [0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x01];
    assert!(cbor::decode_ref(&bytes).is_err());
    assert!(cbor::from_slice::<T>(&bytes).is_err());
}

#[test]
fn encode_errors_name_their_kind() {
    use cbor::EncodeErrorKind as K;
    use serde::ser::{SerializeMap, SerializeSeq};
    use std::collections::BTreeMap;

    /// A map that writes the key `a` twice.
    struct TwiceA;
    impl Serialize for TwiceA {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry("a", &1)?;
            map.serialize_entry("a", &2)?;
            map.end()
        }
    }
    /// A sequence that declares two items and writes one.
    struct ShortSeq;
    impl Serialize for ShortSeq {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(2))?;
            seq.serialize_element(&1)?;
            seq.end()
        }
    }
    /// A type that refuses to serialize.
    struct Refuses;
    impl Serialize for Refuses {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("not today"))
        }
    }

    let mut deep = Value::Null;
    for _ in 0..200 {
        deep = Value::Array(vec![deep]);
    }
    // Built by hand: the decoders (`Value::from_json` among them) refuse such a `$type`.
    let typed = |t: Value| Value::Map(atdata_core::Map::from([("$type".to_owned(), t)]));
    let cases: Vec<(Result<Vec<u8>, cbor::EncodeError>, K)> = vec![
        (cbor::to_vec(&1.5f64), K::Float),
        (cbor::to_vec(&u64::MAX), K::IntegerRange),
        (cbor::to_vec(&BTreeMap::from([(1, 2)])), K::NonStringKey),
        (cbor::to_vec(&TwiceA), K::DuplicateKey),
        (cbor::to_vec(&deep), K::TooDeep),
        (cbor::to_vec(&typed("".into())), K::InvalidType),
        (cbor::to_vec(&typed(1.into())), K::InvalidType),
        (cbor::to_vec(&typed("blob".into())), K::InvalidBlob),
        (cbor::to_vec(&ShortSeq), K::Protocol),
        (cbor::to_vec(&Refuses), K::Custom),
    ];
    for (result, kind) in cases {
        let err = result.expect_err("refused");
        assert_eq!(err.kind(), kind, "{err}");
        // Display keeps its prefix and the message says what was wrong.
        assert_eq!(
            err.to_string(),
            format!("cannot encode as DAG-CBOR: {}", err.message())
        );
    }
    let err = cbor::to_vec(&Refuses).expect_err("refused");
    assert_eq!(err.message(), "not today");
}

#[test]
fn hostile_nested_lengths_fail_fast() {
    // 126 nested arrays each claiming as many items as there are bytes left.
    let mut bytes = Vec::new();
    let total = 1 << 20;
    for _ in 0..126 {
        bytes.push(0x9a);
        bytes.extend_from_slice(&((total - bytes.len() - 4) as u32).to_be_bytes());
    }
    bytes.resize(total, 0);
    let start = std::time::Instant::now();
    assert!(cbor::decode_ref(&bytes).is_err());
    assert!(cbor::from_slice::<Value>(&bytes).is_err());
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn non_sha256_cids_are_not_reported_as_verified() {
    // 01 80 12 ...: a two-byte codec varint, so the hash code is not at byte 2.
    let data = b"some data";
    let digest = {
        use sha2::Digest as _;
        sha2::Sha256::digest(data)
    };
    let mut raw = vec![0x01, 0x80, 0x12, 0x20];
    raw.extend_from_slice(&digest);
    if let Ok((cid, _)) = Cid::read_bytes(&raw) {
        assert_ne!(cid.matches(data), Some(true));
    }
}

#[test]
fn bytes_padding_must_be_correct() {
    assert!(Value::from_json_str(r#"{"$bytes": "aGk="}"#).is_ok());
    assert!(Value::from_json_str(r#"{"$bytes": "aGk"}"#).is_ok());
    assert!(Value::from_json_str(r#"{"$bytes": "aGk======"}"#).is_err());
}

#[test]
fn value_conversions() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Rec {
        #[serde(rename = "$type")]
        kind: String,
        blob: Blob,
        count: u32,
    }
    let rec = Rec {
        kind: "ac.foundation.dataset.record".into(),
        blob: blob(),
        count: 3,
    };
    let v = atdata_core::to_value(&rec).expect("to value");
    assert_eq!(v.type_name(), Some("ac.foundation.dataset.record"));
    assert_eq!(
        atdata_core::from_value::<Rec>(v.clone()).expect("from value"),
        rec
    );
}

#[test]
fn json_only_types_read_links_bytes_and_blobs_from_a_value() {
    // A record holding a blob, a link and bytes, read as serde_json::Value: the DAG-CBOR view
    // has no JSON form for links, the JSON view gives exactly the record's atproto JSON.
    let text = r#"{"$type": "ac.foundation.dataset.record",
        "blob": {"$type": "blob", "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"}, "mimeType": "text/plain", "size": 3},
        "prev": {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
        "raw": {"$bytes": "AQID"}}"#;
    let value = Value::from_json_str(text).expect("parse");
    let expected: serde_json::Value = serde_json::from_str(text).expect("json");
    let json: serde_json::Value = atdata_core::from_value_json(value.clone()).expect("json view");
    assert_eq!(json, expected);
    let err =
        atdata_core::from_value::<serde_json::Value>(value.clone()).expect_err("no JSON form");
    assert!(err.to_string().contains("newtype"), "{err}");
    // Our own types read either view.
    let blob: Blob =
        atdata_core::from_value_json(value.get("blob").cloned().expect("blob")).expect("blob");
    assert_eq!(blob.size(), Some(3));
    let link: atdata_core::CidLink =
        atdata_core::from_value_json(value.get("prev").cloned().expect("prev")).expect("link");
    assert_eq!(Some(&link.0), value.get("prev").and_then(Value::as_link));
    let bytes: atdata_core::Bytes =
        atdata_core::from_value_json(value.get("raw").cloned().expect("raw")).expect("bytes");
    assert_eq!(bytes.0, vec![1, 2, 3]);
}

#[test]
fn to_value_applies_the_encoders_rules() {
    #[derive(Serialize)]
    struct Float {
        x: f64,
    }
    assert!(atdata_core::to_value(&Float { x: 1.5 }).is_err());
    assert!(atdata_core::to_value(&u64::MAX).is_err());
    let mut keyed = std::collections::BTreeMap::new();
    keyed.insert(1u8, 2u8);
    assert!(atdata_core::to_value(&keyed).is_err());
    let empty_type = serde_json::json!({"$type": ""});
    assert!(atdata_core::to_value(&empty_type).is_err());
    let bad_blob = serde_json::json!({"$type": "blob", "mimeType": "a/b", "size": 1});
    assert!(atdata_core::to_value(&bad_blob).is_err());
    // Deeper than the decoder's limit is refused, not built.
    let mut deep = Value::Null;
    for _ in 0..200 {
        deep = Value::Array(vec![deep]);
    }
    assert!(atdata_core::to_value(&deep).is_err());
    assert!(cbor::to_vec(&deep).is_err());
}

#[test]
fn did_document_signing_key_needs_matching_controller_and_type() {
    let doc: DidDocument = serde_json::from_value(serde_json::json!({
        "id": "did:plc:abc",
        "alsoKnownAs": ["at://alice.test"],
        "verificationMethod": [
            {"id": "#atproto", "type": "Multikey", "controller": "did:plc:evil", "publicKeyMultibase": "zEvil"},
            {"id": "did:plc:abc#atproto", "type": "Multikey", "controller": "did:plc:abc", "publicKeyMultibase": "zGood"}
        ],
        "service": [
            {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "ftp://x y"}
        ]
    }))
    .expect("doc");
    assert_eq!(doc.signing_key(), Some("zGood"));
    assert_eq!(doc.pds_endpoint(), None);
}
