//! The lints: the official lexicons are clean, and each rule fires where it should.

use atdata_lexicon::lint::{lint, lint_json_dir, Lint, Rule, Severity};
use atdata_lexicon::Catalog;

const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");
const INTEROP_CATALOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/interop/lexicon/catalog"
);

/// The official tree has no errors. Its only warnings are the three required properties that
/// also carry a default, which is exactly what that rule is for: the TypeScript reference
/// fills such a default in and accepts data without the property, stricter validators
/// (this one included) refuse it.
#[test]
fn the_official_lexicons_lint_clean() {
    let lints = lint_json_dir(LEXICONS).unwrap_or_else(|e| panic!("{e}"));
    for l in &lints {
        println!("{l}");
    }
    let errors: Vec<&Lint> = lints
        .iter()
        .filter(|l| l.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "errors: {errors:#?}");
    let warnings: Vec<(&str, &str, Rule)> = lints
        .iter()
        .map(|l| (l.id.as_str(), l.path.as_str(), l.rule))
        .collect();
    assert_eq!(
        warnings,
        [
            (
                "app.bsky.actor.defs",
                "defs.adultContentPref.properties.enabled",
                Rule::RequiredDefault
            ),
            (
                "app.bsky.actor.defs",
                "defs.nux.properties.completed",
                Rule::RequiredDefault
            ),
            (
                "com.atproto.server.createInviteCodes",
                "defs.main.input.schema.properties.codeCount",
                Rule::RequiredDefault
            ),
        ]
    );
    println!(
        "official lexicons: 402 linted, 0 errors, {} warnings",
        lints.len()
    );
}

/// The interop catalog refers to a definition it does not hold (its README says so), and
/// names one property `cid-link`. With the compiled-in official lexicons (feature `official`)
/// the reference resolves; without them it is reported.
#[test]
fn the_interop_catalog_has_its_one_known_gap() {
    let lints = lint_json_dir(INTEROP_CATALOG).unwrap_or_else(|e| panic!("{e}"));
    let rules: Vec<(Rule, &str)> = lints.iter().map(|l| (l.rule, l.message.as_str())).collect();
    let case = (Rule::PropertyCase, "property \"cid-link\" is not camelCase");
    if cfg!(feature = "official") {
        assert_eq!(rules, [case]);
    } else {
        assert_eq!(
            rules,
            [
                (
                    Rule::UnresolvedRef,
                    "reference \"app.bsky.actor.defs#preferences\" is not in the catalog"
                ),
                case,
            ]
        );
    }
}

fn lints_of(docs: &[&str]) -> Vec<(Rule, String)> {
    let mut catalog = Catalog::new();
    for doc in docs {
        catalog.add_json(doc).unwrap_or_else(|e| panic!("{e}"));
    }
    lint(&catalog)
        .into_iter()
        .map(|l| (l.rule, l.path))
        .collect()
}

#[test]
fn every_typed_rule_fires() {
    let found = lints_of(&[
        r#"{"lexicon": 1, "id": "com.example.ask", "defs": {"main": {"type": "query"}}}"#,
        r##"{"lexicon": 1, "id": "com.example.bad", "defs": {
        "main": {"type": "record", "key": "tid", "record": {"type": "object",
            "required": ["count"],
            "properties": {
                "count": {"type": "integer", "default": 0, "minimum": 1},
                "Bad_Name": {"type": "string", "minGraphemes": 5, "maxGraphemes": 2},
                "site": {"type": "string", "format": "uri", "knownValues": ["#nope"]},
                "flag": {"type": "boolean", "const": true, "default": false},
                "pick": {"type": "string", "enum": ["a", "b"], "default": "c"},
                "when": {"type": "string", "format": "datetime", "const": "yesterday"},
                "one": {"type": "union", "refs": [], "closed": true},
                "two": {"type": "union", "refs": ["#word", "#ghost", "#tag"]},
                "call": {"type": "ref", "ref": "com.example.ask"},
                "self": {"type": "ref", "ref": "com.example.bad"},
                "many": {"type": "array", "items": {"type": "bytes", "minLength": 9, "maxLength": 1},
                         "minLength": 3, "maxLength": 2},
                "pic": {"type": "blob", "accept": []}}}},
        "word": {"type": "string"},
        "tag": {"type": "token"}
    }}"##,
    ]);
    let expect = [
        (Rule::RecordDescription, "defs.main"),
        (Rule::PropertyCase, "defs.main.record.properties.Bad_Name"),
        (Rule::Bounds, "defs.main.record.properties.Bad_Name"),
        (Rule::BadRefTarget, "defs.main.record.properties.call"),
        (Rule::RequiredDefault, "defs.main.record.properties.count"),
        (Rule::InvalidDefault, "defs.main.record.properties.count"),
        (Rule::InvalidDefault, "defs.main.record.properties.flag"),
        (Rule::Bounds, "defs.main.record.properties.many"),
        (Rule::Bounds, "defs.main.record.properties.many.items"),
        (Rule::EmptyClosedUnion, "defs.main.record.properties.one"),
        (Rule::EmptyAccept, "defs.main.record.properties.pic"),
        (Rule::InvalidDefault, "defs.main.record.properties.pick"),
        (Rule::FormatWithValues, "defs.main.record.properties.site"),
        (
            Rule::UnresolvedKnownValue,
            "defs.main.record.properties.site",
        ),
        (Rule::BadUnionMember, "defs.main.record.properties.two.refs"),
        (Rule::UnresolvedRef, "defs.main.record.properties.two.refs"),
        (Rule::InvalidDefault, "defs.main.record.properties.when"),
    ];
    let mut found_sorted: Vec<(Rule, &str)> = found.iter().map(|(r, p)| (*r, p.as_str())).collect();
    found_sorted.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let mut expect_sorted = expect.to_vec();
    expect_sorted.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    assert_eq!(found_sorted, expect_sorted);
}

#[test]
fn a_folder_with_broken_files_is_linted_not_refused() {
    let dir = std::env::temp_dir().join(format!("atdata-lint-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("write");
    write(
        "a.json",
        r#"{"lexicon": 1, "id": "com.example.a", "defs": {"main": {"type": "token"}}}"#,
    );
    write(
        "b.json",
        r#"{"lexicon": 1, "id": "com.example.a", "defs": {"main": {"type": "token"}}}"#,
    );
    write("c.json", "{not json");
    write(
        "d.json",
        r#"{"lexicon": 1, "id": "com.example.d", "defs": {"main": {"type": "strin"}}}"#,
    );
    write(
        "e.json",
        r#"{"lexicon": 1, "id": "com.example.e", "defs": {"main": {"type": "string", "maxlength": 3}}}"#,
    );
    let lints = lint_json_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir_all(&dir).ok();
    let rules: Vec<Rule> = lints.iter().map(|l| l.rule).collect();
    let has = |r: Rule| rules.iter().filter(|&&x| x == r).count();
    assert_eq!(has(Rule::DuplicateId), 1, "{lints:#?}");
    assert_eq!(has(Rule::InvalidDoc), 2, "{lints:#?}");
    assert_eq!(has(Rule::UnknownKey), 1, "{lints:#?}");
    let typo = lints
        .iter()
        .find(|l| l.rule == Rule::UnknownKey)
        .expect("typo");
    assert_eq!(
        typo.to_string(),
        "warning[unknown-key] com.example.e defs.main.maxlength: a string has no key \
         \"maxlength\", so it is ignored; did you mean \"maxLength\"?"
    );
}

/// A valid lexicon whose description pads it to `size` bytes.
fn padded_lexicon(id: &str, size: usize) -> String {
    let head = format!(r#"{{"lexicon": 1, "id": "{id}", "description": ""#);
    let tail = r#"", "defs": {"main": {"type": "token"}}}"#;
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

/// The loader refuses documents over `MAX_DOC_BYTES`; the linter must not accept them either,
/// nor read them whole.
#[test]
fn a_file_over_the_loader_size_limit_is_an_invalid_doc() {
    use atdata_lexicon::doc::MAX_DOC_BYTES;
    let dir = std::env::temp_dir().join(format!("atdata-lint-size-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let at_limit = padded_lexicon("com.example.fits", MAX_DOC_BYTES);
    assert_eq!(at_limit.len(), MAX_DOC_BYTES);
    let over = padded_lexicon("com.example.big", MAX_DOC_BYTES + 1);
    assert_eq!(over.len(), MAX_DOC_BYTES + 1);
    std::fs::write(dir.join("fits.json"), at_limit).expect("write");
    std::fs::write(dir.join("big.json"), over).expect("write");
    let lints = lint_json_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let loaded = Catalog::load_dir(&dir);
    std::fs::remove_dir_all(&dir).ok();
    let invalid: Vec<&Lint> = lints
        .iter()
        .filter(|l| l.rule == Rule::InvalidDoc)
        .collect();
    assert_eq!(invalid.len(), 1, "{lints:#?}");
    assert!(invalid[0].id.ends_with("big.json"), "{:?}", invalid[0]);
    assert_eq!(invalid[0].severity, Severity::Error);
    assert_eq!(
        invalid[0].message,
        format!(
            "lexicon document is too large or too deeply nested (more than {MAX_DOC_BYTES} bytes)"
        )
    );
    // The catalog loader gives the same verdict.
    let err = loaded.expect_err("too large").to_string();
    assert!(
        err.contains("big.json") && err.contains("too large"),
        "{err}"
    );
}

/// Array definitions whose items lead back to them through arrays only: direct, mutual,
/// under an inline array and across documents. An array that leads into such a cycle without
/// being on it, or that recurses through an object, is fine.
#[test]
fn arrays_of_themselves_are_errors() {
    let mut catalog = Catalog::new();
    for doc in [
        r##"{"lexicon": 1, "id": "com.example.nested", "defs": {
            "main": {"type": "array", "items": {"type": "ref", "ref": "#main"}},
            "even": {"type": "array", "items": {"type": "ref", "ref": "#odd"}},
            "odd": {"type": "array", "items": {"type": "ref", "ref": "#even"}},
            "grid": {"type": "array", "items": {"type": "array",
                "items": {"type": "ref", "ref": "#grid"}}},
            "peer": {"type": "array", "items": {"type": "ref", "ref": "com.example.peer"}},
            "plain": {"type": "array", "items": {"type": "ref", "ref": "#main"}},
            "tree": {"type": "array", "items": {"type": "ref", "ref": "#node"}},
            "node": {"type": "object", "properties": {
                "children": {"type": "ref", "ref": "#tree"}}}
        }}"##,
        r##"{"lexicon": 1, "id": "com.example.peer", "defs": {
            "main": {"type": "array", "items": {"type": "ref", "ref": "com.example.nested#peer"}}
        }}"##,
    ] {
        catalog.add_json(doc).unwrap_or_else(|e| panic!("{e}"));
    }
    let found: Vec<(String, String, Severity, String)> = lint(&catalog)
        .into_iter()
        .filter(|l| l.rule == Rule::ArrayCycle)
        .map(|l| (l.id, l.path, l.severity, l.message))
        .collect();
    let cycle = |id: &str, name: &str, chain: &str| {
        (
            id.to_owned(),
            format!("defs.{name}.items"),
            Severity::Error,
            format!("the items lead back to this array ({chain}): only nested empty arrays fit"),
        )
    };
    assert_eq!(
        found,
        [
            cycle(
                "com.example.nested",
                "even",
                "com.example.nested#even → com.example.nested#odd → com.example.nested#even"
            ),
            cycle(
                "com.example.nested",
                "grid",
                "com.example.nested#grid → com.example.nested#grid"
            ),
            cycle(
                "com.example.nested",
                "main",
                "com.example.nested → com.example.nested"
            ),
            cycle(
                "com.example.nested",
                "odd",
                "com.example.nested#odd → com.example.nested#even → com.example.nested#odd"
            ),
            cycle(
                "com.example.nested",
                "peer",
                "com.example.nested#peer → com.example.peer → com.example.nested#peer"
            ),
            cycle(
                "com.example.peer",
                "main",
                "com.example.peer → com.example.nested#peer → com.example.peer"
            ),
        ]
    );
    assert_eq!(Rule::ArrayCycle.name(), "array-cycle");
}
