//! Every official lexicon parses and resolves. (The interop lexicon fixtures run in
//! `interop_lexicon.rs`.)

use atdata_lexicon::Catalog;

const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");

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
