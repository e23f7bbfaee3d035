//! How the edge-case lexicons under `tests/lexicons` are generated into `tests/edge`: shared by
//! the tests and `cargo run -p xtask -- regen` (which includes this file).

use std::path::{Path, PathBuf};

use atdata_codegen::{GeneratedTree, Generator};
use atdata_lexicon::Catalog;

/// `atdata-codegen/tests`.
pub fn tests_dir() -> PathBuf {
    // Through the workspace, so the path is right from this crate and from xtask alike.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../atdata-codegen/tests")
}

/// The edge-case lexicons, plus the one official lexicon they reference
/// (`com.atproto.repo.strongRef`), which resolves to atdata-api's type.
pub fn catalog() -> Catalog {
    let mut catalog = Catalog::load_dir(tests_dir().join("lexicons")).expect("edge lexicons load");
    let strong_ref =
        tests_dir().join("../../atdata-lexicon/lexicons/com/atproto/repo/strongRef.json");
    let text = std::fs::read_to_string(strong_ref).expect("read strongRef");
    catalog.add_json(&text).expect("strongRef parses");
    catalog
}

/// The module tree for `tests/edge`.
pub fn generate(catalog: &Catalog) -> GeneratedTree {
    Generator::new(catalog)
        .namespaces(["com.example"])
        .official_externals()
        .generate()
        .expect("edge lexicons generate")
}
