//! Reading a CAR from a `tokio::io::AsyncRead`, one block at a time.

use tokio::io::{AsyncBufRead, AsyncReadExt, BufReader};

use super::{split_owned_section, CarError, CarHeader, ReadOptions};
use crate::cid::Cid;

/// The async twin of [`super::CarStreamReader`], for HTTP bodies and sockets.
#[derive(Debug)]
pub struct AsyncCarReader<R> {
    inner: BufReader<R>,
    header: CarHeader,
    options: ReadOptions,
    offset: u64,
    index: u64,
    failed: bool,
}

async fn read_varint_from<R: AsyncBufRead + Unpin>(
    r: &mut R,
    offset: u64,
    what: &'static str,
) -> Result<Option<(u64, usize)>, CarError> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = [0u8; 10];
    let mut n = 0;
    loop {
        let mut byte = [0u8; 1];
        let got = r.read(&mut byte).await?;
        if got == 0 {
            if n == 0 {
                return Ok(None);
            }
            return Err(CarError::Truncated { offset, what });
        }
        buf[n] = byte[0];
        n += 1;
        if byte[0] & 0x80 == 0 || n == buf.len() {
            break;
        }
    }
    crate::encoding::read_varint(&buf[..n])
        .map(Some)
        .map_err(|source| CarError::Varint { offset, source })
}

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
        let (len, used) = read_varint_from(&mut inner, 0, "header length")
            .await?
            .ok_or(CarError::Truncated {
                offset: 0,
                what: "header length",
            })?;
        options.check_header_len(len)?;
        let bytes = read_exactly(&mut inner, len, used as u64, "header").await?;
        let header = CarHeader::decode(&bytes)?;
        Ok(AsyncCarReader {
            inner,
            header,
            options,
            offset: used as u64 + len,
            index: 0,
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
        let start = self.offset;
        let Some((len, used)) = read_varint_from(&mut self.inner, start, "section length").await?
        else {
            return Ok(None);
        };
        self.options.check_section_len(len, start)?;
        let section = read_exactly(&mut self.inner, len, start + used as u64, "section").await?;
        let (cid, section) = split_owned_section(section, self.index, start, &self.options)?;
        self.offset = start + used as u64 + len;
        self.index += 1;
        Ok(Some((cid, section)))
    }
}
