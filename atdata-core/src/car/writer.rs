//! Writing CAR v1 files.

use std::io::Write;

use super::CarHeader;
use crate::cid::Cid;
use crate::encoding;

/// Writes a CAR to any `Write`: the header first, then one section per block.
///
/// The writer does not hash the data: pass CIDs you computed from it (e.g. with
/// [`Cid::for_dag_cbor`]).
#[derive(Debug)]
pub struct CarWriter<W: Write> {
    inner: W,
    scratch: Vec<u8>,
}

impl<W: Write> CarWriter<W> {
    /// Writes the header with the given roots.
    pub fn new(mut inner: W, roots: &[Cid]) -> std::io::Result<Self> {
        let header = CarHeader {
            roots: roots.to_vec(),
        }
        .encode();
        let mut scratch = Vec::with_capacity(16);
        encoding::write_varint(&mut scratch, header.len() as u64);
        inner.write_all(&scratch)?;
        inner.write_all(&header)?;
        Ok(CarWriter { inner, scratch })
    }

    /// Appends one block.
    pub fn write_block(&mut self, cid: &Cid, data: &[u8]) -> std::io::Result<()> {
        self.scratch.clear();
        let cid_bytes = cid.as_bytes();
        encoding::write_varint(&mut self.scratch, (cid_bytes.len() + data.len()) as u64);
        self.scratch.extend_from_slice(cid_bytes);
        self.inner.write_all(&self.scratch)?;
        self.inner.write_all(data)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Builds a whole CAR in memory.
pub fn write_car<'d>(roots: &[Cid], blocks: impl IntoIterator<Item = (Cid, &'d [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    if let Ok(mut w) = CarWriter::new(&mut out, roots) {
        for (cid, data) in blocks {
            let _ = w.write_block(&cid, data);
        }
    }
    out
}
