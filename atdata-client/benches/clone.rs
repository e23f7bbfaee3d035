#![allow(missing_docs)] // criterion_group! generates undocumented items
//! What a clone of `Client` costs now that the namespaced tree holds strong handles: the
//! client is two `Arc`s (its state and the namespace tree), so a clone is two atomic
//! increments, and dropping it two decrements. Measured beside a bare `Arc` clone.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn clone(c: &mut Criterion) {
    let client = atdata_client::Client::new("http://127.0.0.1:1").expect("client");
    let blocking = atdata_client::blocking::Client::new("http://127.0.0.1:1").expect("blocking");
    let arc = Arc::new(0u64);
    let mut group = c.benchmark_group("clone");
    group.bench_function("Client", |b| b.iter(|| black_box(client.clone())));
    group.bench_function("blocking::Client", |b| {
        b.iter(|| black_box(blocking.clone()))
    });
    group.bench_function("namespace (client.com.atproto.repo)", |b| {
        b.iter(|| black_box(client.com.atproto.repo.clone()))
    });
    group.bench_function("Arc<u64> (reference)", |b| {
        b.iter(|| black_box(arc.clone()))
    });
    group.finish();
}

criterion_group!(benches, clone);
criterion_main!(benches);
