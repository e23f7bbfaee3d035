//! Every record of every repository CAR under `testdata/corpus`, decoded into its generated type
//! by collection and encoded again, must give the same bytes (so the same CID); its JSON form
//! must survive the same trip.
//!
//! Prints a count per collection (`cargo test -p atdata-client --test corpus_round_trip --
//! --nocapture`); collections without a generated type are counted separately.

#![cfg(all(feature = "com-atproto", feature = "app-bsky", feature = "chat-bsky"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use atdata_api::{app, chat, com};
use atdata_core::repo::Repo;
use atdata_core::{cbor, Cid, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Decodes `bytes` as `T` and encodes it again: DAG-CBOR must be identical, and so must the
/// JSON form read back through `T`.
fn round_trip<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<(), String> {
    let record: T = cbor::from_slice(bytes).map_err(|e| format!("decode: {e}"))?;
    let again = cbor::to_vec(&record).map_err(|e| format!("encode: {e}"))?;
    if again != bytes {
        return Err(format!(
            "re-encoded bytes differ: CID {} became {}",
            Cid::for_dag_cbor(bytes),
            Cid::for_dag_cbor(&again)
        ));
    }
    let value = Value::from_dag_cbor(bytes).map_err(|e| format!("value: {e}"))?;
    let json = serde_json::to_string(&value).map_err(|e| format!("to json: {e}"))?;
    let from_json: T = serde_json::from_str(&json).map_err(|e| format!("from json: {e}"))?;
    let json_again = serde_json::to_string(&from_json).map_err(|e| format!("json: {e}"))?;
    let value_again = Value::from_json_str(&json_again).map_err(|e| format!("json: {e}"))?;
    if value_again != value {
        return Err(format!(
            "JSON round trip changed the record: {json} became {json_again}"
        ));
    }
    Ok(())
}

/// Records that do not fit today's lexicons, by `file name` and record path, with the reason;
/// they must fail to decode (with this path in the error), never decode into something else.
const INVALID: &[(&str, &str, &str)] = &[
    // 2023 follows from before the v3 schema: `subject` was `{did, declarationCid}`.
    (
        "divy.repo",
        "app.bsky.graph.follow/3jqexvs6v3c2i",
        "subject: invalid type: map",
    ),
    (
        "divy.repo",
        "app.bsky.graph.follow/3jqexw5myvk2r",
        "subject: invalid type: map",
    ),
    (
        "divy.repo",
        "app.bsky.graph.follow/3jqexwq4xbs2l",
        "subject: invalid type: map",
    ),
    (
        "divy.repo",
        "app.bsky.graph.follow/3jqexxbf66k2r",
        "subject: invalid type: map",
    ),
    (
        "divy.repo",
        "app.bsky.graph.follow/3jqexxcvyok2y",
        "subject: invalid type: map",
    ),
];

/// A round trip of one record's bytes.
type Check = fn(&[u8]) -> Result<(), String>;

/// The round trip for a collection, or `None` when no generated record type has that NSID.
fn checker(collection: &str) -> Option<Check> {
    macro_rules! table {
        ($($ty:ty),* $(,)?) => {{
            $(
                if collection == <$ty as atdata_core::runtime::Record>::NSID {
                    return Some(round_trip::<$ty>);
                }
            )*
            None
        }};
    }
    table!(
        app::bsky::actor::ContentVisibilityDeclaration,
        app::bsky::actor::Profile,
        app::bsky::actor::Status,
        app::bsky::feed::Generator,
        app::bsky::feed::Like,
        app::bsky::feed::Post,
        app::bsky::feed::Postgate,
        app::bsky::feed::Repost,
        app::bsky::feed::Threadgate,
        app::bsky::graph::Block,
        app::bsky::graph::Follow,
        app::bsky::graph::List,
        app::bsky::graph::Listblock,
        app::bsky::graph::Listitem,
        app::bsky::graph::Starterpack,
        app::bsky::graph::Verification,
        app::bsky::labeler::Service,
        app::bsky::notification::Declaration,
        chat::bsky::actor::Declaration,
        com::atproto::lexicon::Schema,
    )
}

fn cars(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            cars(&path, out);
        } else if path.extension().is_some_and(|e| e == "car" || e == "repo") {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Count {
    ok: usize,
    invalid: usize,
    failed: usize,
}

#[test]
fn every_corpus_record_round_trips() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus");
    let mut files = Vec::new();
    cars(&corpus, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no CAR files under {}", corpus.display());

    let mut typed: BTreeMap<String, Count> = BTreeMap::new();
    let mut untyped: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut invalid = Vec::new();
    let mut repos = 0;
    let mut not_repos = 0;
    for file in &files {
        let bytes = std::fs::read(file).expect("read CAR");
        // MST-only CARs (the exhaustive suite) and proof slices are not whole repositories.
        let Ok(repo) = Repo::from_car(&bytes) else {
            not_repos += 1;
            continue;
        };
        repos += 1;
        for record in repo.records() {
            let record = record.expect("record block");
            let collection = record.collection();
            match checker(collection) {
                Some(check) => {
                    let count = typed.entry(collection.to_owned()).or_default();
                    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let known = INVALID
                        .iter()
                        .find(|(f, path, _)| *f == name && *path == record.path);
                    match (check(record.bytes), known) {
                        (Ok(()), None) => count.ok += 1,
                        (Err(e), Some((_, _, reason))) if e.contains(reason) => {
                            count.invalid += 1;
                            invalid.push(format!("{name} {}: {e}", record.path));
                        }
                        (Err(e), _) => {
                            count.failed += 1;
                            failures.push(format!("{} {}: {e}", file.display(), record.path));
                        }
                        (Ok(()), Some(_)) => {
                            count.failed += 1;
                            failures.push(format!(
                                "{name} {}: decoded, but is pinned as invalid",
                                record.path
                            ));
                        }
                    }
                }
                None => *untyped.entry(collection.to_owned()).or_default() += 1,
            }
        }
    }

    println!("{repos} repositories ({not_repos} other CARs skipped)");
    println!(
        "{:<45} {:>7} {:>7} {:>7}",
        "collection", "same", "invalid", "failed"
    );
    for (collection, count) in &typed {
        println!(
            "{collection:<45} {:>7} {:>7} {:>7}",
            count.ok, count.invalid, count.failed
        );
    }
    let total: usize = typed.values().map(|c| c.ok).sum();
    println!("{:<45} {total:>7}", "total round-tripped");
    println!("without a generated type:");
    for (collection, n) in &untyped {
        println!("  {collection:<43} {n:>7}");
    }
    for line in &invalid {
        println!("invalid (pinned) {line}");
    }
    for failure in failures.iter().take(20) {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} records did not round-trip",
        failures.len()
    );
    assert_eq!(
        invalid.len(),
        INVALID.len(),
        "every pinned invalid record is still there"
    );
    assert!(total > 10_000, "expected the corpus' records, got {total}");
}
