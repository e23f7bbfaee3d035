//! CAR v1 files: the container for repository exports and firehose commit slices.
//!
//! A CAR is a varint-prefixed DAG-CBOR header (`{"roots": [...], "version": 1}`) followed by
//! varint-prefixed sections, each a binary CID and that block's bytes.
//!
//! - [`CarReader`] reads a CAR held in memory; blocks borrow from the buffer.
//! - [`CarStreamReader`] reads from any [`std::io::Read`]; with the `tokio` feature,
//!   `AsyncCarReader` reads from a `tokio::io::AsyncRead`.
//! - [`CarWriter`] writes one.
//!
//! Every reader checks each block's SHA-256 against its CID unless told not to
//! ([`ReadOptions::verify_hashes`]), and bounds every length it reads before allocating for it.
//!
//! ```
//! use atdata_core::{car, Cid};
//! let data = b"\xa1\x61a\x01"; // {"a": 1}
//! let cid = Cid::for_dag_cbor(data);
//! let bytes = car::write_car(&[cid], [(cid, &data[..])]);
//! let reader = car::CarReader::new(&bytes)?;
//! assert_eq!(reader.roots(), &[cid]);
//! for block in reader.blocks() {
//!     let block = block?;
//!     assert_eq!(block.decode()?.get("a").and_then(|v| v.as_integer()), Some(1));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "tokio")]
mod async_stream;
mod error;
mod framing;
mod header;
mod slice;
mod stream;
mod writer;

#[cfg(feature = "tokio")]
pub use async_stream::AsyncCarReader;
pub use error::CarError;
pub use header::CarHeader;
pub use slice::{Block, Blocks, CarReader};
pub use stream::CarStreamReader;
pub use writer::{write_car, CarWriter};

/// Settings shared by every reader.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Check every block's bytes against the hash in its CID (default `true`). Turning this off
    /// is only safe when the bytes were verified before, e.g. a file you wrote yourself.
    pub verify_hashes: bool,
    /// Largest accepted section (CID plus block bytes); default 4 MiB, twice the largest block a
    /// PDS will store.
    pub max_block_len: usize,
    /// Largest accepted header; default 64 KiB.
    pub max_header_len: usize,
}

impl ReadOptions {
    /// The defaults: verify hashes, 4 MiB sections, 64 KiB header.
    pub const DEFAULT: ReadOptions = ReadOptions {
        verify_hashes: true,
        max_block_len: 4 << 20,
        max_header_len: 64 << 10,
    };

    /// The defaults without hash checks.
    pub fn unverified() -> Self {
        ReadOptions {
            verify_hashes: false,
            ..ReadOptions::DEFAULT
        }
    }
}

impl ReadOptions {
    pub(crate) fn check_header_len(&self, len: u64) -> Result<(), CarError> {
        if len > self.max_header_len as u64 {
            return Err(CarError::TooLarge {
                what: "header",
                offset: 0,
                len,
                max: self.max_header_len,
            });
        }
        Ok(())
    }

    pub(crate) fn check_section_len(&self, len: u64, offset: u64) -> Result<(), CarError> {
        if len > self.max_block_len as u64 {
            return Err(CarError::TooLarge {
                what: "section",
                offset,
                len,
                max: self.max_block_len,
            });
        }
        Ok(())
    }
}

/// Splits a section a streaming reader read into its CID and block bytes, checking the hash
/// when the options ask for it.
pub(crate) fn split_owned_section(
    mut section: Vec<u8>,
    index: u64,
    offset: u64,
    options: &ReadOptions,
) -> Result<(crate::Cid, Vec<u8>), CarError> {
    let (cid, cid_len) = crate::Cid::read_bytes(&section).map_err(|source| CarError::Cid {
        index,
        offset,
        source,
    })?;
    section.drain(..cid_len);
    if options.verify_hashes {
        verify_block(&cid, &section, index, offset)?;
    }
    Ok((cid, section))
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions::DEFAULT
    }
}

/// Checks a block's bytes against its CID, as every reader does when verification is on.
pub(crate) fn verify_block(
    cid: &crate::Cid,
    data: &[u8],
    index: u64,
    offset: u64,
) -> Result<(), CarError> {
    match cid.matches(data) {
        Some(true) => Ok(()),
        Some(false) => Err(CarError::HashMismatch {
            index,
            offset,
            cid: *cid,
        }),
        None => Err(CarError::UnsupportedHash { index, cid: *cid }),
    }
}
