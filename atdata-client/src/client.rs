//! The async [`Client`]: one generic [`send`](Client::send) for every XRPC method, with
//! retries, rate-limit tracking and automatic session refresh underneath.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use atdata_core::xrpc::{Body, QueryParams, XrpcMethod, XrpcRequest};
use reqwest::header::HeaderValue;

use crate::auth::{Listener, SessionSlot};
use crate::retry::status_is_transient;
use crate::transport::{self, Attempt, Limits, Payload, Received, Sink};
use crate::{BuildError, CallOptions, ClientBuilder, Error, RateLimit, RetryPolicy, Session};

/// An AT Protocol client: sends any XRPC request type, logs in and keeps the session fresh,
/// and reads and writes records and blobs.
///
/// Cloning is cheap and clones share the connection pool and the session, so hand clones to
/// tasks instead of wrapping the client in an `Arc`.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use atdata_client::com::atproto::server::DescribeServer;
/// use atdata_client::Client;
///
/// let client = Client::new("http://localhost:2583")?;
/// let server = client.send(&DescribeServer::new()).await?;
/// println!("handles end in {:?}", server.available_user_domains);
///
/// client.login("alice.test", "app-password").await?;
/// let record = serde_json::json!({"$type": "app.bsky.feed.like", "createdAt": "2024-01-01T00:00:00.000Z",
///     "subject": {"uri": "at://did:plc:x/app.bsky.feed.post/3k", "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}});
/// let created = client.create_record("app.bsky.feed.like", &record).await?;
/// println!("{}", created.uri);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// The namespaced methods (`client.com.atproto.repo…`), reached through `Deref`. Apart
    /// from `inner` because each namespace holds a strong handle to `inner`: inside it they
    /// would make a reference cycle.
    services: Arc<Services>,
}

/// The namespaced methods of the enabled namespaces.
type Services = crate::services::Services;

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("service", &self.inner.service)
            .field("account", &self.me())
            .finish_non_exhaustive()
    }
}

/// What the builder hands over.
pub(crate) struct Config {
    pub(crate) http: reqwest::Client,
    pub(crate) service: String,
    #[cfg_attr(not(feature = "identity"), allow(dead_code))]
    pub(crate) resolve_pds: bool,
    #[cfg(feature = "identity")]
    pub(crate) resolver: Option<atdata_identity::Resolver>,
    pub(crate) timeout: Option<std::time::Duration>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) max_response_size: u64,
    pub(crate) max_download_size: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) defaults: CallOptions,
    pub(crate) validate: Option<bool>,
    pub(crate) session: Option<Session>,
    pub(crate) listener: Option<Listener>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    pub(crate) service: String,
    /// Whether login finds the account's PDS through its DID document (no service was set).
    #[cfg(feature = "identity")]
    pub(crate) resolve_pds: bool,
    /// The identity resolver for that; the default one is built on first use.
    #[cfg(feature = "identity")]
    pub(crate) resolver: Mutex<Option<atdata_identity::Resolver>>,
    timeout: Option<std::time::Duration>,
    user_agent: HeaderValue,
    max_response_size: u64,
    max_download_size: u64,
    retry: RetryPolicy,
    defaults: CallOptions,
    validate: Option<bool>,
    pub(crate) session: SessionSlot,
    last_rate_limit: Mutex<Option<RateLimit>>,
}

/// What the generated namespaced methods send through: a strong, cheap handle on the client's
/// shared state (as atrium's namespaces hold theirs). The state never refers back to the
/// namespaces, so there is no cycle, and a namespace cloned out of a client keeps working after
/// the client is dropped.
#[derive(Clone)]
pub(crate) struct Handle(Arc<Inner>);

impl Handle {
    /// Sends `request` through the client state this handle shares.
    pub(crate) async fn send<R: XrpcRequest>(
        &self,
        request: &R,
    ) -> Result<R::Output, Error<R::Error>> {
        send_via(&self.0, request, &CallOptions::default()).await
    }
}

/// Encodes `request`, performs it on `inner` and decodes the answer: [`Client::send_with`]
/// and the namespaced methods both end here.
async fn send_via<R: XrpcRequest>(
    inner: &Inner,
    request: &R,
    options: &CallOptions,
) -> Result<R::Output, Error<R::Error>> {
    let call = Call::for_request(request).map_err(Error::typed)?;
    let received = inner.perform(&call, options).await.map_err(Error::typed)?;
    Client::decode(R::NSID, received, R::decode_output).map_err(Error::typed)
}

/// The namespaced form of every query and procedure, as in the Python SDK:
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use atdata_client::com::atproto::repo::DescribeRepo;
/// let client = atdata_client::Client::new("http://localhost:2583")?;
/// let repo = client
///     .com
///     .atproto
///     .repo
///     .describe_repo(&DescribeRepo::new("alice.test".parse::<atdata_core::AtIdentifier>()?))
///     .await?;
/// println!("{:?}", repo.collections);
/// # Ok(()) }
/// ```
impl std::ops::Deref for Client {
    type Target = Services;

    fn deref(&self) -> &Self::Target {
        &self.services
    }
}

/// Which credentials a call carries, and so where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The access token when logged in; sent to the session's PDS.
    Session,
    /// The refresh token (`refreshSession`, `deleteSession`); sent to the session's PDS.
    Refresh,
    /// Nothing; sent to the configured service (login, account creation, and calls made
    /// with [`CallOptions::anonymous`]).
    Anonymous,
}

impl Auth {
    /// Which credentials `nsid` takes. Lexicons do not say, so the client has to know the
    /// exceptions: two session methods take the refresh token, not the access token, and the
    /// two that start a session take none (the PDS refuses `createAccount` with an access
    /// token, and both belong at the service, not the PDS of whoever is logged in now).
    pub(crate) fn for_nsid(nsid: &str) -> Auth {
        match nsid {
            "com.atproto.server.refreshSession" | "com.atproto.server.deleteSession" => {
                Auth::Refresh
            }
            "com.atproto.server.createSession" | "com.atproto.server.createAccount" => {
                Auth::Anonymous
            }
            _ => Auth::Session,
        }
    }
}

/// One call, ready to send any number of times.
pub(crate) struct Call<'a> {
    /// Borrowed for a request type's constant, owned for a [`Client::call_raw`].
    pub(crate) nsid: Cow<'static, str>,
    pub(crate) method: XrpcMethod,
    pub(crate) query: String,
    pub(crate) payload: Option<Payload>,
    pub(crate) auth: Auth,
    pub(crate) sink: Sink<'a>,
}

impl<'a> Call<'a> {
    /// The call for a request type: its parameters and encoded input.
    pub(crate) fn for_request<R: XrpcRequest>(request: &R) -> Result<Call<'a>, Error> {
        let input = request.encode_input().map_err(|source| Error::Encode {
            nsid: R::NSID.into(),
            source,
        })?;
        let mut params = QueryParams::new();
        request.write_params(&mut params);
        Ok(Call {
            nsid: Cow::Borrowed(R::NSID),
            method: R::METHOD,
            query: params.to_query_string(),
            payload: input.map(|body| Payload::Bytes {
                encoding: body.encoding,
                bytes: body.bytes.into(),
            }),
            auth: Auth::for_nsid(R::NSID),
            sink: Sink::Memory,
        })
    }
}

impl Client {
    /// A client for `service` with every other setting at its default; see
    /// [`Client::builder`] for the rest. Fails only for a URL that is not `http(s)://host…`.
    ///
    /// ```
    /// let client = atdata_client::Client::new("https://bsky.social")?;
    /// assert!(client.me().is_none());
    /// # Ok::<(), atdata_client::BuildError>(())
    /// ```
    pub fn new(service: impl Into<String>) -> Result<Client, BuildError> {
        ClientBuilder::new().service(service).build()
    }

    /// A builder for every setting (service, timeouts, user agent, body limits, retries,
    /// defaults for calls, session callback).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client for `service` logged in with a session string from
    /// [`Client::export_session`]. Calls go to the session's PDS when it names one.
    ///
    /// ```
    /// use atdata_client::{Client, Session};
    /// let exported = Session::new("did:plc:abc123".parse()?, "alice.test".parse()?,
    ///     "access".into(), "refresh".into()).export();
    /// let client = Client::from_session("http://localhost:2583", &exported)?;
    /// assert_eq!(client.me().map(|me| me.handle.to_string()).as_deref(), Some("alice.test"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_session(service: impl Into<String>, exported: &str) -> Result<Client, BuildError> {
        let session = Session::import(exported)?;
        ClientBuilder::new()
            .service(service)
            .session(session)
            .build()
    }

    pub(crate) fn from_parts(config: Config) -> Client {
        let inner = Arc::new(Inner {
            http: config.http,
            service: config.service,
            #[cfg(feature = "identity")]
            resolve_pds: config.resolve_pds,
            #[cfg(feature = "identity")]
            resolver: Mutex::new(config.resolver),
            timeout: config.timeout,
            user_agent: config.user_agent,
            max_response_size: config.max_response_size,
            max_download_size: config.max_download_size,
            retry: config.retry,
            defaults: config.defaults,
            validate: config.validate,
            session: SessionSlot::new(config.session, config.listener),
            last_rate_limit: Mutex::new(None),
        });
        let services = Arc::new(Services::new(&Handle(inner.clone())));
        Client { inner, services }
    }

    /// The service the client was made for.
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// Where calls go now: the session's PDS when logged in and known, else the service.
    pub fn endpoint(&self) -> String {
        self.inner
            .session
            .snapshot()
            .session
            .and_then(|s| s.pds.clone())
            .unwrap_or_else(|| self.inner.service.clone())
    }

    /// The `validate` setting record writes use (see [`ClientBuilder::validate`]).
    pub fn validate(&self) -> Option<bool> {
        self.inner.validate
    }

    /// The rate-limit headers of the last response, when it had them.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.inner
            .last_rate_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends any XRPC request: a query as `GET /xrpc/<nsid>?<params>`, a procedure as
    /// `POST /xrpc/<nsid>` with its input. Logged in, the access token goes along and an
    /// expired one is refreshed (once, however many calls find it expired) and the call
    /// repeated. Queries that fail with 429 or 5xx are retried per the [`RetryPolicy`].
    ///
    /// For the session itself use [`login`](Client::login),
    /// [`refresh_session`](Client::refresh_session) and [`logout`](Client::logout): they keep
    /// the client's session in step, which sending `createSession` or `refreshSession` here
    /// would not (the server rotates the refresh token the client holds).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use atdata_client::com::atproto::repo::DescribeRepo;
    /// let client = atdata_client::Client::new("http://localhost:2583")?;
    /// let repo = client.send(&DescribeRepo::new("did:plc:abc123".parse::<atdata_core::AtIdentifier>()?)).await?;
    /// println!("{} has {:?}", repo.handle, repo.collections);
    /// # Ok(()) }
    /// ```
    pub async fn send<R: XrpcRequest>(&self, request: &R) -> Result<R::Output, Error<R::Error>> {
        self.send_with(request, &CallOptions::default()).await
    }

    /// [`send`](Client::send) with per-call options: service proxy, labelers, extra headers,
    /// retry policy, timeout.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use atdata_client::app::bsky::actor::GetProfile;
    /// use atdata_client::CallOptions;
    /// let client = atdata_client::Client::new("https://bsky.social")?;
    /// client.login("alice.bsky.social", "app-password").await?;
    /// let options = CallOptions::new().proxy("did:web:api.bsky.app#bsky_appview");
    /// let profile = client
    ///     .send_with(&GetProfile::new("bsky.app".parse::<atdata_core::AtIdentifier>()?), &options)
    ///     .await?;
    /// println!("{:?}", profile.display_name);
    /// # Ok(()) }
    /// ```
    pub async fn send_with<R: XrpcRequest>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Output, Error<R::Error>> {
        send_via(&self.inner, request, options).await
    }

    /// Sends `call` with the session's credentials, refreshing once if the token expired.
    pub(crate) async fn perform(
        &self,
        call: &Call<'_>,
        options: &CallOptions,
    ) -> Result<Received, Error> {
        self.inner.perform(call, options).await
    }

    /// Decodes a received body with `decode`, naming `nsid` on failure.
    pub(crate) fn decode<T>(
        nsid: &'static str,
        received: Received,
        decode: impl FnOnce(Body) -> Result<T, atdata_core::xrpc::BodyError>,
    ) -> Result<T, Error> {
        decode(received.into_body()).map_err(|source| Error::Decode {
            nsid: nsid.into(),
            source,
        })
    }
}

impl Inner {
    /// Sends `call` with the session's credentials, refreshing once if the token expired.
    pub(crate) async fn perform(
        &self,
        call: &Call<'_>,
        options: &CallOptions,
    ) -> Result<Received, Error> {
        // From the call's own options, not the defaults: an anonymous default would make
        // logging in moot.
        let auth = if options.anonymous {
            Auth::Anonymous
        } else {
            call.auth
        };
        // Session management (login, refresh, logout) is the PDS's own business: a default
        // service proxy or labeler list must not follow it there.
        let options = match call.auth {
            Auth::Session => options.over(&self.defaults),
            Auth::Anonymous | Auth::Refresh => options.clone(),
        };
        let mut refreshed = false;
        loop {
            let snapshot = self.session.snapshot();
            if auth == Auth::Session
                && !refreshed
                && snapshot
                    .refresh_due
                    .is_some_and(|due| Instant::now() >= due)
            {
                // The access token is about to expire: refresh first rather than spend a round
                // trip on ExpiredToken. Concurrent callers share the one refresh.
                tracing::debug!(nsid = %call.nsid, "access token about to expire; refreshing first");
                match self
                    .refresh_after(snapshot.generation, call.nsid.clone())
                    .await
                {
                    Ok(()) => {
                        refreshed = true;
                        continue;
                    }
                    // A refused refresh token ended the session: nothing left to call with.
                    Err(e) if self.session.snapshot().session.is_none() => return Err(e),
                    // The server could not be reached, say; the token may still be good.
                    Err(e) => {
                        tracing::debug!(nsid = %call.nsid, error = %e, "early refresh failed; using the current token");
                    }
                }
            }
            let session = snapshot.session.as_deref();
            let (base, token) = match auth {
                Auth::Anonymous => (
                    options.base.as_deref().unwrap_or(self.service.as_str()),
                    None,
                ),
                Auth::Session => (
                    session
                        .and_then(|s| s.pds.as_deref())
                        .unwrap_or(&self.service),
                    session.map(Session::access_jwt),
                ),
                Auth::Refresh => {
                    let session = session.ok_or_else(|| Error::NotLoggedIn {
                        nsid: call.nsid.clone(),
                    })?;
                    (
                        session.pds.as_deref().unwrap_or(&self.service),
                        Some(session.refresh_jwt()),
                    )
                }
            };
            let result = self.attempts(call, &options, base, token).await;
            match result {
                Err(e) if !refreshed && auth == Auth::Session && token.is_some() => {
                    if !needs_refresh(&e) {
                        return Err(e);
                    }
                    tracing::debug!(nsid = &*call.nsid, "access token expired; refreshing");
                    self.refresh_after(snapshot.generation, call.nsid.clone())
                        .await?;
                    refreshed = true;
                }
                other => return other,
            }
        }
    }

    /// Sends `call` to `base`, retrying transient failures as the policy allows.
    pub(crate) async fn attempts(
        &self,
        call: &Call<'_>,
        options: &CallOptions,
        base: &str,
        token: Option<&str>,
    ) -> Result<Received, Error> {
        let policy = options.retry.as_ref().unwrap_or(&self.retry);
        let may_retry = call.method == XrpcMethod::Query || policy.retries_procedures();
        let url = if call.query.is_empty() {
            format!("{base}/xrpc/{}", call.nsid)
        } else {
            format!("{base}/xrpc/{}?{}", call.nsid, call.query)
        };
        let limits = Limits {
            http: &self.http,
            user_agent: &self.user_agent,
            timeout: self.timeout,
            max_response_size: self.max_response_size,
            max_download_size: self.max_download_size,
        };
        let attempt = Attempt {
            nsid: &call.nsid,
            method: call.method,
            url: &url,
            token,
            payload: call.payload.as_ref(),
            options,
            sink: call.sink,
        };
        let mut retry = 0;
        loop {
            let started = Instant::now();
            let outcome = transport::exchange(&limits, &attempt).await;
            *self
                .last_rate_limit
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = outcome.rate_limit.clone();
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let server_wait = match &outcome.result {
                Ok(_) => {
                    tracing::debug!(nsid = &*call.nsid, elapsed_ms, "xrpc call succeeded");
                    return outcome.result;
                }
                Err(Error::Xrpc {
                    status,
                    retry_after,
                    rate_limit,
                    ..
                }) if status_is_transient(*status) => {
                    tracing::debug!(nsid = &*call.nsid, status, elapsed_ms, "xrpc call failed");
                    retry_after.or_else(|| {
                        // A 429 with the window used up: the reset is when it can succeed.
                        rate_limit
                            .as_deref()
                            .filter(|r| *status == 429 && r.is_exhausted())
                            .and_then(RateLimit::reset_in)
                    })
                }
                Err(Error::Transport { source, .. }) => {
                    tracing::debug!(nsid = &*call.nsid, error = %source, elapsed_ms, "xrpc transport failure");
                    None
                }
                Err(_) => return outcome.result,
            };
            let delay = if may_retry {
                policy.delay(retry, server_wait)
            } else {
                None
            };
            let Some(delay) = delay else {
                return outcome.result;
            };
            retry += 1;
            tracing::info!(
                nsid = &*call.nsid,
                retry,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying xrpc call"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

/// Whether a failure means the access token needs refreshing: `ExpiredToken` (400 from the
/// reference PDS), or a 401 that is about the token rather than its absence.
fn needs_refresh(error: &Error) -> bool {
    match error {
        Error::Xrpc { status, error, .. } => {
            let name = error.as_ref().map(|kind| kind.name());
            name == Some("ExpiredToken")
                || (*status == 401 && matches!(name, None | Some("InvalidToken")))
        }
        _ => false,
    }
}
