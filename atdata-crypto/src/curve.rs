//! The two curves atproto uses, with their multicodec codes and JWT algorithm names.

use std::fmt;
use std::str::FromStr;

use crate::CryptoError;

/// An elliptic curve atproto signs with.
///
/// ```
/// use atdata_crypto::Curve;
///
/// let curve: Curve = "k256".parse()?;
/// assert_eq!(curve, Curve::K256);
/// assert_eq!(curve.jwt_alg(), "ES256K");
/// assert_eq!(curve.public_multicodec(), 0xe7);
/// # Ok::<(), atdata_crypto::CryptoError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Curve {
    /// NIST P-256 (secp256r1, prime256v1); JWT `ES256`.
    P256,
    /// secp256k1 (the Bitcoin curve); JWT `ES256K`.
    K256,
}

impl Curve {
    /// Both curves, P-256 first.
    pub const ALL: [Curve; 2] = [Curve::P256, Curve::K256];

    /// The multicodec code of a public key on this curve: `0x1200` (p256-pub) or `0xe7`
    /// (secp256k1-pub).
    pub const fn public_multicodec(self) -> u64 {
        match self {
            Curve::P256 => 0x1200,
            Curve::K256 => 0xe7,
        }
    }

    /// The multicodec code of a private key on this curve: `0x1306` (p256-priv) or `0x1301`
    /// (secp256k1-priv).
    pub const fn private_multicodec(self) -> u64 {
        match self {
            Curve::P256 => 0x1306,
            Curve::K256 => 0x1301,
        }
    }

    /// The curve whose public-key multicodec is `code`.
    ///
    /// ```
    /// use atdata_crypto::Curve;
    /// assert_eq!(Curve::from_public_multicodec(0x1200), Some(Curve::P256));
    /// assert_eq!(Curve::from_public_multicodec(0x1306), None); // a private-key code
    /// ```
    pub const fn from_public_multicodec(code: u64) -> Option<Curve> {
        match code {
            0x1200 => Some(Curve::P256),
            0xe7 => Some(Curve::K256),
            _ => None,
        }
    }

    /// The curve whose private-key multicodec is `code`.
    ///
    /// ```
    /// use atdata_crypto::Curve;
    /// assert_eq!(Curve::from_private_multicodec(0x1301), Some(Curve::K256));
    /// ```
    pub const fn from_private_multicodec(code: u64) -> Option<Curve> {
        match code {
            0x1306 => Some(Curve::P256),
            0x1301 => Some(Curve::K256),
            _ => None,
        }
    }

    /// The JWT `alg` for signatures on this curve: `ES256` or `ES256K`.
    pub const fn jwt_alg(self) -> &'static str {
        match self {
            Curve::P256 => "ES256",
            Curve::K256 => "ES256K",
        }
    }

    /// The curve for a JWT `alg` (`ES256` or `ES256K`, exact case).
    ///
    /// ```
    /// use atdata_crypto::Curve;
    /// assert_eq!(Curve::from_jwt_alg("ES256K"), Some(Curve::K256));
    /// assert_eq!(Curve::from_jwt_alg("RS256"), None);
    /// ```
    pub fn from_jwt_alg(alg: &str) -> Option<Curve> {
        match alg {
            "ES256" => Some(Curve::P256),
            "ES256K" => Some(Curve::K256),
            _ => None,
        }
    }

    /// The legacy DID-document verification method type for keys on this curve:
    /// `EcdsaSecp256r1VerificationKey2019` or `EcdsaSecp256k1VerificationKey2019`.
    pub const fn legacy_verification_method_type(self) -> &'static str {
        match self {
            Curve::P256 => "EcdsaSecp256r1VerificationKey2019",
            Curve::K256 => "EcdsaSecp256k1VerificationKey2019",
        }
    }

    /// The short name used by this crate and the CLI: `p256` or `k256`.
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "p256",
            Curve::K256 => "k256",
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Curve {
    type Err = CryptoError;

    /// Accepts `p256`, `P-256`, `secp256r1`, `ES256` and `k256`, `secp256k1`, `ES256K`
    /// (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "secp256r1" | "es256" => Ok(Curve::P256),
            "k256" | "k-256" | "secp256k1" | "es256k" => Ok(Curve::K256),
            _ => Err(CryptoError::UnknownCurve(s.chars().take(32).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for curve in Curve::ALL {
            assert_eq!(
                Curve::from_public_multicodec(curve.public_multicodec()),
                Some(curve)
            );
            assert_eq!(
                Curve::from_private_multicodec(curve.private_multicodec()),
                Some(curve)
            );
            assert_eq!(Curve::from_jwt_alg(curve.jwt_alg()), Some(curve));
            assert_eq!(curve.name().parse::<Curve>(), Ok(curve));
        }
        assert!("ed25519".parse::<Curve>().is_err());
    }
}
