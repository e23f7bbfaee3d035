//! Validation rules beyond the interop fixtures: tokens, union `$type` forms, methods,
//! event-stream frames, depth bounds, options and the error paths.

use atdata_core::Value;
use atdata_lexicon::validate::{Problem, Unit, ValidateOptions};
use atdata_lexicon::{Catalog, DefRef, Target};

fn json(text: &str) -> Value {
    Value::from_json_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A small catalog exercising the cases the interop catalog does not.
fn catalog() -> Catalog {
    let mut catalog = Catalog::new();
    for doc in [
        r##"{"lexicon": 1, "id": "com.example.kinds", "defs": {
            "main": {"type": "token", "description": "a main token"},
            "sharp": {"type": "token"},
            "shape": {"type": "object", "required": ["kind"], "properties": {
                "kind": {"type": "ref", "ref": "#sharp"},
                "mainKind": {"type": "ref", "ref": "com.example.kinds"}}},
            "short": {"type": "string", "maxLength": 3},
            "nested": {"type": "array", "items": {"type": "ref", "ref": "#nested"}}
        }}"##,
        r##"{"lexicon": 1, "id": "com.example.post", "defs": {
            "main": {"type": "record", "key": "tid", "record": {"type": "object",
                "required": ["text"], "nullable": ["note"],
                "properties": {
                    "text": {"type": "string", "maxGraphemes": 5, "maxLength": 100},
                    "note": {"type": "string"},
                    "embed": {"type": "union", "refs": ["com.example.image", "#quote"]},
                    "only": {"type": "union", "refs": ["com.example.image#main"], "closed": true},
                    "missing": {"type": "ref", "ref": "com.example.gone#thing"},
                    "extra": {"type": "unknown"},
                    "avatar": {"type": "blob", "accept": ["image/png", "image/jpeg"], "maxSize": 100},
                    "weird-key": {"type": "array", "items": {"type": "integer", "minimum": 0}}}}},
            "quote": {"type": "object", "required": ["uri"], "properties": {
                "uri": {"type": "string", "format": "at-uri"}}}
        }}"##,
        r##"{"lexicon": 1, "id": "com.example.image", "defs": {
            "main": {"type": "object", "required": ["alt"], "properties": {
                "alt": {"type": "string"}}}
        }}"##,
        r##"{"lexicon": 1, "id": "com.example.search", "defs": {
            "main": {"type": "query",
                "parameters": {"type": "params", "required": ["q"], "properties": {
                    "q": {"type": "string", "minLength": 1},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxLength": 2}}},
                "output": {"encoding": "application/json", "schema": {"type": "ref", "ref": "#page"}}},
            "page": {"type": "object", "required": ["hits"], "properties": {
                "hits": {"type": "array", "items": {"type": "ref", "ref": "com.example.image"}}}}
        }}"##,
        r##"{"lexicon": 1, "id": "com.example.upload", "defs": {
            "main": {"type": "procedure",
                "input": {"encoding": "*/*"},
                "output": {"encoding": "application/json", "schema": {"type": "object",
                    "required": ["size"], "properties": {"size": {"type": "integer"}}}}}
        }}"##,
        r##"{"lexicon": 1, "id": "com.example.stream", "defs": {
            "main": {"type": "subscription",
                "parameters": {"type": "params", "properties": {"cursor": {"type": "integer"}}},
                "message": {"schema": {"type": "union", "refs": ["#commit", "#info"]}}},
            "commit": {"type": "object", "required": ["seq"], "properties": {"seq": {"type": "integer"}}},
            "info": {"type": "object", "properties": {"name": {"type": "string"}}}
        }}"##,
    ] {
        catalog.add_json(doc).unwrap_or_else(|e| panic!("{e}"));
    }
    catalog
}

fn def(text: &str) -> DefRef {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn first(catalog: &Catalog, target: Target<'_>, value: &Value) -> Option<(String, Problem)> {
    catalog
        .validate(target, value)
        .err()
        .map(|e| (e.path, e.problem))
}

#[test]
fn a_ref_to_a_token_wants_the_token_name() {
    let c = catalog();
    let shape = def("com.example.kinds#shape");
    let ok = json(r#"{"kind": "com.example.kinds#sharp", "mainKind": "com.example.kinds"}"#);
    assert_eq!(c.validate(Target::Def(&shape), &ok), Ok(()));
    // A main token may be named either way.
    let main_form =
        json(r#"{"kind": "com.example.kinds#sharp", "mainKind": "com.example.kinds#main"}"#);
    assert_eq!(c.validate(Target::Def(&shape), &main_form), Ok(()));
    let (path, problem) = first(&c, Target::Def(&shape), &json(r##"{"kind": "#sharp"}"##))
        .expect("a local name is not the full name");
    assert_eq!(path, "Value.kind");
    assert_eq!(
        problem,
        Problem::Token {
            expected: "com.example.kinds#sharp".into(),
            found: "\"#sharp\"".into()
        }
    );
    let (_, problem) =
        first(&c, Target::Def(&shape), &json(r#"{"kind": 3}"#)).expect("not a string");
    assert!(matches!(
        problem,
        Problem::WrongType {
            expected: "string",
            found: "integer"
        }
    ));
    // Validating the token definition itself.
    let sharp = def("com.example.kinds#sharp");
    assert_eq!(
        c.validate(Target::Def(&sharp), &json(r#""com.example.kinds#sharp""#)),
        Ok(())
    );
}

#[test]
fn union_type_names_main_either_way() {
    let c = catalog();
    let post = |embed: &str| {
        json(&format!(
            r#"{{"$type": "com.example.post", "text": "hi", "embed": {embed}, "only": {embed}}}"#
        ))
    };
    for kind in ["com.example.image", "com.example.image#main"] {
        let ok = post(&format!(r#"{{"$type": "{kind}", "alt": "a cat"}}"#));
        assert_eq!(c.validate_record("com.example.post", &ok), Ok(()), "{kind}");
        // The member is validated, whichever way it is named.
        let bad = post(&format!(r#"{{"$type": "{kind}", "alt": 3}}"#));
        let err = c.validate_record("com.example.post", &bad).expect_err(kind);
        assert_eq!(err.path, "Record.embed.alt");
    }
    // A local member of the union's own lexicon.
    let quote = post(r#"{"$type": "com.example.post#quote", "uri": "nope"}"#);
    let errors = c
        .validate_all(Target::Record("com.example.post"), &quote)
        .expect_err("bad");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["Record.embed.uri", "Record.only"]);
    assert!(matches!(errors[1].problem, Problem::NotInUnion { .. }));
}

#[test]
fn open_unions_accept_unknown_types_without_looking_inside() {
    let c = catalog();
    let record = json(
        r#"{"$type": "com.example.post", "text": "hi",
            "embed": {"$type": "com.other.thing", "anything": [1, "two"]}}"#,
    );
    assert_eq!(c.validate_record("com.example.post", &record), Ok(()));
    let closed = json(
        r#"{"$type": "com.example.post", "text": "hi", "only": {"$type": "com.other.thing"}}"#,
    );
    let (path, problem) = first(&c, Target::Record("com.example.post"), &closed).expect("closed");
    assert_eq!(path, "Record.only");
    assert_eq!(
        problem.to_string(),
        "$type \"com.other.thing\" is not one of the closed union's com.example.image#main"
    );
    let untyped = json(r#"{"$type": "com.example.post", "text": "hi", "embed": {"alt": "x"}}"#);
    let (_, problem) = first(&c, Target::Record("com.example.post"), &untyped).expect("no $type");
    assert_eq!(problem, Problem::MissingType);
}

#[test]
fn record_type_must_be_the_bare_nsid() {
    let c = catalog();
    for (kind, ok) in [
        (r#""com.example.post""#, true),
        (r#""com.example.post#main""#, false),
        (r#""com.example.image""#, false),
    ] {
        let record = json(&format!(r#"{{"$type": {kind}, "text": "hi"}}"#));
        let result = c.validate_record("com.example.post", &record);
        assert_eq!(result.is_ok(), ok, "{kind}: {result:?}");
        if let Err(e) = result {
            assert_eq!(e.path, "Record.$type");
        }
    }
    let untyped = json(r#"{"text": "hi"}"#);
    let err = c
        .validate_record("com.example.post", &untyped)
        .expect_err("no $type");
    assert_eq!(
        err.problem,
        Problem::RecordType {
            expected: "com.example.post".into(),
            found: None
        }
    );
    let (_, problem) = first(&c, Target::Record("com.example.image"), &untyped).expect("object");
    assert!(matches!(
        problem,
        Problem::WrongDef {
            expected: "record",
            found: "object",
            ..
        }
    ));
    let (_, problem) = first(&c, Target::Record("com.example.nothing"), &untyped).expect("none");
    assert_eq!(
        problem.to_string(),
        "no lexicon \"com.example.nothing\" in the catalog"
    );
}

#[test]
fn required_nullable_and_unknown() {
    let c = catalog();
    let target = Target::Record("com.example.post");
    let ok =
        json(r#"{"$type": "com.example.post", "text": "hi", "note": null, "extra": {"a": 1}}"#);
    assert_eq!(c.validate(target, &ok), Ok(()));
    let errors = c
        .validate_all(
            target,
            &json(r#"{"$type": "com.example.post", "text": null, "extra": [1]}"#),
        )
        .expect_err("bad");
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "Record.extra: expected object, found array",
            "Record.text: must not be null (the property is not nullable)",
        ]
    );
    let missing = json(r#"{"$type": "com.example.post"}"#);
    assert_eq!(
        first(&c, target, &missing),
        Some(("Record.text".into(), Problem::Missing))
    );
}

#[test]
fn graphemes_are_counted_only_when_needed_and_then_right() {
    let c = catalog();
    let target = Target::Record("com.example.post");
    let text = |t: &str| {
        json(&format!(
            r#"{{"$type": "com.example.post", "text": "{t}"}}"#
        ))
    };
    // 5 family emoji: 5 graphemes, 125 bytes (over maxLength 100 in bytes, so refused there).
    let family = "👩‍👩‍👦‍👦".repeat(5);
    let (_, problem) = first(&c, target, &text(&family)).expect("too many bytes");
    assert!(matches!(
        problem,
        Problem::TooLong {
            unit: Unit::Bytes,
            limit: 100,
            found: 125
        }
    ));
    // 5 flags: 5 graphemes, 10 chars, 40 bytes: valid.
    assert_eq!(c.validate(target, &text(&"🇩🇪".repeat(5))), Ok(()));
    let (_, problem) = first(&c, target, &text(&"🇩🇪".repeat(6))).expect("six graphemes");
    assert_eq!(
        problem,
        Problem::TooLong {
            unit: Unit::Graphemes,
            limit: 5,
            found: 6
        }
    );
    assert_eq!(c.validate(target, &text("héllo")), Ok(()));
}

#[test]
fn blobs_accept_patterns_sizes_and_legacy_form() {
    let c = catalog();
    let target = Target::Record("com.example.post");
    let with = |blob: &str| {
        json(&format!(
            r#"{{"$type": "com.example.post", "text": "x", "avatar": {blob}}}"#
        ))
    };
    let cid = "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy";
    let typed = |mime: &str, size: u64| {
        with(&format!(
            r#"{{"$type": "blob", "ref": {{"$link": "{cid}"}}, "mimeType": "{mime}", "size": {size}}}"#
        ))
    };
    assert_eq!(c.validate(target, &typed("image/png", 100)), Ok(()));
    let errors = c
        .validate_all(target, &typed("image/gif", 101))
        .expect_err("bad");
    assert!(matches!(errors[0].problem, Problem::BlobType { .. }));
    assert_eq!(
        errors[1].problem,
        Problem::BlobTooBig {
            size: 101,
            max_size: 100
        }
    );
    let legacy = with(&format!(r#"{{"cid": "{cid}", "mimeType": "image/png"}}"#));
    assert_eq!(
        first(&c, target, &legacy).map(|p| p.1),
        Some(Problem::LegacyBlob)
    );
    let lenient = c
        .validator()
        .with_options(ValidateOptions::default().with_legacy_blobs(true));
    assert_eq!(lenient.validate(target, &legacy), Ok(()));
    let legacy_gif = with(&format!(r#"{{"cid": "{cid}", "mimeType": "image/gif"}}"#));
    assert!(lenient.validate(target, &legacy_gif).is_err());
    let not_blob = with(r#"{"mimeType": "image/png"}"#);
    assert!(matches!(
        first(&c, target, &not_blob).map(|p| p.1),
        Some(Problem::WrongType {
            expected: "blob",
            found: "object"
        })
    ));
    // A hand-built blob with a fifth key (decoders refuse one, a `Value` can still hold it).
    let mut extra = typed("image/png", 100);
    if let Value::Map(record) = &mut extra {
        if let Some(Value::Map(avatar)) = record.get_mut("avatar") {
            avatar.insert("alt".into(), Value::String("a cat".into()));
        }
    }
    assert!(matches!(
        first(&c, target, &extra).map(|p| p.1),
        Some(Problem::MalformedBlob(_))
    ));
}

#[test]
fn missing_refs_are_named() {
    let c = catalog();
    let record = json(r#"{"$type": "com.example.post", "text": "x", "missing": {}}"#);
    let err = c
        .validate_record("com.example.post", &record)
        .expect_err("unresolved");
    assert_eq!(
        err.to_string(),
        "Record.missing: reference \"com.example.gone#thing\" is not in the catalog"
    );
    let gone = def("com.example.gone#thing");
    assert!(matches!(
        first(&c, Target::Def(&gone), &Value::Null).map(|p| p.1),
        Some(Problem::UnresolvedRef { .. })
    ));
}

#[test]
fn paths_quote_keys_that_are_not_identifiers() {
    let c = catalog();
    let record = json(r#"{"$type": "com.example.post", "text": "x", "weird-key": [0, 1, -1]}"#);
    let err = c
        .validate_record("com.example.post", &record)
        .expect_err("negative");
    assert_eq!(err.path, r#"Record["weird-key"][2]"#);
    assert_eq!(
        err.problem,
        Problem::TooSmall {
            limit: 0,
            found: -1
        }
    );
}

#[test]
fn params_are_typed_values() {
    let c = catalog();
    let target = Target::Params("com.example.search");
    assert_eq!(
        c.validate(
            target,
            &json(r#"{"q": "cats", "limit": 10, "tags": ["a"]}"#)
        ),
        Ok(())
    );
    let errors = c
        .validate_all(
            target,
            &json(r#"{"limit": 0, "tags": ["a", "b", "c"], "other": true}"#),
        )
        .expect_err("bad");
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "Params.limit: must not be less than 1 (found 0)",
            "Params.q: required property is missing",
            "Params.tags: must not be longer than 2 elements (found 3)",
        ]
    );
    // `null` is no parameters: here, a missing `q`.
    assert_eq!(
        first(&c, target, &Value::Null),
        Some(("Params.q".into(), Problem::Missing))
    );
    let stream = Target::Params("com.example.stream");
    assert_eq!(c.validate(stream, &json(r#"{"cursor": 5}"#)), Ok(()));
    assert!(c.validate(stream, &json(r#"{"cursor": "5"}"#)).is_err());
    let (_, problem) =
        first(&c, Target::Params("com.example.image"), &Value::Null).expect("object");
    assert!(matches!(problem, Problem::WrongDef { .. }));
}

#[test]
fn bodies_follow_refs_and_skip_non_json() {
    let c = catalog();
    let out = Target::Output("com.example.search");
    assert_eq!(
        c.validate(out, &json(r#"{"hits": [{"alt": "x"}]}"#)),
        Ok(())
    );
    let err = c
        .validate(out, &json(r#"{"hits": [{"alt": "x"}, {}]}"#))
        .expect_err("alt");
    assert_eq!(err.path, "Output.hits[1].alt");
    // No input declared for a query.
    let (path, problem) =
        first(&c, Target::Input("com.example.search"), &json("{}")).expect("none");
    assert_eq!(path, "Input");
    assert_eq!(problem.to_string(), "com.example.search has no input");
    // A `*/*` input has no JSON schema: nothing to check.
    assert_eq!(c.validate_input("com.example.upload", &Value::Null), Ok(()));
    assert_eq!(
        c.validate_output("com.example.upload", &json(r#"{"size": 3}"#)),
        Ok(())
    );
    assert!(c
        .validate_output("com.example.upload", &json(r#"{"size": "3"}"#))
        .is_err());
}

#[test]
fn messages_by_type_or_by_frame_header() {
    let c = catalog();
    let commit = json(r#"{"$type": "com.example.stream#commit", "seq": 7}"#);
    assert_eq!(c.validate_message("com.example.stream", &commit), Ok(()));
    let bad = json(r#"{"$type": "com.example.stream#commit", "seq": "7"}"#);
    assert_eq!(
        c.validate_message("com.example.stream", &bad)
            .map_err(|e| e.path),
        Err("Message.seq".into())
    );
    // Frames carry the type in the header, not the body.
    let frame = |t| Target::Frame {
        method: "com.example.stream",
        t,
    };
    assert_eq!(c.validate(frame("#commit"), &json(r#"{"seq": 7}"#)), Ok(()));
    assert_eq!(
        c.validate(frame("com.example.stream#commit"), &json(r#"{"seq": 7}"#)),
        Ok(())
    );
    assert!(c.validate(frame("#commit"), &json("{}")).is_err());
    // An open union: a newer message type passes unchecked.
    assert_eq!(c.validate(frame("#newThing"), &json("{}")), Ok(()));
}

#[test]
fn deep_data_is_an_error_not_a_stack_overflow() {
    let c = catalog();
    let nested = def("com.example.kinds#nested");
    let mut value = Value::Array(Vec::new());
    for _ in 0..1000 {
        value = Value::Array(vec![value]);
    }
    let err = c.validate_def(&nested, &value).expect_err("too deep");
    assert_eq!(err.problem, Problem::TooDeep { max_depth: 128 });
    assert_eq!(err.path.matches("[0]").count(), 128);
    let all = c
        .validate_all(Target::Def(&nested), &value)
        .expect_err("too deep");
    assert_eq!(all.len(), 1);
    // Within the limit it validates, and the limit is adjustable.
    let mut shallow = Value::Array(Vec::new());
    for _ in 0..127 {
        shallow = Value::Array(vec![shallow]);
    }
    assert_eq!(c.validate_def(&nested, &shallow), Ok(()));
    let tight = c
        .validator()
        .with_options(ValidateOptions::default().with_max_depth(10));
    assert!(tight.validate(Target::Def(&nested), &shallow).is_err());
}

#[test]
fn definitions_of_every_data_kind() {
    let c = catalog();
    let short = def("com.example.kinds#short");
    assert_eq!(c.validate_def(&short, &json(r#""abc""#)), Ok(()));
    assert_eq!(
        c.validate_def(&short, &json(r#""abcd""#))
            .map_err(|e| e.to_string()),
        Err("Value: must not be longer than 3 bytes (found 4)".into())
    );
    let query = def("com.example.search");
    assert!(matches!(
        first(&c, Target::Def(&query), &json("{}")).map(|p| p.1),
        Some(Problem::WrongDef { found: "query", .. })
    ));
}

/// A catalog of arrays for the error cap: a flat array of enum strings and a grid of them.
fn arrays() -> Catalog {
    let mut catalog = Catalog::new();
    catalog
        .add_json(
            r##"{"lexicon": 1, "id": "com.example.many", "defs": {
                "main": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "grid": {"type": "array", "items": {"type": "ref", "ref": "#main"}}
            }}"##,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    catalog
}

#[test]
fn a_huge_wrong_array_keeps_at_most_max_errors() {
    let c = arrays();
    let many = def("com.example.many");
    // 4 MB of JSON: two million integers where strings are wanted, an error each.
    let items = 2_000_000;
    let mut text = String::with_capacity(2 * items + 1);
    text.push('[');
    for i in 0..items {
        text.push_str(if i == 0 { "1" } else { ",1" });
    }
    text.push(']');
    let value = json(&text);
    let errors = c
        .validate_all(Target::Def(&many), &value)
        .expect_err("every item is wrong");
    assert_eq!(errors.len(), 100);
    assert_eq!(errors.omitted(), items - 100);
    assert_eq!(errors.total(), items);
    assert_eq!(errors[0].path, "Value[0]");
    assert_eq!(errors[99].path, "Value[99]");
    let display = errors.to_string();
    assert_eq!(display.lines().count(), 101);
    assert!(
        display.ends_with("\n… and 1999900 more"),
        "{}",
        &display[display.len() - 60..]
    );
    assert_eq!(errors.into_vec().len(), 100);
    // The first-error mode is untouched by the cap.
    assert_eq!(
        first(&c, Target::Def(&many), &value).map(|(path, _)| path),
        Some("Value[0]".into())
    );
}

#[test]
fn the_error_cap_spans_nested_arrays_and_is_adjustable() {
    let c = arrays();
    let grid = def("com.example.many#grid");
    // 1000 rows of 1000 strings outside the enum: the cap counts across rows, not per row.
    let row = Value::Array(vec![Value::String("zz".into()); 1000]);
    let value = Value::Array(vec![row; 1000]);
    let errors = c
        .validate_all(Target::Def(&grid), &value)
        .expect_err("every item is wrong");
    assert_eq!(errors.len(), 100);
    assert_eq!(errors.omitted(), 1_000_000 - 100);
    assert_eq!(errors[99].path, "Value[0][99]");
    assert!(matches!(errors[0].problem, Problem::NotInEnum { .. }));
    let tight = c
        .validator()
        .with_options(ValidateOptions::default().with_max_errors(3));
    let errors = tight
        .validate_all(Target::Def(&grid), &value)
        .expect_err("every item is wrong");
    assert_eq!(errors.len(), 3);
    assert_eq!(errors.omitted(), 1_000_000 - 3);
    assert!(errors.to_string().ends_with("\n… and 999997 more"));
    // A cap of zero still keeps one error: the list is never empty.
    let zero = c
        .validator()
        .with_options(ValidateOptions::default().with_max_errors(0));
    let errors = zero
        .validate_all(Target::Def(&grid), &value)
        .expect_err("every item is wrong");
    assert_eq!((errors.len(), errors.omitted()), (1, 1_000_000 - 1));
    // Below the cap nothing is omitted and the text has no tail.
    let small = Value::Array(vec![Value::Array(vec![Value::String("zz".into()); 2])]);
    let errors = c
        .validate_all(Target::Def(&grid), &small)
        .expect_err("both items are wrong");
    assert_eq!((errors.len(), errors.omitted()), (2, 0));
    assert!(!errors.to_string().contains("more"));
}
