//! Reading a CAR from any `std::io::Read`, one block at a time.

use std::io::{BufRead, BufReader, Read};

use super::framing::{Framing, Varint};
use super::{CarError, CarHeader, ReadOptions};
use crate::cid::Cid;

/// A CAR read block by block from a byte stream (a file, a socket, a decompressor).
///
/// Memory use is bounded by [`ReadOptions::max_block_len`] whatever the input claims.
///
/// ```no_run
/// # fn main() -> Result<(), atdata_core::car::CarError> {
/// let file = std::fs::File::open("repo.car")?;
/// let mut car = atdata_core::car::CarStreamReader::new(file)?;
/// while let Some((cid, bytes)) = car.next_block()? {
///     println!("{cid}: {} bytes", bytes.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CarStreamReader<R> {
    inner: BufReader<R>,
    header: CarHeader,
    framing: Framing,
    failed: bool,
}

/// Reads a varint; `Ok(None)` on a clean end of input before its first byte.
fn read_varint_from<R: BufRead>(
    r: &mut R,
    offset: u64,
    what: &'static str,
) -> Result<Option<(u64, usize)>, CarError> {
    let mut varint = Varint::default();
    loop {
        let mut byte = [0u8; 1];
        match r.read(&mut byte) {
            Ok(0) if varint.is_empty() => return Ok(None),
            Ok(0) => return Err(CarError::Truncated { offset, what }),
            Ok(_) => {
                if let Some(done) = varint.push(byte[0], offset)? {
                    return Ok(Some(done));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads exactly `len` bytes into a new buffer, growing it as data arrives rather than trusting
/// `len` for the allocation.
fn read_exactly<R: Read>(
    r: &mut R,
    len: u64,
    offset: u64,
    what: &'static str,
) -> Result<Vec<u8>, CarError> {
    let mut out = Vec::with_capacity(len.min(64 << 10) as usize);
    r.take(len).read_to_end(&mut out)?;
    if (out.len() as u64) < len {
        return Err(CarError::Truncated { offset, what });
    }
    Ok(out)
}

impl<R: Read> CarStreamReader<R> {
    /// Reads the header with the default options.
    pub fn new(reader: R) -> Result<Self, CarError> {
        Self::with_options(reader, ReadOptions::DEFAULT)
    }

    /// Reads the header with explicit options.
    pub fn with_options(reader: R, options: ReadOptions) -> Result<Self, CarError> {
        let mut inner = BufReader::with_capacity(64 << 10, reader);
        let mut framing = Framing::new(options);
        let (len, used) =
            read_varint_from(&mut inner, 0, "header length")?.ok_or(CarError::Truncated {
                offset: 0,
                what: "header length",
            })?;
        let at = framing.header_len(len, used)?;
        let bytes = read_exactly(&mut inner, len, at, "header")?;
        let header = framing.header(used, &bytes)?;
        Ok(CarStreamReader {
            inner,
            header,
            framing,
            failed: false,
        })
    }

    /// The header's root CIDs.
    pub fn roots(&self) -> &[Cid] {
        &self.header.roots
    }

    /// The next block, or `None` at the end of the CAR. After an error the position in the
    /// stream is unknown, so every later call returns `None`.
    pub fn next_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        if self.failed {
            return Ok(None);
        }
        let out = self.read_block();
        self.failed = out.is_err();
        out
    }

    fn read_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        let start = self.framing.offset();
        let Some((len, used)) = read_varint_from(&mut self.inner, start, "section length")? else {
            return Ok(None);
        };
        let at = self.framing.section_len(len, used)?;
        let section = read_exactly(&mut self.inner, len, at, "section")?;
        self.framing.section(used, section).map(Some)
    }
}

impl<R: Read> Iterator for CarStreamReader<R> {
    type Item = Result<(Cid, Vec<u8>), CarError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_block().transpose()
    }
}
