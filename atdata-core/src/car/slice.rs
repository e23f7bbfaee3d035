//! Reading a CAR held in memory, with blocks borrowed from the buffer.

use super::{verify_block, CarError, CarHeader, ReadOptions};
use crate::cbor::{self, DecodeError, DecodeErrorKind};
use crate::cid::{self, Cid};
use crate::encoding;
use crate::value_ref::ValueRef;

/// One block of a CAR: its CID and its bytes, borrowed from the CAR buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// The block's CID.
    pub cid: Cid,
    /// The block's bytes.
    pub data: &'a [u8],
}

impl<'a> Block<'a> {
    /// Decodes the block onto a reusable [`cbor::Tape`]: the same result as [`Block::decode`],
    /// but after the first few blocks it allocates nothing. This is the fastest way to read every
    /// block of a CAR.
    ///
    /// ```
    /// # let data = b"\xa1\x61a\x01";
    /// # let cid = atdata_core::Cid::for_dag_cbor(data);
    /// # let bytes = atdata_core::car::write_car(&[cid], [(cid, &data[..])]);
    /// let reader = atdata_core::car::CarReader::new(&bytes)?;
    /// let mut tape = atdata_core::cbor::Tape::new();
    /// for block in reader.blocks() {
    ///     let value = block?.decode_into(&mut tape)?;
    ///     assert_eq!(value.get("a").and_then(|v| v.as_integer()), Some(1));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn decode_into<'t>(
        &self,
        tape: &'t mut cbor::Tape<'a>,
    ) -> Result<cbor::TapeValue<'t, 'a>, DecodeError> {
        match self.cid.codec() {
            cid::DAG_CBOR => tape.decode(self.data),
            cid::RAW => Ok(tape.set_bytes(self.data)),
            other => Err(DecodeError::new(
                0,
                DecodeErrorKind::UnsupportedCodec(other),
            )),
        }
    }

    /// Decodes the block into the data model: strict DAG-CBOR for `dag-cbor` blocks, a byte
    /// string for `raw` blocks; any other codec is an error.
    #[inline]
    pub fn decode(&self) -> Result<ValueRef<'a>, DecodeError> {
        match self.cid.codec() {
            cid::DAG_CBOR => cbor::decode_ref(self.data),
            cid::RAW => Ok(ValueRef::Bytes(self.data)),
            other => Err(DecodeError::new(
                0,
                DecodeErrorKind::UnsupportedCodec(other),
            )),
        }
    }
}

/// A CAR file in memory.
///
/// Construction reads and checks the header; [`CarReader::blocks`] iterates the sections,
/// verifying each block's hash (unless turned off in [`ReadOptions`]).
#[derive(Debug, Clone)]
pub struct CarReader<'a> {
    buf: &'a [u8],
    header: CarHeader,
    body_start: usize,
    options: ReadOptions,
}

/// Reads a varint-prefixed length at `pos`, returning (length, bytes used).
fn read_len(buf: &[u8], pos: usize, what: &'static str) -> Result<(u64, usize), CarError> {
    encoding::read_varint(&buf[pos..]).map_err(|e| match e {
        encoding::VarintError::Truncated => CarError::Truncated {
            offset: pos as u64,
            what,
        },
        source => CarError::Varint {
            offset: pos as u64,
            source,
        },
    })
}

impl<'a> CarReader<'a> {
    /// Reads the header of `buf` with the default options.
    pub fn new(buf: &'a [u8]) -> Result<Self, CarError> {
        Self::with_options(buf, ReadOptions::DEFAULT)
    }

    /// Reads the header of `buf` with explicit options.
    pub fn with_options(buf: &'a [u8], options: ReadOptions) -> Result<Self, CarError> {
        let (len, used) = read_len(buf, 0, "header length")?;
        options.check_header_len(len)?;
        let end = used + len as usize;
        let header_bytes = buf.get(used..end).ok_or(CarError::Truncated {
            offset: used as u64,
            what: "header",
        })?;
        let header = CarHeader::decode(header_bytes)?;
        Ok(CarReader {
            buf,
            header,
            body_start: end,
            options,
        })
    }

    /// The header's root CIDs.
    pub fn roots(&self) -> &[Cid] {
        &self.header.roots
    }

    /// The decoded header.
    pub fn header(&self) -> &CarHeader {
        &self.header
    }

    /// An iterator over the blocks, in file order. It stops after the first error.
    pub fn blocks(&self) -> Blocks<'a> {
        Blocks {
            buf: self.buf,
            pos: self.body_start,
            index: 0,
            options: self.options,
            failed: false,
        }
    }

    /// Checks the whole CAR: every section parses, every block's bytes match its CID's hash, and
    /// every DAG-CBOR block decodes strictly into the data model. Work is split over up to
    /// `threads` threads (by bytes, in file order); `0` means one per available core. Returns the
    /// number of blocks, or the error of the earliest bad block.
    ///
    /// Hash checks follow [`ReadOptions::verify_hashes`] (on by default).
    pub fn verify_all(&self, threads: usize) -> Result<u64, CarError> {
        let mut sections = Vec::new();
        let mut it = Blocks {
            options: ReadOptions {
                verify_hashes: false,
                ..self.options
            },
            ..self.blocks()
        };
        loop {
            let offset = it.offset() as u64;
            match it.next() {
                Some(block) => sections.push((offset, block?)),
                None => break,
            }
        }
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .clamp(1, 64);
        let verify_hashes = self.options.verify_hashes;
        let check = |first_index: usize, blocks: &[(u64, Block<'a>)]| -> Result<(), CarError> {
            let mut tape = cbor::Tape::new();
            for (i, (offset, block)) in blocks.iter().enumerate() {
                let index = (first_index + i) as u64;
                if verify_hashes {
                    verify_block(&block.cid, block.data, index, *offset)?;
                }
                if block.cid.codec() == cid::DAG_CBOR {
                    tape.decode(block.data).map_err(|source| CarError::Decode {
                        index,
                        cid: block.cid,
                        source,
                    })?;
                }
            }
            Ok(())
        };
        if threads == 1 || sections.len() < 64 {
            check(0, &sections)?;
            return Ok(sections.len() as u64);
        }
        // Split into contiguous chunks of roughly equal bytes.
        let total: usize = sections.iter().map(|(_, b)| b.data.len()).sum();
        let per_chunk = total / threads + 1;
        let mut bounds = vec![0usize];
        let mut acc = 0;
        for (i, (_, b)) in sections.iter().enumerate() {
            acc += b.data.len();
            if acc >= per_chunk * bounds.len() && bounds.len() < threads {
                bounds.push(i + 1);
            }
        }
        bounds.push(sections.len());
        bounds.dedup();
        let results: Vec<Result<(), CarError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let (start, end) = (w[0], w[1]);
                    let chunk = &sections[start..end];
                    scope.spawn(move || check(start, chunk))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(CarError::Header("a verification thread panicked".into()))
                    })
                })
                .collect()
        });
        // Chunks are in file order, so the first error found is the earliest bad block.
        for result in results {
            result?;
        }
        Ok(sections.len() as u64)
    }

    /// Collects every block into a map from CID to bytes (the last copy wins when a CID repeats,
    /// which CAR allows).
    pub fn index(&self) -> Result<crate::cid::CidMap<&'a [u8]>, CarError> {
        let mut map = crate::cid::CidMap::default();
        for block in self.blocks() {
            let block = block?;
            map.insert(block.cid, block.data);
        }
        Ok(map)
    }
}

/// Iterator over a [`CarReader`]'s blocks.
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    buf: &'a [u8],
    pos: usize,
    index: u64,
    options: ReadOptions,
    failed: bool,
}

impl<'a> Blocks<'a> {
    /// Byte offset of the next section.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn read(&mut self) -> Result<Block<'a>, CarError> {
        let start = self.pos;
        let (len, used) = read_len(self.buf, start, "section length")?;
        self.options.check_section_len(len, start as u64)?;
        let body_start = start + used;
        let body_end = body_start + len as usize;
        let section = self
            .buf
            .get(body_start..body_end)
            .ok_or(CarError::Truncated {
                offset: body_start as u64,
                what: "section",
            })?;
        let (cid, cid_len) = Cid::read_bytes(section).map_err(|source| CarError::Cid {
            index: self.index,
            offset: start as u64,
            source,
        })?;
        let data = &section[cid_len..];
        if self.options.verify_hashes {
            verify_block(&cid, data, self.index, start as u64)?;
        }
        self.pos = body_end;
        self.index += 1;
        Ok(Block { cid, data })
    }
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<Block<'a>, CarError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let out = self.read();
        if out.is_err() {
            self.failed = true;
        }
        Some(out)
    }
}

impl std::iter::FusedIterator for Blocks<'_> {}
