//! The hand-written encoders that `atdata_core::encoding` used before it moved to
//! `data-encoding`, `bs58` and `unsigned-varint` (docs/decisions.md, "Base encodings"), kept
//! verbatim as the baseline a later revisit of that decision measures the crates against.

#![allow(dead_code)]

/// Why a varint could not be read (the library's `VarintError`, copied so this module is
/// self-contained).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarintError {
    Truncated,
    Overflow,
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
