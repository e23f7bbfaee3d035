//! Feature `cid`: every CID of the corpus CARs (block CIDs and roots) converts to the `cid`
//! crate's `Cid` and back unchanged, with the same fields, and equality agrees.
#![cfg(feature = "cid")]

use atdata_core::car::CarReader;
use atdata_core::Cid;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus");

/// The CARs under `testdata/corpus`, found by walking it, so new ones are covered too.
fn cars() -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(CORPUS)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read corpus dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "car") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn corpus_cids_round_trip() {
    let mut seen = 0usize;
    for path in cars() {
        let bytes = std::fs::read(&path).expect("read CAR");
        let Ok(reader) = CarReader::new(&bytes) else {
            continue;
        };
        let mut cids: Vec<Cid> = reader.roots().to_vec();
        cids.extend(reader.blocks().map_while(Result::ok).map(|b| b.cid));
        for ours in cids {
            let theirs = cid::Cid::from(ours);
            assert_eq!(theirs.version(), cid::Version::V1);
            assert_eq!(theirs.codec(), ours.codec(), "{ours}");
            assert_eq!(theirs.hash().code(), ours.hash_code(), "{ours}");
            assert_eq!(theirs.hash().digest(), ours.digest(), "{ours}");
            assert_eq!(Cid::try_from(theirs), Ok(ours));
            seen += 1;
        }
    }
    // midsize.car alone holds 14,673 blocks.
    assert!(seen > 15_000, "only {seen} corpus CIDs converted");
    println!("cid_compat: {seen} corpus CIDs converted both ways");
}

#[test]
fn equality_agrees_with_the_crate() {
    let a = Cid::for_dag_cbor(b"\xa0");
    let b = Cid::for_raw(b"hello");
    let (ta, tb) = (cid::Cid::from(a), cid::Cid::from(b));
    assert_eq!(a == b, ta == tb);
    // `cid::Cid` has no `Debug` without the crate's `alloc` feature, hence `assert!`.
    assert!(cid::Cid::from(a) == ta);
    assert_eq!(Cid::try_from(tb), Ok(b));
}
