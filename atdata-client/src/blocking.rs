//! A blocking client, for code without an async runtime: the async [`crate::Client`] driven by
//! a current-thread tokio runtime that this client owns. Same methods; builders end in
//! `.send()` instead of `.await`, `list_records` gives an iterator, and the namespaced form
//! (`client.com.atproto.repo.describe_repo(&request)?`) returns the result directly.
//!
//! Do not use it from inside an async runtime (tokio refuses to block a thread that drives
//! tasks); use [`crate::Client`] there.
//!
//! ```no_run
//! use atdata_client::blocking::Client;
//!
//! let client = Client::new("http://localhost:2583")?;
//! client.login("alice.test", "password")?;
//! let written = client
//!     .create_record("ac.foundation.dataset.sampleSchema", &serde_json::json!({"name": "mnist"}))
//!     .validate(false)
//!     .send()?;
//! for record in client.list_records::<atdata_core::Value>("ac.foundation.dataset.sampleSchema").iter() {
//!     println!("{}", record?.uri);
//! }
//! # let _ = written;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;
use std::sync::Arc;

use atdata_core::xrpc::{Body, XrpcMethod, XrpcRequest};
use atdata_core::{AtIdentifier, AtUri, Blob, Cid, Did, Nsid, RecordKey};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::com::atproto::repo::upload_blob;
use crate::com::atproto::server::{create_account, create_session, refresh_session};
use crate::com::atproto::sync::{get_blob, get_repo};
use crate::records::{self, Blocking, Write};
use crate::{
    Account, BuildError, CallOptions, ClientBuilder, Error, IntoIdentifier, RateLimit, RawResponse,
    Session, SessionChange, SessionError,
};

/// The blocking client. Cloning is cheap; clones share the runtime, connections and session.
///
/// ```
/// let client = atdata_client::blocking::Client::new("https://bsky.social")?;
/// assert!(client.me().is_none());
/// # Ok::<(), atdata_client::BuildError>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<Runtime>,
    /// The namespaced methods (`client.com.atproto.repo.create_record(&request)?`), built once.
    services: Arc<Services>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// The namespaced methods of the blocking client: `client.com.atproto.repo.create_record(&r)?`.
type Services = crate::services::blocking::Services;

/// What the blocking namespaced methods send through: the async client and the runtime that
/// drives it. Holding both strongly makes no cycle, as the async client never refers back to
/// the blocking one.
#[derive(Clone)]
pub(crate) struct Handle {
    client: crate::Client,
    runtime: Arc<Runtime>,
}

impl Handle {
    /// Sends `request` and waits for the answer.
    pub(crate) fn send<R: XrpcRequest>(&self, request: &R) -> Result<R::Output, Error<R::Error>> {
        send_on(
            &self.client,
            &self.runtime,
            request,
            &CallOptions::default(),
        )
    }
}

/// Sends `request` through `client`, blocking on `runtime`. The request is encoded and the
/// answer decoded here, outside the runtime: only the exchange itself, which is the same for
/// every request type, runs under `block_on`. Blocking on `client.send(request)` instead would
/// build one copy of the runtime's `block_on` per request type, which made the namespaced
/// methods (318 of them) cost 45 s of release build.
fn send_on<R: XrpcRequest>(
    client: &crate::Client,
    runtime: &Runtime,
    request: &R,
    options: &CallOptions,
) -> Result<R::Output, Error<R::Error>> {
    let call = crate::client::Call::for_request(request).map_err(Error::typed)?;
    let received = runtime
        .block_on(client.perform(&call, options))
        .map_err(Error::typed)?;
    crate::Client::decode(R::NSID, received, R::decode_output).map_err(Error::typed)
}

impl ClientBuilder {
    /// Builds a [`blocking::Client`](Client).
    pub fn build_blocking(self) -> Result<Client, BuildError> {
        // One worker thread, not a current-thread runtime: the HTTP connections a call leaves
        // in the pool run as tasks on this runtime, and a current-thread runtime only runs
        // them inside `block_on`. The async client underneath (`as_async`), awaited on the
        // caller's own runtime, would then reuse a pooled connection nobody drives and hang.
        // The worker keeps them alive between calls, as reqwest's own blocking client does.
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("atdata-blocking")
                .enable_all()
                .build()
                .map_err(BuildError::Runtime)?,
        );
        let inner = self.build()?;
        let services = Arc::new(Services::new(&Handle {
            client: inner.clone(),
            runtime: runtime.clone(),
        }));
        Ok(Client {
            inner,
            runtime,
            services,
        })
    }
}

/// The namespaced form of every query and procedure, as on the async client:
///
/// ```no_run
/// use atdata_client::com::atproto::repo::DescribeRepo;
/// let client = atdata_client::blocking::Client::new("http://localhost:2583")?;
/// let repo = client
///     .com
///     .atproto
///     .repo
///     .describe_repo(&DescribeRepo::new("alice.test".parse::<atdata_core::AtIdentifier>()?))?;
/// println!("{:?}", repo.collections);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl std::ops::Deref for Client {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

impl Client {
    /// A client for `service`; see [`crate::Client::new`].
    pub fn new(service: impl Into<String>) -> Result<Client, BuildError> {
        ClientBuilder::new().service(service).build_blocking()
    }

    /// A builder; finish it with [`ClientBuilder::build_blocking`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client logged in with an exported session; see [`crate::Client::from_session`].
    pub fn from_session(service: impl Into<String>, exported: &str) -> Result<Client, BuildError> {
        let session = Session::import(exported)?;
        ClientBuilder::new()
            .service(service)
            .session(session)
            .build_blocking()
    }

    /// The async client underneath (it shares the session).
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// See [`crate::Client::service`].
    pub fn service(&self) -> &str {
        self.inner.service()
    }

    /// See [`crate::Client::endpoint`].
    pub fn endpoint(&self) -> String {
        self.inner.endpoint()
    }

    /// See [`crate::Client::last_rate_limit`].
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.inner.last_rate_limit()
    }

    /// See [`crate::Client::send`].
    pub fn send<R: XrpcRequest>(&self, request: &R) -> Result<R::Output, Error<R::Error>> {
        send_on(&self.inner, &self.runtime, request, &CallOptions::default())
    }

    /// See [`crate::Client::send_with`].
    pub fn send_with<R: XrpcRequest>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Output, Error<R::Error>> {
        send_on(&self.inner, &self.runtime, request, options)
    }

    /// See [`crate::Client::call_raw`].
    ///
    /// ```no_run
    /// use atdata_client::CallOptions;
    /// use atdata_core::xrpc::XrpcMethod;
    ///
    /// let client = atdata_client::blocking::Client::new("http://localhost:2583")?;
    /// let server = client.call_raw(
    ///     "com.atproto.server.describeServer",
    ///     XrpcMethod::Query,
    ///     &[],
    ///     None,
    ///     &CallOptions::new(),
    /// )?;
    /// println!("{}", String::from_utf8_lossy(server.bytes()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call_raw(
        &self,
        nsid: impl IntoIdentifier<Nsid>,
        method: XrpcMethod,
        params: &[(&str, &str)],
        input: Option<Body>,
        options: &CallOptions,
    ) -> Result<RawResponse, Error> {
        self.block_on(self.inner.call_raw(nsid, method, params, input, options))
    }

    /// See [`crate::Client::login`].
    pub fn login(
        &self,
        identifier: &str,
        password: &str,
    ) -> Result<Account, Error<create_session::Error>> {
        self.block_on(self.inner.login(identifier, password))
    }

    /// See [`crate::Client::login_with_auth_factor`].
    pub fn login_with_auth_factor(
        &self,
        identifier: &str,
        password: &str,
        auth_factor_token: &str,
    ) -> Result<Account, Error<create_session::Error>> {
        self.block_on(
            self.inner
                .login_with_auth_factor(identifier, password, auth_factor_token),
        )
    }

    /// See [`crate::Client::create_account`].
    pub fn create_account(
        &self,
        handle: &str,
        email: &str,
        password: &str,
        invite_code: Option<&str>,
    ) -> Result<Account, Error<create_account::Error>> {
        self.block_on(
            self.inner
                .create_account(handle, email, password, invite_code),
        )
    }

    /// See [`crate::Client::refresh_session`].
    pub fn refresh_session(&self) -> Result<Account, Error<refresh_session::Error>> {
        self.block_on(self.inner.refresh_session())
    }

    /// See [`crate::Client::logout`].
    pub fn logout(&self) -> Result<(), Error> {
        self.block_on(self.inner.logout())
    }

    /// See [`crate::Client::session`].
    pub fn session(&self) -> Option<Arc<Session>> {
        self.inner.session()
    }

    /// See [`crate::Client::me`].
    pub fn me(&self) -> Option<Account> {
        self.inner.me()
    }

    /// See [`crate::Client::export_session`].
    pub fn export_session(&self) -> Option<String> {
        self.inner.export_session()
    }

    /// See [`crate::Client::resume_session`].
    pub fn resume_session(&self, exported: &str) -> Result<Account, SessionError> {
        self.inner.resume_session(exported)
    }

    /// See [`crate::Client::set_session`].
    pub fn set_session(&self, session: Session) {
        self.inner.set_session(session)
    }

    /// See [`crate::Client::on_session_change`].
    pub fn on_session_change(
        &self,
        callback: impl Fn(SessionChange, Option<&Session>) + Send + Sync + 'static,
    ) {
        self.inner.on_session_change(callback)
    }

    /// See [`crate::Client::create_record`].
    pub fn create_record<T: Serialize + ?Sized>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        record: &T,
    ) -> CreateRecordBuilder<'_> {
        self.inner
            .create_record(collection, record)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::put_record`].
    pub fn put_record<T: Serialize + ?Sized>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
        record: &T,
    ) -> PutRecordBuilder<'_> {
        self.inner
            .put_record(collection, rkey, record)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::get_record`].
    pub fn get_record<T: DeserializeOwned + Send + 'static>(
        &self,
        uri: impl IntoIdentifier<AtUri>,
    ) -> GetRecordBuilder<'_, T> {
        self.inner
            .get_record(uri)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::get_record_at`].
    pub fn get_record_at<T: DeserializeOwned + Send + 'static>(
        &self,
        repo: impl IntoIdentifier<AtIdentifier>,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> GetRecordBuilder<'_, T> {
        self.inner
            .get_record_at(repo, collection, rkey)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::list_records`]; `.iter()` reads every record, page by page.
    pub fn list_records<T: DeserializeOwned + Send + 'static>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
    ) -> ListRecordsBuilder<'_, T> {
        self.inner
            .list_records(collection)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::delete_record`].
    pub fn delete_record(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> DeleteRecordBuilder<'_> {
        self.inner
            .delete_record(collection, rkey)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::apply_writes`].
    pub fn apply_writes(&self, writes: impl IntoIterator<Item = Write>) -> ApplyWritesBuilder<'_> {
        self.inner
            .apply_writes(writes)
            .with_mode(Blocking(&self.runtime))
    }

    /// See [`crate::Client::create_record_of`].
    pub fn create_record_of<R: atdata_core::RecordType + Serialize>(
        &self,
        record: &R,
    ) -> CreateRecordBuilder<'_> {
        self.create_record(R::NSID, record)
    }

    /// See [`crate::Client::get_record_of`].
    pub fn get_record_of<R: atdata_core::RecordType + DeserializeOwned + Send + 'static>(
        &self,
        repo: impl IntoIdentifier<AtIdentifier>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> GetRecordBuilder<'_, R> {
        self.get_record_at(repo, R::NSID, rkey)
    }

    /// See [`crate::Client::list_records_of`].
    pub fn list_records_of<R: atdata_core::RecordType + DeserializeOwned + Send + 'static>(
        &self,
    ) -> ListRecordsBuilder<'_, R> {
        self.list_records(R::NSID)
    }

    /// See [`crate::Client::upload_blob`].
    pub fn upload_blob(
        &self,
        bytes: impl Into<Vec<u8>>,
        mime_type: &str,
    ) -> Result<Blob, Error<upload_blob::Error>> {
        self.block_on(self.inner.upload_blob(bytes, mime_type))
    }

    /// See [`crate::Client::upload_blob_file`].
    pub fn upload_blob_file(
        &self,
        path: impl AsRef<Path>,
        mime_type: &str,
    ) -> Result<Blob, Error<upload_blob::Error>> {
        self.block_on(self.inner.upload_blob_file(path, mime_type))
    }

    /// See [`crate::Client::get_blob`].
    pub fn get_blob(
        &self,
        did: impl IntoIdentifier<Did>,
        cid: Cid,
    ) -> Result<Vec<u8>, Error<get_blob::Error>> {
        self.block_on(self.inner.get_blob(did, cid))
    }

    /// See [`crate::Client::get_blob_to_file`].
    pub fn get_blob_to_file(
        &self,
        did: impl IntoIdentifier<Did>,
        cid: Cid,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error<get_blob::Error>> {
        self.block_on(self.inner.get_blob_to_file(did, cid, path))
    }

    /// See [`crate::Client::get_repo`].
    pub fn get_repo(
        &self,
        did: impl IntoIdentifier<Did>,
    ) -> Result<Vec<u8>, Error<get_repo::Error>> {
        self.block_on(self.inner.get_repo(did))
    }

    /// See [`crate::Client::get_repo_to_file`].
    pub fn get_repo_to_file(
        &self,
        did: impl IntoIdentifier<Did>,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error<get_repo::Error>> {
        self.block_on(self.inner.get_repo_to_file(did, path))
    }
}

/// The record builders of the blocking client: the async client's, finished with a plain
/// `.send()` (or `.page()` / `.iter()`) on this client's runtime. Settings are the same methods.
pub type CreateRecordBuilder<'a> = records::CreateRecordBuilder<'a, Blocking<'a>>;
/// See [`CreateRecordBuilder`].
pub type PutRecordBuilder<'a> = records::PutRecordBuilder<'a, Blocking<'a>>;
/// See [`CreateRecordBuilder`].
pub type GetRecordBuilder<'a, T> = records::GetRecordBuilder<'a, T, Blocking<'a>>;
/// See [`CreateRecordBuilder`].
pub type ListRecordsBuilder<'a, T> = records::ListRecordsBuilder<'a, T, Blocking<'a>>;
/// See [`CreateRecordBuilder`].
pub type DeleteRecordBuilder<'a> = records::DeleteRecordBuilder<'a, Blocking<'a>>;
/// See [`CreateRecordBuilder`].
pub type ApplyWritesBuilder<'a> = records::ApplyWritesBuilder<'a, Blocking<'a>>;
pub use records::RecordIter;
