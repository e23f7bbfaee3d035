//! Runs every case of the AT Protocol interop crypto fixtures (`testdata/interop/crypto/`,
//! vendored from atproto-interop-tests) through the shared runner, `atdata_testkit::interop`,
//! which prints the counts per file and in total.
//!
//! A plain `main` rather than libtest so the counts are always printed, not captured.

use atdata_core::encoding::{base58_decode, base64_decode};
use atdata_crypto::{Curve, Keypair, PublicKey, SignatureError};
use atdata_testkit::interop::Suite;

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
    // Case counts from the fixture README: 6 + 5 + 1.
    let mut suite = Suite::new("interop-crypto");
    suite.json_file("crypto/signature-fixtures.json", Some(6), signature_case);
    suite.json_file("crypto/w3c_didkey_K256.json", Some(5), |case| {
        didkey_case(Curve::K256, case)
    });
    suite.json_file("crypto/w3c_didkey_P256.json", Some(1), |case| {
        didkey_case(Curve::P256, case)
    });
    suite.finish();
}
