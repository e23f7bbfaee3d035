//! A strict serde `Deserializer` for DAG-CBOR: the same rules as [`super::decode_ref`], feeding
//! any `Deserialize` type, with strings and bytes borrowed from the input where the type allows.

use serde::de::{self, IntoDeserializer as _, Visitor};

use super::decode::{Limits, Reader};
use super::error::{DecodeError, DecodeErrorKind as K};
use crate::cid::LINK_MAGIC;

/// Strictly decodes DAG-CBOR into any deserializable type. The whole input must be one value.
pub fn from_slice<'de, T: de::Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let mut d = Deserializer::new(bytes);
    let value = T::deserialize(&mut d)?;
    d.r.finish()?;
    Ok(value)
}

/// Decodes one value from the front of `bytes` and returns it with the number of bytes it used:
/// for streams of concatenated values, such as a firehose frame (a header, then a body).
pub fn from_slice_prefix<'de, T: de::Deserialize<'de>>(
    bytes: &'de [u8],
) -> Result<(T, usize), DecodeError> {
    let mut d = Deserializer::new(bytes);
    let value = T::deserialize(&mut d)?;
    Ok((value, d.position()))
}

/// The DAG-CBOR deserializer; see [`from_slice`].
pub struct Deserializer<'de> {
    r: Reader<'de>,
    depth_left: usize,
}

impl<'de> Deserializer<'de> {
    /// A deserializer over `bytes` with the default [`Limits`].
    pub fn new(bytes: &'de [u8]) -> Self {
        Deserializer {
            r: Reader::new(bytes),
            depth_left: Limits::DEFAULT.max_depth,
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.r.pos
    }

    /// Fails unless every byte has been consumed.
    pub fn end(&self) -> Result<(), DecodeError> {
        self.r.finish()
    }

    fn at(&self, offset: usize, kind: K) -> DecodeError {
        DecodeError::new(offset, kind)
    }

    /// Attaches the current offset to errors raised by visitors (which cannot know it).
    fn locate(&self, mut e: DecodeError) -> DecodeError {
        if matches!(e.kind(), K::Custom(_)) && e.offset() == 0 {
            e.set_offset(self.r.pos);
        }
        e
    }

    fn enter(&mut self, start: usize) -> Result<(), DecodeError> {
        if self.depth_left <= 1 {
            return Err(self.at(start, K::TooDeep));
        }
        self.depth_left -= 1;
        Ok(())
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = DecodeError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let start = self.r.pos;
        if self.r.peek()? >> 5 == 7 {
            let v = self.r.simple()?;
            let out = match v {
                crate::ValueRef::Bool(b) => visitor.visit_bool(b),
                _ => visitor.visit_unit(),
            };
            return out.map_err(|e| self.locate(e));
        }
        let (major, arg) = self.r.head()?;
        let out = match major {
            0 | 1 => {
                if arg > i64::MAX as u64 {
                    return Err(self.at(start, K::IntegerRange));
                }
                let v = if major == 0 {
                    arg as i64
                } else {
                    -1 - arg as i64
                };
                visitor.visit_i64(v)
            }
            2 => {
                let b = self.r.take(arg, start)?;
                visitor.visit_borrowed_bytes(b)
            }
            3 => {
                let s = self.r.text(arg, start)?;
                visitor.visit_borrowed_str(s)
            }
            4 => {
                self.enter(start)?;
                if arg > self.r.remaining() as u64 {
                    return Err(self.at(start, K::TooLong));
                }
                let mut access = Seq {
                    de: &mut *self,
                    left: arg,
                };
                let v = visitor.visit_seq(&mut access);
                let left = access.left;
                let v = v.map_err(|e| self.locate(e))?;
                if left != 0 {
                    return Err(self.at(
                        start,
                        K::Custom("array has more items than expected".into()),
                    ));
                }
                self.depth_left += 1;
                Ok(v)
            }
            5 => {
                self.enter(start)?;
                if arg > (self.r.remaining() / 2) as u64 {
                    return Err(self.at(start, K::TooLong));
                }
                let mut access = MapAccess {
                    de: &mut *self,
                    left: arg,
                    prev: None,
                };
                let v = visitor.visit_map(&mut access);
                let left = access.left;
                let v = v.map_err(|e| self.locate(e))?;
                if left != 0 {
                    return Err(self.at(
                        start,
                        K::Custom("map has more entries than expected".into()),
                    ));
                }
                self.depth_left += 1;
                Ok(v)
            }
            6 => {
                if arg != 42 {
                    return Err(self.at(start, K::Tag(arg)));
                }
                let body = self.r.link_body(start)?;
                visitor.visit_newtype_struct(LinkBytesDe(body))
            }
            _ => Err(self.at(start, K::Reserved)),
        };
        out.map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.r.peek()? == 0xf6 {
            self.r.pos += 1;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if name == LINK_MAGIC {
            let start = self.r.pos;
            let (major, tag) = self.r.head()?;
            if major != 6 || tag != 42 {
                return Err(self.at(start, K::BadLink("expected a CID link (tag 42)".into())));
            }
            let body = self.r.link_body(start)?;
            return visitor
                .visit_borrowed_bytes(body)
                .map_err(|e: DecodeError| DecodeError::new(start, e.kind().clone()));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let start = self.r.pos;
        match self.r.peek()? >> 5 {
            3 => {
                let (_, len) = self.r.head()?;
                let s = self.r.text(len, start)?;
                visitor.visit_enum(s.into_deserializer())
            }
            5 => {
                let (_, len) = self.r.head()?;
                if len != 1 {
                    return Err(self.at(start, K::Custom("an enum map must have one entry".into())));
                }
                self.enter(start)?;
                let v = visitor.visit_enum(Enum { de: &mut *self })?;
                self.depth_left += 1;
                Ok(v)
            }
            _ => Err(self.at(
                start,
                K::Custom("expected an enum (string or one-entry map)".into()),
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: u64,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = DecodeError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.left).ok()
    }
}

struct MapAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    left: u64,
    prev: Option<&'de str>,
}

impl MapAccess<'_, '_> {
    /// The data-model rule `decode_ref` applies too: a `$type` value is a non-empty string.
    fn check_type_value(&self) -> Result<(), DecodeError> {
        if self.prev != Some("$type") {
            return Ok(());
        }
        let b = self.de.r.peek()?;
        if b >> 5 != 3 {
            return Err(self
                .de
                .at(self.de.r.pos, K::DataModel("$type must be a string".into())));
        }
        if b == 0x60 {
            return Err(self
                .de
                .at(self.de.r.pos, K::DataModel("empty $type".into())));
        }
        Ok(())
    }
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = DecodeError;
    fn next_key_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let start = self.de.r.pos;
        if self.de.r.peek()? >> 5 != 3 {
            return Err(self.de.at(start, K::NonStringKey));
        }
        let (_, len) = self.de.r.head()?;
        let key = self.de.r.text(len, start)?;
        if let Some(prev) = self.prev {
            match super::canonical_key_cmp(prev, key) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Err(self.de.at(start, K::DuplicateKey)),
                std::cmp::Ordering::Greater => return Err(self.de.at(start, K::KeyOrder)),
            }
        }
        self.prev = Some(key);
        let de: de::value::BorrowedStrDeserializer<'de, DecodeError> =
            de::value::BorrowedStrDeserializer::new(key);
        seed.deserialize(de).map(Some)
    }
    fn next_value_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        self.check_type_value()?;
        seed.deserialize(&mut *self.de)
    }
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.left).ok()
    }
}

struct Enum<'a, 'de> {
    de: &'a mut Deserializer<'de>,
}

impl<'de> de::EnumAccess<'de> for Enum<'_, 'de> {
    type Error = DecodeError;
    type Variant = Self;
    fn variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self), DecodeError> {
        let start = self.de.r.pos;
        if self.de.r.peek()? >> 5 != 3 {
            return Err(self.de.at(start, K::NonStringKey));
        }
        let (_, len) = self.de.r.head()?;
        let key = self.de.r.text(len, start)?;
        let de: de::value::BorrowedStrDeserializer<'de, DecodeError> =
            de::value::BorrowedStrDeserializer::new(key);
        let v = seed.deserialize(de)?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for Enum<'_, 'de> {
    type Error = DecodeError;
    fn unit_variant(self) -> Result<(), DecodeError> {
        de::Deserialize::deserialize(&mut *self.de)
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(&mut *self.de)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_any(&mut *self.de, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_any(&mut *self.de, v)
    }
}

/// Hands the CID bytes of a tag-42 link to whichever visitor asks.
struct LinkBytesDe<'de>(&'de [u8]);

impl<'de> de::Deserializer<'de> for LinkBytesDe<'de> {
    type Error = DecodeError;
    fn is_human_readable(&self) -> bool {
        false
    }
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_borrowed_bytes(self.0)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cid::{Cid, CidLink};
    use crate::Value;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Rec<'a> {
        #[serde(rename = "$type")]
        kind: &'a str,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reply: Option<CidLink>,
        count: u32,
        tags: Vec<String>,
    }

    #[test]
    fn struct_round_trip_is_canonical() {
        let rec = Rec {
            kind: "app.example.rec",
            text: "hello".into(),
            reply: Some(CidLink(Cid::for_raw(b"x"))),
            count: 7,
            tags: vec!["a".into()],
        };
        let bytes = crate::cbor::to_vec(&rec).expect("encode");
        // The same bytes as going through the data model.
        let value = crate::cbor::decode_value(&bytes).expect("canonical");
        assert_eq!(value.to_dag_cbor(), bytes);
        assert!(matches!(value.get("reply"), Some(Value::Link(_))));
        let back: Rec<'_> = from_slice(&bytes).expect("decode");
        assert_eq!(back, rec);
        let via_value: Value = from_slice(&bytes).expect("value via serde");
        assert_eq!(via_value, value);
    }

    #[test]
    fn serde_path_is_strict_too() {
        // {"b": 1, "a": 2} is out of order.
        let bad = [0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x02];
        assert!(from_slice::<Value>(&bad).is_err());
        assert!(from_slice::<u8>(&[0x18, 0x01]).is_err());
        assert!(from_slice::<Value>(&[0xfb, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
