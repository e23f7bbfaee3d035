//! Multibase (base58btc only) and multicodec prefixes, as did:key and Multikey use them.

use atdata_core::encoding::{base58_decode, base58_encode, read_varint, write_varint};

use crate::CryptoError;

/// Longest multibase key string read (the `z…` part). The longest valid value, a legacy
/// uncompressed point, is about 90 characters; anything longer is rejected before base58
/// decoding, whose cost grows with the square of the length.
pub(crate) const MAX_MULTIBASE_LEN: usize = 128;

/// Decodes `z` + base58btc, after checking the length bound.
pub(crate) fn decode(multibase: &str) -> Result<Vec<u8>, CryptoError> {
    if multibase.len() > MAX_MULTIBASE_LEN {
        return Err(CryptoError::TooLong {
            len: multibase.len(),
            max: MAX_MULTIBASE_LEN,
        });
    }
    let body = multibase
        .strip_prefix('z')
        .ok_or(CryptoError::NotBase58btc)?;
    base58_decode(body).ok_or(CryptoError::Base58)
}

/// Encodes bytes as `z` + base58btc.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + bytes.len() * 138 / 100 + 1);
    out.push('z');
    out.push_str(&base58_encode(bytes));
    out
}

/// Splits a multicodec varint prefix from the bytes after it.
pub(crate) fn split_multicodec(bytes: &[u8]) -> Result<(u64, &[u8]), CryptoError> {
    let (code, used) = read_varint(bytes).map_err(|_| CryptoError::Multicodec)?;
    Ok((code, bytes.get(used..).unwrap_or_default()))
}

/// A multicodec code for messages: hex, with the table's name for the key types one may meet
/// in a `did:key` (so "0xed (ed25519-pub)" says what was found, not just that it is wrong).
pub(crate) fn codec_label(code: u64) -> String {
    let name = match code {
        0xe7 => "secp256k1-pub",
        0x1200 => "p256-pub",
        0x1301 => "secp256k1-priv",
        0x1306 => "p256-priv",
        0xec => "x25519-pub",
        0xed => "ed25519-pub",
        0x1201 => "p384-pub",
        0x1202 => "p521-pub",
        0x1205 => "rsa-pub",
        0x1300 => "ed25519-priv",
        // The multicodec table reserves this range for private use: no public meaning.
        0x30_0000..=0x3f_ffff => "private use",
        _ => return format!("0x{code:x}"),
    };
    format!("0x{code:x} ({name})")
}

/// `code` as a varint, followed by `bytes`.
pub(crate) fn with_multicodec(code: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + bytes.len());
    write_varint(&mut out, code);
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_the_known_varints() {
        assert_eq!(with_multicodec(0xe7, &[]), [0xe7, 0x01]);
        assert_eq!(with_multicodec(0x1200, &[]), [0x80, 0x24]);
        assert_eq!(with_multicodec(0x1301, &[]), [0x81, 0x26]);
        assert_eq!(with_multicodec(0x1306, &[]), [0x86, 0x26]);
        assert_eq!(split_multicodec(&[0x80, 0x24, 7]), Ok((0x1200, &[7u8][..])));
        assert!(split_multicodec(&[0x80]).is_err());
    }

    #[test]
    fn decode_bounds_and_alphabet() {
        assert_eq!(decode("z"), Ok(vec![]));
        assert_eq!(decode("f00"), Err(CryptoError::NotBase58btc));
        assert_eq!(decode("z0OIl"), Err(CryptoError::Base58));
        let long = format!("z{}", "2".repeat(MAX_MULTIBASE_LEN));
        assert!(matches!(decode(&long), Err(CryptoError::TooLong { .. })));
    }
}
