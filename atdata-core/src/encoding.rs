//! Small binary-to-text and integer encodings the data model needs: unsigned varints
//! (multiformats), RFC 4648 base32 (lower case, no padding, as CIDv1 strings use), base58btc and
//! unpadded standard base64 (the `$bytes` form of atproto JSON).
//!
//! They live here rather than behind a dependency because each is a few dozen lines and sits on a
//! hot path (CID display and parse).

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

const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Encodes bytes as RFC 4648 base32, lower case, without padding, appending to `out`.
pub fn base32_lower_encode_into(input: &[u8], out: &mut String) {
    out.reserve(input.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in input {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32_LOWER[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_LOWER[((buffer << (5 - bits)) & 31) as usize],
        ));
    }
}

/// Decodes RFC 4648 base32 without padding; `upper` selects the upper-case alphabet. Returns
/// `None` for a character outside the alphabet or non-zero trailing bits.
pub fn base32_decode(input: &str, upper: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &c in input.as_bytes() {
        let v = match c {
            b'a'..=b'z' if !upper => c - b'a',
            b'A'..=b'Z' if upper => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    // Leftover bits must be zero padding, and fewer than a whole character.
    if bits >= 5 || buffer & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Longest base58 input we decode: base58 decoding is quadratic, so the bound keeps a hostile
/// string from costing more than a few microseconds.
pub const BASE58_MAX_INPUT: usize = 512;

/// Decodes base58btc (the Bitcoin alphabet). Returns `None` on a bad character or an input longer
/// than [`BASE58_MAX_INPUT`].
pub fn base58_decode(input: &str) -> Option<Vec<u8>> {
    if input.len() > BASE58_MAX_INPUT {
        return None;
    }
    let zeros = input.bytes().take_while(|&c| c == b'1').count();
    // Little-endian base-256 accumulator.
    let mut acc: Vec<u8> = Vec::with_capacity(input.len());
    for c in input.bytes() {
        let digit = BASE58_ALPHABET.iter().position(|&a| a == c)? as u32;
        let mut carry = digit;
        for byte in acc.iter_mut() {
            carry += u32::from(*byte) * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            acc.push(carry as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(acc.iter().rev());
    Some(out)
}

/// Encodes bytes as base58btc.
pub fn base58_encode(input: &[u8]) -> String {
    let zeros = input.iter().take_while(|&&b| b == 0).count();
    let mut digits: Vec<u8> = Vec::with_capacity(input.len() * 138 / 100 + 1);
    for &byte in input {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|&d| char::from(BASE58_ALPHABET[d as usize])),
    );
    out
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
    fn base58_round_trip() {
        let data = [0u8, 0, 1, 2, 3, 255];
        let s = base58_encode(&data);
        assert_eq!(base58_decode(&s).as_deref(), Some(&data[..]));
        assert_eq!(base58_encode(b"hello world"), "StV1DL6CwTryKyV");
        assert!(base58_decode("0OIl").is_none());
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
