//! The wire form of an MST node: `{e: [{k, p, t, v}, …], l}` in canonical DAG-CBOR.
//!
//! The shape is fixed, so the decoder here reads exactly that shape byte by byte and accepts
//! nothing else: every head in shortest form, the keys of both maps present and in canonical
//! order, links as tag 42 over a 0x00-prefixed binary CID, no trailing bytes. Whatever it accepts
//! re-encodes to the same bytes, so a node's CID is a function of its decoded form.

use super::error::MstError;
use crate::cbor::decode::Reader;
use crate::cbor::write_head;
use crate::cbor::{DecodeError, DecodeErrorKind};
use crate::cid::Cid;

/// Most entries a decoded node may hold.
///
/// The repository spec asks implementations to bound node size at a "statistically unlikely"
/// length. A node's entry count behaves like a run of keys on the same layer, which with a fanout
/// of 4 has probability about (3/4)^n: 512 entries is around 10^-64, so only keys mined for the
/// purpose get there.
pub const MAX_NODE_ENTRIES: usize = 512;

/// One MST node as stored: a left subtree and entries with prefix-compressed keys.
///
/// ```
/// use atdata_core::mst::{NodeData, NodeEntry};
/// use atdata_core::Cid;
/// let value = Cid::for_dag_cbor(b"\xa0");
/// let node = NodeData {
///     left: None,
///     entries: vec![
///         NodeEntry { prefix_len: 0, key_suffix: b"com.example.a/1".to_vec(), value, right: None },
///         NodeEntry { prefix_len: 14, key_suffix: b"2".to_vec(), value, right: None },
///     ],
/// };
/// let bytes = node.encode();
/// assert_eq!(NodeData::decode(&bytes)?, node);
/// # Ok::<(), atdata_core::mst::MstError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeData {
    /// `l`: the subtree of keys sorting before the first entry, one layer down.
    pub left: Option<Cid>,
    /// `e`: the entries, in key order.
    pub entries: Vec<NodeEntry>,
}

/// One entry of a [`NodeData`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    /// `p`: how many leading bytes the key shares with the previous entry's key in this node.
    pub prefix_len: usize,
    /// `k`: the rest of the key.
    pub key_suffix: Vec<u8>,
    /// `v`: the record's CID.
    pub value: Cid,
    /// `t`: the subtree of keys sorting between this entry and the next, one layer down.
    pub right: Option<Cid>,
}

impl NodeData {
    /// Strictly decodes a node block (see the module docs for what is rejected). Nodes with more
    /// than [`MAX_NODE_ENTRIES`] entries are refused.
    pub fn decode(bytes: &[u8]) -> Result<NodeData, MstError> {
        let mut r = Cursor::new(bytes);
        r.expect_head(5, 2, "expected a map of 2 (`e`, `l`)")?;
        r.expect_key(b'e')?;
        let at = r.pos();
        let count = r.head_of(4, "expected `e` to be an array")?;
        if count > MAX_NODE_ENTRIES as u64 {
            return Err(r.err_at(at, "more entries than MAX_NODE_ENTRIES"));
        }
        // `count` is bounded above, so this allocation is too.
        let mut entries = Vec::with_capacity(count as usize);
        for _ in 0..count {
            r.expect_head(5, 4, "expected an entry map of 4 (`k`, `p`, `t`, `v`)")?;
            r.expect_key(b'k')?;
            let key_suffix = r.bytes()?.to_vec();
            r.expect_key(b'p')?;
            let at = r.pos();
            let p = r.head_of(0, "expected `p` to be an unsigned integer")?;
            let prefix_len =
                usize::try_from(p).map_err(|_| r.err_at(at, "prefix length out of range"))?;
            r.expect_key(b't')?;
            let right = r.link_or_null()?;
            r.expect_key(b'v')?;
            let value = r.link()?;
            entries.push(NodeEntry {
                prefix_len,
                key_suffix,
                value,
                right,
            });
        }
        r.expect_key(b'l')?;
        let left = r.link_or_null()?;
        if r.pos() != bytes.len() {
            return Err(r.err_at(r.pos(), "trailing bytes after the node"));
        }
        Ok(NodeData { left, entries })
    }

    /// Encodes the node as canonical DAG-CBOR, exactly as given (the prefix lengths are not
    /// recomputed).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.entries.len() * 96);
        write_node_start(&mut out, self.entries.len());
        for e in &self.entries {
            write_entry(
                &mut out,
                e.prefix_len,
                &e.key_suffix,
                &e.value,
                e.right.as_ref(),
            );
        }
        write_node_end(&mut out, self.left.as_ref());
        out
    }
}

fn write_link_or_null(out: &mut Vec<u8>, cid: Option<&Cid>) {
    match cid {
        None => out.push(0xf6),
        Some(cid) => {
            let bytes = cid.as_bytes();
            out.extend_from_slice(&[0xd8, 42]);
            write_head(out, 2, bytes.len() as u64 + 1);
            out.push(0);
            out.extend_from_slice(bytes);
        }
    }
}

/// Starts a node: the outer map and the `e` array head. Entries follow, then
/// [`write_node_end`] (`l` sorts after `e`).
pub(crate) fn write_node_start(out: &mut Vec<u8>, entries: usize) {
    out.extend_from_slice(&[0xa2, 0x61, b'e']);
    write_head(out, 4, entries as u64);
}

/// Writes one entry map, keys in canonical order `k`, `p`, `t`, `v`.
pub(crate) fn write_entry(
    out: &mut Vec<u8>,
    prefix_len: usize,
    suffix: &[u8],
    value: &Cid,
    right: Option<&Cid>,
) {
    out.extend_from_slice(&[0xa4, 0x61, b'k']);
    write_head(out, 2, suffix.len() as u64);
    out.extend_from_slice(suffix);
    out.extend_from_slice(&[0x61, b'p']);
    write_head(out, 0, prefix_len as u64);
    out.extend_from_slice(&[0x61, b't']);
    write_link_or_null(out, right);
    out.extend_from_slice(&[0x61, b'v']);
    write_link_or_null(out, Some(value));
}

/// Ends a node with its `l` link.
pub(crate) fn write_node_end(out: &mut Vec<u8>, left: Option<&Cid>) {
    out.extend_from_slice(&[0x61, b'l']);
    write_link_or_null(out, left);
}

/// The fixed node shape, read through the strict DAG-CBOR reader every other decoder in the
/// crate uses ([`Reader`]): heads, lengths and links get the same checks (shortest form, no
/// indefinite lengths, bounded lengths, tag 42 over a 0x00-prefixed CID) and only the shape
/// is checked here.
struct Cursor<'a> {
    r: Reader<'a>,
}

/// The fixed reason for a reader error (node errors carry `&'static str` reasons).
fn reason(kind: &DecodeErrorKind) -> &'static str {
    match kind {
        DecodeErrorKind::UnexpectedEnd | DecodeErrorKind::TooLong => {
            "length runs past the end of input"
        }
        DecodeErrorKind::NotShortest => "integer or length not in shortest form",
        DecodeErrorKind::IndefiniteLength | DecodeErrorKind::Reserved => {
            "indefinite length or reserved value"
        }
        DecodeErrorKind::BadLink(_) | DecodeErrorKind::UnsupportedCodec(_) => {
            "link holds an invalid CID"
        }
        _ => "not canonical DAG-CBOR",
    }
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor {
            r: Reader::new(buf),
        }
    }

    fn pos(&self) -> usize {
        self.r.pos
    }

    #[cold]
    fn err_at(&self, offset: usize, reason: &'static str) -> MstError {
        MstError::Malformed { offset, reason }
    }

    #[cold]
    fn cbor(e: DecodeError) -> MstError {
        MstError::Malformed {
            offset: e.offset(),
            reason: reason(e.kind()),
        }
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], MstError> {
        let start = self.r.pos;
        self.r.take(n, start).map_err(Self::cbor)
    }

    /// Reads a head of the given major type and returns its argument.
    fn head_of(&mut self, major: u8, reason: &'static str) -> Result<u64, MstError> {
        let start = self.pos();
        match self.r.head().map_err(Self::cbor)? {
            (m, arg) if m == major => Ok(arg),
            _ => Err(self.err_at(start, reason)),
        }
    }

    fn expect_head(&mut self, major: u8, arg: u64, reason: &'static str) -> Result<(), MstError> {
        let start = self.pos();
        if self.r.head().map_err(Self::cbor)? != (major, arg) {
            return Err(self.err_at(start, reason));
        }
        Ok(())
    }

    /// Expects the one-letter text key `name` (the only keys a node has).
    fn expect_key(&mut self, name: u8) -> Result<(), MstError> {
        let start = self.pos();
        let reason = match name {
            b'e' => "expected key `e`",
            b'l' => "expected key `l`",
            b'k' => "expected key `k`",
            b'p' => "expected key `p`",
            b't' => "expected key `t`",
            _ => "expected key `v`",
        };
        match self.take(2) {
            Ok(&[0x61, n]) if n == name => Ok(()),
            _ => Err(self.err_at(start, reason)),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], MstError> {
        let len = self.head_of(2, "expected `k` to be a byte string")?;
        self.take(len)
    }

    fn link(&mut self) -> Result<Cid, MstError> {
        let start = self.pos();
        if self.take(2).ok() != Some(&[0xd8, 42][..]) {
            return Err(self.err_at(start, "expected a CID link (tag 42)"));
        }
        self.r
            .link(start)
            .map(|cid| cid.to_cid())
            .map_err(Self::cbor)
    }

    fn link_or_null(&mut self) -> Result<Option<Cid>, MstError> {
        if self.r.peek().ok() == Some(0xf6) {
            self.r.pos += 1;
            return Ok(None);
        }
        self.link().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NodeData {
        let value = Cid::for_dag_cbor(b"\xa0");
        NodeData {
            left: Some(Cid::for_dag_cbor(b"\x80")),
            entries: vec![
                NodeEntry {
                    prefix_len: 0,
                    key_suffix: b"a/1".to_vec(),
                    value,
                    right: None,
                },
                NodeEntry {
                    prefix_len: 2,
                    key_suffix: b"2".to_vec(),
                    value,
                    right: Some(value),
                },
            ],
        }
    }

    #[test]
    fn round_trips_and_matches_the_generic_encoder() {
        let node = sample();
        let bytes = node.encode();
        assert_eq!(NodeData::decode(&bytes), Ok(node));
        // The generic canonical DAG-CBOR decoder accepts it and re-encodes it identically.
        let v = crate::cbor::decode_value(&bytes).expect("canonical");
        assert_eq!(crate::cbor::encode_value(&v), bytes);
    }

    #[test]
    fn rejects_every_truncation_and_trailing_bytes() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(NodeData::decode(&bytes[..n]).is_err(), "{n}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(NodeData::decode(&long).is_err());
    }

    #[test]
    fn rejects_non_shortest_and_wrong_shapes() {
        // {"e": [], "l": null} is the empty node.
        assert!(NodeData::decode(&[0xa2, 0x61, b'e', 0x80, 0x61, b'l', 0xf6]).is_ok());
        // Array length 0 written in two bytes.
        assert!(NodeData::decode(&[0xa2, 0x61, b'e', 0x98, 0, 0x61, b'l', 0xf6]).is_err());
        // Keys swapped.
        assert!(NodeData::decode(&[0xa2, 0x61, b'l', 0xf6, 0x61, b'e', 0x80]).is_err());
        // Missing `l`.
        assert!(NodeData::decode(&[0xa1, 0x61, b'e', 0x80]).is_err());
        // Indefinite array.
        assert!(NodeData::decode(&[0xa2, 0x61, b'e', 0x9f, 0xff, 0x61, b'l', 0xf6]).is_err());
        // Huge declared array.
        assert!(NodeData::decode(&[0xa2, 0x61, b'e', 0x9a, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn reader_errors_keep_their_offset_and_reason() {
        let reason_at = |bytes: &[u8]| match NodeData::decode(bytes) {
            Err(MstError::Malformed { offset, reason }) => (offset, reason),
            other => panic!("expected a malformed node, got {other:?}"),
        };
        assert_eq!(
            reason_at(&[0xa2, 0x61, b'e', 0x98, 0, 0x61, b'l', 0xf6]),
            (3, "integer or length not in shortest form")
        );
        assert_eq!(
            reason_at(&[0xa2, 0x61, b'e', 0x9f, 0xff, 0x61, b'l', 0xf6]),
            (3, "indefinite length or reserved value")
        );
        // `l` as tag 42 over bytes without the 0x00 prefix, then over a bad CID.
        assert_eq!(
            reason_at(&[0xa2, 0x61, b'e', 0x80, 0x61, b'l', 0xd8, 42, 0x42, 1, 2]),
            (6, "link holds an invalid CID")
        );
        assert_eq!(
            reason_at(&[0xa2, 0x61, b'e', 0x80, 0x61, b'l', 0xd8, 42, 0x42, 0, 2]),
            (6, "link holds an invalid CID")
        );
    }
}
