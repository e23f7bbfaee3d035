//! One HTTP exchange: the request goes out, the response comes back with its body read up to
//! a limit, and a non-2xx status becomes [`Error::Xrpc`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use atdata_core::xrpc::XrpcMethod;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use tokio::io::AsyncWriteExt as _;

use crate::retry::parse_retry_after;
use crate::{CallOptions, Error, RateLimit, XrpcErrorKind};

/// A request body: bytes in memory (cheap to send again on a retry), or a file streamed from
/// disk and reopened for each attempt.
///
/// No `Debug`, here or on [`Received`]: a login body holds a password, a session response the
/// tokens, and a derived `Debug` would print them.
#[derive(Clone)]
pub(crate) enum Payload {
    Bytes {
        encoding: String,
        bytes: bytes::Bytes,
    },
    File {
        encoding: String,
        path: PathBuf,
    },
}

/// Where a successful response's body goes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sink<'a> {
    Memory,
    File(&'a Path),
}

/// A successful response.
pub(crate) struct Received {
    /// The HTTP status (2xx).
    pub(crate) status: u16,
    /// The `content-type` without parameters.
    pub(crate) encoding: String,
    pub(crate) body: ReceivedBody,
}

pub(crate) enum ReceivedBody {
    Bytes(Vec<u8>),
    /// Bytes written to the sink's file.
    File(u64),
}

impl Received {
    /// The body as an XRPC body (empty for a file download).
    pub(crate) fn into_body(self) -> atdata_core::xrpc::Body {
        let bytes = match self.body {
            ReceivedBody::Bytes(bytes) => bytes,
            ReceivedBody::File(_) => Vec::new(),
        };
        atdata_core::xrpc::Body::new(self.encoding, bytes)
    }
}

/// Everything one attempt needs.
pub(crate) struct Attempt<'a> {
    pub(crate) nsid: &'a Cow<'static, str>,
    pub(crate) method: XrpcMethod,
    pub(crate) url: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) payload: Option<&'a Payload>,
    pub(crate) options: &'a CallOptions,
    pub(crate) sink: Sink<'a>,
}

impl Attempt<'_> {
    /// The error for a failed exchange. Cloning the NSID costs nothing for a request type's
    /// constant (borrowed), which is why attempts hold the `Cow` itself.
    fn transport(&self, source: reqwest::Error) -> Error {
        Error::Transport {
            nsid: self.nsid.clone(),
            source,
        }
    }

    /// The error for a body past `limit` bytes.
    fn too_large(&self, limit: u64) -> Error {
        Error::BodyTooLarge {
            nsid: self.nsid.clone(),
            limit,
        }
    }
}

/// The limits and fixed headers of the client.
pub(crate) struct Limits<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) user_agent: &'a HeaderValue,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_response_size: u64,
    pub(crate) max_download_size: u64,
}

/// What came back, with the rate-limit headers whatever the outcome.
pub(crate) struct Outcome {
    pub(crate) result: Result<Received, Error>,
    pub(crate) rate_limit: Option<RateLimit>,
}

/// Sends one attempt and reads its response.
pub(crate) async fn exchange(limits: &Limits<'_>, attempt: &Attempt<'_>) -> Outcome {
    let request = match build_request(limits, attempt).await {
        Ok(request) => request,
        Err(e) => {
            return Outcome {
                result: Err(e),
                rate_limit: None,
            }
        }
    };
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            return Outcome {
                result: Err(attempt.transport(e)),
                rate_limit: None,
            }
        }
    };
    let status = response.status().as_u16();
    let rate_limit = RateLimit::from_headers(response.headers());
    let encoding = content_type(response.headers());
    let result = if response.status().is_success() {
        match attempt.sink {
            Sink::Memory => read_body(response, limits.max_response_size, attempt)
                .await
                .map(ReceivedBody::Bytes),
            Sink::File(path) => write_body(response, limits.max_download_size, attempt, path)
                .await
                .map(ReceivedBody::File),
        }
        .map(|body| Received {
            status,
            encoding,
            body,
        })
    } else {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // An error body is small; one that is not is not worth reading.
        let body = read_body(response, limits.max_response_size.min(1 << 20), attempt)
            .await
            .unwrap_or_default();
        let (error, message) = error_body(&body);
        Err(Error::Xrpc {
            nsid: attempt.nsid.clone(),
            status,
            error: error.map(XrpcErrorKind::Other),
            message,
            rate_limit: rate_limit.clone().map(Box::new),
            retry_after,
        })
    };
    Outcome { result, rate_limit }
}

async fn build_request(
    limits: &Limits<'_>,
    attempt: &Attempt<'_>,
) -> Result<reqwest::RequestBuilder, Error> {
    let method = match attempt.method {
        XrpcMethod::Query => reqwest::Method::GET,
        XrpcMethod::Procedure => reqwest::Method::POST,
    };
    let mut headers = HeaderMap::new();
    headers.insert(reqwest::header::USER_AGENT, limits.user_agent.clone());
    if let Some(token) = attempt.token {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Error::InvalidHeader {
                name: "authorization",
            }
        })?;
        // Keeps the token out of any logging of headers further down the stack.
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    if let Some(proxy) = &attempt.options.proxy {
        let value = HeaderValue::from_str(proxy).map_err(|_| Error::InvalidHeader {
            name: "atproto-proxy",
        })?;
        headers.insert("atproto-proxy", value);
    }
    if let Some(labelers) = attempt.options.labelers_header() {
        let value = HeaderValue::from_str(&labelers).map_err(|_| Error::InvalidHeader {
            name: "atproto-accept-labelers",
        })?;
        headers.insert("atproto-accept-labelers", value);
    }
    for (name, value) in &attempt.options.headers {
        headers.append(name.clone(), value.clone());
    }
    let mut request = limits.http.request(method, attempt.url);
    // Streams to or from a file may be large: the client-wide deadline is for ordinary calls.
    // The read timeout and size limits still bound them, and a per-call timeout applies.
    let streaming = matches!(attempt.sink, Sink::File(_))
        || matches!(attempt.payload, Some(Payload::File { .. }));
    let default = if streaming { None } else { limits.timeout };
    if let Some(timeout) = attempt.options.timeout.or(default) {
        request = request.timeout(timeout);
    }
    match attempt.payload {
        None => {}
        Some(Payload::Bytes { encoding, bytes }) => {
            headers.insert(CONTENT_TYPE, encoding_header(encoding)?);
            request = request.body(bytes.clone());
        }
        Some(Payload::File { encoding, path }) => {
            let io = |source| Error::Io {
                path: path.clone(),
                source,
            };
            let file = tokio::fs::File::open(path).await.map_err(io)?;
            let len = file.metadata().await.map_err(io)?.len();
            headers.insert(CONTENT_TYPE, encoding_header(encoding)?);
            // With the length known the body is sent as is, not chunked, and the server can
            // refuse an over-large upload before reading it.
            headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            request = request.body(reqwest::Body::from(file));
        }
    }
    Ok(request.headers(headers))
}

fn encoding_header(encoding: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(encoding).map_err(|_| Error::InvalidHeader {
        name: "content-type",
    })
}

/// The MIME type of a response, without parameters (`application/json; charset=utf-8` →
/// `application/json`).
fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Reads a body into memory, failing as soon as it passes `limit` bytes.
async fn read_body(
    mut response: reqwest::Response,
    limit: u64,
    attempt: &Attempt<'_>,
) -> Result<Vec<u8>, Error> {
    let too_large = || attempt.too_large(limit);
    let declared = response.content_length();
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    // Trust a declared length for the first allocation only up to a bound, so a lying header
    // cannot make the client reserve the whole limit up front.
    let capacity = declared.unwrap_or(0).min(limit).min(1 << 20);
    let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| attempt.transport(source))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Streams a body into a file, failing (and removing the file) past `limit` bytes.
async fn write_body(
    response: reqwest::Response,
    limit: u64,
    attempt: &Attempt<'_>,
    path: &Path,
) -> Result<u64, Error> {
    let result = write_body_inner(response, limit, attempt, path).await;
    if result.is_err() {
        // A partial download is worse than none: the caller would read a truncated file. Only
        // a regular file is removed: a device or FIFO given as the path (`/dev/full`) is not
        // ours to delete.
        let regular = tokio::fs::symlink_metadata(path)
            .await
            .is_ok_and(|m| m.file_type().is_file());
        if regular {
            let _ = tokio::fs::remove_file(path).await;
        }
    }
    result
}

async fn write_body_inner(
    mut response: reqwest::Response,
    limit: u64,
    attempt: &Attempt<'_>,
    path: &Path,
) -> Result<u64, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(attempt.too_large(limit));
    }
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut written: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| attempt.transport(source))?
    {
        written += chunk.len() as u64;
        if written > limit {
            return Err(attempt.too_large(limit));
        }
        file.write_all(&chunk).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(written)
}

/// The `error` and `message` of an XRPC error body; `None`s when the body is not one (an HTML
/// page from a proxy in front of the server, say).
fn error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => (parsed.error, parsed.message),
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_body(br#"{"error":"RecordNotFound","message":"Could not locate record"}"#),
            (
                Some("RecordNotFound".into()),
                Some("Could not locate record".into())
            )
        );
        assert_eq!(error_body(b"<html>502 Bad Gateway</html>"), (None, None));
        assert_eq!(
            error_body(br#"{"message":"only a message"}"#),
            (None, Some("only a message".into()))
        );
    }

    #[test]
    fn content_types_lose_parameters() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert_eq!(content_type(&headers), "application/json");
        assert_eq!(content_type(&HeaderMap::new()), "");
    }
}
