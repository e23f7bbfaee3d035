//! The checked-in module tree (`src/lexicons`) is exactly what `atdata lexicon gen` makes of
//! `lexicons/` today. If this fails, regenerate (from the workspace root):
//!
//! ```sh
//! cargo run -p atdata-cli -- lexicon gen --lexicons examples/dataset/lexicons --out examples/dataset/src/lexicons
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every file under `dir`, by path relative to `dir`.
fn read_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_owned();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn checked_in_modules_match_the_generator() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!(
        "atdata-example-dataset-fresh-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&out);

    let summary = atdata_codegen::generate_dir(&crate_dir.join("lexicons"), &out, None)
        .expect("generation succeeds");
    let generated = read_tree(&out);
    let _ = std::fs::remove_dir_all(&out);

    assert_eq!(summary.documents, 4);
    assert!(
        summary.warnings.is_empty(),
        "every reference is typed: {:?}",
        summary.warnings
    );
    // strongRef comes from atdata-api; no copy of the official lexicon is generated.
    assert!(!generated.keys().any(|p| p.starts_with("com")));

    let checked_in = read_tree(&crate_dir.join("src/lexicons"));
    let differing: BTreeSet<&PathBuf> = generated
        .keys()
        .chain(checked_in.keys())
        .filter(|p| generated.get(*p) != checked_in.get(*p))
        .collect();
    assert!(
        differing.is_empty(),
        "src/lexicons is out of date in {:?}; regenerate with `cargo run -p atdata-cli -- lexicon gen \
         --lexicons examples/dataset/lexicons --out examples/dataset/src/lexicons`",
        differing
    );
}
