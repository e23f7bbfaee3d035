#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The full CAR path on a real repository export (`midsize.car`, 5.2 MB, 14,673 blocks):
//! read, check every block's SHA-256, decode every block into the data model.
//! `bench/compare` runs the same workload through the peer libraries.

use atdata_core::car::{CarReader, ReadOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const MIDSIZE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/repo-stream/car-samples/midsize.car"
);

fn car(c: &mut Criterion) {
    let buf = std::fs::read(MIDSIZE).expect("midsize.car");
    let mut group = c.benchmark_group("car/midsize");
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.sample_size(30);

    group.bench_function("read+verify+decode (tape)", |b| {
        let mut tape = atdata_core::cbor::Tape::new();
        b.iter(|| {
            let reader = CarReader::new(&buf).expect("header");
            for block in reader.blocks() {
                let block = block.expect("block");
                std::hint::black_box(block.decode_into(&mut tape).expect("decode"));
            }
        })
    });
    group.bench_function("read+verify+decode (all cores)", |b| {
        b.iter(|| {
            let reader = CarReader::new(&buf).expect("header");
            std::hint::black_box(reader.verify_all(0).expect("valid"))
        })
    });
    group.bench_function("read+verify+decode (tree)", |b| {
        b.iter(|| {
            let reader = CarReader::new(&buf).expect("header");
            for block in reader.blocks() {
                let block = block.expect("block");
                std::hint::black_box(block.decode().expect("decode"));
            }
        })
    });
    group.bench_function("read+verify", |b| {
        b.iter(|| {
            let reader = CarReader::new(&buf).expect("header");
            for block in reader.blocks() {
                std::hint::black_box(block.expect("block"));
            }
        })
    });
    group.bench_function("read+decode (no hash check)", |b| {
        b.iter(|| {
            let reader = CarReader::with_options(&buf, ReadOptions::unverified()).expect("header");
            for block in reader.blocks() {
                std::hint::black_box(block.expect("block").decode().expect("decode"));
            }
        })
    });
    group.bench_function("read only", |b| {
        b.iter(|| {
            let reader = CarReader::with_options(&buf, ReadOptions::unverified()).expect("header");
            for block in reader.blocks() {
                std::hint::black_box(block.expect("block"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, car);
criterion_main!(benches);
