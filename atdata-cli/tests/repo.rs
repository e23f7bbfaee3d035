//! `atdata repo` on real repository exports, intact and tampered with.

use std::process::{Command, Output};

use atdata_core::car::CarReader;
use atdata_core::repo::Commit;

const BIN: &str = env!("CARGO_BIN_EXE_atdata");
const TESTDATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/indigo/testing/testdata"
);

fn atdata(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run atdata")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// paul_staging.repo.car and the did:key from its DID document (legacy secp256k1 form).
fn paul() -> (Vec<u8>, String) {
    let car = std::fs::read(format!("{TESTDATA}/paul_staging.repo.car")).expect("car");
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{TESTDATA}/paul_staging.didDoc.json")).expect("doc"),
    )
    .expect("json");
    let vm = &doc["verificationMethod"][0];
    let key = atdata_crypto::PublicKey::from_verification_method(
        vm["type"].as_str().expect("type"),
        vm["publicKeyMultibase"].as_str().expect("key"),
    )
    .expect("legacy key");
    (car, key.to_did_key())
}

fn write_tmp(name: &str, bytes: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("atdata-repo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_string_lossy().into_owned()
}

/// Byte range of each block's data in the CAR, by kind.
/// Blocks whose CID appears more than once (this v2 export repeats a few) are left out: an
/// altered duplicate is shadowed by its intact copy and reported as a stray altered block.
fn block_ranges(car: &[u8]) -> Vec<(std::ops::Range<usize>, &'static str)> {
    let reader = CarReader::new(car).expect("car");
    let mut seen = std::collections::HashMap::new();
    for block in reader.blocks() {
        *seen.entry(block.expect("valid").cid).or_insert(0) += 1;
    }
    let reader = CarReader::new(car).expect("car");
    let root = reader.roots()[0];
    // Only nodes of the current tree: old exports also carry unreferenced blocks.
    let repo = atdata_core::repo::Repo::from_car(car).expect("repo");
    let nodes: std::collections::HashSet<_> =
        repo.mst().blocks().into_iter().map(|(c, _)| c).collect();
    let records: std::collections::HashSet<_> = repo.mst().iter().map(|(_, c)| *c).collect();
    let mut blocks = reader.blocks();
    let mut out = Vec::new();
    while blocks.offset() < car.len() {
        let block = blocks.next().expect("block").expect("valid");
        let end = blocks.offset();
        if seen[&block.cid] > 1 {
            continue;
        }
        let start = end - block.data.len();
        let kind = if block.cid == root {
            "commit"
        } else if nodes.contains(&block.cid) {
            "node"
        } else if records.contains(&block.cid) {
            "record"
        } else {
            continue;
        };
        out.push((start..end, kind));
    }
    out
}

#[test]
fn intact_repo_verifies_with_its_key() {
    let (car, key) = paul();
    let path = write_tmp("paul.car", &car);
    let out = atdata(&["repo", "verify", &path, "--key", &key]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["records"], 185);
    assert_eq!(report["signature_checked"], true);
    assert_eq!(report["key"], key.as_str());
    assert_eq!(report["key_source"], "flag");

    // --offline: everything but the signature, and no network.
    let out = atdata(&["repo", "verify", &path, "--offline"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["valid"], true);
    assert_eq!(report["signature_checked"], false);
    assert_eq!(report["key"], serde_json::Value::Null);
    assert_eq!(report["key_source"], serde_json::Value::Null);
    // --key with --offline checks the signature with that key.
    let out = atdata(&["repo", "verify", &path, "--offline", "--key", &key]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["signature_checked"], true);

    let ls = atdata(&["repo", "ls", &path]);
    assert!(ls.status.success());
    assert_eq!(String::from_utf8_lossy(&ls.stdout).lines().count(), 185);

    // A different key must not verify.
    let other = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).expect("key");
    let out = atdata(&[
        "repo",
        "verify",
        &path,
        "--key",
        &other.public_key().to_did_key(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("signature"), "{}", stderr(&out));
}

#[test]
fn tampering_is_named() {
    let (car, key) = paul();
    let ranges = block_ranges(&car);
    let pick = |kind: &str| {
        ranges
            .iter()
            .find(|(_, k)| *k == kind)
            .map(|(r, _)| r.clone())
            .expect("block of kind")
    };

    // One record block altered: flip a byte in the middle of its data.
    let r = pick("record");
    let mut bad = car.clone();
    bad[(r.start + r.end) / 2] ^= 0x01;
    let bad_record = bad.clone();
    let out = atdata(&[
        "repo",
        "verify",
        "--offline",
        &write_tmp("record.car", &bad),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("record app.bsky") && stderr(&out).contains("altered"),
        "{}",
        stderr(&out)
    );

    // One MST node altered: change the last byte of a node's data.
    let r = pick("node");
    let mut bad = car.clone();
    bad[r.end - 1] ^= 0x01;
    let out = atdata(&["repo", "verify", "--offline", &write_tmp("node.car", &bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("MST"), "{}", stderr(&out));

    // A signature byte flipped: find the signature's bytes inside the commit block.
    let r = pick("commit");
    let commit = Commit::decode(&car[r.clone()]).expect("commit");
    let at = car[r.clone()]
        .windows(commit.sig().len())
        .position(|w| w == commit.sig())
        .expect("signature bytes in the commit block");
    let mut bad = car.clone();
    bad[r.start + at + 10] ^= 0x01;
    let out = atdata(&["repo", "verify", &write_tmp("sig.car", &bad), "--key", &key]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("signature does not verify"), "{err}");
    assert!(err.contains("commit altered"), "{err}");

    // Without --offline the key is resolved; when it cannot be (here: nothing listens on the
    // PLC port), a repository that is invalid anyway is reported as such (exit 1)...
    let out = atdata(&[
        "repo",
        "verify",
        "--plc",
        "http://127.0.0.1:9",
        &write_tmp("record.car", &bad_record),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("signature not checked") && err.contains("altered"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["signature_checked"], false);
    assert_eq!(report["key"], serde_json::Value::Null);
    // ... while an intact one cannot be vouched for: exit 3, and the message says what failed.
    let out = atdata(&[
        "repo",
        "verify",
        "--plc",
        "http://127.0.0.1:9",
        &write_tmp("paul.car", &car),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("could not resolve the signing key of did:plc:") && err.contains("--offline"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // Unreadable is not invalid.
    let out = atdata(&["repo", "verify", "/nonexistent/repo.car"]);
    assert_eq!(out.status.code(), Some(3));
}

/// A repository whose MST links a record by a `raw`-codec CID (a blob's codec): the record
/// block is there and even decodes, but a record is DAG-CBOR, so this is a malformed repository.
#[test]
fn a_record_with_a_raw_cid_is_reported() {
    use atdata_core::mst::Mst;
    use atdata_core::{Cid, Did, Tid};

    let key = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).expect("key");
    let record: &[u8] = b"\xa1\x61n\x01";
    let cid = Cid::for_raw(record);
    let mut mst = Mst::new();
    mst.insert("app.bsky.feed.like/3jzfcijpj2z2a".to_owned(), cid)
        .expect("key");
    let did = Did::new("did:plc:raw").expect("did");
    let rev = Tid::new("3jzfcijpj2z2a").expect("tid");
    let commit = Commit::create(did, mst.root_cid(), rev, None, &key).expect("sign");
    let commit_bytes = commit.encode();
    let nodes = mst.blocks();
    let blocks = std::iter::once((commit.cid(), commit_bytes.as_slice()))
        .chain(nodes.iter().map(|(c, b)| (*c, b.as_slice())))
        .chain([(cid, record)]);
    let car = atdata_core::car::write_car(&[commit.cid()], blocks);
    let path = write_tmp("raw-record.car", &car);

    let out = atdata(&[
        "repo",
        "verify",
        &path,
        "--key",
        &key.public_key().to_did_key(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("record app.bsky.feed.like/3jzfcijpj2z2a") && err.contains("not dag-cbor"),
        "{err}"
    );

    let out = atdata(&["repo", "ls", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("raw (0x55)"), "{}", stderr(&out));
}
