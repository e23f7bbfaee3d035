//! `did:key` and `Multikey`: a public key as text.
//!
//! The [did:key method](https://w3c-ccg.github.io/did-method-key/) as atproto uses it
//! (<https://atproto.com/specs/cryptography>): `did:key:` followed by the `Multikey` form,
//! which is `z` (multibase base58btc) and the base58btc encoding of a multicodec varint
//! (`0x1200` p256-pub, `0xe7` secp256k1-pub) followed by the 33-byte compressed point.
//!
//! Parsing is strict: only those two multicodecs, only the compressed point (a second,
//! uncompressed spelling of the same key would break string comparison of keys), and an input
//! length bound checked before any base58 decoding.

use crate::{multibase, CryptoError, Curve, PublicKey};

/// The prefix of every `did:key`.
pub const DID_KEY_PREFIX: &str = "did:key:";

/// Longest `did:key` string read; longer input is rejected without decoding. Valid atproto
/// `did:key`s are 57 characters on either curve.
pub const MAX_DID_KEY_LEN: usize = DID_KEY_PREFIX.len() + multibase::MAX_MULTIBASE_LEN;

/// Parses `did:key:z…` into a [`PublicKey`].
///
/// ```
/// use atdata_crypto::{did_key, Curve};
///
/// let key = did_key::parse_did_key("did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo")?;
/// assert_eq!(key.curve(), Curve::P256);
///
/// // An Ed25519 did:key (multicodec 0xed) is not an atproto key.
/// assert!(did_key::parse_did_key("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK").is_err());
/// # Ok::<(), atdata_crypto::CryptoError>(())
/// ```
pub fn parse_did_key(did_key: &str) -> Result<PublicKey, CryptoError> {
    if did_key.len() > MAX_DID_KEY_LEN {
        return Err(CryptoError::TooLong {
            len: did_key.len(),
            max: MAX_DID_KEY_LEN,
        });
    }
    let multikey = did_key
        .strip_prefix(DID_KEY_PREFIX)
        .ok_or(CryptoError::NotDidKey)?;
    parse_multikey(multikey)
}

/// Formats a key as `did:key:z…`.
///
/// ```
/// use atdata_crypto::{did_key, PublicKey};
///
/// let text = "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc";
/// let key = did_key::parse_did_key(text)?;
/// assert_eq!(did_key::format_did_key(&key), text);
/// # Ok::<(), atdata_crypto::CryptoError>(())
/// ```
pub fn format_did_key(key: &PublicKey) -> String {
    let mut out = String::with_capacity(DID_KEY_PREFIX.len() + 50);
    out.push_str(DID_KEY_PREFIX);
    out.push_str(&format_multikey(key));
    out
}

/// Parses the `Multikey` form `z…` (a `did:key` without its `did:key:` prefix).
///
/// ```
/// use atdata_crypto::did_key;
///
/// let key = did_key::parse_multikey("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")?;
/// assert_eq!(did_key::format_multikey(&key), "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc");
/// # Ok::<(), atdata_crypto::CryptoError>(())
/// ```
pub fn parse_multikey(multikey: &str) -> Result<PublicKey, CryptoError> {
    let bytes = multibase::decode(multikey)?;
    key_from_multicodec_bytes(&bytes)
}

/// Formats a key in the `Multikey` form `z…`.
pub fn format_multikey(key: &PublicKey) -> String {
    let curve = key.curve();
    let bytes = multibase::with_multicodec(curve.public_multicodec(), &key.to_compressed_bytes());
    multibase::encode(&bytes)
}

/// A public key from multicodec varint + compressed point.
pub(crate) fn key_from_multicodec_bytes(bytes: &[u8]) -> Result<PublicKey, CryptoError> {
    let (code, point) = multibase::split_multicodec(bytes)?;
    let curve = match Curve::from_public_multicodec(code) {
        Some(curve) => curve,
        None if Curve::from_private_multicodec(code).is_some() => {
            return Err(CryptoError::WrongKeyKind {
                expected: "public",
                got: "private",
            })
        }
        None => return Err(CryptoError::UnknownMulticodec(code)),
    };
    if point.len() != 33 {
        // Only the compressed form is a valid did:key, so the message names that length and
        // the curve the multicodec claims (not the two SEC1 lengths a raw point may have).
        return Err(if point.len() == 65 {
            CryptoError::NotCompressed(point.len())
        } else {
            CryptoError::WrongPointLength {
                curve,
                len: point.len(),
            }
        });
    }
    PublicKey::from_sec1_bytes(curve, point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_without_panicking() {
        for bad in [
            "",
            "did:key:",
            "did:key:z",
            "did:key:zz",
            "did:key:Q3sh",
            "did:web:example.com",
            "did:key:z0000",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        ] {
            assert!(parse_did_key(bad).is_err(), "{bad:?}");
        }
        let long = format!("did:key:z{}", "Q".repeat(10_000));
        assert!(matches!(
            parse_did_key(&long),
            Err(CryptoError::TooLong { .. })
        ));
    }

    #[test]
    fn private_multicodec_is_named() {
        let bytes = multibase::with_multicodec(0x1301, &[2; 33]);
        assert_eq!(
            key_from_multicodec_bytes(&bytes),
            Err(CryptoError::WrongKeyKind {
                expected: "public",
                got: "private"
            })
        );
    }
}
