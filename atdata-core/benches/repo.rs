#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Whole-repository work on a real export (`midsize.car`: 14,673 blocks, 11,585 records):
//! loading it as a [`Repo`] and walking every record, and the full `verify_car` check (every
//! block hash, the commit, the MST's structure, every record). The signature check is the one
//! part left out, as the corpus has no key for this repository; it is a single verify (about
//! 60-80 µs, see atdata-crypto's `verify` bench) against the milliseconds measured here.

use atdata_core::repo::{verify_car, Repo};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const MIDSIZE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/repo-stream/car-samples/midsize.car"
);

fn repo(c: &mut Criterion) {
    let bytes = std::fs::read(MIDSIZE).expect("midsize.car is vendored under testdata/");
    let mut group = c.benchmark_group("repo_midsize");
    group.sample_size(30);
    group.throughput(Throughput::Bytes(bytes.len() as u64));

    group.bench_function("verify_car", |b| {
        b.iter(|| {
            let report = verify_car(black_box(&bytes)).expect("readable");
            assert!(report.is_valid());
            report.records
        })
    });

    group.bench_function("load_and_walk", |b| {
        b.iter(|| {
            let repo = Repo::from_car(black_box(&bytes)).expect("valid repo");
            let mut n = 0usize;
            for record in repo.records() {
                let record = record.expect("record present");
                black_box(record.decode().expect("record decodes"));
                n += 1;
            }
            assert_eq!(n, 11_585);
            n
        })
    });
    group.finish();
}

criterion_group!(benches, repo);
criterion_main!(benches);
