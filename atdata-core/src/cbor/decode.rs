//! The strict DAG-CBOR decoder: bytes to [`ValueRef`] without copying strings or bytes.

use super::error::{DecodeError, DecodeErrorKind as K};
use crate::cid::CidRef;
use crate::value::Value;
use crate::value_ref::ValueRef;

/// Most items reserved up front for an array or map; longer ones grow as items arrive.
const MAX_PREALLOC: usize = 256;

/// Bounds on what a decoder accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of arrays and maps (the top-level value is depth 1). Values above
    /// [`Limits::MAX_DEPTH`] act as `MAX_DEPTH`.
    pub max_depth: usize,
}

impl Limits {
    /// The defaults: depth 128, far beyond any real record (the reference PDS caps records
    /// at a depth well below that) and shallow enough that recursion cannot exhaust the stack.
    pub const DEFAULT: Limits = Limits { max_depth: 128 };

    /// The hard ceiling on [`Limits::max_depth`]: a larger setting decodes as if it were this.
    ///
    /// Decoding itself needs no stack past the default depth, but decoded values are walked
    /// recursively everywhere afterwards ([`ValueRef::to_owned`],
    /// [`TapeValue::to_value`](super::TapeValue::to_value), serde, `Clone`, `PartialEq`,
    /// `Debug`, `Drop`), so the depth a decoder admits is what bounds their stack use. At this
    /// depth each of those walks fits in a 2 MiB stack (the default of spawned threads) in a
    /// debug build, which `tests/deep_values.rs` checks: measured, the greediest of them
    /// (cloning nested maps) only overflowed such a stack past 1,100 levels. An unbounded
    /// setting would let a few hundred kilobytes of input abort the process.
    pub const MAX_DEPTH: usize = 512;

    /// The depth actually enforced: `max_depth`, clamped to [`Limits::MAX_DEPTH`].
    pub(crate) fn depth(&self) -> usize {
        self.max_depth.min(Limits::MAX_DEPTH)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Strictly decodes one DAG-CBOR value spanning all of `bytes`, borrowing strings and bytes.
///
/// ```
/// use atdata_core::{cbor, ValueRef};
/// let v = cbor::decode_ref(&[0xa1, 0x61, b'a', 0x01])?; // {"a": 1}
/// assert_eq!(v.get("a"), Some(&ValueRef::Integer(1)));
/// assert!(cbor::decode_ref(&[0xa1, 0x61, b'a', 0x18, 0x01]).is_err()); // 1 not in shortest form
/// # Ok::<(), cbor::DecodeError>(())
/// ```
#[inline]
pub fn decode_ref(bytes: &[u8]) -> Result<ValueRef<'_>, DecodeError> {
    decode_ref_with(bytes, Limits::DEFAULT)
}

/// [`decode_ref`] with explicit limits (a depth above [`Limits::MAX_DEPTH`] acts as that).
pub fn decode_ref_with(bytes: &[u8], limits: Limits) -> Result<ValueRef<'_>, DecodeError> {
    if limits.depth() > Limits::DEFAULT.max_depth {
        // This decoder recurses once per level, with frames of several KB in debug builds: at
        // the default depth that fits any thread's stack, far beyond it it may not. The tape
        // decoder is iterative and accepts and rejects exactly the same inputs, and building
        // the tree from its tape takes a fraction of the stack per level.
        let mut tape = super::Tape::with_limits(limits);
        return Ok(tape.decode(bytes)?.to_value_ref());
    }
    let mut r = Reader::new(bytes);
    let v = r.value(limits.depth())?;
    r.finish()?;
    Ok(v)
}

/// Strictly decodes one DAG-CBOR value from the front of `bytes`, returning it and the number of
/// bytes it used (for concatenated values such as a firehose frame's header and body).
pub fn decode_ref_prefix(bytes: &[u8]) -> Result<(ValueRef<'_>, usize), DecodeError> {
    let mut r = Reader::new(bytes);
    let v = r.value(Limits::DEFAULT.max_depth)?;
    Ok((v, r.pos))
}

/// Strictly decodes one DAG-CBOR value into an owned [`Value`].
pub fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_ref(bytes).map(|v| v.to_value())
}

/// A cursor over DAG-CBOR input with the low-level reads both decoders share.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    #[cold]
    pub(crate) fn err_at(&self, offset: usize, kind: K) -> DecodeError {
        DecodeError::new(offset, kind)
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.pos != self.buf.len() {
            return Err(self.err_at(self.pos, K::TrailingBytes));
        }
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn peek(&self) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) => Ok(b),
            None => Err(self.err_at(self.pos, K::UnexpectedEnd)),
        }
    }

    #[inline(always)]
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        match self.buf.get(self.pos..self.pos + N) {
            Some(s) => {
                self.pos += N;
                let mut out = [0u8; N];
                out.copy_from_slice(s);
                Ok(out)
            }
            None => Err(self.err_at(self.pos, K::UnexpectedEnd)),
        }
    }

    /// Reads an item head for majors 0–6: returns (major, argument) after the shortest-form
    /// check. Major 7 is handled by the callers, since its argument means something else.
    #[inline(always)]
    pub(crate) fn head(&mut self) -> Result<(u8, u64), DecodeError> {
        let start = self.pos;
        let b = self.peek()?;
        self.pos += 1;
        let major = b >> 5;
        let info = b & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => {
                let v = u64::from(self.fixed::<1>()?[0]);
                if v < 24 {
                    return Err(self.err_at(start, K::NotShortest));
                }
                v
            }
            25 => {
                let v = u64::from(u16::from_be_bytes(self.fixed::<2>()?));
                if v <= 0xff {
                    return Err(self.err_at(start, K::NotShortest));
                }
                v
            }
            26 => {
                let v = u64::from(u32::from_be_bytes(self.fixed::<4>()?));
                if v <= 0xffff {
                    return Err(self.err_at(start, K::NotShortest));
                }
                v
            }
            27 => {
                let v = u64::from_be_bytes(self.fixed::<8>()?);
                if v <= 0xffff_ffff {
                    return Err(self.err_at(start, K::NotShortest));
                }
                v
            }
            31 => return Err(self.err_at(start, K::IndefiniteLength)),
            _ => return Err(self.err_at(start, K::Reserved)),
        };
        Ok((major, arg))
    }

    /// Takes `len` bytes; the length is checked against the remaining input before anything is
    /// sliced, so a hostile length costs nothing.
    #[inline(always)]
    pub(crate) fn take(&mut self, len: u64, start: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = (self.buf.len() - self.pos) as u64;
        if len > remaining {
            return Err(self.err_at(start, K::TooLong));
        }
        let s = &self.buf[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(s)
    }

    #[inline(always)]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline(always)]
    pub(crate) fn text(&mut self, len: u64, start: usize) -> Result<&'a str, DecodeError> {
        let bytes = self.take(len, start)?;
        super::utf8::to_str(bytes).ok_or_else(|| self.err_at(start, K::InvalidUtf8))
    }

    /// Decodes one value, handling the common scalar shapes inline and leaving everything else
    /// to [`Reader::value`]. Called for each array item and map value.
    #[inline(always)]
    fn item(&mut self, depth: usize) -> Result<ValueRef<'a>, DecodeError> {
        let start = self.pos;
        let b = self.peek()?;
        match b {
            0x00..=0x17 => {
                self.pos += 1;
                Ok(ValueRef::Integer(i64::from(b)))
            }
            0x60..=0x77 => {
                self.pos += 1;
                Ok(ValueRef::String(self.text(u64::from(b & 0x1f), start)?))
            }
            0xf4 => {
                self.pos += 1;
                Ok(ValueRef::Bool(false))
            }
            0xf5 => {
                self.pos += 1;
                Ok(ValueRef::Bool(true))
            }
            0xf6 => {
                self.pos += 1;
                Ok(ValueRef::Null)
            }
            _ => self.value(depth),
        }
    }

    /// Reads a map key, which must be a text string.
    #[inline(always)]
    fn key(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let b = self.peek()?;
        if (0x60..=0x77).contains(&b) {
            self.pos += 1;
            return self.text(u64::from(b & 0x1f), start);
        }
        if b >> 5 != 3 {
            return Err(self.err_at(start, K::NonStringKey));
        }
        let (_, len) = self.head()?;
        self.text(len, start)
    }

    /// Reads a major-7 item: booleans and null; everything else is rejected.
    #[inline]
    pub(crate) fn simple(&mut self) -> Result<ValueRef<'a>, DecodeError> {
        let start = self.pos;
        let b = self.peek()?;
        self.pos += 1;
        match b & 0x1f {
            20 => Ok(ValueRef::Bool(false)),
            21 => Ok(ValueRef::Bool(true)),
            22 => Ok(ValueRef::Null),
            25..=27 => Err(self.err_at(start, K::Float)),
            24 => {
                let v = self.fixed::<1>()?[0];
                Err(self.err_at(start, K::SimpleValue(v)))
            }
            31 => Err(self.err_at(start, K::IndefiniteLength)),
            28..=30 => Err(self.err_at(start, K::Reserved)),
            other => Err(self.err_at(start, K::SimpleValue(other))),
        }
    }

    /// Reads the content of tag 42 (after the tag head): a byte string holding 0x00 and a CID.
    #[inline]
    pub(crate) fn link_body(&mut self, tag_start: usize) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let (major, len) = self.head()?;
        if major != 2 {
            return Err(self.err_at(
                tag_start,
                K::BadLink("tag 42 must hold a byte string".into()),
            ));
        }
        let body = self.take(len, start)?;
        match body.split_first() {
            Some((0, cid)) => Ok(cid),
            _ => Err(self.err_at(
                tag_start,
                K::BadLink("missing the 0x00 multibase prefix".into()),
            )),
        }
    }

    #[inline]
    pub(crate) fn link(&mut self, tag_start: usize) -> Result<CidRef<'a>, DecodeError> {
        let body = self.link_body(tag_start)?;
        CidRef::new(body).map_err(|e| self.err_at(tag_start, K::BadLink(e.to_string())))
    }

    /// Decodes one value; `depth` is how many more levels of nesting are allowed.
    pub(crate) fn value(&mut self, depth: usize) -> Result<ValueRef<'a>, DecodeError> {
        let start = self.pos;
        let first = self.peek()?;
        if first >> 5 == 7 {
            return self.simple();
        }
        let (major, arg) = self.head()?;
        match major {
            0 => {
                if arg > i64::MAX as u64 {
                    return Err(self.err_at(start, K::IntegerRange));
                }
                Ok(ValueRef::Integer(arg as i64))
            }
            1 => {
                if arg > i64::MAX as u64 {
                    return Err(self.err_at(start, K::IntegerRange));
                }
                Ok(ValueRef::Integer(-1 - arg as i64))
            }
            2 => Ok(ValueRef::Bytes(self.take(arg, start)?)),
            3 => Ok(ValueRef::String(self.text(arg, start)?)),
            4 => {
                if depth <= 1 {
                    return Err(self.err_at(start, K::TooDeep));
                }
                // Every item takes at least one byte, so the remaining input bounds the
                // allocation whatever the declared length says.
                if arg > self.remaining() as u64 {
                    return Err(self.err_at(start, K::TooLong));
                }
                // Capped: a hostile length at every nesting level must not reserve memory in
                // proportion to the input at each level.
                let mut items = Vec::with_capacity((arg as usize).min(MAX_PREALLOC));
                for _ in 0..arg {
                    items.push(self.item(depth - 1)?);
                }
                Ok(ValueRef::Array(items))
            }
            5 => self.map(arg, start, depth),
            6 => {
                if arg != 42 {
                    return Err(self.err_at(start, K::Tag(arg)));
                }
                Ok(ValueRef::Link(self.link(start)?))
            }
            // `head` returns majors 0–6 only; major 7 went to `simple` above.
            _ => Err(self.err_at(start, K::Reserved)),
        }
    }

    fn map(&mut self, len: u64, start: usize, depth: usize) -> Result<ValueRef<'a>, DecodeError> {
        if depth <= 1 {
            return Err(self.err_at(start, K::TooDeep));
        }
        // Each entry takes at least two bytes.
        if len > (self.remaining() / 2) as u64 {
            return Err(self.err_at(start, K::TooLong));
        }
        let mut entries: Vec<(&'a str, ValueRef<'a>)> =
            Vec::with_capacity((len as usize).min(MAX_PREALLOC));
        let mut is_blob = false;
        for _ in 0..len {
            let key_start = self.pos;
            let key = self.key()?;
            if let Some((prev, _)) = entries.last() {
                match super::canonical_key_cmp(prev, key) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        return Err(self.err_at(key_start, K::DuplicateKey));
                    }
                    std::cmp::Ordering::Greater => {
                        return Err(self.err_at(key_start, K::KeyOrder));
                    }
                }
            }
            let value_start = self.pos;
            let value = self.item(depth - 1)?;
            if key.len() == 5 && key == "$type" {
                match &value {
                    ValueRef::String(t) if !t.is_empty() => is_blob = *t == "blob",
                    ValueRef::String(_) => {
                        return Err(self.err_at(value_start, K::DataModel("empty $type".into())));
                    }
                    other => {
                        return Err(self.err_at(
                            value_start,
                            K::DataModel(format!("$type must be a string, not {}", other.kind())),
                        ));
                    }
                }
            }
            entries.push((key, value));
        }
        let map = ValueRef::Map(entries);
        if is_blob {
            check_blob(&map).map_err(|why| self.err_at(start, K::DataModel(why)))?;
        }
        Ok(map)
    }
}

fn check_blob(map: &ValueRef<'_>) -> Result<(), String> {
    match map.get("ref") {
        Some(ValueRef::Link(_)) => {}
        _ => return Err("blob needs a \"ref\" link".into()),
    }
    match map.get("mimeType") {
        Some(ValueRef::String(_)) => {}
        _ => return Err("blob needs a \"mimeType\" string".into()),
    }
    match map.get("size") {
        Some(ValueRef::Integer(n)) if *n >= 0 => {}
        _ => return Err("blob needs a non-negative integer \"size\"".into()),
    }
    let ValueRef::Map(entries) = map else {
        return Ok(());
    };
    match crate::blob::unexpected_blob_key(entries.iter().map(|(k, _)| *k)) {
        Some(key) => Err(crate::blob::unexpected_blob_key_message(key)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(bytes: &[u8]) -> K {
        decode_ref(bytes)
            .expect_err("should be rejected")
            .kind()
            .clone()
    }

    #[test]
    fn accepts_canonical() {
        assert_eq!(decode_ref(&[0x17]), Ok(ValueRef::Integer(23)));
        assert_eq!(decode_ref(&[0x18, 24]), Ok(ValueRef::Integer(24)));
        assert_eq!(decode_ref(&[0x20]), Ok(ValueRef::Integer(-1)));
        assert_eq!(decode_ref(&[0xf6]), Ok(ValueRef::Null));
        assert_eq!(decode_ref(&[0x62, b'h', b'i']), Ok(ValueRef::String("hi")));
        // {"b": 1, "aa": 2}: shorter key first.
        let v = decode_ref(&[0xa2, 0x61, b'b', 0x01, 0x62, b'a', b'a', 0x02]).expect("canonical");
        assert_eq!(v.get("aa"), Some(&ValueRef::Integer(2)));
    }

    #[test]
    fn rejects_non_canonical() {
        assert_eq!(kind(&[0x18, 0x01]), K::NotShortest);
        assert_eq!(kind(&[0x19, 0x00, 0xff]), K::NotShortest);
        assert_eq!(kind(&[0x9f, 0xff]), K::IndefiniteLength);
        assert_eq!(kind(&[0xfb, 0, 0, 0, 0, 0, 0, 0, 0]), K::Float);
        assert_eq!(kind(&[0xf9, 0, 0]), K::Float);
        assert_eq!(kind(&[0xf7]), K::SimpleValue(23));
        assert_eq!(kind(&[0xc1, 0x00]), K::Tag(1));
        assert_eq!(
            kind(&[0xa2, 0x62, b'a', b'a', 0x01, 0x61, b'b', 0x02]),
            K::KeyOrder
        );
        assert_eq!(
            kind(&[0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02]),
            K::DuplicateKey
        );
        assert_eq!(kind(&[0xa1, 0x01, 0x01]), K::NonStringKey);
        assert_eq!(kind(&[0x61, 0xff]), K::InvalidUtf8);
        assert_eq!(kind(&[0x01, 0x01]), K::TrailingBytes);
        assert_eq!(kind(&[0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0]), K::IntegerRange);
        assert_eq!(kind(&[0x5a, 0xff, 0xff, 0xff, 0xff]), K::TooLong);
        assert_eq!(
            kind(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            K::TooLong
        );
    }

    #[test]
    fn depth_is_bounded() {
        let deep = vec![0x81u8; 100_000];
        assert_eq!(kind(&deep), K::TooDeep);
    }
}
