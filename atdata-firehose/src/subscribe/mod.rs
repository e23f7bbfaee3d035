//! Subscribing to `com.atproto.sync.subscribeRepos` (the firehose) and
//! `com.atproto.label.subscribeLabels`, lossless across reconnects.
//!
//! A [`Subscription`] connects to a host, hands out [`Item`]s, and reconnects by itself when
//! the connection drops, stalls (no frame or pong for [`Subscription::stall_timeout`]) or the
//! server drops it as too slow, resuming after the last event it handed out. Connection
//! errors are logged (`tracing`) and counted ([`Stats`]), not items. A `FutureCursor` error
//! stops it with [`SubscribeError::FutureCursor`]: the cursor is never reset silently.
//!
//! The cursor is the highest seq below which every event has been handled. It is saved to a
//! [`CursorStore`] at most once a second and on shutdown, and loaded at start, so a consumer
//! that is killed and restarted sees every event at least once; events at or below the
//! cursor are dropped.
//!
//! Three ways in: an async [`Stream`](futures_util::Stream) ([`Subscription::stream`]), a
//! blocking iterator ([`Subscription::blocking`]), and callback runners
//! ([`Events::run`], [`Events::run_parallel`], [`Subscription::start`]).
//!
//! ```no_run
//! use atdata_firehose::subscribe::{FileStore, Item, Subscription};
//! use futures_util::StreamExt as _;
//!
//! # async fn f() -> Result<(), atdata_firehose::subscribe::SubscribeError> {
//! let mut events = Subscription::new()
//!     .host("wss://bsky.network")
//!     .cursor_store(FileStore::new("firehose.cursor"))
//!     .stream()?;
//! while let Some(item) = events.next().await {
//!     match item? {
//!         Item::Event(event) => println!("{} {:?}", event.kind(), event.seq()),
//!         Item::Invalid(invalid) => eprintln!("invalid: {}", invalid.reason),
//!         Item::Info(info) => eprintln!("info: {}", info.name),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```

mod backoff;
mod connection;
mod cursor;
mod labels;
mod runner;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atdata_api::com::atproto::sync::subscribe_repos::{Info, SubscribeRepos};
use atdata_core::xrpc::XrpcSubscription as _;
use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, watch};

pub use backoff::Backoff;
pub use connection::Stats;
pub use cursor::{CursorError, CursorStore, FileStore, MemoryStore};
pub use labels::{verify_label, LabelItem, LabelKeys, LabelSubscription};
pub use runner::{BlockingEvents, Events, PartitionKey, StopHandle};

use connection::{Config, Protocol, Shared, Step};
use cursor::Tracker;

use crate::event::{decode_repo_frame, Decoded, Invalid, InvalidEvent, RepoEvent};
use crate::frame::{FrameError, Limits, StreamError};

/// Why a subscription stopped or could not start. Connection errors are not among these:
/// they are retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The server has no event at the cursor asked for: the cursor is ahead of the stream
    /// (wrong host, or the server's history was reset). Not retried, and the cursor is not
    /// reset: decide what to do.
    #[error("the cursor is ahead of the stream: {0}")]
    FutureCursor(StreamError),
    /// The server refused the request itself (`InvalidRequest`, `AuthRequired`, …: a
    /// malformed cursor, say). Not retried: the same request would be refused again.
    #[error("the server refused the subscription: {0}")]
    Refused(StreamError),
    /// The cursor could not be loaded.
    #[error(transparent)]
    Cursor(#[from] CursorError),
    /// The host is not a WebSocket or HTTP URL.
    #[error("host {0:?}: not a ws://, wss://, http:// or https:// URL")]
    Url(String),
    /// TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// [`Subscription::stream`] was called outside a Tokio runtime.
    #[error("not inside a Tokio runtime")]
    NoRuntime,
    /// The blocking API's runtime could not be built.
    #[error("runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// One item of `subscribeRepos`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Item {
    /// An event, decoded and checked (and verified, with [`Subscription::check`]).
    Event(RepoEvent),
    /// An event that failed a check or verification. It counts as handled like any other.
    Invalid(Box<InvalidEvent>),
    /// `#info` from the server: `OutdatedCursor` means events before the stream's start
    /// were lost (the cursor was older than the server keeps).
    Info(Box<Info>),
}

impl Item {
    /// The event's seq (`#info` has none).
    pub fn seq(&self) -> Option<i64> {
        match self {
            Item::Event(e) => e.seq(),
            Item::Invalid(i) => i.seq,
            Item::Info(_) => None,
        }
    }
}

impl PartitionKey for Item {
    fn partition_key(&self) -> Option<&str> {
        match self {
            Item::Event(e) => e.repo().map(|d| d.as_str()),
            Item::Invalid(i) => i.repo.as_ref().map(|d| d.as_str()),
            Item::Info(_) => None,
        }
    }
}

/// A further check of each event before it is handed out, e.g. signature and MST
/// verification. An `Err` turns the event into an [`Item::Invalid`] with
/// [`Invalid::Verify`]. Checks run one event at a time, in stream order.
pub trait EventCheck: Send + Sync {
    /// Checks `event`.
    fn check<'a>(&'a self, event: &'a RepoEvent) -> BoxFuture<'a, Result<(), String>>;
}

impl<F, Fut> EventCheck for F
where
    F: Fn(&RepoEvent) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    fn check<'a>(&'a self, event: &'a RepoEvent) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self(event))
    }
}

/// `subscribeRepos` frames.
struct Repos {
    check: Option<Arc<dyn EventCheck>>,
}

impl Protocol for Repos {
    type Item = Item;
    const NSID: &'static str = SubscribeRepos::NSID;

    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<Step<Item>, FrameError> {
        Ok(match decode_repo_frame(bytes, limits)? {
            Decoded::Event(RepoEvent::Info(info)) => Step::Item {
                item: Item::Info(info),
                seq: None,
                invalid: false,
            },
            Decoded::Event(event) => Step::Item {
                seq: event.seq(),
                item: Item::Event(event),
                invalid: false,
            },
            Decoded::Invalid(invalid) => Step::Item {
                seq: invalid.seq,
                item: Item::Invalid(invalid),
                invalid: true,
            },
            Decoded::Unknown { t } => Step::Skip(t),
            Decoded::Error(e) => Step::Error(e),
        })
    }

    fn check(&self, item: Item) -> BoxFuture<'_, (Item, bool)> {
        Box::pin(async move {
            let (Some(check), Item::Event(event)) = (&self.check, &item) else {
                return (item, false);
            };
            match check.check(event).await {
                Ok(()) => (item, false),
                Err(reason) => {
                    let invalid = InvalidEvent {
                        seq: event.seq(),
                        repo: event.repo().cloned(),
                        kind: format!("#{}", event.kind()),
                        reason: Invalid::Verify(reason),
                    };
                    (Item::Invalid(Box::new(invalid)), true)
                }
            }
        })
    }
}

/// The relay most consumers read.
pub const DEFAULT_HOST: &str = "wss://bsky.network";

/// How many bytes of frames may wait for the consumer by default (64 MiB).
pub const DEFAULT_BUFFER_BYTES: usize = 64 << 20;

/// Settings shared by both kinds of subscription.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    host: String,
    store: Arc<dyn CursorStore>,
    start: Option<i64>,
    limits: Limits,
    capacity: usize,
    buffer_bytes: usize,
    stall_timeout: Duration,
    connect_timeout: Duration,
    backoff: Backoff,
    save_interval: Duration,
    stop: StopHandle,
}

impl Options {
    fn new() -> Self {
        let (stop, _) = watch::channel(false);
        Options {
            host: DEFAULT_HOST.into(),
            store: Arc::new(MemoryStore::new()),
            start: None,
            limits: Limits::default(),
            capacity: 256,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            stall_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            backoff: Backoff::default(),
            save_interval: Duration::from_secs(1),
            stop: StopHandle(Arc::new(stop)),
        }
    }

    /// Starts the socket task on the current runtime.
    fn spawn<P: Protocol>(self, protocol: P) -> Result<Events<P::Item>, SubscribeError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| SubscribeError::NoRuntime)?;
        let base = ws_base(&self.host)?;
        let tls = if base.starts_with("wss://") {
            Some(connection::tls_config()?)
        } else {
            None
        };
        let loaded = self.store.load()?;
        let start = self.start.or(loaded);
        tracing::info!(host = %base, nsid = P::NSID, cursor = ?start, "subscribing");
        let config = Config {
            base,
            limits: self.limits,
            stall_timeout: self.stall_timeout,
            connect_timeout: self.connect_timeout,
            backoff: self.backoff,
            save_interval: self.save_interval,
            tls,
        };
        let shared = Arc::new(Shared {
            tracker: Mutex::new(Tracker::new(start)),
            store: self.store,
            stats: Stats::default(),
            budget: Arc::new(tokio::sync::Semaphore::new(self.buffer_bytes)),
            budget_bytes: self.buffer_bytes,
        });
        let (tx, rx) = mpsc::channel(self.capacity.max(1));
        let stop_rx = self.stop.0.subscribe();
        let task = runtime.spawn(connection::run(
            protocol,
            config,
            shared.clone(),
            tx,
            stop_rx,
            start,
        ));
        Ok(Events {
            rx,
            shared,
            stop: self.stop,
            task: Some(task),
            last: None,
        })
    }
}

/// `ws://` or `wss://` and the host, from a URL or a bare host name (`wss://` then).
fn ws_base(host: &str) -> Result<String, SubscribeError> {
    let trimmed = host.trim();
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("wss".to_owned(), trimmed),
    };
    let rest = rest.trim_end_matches('/');
    let scheme = match scheme.as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(SubscribeError::Url(host.to_owned())),
    };
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(SubscribeError::Url(host.to_owned()));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// The settings every subscription kind has.
macro_rules! common_settings {
    () => {
        /// The host: `wss://…`, `ws://…`, `https://…` or `http://…` (read as WebSocket URLs), or a
        /// bare host name (`wss://`). Default [`DEFAULT_HOST`](crate::subscribe::DEFAULT_HOST).
        pub fn host(mut self, host: impl Into<String>) -> Self {
            self.options.host = host.into();
            self
        }

        /// Where the cursor is loaded from at start and saved to (at most once per
        /// [`save_interval`](Self::save_interval), and on shutdown). Default: in memory.
        pub fn cursor_store(mut self, store: impl crate::subscribe::CursorStore + 'static) -> Self {
            self.options.store = std::sync::Arc::new(store);
            self
        }

        /// Starts after `cursor` whatever the store holds (`0`: the oldest event the server
        /// keeps). Without a cursor here or in the store, the stream starts live.
        pub fn cursor(mut self, cursor: i64) -> Self {
            self.options.start = Some(cursor);
            self
        }

        /// Size limits for messages; larger ones become invalid items.
        pub fn limits(mut self, limits: crate::frame::Limits) -> Self {
            self.options.limits = limits;
            self
        }

        /// How many items may wait for the consumer (256). The socket is not read while the
        /// buffer is full (back-pressure); see also [`buffer_bytes`](Self::buffer_bytes).
        pub fn capacity(mut self, capacity: usize) -> Self {
            self.options.capacity = capacity;
            self
        }

        /// How many bytes of frames may wait for the consumer (64 MiB by default): waiting
        /// items are bounded by both this and [`capacity`](Self::capacity), so a slow
        /// consumer holds at most this much (plus one message larger than all of it, alone).
        /// Values above `u32::MAX` are lowered to it.
        pub fn buffer_bytes(mut self, bytes: usize) -> Self {
            self.options.buffer_bytes = bytes.clamp(1, u32::MAX as usize);
            self
        }

        /// Reconnect when no frame or pong arrived for this long (60 s). A ping goes out
        /// every third of it.
        pub fn stall_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.stall_timeout = timeout.max(std::time::Duration::from_millis(30));
            self
        }

        /// The longest a connect (TCP, TLS and WebSocket handshake) may take (15 s).
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.connect_timeout = timeout;
            self
        }

        /// The delays between reconnects.
        pub fn backoff(mut self, backoff: crate::subscribe::Backoff) -> Self {
            self.options.backoff = backoff;
            self
        }

        /// How often a changed cursor is saved (1 s).
        pub fn save_interval(mut self, interval: std::time::Duration) -> Self {
            self.options.save_interval = interval.max(std::time::Duration::from_millis(1));
            self
        }

        /// A handle that stops the subscription once started (for the runners). Clones of
        /// this builder share it.
        pub fn stop_handle(&self) -> crate::subscribe::StopHandle {
            self.options.stop.clone()
        }
    };
}
pub(crate) use common_settings;

/// A `com.atproto.sync.subscribeRepos` subscription, being set up.
#[derive(Clone)]
pub struct Subscription {
    options: Options,
    check: Option<Arc<dyn EventCheck>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("options", &self.options)
            .field("check", &self.check.is_some())
            .finish()
    }
}

impl Default for Subscription {
    fn default() -> Self {
        Subscription::new()
    }
}

impl Subscription {
    /// A subscription to [`DEFAULT_HOST`], starting live, its cursor kept in memory.
    pub fn new() -> Self {
        Subscription {
            options: Options::new(),
            check: None,
        }
    }

    common_settings!();

    /// Checks each event before it is handed out (verification); failures become
    /// [`Item::Invalid`].
    pub fn check(mut self, check: impl EventCheck + 'static) -> Self {
        self.check = Some(Arc::new(check));
        self
    }

    /// Verifies each commit and `#sync` event with `verifier` (see [`crate::verify`]);
    /// failures become [`Item::Invalid`] with [`Invalid::Verify`](crate::Invalid::Verify).
    pub fn verify<K>(self, verifier: crate::verify::CommitVerifier<K>) -> Self
    where
        K: crate::verify::KeySource + Send + Sync + 'static,
    {
        self.check(tokio::sync::Mutex::new(verifier))
    }

    /// Starts, on the current Tokio runtime: a stream of items.
    pub fn stream(self) -> Result<Events<Item>, SubscribeError> {
        self.options.spawn(Repos { check: self.check })
    }

    /// Starts on a runtime of its own: a blocking iterator of items.
    pub fn blocking(self) -> Result<BlockingEvents<Item>, SubscribeError> {
        let runtime = runner::blocking_runtime()?;
        let events = {
            let _guard = runtime.enter();
            self.stream()?
        };
        Ok(BlockingEvents::new(events, runtime))
    }

    /// Starts on a runtime of its own and calls `on_message` on each item, blocking until a
    /// [`StopHandle`] (from [`Subscription::stop_handle`]) stops it or it fails.
    pub fn start<F: FnMut(Item)>(self, mut on_message: F) -> Result<(), SubscribeError> {
        let runtime = runner::blocking_runtime()?;
        let events = {
            let _guard = runtime.enter();
            self.stream()?
        };
        runtime.block_on(events.run(|item| {
            on_message(item);
            std::future::ready(())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_websocket_urls() {
        for (host, base) in [
            ("https://bsky.network/", "wss://bsky.network"),
            ("http://localhost:2583", "ws://localhost:2583"),
            ("bsky.network", "wss://bsky.network"),
            ("WSS://relay.example", "wss://relay.example"),
        ] {
            assert_eq!(ws_base(host).ok().as_deref(), Some(base), "{host}");
        }
        for host in ["ftp://x", "https://", "wss://a?b"] {
            assert!(ws_base(host).is_err(), "{host}");
        }
    }
}
