#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Validating real records against the official lexicons: the records of `midsize.car`
//! (11,585 records of one real account) by kind. Throughput is in records per second.
//!
//! - `post_rich`: posts with facets or an embed (links, mentions, images, quotes, …);
//! - `post_plain`: the other posts (text, langs, createdAt, maybe a reply);
//! - `like`, `follow`, `repost`: the small, most common records;
//! - `mixed`: all of the above in repository order, as a firehose consumer sees them;
//! - `mixed_value_ref`: the same records as zero-copy `ValueRef`s borrowing the CAR's blocks
//!   (what `Record::decode` gives), which is much kinder to the cache than owned `Value`s.
//!
//! Records are decoded before timing; the time is validation alone (first-error mode, which
//! is also the full walk for valid data).

use atdata_core::repo::Repo;
use atdata_core::{Value, ValueRef};
use atdata_lexicon::{Catalog, Target};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const MIDSIZE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/repo-stream/car-samples/midsize.car"
);
const LEXICONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");

fn kind_of(collection: &str, value: &Value) -> Option<&'static str> {
    Some(match collection {
        "app.bsky.feed.post" if value.get("facets").is_some() || value.get("embed").is_some() => {
            "post_rich"
        }
        "app.bsky.feed.post" => "post_plain",
        "app.bsky.feed.like" => "like",
        "app.bsky.graph.follow" => "follow",
        "app.bsky.feed.repost" => "repost",
        _ => return None,
    })
}

fn validate(c: &mut Criterion) {
    let bytes = std::fs::read(MIDSIZE).expect("midsize.car is vendored under testdata/");
    let catalog = Catalog::load_dir(LEXICONS).expect("official lexicons");
    let repo = Repo::from_car(&bytes).expect("valid repo");
    let mut records: Vec<(&'static str, String, Value)> = Vec::new();
    let mut borrowed: Vec<(&str, ValueRef<'_>)> = Vec::new();
    for record in repo.records() {
        let record = record.expect("record");
        let value = record.value().expect("decodes");
        let Some(kind) = kind_of(record.collection(), &value) else {
            continue;
        };
        // The two pre-2023 records today's lexicons refuse would time error paths.
        if catalog.validate_record(record.collection(), &value).is_ok() {
            records.push((kind, record.collection().to_owned(), value));
            borrowed.push((record.collection(), record.decode().expect("decodes")));
        }
    }

    let mut group = c.benchmark_group("validate_record");
    group.sample_size(30);
    for kind in [
        "post_rich",
        "post_plain",
        "like",
        "follow",
        "repost",
        "mixed",
    ] {
        let set: Vec<(&str, &Value)> = records
            .iter()
            .filter(|(k, _, _)| kind == "mixed" || *k == kind)
            .map(|(_, nsid, v)| (nsid.as_str(), v))
            .collect();
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_with_input(BenchmarkId::new(kind, set.len()), &set, |b, set| {
            b.iter(|| {
                for (nsid, value) in set {
                    let ok = catalog.validate(Target::Record(nsid), black_box(value));
                    debug_assert!(ok.is_ok());
                    black_box(ok).ok();
                }
            })
        });
    }
    group.throughput(Throughput::Elements(borrowed.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("mixed_value_ref", borrowed.len()),
        &borrowed,
        |b, set| {
            b.iter(|| {
                for (nsid, value) in set {
                    let ok = catalog.validate(Target::Record(nsid), black_box(value));
                    debug_assert!(ok.is_ok());
                    black_box(ok).ok();
                }
            })
        },
    );
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
