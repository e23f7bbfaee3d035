//! Conversions between [`Cid`] and the `cid` crate's [`cid::Cid`] (feature `cid`), for code
//! that meets both (IPFS and IPLD libraries use the `cid` crate).
//!
//! ```
//! use atdata_core::Cid;
//! let ours: Cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".parse()?;
//! let theirs = cid::Cid::from(ours);
//! assert_eq!(theirs.codec(), atdata_core::cid::DAG_CBOR);
//! assert_eq!(Cid::try_from(theirs)?, ours);
//! # Ok::<(), atdata_core::cid::CidError>(())
//! ```
//!
//! Every [`Cid`] converts: its digest is at most 32 bytes and `cid::Cid` holds up to 64. The way
//! back refuses what parsing refuses: CIDv0, digests over 32 bytes and codec or hash-code
//! varints too long for [`Cid::MAX_BYTES`]. Other codecs and hash functions convert, as they
//! parse.

use crate::cid::{Cid, CidError};
use crate::encoding;

impl From<Cid> for cid::Cid {
    fn from(ours: Cid) -> cid::Cid {
        // `Multihash::<64>::wrap` only fails for digests over 64 bytes, and ours hold at most
        // 32 (`Cid::check_bytes` refuses longer), so the error arm cannot be taken.
        match cid::multihash::Multihash::<64>::wrap(ours.hash_code(), ours.digest()) {
            Ok(hash) => cid::Cid::new_v1(ours.codec(), hash),
            Err(_) => unreachable!("a Cid digest is at most 32 bytes, a cid::Cid holds 64"),
        }
    }
}

impl From<&Cid> for cid::Cid {
    fn from(ours: &Cid) -> cid::Cid {
        cid::Cid::from(*ours)
    }
}

/// Refuses CIDv0 ([`CidError::V0`]), digests over 32 bytes ([`CidError::DigestTooLong`]) and
/// CIDs whose binary form exceeds [`Cid::MAX_BYTES`] ([`CidError::TooLong`]).
impl<const S: usize> TryFrom<cid::CidGeneric<S>> for Cid {
    type Error = CidError;

    fn try_from(theirs: cid::CidGeneric<S>) -> Result<Cid, CidError> {
        if theirs.version() == cid::Version::V0 {
            return Err(CidError::V0);
        }
        let hash = theirs.hash();
        let digest = hash.digest();
        if digest.len() > 32 {
            return Err(CidError::DigestTooLong(digest.len() as u64));
        }
        // Rebuild the binary form and parse it, so every rule of `Cid::from_bytes` applies here
        // exactly as it does to bytes read from a CAR.
        let mut bytes = Vec::with_capacity(Cid::MAX_BYTES + 8);
        encoding::write_varint(&mut bytes, 1);
        encoding::write_varint(&mut bytes, theirs.codec());
        encoding::write_varint(&mut bytes, hash.code());
        encoding::write_varint(&mut bytes, digest.len() as u64);
        bytes.extend_from_slice(digest);
        if bytes.len() > Cid::MAX_BYTES {
            return Err(CidError::TooLong);
        }
        Cid::from_bytes(&bytes)
    }
}

impl<const S: usize> TryFrom<&cid::CidGeneric<S>> for Cid {
    type Error = CidError;

    fn try_from(theirs: &cid::CidGeneric<S>) -> Result<Cid, CidError> {
        Cid::try_from(*theirs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

    fn theirs(version: cid::Version, codec: u64, code: u64, digest: &[u8]) -> cid::Cid {
        let hash = cid::multihash::Multihash::<64>::wrap(code, digest).expect("multihash");
        cid::Cid::new(version, codec, hash).expect("cid")
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let ours: Cid = POST.parse().expect("parse");
        let converted = cid::Cid::from(ours);
        assert_eq!(converted.version(), cid::Version::V1);
        assert_eq!(converted.codec(), ours.codec());
        assert_eq!(converted.hash().code(), ours.hash_code());
        assert_eq!(converted.hash().digest(), ours.digest());
        assert_eq!(Cid::try_from(converted), Ok(ours));
        assert_eq!(Cid::try_from(&converted), Ok(ours));
        // `cid::Cid` has no `Debug` without the crate's `alloc` feature, hence `assert!`.
        assert!(cid::Cid::from(&ours) == converted);
    }

    #[test]
    fn other_codecs_and_hashes_convert_like_they_parse() {
        // Blake3 (0x1e) under a codec whose varint takes two bytes: parsing accepts it.
        let digest = [9u8; 32];
        let their = theirs(cid::Version::V1, 0x0129, 0x1e, &digest);
        let ours = Cid::try_from(their).expect("converts");
        assert_eq!((ours.codec(), ours.hash_code()), (0x0129, 0x1e));
        assert_eq!(ours.digest(), digest);
        assert!(cid::Cid::from(ours) == their);
        // A short (truncated) digest is still a CID.
        let short = theirs(cid::Version::V1, 0x55, 0x12, &[1, 2, 3]);
        assert!(cid::Cid::from(Cid::try_from(short).expect("short")) == short);
    }

    #[test]
    fn refuses_what_parsing_refuses() {
        let v0 = theirs(cid::Version::V0, 0x70, 0x12, &[7u8; 32]);
        assert_eq!(Cid::try_from(v0), Err(CidError::V0));
        let sha512 = theirs(cid::Version::V1, 0x71, 0x13, &[7u8; 64]);
        assert_eq!(Cid::try_from(sha512), Err(CidError::DigestTooLong(64)));
        // Codec and hash-code varints of 9 bytes each: 1 + 9 + 9 + 1 + 32 > 39 bytes.
        let wide = theirs(cid::Version::V1, 1 << 62, 1 << 62, &[7u8; 32]);
        assert_eq!(Cid::try_from(wide), Err(CidError::TooLong));
    }
}
