//! Unions: the [`Union`] trait every generated union enum implements, and how unions and
//! subscription messages are read.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Error as _, Visitor};
use serde::{Deserialize, Deserializer};

use super::object::{Key, Object};
use crate::value_serde::{MapAccess, ValueError};
use crate::xrpc::BodyError;
use crate::{Map, Value};

/// A lexicon union: an enum with one boxed variant per member, told apart by `$type`, and for
/// open unions an `Unknown(Value)` arm.
pub trait Union: Sized {
    /// Reads member `ty` (a full `$type`) from the remaining entries of its map, or gives
    /// `Ok(None)` without reading anything when `ty` is not a member.
    fn from_map<'de, A: de::MapAccess<'de>>(ty: &str, map: A) -> Result<Option<Self>, A::Error>;

    /// The unknown arm holding `value`, or `None` for a closed union.
    fn unknown(value: Value) -> Option<Self>;
}

/// Reads a member of an open or closed union.
pub fn de_union<'de, U: Union, D: Deserializer<'de>>(deserializer: D) -> Result<U, D::Error> {
    // `$type` may come after other keys (always, in DAG-CBOR, when they are shorter), so the map
    // is read whole first. Converting through one error type also means each member type is
    // instantiated once for every input format.
    let value = Value::deserialize(deserializer)?;
    union_from_value(value).map_err(D::Error::custom)
}

fn union_from_value<U: Union>(mut value: Value) -> Result<U, ValueError> {
    // `Value` implements `Drop`: its fields are taken, not moved out by the patterns.
    let mut map = match &mut value {
        Value::Map(map) => std::mem::take(map),
        other => {
            return Err(ValueError::custom(format_args!(
                "expected an object with a $type, found {}",
                other.kind()
            )))
        }
    };
    let mut ty = map
        .remove("$type")
        .ok_or_else(|| ValueError::custom("missing $type in union"))?;
    let ty = match &mut ty {
        Value::String(ty) => std::mem::take(ty),
        other => {
            return Err(ValueError::custom(format_args!(
                "$type: expected a string, found {}",
                other.kind()
            )))
        }
    };
    let mut access = MapAccess::new(map);
    if let Some(member) = U::from_map(&ty, &mut access)? {
        return Ok(member);
    }
    let mut rest = access.into_rest();
    let closed = ValueError::custom(format_args!("unknown $type {ty} in closed union"));
    rest.insert("$type".to_owned(), Value::String(ty));
    U::unknown(Value::Map(rest)).ok_or(closed)
}

/// Reads a union member's fields, boxed as the union enum holds it.
pub fn member<'de, T: Object, A: de::MapAccess<'de>>(map: A) -> Result<Box<T>, A::Error> {
    T::from_map(map).map(Box::new)
}

/// Decodes one subscription message of method `nsid` from its frame header's `t` (`#commit`, or a
/// full `nsid#name` for a type from another lexicon) and its DAG-CBOR payload.
///
/// A `t` the union does not know gives its unknown arm, holding the payload with `$type` set to
/// the full type when the payload has none.
pub fn decode_message<U: Union>(nsid: &str, t: &str, payload: &[u8]) -> Result<U, BodyError> {
    let ty = match t.strip_prefix('#') {
        Some(name) => format!("{nsid}#{name}"),
        None => t.to_owned(),
    };
    let mut de = crate::cbor::Deserializer::new(payload);
    let message = de
        .deserialize_map(MessageVisitor::<U> {
            ty: &ty,
            marker: PhantomData,
        })
        .map_err(BodyError::Cbor)?;
    de.end().map_err(BodyError::Cbor)?;
    match message {
        Some(message) => Ok(message),
        None => Err(BodyError::Cbor(de::Error::custom(format_args!(
            "unknown message type {t}"
        )))),
    }
}

struct MessageVisitor<'t, U> {
    ty: &'t str,
    marker: PhantomData<U>,
}

impl<'de, U: Union> Visitor<'de> for MessageVisitor<'_, U> {
    type Value = Option<U>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} message", self.ty)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Option<U>, A::Error> {
        if let Some(message) = U::from_map(self.ty, &mut map)? {
            return Ok(Some(message));
        }
        let mut rest = Map::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: Value = map.next_value()?;
            rest.insert(key.into_string(), value);
        }
        rest.entry("$type".to_owned())
            .or_insert_with(|| Value::String(self.ty.to_owned()));
        Ok(U::unknown(Value::Map(rest)))
    }
}
