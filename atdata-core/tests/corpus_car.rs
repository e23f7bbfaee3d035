//! Every CAR in `testdata/corpus/` (real repositories vendored from public projects; see the
//! README there) must parse, hash-check, strictly decode and re-encode to the same bytes, through
//! each reader.

use std::path::{Path, PathBuf};

use atdata_core::car::{CarError, CarReader, CarStreamReader, ReadOptions};
use atdata_core::{cbor, cid, Cid};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus");

fn cars() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("corpus dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "car")
                || path.file_name().is_some_and(|n| n == "divy.repo")
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(CORPUS), &mut out);
    out
}

/// Block counts stated by the corpus README (duplicates included).
const KNOWN_COUNTS: &[(&str, usize)] = &[
    ("midsize.car", 14_673),
    ("little.car", 375),
    ("tiny.car", 12),
    ("fakermaker.repo.car", 690),
    ("paul_staging.repo.car", 458),
    ("bnewbold.robocracy.org.20250310005405.car", 56),
    (
        "bafyreieovfuizojpw3zresz7sx3nk4trm2by23pt5rxbey3jme4uo5ogiu.car",
        10,
    ),
    ("valid_repo.car", 12),
    ("snarfed2.car", 8),
];

#[test]
fn every_corpus_car_reads_verifies_and_round_trips() {
    let cars = cars();
    assert!(cars.len() >= 140, "corpus has {} CARs", cars.len());
    let mut total_blocks = 0;
    for path in &cars {
        let bytes = std::fs::read(path).expect("read CAR");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let reader = CarReader::new(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!reader.roots().is_empty(), "{name}: no roots");
        let mut count = 0;
        for block in reader.blocks() {
            let block = block.unwrap_or_else(|e| panic!("{name}: {e}"));
            count += 1;
            if block.cid.codec() == cid::DAG_CBOR {
                let value = cbor::decode_ref(block.data)
                    .unwrap_or_else(|e| panic!("{name} {}: {e}", block.cid));
                // Canonical: re-encoding gives the identical bytes, hence the identical CID.
                assert_eq!(value.to_dag_cbor(), block.data, "{name} {}", block.cid);
                assert_eq!(value.to_value().to_dag_cbor(), block.data);
                assert_eq!(Cid::for_dag_cbor(&value.to_dag_cbor()), block.cid);
            }
        }
        if let Some((_, n)) = KNOWN_COUNTS.iter().find(|(f, _)| *f == name) {
            assert_eq!(count, *n, "{name} block count");
        }
        // The streaming reader sees exactly the same blocks.
        let stream = CarStreamReader::new(&bytes[..]).expect("stream header");
        let streamed: Vec<(Cid, Vec<u8>)> = stream.map(|b| b.expect("stream block")).collect();
        assert_eq!(streamed.len(), count, "{name}: stream count");
        for ((cid, data), block) in streamed.iter().zip(reader.blocks()) {
            let block = block.expect("block");
            assert_eq!((cid, data.as_slice()), (&block.cid, block.data));
        }
        total_blocks += count;
    }
    println!(
        "corpus: {} CARs, {total_blocks} blocks verified",
        cars.len()
    );
}

fn midsize() -> Vec<u8> {
    std::fs::read(format!("{CORPUS}/repo-stream/car-samples/midsize.car")).expect("midsize")
}

#[test]
fn a_flipped_byte_in_any_block_is_caught() {
    let bytes = std::fs::read(format!("{CORPUS}/repo-stream/car-samples/little.car")).expect("car");
    let reader = CarReader::new(&bytes).expect("header");
    let mut blocks = reader.blocks();
    let mut positions = Vec::new();
    while blocks.offset() < bytes.len() {
        let start = blocks.offset();
        let block = blocks.next().expect("block").expect("valid");
        // Flip the last byte of the block's data (the CID is in front of it).
        let data_end = start + (blocks.offset() - start);
        positions.push((data_end - 1, block.cid));
    }
    for (pos, cid) in positions {
        let mut bad = bytes.clone();
        bad[pos] ^= 0x01;
        let err = CarReader::new(&bad)
            .expect("header intact")
            .blocks()
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("flip at {pos} in block {cid} not detected"));
        assert!(
            matches!(err, CarError::HashMismatch { cid: c, .. } if c == cid),
            "{err}"
        );
    }
}

#[test]
fn truncation_anywhere_is_an_error_not_a_panic() {
    let bytes = std::fs::read(format!("{CORPUS}/repo-stream/car-samples/tiny.car")).expect("car");
    for cut in 0..bytes.len() {
        let slice = &bytes[..cut];
        let result = CarReader::new(slice).and_then(|r| r.blocks().collect::<Result<Vec<_>, _>>());
        let streamed =
            CarStreamReader::new(slice).and_then(|r| r.collect::<Result<Vec<_>, CarError>>());
        // A cut exactly on a section boundary is a shorter valid CAR; anything else fails.
        if let Ok(blocks) = &result {
            assert!(blocks.len() < 12, "cut at {cut} still gave every block");
            assert_eq!(streamed.as_ref().map(Vec::len).ok(), Some(blocks.len()));
        } else {
            assert!(streamed.is_err(), "stream accepted a cut at {cut}");
        }
    }
}

#[test]
fn opting_out_of_hash_checks_is_explicit() {
    let mut bytes = midsize();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    assert!(CarReader::new(&bytes)
        .expect("header")
        .blocks()
        .any(|b| b.is_err()));
    let unverified = CarReader::with_options(&bytes, ReadOptions::unverified()).expect("header");
    assert_eq!(unverified.blocks().filter(|b| b.is_ok()).count(), 14_673);
}

#[test]
fn hostile_lengths_do_not_allocate() {
    // A header length of 2^62 and a section length of 2^62.
    let huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
    assert!(matches!(
        CarReader::new(&huge),
        Err(CarError::TooLarge { .. })
    ));
    assert!(matches!(
        CarStreamReader::new(&huge[..]),
        Err(CarError::TooLarge { .. })
    ));
    let bytes = std::fs::read(format!("{CORPUS}/repo-stream/car-samples/empty.car")).expect("car");
    let mut with_huge = bytes.clone();
    with_huge.extend_from_slice(&huge);
    let reader = CarReader::new(&with_huge).expect("header");
    let err = reader.blocks().find_map(Result::err).expect("error");
    assert!(matches!(err, CarError::TooLarge { .. }), "{err}");
}

#[test]
fn writer_round_trips() {
    let bytes = midsize();
    let reader = CarReader::new(&bytes).expect("header");
    let blocks: Vec<_> = reader.blocks().map(|b| b.expect("block")).collect();
    let written =
        atdata_core::car::write_car(reader.roots(), blocks.iter().map(|b| (b.cid, b.data)));
    assert_eq!(written, bytes, "re-written CAR is byte-identical");
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_reader_matches() {
    let bytes = midsize();
    let mut reader = atdata_core::car::AsyncCarReader::new(&bytes[..])
        .await
        .expect("header");
    let mut n = 0;
    while let Some((cid, data)) = reader.next_block().await.expect("block") {
        assert_eq!(cid.matches(&data), Some(true));
        n += 1;
    }
    assert_eq!(n, 14_673);
}

#[test]
fn verify_all_finds_the_earliest_bad_block_on_any_thread_count() {
    let bytes = midsize();
    for threads in [1, 2, 3, 8] {
        let reader = CarReader::new(&bytes).expect("header");
        assert_eq!(reader.verify_all(threads).expect("valid"), 14_673);
    }
    // Corrupt two blocks far apart; the error must name the first.
    let reader = CarReader::new(&bytes).expect("header");
    let mut it = reader.blocks();
    let mut ends = Vec::new();
    while it.offset() < bytes.len() {
        it.next().expect("block").expect("valid");
        ends.push(it.offset());
    }
    let mut bad = bytes.clone();
    bad[ends[9_000] - 1] ^= 1;
    bad[ends[100] - 1] ^= 1;
    for threads in [1, 2, 4] {
        let err = CarReader::new(&bad)
            .expect("header")
            .verify_all(threads)
            .expect_err("bad");
        assert!(
            matches!(err, CarError::HashMismatch { index: 100, .. }),
            "{threads} threads: {err}"
        );
    }
}
