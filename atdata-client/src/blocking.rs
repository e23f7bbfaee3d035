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
use std::pin::Pin;
use std::sync::Arc;

use atdata_core::xrpc::{Body, XrpcMethod, XrpcRequest};
use atdata_core::{AtIdentifier, AtUri, Blob, Cid, Did, Nsid, RecordKey};
use futures_util::{Stream, StreamExt as _};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::com::atproto::repo::{
    apply_writes, create_record, delete_record, get_record, list_records, put_record, upload_blob,
};
use crate::com::atproto::server::{create_account, create_session, refresh_session};
use crate::com::atproto::sync::{get_blob, get_repo};
use crate::records::{self, Page, Record, RecordRef, Write, WriteResult};
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
        CreateRecordBuilder {
            inner: self.inner.create_record(collection, record),
            runtime: &self.runtime,
        }
    }

    /// See [`crate::Client::put_record`].
    pub fn put_record<T: Serialize + ?Sized>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
        record: &T,
    ) -> PutRecordBuilder<'_> {
        PutRecordBuilder {
            inner: self.inner.put_record(collection, rkey, record),
            runtime: &self.runtime,
        }
    }

    /// See [`crate::Client::get_record`].
    pub fn get_record<T: DeserializeOwned + Send + 'static>(
        &self,
        uri: impl IntoIdentifier<AtUri>,
    ) -> GetRecordBuilder<'_, T> {
        GetRecordBuilder {
            inner: self.inner.get_record(uri),
            runtime: &self.runtime,
        }
    }

    /// See [`crate::Client::get_record_at`].
    pub fn get_record_at<T: DeserializeOwned + Send + 'static>(
        &self,
        repo: impl IntoIdentifier<AtIdentifier>,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> GetRecordBuilder<'_, T> {
        GetRecordBuilder {
            inner: self.inner.get_record_at(repo, collection, rkey),
            runtime: &self.runtime,
        }
    }

    /// See [`crate::Client::list_records`]; `.iter()` reads every record, page by page.
    pub fn list_records<T: DeserializeOwned + Send + 'static>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
    ) -> ListRecordsBuilder<'_, T> {
        ListRecordsBuilder {
            inner: self.inner.list_records(collection),
            runtime: &self.runtime,
        }
    }

    /// See [`crate::Client::delete_record`].
    pub fn delete_record(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> DeleteRecordBuilder<'_> {
        DeleteRecordBuilder {
            inner: self.inner.delete_record(collection, rkey),
            runtime: &self.runtime,
        }
    }

    /// See [`crate::Client::apply_writes`].
    pub fn apply_writes(&self, writes: impl IntoIterator<Item = Write>) -> ApplyWritesBuilder<'_> {
        ApplyWritesBuilder {
            inner: self.inner.apply_writes(writes),
            runtime: &self.runtime,
        }
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

/// [`Client::create_record`]'s settings; see [`records::CreateRecordBuilder`].
#[must_use = "nothing is sent until `.send()`"]
pub struct CreateRecordBuilder<'a> {
    inner: records::CreateRecordBuilder<'a>,
    runtime: &'a Runtime,
}

impl CreateRecordBuilder<'_> {
    /// See [`records::CreateRecordBuilder::repo`].
    pub fn repo(self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        Self {
            inner: self.inner.repo(repo),
            ..self
        }
    }

    /// See [`records::CreateRecordBuilder::rkey`].
    pub fn rkey(self, rkey: impl IntoIdentifier<RecordKey>) -> Self {
        Self {
            inner: self.inner.rkey(rkey),
            ..self
        }
    }

    /// See [`records::CreateRecordBuilder::validate`].
    pub fn validate(self, validate: impl Into<Option<bool>>) -> Self {
        Self {
            inner: self.inner.validate(validate),
            ..self
        }
    }

    /// See [`records::CreateRecordBuilder::swap_commit`].
    pub fn swap_commit(self, commit: Cid) -> Self {
        Self {
            inner: self.inner.swap_commit(commit),
            ..self
        }
    }

    /// Sends the call.
    pub fn send(self) -> Result<RecordRef, Error<create_record::Error>> {
        self.runtime.block_on(self.inner.send())
    }
}

/// [`Client::put_record`]'s settings; see [`records::PutRecordBuilder`].
#[must_use = "nothing is sent until `.send()`"]
pub struct PutRecordBuilder<'a> {
    inner: records::PutRecordBuilder<'a>,
    runtime: &'a Runtime,
}

impl PutRecordBuilder<'_> {
    /// See [`records::PutRecordBuilder::repo`].
    pub fn repo(self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        Self {
            inner: self.inner.repo(repo),
            ..self
        }
    }

    /// See [`records::PutRecordBuilder::validate`].
    pub fn validate(self, validate: impl Into<Option<bool>>) -> Self {
        Self {
            inner: self.inner.validate(validate),
            ..self
        }
    }

    /// See [`records::PutRecordBuilder::swap_record`].
    pub fn swap_record(self, cid: Option<Cid>) -> Self {
        Self {
            inner: self.inner.swap_record(cid),
            ..self
        }
    }

    /// See [`records::PutRecordBuilder::swap_commit`].
    pub fn swap_commit(self, commit: Cid) -> Self {
        Self {
            inner: self.inner.swap_commit(commit),
            ..self
        }
    }

    /// Sends the call.
    pub fn send(self) -> Result<RecordRef, Error<put_record::Error>> {
        self.runtime.block_on(self.inner.send())
    }
}

/// [`Client::get_record`]'s settings; see [`records::GetRecordBuilder`].
#[must_use = "nothing is sent until `.send()`"]
pub struct GetRecordBuilder<'a, T> {
    inner: records::GetRecordBuilder<'a, T>,
    runtime: &'a Runtime,
}

impl<T: DeserializeOwned + Send + 'static> GetRecordBuilder<'_, T> {
    /// See [`records::GetRecordBuilder::cid`].
    pub fn cid(self, cid: Cid) -> Self {
        Self {
            inner: self.inner.cid(cid),
            ..self
        }
    }

    /// Sends the call.
    pub fn send(self) -> Result<Record<T>, Error<get_record::Error>> {
        self.runtime.block_on(self.inner.send())
    }
}

/// [`Client::list_records`]'s settings; see [`records::ListRecordsBuilder`].
#[must_use = "nothing is sent until `.page()` or `.iter()`"]
pub struct ListRecordsBuilder<'a, T> {
    inner: records::ListRecordsBuilder<'a, T>,
    runtime: &'a Runtime,
}

impl<'a, T: DeserializeOwned + Send + 'static> ListRecordsBuilder<'a, T> {
    /// See [`records::ListRecordsBuilder::repo`].
    pub fn repo(self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        Self {
            inner: self.inner.repo(repo),
            ..self
        }
    }

    /// See [`records::ListRecordsBuilder::limit`].
    pub fn limit(self, limit: u8) -> Self {
        Self {
            inner: self.inner.limit(limit),
            ..self
        }
    }

    /// See [`records::ListRecordsBuilder::reverse`].
    pub fn reverse(self, reverse: bool) -> Self {
        Self {
            inner: self.inner.reverse(reverse),
            ..self
        }
    }

    /// See [`records::ListRecordsBuilder::cursor`].
    pub fn cursor(self, cursor: impl Into<String>) -> Self {
        Self {
            inner: self.inner.cursor(cursor),
            ..self
        }
    }

    /// One page.
    pub fn page(self) -> Result<Page<T>, Error<list_records::Error>> {
        self.runtime.block_on(self.inner.page())
    }

    /// Every record, fetching pages as the iterator is read. An error ends the iteration
    /// after it is returned.
    pub fn iter(self) -> RecordIter<'a, T> {
        RecordIter {
            stream: Box::pin(self.inner.stream()),
            runtime: self.runtime,
        }
    }
}

type RecordStream<T> =
    Pin<Box<dyn Stream<Item = Result<Record<T>, Error<list_records::Error>>> + Send>>;

/// The records of [`ListRecordsBuilder::iter`].
#[must_use = "iterators do nothing unless read"]
pub struct RecordIter<'a, T> {
    stream: RecordStream<T>,
    runtime: &'a Runtime,
}

impl<T> Iterator for RecordIter<'_, T> {
    type Item = Result<Record<T>, Error<list_records::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.runtime.block_on(self.stream.next())
    }
}

/// [`Client::delete_record`]'s settings; see [`records::DeleteRecordBuilder`].
#[must_use = "nothing is sent until `.send()`"]
pub struct DeleteRecordBuilder<'a> {
    inner: records::DeleteRecordBuilder<'a>,
    runtime: &'a Runtime,
}

impl DeleteRecordBuilder<'_> {
    /// See [`records::DeleteRecordBuilder::repo`].
    pub fn repo(self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        Self {
            inner: self.inner.repo(repo),
            ..self
        }
    }

    /// See [`records::DeleteRecordBuilder::swap_record`].
    pub fn swap_record(self, cid: Cid) -> Self {
        Self {
            inner: self.inner.swap_record(cid),
            ..self
        }
    }

    /// See [`records::DeleteRecordBuilder::swap_commit`].
    pub fn swap_commit(self, commit: Cid) -> Self {
        Self {
            inner: self.inner.swap_commit(commit),
            ..self
        }
    }

    /// Sends the call.
    pub fn send(self) -> Result<(), Error<delete_record::Error>> {
        self.runtime.block_on(self.inner.send())
    }
}

/// [`Client::apply_writes`]'s settings; see [`records::ApplyWritesBuilder`].
#[must_use = "nothing is sent until `.send()`"]
pub struct ApplyWritesBuilder<'a> {
    inner: records::ApplyWritesBuilder<'a>,
    runtime: &'a Runtime,
}

impl ApplyWritesBuilder<'_> {
    /// See [`records::ApplyWritesBuilder::repo`].
    pub fn repo(self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        Self {
            inner: self.inner.repo(repo),
            ..self
        }
    }

    /// See [`records::ApplyWritesBuilder::validate`].
    pub fn validate(self, validate: impl Into<Option<bool>>) -> Self {
        Self {
            inner: self.inner.validate(validate),
            ..self
        }
    }

    /// See [`records::ApplyWritesBuilder::swap_commit`].
    pub fn swap_commit(self, commit: Cid) -> Self {
        Self {
            inner: self.inner.swap_commit(commit),
            ..self
        }
    }

    /// Sends the call.
    pub fn send(self) -> Result<Vec<WriteResult>, Error<apply_writes::Error>> {
        self.runtime.block_on(self.inner.send())
    }
}
