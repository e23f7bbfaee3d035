//! Reading a CAR from a `tokio::io::AsyncRead`, one block at a time.

use tokio::io::{AsyncBufRead, AsyncReadExt, BufReader};

use super::framing::{Framing, Varint};
use super::{CarError, CarHeader, ReadOptions};
use crate::cid::Cid;

/// The async twin of [`super::CarStreamReader`], for HTTP bodies and sockets.
#[derive(Debug)]
pub struct AsyncCarReader<R> {
    inner: BufReader<R>,
    header: CarHeader,
    framing: Framing,
    failed: bool,
}

/// Reads a varint; `Ok(None)` on a clean end of input before its first byte.
async fn read_varint_from<R: AsyncBufRead + Unpin>(
    r: &mut R,
    offset: u64,
    what: &'static str,
) -> Result<Option<(u64, usize)>, CarError> {
    let mut varint = Varint::default();
    loop {
        let mut byte = [0u8; 1];
        if r.read(&mut byte).await? == 0 {
            if varint.is_empty() {
                return Ok(None);
            }
            return Err(CarError::Truncated { offset, what });
        }
        if let Some(done) = varint.push(byte[0], offset)? {
            return Ok(Some(done));
        }
    }
}

/// Reads exactly `len` bytes, growing the buffer as data arrives.
async fn read_exactly<R: tokio::io::AsyncRead + Unpin>(
    r: &mut R,
    len: u64,
    offset: u64,
    what: &'static str,
) -> Result<Vec<u8>, CarError> {
    let mut out = Vec::with_capacity(len.min(64 << 10) as usize);
    r.take(len).read_to_end(&mut out).await?;
    if (out.len() as u64) < len {
        return Err(CarError::Truncated { offset, what });
    }
    Ok(out)
}

impl<R: tokio::io::AsyncRead + Unpin> AsyncCarReader<R> {
    /// Reads the header with the default options.
    pub async fn new(reader: R) -> Result<Self, CarError> {
        Self::with_options(reader, ReadOptions::DEFAULT).await
    }

    /// Reads the header with explicit options.
    pub async fn with_options(reader: R, options: ReadOptions) -> Result<Self, CarError> {
        let mut inner = BufReader::with_capacity(64 << 10, reader);
        let mut framing = Framing::new(options);
        let (len, used) = read_varint_from(&mut inner, 0, "header length")
            .await?
            .ok_or(CarError::Truncated {
                offset: 0,
                what: "header length",
            })?;
        let at = framing.header_len(len, used)?;
        let bytes = read_exactly(&mut inner, len, at, "header").await?;
        let header = framing.header(used, &bytes)?;
        Ok(AsyncCarReader {
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

    /// The next block, or `None` at the end of the CAR. After an error every later call
    /// returns `None`.
    pub async fn next_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        if self.failed {
            return Ok(None);
        }
        let out = self.read_block().await;
        self.failed = out.is_err();
        out
    }

    async fn read_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        let start = self.framing.offset();
        let Some((len, used)) = read_varint_from(&mut self.inner, start, "section length").await?
        else {
            return Ok(None);
        };
        let at = self.framing.section_len(len, used)?;
        let section = read_exactly(&mut self.inner, len, at, "section").await?;
        self.framing.section(used, section).map(Some)
    }
}
