//! A serde `Serializer` that writes canonical DAG-CBOR, so any `Serialize` type (your own record
//! structs included) encodes exactly as the reference implementations do.

use serde::ser::{self, Serialize};

use super::encode::{write_bytes, write_head, write_i64, write_link, write_str};
use super::error::{EncodeError, EncodeErrorKind};
use crate::cid::LINK_MAGIC;

/// Encodes any serializable value as canonical DAG-CBOR.
///
/// Struct fields and map entries are written in DAG-CBOR key order whatever order the type
/// declares them in. Whatever this returns, the strict decoder accepts: floats, non-string map
/// keys, integers beyond the signed 64-bit range, a `$type` that is not a non-empty string, a
/// `blob` without `ref` / `mimeType` / `size`, and nesting deeper than the decoder's limit are
/// errors.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(128);
    value.serialize(&mut Serializer::new(&mut out))?;
    Ok(out)
}

/// The DAG-CBOR serializer; see [`to_vec`].
pub struct Serializer<'w> {
    out: &'w mut Vec<u8>,
    depth_left: usize,
}

impl<'w> Serializer<'w> {
    /// A serializer appending to `out`.
    pub fn new(out: &'w mut Vec<u8>) -> Self {
        Serializer {
            out,
            depth_left: super::Limits::DEFAULT.max_depth,
        }
    }

    fn enter(&mut self) -> Result<(), EncodeError> {
        if self.depth_left <= 1 {
            return Err(EncodeError::new(
                EncodeErrorKind::TooDeep,
                "nesting deeper than the decoder accepts (128 levels)",
            ));
        }
        self.depth_left -= 1;
        Ok(())
    }
}

/// The encoded form of the text key `$type`, and of the text `blob`.
const TYPE_KEY: &[u8] = b"\x65$type";
const BLOB_TEXT: &[u8] = b"\x64blob";

fn integer_range_error() -> EncodeError {
    EncodeError::new(EncodeErrorKind::IntegerRange, "integer out of i64 range")
}

fn float_error() -> EncodeError {
    EncodeError::new(
        EncodeErrorKind::Float,
        "floats are not allowed in the AT Protocol data model",
    )
}

impl<'a, 'w> ser::Serializer for &'a mut Serializer<'w> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = SeqSer<'a, 'w>;
    type SerializeTuple = SeqSer<'a, 'w>;
    type SerializeTupleStruct = SeqSer<'a, 'w>;
    type SerializeTupleVariant = SeqSer<'a, 'w>;
    type SerializeMap = MapSer<'a, 'w>;
    type SerializeStruct = MapSer<'a, 'w>;
    type SerializeStructVariant = MapSer<'a, 'w>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out.push(if v { 0xf5 } else { 0xf4 });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        write_i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        let v = i64::try_from(v).map_err(|_| integer_range_error())?;
        self.serialize_i64(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        let v = i64::try_from(v).map_err(|_| integer_range_error())?;
        self.serialize_i64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        let v = i64::try_from(v).map_err(|_| integer_range_error())?;
        self.serialize_i64(v)
    }
    fn serialize_f32(self, _v: f32) -> Result<(), EncodeError> {
        Err(float_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), EncodeError> {
        Err(float_error())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        write_bytes(self.out, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.push(0xf6);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.out.push(0xf6);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        if name == LINK_MAGIC {
            return value.serialize(LinkCapture { out: self.out });
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        write_head(self.out, 5, 1);
        write_str(self.out, variant);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'a, 'w>, EncodeError> {
        SeqSer::begin(self, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'a, 'w>, EncodeError> {
        SeqSer::begin(self, Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSer<'a, 'w>, EncodeError> {
        SeqSer::begin(self, Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer<'a, 'w>, EncodeError> {
        write_head(self.out, 5, 1);
        write_str(self.out, variant);
        SeqSer::begin(self, Some(len))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSer<'a, 'w>, EncodeError> {
        MapSer::begin(self)
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<MapSer<'a, 'w>, EncodeError> {
        MapSer::begin(self)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapSer<'a, 'w>, EncodeError> {
        write_head(self.out, 5, 1);
        write_str(self.out, variant);
        MapSer::begin(self)
    }
}

/// Arrays: the head goes first when the length is known, otherwise it is inserted at the end.
pub struct SeqSer<'a, 'w> {
    ser: &'a mut Serializer<'w>,
    start: usize,
    declared: Option<usize>,
    count: usize,
}

impl<'a, 'w> SeqSer<'a, 'w> {
    fn begin(ser: &'a mut Serializer<'w>, len: Option<usize>) -> Result<Self, EncodeError> {
        ser.enter()?;
        if let Some(n) = len {
            write_head(ser.out, 4, n as u64);
        }
        let start = ser.out.len();
        Ok(SeqSer {
            ser,
            start,
            declared: len,
            count: 0,
        })
    }
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.count += 1;
        value.serialize(&mut *self.ser)
    }
    fn finish(self) -> Result<(), EncodeError> {
        self.ser.depth_left += 1;
        match self.declared {
            Some(n) if n == self.count => Ok(()),
            Some(n) => Err(EncodeError::new(
                EncodeErrorKind::Protocol,
                format!("sequence declared {n} items but produced {}", self.count),
            )),
            None => {
                let mut head = Vec::with_capacity(9);
                write_head(&mut head, 4, self.count as u64);
                self.ser.out.splice(self.start..self.start, head);
                Ok(())
            }
        }
    }
}

impl ser::SerializeSeq for SeqSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
impl ser::SerializeTuple for SeqSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
impl ser::SerializeTupleStruct for SeqSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
impl ser::SerializeTupleVariant for SeqSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

/// The text of an encoded text string (a key this serializer wrote, so well-formed).
fn encoded_text(encoded: &[u8]) -> &str {
    let head = match encoded.first().map(|b| b & 0x1f) {
        Some(0..=23) => 1,
        Some(24) => 2,
        Some(25) => 3,
        Some(26) => 5,
        _ => 9,
    };
    encoded
        .get(head..)
        .and_then(|t| std::str::from_utf8(t).ok())
        .unwrap_or("")
}

/// Maps and structs: entries are written as they come, then put in canonical order (a no-op
/// when they already are) and prefixed with the head once the count is known.
pub struct MapSer<'a, 'w> {
    ser: &'a mut Serializer<'w>,
    start: usize,
    /// (key start, key end, value end) offsets into the output, for each entry.
    entries: Vec<(usize, usize, usize)>,
    pending_key: Option<(usize, usize)>,
}

impl<'a, 'w> MapSer<'a, 'w> {
    fn begin(ser: &'a mut Serializer<'w>) -> Result<Self, EncodeError> {
        ser.enter()?;
        let start = ser.out.len();
        Ok(MapSer {
            ser,
            start,
            entries: Vec::new(),
            pending_key: None,
        })
    }

    /// The data-model rules for `$type` and blobs, checked on the encoded entries.
    fn check_data_model(&self) -> Result<(), EncodeError> {
        let out = &*self.ser.out;
        let value_of = |key: &[u8]| {
            self.entries
                .iter()
                .find(|(ks, ke, _)| &out[*ks..*ke] == key)
                .map(|(_, ke, ve)| &out[*ke..*ve])
        };
        let Some(t) = value_of(TYPE_KEY) else {
            return Ok(());
        };
        match t.first() {
            Some(0x60) => {
                return Err(EncodeError::new(
                    EncodeErrorKind::InvalidType,
                    "$type must not be empty",
                ))
            }
            Some(b) if b >> 5 == 3 => {}
            _ => {
                return Err(EncodeError::new(
                    EncodeErrorKind::InvalidType,
                    "$type must be a string",
                ))
            }
        }
        if t == BLOB_TEXT {
            let is_link = |v: Option<&[u8]>| v.is_some_and(|v| v.starts_with(&[0xd8, 42]));
            let is_text = |v: Option<&[u8]>| v.is_some_and(|v| v[0] >> 5 == 3);
            let is_uint = |v: Option<&[u8]>| v.is_some_and(|v| v[0] >> 5 == 0);
            if !is_link(value_of(b"\x63ref"))
                || !is_text(value_of(b"\x68mimeType"))
                || !is_uint(value_of(b"\x64size"))
            {
                return Err(EncodeError::new(
                    EncodeErrorKind::InvalidBlob,
                    "a blob needs a \"ref\" link, a \"mimeType\" string and a non-negative \"size\"",
                ));
            }
            let keys = self
                .entries
                .iter()
                .map(|(ks, ke, _)| encoded_text(&out[*ks..*ke]));
            if let Some(key) = crate::blob::unexpected_blob_key(keys) {
                return Err(EncodeError::new(
                    EncodeErrorKind::InvalidBlob,
                    crate::blob::unexpected_blob_key_message(key),
                ));
            }
        }
        Ok(())
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        let key_start = self.ser.out.len();
        key.serialize(KeySer { out: self.ser.out })?;
        self.pending_key = Some((key_start, self.ser.out.len()));
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let (ks, ke) = self.pending_key.take().ok_or_else(|| {
            EncodeError::new(EncodeErrorKind::Protocol, "map value without a key")
        })?;
        value.serialize(&mut *self.ser)?;
        self.entries.push((ks, ke, self.ser.out.len()));
        Ok(())
    }

    fn finish(self) -> Result<(), EncodeError> {
        self.ser.depth_left += 1;
        self.check_data_model()?;
        let out = &mut *self.ser.out;
        let mut entries = self.entries;
        // Encoded text keys compare in DAG-CBOR order by (encoded length, bytes): the head grows
        // with the string length and is identical for equal lengths.
        let cmp = |a: &(usize, usize, usize), b: &(usize, usize, usize)| {
            let ka = &out[a.0..a.1];
            let kb = &out[b.0..b.1];
            ka.len().cmp(&kb.len()).then_with(|| ka.cmp(kb))
        };
        let mut sorted = true;
        for w in entries.windows(2) {
            match cmp(&w[0], &w[1]) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    return Err(EncodeError::new(
                        EncodeErrorKind::DuplicateKey,
                        "duplicate map key",
                    ));
                }
                std::cmp::Ordering::Greater => sorted = false,
            }
        }
        let mut head = Vec::with_capacity(9);
        write_head(&mut head, 5, entries.len() as u64);
        if sorted {
            out.splice(self.start..self.start, head);
            return Ok(());
        }
        entries.sort_by(cmp);
        if entries.windows(2).any(|w| cmp(&w[0], &w[1]).is_eq()) {
            return Err(EncodeError::new(
                EncodeErrorKind::DuplicateKey,
                "duplicate map key",
            ));
        }
        let region = out[self.start..].to_vec();
        out.truncate(self.start);
        out.extend_from_slice(&head);
        for (ks, _, ve) in entries {
            out.extend_from_slice(&region[ks - self.start..ve - self.start]);
        }
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.value(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
impl ser::SerializeStruct for MapSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.key(key)?;
        self.value(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}
impl ser::SerializeStructVariant for MapSer<'_, '_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.key(key)?;
        self.value(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        self.finish()
    }
}

/// Generates the methods of a serializer that accepts only a few kinds of value.
/// The serializer methods that refuse their input with `$why` (an expression of the
/// serializer's error type): shared by the DAG-CBOR key and link serializers and the `Value`
/// serializer's keys.
macro_rules! reject {
    ($why:expr; $($name:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err($why)
        }
    )*};
}

macro_rules! reject_compound {
    ($why:expr) => {
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Self::Error> {
            Err($why)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, Self::Error> {
            Err($why)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
            Err($why)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
            Err($why)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Self::Error> {
            Err($why)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Self::Error> {
            Err($why)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
            Err($why)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, Self::Error> {
            Err($why)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Self::Error> {
            Err($why)
        }
    };
}

pub(crate) use {reject, reject_compound};

/// Map keys: text only.
struct KeySer<'o> {
    out: &'o mut Vec<u8>,
}

fn key_error() -> EncodeError {
    EncodeError::new(EncodeErrorKind::NonStringKey, "map keys must be strings")
}

impl ser::Serializer for KeySer<'_> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = ser::Impossible<(), EncodeError>;
    type SerializeTuple = ser::Impossible<(), EncodeError>;
    type SerializeTupleStruct = ser::Impossible<(), EncodeError>;
    type SerializeTupleVariant = ser::Impossible<(), EncodeError>;
    type SerializeMap = ser::Impossible<(), EncodeError>;
    type SerializeStruct = ser::Impossible<(), EncodeError>;
    type SerializeStructVariant = ser::Impossible<(), EncodeError>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    reject!(key_error(); serialize_bool(bool), serialize_i8(i8), serialize_i16(i16),
        serialize_i32(i32), serialize_i64(i64), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_f32(f32), serialize_f64(f64),
        serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str));
    reject_compound!(key_error());
}

/// The inside of a link newtype: exactly one byte string, the binary CID.
struct LinkCapture<'o> {
    out: &'o mut Vec<u8>,
}

fn link_error() -> EncodeError {
    EncodeError::new(
        EncodeErrorKind::InvalidLink,
        "a CID link must serialize as bytes",
    )
}

impl ser::Serializer for LinkCapture<'_> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = ser::Impossible<(), EncodeError>;
    type SerializeTuple = ser::Impossible<(), EncodeError>;
    type SerializeTupleStruct = ser::Impossible<(), EncodeError>;
    type SerializeTupleVariant = ser::Impossible<(), EncodeError>;
    type SerializeMap = ser::Impossible<(), EncodeError>;
    type SerializeStruct = ser::Impossible<(), EncodeError>;
    type SerializeStructVariant = ser::Impossible<(), EncodeError>;

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        write_link(self.out, v);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), EncodeError> {
        Err(link_error())
    }
    reject!(link_error(); serialize_bool(bool), serialize_i8(i8), serialize_i16(i16),
        serialize_i32(i32), serialize_i64(i64), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_f32(f32), serialize_f64(f64),
        serialize_char(char), serialize_str(&str), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str));
    reject_compound!(link_error());
}
