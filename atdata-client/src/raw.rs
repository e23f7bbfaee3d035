//! Calls by an NSID known only at run time: [`Client::call_raw`] and its answer,
//! [`RawResponse`]. For a method with no request type — a lexicon this crate was not generated
//! from, or a tool that takes the method from its user.

use std::borrow::Cow;

use atdata_core::xrpc::{query_string, Body, BodyError, XrpcMethod};
use atdata_core::Nsid;
use serde::de::DeserializeOwned;

use crate::client::{Auth, Call};
use crate::transport::{Payload, Sink};
use crate::{CallOptions, Client, Error, IntoIdentifier};

/// The successful (2xx) answer to [`Client::call_raw`]: the status, the content type and the
/// body as it came. Its `Debug` shows the body's size, not its bytes (a session method's
/// answer holds tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    status: u16,
    body: Body,
}

impl RawResponse {
    /// The HTTP status (200 from every method the reference PDS has).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The MIME type, lower case and without parameters (`application/json`, not
    /// `application/json; charset=utf-8`); `None` when the server sent none.
    pub fn content_type(&self) -> Option<&str> {
        Some(self.body.encoding.as_str()).filter(|t| !t.is_empty())
    }

    /// The body's bytes (empty for a method with no output).
    pub fn bytes(&self) -> &[u8] {
        &self.body.bytes
    }

    /// The body read as JSON into `T` (a `serde_json::Value`, or a type of your own).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, BodyError> {
        self.body.json()
    }

    /// The body, with its content type as the encoding (empty when the server sent none).
    pub fn into_body(self) -> Body {
        self.body
    }
}

impl Client {
    /// Calls any XRPC method by its NSID: a query as `GET /xrpc/<nsid>?<params>`, a procedure
    /// as `POST /xrpc/<nsid>` with `input`. `params` are sent in order; repeat a name for an
    /// array. For methods that have a request type, [`send_with`](Client::send_with) is the
    /// typed way to the same place.
    ///
    /// Everything else is as for `send_with`: logged in, the access token goes along to the
    /// session's PDS and an expired one is refreshed once; queries that fail with 429 or 5xx
    /// are retried per the [`RetryPolicy`](crate::RetryPolicy), procedures only when it says
    /// so; the body is read up to
    /// [`max_response_size`](crate::ClientBuilder::max_response_size); the rate-limit headers
    /// land in [`last_rate_limit`](Client::last_rate_limit). A non-2xx answer is
    /// [`Error::Xrpc`], its error name as [`XrpcErrorKind::Other`](crate::XrpcErrorKind::Other).
    ///
    /// Credentials follow the method: `createSession` and `createAccount` go without any to
    /// the configured service, `refreshSession` and `deleteSession` with the refresh token
    /// (prefer [`login`](Client::login), [`refresh_session`](Client::refresh_session) and
    /// [`logout`](Client::logout) for those: they keep the client's session in step), and
    /// [`CallOptions::anonymous`] sends any call without credentials.
    ///
    /// A query takes no input: passing one fails with [`Error::Encode`] before anything is
    /// sent, as does an NSID given as text that does not parse ([`Error::InvalidArgument`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use atdata_client::{CallOptions, Client};
    /// use atdata_core::xrpc::{Body, XrpcMethod};
    ///
    /// let client = Client::new("http://localhost:2583")?;
    /// let options = CallOptions::new();
    /// let repo = client
    ///     .call_raw("com.atproto.repo.describeRepo", XrpcMethod::Query, &[("repo", "alice.test")], None, &options)
    ///     .await?;
    /// let repo: serde_json::Value = repo.json()?;
    /// println!("{}", repo["did"]);
    ///
    /// client.login("alice.test", "app-password").await?;
    /// let input = Body::from_json(&serde_json::json!({
    ///     "repo": "alice.test", "collection": "com.example.note", "validate": false,
    ///     "record": {"$type": "com.example.note", "text": "hi"},
    /// }))?;
    /// let created = client
    ///     .call_raw("com.atproto.repo.createRecord", XrpcMethod::Procedure, &[], Some(input), &options)
    ///     .await?;
    /// assert_eq!(created.content_type(), Some("application/json"));
    /// # Ok(()) }
    /// ```
    pub async fn call_raw(
        &self,
        nsid: impl IntoIdentifier<Nsid>,
        method: XrpcMethod,
        params: &[(&str, &str)],
        input: Option<Body>,
        options: &CallOptions,
    ) -> Result<RawResponse, Error> {
        let nsid = nsid
            .into_identifier()
            .map_err(|source| Error::InvalidArgument {
                what: "nsid",
                source,
            })?;
        let nsid = Cow::Owned(nsid.as_str().to_owned());
        if let (XrpcMethod::Query, Some(body)) = (method, &input) {
            return Err(Error::Encode {
                nsid,
                source: BodyError::Encoding {
                    expected: "none (a query takes no input)",
                    got: body.encoding.clone(),
                },
            });
        }
        let call = Call {
            auth: Auth::for_nsid(&nsid),
            nsid,
            method,
            query: query_string(params.iter().copied()),
            payload: input.map(|body| Payload::Bytes {
                encoding: body.encoding,
                bytes: body.bytes.into(),
            }),
            sink: Sink::Memory,
        };
        let received = self.perform(&call, options).await?;
        Ok(RawResponse {
            status: received.status,
            body: received.into_body(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_is_none_when_the_server_sent_none() {
        let response = RawResponse {
            status: 200,
            body: Body::new("", Vec::new()),
        };
        assert_eq!(response.content_type(), None);
        let json = RawResponse {
            status: 200,
            body: Body::new("application/json", br#"{"a":1}"#.to_vec()),
        };
        assert_eq!(json.content_type(), Some("application/json"));
        let value: serde_json::Value = json.json().expect("json");
        assert_eq!(value["a"], 1);
        assert!(!format!("{json:?}").contains("\"a\""), "{json:?}");
    }
}
