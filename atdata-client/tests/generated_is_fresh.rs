//! The checked-in API (`src/api`) and the feature block of `Cargo.toml` are exactly what
//! atdata-codegen makes of `atdata-lexicon/lexicons` today. If this fails, regenerate:
//!
//! ```sh
//! cargo run -p atdata-codegen --example regen
//! ```

use std::path::Path;

use atdata_codegen::presets;
use atdata_lexicon::Catalog;

#[test]
fn checked_in_api_matches_the_generator() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::load_dir(crate_dir.join("../atdata-lexicon/lexicons"))
        .expect("official lexicons load");
    let tree = presets::atdata_client(&catalog)
        .generate()
        .expect("generation succeeds");

    let differing = tree.diff(crate_dir.join("src/api")).expect("read src/api");
    assert!(
        differing.is_empty(),
        "src/api is out of date in {} files (first: {:?}); run `cargo run -p atdata-codegen --example regen`",
        differing.len(),
        differing.first()
    );

    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("read Cargo.toml");
    let expected = presets::splice_features(&manifest, &tree.features_toml())
        .expect("Cargo.toml has the generated-features markers");
    assert_eq!(
        manifest, expected,
        "the feature block of Cargo.toml is out of date; run `cargo run -p atdata-codegen --example regen`"
    );
}

#[test]
fn generation_is_deterministic() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::load_dir(crate_dir.join("../atdata-lexicon/lexicons"))
        .expect("official lexicons load");
    // Unformatted, to compare the generator's own output twice without rustfmt in between.
    let generator = presets::atdata_client(&catalog).rustfmt(false);
    let a = generator.generate().expect("first run");
    let b = generator.generate().expect("second run");
    assert_eq!(a, b);
}
