#![allow(missing_docs)] // criterion_group! generates undocumented items
//! DAG-CBOR decode and encode of typical records taken from a real repository (`little.car`):
//! a post, a like, a profile and an MST node.

use atdata_core::car::CarReader;
use atdata_core::{cbor, Value};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const LITTLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/repo-stream/car-samples/little.car"
);

/// A like as a user would declare it, to bench the serde path.
#[derive(serde::Serialize, serde::Deserialize)]
struct Like<'a> {
    #[serde(rename = "$type")]
    kind: &'a str,
    subject: StrongRef<'a>,
    #[serde(rename = "createdAt")]
    created_at: &'a str,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StrongRef<'a> {
    uri: &'a str,
    cid: &'a str,
}

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let buf = std::fs::read(LITTLE).expect("little.car");
    let reader = CarReader::new(&buf).expect("header");
    let mut wanted: Vec<(&'static str, Option<Vec<u8>>)> = vec![
        ("post", None),
        ("like", None),
        ("profile", None),
        ("mst-node", None),
    ];
    for block in reader.blocks() {
        let block = block.expect("block");
        let v = cbor::decode_ref(block.data).expect("decode");
        let name = match v.type_name() {
            Some("app.bsky.feed.post") => "post",
            Some("app.bsky.feed.like") => "like",
            Some("app.bsky.actor.profile") => "profile",
            None if v.get("e").is_some() && v.get("l").is_some() => "mst-node",
            _ => continue,
        };
        for (n, slot) in wanted.iter_mut() {
            // Keep the largest MST node and the first of each record type.
            let better = match slot {
                None => true,
                Some(prev) => *n == "mst-node" && block.data.len() > prev.len(),
            };
            if *n == name && better {
                *slot = Some(block.data.to_vec());
            }
        }
    }
    wanted
        .into_iter()
        .map(|(n, b)| (n, b.unwrap_or_else(|| panic!("no {n} in little.car"))))
        .collect()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("cbor/decode");
    for (name, bytes) in samples() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/tape"), |b| {
            let mut tape = atdata_core::cbor::Tape::new();
            b.iter(|| {
                let root = tape.decode(&bytes).expect("decode").is_null();
                std::hint::black_box(root)
            })
        });
        group.bench_function(format!("{name}/borrowed"), |b| {
            b.iter(|| std::hint::black_box(cbor::decode_ref(&bytes).expect("decode")))
        });
        group.bench_function(format!("{name}/owned"), |b| {
            b.iter(|| std::hint::black_box(cbor::decode_value(&bytes).expect("decode")))
        });
        if name == "like" {
            group.bench_function("like/serde-struct", |b| {
                b.iter(|| std::hint::black_box(cbor::from_slice::<Like<'_>>(&bytes).expect("de")))
            });
        }
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("cbor/encode");
    for (name, bytes) in samples() {
        let value: Value = cbor::decode_value(&bytes).expect("decode");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/value"), |b| {
            b.iter(|| std::hint::black_box(value.to_dag_cbor()))
        });
        group.bench_function(format!("{name}/serde"), |b| {
            b.iter(|| std::hint::black_box(cbor::to_vec(&value).expect("encode")))
        });
        if name == "like" {
            let like: Like<'_> = cbor::from_slice(&bytes).expect("like struct");
            group.bench_function("like/serde-struct", |b| {
                b.iter(|| std::hint::black_box(cbor::to_vec(&like).expect("encode")))
            });
        }
        group.bench_function(format!("{name}/cid"), |b| {
            b.iter(|| std::hint::black_box(cbor::cid_for(&value).expect("cid")))
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
