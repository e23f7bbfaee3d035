#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The hand-written encodings of `atdata_core::encoding` against the crates that could replace
//! them (`data-encoding`, `bs58`, `unsigned-varint`), on the paths where they are hot:
//!
//! - CID strings: base32 (multibase `b`) encode and decode of the first 10,000 block CIDs of
//!   `midsize.car`, a real repository export;
//! - did:key: base58btc decode and encode of the W3C/atproto did:key vectors (K-256 and P-256);
//! - varints: the version/codec/hash/length prefixes of the same 10,000 CIDs, and the block-length
//!   prefixes of the CAR (one to three bytes each);
//! - base64 (`$bytes` in JSON): the `base64` crate we already use against `data-encoding`, on the
//!   record blocks of the CAR.
//!
//! Each group measures three contenders in the same run: `hand-written` (the code
//! `encoding.rs` had before the switch, kept in `encodings/handwritten.rs`), the crate called
//! directly, and `encoding.rs` as it is now (the crate behind our strictness checks). Measuring
//! them together keeps their ratios meaningful on a loaded machine; the absolute times are not.
//! Run with `cargo bench -p atdata-core --bench encodings`.

use std::hint::black_box;
use std::sync::OnceLock;

use atdata_core::car::CarReader;
use atdata_core::encoding;

#[path = "encodings/handwritten.rs"]
mod handwritten;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const MIDSIZE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/repo-stream/car-samples/midsize.car"
);
const DID_KEY_FILES: [&str; 2] = [
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/interop/crypto/w3c_didkey_K256.json"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/interop/crypto/w3c_didkey_P256.json"
    ),
];
const CIDS: usize = 10_000;

/// Multibase `b`: RFC 4648 base32, lower case, no padding. data-encoding ships only the
/// upper-case alphabet as a constant, so the lower-case one is built once from a specification.
fn data_encoding_base32_lower() -> &'static data_encoding::Encoding {
    static ENCODING: OnceLock<data_encoding::Encoding> = OnceLock::new();
    ENCODING.get_or_init(|| {
        let mut spec = data_encoding::Specification::new();
        spec.symbols.push_str("abcdefghijklmnopqrstuvwxyz234567");
        spec.encoding().expect("valid base32 specification")
    })
}

struct Corpus {
    cid_bytes: Vec<Vec<u8>>,
    /// The base32 body of each CID string, without the `b` prefix.
    cid_base32: Vec<String>,
    /// Block-length varints as the CAR holds them.
    length_varints: Vec<Vec<u8>>,
    records: Vec<Vec<u8>>,
    did_key_bytes: Vec<Vec<u8>>,
    /// The base58btc body of each did:key, without `did:key:z`.
    did_key_base58: Vec<String>,
}

fn corpus() -> Corpus {
    let car = std::fs::read(MIDSIZE).expect("midsize.car");
    let reader = CarReader::new(&car).expect("CAR header");
    let mut cid_bytes = Vec::new();
    let mut length_varints = Vec::new();
    let mut records = Vec::new();
    for block in reader.blocks().take(CIDS) {
        let block = block.expect("block");
        cid_bytes.push(block.cid.as_bytes().to_vec());
        let mut varint = Vec::new();
        handwritten::write_varint(
            &mut varint,
            (block.cid.as_bytes().len() + block.data.len()) as u64,
        );
        length_varints.push(varint);
        if records.len() < 1_000 {
            records.push(block.data.to_vec());
        }
    }
    assert_eq!(
        cid_bytes.len(),
        CIDS,
        "midsize.car has fewer blocks than expected"
    );
    let cid_base32 = cid_bytes
        .iter()
        .map(|b| {
            let mut s = String::new();
            handwritten::base32_lower_encode_into(b, &mut s);
            s
        })
        .collect();

    let mut did_key_base58 = Vec::new();
    for path in DID_KEY_FILES {
        let text = std::fs::read_to_string(path).expect("did:key vectors");
        let cases: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        for case in cases.as_array().expect("array") {
            let did = case["publicDidKey"].as_str().expect("publicDidKey");
            let body = did.strip_prefix("did:key:z").expect("did:key:z prefix");
            did_key_base58.push(body.to_owned());
        }
    }
    let did_key_bytes = did_key_base58
        .iter()
        .map(|s| handwritten::base58_decode(s).expect("base58"))
        .collect();
    Corpus {
        cid_bytes,
        cid_base32,
        length_varints,
        records,
        did_key_bytes,
        did_key_base58,
    }
}

/// Reads the four varints of a binary CID (version, codec, hash code, digest length): what
/// `Cid::check_bytes` does off its fast path.
fn cid_prefix(mut buf: &[u8], read: impl Fn(&[u8]) -> Option<(u64, usize)>) -> u64 {
    let mut sum = 0;
    for _ in 0..4 {
        let (v, n) = read(buf).expect("varint");
        sum += v;
        buf = &buf[n..];
    }
    sum
}

fn varint_handwritten(buf: &[u8]) -> Option<(u64, usize)> {
    handwritten::read_varint(buf).ok()
}

fn varint_crate(buf: &[u8]) -> Option<(u64, usize)> {
    let (v, rest) = unsigned_varint::decode::u64(buf).ok()?;
    Some((v, buf.len() - rest.len()))
}

fn varint_ours(buf: &[u8]) -> Option<(u64, usize)> {
    encoding::read_varint(buf).ok()
}

/// One way of doing a group's work: a name and one pass over the whole input.
type Contender<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// A contender that applies `f` to every item of `items`.
fn over<'a, T>(name: &'static str, items: &'a [T], mut f: impl FnMut(&T) + 'a) -> Contender<'a> {
    (
        name,
        Box::new(move || {
            for item in items {
                f(black_box(item));
            }
        }),
    )
}

/// Rounds of the interleaved comparison.
const ROUNDS: usize = 201;

/// Times the contenders of one group in turn, round after round (rotating which goes first),
/// and prints each one's median pass time and its ratio to the first contender's. Criterion
/// measures one contender after another, so load that comes and goes on a shared machine lands
/// on one of them; interleaving at the scale of one pass spreads it over all of them alike.
fn interleaved(group: &str, contenders: &mut [Contender<'_>]) {
    let n = contenders.len();
    let mut times = vec![Vec::with_capacity(ROUNDS); n];
    for round in 0..ROUNDS {
        for k in 0..n {
            let i = (round + k) % n;
            let start = std::time::Instant::now();
            (contenders[i].1)();
            times[i].push(start.elapsed().as_nanos() as f64);
        }
    }
    let medians: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    for ((name, _), median) in contenders.iter().zip(&medians) {
        println!(
            "interleaved {group}/{name}: median {:.1} µs, {:.2}x of {}",
            median / 1e3,
            median / medians[0],
            contenders[0].0
        );
    }
}

/// Benchmarks a group with criterion, then runs the interleaved comparison on it.
fn run_group(
    c: &mut Criterion,
    name: &str,
    throughput: Throughput,
    mut contenders: Vec<Contender<'_>>,
) {
    let mut group = c.benchmark_group(name);
    group.throughput(throughput);
    for (id, f) in contenders.iter_mut() {
        group.bench_function(*id, |b| b.iter(&mut *f));
    }
    group.finish();
    interleaved(name, &mut contenders);
}

fn encodings(c: &mut Criterion) {
    let corpus = corpus();
    let b32 = data_encoding_base32_lower();

    // Every contender must agree on every input before their speed means anything.
    for (s, bytes) in corpus.cid_base32.iter().zip(&corpus.cid_bytes) {
        assert_eq!(b32.decode(s.as_bytes()).ok().as_ref(), Some(bytes));
        assert_eq!(b32.encode(bytes), *s);
        assert_eq!(handwritten::base32_decode(s, false).as_ref(), Some(bytes));
        assert_eq!(encoding::base32_decode(s, false).as_ref(), Some(bytes));
        let prefix = |read: fn(&[u8]) -> Option<(u64, usize)>| cid_prefix(bytes, read);
        assert_eq!(prefix(varint_crate), prefix(varint_handwritten));
        assert_eq!(prefix(varint_ours), prefix(varint_handwritten));
    }
    for (s, bytes) in corpus.did_key_base58.iter().zip(&corpus.did_key_bytes) {
        assert_eq!(bs58::decode(s).into_vec().ok().as_ref(), Some(bytes));
        assert_eq!(bs58::encode(bytes).into_string(), *s);
        assert_eq!(handwritten::base58_decode(s).as_ref(), Some(bytes));
        assert_eq!(handwritten::base58_encode(bytes), *s);
    }
    let cids = Throughput::Elements(CIDS as u64);

    let (mut s1, mut s2, mut s3) = (String::new(), String::new(), String::new());
    run_group(
        c,
        "cid_base32_encode",
        cids.clone(),
        vec![
            over("hand-written", &corpus.cid_bytes, move |cid| {
                s1.clear();
                handwritten::base32_lower_encode_into(cid, &mut s1);
                black_box(&s1);
            }),
            over("data-encoding", &corpus.cid_bytes, move |cid| {
                s2.clear();
                b32.encode_append(cid, &mut s2);
                black_box(&s2);
            }),
            over("encoding.rs", &corpus.cid_bytes, move |cid| {
                s3.clear();
                encoding::base32_lower_encode_into(cid, &mut s3);
                black_box(&s3);
            }),
        ],
    );

    run_group(
        c,
        "cid_base32_decode",
        cids.clone(),
        vec![
            over("hand-written", &corpus.cid_base32, |s| {
                black_box(handwritten::base32_decode(s, false));
            }),
            over("data-encoding", &corpus.cid_base32, |s| {
                black_box(b32.decode(s.as_bytes()).ok());
            }),
            over("encoding.rs", &corpus.cid_base32, |s| {
                black_box(encoding::base32_decode(s, false));
            }),
        ],
    );

    // The whole CID string parse and display, for scale: base32 is one part of each.
    let parsed: Vec<atdata_core::Cid> = corpus
        .cid_bytes
        .iter()
        .map(|b| atdata_core::Cid::from_bytes(b).expect("CID"))
        .collect();
    let strings: Vec<String> = parsed.iter().map(ToString::to_string).collect();
    run_group(
        c,
        "cid_string",
        cids.clone(),
        vec![
            over("parse", &strings, |s| {
                black_box(atdata_core::Cid::parse_str(s).ok());
            }),
            over("display", &parsed, |cid| {
                black_box(cid.to_string());
            }),
        ],
    );

    // did:key strings are short, so repeat the ten vectors to get a measurable batch.
    let keys_b58: Vec<&String> = std::iter::repeat_n(&corpus.did_key_base58, 100)
        .flatten()
        .collect();
    let keys: Vec<&Vec<u8>> = std::iter::repeat_n(&corpus.did_key_bytes, 100)
        .flatten()
        .collect();
    run_group(
        c,
        "did_key_base58_decode",
        Throughput::Elements(keys_b58.len() as u64),
        vec![
            over("hand-written", &keys_b58, |s| {
                black_box(handwritten::base58_decode(s));
            }),
            over("bs58", &keys_b58, |s| {
                black_box(bs58::decode(s).into_vec().ok());
            }),
            over("encoding.rs", &keys_b58, |s| {
                black_box(encoding::base58_decode(s));
            }),
        ],
    );
    run_group(
        c,
        "did_key_base58_encode",
        Throughput::Elements(keys.len() as u64),
        vec![
            over("hand-written", &keys, |k| {
                black_box(handwritten::base58_encode(k));
            }),
            over("bs58", &keys, |k| {
                black_box(bs58::encode(k).into_string());
            }),
            over("encoding.rs", &keys, |k| {
                black_box(encoding::base58_encode(k));
            }),
        ],
    );

    run_group(
        c,
        "varint_decode_cid_prefix",
        cids.clone(),
        vec![
            over("hand-written", &corpus.cid_bytes, |cid| {
                black_box(cid_prefix(cid, varint_handwritten));
            }),
            over("unsigned-varint", &corpus.cid_bytes, |cid| {
                black_box(cid_prefix(cid, varint_crate));
            }),
            over("encoding.rs", &corpus.cid_bytes, |cid| {
                black_box(cid_prefix(cid, varint_ours));
            }),
        ],
    );
    run_group(
        c,
        "varint_decode_car_lengths",
        cids.clone(),
        vec![
            over("hand-written", &corpus.length_varints, |v| {
                black_box(varint_handwritten(v));
            }),
            over("unsigned-varint", &corpus.length_varints, |v| {
                black_box(varint_crate(v));
            }),
            over("encoding.rs", &corpus.length_varints, |v| {
                black_box(varint_ours(v));
            }),
        ],
    );

    let lengths: Vec<u64> = corpus
        .length_varints
        .iter()
        .map(|v| encoding::read_varint(v).expect("varint").0)
        .collect();
    let (mut o1, mut o2, mut o3) = (Vec::new(), Vec::new(), Vec::new());
    run_group(
        c,
        "varint_encode_car_lengths",
        cids,
        vec![
            over("hand-written", &lengths, move |&n| {
                o1.clear();
                handwritten::write_varint(&mut o1, n);
                black_box(&o1);
            }),
            over("unsigned-varint", &lengths, move |&n| {
                o2.clear();
                let mut buf = unsigned_varint::encode::u64_buffer();
                o2.extend_from_slice(unsigned_varint::encode::u64(n, &mut buf));
                black_box(&o2);
            }),
            over("encoding.rs", &lengths, move |&n| {
                o3.clear();
                encoding::write_varint(&mut o3, n);
                black_box(&o3);
            }),
        ],
    );

    // base64 was never hand-written (it is the `base64` crate): data-encoding is measured only
    // to see whether moving `$bytes` to the crate that now does base32 would gain anything.
    let record_bytes = Throughput::Bytes(corpus.records.iter().map(Vec::len).sum::<usize>() as u64);
    let record_base64: Vec<String> = corpus
        .records
        .iter()
        .map(|r| encoding::base64_encode(r))
        .collect();
    run_group(
        c,
        "base64_encode_records",
        record_bytes.clone(),
        vec![
            over("base64 (encoding.rs)", &corpus.records, |r| {
                black_box(encoding::base64_encode(r));
            }),
            over("data-encoding", &corpus.records, |r| {
                black_box(data_encoding::BASE64_NOPAD.encode(r));
            }),
        ],
    );
    run_group(
        c,
        "base64_decode_records",
        record_bytes,
        vec![
            over("base64 (encoding.rs)", &record_base64, |s| {
                black_box(encoding::base64_decode(s));
            }),
            over("data-encoding", &record_base64, |s| {
                black_box(data_encoding::BASE64_NOPAD.decode(s.as_bytes()).ok());
            }),
        ],
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = encodings
}
criterion_main!(benches);
