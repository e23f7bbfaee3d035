//! Small binary-to-text and integer encodings the data model needs: unsigned varints
//! (multiformats), RFC 4648 base32 (lower case, no padding, as CIDv1 strings use), base58btc and
//! unpadded standard base64 (the `$bytes` form of atproto JSON).
//!
//! base32 is `data-encoding`, base58btc is `bs58` and base64 is `base64`: each crate measured at
//! least as fast as hand-written code on its hot path (CID strings, did:key parsing). Varints stay
//! hand-written, because `unsigned-varint` measured slower on CID prefixes and CAR lengths (see
//! docs/decisions.md, "Base encodings"). This module keeps one API over them and the strictness
//! rules the crates leave to the caller, such as a length bound before quadratic base58 decoding.

use std::sync::OnceLock;

use base64::Engine as _;

/// Why a varint could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VarintError {
    /// The input ended in the middle of the varint.
    #[error("varint is truncated")]
    Truncated,
    /// More than 9 bytes (the multiformats limit) or more than 64 bits.
    #[error("varint is too long")]
    Overflow,
    /// A trailing zero group: the same number has a shorter encoding.
    #[error("varint is not minimally encoded")]
    NotMinimal,
}

/// Reads an unsigned LEB128 varint from the front of `buf`, returning the value and the number of
/// bytes it used. Only minimal encodings of at most 9 bytes are accepted (multiformats rules).
///
/// Hand-written rather than `unsigned_varint::decode`: the crate measured 3x slower on the
/// one-byte varints of CID prefixes and 1.2x slower on CAR block lengths (docs/decisions.md,
/// "Base encodings").
#[inline]
pub fn read_varint(buf: &[u8]) -> Result<(u64, usize), VarintError> {
    // Fast path: nearly every varint in a CAR or CID is one byte.
    match buf.first() {
        None => return Err(VarintError::Truncated),
        Some(&b) if b < 0x80 => return Ok((u64::from(b), 1)),
        Some(_) => {}
    }
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().enumerate().take(9) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 {
                return Err(VarintError::NotMinimal);
            }
            return Ok((value, i + 1));
        }
    }
    if buf.len() < 9 {
        Err(VarintError::Truncated)
    } else {
        Err(VarintError::Overflow)
    }
}

/// Appends `value` as an unsigned LEB128 varint.
///
/// Hand-written rather than `unsigned_varint::encode`: the crate writes into a fixed buffer that
/// must then be copied, which measured 1.7-1.9x slower than pushing the bytes directly
/// (docs/decisions.md, "Base encodings").
#[inline]
pub fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Number of bytes `write_varint` uses for `value`.
pub fn varint_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// RFC 4648 base32 with the lower-case alphabet and no padding: multibase `b`, the canonical
/// form of CID strings. data-encoding ships only the upper-case alphabet as a constant, so this
/// one is built once from a specification. Its defaults are the strict ones we want: non-zero
/// trailing bits and impossible lengths are refused, and so is every character outside the
/// alphabet, upper case included.
fn base32_lower() -> Option<&'static data_encoding::Encoding> {
    static LOWER: OnceLock<Option<data_encoding::Encoding>> = OnceLock::new();
    LOWER
        .get_or_init(|| {
            let mut spec = data_encoding::Specification::new();
            spec.symbols.push_str("abcdefghijklmnopqrstuvwxyz234567");
            spec.encoding().ok()
        })
        .as_ref()
}

/// Encodes bytes as RFC 4648 base32, lower case, without padding, appending to `out`.
pub fn base32_lower_encode_into(input: &[u8], out: &mut String) {
    match base32_lower() {
        Some(lower) => lower.encode_append(input, out),
        // Unreachable (the specification is a valid constant, which a test checks), but a
        // correct fallback costs less than a panic path.
        None => out.push_str(
            &data_encoding::BASE32_NOPAD
                .encode(input)
                .to_ascii_lowercase(),
        ),
    }
}

/// Decodes RFC 4648 base32 without padding; `upper` selects the upper-case alphabet. Returns
/// `None` for a character outside the alphabet (including the other case), padding, an
/// impossible length or non-zero trailing bits.
pub fn base32_decode(input: &str, upper: bool) -> Option<Vec<u8>> {
    if upper {
        return data_encoding::BASE32_NOPAD.decode(input.as_bytes()).ok();
    }
    match base32_lower() {
        Some(lower) => lower.decode(input.as_bytes()).ok(),
        // Unreachable, as above: check the case ourselves and decode with the upper-case table.
        None if input.bytes().any(|c| c.is_ascii_uppercase()) => None,
        None => data_encoding::BASE32_NOPAD
            .decode(input.to_ascii_uppercase().as_bytes())
            .ok(),
    }
}

/// Longest base58 input we decode: base58 decoding is quadratic, so the bound keeps a hostile
/// string from costing more than a few microseconds.
pub const BASE58_MAX_INPUT: usize = 512;

/// Decodes base58btc (the Bitcoin alphabet). Returns `None` on a bad character or an input longer
/// than [`BASE58_MAX_INPUT`].
pub fn base58_decode(input: &str) -> Option<Vec<u8>> {
    if input.len() > BASE58_MAX_INPUT {
        return None;
    }
    bs58::decode(input).into_vec().ok()
}

/// Encodes bytes as base58btc.
pub fn base58_encode(input: &[u8]) -> String {
    bs58::encode(input).into_string()
}

/// Standard-alphabet base64 without padding: the form atproto JSON uses for `$bytes`.
pub fn base64_encode(input: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(input)
}

/// Decodes standard-alphabet base64, unpadded or correctly padded (both are seen in the wild;
/// atproto writes unpadded).
///
/// Non-zero bits left over in the last character are ignored, as the reference implementations
/// (TypeScript `uint8arrays`, Go's non-strict decoder) do: `"123"` decodes to the same two
/// bytes as `"120"`. Such input does not re-encode to the same text, but the bytes are what
/// every other implementation reads.
pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let trimmed = input.trim_end_matches('=');
    let padding = input.len() - trimmed.len();
    if padding > 0 && (padding > 2 || input.len() % 4 != 0) {
        return None;
    }
    LENIENT.decode(trimmed).ok()
}

/// Lower-case hexadecimal.
pub fn hex_encode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(input.len() * 2);
    for &b in input {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Decodes hexadecimal (either case); `None` on odd length or a bad digit.
pub fn hex_decode(input: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = input.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_limits() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            1 << 62,
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v));
            assert_eq!(read_varint(&out), Ok((v, out.len())));
        }
        assert_eq!(read_varint(&[]), Err(VarintError::Truncated));
        assert_eq!(read_varint(&[0x80]), Err(VarintError::Truncated));
        assert_eq!(read_varint(&[0x81, 0x00]), Err(VarintError::NotMinimal));
        assert_eq!(read_varint(&[0xff; 12]), Err(VarintError::Overflow));
    }

    #[test]
    fn base32_round_trip() {
        let data = b"hello atproto";
        let mut s = String::new();
        base32_lower_encode_into(data, &mut s);
        assert_eq!(s, "nbswy3dpebqxi4dsn52g6");
        assert_eq!(base32_decode(&s, false).as_deref(), Some(&data[..]));
        assert_eq!(
            base32_decode("NBSWY3DP", true).as_deref(),
            Some(&b"hello"[..])
        );
        assert!(base32_decode("a1", false).is_none());
    }

    #[test]
    fn varint_multiformats_limits() {
        // Nine bytes is the most multiformats allows, ten is an overflow even though a u64
        // can need ten.
        let mut nine = Vec::new();
        write_varint(&mut nine, (1 << 63) - 1);
        assert_eq!(nine.len(), 9);
        assert_eq!(read_varint(&nine), Ok(((1 << 63) - 1, 9)));
        let mut ten = Vec::new();
        write_varint(&mut ten, 1 << 63);
        assert_eq!(ten.len(), 10);
        assert_eq!(read_varint(&ten), Err(VarintError::Overflow));
        // Nine continuation bytes: an overflow, whether the input stops or goes on.
        assert_eq!(read_varint(&[0x80; 9]), Err(VarintError::Overflow));
        assert_eq!(
            read_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            Err(VarintError::Overflow)
        );
        // Shorter cut-offs are truncations; a trailing zero group is non-minimal at any length.
        assert_eq!(read_varint(&[0x80; 8]), Err(VarintError::Truncated));
        assert_eq!(read_varint(&[0x80, 0x00]), Err(VarintError::NotMinimal));
        assert_eq!(
            read_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            Err(VarintError::NotMinimal)
        );
        assert_eq!(read_varint(&[0x00]), Ok((0, 1)));
        assert_eq!(read_varint(&[0x71, 0xff]), Ok((0x71, 1)));
    }

    #[test]
    fn base32_is_strict() {
        assert!(
            base32_lower().is_some(),
            "the lower-case specification builds"
        );
        // Upper case in the lower-case alphabet and the reverse.
        assert!(base32_decode("NBSWY3DP", false).is_none());
        assert!(base32_decode("nbswy3dp", true).is_none());
        assert!(base32_decode("nbswY3dp", false).is_none());
        // Padding is refused, as are impossible lengths and non-zero trailing bits.
        assert!(base32_decode("nbswy3dp", false).is_some());
        assert!(base32_decode("nbswy3dpea======", false).is_none());
        assert!(base32_decode("nbswy3dpe", false).is_none());
        assert_eq!(base32_decode("me", false).as_deref(), Some(&b"a"[..]));
        assert!(base32_decode("mf", false).is_none());
        assert_eq!(base32_decode("", false).as_deref(), Some(&b""[..]));
    }

    #[test]
    fn base58_round_trip() {
        let data = [0u8, 0, 1, 2, 3, 255];
        let s = base58_encode(&data);
        assert_eq!(base58_decode(&s).as_deref(), Some(&data[..]));
        assert_eq!(base58_encode(b"hello world"), "StV1DL6CwTryKyV");
        assert!(base58_decode("0OIl").is_none());
        for bad in ["0", "O", "I", "l", "+", " 2", "é"] {
            assert!(base58_decode(bad).is_none(), "{bad:?}");
        }
        assert_eq!(base58_decode("").as_deref(), Some(&b""[..]));
        assert_eq!(base58_decode("11").as_deref(), Some(&[0u8, 0][..]));
        assert!(base58_decode(&"2".repeat(BASE58_MAX_INPUT + 1)).is_none());
        assert!(base58_decode(&"2".repeat(BASE58_MAX_INPUT)).is_some());
    }

    #[test]
    fn base64_accepts_padding_or_not() {
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_encode(b"hi"), "aGk");
        // Leftover bits are ignored, as other implementations do.
        assert_eq!(base64_decode("123"), base64_decode("120"));
        assert!(base64_decode("12").is_some());
        assert!(base64_decode("1").is_none());
        assert!(base64_decode("aGk==").is_none());
    }
}
