//! Event-stream frames: a DAG-CBOR header `{op, t}` followed by a DAG-CBOR body, one per
//! WebSocket binary message (<https://atproto.com/specs/event-stream>).

use atdata_core::cbor;
use atdata_core::ValueRef;

/// The sync spec's limits, and what a consumer accepts. Each is configurable; a message over a
/// limit becomes an invalid item (counted), never a silent drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest WebSocket message (5,000,000 bytes).
    pub max_message: usize,
    /// Largest `blocks` CAR slice of a commit or sync event (2,000,000 bytes).
    pub max_blocks: usize,
    /// Largest record block (1,000,000 bytes).
    pub max_record: usize,
    /// Most operations in one commit (200).
    pub max_ops: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 5_000_000,
            max_blocks: 2_000_000,
            max_record: 1_000_000,
            max_ops: 200,
        }
    }
}

/// One frame split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A message (`op = 1`) of type `t` (`"#commit"`, …), body not yet decoded.
    Message {
        /// The message type from the header.
        t: &'a str,
        /// The DAG-CBOR body.
        body: &'a [u8],
    },
    /// An error frame (`op = -1`): the server closes the connection after it.
    Error(StreamError),
}

/// An error frame's body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
pub struct StreamError {
    /// The error name (`FutureCursor`, `ConsumerTooSlow`, `OutdatedCursor`, …).
    pub name: String,
    /// The message, when the server sent one.
    pub message: Option<String>,
}

impl StreamError {
    /// Whether the cursor asked for is ahead of the stream (the server has no such event).
    pub fn is_future_cursor(&self) -> bool {
        self.name == "FutureCursor"
    }

    /// Whether the server refused the request itself (`InvalidRequest`, `AuthRequired`,
    /// `AuthMissing`): asking again the same way cannot succeed.
    pub fn is_request_refused(&self) -> bool {
        matches!(
            self.name.as_str(),
            "InvalidRequest" | "AuthRequired" | "AuthMissing" | "MethodNotImplemented"
        )
    }

    /// Whether the server dropped this consumer for reading too slowly.
    pub fn is_consumer_too_slow(&self) -> bool {
        self.name == "ConsumerTooSlow"
    }
}

/// Why a frame could not be read. These are connection errors: the stream is broken, not one
/// event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The header is not DAG-CBOR, or not a map with an integer `op`.
    #[error("frame header: {0}")]
    Header(String),
    /// An `op` other than 1 (message) or -1 (error).
    #[error("frame header: unknown op {0}")]
    UnknownOp(i64),
    /// A message frame without `t`.
    #[error("frame header: a message without a type")]
    MissingType,
    /// An error frame whose body is not `{error, message?}`.
    #[error("error frame body: {0}")]
    ErrorBody(String),
}

/// Splits a frame into header and body. The body of a message is not decoded here.
///
/// ```
/// use atdata_firehose::frame::{split, Frame};
///
/// // {op: 1, t: "#info"} then {name: "OutdatedCursor"}
/// let mut bytes = atdata_core::cbor::encode_value(&atdata_core::Value::from_json_str(r##"{"op":1,"t":"#info"}"##)?);
/// bytes.extend(atdata_core::cbor::encode_value(&atdata_core::Value::from_json_str(r#"{"name":"OutdatedCursor"}"#)?));
/// match split(&bytes)? {
///     Frame::Message { t, .. } => assert_eq!(t, "#info"),
///     Frame::Error(e) => panic!("{e}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn split(bytes: &[u8]) -> Result<Frame<'_>, FrameError> {
    let (header, used) =
        cbor::decode_ref_prefix(bytes).map_err(|e| FrameError::Header(e.to_string()))?;
    let ValueRef::Map(fields) = &header else {
        return Err(FrameError::Header("not a map".into()));
    };
    let field = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
    let op = match field("op") {
        Some(ValueRef::Integer(op)) => *op,
        _ => return Err(FrameError::Header("no integer op".into())),
    };
    let body = &bytes[used..];
    match op {
        1 => match field("t") {
            Some(ValueRef::String(t)) => Ok(Frame::Message { t, body }),
            _ => Err(FrameError::MissingType),
        },
        -1 => {
            let value = cbor::decode_ref(body).map_err(|e| FrameError::ErrorBody(e.to_string()))?;
            let ValueRef::Map(fields) = &value else {
                return Err(FrameError::ErrorBody("not a map".into()));
            };
            let text = |name: &str| {
                fields.iter().find_map(|(k, v)| match v {
                    ValueRef::String(s) if *k == name => Some(s.to_string()),
                    _ => None,
                })
            };
            let name =
                text("error").ok_or_else(|| FrameError::ErrorBody("no error name".into()))?;
            Ok(Frame::Error(StreamError {
                name,
                message: text("message"),
            }))
        }
        other => Err(FrameError::UnknownOp(other)),
    }
}
