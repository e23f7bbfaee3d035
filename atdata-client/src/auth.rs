//! Logging in and staying logged in: `createSession`, `createAccount`, the single-flight
//! refresh, logout, and export/resume of sessions.

use std::borrow::Cow;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

#[cfg(feature = "identity")]
use atdata_core::syntax::AtIdentifier;
use atdata_core::xrpc::XrpcRequest;
use zeroize::Zeroize as _;

use crate::client::{Auth, Call, Inner};
use crate::com::atproto::server::{
    create_account, create_session, refresh_session, CreateAccount, CreateSession, DeleteSession,
    RefreshSession,
};
use crate::session::SessionOutput;
use crate::{Account, CallOptions, Client, Error, Session, SessionError};

/// What happened to the session, for [`ClientBuilder::on_session_change`](crate::ClientBuilder::on_session_change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionChange {
    /// Logged in, or an account was created and logged in.
    Created,
    /// The tokens were refreshed.
    Refreshed,
    /// A stored session was resumed.
    Resumed,
    /// Logged out (the session is gone).
    Ended,
    /// The refresh token was refused: the session is gone and a new login is needed.
    Expired,
}

pub(crate) type Listener = Arc<dyn Fn(SessionChange, Option<&Session>) + Send + Sync>;

/// The current session and a generation number that grows with every change, so a caller that
/// saw an expired token can tell whether someone else has refreshed it since.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    pub(crate) generation: u64,
    pub(crate) session: Option<Arc<Session>>,
    /// When calls should refresh the session before using it (see [`Session::refresh_due`]).
    pub(crate) refresh_due: Option<Instant>,
}

/// Where the client keeps its session.
pub(crate) struct SessionSlot {
    current: RwLock<Snapshot>,
    /// Held while a refresh is in flight: the single-flight guarantee.
    refresh: tokio::sync::Mutex<()>,
    listener: RwLock<Option<Listener>>,
}

impl SessionSlot {
    pub(crate) fn new(session: Option<Session>, listener: Option<Listener>) -> Self {
        SessionSlot {
            current: RwLock::new(Snapshot {
                generation: 0,
                refresh_due: session.as_ref().and_then(|s| s.refresh_due(false)),
                session: session.map(Arc::new),
            }),
            refresh: tokio::sync::Mutex::new(()),
            listener: RwLock::new(listener),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the session and tells the listener (outside the lock, so the listener may read
    /// the client).
    fn replace(&self, session: Option<Session>, change: SessionChange) {
        let session = session.map(Arc::new);
        // Tokens from the server just now (login, refresh) count their lifetime from now.
        let fresh = matches!(change, SessionChange::Created | SessionChange::Refreshed);
        let refresh_due = session.as_deref().and_then(|s| s.refresh_due(fresh));
        {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            current.generation += 1;
            current.session = session.clone();
            current.refresh_due = refresh_due;
        }
        let listener = self
            .listener
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(listener) = listener {
            listener(change, session.as_deref());
        }
    }
}

impl Client {
    /// Logs in with a handle (or DID, or email) and a password — preferably an app password —
    /// via `com.atproto.server.createSession`. Calls then go to the account's PDS.
    ///
    /// A client built without a service ([`Client::builder`]`.build()`) finds the PDS itself,
    /// as `goat` does: a DID through its DID document, a handle through its DNS or HTTPS
    /// record and then the document (checked both ways), with the client's
    /// [resolver](crate::ClientBuilder::resolver). Only an email needs a service to be set.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = atdata_client::Client::builder().build()?;
    /// let me = client.login("alice.example.com", "xxxx-xxxx-xxxx-xxxx").await?;
    /// println!("logged in on {:?}", client.session().and_then(|s| s.pds.clone()));
    /// # let _ = me; Ok(()) }
    /// ```
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = atdata_client::Client::new("https://bsky.social")?;
    /// let me = client.login("alice.bsky.social", "xxxx-xxxx-xxxx-xxxx").await?;
    /// println!("logged in as {} ({})", me.handle, me.did);
    /// # Ok(()) }
    /// ```
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
    ) -> Result<Account, Error<create_session::Error>> {
        self.create_session(identifier, password, None).await
    }

    /// [`login`](Client::login) with the code sent by email to accounts that have two-factor
    /// sign-in on (asked for by the error `AuthFactorTokenRequired`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use atdata_client::com::atproto::server::create_session;
    /// let client = atdata_client::Client::new("https://bsky.social")?;
    /// match client.login("alice.bsky.social", "main password").await {
    ///     Err(e) if e.known() == Some(&create_session::Error::AuthFactorTokenRequired) => {
    ///         client.login_with_auth_factor("alice.bsky.social", "main password", "ABCDE-12345").await?;
    ///     }
    ///     other => { other?; }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn login_with_auth_factor(
        &self,
        identifier: &str,
        password: &str,
        auth_factor_token: &str,
    ) -> Result<Account, Error<create_session::Error>> {
        self.create_session(identifier, password, Some(auth_factor_token))
            .await
    }

    async fn create_session(
        &self,
        identifier: &str,
        password: &str,
        auth_factor_token: Option<&str>,
    ) -> Result<Account, Error<create_session::Error>> {
        let pds = self.pds_for_login(identifier).await?;
        let mut request = CreateSession::new(identifier, password);
        if let Some(token) = auth_factor_token {
            request = request.auth_factor_token(token);
        }
        let result = self.anonymous_session_call_at(&request, pds.clone()).await;
        // The copy of the password (and code) the request held is wiped, not just freed.
        request.input.password.zeroize();
        request.input.auth_factor_token.zeroize();
        let mut session = result?;
        // Without a DID document in the answer, calls still go to the PDS we found.
        if session.pds.is_none() {
            session.pds = pds;
        }
        let account = session.account();
        self.inner
            .session
            .replace(Some(session), SessionChange::Created);
        Ok(account)
    }

    /// Creates an account on the service (`com.atproto.server.createAccount`) and logs in as it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = atdata_client::Client::new("http://localhost:2583")?;
    /// let me = client.create_account("alice.test", "alice@example.com", "a long password", None).await?;
    /// assert_eq!(me.handle.as_str(), "alice.test");
    /// # Ok(()) }
    /// ```
    pub async fn create_account(
        &self,
        handle: &str,
        email: &str,
        password: &str,
        invite_code: Option<&str>,
    ) -> Result<Account, Error<create_account::Error>> {
        let handle: atdata_core::Handle =
            handle.parse().map_err(|source| Error::InvalidArgument {
                what: "handle",
                source,
            })?;
        let mut request = CreateAccount::new(handle).email(email).password(password);
        if let Some(code) = invite_code {
            request = request.invite_code(code);
        }
        let result = self.anonymous_session_call(&request).await;
        request.input.password.zeroize();
        request.input.invite_code.zeroize();
        let session = result?;
        let account = session.account();
        self.inner
            .session
            .replace(Some(session), SessionChange::Created);
        Ok(account)
    }

    /// Sends a login-type request to the configured service, without credentials and
    /// without retries (a password must not be sent twice by accident).
    async fn anonymous_session_call<R>(&self, request: &R) -> Result<Session, Error<R::Error>>
    where
        R: XrpcRequest,
        R::Output: Into<SessionOutput>,
    {
        self.anonymous_session_call_at(request, None).await
    }

    /// [`anonymous_session_call`](Self::anonymous_session_call) to `base` instead of the
    /// client's service, when given.
    async fn anonymous_session_call_at<R>(
        &self,
        request: &R,
        base: Option<String>,
    ) -> Result<Session, Error<R::Error>>
    where
        R: XrpcRequest,
        R::Output: Into<SessionOutput>,
    {
        let mut call = Call::for_request(request).map_err(Error::typed)?;
        call.auth = Auth::Anonymous;
        let mut options = CallOptions::new().retry(crate::RetryPolicy::none());
        options.base = base;
        let received = self.perform(&call, &options).await.map_err(Error::typed)?;
        let output = Client::decode(R::NSID, received, R::decode_output).map_err(Error::typed)?;
        Ok(output.into().into_session())
    }

    /// The PDS to log in to when the client has no service of its own: the `#atproto_pds`
    /// endpoint of the account's DID document. `None` when a service was set, or when the
    /// identifier is an email (which only a service can look up).
    #[cfg(feature = "identity")]
    async fn pds_for_login<E: atdata_core::xrpc::XrpcErrorName>(
        &self,
        identifier: &str,
    ) -> Result<Option<String>, Error<E>> {
        if !self.inner.resolve_pds {
            return Ok(None);
        }
        let Ok(id) = AtIdentifier::new(identifier.trim()) else {
            return Ok(None);
        };
        let fail = |source| Error::Identity {
            identifier: identifier.to_owned(),
            source,
        };
        let resolver = self.inner.resolver().map_err(fail)?;
        // A DID needs only its document; a handle is checked both ways, so that a handle
        // pointing at someone else's DID is not logged in to.
        let identity = match &id {
            AtIdentifier::Did(did) => resolver.lookup_document(did).await,
            AtIdentifier::Handle(handle) => resolver.lookup_handle(handle).await,
        }
        .map_err(fail)?;
        let pds = identity.pds().ok_or_else(|| {
            fail(atdata_identity::Error::ServiceNotDeclared {
                did: identity.did().clone(),
                fragment: "#atproto_pds",
            })
        })?;
        tracing::debug!(%identifier, pds, "logging in at the account's PDS");
        Ok(Some(pds.trim_end_matches('/').to_owned()))
    }

    /// Without the `identity` feature a client talks to the service it was given.
    #[cfg(not(feature = "identity"))]
    async fn pds_for_login<E: atdata_core::xrpc::XrpcErrorName>(
        &self,
        _identifier: &str,
    ) -> Result<Option<String>, Error<E>> {
        Ok(None)
    }

    /// Refreshes the session now (it also happens by itself when a call finds the access
    /// token expired).
    pub async fn refresh_session(&self) -> Result<Account, Error<refresh_session::Error>> {
        let _in_flight = self.inner.session.refresh.lock().await;
        let snapshot = self.inner.session.snapshot();
        self.inner
            .refresh_locked(snapshot.session.as_deref())
            .await
            .map(|session| session.account())
    }

    /// Logs out: revokes the refresh token on the server (`com.atproto.server.deleteSession`)
    /// and forgets the session. The session is forgotten even when the server call fails.
    pub async fn logout(&self) -> Result<(), Error> {
        let Some(_) = self.inner.session.snapshot().session else {
            return Ok(());
        };
        // deleteSession goes out with the refresh token (see `Auth::for_nsid`).
        let call = Call::for_request(&DeleteSession::new())?;
        let result = self.perform(&call, &CallOptions::new()).await.map(drop);
        self.inner.session.replace(None, SessionChange::Ended);
        result
    }

    /// The session, when logged in.
    pub fn session(&self) -> Option<Arc<Session>> {
        self.inner.session.snapshot().session
    }

    /// The logged-in account's DID and handle.
    pub fn me(&self) -> Option<Account> {
        self.session().map(|session| session.account())
    }

    /// The session as a string for [`Client::resume_session`] or [`Client::from_session`]
    /// (`None` when not logged in). It holds the tokens: store it as you would a password.
    pub fn export_session(&self) -> Option<String> {
        self.session().map(|session| session.export())
    }

    /// Logs in with a session string from [`Client::export_session`]. No call is made: an
    /// access token that has expired is refreshed by the first call that needs it.
    pub fn resume_session(&self, exported: &str) -> Result<Account, SessionError> {
        let session = Session::import(exported)?;
        let account = session.account();
        self.inner
            .session
            .replace(Some(session), SessionChange::Resumed);
        Ok(account)
    }

    /// Logs in with a session made elsewhere.
    pub fn set_session(&self, session: Session) {
        self.inner
            .session
            .replace(Some(session), SessionChange::Resumed);
    }

    /// Sets (or replaces) the callback for session changes; see
    /// [`ClientBuilder::on_session_change`](crate::ClientBuilder::on_session_change).
    pub fn on_session_change(
        &self,
        callback: impl Fn(SessionChange, Option<&Session>) + Send + Sync + 'static,
    ) {
        *self
            .inner
            .session
            .listener
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(callback));
    }
}

impl Inner {
    /// The identity resolver: the one given to the builder, or the default one, built now
    /// if this is its first use.
    #[cfg(feature = "identity")]
    pub(crate) fn resolver(&self) -> Result<atdata_identity::Resolver, atdata_identity::Error> {
        let mut slot = self.resolver.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(resolver) = &*slot {
            return Ok(resolver.clone());
        }
        let resolver =
            atdata_identity::Resolver::new().map_err(|e| atdata_identity::Error::Unreachable {
                target: "identity resolver".into(),
                reason: e.to_string(),
            })?;
        *slot = Some(resolver.clone());
        Ok(resolver)
    }

    /// Refreshes the session unless it changed since generation `seen` (another caller
    /// refreshed it while this one waited for the lock): however many calls find the token
    /// expired at once, one refresh goes out.
    pub(crate) async fn refresh_after(
        &self,
        seen: u64,
        nsid: Cow<'static, str>,
    ) -> Result<(), Error> {
        let _in_flight = self.session.refresh.lock().await;
        let snapshot = self.session.snapshot();
        if snapshot.generation != seen {
            return match snapshot.session {
                Some(_) => Ok(()),
                None => Err(Error::NotLoggedIn { nsid }),
            };
        }
        match self.refresh_locked(snapshot.session.as_deref()).await {
            Ok(_) => Ok(()),
            Err(e) => Err(Error::Refresh {
                nsid,
                source: Box::new(e.erase()),
            }),
        }
    }

    /// Sends `refreshSession` with the refresh token of `session`; the caller holds the
    /// refresh lock. A refused refresh token ends the session.
    async fn refresh_locked(
        &self,
        session: Option<&Session>,
    ) -> Result<Arc<Session>, Error<refresh_session::Error>> {
        let nsid = RefreshSession::NSID;
        let not_logged_in = || Error::NotLoggedIn { nsid: nsid.into() };
        let session = session.ok_or_else(not_logged_in)?;
        let call = Call::for_request(&RefreshSession::new()).map_err(Error::typed)?;
        let base = session.pds.as_deref().unwrap_or(&self.service);
        let result = self
            .attempts(
                &call,
                &CallOptions::new(),
                base,
                Some(session.refresh_jwt()),
            )
            .await
            .and_then(|received| Client::decode(nsid, received, RefreshSession::decode_output))
            .map(SessionOutput::from)
            .map_err(Error::typed);
        match result {
            Ok(output) => {
                let mut refreshed = output.into_session();
                // refreshSession may omit the DID document; keep the PDS we knew.
                if refreshed.pds.is_none() {
                    refreshed.pds = session.pds.clone();
                }
                tracing::debug!("session refreshed");
                self.session
                    .replace(Some(refreshed), SessionChange::Refreshed);
                self.session.snapshot().session.ok_or_else(not_logged_in)
            }
            Err(e) => {
                if matches!(
                    e,
                    Error::Xrpc {
                        status: 400 | 401,
                        ..
                    }
                ) {
                    tracing::info!(error = %e, "refresh token refused; session ended");
                    self.session.replace(None, SessionChange::Expired);
                }
                Err(e)
            }
        }
    }
}
