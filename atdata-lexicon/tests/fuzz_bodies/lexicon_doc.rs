//! The body of the `lexicon_doc` fuzz target (fuzz/fuzz_targets/lexicon_doc.rs), shared with
//! the stable property test `tests/no_panic_json.rs` so that it runs in every `cargo test`, not
//! only under nightly cargo-fuzz.
//!
//! Arbitrary bytes as a lexicon document: parsing never panics, and a document that parses
//! passes its own check, goes into an empty catalog (the same text through `Catalog::add_json`
//! too), and can be linted and have its references listed.

use atdata_lexicon::{Catalog, LexiconDoc};

/// Runs the property on one input; panics only when it is violated.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = LexiconDoc::from_json(text);
    let mut catalog = Catalog::new();
    let added = catalog.add_json(text);
    assert_eq!(
        parsed.is_ok(),
        added.is_ok(),
        "LexiconDoc::from_json and Catalog::add_json disagree: {:?} / {:?}",
        parsed.as_ref().err(),
        added.as_ref().err()
    );
    if let Ok(doc) = parsed {
        assert!(doc.check().is_ok(), "a parsed document fails its own check");
        assert_eq!(catalog.len(), 1);
        assert!(catalog.doc(doc.id.as_str()).is_some());
        let _ = catalog.unresolved_refs();
        let _ = atdata_lexicon::lint::lint(&catalog);
        // The same document again is refused as a duplicate, without panicking.
        assert!(
            catalog.add_json(text).is_err(),
            "a duplicate id was accepted"
        );
    }
}
