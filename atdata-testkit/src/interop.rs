//! A shared runner for the vendored AT Protocol interop fixtures (`testdata/interop/`): it finds
//! the fixture files, runs a closure per case (a panic counts as that case failing, so one bad
//! case does not hide the others), tallies the results per file, checks the case counts the
//! fixture README states, prints them, and fails with every failure listed.
//!
//! ```no_run
//! use atdata_testkit::interop::Suite;
//!
//! let mut suite = Suite::new("interop-crypto");
//! suite.json_file("crypto/w3c_didkey_K256.json", Some(5), |case| {
//!     case["publicDidKey"].as_str().map(|_| ()).ok_or_else(|| "no publicDidKey".to_owned())
//! });
//! suite.finish(); // prints "interop-crypto: 5/5 cases passed" and panics on any failure
//! ```
//!
//! The interop tests are `harness = false` binaries, so what they print is never captured, and
//! [`Suite::finish`] also prints the closing `NAME: N passed, M failed` line that CI reads.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The vendored fixtures: `testdata/interop` at the workspace root.
pub fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/interop")
}

/// The path of a fixture file, relative to [`fixture_root`] (e.g. `crypto/signature-fixtures.json`).
pub fn fixture_path(relative: &str) -> PathBuf {
    fixture_root().join(relative)
}

/// The outcome of one case: `Err` says why it failed.
pub type CaseResult = Result<(), String>;

/// One fixture file's tally.
#[derive(Debug, Clone)]
struct FileTally {
    cases: usize,
    failed: usize,
}

/// A run over one or more fixture files: tallies cases, collects failures, and reports.
#[derive(Debug)]
pub struct Suite {
    name: String,
    files: Vec<FileTally>,
    failures: Vec<String>,
    verbose: bool,
}

impl Suite {
    /// A suite whose report lines start with `name` (e.g. `interop-crypto`). Set
    /// `INTEROP_VERBOSE=1` to print every passing case too.
    pub fn new(name: &str) -> Suite {
        Suite {
            name: name.to_owned(),
            files: Vec::new(),
            failures: Vec::new(),
            verbose: std::env::var_os("INTEROP_VERBOSE").is_some(),
        }
    }

    /// Runs `check` on each element of the JSON array in fixture file `relative`. A case is
    /// named in failure reports by its `comment`, `note` or `name` field when it has one. With
    /// `expected` set, a different number of cases is itself a failure.
    pub fn json_file(
        &mut self,
        relative: &str,
        expected: Option<usize>,
        check: impl FnMut(&serde_json::Value) -> CaseResult,
    ) {
        let cases = match read_json_array(relative) {
            Ok(cases) => cases,
            Err(why) => return self.file_error(relative, why),
        };
        let labelled = cases.iter().enumerate().map(|(i, case)| {
            let note = ["comment", "note", "name"]
                .iter()
                .find_map(|k| case[*k].as_str())
                .map(|n| format!(" {n:?}"))
                .unwrap_or_default();
            (format!("case {i}{note}"), case)
        });
        self.cases(relative, expected, labelled, check);
    }

    /// Runs `check` on each case of a line-based fixture file (`syntax/*.txt`,
    /// `mst/example_keys.txt`), with the README's rules: split on `\n` only, skip a line only
    /// when it is empty or starts with `#`, and never trim (spaces are part of a case).
    pub fn lines_file(
        &mut self,
        relative: &str,
        expected: Option<usize>,
        check: impl FnMut(&str) -> CaseResult,
    ) {
        let text = match std::fs::read(fixture_path(relative)).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(e)) => return self.file_error(relative, format!("not UTF-8: {e}")),
            Err(e) => return self.file_error(relative, format!("cannot read: {e}")),
        };
        let cases = text
            .split('\n')
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| (excerpt(line), line));
        self.cases(relative, expected, cases, check);
    }

    /// Runs `check` on already-loaded cases, each with a label for failure reports, tallied
    /// under `file`. The building block of [`Suite::json_file`] and [`Suite::lines_file`], for
    /// fixtures of another shape.
    pub fn cases<T>(
        &mut self,
        file: &str,
        expected: Option<usize>,
        cases: impl IntoIterator<Item = (String, T)>,
        mut check: impl FnMut(T) -> CaseResult,
    ) {
        let mut tally = FileTally {
            cases: 0,
            failed: 0,
        };
        for (label, case) in cases {
            tally.cases += 1;
            let outcome = catch_unwind(AssertUnwindSafe(|| check(case)))
                .unwrap_or_else(|panic| Err(format!("PANICKED: {}", panic_message(&*panic))));
            match outcome {
                Ok(()) if self.verbose => println!("  ok   {file} {label}"),
                Ok(()) => {}
                Err(why) => {
                    tally.failed += 1;
                    self.fail(format!("{file} {label}: {why}"));
                }
            }
        }
        println!(
            "{}: {file}: {} cases, {} passed, {} failed",
            self.name,
            tally.cases,
            tally.cases - tally.failed,
            tally.failed
        );
        if let Some(expected) = expected {
            if tally.cases != expected {
                self.fail(format!(
                    "{file}: expected {expected} cases (fixture README), found {}",
                    tally.cases
                ));
            }
        }
        self.files.push(tally);
    }

    /// Records a failure that is not one case's (a count that does not match, a missing file).
    pub fn fail(&mut self, why: String) {
        println!("  FAIL {why}");
        self.failures.push(why);
    }

    /// Cases run so far, over all files.
    pub fn total_cases(&self) -> usize {
        self.files.iter().map(|f| f.cases).sum()
    }

    /// Cases passed so far, over all files.
    pub fn passed_cases(&self) -> usize {
        self.files.iter().map(|f| f.cases - f.failed).sum()
    }

    /// Prints `NAME: P/N cases passed` and the closing `NAME: P passed, F failed` line, where F
    /// counts failed cases and suite-level failures (wrong counts, unreadable files).
    ///
    /// # Panics
    ///
    /// When anything failed, listing every failure, so the test fails.
    pub fn finish(self) {
        let (passed, total) = (self.passed_cases(), self.total_cases());
        let suite_failures = self.failures.len() - (total - passed);
        println!("{}: {passed}/{total} cases passed", self.name);
        println!(
            "{}: {passed} passed, {} failed",
            self.name,
            total - passed + suite_failures
        );
        if !self.failures.is_empty() {
            panic!(
                "{}: {} failure(s):\n  {}",
                self.name,
                self.failures.len(),
                self.failures.join("\n  ")
            );
        }
    }

    /// A file that could not be run counts as one failure, with no cases.
    fn file_error(&mut self, relative: &str, why: String) {
        self.files.push(FileTally {
            cases: 0,
            failed: 0,
        });
        self.fail(format!("{relative}: {why}"));
    }
}

/// Reads a fixture file holding a JSON array.
pub fn read_json_array(relative: &str) -> Result<Vec<serde_json::Value>, String> {
    let text =
        std::fs::read_to_string(fixture_path(relative)).map_err(|e| format!("cannot read: {e}"))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Array(cases)) => Ok(cases),
        Ok(_) => Err("not a JSON array".to_owned()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// A case for failure output: long cases (the length-limit ones run to kilobytes) are cut.
fn excerpt(case: &str) -> String {
    const MAX: usize = 120;
    if case.chars().count() <= MAX {
        format!("{case:?}")
    } else {
        let head: String = case.chars().take(MAX).collect();
        format!("{head:?}… ({} bytes)", case.len())
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_failures_and_panics() {
        let mut suite = Suite::new("unit");
        suite.cases(
            "inline",
            Some(3),
            [("a", 1), ("b", 2), ("c", 3)].map(|(l, n)| (l.to_owned(), n)),
            |n| match n {
                1 => Ok(()),
                2 => Err("two".to_owned()),
                _ => panic!("three"),
            },
        );
        assert_eq!((suite.passed_cases(), suite.total_cases()), (1, 3));
        assert_eq!(suite.failures.len(), 2);
        assert!(suite.failures[1].contains("PANICKED: three"));
        let result = catch_unwind(AssertUnwindSafe(|| suite.finish()));
        assert!(result.is_err(), "finish must fail when a case failed");
    }

    #[test]
    fn a_wrong_count_fails_even_when_every_case_passes() {
        let mut suite = Suite::new("unit");
        suite.cases("inline", Some(2), [("a".to_owned(), ())], |()| Ok(()));
        assert_eq!(suite.failures.len(), 1);
        let mut ok = Suite::new("unit");
        ok.cases("inline", Some(1), [("a".to_owned(), ())], |()| Ok(()));
        ok.finish();
    }

    #[test]
    fn finds_the_vendored_fixtures() {
        assert!(fixture_path("README.md").is_file());
        let cases = read_json_array("crypto/w3c_didkey_K256.json").expect("fixture");
        assert_eq!(cases.len(), 5);
        let mut suite = Suite::new("unit");
        suite.lines_file("syntax/tid_syntax_valid.txt", Some(4), |line| {
            (line.len() == 13)
                .then_some(())
                .ok_or_else(|| "not 13 chars".to_owned())
        });
        suite.finish();
    }
}
