//! The XRPC request seam: what a generated method type tells an HTTP client.
//!
//! Generated code (from `atdata-codegen`) implements [`XrpcRequest`] for every query and
//! procedure, and [`XrpcSubscription`] for every subscription, so that the typed API needs no
//! HTTP stack: `atdata-client` holds one generic `send` that works for all of them, and anyone
//! can bring their own transport.
//!
//! ```
//! use atdata_core::xrpc::{Body, BodyError, NoError, QueryParams, XrpcMethod, XrpcRequest};
//!
//! /// A hand-written request for `com.example.ping` (generated code looks much like this).
//! struct Ping { echo: String }
//!
//! impl XrpcRequest for Ping {
//!     const NSID: &'static str = "com.example.ping";
//!     const METHOD: XrpcMethod = XrpcMethod::Query;
//!     type Output = serde_json::Value;
//!     type Error = NoError;
//!
//!     fn write_params(&self, params: &mut QueryParams) {
//!         params.push("echo", &self.echo);
//!     }
//!     fn encode_input(&self) -> Result<Option<Body>, BodyError> {
//!         Ok(None)
//!     }
//!     fn decode_output(body: Body) -> Result<Self::Output, BodyError> {
//!         body.json()
//!     }
//! }
//!
//! let mut params = QueryParams::new();
//! Ping { echo: "hi there".into() }.write_params(&mut params);
//! assert_eq!(params.to_query_string(), "echo=hi%20there");
//! ```

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Whether a method is read with GET (query) or called with POST (procedure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XrpcMethod {
    /// HTTP GET; parameters only.
    Query,
    /// HTTP POST; parameters and an optional body.
    Procedure,
}

/// The MIME type of JSON bodies.
pub const JSON: &str = "application/json";

/// A request or response body: its MIME type and bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Body {
    /// The `Content-Type`.
    pub encoding: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Bodies can be large (CAR files, blobs): show the size, not the bytes.
        f.debug_struct("Body")
            .field("encoding", &self.encoding)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Body {
    /// A body of `encoding` holding `bytes`.
    pub fn new(encoding: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Body {
            encoding: encoding.into(),
            bytes: bytes.into(),
        }
    }

    /// A JSON body holding `value`.
    pub fn from_json<T: Serialize + ?Sized>(value: &T) -> Result<Self, BodyError> {
        Ok(Body::new(
            JSON,
            serde_json::to_vec(value).map_err(BodyError::Json)?,
        ))
    }

    /// Reads a JSON body as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, BodyError> {
        serde_json::from_slice(&self.bytes).map_err(BodyError::Json)
    }
}

/// A body that could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// JSON that does not fit the type, or a value that cannot become JSON.
    #[error("JSON body: {0}")]
    Json(#[source] serde_json::Error),
    /// A CBOR message that does not fit the type.
    #[error("CBOR body: {0}")]
    Cbor(#[source] crate::cbor::DecodeError),
    /// A body of the wrong MIME type.
    #[error("expected a body of type {expected}, got {got:?}")]
    Encoding {
        /// What the method declares.
        expected: &'static str,
        /// What arrived.
        got: String,
    },
}

/// Binary bodies (CAR files, blobs, video): the bytes as they are, with their MIME type.
///
/// Used as [`XrpcRequest::Output`] for methods whose output is not JSON, and held by request
/// types whose input is not JSON (`com.atproto.repo.uploadBlob`, `importRepo`, …).
pub type Binary = Body;

/// The named errors a method declares (`"error": "RecordNotFound"`, …).
///
/// Generated code implements this for an enum per method; names not in the lexicon stay
/// strings in the client's error type.
pub trait XrpcErrorName: Sized + fmt::Debug + Send + Sync + 'static {
    /// The variant for a declared error name, or `None`.
    fn from_name(name: &str) -> Option<Self>;
    /// The error name as the lexicon writes it.
    fn name(&self) -> &'static str;
}

/// For methods that declare no errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoError {}

impl XrpcErrorName for NoError {
    fn from_name(_: &str) -> Option<Self> {
        None
    }
    fn name(&self) -> &'static str {
        match *self {}
    }
}

/// One XRPC query or procedure: its NSID, method, parameters, body and result types.
///
/// A client sends it as `GET|POST /xrpc/{NSID}?{params}` with the body of
/// [`encode_input`](XrpcRequest::encode_input), and reads a 200 response with
/// [`decode_output`](XrpcRequest::decode_output). See the [module docs](self) for an example.
pub trait XrpcRequest {
    /// The method's NSID.
    const NSID: &'static str;
    /// GET or POST.
    const METHOD: XrpcMethod;
    /// What a successful call returns (`()` when the method has no output).
    type Output;
    /// The method's declared error names.
    type Error: XrpcErrorName;

    /// Appends the query-string parameters.
    fn write_params(&self, params: &mut QueryParams);

    /// The request body, if the method takes one.
    fn encode_input(&self) -> Result<Option<Body>, BodyError>;

    /// Reads a successful response's body.
    fn decode_output(body: Body) -> Result<Self::Output, BodyError>;
}

/// One XRPC subscription (an event stream): its NSID, parameters and message type.
pub trait XrpcSubscription {
    /// The method's NSID.
    const NSID: &'static str;
    /// The union of message types.
    type Message;
    /// The stream's declared error names.
    type Error: XrpcErrorName;

    /// Appends the query-string parameters.
    fn write_params(&self, params: &mut QueryParams);

    /// Decodes one message from its frame header's `t` (`"#commit"`, …) and its DAG-CBOR
    /// payload. Unknown `t` values give the union's unknown arm, not an error.
    fn decode_message(t: &str, payload: &[u8]) -> Result<Self::Message, BodyError>;
}

/// Query-string parameters, in order; arrays repeat their name (`?uris=a&uris=b`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(&'static str, String)>,
}

impl QueryParams {
    /// No parameters.
    pub fn new() -> Self {
        QueryParams::default()
    }

    /// Appends `name` with `value` (nothing for `None`, one pair per element for a `Vec`).
    pub fn push<V: ParamValue + ?Sized>(&mut self, name: &'static str, value: &V) {
        value.write(name, self);
    }

    /// Appends one pair.
    pub fn push_str(&mut self, name: &'static str, value: impl Into<String>) {
        self.pairs.push((name, value.into()));
    }

    /// The pairs, in order.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `a=1&b=x%20y`, percent-encoded (RFC 3986 unreserved characters stay as they are).
    pub fn to_query_string(&self) -> String {
        query_string(
            self.pairs
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        )
    }
}

/// The query string of `pairs` as [`QueryParams::to_query_string`] writes it, for names known
/// only at run time (which `QueryParams`, holding the names of generated request types, does
/// not take).
///
/// ```
/// use atdata_core::xrpc::query_string;
/// assert_eq!(query_string([("uris", "a b"), ("uris", "c/d")]), "uris=a%20b&uris=c%2Fd");
/// assert_eq!(query_string([]), "");
/// ```
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(name, &mut out);
        out.push('=');
        percent_encode(value, &mut out);
    }
    out
}

fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// A value that can be a query parameter: booleans, integers, strings, identifiers, and
/// `Option`s and `Vec`s of those.
pub trait ParamValue {
    /// Appends this value under `name`.
    fn write(&self, name: &'static str, params: &mut QueryParams);
}

macro_rules! display_param {
    ($($ty:ty),* $(,)?) => {$(
        impl ParamValue for $ty {
            fn write(&self, name: &'static str, params: &mut QueryParams) {
                params.push_str(name, self.to_string());
            }
        }
    )*};
}

display_param!(
    bool,
    i64,
    u64,
    i32,
    u32,
    usize,
    str,
    String,
    crate::AtIdentifier,
    crate::AtUri,
    crate::Cid,
    crate::Datetime,
    crate::Did,
    crate::Handle,
    crate::Language,
    crate::Nsid,
    crate::RecordKey,
    crate::Tid,
    crate::Uri,
);

impl<T: ParamValue> ParamValue for Option<T> {
    fn write(&self, name: &'static str, params: &mut QueryParams) {
        if let Some(value) = self {
            value.write(name, params);
        }
    }
}

impl<T: ParamValue> ParamValue for [T] {
    fn write(&self, name: &'static str, params: &mut QueryParams) {
        for value in self {
            value.write(name, params);
        }
    }
}

impl<T: ParamValue> ParamValue for Vec<T> {
    fn write(&self, name: &'static str, params: &mut QueryParams) {
        self.as_slice().write(name, params);
    }
}

impl<T: ParamValue + ?Sized> ParamValue for &T {
    fn write(&self, name: &'static str, params: &mut QueryParams) {
        (**self).write(name, params);
    }
}
