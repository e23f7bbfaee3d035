//! Keys, encodings and signatures: round trips, low-S, every encoding of a key, and
//! hostile input.

use atdata_core::did_doc::VerificationMethod;
use atdata_core::encoding::base58_encode;
use atdata_crypto::{CryptoError, Curve, Keypair, PublicKey, SignatureError, Signer, Verifier};
use proptest::prelude::*;

/// The group orders, big-endian.
const P256_ORDER: [u8; 32] =
    hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const K256_ORDER: [u8; 32] =
    hex32("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

const fn hex32(s: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            _ => c - b'a' + 10,
        }
    }
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(b[2 * i]) << 4) | digit(b[2 * i + 1]);
        i += 1;
    }
    out
}

fn order(curve: Curve) -> [u8; 32] {
    match curve {
        Curve::P256 => P256_ORDER,
        Curve::K256 => K256_ORDER,
    }
}

/// `a - b` for big-endian 256-bit numbers with `a >= b`.
fn sub(a: &[u8; 32], b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    out
}

/// Whether `s` (big-endian) is at most n/2, i.e. `s <= n - s`.
fn is_low_s(curve: Curve, s: &[u8]) -> bool {
    s <= &sub(&order(curve), s)[..]
}

/// The same signature with S replaced by n - S.
fn flip_s(curve: Curve, signature: &[u8; 64]) -> [u8; 64] {
    let mut out = *signature;
    out[32..].copy_from_slice(&sub(&order(curve), &signature[32..]));
    out
}

fn curve_strategy() -> impl Strategy<Value = Curve> {
    prop_oneof![Just(Curve::P256), Just(Curve::K256)]
}

/// A keypair from arbitrary scalar bytes (almost every 32-byte string is a valid scalar).
fn keypair_strategy() -> impl Strategy<Value = Keypair> {
    (curve_strategy(), any::<[u8; 32]>())
        .prop_filter_map("scalar out of range", |(curve, bytes)| {
            Keypair::from_bytes(curve, &bytes).ok()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sign_then_verify(keypair in keypair_strategy(), message in proptest::collection::vec(any::<u8>(), 0..256)) {
        let curve = keypair.curve();
        let signature = keypair.sign(&message);
        let key = keypair.public_key();
        prop_assert_eq!(key.verify(&message, &signature), Ok(()));
        prop_assert!(is_low_s(curve, &signature[32..]), "signature is high-S");

        // The high-S twin is the same signature, refused unless asked for.
        let high = flip_s(curve, &signature);
        prop_assert_eq!(key.verify(&message, &high), Err(SignatureError::HighS));
        prop_assert_eq!(key.verify_allow_high_s(&message, &high), Ok(()));

        // Any other message fails.
        let mut other = message.clone();
        other.push(0);
        prop_assert_eq!(key.verify(&other, &signature), Err(SignatureError::Mismatch));
    }

    #[test]
    fn every_encoding_gives_the_same_key(keypair in keypair_strategy()) {
        let key = keypair.public_key();
        let curve = key.curve();
        let legacy_type = curve.legacy_verification_method_type();
        let forms = [
            PublicKey::from_sec1_bytes(curve, &key.to_compressed_bytes()),
            PublicKey::from_sec1_bytes(curve, &key.to_uncompressed_bytes()),
            PublicKey::from_did_key(&key.to_did_key()),
            PublicKey::from_multibase(&key.to_multibase()),
            PublicKey::from_verification_method("Multikey", &key.to_multibase()),
            PublicKey::from_verification_method(legacy_type, &key.to_legacy_multibase()),
            PublicKey::from_verification_method(
                legacy_type,
                &format!("z{}", base58_encode(&key.to_uncompressed_bytes())),
            ),
        ];
        for form in forms {
            prop_assert_eq!(form, Ok(key));
        }
        prop_assert_eq!(key.to_did_key().parse::<PublicKey>(), Ok(key));
        prop_assert_eq!(key.to_string(), key.to_did_key());
    }

    #[test]
    fn private_key_forms_round_trip(keypair in keypair_strategy()) {
        let curve = keypair.curve();
        let from_bytes = Keypair::from_bytes(curve, keypair.to_bytes().as_slice()).map(|k| k.did_key());
        let from_hex = Keypair::from_hex(curve, &keypair.to_hex()).map(|k| k.did_key());
        let from_multibase = Keypair::from_multibase(&keypair.to_multibase()).map(|k| k.did_key());
        prop_assert_eq!(from_bytes, Ok(keypair.did_key()));
        prop_assert_eq!(from_hex, Ok(keypair.did_key()));
        prop_assert_eq!(from_multibase, Ok(keypair.did_key()));
    }

    #[test]
    fn garbage_did_keys_error_without_panicking(s in "\\PC{0,200}") {
        prop_assert!(PublicKey::from_did_key(&s).is_err() || s.starts_with("did:key:z"));
        let _ = PublicKey::from_multibase(&s);
        let _ = PublicKey::from_verification_method("EcdsaSecp256k1VerificationKey2019", &s);
        let _ = Keypair::from_multibase(&s);
    }

    #[test]
    fn base58_garbage_after_the_prefix(body in "[1-9A-HJ-NP-Za-km-z]{0,120}") {
        for text in [format!("did:key:z{body}"), format!("did:key:zQ3s{body}"), format!("did:key:zDnae{body}")] {
            // Either a real key (astronomically unlikely) or an error; never a panic.
            if let Ok(key) = PublicKey::from_did_key(&text) {
                prop_assert_eq!(key.to_did_key(), text);
            }
        }
    }

    #[test]
    fn random_signatures_do_not_verify(keypair in keypair_strategy(), signature in any::<[u8; 32]>().prop_map(|h| { let mut s = [0u8; 64]; s[..32].copy_from_slice(&h); s[32..].copy_from_slice(&h); s })) {
        prop_assert!(keypair.public_key().verify(b"message", &signature).is_err());
    }
}

#[test]
fn generated_keys_sign_and_verify_on_both_curves() {
    for curve in Curve::ALL {
        let keypair = Keypair::generate(curve).expect("rng");
        assert_eq!(keypair.curve(), curve);
        let signature = keypair.sign(b"hello");
        keypair
            .public_key()
            .verify(b"hello", &signature)
            .expect("verifies");
        assert_ne!(
            Keypair::generate(curve).expect("rng").did_key(),
            keypair.did_key()
        );
    }
}

#[test]
fn did_key_prefixes_are_the_well_known_ones() {
    let p256 = Keypair::generate(Curve::P256).expect("rng");
    let k256 = Keypair::generate(Curve::K256).expect("rng");
    assert!(p256.did_key().starts_with("did:key:zDnae"));
    assert!(k256.did_key().starts_with("did:key:zQ3s"));
    assert_eq!(p256.did_key().len(), 57);
    assert_eq!(k256.did_key().len(), 57);
}

#[test]
fn wrong_curve_does_not_verify() {
    let k256 = Keypair::from_bytes(Curve::K256, &[9; 32]).expect("key");
    let p256 = Keypair::from_bytes(Curve::P256, &[9; 32]).expect("key");
    let signature = k256.sign(b"x");
    assert!(p256.public_key().verify(b"x", &signature).is_err());
    assert_ne!(k256.public_key(), p256.public_key());
}

#[test]
fn signature_lengths() {
    let keypair = Keypair::generate(Curve::K256).expect("rng");
    let key = keypair.public_key();
    let signature = keypair.sign(b"m");
    assert_eq!(key.verify(b"m", &[]), Err(SignatureError::Length(0)));
    assert_eq!(key.verify(b"m", &[0; 72]), Err(SignatureError::Length(72)));
    let mut longer = signature.to_vec();
    longer.push(0);
    assert_eq!(key.verify(b"m", &longer), Err(SignatureError::Length(65)));
    assert_eq!(key.verify(b"m", &[0; 64]), Err(SignatureError::Mismatch));
    assert_eq!(key.verify(b"m", &[0xff; 64]), Err(SignatureError::Mismatch));
}

#[test]
fn plc_style_legacy_verification_method_parses() {
    // What an older PLC directory writes: the uncompressed point, no multicodec prefix.
    let keypair = Keypair::generate(Curve::K256).expect("rng");
    let key = keypair.public_key();
    let uncompressed = key.to_uncompressed_bytes();
    let multibase = format!("z{}", base58_encode(&uncompressed));
    // About 90 characters, as NOTES on the local PLC say (`zQDd…` there: the first letters
    // depend on the key).
    assert!((88..=90).contains(&multibase.len()), "{multibase}");
    let method: VerificationMethod = serde_json::from_value(serde_json::json!({
        "id": "did:plc:aacgrc5ejsyn73e3lcdjgyte#atproto",
        "type": "EcdsaSecp256k1VerificationKey2019",
        "controller": "did:plc:aacgrc5ejsyn73e3lcdjgyte",
        "publicKeyMultibase": multibase,
    }))
    .expect("verification method");
    let parsed = PublicKey::try_from(&method).expect("legacy key");
    assert_eq!(parsed, key);
    assert_eq!(parsed.to_did_key(), keypair.did_key());
    parsed
        .verify(b"commit", &keypair.sign(b"commit"))
        .expect("verifies");

    // The same for P-256.
    let keypair = Keypair::generate(Curve::P256).expect("rng");
    let multibase = format!(
        "z{}",
        base58_encode(&keypair.public_key().to_uncompressed_bytes())
    );
    let parsed =
        PublicKey::from_verification_method("EcdsaSecp256r1VerificationKey2019", &multibase)
            .expect("legacy key");
    assert_eq!(parsed, keypair.public_key());
}

#[test]
fn verification_method_mismatches() {
    let p256 = Keypair::generate(Curve::P256).expect("rng").public_key();
    assert_eq!(
        PublicKey::from_verification_method(
            "EcdsaSecp256k1VerificationKey2019",
            &p256.to_multibase()
        ),
        Err(CryptoError::WrongCurve {
            expected: Curve::K256,
            got: Curve::P256
        })
    );
    // A raw P-256 point read as secp256k1: usually not on that curve at all, and never the
    // same key.
    let as_k256 = PublicKey::from_verification_method(
        "EcdsaSecp256k1VerificationKey2019",
        &p256.to_legacy_multibase(),
    );
    assert_ne!(as_k256, Ok(p256));
    assert!(matches!(
        PublicKey::from_verification_method("Ed25519VerificationKey2020", "z6Mk"),
        Err(CryptoError::UnknownVerificationMethod(_))
    ));
    // Multikey without a prefix is not accepted.
    assert!(PublicKey::from_verification_method("Multikey", &p256.to_legacy_multibase()).is_err());
    let method: VerificationMethod = serde_json::from_value(serde_json::json!({
        "id": "#atproto", "type": "Multikey", "controller": "did:web:example.com",
    }))
    .expect("verification method");
    assert_eq!(
        PublicKey::try_from(&method),
        Err(CryptoError::MissingMultibase)
    );
}

#[test]
fn did_key_rejects_uncompressed_and_private_keys() {
    let keypair = Keypair::generate(Curve::K256).expect("rng");
    let mut bytes = vec![0xe7, 0x01];
    bytes.extend_from_slice(&keypair.public_key().to_uncompressed_bytes());
    let uncompressed = format!("did:key:z{}", base58_encode(&bytes));
    assert_eq!(
        PublicKey::from_did_key(&uncompressed),
        Err(CryptoError::NotCompressed(65))
    );
    let private = format!("did:key:{}", &*keypair.to_multibase());
    assert!(matches!(
        PublicKey::from_did_key(&private),
        Err(CryptoError::WrongKeyKind { .. })
    ));
    assert!(matches!(
        Keypair::from_multibase(&keypair.public_key().to_multibase()),
        Err(CryptoError::WrongKeyKind { .. })
    ));
}

#[test]
fn garbage_did_keys_error() {
    let cases = [
        "",
        "did:key",
        "did:key:",
        "did:key:z",
        "did:key:zQ3s",
        "did:key:zDnae",
        "DID:KEY:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc",
        "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJw",
        "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc ",
        "did:key:mQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc",
        "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc#zQ3s",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "did:key:z1111111111111111111111111111111111111111111111111",
        "did:key:zOIl0",
        "did:key:z💩",
        "did:plc:aacgrc5ejsyn73e3lcdjgyte",
    ];
    for case in cases {
        assert!(PublicKey::from_did_key(case).is_err(), "{case:?} accepted");
    }
    let huge = format!("did:key:z{}", "Q3s".repeat(100_000));
    assert!(matches!(
        PublicKey::from_did_key(&huge),
        Err(CryptoError::TooLong { .. })
    ));
    // A point that is not on the curve: x = 5 is not an x-coordinate of secp256k1.
    let mut bytes = vec![0xe7, 0x01, 0x02];
    bytes.extend_from_slice(&[0; 31]);
    bytes.push(5);
    let off_curve = format!("did:key:z{}", base58_encode(&bytes));
    assert_eq!(
        PublicKey::from_did_key(&off_curve),
        Err(CryptoError::InvalidPoint(Curve::K256))
    );
}

/// `z` + base58btc of a multicodec varint and `body`.
fn multikey(code: u64, body: &[u8]) -> String {
    let mut bytes = Vec::new();
    atdata_core::encoding::write_varint(&mut bytes, code);
    bytes.extend_from_slice(body);
    format!("z{}", base58_encode(&bytes))
}

#[test]
fn unknown_key_types_are_named_as_such() {
    let point = Keypair::generate(Curve::K256)
        .expect("rng")
        .public_key()
        .to_compressed_bytes();
    // 0x300000-0x3fffff is the multicodec table's private-use range; 0xed is Ed25519.
    for (code, name) in [
        (0x30_0000u64, "0x300000 (private use)"),
        (0x3f_ffff, "0x3fffff (private use)"),
        (0xed, "0xed (ed25519-pub)"),
    ] {
        let did_key = format!("did:key:{}", multikey(code, &point));
        let err = PublicKey::from_did_key(&did_key).expect_err("not an atproto key");
        assert_eq!(err, CryptoError::UnknownMulticodec(code));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("unsupported key type: multicodec {name} ")),
            "{text}"
        );
        assert!(
            text.contains("p256-pub (0x1200) or secp256k1-pub (0xe7)"),
            "{text}"
        );
        assert_eq!(PublicKey::from_multibase(&multikey(code, &point)), Err(err));

        // As a private key, the message names the private-key codes instead.
        let err = Keypair::from_multibase(&multikey(code, &[1; 32])).expect_err("unknown");
        assert_eq!(err, CryptoError::UnknownPrivateKeyType(code));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("unsupported private key type: multicodec {name} ")),
            "{text}"
        );
        assert!(
            text.contains("p256-priv (0x1306) or secp256k1-priv (0x1301)"),
            "{text}"
        );
    }
}

#[test]
fn a_did_key_point_of_the_wrong_length_names_its_curve() {
    for curve in Curve::ALL {
        let point = Keypair::generate(curve)
            .expect("rng")
            .public_key()
            .to_compressed_bytes();
        for len in [32, 34, 64] {
            let mut body = point.to_vec();
            body.resize(len, 0);
            let did_key = format!("did:key:{}", multikey(curve.public_multicodec(), &body));
            let err = PublicKey::from_did_key(&did_key).expect_err("wrong length");
            assert_eq!(err, CryptoError::WrongPointLength { curve, len });
            assert_eq!(
                err.to_string(),
                format!(
                    "wrong point length for a {curve} key: a did:key or Multikey holds its \
                     33-byte compressed point, got {len} bytes"
                )
            );
        }
    }
}

#[test]
fn debug_shows_no_secret() {
    for curve in Curve::ALL {
        let keypair = Keypair::generate(curve).expect("rng");
        let debug = format!("{keypair:?}");
        let pretty = format!("{keypair:#?}");
        let hex = keypair.to_hex();
        let multibase = keypair.to_multibase();
        let raw = base58_encode(keypair.to_bytes().as_slice());
        for shown in [&debug, &pretty] {
            assert!(!shown.contains(hex.as_str()), "{shown}");
            assert!(!shown.contains(&hex.to_uppercase()), "{shown}");
            assert!(!shown.contains(&multibase[1..]), "{shown}");
            assert!(!shown.contains(&raw), "{shown}");
            assert!(
                !shown.contains(&format!("{:?}", &keypair.to_bytes()[..])),
                "{shown}"
            );
        }
        assert!(debug.contains(&keypair.did_key()), "{debug}");
    }
}

#[test]
fn private_key_errors_do_not_echo_the_key() {
    let keypair = Keypair::generate(Curve::P256).expect("rng");
    let multibase = keypair.to_multibase();
    let hex = keypair.to_hex();
    // Damage one character and make sure the message does not repeat the input.
    let broken = format!("{}0", &multibase[..multibase.len() - 1]);
    let err = Keypair::from_multibase(&broken).expect_err("0 is not base58");
    assert!(!err.to_string().contains(&broken[1..20]));
    let err = Keypair::from_hex(Curve::P256, &hex[..63]).expect_err("short");
    assert!(!err.to_string().contains(&hex[..20]));
    let err = Keypair::from_bytes(Curve::P256, &P256_ORDER).expect_err("the order itself");
    assert_eq!(err, CryptoError::InvalidPrivateKey(Curve::P256));
}

#[test]
fn traits_work_through_dyn() {
    let keypair = Keypair::generate(Curve::K256).expect("rng");
    let signer: &dyn Signer = &keypair;
    let signature = signer.sign(b"commit").expect("sign");
    let key = keypair.public_key();
    let verifier: &dyn Verifier = &key;
    verifier.verify(b"commit", &signature).expect("verify");
    assert_eq!(Verifier::did_key(verifier), Signer::did_key(signer));
}

// P-256 verification runs on ring; RustCrypto's p256 (which parses our keys) is the reference
// it must agree with, on good signatures and on every kind of damaged one.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn p256_verdicts_match_rustcrypto(
        secret in proptest::array::uniform32(1u8..),
        message in proptest::collection::vec(any::<u8>(), 0..128),
        flip in proptest::option::of((0usize..64, 1u8..)),
        other_message in any::<bool>(),
    ) {
        use p256::ecdsa::signature::Verifier as _;
        let keypair = Keypair::from_bytes(Curve::P256, &secret).expect("scalar below n");
        let mut signature = keypair.sign(&message);
        if let Some((at, mask)) = flip {
            signature[at] ^= mask;
        }
        let checked = if other_message { &b"another message"[..] } else { &message[..] };

        let ours = keypair.public_key().verify(checked, &signature);
        let point = keypair.public_key().to_uncompressed_bytes();
        let reference_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).expect("valid point");
        let reference = p256::ecdsa::Signature::from_slice(&signature)
            .ok()
            .filter(|sig| !bool::from(p256::elliptic_curve::scalar::IsHigh::is_high(&*sig.s())))
            .map(|sig| reference_key.verify(checked, &sig).is_ok());
        match reference {
            // the reference would refuse it before verifying (s high, or r/s out of range)
            None => prop_assert!(ours.is_err()),
            Some(valid) => prop_assert_eq!(ours.is_ok(), valid, "ours: {:?}", ours),
        }
    }
}
