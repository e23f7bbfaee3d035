//! Property test: lexicon documents from arbitrary text never panic the parser or the catalog
//! (the stable counterpart of the `lexicon_doc` fuzz target, with the same body).
//!
//! Besides arbitrary strings, real documents (the interop catalog) are cut and spliced, so the
//! cases reach the checks behind the JSON syntax.

use proptest::prelude::*;

#[path = "fuzz_bodies/lexicon_doc.rs"]
mod body;

const CATALOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/interop/lexicon/catalog"
);

fn seeds() -> Vec<String> {
    let mut seeds: Vec<String> = std::fs::read_dir(CATALOG)
        .expect("interop lexicon catalog")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    seeds
}

#[test]
fn the_seeds_parse() {
    for seed in seeds() {
        body::check(seed.as_bytes());
        assert!(atdata_lexicon::LexiconDoc::from_json(&seed).is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        body::check(&data);
    }

    #[test]
    fn arbitrary_json_like_text(text in r#"[\{\}\[\]":,0-9a-z\.\-# ]{0,200}"#) {
        body::check(text.as_bytes());
    }

    /// A real document with a range replaced by other text: mostly still JSON, often still
    /// shaped like a lexicon, with one field wrong.
    #[test]
    fn spliced_documents(
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..40,
        insert in r#"[\{\}\[\]":,0-9a-z\.\-#]{0,12}"#,
    ) {
        let seeds = seeds();
        let seed = pick.get(&seeds).as_bytes();
        let start = at.index(seed.len());
        let end = (start + cut).min(seed.len());
        let mut data = seed[..start].to_vec();
        data.extend_from_slice(insert.as_bytes());
        data.extend_from_slice(&seed[end..]);
        body::check(&data);
    }
}
