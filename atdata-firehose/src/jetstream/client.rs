//! A Jetstream v1 client: `GET /subscribe` over WebSocket, with reconnection.
//!
//! On a lost connection the client reconnects with exponential backoff, asking for events from
//! [`ClientConfig::rewind`] before the latest `time_us` it delivered, and drops what it has
//! already delivered. Jetstream's live stream is not in `time_us` order (production's is in
//! upstream `seq` order, its stamps up to a few hundred milliseconds out of order) while its
//! replay is, so "drop what is not past the last one" would lose events. Instead the client
//! remembers the events it delivered within twice the rewind of the latest (by
//! [`JetstreamEvent::position`], the server's `cursor` when sent, else `time_us`, with the
//! DID and record path) and drops exactly those; on a resumed connection it also drops events
//! older than the cursor it asked for.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::jetstream::convert::system_time_us;
use crate::jetstream::event::JetstreamEvent;
use crate::jetstream::zstd_dict::Decompressor;

/// The most collections a subscription may filter on.
pub const MAX_WANTED_COLLECTIONS: usize = 100;
/// The most DIDs a subscription may filter on.
pub const MAX_WANTED_DIDS: usize = 10_000;

/// What to ask the server for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscribeOptions {
    /// Collection NSIDs (or prefixes ending in `.*`, such as `app.bsky.graph.*`) to receive
    /// commits of; empty for all. At most [`MAX_WANTED_COLLECTIONS`].
    pub wanted_collections: Vec<String>,
    /// Accounts to receive events of; empty for all. At most [`MAX_WANTED_DIDS`].
    pub wanted_dids: Vec<String>,
    /// The largest message the server should send (larger ones are skipped by the server).
    pub max_message_size_bytes: Option<u64>,
    /// Start from this `time_us` (microseconds since the Unix epoch) instead of live.
    pub cursor: Option<i64>,
    /// Ask for zstd-compressed messages (decompressed with the v1 dictionary).
    pub compress: bool,
    /// Ask the server to wait for an `options_update` before sending (the client sends one
    /// at once, so long DID lists need not fit in the URL).
    pub require_hello: bool,
}

/// Why options were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// More than [`MAX_WANTED_COLLECTIONS`] collections.
    #[error("{0} wanted collections, more than {MAX_WANTED_COLLECTIONS}")]
    TooManyCollections(usize),
    /// More than [`MAX_WANTED_DIDS`] DIDs.
    #[error("{0} wanted DIDs, more than {MAX_WANTED_DIDS}")]
    TooManyDids(usize),
    /// A collection that is neither an NSID nor an NSID prefix ending in `.*`.
    #[error("wanted collection {0:?} is neither an NSID nor a prefix ending in .*")]
    BadCollection(String),
    /// A DID that is not a DID.
    #[error("wanted DID {0:?}: {1}")]
    BadDid(String, String),
    /// The endpoint is not a `ws://` or `wss://` URL.
    #[error("endpoint {0:?} is not a ws:// or wss:// URL")]
    BadEndpoint(String),
    /// A v2 event kind other than `commit`, `identity`, `account` and `sync`.
    #[error("kind {0:?} is not one of commit, identity, account, sync")]
    BadKind(String),
    /// The subscription has ended.
    #[error("the subscription has ended")]
    Closed,
}

impl SubscribeOptions {
    /// Options for everything, live.
    pub fn new() -> SubscribeOptions {
        SubscribeOptions::default()
    }

    /// Sets the wanted collections.
    pub fn collections<S: Into<String>>(mut self, nsids: impl IntoIterator<Item = S>) -> Self {
        self.wanted_collections = nsids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the wanted DIDs.
    pub fn dids<S: Into<String>>(mut self, dids: impl IntoIterator<Item = S>) -> Self {
        self.wanted_dids = dids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the largest message size.
    pub fn max_message_size_bytes(mut self, bytes: u64) -> Self {
        self.max_message_size_bytes = Some(bytes);
        self
    }

    /// Starts from `time_us`.
    pub fn cursor(mut self, time_us: i64) -> Self {
        self.cursor = Some(time_us);
        self
    }

    /// Asks for compressed messages.
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Asks the server to wait for an `options_update`.
    pub fn require_hello(mut self, require: bool) -> Self {
        self.require_hello = require;
        self
    }

    /// Checks the limits and the syntax of each collection and DID.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if self.wanted_collections.len() > MAX_WANTED_COLLECTIONS {
            return Err(OptionsError::TooManyCollections(
                self.wanted_collections.len(),
            ));
        }
        if self.wanted_dids.len() > MAX_WANTED_DIDS {
            return Err(OptionsError::TooManyDids(self.wanted_dids.len()));
        }
        for collection in &self.wanted_collections {
            if !collection_ok(collection) {
                return Err(OptionsError::BadCollection(collection.clone()));
            }
        }
        for did in &self.wanted_dids {
            atdata_core::syntax::Did::check(did)
                .map_err(|e| OptionsError::BadDid(did.clone(), e.to_string()))?;
        }
        Ok(())
    }

    /// The `/subscribe` URL for `endpoint` (`wss://host`, or the full `wss://host/subscribe`).
    ///
    /// ```
    /// use atdata_firehose::jetstream::SubscribeOptions;
    /// let url = SubscribeOptions::new()
    ///     .collections(["app.bsky.feed.post", "app.bsky.graph.*"])
    ///     .cursor(1_783_175_888_085_434)
    ///     .compress(true)
    ///     .url("wss://jetstream1.us-east.bsky.network")?;
    /// assert_eq!(
    ///     url,
    ///     "wss://jetstream1.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post\
    ///      &wantedCollections=app.bsky.graph.*&cursor=1783175888085434&compress=true"
    /// );
    /// # Ok::<(), atdata_firehose::jetstream::OptionsError>(())
    /// ```
    pub fn url(&self, endpoint: &str) -> Result<String, OptionsError> {
        self.validate()?;
        if !(endpoint.starts_with("ws://") || endpoint.starts_with("wss://")) {
            return Err(OptionsError::BadEndpoint(endpoint.to_owned()));
        }
        let base = endpoint.trim_end_matches('/');
        let mut url = if base.ends_with("/subscribe") {
            base.to_owned()
        } else {
            format!("{base}/subscribe")
        };
        let mut params: Vec<(&str, String)> = Vec::new();
        for collection in &self.wanted_collections {
            params.push(("wantedCollections", query_escape(collection)));
        }
        // With requireHello the DIDs travel in the options_update message instead.
        if !self.require_hello {
            for did in &self.wanted_dids {
                params.push(("wantedDids", query_escape(did)));
            }
        }
        if let Some(bytes) = self.max_message_size_bytes {
            params.push(("maxMessageSizeBytes", bytes.to_string()));
        }
        if let Some(cursor) = self.cursor {
            params.push(("cursor", cursor.to_string()));
        }
        if self.compress {
            params.push(("compress", "true".into()));
        }
        if self.require_hello {
            params.push(("requireHello", "true".into()));
        }
        for (i, (name, value)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.push_str(value);
        }
        Ok(url)
    }

    /// The `options_update` message that sets these filters on a live connection.
    pub fn options_update(&self) -> String {
        let mut payload = serde_json::Map::new();
        payload.insert(
            "wantedCollections".into(),
            serde_json::Value::from(self.wanted_collections.clone()),
        );
        payload.insert(
            "wantedDids".into(),
            serde_json::Value::from(self.wanted_dids.clone()),
        );
        payload.insert(
            "maxMessageSizeBytes".into(),
            serde_json::Value::from(self.max_message_size_bytes.unwrap_or(0)),
        );
        let mut message = serde_json::Map::new();
        message.insert("type".into(), "options_update".into());
        message.insert("payload".into(), serde_json::Value::Object(payload));
        serde_json::Value::Object(message).to_string()
    }
}

/// An NSID, or an NSID prefix followed by `.*`.
fn collection_ok(collection: &str) -> bool {
    if let Some(prefix) = collection.strip_suffix(".*") {
        !prefix.is_empty()
            && prefix.len() <= 317
            && prefix.split('.').all(|segment| {
                !segment.is_empty()
                    && segment.len() <= 63
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    } else {
        atdata_core::syntax::Nsid::check(collection).is_ok()
    }
}

/// Percent-encodes a query value, keeping the characters NSIDs and DIDs use.
pub(crate) fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'*') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How the client behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// How far before the last delivered event to resume after a reconnection (3 s).
    pub rewind: Duration,
    /// The first reconnection delay (250 ms); it doubles per failed attempt.
    pub backoff_min: Duration,
    /// The longest reconnection delay (30 s).
    pub backoff_max: Duration,
    /// Items buffered between the connection and the consumer (1,024). When full, the client
    /// stops reading the socket.
    pub channel_capacity: usize,
    /// The largest message accepted, after decompression (16 MiB).
    pub max_message: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            rewind: Duration::from_secs(3),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            channel_capacity: 1024,
            max_message: 16 << 20,
        }
    }
}

/// What a [`Subscription`] yields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Item {
    /// An event, in the order the server sent it, never one delivered before.
    Event(Box<JetstreamEvent>),
    /// The connection was lost (or could not be made); the client retries after `delay`.
    Reconnecting {
        /// Why.
        error: String,
        /// Failed attempts in a row.
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// A message that is not a v1 event (skipped).
    Invalid {
        /// Why.
        error: String,
    },
}

/// A running subscription. Dropping it closes the connection.
#[derive(Debug)]
pub struct Subscription {
    items: mpsc::Receiver<Item>,
    control: mpsc::Sender<SubscribeOptions>,
    task: JoinHandle<()>,
}

impl Subscription {
    /// The next item; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Item> {
        self.items.recv().await
    }

    /// Changes the filters (`wanted_collections`, `wanted_dids`, `max_message_size_bytes`) by
    /// sending an `options_update`; they also apply to later reconnections. `cursor`,
    /// `compress` and `require_hello` are kept from the start.
    pub async fn update_options(&self, options: SubscribeOptions) -> Result<(), OptionsError> {
        options.validate()?;
        self.control
            .send(options)
            .await
            .map_err(|_| OptionsError::Closed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Subscribes to a Jetstream v1 server (`wss://host` or `wss://host/subscribe`). Must be
/// called within a Tokio runtime; the connection runs on a spawned task.
pub fn subscribe(
    endpoint: &str,
    options: SubscribeOptions,
    config: ClientConfig,
) -> Result<Subscription, OptionsError> {
    options.url(endpoint)?;
    let (items_tx, items) = mpsc::channel(config.channel_capacity.max(1));
    let (control, control_rx) = mpsc::channel(8);
    let task = tokio::spawn(run(
        endpoint.to_owned(),
        options,
        config,
        items_tx,
        control_rx,
    ));
    Ok(Subscription {
        items,
        control,
        task,
    })
}

/// How a connection ended.
enum End {
    /// The consumer is gone: stop.
    Stop,
    /// The connection failed; whether it delivered anything first.
    Lost(String, bool),
}

/// The TLS configuration for `wss://`: rustls with the ring provider and the webpki roots.
pub(crate) fn tls_connector() -> Result<tokio_tungstenite::Connector, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(
        config,
    )))
}

async fn run(
    endpoint: String,
    mut options: SubscribeOptions,
    config: ClientConfig,
    items: mpsc::Sender<Item>,
    mut control: mpsc::Receiver<SubscribeOptions>,
) {
    let decompressor = Decompressor::v1(config.max_message);
    let tls = match tls_connector() {
        Ok(tls) => tls,
        Err(error) => {
            let _ = items.send(Item::Invalid { error }).await;
            return;
        }
    };
    let rewind_us = i64::try_from(config.rewind.as_micros()).unwrap_or(i64::MAX);
    let mut seen = Delivered::new(rewind_us.saturating_mul(2));
    let mut attempt: u32 = 0;
    loop {
        let mut asked = options.clone();
        if let Some(latest) = seen.latest {
            asked.cursor = Some(latest.saturating_sub(rewind_us));
        }
        seen.floor = asked.cursor;
        let url = match asked.url(&endpoint) {
            Ok(url) => url,
            Err(e) => {
                let _ = items
                    .send(Item::Invalid {
                        error: e.to_string(),
                    })
                    .await;
                return;
            }
        };
        let mut connection = Connection {
            options: &mut options,
            decompressor: &decompressor,
            items: &items,
            control: &mut control,
            seen: &mut seen,
            max_message: config.max_message,
            tls: &tls,
        };
        let (error, delivered) = match connection.run(&url).await {
            End::Stop => return,
            End::Lost(error, delivered) => (error, delivered),
        };
        attempt = if delivered {
            1
        } else {
            attempt.saturating_add(1)
        };
        let delay = backoff(&config, attempt);
        tracing::debug!(%error, attempt, ?delay, "jetstream: reconnecting");
        let notice = Item::Reconnecting {
            error,
            attempt,
            delay,
        };
        if items.send(notice).await.is_err() {
            return;
        }
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                update = control.recv() => match update {
                    Some(update) => apply(&mut options, update),
                    None => return,
                },
            }
        }
    }
}

/// The delay before attempt `attempt` (1-based): doubling from the minimum, capped, with up to
/// a quarter of jitter.
pub(crate) fn backoff(config: &ClientConfig, attempt: u32) -> Duration {
    let shift = attempt.saturating_sub(1).min(20);
    let base = config
        .backoff_min
        .saturating_mul(1u32 << shift)
        .min(config.backoff_max);
    let quarter = u64::try_from(base.as_micros() / 4).unwrap_or(0);
    let jitter = if quarter == 0 {
        0
    } else {
        u64::try_from(system_time_us()).unwrap_or(0) % quarter
    };
    base.saturating_add(Duration::from_micros(jitter))
}

/// Takes the filters of `update`, keeping the connection settings of `options`.
fn apply(options: &mut SubscribeOptions, update: SubscribeOptions) {
    options.wanted_collections = update.wanted_collections;
    options.wanted_dids = update.wanted_dids;
    options.max_message_size_bytes = update.max_message_size_bytes;
}

struct Connection<'a> {
    options: &'a mut SubscribeOptions,
    decompressor: &'a Decompressor,
    items: &'a mpsc::Sender<Item>,
    control: &'a mut mpsc::Receiver<SubscribeOptions>,
    seen: &'a mut Delivered,
    max_message: usize,
    tls: &'a tokio_tungstenite::Connector,
}

impl Connection<'_> {
    async fn run(&mut self, url: &str) -> End {
        let mut delivered = false;
        let websocket = WebSocketConfig::default()
            .max_message_size(Some(self.max_message))
            .max_frame_size(Some(self.max_message));
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            url,
            Some(websocket),
            true,
            Some(self.tls.clone()),
        );
        let stream = match connect.await {
            Ok((stream, _response)) => stream,
            Err(e) => return End::Lost(format!("connect: {e}"), false),
        };
        let (mut sink, mut stream) = stream.split();
        if self.options.require_hello {
            let hello = Message::text(self.options.options_update());
            if let Err(e) = sink.send(hello).await {
                return End::Lost(format!("options_update: {e}"), false);
            }
        }
        loop {
            tokio::select! {
                update = self.control.recv() => {
                    let Some(update) = update else { return End::Stop };
                    apply(self.options, update);
                    let message = Message::text(self.options.options_update());
                    if let Err(e) = sink.send(message).await {
                        return End::Lost(format!("options_update: {e}"), delivered);
                    }
                }
                message = stream.next() => {
                    let message = match message {
                        None => return End::Lost("the server closed the connection".into(), delivered),
                        Some(Err(e)) => return End::Lost(e.to_string(), delivered),
                        Some(Ok(message)) => message,
                    };
                    let outcome = match message {
                        Message::Text(text) => self.deliver(text.as_bytes()).await,
                        Message::Binary(bytes) => {
                            if self.options.compress {
                                match self.decompressor.decompress(&bytes) {
                                    Ok(json) => self.deliver(&json).await,
                                    Err(e) => self.invalid(e.to_string()).await,
                                }
                            } else {
                                self.deliver(&bytes).await
                            }
                        }
                        Message::Close(frame) => {
                            let why = frame.map(|f| f.to_string()).unwrap_or_default();
                            return End::Lost(format!("the server closed the connection {why}"), delivered);
                        }
                        _ => Ok(false),
                    };
                    match outcome {
                        Ok(sent) => delivered |= sent,
                        Err(()) => return End::Stop,
                    }
                }
            }
        }
    }

    /// Parses and delivers one message unless already delivered. `Err` when the consumer is
    /// gone; `Ok(true)` when an event was delivered.
    async fn deliver(&mut self, json: &[u8]) -> Result<bool, ()> {
        if json.len() > self.max_message {
            return self
                .invalid(format!("a message of {} bytes", json.len()))
                .await;
        }
        let event = match JetstreamEvent::from_slice(json) {
            Ok(event) => event,
            Err(e) => return self.invalid(e.to_string()).await,
        };
        let Some(key) = self.seen.admit(&event) else {
            return Ok(false);
        };
        let time_us = event.time_us;
        self.items
            .send(Item::Event(Box::new(event)))
            .await
            .map_err(|_| ())?;
        self.seen.record(time_us, key);
        Ok(true)
    }

    async fn invalid(&self, error: String) -> Result<bool, ()> {
        self.items
            .send(Item::Invalid { error })
            .await
            .map(|()| false)
            .map_err(|_| ())
    }
}

/// The events delivered recently, to drop them when a resumed connection sends them again.
struct Delivered {
    /// The latest `time_us` delivered.
    latest: Option<i64>,
    /// Events older than this (the cursor the connection asked for) are not new.
    floor: Option<i64>,
    /// How far behind `latest` to remember.
    window: i64,
    keys: std::collections::HashSet<u64>,
    order: std::collections::VecDeque<(i64, u64)>,
}

impl Delivered {
    fn new(window: i64) -> Delivered {
        Delivered {
            latest: None,
            floor: None,
            window,
            keys: std::collections::HashSet::new(),
            order: std::collections::VecDeque::new(),
        }
    }

    /// The event's key if it has not been delivered, `None` if it has (or is older than the
    /// floor).
    fn admit(&self, event: &JetstreamEvent) -> Option<u64> {
        use std::hash::{Hash as _, Hasher as _};
        if self.floor.is_some_and(|floor| event.time_us < floor) {
            return None;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        event.position().hash(&mut hasher);
        event.did.hash(&mut hasher);
        event.kind.hash(&mut hasher);
        if let Some(commit) = &event.commit {
            commit.rev.hash(&mut hasher);
            commit.collection.hash(&mut hasher);
            commit.rkey.hash(&mut hasher);
        }
        let key = hasher.finish();
        (!self.keys.contains(&key)).then_some(key)
    }

    /// Notes a delivered event, forgetting those too old to come again.
    fn record(&mut self, time_us: i64, key: u64) {
        self.keys.insert(key);
        self.order.push_back((time_us, key));
        let latest = self.latest.map_or(time_us, |l| l.max(time_us));
        self.latest = Some(latest);
        let horizon = latest.saturating_sub(self.window);
        while let Some(&(t, k)) = self.order.front() {
            if t >= horizon {
                break;
            }
            self.order.pop_front();
            self.keys.remove(&k);
        }
    }
}
