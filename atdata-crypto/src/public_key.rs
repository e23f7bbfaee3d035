//! [`PublicKey`]: a P-256 or secp256k1 public key, its encodings, and signature checks.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use atdata_core::did_doc::VerificationMethod;
use atdata_core::signing::{SignatureError, Verifier};
use k256::elliptic_curve::scalar::IsHigh as _;
use p256::ecdsa::signature::Verifier as _;

use crate::{did_key, multibase, CryptoError, Curve};

/// A public key on one of the two atproto curves.
///
/// Keys compare equal when they are the same point on the same curve, whichever encoding they
/// were read from (compressed or uncompressed SEC1, `did:key`, `Multikey`, or a legacy
/// verification method). `Display` and `FromStr` use the `did:key` form.
///
/// ```
/// use atdata_crypto::{Keypair, Curve, PublicKey};
///
/// let keypair = Keypair::generate(Curve::K256)?;
/// let signature = keypair.sign(b"hello");
///
/// let did_key = keypair.public_key().to_did_key();
/// let key = PublicKey::from_did_key(&did_key)?;
/// key.verify(b"hello", &signature)?;
/// assert!(key.verify(b"hullo", &signature).is_err());
/// # Ok::<(), atdata_crypto::CryptoError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(Inner);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Inner {
    P256(p256::ecdsa::VerifyingKey),
    K256(k256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Reads a SEC1-encoded point: 33 bytes compressed (`02`/`03` + x) or 65 bytes
    /// uncompressed (`04` + x + y). The point must be on `curve`.
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair, PublicKey};
    ///
    /// let key = Keypair::generate(Curve::P256)?.public_key();
    /// let compressed = PublicKey::from_sec1_bytes(Curve::P256, &key.to_compressed_bytes())?;
    /// let uncompressed = PublicKey::from_sec1_bytes(Curve::P256, &key.to_uncompressed_bytes())?;
    /// assert_eq!(compressed, key);
    /// assert_eq!(uncompressed, key);
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_sec1_bytes(curve: Curve, bytes: &[u8]) -> Result<Self, CryptoError> {
        let shape_ok = matches!(
            (bytes.len(), bytes.first()),
            (33, Some(0x02 | 0x03)) | (65, Some(0x04))
        );
        if !shape_ok {
            return Err(CryptoError::PointEncoding {
                curve,
                len: bytes.len(),
            });
        }
        let invalid = |_| CryptoError::InvalidPoint(curve);
        let inner = match curve {
            Curve::P256 => {
                Inner::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(invalid)?)
            }
            Curve::K256 => {
                Inner::K256(k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(invalid)?)
            }
        };
        Ok(PublicKey(inner))
    }

    /// The curve this key is on.
    pub fn curve(&self) -> Curve {
        match self.0 {
            Inner::P256(_) => Curve::P256,
            Inner::K256(_) => Curve::K256,
        }
    }

    /// The JWT `alg` for signatures by this key (`ES256` or `ES256K`).
    pub fn jwt_alg(&self) -> &'static str {
        self.curve().jwt_alg()
    }

    /// The compressed SEC1 point (33 bytes), the form `did:key` carries.
    pub fn to_compressed_bytes(&self) -> [u8; 33] {
        match &self.0 {
            Inner::P256(key) => p256::CompressedPoint::from(key).into(),
            Inner::K256(key) => k256::CompressedPoint::from(key).into(),
        }
    }

    /// The uncompressed SEC1 point (65 bytes: `04` + x + y).
    pub fn to_uncompressed_bytes(&self) -> [u8; 65] {
        let point = match &self.0 {
            Inner::P256(key) => key.to_sec1_point(false),
            Inner::K256(key) => key.to_sec1_point(false),
        };
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The key as `did:key:z…` (multicodec prefix + compressed point, base58btc).
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let key = Keypair::generate(Curve::P256)?.public_key();
    /// assert!(key.to_did_key().starts_with("did:key:zDnae"));
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn to_did_key(&self) -> String {
        did_key::format_did_key(self)
    }

    /// Parses `did:key:z…`; see [`did_key::parse_did_key`](crate::did_key::parse_did_key).
    ///
    /// ```
    /// use atdata_crypto::{Curve, PublicKey};
    ///
    /// let key = PublicKey::from_did_key("did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")?;
    /// assert_eq!(key.curve(), Curve::K256);
    /// assert!(PublicKey::from_did_key("did:key:zNotAKey").is_err());
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_did_key(did_key: &str) -> Result<Self, CryptoError> {
        did_key::parse_did_key(did_key)
    }

    /// The key in the `Multikey` form: `z` + base58btc(multicodec prefix + compressed point),
    /// the `publicKeyMultibase` of current DID documents.
    pub fn to_multibase(&self) -> String {
        did_key::format_multikey(self)
    }

    /// Parses the `Multikey` form (`z` + base58btc with a multicodec prefix), the
    /// `publicKeyMultibase` of a `Multikey` verification method. For the legacy forms without
    /// a prefix, use [`PublicKey::from_verification_method`].
    ///
    /// ```
    /// use atdata_crypto::PublicKey;
    ///
    /// let key = PublicKey::from_multibase("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")?;
    /// assert_eq!(key.to_did_key(), "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc");
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_multibase(multibase: &str) -> Result<Self, CryptoError> {
        did_key::parse_multikey(multibase)
    }

    /// Reads a DID document verification method from its `type` and `publicKeyMultibase`.
    ///
    /// - `Multikey`: the multicodec-prefixed form, as [`PublicKey::from_multibase`].
    /// - `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019` (legacy):
    ///   `z` + base58btc of the raw SEC1 point, compressed (33 bytes) or uncompressed (65
    ///   bytes, as older PLC directories write it), with no multicodec prefix. A value that
    ///   does carry the prefix of the type's curve is accepted too.
    ///
    /// Every form of the same key yields an equal [`PublicKey`].
    ///
    /// ```
    /// use atdata_crypto::PublicKey;
    ///
    /// let legacy = PublicKey::from_verification_method(
    ///     "EcdsaSecp256k1VerificationKey2019",
    ///     "z25z9DTpsiYYJKGsWmSPJK2NFN8PcJtZig12K59UgW7q5t",
    /// )?;
    /// let current = PublicKey::from_verification_method(
    ///     "Multikey",
    ///     "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc",
    /// )?;
    /// assert_eq!(legacy, current);
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_verification_method(
        method_type: &str,
        public_key_multibase: &str,
    ) -> Result<Self, CryptoError> {
        let curve = match method_type {
            "Multikey" => return did_key::parse_multikey(public_key_multibase),
            "EcdsaSecp256k1VerificationKey2019" => Curve::K256,
            "EcdsaSecp256r1VerificationKey2019" => Curve::P256,
            other => {
                return Err(CryptoError::UnknownVerificationMethod(
                    other.chars().take(64).collect(),
                ))
            }
        };
        let bytes = multibase::decode(public_key_multibase)?;
        match bytes.first() {
            // A raw SEC1 point: 02/03/04 can never start one of our multicodec prefixes.
            Some(0x02..=0x04) => Self::from_sec1_bytes(curve, &bytes),
            _ => {
                let key = did_key::key_from_multicodec_bytes(&bytes)?;
                if key.curve() == curve {
                    Ok(key)
                } else {
                    Err(CryptoError::WrongCurve {
                        expected: curve,
                        got: key.curve(),
                    })
                }
            }
        }
    }

    /// The legacy verification method value for this key: `z` + base58btc of the compressed
    /// point, no multicodec prefix (pair it with
    /// [`Curve::legacy_verification_method_type`]).
    pub fn to_legacy_multibase(&self) -> String {
        multibase::encode(&self.to_compressed_bytes())
    }

    /// Checks `signature` over `message` (hashed with SHA-256), as atproto requires: the
    /// signature must be the compact 64-byte `r‖s` form (DER is rejected with
    /// [`SignatureError::Length`]) and have a low S value (a high S is rejected with
    /// [`SignatureError::HighS`], even when the signature would otherwise verify).
    ///
    /// ```
    /// use atdata_core::signing::SignatureError;
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let keypair = Keypair::generate(Curve::P256)?;
    /// let key = keypair.public_key();
    /// let signature = keypair.sign(b"message");
    /// assert_eq!(key.verify(b"message", &signature), Ok(()));
    /// assert_eq!(key.verify(b"massage", &signature), Err(SignatureError::Mismatch));
    /// assert_eq!(key.verify(b"message", &signature[..63]), Err(SignatureError::Length(63)));
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        self.check(message, signature, false)
    }

    /// Like [`PublicKey::verify`], but also accepts a high-S signature. Signatures are
    /// malleable under this check (both `(r, s)` and `(r, n - s)` pass), so use it only for
    /// legacy data known to predate the low-S rule, never for new atproto records or commits.
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let keypair = Keypair::generate(Curve::K256)?;
    /// let signature = keypair.sign(b"old data");
    /// keypair.public_key().verify_allow_high_s(b"old data", &signature)?;
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn verify_allow_high_s(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        self.check(message, signature, true)
    }

    fn check(
        &self,
        message: &[u8],
        signature: &[u8],
        allow_high_s: bool,
    ) -> Result<(), SignatureError> {
        let signature: &[u8; 64] = signature
            .try_into()
            .map_err(|_| SignatureError::Length(signature.len()))?;
        // `from_bytes` rejects r or s of zero or not below the curve order: such a signature
        // cannot match any key. A high S is refused here (the atproto rule) or, with the
        // opt-in, replaced by n - s, the same signature in low-S form.
        match &self.0 {
            Inner::P256(_) => {
                let sig = p256::ecdsa::Signature::from_bytes(signature.into())
                    .map_err(|_| SignatureError::Mismatch)?;
                let sig = low_s(sig.s().is_high().into(), allow_high_s, sig, |s| {
                    s.normalize_s()
                })?;
                // ring's assembly P-256 verifies about 5x faster than p256 0.14 on x86-64
                // (docs/decisions.md); p256 has already parsed and validated the point.
                let point = self.to_uncompressed_bytes();
                ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ECDSA_P256_SHA256_FIXED,
                    &point[..],
                )
                .verify(message, &sig.to_bytes())
                .map_err(|_| SignatureError::Mismatch)
            }
            Inner::K256(key) => {
                let sig = k256::ecdsa::Signature::from_bytes(signature.into())
                    .map_err(|_| SignatureError::Mismatch)?;
                // secp256k1 verification refuses high S itself, so normalise first.
                let sig = low_s(sig.s().is_high().into(), allow_high_s, sig, |s| {
                    s.normalize_s()
                })?;
                key.verify(message, &sig)
                    .map_err(|_| SignatureError::Mismatch)
            }
        }
    }

    pub(crate) fn from_p256(key: p256::ecdsa::VerifyingKey) -> Self {
        PublicKey(Inner::P256(key))
    }

    pub(crate) fn from_k256(key: k256::ecdsa::VerifyingKey) -> Self {
        PublicKey(Inner::K256(key))
    }
}

impl TryFrom<&VerificationMethod> for PublicKey {
    type Error = CryptoError;

    /// Reads the key of a parsed DID document verification method; see
    /// [`PublicKey::from_verification_method`].
    fn try_from(method: &VerificationMethod) -> Result<Self, Self::Error> {
        let multibase = method
            .public_key_multibase
            .as_deref()
            .ok_or(CryptoError::MissingMultibase)?;
        PublicKey::from_verification_method(&method.r#type, multibase)
    }
}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.curve().hash(state);
        self.to_compressed_bytes().hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_did_key())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_did_key())
    }
}

impl FromStr for PublicKey {
    type Err = CryptoError;

    /// Parses a `did:key`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublicKey::from_did_key(s)
    }
}

impl Verifier for PublicKey {
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        PublicKey::verify(self, message, signature)
    }

    fn did_key(&self) -> String {
        self.to_did_key()
    }
}

/// Applies the low-S rule: a high-S signature is an error unless `allow_high_s`, in which case
/// it is replaced by its low-S twin.
fn low_s<S>(
    is_high: bool,
    allow_high_s: bool,
    sig: S,
    normalize: impl FnOnce(S) -> S,
) -> Result<S, SignatureError> {
    match (is_high, allow_high_s) {
        (false, _) => Ok(sig),
        (true, true) => Ok(normalize(sig)),
        (true, false) => Err(SignatureError::HighS),
    }
}
