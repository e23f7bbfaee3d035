//! AT Protocol keys and signatures: P-256 and secp256k1 keypairs, `did:key`, multibase
//! (`Multikey` and the legacy DID-document forms), and ECDSA signatures the way atproto
//! requires them — SHA-256, compact 64-byte `r‖s`, low-S only.
//!
//! See <https://atproto.com/specs/cryptography>.
//!
//! ```
//! use atdata_crypto::{Curve, Keypair, PublicKey};
//!
//! // Generate, sign, and publish the public key as a did:key.
//! let keypair = Keypair::generate(Curve::K256)?;
//! let signature = keypair.sign(b"some bytes");
//! let did_key = keypair.public_key().to_did_key();
//!
//! // Anyone holding the did:key can check the signature.
//! let key: PublicKey = did_key.parse()?;
//! key.verify(b"some bytes", &signature)?;
//! # Ok::<(), atdata_crypto::CryptoError>(())
//! ```
//!
//! [`PublicKey`] implements [`atdata_core::signing::Verifier`] and [`Keypair`] implements
//! [`atdata_core::signing::Signer`], so both plug into repository commit signing and checking.

mod curve;
pub mod did_key;
mod error;
mod keypair;
mod multibase;
mod public_key;

pub use atdata_core::signing::{SignatureError, Signer, Verifier};
pub use curve::Curve;
pub use error::CryptoError;
pub use keypair::Keypair;
pub use public_key::PublicKey;
pub use zeroize::Zeroizing;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
