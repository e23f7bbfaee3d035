//! Recorded frame files: frames one after another, each behind a 4-byte length, as the
//! corpus keeps them (`firehose/pds-frames.bin`: big-endian lengths; Jetstream's
//! `frames.bin.zst`: zstd around little-endian lengths).

use std::io::Read as _;

/// How the lengths are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthOrder {
    /// Most significant byte first.
    BigEndian,
    /// Least significant byte first.
    LittleEndian,
}

/// Why a frame file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The zstd stream is broken or over the size limit.
    #[error("zstd: {0}")]
    Zstd(String),
    /// A length runs past the end of the file, or past the frame limit.
    #[error("frame {index} at byte {offset}: {reason}")]
    Framing {
        /// Which frame.
        index: usize,
        /// Where its length starts.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The lengths fit neither byte order.
    #[error("the length prefixes fit neither byte order")]
    UnknownOrder,
}

/// The largest decompressed frame file read (1 GiB).
pub const MAX_FILE: usize = 1 << 30;

/// Unwraps zstd (detected by its magic number), bounded by [`MAX_FILE`].
pub fn decompress(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, ReplayError> {
    if !bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let decoder =
        zstd::stream::read::Decoder::new(bytes).map_err(|e| ReplayError::Zstd(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_FILE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ReplayError::Zstd(e.to_string()))?;
    if out.len() > MAX_FILE {
        return Err(ReplayError::Zstd(format!("larger than {MAX_FILE} bytes")));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Splits a frame file into frames, with lengths in `order`, each at most `max_frame` bytes.
pub fn frames(
    bytes: &[u8],
    order: LengthOrder,
    max_frame: usize,
) -> Result<Vec<&[u8]>, ReplayError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let fail = |reason: String| ReplayError::Framing {
            index: out.len(),
            offset: at,
            reason,
        };
        let Some(prefix) = bytes.get(at..at + 4) else {
            return Err(fail("a truncated length".into()));
        };
        let prefix = [prefix[0], prefix[1], prefix[2], prefix[3]];
        let len = match order {
            LengthOrder::BigEndian => u32::from_be_bytes(prefix),
            LengthOrder::LittleEndian => u32::from_le_bytes(prefix),
        } as usize;
        if len > max_frame {
            return Err(fail(format!(
                "a frame of {len} bytes, over the limit of {max_frame}"
            )));
        }
        let Some(frame) = bytes.get(at + 4..at + 4 + len) else {
            return Err(fail(format!("a frame of {len} bytes runs past the end")));
        };
        out.push(frame);
        at += 4 + len;
    }
    Ok(out)
}

/// [`frames`] with the byte order found from the file: the order whose lengths tile the
/// whole file.
pub fn frames_detect(
    bytes: &[u8],
    max_frame: usize,
) -> Result<(Vec<&[u8]>, LengthOrder), ReplayError> {
    for order in [LengthOrder::BigEndian, LengthOrder::LittleEndian] {
        if let Ok(frames) = frames(bytes, order, max_frame) {
            return Ok((frames, order));
        }
    }
    Err(ReplayError::UnknownOrder)
}
