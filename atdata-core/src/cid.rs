//! Content identifiers (CIDv1): the hash links of the AT Protocol data model.
//!
//! A [`Cid`] is stored inline (40 bytes, `Copy`), so passing one around, putting it in a map or
//! comparing two costs no allocation. atproto only uses CIDv1 with SHA-256 and the `dag-cbor`
//! (records, MST nodes, commits) or `raw` (blobs) codecs; other codecs and hash functions parse as
//! long as the binary form fits in [`Cid::MAX_BYTES`] (digests of up to 32 bytes).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::encoding::{self, VarintError};

/// Multicodec code of `dag-cbor`: records, MST nodes and commits.
pub const DAG_CBOR: u64 = 0x71;
/// Multicodec code of `raw`: blobs.
pub const RAW: u64 = 0x55;
/// Multicodec code of `dag-pb` (IPFS files; seen in CID strings, never in atproto repos).
pub const DAG_PB: u64 = 0x70;
/// Multihash code of SHA2-256.
pub const SHA2_256: u64 = 0x12;

/// Why bytes or a string are not a CID we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidError {
    /// Empty input.
    #[error("empty CID")]
    Empty,
    /// A CIDv0 (`Qm…` / bare multihash): atproto allows only CIDv1.
    #[error("CIDv0 is not allowed, only CIDv1")]
    V0,
    /// A version other than 1.
    #[error("unsupported CID version {0}")]
    Version(u64),
    /// A varint inside the CID is malformed.
    #[error("bad varint in CID: {0}")]
    Varint(#[from] VarintError),
    /// The digest is longer than we store inline (32 bytes).
    #[error("multihash digest of {0} bytes is longer than the 32 supported")]
    DigestTooLong(u64),
    /// The input ended before the digest did.
    #[error("CID is truncated")]
    Truncated,
    /// Bytes follow the CID where none should.
    #[error("{0} unexpected bytes after the CID")]
    TrailingBytes(usize),
    /// A multibase prefix we do not decode.
    #[error("unsupported multibase prefix {0:?}")]
    Multibase(char),
    /// The text is not valid in its multibase alphabet.
    #[error("invalid {0} characters in CID string")]
    BadEncoding(&'static str),
    /// The CID string is longer than any CID we accept.
    #[error("CID string is too long")]
    TooLong,
}

/// A CIDv1: version, content codec and multihash, kept as its binary form.
///
/// ```
/// use atdata_core::Cid;
/// let cid: Cid = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".parse()?;
/// assert_eq!(cid.version(), 1);
/// assert_eq!(cid.codec(), atdata_core::cid::DAG_CBOR);
/// assert_eq!(cid.to_string(), "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
/// # Ok::<(), atdata_core::cid::CidError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Cid {
    len: u8,
    bytes: [u8; Cid::MAX_BYTES],
}

impl Cid {
    /// Longest binary CID stored: 1-byte version, codec and hash-code varints of up to 3 bytes each,
    /// a 1-byte digest length and a digest of up to 32 bytes.
    pub const MAX_BYTES: usize = 39;
    const MAX_DIGEST: u64 = 32;

    /// Checks that `buf` starts with a binary CIDv1 we accept, returning its length.
    #[inline]
    pub fn check_bytes(buf: &[u8]) -> Result<usize, CidError> {
        // Fast path for the shape of nearly every atproto CID: v1, one-byte codec, sha2-256.
        if buf.len() >= 36 && buf[0] == 1 && buf[1] < 0x80 && buf[2] == 0x12 && buf[3] == 0x20 {
            return Ok(36);
        }
        let first = *buf.first().ok_or(CidError::Empty)?;
        if first == 0x12 && buf.get(1) == Some(&0x20) {
            return Err(CidError::V0);
        }
        let (version, mut pos) = encoding::read_varint(buf)?;
        if version != 1 {
            return Err(CidError::Version(version));
        }
        let (_codec, n) = encoding::read_varint(&buf[pos..])?;
        pos += n;
        let (_hash, n) = encoding::read_varint(&buf[pos..])?;
        pos += n;
        let (digest_len, n) = encoding::read_varint(&buf[pos..])?;
        pos += n;
        if digest_len > Cid::MAX_DIGEST {
            return Err(CidError::DigestTooLong(digest_len));
        }
        let end = pos + digest_len as usize;
        if buf.len() < end {
            return Err(CidError::Truncated);
        }
        if end > Cid::MAX_BYTES {
            // Only reachable with codec or hash varints longer than we store.
            return Err(CidError::TooLong);
        }
        Ok(end)
    }

    /// Copies already-checked CID bytes.
    #[inline]
    fn from_checked(checked: &[u8]) -> Cid {
        let mut bytes = [0u8; Cid::MAX_BYTES];
        let len = checked.len().min(Cid::MAX_BYTES);
        bytes[..len].copy_from_slice(&checked[..len]);
        Cid {
            len: len as u8,
            bytes,
        }
    }

    /// Reads a binary CIDv1 from the front of `buf`, returning it and the bytes it used. This is
    /// what CAR blocks and DAG-CBOR links hold.
    #[inline]
    pub fn read_bytes(buf: &[u8]) -> Result<(Cid, usize), CidError> {
        let end = Cid::check_bytes(buf)?;
        Ok((Cid::from_checked(&buf[..end]), end))
    }

    /// Borrows this CID as a [`CidRef`].
    pub fn as_cid_ref(&self) -> CidRef<'_> {
        CidRef(self.as_bytes())
    }

    /// Parses a binary CIDv1 that spans all of `buf`.
    pub fn from_bytes(buf: &[u8]) -> Result<Cid, CidError> {
        let (cid, used) = Cid::read_bytes(buf)?;
        if used != buf.len() {
            return Err(CidError::TrailingBytes(buf.len() - used));
        }
        Ok(cid)
    }

    /// Builds a CIDv1 from a codec and a SHA-256 digest.
    pub fn new_sha256(codec: u64, digest: [u8; 32]) -> Cid {
        let mut out = Vec::with_capacity(Cid::MAX_BYTES);
        encoding::write_varint(&mut out, 1);
        encoding::write_varint(&mut out, codec);
        out.push(SHA2_256 as u8);
        out.push(32);
        out.extend_from_slice(&digest);
        let mut bytes = [0u8; Cid::MAX_BYTES];
        let len = out.len().min(Cid::MAX_BYTES);
        bytes[..len].copy_from_slice(&out[..len]);
        Cid {
            len: len as u8,
            bytes,
        }
    }

    /// The CID of `data` under `codec`, hashing with SHA-256.
    pub fn hash_of(codec: u64, data: &[u8]) -> Cid {
        Cid::new_sha256(codec, Sha256::digest(data).into())
    }

    /// The CID of DAG-CBOR bytes (records, MST nodes, commits).
    pub fn for_dag_cbor(data: &[u8]) -> Cid {
        Cid::hash_of(DAG_CBOR, data)
    }

    /// The CID of a blob's bytes (`raw` codec), as a PDS computes it on upload.
    pub fn for_raw(data: &[u8]) -> Cid {
        Cid::hash_of(RAW, data)
    }

    /// The binary form (what DAG-CBOR tag 42 and CAR blocks carry, without the 0x00 prefix).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Always 1: CIDv0 is rejected on parse.
    pub fn version(&self) -> u64 {
        1
    }

    fn fields(&self) -> (u64, u64, usize) {
        // Parsing validated the varints already; decoding them again cannot fail, and a zero
        // fallback keeps this panic-free regardless.
        let b = self.as_bytes();
        let mut pos = 1;
        let (codec, n) = encoding::read_varint(&b[pos..]).unwrap_or((0, 1));
        pos += n;
        let (hash, n) = encoding::read_varint(&b[pos..]).unwrap_or((0, 1));
        pos += n;
        let (_, n) = encoding::read_varint(&b[pos..]).unwrap_or((0, 1));
        (codec, hash, pos + n)
    }

    /// The content codec (multicodec), e.g. [`DAG_CBOR`] or [`RAW`].
    #[inline]
    pub fn codec(&self) -> u64 {
        let b = self.as_bytes();
        if b[1] < 0x80 {
            u64::from(b[1])
        } else {
            self.fields().0
        }
    }

    /// The multihash function code, e.g. [`SHA2_256`].
    pub fn hash_code(&self) -> u64 {
        self.fields().1
    }

    /// The hash digest.
    #[inline]
    pub fn digest(&self) -> &[u8] {
        let start = self.fields().2;
        &self.as_bytes()[start..]
    }

    /// Whether `data` hashes to this CID. `None` when the hash function is not SHA-256 (the only
    /// one atproto uses), since then we cannot tell.
    #[inline]
    pub fn matches(&self, data: &[u8]) -> Option<bool> {
        let b = self.as_bytes();
        // Fast path: one-byte codec, sha2-256, 32-byte digest.
        if b.len() == 36 && b[1] < 0x80 && b[2] == 0x12 && b[3] == 0x20 {
            let digest: [u8; 32] = Sha256::digest(data).into();
            return Some(digest[..] == b[4..]);
        }
        if self.hash_code() != SHA2_256 {
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(data).into();
        Some(digest[..] == *self.digest())
    }

    /// Parses a CID string. Accepts the multibase prefixes `b` (base32 lower, the canonical atproto
    /// form), `B` (base32 upper), `z` (base58btc) and `f` (base16).
    pub fn parse_str(s: &str) -> Result<Cid, CidError> {
        // base58 of a 39-byte CID is at most 54 characters; base16 is 78.
        if s.len() > 100 {
            return Err(CidError::TooLong);
        }
        let mut chars = s.chars();
        let prefix = chars.next().ok_or(CidError::Empty)?;
        let rest = chars.as_str();
        if s.len() == 46 && s.starts_with("Qm") {
            return Err(CidError::V0);
        }
        let bytes = match prefix {
            'b' => encoding::base32_decode(rest, false).ok_or(CidError::BadEncoding("base32"))?,
            'B' => encoding::base32_decode(rest, true).ok_or(CidError::BadEncoding("base32"))?,
            'z' => encoding::base58_decode(rest).ok_or(CidError::BadEncoding("base58btc"))?,
            'f' => encoding::hex_decode(rest).ok_or(CidError::BadEncoding("base16"))?,
            other => return Err(CidError::Multibase(other)),
        };
        Cid::from_bytes(&bytes)
    }
}

impl PartialEq for Cid {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for Cid {}

impl std::hash::Hash for Cid {
    /// Hashes every byte of the binary CID (version, codec, hash code, digest length and
    /// digest). Digests are chosen by whoever wrote the blocks: the same digest under thousands
    /// of codecs, or digests sharing any fixed part, must still spread across a table, so no
    /// part may be left out. Consistent with `Eq`, which compares the same bytes; the binary
    /// form is prefix-free (the digest length is encoded), so one `write` suffices.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
    }
}

/// A `HashMap` keyed by CIDs, hashed with [`CidHashState`].
pub type CidMap<V> = std::collections::HashMap<Cid, V, CidHashState>;

/// A `HashSet` of CIDs, hashed with [`CidHashState`].
pub type CidSet = std::collections::HashSet<Cid, CidHashState>;

/// The hasher state of [`CidMap`] and [`CidSet`]: the standard library's keyed SipHash
/// (SipHash-1-3 today), with keys drawn at random for each map.
///
/// The CIDs of a CAR or repository are chosen by whoever wrote it, so the table must resist
/// deliberate collisions: a keyed hash over the whole CID, with a key the writer cannot learn.
/// SipHash is the standard library's answer to exactly that, and it costs nothing measurable
/// here: on the `repo_midsize` benches (`cargo bench -p atdata-core --bench repo`, 14,673
/// blocks, a 2-core machine under load) `load_and_walk` measured 28.4 ms with the previous
/// multiply hash of the last 8 digest bytes and 29.1 ms with this, `verify_car` 32.7 ms and
/// 30.6 ms: both "no change" to criterion, inside a noise that moved the untouched `car`
/// benches by ±10-20% between the same two runs. Hashing is a small part of that work (SHA-256
/// and decoding dominate), so a faster keyed hash (foldhash, ahash) would add a dependency for
/// no gain we can measure.
#[derive(Clone, Debug, Default)]
pub struct CidHashState(std::collections::hash_map::RandomState);

impl std::hash::BuildHasher for CidHashState {
    type Hasher = CidHasher;

    #[inline]
    fn build_hasher(&self) -> CidHasher {
        self.0.build_hasher()
    }
}

/// The hasher [`CidHashState`] builds: the standard library's keyed SipHash.
pub type CidHasher = std::collections::hash_map::DefaultHasher;

impl PartialOrd for Cid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Cid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(64);
        s.push('b');
        encoding::base32_lower_encode_into(self.as_bytes(), &mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = CidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Cid::parse_str(s)
    }
}

impl TryFrom<&str> for Cid {
    type Error = CidError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Cid::parse_str(s)
    }
}

impl TryFrom<&[u8]> for Cid {
    type Error = CidError;
    fn try_from(b: &[u8]) -> Result<Self, Self::Error> {
        Cid::from_bytes(b)
    }
}

/// `Cid` itself serializes as its string form in every format: that is what lexicon fields of
/// `format: "cid"` hold (e.g. `com.atproto.repo.strongRef`). For a hash *link* (DAG-CBOR tag 42,
/// `{"$link": …}` in JSON) use [`CidLink`].
impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Cid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CID string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Cid, E> {
                Cid::parse_str(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A checked binary CID borrowed from a buffer: what [`crate::ValueRef::Link`] holds, so decoding
/// a link copies nothing. [`CidRef::to_cid`] gives the owned (still `Copy`) [`Cid`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CidRef<'a>(&'a [u8]);

impl<'a> CidRef<'a> {
    /// Checks that `bytes` are exactly one binary CIDv1.
    pub fn new(bytes: &'a [u8]) -> Result<Self, CidError> {
        let len = Cid::check_bytes(bytes)?;
        if len != bytes.len() {
            return Err(CidError::TrailingBytes(bytes.len() - len));
        }
        Ok(CidRef(bytes))
    }

    /// The binary form.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The owned CID.
    #[inline]
    pub fn to_cid(&self) -> Cid {
        Cid::from_checked(self.0)
    }
}

impl fmt::Display for CidRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_cid(), f)
    }
}

impl fmt::Debug for CidRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({})", self.to_cid())
    }
}

impl PartialEq<Cid> for CidRef<'_> {
    fn eq(&self, other: &Cid) -> bool {
        self.0 == other.as_bytes()
    }
}

/// The serde newtype name our DAG-CBOR serializer and deserializer recognise as a CID link
/// (tag 42). Other formats never see it, because [`CidLink`] only uses it when the format is not
/// human-readable.
pub(crate) const LINK_MAGIC: &str = "$__atdata_private_cid_link";

/// A hash link: a [`Cid`] that is encoded as DAG-CBOR tag 42 and as `{"$link": "…"}` in JSON
/// (lexicon type `cid-link`; also the `ref` of a blob).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CidLink(pub Cid);

impl fmt::Debug for CidLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CidLink({})", self.0)
    }
}

impl fmt::Display for CidLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<Cid> for CidLink {
    fn from(c: Cid) -> Self {
        CidLink(c)
    }
}
impl From<CidLink> for Cid {
    fn from(c: CidLink) -> Self {
        c.0
    }
}

pub(crate) struct LinkBytes<'a>(pub &'a [u8]);
impl serde::Serialize for LinkBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

pub(crate) fn serialize_link<S: serde::Serializer>(cid: &Cid, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    if s.is_human_readable() {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("$link", &cid.to_string())?;
        map.end()
    } else {
        s.serialize_newtype_struct(LINK_MAGIC, &LinkBytes(cid.as_bytes()))
    }
}

impl serde::Serialize for CidLink {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_link(&self.0, s)
    }
}

/// Accepts a link from a non-human-readable format: the bytes of tag 42 (our deserializer hands
/// them over without the 0x00 prefix).
struct LinkVisitor;
impl<'de> serde::de::Visitor<'de> for LinkVisitor {
    type Value = CidLink;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CID link (DAG-CBOR tag 42) or {\"$link\": CID string}")
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<CidLink, E> {
        Cid::from_bytes(v).map(CidLink).map_err(E::custom)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<CidLink, D::Error> {
        d.deserialize_bytes(LinkVisitor)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<CidLink, A::Error> {
        use serde::de::Error as _;
        let key: Option<std::borrow::Cow<'de, str>> = map.next_key()?;
        if key.as_deref() != Some("$link") {
            return Err(A::Error::custom("expected a single \"$link\" key"));
        }
        let value: std::borrow::Cow<'de, str> = map.next_value()?;
        let cid = Cid::parse_str(&value).map_err(A::Error::custom)?;
        if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("a $link object has exactly one key"));
        }
        Ok(CidLink(cid))
    }
}

/// Accepts either form whatever `is_human_readable` says: serde's internal buffering (used by
/// `#[serde(tag = …)]`, `untagged` and `flatten`) always claims to be human-readable, even when
/// the bytes underneath are DAG-CBOR.
impl<'de> serde::Deserialize<'de> for CidLink {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LinkVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

    #[test]
    fn string_round_trip() {
        let cid: Cid = POST.parse().expect("parse");
        assert_eq!(cid.to_string(), POST);
        assert_eq!(cid.codec(), DAG_CBOR);
        assert_eq!(cid.hash_code(), SHA2_256);
        assert_eq!(cid.digest().len(), 32);
        assert_eq!(Cid::from_bytes(cid.as_bytes()), Ok(cid));
    }

    #[test]
    fn other_multibases() {
        let b58 = "zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7";
        let cid: Cid = b58.parse().expect("base58 CID");
        assert_eq!(cid.codec(), DAG_PB);
        let hex = "f017012202c5f688262e0ece8569aa6f94d60aad55ca8d9d83734e4a7430d0cff6588ec2b";
        assert_eq!(hex.parse::<Cid>().expect("hex").codec(), DAG_PB);
        assert_eq!(
            "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR".parse::<Cid>(),
            Err(CidError::V0)
        );
    }

    #[test]
    fn hashing() {
        let cid = Cid::for_raw(b"hello");
        assert_eq!(cid.codec(), RAW);
        assert_eq!(cid.matches(b"hello"), Some(true));
        assert_eq!(cid.matches(b"hellO"), Some(false));
    }

    #[test]
    fn hash_covers_the_whole_cid() {
        use std::hash::BuildHasher as _;
        let state = CidHashState::default();
        let digest = [7u8; 32];
        let cbor = Cid::new_sha256(DAG_CBOR, digest);
        // Same digest, other codec: only the bytes before the digest differ.
        assert_ne!(
            state.hash_one(cbor),
            state.hash_one(Cid::new_sha256(RAW, digest))
        );
        // Same last 8 bytes, other digest start.
        let mut head = digest;
        head[0] = 8;
        assert_ne!(
            state.hash_one(cbor),
            state.hash_one(Cid::new_sha256(DAG_CBOR, head))
        );
        // Every map draws its own key, so where a CID lands cannot be learned from another.
        assert_ne!(state.hash_one(cbor), CidHashState::default().hash_one(cbor));
    }

    #[test]
    fn garbage_is_rejected() {
        for s in ["", "b", "bafy", "x123", "b!!!!", "zzzz0"] {
            assert!(s.parse::<Cid>().is_err(), "{s}");
        }
        assert!(Cid::from_bytes(&[1, 0x71, 0x12, 0x20, 1, 2]).is_err());
        assert!(Cid::from_bytes(&[2, 0x71, 0x12, 0]).is_err());
    }
}
