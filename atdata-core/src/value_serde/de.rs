//! [`ValueDeserializer`]: reads any serde type out of an owned [`Value`], without encoding it
//! again. Two views: the DAG-CBOR one (what [`crate::from_value`] uses) and the atproto JSON one
//! (what [`crate::from_value_json`] uses).

use serde::de::{self, DeserializeSeed, Error as _, IntoDeserializer as _, Visitor};

use super::ValueError;
use crate::{Cid, Map, Value};

/// A serde `Deserializer` over an owned [`Value`]. Strings, bytes and maps move out of the value.
///
/// In the DAG-CBOR view ([`new`](ValueDeserializer::new)) links reach [`crate::CidLink`] as they
/// do from DAG-CBOR, and the format is not human-readable. In the JSON view
/// ([`json_view`](ValueDeserializer::json_view)) links and bytes are the objects
/// `{"$link": …}` / `{"$bytes": …}` of atproto JSON, so types that only know JSON
/// (`serde_json::Value`, say) read them as they would the JSON text.
///
/// ```
/// use atdata_core::ValueDeserializer;
/// use serde::Deserialize;
///
/// let value = atdata_core::Value::from_json_str(r#"{"a": [1, 2]}"#)?;
/// let map = std::collections::BTreeMap::<String, Vec<i64>>::deserialize(ValueDeserializer::new(value))?;
/// assert_eq!(map["a"], [1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ValueDeserializer {
    value: Value,
    json: bool,
}

impl ValueDeserializer {
    /// A deserializer reading `value` as its DAG-CBOR encoding would read.
    pub fn new(value: Value) -> Self {
        ValueDeserializer { value, json: false }
    }

    /// A deserializer reading `value` as its atproto JSON text would read.
    pub fn json_view(value: Value) -> Self {
        ValueDeserializer { value, json: true }
    }

    fn mismatch(self, expected: &str) -> ValueError {
        ValueError::custom(format_args!(
            "invalid type: {}, expected {expected}",
            self.value.kind()
        ))
    }
}

/// The one-entry map that stands for a link or bytes in atproto JSON.
fn json_marker(key: &str, text: String) -> Map {
    let mut map = Map::new();
    map.insert(key.to_owned(), Value::String(text));
    map
}

// Each `deserialize_*` that a type names only calls the one matching `visit_*`, instead of
// forwarding to `deserialize_any`: every visitor type would otherwise instantiate all of its
// `visit_*` methods, which for generated code means thousands of needless functions.
impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = ValueError;

    fn is_human_readable(&self) -> bool {
        // In the DAG-CBOR view links and bytes are already decoded: types must not look for
        // `$link` / `$bytes`.
        self.json
    }

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        let json = self.json;
        // `Value` implements `Drop`, so a pattern cannot move its fields out: each arm takes the
        // field, leaving an empty one behind (here and in the methods below).
        match &mut self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::String(s) => visitor.visit_string(std::mem::take(s)),
            Value::Bytes(b) if json => visitor.visit_map(&mut MapAccess::with_view(
                json_marker("$bytes", crate::encoding::base64_encode(b)),
                json,
            )),
            Value::Bytes(b) => visitor.visit_byte_buf(std::mem::take(b)),
            Value::Link(cid) if json => visitor.visit_map(&mut MapAccess::with_view(
                json_marker("$link", cid.to_string()),
                json,
            )),
            Value::Link(cid) => visitor.visit_newtype_struct(LinkDeserializer(*cid)),
            Value::Array(items) => visit_array(std::mem::take(items), visitor, json),
            Value::Map(map) => {
                visitor.visit_map(&mut MapAccess::with_view(std::mem::take(map), json))
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.mismatch("a boolean")),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
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

    fn deserialize_str<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match &mut self.value {
            Value::String(s) => visitor.visit_string(std::mem::take(s)),
            _ => Err(self.mismatch("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match &mut self.value {
            Value::Bytes(b) => visitor.visit_byte_buf(std::mem::take(b)),
            _ => Err(self.mismatch("bytes")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.mismatch("null")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match &mut self.value {
            Value::Array(items) => visit_array(std::mem::take(items), visitor, self.json),
            _ => Err(self.mismatch("an array")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ValueError> {
        match &mut self.value {
            Value::Map(map) => {
                visitor.visit_map(&mut MapAccess::with_view(std::mem::take(map), self.json))
            }
            Value::Link(_) | Value::Bytes(_) if self.json => self.deserialize_any(visitor),
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
        let mut this = self;
        match &mut this.value {
            Value::String(s) => visitor.visit_enum(std::mem::take(s).into_deserializer()),
            _ => Err(this.mismatch("a string for an enum")),
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
    json: bool,
) -> Result<V::Value, ValueError> {
    let len = items.len();
    let mut seq = SeqAccess {
        items: items.into_iter(),
        json,
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
    json: bool,
}

impl<'de> de::SeqAccess<'de> for SeqAccess {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        match self.items.next() {
            Some(value) => seed
                .deserialize(ValueDeserializer {
                    value,
                    json: self.json,
                })
                .map(Some),
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
    json: bool,
}

impl MapAccess {
    /// The entries of `map`, in the DAG-CBOR view.
    pub(crate) fn new(map: Map) -> Self {
        Self::with_view(map, false)
    }

    fn with_view(map: Map, json: bool) -> Self {
        MapAccess {
            entries: map.into_iter(),
            pending: None,
            json,
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
            Some(value) => seed.deserialize(ValueDeserializer {
                value,
                json: self.json,
            }),
            None => Err(ValueError::custom("map value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Blob, CidLink};
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
            b: crate::Bytes,
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
