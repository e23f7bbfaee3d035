//! The one error type for parsing keys: [`CryptoError`].
//!
//! Signature checks report [`SignatureError`](atdata_core::signing::SignatureError) instead,
//! the type the `atdata-core` signing traits use.

use atdata_core::signing::SignatureError;

use crate::multibase::codec_label;
use crate::Curve;

/// Why a key, a `did:key` or a multibase string was not accepted.
///
/// Messages never contain private key material: a private key that fails to parse is reported
/// without echoing any of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The string does not start with `did:key:`.
    #[error("not a did:key (must start with \"did:key:\")")]
    NotDidKey,
    /// The multibase string is not base58btc (it must start with `z`).
    #[error("multibase key must be base58btc (start with 'z')")]
    NotBase58btc,
    /// The input is longer than any key this crate reads; it was rejected before decoding.
    #[error("key string is {len} bytes long, over the {max}-byte limit")]
    TooLong {
        /// Length of the input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The base58btc part contains a character outside the alphabet.
    #[error("invalid base58btc")]
    Base58,
    /// The multicodec prefix is missing or not a minimal varint.
    #[error("missing or malformed multicodec prefix")]
    Multicodec,
    /// The multicodec of a public key (`did:key`, `Multikey`) is not one of the two key types
    /// atproto uses.
    #[error(
        "unsupported key type: multicodec {} is not a p256-pub (0x1200) or secp256k1-pub (0xe7) \
         public key",
        codec_label(*.0)
    )]
    UnknownMulticodec(u64),
    /// The multicodec of a multibase private key is not one of the two key types atproto uses.
    #[error(
        "unsupported private key type: multicodec {} is not a p256-priv (0x1306) or \
         secp256k1-priv (0x1301) private key",
        codec_label(*.0)
    )]
    UnknownPrivateKeyType(u64),
    /// A private key was given where a public key was expected, or the other way round.
    #[error("expected a {expected} key, got a {got} key")]
    WrongKeyKind {
        /// What was expected (`public` or `private`).
        expected: &'static str,
        /// What was found.
        got: &'static str,
    },
    /// The key is for a different curve than the context requires.
    #[error("expected a {expected} key, got a {got} key")]
    WrongCurve {
        /// The curve the context requires.
        expected: Curve,
        /// The curve of the key.
        got: Curve,
    },
    /// The public key bytes have a length or leading tag that is not a SEC1 point.
    #[error(
        "{curve} public key must be 33 bytes (compressed) or 65 (uncompressed), got {len} bytes"
    )]
    PointEncoding {
        /// The curve.
        curve: Curve,
        /// Length of the bytes.
        len: usize,
    },
    /// A `did:key` or `Multikey` whose point has neither the compressed (33 bytes) nor the
    /// uncompressed (65 bytes) length of a point on the curve its multicodec names.
    #[error(
        "wrong point length for a {curve} key: a did:key or Multikey holds its 33-byte \
         compressed point, got {len} bytes"
    )]
    WrongPointLength {
        /// The curve the multicodec names.
        curve: Curve,
        /// Length of the point bytes after the multicodec.
        len: usize,
    },
    /// A `did:key` or `Multikey` must carry the compressed (33-byte) point.
    #[error(
        "did:key and Multikey values must hold the compressed point (33 bytes), got {0} bytes"
    )]
    NotCompressed(usize),
    /// The bytes are well formed but not a point on the curve.
    #[error("not a valid {0} public key (point not on the curve)")]
    InvalidPoint(Curve),
    /// The private key is not 32 bytes, or is zero or not below the curve order.
    #[error("not a valid {0} private key (must be 32 bytes, non-zero, below the curve order)")]
    InvalidPrivateKey(Curve),
    /// The hex string is not 64 hex digits.
    #[error("private key hex must be 64 hex digits")]
    Hex,
    /// The curve name is not one this crate knows.
    #[error("unknown curve {0:?} (expected p256 or k256)")]
    UnknownCurve(String),
    /// The verification method type is not one atproto uses.
    #[error(
        "unsupported verification method type {0:?} (expected Multikey, \
         EcdsaSecp256k1VerificationKey2019 or EcdsaSecp256r1VerificationKey2019)"
    )]
    UnknownVerificationMethod(String),
    /// The verification method has no `publicKeyMultibase`.
    #[error("verification method has no publicKeyMultibase")]
    MissingMultibase,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Rng(String),
    /// A signature was not accepted.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}
