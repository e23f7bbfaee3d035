//! The code generated from the edge-case lexicons in `tests/lexicons` (checked in under
//! `tests/edge`): it is fresh, it compiles (this file includes it), and it behaves.

// The generated root allows dead code and unused re-exports itself.
#[path = "edge/mod.rs"]
mod edge;

#[path = "support/edge_config.rs"]
mod edge_config;

use atdata_core::runtime::Object as _;
use atdata_core::xrpc::{
    Body, QueryParams, XrpcErrorName, XrpcMethod, XrpcRequest, XrpcSubscription,
};
use atdata_core::{cbor, Cid, CidLink, Value};
use edge::com::example::edge::{defs, do_thing, nested, nested_peer, other, post, subscribe};

fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[test]
fn checked_in_output_is_fresh() {
    let catalog = edge_config::catalog();
    let tree = edge_config::generate(&catalog);
    let differing = tree
        .diff(edge_config::tests_dir().join("edge"))
        .expect("read tests/edge");
    assert!(
        differing.is_empty(),
        "tests/edge is out of date ({differing:?}); run `cargo run -p xtask -- regen`"
    );
    // The one reference that cannot be typed is reported, not silently dropped; so is each
    // array definition generated as a struct because its items lead back to it.
    let warnings: Vec<String> = tree.warnings.iter().map(ToString::to_string).collect();
    let wrapped = |def: &str| {
        format!(
            "com.example.edge.{def}: the array's items lead back to it; generated as a struct \
             wrapping a Vec (a type alias cannot refer to itself)"
        )
    };
    assert_eq!(
        warnings,
        [
            "com.example.edge.defs#missing: unresolved reference com.example.nowhere#thing; typed as Value"
                .to_owned(),
            wrapped("nested#even"),
            wrapped("nested#grid"),
            wrapped("nested#main"),
            wrapped("nested#odd"),
            wrapped("nested#peer"),
            wrapped("nestedPeer#main"),
        ]
    );
}

#[test]
fn names() {
    // Keywords, collisions after case conversion, a property called `extra`, a leading digit.
    // The setter of property `new` cannot be called `new`.
    let mut k = defs::Keywords::new("t").new_2("n");
    k.r#match = Some(true);
    k.self_ = Some(1);
    k.crate_ = Some(2);
    k.extra = Some("declared".into());
    k.foo_bar = Some(3);
    k.foo_bar_2 = Some(4);
    k._2fa = Some(false);
    k.extra_2.insert("undeclared".into(), Value::Integer(5));
    let text = serde_json::to_string(&k).expect("json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["type"], "t");
    assert_eq!(v["new"], "n");
    assert_eq!(v["fooBar"], 3);
    assert_eq!(v["foo_bar"], 4);
    assert_eq!(v["2fa"], false);
    assert_eq!(v["extra"], "declared");
    assert_eq!(v["undeclared"], 5);
    assert_eq!(json::<defs::Keywords>(&text), Ok(k));

    // Definitions named like prelude types, a module named like a keyword, known values.
    let _: defs::StringDef = defs::StringDef::new().value("x");
    let _: defs::OptionDef = defs::OptionDef::default();
    let _: edge::com::example::edge::Type = edge::com::example::edge::r#type::Main::new();
    assert_eq!(defs::STATUS_ACTIVE, "active");
    assert_eq!(defs::STATUS_HIDE, "!hide");
    assert_eq!(defs::TOKEN_A, "com.example.edge.defs#tokenA");
    assert_eq!(defs::STATUS_TOKEN_A, "com.example.edge.defs#tokenA");
    assert_eq!(edge::ids::COM_EXAMPLE_EDGE_POST, "com.example.edge.post");
    // The namespace module re-exports main types, unless the name is taken there.
    let _: edge::com::example::edge::ns::Child = edge::com::example::edge::ns::Child::new();
    let _: edge::com::example::edge::ns::child::Record = Default::default();
}

#[test]
fn recursion_is_boxed_and_round_trips() {
    let leaf = defs::Node::new("leaf");
    let mut root = defs::Node::new("root").children(vec![leaf.clone()]);
    root.parent = Some(Box::new(leaf.clone()));
    root.next = Some(Box::new(other::Loop::new().back(leaf)));
    let bytes = cbor::to_vec(&root).expect("cbor");
    assert_eq!(cbor::from_slice::<defs::Node>(&bytes), Ok(root.clone()));
    let text = serde_json::to_string(&root).expect("json");
    assert_eq!(json::<defs::Node>(&text), Ok(root));
}

/// Array definitions whose items lead back to them (directly, through each other, through an
/// inline array, across documents) are structs wrapping a `Vec` (`type Main = Vec<Main>` does
/// not compile), and read and write the bare array.
#[test]
fn self_referencing_arrays_are_structs_over_the_bare_array() {
    let text = "[[],[[],[[]]]]";
    let tree: nested::Main = json(text).expect("nested arrays");
    assert_eq!(tree.len(), 2);
    assert_eq!(
        tree,
        nested::Main(vec![
            nested::Main::default(),
            nested::Main(vec![
                nested::Main::default(),
                nested::Main(vec![nested::Main::default()]),
            ]),
        ])
    );
    assert_eq!(serde_json::to_string(&tree).expect("json"), text);
    let bytes = cbor::to_vec(&tree).expect("cbor");
    assert_eq!(
        bytes,
        cbor::to_vec(&json::<Value>(text).expect("value")).expect("cbor")
    );
    assert_eq!(cbor::from_slice::<nested::Main>(&bytes), Ok(tree.clone()));
    assert!(json::<nested::Main>("[[1]]").is_err());

    // Two definitions that refer to each other.
    let even: nested::Even = json("[[[]],[]]").expect("even");
    assert_eq!(
        even,
        nested::Even(vec![
            nested::Odd(vec![nested::Even::default()]),
            nested::Odd::default()
        ])
    );
    assert_eq!(serde_json::to_string(&even).expect("json"), "[[[]],[]]");

    // Through an inline array, and across documents.
    let grid: nested::Grid = json("[[[]], []]").expect("grid");
    assert_eq!(grid.0, vec![vec![nested::Grid::default()], vec![]]);
    let peer: nested::Peer = json("[[[]]]").expect("peer");
    assert_eq!(
        peer,
        nested::Peer(vec![nested_peer::Main(vec![nested::Peer::default()])])
    );

    // Off the cycle an array definition is still a `Vec` alias, and fields use the struct.
    let plain: nested::Plain = vec![nested::Main::from(vec![])];
    let holder = nested::Holder::new(nested::Main(plain));
    assert_eq!(
        serde_json::to_string(&holder).expect("json"),
        r#"{"tree":[[]]}"#
    );
    assert_eq!(json::<nested::Holder>(r#"{"tree":[[]]}"#), Ok(holder));
}

#[test]
fn inline_objects_and_array_unions() {
    let w = defs::WithInline::new(defs::WithInlineInner::new(7));
    assert_eq!(
        serde_json::to_string(&w).expect("json"),
        r#"{"inner":{"a":7}}"#
    );
    let mixed: defs::Mixed = json(
        r#"[{"$type": "com.example.edge.defs#node", "name": "n"},
            {"$type": "com.example.edge.defs#string", "value": "v"},
            {"$type": "com.example.other#x", "y": 1}]"#,
    )
    .expect("array of a union");
    assert!(matches!(&mixed[0], defs::MixedItem::Node(n) if n.name == "n"));
    assert!(matches!(&mixed[1], defs::MixedItem::String(s) if s.value.as_deref() == Some("v")));
    assert!(
        matches!(&mixed[2], defs::MixedItem::Unknown(v) if v.type_name() == Some("com.example.other#x"))
    );
}

#[test]
fn nullable_fields_tell_absent_from_null() {
    let cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
    // Required and nullable: `null` is `None`, and is written back.
    let n: defs::Nullables = json(r#"{"a": null}"#).expect("null a");
    assert_eq!(n.a, None);
    assert_eq!(n.b, None);
    assert_eq!(serde_json::to_string(&n).expect("json"), r#"{"a":null}"#);
    let n: defs::Nullables = json(&format!(r#"{{"a": "{cid}"}}"#)).expect("a");
    assert_eq!(n.a.map(|c| c.to_string()).as_deref(), Some(cid));
    assert_eq!(
        json::<defs::Nullables>("{}").map_err(|e| e.split(" at ").next().map(str::to_owned)),
        Err(Some("a: missing field".to_owned()))
    );
    // Optional and nullable: absent, `null` and a value are three states, each kept.
    for (text, b) in [
        (r#"{"a":null}"#, None),
        (r#"{"a":null,"b":null}"#, Some(None)),
        (r#"{"a":null,"b":"x"}"#, Some(Some("x".to_owned()))),
    ] {
        let n: defs::Nullables = json(text).expect("nullables");
        assert_eq!(n.b, b, "{text}");
        assert_eq!(serde_json::to_string(&n).expect("json"), text);
        let bytes = cbor::to_vec(&n).expect("cbor");
        assert_eq!(cbor::from_slice::<defs::Nullables>(&bytes), Ok(n));
    }
    // Optional, not nullable: `null` is not a value of the type.
    let err = json::<defs::Nullables>(r#"{"a": null, "d": null}"#).expect_err("null d");
    assert!(err.starts_with("d: invalid type: null"), "{err}");
}

#[test]
fn closed_union_names_the_type_and_the_path() {
    let err = json::<post::Record>(
        r#"{"$type": "com.example.edge.post", "text": "hi",
            "embed": {"$type": "com.example.edge.post#imagez", "alt": "x"}}"#,
    )
    .expect_err("closed union");
    assert!(
        err.starts_with("embed: unknown $type com.example.edge.post#imagez in closed union"),
        "{err}"
    );

    let err = json::<post::Record>(
        r#"{"text": "hi", "embed": {"$type": "com.example.edge.post#image"}}"#,
    )
    .expect_err("missing field");
    assert!(err.starts_with("embed.alt: missing field"), "{err}");

    let err =
        json::<post::Record>(r#"{"text": "hi", "embed": {"alt": "x"}}"#).expect_err("no $type");
    assert!(err.starts_with("embed: missing $type in union"), "{err}");

    let err = json::<post::Record>(
        r#"{"text": "hi", "views": [{"$type": "com.example.edge.post#view"}, 5]}"#,
    )
    .expect_err("not an object");
    assert!(
        err.starts_with("views[1]: expected an object with a $type, found integer"),
        "{err}"
    );

    // The same in DAG-CBOR: the error carries the path, and the byte offset once.
    let value = Value::from_json_str(
        r#"{"text": "hi", "embed": {"$type": "com.example.edge.post#imagez"}}"#,
    )
    .expect("value");
    let err = cbor::from_slice::<post::Record>(&value.to_dag_cbor()).expect_err("cbor");
    let text = err.to_string();
    assert!(text.starts_with("invalid DAG-CBOR at byte "), "{text}");
    assert!(
        text.ends_with(": embed: unknown $type com.example.edge.post#imagez in closed union"),
        "{text}"
    );
}

#[test]
fn unions_write_type_once_and_keep_unknown_members() {
    // Built by hand: the member's `$type` is written, exactly once, even if `extra` has one.
    let mut image = post::Image::new("alt text");
    image
        .extra
        .insert("$type".into(), Value::String("wrong".into()));
    let record = post::Record::new("hi").embed(image);
    let v: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&record).expect("json")).expect("json");
    assert_eq!(v["$type"], "com.example.edge.post");
    assert_eq!(v["embed"]["$type"], "com.example.edge.post#image");
    let bytes = cbor::to_vec(&record).expect("cbor: a duplicate $type would fail here");
    let back: post::Record = cbor::from_slice(&bytes).expect("back");
    assert!(matches!(back.embed, Some(post::RecordEmbed::Image(ref i)) if i.extra.is_empty()));

    // Two members named `view` in different lexicons get distinct variants.
    let views: post::Record = json(
        r#"{"text": "v", "views": [
            {"$type": "com.example.edge.post#view", "mine": true},
            {"$type": "com.example.edge.other#view", "other": true},
            {"$type": "com.example.future#view", "n": {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}}]}"#,
    )
    .expect("views");
    let list = views.views.as_deref().unwrap_or_default();
    assert!(matches!(&list[0], post::RecordViews::PostView(_)));
    assert!(matches!(&list[1], post::RecordViews::OtherView(_)));
    // An open union keeps a member it does not know, link and all, and writes it back as read.
    let post::RecordViews::Unknown(unknown) = &list[2] else {
        panic!("expected the unknown arm: {:?}", list[2]);
    };
    assert!(matches!(unknown.get("n"), Some(Value::Link(_))));
    let bytes = cbor::to_vec(&views).expect("cbor");
    assert_eq!(cbor::from_slice::<post::Record>(&bytes), Ok(views));
}

#[test]
fn unknown_fields_and_plain_type_are_kept() {
    // A plain `ref` object that carries `$type` (as facets do in real posts) and keys the
    // lexicon does not declare: both survive, byte for byte.
    let value = Value::from_json_str(
        r#"{"$type": "com.example.edge.post", "text": "hi", "futureField": [1, {"x": true}],
            "strong": {"$type": "com.atproto.repo.strongRef", "uri": "at://did:plc:abc/com.example.edge.post/3k",
                       "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
            "createdAt": "2024-01-01T00:00:00.000Z"}"#,
    )
    .expect("value");
    let bytes = value.to_dag_cbor();
    let record: post::Record = cbor::from_slice(&bytes).expect("decode");
    assert!(record.extra.contains_key("futureField"));
    let strong = record.strong.as_ref().expect("strong");
    assert_eq!(
        strong.extra.get("$type").and_then(Value::as_str),
        Some("com.atproto.repo.strongRef")
    );
    assert_eq!(cbor::to_vec(&record).expect("encode"), bytes);
    assert_eq!(
        Cid::for_dag_cbor(&cbor::to_vec(&record).expect("encode")),
        Cid::for_dag_cbor(&bytes)
    );
    // Records check their `$type`.
    let err = json::<post::Record>(r#"{"$type": "com.example.edge.other", "text": "x"}"#)
        .expect_err("wrong record type");
    assert!(
        err.starts_with("$type: expected com.example.edge.post, found com.example.edge.other"),
        "{err}"
    );
    assert_eq!(
        <post::Record as atdata_core::runtime::Record>::NSID,
        post::NSID
    );
    assert_eq!(post::Record::FIELDS.len(), 5);
}

#[test]
fn requests() {
    let did: atdata_core::Did = "did:plc:abc".parse().expect("did");
    let request = do_thing::DoThing::new(did, "hello")
        .limit(5)
        .tags(vec!["a".to_owned(), "b c".to_owned()])
        .r#type("param wins the name")
        .type_2("input gets the next one")
        .swap(None);
    assert_eq!(do_thing::DoThing::METHOD, XrpcMethod::Procedure);
    assert_eq!(do_thing::DoThing::NSID, "com.example.edge.doThing");
    let mut params = QueryParams::new();
    request.write_params(&mut params);
    assert_eq!(
        params.to_query_string(),
        "id=did%3Aplc%3Aabc&limit=5&tags=a&tags=b%20c&type=param%20wins%20the%20name"
    );
    let body = request.encode_input().expect("encode").expect("a body");
    assert_eq!(body.encoding, "application/json");
    assert_eq!(
        String::from_utf8(body.bytes).expect("utf-8"),
        r#"{"swap":null,"text":"hello","type":"input gets the next one"}"#
    );
    let out = do_thing::DoThing::decode_output(Body::new(
        "application/json",
        r#"{"name": "n", "children": [{"name": "c"}]}"#,
    ))
    .expect("output");
    assert_eq!(out.children.map(|c| c.len()), Some(1));
    let err =
        do_thing::DoThing::decode_output(Body::new("application/json", r#"{"children": [{}]}"#))
            .expect_err("bad output");
    assert!(
        err.to_string().contains("children[0].name: missing field"),
        "{err}"
    );

    assert_eq!(
        do_thing::Error::from_name("BadThing"),
        Some(do_thing::Error::BadThing)
    );
    assert_eq!(
        do_thing::Error::from_name("self").map(|e| e.name()),
        Some("self")
    );
    assert_eq!(do_thing::Error::from_name("Other"), None);

    // Binary bodies in and out; a method without parameters or body.
    let cid: Cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
        .parse()
        .expect("cid");
    let get = edge::com::example::edge::GetBlob::new(cid);
    let raw = Body::new("image/png", vec![1, 2, 3]);
    let out = edge::com::example::edge::GetBlob::decode_output(raw.clone()).expect("binary");
    assert_eq!(out, raw);
    let mut params = QueryParams::new();
    get.write_params(&mut params);
    assert_eq!(params.pairs().len(), 1);
    let upload = edge::com::example::edge::Upload::new(raw.clone());
    assert_eq!(upload.encode_input().expect("encode"), Some(raw));
    let ping = edge::com::example::edge::Ping::new();
    assert_eq!(ping.encode_input().expect("encode"), None);
    assert_eq!(edge::com::example::edge::Ping::METHOD, XrpcMethod::Query);
}

#[test]
fn subscription_messages() {
    let one = subscribe::One::new(7, atdata_core::Bytes(vec![1, 2]));
    let payload = cbor::to_vec(&one).expect("cbor");
    let message = subscribe::Subscribe::decode_message("#one", &payload).expect("decode");
    assert_eq!(message, subscribe::Message::One(Box::new(one)));

    let two = subscribe::Two::new(8, CidLink(Cid::for_raw(b"x")));
    let payload = cbor::to_vec(&two).expect("cbor");
    let full = "com.example.edge.subscribe#two";
    assert!(matches!(
        subscribe::Subscribe::decode_message(full, &payload),
        Ok(subscribe::Message::Two(_))
    ));
    // A type this version does not know: the unknown arm, with `$type` set from the frame.
    let unknown = subscribe::Subscribe::decode_message("#three", &payload).expect("unknown");
    let subscribe::Message::Unknown(value) = unknown else {
        panic!("expected the unknown arm");
    };
    assert_eq!(value.type_name(), Some("com.example.edge.subscribe#three"));
    let err = subscribe::Subscribe::decode_message("#one", &payload).expect_err("wrong shape");
    assert!(err.to_string().contains("blocks: missing field"), "{err}");
    let mut params = QueryParams::new();
    subscribe::Subscribe::new()
        .cursor(42)
        .write_params(&mut params);
    assert_eq!(params.to_query_string(), "cursor=42");
    assert_eq!(
        subscribe::Error::from_name("FutureCursor").map(|e| e.name()),
        Some("FutureCursor")
    );
}
