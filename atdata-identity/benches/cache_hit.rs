//! What a cached lookup costs: `lookup_did`, `lookup_document`, `signing_key` and
//! `resolve_handle` answered from the in-memory cache (target: under 200 ns).
//!
//! The cache is filled through the public `Cache` trait with a real DID document from the
//! corpus, so the measured path is the resolver's own: key, cache get, freshness check, clone
//! of the `Arc`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::future::Future as _;
use std::sync::Arc;
use std::time::Instant;

use atdata_core::syntax::{Did, Handle};
use atdata_identity::{
    Cache, CacheConfig, CacheEntry, CacheKey, Cached, Identity, MemoryCache, Resolver,
};
use criterion::{criterion_group, criterion_main, Criterion};

const DOCUMENT: &str =
    include_str!("../../testdata/corpus/indigo/testing/testdata/greenground.didDoc.json");

fn filled() -> (Resolver, Did, Handle) {
    let identity = Arc::new(Identity::from_json(DOCUMENT, true).unwrap());
    let did = identity.did().clone();
    let handle = identity.handle().clone();
    let cache = MemoryCache::new(250_000);
    let now = Instant::now();
    let far = now + std::time::Duration::from_secs(3_600);
    let entry = |value| CacheEntry {
        value,
        fetched: now,
        stale_at: far,
        expires_at: far,
    };
    // Other entries around it, as in a warm cache.
    for i in 0..50_000u32 {
        let other = Did::new(&format!("did:plc:{i:0>24}")).unwrap();
        cache.insert(
            CacheKey::Document(other),
            entry(Cached::Identity(Arc::clone(&identity))),
        );
    }
    cache.insert(
        CacheKey::Identity(did.clone()),
        entry(Cached::Identity(Arc::clone(&identity))),
    );
    cache.insert(
        CacheKey::Document(did.clone()),
        entry(Cached::Identity(Arc::clone(&identity))),
    );
    cache.insert(
        CacheKey::Handle(handle.clone()),
        entry(Cached::Did(did.clone())),
    );
    let resolver = Resolver::builder()
        .cache(Arc::new(cache))
        .cache_config(CacheConfig::default())
        .build()
        .unwrap();
    (resolver, did, handle)
}

fn cache_hit(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (resolver, did, handle) = runtime.block_on(async { filled() });
    let mut group = c.benchmark_group("cache_hit");
    group.bench_function("lookup_did", |b| {
        b.iter(|| runtime.block_on(resolver.lookup_did(&did)).unwrap())
    });
    group.bench_function("lookup_document", |b| {
        b.iter(|| runtime.block_on(resolver.lookup_document(&did)).unwrap())
    });
    group.bench_function("signing_key", |b| {
        b.iter(|| runtime.block_on(resolver.signing_key(&did)).unwrap())
    });
    group.bench_function("resolve_handle", |b| {
        b.iter(|| runtime.block_on(resolver.resolve_handle(&handle)).unwrap())
    });
    // The same without the runtime's block_on around each call: a poll of the future.
    group.bench_function("lookup_did_polled", |b| {
        let waker = futures_util::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        b.iter(|| {
            let mut future = std::pin::pin!(resolver.lookup_did(&did));
            match future.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(identity) => identity.unwrap(),
                std::task::Poll::Pending => panic!("a cache hit does not wait"),
            }
        })
    });
    group.finish();
    println!("stats after the runs: {:?}", resolver.stats());
}

criterion_group!(benches, cache_hit);
criterion_main!(benches);
