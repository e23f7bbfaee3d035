//! The compiled-in official lexicons are exactly the files of `lexicons/`.
#![cfg(feature = "official")]

use std::path::Path;

const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");

fn json_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("lexicons dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            json_files(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let rel = path.strip_prefix(base).expect("under base");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn compiled_in_list_matches_the_folder() {
    let mut on_disk = Vec::new();
    json_files(Path::new(LEXICONS), Path::new(LEXICONS), &mut on_disk);
    on_disk.sort();
    let listed: Vec<String> = atdata_lexicon::official::files()
        .iter()
        .map(|(p, _)| (*p).to_owned())
        .collect();
    assert_eq!(
        listed, on_disk,
        "src/official_files.rs is out of date with lexicons/: run python3 atdata-lexicon/scripts/list-official.py"
    );
    for (path, text) in atdata_lexicon::official::files() {
        let disk = std::fs::read_to_string(Path::new(LEXICONS).join(path)).expect("read");
        assert_eq!(*text, disk, "{path}");
    }
}

#[test]
fn official_catalog_loads_and_resolves() {
    let catalog = atdata_lexicon::official::load().expect("official lexicons parse");
    assert_eq!(catalog.len(), 402);
    assert!(catalog.unresolved_refs().is_empty());
    assert_eq!(atdata_lexicon::official::catalog().len(), 402);
}
