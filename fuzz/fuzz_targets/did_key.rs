//! Key parsing on arbitrary input: `did:key`, the `Multikey` form, legacy verification
//! methods and multibase private keys never panic, and whatever parses prints back to a
//! string that parses to the same key.
#![no_main]

use atdata_crypto::{Keypair, PublicKey};
use libfuzzer_sys::fuzz_target;

const METHOD_TYPES: [&str; 4] = [
    "Multikey",
    "EcdsaSecp256k1VerificationKey2019",
    "EcdsaSecp256r1VerificationKey2019",
    "Ed25519VerificationKey2020",
];

fn check_round_trip(key: PublicKey) {
    let did_key = key.to_did_key();
    assert_eq!(PublicKey::from_did_key(&did_key).ok(), Some(key));
    assert_eq!(
        PublicKey::from_multibase(&key.to_multibase()).ok(),
        Some(key)
    );
    let legacy = key.to_legacy_multibase();
    let method = key.curve().legacy_verification_method_type();
    assert_eq!(
        PublicKey::from_verification_method(method, &legacy).ok(),
        Some(key)
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = PublicKey::from_did_key(text) {
        // A did:key has exactly one spelling.
        assert_eq!(key.to_did_key(), text);
        check_round_trip(key);
    }
    // The same bytes with the prefixes the parsers expect, so the fuzzer reaches the
    // multicodec and point checks without having to discover them.
    for candidate in [
        text.to_owned(),
        format!("z{text}"),
        format!("did:key:z{text}"),
    ] {
        if let Ok(key) = PublicKey::from_did_key(&candidate) {
            check_round_trip(key);
        }
        if let Ok(key) = PublicKey::from_multibase(&candidate) {
            check_round_trip(key);
        }
        for method in METHOD_TYPES {
            if let Ok(key) = PublicKey::from_verification_method(method, &candidate) {
                check_round_trip(key);
            }
        }
        if let Ok(keypair) = Keypair::from_multibase(&candidate) {
            let again = Keypair::from_multibase(&keypair.to_multibase()).ok();
            assert_eq!(again.map(|k| k.public_key()), Some(keypair.public_key()));
        }
    }
    // Raw bytes as SEC1 points on both curves.
    for curve in atdata_crypto::Curve::ALL {
        if let Ok(key) = PublicKey::from_sec1_bytes(curve, data) {
            check_round_trip(key);
        }
    }
});
