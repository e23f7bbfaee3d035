//! The socket task shared by every subscription: connect (with a timeout), read frames, ping,
//! notice stalls, reconnect with backoff from the last seq handed out, and save the cursor.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep, sleep_until, timeout, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::Connector;
use tracing::{debug, info, warn};

use super::backoff::Backoff;
use super::cursor::{CursorStore, Tracker};
use super::SubscribeError;
use crate::frame::{FrameError, Limits, StreamError};

/// What the socket task sends the consumer: the item's seq (for the cursor) and the item.
/// What the socket task hands the consumer: the seq, the item or the error that ended the
/// subscription, and the share of the byte budget the item holds until it is handed out.
pub(crate) type Envelope<T> = (
    Option<i64>,
    Result<T, SubscribeError>,
    Option<tokio::sync::OwnedSemaphorePermit>,
);

/// What one frame holds, for the socket task.
pub(crate) enum Step<T> {
    /// An item to hand out, with its seq; `invalid` counts it as invalid.
    Item {
        item: T,
        seq: Option<i64>,
        invalid: bool,
    },
    /// A message type this version does not know.
    Skip(String),
    /// An error frame.
    Error(StreamError),
}

/// One kind of stream: its method and how its frames decode.
pub(crate) trait Protocol: Send + Sync + 'static {
    type Item: Send + 'static;
    const NSID: &'static str;
    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<Step<Self::Item>, FrameError>;
    /// A further check of a decoded item (verification); may turn it into an invalid one.
    fn check(&self, item: Self::Item) -> BoxFuture<'_, (Self::Item, bool)> {
        Box::pin(async move { (item, false) })
    }
}

/// Counters of what a subscription has been through. Connection errors are not items: they
/// are logged and counted here.
#[derive(Debug, Default)]
pub struct Stats {
    connects: AtomicU64,
    connection_errors: AtomicU64,
    consumer_too_slow: AtomicU64,
    invalid: AtomicU64,
    unknown: AtomicU64,
    replayed: AtomicU64,
    cursor_saves: AtomicU64,
    cursor_save_errors: AtomicU64,
}

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        impl Stats {
            $($(#[$doc])* pub fn $name(&self) -> u64 { self.$name.load(Ordering::Relaxed) })*
        }
    };
}

counters! {
    /// Successful WebSocket handshakes.
    connects;
    /// Connections lost or refused (each one followed by a reconnect).
    connection_errors;
    /// `ConsumerTooSlow` error frames (each one followed by a reconnect from the cursor).
    consumer_too_slow;
    /// Items delivered as invalid.
    invalid;
    /// Messages of a type this version does not know, skipped.
    unknown;
    /// Events at or below the cursor, dropped (a server replaying after a reconnect).
    replayed;
    /// Cursor saves.
    cursor_saves;
    /// Cursor saves that failed (logged; retried at the next save).
    cursor_save_errors;
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// State shared by the socket task and the consumer side.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) tracker: Mutex<Tracker>,
    pub(crate) store: Arc<dyn CursorStore>,
    pub(crate) stats: Stats,
    /// Bytes of frames whose items wait in the channel: a budget shared by the socket task
    /// (which takes an item's share before sending) and the consumer (which frees it on
    /// taking the item).
    pub(crate) budget: Arc<tokio::sync::Semaphore>,
    /// The budget's size.
    pub(crate) budget_bytes: usize,
}

impl Shared {
    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn delivered(&self, seq: i64) {
        self.tracker().delivered(seq);
    }

    pub(crate) fn completed(&self, seq: i64) {
        self.tracker().completed(seq);
    }

    pub(crate) fn cursor(&self) -> Option<i64> {
        self.tracker().cursor()
    }

    /// Saves the cursor if it moved since the last save.
    pub(crate) async fn save(&self) {
        let Some(cursor) = self.tracker().take_unsaved() else {
            return;
        };
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || store.save(cursor)).await;
        match result {
            Ok(Ok(())) => {
                bump(&self.stats.cursor_saves);
                debug!(cursor, "cursor saved");
            }
            Ok(Err(e)) => {
                bump(&self.stats.cursor_save_errors);
                warn!(cursor, error = %e, "cursor save failed");
                self.tracker().unsave();
            }
            Err(e) => {
                bump(&self.stats.cursor_save_errors);
                warn!(cursor, error = %e, "cursor save task failed");
                self.tracker().unsave();
            }
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// `ws://host` or `wss://host`, no trailing slash.
    pub(crate) base: String,
    pub(crate) limits: Limits,
    pub(crate) stall_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) backoff: Backoff,
    pub(crate) save_interval: Duration,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl Config {
    fn url(&self, nsid: &str, cursor: Option<i64>) -> String {
        match cursor {
            Some(c) => format!("{}/xrpc/{nsid}?cursor={c}", self.base),
            None => format!("{}/xrpc/{nsid}", self.base),
        }
    }
}

/// TLS for `wss://`: rustls with the ring provider and the webpki roots.
pub(crate) fn tls_config() -> Result<Arc<rustls::ClientConfig>, SubscribeError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SubscribeError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Why a connection ended.
enum End {
    /// Lost or refused: reconnect after a backoff.
    Retry(String),
    /// The server dropped us for reading too slowly: reconnect from the cursor.
    TooSlow(StreamError),
    /// Stop with this error.
    Fatal(SubscribeError),
    /// The consumer is gone or asked to stop.
    Gone,
}

/// Resolves when a stop was asked for or every stop handle is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

struct Task<P: Protocol> {
    protocol: P,
    config: Config,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Envelope<P::Item>>,
    stop: watch::Receiver<bool>,
    /// The highest seq handed out: reconnects resume after it, older events are dropped.
    last_sent: Option<i64>,
    save_tick: Interval,
}

/// Runs the socket side of a subscription until the consumer goes, a stop is asked for, or a
/// fatal error (sent to the consumer first). Saves the cursor on the way out.
pub(crate) async fn run<P: Protocol>(
    protocol: P,
    config: Config,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Envelope<P::Item>>,
    stop: watch::Receiver<bool>,
    start: Option<i64>,
) {
    let mut save_tick = tokio::time::interval(config.save_interval);
    save_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut task = Task {
        protocol,
        config,
        shared,
        tx,
        stop,
        last_sent: start,
        save_tick,
    };
    task.run().await;
    task.shared.save().await;
}

impl<P: Protocol> Task<P> {
    async fn run(&mut self) {
        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            match self.connection().await {
                End::Gone => return,
                End::Fatal(e) => {
                    warn!(nsid = P::NSID, error = %e, "subscription stopped");
                    let _ = tokio::select! {
                        r = self.tx.send((None, Err(e), None)) => r.is_ok(),
                        _ = stopped(&mut self.stop) => false,
                    };
                    return;
                }
                End::TooSlow(e) => {
                    bump(&self.shared.stats.consumer_too_slow);
                    warn!(nsid = P::NSID, error = %e, cursor = ?self.last_sent, "dropped as too slow; reconnecting from the cursor");
                }
                End::Retry(why) => {
                    bump(&self.shared.stats.connection_errors);
                    warn!(nsid = P::NSID, %why, cursor = ?self.last_sent, "connection lost; reconnecting");
                }
            }
            if started.elapsed() >= self.config.backoff.healthy_after {
                attempt = 0;
            }
            let delay = self.config.backoff.delay(attempt);
            attempt = attempt.saturating_add(1);
            debug!(?delay, attempt, "waiting before reconnecting");
            let wait = sleep(delay);
            tokio::pin!(wait);
            loop {
                tokio::select! {
                    _ = &mut wait => break,
                    _ = stopped(&mut self.stop) => return,
                    _ = self.tx.closed() => return,
                    _ = self.save_tick.tick() => self.shared.save().await,
                }
            }
        }
    }

    async fn connection(&mut self) -> End {
        let url = self.config.url(P::NSID, self.last_sent);
        debug!(%url, "connecting");
        // Room above the limit so an oversized message becomes an invalid item, not a
        // connection error; beyond this the connection is dropped.
        let max = self.config.limits.max_message.saturating_mul(2);
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(max))
            .max_frame_size(Some(max));
        let connector = match &self.config.tls {
            Some(tls) => Connector::Rustls(tls.clone()),
            None => Connector::Plain,
        };
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(ws_config),
            true,
            Some(connector),
        );
        let ws = tokio::select! {
            r = timeout(self.config.connect_timeout, connect) => match r {
                Err(_) => return End::Retry(format!("connect timed out after {:?}", self.config.connect_timeout)),
                Ok(Err(WsError::Http(response))) => {
                    let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
                    if body.contains("FutureCursor") {
                        return End::Fatal(SubscribeError::FutureCursor(StreamError {
                            name: "FutureCursor".into(),
                            message: Some(body.into_owned()),
                        }));
                    }
                    return End::Retry(format!("handshake refused: HTTP {}: {body}", response.status()));
                }
                Ok(Err(e)) => return End::Retry(format!("connect: {e}")),
                Ok(Ok((ws, _))) => ws,
            },
            _ = stopped(&mut self.stop) => return End::Gone,
            _ = self.tx.closed() => return End::Gone,
        };
        bump(&self.shared.stats.connects);
        info!(%url, "connected");
        let (mut sink, mut source) = ws.split();
        let stall = self.config.stall_timeout;
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + stall / 3, stall / 3);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut deadline = tokio::time::Instant::now() + stall;
        loop {
            let message = tokio::select! {
                biased;
                _ = stopped(&mut self.stop) => {
                    let _ = timeout(Duration::from_secs(1), sink.send(Message::Close(None))).await;
                    return End::Gone;
                }
                _ = self.tx.closed() => return End::Gone,
                _ = sleep_until(deadline) => {
                    return End::Retry(format!("no frame or pong for {stall:?}"));
                }
                _ = ping.tick() => {
                    if let Err(e) = timeout(stall, sink.send(Message::Ping(Default::default()))).await {
                        return End::Retry(format!("ping not sent: {e}"));
                    }
                    continue;
                }
                _ = self.save_tick.tick() => {
                    self.shared.save().await;
                    continue;
                }
                m = source.next() => m,
            };
            deadline = tokio::time::Instant::now() + stall;
            let bytes = match message {
                None => return End::Retry("closed by the server".into()),
                Some(Err(e)) => return End::Retry(e.to_string()),
                Some(Ok(Message::Binary(bytes))) => bytes,
                Some(Ok(Message::Close(frame))) => {
                    return End::Retry(format!("close frame: {frame:?}"));
                }
                Some(Ok(Message::Text(text))) => {
                    debug!(len = text.len(), "text message ignored");
                    continue;
                }
                Some(Ok(_)) => continue,
            };
            let (item, seq, invalid) = match self.protocol.decode(&bytes, &self.config.limits) {
                Err(e) => return End::Retry(format!("unreadable frame: {e}")),
                Ok(Step::Skip(t)) => {
                    bump(&self.shared.stats.unknown);
                    debug!(%t, "unknown message type skipped");
                    continue;
                }
                Ok(Step::Error(e)) if e.is_future_cursor() => {
                    return End::Fatal(SubscribeError::FutureCursor(e))
                }
                Ok(Step::Error(e)) if e.is_consumer_too_slow() => return End::TooSlow(e),
                Ok(Step::Error(e)) if e.is_request_refused() => {
                    return End::Fatal(SubscribeError::Refused(e))
                }
                Ok(Step::Error(e)) => return End::Retry(format!("error frame: {e}")),
                Ok(Step::Item { item, seq, invalid }) => (item, seq, invalid),
            };
            let weight = bytes.len();
            drop(bytes);
            if let (Some(seq), Some(last)) = (seq, self.last_sent) {
                if seq <= last {
                    bump(&self.shared.stats.replayed);
                    continue;
                }
            }
            let (item, failed) = if invalid {
                (item, true)
            } else {
                self.protocol.check(item).await
            };
            if failed {
                bump(&self.shared.stats.invalid);
            }
            if let Some(seq) = seq {
                self.shared.delivered(seq);
                self.last_sent = Some(seq);
            }
            if !self.deliver(seq, item, weight).await {
                return End::Gone;
            }
            // Reading paused while the consumer was full: the stall clock starts again.
            deadline = tokio::time::Instant::now() + stall;
        }
    }

    /// Hands one item to the consumer, waiting for room (back-pressure) in both the channel
    /// and the byte budget (the item holds `weight` bytes of it, its frame's size, until the
    /// consumer takes it); saves the cursor meanwhile. False when the consumer is gone or a
    /// stop was asked for.
    async fn deliver(&mut self, seq: Option<i64>, item: P::Item, weight: usize) -> bool {
        let budget = &self.shared.budget;
        // One message larger than the whole budget still passes, alone.
        let share = weight.clamp(1, self.shared.budget_bytes) as u32;
        let bytes = loop {
            tokio::select! {
                permit = budget.clone().acquire_many_owned(share) => match permit {
                    Ok(permit) => break permit,
                    Err(_) => return false,
                },
                _ = stopped(&mut self.stop) => return false,
                _ = self.save_tick.tick() => self.shared.save().await,
            }
        };
        let envelope = (seq, Ok(item), Some(bytes));
        loop {
            tokio::select! {
                permit = self.tx.reserve() => {
                    return match permit {
                        Ok(permit) => {
                            permit.send(envelope);
                            true
                        }
                        Err(_) => false,
                    };
                }
                _ = stopped(&mut self.stop) => return false,
                _ = self.save_tick.tick() => self.shared.save().await,
            }
        }
    }
}
