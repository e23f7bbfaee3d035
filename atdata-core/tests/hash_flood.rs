//! Regression tests: a CAR whose CIDs are crafted to collide in a hash table must not make
//! loading or verifying it quadratic.
//!
//! Two families of CIDs are cheap for an attacker to produce in bulk:
//!
//! - the same digest under many codecs: every block holds the same bytes, so every hash check
//!   passes, yet the CIDs differ (in the codec varint, before the digest);
//! - digests that differ only before their last 8 bytes: the hashes do not match, which only an
//!   unverified read (`verify_car`, which reports altered blocks instead of stopping) accepts.
//!
//! Each test runs the work on a helper thread and fails if it has not finished within a generous
//! bound, so a regression fails in seconds instead of hanging the suite for minutes.

use std::sync::mpsc;
use std::time::Duration;

use atdata_core::car::{write_car, CarReader};
use atdata_core::repo::{verify_car, Repo};
use atdata_core::signing::{SignatureError, Signer};
use atdata_core::{Cid, Did, Value};

/// As many blocks as a CAR of a few MB holds; with colliding hashes this took minutes.
const BLOCKS: u64 = 80_000;

/// Far above the expected time (tens of milliseconds in release), since CI machines are slow
/// and noisy and this runs in a debug build; far below the quadratic behaviour.
const BOUND: Duration = Duration::from_secs(5);

/// Runs `work` on its own thread and fails the test if it takes longer than [`BOUND`].
fn within_bound<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    match rx.recv_timeout(BOUND) {
        Ok(out) => out,
        Err(_) => panic!("{what} did not finish within {BOUND:?}: hash flooding?"),
    }
}

/// A signer whose signatures are never checked here.
struct NullSigner;
impl Signer for NullSigner {
    fn sign(&self, _message: &[u8]) -> Result<[u8; 64], SignatureError> {
        Ok([1; 64])
    }
    fn did_key(&self) -> String {
        "did:key:zNull".into()
    }
}

/// A small valid repository followed by `extra` blocks no record refers to.
fn repo_car_with(extra: &[(Cid, Vec<u8>)]) -> Vec<u8> {
    let did = Did::new("did:plc:flood").expect("did");
    let record = Value::from_json_str(r#"{"$type": "app.bsky.feed.like", "n": 1}"#).expect("json");
    let repo = Repo::create(
        did,
        &NullSigner,
        [("app.bsky.feed.like/3jzfcijpj2z2a", record)],
    )
    .expect("repo");
    let base = repo.to_car();
    let reader = CarReader::new(&base).expect("own CAR");
    let mut blocks: Vec<(Cid, &[u8])> = reader
        .blocks()
        .map(|b| b.map(|b| (b.cid, b.data)).expect("own block"))
        .collect();
    blocks.extend(extra.iter().map(|(c, d)| (*c, d.as_slice())));
    write_car(reader.roots(), blocks)
}

/// The same block under `BLOCKS` different codecs: every CID ends in the same digest.
fn same_digest_many_codecs() -> Vec<(Cid, Vec<u8>)> {
    let data = b"flood".to_vec();
    let digest = *Cid::for_raw(&data)
        .digest()
        .first_chunk::<32>()
        .expect("sha-256");
    // Codecs from 0x200 up need two or three varint bytes, all accepted by the CID parser.
    (0x200..0x200 + BLOCKS)
        .map(|codec| (Cid::new_sha256(codec, digest), data.clone()))
        .collect()
}

/// `BLOCKS` dag-cbor CIDs whose digests share their last 8 bytes (and whose bytes match none).
fn shared_digest_tail() -> Vec<(Cid, Vec<u8>)> {
    (0..BLOCKS)
        .map(|i| {
            let mut digest = [0xee; 32];
            digest[..8].copy_from_slice(&i.to_le_bytes());
            (
                Cid::new_sha256(atdata_core::cid::DAG_CBOR, digest),
                vec![0xf6],
            )
        })
        .collect()
}

#[test]
fn same_digest_under_many_codecs_loads_quickly() {
    let car = repo_car_with(&same_digest_many_codecs());
    assert!(car.len() < 8 << 20, "the attack CAR is only a few MB");
    let for_verify = car.clone();
    let records = within_bound("Repo::from_car", move || {
        Repo::from_car(&car).map(|repo| repo.len())
    });
    assert_eq!(records.expect("valid repository"), 1);
    let report = within_bound("verify_car", move || {
        verify_car(&for_verify).expect("readable")
    });
    assert!(report.is_valid(), "{:?}", report.problems);
    assert_eq!(report.blocks as u64, BLOCKS + 3);
}

#[test]
fn shared_digest_tails_verify_quickly() {
    let car = repo_car_with(&shared_digest_tail());
    let report = within_bound("verify_car", move || verify_car(&car).expect("readable"));
    // Every crafted block is reported as altered, none is lost.
    assert_eq!(report.problems.len() as u64, BLOCKS);
}

#[test]
fn car_index_of_colliding_cids_is_quick() {
    let car = repo_car_with(&same_digest_many_codecs());
    let indexed = within_bound("CarReader::index", move || {
        CarReader::new(&car)
            .and_then(|r| r.index())
            .map(|index| index.len())
    });
    assert_eq!(indexed.expect("index") as u64, BLOCKS + 3);
}
