//! Runs every case of the atproto interop lexicon fixtures (`testdata/interop/lexicon/`):
//! the lexicon documents that must parse or be refused, and the record data that must
//! validate or fail against the fixture catalog.
//!
//! A plain `main` (the test target has `harness = false`) so that it can print closing
//! `interop-lexicon …: N passed, M failed` lines. `INTEROP_VERBOSE=1` prints every verdict.
//!
//! Each case is validated as an owned `Value` and as a zero-copy `ValueRef` decoded from its
//! DAG-CBOR encoding; both must give the same errors.
//!
//! An invalid record must not merely fail: it must fail *at the field the case is about*
//! (some error's path names one of the case's fields other than `$type`), so a case that
//! fails only because, say, the required `integer` is missing does not hide a rule we miss.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;

use atdata_core::{Value, ValueRef};
use atdata_lexicon::{Catalog, LexiconDoc, Target};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/interop/lexicon");
const RECORD_NSID: &str = "example.lexicon.record";

/// The counts the interop README states for these files.
const DOC_CASES: usize = 3 + 7 + 5;
const RECORD_CASES: usize = 3 + 50;

struct Tally {
    passed: usize,
    failed: usize,
    verbose: bool,
}

impl Tally {
    fn check(&mut self, ok: bool, what: &str, detail: &str) {
        if ok {
            self.passed += 1;
            if self.verbose {
                println!("  ok    {what}: {detail}");
            }
        } else {
            self.failed += 1;
            println!("  FAIL  {what}: {detail}");
        }
    }
}

fn cases(file: &str) -> Result<Vec<serde_json::Value>, String> {
    let text = std::fs::read_to_string(format!("{INTEROP}/{file}")).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))
}

fn name_of(case: &serde_json::Value) -> &str {
    case["name"].as_str().unwrap_or("?")
}

fn documents(tally: &mut Tally) -> Result<usize, String> {
    let mut seen = 0;
    for (file, valid) in [
        ("lexicon-valid.json", true),
        ("lexicon-invalid.json", false),
    ] {
        for case in cases(file)? {
            seen += 1;
            let result = catch_unwind(AssertUnwindSafe(|| {
                LexiconDoc::from_value(case["lexicon"].clone())
            }));
            let (ok, detail) = match (result, valid) {
                (Ok(Ok(_)), true) => (true, "parsed".to_owned()),
                (Ok(Err(e)), false) => (true, format!("refused: {e}")),
                (Ok(Ok(_)), false) => (false, "accepted, but must be refused".to_owned()),
                (Ok(Err(e)), true) => (false, format!("refused: {e}")),
                (Err(_), _) => (false, "PANICKED".to_owned()),
            };
            tally.check(ok, &format!("{file} {:?}", name_of(&case)), &detail);
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(format!("{INTEROP}/catalog"))
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        seen += 1;
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let result = LexiconDoc::from_json(&text);
        let detail = match &result {
            Ok(doc) => format!("parsed {}", doc.id),
            Err(e) => e.to_string(),
        };
        tally.check(result.is_ok(), &path.display().to_string(), &detail);
    }
    Ok(seen)
}

/// The fields an invalid case is about: its keys other than `$type`, and other than the
/// always-present valid `integer` when there are others.
fn fields_of_case(data: &serde_json::Value) -> Vec<String> {
    let keys: Vec<String> = data
        .as_object()
        .map(|m| m.keys().filter(|k| *k != "$type").cloned().collect())
        .unwrap_or_default();
    if keys.len() > 1 || keys.iter().any(|k| k != "integer") {
        keys.into_iter().filter(|k| k != "integer").collect()
    } else {
        // Only `integer` (or nothing): the case is about `integer` itself.
        vec!["integer".to_owned()]
    }
}

fn path_names(path: &str, field: &str) -> bool {
    let dotted = format!("Record.{field}");
    let quoted = format!("Record[{}]", serde_json::Value::from(field));
    [dotted, quoted].iter().any(|p| {
        path.strip_prefix(p.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    })
}

/// Converts fixture JSON to a `Value`. The fixtures' `$bytes` are unpadded base64, and one
/// case writes `"123"`, whose trailing bits are not zero; core decodes it leniently, as the
/// interop README asks.
fn to_value(json: &serde_json::Value) -> Result<Value, serde_json::Error> {
    Value::from_json(json.clone())
}

fn record_data(tally: &mut Tally, catalog: &Catalog) -> Result<usize, String> {
    let mut seen = 0;
    for (file, valid) in [
        ("record-data-valid.json", true),
        ("record-data-invalid.json", false),
    ] {
        for case in cases(file)? {
            seen += 1;
            let what = format!("{file} {:?}", name_of(&case));
            let value = match to_value(&case["data"]) {
                Ok(value) => value,
                // The data model itself refuses it: invalid either way.
                Err(e) => {
                    tally.check(!valid, &what, &format!("not data-model JSON: {e}"));
                    continue;
                }
            };
            let result = catch_unwind(AssertUnwindSafe(|| {
                let cbor = value.to_dag_cbor();
                let borrowed = ValueRef::from_dag_cbor(&cbor).map_err(|e| e.to_string());
                (
                    catalog.validate(Target::Record(RECORD_NSID), &value),
                    catalog.validate_all(Target::Record(RECORD_NSID), &value),
                    borrowed.map(|b| catalog.validate_all(Target::Record(RECORD_NSID), &b)),
                )
            }));
            let Ok((first, all, all_borrowed)) = result else {
                tally.check(false, &what, "PANICKED");
                continue;
            };
            // The zero-copy form (decoded from the DAG-CBOR) gives the same errors.
            if all_borrowed.as_ref() != Ok(&all) {
                tally.check(
                    false,
                    &what,
                    &format!("ValueRef disagrees: {all_borrowed:?} vs {all:?}"),
                );
                continue;
            }
            // The two modes must agree on the verdict and on the first error.
            let first_of_all = all.as_ref().err().map(|e| e[0].clone());
            if first.as_ref().err() != first_of_all.as_ref() {
                tally.check(
                    false,
                    &what,
                    &format!("modes disagree: {first:?} vs {first_of_all:?}"),
                );
                continue;
            }
            match (all, valid) {
                (Ok(()), true) => tally.check(true, &what, "valid"),
                (Err(errors), true) => tally.check(false, &what, &errors.to_string()),
                (Ok(()), false) => tally.check(false, &what, "validated, but must fail"),
                (Err(errors), false) => {
                    let fields = fields_of_case(&case["data"]);
                    let on_target = errors
                        .iter()
                        .any(|e| fields.iter().any(|f| path_names(&e.path, f)));
                    let detail = errors.to_string().replace('\n', "; ");
                    if on_target {
                        tally.check(true, &what, &detail);
                    } else {
                        tally.check(
                            false,
                            &what,
                            &format!("failed, but not at {fields:?}: {detail}"),
                        );
                    }
                }
            }
        }
    }
    Ok(seen)
}

fn main() -> ExitCode {
    let verbose = std::env::var_os("INTEROP_VERBOSE").is_some();
    let mut docs = Tally {
        passed: 0,
        failed: 0,
        verbose,
    };
    match documents(&mut docs) {
        Ok(n) if n == DOC_CASES => {}
        Ok(n) => {
            println!("interop-lexicon: expected {DOC_CASES} document cases, found {n}");
            docs.failed += 1;
        }
        Err(e) => {
            println!("interop-lexicon: {e}");
            docs.failed += 1;
        }
    }
    println!(
        "interop-lexicon documents: {} passed, {} failed",
        docs.passed, docs.failed
    );

    let mut records = Tally {
        passed: 0,
        failed: 0,
        verbose,
    };
    match Catalog::load_dir(format!("{INTEROP}/catalog")) {
        Ok(catalog) => match record_data(&mut records, &catalog) {
            Ok(n) if n == RECORD_CASES => {}
            Ok(n) => {
                println!("interop-lexicon: expected {RECORD_CASES} record cases, found {n}");
                records.failed += 1;
            }
            Err(e) => {
                println!("interop-lexicon: {e}");
                records.failed += 1;
            }
        },
        Err(e) => {
            println!("interop-lexicon: the fixture catalog does not load: {e}");
            records.failed += 1;
        }
    }
    println!(
        "interop-lexicon record data: {} passed, {} failed",
        records.passed, records.failed
    );

    if docs.failed == 0 && records.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
