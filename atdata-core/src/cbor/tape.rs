//! A tape decoder: strict DAG-CBOR into a flat array of small nodes that is reused from one
//! decode to the next.
//!
//! [`decode_ref`](super::decode_ref) builds a tree of `Vec`s, one per map and array, and drops it
//! again; for a whole repository that allocating, moving and freeing costs more than the parsing.
//! A [`Tape`] instead writes one node per value (and one per map key) into a single `Vec` that it
//! keeps, so once it has grown to the size of the largest block, decoding allocates nothing.
//! Containers record where their subtree ends, so readers skip whole subtrees in O(1).
//!
//! The rules are exactly those of [`decode_ref`](super::decode_ref): the same inputs are
//! accepted, with the same values, and the same inputs are rejected, with the same
//! [`DecodeError`].

use std::cmp::Ordering;
use std::fmt;

use super::decode::{Limits, Reader};
use super::error::{DecodeError, DecodeErrorKind as K};
use crate::cid::{Cid, CidRef};
use crate::value::{Map, Value};
use crate::value_ref::ValueRef;

/// One tape entry: a scalar, a map key, or the head of a container.
///
/// `end` is the index one past the container's last descendant; while the container is still
/// open the field is unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node<'a> {
    Null,
    Bool(bool),
    Integer(i64),
    String(&'a str),
    Bytes(&'a [u8]),
    Link(CidRef<'a>),
    /// A map key; the entry's value follows it.
    Key(&'a str),
    Array {
        len: u32,
        end: u32,
    },
    Map {
        len: u32,
        end: u32,
    },
}

// A tag and 16 bytes of payload.
const _: () = assert!(std::mem::size_of::<Node<'static>>() <= 24);

/// A container still being filled.
#[derive(Debug, Clone, Copy)]
struct Frame<'a> {
    /// Index of the container's node.
    node: u32,
    /// Items (arrays) or entries (maps) still to read.
    remaining: u32,
    /// Byte offset of the container's head, for errors about the whole map.
    start: u32,
    is_map: bool,
    /// The map's `$type` is `"blob"`.
    is_blob: bool,
    /// The container is the value of a `$type` key: once complete it is rejected, as the tree
    /// decoder rejects it after decoding it (so errors inside it come first).
    bad_type: bool,
    /// The map's previous key, for the order check.
    prev_key: Option<&'a str>,
}

/// The tape of an empty or failed decode: `null`.
static NULL: [Node<'static>; 1] = [Node::Null];

/// A reusable decoder that turns DAG-CBOR into a flat tape of nodes.
///
/// [`Tape::decode`] clears the tape and refills it, keeping its allocation, so decoding many
/// blocks with one `Tape` allocates nothing once the tape has grown to the largest block. Read
/// the result through [`TapeValue`], which borrows strings and bytes from the input.
///
/// ```
/// use atdata_core::cbor::tape::Tape;
/// // {"n": 1, "$type": "x.y"} and [true, null]
/// let blocks: [&[u8]; 2] = [
///     &[0xa2, 0x61, b'n', 0x01, 0x65, b'$', b't', b'y', b'p', b'e', 0x63, b'x', b'.', b'y'],
///     &[0x82, 0xf5, 0xf6],
/// ];
/// let mut tape = Tape::new();
/// let v = tape.decode(blocks[0])?;
/// assert_eq!(v.type_name(), Some("x.y"));
/// assert_eq!(v.get("n").and_then(|n| n.as_integer()), Some(1));
/// let v = tape.decode(blocks[1])?; // same tape, no new allocation
/// assert_eq!(v.len(), 2);
/// assert_eq!(v.array_iter().next().and_then(|b| b.as_bool()), Some(true));
/// // Strict: 1 encoded in two bytes is rejected.
/// assert!(tape.decode(&[0x18, 0x01]).is_err());
/// # Ok::<(), atdata_core::cbor::DecodeError>(())
/// ```
#[derive(Clone)]
pub struct Tape<'a> {
    /// Filled to its high-water mark; the tape is `nodes[..len]`.
    nodes: Vec<Node<'a>>,
    len: usize,
    stack: Vec<Frame<'a>>,
    limits: Limits,
}

impl fmt::Debug for Tape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tape")
            .field("nodes", &self.len)
            .field("root", &self.root())
            .finish()
    }
}

impl Default for Tape<'_> {
    fn default() -> Self {
        Tape::with_limits(Limits::DEFAULT)
    }
}

impl<'a> Tape<'a> {
    /// An empty tape with the default [`Limits`].
    pub fn new() -> Self {
        Tape::default()
    }

    /// An empty tape with explicit limits (a depth above [`Limits::MAX_DEPTH`] acts as that).
    pub fn with_limits(limits: Limits) -> Self {
        Tape {
            nodes: Vec::new(),
            len: 0,
            stack: Vec::new(),
            limits,
        }
    }

    /// Strictly decodes one DAG-CBOR value spanning all of `bytes`, replacing what the tape held,
    /// and returns its root. On error the tape is left empty (its [`root`](Tape::root) is null).
    ///
    /// Inputs longer than `u32::MAX` bytes are rejected with
    /// [`DecodeErrorKind::TooLong`](super::DecodeErrorKind::TooLong).
    pub fn decode(&mut self, bytes: &'a [u8]) -> Result<TapeValue<'_, 'a>, DecodeError> {
        self.len = 0;
        self.stack.clear();
        self.len = parse(bytes, self.limits.depth(), &mut self.nodes, &mut self.stack)?;
        Ok(self.root())
    }

    /// Makes the tape hold a single byte string: what a `raw`-codec CAR block decodes to (see
    /// [`Block::decode`](crate::car::Block::decode)).
    pub fn set_bytes(&mut self, bytes: &'a [u8]) -> TapeValue<'_, 'a> {
        match self.nodes.first_mut() {
            Some(slot) => *slot = Node::Bytes(bytes),
            None => self.nodes.push(Node::Bytes(bytes)),
        }
        self.len = 1;
        self.root()
    }

    /// The root of the last successful decode; null if the tape is empty.
    pub fn root(&self) -> TapeValue<'_, 'a> {
        if self.len == 0 {
            TapeValue {
                nodes: &NULL,
                idx: 0,
            }
        } else {
            TapeValue {
                nodes: &self.nodes[..self.len],
                idx: 0,
            }
        }
    }

    /// Number of nodes on the tape: one per value and one per map key.
    pub fn node_count(&self) -> usize {
        self.len
    }

    /// Empties the tape, keeping its allocation.
    pub fn clear(&mut self) {
        self.len = 0;
        self.stack.clear();
    }

    /// Empties the tape and lets it borrow from buffers with another lifetime, e.g. the owned
    /// blocks of a streaming reader, each of which lives shorter than the tape. The allocation
    /// is normally kept (the standard library collects into the same buffer when the element
    /// layouts match, as they do here).
    ///
    /// ```
    /// use atdata_core::cbor::tape::Tape;
    /// let owned_blocks = vec![vec![0x01], vec![0x82, 0x02, 0x03]];
    /// let mut spare: Tape<'static> = Tape::new();
    /// let mut items = 0;
    /// for block in owned_blocks {
    ///     // `block` lives for one iteration only: lend the tape's allocation to it.
    ///     let mut tape = spare.recycle();
    ///     items += tape.decode(&block)?.len();
    ///     spare = tape.recycle();
    /// }
    /// assert_eq!(items, 2);
    /// # Ok::<(), atdata_core::cbor::DecodeError>(())
    /// ```
    pub fn recycle<'b>(self) -> Tape<'b> {
        Tape {
            nodes: recycle_vec(self.nodes),
            len: 0,
            stack: recycle_vec(self.stack),
            limits: self.limits,
        }
    }
}

/// Empties a `Vec` and reuses its buffer for a type of the same layout.
fn recycle_vec<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Reads a map key, which must be a text string.
#[inline(always)]
fn key<'a>(r: &mut Reader<'a>) -> Result<&'a str, DecodeError> {
    let start = r.pos;
    let b = r.peek()?;
    if (0x60..=0x77).contains(&b) {
        r.pos += 1;
        return r.text(u64::from(b & 0x1f), start);
    }
    if b >> 5 != 3 {
        return Err(r.err_at(start, K::NonStringKey));
    }
    let (_, len) = r.head()?;
    r.text(len, start)
}

/// [`super::canonical_key_cmp`], comparing short keys (nearly all of them) inline instead of
/// calling `memcmp`.
#[inline(always)]
fn key_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    if a.len() > 16 {
        return a.cmp(b);
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    Ordering::Equal
}

/// The data-model rule for `$type` values: a non-empty string.
#[cold]
fn bad_type(node: Option<&Node<'_>>, at: usize) -> DecodeError {
    let why = match node {
        Some(Node::String(_)) => "empty $type".to_owned(),
        other => format!(
            "$type must be a string, not {}",
            other.map_or("null", node_kind)
        ),
    };
    DecodeError::new(at, K::DataModel(why))
}

/// A `$type` whose value is an array or map, reported where the container starts.
#[cold]
fn type_container(is_map: bool, start: usize) -> DecodeError {
    let kind = if is_map { "map" } else { "array" };
    DecodeError::new(
        start,
        K::DataModel(format!("$type must be a string, not {kind}")),
    )
}

#[cold]
fn check_blob(nodes: &[Node<'_>], idx: usize, start: u32) -> Result<(), DecodeError> {
    let map = TapeValue { nodes, idx };
    let why = if !matches!(map.get("ref").map(|v| *v.node()), Some(Node::Link(_))) {
        "blob needs a \"ref\" link"
    } else if !matches!(
        map.get("mimeType").map(|v| *v.node()),
        Some(Node::String(_))
    ) {
        "blob needs a \"mimeType\" string"
    } else if !matches!(map.get("size").map(|v| *v.node()), Some(Node::Integer(n)) if n >= 0) {
        "blob needs a non-negative integer \"size\""
    } else {
        return match crate::blob::unexpected_blob_key(map.map_iter().map(|(k, _)| k)) {
            Some(key) => Err(DecodeError::new(
                start as usize,
                K::DataModel(crate::blob::unexpected_blob_key_message(key)),
            )),
            None => Ok(()),
        };
    };
    Err(DecodeError::new(start as usize, K::DataModel(why.into())))
}

/// The head of an array or map, which [`read_value`] leaves to the caller.
#[derive(Clone, Copy)]
struct Open {
    is_map: bool,
    len: u64,
}

/// Writes one node after another into the tape's `Vec`, which is kept filled to its high-water
/// mark so that a write is a bounds check and a store, with the count in a register.
///
/// Every node is written where it is built (never built into a temporary and then copied as a
/// whole): copying a freshly built enum reads back a tag byte and payload words as one wide load,
/// which cannot be forwarded from the narrower stores and stalls.
struct Out<'v, 'a> {
    nodes: &'v mut Vec<Node<'a>>,
    n: usize,
}

/// `out.put(node)`, written as a macro so that the node is built in its slot: the enum
/// expression assigned straight to the place is stored field by field.
macro_rules! put {
    ($out:expr, $node:expr) => {{
        let out: &mut Out<'_, '_> = $out;
        match out.nodes.get_mut(out.n) {
            Some(slot) => *slot = $node,
            None => grow(out.nodes, $node),
        }
        out.n += 1;
    }};
}

#[cold]
#[inline(never)]
fn grow<'a>(nodes: &mut Vec<Node<'a>>, node: Node<'a>) {
    nodes.push(node);
    let more = nodes.len().max(64);
    nodes.resize(nodes.len() + more, Node::Null);
}

/// Reads one value starting at `start`: a scalar goes onto the tape, the head of an array or map
/// is returned.
#[inline(always)]
fn read_value<'a>(
    buf: &'a [u8],
    r: &mut Reader<'a>,
    out: &mut Out<'_, 'a>,
    start: usize,
) -> Result<Option<Open>, DecodeError> {
    let b = r.peek()?;
    // The shape of nearly every link: tag 42, a 37-byte byte string, 0x00 and a 36-byte CID.
    if b == 0xd8 {
        if let Some([0xd8, 0x2a, 0x58, 0x25, 0x00, cid @ ..]) = buf.get(start..start + 41) {
            if let Ok(cid) = CidRef::new(cid) {
                r.pos = start + 41;
                put!(out, Node::Link(cid));
                return Ok(None);
            }
        }
    }
    match b {
        0x00..=0x17 => {
            r.pos += 1;
            put!(out, Node::Integer(i64::from(b)));
        }
        0x60..=0x77 => {
            r.pos += 1;
            let s = r.text(u64::from(b & 0x1f), start)?;
            put!(out, Node::String(s));
        }
        0x80..=0x97 => {
            r.pos += 1;
            return Ok(Some(Open {
                is_map: false,
                len: u64::from(b & 0x1f),
            }));
        }
        0xa0..=0xb7 => {
            r.pos += 1;
            return Ok(Some(Open {
                is_map: true,
                len: u64::from(b & 0x1f),
            }));
        }
        0xf4 => {
            r.pos += 1;
            put!(out, Node::Bool(false));
        }
        0xf5 => {
            r.pos += 1;
            put!(out, Node::Bool(true));
        }
        0xf6 => {
            r.pos += 1;
            put!(out, Node::Null);
        }
        0xe0..=0xff => match r.simple()? {
            ValueRef::Bool(v) => put!(out, Node::Bool(v)),
            _ => put!(out, Node::Null),
        },
        _ => {
            let (major, arg) = r.head()?;
            match major {
                0 => {
                    if arg > i64::MAX as u64 {
                        return Err(r.err_at(start, K::IntegerRange));
                    }
                    put!(out, Node::Integer(arg as i64));
                }
                1 => {
                    if arg > i64::MAX as u64 {
                        return Err(r.err_at(start, K::IntegerRange));
                    }
                    put!(out, Node::Integer(-1 - arg as i64));
                }
                2 => {
                    let bytes = r.take(arg, start)?;
                    put!(out, Node::Bytes(bytes));
                }
                3 => {
                    let s = r.text(arg, start)?;
                    put!(out, Node::String(s));
                }
                4 | 5 => {
                    return Ok(Some(Open {
                        is_map: major == 5,
                        len: arg,
                    }))
                }
                6 => {
                    if arg != 42 {
                        return Err(r.err_at(start, K::Tag(arg)));
                    }
                    let cid = r.link(start)?;
                    put!(out, Node::Link(cid));
                }
                // `head` returns majors 0–6 only; major 7 went to `simple` above.
                _ => return Err(r.err_at(start, K::Reserved)),
            }
        }
    }
    Ok(None)
}

/// Decodes `buf` into `nodes[..n]`, returning `n`, iteratively: `stack` holds the frames of the
/// open containers around the current one.
fn parse<'a>(
    buf: &'a [u8],
    max_depth: usize,
    nodes: &mut Vec<Node<'a>>,
    stack: &mut Vec<Frame<'a>>,
) -> Result<usize, DecodeError> {
    if u32::try_from(buf.len()).is_err() {
        return Err(DecodeError::new(0, K::TooLong));
    }
    let mut r = Reader::new(buf);
    let mut out = Out { nodes, n: 0 };
    // Open containers, the current one included.
    let mut depth = 0usize;

    // Checks and writes a container head; evaluates to its frame, or to `None` when it is empty
    // (and so already complete).
    macro_rules! open {
        ($is_map:expr, $len:expr, $start:expr) => {{
            let (is_map, len, start): (bool, u64, usize) = ($is_map, $len, $start);
            if depth + 1 >= max_depth {
                return Err(r.err_at(start, K::TooDeep));
            }
            // Every array item takes at least one byte and every map entry two, so the
            // remaining input bounds the length (and so `u32` holds it).
            let max = if is_map {
                r.remaining() / 2
            } else {
                r.remaining()
            };
            if len > max as u64 {
                return Err(r.err_at(start, K::TooLong));
            }
            let len = len as u32;
            let idx = out.n as u32;
            // `end` is final for an empty container and patched on closing otherwise.
            let end = idx + 1;
            if is_map {
                put!(&mut out, Node::Map { len, end });
            } else {
                put!(&mut out, Node::Array { len, end });
            }
            if len == 0 {
                None
            } else {
                Some(Frame {
                    node: idx,
                    remaining: len,
                    start: start as u32,
                    is_map,
                    is_blob: false,
                    bad_type: false,
                    prev_key: None,
                })
            }
        }};
    }

    let mut cur = match read_value(buf, &mut r, &mut out, 0)? {
        None => {
            r.finish()?;
            return Ok(out.n);
        }
        Some(Open { is_map, len }) => match open!(is_map, len, 0) {
            None => {
                r.finish()?;
                return Ok(out.n);
            }
            Some(frame) => frame,
        },
    };
    depth += 1;

    'outer: loop {
        if cur.is_map {
            while cur.remaining > 0 {
                let key_start = r.pos;
                let k = key(&mut r)?;
                if let Some(prev) = cur.prev_key {
                    match key_cmp(prev, k) {
                        Ordering::Less => {}
                        Ordering::Equal => return Err(r.err_at(key_start, K::DuplicateKey)),
                        Ordering::Greater => return Err(r.err_at(key_start, K::KeyOrder)),
                    }
                }
                cur.prev_key = Some(k);
                put!(&mut out, Node::Key(k));
                let is_type = k.len() == 5 && k == "$type";
                let start = r.pos;
                match read_value(buf, &mut r, &mut out, start)? {
                    None => {
                        if is_type {
                            match out.nodes.get(out.n - 1) {
                                Some(Node::String(t)) if !t.is_empty() => {
                                    cur.is_blob = *t == "blob";
                                }
                                other => return Err(bad_type(other, start)),
                            }
                        }
                        cur.remaining -= 1;
                    }
                    Some(Open { is_map, len }) => {
                        // A container under `$type` is parsed like any other (iteratively, so
                        // its depth costs no stack) and rejected once complete.
                        match open!(is_map, len, start) {
                            None if is_type => return Err(type_container(is_map, start)),
                            None => cur.remaining -= 1,
                            Some(mut frame) => {
                                frame.bad_type = is_type;
                                stack.push(cur);
                                cur = frame;
                                depth += 1;
                                continue 'outer;
                            }
                        }
                    }
                }
            }
        } else {
            while cur.remaining > 0 {
                let start = r.pos;
                match read_value(buf, &mut r, &mut out, start)? {
                    None => cur.remaining -= 1,
                    Some(Open { is_map, len }) => match open!(is_map, len, start) {
                        None => cur.remaining -= 1,
                        Some(frame) => {
                            stack.push(cur);
                            cur = frame;
                            depth += 1;
                            continue 'outer;
                        }
                    },
                }
            }
        }
        // `cur` is complete: record where its subtree ends and check it as a whole.
        let n = out.n;
        if let Some(Node::Array { end, .. } | Node::Map { end, .. }) =
            out.nodes.get_mut(cur.node as usize)
        {
            *end = n as u32;
        }
        if cur.is_blob {
            check_blob(&out.nodes[..n], cur.node as usize, cur.start)?;
        }
        if cur.bad_type {
            return Err(type_container(cur.is_map, cur.start as usize));
        }
        match stack.pop() {
            Some(parent) => {
                cur = parent;
                cur.remaining -= 1;
                depth -= 1;
            }
            None => break,
        }
    }
    r.finish()?;
    Ok(out.n)
}

fn node_kind(node: &Node<'_>) -> &'static str {
    match node {
        Node::Null => "null",
        Node::Bool(_) => "boolean",
        Node::Integer(_) => "integer",
        Node::String(_) | Node::Key(_) => "string",
        Node::Bytes(_) => "bytes",
        Node::Link(_) => "cid-link",
        Node::Array { .. } => "array",
        Node::Map { .. } => "map",
    }
}

/// One value on a [`Tape`]: a cheap `Copy` handle that reads the tape in place.
///
/// `'t` is the borrow of the tape, `'a` that of the decoded bytes: strings and bytes returned by
/// the accessors live as long as the input, not just the tape.
///
/// ```
/// use atdata_core::cbor::tape::Tape;
/// let mut tape = Tape::new();
/// let root = tape.decode(&[0xa1, 0x61, b'a', 0x82, 0x01, 0x61, b'x'])?; // {"a": [1, "x"]}
/// let a = root.get("a").expect("key a");
/// assert_eq!(a.kind(), "array");
/// let items: Vec<_> = a.array_iter().map(|v| v.to_value_ref()).collect();
/// assert_eq!(items, [atdata_core::ValueRef::Integer(1), atdata_core::ValueRef::String("x")]);
/// # Ok::<(), atdata_core::cbor::DecodeError>(())
/// ```
#[derive(Clone, Copy)]
pub struct TapeValue<'t, 'a> {
    nodes: &'t [Node<'a>],
    idx: usize,
}

impl<'t, 'a> TapeValue<'t, 'a> {
    #[inline]
    fn node(&self) -> &'t Node<'a> {
        &self.nodes[self.idx]
    }

    /// Index one past this value's subtree.
    #[inline]
    fn end(&self) -> usize {
        match self.node() {
            Node::Array { end, .. } | Node::Map { end, .. } => *end as usize,
            _ => self.idx + 1,
        }
    }

    /// The data-model kind, named as [`ValueRef::kind`] names it.
    pub fn kind(&self) -> &'static str {
        node_kind(self.node())
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.node(), Node::Null)
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.node() {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self.node() {
            Node::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The string, if this is one, borrowed from the input.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.node() {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is a byte string, borrowed from the input.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.node() {
            Node::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The CID, if this is a link.
    pub fn as_link(&self) -> Option<Cid> {
        self.as_cid_ref().map(|c| c.to_cid())
    }

    /// The CID borrowed from the input, if this is a link.
    pub fn as_cid_ref(&self) -> Option<CidRef<'a>> {
        match self.node() {
            Node::Link(c) => Some(*c),
            _ => None,
        }
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        matches!(self.node(), Node::Array { .. })
    }

    /// Whether this is a map.
    pub fn is_map(&self) -> bool {
        matches!(self.node(), Node::Map { .. })
    }

    /// The number of items of an array or entries of a map; 0 for anything else.
    pub fn len(&self) -> usize {
        match self.node() {
            Node::Array { len, .. } | Node::Map { len, .. } => *len as usize,
            _ => 0,
        }
    }

    /// Whether this is an empty array or map, or not a container at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key` when this is a map. Skips over other entries' subtrees and stops
    /// early thanks to the canonical key order.
    pub fn get(&self, key: &str) -> Option<TapeValue<'t, 'a>> {
        let Node::Map { end, .. } = *self.node() else {
            return None;
        };
        let end = end as usize;
        let mut i = self.idx + 1;
        while i < end {
            let Node::Key(k) = self.nodes[i] else {
                return None;
            };
            let value = TapeValue {
                nodes: self.nodes,
                idx: i + 1,
            };
            match super::canonical_key_cmp(k, key) {
                Ordering::Less => i = value.end(),
                Ordering::Equal => return Some(value),
                Ordering::Greater => return None,
            }
        }
        None
    }

    /// The map's `$type`, if this is a map with one.
    pub fn type_name(&self) -> Option<&'a str> {
        self.get("$type").and_then(|t| t.as_str())
    }

    /// The items of an array; empty for anything else.
    pub fn array_iter(&self) -> TapeArrayIter<'t, 'a> {
        let (pos, left) = match self.node() {
            Node::Array { len, .. } => (self.idx + 1, *len as usize),
            _ => (self.idx, 0),
        };
        TapeArrayIter {
            nodes: self.nodes,
            pos,
            left,
        }
    }

    /// The entries of a map, in canonical key order; empty for anything else.
    pub fn map_iter(&self) -> TapeMapIter<'t, 'a> {
        let (pos, left) = match self.node() {
            Node::Map { len, .. } => (self.idx + 1, *len as usize),
            _ => (self.idx, 0),
        };
        TapeMapIter {
            nodes: self.nodes,
            pos,
            left,
        }
    }

    /// Builds the equivalent [`ValueRef`] tree (what [`decode_ref`](super::decode_ref) returns).
    pub fn to_value_ref(&self) -> ValueRef<'a> {
        match *self.node() {
            Node::Null => ValueRef::Null,
            Node::Bool(b) => ValueRef::Bool(b),
            Node::Integer(i) => ValueRef::Integer(i),
            Node::String(s) | Node::Key(s) => ValueRef::String(s),
            Node::Bytes(b) => ValueRef::Bytes(b),
            Node::Link(c) => ValueRef::Link(c),
            Node::Array { .. } => {
                ValueRef::Array(self.array_iter().map(|v| v.to_value_ref()).collect())
            }
            Node::Map { .. } => ValueRef::Map(
                self.map_iter()
                    .map(|(k, v)| (k, v.to_value_ref()))
                    .collect(),
            ),
        }
    }

    /// Copies into an owned [`Value`].
    pub fn to_value(&self) -> Value {
        match *self.node() {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Integer(i) => Value::Integer(i),
            Node::String(s) | Node::Key(s) => Value::String(s.to_owned()),
            Node::Bytes(b) => Value::Bytes(b.to_vec()),
            Node::Link(c) => Value::Link(c.to_cid()),
            Node::Array { .. } => Value::Array(self.array_iter().map(|v| v.to_value()).collect()),
            Node::Map { .. } => Value::Map(
                self.map_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect::<Map>(),
            ),
        }
    }
}

impl fmt::Debug for TapeValue<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value_ref(), f)
    }
}

/// The items of an array on a [`Tape`] (see [`TapeValue::array_iter`]).
#[derive(Debug, Clone)]
pub struct TapeArrayIter<'t, 'a> {
    nodes: &'t [Node<'a>],
    pos: usize,
    left: usize,
}

impl<'t, 'a> Iterator for TapeArrayIter<'t, 'a> {
    type Item = TapeValue<'t, 'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let v = TapeValue {
            nodes: self.nodes,
            idx: self.pos,
        };
        self.pos = v.end();
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for TapeArrayIter<'_, '_> {}
impl std::iter::FusedIterator for TapeArrayIter<'_, '_> {}

/// The entries of a map on a [`Tape`] (see [`TapeValue::map_iter`]).
#[derive(Debug, Clone)]
pub struct TapeMapIter<'t, 'a> {
    nodes: &'t [Node<'a>],
    pos: usize,
    left: usize,
}

impl<'t, 'a> Iterator for TapeMapIter<'t, 'a> {
    type Item = (&'a str, TapeValue<'t, 'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let key = match self.nodes[self.pos] {
            Node::Key(k) => k,
            _ => "",
        };
        let v = TapeValue {
            nodes: self.nodes,
            idx: self.pos + 1,
        };
        self.pos = v.end();
        Some((key, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for TapeMapIter<'_, '_> {}
impl std::iter::FusedIterator for TapeMapIter<'_, '_> {}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::car::CarReader;
    use crate::cbor::{decode_ref, decode_ref_with, decode_value};

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus");

    fn corpus_files() -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
                .expect("corpus dir")
                .map(|e| e.expect("dir entry").path())
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "car")
                    || path.file_name().is_some_and(|n| n == "divy.repo")
                {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(Path::new(CORPUS), &mut out);
        out
    }

    /// Every block of every corpus CAR, as owned bytes.
    fn corpus_blocks() -> Vec<Vec<u8>> {
        let mut blocks = Vec::new();
        for path in corpus_files() {
            let bytes = std::fs::read(&path).expect("read CAR");
            let reader = CarReader::new(&bytes).expect("CAR header");
            for block in reader.blocks() {
                blocks.push(block.expect("CAR block").data.to_vec());
            }
        }
        blocks
    }

    /// The tape's result in the tree decoder's terms.
    fn tape_result<'a>(tape: &mut Tape<'a>, bytes: &'a [u8]) -> Result<ValueRef<'a>, DecodeError> {
        tape.decode(bytes).map(|v| v.to_value_ref())
    }

    /// Checks every accessor of `t` against the tree value `v`.
    fn check_accessors(t: TapeValue<'_, '_>, v: &ValueRef<'_>) {
        assert_eq!(t.kind(), v.kind());
        assert_eq!(t.as_str(), v.as_str());
        assert_eq!(t.as_integer(), v.as_integer());
        assert_eq!(t.as_bytes(), v.as_bytes());
        assert_eq!(t.as_link(), v.as_link());
        assert_eq!(t.is_null(), *v == ValueRef::Null);
        assert_eq!(
            t.as_bool(),
            if let ValueRef::Bool(b) = v {
                Some(*b)
            } else {
                None
            }
        );
        assert_eq!(t.type_name(), v.type_name());
        assert_eq!(t.get("$type").is_some(), v.get("$type").is_some());
        assert!(t.get("no such key").is_none());
        match v {
            ValueRef::Array(items) => {
                assert_eq!(t.len(), items.len());
                assert_eq!(t.array_iter().len(), items.len());
                assert_eq!(t.map_iter().count(), 0);
                for (ti, vi) in t.array_iter().zip(items) {
                    check_accessors(ti, vi);
                }
            }
            ValueRef::Map(entries) => {
                assert_eq!(t.len(), entries.len());
                assert_eq!(t.map_iter().len(), entries.len());
                assert_eq!(t.array_iter().count(), 0);
                for ((tk, tv), (vk, vv)) in t.map_iter().zip(entries) {
                    assert_eq!(tk, *vk);
                    check_accessors(tv, vv);
                    let got = t.get(vk).expect("present key");
                    assert_eq!(got.to_value_ref(), *vv);
                }
            }
            _ => {
                assert_eq!(t.len(), 0);
                assert!(t.is_empty());
                assert_eq!(t.array_iter().count(), 0);
                assert!(t.get("a").is_none());
            }
        }
    }

    #[test]
    fn corpus_blocks_decode_identically() {
        let blocks = corpus_blocks();
        assert!(blocks.len() > 15_000, "only {} blocks", blocks.len());
        let mut tape = Tape::new();
        for block in &blocks {
            let expected = decode_ref(block);
            assert_eq!(tape_result(&mut tape, block), expected);
            if let Ok(v) = &expected {
                let root = tape.root();
                check_accessors(root, v);
                assert_eq!(Ok(root.to_value()), decode_value(block));
            }
        }
    }

    /// Inputs that both decoders reject, with the kind the tree decoder reports.
    fn invalid_cases() -> Vec<(Vec<u8>, K)> {
        let blob = |ref_: &[u8], mime: &[u8], size: &[u8]| {
            // {"ref": .., "size": .., "$type": "blob", "mimeType": ..} in canonical order.
            let mut v = vec![0xa4, 0x63, b'r', b'e', b'f'];
            v.extend_from_slice(ref_);
            v.extend_from_slice(&[0x64, b's', b'i', b'z', b'e']);
            v.extend_from_slice(size);
            v.extend_from_slice(&[
                0x65, b'$', b't', b'y', b'p', b'e', 0x64, b'b', b'l', b'o', b'b',
            ]);
            v.extend_from_slice(&[0x68, b'm', b'i', b'm', b'e', b'T', b'y', b'p', b'e']);
            v.extend_from_slice(mime);
            v
        };
        let mut link = vec![0xd8, 0x2a, 0x58, 0x25, 0x00, 0x01, 0x71, 0x12, 0x20];
        link.extend_from_slice(&[7; 32]);
        let dm = |s: &str| K::DataModel(s.into());
        let mut cases = vec![
            (vec![0x18, 0x01], K::NotShortest),
            (vec![0x19, 0x00, 0xff], K::NotShortest),
            (vec![0x1a, 0x00, 0x00, 0xff, 0xff], K::NotShortest),
            (
                vec![0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
                K::NotShortest,
            ),
            (vec![0x78, 0x01, b'a'], K::NotShortest),
            (vec![0x9f, 0xff], K::IndefiniteLength),
            (vec![0xbf, 0xff], K::IndefiniteLength),
            (vec![0x7f, 0xff], K::IndefiniteLength),
            (vec![0x1c], K::Reserved),
            (vec![0xfb, 0, 0, 0, 0, 0, 0, 0, 0], K::Float),
            (vec![0xf9, 0, 0], K::Float),
            (vec![0xf7], K::SimpleValue(23)),
            (vec![0xf8, 0x20], K::SimpleValue(0x20)),
            (vec![0xe0], K::SimpleValue(0)),
            (vec![0xff], K::IndefiniteLength),
            (vec![0xc1, 0x00], K::Tag(1)),
            (
                vec![0xd8, 0x2a, 0x01],
                K::BadLink("tag 42 must hold a byte string".into()),
            ),
            (
                vec![0xd8, 0x2a, 0x41, 0x01],
                K::BadLink("missing the 0x00 multibase prefix".into()),
            ),
            (
                vec![0xa2, 0x62, b'a', b'a', 0x01, 0x61, b'b', 0x02],
                K::KeyOrder,
            ),
            (vec![0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x02], K::KeyOrder),
            (
                vec![0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02],
                K::DuplicateKey,
            ),
            (vec![0xa2, 0x60, 0x01, 0x60, 0x02], K::DuplicateKey),
            (vec![0xa1, 0x01, 0x01], K::NonStringKey),
            (vec![0xa1, 0x41, b'a', 0x01], K::NonStringKey),
            (vec![0xa1, 0x78, 0x01, b'a', 0x01], K::NotShortest),
            (vec![0x61, 0xff], K::InvalidUtf8),
            (
                vec![
                    0x78, 0x21, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
                K::InvalidUtf8,
            ),
            (vec![0x01, 0x01], K::TrailingBytes),
            (vec![0x80, 0x00], K::TrailingBytes),
            (vec![0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0], K::IntegerRange),
            (vec![0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0], K::IntegerRange),
            (vec![0x5a, 0xff, 0xff, 0xff, 0xff], K::TooLong),
            (
                vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                K::TooLong,
            ),
            (
                vec![0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                K::TooLong,
            ),
            (vec![0x82, 0x01], K::TooLong),
            (vec![0xa1, 0x61], K::TooLong),
            (vec![0x82, 0x19, 0x01], K::UnexpectedEnd),
            (vec![0xa2, 0x61, b'a', 0x01, 0x61], K::TooLong),
            (vec![0xa2, 0x61, b'a', 0x01, 0x61, b'b'], K::UnexpectedEnd),
            (vec![], K::UnexpectedEnd),
            (vec![0x19, 0x01], K::UnexpectedEnd),
            (vec![0x81u8; 100_000], K::TooDeep),
            // $type rules.
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x60],
                dm("empty $type"),
            ),
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x01],
                dm("$type must be a string, not integer"),
            ),
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0xf6],
                dm("$type must be a string, not null"),
            ),
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x80],
                dm("$type must be a string, not array"),
            ),
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0xa0],
                dm("$type must be a string, not map"),
            ),
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x81, 0x01],
                dm("$type must be a string, not array"),
            ),
            // An error inside a container under $type wins over the $type rule.
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x81, 0x18, 0x01],
                K::NotShortest,
            ),
            (
                vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x82, 0x01],
                K::TooLong,
            ),
            // A container under $type inside one: the inner one completes, and fails, first.
            (
                [
                    &[0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x82, 0x01][..],
                    &[0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x80],
                ]
                .concat(),
                dm("$type must be a string, not array"),
            ),
            // A bad blob under $type: the blob's own check runs as it completes.
            (
                vec![
                    0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0xa1, 0x65, b'$', b't', b'y', b'p',
                    b'e', 0x64, b'b', b'l', b'o', b'b',
                ],
                dm("blob needs a \"ref\" link"),
            ),
            // The $type container fails before a later, broken entry is read.
            (
                vec![
                    0xa2, 0x65, b'$', b't', b'y', b'p', b'e', 0x81, 0x01, 0x66, b'z', b'z', b'z',
                    b'z', b'z', b'z', 0x18, 0x01,
                ],
                dm("$type must be a string, not array"),
            ),
            // Blobs.
            (
                blob(&link, &[0x60], &[0x20]),
                dm("blob needs a non-negative integer \"size\""),
            ),
            (
                blob(&link, &[0x01], &[0x01]),
                dm("blob needs a \"mimeType\" string"),
            ),
            (
                blob(&[0x01], &[0x60], &[0x01]),
                dm("blob needs a \"ref\" link"),
            ),
            (
                vec![
                    0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x64, b'b', b'l', b'o', b'b',
                ],
                dm("blob needs a \"ref\" link"),
            ),
            // A blob check inside an array, after other items.
            (
                [&[0x82, 0x01][..], &blob(&link, &[0x60], &[0x61, b'1'])].concat(),
                dm("blob needs a non-negative integer \"size\""),
            ),
        ];
        // Nesting of maps too deep.
        let mut deep_maps = Vec::new();
        for _ in 0..200 {
            deep_maps.extend_from_slice(&[0xa1, 0x61, b'a']);
        }
        deep_maps.push(0x01);
        cases.push((deep_maps, K::TooDeep));
        cases
    }

    #[test]
    fn rejects_what_the_tree_decoder_rejects() {
        let cases = invalid_cases();
        let mut tape = Tape::new();
        for (bytes, kind) in &cases {
            let expected = decode_ref(bytes);
            assert_eq!(
                expected.as_ref().map_err(|e| e.kind()),
                Err(kind),
                "tree decoder on {bytes:02x?}"
            );
            assert_eq!(tape_result(&mut tape, bytes), expected, "on {bytes:02x?}");
            assert!(tape.root().is_null());
        }
    }

    #[test]
    fn valid_blob_and_edge_values() {
        let mut link = vec![0xd8, 0x2a, 0x58, 0x25, 0x00, 0x01, 0x71, 0x12, 0x20];
        link.extend_from_slice(&[7; 32]);
        let mut blob = vec![0xa4, 0x63, b'r', b'e', b'f'];
        blob.extend_from_slice(&link);
        blob.extend_from_slice(&[0x64, b's', b'i', b'z', b'e', 0x00]);
        blob.extend_from_slice(&[
            0x65, b'$', b't', b'y', b'p', b'e', 0x64, b'b', b'l', b'o', b'b',
        ]);
        blob.extend_from_slice(&[0x68, b'm', b'i', b'm', b'e', b'T', b'y', b'p', b'e', 0x60]);
        let cases: Vec<Vec<u8>> = vec![
            vec![0x17],
            vec![0x18, 24],
            vec![0x20],
            vec![0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            vec![0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            vec![0xf4],
            vec![0xf5],
            vec![0xf6],
            vec![0x40],
            vec![0x60],
            vec![0x80],
            vec![0xa0],
            vec![0x62, 0xc3, 0xa9],
            vec![0xa1, 0x60, 0x01],
            vec![0xa2, 0x61, b'b', 0x01, 0x62, b'a', b'a', 0x02],
            vec![0x83, 0x80, 0xa0, 0x81, 0x80],
            vec![
                0xa2, 0x61, b'a', 0xa1, 0x61, b'b', 0x80, 0x61, b'c', 0x82, 0xa0, 0x80,
            ],
            vec![0xa1, 0x65, b'$', b't', b'y', b'p', b'e', 0x61, b'x'],
            link.clone(),
            blob.clone(),
            [&[0x82][..], &blob, &blob].concat(),
        ];
        let mut tape = Tape::new();
        for bytes in &cases {
            let expected = decode_ref(bytes).expect("valid");
            assert_eq!(
                tape_result(&mut tape, bytes),
                Ok(expected.clone()),
                "{bytes:02x?}"
            );
            check_accessors(tape.root(), &expected);
        }
        let v = tape.decode(&blob).expect("blob");
        assert_eq!(v.type_name(), Some("blob"));
        assert_eq!(v.get("size").and_then(|s| s.as_integer()), Some(0));
        assert_eq!(
            v.get("ref")
                .and_then(|s| s.as_link())
                .map(|c| c.digest()[0]),
            Some(7)
        );
    }

    #[test]
    fn depth_limit_matches() {
        let inputs: Vec<(usize, Vec<u8>)> = [1usize, 2, 126, 127, 128, 129]
            .into_iter()
            .map(|depth| (depth, [&vec![0x81u8; depth][..], &[0x01]].concat()))
            .collect();
        let mut tape = Tape::new();
        for (depth, bytes) in &inputs {
            assert_eq!(
                tape_result(&mut tape, bytes),
                decode_ref(bytes),
                "depth {depth}"
            );
            for max_depth in [0usize, 1, 2, 3, 127] {
                let limits = Limits { max_depth };
                let mut limited = Tape::with_limits(limits);
                assert_eq!(
                    tape_result(&mut limited, bytes),
                    decode_ref_with(bytes, limits),
                    "depth {depth}, limit {max_depth}"
                );
            }
        }
        // 127 levels of arrays decode, 128 do not.
        let ok = [&[0x81u8; 126][..], &[0x80]].concat();
        let too_deep = [&[0x81u8; 127][..], &[0x80]].concat();
        let mut tape = Tape::new();
        assert!(tape.decode(&ok).is_ok());
        assert!(tape.decode(&too_deep).is_err());
    }

    #[test]
    fn truncations_fail_like_the_tree_decoder() {
        let blocks = corpus_blocks();
        let mut tape = Tape::new();
        for block in blocks.iter().step_by(97) {
            for cut in 0..block.len() {
                let short = &block[..cut];
                assert_eq!(tape_result(&mut tape, short), decode_ref(short));
            }
        }
    }

    /// Deterministic xorshift64.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn mutated_blocks_agree() {
        let blocks = corpus_blocks();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Each mutant lives for one iteration: recycle one tape's allocation through them all.
        let mut spare: Tape<'static> = Tape::new();
        let (mut accepted, mut rejected) = (0, 0);
        for _ in 0..20_000 {
            let mut m = blocks[rng.below(blocks.len())].clone();
            for _ in 0..1 + rng.below(3) {
                if m.is_empty() {
                    m.push(rng.next() as u8);
                    continue;
                }
                let at = rng.below(m.len());
                match rng.below(6) {
                    0 => m[at] = rng.next() as u8,
                    1 => m[at] ^= 1 << rng.below(8),
                    2 => m[at] = m[at].wrapping_add(1),
                    3 => m.truncate(at),
                    4 => {
                        m.remove(at);
                    }
                    _ => m.insert(at, rng.next() as u8),
                }
            }
            let expected = decode_ref(&m);
            let mut tape = std::mem::take(&mut spare).recycle();
            let got = tape_result(&mut tape, &m);
            assert_eq!(got, expected, "on {m:02x?}");
            spare = tape.recycle();
            if expected.is_ok() {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
        // The mutations exercise both outcomes.
        assert!(
            accepted > 500 && rejected > 5_000,
            "{accepted} ok, {rejected} errors"
        );
    }

    #[test]
    fn reuse_and_recycle() {
        let mut tape = Tape::new();
        assert!(tape.root().is_null());
        assert_eq!(tape.node_count(), 0);
        let big = [&[0x98, 100][..], &[0x01; 100]].concat();
        assert_eq!(tape.decode(&big).map(|v| v.len()), Ok(100));
        assert_eq!(tape.node_count(), 101);
        assert_eq!(tape.decode(&[0x82, 0x01, 0x02]).map(|v| v.len()), Ok(2));
        assert_eq!(tape.node_count(), 3);
        tape.clear();
        assert!(tape.root().is_null());
        assert_eq!(tape.set_bytes(b"raw").as_bytes(), Some(&b"raw"[..]));
        assert_eq!(tape.node_count(), 1);
        assert_eq!(tape.decode(&[0x81, 0x05]).map(|v| v.len()), Ok(1));
        assert!(format!("{tape:?}").contains("Integer(5)"));
        for i in 0u8..3 {
            let owned = vec![0x81, i];
            let mut recycled = tape.recycle();
            let v = recycled.decode(&owned).expect("valid");
            assert_eq!(
                v.array_iter().next().and_then(|x| x.as_integer()),
                Some(i64::from(i))
            );
            tape = recycled.recycle();
        }
        assert!(tape.nodes.capacity() >= 101);
    }
}
