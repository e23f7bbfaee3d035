//! [`ReadValue`]: one way to read a data-model value, whichever representation holds it.
//!
//! The crate has three, each the fastest for some job:
//!
//! | representation | owns its data | built by | best for |
//! |---|---|---|---|
//! | [`Value`] | yes (a tree of `String`s, `Vec`s, B-tree maps) | [`Value::from_json_str`], [`crate::to_value`], [`crate::cbor::decode_value`] | building and editing records, keeping them past the input buffer |
//! | [`ValueRef`] | no: strings and bytes borrow the DAG-CBOR block, maps are vectors of pairs | [`crate::cbor::decode_ref`], `Record::decode` | reading a record once (validation, indexing) without copying it |
//! | [`TapeValue`] | no: a flat, reusable node array over the block | [`crate::cbor::Tape::decode`] | walking many blocks fast (repository and firehose verification): no allocation per block |
//!
//! Code written against `ReadValue` takes any of them (and references to them); each
//! representation keeps its own inherent methods too, which may return more precise types.
//!
//! ```
//! use atdata_core::{cbor, ReadValue, Value};
//!
//! /// Every string in a value, whatever holds it.
//! fn strings<V: ReadValue>(v: &V, out: &mut Vec<String>) {
//!     if let Some(s) = v.as_str() {
//!         out.push(s.to_owned());
//!     }
//!     for item in v.items() {
//!         strings(&item, out);
//!     }
//!     for (_, item) in v.entries() {
//!         strings(&item, out);
//!     }
//! }
//!
//! let owned = Value::from_json_str(r#"{"tags": ["a", "b"], "name": "c"}"#)?;
//! let block = owned.to_dag_cbor();
//! let borrowed = cbor::decode_ref(&block)?;
//! let mut tape = cbor::Tape::new();
//! let taped = tape.decode(&block)?;
//! let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
//! strings(&owned, &mut a);
//! strings(&borrowed, &mut b);
//! strings(&taped, &mut c);
//! assert_eq!(a, ["c", "a", "b"]);
//! assert!(a == b && b == c);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::cbor::TapeValue;
use crate::{Cid, Value, ValueRef};

/// Read access to a data-model value, the same for [`Value`], [`ValueRef`] and [`TapeValue`]
/// (see the [module docs](crate::value_read) for which to use when).
pub trait ReadValue {
    /// A value inside this one (an array item or a map value).
    type Child<'s>: ReadValue
    where
        Self: 's;

    /// The data-model kind, as lexicons name the types: `null`, `boolean`, `integer`,
    /// `string`, `bytes`, `cid-link`, `array` or `map`.
    fn kind(&self) -> &'static str;
    /// Whether the value is null.
    fn is_null(&self) -> bool;
    /// The boolean, if it is one.
    fn as_bool(&self) -> Option<bool>;
    /// The integer, if it is one.
    fn as_integer(&self) -> Option<i64>;
    /// The string, if it is one.
    fn as_str(&self) -> Option<&str>;
    /// The bytes, if it is a byte string.
    fn as_bytes(&self) -> Option<&[u8]>;
    /// The CID, if it is a link.
    fn as_link(&self) -> Option<Cid>;
    /// Whether it is an array.
    fn is_array(&self) -> bool;
    /// Whether it is a map.
    fn is_map(&self) -> bool;
    /// How many items (array) or entries (map); 0 for anything else.
    fn len(&self) -> usize;
    /// Whether [`len`](ReadValue::len) is 0.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The map value under `key`; `None` for a missing key or a value that is not a map.
    fn get(&self, key: &str) -> Option<Self::Child<'_>>;
    /// The `$type` string of a map, if it has one.
    fn type_name(&self) -> Option<&str>;
    /// The items of an array, in order; nothing for any other kind.
    fn items(&self) -> impl Iterator<Item = Self::Child<'_>>;
    /// The entries of a map, in the representation's key order; nothing for any other kind.
    fn entries(&self) -> impl Iterator<Item = (&str, Self::Child<'_>)>;
    /// An owned copy.
    fn to_value(&self) -> Value;
}

impl ReadValue for Value {
    type Child<'s> = &'s Value;

    fn kind(&self) -> &'static str {
        Value::kind(self)
    }
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    fn as_bool(&self) -> Option<bool> {
        Value::as_bool(self)
    }
    fn as_integer(&self) -> Option<i64> {
        Value::as_integer(self)
    }
    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        Value::as_bytes(self)
    }
    fn as_link(&self) -> Option<Cid> {
        Value::as_link(self).copied()
    }
    fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }
    fn is_map(&self) -> bool {
        matches!(self, Value::Map(_))
    }
    fn len(&self) -> usize {
        match self {
            Value::Array(items) => items.len(),
            Value::Map(map) => map.len(),
            _ => 0,
        }
    }
    fn get(&self, key: &str) -> Option<&Value> {
        Value::get(self, key)
    }
    fn type_name(&self) -> Option<&str> {
        Value::type_name(self)
    }
    fn items(&self) -> impl Iterator<Item = &Value> {
        Value::as_array(self).unwrap_or_default().iter()
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        Value::as_map(self)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
    }
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<'a> ReadValue for ValueRef<'a> {
    type Child<'s>
        = &'s ValueRef<'a>
    where
        Self: 's;

    fn kind(&self) -> &'static str {
        ValueRef::kind(self)
    }
    fn is_null(&self) -> bool {
        matches!(self, ValueRef::Null)
    }
    fn as_bool(&self) -> Option<bool> {
        match self {
            ValueRef::Bool(b) => Some(*b),
            _ => None,
        }
    }
    fn as_integer(&self) -> Option<i64> {
        ValueRef::as_integer(self)
    }
    fn as_str(&self) -> Option<&str> {
        ValueRef::as_str(self)
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        ValueRef::as_bytes(self)
    }
    fn as_link(&self) -> Option<Cid> {
        ValueRef::as_link(self)
    }
    fn is_array(&self) -> bool {
        matches!(self, ValueRef::Array(_))
    }
    fn is_map(&self) -> bool {
        matches!(self, ValueRef::Map(_))
    }
    fn len(&self) -> usize {
        match self {
            ValueRef::Array(items) => items.len(),
            ValueRef::Map(entries) => entries.len(),
            _ => 0,
        }
    }
    fn get(&self, key: &str) -> Option<&ValueRef<'a>> {
        ValueRef::get(self, key)
    }
    fn type_name(&self) -> Option<&str> {
        ValueRef::type_name(self)
    }
    fn items(&self) -> impl Iterator<Item = &ValueRef<'a>> {
        ValueRef::as_array(self).unwrap_or_default().iter()
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &ValueRef<'a>)> {
        let entries: &[(&'a str, ValueRef<'a>)] = match self {
            ValueRef::Map(entries) => entries,
            _ => &[],
        };
        entries.iter().map(|(k, v)| (*k, v))
    }
    fn to_value(&self) -> Value {
        ValueRef::to_value(self)
    }
}

impl<'t, 'a> ReadValue for TapeValue<'t, 'a> {
    type Child<'s>
        = TapeValue<'t, 'a>
    where
        Self: 's;

    fn kind(&self) -> &'static str {
        TapeValue::kind(self)
    }
    fn is_null(&self) -> bool {
        TapeValue::is_null(self)
    }
    fn as_bool(&self) -> Option<bool> {
        TapeValue::as_bool(self)
    }
    fn as_integer(&self) -> Option<i64> {
        TapeValue::as_integer(self)
    }
    fn as_str(&self) -> Option<&str> {
        TapeValue::as_str(self)
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        TapeValue::as_bytes(self)
    }
    fn as_link(&self) -> Option<Cid> {
        TapeValue::as_link(self)
    }
    fn is_array(&self) -> bool {
        TapeValue::is_array(self)
    }
    fn is_map(&self) -> bool {
        TapeValue::is_map(self)
    }
    fn len(&self) -> usize {
        TapeValue::len(self)
    }
    fn get(&self, key: &str) -> Option<TapeValue<'t, 'a>> {
        TapeValue::get(self, key)
    }
    fn type_name(&self) -> Option<&str> {
        TapeValue::type_name(self)
    }
    fn items(&self) -> impl Iterator<Item = TapeValue<'t, 'a>> {
        TapeValue::array_iter(self)
    }
    fn entries(&self) -> impl Iterator<Item = (&str, TapeValue<'t, 'a>)> {
        // The keys live as long as the block ('a), which outlives this borrow.
        TapeValue::map_iter(self).map(|(key, value)| -> (&str, TapeValue<'t, 'a>) { (key, value) })
    }
    fn to_value(&self) -> Value {
        TapeValue::to_value(self)
    }
}

/// A reference reads as what it points to.
impl<T: ReadValue + ?Sized> ReadValue for &T {
    type Child<'s>
        = T::Child<'s>
    where
        Self: 's;

    fn kind(&self) -> &'static str {
        (**self).kind()
    }
    fn is_null(&self) -> bool {
        (**self).is_null()
    }
    fn as_bool(&self) -> Option<bool> {
        (**self).as_bool()
    }
    fn as_integer(&self) -> Option<i64> {
        (**self).as_integer()
    }
    fn as_str(&self) -> Option<&str> {
        (**self).as_str()
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        (**self).as_bytes()
    }
    fn as_link(&self) -> Option<Cid> {
        (**self).as_link()
    }
    fn is_array(&self) -> bool {
        (**self).is_array()
    }
    fn is_map(&self) -> bool {
        (**self).is_map()
    }
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, key: &str) -> Option<Self::Child<'_>> {
        (**self).get(key)
    }
    fn type_name(&self) -> Option<&str> {
        (**self).type_name()
    }
    fn items(&self) -> impl Iterator<Item = Self::Child<'_>> {
        (**self).items()
    }
    fn entries(&self) -> impl Iterator<Item = (&str, Self::Child<'_>)> {
        (**self).entries()
    }
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
