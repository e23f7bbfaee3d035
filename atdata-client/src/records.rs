//! Records of any collection, as any serde type or a [`Value`]: create, put, get, list (as a
//! paginating stream), delete, and batches of writes.
//!
//! Each method on [`Client`] returns a builder for the call's optional settings; `.await` it
//! (or call `.send().await`) to make the call.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use atdata_client::Client;
//! use futures_util::TryStreamExt;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct SampleSchema { name: String, version: String }
//!
//! let client = Client::new("http://localhost:2583")?;
//! client.login("alice.test", "password").await?;
//! let schema = SampleSchema { name: "mnist".into(), version: "1.0.0".into() };
//! // `$type` is added from the collection when the value has none.
//! let written = client
//!     .create_record("ac.foundation.dataset.sampleSchema", &schema)
//!     .validate(false)
//!     .await?;
//! let back = client.get_record::<SampleSchema>(&written.uri).await?;
//! assert_eq!(back.value.name, "mnist");
//!
//! let all: Vec<_> = client
//!     .list_records::<SampleSchema>("ac.foundation.dataset.sampleSchema")
//!     .stream()
//!     .try_collect()
//!     .await?;
//! println!("{} schemas", all.len());
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use atdata_core::{AtIdentifier, AtUri, Cid, Nsid, RecordKey, Value};
use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::com::atproto::repo::{
    apply_writes, create_record, delete_record, get_record, list_records, put_record,
};
use crate::{Client, Error, IntoIdentifier};

/// Where a record was written: its AT-URI and the CID of its contents.
///
/// ```
/// use atdata_client::records::RecordRef;
/// use atdata_client::com::atproto::repo::StrongRef;
/// let written = RecordRef {
///     uri: "at://did:plc:abc123/app.bsky.feed.post/3kabc".parse()?,
///     cid: "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm".parse()?,
/// };
/// let strong: StrongRef = written.into(); // the `subject` of a like or repost
/// # let _ = strong;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// The record's AT-URI.
    pub uri: AtUri,
    /// The CID of the record's contents.
    pub cid: Cid,
}

impl From<RecordRef> for crate::com::atproto::repo::StrongRef {
    fn from(written: RecordRef) -> Self {
        crate::com::atproto::repo::StrongRef::new(written.uri, written.cid)
    }
}

/// A record read back, its value as `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<T> {
    /// The record's AT-URI.
    pub uri: AtUri,
    /// The CID of its contents (always known from `list_records`; `get_record` has it when
    /// the server sends it).
    pub cid: Option<Cid>,
    /// The value.
    pub value: T,
}

/// One page of [`Client::list_records`].
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records, in the order the server sent them.
    pub records: Vec<Record<T>>,
    /// Records that did not fit `T` (not in strict mode): left out of `records`, named here.
    pub skipped: Vec<Skipped>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
}

/// A listed record that did not fit the requested type, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The record.
    pub uri: AtUri,
    /// What did not fit, with its path in the record.
    pub error: atdata_core::ValueError,
}

/// Parses an identifier argument, naming it on failure.
fn arg<T>(what: &'static str, value: impl IntoIdentifier<T>) -> Result<T, Error> {
    value
        .into_identifier()
        .map_err(|source| Error::InvalidArgument { what, source })
}

/// A record value as `Value`, with `$type` set to `collection` when the value is a map
/// without one (the server requires it, and it is always the collection).
///
/// The value goes through atproto JSON, the form the request body has anyway: a user struct,
/// a `Value` and a `serde_json::json!` tree holding a [`Blob`](atdata_core::Blob) or a
/// `{"$link": …}` all mean the same record.
fn record_value<T: Serialize + ?Sized>(
    record: &T,
    collection: &Result<Nsid, Error>,
) -> Result<Value, Error> {
    let json = serde_json::to_value(record).map_err(|source| Error::InvalidRecord { source })?;
    let mut value = Value::from_json(json).map_err(|source| Error::InvalidRecord { source })?;
    if let (Value::Map(map), Ok(collection)) = (&mut value, collection) {
        map.entry("$type".to_owned())
            .or_insert_with(|| Value::String(collection.as_str().to_owned()));
    }
    Ok(value)
}

/// Reads the value of record `uri` as `T`, as if from its atproto JSON (the form the record
/// came in, and the one writes go through): any type that reads the JSON reads the record,
/// `serde_json::Value` included, with links and bytes as `{"$link"}` / `{"$bytes"}` objects.
fn from_value<T: DeserializeOwned>(uri: &AtUri, value: Value) -> Result<T, Error> {
    atdata_core::from_value_json(value).map_err(|source| Error::RecordDecode {
        uri: Box::new(uri.clone()),
        source,
    })
}

impl Client {
    /// The repository to write to: the one given, else the logged-in account's.
    fn repo_or_me(
        &self,
        repo: Option<Result<AtIdentifier, Error>>,
        nsid: &'static str,
    ) -> Result<AtIdentifier, Error> {
        match repo {
            Some(repo) => repo,
            None => self
                .me()
                .map(|me| me.did.into())
                .ok_or(Error::NotLoggedIn { nsid: nsid.into() }),
        }
    }

    /// Creates a record in `collection` of the logged-in account's repository (or another
    /// repository with `.repo(…)`), with a server-chosen key unless `.rkey(…)` names one.
    /// `record` is any serde type or a [`Value`]; a map without `$type` gets the collection.
    pub fn create_record<T: Serialize + ?Sized>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        record: &T,
    ) -> CreateRecordBuilder<'_> {
        let collection = arg("collection", collection);
        CreateRecordBuilder {
            client: self,
            mode: Async,
            record: record_value(record, &collection),
            collection,
            repo: None,
            rkey: None,
            validate: self.validate(),
            swap_commit: None,
        }
    }

    /// [`create_record`](Client::create_record) of a generated record type, whose collection
    /// it knows: no NSID string to get wrong.
    ///
    /// ```no_run
    /// # async fn run(client: atdata_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use atdata_client::app::bsky::feed::Post;
    /// let post = Post::new("hello", "2024-05-01T12:00:00.000Z".parse::<atdata_core::Datetime>()?);
    /// let written = client.create_record_of(&post).await?;
    /// let back = client.get_record_of::<Post>(written.uri.authority().clone(), written.uri.rkey().cloned().unwrap()).await?;
    /// assert_eq!(back.value.text, "hello");
    /// # Ok(()) }
    /// ```
    pub fn create_record_of<R: atdata_core::RecordType + Serialize>(
        &self,
        record: &R,
    ) -> CreateRecordBuilder<'_> {
        self.create_record(R::NSID, record)
    }

    /// [`get_record_at`](Client::get_record_at) of a generated record type: the collection is
    /// the type's.
    pub fn get_record_of<R: atdata_core::RecordType + DeserializeOwned>(
        &self,
        repo: impl IntoIdentifier<AtIdentifier>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> GetRecordBuilder<'_, R> {
        self.get_record_at(repo, R::NSID, rkey)
    }

    /// [`list_records`](Client::list_records) of a generated record type's collection.
    pub fn list_records_of<R: atdata_core::RecordType + DeserializeOwned>(
        &self,
    ) -> ListRecordsBuilder<'_, R> {
        self.list_records(R::NSID)
    }

    /// Writes the record at `collection`/`rkey`, creating or replacing it. Use
    /// `.swap_record(…)` to replace only the version you read.
    pub fn put_record<T: Serialize + ?Sized>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
        record: &T,
    ) -> PutRecordBuilder<'_> {
        let collection = arg("collection", collection);
        PutRecordBuilder {
            client: self,
            mode: Async,
            record: record_value(record, &collection),
            collection,
            rkey: arg("rkey", rkey),
            repo: None,
            validate: self.validate(),
            swap_record: None,
            swap_commit: None,
        }
    }

    /// Reads the record at an AT-URI (`at://<repo>/<collection>/<rkey>`) as `T`. A record
    /// that does not exist fails with the declared error `RecordNotFound`.
    pub fn get_record<T: DeserializeOwned>(
        &self,
        uri: impl IntoIdentifier<AtUri>,
    ) -> GetRecordBuilder<'_, T> {
        let location = arg("uri", uri).and_then(|uri| {
            match (uri.collection().cloned(), uri.rkey().cloned()) {
                (Some(collection), Some(rkey)) => Ok((uri.authority().clone(), collection, rkey)),
                _ => Err(Error::NotARecordUri {
                    uri: uri.to_string(),
                }),
            }
        });
        GetRecordBuilder {
            client: self,
            mode: Async,
            location,
            cid: None,
            _type: PhantomData,
        }
    }

    /// Reads the record at `repo`/`collection`/`rkey` as `T`.
    pub fn get_record_at<T: DeserializeOwned>(
        &self,
        repo: impl IntoIdentifier<AtIdentifier>,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> GetRecordBuilder<'_, T> {
        let location = (|| {
            Ok((
                arg("repo", repo)?,
                arg("collection", collection)?,
                arg("rkey", rkey)?,
            ))
        })();
        GetRecordBuilder {
            client: self,
            mode: Async,
            location,
            cid: None,
            _type: PhantomData,
        }
    }

    /// Lists the records of `collection` in the logged-in account's repository (or another
    /// with `.repo(…)`): one page with `.page()`, or every record as a stream with `.stream()`.
    pub fn list_records<T: DeserializeOwned>(
        &self,
        collection: impl IntoIdentifier<Nsid>,
    ) -> ListRecordsBuilder<'_, T> {
        ListRecordsBuilder {
            client: self,
            mode: Async,
            collection: arg("collection", collection),
            repo: None,
            limit: None,
            reverse: None,
            cursor: None,
            strict: false,
            _type: PhantomData,
        }
    }

    /// Deletes the record at `collection`/`rkey`. Deleting a record that does not exist
    /// succeeds.
    pub fn delete_record(
        &self,
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> DeleteRecordBuilder<'_> {
        DeleteRecordBuilder {
            client: self,
            mode: Async,
            collection: arg("collection", collection),
            rkey: arg("rkey", rkey),
            repo: None,
            swap_record: None,
            swap_commit: None,
        }
    }

    /// Applies several writes in one commit: all of them or none. The reference PDS takes up
    /// to 200 writes a call.
    ///
    /// ```no_run
    /// # async fn run(client: atdata_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use atdata_client::records::Write;
    /// let note = serde_json::json!({"text": "hi"});
    /// let results = client
    ///     .apply_writes([
    ///         Write::create("com.example.note", &note),
    ///         Write::update("com.example.note", "self", &note),
    ///         Write::delete("com.example.note", "3kabc"),
    ///     ])
    ///     .validate(false)
    ///     .await?;
    /// assert_eq!(results.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn apply_writes(&self, writes: impl IntoIterator<Item = Write>) -> ApplyWritesBuilder<'_> {
        ApplyWritesBuilder {
            client: self,
            mode: Async,
            writes: writes.into_iter().collect(),
            repo: None,
            validate: self.validate(),
            swap_commit: None,
        }
    }
}

/// Makes a builder awaitable: `.await` is `.send().await`.
/// Gives a builder its two ways to finish: `.send().await` / `.await` in [`Async`] mode, and
/// a plain `.send()` in [`Blocking`] mode (the blocking client's builders), both running the
/// one `run` the builder defines. Settings are written once, for every mode.
macro_rules! finish {
    ($builder:ident<'a $(, $t:ident)?>, $output:ty $(, where $($bound:tt)+)?) => {
        impl<'a $(, $t)?> $builder<'a $(, $t)?, Async> $(where $($bound)+)? {
            /// Sends the call.
            pub async fn send(self) -> $output {
                self.run().await
            }
        }
        impl<'a $(, $t)?> $builder<'a $(, $t)?, Blocking<'a>> $(where $($bound)+)? {
            /// Sends the call and waits for the answer.
            pub fn send(self) -> $output {
                let runtime = self.mode.0;
                runtime.block_on(self.run())
            }
        }
        impl<'a $(, $t)?> IntoFuture for $builder<'a $(, $t)?, Async> $(where $($bound)+)? {
            type Output = $output;
            type IntoFuture = Pin<Box<dyn Future<Output = $output> + Send + 'a>>;
            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.run())
            }
        }
    };
}

/// How a record builder's call runs: awaited on the caller's runtime. The mode of
/// [`Client`]'s builders (the default type parameter).
#[derive(Debug, Clone, Copy, Default)]
pub struct Async;

/// How a record builder's call runs: to completion on a
/// [`blocking::Client`](crate::blocking::Client)'s own runtime, with a plain `.send()`.
#[derive(Clone, Copy)]
pub struct Blocking<'r>(pub(crate) &'r tokio::runtime::Runtime);

impl std::fmt::Debug for Blocking<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Blocking")
    }
}

/// [`Client::create_record`]'s settings.
#[must_use = "nothing is sent until the builder is awaited"]
pub struct CreateRecordBuilder<'a, M = Async> {
    client: &'a Client,
    mode: M,
    collection: Result<Nsid, Error>,
    record: Result<Value, Error>,
    repo: Option<Result<AtIdentifier, Error>>,
    rkey: Option<Result<RecordKey, Error>>,
    validate: Option<bool>,
    swap_commit: Option<Cid>,
}

impl<M: Send> CreateRecordBuilder<'_, M> {
    /// Writes to this repository instead of the logged-in account's.
    pub fn repo(mut self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        self.repo = Some(arg("repo", repo));
        self
    }

    /// The record key (default: a TID the server picks).
    pub fn rkey(mut self, rkey: impl IntoIdentifier<RecordKey>) -> Self {
        self.rkey = Some(arg("rkey", rkey));
        self
    }

    /// Lexicon validation: `Some(false)` skips it (for collections the server has no lexicon
    /// for), `Some(true)` requires it. Defaults to [`Client::validate`].
    pub fn validate(mut self, validate: impl Into<Option<bool>>) -> Self {
        self.validate = validate.into();
        self
    }

    /// Fails with `InvalidSwap` unless the repository's current commit is `commit`.
    pub fn swap_commit(mut self, commit: Cid) -> Self {
        self.swap_commit = Some(commit);
        self
    }

    async fn run(self) -> Result<RecordRef, Error<create_record::Error>> {
        let nsid = create_record::NSID;
        let request = (|| {
            let mut request = crate::com::atproto::repo::CreateRecord::new(
                self.client.repo_or_me(self.repo, nsid)?,
                self.collection?,
                self.record?,
            );
            request.input.rkey = self.rkey.transpose()?;
            request.input.validate = self.validate;
            request.input.swap_commit = self.swap_commit;
            Ok(request)
        })()
        .map_err(Error::typed)?;
        let output = self.client.send(&request).await?;
        Ok(RecordRef {
            uri: output.uri,
            cid: output.cid,
        })
    }
}

finish!(CreateRecordBuilder<'a>, Result<RecordRef, Error<create_record::Error>>);

/// [`Client::put_record`]'s settings.
#[must_use = "nothing is sent until the builder is awaited"]
pub struct PutRecordBuilder<'a, M = Async> {
    client: &'a Client,
    mode: M,
    collection: Result<Nsid, Error>,
    rkey: Result<RecordKey, Error>,
    record: Result<Value, Error>,
    repo: Option<Result<AtIdentifier, Error>>,
    validate: Option<bool>,
    swap_record: Option<Option<Cid>>,
    swap_commit: Option<Cid>,
}

impl<M: Send> PutRecordBuilder<'_, M> {
    /// Writes to this repository instead of the logged-in account's.
    pub fn repo(mut self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        self.repo = Some(arg("repo", repo));
        self
    }

    /// Lexicon validation; see [`CreateRecordBuilder::validate`].
    pub fn validate(mut self, validate: impl Into<Option<bool>>) -> Self {
        self.validate = validate.into();
        self
    }

    /// Compare and swap: fails with `InvalidSwap` unless the record's current CID is `cid`,
    /// or, with `None`, unless the record does not exist yet.
    pub fn swap_record(mut self, cid: Option<Cid>) -> Self {
        self.swap_record = Some(cid);
        self
    }

    /// Fails with `InvalidSwap` unless the repository's current commit is `commit`.
    pub fn swap_commit(mut self, commit: Cid) -> Self {
        self.swap_commit = Some(commit);
        self
    }

    async fn run(self) -> Result<RecordRef, Error<put_record::Error>> {
        let nsid = put_record::NSID;
        let request = (|| {
            let mut request = crate::com::atproto::repo::PutRecord::new(
                self.client.repo_or_me(self.repo, nsid)?,
                self.collection?,
                self.rkey?,
                self.record?,
            );
            request.input.validate = self.validate;
            request.input.swap_record = self.swap_record;
            request.input.swap_commit = self.swap_commit;
            Ok(request)
        })()
        .map_err(Error::typed)?;
        let output = self.client.send(&request).await?;
        Ok(RecordRef {
            uri: output.uri,
            cid: output.cid,
        })
    }
}

finish!(PutRecordBuilder<'a>, Result<RecordRef, Error<put_record::Error>>);

/// [`Client::get_record`]'s settings.
#[must_use = "nothing is sent until the builder is awaited"]
pub struct GetRecordBuilder<'a, T, M = Async> {
    client: &'a Client,
    mode: M,
    location: Result<(AtIdentifier, Nsid, RecordKey), Error>,
    cid: Option<Cid>,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned, M: Send> GetRecordBuilder<'_, T, M> {
    /// Asks for this version of the record (the server may not keep old versions).
    pub fn cid(mut self, cid: Cid) -> Self {
        self.cid = Some(cid);
        self
    }

    async fn run(self) -> Result<Record<T>, Error<get_record::Error>> {
        let (repo, collection, rkey) = self.location.map_err(Error::typed)?;
        let mut request = crate::com::atproto::repo::GetRecord::new(repo, collection, rkey);
        request.params.cid = self.cid;
        let output = self.client.send(&request).await?;
        Ok(Record {
            value: from_value(&output.uri, output.value).map_err(Error::typed)?,
            uri: output.uri,
            cid: output.cid,
        })
    }
}

finish!(GetRecordBuilder<'a, T>, Result<Record<T>, Error<get_record::Error>>, where T: DeserializeOwned + Send + 'a);

/// [`Client::list_records`]'s settings.
#[must_use = "nothing is sent until `.page()` or `.stream()`"]
pub struct ListRecordsBuilder<'a, T, M = Async> {
    client: &'a Client,
    mode: M,
    collection: Result<Nsid, Error>,
    repo: Option<Result<AtIdentifier, Error>>,
    limit: Option<i64>,
    reverse: Option<bool>,
    cursor: Option<String>,
    strict: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static, M: Send> ListRecordsBuilder<'_, T, M> {
    /// Whether a record that does not fit `T` fails the listing ([`Error::RecordDecode`],
    /// naming it). Off by default: such records are left out, logged with `tracing` and named
    /// in [`Page::skipped`], so one odd record does not end a whole listing.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Lists this repository instead of the logged-in account's.
    pub fn repo(mut self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        self.repo = Some(arg("repo", repo));
        self
    }

    /// Records per page, 1 to 100 (the server's default is 50; the stream asks for 100).
    pub fn limit(mut self, limit: u8) -> Self {
        self.limit = Some(i64::from(limit));
        self
    }

    /// Oldest first (by record key) instead of newest first.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = Some(reverse);
        self
    }

    /// Starts after this cursor (from an earlier [`Page`]).
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The first page's request.
    fn into_request(self) -> Result<crate::com::atproto::repo::ListRecords, Error> {
        let repo = self.client.repo_or_me(self.repo, list_records::NSID)?;
        let mut request = crate::com::atproto::repo::ListRecords::new(repo, self.collection?);
        request.params.limit = self.limit;
        request.params.reverse = self.reverse;
        request.params.cursor = self.cursor;
        Ok(request)
    }

    async fn page_run(self) -> Result<Page<T>, Error<list_records::Error>> {
        let client = self.client;
        let strict = self.strict;
        let request = self.into_request().map_err(Error::typed)?;
        fetch_page(client, &request, strict).await
    }

    fn stream_run(
        mut self,
    ) -> impl Stream<Item = Result<Record<T>, Error<list_records::Error>>> + Send + Unpin + 'static
    {
        self.limit = self.limit.or(Some(100));
        let client = self.client.clone();
        let strict = self.strict;
        let (next, failed) = match self.into_request() {
            Ok(request) => (Some(request), None),
            Err(e) => (None, Some(e.typed())),
        };
        let state = PageState {
            client,
            next,
            failed,
            strict,
            buffer: VecDeque::new(),
        };
        Box::pin(futures_util::stream::unfold(
            state,
            |mut state| async move {
                loop {
                    if let Some(record) = state.buffer.pop_front() {
                        return Some((Ok(record), state));
                    }
                    if let Some(error) = state.failed.take() {
                        return Some((Err(error), state));
                    }
                    let mut request = state.next.take()?;
                    match fetch_page(&state.client, &request, state.strict).await {
                        Ok(page) => {
                            // An empty page ends the listing even with a cursor: some servers send
                            // one on the last page.
                            if !page.records.is_empty() && page.cursor.is_some() {
                                request.params.cursor = page.cursor;
                                state.next = Some(request);
                            }
                            state.buffer.extend(page.records);
                        }
                        Err(e) => return Some((Err(e), state)),
                    }
                }
            },
        ))
    }
}

impl<'a, T: DeserializeOwned + Send + 'static> ListRecordsBuilder<'a, T, Async> {
    /// Sends one call: one page.
    pub async fn page(self) -> Result<Page<T>, Error<list_records::Error>> {
        self.page_run().await
    }

    /// Every record from the cursor on, fetching pages as the stream is read. An error ends
    /// the stream after it is yielded. The stream is pinned already (`Unpin`), so a plain
    /// `while let Some(record) = stream.try_next().await? { … }` reads it.
    pub fn stream(
        self,
    ) -> impl Stream<Item = Result<Record<T>, Error<list_records::Error>>> + Send + Unpin + 'static
    {
        self.stream_run()
    }
}

impl<'a, T: DeserializeOwned + Send + 'static> ListRecordsBuilder<'a, T, Blocking<'a>> {
    /// Sends one call: one page.
    pub fn page(self) -> Result<Page<T>, Error<list_records::Error>> {
        let runtime = self.mode.0;
        runtime.block_on(self.page_run())
    }

    /// Every record, fetching pages as the iterator is read. An error ends the iteration after
    /// it is returned.
    pub fn iter(self) -> RecordIter<'a, T> {
        let runtime = self.mode.0;
        RecordIter {
            stream: Box::pin(self.stream_run()),
            runtime,
        }
    }
}

type RecordStream<T> =
    Pin<Box<dyn Stream<Item = Result<Record<T>, Error<list_records::Error>>> + Send>>;

/// The records of a blocking client's [`ListRecordsBuilder::iter`].
#[must_use = "iterators do nothing unless read"]
pub struct RecordIter<'a, T> {
    stream: RecordStream<T>,
    runtime: &'a tokio::runtime::Runtime,
}

impl<T> Iterator for RecordIter<'_, T> {
    type Item = Result<Record<T>, Error<list_records::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        use futures_util::StreamExt as _;
        self.runtime.block_on(self.stream.next())
    }
}

impl<'a, M> CreateRecordBuilder<'a, M> {
    /// The same settings, finished in another mode.
    pub(crate) fn with_mode<N>(self, mode: N) -> CreateRecordBuilder<'a, N> {
        CreateRecordBuilder {
            mode,
            client: self.client,
            collection: self.collection,
            record: self.record,
            repo: self.repo,
            rkey: self.rkey,
            validate: self.validate,
            swap_commit: self.swap_commit,
        }
    }
}

impl<'a, M> PutRecordBuilder<'a, M> {
    /// The same settings, finished in another mode.
    pub(crate) fn with_mode<N>(self, mode: N) -> PutRecordBuilder<'a, N> {
        PutRecordBuilder {
            mode,
            client: self.client,
            collection: self.collection,
            rkey: self.rkey,
            record: self.record,
            repo: self.repo,
            validate: self.validate,
            swap_record: self.swap_record,
            swap_commit: self.swap_commit,
        }
    }
}

impl<'a, T, M> GetRecordBuilder<'a, T, M> {
    /// The same settings, finished in another mode.
    pub(crate) fn with_mode<N>(self, mode: N) -> GetRecordBuilder<'a, T, N> {
        GetRecordBuilder {
            mode,
            client: self.client,
            location: self.location,
            cid: self.cid,
            _type: self._type,
        }
    }
}

impl<'a, T, M> ListRecordsBuilder<'a, T, M> {
    /// The same settings, finished in another mode.
    pub(crate) fn with_mode<N>(self, mode: N) -> ListRecordsBuilder<'a, T, N> {
        ListRecordsBuilder {
            mode,
            client: self.client,
            collection: self.collection,
            repo: self.repo,
            limit: self.limit,
            reverse: self.reverse,
            cursor: self.cursor,
            strict: self.strict,
            _type: self._type,
        }
    }
}

impl<'a, M> DeleteRecordBuilder<'a, M> {
    /// The same settings, finished in another mode.
    pub(crate) fn with_mode<N>(self, mode: N) -> DeleteRecordBuilder<'a, N> {
        DeleteRecordBuilder {
            mode,
            client: self.client,
            collection: self.collection,
            rkey: self.rkey,
            repo: self.repo,
            swap_record: self.swap_record,
            swap_commit: self.swap_commit,
        }
    }
}

impl<'a, M> ApplyWritesBuilder<'a, M> {
    /// The same settings, finished in another mode.
    pub(crate) fn with_mode<N>(self, mode: N) -> ApplyWritesBuilder<'a, N> {
        ApplyWritesBuilder {
            mode,
            client: self.client,
            writes: self.writes,
            repo: self.repo,
            validate: self.validate,
            swap_commit: self.swap_commit,
        }
    }
}

/// A stream's position: the next page's request (none after the last), an error to yield,
/// and the records of the page being read.
struct PageState<T> {
    client: Client,
    next: Option<crate::com::atproto::repo::ListRecords>,
    failed: Option<Error<list_records::Error>>,
    strict: bool,
    buffer: VecDeque<Record<T>>,
}

async fn fetch_page<T: DeserializeOwned>(
    client: &Client,
    request: &crate::com::atproto::repo::ListRecords,
    strict: bool,
) -> Result<Page<T>, Error<list_records::Error>> {
    let output = client.send(request).await?;
    let mut records = Vec::with_capacity(output.records.len());
    let mut skipped = Vec::new();
    for record in output.records {
        match from_value(&record.uri, record.value) {
            Ok(value) => records.push(Record {
                uri: record.uri,
                cid: Some(record.cid),
                value,
            }),
            Err(e) if strict => return Err(e.typed()),
            Err(e) => {
                tracing::warn!(error = %e, "listRecords: skipping a record that does not fit the requested type");
                if let Error::RecordDecode { uri, source } = e {
                    skipped.push(Skipped {
                        uri: *uri,
                        error: source,
                    });
                }
            }
        }
    }
    Ok(Page {
        records,
        skipped,
        cursor: output.cursor,
    })
}

/// [`Client::delete_record`]'s settings.
#[must_use = "nothing is sent until the builder is awaited"]
pub struct DeleteRecordBuilder<'a, M = Async> {
    client: &'a Client,
    mode: M,
    collection: Result<Nsid, Error>,
    rkey: Result<RecordKey, Error>,
    repo: Option<Result<AtIdentifier, Error>>,
    swap_record: Option<Cid>,
    swap_commit: Option<Cid>,
}

impl<M: Send> DeleteRecordBuilder<'_, M> {
    /// Deletes from this repository instead of the logged-in account's.
    pub fn repo(mut self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        self.repo = Some(arg("repo", repo));
        self
    }

    /// Fails with `InvalidSwap` unless the record's current CID is `cid`.
    pub fn swap_record(mut self, cid: Cid) -> Self {
        self.swap_record = Some(cid);
        self
    }

    /// Fails with `InvalidSwap` unless the repository's current commit is `commit`.
    pub fn swap_commit(mut self, commit: Cid) -> Self {
        self.swap_commit = Some(commit);
        self
    }

    async fn run(self) -> Result<(), Error<delete_record::Error>> {
        let nsid = delete_record::NSID;
        let request = (|| {
            let mut request = crate::com::atproto::repo::DeleteRecord::new(
                self.client.repo_or_me(self.repo, nsid)?,
                self.collection?,
                self.rkey?,
            );
            request.input.swap_record = self.swap_record;
            request.input.swap_commit = self.swap_commit;
            Ok(request)
        })()
        .map_err(Error::typed)?;
        self.client.send(&request).await.map(drop)
    }
}

finish!(DeleteRecordBuilder<'a>, Result<(), Error<delete_record::Error>>);

/// One write of [`Client::apply_writes`].
#[derive(Debug)]
pub struct Write(Result<apply_writes::InputWrites, Error>);

impl Write {
    /// Creates a record with a server-chosen key (`$type` added as in
    /// [`Client::create_record`]).
    pub fn create<T: Serialize + ?Sized>(
        collection: impl IntoIdentifier<Nsid>,
        record: &T,
    ) -> Write {
        let collection = arg("collection", collection);
        let value = record_value(record, &collection);
        Write((|| {
            let create = apply_writes::Create::new(collection?, value?);
            Ok(apply_writes::InputWrites::Create(Box::new(create)))
        })())
    }

    /// Creates a record with the key `rkey`.
    pub fn create_at<T: Serialize + ?Sized>(
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
        record: &T,
    ) -> Write {
        let collection = arg("collection", collection);
        let value = record_value(record, &collection);
        let rkey = arg("rkey", rkey);
        Write((|| {
            let create = apply_writes::Create::new(collection?, value?).rkey(rkey?);
            Ok(apply_writes::InputWrites::Create(Box::new(create)))
        })())
    }

    /// Creates or replaces the record at `collection`/`rkey`.
    pub fn update<T: Serialize + ?Sized>(
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
        record: &T,
    ) -> Write {
        let collection = arg("collection", collection);
        let value = record_value(record, &collection);
        let rkey = arg("rkey", rkey);
        Write((|| {
            let update = apply_writes::Update::new(collection?, rkey?, value?);
            Ok(apply_writes::InputWrites::Update(Box::new(update)))
        })())
    }

    /// Deletes the record at `collection`/`rkey`.
    pub fn delete(
        collection: impl IntoIdentifier<Nsid>,
        rkey: impl IntoIdentifier<RecordKey>,
    ) -> Write {
        let collection = arg("collection", collection);
        let rkey = arg("rkey", rkey);
        Write((|| {
            let delete = apply_writes::Delete::new(collection?, rkey?);
            Ok(apply_writes::InputWrites::Delete(Box::new(delete)))
        })())
    }
}

/// What one write of [`Client::apply_writes`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteResult {
    /// A record was created.
    Created(RecordRef),
    /// A record was created or replaced.
    Updated(RecordRef),
    /// A record was deleted.
    Deleted,
}

/// [`Client::apply_writes`]'s settings.
#[must_use = "nothing is sent until the builder is awaited"]
pub struct ApplyWritesBuilder<'a, M = Async> {
    client: &'a Client,
    mode: M,
    writes: Vec<Write>,
    repo: Option<Result<AtIdentifier, Error>>,
    validate: Option<bool>,
    swap_commit: Option<Cid>,
}

impl<M: Send> ApplyWritesBuilder<'_, M> {
    /// Writes to this repository instead of the logged-in account's.
    pub fn repo(mut self, repo: impl IntoIdentifier<AtIdentifier>) -> Self {
        self.repo = Some(arg("repo", repo));
        self
    }

    /// Lexicon validation for every write; see [`CreateRecordBuilder::validate`].
    pub fn validate(mut self, validate: impl Into<Option<bool>>) -> Self {
        self.validate = validate.into();
        self
    }

    /// Fails with `InvalidSwap` unless the repository's current commit is `commit`.
    pub fn swap_commit(mut self, commit: Cid) -> Self {
        self.swap_commit = Some(commit);
        self
    }

    async fn run(self) -> Result<Vec<WriteResult>, Error<apply_writes::Error>> {
        let nsid = apply_writes::NSID;
        let request = (|| {
            let writes = self
                .writes
                .into_iter()
                .map(|write| write.0)
                .collect::<Result<Vec<_>, Error>>()?;
            let mut request = crate::com::atproto::repo::ApplyWrites::new(
                self.client.repo_or_me(self.repo, nsid)?,
                writes,
            );
            request.input.validate = self.validate;
            request.input.swap_commit = self.swap_commit;
            Ok(request)
        })()
        .map_err(Error::typed)?;
        let output = self.client.send(&request).await?;
        let results = output.results.unwrap_or_default();
        Ok(results
            .into_iter()
            .map(|result| match result {
                apply_writes::OutputResults::CreateResult(r) => WriteResult::Created(RecordRef {
                    uri: r.uri,
                    cid: r.cid,
                }),
                apply_writes::OutputResults::UpdateResult(r) => WriteResult::Updated(RecordRef {
                    uri: r.uri,
                    cid: r.cid,
                }),
                apply_writes::OutputResults::DeleteResult(_) => WriteResult::Deleted,
            })
            .collect())
    }
}

finish!(
    ApplyWritesBuilder<'a>,
    Result<Vec<WriteResult>, Error<apply_writes::Error>>
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use atdata_core::Blob;

    #[test]
    fn structs_values_and_json_trees_make_the_same_record() {
        #[derive(Serialize)]
        struct Shard {
            name: String,
            data: Blob,
        }
        let blob = Blob::new(Cid::for_raw(b"shard"), "application/x-tar", 5);
        let collection: Result<Nsid, Error> = Ok("com.example.shard".parse().unwrap());
        let from_struct = record_value(
            &Shard {
                name: "s".into(),
                data: blob.clone(),
            },
            &collection,
        )
        .unwrap();
        let from_json =
            record_value(&serde_json::json!({"name": "s", "data": blob}), &collection).unwrap();
        assert_eq!(from_struct, from_json);
        assert_eq!(
            from_struct.get("$type").and_then(Value::as_str),
            Some("com.example.shard")
        );
        assert_eq!(
            record_value(&from_struct, &collection).unwrap(),
            from_struct
        );
        // An explicit `$type` stays.
        let typed = record_value(&serde_json::json!({"$type": "x.y.z"}), &collection).unwrap();
        assert_eq!(typed.get("$type").and_then(Value::as_str), Some("x.y.z"));
        // Floats are not AT Protocol data.
        assert!(matches!(
            record_value(&serde_json::json!({"f": 1.5}), &collection),
            Err(Error::InvalidRecord { .. })
        ));
    }
}
