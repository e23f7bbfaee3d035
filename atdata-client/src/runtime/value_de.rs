//! [`ValueDeserializer`]: reads any serde type out of an owned [`Value`], without encoding it
//! again (what `atdata_core::from_value` does).

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer as _, Visitor};

use atdata_core::{Cid, Map, Value};

/// Why a [`Value`] did not fit a type. The message starts with the path when there is one
/// (`images[0].alt: missing field`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

/// A serde `Deserializer` over an owned [`Value`]. Strings, bytes and maps move out of the value;
/// links reach [`atdata_core::CidLink`] as they do from DAG-CBOR.
///
/// ```
/// use atdata_client::runtime::ValueDeserializer;
/// use serde::Deserialize;
///
/// let value = atdata_core::Value::from_json_str(r#"{"a": [1, 2]}"#)?;
/// let map = std::collections::BTreeMap::<String, Vec<i64>>::deserialize(ValueDeserializer::new(value))?;
/// assert_eq!(map["a"], [1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ValueDeserializer(Value);

impl ValueDeserializer {
    /// A deserializer reading `value`.
    pub fn new(value: Value) -> Self {
        ValueDeserializer(value)
    }
}

impl ValueDeserializer {
    fn mismatch(self, expected: &str) -> ValueError {
        ValueError(format!(
            "invalid type: {}, expected {expected}",
            self.0.kind()
        ))
    }
}

// Each `deserialize_*` that a type names only calls the one matching `visit_*`, instead of
// forwarding to `deserialize_any`: every visitor type would otherwise instantiate all of its
// `visit_*` methods, which for generated code means thousands of needless functions.
impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        // Links and bytes are already decoded: types must not look for `$link` / `$bytes`.
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Integer(i) => visitor.visit_i64(i),
            Value::String(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::Link(cid) => visitor.visit_newtype_struct(LinkDeserializer(cid)),
            Value::Array(items) => visit_array(items, visitor),
            Value::Map(map) => visitor.visit_map(&mut MapAccess::new(map)),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.mismatch("a boolean")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Integer(i) => visitor.visit_i64(i),
            _ => Err(self.mismatch("an integer")),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            _ => Err(self.mismatch("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            _ => Err(self.mismatch("bytes")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.mismatch("null")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            _ => Err(self.mismatch("an array")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::Map(map) => visitor.visit_map(&mut MapAccess::new(map)),
            _ => Err(self.mismatch("an object")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            _ => Err(self.mismatch("a string for an enum")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 f64 char unit_struct tuple tuple_struct identifier
    }
}

fn visit_array<'de, V: Visitor<'de>>(
    items: Vec<Value>,
    visitor: V,
) -> Result<V::Value, ValueError> {
    let len = items.len();
    let mut seq = SeqAccess {
        items: items.into_iter(),
    };
    let out = visitor.visit_seq(&mut seq)?;
    if seq.items.len() != 0 {
        return Err(de::Error::invalid_length(len, &"fewer elements"));
    }
    Ok(out)
}

/// Hands a link's binary CID to `CidLink` (and to `Value`), as the DAG-CBOR decoder does.
struct LinkDeserializer(Cid);

impl<'de> de::Deserializer<'de> for LinkDeserializer {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_bytes(self.0.as_bytes())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct SeqAccess {
    items: std::vec::IntoIter<Value>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        match self.items.next() {
            Some(v) => seed.deserialize(ValueDeserializer(v)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of a map value, in key order.
pub(crate) struct MapAccess {
    entries: std::collections::btree_map::IntoIter<String, Value>,
    pending: Option<Value>,
}

impl MapAccess {
    pub(crate) fn new(map: Map) -> Self {
        MapAccess {
            entries: map.into_iter(),
            pending: None,
        }
    }

    /// The entries not read yet (all of them, when nothing was).
    pub(crate) fn into_rest(self) -> Map {
        self.entries.collect()
    }
}

impl<'de> de::MapAccess<'de> for MapAccess {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueError> {
        match self.pending.take() {
            Some(value) => seed.deserialize(ValueDeserializer(value)),
            None => Err(de::Error::custom("map value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atdata_core::{Blob, CidLink};
    use serde::Deserialize;

    #[test]
    fn links_blobs_and_bytes() {
        let json = r#"{"ref": {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
            "b": {"$bytes": "AQID"}}"#;
        let value = Value::from_json_str(json).expect("json");
        #[derive(Deserialize)]
        struct T {
            #[serde(rename = "ref")]
            link: CidLink,
            b: atdata_core::Bytes,
        }
        let t = T::deserialize(ValueDeserializer::new(value.clone())).expect("struct");
        assert_eq!(t.b.0, vec![1, 2, 3]);
        assert_eq!(Some(&t.link.0), value.get("ref").and_then(Value::as_link));
        let again = Value::deserialize(ValueDeserializer::new(value.clone())).expect("value");
        assert_eq!(again, value);

        let blob = Value::from_json_str(
            r#"{"$type": "blob", "ref": {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"},
                "mimeType": "image/png", "size": 3}"#,
        )
        .expect("json");
        let b = Blob::deserialize(ValueDeserializer::new(blob)).expect("blob");
        assert_eq!(b.size(), Some(3));
    }
}
