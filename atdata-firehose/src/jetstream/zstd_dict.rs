//! Jetstream v1 compression: each message is a zstd frame compressed with a fixed dictionary.

use std::io::Read as _;

/// The Jetstream v1 zstd dictionary (`compress=true`), from `bluesky-social/jetstream`
/// (MIT OR Apache-2.0; see `DICTIONARY.md` beside this file).
pub static V1_DICTIONARY: &[u8] = include_bytes!("legacy_subscribe.zdict");

/// Why a compressed message could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecompressError {
    /// The message is not a valid zstd frame for the dictionary.
    #[error("zstd: {0}")]
    Zstd(String),
    /// The message decompresses to more than the limit.
    #[error("a message of more than {limit} bytes decompressed")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
}

/// Decompresses messages with a prepared dictionary (prepared once, reused per message).
///
/// Messages that state their size (as Jetstream's do) go through one reused decompression
/// context: creating a context per message cost about ten times the parse itself.
pub struct Decompressor {
    dictionary: zstd::dict::DecoderDictionary<'static>,
    /// The reused context, with the dictionary loaded; `None` if it could not be made.
    context: Option<std::sync::Mutex<zstd::bulk::Decompressor<'static>>>,
    limit: usize,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl Decompressor {
    /// A decompressor for the v1 dictionary, refusing messages over `limit` bytes decompressed.
    pub fn v1(limit: usize) -> Decompressor {
        Decompressor::with_dictionary(V1_DICTIONARY, limit)
    }

    /// A decompressor for `dictionary`, refusing messages over `limit` bytes decompressed.
    pub fn with_dictionary(dictionary: &[u8], limit: usize) -> Decompressor {
        Decompressor {
            dictionary: zstd::dict::DecoderDictionary::copy(dictionary),
            context: zstd::bulk::Decompressor::with_dictionary(dictionary)
                .ok()
                .map(std::sync::Mutex::new),
            limit,
        }
    }

    /// Decompresses one message.
    pub fn decompress(&self, message: &[u8]) -> Result<Vec<u8>, DecompressError> {
        let zstd_error = |e: std::io::Error| DecompressError::Zstd(e.to_string());
        let capacity = match zstd::zstd_safe::get_frame_content_size(message) {
            Ok(Some(size)) => usize::try_from(size).unwrap_or(usize::MAX),
            _ => 0,
        };
        if capacity > self.limit {
            return Err(DecompressError::TooLarge { limit: self.limit });
        }
        if capacity > 0 {
            if let Some(context) = &self.context {
                let mut context = context
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // The frame's stated size bounds the output; a frame that lies about it fails.
                return context.decompress(message, capacity).map_err(zstd_error);
            }
        }
        let decoder =
            zstd::stream::read::Decoder::with_prepared_dictionary(message, &self.dictionary)
                .map_err(zstd_error)?;
        let mut out = Vec::with_capacity(capacity);
        decoder
            .take(self.limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(zstd_error)?;
        if out.len() > self.limit {
            return Err(DecompressError::TooLarge { limit: self.limit });
        }
        Ok(out)
    }
}
