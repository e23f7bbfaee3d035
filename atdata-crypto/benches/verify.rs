#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Signature verification and signing on both curves, and did:key parsing. The message is
//! commit-sized (about what a repository commit's unsigned bytes weigh), so hashing is a
//! negligible part of each figure.

use atdata_crypto::{Curve, Keypair, PublicKey};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const MESSAGE: &[u8] = &[0x5a; 160];

fn keypair(curve: Curve) -> Keypair {
    Keypair::from_bytes(curve, &[0x42; 32]).expect("valid scalar")
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    for curve in Curve::ALL {
        let keypair = keypair(curve);
        let key = keypair.public_key();
        let signature = keypair.sign(MESSAGE);
        group.bench_function(curve.name(), |b| {
            b.iter(|| key.verify(black_box(MESSAGE), black_box(&signature)))
        });
    }
    group.finish();
}

fn sign(c: &mut Criterion) {
    let mut group = c.benchmark_group("sign");
    for curve in Curve::ALL {
        let keypair = keypair(curve);
        group.bench_function(curve.name(), |b| {
            b.iter(|| keypair.sign(black_box(MESSAGE)))
        });
    }
    group.finish();
}

fn did_key(c: &mut Criterion) {
    let mut group = c.benchmark_group("did_key_parse");
    for curve in Curve::ALL {
        let did_key = keypair(curve).did_key();
        group.bench_function(curve.name(), |b| {
            b.iter(|| PublicKey::from_did_key(black_box(&did_key)))
        });
    }
    group.finish();
}

criterion_group!(benches, verify, sign, did_key);
criterion_main!(benches);
