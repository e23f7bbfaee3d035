//! [`ValueSerializer`]: builds a [`Value`] straight from any `Serialize` type, by the rules the
//! DAG-CBOR encoder applies, without writing bytes in between.

use serde::ser::{self, Error as _, Serialize};

use super::ValueError;
use crate::cbor::ser::{reject, reject_compound};
use crate::cid::LINK_MAGIC;
use crate::{Cid, Map, Value};

/// A serde `Serializer` whose output is a [`Value`] (see [`crate::to_value`]).
///
/// It is not human-readable, as the DAG-CBOR encoder is not: links and bytes arrive as links
/// and bytes, not as `{"$link": …}` / `{"$bytes": …}` objects. Floats, integers beyond `i64`,
/// non-string map keys, duplicate keys, nesting deeper than the decoder accepts, a `$type`
/// that is not a non-empty string and an incomplete blob are errors, as they are when encoding.
pub struct ValueSerializer {
    depth_left: usize,
}

impl ValueSerializer {
    /// A serializer with the decoder's nesting limit.
    pub fn new() -> Self {
        ValueSerializer {
            depth_left: crate::cbor::Limits::DEFAULT.max_depth,
        }
    }

    fn enter(&mut self) -> Result<(), ValueError> {
        if self.depth_left <= 1 {
            return Err(ValueError::custom(format_args!(
                "nesting deeper than the decoder accepts ({} levels)",
                crate::cbor::Limits::DEFAULT.max_depth
            )));
        }
        self.depth_left -= 1;
        Ok(())
    }
}

impl Default for ValueSerializer {
    fn default() -> Self {
        Self::new()
    }
}

fn out_of_range() -> ValueError {
    ValueError::custom("integer out of i64 range")
}

fn single(key: &'static str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Map(map)
}

impl<'a> ser::Serializer for &'a mut ValueSerializer {
    type Ok = Value;
    type Error = ValueError;
    type SerializeSeq = SeqSer<'a>;
    type SerializeTuple = SeqSer<'a>;
    type SerializeTupleStruct = SeqSer<'a>;
    type SerializeTupleVariant = SeqSer<'a>;
    type SerializeMap = MapSer<'a>;
    type SerializeStruct = MapSer<'a>;
    type SerializeStructVariant = MapSer<'a>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bool(self, v: bool) -> Result<Value, ValueError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ValueError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ValueError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ValueError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ValueError> {
        Ok(Value::Integer(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ValueError> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| out_of_range())
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ValueError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ValueError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ValueError> {
        Ok(Value::Integer(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ValueError> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| out_of_range())
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ValueError> {
        i64::try_from(v)
            .map(Value::Integer)
            .map_err(|_| out_of_range())
    }
    fn serialize_f32(self, _v: f32) -> Result<Value, ValueError> {
        Err(ValueError::custom(
            "floats are not allowed in the AT Protocol data model",
        ))
    }
    fn serialize_f64(self, _v: f64) -> Result<Value, ValueError> {
        Err(ValueError::custom(
            "floats are not allowed in the AT Protocol data model",
        ))
    }
    fn serialize_char(self, v: char) -> Result<Value, ValueError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ValueError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ValueError> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ValueError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ValueError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        if name == LINK_MAGIC {
            // The private newtype `CidLink` and `Value::Link` serialize through: its one byte
            // string is the binary CID.
            return match &value.serialize(&mut *self)? {
                Value::Bytes(bytes) => Cid::from_bytes(bytes)
                    .map(Value::Link)
                    .map_err(ValueError::custom),
                _ => Err(ValueError::custom("a CID link must serialize as bytes")),
            };
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        self.enter()?;
        let inner = value.serialize(&mut *self);
        self.depth_left += 1;
        Ok(single(variant, inner?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'a>, ValueError> {
        SeqSer::begin(self, len, None)
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'a>, ValueError> {
        SeqSer::begin(self, Some(len), None)
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSer<'a>, ValueError> {
        SeqSer::begin(self, Some(len), None)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer<'a>, ValueError> {
        SeqSer::begin(self, Some(len), Some(variant))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSer<'a>, ValueError> {
        MapSer::begin(self, None)
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<MapSer<'a>, ValueError> {
        MapSer::begin(self, None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapSer<'a>, ValueError> {
        MapSer::begin(self, Some(variant))
    }
}

/// Arrays (and tuples); a tuple variant becomes `{variant: [..]}`.
pub struct SeqSer<'a> {
    ser: &'a mut ValueSerializer,
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl<'a> SeqSer<'a> {
    fn begin(
        ser: &'a mut ValueSerializer,
        len: Option<usize>,
        variant: Option<&'static str>,
    ) -> Result<Self, ValueError> {
        ser.enter()?;
        // The hint comes from the type, not from untrusted input, but a wrong one must not
        // reserve gigabytes: cap what is reserved up front.
        let items = Vec::with_capacity(len.unwrap_or(0).min(4096));
        Ok(SeqSer {
            ser,
            items,
            variant,
        })
    }
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        self.items.push(value.serialize(&mut *self.ser)?);
        Ok(())
    }
    fn finish(self) -> Result<Value, ValueError> {
        self.ser.depth_left += 1;
        let array = Value::Array(self.items);
        Ok(match self.variant {
            Some(variant) => single(variant, array),
            None => array,
        })
    }
}

macro_rules! seq_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for SeqSer<'_> {
            type Ok = Value;
            type Error = ValueError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
                self.element(value)
            }
            fn end(self) -> Result<Value, ValueError> {
                self.finish()
            }
        }
    };
}
seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

/// Maps and structs; a struct variant becomes `{variant: {..}}`.
pub struct MapSer<'a> {
    ser: &'a mut ValueSerializer,
    map: Map,
    pending_key: Option<String>,
    variant: Option<&'static str>,
}

impl<'a> MapSer<'a> {
    fn begin(
        ser: &'a mut ValueSerializer,
        variant: Option<&'static str>,
    ) -> Result<Self, ValueError> {
        ser.enter()?;
        Ok(MapSer {
            ser,
            map: Map::new(),
            pending_key: None,
            variant,
        })
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), ValueError> {
        let value = value.serialize(&mut *self.ser)?;
        match self.map.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => Err(ValueError::custom(
                format_args!("duplicate map key {:?}", e.key()),
            )),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(value);
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<Value, ValueError> {
        self.ser.depth_left += 1;
        check_data_model(&self.map)?;
        let map = Value::Map(self.map);
        Ok(match self.variant {
            Some(variant) => single(variant, map),
            None => map,
        })
    }
}

/// The rules the encoder enforces on `$type` and on blobs.
fn check_data_model(map: &Map) -> Result<(), ValueError> {
    match map.get("$type") {
        None => Ok(()),
        Some(Value::String(t)) if t.is_empty() => {
            Err(ValueError::custom("$type must not be empty"))
        }
        Some(Value::String(t)) if t == "blob" => {
            let complete = matches!(map.get("ref"), Some(Value::Link(_)))
                && matches!(map.get("mimeType"), Some(Value::String(_)))
                && matches!(map.get("size"), Some(Value::Integer(n)) if *n >= 0);
            if complete {
                Ok(())
            } else {
                Err(ValueError::custom(
                    "a blob needs a \"ref\" link, a \"mimeType\" string and a non-negative \"size\"",
                ))
            }
        }
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(ValueError::custom("$type must be a string")),
    }
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ValueError> {
        self.pending_key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValueError> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| ValueError::custom("map value without a key"))?;
        self.entry(key, value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapSer<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.entry(key.to_owned(), value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapSer<'_> {
    type Ok = Value;
    type Error = ValueError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.entry(key.to_owned(), value)
    }
    fn end(self) -> Result<Value, ValueError> {
        self.finish()
    }
}

/// Map keys: strings only, as in the data model.
struct KeySer;

const KEY_ERR: &str = "map keys must be strings";

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = ValueError;
    type SerializeSeq = ser::Impossible<String, ValueError>;
    type SerializeTuple = ser::Impossible<String, ValueError>;
    type SerializeTupleStruct = ser::Impossible<String, ValueError>;
    type SerializeTupleVariant = ser::Impossible<String, ValueError>;
    type SerializeMap = ser::Impossible<String, ValueError>;
    type SerializeStruct = ser::Impossible<String, ValueError>;
    type SerializeStructVariant = ser::Impossible<String, ValueError>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_str(self, v: &str) -> Result<String, ValueError> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, ValueError> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, ValueError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, ValueError> {
        value.serialize(self)
    }
    reject!(ValueError::custom(KEY_ERR); serialize_bool(bool), serialize_i8(i8),
        serialize_i16(i16), serialize_i32(i32), serialize_i64(i64), serialize_u8(u8),
        serialize_u16(u16), serialize_u32(u32), serialize_u64(u64), serialize_f32(f32),
        serialize_f64(f64), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str));
    reject_compound!(ValueError::custom(KEY_ERR));
}
