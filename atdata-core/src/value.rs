//! [`Value`]: any AT Protocol data-model value, owned.
//!
//! The data model is JSON's, minus floats, plus bytes and CID links. `Value` maps to DAG-CBOR
//! (via [`crate::cbor`]) and to atproto JSON (via serde with any human-readable format, e.g.
//! `serde_json`), where links are `{"$link": …}` and bytes `{"$bytes": …}`.

use std::collections::BTreeMap;
use std::fmt;

use crate::cid::{Cid, LINK_MAGIC};
use crate::encoding;

/// The map type of [`Value::Map`]. Keys iterate in byte order; DAG-CBOR encoding re-sorts them
/// into its own (length-first) order.
pub type Map = BTreeMap<String, Value>;

/// One value of the AT Protocol data model.
///
/// Decoders bound nesting (see [`crate::cbor::Limits`]), so decoded values are always shallow
/// enough to walk recursively. A value built by hand can be nested deeper: serializing it (with
/// [`crate::cbor::to_vec`], serde_json, …) then fails past [`crate::cbor::Limits::MAX_DEPTH`]
/// levels rather than overflowing the stack, and [`Value::to_dag_cbor`] writes it without
/// recursing, nor does dropping it; but `Clone`, `PartialEq` and `Debug` recurse once per level.
///
/// Because `Value` implements `Drop`, a pattern cannot move a field out of it: take the field
/// with [`std::mem::take`] instead (`Value::default()` is `Null`).
///
/// ```
/// use atdata_core::Value;
/// let v: Value = serde_json::from_str(r#"{"$type": "app.bsky.feed.like", "n": 3}"#)?;
/// assert_eq!(v.type_name(), Some("app.bsky.feed.like"));
/// assert_eq!(v.get("n").and_then(Value::as_integer), Some(3));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A signed 64-bit integer (the data model has no floats).
    Integer(i64),
    /// A UTF-8 string.
    String(String),
    /// Raw bytes (`{"$bytes": base64}` in JSON).
    Bytes(Vec<u8>),
    /// A CID link (tag 42 in DAG-CBOR, `{"$link": …}` in JSON).
    Link(Cid),
    /// A list.
    Array(Vec<Value>),
    /// A map with string keys.
    Map(Map),
}

impl Value {
    /// The value under `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// The map's `$type`, if this is a map with a string `$type`.
    pub fn type_name(&self) -> Option<&str> {
        self.get("$type").and_then(Value::as_str)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The bytes, if this is a byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The CID, if this is a link.
    pub fn as_link(&self) -> Option<&Cid> {
        match self {
            Value::Link(c) => Some(c),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The data-model kind, for error messages (`"map"`, `"integer"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Link(_) => "cid-link",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
        }
    }

    /// Encodes as canonical DAG-CBOR.
    ///
    /// This does not re-check the data-model rules a hand-built `Value` can break (an empty
    /// `$type`, a malformed blob, nesting beyond 128 levels); [`crate::cbor::to_vec`] and
    /// [`crate::cid_for`] do, and refuse such values.
    pub fn to_dag_cbor(&self) -> Vec<u8> {
        crate::cbor::encode_value(self)
    }

    /// Strictly decodes DAG-CBOR bytes.
    pub fn from_dag_cbor(bytes: &[u8]) -> Result<Value, crate::cbor::DecodeError> {
        crate::cbor::decode_value(bytes)
    }

    /// Parses atproto JSON (`$link`, `$bytes`, no floats), checking the data-model rules.
    pub fn from_json_str(json: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Converts a `serde_json::Value`, checking the data-model rules.
    pub fn from_json(json: serde_json::Value) -> Result<Value, serde_json::Error> {
        serde::Deserialize::deserialize(json)
    }

    /// Renders as atproto JSON, or says why the value has no faithful JSON form.
    ///
    /// ```
    /// use atdata_core::Value;
    /// // The DAG-CBOR map {"$link": "bafy…"} (a map, not a link) would read back as a link.
    /// let mut map = atdata_core::Map::new();
    /// map.insert("$link".into(), "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".into());
    /// assert!(Value::Map(map).try_to_json().is_err());
    /// ```
    pub fn try_to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::to_value(self)
    }

    /// Renders as atproto JSON.
    ///
    /// A value with no faithful JSON form renders as `null`: a map whose keys include `$link` or
    /// `$bytes` (JSON reads such an object as a link or bytes, or rejects it), or a hand-built
    /// value nested deeper than [`crate::cbor::Limits::MAX_DEPTH`] levels. Use
    /// [`Value::try_to_json`] to get the error instead.
    pub fn to_json(&self) -> serde_json::Value {
        self.try_to_json().unwrap_or(serde_json::Value::Null)
    }
}

/// How many levels [`Value`]'s drop handles by recursion before it moves deeper subtrees to a heap
/// stack: deep enough that real records never reach it (so dropping them allocates nothing), and
/// shallow enough to need only a few KiB of stack. Figures: `docs/decisions.md`, section 15.
const DROP_RECURSION_LIMIT: usize = 64;

impl Value {
    /// Whether this is a non-empty array or map: a value whose drop would recurse.
    fn is_nonempty_container(&self) -> bool {
        match self {
            Value::Array(items) => !items.is_empty(),
            Value::Map(map) => !map.is_empty(),
            _ => false,
        }
    }

    /// Drops whatever this value's children hold, leaving every child a scalar or an empty
    /// container (and so cheap to drop). Recurses `depth` levels at most; subtrees below that go
    /// to `deeper` for the caller to empty in turn.
    fn empty_children(&mut self, depth: usize, deeper: &mut Vec<Value>) {
        match self {
            Value::Array(items) => {
                for child in items {
                    child.release(depth, deeper);
                }
            }
            Value::Map(map) => {
                for child in map.values_mut() {
                    child.release(depth, deeper);
                }
            }
            _ => {}
        }
    }

    /// Drops this child's contents (see [`Value::empty_children`]).
    fn release(&mut self, depth: usize, deeper: &mut Vec<Value>) {
        if !self.is_nonempty_container() {
            return;
        }
        if depth < DROP_RECURSION_LIMIT {
            self.empty_children(depth + 1, deeper);
            // Its children are now cheap to drop: drop them here, through the container's own
            // drop rather than this value's, which would scan them again to no purpose.
            match self {
                Value::Array(items) => items.clear(),
                Value::Map(map) => map.clear(),
                _ => {}
            }
        } else {
            deeper.push(std::mem::take(self));
        }
    }
}

/// Drops nested containers with bounded recursion, so that a hand-built value of any depth drops
/// on a small thread stack (decoders bound depth; builders do not). Subtrees deeper than
/// `DROP_RECURSION_LIMIT` (64) levels go to a heap stack, which only such values allocate.
impl Drop for Value {
    fn drop(&mut self) {
        let mut deeper = Vec::new();
        self.empty_children(0, &mut deeper);
        while let Some(mut subtree) = deeper.pop() {
            subtree.empty_children(0, &mut deeper);
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Integer(i) => write!(f, "Integer({i})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Bytes(b) => write!(f, "Bytes({})", encoding::base64_encode(b)),
            Value::Link(c) => write!(f, "Link({c})"),
            Value::Array(a) => f.debug_list().entries(a).finish(),
            Value::Map(m) => f.debug_map().entries(m).finish(),
        }
    }
}

/// Shows the value as compact atproto JSON, or as `Debug` shows it when it has no JSON form
/// (see [`Value::try_to_json`]).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A value with no JSON form shows as its `Debug` form: `Display` must not fail for a
        // well-formed value (`to_string` would panic).
        match serde_json::to_string(self) {
            Ok(json) => f.write_str(&json),
            Err(_) => fmt::Debug::fmt(self, f),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::Integer(i64::from(v)) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Cid> for Value {
    fn from(v: Cid) -> Self {
        Value::Link(v)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
impl From<Map> for Value {
    fn from(v: Map) -> Self {
        Value::Map(v)
    }
}

pub(crate) struct BytesRef<'a>(pub &'a [u8]);
impl serde::Serialize for BytesRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        if s.is_human_readable() {
            let mut map = s.serialize_map(Some(1))?;
            map.serialize_entry("$bytes", &encoding::base64_encode(self.0))?;
            map.end()
        } else {
            s.serialize_bytes(self.0)
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Nested {
            value: self,
            depth_left: crate::cbor::Limits::MAX_DEPTH,
        }
        .serialize(s)
    }
}

/// The error for a value nested deeper than [`crate::cbor::Limits::MAX_DEPTH`] levels.
pub(crate) fn too_deep<E: serde::ser::Error>() -> E {
    E::custom(format_args!(
        "nesting deeper than {} levels cannot be serialized",
        crate::cbor::Limits::MAX_DEPTH
    ))
}

/// Refuses, for JSON and other human-readable formats, a map with a `$link` or `$bytes` key.
///
/// atproto JSON writes links as `{"$link": …}` and bytes as `{"$bytes": …}`: its readers take
/// an object whose only key is one of these for a link or bytes, and ours (like indigo's)
/// rejects one with other keys beside. So a DAG-CBOR map with that key, valid as it is, would
/// come back from JSON as a different value with a different CID, or not at all.
pub(crate) fn check_json_keys<'k, E: serde::ser::Error>(
    keys: impl IntoIterator<Item = &'k str>,
) -> Result<(), E> {
    for key in keys {
        let what = match key {
            "$link" => "a link",
            "$bytes" => "bytes",
            _ => continue,
        };
        return Err(E::custom(format_args!(
            "a map with the key \"{key}\" cannot be represented in atproto JSON, which would \
             read it back as {what}"
        )));
    }
    Ok(())
}

/// A value and the nesting still allowed below it, counted as the decoders count it.
///
/// Serializing recurses once per level and most serializers (serde_json's among them) set no
/// bound of their own, so a hand-built value deeper than any decoder accepts is refused here
/// instead of overflowing the stack.
struct Nested<'v> {
    value: &'v Value,
    depth_left: usize,
}

impl serde::Serialize for Nested<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        match self.value {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::String(v) => s.serialize_str(v),
            Value::Bytes(b) => BytesRef(b).serialize(s),
            Value::Link(c) => crate::cid::serialize_link(c, s),
            Value::Array(items) => {
                if self.depth_left <= 1 {
                    return Err(too_deep());
                }
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for value in items {
                    seq.serialize_element(&Nested {
                        value,
                        depth_left: self.depth_left - 1,
                    })?;
                }
                seq.end()
            }
            Value::Map(m) => {
                if self.depth_left <= 1 {
                    return Err(too_deep());
                }
                if s.is_human_readable() {
                    // Both keys sort before any letter, so they are looked up, not searched for.
                    check_json_keys(
                        ["$link", "$bytes"]
                            .into_iter()
                            .filter(|k| m.contains_key(*k)),
                    )?;
                }
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, value) in m {
                    map.serialize_entry(
                        k,
                        &Nested {
                            value,
                            depth_left: self.depth_left - 1,
                        },
                    )?;
                }
                map.end()
            }
        }
    }
}

/// Checks the data-model rules for a map that apply in every encoding: `$type`, when present, is
/// a non-empty string, and a `blob` has the right shape. In JSON, also turns `$link` / `$bytes`
/// objects into links and bytes.
pub(crate) fn finish_map(mut map: Map, human_readable: bool) -> Result<Value, String> {
    if human_readable {
        if let Some(link) = map.get("$link") {
            if map.len() != 1 {
                return Err("a $link object must have no other keys".into());
            }
            let Value::String(s) = link else {
                return Err("$link must be a CID string".into());
            };
            return Cid::parse_str(s)
                .map(Value::Link)
                .map_err(|e| format!("$link is not a valid CID: {e}"));
        }
        if let Some(bytes) = map.get("$bytes") {
            if map.len() != 1 {
                return Err("a $bytes object must have no other keys".into());
            }
            let Value::String(s) = bytes else {
                return Err("$bytes must be a base64 string".into());
            };
            return encoding::base64_decode(s)
                .map(Value::Bytes)
                .ok_or_else(|| "$bytes is not valid base64".into());
        }
    }
    check_type_field(&map)?;
    Ok(Value::Map(std::mem::take(&mut map)))
}

pub(crate) fn check_type_field(map: &Map) -> Result<(), String> {
    match map.get("$type") {
        None => Ok(()),
        Some(Value::String(t)) if t.is_empty() => Err("$type must not be empty".into()),
        Some(Value::String(t)) if t == "blob" => check_blob_shape(map),
        Some(Value::String(_)) => Ok(()),
        Some(other) => Err(format!("$type must be a string, not {}", other.kind())),
    }
}

fn check_blob_shape(map: &Map) -> Result<(), String> {
    match map.get("ref") {
        Some(Value::Link(_)) => {}
        Some(other) => return Err(format!("blob ref must be a link, not {}", other.kind())),
        None => return Err("blob is missing \"ref\"".into()),
    }
    match map.get("mimeType") {
        Some(Value::String(_)) => {}
        Some(other) => {
            return Err(format!(
                "blob mimeType must be a string, not {}",
                other.kind()
            ))
        }
        None => return Err("blob is missing \"mimeType\"".into()),
    }
    match map.get("size") {
        Some(Value::Integer(n)) if *n >= 0 => {}
        Some(Value::Integer(_)) => return Err("blob size must not be negative".into()),
        Some(other) => {
            return Err(format!(
                "blob size must be an integer, not {}",
                other.kind()
            ))
        }
        None => return Err("blob is missing \"size\"".into()),
    }
    match crate::blob::unexpected_blob_key(map.keys().map(String::as_str)) {
        Some(key) => Err(crate::blob::unexpected_blob_key_message(key)),
        None => Ok(()),
    }
}

/// Bound on the magnitude of a JSON float that may stand for an integer: below 2^53 every
/// integer is exactly representable, so `…0.0` cannot have been rounded onto it.
const MAX_SAFE_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

struct ValueVisitor {
    human_readable: bool,
}

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AT Protocol data-model value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Integer(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| E::custom("integer is larger than a signed 64-bit integer"))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        // JSON writers sometimes print whole numbers as `123.0`; the data model has no floats, so
        // only integer-valued ones in the exactly representable range are accepted.
        if v.is_finite() && v.fract() == 0.0 && v.abs() < MAX_SAFE_FLOAT_INT {
            Ok(Value::Integer(v as i64))
        } else if v.is_finite() && v.fract() == 0.0 {
            Err(E::custom(
                "number is outside the signed 64-bit integer range, or too large to be exact \
                 when written with a fraction",
            ))
        } else {
            Err(E::custom(
                "floats are not allowed in the AT Protocol data model",
            ))
        }
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        // Only our DAG-CBOR deserializer calls this from `deserialize_any`: it is a tag-42 link.
        let link: crate::cid::CidLink = serde::Deserialize::deserialize(LinkFromNewtype(d))
            .map_err(serde::de::Error::custom)?;
        Ok(Value::Link(link.0))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(ValueSeed {
            human_readable: self.human_readable,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(ValueSeed {
                human_readable: self.human_readable,
            })?;
            if map.insert(key, value).is_some() {
                return Err(serde::de::Error::custom("duplicate map key"));
            }
        }
        finish_map(map, self.human_readable).map_err(serde::de::Error::custom)
    }
}

/// Adapts the deserializer handed to `visit_newtype_struct` so `CidLink` reads its bytes.
struct LinkFromNewtype<D>(D);
impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for LinkFromNewtype<D> {
    type Error = D::Error;
    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_bytes(v)
    }
    fn is_human_readable(&self) -> bool {
        false
    }
    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_bytes(v)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[derive(Clone, Copy)]
struct ValueSeed {
    human_readable: bool,
}
impl<'de> serde::de::DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor {
            human_readable: self.human_readable,
        })
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let human_readable = d.is_human_readable();
        d.deserialize_any(ValueVisitor { human_readable })
    }
}

// Keep the magic name referenced here so a reader of this file finds where links come from.
const _: &str = LINK_MAGIC;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_links_and_bytes() {
        let v = Value::from_json_str(
            r#"{"a": {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
                "b": {"$bytes": "aGk"}, "c": 5.0}"#,
        )
        .expect("valid");
        assert!(v.get("a").and_then(Value::as_link).is_some());
        assert_eq!(v.get("b").and_then(Value::as_bytes), Some(&b"hi"[..]));
        assert_eq!(v.get("c").and_then(Value::as_integer), Some(5));
        let back = v.to_json();
        assert_eq!(back["b"]["$bytes"], "aGk");
    }

    const POST: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";

    /// `{key: text}` as a plain DAG-CBOR map (not a tag-42 link, not a byte string).
    fn one_key_map(key: &str, text: &str) -> Vec<u8> {
        let mut bytes = vec![0xa1];
        crate::cbor::write_head(&mut bytes, 3, key.len() as u64);
        bytes.extend_from_slice(key.as_bytes());
        crate::cbor::write_head(&mut bytes, 3, text.len() as u64);
        bytes.extend_from_slice(text.as_bytes());
        bytes
    }

    #[test]
    fn maps_json_would_read_back_as_links_or_bytes_are_refused() {
        let lookalikes = [
            one_key_map("$link", POST),
            one_key_map("$bytes", "aGk"),
            one_key_map("$link", "not a CID"),
            // {"$link": POST, "x": 1}: JSON readers reject a $link object with other keys.
            [
                &[0xa2, 0x61, b'x', 0x01][..],
                &one_key_map("$link", POST)[1..],
            ]
            .concat(),
        ];
        for cbor in &lookalikes {
            // Valid DAG-CBOR, and a map, not a link or bytes.
            let value = Value::from_dag_cbor(cbor).expect("valid DAG-CBOR");
            assert!(value.as_map().is_some(), "{value:?}");
            assert_eq!(value.to_dag_cbor(), *cbor);
            // JSON would turn it into something else (another CID): refuse instead.
            let err = serde_json::to_value(&value).expect_err("ambiguous in JSON");
            assert!(err.to_string().contains("cannot be represented"), "{err}");
            assert!(value.try_to_json().is_err());
            let borrowed = crate::cbor::decode_ref(cbor).expect("valid DAG-CBOR");
            assert!(serde_json::to_string(&borrowed).is_err());
            // Display never panics on it.
            assert!(!value.to_string().is_empty());
        }
        // Nested inside a record too.
        let mut record = Map::new();
        record.insert("$type".into(), Value::from("com.example.x"));
        record.insert(
            "inner".into(),
            Value::from_dag_cbor(&lookalikes[0]).expect("map"),
        );
        assert!(Value::Map(record).try_to_json().is_err());
    }

    #[test]
    fn json_links_and_bytes_round_trip_through_cbor() {
        let json = serde_json::json!({
            "a": {"$link": POST},
            "b": {"$bytes": "aGk"},
            "c": [{"$link": POST}, {"x": "$link"}],
            "$link-ish": {"$linkx": "y", "link": "z"},
        });
        let value = Value::from_json(json.clone()).expect("valid");
        assert_eq!(
            value
                .get("a")
                .and_then(Value::as_link)
                .map(|c| c.to_string())
                .as_deref(),
            Some(POST)
        );
        let cbor = value.to_dag_cbor();
        let back = Value::from_dag_cbor(&cbor).expect("decodes");
        assert_eq!(back.try_to_json().expect("representable"), json);
        assert_eq!(
            crate::cbor::cid_for(&Value::from_json(back.to_json()).expect("valid")),
            crate::cbor::cid_for(&value)
        );
    }

    #[test]
    fn json_rejects_floats_and_bad_types() {
        assert!(Value::from_json_str(r#"{"a": 1.5}"#).is_err());
        assert!(Value::from_json_str(r#"{"$type": ""}"#).is_err());
        assert!(Value::from_json_str(r#"{"$type": 3}"#).is_err());
        assert!(Value::from_json_str(r#"{"$link": "bafy", "x": 1}"#).is_err());
    }
}
