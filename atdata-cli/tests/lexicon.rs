//! `atdata lexicon validate` and `atdata lexicon lint`, run as a user would.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_atdata");
const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata");

fn lexicons() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../atdata-lexicon/lexicons").to_owned()
}

fn interop_catalog() -> String {
    format!("{TESTDATA}/interop/lexicon/catalog")
}

/// Runs `atdata` with `stdin`; stdout is a pipe, so output is JSON.
fn atdata(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn atdata");
    // The command may exit before reading stdin (e.g. on unreadable lexicons): a broken pipe
    // here is part of that outcome, not a test failure.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn validate(extra: &[&str], nsid: &str, data: &str) -> Output {
    let dir = lexicons();
    let mut args = vec!["lexicon", "validate", "--lexicons", dir.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[nsid, "-"]);
    atdata(&args, data)
}

const POST: &str = r#"{"$type": "app.bsky.feed.post", "text": "hello", "createdAt": "2024-05-01T12:00:00.000Z",
    "langs": ["en"], "facets": [{"index": {"byteStart": 0, "byteEnd": 5},
    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]}]}"#;

#[test]
fn a_valid_record_exits_0() {
    let out = validate(&[], "app.bsky.feed.post", POST);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["valid"], true);
    assert_eq!(j["as"], "record");
    assert_eq!(j["errors"], serde_json::json!([]));
}

#[test]
fn every_error_is_listed_with_its_path() {
    let bad = r#"{"$type": "app.bsky.feed.post", "text": 5, "langs": ["en", "not a tag"],
        "facets": [{"index": {"byteStart": 0, "byteEnd": 5}, "features": [
            {"$type": "app.bsky.richtext.facet#mention", "did": "nope"}]}]}"#;
    let out = validate(&[], "app.bsky.feed.post", bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("4 errors"), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["valid"], false);
    let paths: Vec<&str> = j["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        paths,
        [
            "Record.createdAt",
            "Record.facets[0].features[0].did",
            "Record.langs[1]",
            "Record.text",
        ]
    );
    assert_eq!(j["errors"][3]["message"], "expected string, found integer");
}

/// Past the validator's cap (100) errors are counted, not listed: a huge wrong value costs
/// no more than a small one.
#[test]
fn errors_past_the_cap_are_counted() {
    let langs = vec!["\"not a tag\""; 300].join(",");
    let bad = format!(
        r#"{{"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2024-05-01T12:00:00.000Z",
            "langs": [{langs}]}}"#
    );
    let out = validate(&[], "app.bsky.feed.post", &bad);
    assert_eq!(out.status.code(), Some(1));
    // One error for the length of `langs`, one per tag.
    assert!(stderr(&out).contains("301 errors"), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["errors"].as_array().map(Vec::len), Some(100));
    assert_eq!(j["omitted"], 201);
    assert_eq!(j["errors"][99]["path"], "Record.langs[98]");
}

#[test]
fn definitions_by_name() {
    let out = validate(
        &[],
        "app.bsky.richtext.facet#link",
        r#"{"uri": "https://a.b"}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["as"], "definition");
    let out = validate(
        &[],
        "app.bsky.richtext.facet#link",
        r#"{"uri": "no scheme"}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["errors"][0]["path"], "Value.uri");
    // A `main` that is an object, named by its bare NSID.
    let strong = r#"{"uri": "at://did:plc:abc/app.bsky.feed.post/3k", "cid": "bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq"}"#;
    let out = validate(&[], "com.atproto.repo.strongRef", strong);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn method_parts_are_chosen_by_flag() {
    let out = validate(
        &["--params"],
        "app.bsky.feed.getTimeline",
        r#"{"limit": 50}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["as"], "params");
    let out = validate(
        &["--params"],
        "app.bsky.feed.getTimeline",
        r#"{"limit": 500}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["errors"][0]["path"], "Params.limit");
    let out = validate(
        &["--output"],
        "app.bsky.feed.getTimeline",
        r#"{"feed": []}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = validate(
        &["--input"],
        "com.atproto.repo.createRecord",
        r#"{"repo": "alice.test", "collection": "app.bsky.feed.post", "record": {}}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let commit = r#"{"$type": "com.atproto.sync.subscribeRepos#info", "name": "OutdatedCursor"}"#;
    let out = validate(&["--message"], "com.atproto.sync.subscribeRepos", commit);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    // A method without a part.
    let out = validate(&[], "app.bsky.feed.getTimeline", "{}");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--params"), "{}", stderr(&out));
    // A part for something that is not a method.
    let out = validate(&["--input"], "app.bsky.feed.post", POST);
    assert_eq!(out.status.code(), Some(2));
    // Two parts.
    let out = validate(
        &["--input", "--output"],
        "com.atproto.repo.createRecord",
        "{}",
    );
    assert_eq!(out.status.code(), Some(2));
    // Not in the catalog, or not an NSID at all.
    let out = validate(&[], "com.example.nothing", "{}");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not in the lexicons"));
    let out = validate(&[], "not-an-nsid", "{}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_and_malformed_input() {
    let dir = lexicons();
    let out = atdata(
        &[
            "lexicon",
            "validate",
            "--lexicons",
            &dir,
            "app.bsky.feed.post",
            "/no/such/file.json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(3));
    let out = atdata(
        &[
            "lexicon",
            "validate",
            "--lexicons",
            "/no/such/dir",
            "app.bsky.feed.post",
            "-",
        ],
        POST,
    );
    assert_eq!(out.status.code(), Some(3));
    // Floats are not in the data model: invalid input, not a crash.
    let out = validate(&[], "app.bsky.feed.post", r#"{"text": 1.5}"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not atproto JSON"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn legacy_blobs_only_when_allowed() {
    let profile = r#"{"$type": "app.bsky.actor.profile", "avatar": {"cid":
        "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy", "mimeType": "image/png"}}"#;
    let out = validate(&[], "app.bsky.actor.profile", profile);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&out)["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("legacy blob"));
    let out = validate(&["--allow-legacy-blobs"], "app.bsky.actor.profile", profile);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The interop record cases through the CLI, against the fixture catalog: the valid ones that
/// atdata-core reads as data exit 0, every invalid one exits 1.
#[test]
fn interop_record_cases_through_the_cli() {
    let catalog = interop_catalog();
    let mut checked = 0;
    for (file, expect) in [
        ("record-data-valid.json", 0),
        ("record-data-invalid.json", 1),
    ] {
        let text =
            std::fs::read_to_string(format!("{TESTDATA}/interop/lexicon/{file}")).expect("fixture");
        let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
        for case in cases {
            let data = case["data"].to_string();
            let args = [
                "lexicon",
                "validate",
                "--lexicons",
                &catalog,
                "example.lexicon.record",
                "-",
            ];
            let out = atdata(&args, &data);
            assert_eq!(out.status.code(), Some(expect), "{file} {}", case["name"]);
            checked += 1;
        }
    }
    assert_eq!(checked, 53, "every record-data case");
}

#[test]
fn lint_the_official_tree_and_a_broken_one() {
    let dir = lexicons();
    let out = atdata(&["lexicon", "lint", &dir], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["errors"], 0);
    assert_eq!(j["warnings"], 3);
    assert_eq!(j["lints"][0]["rule"], "required-default");

    // The interop catalog refers to app.bsky.actor.defs#preferences without a copy of it: the
    // compiled-in official lexicons resolve it.
    let out = atdata(&["lexicon", "lint", &interop_catalog()], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let broken = std::env::temp_dir().join(format!("atdata-lint-{}", std::process::id()));
    std::fs::create_dir_all(&broken).expect("temp dir");
    std::fs::write(
        broken.join("item.json"),
        r##"{"lexicon": 1, "id": "com.example.item", "defs": {"main": {"type": "object",
            "description": "An item.",
            "properties": {"kind": {"type": "ref", "ref": "com.example.missing#kind"}}}}}"##,
    )
    .expect("write lexicon");
    let catalog = broken.to_str().expect("utf-8").to_owned();
    let out = atdata(&["lexicon", "lint", &catalog], "");
    let _ = std::fs::remove_dir_all(&broken);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("1 lint error"), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["lints"][0]["rule"], "unresolved-ref");
    assert_eq!(j["lints"][0]["severity"], "error");

    let out = atdata(&["lexicon", "lint", "/no/such/dir"], "");
    assert_eq!(out.status.code(), Some(3));
}

/// An array definition of itself, or two of each other, is a lint error: only nested empty
/// arrays fit, and it has no plain `Vec` type.
#[test]
fn lint_reports_arrays_of_themselves() {
    let dir = std::env::temp_dir().join(format!("atdata-lint-cycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("nested.json"),
        r##"{"lexicon": 1, "id": "com.example.nested", "defs": {
            "main": {"type": "array", "items": {"type": "ref", "ref": "#main"}},
            "even": {"type": "array", "items": {"type": "ref", "ref": "#odd"}},
            "odd": {"type": "array", "items": {"type": "ref", "ref": "#even"}}}}"##,
    )
    .expect("write lexicon");
    let path = dir.to_str().expect("utf-8").to_owned();
    let out = atdata(&["lexicon", "lint", &path], "");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 lint errors"), "{}", stderr(&out));
    let j = json(&out);
    let lints: Vec<(&str, &str)> = j["lints"]
        .as_array()
        .expect("lints")
        .iter()
        .map(|l| {
            (
                l["rule"].as_str().expect("rule"),
                l["path"].as_str().expect("path"),
            )
        })
        .collect();
    assert_eq!(
        lints,
        [
            ("array-cycle", "defs.even.items"),
            ("array-cycle", "defs.main.items"),
            ("array-cycle", "defs.odd.items"),
        ]
    );
}

/// `lint` applies the lexicon loader's size limit: a file over 1 MiB is an `invalid-doc`
/// error, even when it is a valid lexicon (it would be refused by `validate`'s loader).
#[test]
fn lint_refuses_a_file_over_the_loader_size_limit() {
    const LIMIT: usize = atdata_lexicon::doc::MAX_DOC_BYTES;
    let dir = std::env::temp_dir().join(format!("atdata-lint-size-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let head = r#"{"lexicon": 1, "id": "com.example.big", "description": ""#;
    let tail = r#"", "defs": {"main": {"type": "token", "description": "A token."}}}"#;
    let pad = "x".repeat(LIMIT + 1 - head.len() - tail.len());
    std::fs::write(dir.join("big.json"), format!("{head}{pad}{tail}")).expect("write lexicon");
    let path = dir.to_str().expect("utf-8").to_owned();
    let out = atdata(&["lexicon", "lint", &path], "");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 lint error"), "{}", stderr(&out));
    let j = json(&out);
    assert_eq!(j["lints"][0]["rule"], "invalid-doc");
    assert_eq!(j["lints"][0]["severity"], "error");
    assert_eq!(
        j["lints"][0]["message"],
        format!("lexicon document is too large or too deeply nested (more than {LIMIT} bytes)")
    );
}

/// `lexicon gen` writes a module tree, or a crate; references to official lexicons resolve
/// without copies of them, and a second run writes the same bytes.
#[test]
fn gen_writes_a_module_tree_and_a_crate() {
    let lexicons = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/dataset/lexicons");
    let tmp = std::env::temp_dir().join(format!("atdata-cli-gen-{}", std::process::id()));
    let tree = tmp.join("tree");
    let krate = tmp.join("crate");
    let out = atdata(
        &[
            "lexicon",
            "gen",
            "--lexicons",
            lexicons,
            "--out",
            tree.to_str().expect("utf-8 path"),
            "--json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(summary["lexicons"], 4);
    assert_eq!(summary["warnings"], serde_json::json!([]));
    let record = std::fs::read_to_string(tree.join("ac/foundation/dataset/record.rs"))
        .expect("record module");
    assert!(record.contains("pub struct Record"));
    assert!(record.contains("atdata_api::com::atproto::repo::strong_ref"));
    assert!(record.contains("atdata_core::runtime"));
    assert!(
        !record.contains("atdata_client"),
        "generated code never needs the HTTP client"
    );

    let out = atdata(
        &[
            "lexicon",
            "gen",
            "--lexicons",
            lexicons,
            "--out",
            krate.to_str().expect("utf-8 path"),
            "--crate",
            "dataset-types",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("name = \"dataset-types\""));
    assert!(
        manifest.contains("atdata-core = { version = "),
        "{manifest}"
    );
    assert!(!manifest.contains("atdata-client"), "{manifest}");
    assert!(krate.join("src/lib.rs").exists());

    // --path-deps points the manifest at a checkout (this one), by absolute path.
    let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("checkout");
    let pathed = atdata(
        &[
            "lexicon",
            "gen",
            "--lexicons",
            lexicons,
            "--out",
            krate.to_str().expect("utf-8 path"),
            "--crate",
            "dataset-types",
            "--path-deps",
            checkout.to_str().expect("utf-8 path"),
        ],
        "",
    );
    assert_eq!(pathed.status.code(), Some(0), "{}", stderr(&pathed));
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).expect("manifest");
    let core_path = format!(
        "atdata-core = {{ path = {:?} }}",
        checkout.join("atdata-core").display().to_string()
    );
    assert!(manifest.contains(&core_path), "{manifest}");
    assert!(manifest.contains("atdata-api = { path = "), "{manifest}");
    // Not a checkout: a clear error, nothing written.
    let not_checkout = atdata(
        &[
            "lexicon",
            "gen",
            "--lexicons",
            lexicons,
            "--out",
            krate.to_str().expect("utf-8 path"),
            "--crate",
            "dataset-types",
            "--path-deps",
            lexicons,
        ],
        "",
    );
    assert_ne!(not_checkout.status.code(), Some(0));
    assert!(
        stderr(&not_checkout).contains("not an atdata checkout"),
        "{}",
        stderr(&not_checkout)
    );

    let before = std::fs::read_to_string(tree.join("ac/foundation/dataset/lens.rs")).expect("lens");
    let again = atdata(
        &[
            "lexicon",
            "gen",
            "--lexicons",
            lexicons,
            "--out",
            tree.to_str().expect("utf-8 path"),
        ],
        "",
    );
    assert_eq!(again.status.code(), Some(0));
    let after = std::fs::read_to_string(tree.join("ac/foundation/dataset/lens.rs")).expect("lens");
    assert_eq!(before, after, "generation is deterministic");

    let bad = atdata(
        &[
            "lexicon",
            "gen",
            "--lexicons",
            lexicons,
            "--out",
            "/tmp/x",
            "--crate",
            "9 bad",
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&tmp);
}
