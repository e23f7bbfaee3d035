//! The generated API on real shapes: posts in JSON and DAG-CBOR, open and closed unions, unknown
//! fields, nullable fields, and request types.

#![cfg(all(feature = "com-atproto", feature = "app-bsky"))]

use std::path::Path;

use atdata_api::app::bsky::embed;
use atdata_api::app::bsky::feed::{post, GetTimeline, Post};
use atdata_api::app::bsky::richtext::facet;
use atdata_api::com::atproto::repo::{apply_writes, get_record, put_record, CreateRecord};
use atdata_api::ids;
use atdata_core::xrpc::{Body, QueryParams, XrpcErrorName, XrpcMethod, XrpcRequest};
use atdata_core::{cbor, Blob, Cid, Datetime, Value};

const CID: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

/// A post as the Bluesky app writes it: images, a facet carrying `$type` on a plain ref object,
/// a reply, self-labels, and a key the lexicon does not know.
const POST: &str = r#"{
    "$type": "app.bsky.feed.post",
    "text": "hello @alice.test",
    "createdAt": "2024-05-01T12:00:00.000Z",
    "langs": ["en"],
    "facets": [{
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": 6, "byteEnd": 17},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}]
    }],
    "reply": {
        "root": {"uri": "at://did:plc:bob/app.bsky.feed.post/3k2", "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
        "parent": {"uri": "at://did:plc:bob/app.bsky.feed.post/3k2", "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}
    },
    "embed": {
        "$type": "app.bsky.embed.images",
        "images": [{
            "alt": "a cat",
            "image": {"$type": "blob", "ref": {"$link": "bafkreiblkobl6arfg3j7eft3akdhn2hmr2qmzfkefcgu4agnswvssg4a6a"},
                      "mimeType": "image/jpeg", "size": 1234},
            "aspectRatio": {"width": 4, "height": 3}
        }]
    },
    "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "nudity"}]},
    "via": "an app that writes a key of its own"
}"#;

#[test]
fn a_post_round_trips_through_json_and_dag_cbor() {
    let post: Post = serde_json::from_str(POST).expect("post");
    assert_eq!(post.text, "hello @alice.test");
    assert!(
        matches!(&post.embed, Some(post::RecordEmbed::Images(images)) if images.images[0].alt == "a cat")
    );
    let facets = post.facets.as_deref().unwrap_or_default();
    assert!(
        matches!(&facets[0].features[0], facet::MainFeatures::Mention(m) if m.did.as_str() == "did:plc:alice")
    );
    // `$type` on a plain ref object and undeclared keys are kept.
    assert_eq!(
        facets[0].extra.get("$type").and_then(Value::as_str),
        Some("app.bsky.richtext.facet")
    );
    assert!(post.extra.contains_key("via"));

    let original = Value::from_json_str(POST).expect("value");
    let bytes = cbor::to_vec(&post).expect("cbor");
    assert_eq!(
        bytes,
        original.to_dag_cbor(),
        "DAG-CBOR identical to the data model's"
    );
    assert_eq!(
        Cid::for_dag_cbor(&bytes),
        atdata_core::cid_for(&original).expect("cid")
    );
    let json = serde_json::to_string(&post).expect("json");
    assert_eq!(Value::from_json_str(&json).expect("value"), original);
    assert_eq!(cbor::from_slice::<Post>(&bytes).expect("back"), post);
}

#[test]
fn unknown_embed_is_kept_as_unknown() {
    let text = POST.replace("app.bsky.embed.images", "app.bsky.embed.hologram");
    let post: Post = serde_json::from_str(&text).expect("an open union accepts a new member");
    let Some(post::RecordEmbed::Unknown(value)) = &post.embed else {
        panic!("expected the unknown arm, got {:?}", post.embed);
    };
    assert_eq!(value.type_name(), Some("app.bsky.embed.hologram"));
    let original = Value::from_json_str(&text).expect("value");
    assert_eq!(cbor::to_vec(&post).expect("cbor"), original.to_dag_cbor());
}

#[test]
fn errors_name_the_path_and_the_type() {
    let text = POST.replace(r#""alt": "a cat","#, "");
    let err = serde_json::from_str::<Post>(&text).expect_err("alt is required");
    assert!(
        err.to_string()
            .starts_with("embed.images[0].alt: missing field"),
        "{err}"
    );

    let text = POST.replace(r#""did": "did:plc:alice""#, r#""did": "alice""#);
    let err = serde_json::from_str::<Post>(&text).expect_err("not a DID");
    assert!(
        err.to_string().starts_with("facets[0].features[0].did: "),
        "{err}"
    );

    // com.atproto.repo.applyWrites: a closed union.
    let err = serde_json::from_str::<apply_writes::Input>(
        r#"{"repo": "did:plc:abc", "writes": [{"$type": "com.atproto.repo.applyWrites#upsert"}]}"#,
    )
    .expect_err("closed union");
    assert!(
        err.to_string().starts_with(
            "writes[0]: unknown $type com.atproto.repo.applyWrites#upsert in closed union"
        ),
        "{err}"
    );
}

#[test]
fn building_a_post_by_hand() {
    let created: Datetime = "2024-05-01T12:00:00.000Z".parse().expect("datetime");
    let image =
        embed::images::Image::new(Blob::new(Cid::for_raw(b"jpeg"), "image/jpeg", 4), "a cat");
    let post = Post::new("hi", created)
        .langs(vec!["en".parse().expect("language")])
        .embed(embed::Images::new(vec![image]));
    let value: Value = atdata_core::to_value(&post).expect("value");
    assert_eq!(value.type_name(), Some(ids::APP_BSKY_FEED_POST));
    assert_eq!(
        value
            .get("embed")
            .and_then(|e| e.get("$type"))
            .and_then(Value::as_str),
        Some("app.bsky.embed.images")
    );
    // JSON puts `$type` first; DAG-CBOR in key order.
    let json = serde_json::to_string(&post).expect("json");
    assert!(
        json.starts_with(r#"{"$type":"app.bsky.feed.post","#),
        "{json}"
    );
}

#[test]
fn legacy_appview_record() {
    // AppView JSON from 2023: a legacy blob (`cid` + `mimeType`), a deprecated `entities` field.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus/indigo/testing/testdata/repo_slice_record.json");
    let text = std::fs::read_to_string(path).expect("read");
    let out: get_record::Output = serde_json::from_str(&text).expect("getRecord output");
    assert!(out.extra.contains_key("indexedAt"));
    let post: Post = atdata_core::runtime::Deserialize::deserialize(
        atdata_core::runtime::ValueDeserializer::new(out.value.clone()),
    )
    .expect("the value is a post");
    assert!(
        matches!(post.embed, Some(post::RecordEmbed::Images(ref i)) if matches!(i.images[0].image, Blob::Legacy { .. }))
    );
    let again = serde_json::to_value(&out).expect("json");
    let original: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(again, original);
}

#[test]
fn single_record_cbor_files() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/indigo/testing/testdata");
    for name in ["feedpost_record.cbor", "post_richtext_link.cbor"] {
        let bytes = std::fs::read(dir.join(name)).expect("read");
        let post: Post = cbor::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(cbor::to_vec(&post).expect("encode"), bytes, "{name}");
    }
}

#[test]
fn requests() {
    let timeline = GetTimeline::new().limit(50).cursor("abc");
    let mut params = QueryParams::new();
    timeline.write_params(&mut params);
    assert_eq!(params.to_query_string(), "cursor=abc&limit=50");
    assert_eq!(GetTimeline::METHOD, XrpcMethod::Query);
    assert_eq!(GetTimeline::NSID, ids::APP_BSKY_FEED_GET_TIMELINE);
    assert_eq!(timeline.encode_input().expect("no body"), None);

    let post = Post::new(
        "hi",
        "2024-05-01T12:00:00.000Z".parse::<Datetime>().expect("dt"),
    );
    let create = CreateRecord::new(
        "alice.test"
            .parse::<atdata_core::AtIdentifier>()
            .expect("handle"),
        ids::APP_BSKY_FEED_POST
            .parse::<atdata_core::Nsid>()
            .expect("nsid"),
        atdata_core::to_value(&post).expect("value"),
    )
    .validate(true);
    let body = create.encode_input().expect("encode").expect("body");
    let sent: serde_json::Value = serde_json::from_slice(&body.bytes).expect("json");
    assert_eq!(sent["record"]["$type"], "app.bsky.feed.post");
    assert_eq!(sent["validate"], true);

    let out = CreateRecord::decode_output(Body::new(
        "application/json",
        format!(r#"{{"uri": "at://did:plc:abc/app.bsky.feed.post/3k", "cid": "{CID}"}}"#),
    ))
    .expect("output");
    assert_eq!(out.cid.to_string(), CID);

    // putRecord: `swapRecord` is optional and nullable, three states on the wire.
    let put = |swap: Option<Option<Cid>>| {
        let mut p = put_record::PutRecord::new(
            "did:plc:abc"
                .parse::<atdata_core::AtIdentifier>()
                .expect("did"),
            "app.bsky.feed.post"
                .parse::<atdata_core::Nsid>()
                .expect("nsid"),
            "3k".parse::<atdata_core::RecordKey>().expect("rkey"),
            Value::Map(Default::default()),
        );
        p.input.swap_record = swap;
        let body = p.encode_input().expect("encode").expect("body");
        serde_json::from_slice::<serde_json::Value>(&body.bytes).expect("json")
    };
    assert!(put(None).get("swapRecord").is_none());
    assert_eq!(put(Some(None))["swapRecord"], serde_json::Value::Null);
    assert_eq!(
        put(Some(Some(CID.parse().expect("cid"))))["swapRecord"],
        CID
    );

    assert_eq!(
        put_record::Error::from_name("InvalidSwap").map(|e| e.name()),
        Some("InvalidSwap")
    );
}
