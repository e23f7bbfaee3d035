//! Runs every case of the AT Protocol interop crypto fixtures (`testdata/interop/crypto/`,
//! vendored from atproto-interop-tests) and prints the counts.
//!
//! A plain `main` rather than libtest so the counts are always printed, not captured.

use atdata_core::encoding::{base58_decode, base64_decode};
use atdata_crypto::{Curve, Keypair, PublicKey, SignatureError};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/interop/crypto");

/// Expected case counts, from the fixture README.
const EXPECTED: [(&str, usize); 3] = [
    ("signature-fixtures.json", 6),
    ("w3c_didkey_K256.json", 5),
    ("w3c_didkey_P256.json", 1),
];
const EXPECTED_TOTAL: usize = 12;

fn load(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(format!("{DIR}/{name}"))
        .unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn field<'a>(case: &'a serde_json::Value, name: &str) -> Result<&'a str, String> {
    case[name].as_str().ok_or_else(|| format!("no {name}"))
}

/// One signature case: both key forms must parse to the same key and give the same verdict,
/// which must be the fixture's; a rejected signature must be rejected for the tagged reason.
fn signature_case(case: &serde_json::Value) -> Result<(), String> {
    let message = base64_decode(field(case, "messageBase64")?).ok_or("bad messageBase64")?;
    let signature = base64_decode(field(case, "signatureBase64")?).ok_or("bad signatureBase64")?;
    let valid = case["validSignature"]
        .as_bool()
        .ok_or("no validSignature")?;
    let curve = Curve::from_jwt_alg(field(case, "algorithm")?).ok_or("unknown algorithm")?;

    let from_did = PublicKey::from_did_key(field(case, "publicKeyDid")?)
        .map_err(|e| format!("publicKeyDid: {e}"))?;
    let from_legacy = PublicKey::from_verification_method(
        field(case, "didDocSuite")?,
        field(case, "publicKeyMultibase")?,
    )
    .map_err(|e| format!("publicKeyMultibase: {e}"))?;
    if from_did != from_legacy {
        return Err("did:key and legacy multibase give different keys".into());
    }
    if from_did.curve() != curve {
        return Err(format!(
            "key is {}, algorithm says {curve}",
            from_did.curve()
        ));
    }

    let by_did = from_did.verify(&message, &signature);
    let by_legacy = from_legacy.verify(&message, &signature);
    if by_did != by_legacy {
        return Err(format!("verdicts differ: {by_did:?} vs {by_legacy:?}"));
    }
    match (valid, by_did) {
        (true, Ok(())) => Ok(()),
        (true, Err(e)) => Err(format!("valid signature rejected: {e}")),
        (false, Ok(())) => Err("invalid signature accepted".into()),
        (false, Err(e)) => {
            let tags: Vec<&str> = case["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            if tags.contains(&"high-s") {
                if e != SignatureError::HighS {
                    return Err(format!("high-S rejected for another reason: {e}"));
                }
                // The opt-in check accepts it: it is a real signature, only malleable.
                from_did
                    .verify_allow_high_s(&message, &signature)
                    .map_err(|e| format!("verify_allow_high_s rejected the high-S case: {e}"))?;
            }
            if tags.contains(&"der-encoded") && !matches!(e, SignatureError::Length(_)) {
                return Err(format!("DER rejected for another reason: {e}"));
            }
            Ok(())
        }
    }
}

/// One did:key derivation case: the private key must give the fixture's did:key, and that
/// did:key must parse back to the same public key.
fn didkey_case(curve: Curve, case: &serde_json::Value) -> Result<(), String> {
    let keypair = if let Some(hex) = case["privateKeyBytesHex"].as_str() {
        Keypair::from_hex(curve, hex)
    } else {
        let bytes = base58_decode(field(case, "privateKeyBytesBase58")?)
            .ok_or("bad privateKeyBytesBase58")?;
        Keypair::from_bytes(curve, &bytes)
    }
    .map_err(|e| format!("private key: {e}"))?;
    let expected = field(case, "publicDidKey")?;
    let derived = keypair.public_key().to_did_key();
    if derived != expected {
        return Err(format!("derived {derived}, expected {expected}"));
    }
    let parsed = PublicKey::from_did_key(expected).map_err(|e| format!("parse: {e}"))?;
    if parsed != keypair.public_key() {
        return Err("parsed did:key differs from the derived key".into());
    }
    Ok(())
}

fn main() {
    let mut total_pass = 0;
    let mut total_fail = 0;
    for (file, expected) in EXPECTED {
        let cases = load(file);
        let mut pass = 0;
        let mut fail = 0;
        for (i, case) in cases.iter().enumerate() {
            let outcome = match file {
                "signature-fixtures.json" => signature_case(case),
                "w3c_didkey_K256.json" => didkey_case(Curve::K256, case),
                _ => didkey_case(Curve::P256, case),
            };
            match outcome {
                Ok(()) => pass += 1,
                Err(why) => {
                    fail += 1;
                    let comment = case["comment"].as_str().unwrap_or("");
                    eprintln!("  FAIL {file} case {i} {comment:?}: {why}");
                }
            }
        }
        println!(
            "interop crypto: {file}: {} cases, {pass} passed, {fail} failed",
            cases.len()
        );
        if cases.len() != expected {
            eprintln!("  {file}: expected {expected} cases, found {}", cases.len());
            fail += 1;
        }
        total_pass += pass;
        total_fail += fail;
    }
    println!("interop-crypto: {total_pass} passed, {total_fail} failed");
    if total_fail > 0 || total_pass != EXPECTED_TOTAL {
        std::process::exit(1);
    }
}
