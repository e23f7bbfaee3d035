//! Errors from reading CAR files.

use crate::cbor::DecodeError;
use crate::cid::{Cid, CidError};
use crate::encoding::VarintError;

/// Why a CAR could not be read. Offsets are byte positions in the CAR; `index` counts blocks
/// from 0.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CarError {
    /// Reading from the underlying source failed.
    #[error("reading CAR: {0}")]
    Io(#[from] std::io::Error),
    /// The input ended inside a header or section.
    #[error("CAR is truncated at byte {offset}: {what}")]
    Truncated {
        /// Where the missing bytes were expected.
        offset: u64,
        /// What was being read.
        what: &'static str,
    },
    /// A section or header length varint is malformed.
    #[error("bad length varint at byte {offset}: {source}")]
    Varint {
        /// Where the varint starts.
        offset: u64,
        /// What was wrong.
        source: VarintError,
    },
    /// A length larger than the configured limit.
    #[error("{what} of {len} bytes at byte {offset} exceeds the limit of {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Where it starts.
        offset: u64,
        /// Its declared length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// The header is not `{"roots": [links], "version": 1}`.
    #[error("bad CAR header: {0}")]
    Header(String),
    /// A section's CID does not parse.
    #[error("block {index} at byte {offset}: bad CID: {source}")]
    Cid {
        /// Block number.
        index: u64,
        /// Where the section starts.
        offset: u64,
        /// What was wrong.
        source: CidError,
    },
    /// A block's bytes do not hash to its CID.
    #[error("block {index} at byte {offset} ({cid}): bytes do not match the CID's hash")]
    HashMismatch {
        /// Block number.
        index: u64,
        /// Where the section starts.
        offset: u64,
        /// The CID the section claims.
        cid: Cid,
    },
    /// A block uses a hash function other than SHA-256, so it cannot be checked.
    #[error("block {index} ({cid}): hash function is not SHA-256, cannot verify")]
    UnsupportedHash {
        /// Block number.
        index: u64,
        /// The block's CID.
        cid: Cid,
    },
    /// A block's DAG-CBOR does not decode (only from the checking helpers such as
    /// [`super::CarReader::verify_all`]).
    #[error("block {index} ({cid}): {source}")]
    Decode {
        /// Block number.
        index: u64,
        /// The block's CID.
        cid: Cid,
        /// What was wrong.
        source: DecodeError,
    },
}
