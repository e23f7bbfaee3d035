//! Every official lexicon parses and resolves; the interop lexicon fixtures give the expected
//! verdicts.

use atdata_lexicon::{Catalog, LexiconDoc};

const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/lexicons");
const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/interop/lexicon");

#[test]
fn every_official_lexicon_parses_and_every_ref_resolves() {
    let catalog = Catalog::load_dir(LEXICONS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.len(), 402, "the vendored tree holds 402 lexicons");
    let unresolved = catalog.unresolved_refs();
    assert!(unresolved.is_empty(), "unresolved: {unresolved:#?}");
    println!(
        "official lexicons: {} parsed, 0 unresolved refs",
        catalog.len()
    );
}

fn cases(file: &str) -> Vec<(String, serde_json::Value)> {
    let text = std::fs::read_to_string(format!("{INTEROP}/{file}")).expect("fixture");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    cases
        .into_iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["lexicon"].clone(),
            )
        })
        .collect()
}

#[test]
fn interop_lexicon_documents() {
    let mut passed = 0;
    for (name, lexicon) in cases("lexicon-valid.json") {
        LexiconDoc::from_value(lexicon).unwrap_or_else(|e| panic!("valid case {name:?}: {e}"));
        passed += 1;
    }
    for (name, lexicon) in cases("lexicon-invalid.json") {
        match LexiconDoc::from_value(lexicon) {
            Ok(doc) => panic!("invalid case {name:?} was accepted: {doc:?}"),
            Err(e) => println!("  refused {name:?}: {e}"),
        }
        passed += 1;
    }
    for entry in std::fs::read_dir(format!("{INTEROP}/catalog")).expect("catalog dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        LexiconDoc::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        passed += 1;
    }
    println!("interop-lexicon documents: {passed} passed, 0 failed");
    assert_eq!(passed, 3 + 7 + 5);
}
