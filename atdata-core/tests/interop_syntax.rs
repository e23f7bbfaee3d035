//! Runs every case of the atproto interop syntax fixtures
//! (`testdata/interop/syntax/*.txt`) against the `atdata_core::syntax` parsers.
//!
//! A plain `main` (the test target has `harness = false`) so that it can print one
//! line per fixture file and a closing `interop syntax: N passed, M failed` line.
//! Fixture rules (see `testdata/interop/README.md`): split on `\n` only, skip a line
//! only if it is empty or starts with `#`, and never trim: spaces are part of a case.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use atdata_core::syntax::{
    check_cid_syntax, check_uri_syntax, AtIdentifier, AtUri, Datetime, Did, Handle, Language, Nsid,
    RecordKey, SyntaxError, Tid,
};

const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/interop/syntax");
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/interop/README.md");

/// What a fixture file expects of each of its cases.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// `*_syntax_valid.txt`: the parser accepts the case.
    Accept,
    /// `*_syntax_invalid.txt`: the parser rejects the case.
    Reject,
    /// `*_parse_invalid.txt`: the strict parser rejects the case.
    RejectStrict,
}

type Check = fn(&str) -> Result<(), SyntaxError>;

fn parse<T: FromStr<Err = SyntaxError>>(s: &str) -> Result<(), SyntaxError> {
    T::from_str(s).map(|_| ())
}

/// The lenient, syntax-only check for types whose parser is stricter than the syntax.
/// `*_parse_invalid.txt` cases must pass it (and fail the strict parser), which checks
/// that each case is rejected for the semantic reason and not a syntax one.
fn syntax_only(type_name: &str) -> Option<Check> {
    match type_name {
        "datetime" => Some(Datetime::check_syntax),
        "language" => Some(Language::check_syntax),
        _ => None,
    }
}

/// The parser for a fixture's type (the file name before `_syntax_`/`_parse_`).
fn checker(type_name: &str) -> Option<Check> {
    Some(match type_name {
        "atidentifier" => parse::<AtIdentifier>,
        "aturi" => parse::<AtUri>,
        "cid" => check_cid_syntax,
        "datetime" => parse::<Datetime>,
        "did" => parse::<Did>,
        "handle" => parse::<Handle>,
        "language" => parse::<Language>,
        "nsid" => parse::<Nsid>,
        "recordkey" => parse::<RecordKey>,
        "tid" => parse::<Tid>,
        "uri" => check_uri_syntax,
        _ => return None,
    })
}

fn classify(file_name: &str) -> Option<(&str, Expect)> {
    for (suffix, expect) in [
        ("_syntax_valid.txt", Expect::Accept),
        ("_syntax_invalid.txt", Expect::Reject),
        ("_parse_invalid.txt", Expect::RejectStrict),
    ] {
        if let Some(type_name) = file_name.strip_suffix(suffix) {
            return Some((type_name, expect));
        }
    }
    None
}

/// Case excerpt for failure output: long cases (the length-limit ones) are cut.
fn excerpt(case: &str) -> String {
    const MAX: usize = 120;
    if case.chars().count() <= MAX {
        format!("{case:?}")
    } else {
        let head: String = case.chars().take(MAX).collect();
        format!("{head:?}… ({} bytes)", case.len())
    }
}

/// The totals the README states: "Totals: 24 syntax files, 536 syntax cases".
fn readme_totals() -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(README).ok()?;
    let line = text.lines().find(|l| l.starts_with("Totals:"))?;
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter(|w| !w.is_empty() && w.chars().any(|c| c.is_ascii_digit()))
        .map(|w| w.replace(',', "").parse::<usize>());
    let files = numbers.next()?.ok()?;
    let cases = numbers.next()?.ok()?;
    line.contains("syntax files").then_some((files, cases))
}

fn main() -> ExitCode {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(FIXTURE_DIR) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect(),
        Err(e) => {
            println!("interop syntax: cannot read {FIXTURE_DIR}: {e}");
            println!("interop syntax: 0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    files.sort();

    let (mut passed, mut failed, mut cases_seen, mut files_seen) = (0usize, 0usize, 0usize, 0usize);
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let (outcome_passed, outcome_failed, n) = run_file(path, name);
        passed += outcome_passed;
        failed += outcome_failed;
        cases_seen += n;
        files_seen += 1;
    }

    match readme_totals() {
        Some((want_files, want_cases)) if (want_files, want_cases) == (files_seen, cases_seen) => {
            println!("interop syntax: {files_seen} files, {cases_seen} cases (matches README)");
        }
        Some((want_files, want_cases)) => {
            println!(
                "interop syntax: README says {want_files} files / {want_cases} cases, \
                 found {files_seen} / {cases_seen}"
            );
            failed += 1;
        }
        None => {
            println!("interop syntax: could not read the totals line of {README}");
            failed += 1;
        }
    }

    println!("interop-syntax: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs one fixture file; returns (passed, failed, cases).
fn run_file(path: &Path, name: &str) -> (usize, usize, usize) {
    let Some((type_name, expect)) = classify(name) else {
        println!("interop syntax: {name}: unknown fixture file name");
        return (0, 1, 0);
    };
    let Some(check) = checker(type_name) else {
        println!("interop syntax: {name}: no parser for type {type_name:?}");
        return (0, 1, 0);
    };
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => {
            println!("interop syntax: {name}: not UTF-8: {e}");
            return (0, 1, 0);
        }
        Err(e) => {
            println!("interop syntax: {name}: {e}");
            return (0, 1, 0);
        }
    };

    let lenient = syntax_only(type_name);
    if expect == Expect::RejectStrict && lenient.is_none() {
        println!("interop syntax: {name}: no syntax-only check for type {type_name:?}");
        return (0, 1, 0);
    }
    let verbose = std::env::var_os("INTEROP_VERBOSE").is_some();

    let mut failures = Vec::new();
    let mut n = 0usize;
    for case in text.split('\n') {
        if case.is_empty() || case.starts_with('#') {
            continue;
        }
        n += 1;
        let result = catch_unwind(AssertUnwindSafe(|| check(case)));
        let mut ok = matches!(
            (&result, expect),
            (Ok(Ok(())), Expect::Accept) | (Ok(Err(_)), Expect::Reject | Expect::RejectStrict)
        );
        let got = match &result {
            Ok(Ok(())) => "accepted".to_owned(),
            Ok(Err(e)) => format!("rejected: {e}"),
            Err(_) => "PANICKED".to_owned(),
        };
        let mut note = String::new();
        if let (Expect::RejectStrict, Some(lenient)) = (expect, lenient) {
            if let Err(e) = lenient(case) {
                ok = false;
                note = format!(" (but the syntax-only check also rejects it: {e})");
            }
        }
        if !ok {
            failures.push(format!("  FAIL {}: {got}{note}", excerpt(case)));
        } else if verbose {
            println!("  ok {}: {got}", excerpt(case));
        }
    }
    let fail = failures.len();
    println!(
        "interop syntax: {name}: {n} cases, {} passed, {fail} failed",
        n - fail
    );
    for f in &failures {
        println!("{f}");
    }
    (n - fail, fail, n)
}
