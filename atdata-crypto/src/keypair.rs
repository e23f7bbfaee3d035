//! [`Keypair`]: a private key on one of the two curves, and signing.

use std::fmt;

use atdata_core::signing::{SignatureError, Signer};
use k256::elliptic_curve::Generate as _;
use p256::ecdsa::signature::Signer as _;
use zeroize::{Zeroize as _, Zeroizing};

use crate::{multibase, CryptoError, Curve, PublicKey};

/// A private key (with its public key) on P-256 or secp256k1.
///
/// The secret scalar is zeroized when the keypair is dropped. Exported forms
/// ([`to_bytes`](Keypair::to_bytes), [`to_hex`](Keypair::to_hex),
/// [`to_multibase`](Keypair::to_multibase)) come wrapped in [`Zeroizing`], so they are wiped
/// too. `Debug` shows the curve and the public key, never the secret; there is no `Display`.
///
/// ```
/// use atdata_crypto::{Curve, Keypair};
///
/// let keypair = Keypair::generate(Curve::P256)?;
/// let signature = keypair.sign(b"hello");            // compact r‖s, always low-S
/// keypair.public_key().verify(b"hello", &signature)?;
///
/// let saved = keypair.to_multibase();                 // "z…", keep it secret
/// let again = Keypair::from_multibase(&saved)?;
/// assert_eq!(again.public_key(), keypair.public_key());
/// # Ok::<(), atdata_crypto::CryptoError>(())
/// ```
#[derive(Clone)]
pub struct Keypair(Inner);

// Both signing keys zeroize their scalar on drop.
#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::SigningKey),
    K256(k256::ecdsa::SigningKey),
}

impl Keypair {
    /// A new random key from the operating system's random number generator.
    ///
    /// Fails only when that generator does.
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let keypair = Keypair::generate(Curve::K256)?;
    /// assert_eq!(keypair.curve(), Curve::K256);
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn generate(curve: Curve) -> Result<Self, CryptoError> {
        let rng_error =
            |e: k256::elliptic_curve::common::getrandom::Error| CryptoError::Rng(e.to_string());
        let inner = match curve {
            Curve::P256 => Inner::P256(p256::ecdsa::SigningKey::try_generate().map_err(rng_error)?),
            Curve::K256 => Inner::K256(k256::ecdsa::SigningKey::try_generate().map_err(rng_error)?),
        };
        Ok(Keypair(inner))
    }

    /// Reads the raw 32-byte big-endian private scalar. It must be non-zero and below the
    /// curve order.
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let keypair = Keypair::from_bytes(Curve::K256, &[7u8; 32])?;
    /// assert_eq!(*keypair.to_bytes(), [7u8; 32]);
    /// assert!(Keypair::from_bytes(Curve::K256, &[0u8; 32]).is_err());
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_bytes(curve: Curve, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::InvalidPrivateKey(curve));
        }
        let invalid = |_| CryptoError::InvalidPrivateKey(curve);
        let inner = match curve {
            Curve::P256 => {
                Inner::P256(p256::ecdsa::SigningKey::from_slice(bytes).map_err(invalid)?)
            }
            Curve::K256 => {
                Inner::K256(k256::ecdsa::SigningKey::from_slice(bytes).map_err(invalid)?)
            }
        };
        Ok(Keypair(inner))
    }

    /// The raw 32-byte private scalar, wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut field_bytes = match &self.0 {
            Inner::P256(key) => key.to_bytes(),
            Inner::K256(key) => key.to_bytes(),
        };
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&field_bytes);
        field_bytes.zeroize();
        out
    }

    /// Reads the private scalar as 64 hex digits (either case), the form the reference PDS
    /// uses in its environment (`…_PRIVATE_KEY_HEX`).
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let hex = "9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c";
    /// let keypair = Keypair::from_hex(Curve::K256, hex)?;
    /// assert_eq!(
    ///     keypair.did_key(),
    ///     "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
    /// );
    /// assert_eq!(*keypair.to_hex(), hex);
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_hex(curve: Curve, hex: &str) -> Result<Self, CryptoError> {
        let digits = hex.as_bytes();
        if digits.len() != 64 {
            return Err(CryptoError::Hex);
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let (Some(high), Some(low)) = (hex_value(pair[0]), hex_value(pair[1])) else {
                return Err(CryptoError::Hex);
            };
            *byte = (high << 4) | low;
        }
        Self::from_bytes(curve, bytes.as_slice())
    }

    /// The private scalar as 64 lower-case hex digits, wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let bytes = self.to_bytes();
        let mut out = Zeroizing::new(String::with_capacity(64));
        for byte in bytes.iter() {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Reads the multibase private-key form: `z` + base58btc(multicodec varint
    /// `0x1306` p256-priv or `0x1301` secp256k1-priv, then the 32-byte scalar). The curve
    /// comes from the prefix.
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let keypair = Keypair::generate(Curve::P256)?;
    /// let text = keypair.to_multibase();
    /// assert!(text.starts_with('z'));
    /// assert_eq!(Keypair::from_multibase(&text)?.curve(), Curve::P256);
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn from_multibase(multibase: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(multibase::decode(multibase)?);
        let (code, scalar) = multibase::split_multicodec(&bytes)?;
        let curve = match Curve::from_private_multicodec(code) {
            Some(curve) => curve,
            None if Curve::from_public_multicodec(code).is_some() => {
                return Err(CryptoError::WrongKeyKind {
                    expected: "private",
                    got: "public",
                })
            }
            None => return Err(CryptoError::UnknownPrivateKeyType(code)),
        };
        Self::from_bytes(curve, scalar)
    }

    /// The multibase private-key form (see [`Keypair::from_multibase`]), wiped when dropped.
    pub fn to_multibase(&self) -> Zeroizing<String> {
        let bytes = self.to_bytes();
        let prefixed = Zeroizing::new(multibase::with_multicodec(
            self.curve().private_multicodec(),
            bytes.as_slice(),
        ));
        Zeroizing::new(multibase::encode(&prefixed))
    }

    /// The curve of this key.
    pub fn curve(&self) -> Curve {
        match self.0 {
            Inner::P256(_) => Curve::P256,
            Inner::K256(_) => Curve::K256,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match &self.0 {
            Inner::P256(key) => PublicKey::from_p256(*key.verifying_key()),
            Inner::K256(key) => PublicKey::from_k256(*key.verifying_key()),
        }
    }

    /// The public key as `did:key:z…`.
    pub fn did_key(&self) -> String {
        self.public_key().to_did_key()
    }

    /// Signs `message`: SHA-256, then ECDSA with a deterministic nonce (RFC 6979). The result
    /// is the compact 64-byte `r‖s` form with a low S value, as atproto requires.
    ///
    /// ```
    /// use atdata_crypto::{Curve, Keypair};
    ///
    /// let keypair = Keypair::generate(Curve::P256)?;
    /// let signature: [u8; 64] = keypair.sign(b"commit bytes");
    /// assert_eq!(signature, keypair.sign(b"commit bytes")); // deterministic
    /// # Ok::<(), atdata_crypto::CryptoError>(())
    /// ```
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        // RFC 6979 signing cannot fail for a valid key: it retries nonces internally.
        match &self.0 {
            Inner::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.normalize_s().to_bytes().into()
            }
            Inner::K256(key) => {
                let signature: k256::ecdsa::Signature = key.sign(message);
                signature.normalize_s().to_bytes().into()
            }
        }
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("curve", &self.curve())
            .field("public_key", &self.did_key())
            .finish_non_exhaustive()
    }
}

impl Signer for Keypair {
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignatureError> {
        Ok(Keypair::sign(self, message))
    }

    fn did_key(&self) -> String {
        Keypair::did_key(self)
    }
}
