//! What can go wrong with a call, kept apart by who is at fault: the server said no
//! ([`Error::Xrpc`]), the network failed ([`Error::Transport`]), or the data did not fit.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use atdata_core::syntax::SyntaxError;
use atdata_core::xrpc::{BodyError, NoError, XrpcErrorName};

use crate::RateLimit;

/// The `"error"` name of a failed XRPC call: one the method's lexicon declares (`Known`), or
/// any other name the server sent (`Other`, e.g. the generic `InvalidRequest`).
///
/// ```
/// use atdata_client::com::atproto::repo::get_record;
/// use atdata_client::XrpcErrorKind;
///
/// let kind = XrpcErrorKind::<get_record::Error>::from_name("RecordNotFound");
/// assert_eq!(kind, XrpcErrorKind::Known(get_record::Error::RecordNotFound));
/// let other = XrpcErrorKind::<get_record::Error>::from_name("InvalidRequest");
/// assert_eq!(other.name(), "InvalidRequest");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum XrpcErrorKind<E> {
    /// A name the lexicon declares for this method.
    Known(E),
    /// Any other name.
    Other(String),
}

impl<E: XrpcErrorName> XrpcErrorKind<E> {
    /// The declared variant for `name`, or `Other(name)`.
    pub fn from_name(name: &str) -> Self {
        match E::from_name(name) {
            Some(known) => XrpcErrorKind::Known(known),
            None => XrpcErrorKind::Other(name.to_owned()),
        }
    }

    /// The name as the server sent it.
    pub fn name(&self) -> &str {
        match self {
            XrpcErrorKind::Known(known) => known.name(),
            XrpcErrorKind::Other(name) => name,
        }
    }

    /// The declared variant, if it is one.
    pub fn known(&self) -> Option<&E> {
        match self {
            XrpcErrorKind::Known(known) => Some(known),
            XrpcErrorKind::Other(_) => None,
        }
    }
}

impl<E: XrpcErrorName> fmt::Display for XrpcErrorKind<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call failed. `E` is the method's declared error names (the generated `Error` enum of
/// its module); [`Error::erase`] turns any `Error<E>` into the plain [`Error`] when calls of
/// different methods meet in one function.
///
/// Messages name the method and never hold a password or token. The `nsid` fields are a
/// `Cow`: borrowed from the request type's constant for a typed call, owned for one made with
/// [`Client::call_raw`](crate::Client::call_raw), whose method is known only at run time.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use atdata_client::com::atproto::repo::get_record;
/// use atdata_client::{Client, Error, XrpcErrorKind};
///
/// let client = Client::new("http://localhost:2583")?;
/// let uri = "at://did:plc:abc123/app.bsky.feed.post/3kabc";
/// match client.get_record::<atdata_core::Value>(uri).send().await {
///     Ok(record) => println!("{:?}", record.value),
///     Err(Error::Xrpc { error: Some(XrpcErrorKind::Known(get_record::Error::RecordNotFound)), .. }) => {
///         println!("no such record")
///     }
///     Err(e) if e.is_transport() => println!("network trouble: {e}"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E: XrpcErrorName = NoError> {
    /// The server answered with an error status (after any retries).
    #[error("{nsid}: HTTP {status}{}", Detail(error.as_ref(), message.as_deref()))]
    Xrpc {
        /// The method called.
        nsid: Cow<'static, str>,
        /// The HTTP status.
        status: u16,
        /// The `"error"` name from the body, when the body had one.
        error: Option<XrpcErrorKind<E>>,
        /// The `"message"` from the body, when it had one.
        message: Option<String>,
        /// The rate-limit headers of the response (boxed: they are rarely read, and a small
        /// error keeps every `Result` of the client small).
        rate_limit: Option<Box<RateLimit>>,
        /// The `retry-after` the server asked for.
        retry_after: Option<Duration>,
    },
    /// The request did not complete: no connection, a reset, a timeout, a broken body.
    #[error("{nsid}: {source}")]
    Transport {
        /// The method called.
        nsid: Cow<'static, str>,
        /// What the HTTP stack reported.
        #[source]
        source: reqwest::Error,
    },
    /// The response body was larger than the client accepts
    /// ([`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size)).
    #[error("{nsid}: the response body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The method called.
        nsid: Cow<'static, str>,
        /// The limit in bytes.
        limit: u64,
    },
    /// The response body did not fit the method's output type.
    #[error("{nsid}: unexpected response: {source}")]
    Decode {
        /// The method called.
        nsid: Cow<'static, str>,
        /// What did not fit.
        #[source]
        source: BodyError,
    },
    /// A record the server sent (well-formed) does not fit the type it was read as: the
    /// caller's type and the record disagree, the server is not at fault.
    #[error("{uri}: the record does not fit the requested type: {source}")]
    RecordDecode {
        /// The record (boxed: an `AtUri` would double the size of every `Result` here).
        uri: Box<atdata_core::AtUri>,
        /// What did not fit, with its path in the record.
        #[source]
        source: atdata_core::ValueError,
    },
    /// The request body could not be encoded.
    #[error("{nsid}: the request could not be encoded: {source}")]
    Encode {
        /// The method called.
        nsid: Cow<'static, str>,
        /// Why.
        #[source]
        source: BodyError,
    },
    /// A record value is not AT Protocol data (it holds a float, say).
    #[error("the record is not AT Protocol data: {source}")]
    InvalidRecord {
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An argument given as text is not a valid identifier.
    #[error("{what}: {source}")]
    InvalidArgument {
        /// Which argument (`"collection"`, `"rkey"`, …).
        what: &'static str,
        /// Why it did not parse.
        #[source]
        source: SyntaxError,
    },
    /// An AT-URI given for a record names no record (it needs a collection and a key).
    #[error("{uri} does not name a record (at://<repo>/<collection>/<rkey>)")]
    NotARecordUri {
        /// The URI.
        uri: String,
    },
    /// A header value holds characters HTTP does not allow (a proxy service name with a line
    /// break, say). The value is not shown: it may be a token.
    #[error("the {name} header value is not valid in HTTP")]
    InvalidHeader {
        /// The header.
        name: &'static str,
    },
    /// The call needs a session and the client has none.
    #[error("{nsid}: not logged in")]
    NotLoggedIn {
        /// The method called.
        nsid: Cow<'static, str>,
    },
    /// The access token expired and the session could not be refreshed.
    #[error("{nsid}: the session expired and could not be refreshed: {source}")]
    Refresh {
        /// The method that found the token expired.
        nsid: Cow<'static, str>,
        /// Why the refresh failed.
        #[source]
        source: Box<Error>,
    },
    /// The account's PDS could not be found: the handle or DID did not resolve, or its DID
    /// document names no PDS.
    #[cfg(feature = "identity")]
    #[error("finding the PDS of {identifier}: {source}")]
    Identity {
        /// The handle or DID logged in with.
        identifier: String,
        /// Why it could not be resolved.
        #[source]
        source: atdata_identity::Error,
    },
    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Formats the name and message of an XRPC error after the status.
struct Detail<'a, E>(Option<&'a XrpcErrorKind<E>>, Option<&'a str>);

impl<E: XrpcErrorName> fmt::Display for Detail<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(kind) = self.0 {
            write!(f, " {kind}")?;
        }
        if let Some(message) = self.1 {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

impl<E: XrpcErrorName> Error<E> {
    /// The method the failed call was for; `None` for the errors that are not about one call
    /// (an invalid argument or record, a file).
    pub fn nsid(&self) -> Option<&str> {
        match self {
            Error::Xrpc { nsid, .. }
            | Error::Transport { nsid, .. }
            | Error::BodyTooLarge { nsid, .. }
            | Error::Decode { nsid, .. }
            | Error::Encode { nsid, .. }
            | Error::NotLoggedIn { nsid }
            | Error::Refresh { nsid, .. } => Some(nsid),
            Error::InvalidRecord { .. }
            | Error::RecordDecode { .. }
            | Error::InvalidArgument { .. }
            | Error::NotARecordUri { .. }
            | Error::InvalidHeader { .. }
            | Error::Io { .. } => None,
            #[cfg(feature = "identity")]
            Error::Identity { .. } => None,
        }
    }

    /// The HTTP status, for [`Error::Xrpc`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Xrpc { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The XRPC error name, for [`Error::Xrpc`] with one.
    pub fn error_name(&self) -> Option<&str> {
        match self {
            Error::Xrpc {
                error: Some(kind), ..
            } => Some(kind.name()),
            _ => None,
        }
    }

    /// The declared error, for [`Error::Xrpc`] with a name the lexicon declares.
    pub fn known(&self) -> Option<&E> {
        match self {
            Error::Xrpc {
                error: Some(kind), ..
            } => kind.known(),
            _ => None,
        }
    }

    /// The rate-limit headers of the failed response.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match self {
            Error::Xrpc { rate_limit, .. } => rate_limit.as_deref(),
            _ => None,
        }
    }

    /// Whether the network failed (as opposed to the server answering with an error).
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport { .. })
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_timeout())
    }

    /// The same error without the method's declared names: each becomes
    /// [`XrpcErrorKind::Other`] with its name.
    pub fn erase(self) -> Error {
        self.map_kind(|kind| XrpcErrorKind::Other(kind.name().to_owned()))
    }

    fn map_kind<F: XrpcErrorName>(
        self,
        f: impl FnOnce(XrpcErrorKind<E>) -> XrpcErrorKind<F>,
    ) -> Error<F> {
        match self {
            Error::Xrpc {
                nsid,
                status,
                error,
                message,
                rate_limit,
                retry_after,
            } => Error::Xrpc {
                nsid,
                status,
                error: error.map(f),
                message,
                rate_limit,
                retry_after,
            },
            Error::Transport { nsid, source } => Error::Transport { nsid, source },
            Error::BodyTooLarge { nsid, limit } => Error::BodyTooLarge { nsid, limit },
            Error::Decode { nsid, source } => Error::Decode { nsid, source },
            Error::Encode { nsid, source } => Error::Encode { nsid, source },
            Error::InvalidRecord { source } => Error::InvalidRecord { source },
            Error::RecordDecode { uri, source } => Error::RecordDecode { uri, source },
            Error::InvalidArgument { what, source } => Error::InvalidArgument { what, source },
            Error::NotARecordUri { uri } => Error::NotARecordUri { uri },
            Error::InvalidHeader { name } => Error::InvalidHeader { name },
            Error::NotLoggedIn { nsid } => Error::NotLoggedIn { nsid },
            Error::Refresh { nsid, source } => Error::Refresh { nsid, source },
            #[cfg(feature = "identity")]
            Error::Identity { identifier, source } => Error::Identity { identifier, source },
            Error::Io { path, source } => Error::Io { path, source },
        }
    }
}

impl Error {
    /// Gives names the method declares their `E` variant.
    pub(crate) fn typed<E: XrpcErrorName>(self) -> Error<E> {
        self.map_kind(|kind| match kind {
            XrpcErrorKind::Known(never) => match never {},
            XrpcErrorKind::Other(name) => XrpcErrorKind::from_name(&name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::com::atproto::repo::put_record;

    fn xrpc(error: Option<&str>, message: Option<&str>) -> Error {
        Error::Xrpc {
            nsid: "com.atproto.repo.putRecord".into(),
            status: 400,
            error: error.map(|n| XrpcErrorKind::Other(n.to_owned())),
            message: message.map(str::to_owned),
            rate_limit: None,
            retry_after: None,
        }
    }

    #[test]
    fn display_names_method_status_error_and_message() {
        assert_eq!(
            xrpc(Some("InvalidSwap"), Some("Record was at bafy…")).to_string(),
            "com.atproto.repo.putRecord: HTTP 400 InvalidSwap: Record was at bafy…"
        );
        assert_eq!(
            xrpc(None, None).to_string(),
            "com.atproto.repo.putRecord: HTTP 400"
        );
    }

    #[test]
    fn typed_then_erased() {
        let typed: Error<put_record::Error> = xrpc(Some("InvalidSwap"), None).typed();
        assert_eq!(typed.known(), Some(&put_record::Error::InvalidSwap));
        let other: Error<put_record::Error> = xrpc(Some("InvalidRequest"), None).typed();
        assert_eq!(other.known(), None);
        assert_eq!(other.error_name(), Some("InvalidRequest"));
        let erased = typed.erase();
        assert_eq!(erased.error_name(), Some("InvalidSwap"));
        assert_eq!(erased.status(), Some(400));
        assert_eq!(erased.nsid(), Some("com.atproto.repo.putRecord"));
    }
}
