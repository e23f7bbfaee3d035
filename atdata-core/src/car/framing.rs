//! The CAR v1 framing without I/O: what the next bytes of a stream must be and what they mean.
//!
//! [`CarStreamReader`](super::CarStreamReader) (over `std::io::Read`) and
//! [`AsyncCarReader`](super::AsyncCarReader) (over tokio's `AsyncRead`) only move bytes: each
//! feeds a [`Varint`] one byte at a time, then hands the length and the bytes it read to
//! [`Framing`], which applies the limits, decodes the header or splits the section, and keeps
//! the offsets that errors report. One decoder, so the two readers cannot drift apart.

use super::{split_owned_section, CarError, CarHeader, ReadOptions};
use crate::cid::Cid;

/// A varint read one byte at a time (a length prefix of the CAR framing).
#[derive(Debug, Default)]
pub(crate) struct Varint {
    buf: [u8; 10],
    len: usize,
}

impl Varint {
    /// Takes the next byte; `Some((value, bytes used))` once the varint is complete. Longer
    /// than ten bytes is decoded (and refused) at the tenth.
    pub(crate) fn push(&mut self, byte: u8, offset: u64) -> Result<Option<(u64, usize)>, CarError> {
        self.buf[self.len] = byte;
        self.len += 1;
        if byte & 0x80 != 0 && self.len < self.buf.len() {
            return Ok(None);
        }
        crate::encoding::read_varint(&self.buf[..self.len])
            .map(Some)
            .map_err(|source| CarError::Varint { offset, source })
    }

    /// Whether no byte was taken yet (an end of input here is a clean end of the CAR).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Where a stream is in the CAR, and the limits it is read under.
#[derive(Debug)]
pub(crate) struct Framing {
    options: ReadOptions,
    /// Offset of the next length prefix.
    offset: u64,
    /// Blocks read so far.
    index: u64,
}

impl Framing {
    pub(crate) fn new(options: ReadOptions) -> Self {
        Framing {
            options,
            offset: 0,
            index: 0,
        }
    }

    /// Where the next length prefix starts.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Checks the header's length prefix (`used` bytes long); where its bytes start.
    pub(crate) fn header_len(&self, len: u64, used: usize) -> Result<u64, CarError> {
        self.options.check_header_len(len)?;
        Ok(used as u64)
    }

    /// Decodes the header read after a `used`-byte length prefix.
    pub(crate) fn header(&mut self, used: usize, bytes: &[u8]) -> Result<CarHeader, CarError> {
        let header = CarHeader::decode(bytes)?;
        self.offset = used as u64 + bytes.len() as u64;
        Ok(header)
    }

    /// Checks a section's length prefix (`used` bytes long); where its bytes start.
    pub(crate) fn section_len(&self, len: u64, used: usize) -> Result<u64, CarError> {
        self.options.check_section_len(len, self.offset)?;
        Ok(self.offset + used as u64)
    }

    /// Splits a section read after a `used`-byte length prefix into its CID and block (the
    /// block's hash checked as the options say), and moves past it.
    pub(crate) fn section(
        &mut self,
        used: usize,
        bytes: Vec<u8>,
    ) -> Result<(Cid, Vec<u8>), CarError> {
        let start = self.offset;
        let len = bytes.len() as u64;
        let out = split_owned_section(bytes, self.index, start, &self.options)?;
        self.offset = start + used as u64 + len;
        self.index += 1;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn varints_complete_at_their_last_byte_and_overlong_ones_fail_at_ten() {
        let mut v = Varint::default();
        assert!(v.is_empty());
        assert_eq!(v.push(0x80 | 0x2c, 0).unwrap(), None);
        assert!(!v.is_empty());
        assert_eq!(v.push(0x02, 0).unwrap(), Some((300, 2)));
        let mut v = Varint::default();
        let mut last = None;
        for _ in 0..10 {
            last = Some(v.push(0xff, 7));
        }
        assert!(matches!(
            last,
            Some(Err(CarError::Varint { offset: 7, .. }))
        ));
    }
}
