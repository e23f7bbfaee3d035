//! Every record of the real repository exports in `testdata/corpus/` against the official
//! lexicons in `atdata-lexicon/lexicons/`, as owned `Value`s and as zero-copy `ValueRef`s.
//!
//! Real data is not all valid under today's lexicons: records written in 2023 can hold forms
//! the lexicons (and the spec) have since tightened. The test therefore does not demand that
//! every record validate; it demands that every failure falls in one of the explained classes
//! below, reports the counts, and checks the strict and lenient counts separately.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use atdata_core::repo::Repo;
use atdata_lexicon::schema::UserType;
use atdata_lexicon::validate::{Problem, ValidateOptions, ValidationError};
use atdata_lexicon::{Catalog, Target};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus");
const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");

fn cars(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("corpus dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            // Bare MSTs with neither commits nor records.
            if !path.ends_with("mst-test-suite") {
                cars(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "car" || e == "repo") {
            out.push(path);
        }
    }
}

/// Why a record that fails strict validation is nevertheless expected to: each class was
/// looked at by hand (see the crate README).
fn explained(collection: &str, error: &ValidationError) -> Option<&'static str> {
    match (&error.problem, collection, error.path.as_str()) {
        // Early-2023 records: blobs as {cid, mimeType}. Valid with legacy blobs allowed.
        (Problem::LegacyBlob, _, _) => Some("legacy blob"),
        // Early-2023 follows: `subject` was {did, declarationCid}; today it is a DID string.
        (
            Problem::WrongType {
                found: "object", ..
            },
            "app.bsky.graph.follow",
            "Record.subject",
        ) => Some("pre-2023 follow subject object"),
        _ => None,
    }
}

#[derive(Default)]
struct Counts {
    records: usize,
    valid: usize,
    valid_lenient: usize,
    invalid: usize,
    no_lexicon: usize,
    classes: BTreeMap<&'static str, usize>,
    unexplained: Vec<String>,
}

#[test]
fn corpus_records_validate_against_the_official_lexicons() {
    let catalog = Catalog::load_dir(LEXICONS).expect("official lexicons");
    let lenient = catalog
        .validator()
        .with_options(ValidateOptions::default().with_legacy_blobs(true));
    let mut files = Vec::new();
    cars(Path::new(CORPUS), &mut files);
    files.sort();
    let mut counts = Counts::default();
    let mut repos = 0;
    for file in &files {
        let bytes = std::fs::read(file).expect("read car");
        let Ok(repo) = Repo::from_car(&bytes) else {
            // repo_slice.car is a partial CAR on purpose.
            continue;
        };
        repos += 1;
        for record in repo.records() {
            let record = record.expect("record");
            counts.records += 1;
            let collection = record.collection();
            let is_record_type = catalog
                .doc(collection)
                .is_some_and(|d| matches!(d.main(), Some(UserType::Record(_))));
            if !is_record_type {
                // sh.tangled.*, pub.leaflet.*, …: nothing to validate against.
                counts.no_lexicon += 1;
                continue;
            }
            let value = record.value().expect("decode");
            let target = Target::Record(collection);
            // The zero-copy form validates exactly like the owned one.
            let borrowed = record.decode().expect("decode");
            assert_eq!(
                catalog.validate_all(target, &borrowed),
                catalog.validate_all(target, &value),
                "{}",
                record.path
            );
            let Err(errors) = catalog.validate_all(target, &value) else {
                counts.valid += 1;
                continue;
            };
            // The first-error mode agrees with the collecting one.
            assert_eq!(
                catalog.validate(target, &value).err().as_ref(),
                errors.first()
            );
            if lenient.validate(target, &value).is_ok() {
                counts.valid_lenient += 1;
            } else {
                counts.invalid += 1;
            }
            for error in &errors {
                match explained(collection, error) {
                    Some(class) => *counts.classes.entry(class).or_default() += 1,
                    None => counts.unexplained.push(format!(
                        "{}/{}: {error}",
                        file.display(),
                        record.path
                    )),
                }
            }
        }
    }
    println!(
        "corpus: {repos} repositories, {} records: {} valid, {} valid with legacy blobs allowed, \
         {} invalid, {} in collections without an official lexicon",
        counts.records, counts.valid, counts.valid_lenient, counts.invalid, counts.no_lexicon
    );
    for (class, n) in &counts.classes {
        println!("  {n:>4} errors: {class}");
    }
    assert!(
        counts.unexplained.is_empty(),
        "unexplained failures:\n{}",
        counts.unexplained.join("\n")
    );
    // The vendored corpus does not change: these pin today's verdicts.
    assert_eq!(
        (
            counts.records,
            counts.valid,
            counts.valid_lenient,
            counts.invalid
        ),
        (12_261, 11_915, 50, 5)
    );
}
