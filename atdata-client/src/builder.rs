//! Every knob of a [`Client`], set once when it is made.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Listener;
use crate::{CallOptions, Client, RetryPolicy, Session, SessionChange, SessionError};

/// The service a client talks to when none is named: Bluesky's entryway, which logs any
/// Bluesky-hosted account in and points the client at the account's own PDS.
pub const DEFAULT_SERVICE: &str = "https://bsky.social";

/// The `user-agent` sent unless another is set.
const DEFAULT_USER_AGENT: &str = concat!("atdata-client/", env!("CARGO_PKG_VERSION"));

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The service URL is not an absolute `http`/`https` URL without query or fragment.
    #[error("service URL {url:?}: {reason}")]
    InvalidServiceUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The user agent is not a valid header value (it holds a control character, say).
    #[error("the user agent is not a valid header value")]
    InvalidUserAgent,
    /// The HTTP stack could not be set up.
    #[error("HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The blocking client's runtime could not be started.
    #[error("starting the blocking client's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The session string could not be read.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// The default deadline of one call attempt (see [`ClientBuilder::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a [`Client`]: service URL, timeouts, user agent, body limits, retries, default call
/// options, a session to resume and a callback for session changes.
///
/// ```
/// use atdata_client::{Client, RetryPolicy};
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .service("http://localhost:2583")
///     .timeout(Duration::from_secs(20))
///     .user_agent("my-app/1.0")
///     .max_response_size(8 << 20)
///     .retry(RetryPolicy::default().max_retries(5))
///     .validate(Some(false))
///     .on_session_change(|change, session| {
///         if let Some(session) = session {
///             // Persist `session.export()` somewhere private.
///             let _ = (change, session.export());
///         }
///     })
///     .build()?;
/// assert_eq!(client.service(), "http://localhost:2583");
/// # Ok::<(), atdata_client::BuildError>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    service: String,
    service_set: bool,
    #[cfg(feature = "identity")]
    resolver: Option<atdata_identity::Resolver>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    user_agent: String,
    max_response_size: u64,
    max_download_size: u64,
    retry: RetryPolicy,
    defaults: CallOptions,
    validate: Option<bool>,
    session: Option<Session>,
    listener: Option<Listener>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            service: DEFAULT_SERVICE.to_owned(),
            service_set: false,
            #[cfg(feature = "identity")]
            resolver: None,
            http: None,
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(30)),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_response_size: 64 << 20,
            max_download_size: 16 << 30,
            retry: RetryPolicy::default(),
            defaults: CallOptions::default(),
            validate: None,
            session: None,
            listener: None,
        }
    }
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("service", &self.service)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("max_response_size", &self.max_response_size)
            .field("retry", &self.retry)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with the defaults: [`DEFAULT_SERVICE`], a [`DEFAULT_TIMEOUT`] (30 s) deadline
    /// per call attempt, a 10 s connect and 30 s read timeout, 64 MiB response bodies,
    /// [`RetryPolicy::default`].
    pub fn new() -> Self {
        ClientBuilder::default()
    }

    /// The service to call (a PDS, or an entryway such as `https://bsky.social`). After login
    /// calls go to the PDS that the account's DID document names.
    pub fn service(mut self, url: impl Into<String>) -> Self {
        self.service = url.into();
        self.service_set = true;
        self
    }

    /// The longest a call's attempt may take, from connecting to the last byte of the body
    /// (default [`DEFAULT_TIMEOUT`], 30 s): a server that trickles a byte at a time cannot hold
    /// a call forever, as it could under the read timeout alone. `None` turns it off.
    /// Downloads streamed to a file and uploads streamed from one have no default deadline
    /// (they may be large); they are bounded by the read timeout, the size limits and a
    /// [`CallOptions::timeout`] given for the call.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// The longest connecting may take (default 10 s). Ignored with [`ClientBuilder::http_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest the server may go silent while sending (default 30 s; `None` for no limit).
    /// Ignored with [`ClientBuilder::http_client`].
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The `user-agent` header (default `atdata-client/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// A `reqwest::Client` of your own (proxies, certificates, connection pool). The timeouts
    /// set on it apply; [`ClientBuilder::timeout`] and the user agent are still set per request.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The largest response body read into memory, in bytes (default 64 MiB). A larger one
    /// fails the call with [`Error::BodyTooLarge`](crate::Error::BodyTooLarge).
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// The largest body written to a file by the `*_to_file` downloads (default 16 GiB).
    pub fn max_download_size(mut self, bytes: u64) -> Self {
        self.max_download_size = bytes;
        self
    }

    /// How failed calls are retried (default [`RetryPolicy::default`]: queries only).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Options sent with every call unless the call sets its own.
    pub fn call_options(mut self, options: CallOptions) -> Self {
        self.defaults = options;
        self
    }

    /// The `validate` flag of record writes: `Some(false)` skips lexicon validation (needed for
    /// collections the PDS has no lexicon for), `Some(true)` requires it, `None` (the default)
    /// lets the server validate the lexicons it knows.
    pub fn validate(mut self, validate: Option<bool>) -> Self {
        self.validate = validate;
        self
    }

    /// Starts logged in with `session`.
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Calls `callback` on every session change: login, refresh, resume, logout or expiry
    /// (`None` then). Use it to store [`Session::export`]. It runs on the task that made the
    /// change, so keep it short and do not call the client's session methods from it.
    pub fn on_session_change(
        mut self,
        callback: impl Fn(SessionChange, Option<&Session>) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Arc::new(callback));
        self
    }

    /// The identity resolver [`Client::login`] uses to find an account's PDS when no service
    /// was set (default: [`atdata_identity::Resolver::new`], built on first use: plc.directory,
    /// the system's DNS, the SSRF guard on).
    #[cfg(feature = "identity")]
    pub fn resolver(mut self, resolver: atdata_identity::Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let service = check_service_url(&self.service)?;
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut builder = reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    // XRPC never redirects; a redirect could carry the bearer token to another host.
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(read) = self.read_timeout {
                    builder = builder.read_timeout(read);
                }
                builder.build().map_err(BuildError::Http)?
            }
        };
        let user_agent = reqwest::header::HeaderValue::from_str(&self.user_agent)
            .map_err(|_| BuildError::InvalidUserAgent)?;
        Ok(Client::from_parts(crate::client::Config {
            http,
            service,
            resolve_pds: !self.service_set,
            #[cfg(feature = "identity")]
            resolver: self.resolver,
            timeout: self.timeout,
            user_agent,
            max_response_size: self.max_response_size,
            max_download_size: self.max_download_size,
            retry: self.retry,
            defaults: self.defaults,
            validate: self.validate,
            session: self.session,
            listener: self.listener,
        }))
    }
}

/// Checks a service URL and returns it without a trailing slash.
fn check_service_url(url: &str) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidServiceUrl {
        url: redact_userinfo(url),
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("there is no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("a service URL has no query or fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("credentials do not belong in the URL"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// `url` with any `user:password@` replaced by `***@`, so that errors never repeat a password.
fn redact_userinfo(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn service_urls() {
        assert_eq!(
            check_service_url("https://bsky.social/").unwrap(),
            "https://bsky.social"
        );
        assert_eq!(
            check_service_url("http://localhost:2583").unwrap(),
            "http://localhost:2583"
        );
        for bad in [
            "bsky.social",
            "ftp://x.example",
            "https://x.example/?a=1",
            "https://u:p@x.example",
        ] {
            assert!(check_service_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_never_repeat_a_password_in_the_url() {
        let err = check_service_url("https://alice:hunter2@x.example/").unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("https://***@x.example/"), "{text}");
        let err = check_service_url("ftp://bob:hunter2@x.example").unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"));
    }
}
