#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The Merkle Search Tree: building a 100k-key tree (sorted bulk build and one insert at a time),
//! its root CID (cold, and after one edit), loading the MST of a real repository export
//! (`midsize.car`, 11,585 records) with every check, and diffing two 100k-key trees that differ
//! in 100 keys.

use atdata_core::car::CarReader;
use atdata_core::mst::Mst;
use atdata_core::{cbor, Cid};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const MIDSIZE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/repo-stream/car-samples/midsize.car"
);

const N: usize = 100_000;

/// A TID-like record key (13 base32-sortable characters) for `i`.
fn tid(i: u64) -> String {
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    let mut n = 0x1_7000_0000_0000u64 + i * 1_048_583;
    let mut out = [0u8; 13];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// `n` realistic keys over four collections, sorted, each with a distinct value.
fn entries(n: usize) -> Vec<(String, Cid)> {
    const COLLECTIONS: [&str; 4] = [
        "app.bsky.feed.like",
        "app.bsky.feed.post",
        "app.bsky.feed.repost",
        "app.bsky.graph.follow",
    ];
    let mut out: Vec<(String, Cid)> = (0..n as u64)
        .map(|i| {
            let key = format!("{}/{}", COLLECTIONS[(i % 4) as usize], tid(i));
            (key, Cid::for_dag_cbor(&i.to_be_bytes()))
        })
        .collect();
    out.sort();
    out
}

/// A fixed pseudo-random permutation (xorshift), so runs are comparable.
fn shuffled<T: Clone>(items: &[T]) -> Vec<T> {
    let mut out = items.to_vec();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..out.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.swap(i, (state % (i as u64 + 1)) as usize);
    }
    out
}

fn build(c: &mut Criterion) {
    let sorted = entries(N);
    let random = shuffled(&sorted);
    let mut group = c.benchmark_group("mst/100k");
    group.sample_size(10);
    group.bench_function("from_sorted", |b| {
        b.iter_batched(
            || sorted.clone(),
            |e| Mst::from_sorted(e).expect("sorted"),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("from_sorted+root_cid", |b| {
        b.iter_batched(
            || sorted.clone(),
            |e| Mst::from_sorted(e).expect("sorted").root_cid(),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("insert (random order)", |b| {
        b.iter_batched(
            || random.clone(),
            |e| {
                let mut tree = Mst::new();
                for (k, v) in e {
                    tree.insert(k, v).expect("valid key");
                }
                tree
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("root_cid (cold)", |b| {
        b.iter_batched(
            || Mst::from_sorted(sorted.clone()).expect("sorted"),
            |tree| tree.root_cid(),
            BatchSize::LargeInput,
        )
    });
    let base = Mst::from_sorted(sorted.clone()).expect("sorted");
    base.root_cid();
    let extra = Cid::for_dag_cbor(b"extra");
    group.bench_function("insert 1 + root_cid (cached)", |b| {
        b.iter_batched(
            || base.clone(),
            |mut tree| {
                tree.insert("app.bsky.feed.post/3zzzzzzzzzzzz".into(), extra)
                    .expect("valid key");
                tree.root_cid()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn load(c: &mut Criterion) {
    let bytes = std::fs::read(MIDSIZE).expect("midsize.car");
    let reader = CarReader::new(&bytes).expect("CAR");
    let blocks: atdata_core::CidMap<&[u8]> = reader.index().expect("blocks");
    let commit = cbor::decode_ref(blocks[&reader.roots()[0]]).expect("commit");
    let data = commit.get("data").and_then(|d| d.as_link()).expect("data");
    let mut group = c.benchmark_group("mst/midsize");
    group.sample_size(20);
    group.bench_function("load (11,585 records, checked)", |b| {
        b.iter(|| Mst::load(&blocks, &data).expect("valid MST"))
    });
    group.finish();
}

fn diff(c: &mut Criterion) {
    let sorted = entries(N);
    let a = Mst::from_sorted(sorted.clone()).expect("sorted");
    let mut b = a.clone();
    // 100 changes spread over the key space: 34 deletions, 33 updates, 33 creations.
    for (i, (k, _)) in sorted.iter().step_by(N / 100).enumerate() {
        match i % 3 {
            0 => {
                b.remove(k);
            }
            1 => {
                b.insert(k.clone(), Cid::for_dag_cbor(b"updated"))
                    .expect("valid key");
            }
            _ => {
                b.insert(format!("{k}x"), Cid::for_dag_cbor(b"new"))
                    .expect("valid key");
            }
        }
    }
    a.root_cid();
    b.root_cid();
    assert_eq!(a.diff(&b).record_ops.len(), 100);
    let mut group = c.benchmark_group("mst/100k");
    group.bench_function("diff (100 keys differ)", |bench| bench.iter(|| a.diff(&b)));
    group.finish();
}

criterion_group!(benches, build, load, diff);
criterion_main!(benches);
