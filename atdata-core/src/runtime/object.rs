//! Objects: the [`Object`] trait every generated struct implements, and the helpers its
//! generated `from_map` and `write_fields` call.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serializer};

use super::path::{nest, Seg};
use crate::{Map, Value};

/// A lexicon object (or record) type.
///
/// Generated code implements this; [`ser_object`] and [`de_object`] turn it into serde impls.
pub trait Object: Sized {
    /// The `$type` that names this definition: `nsid` for a `main` definition, `nsid#name`
    /// otherwise.
    const TYPE: &'static str;
    /// The keys the lexicon declares, as the data spells them.
    const FIELDS: &'static [&'static str];

    /// The keys the lexicon does not declare, kept from the input.
    fn extra(&self) -> &Map;

    /// Writes the declared fields that are set, in DAG-CBOR key order, with `$type` = `ty` in
    /// its place when given.
    fn write_fields<M: SerializeMap>(
        &self,
        map: &mut M,
        ty: Option<&'static str>,
    ) -> Result<(), M::Error>;

    /// Reads the object from the entries of a map.
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// A record type: an [`Object`] stored in repositories, whose `$type` is its collection NSID.
pub trait Record: Object {
    /// The collection NSID (equal to [`Object::TYPE`]).
    const NSID: &'static str;
}

/// Serializes an object: its declared fields, then its extra keys. `typed` adds `$type` (records
/// and union members); an extra `$type` is then skipped, so it is never written twice.
pub fn ser_object<T: Object, S: Serializer>(
    value: &T,
    serializer: S,
    typed: bool,
) -> Result<S::Ok, S::Error> {
    // Readable formats get `$type` first, where people look for it; DAG-CBOR gets it at its
    // place in key order, so that the encoder finds the keys already sorted.
    let first = typed && serializer.is_human_readable();
    let mut map = serializer.serialize_map(None)?;
    if first {
        map.serialize_entry("$type", T::TYPE)?;
    }
    value.write_fields(&mut map, (typed && !first).then_some(T::TYPE))?;
    for (key, item) in value.extra() {
        if (typed && key == "$type") || T::FIELDS.contains(&key.as_str()) {
            continue;
        }
        map.serialize_entry(key, item)?;
    }
    map.end()
}

/// Deserializes an object from a map.
pub fn de_object<'de, T: Object, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} object", T::TYPE)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

/// A map key, borrowed from the input when the format allows.
pub enum Key<'de> {
    /// Borrowed from the input.
    Borrowed(&'de str),
    /// Copied (escaped JSON, buffered values).
    Owned(String),
}

impl Key<'_> {
    /// The key.
    pub fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    /// The key as an owned string.
    pub fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Reads the value of declared field `name` into `slot`.
pub fn field<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::custom(format_args!("{name}: duplicate field")));
    }
    match map.next_value() {
        Ok(v) => {
            *slot = Some(v);
            Ok(())
        }
        Err(e) => Err(nest(e, Seg::Field(name))),
    }
}

/// Like [`field`], for arrays: errors name the index of the element.
pub fn field_vec<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<Vec<T>>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::custom(format_args!("{name}: duplicate field")));
    }
    match map.next_value_seed(VecSeed(PhantomData)) {
        Ok(v) => {
            *slot = Some(v);
            Ok(())
        }
        Err(e) => Err(nest(e, Seg::Field(name))),
    }
}

struct VecSeed<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for VecSeed<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for VecSeed<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // The hint comes from the input: cap it so a lying length cannot reserve gigabytes.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        loop {
            match seq.next_element() {
                Ok(Some(v)) => out.push(v),
                Ok(None) => return Ok(out),
                Err(e) => return Err(nest(e, Seg::Index(out.len()))),
            }
        }
    }
}

/// Keeps an undeclared key and its value in `extra`.
pub fn extra<'de, A: MapAccess<'de>>(
    map: &mut A,
    extra: &mut Map,
    key: Key<'de>,
) -> Result<(), A::Error> {
    let value: Value = map
        .next_value()
        .map_err(|e| nest(e, Seg::Field(key.as_str())))?;
    let key = key.into_string();
    if extra.contains_key(&key) {
        return Err(A::Error::custom(format_args!("{key}: duplicate field")));
    }
    extra.insert(key, value);
    Ok(())
}

/// The error for a required field that is absent.
pub fn missing<E: de::Error>(name: &str) -> E {
    E::custom(format_args!("{name}: missing field"))
}

/// The value of required field `name`, or the error saying it is missing. `_map` only fixes the
/// error type.
pub fn required<'de, A: MapAccess<'de>, T>(
    _map: &A,
    value: Option<T>,
    name: &'static str,
) -> Result<T, A::Error> {
    match value {
        Some(v) => Ok(v),
        None => Err(missing(name)),
    }
}

/// Reads a record's `$type`, which must be its NSID.
pub fn record_type<'de, A: MapAccess<'de>>(
    map: &mut A,
    expected: &'static str,
) -> Result<(), A::Error> {
    let found: Key<'de> = map.next_value().map_err(|e| nest(e, Seg::Field("$type")))?;
    if found.as_str() == expected {
        Ok(())
    } else {
        Err(A::Error::custom(format_args!(
            "$type: expected {expected}, found {}",
            found.as_str()
        )))
    }
}
