//! The parsers that read what strangers serve, on random and mutated input: they return
//! errors, never panic (the same properties the cargo-fuzz targets check; see
//! tests/fuzz_bodies/documents.rs).

#![allow(clippy::unwrap_used)]

#[path = "fuzz_bodies/documents.rs"]
mod documents;

use proptest::prelude::*;

fn seeds() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut seeds = Vec::new();
    for dir in [
        format!("{root}/atdata-identity/testdata/plc"),
        format!("{root}/testdata/corpus/indigo/testing/testdata"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                seeds.push(std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(seeds.len() >= 6, "{} seed files", seeds.len());
    seeds
}

/// A seed file with a few bytes changed, inserted or removed.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds();
    (
        0..seeds.len(),
        prop::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 1..6),
    )
        .prop_map(move |(i, edits)| {
            let mut data = seeds[i].clone();
            for (at, byte, kind) in edits {
                let at = usize::from(at) % (data.len() + 1);
                match kind {
                    0 if at < data.len() => data[at] = byte,
                    1 => data.insert(at, byte),
                    _ if at < data.len() => {
                        data.remove(at);
                    }
                    _ => {}
                }
            }
            data
        })
}

#[test]
fn the_seeds_themselves_pass() {
    for seed in seeds() {
        documents::check_document(&seed);
        documents::check_audit_log(&seed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_documents_and_logs(data in mutated()) {
        documents::check_document(&data);
        documents::check_audit_log(&data);
    }

    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..512)) {
        documents::check_document(&data);
        documents::check_audit_log(&data);
        documents::check_did_web(&data);
    }

    #[test]
    fn did_web_names(name in "[a-zA-Z0-9.%:_-]{1,40}") {
        documents::check_did_web(name.as_bytes());
    }
}

/// 148 production DID documents (plc.directory, captured with the Jetstream corpus): each
/// reads into an identity with a secp256k1 or P-256 signing key, a PDS on https and a claimed
/// handle, and the typed document serializes back to the same JSON.
#[test]
fn production_did_documents() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/corpus/jetstream/did_docs.json.zst"
    );
    let json = zstd::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    let docs: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&json).unwrap();
    assert_eq!(docs.len(), 148);
    for (did, doc) in &docs {
        let text = doc.to_string();
        let identity = atdata_identity::Identity::from_json(&text, false).unwrap();
        assert_eq!(identity.did().as_str(), did);
        identity
            .signing_key()
            .unwrap_or_else(|e| panic!("{did}: {e}"));
        assert!(identity.pds().unwrap().starts_with("https://"), "{did}");
        assert!(identity.claimed_handle().is_some(), "{did}");
        assert_eq!(
            &serde_json::to_value(identity.document()).unwrap(),
            doc,
            "{did}"
        );
    }
    println!("{} production DID documents read", docs.len());
}
