//! Errors from DAG-CBOR decoding and encoding.

use std::borrow::Cow;
use std::fmt;

/// What was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended in the middle of an item.
    UnexpectedEnd,
    /// Bytes remain after the top-level item.
    TrailingBytes,
    /// An integer or length was not in its shortest form.
    NotShortest,
    /// Indefinite-length strings, arrays or maps.
    IndefiniteLength,
    /// Reserved additional-information values 28–30.
    Reserved,
    /// A float: the atproto data model has none.
    Float,
    /// A simple value other than false, true or null (including `undefined`).
    SimpleValue(u8),
    /// A tag other than 42.
    Tag(u64),
    /// A tag-42 link that is not a byte string with the 0x00 prefix and a valid CID.
    BadLink(String),
    /// A map key that is not a text string.
    NonStringKey,
    /// Map keys out of canonical order.
    KeyOrder,
    /// The same key twice in a map.
    DuplicateKey,
    /// A text string that is not UTF-8.
    InvalidUtf8,
    /// An integer outside the signed 64-bit range.
    IntegerRange,
    /// Nesting deeper than the limit.
    TooDeep,
    /// A declared length larger than the remaining input or the limit.
    TooLong,
    /// The data-model rules for `$type` or blobs were broken.
    DataModel(String),
    /// A block whose codec is neither `dag-cbor` nor `raw` (from [`crate::car::Block::decode`]).
    UnsupportedCodec(u64),
    /// A serde type did not accept the data (only from [`crate::cbor::from_slice`]).
    Custom(String),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("unexpected end of input"),
            Self::TrailingBytes => f.write_str("trailing bytes after the value"),
            Self::NotShortest => f.write_str("integer or length not in shortest form"),
            Self::IndefiniteLength => f.write_str("indefinite-length items are not allowed"),
            Self::Reserved => f.write_str("reserved additional information value"),
            Self::Float => f.write_str("floats are not allowed in the AT Protocol data model"),
            Self::SimpleValue(v) => write!(f, "simple value {v} is not allowed"),
            Self::Tag(t) => write!(f, "tag {t} is not allowed (only 42, CID links)"),
            Self::BadLink(why) => write!(f, "bad CID link: {why}"),
            Self::NonStringKey => f.write_str("map keys must be text strings"),
            Self::KeyOrder => f.write_str("map keys are not in canonical order"),
            Self::DuplicateKey => f.write_str("duplicate map key"),
            Self::InvalidUtf8 => f.write_str("text string is not valid UTF-8"),
            Self::IntegerRange => f.write_str("integer outside the signed 64-bit range"),
            Self::TooDeep => f.write_str("nesting is too deep"),
            Self::TooLong => f.write_str("declared length exceeds the input"),
            Self::DataModel(why) => write!(f, "data model: {why}"),
            Self::UnsupportedCodec(c) => {
                write!(
                    f,
                    "codec 0x{c:x} is not part of the data model (dag-cbor or raw)"
                )
            }
            Self::Custom(msg) => f.write_str(msg),
        }
    }
}

/// A DAG-CBOR decoding error and the byte offset where it was found.
///
/// Boxed so that `Result<ValueRef, DecodeError>` stays as small as the value itself: the
/// decoder's hot path moves these results around constantly and errors are rare.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DAG-CBOR at byte {}: {}", .0.0, .0.1)]
pub struct DecodeError(Box<(usize, DecodeErrorKind)>);

impl DecodeError {
    #[cold]
    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError(Box::new((offset, kind)))
    }

    /// Byte offset into the input where the problem was found.
    pub fn offset(&self) -> usize {
        self.0 .0
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.0 .1
    }

    pub(crate) fn set_offset(&mut self, offset: usize) {
        self.0 .0 = offset;
    }
}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError::new(0, DecodeErrorKind::Custom(msg.to_string()))
    }
}

/// Why a value cannot be encoded: what [`EncodeError::kind`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// A float: the atproto data model has none.
    Float,
    /// An integer outside the signed 64-bit range.
    IntegerRange,
    /// A map key that is not a string.
    NonStringKey,
    /// The same key twice in a map.
    DuplicateKey,
    /// Nesting deeper than the decoders accept.
    TooDeep,
    /// A `$type` that is empty or not a string.
    InvalidType,
    /// A map whose `$type` is `blob` but that is not a well-formed blob.
    InvalidBlob,
    /// A CID link that does not serialize as the bytes of a CID.
    InvalidLink,
    /// A `Serialize` implementation broke serde's protocol: a sequence with another number of
    /// items than it declared, or a map value without a key.
    Protocol,
    /// A `Serialize` implementation refused the value (`serde::ser::Error::custom`).
    Custom,
}

/// A value that cannot be encoded as atproto DAG-CBOR: its [`kind`](EncodeError::kind), to
/// act on, and a message saying exactly what was wrong, to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode as DAG-CBOR: {}", .0.message)]
// Boxed so that the serializer's many `Result<(), EncodeError>` stay one word wide.
pub struct EncodeError(Box<EncodeErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct EncodeErrorInner {
    kind: EncodeErrorKind,
    message: Cow<'static, str>,
}

impl EncodeError {
    pub(crate) fn new(kind: EncodeErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        EncodeError(Box::new(EncodeErrorInner {
            kind,
            message: message.into(),
        }))
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> EncodeErrorKind {
        self.0.kind
    }

    /// What was wrong, without the "cannot encode as DAG-CBOR" prefix of `Display`.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl serde::ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EncodeError::new(EncodeErrorKind::Custom, msg.to_string())
    }
}
