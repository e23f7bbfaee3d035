//! The seam between repository code (here, no elliptic curves) and `atdata-crypto` (which has
//! them): commits are signed and verified through these traits, so `atdata-core` stays free of
//! crypto dependencies and any key implementation can be plugged in.

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is not 64 bytes (compact r‖s); DER is not accepted.
    #[error("signature must be 64 bytes (compact r||s), got {0}")]
    Length(usize),
    /// The signature has a high S value; atproto requires low-S.
    #[error("signature has a high S value (malleable); atproto requires low-S")]
    HighS,
    /// The signature does not verify against the key.
    #[error("signature does not match the key")]
    Mismatch,
}

/// Something that can check a signature over a message (a public key).
pub trait Verifier {
    /// Checks `signature` (compact 64 bytes, low-S) over `message`, hashed with SHA-256.
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError>;

    /// The key as a `did:key:…` string, for messages.
    fn did_key(&self) -> String;
}

/// Something that can sign a message (a private key).
pub trait Signer {
    /// Signs `message` (hashed with SHA-256), returning the compact 64-byte low-S signature.
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignatureError>;

    /// The public key as a `did:key:…` string.
    fn did_key(&self) -> String;
}

impl<T: Verifier + ?Sized> Verifier for &T {
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        (**self).verify(message, signature)
    }
    fn did_key(&self) -> String {
        (**self).did_key()
    }
}

impl<T: Signer + ?Sized> Signer for &T {
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignatureError> {
        (**self).sign(message)
    }
    fn did_key(&self) -> String {
        (**self).did_key()
    }
}
