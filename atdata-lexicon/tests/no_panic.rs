//! Property test: random values against real schemas never panic, and both modes agree.
//!
//! The values are built from the vocabulary of the schemas (their property names, `$type`s,
//! formats, blob shapes), so that the walk reaches deep into them instead of stopping at the
//! first wrong type.

use std::sync::OnceLock;

use atdata_core::{Cid, Map, Value};
use atdata_lexicon::{Catalog, DefRef, Target};
use proptest::prelude::*;

const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load_dir(LEXICONS).unwrap_or_else(|e| panic!("{e}")))
}

const KEYS: &[&str] = &[
    "$type",
    "text",
    "facets",
    "embed",
    "images",
    "image",
    "alt",
    "aspectRatio",
    "width",
    "height",
    "ref",
    "mimeType",
    "size",
    "cid",
    "uri",
    "createdAt",
    "langs",
    "labels",
    "values",
    "val",
    "index",
    "byteStart",
    "byteEnd",
    "features",
    "did",
    "tag",
    "reply",
    "root",
    "parent",
    "subject",
    "record",
    "media",
    "external",
    "title",
    "description",
    "thumb",
    "displayName",
    "avatar",
    "banner",
    "tags",
    "video",
    "captions",
    "lang",
    "file",
    "seq",
    "ops",
    "cursor",
];

const TYPES: &[&str] = &[
    "blob",
    "app.bsky.feed.post",
    "app.bsky.embed.images",
    "app.bsky.embed.images#main",
    "app.bsky.embed.images#image",
    "app.bsky.embed.external",
    "app.bsky.embed.record",
    "app.bsky.embed.recordWithMedia",
    "app.bsky.richtext.facet#link",
    "app.bsky.richtext.facet#mention",
    "app.bsky.richtext.facet#tag",
    "com.atproto.label.defs#selfLabels",
    "com.atproto.sync.subscribeRepos#commit",
    "com.example.unknown",
    "#local",
];

const STRINGS: &[&str] = &[
    "",
    "hello",
    "did:plc:44ybard66vv44zksje25o7dz",
    "alice.bsky.social",
    "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3jwdwj2ctlk26",
    "https://example.com/x",
    "2024-05-01T12:00:00.000Z",
    "2024-02-30T12:00:00Z",
    "en",
    "image/png",
    "text/plain",
    "bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq",
    "3kznmn7xqxl22",
    "👩‍👩‍👦‍👦🇩🇪e\u{301}",
    "\u{0}",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![any::<i64>(), -2i64..3000].prop_map(Value::Integer),
        prop::sample::select(STRINGS).prop_map(Value::from),
        prop::sample::select(TYPES).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        any::<u8>().prop_map(|b| Value::Link(Cid::for_raw(&[b]))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|entries| {
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map>(),
                )
            }),
        ]
    })
}

/// A map with a `$type` from the vocabulary, so unions pick members.
fn typed_map() -> impl Strategy<Value = Value> {
    (prop::sample::select(TYPES), value()).prop_map(|(kind, mut v)| {
        let mut map = match &mut v {
            Value::Map(m) => std::mem::take(m),
            _ => Map::from([("text".to_owned(), v)]),
        };
        map.insert("$type".into(), kind.into());
        Value::Map(map)
    })
}

fn check(target: Target<'_>, value: &Value) {
    let catalog = catalog();
    let first = catalog.validate(target, value);
    let all = catalog.validate_all(target, value);
    // Hand-built values can break data-model rules the encoder refuses (a `$type` of
    // "blob" without the blob fields, say); those that encode must validate alike borrowed.
    if let Ok(cbor) = atdata_core::cbor::to_vec(value) {
        if let Ok(borrowed) = atdata_core::ValueRef::from_dag_cbor(&cbor) {
            assert_eq!(catalog.validate_all(target, &borrowed), all);
        }
    }
    assert_eq!(first.as_ref().err(), all.as_ref().err().map(|e| &e[0]));
    if let Err(errors) = all {
        assert!(!errors.is_empty());
        for e in &errors {
            assert!(!e.path.is_empty() && !e.to_string().is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn records_never_panic(v in typed_map()) {
        for nsid in [
            "app.bsky.feed.post",
            "app.bsky.actor.profile",
            "app.bsky.feed.like",
            "app.bsky.graph.follow",
            "app.bsky.feed.generator",
        ] {
            check(Target::Record(nsid), &v);
        }
    }

    #[test]
    fn definitions_and_methods_never_panic(v in value(), m in typed_map()) {
        for name in [
            "app.bsky.embed.images",
            "app.bsky.richtext.facet",
            "app.bsky.embed.recordWithMedia",
            "com.atproto.label.defs#selfLabels",
        ] {
            let def: DefRef = name.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            check(Target::Def(&def), &v);
            check(Target::Def(&def), &m);
        }
        check(Target::Params("app.bsky.feed.getTimeline"), &v);
        check(Target::Output("app.bsky.feed.getTimeline"), &v);
        check(Target::Input("com.atproto.repo.createRecord"), &m);
        check(Target::Message("com.atproto.sync.subscribeRepos"), &m);
        check(Target::Frame { method: "com.atproto.sync.subscribeRepos", t: "#commit" }, &v);
    }
}
