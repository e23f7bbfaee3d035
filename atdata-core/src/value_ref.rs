//! [`ValueRef`]: a data-model value that borrows its strings and bytes from the buffer it was
//! decoded from. Decoding a CAR block into a `ValueRef` copies nothing but the tree's shape, which
//! is what makes whole-repository reads fast; [`ValueRef::to_owned`] gives a [`Value`] when the
//! data must outlive the buffer.

use crate::cid::{Cid, CidRef};
use crate::value::{Map, Value};

/// A borrowed data-model value (see [`Value`] for the owned form).
///
/// Maps keep their entries in the order they were decoded, which for strictly decoded DAG-CBOR
/// is the canonical order (shorter keys first, then bytewise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A signed 64-bit integer.
    Integer(i64),
    /// A UTF-8 string borrowed from the input.
    String(&'a str),
    /// Bytes borrowed from the input.
    Bytes(&'a [u8]),
    /// A CID link.
    Link(CidRef<'a>),
    /// A list.
    Array(Vec<ValueRef<'a>>),
    /// A map, entries in canonical order.
    Map(Vec<(&'a str, ValueRef<'a>)>),
}

impl<'a> ValueRef<'a> {
    /// The value under `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&ValueRef<'a>> {
        match self {
            ValueRef::Map(entries) => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The map's `$type`, if any.
    pub fn type_name(&self) -> Option<&'a str> {
        match self.get("$type") {
            Some(ValueRef::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            ValueRef::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            ValueRef::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The bytes, if this is a byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            ValueRef::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The CID, if this is a link.
    pub fn as_link(&self) -> Option<Cid> {
        match self {
            ValueRef::Link(c) => Some(c.to_cid()),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[ValueRef<'a>]> {
        match self {
            ValueRef::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The data-model kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Bool(_) => "boolean",
            ValueRef::Integer(_) => "integer",
            ValueRef::String(_) => "string",
            ValueRef::Bytes(_) => "bytes",
            ValueRef::Link(_) => "cid-link",
            ValueRef::Array(_) => "array",
            ValueRef::Map(_) => "map",
        }
    }

    /// Copies into an owned [`Value`] (named as [`TapeValue::to_value`](crate::cbor::TapeValue::to_value)
    /// and [`ReadValue::to_value`](crate::ReadValue::to_value) are).
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(*b),
            ValueRef::Integer(i) => Value::Integer(*i),
            ValueRef::String(s) => Value::String((*s).to_owned()),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::Link(c) => Value::Link(c.to_cid()),
            ValueRef::Array(items) => Value::Array(items.iter().map(ValueRef::to_value).collect()),
            ValueRef::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect::<Map>(),
            ),
        }
    }

    /// The old name of [`to_value`](ValueRef::to_value).
    #[deprecated(
        since = "0.1.0",
        note = "renamed to `to_value`, as on every representation"
    )]
    pub fn to_owned(&self) -> Value {
        self.to_value()
    }

    /// Decodes strict DAG-CBOR, borrowing from `bytes`.
    pub fn from_dag_cbor(bytes: &'a [u8]) -> Result<ValueRef<'a>, crate::cbor::DecodeError> {
        crate::cbor::decode_ref(bytes)
    }

    /// Encodes as canonical DAG-CBOR.
    pub fn to_dag_cbor(&self) -> Vec<u8> {
        crate::cbor::encode_ref(self)
    }
}

impl serde::Serialize for ValueRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Nested {
            value: self,
            depth_left: crate::cbor::Limits::MAX_DEPTH,
        }
        .serialize(s)
    }
}

/// A value and the nesting still allowed below it: as for [`Value`], a hand-built value deeper
/// than any decoder accepts is refused instead of overflowing the stack.
struct Nested<'v, 'a> {
    value: &'v ValueRef<'a>,
    depth_left: usize,
}

impl serde::Serialize for Nested<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        match self.value {
            ValueRef::Null => s.serialize_unit(),
            ValueRef::Bool(b) => s.serialize_bool(*b),
            ValueRef::Integer(i) => s.serialize_i64(*i),
            ValueRef::String(v) => s.serialize_str(v),
            ValueRef::Bytes(b) => crate::value::BytesRef(b).serialize(s),
            ValueRef::Link(c) => crate::cid::serialize_link(&c.to_cid(), s),
            ValueRef::Array(items) => {
                if self.depth_left <= 1 {
                    return Err(crate::value::too_deep());
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
            ValueRef::Map(entries) => {
                if self.depth_left <= 1 {
                    return Err(crate::value::too_deep());
                }
                if s.is_human_readable() {
                    crate::value::check_json_keys(entries.iter().map(|(k, _)| *k))?;
                }
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, value) in entries {
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

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::String(s) => ValueRef::String(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Link(c) => ValueRef::Link(c.as_cid_ref()),
            Value::Array(items) => ValueRef::Array(items.iter().map(ValueRef::from).collect()),
            Value::Map(m) => {
                let mut entries: Vec<(&str, ValueRef<'a>)> = m
                    .iter()
                    .map(|(k, v)| (k.as_str(), ValueRef::from(v)))
                    .collect();
                entries.sort_by(|a, b| crate::cbor::canonical_key_cmp(a.0, b.0));
                ValueRef::Map(entries)
            }
        }
    }
}
