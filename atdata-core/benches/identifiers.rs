//! Parsing throughput of each identifier type on a realistic value.
//!
//! Run with `cargo bench -p atdata-core --bench identifiers`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::str::FromStr;

use atdata_core::syntax::{
    check_cid_syntax, check_uri_syntax, AtIdentifier, AtUri, Datetime, Did, Handle, Language, Nsid,
    RecordKey, SyntaxError, Tid,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_parse<T: FromStr<Err = SyntaxError>>(c: &mut Criterion, name: &str, input: &str) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function(name, |b| b.iter(|| T::from_str(black_box(input)).is_ok()));
    group.finish();
}

fn bench_check(
    c: &mut Criterion,
    name: &str,
    input: &str,
    check: fn(&str) -> Result<(), SyntaxError>,
) {
    let mut group = c.benchmark_group("check");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function(name, |b| b.iter(|| check(black_box(input)).is_ok()));
    group.finish();
}

fn identifiers(c: &mut Criterion) {
    bench_parse::<Did>(c, "did", "did:plc:ewvi7nxzyoun6zhxrhs64oiz");
    bench_parse::<Handle>(c, "handle", "atproto.bsky.social");
    bench_parse::<Nsid>(c, "nsid", "app.bsky.feed.post");
    bench_parse::<AtIdentifier>(c, "at_identifier", "did:plc:ewvi7nxzyoun6zhxrhs64oiz");
    bench_parse::<AtUri>(
        c,
        "at_uri",
        "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vuowo2b",
    );
    bench_parse::<RecordKey>(c, "record_key", "3l3qo2vuowo2b");
    bench_parse::<Tid>(c, "tid", "3l3qo2vuowo2b");
    bench_parse::<Datetime>(c, "datetime", "2024-09-12T13:21:34.567Z");
    bench_parse::<Language>(c, "language", "pt-BR");
    bench_check(
        c,
        "cid",
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        check_cid_syntax,
    );
    bench_check(
        c,
        "uri",
        "https://bsky.app/profile/atproto.com",
        check_uri_syntax,
    );
}

fn tid_now(c: &mut Criterion) {
    c.bench_function("tid_now", |b| b.iter(Tid::now));
}

fn at_uri_accessors(c: &mut Criterion) {
    let uri = AtUri::new("at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2vuowo2b");
    if let Ok(uri) = uri {
        c.bench_function("at_uri_clone_collection", |b| {
            b.iter(|| black_box(&uri).collection().cloned())
        });
    }
}

criterion_group!(benches, identifiers, tid_now, at_uri_accessors);
criterion_main!(benches);
