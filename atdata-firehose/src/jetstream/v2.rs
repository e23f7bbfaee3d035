//! Jetstream v2: `network.bsky.jetstream.subscribeEvents`, framed per the `xrpc.v1.json`
//! subprotocol (atproto proposal 0015): one JSON object per WebSocket message, either
//! `{"$type": "message", "payload": {"$type": "<nsid>#<kind>", …}}` or
//! `{"$type": "error", "error": "<name>", "message"?: …}` (after which the server closes).
//!
//! This module parses frames and builds subscription URLs; the reconnecting client
//! ([`super::subscribe`]) speaks v1 only.

use serde::Deserialize;
use serde_json::value::RawValue;

use atdata_api::com::atproto::sync::subscribe_repos;

use crate::jetstream::event::Operation;

/// The subscription's NSID.
pub const NSID: &str = "network.bsky.jetstream.subscribeEvents";
/// The WebSocket subprotocol to offer (`Sec-WebSocket-Protocol`).
pub const SUBPROTOCOL: &str = "xrpc.v1.json";

/// One frame of the v2 stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Frame {
    /// A message.
    Message(Event),
    /// An error: the server closes the connection after it.
    Error {
        /// The error name (`ConsumerTooSlow`, `FutureCursor`, …).
        error: String,
        /// The message, when sent.
        message: Option<String>,
    },
}

/// A v2 message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `#commit`: one record operation.
    Commit(Commit),
    /// `#identity`: the upstream event, verbatim.
    Identity(Upstream<subscribe_repos::Identity>),
    /// `#account`: the upstream event, verbatim.
    Account(Upstream<subscribe_repos::Account>),
    /// `#sync`: the upstream event, verbatim (resynchronise the repository).
    Sync(Upstream<subscribe_repos::Sync>),
    /// `#info`: an advisory notice (`OutdatedCursor`); no `seq`.
    Info {
        /// The notice name.
        name: String,
        /// Details.
        message: Option<String>,
    },
    /// A message type this version does not know (its `$type`).
    Unknown(String),
}

impl Event {
    /// Jetstream's sequence number, the v2 cursor (`#info` and unknown types have none).
    pub fn seq(&self) -> Option<i64> {
        match self {
            Event::Commit(c) => Some(c.seq),
            Event::Identity(u) => Some(u.seq),
            Event::Account(u) => Some(u.seq),
            Event::Sync(u) => Some(u.seq),
            Event::Info { .. } | Event::Unknown(_) => None,
        }
    }
}

/// A v2 `#commit`.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Jetstream's sequence number (the cursor).
    pub seq: i64,
    /// The account.
    pub did: String,
    /// When Jetstream witnessed the event (microsecond precision).
    pub time: String,
    /// The commit's revision.
    pub rev: String,
    /// `create`, `update`, `delete` (or a value this version does not know).
    pub operation: String,
    /// The record's collection.
    pub collection: String,
    /// The record key.
    pub rkey: String,
    /// The record in atproto JSON, raw (absent for deletes).
    pub record: Option<Box<RawValue>>,
    /// The record's CID (absent for deletes).
    pub cid: Option<String>,
}

impl Commit {
    /// The operation, when it is one this version knows.
    pub fn operation(&self) -> Option<Operation> {
        match self.operation.as_str() {
            "create" => Some(Operation::Create),
            "update" => Some(Operation::Update),
            "delete" => Some(Operation::Delete),
            _ => None,
        }
    }
}

impl PartialEq for Commit {
    fn eq(&self, other: &Self) -> bool {
        let record = |c: &Commit| {
            c.record
                .as_deref()
                .map(|r| serde_json::from_str::<serde_json::Value>(r.get()).ok())
        };
        self.seq == other.seq
            && self.did == other.did
            && self.time == other.time
            && self.rev == other.rev
            && self.operation == other.operation
            && self.collection == other.collection
            && self.rkey == other.rkey
            && self.cid == other.cid
            && record(self) == record(other)
    }
}

/// An upstream `subscribeRepos` event as Jetstream wraps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream<T> {
    /// Jetstream's sequence number (the cursor).
    pub seq: i64,
    /// The account.
    pub did: String,
    /// When Jetstream witnessed the event.
    pub time: String,
    /// The upstream event; its `seq` and `time` are the relay's.
    pub event: Box<T>,
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Not JSON, or a field of the wrong type.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A frame `$type` other than `message` and `error`.
    #[error("unknown frame type {0:?}")]
    UnknownFrame(String),
    /// A required field is missing.
    #[error("{kind}: no {field}")]
    Missing {
        /// The message type.
        kind: String,
        /// The field.
        field: &'static str,
    },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "$type")]
    ty: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Every field any message has, read in one pass.
#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "$type")]
    ty: String,
    seq: Option<i64>,
    did: Option<String>,
    time: Option<String>,
    rev: Option<String>,
    operation: Option<String>,
    collection: Option<String>,
    rkey: Option<String>,
    record: Option<Box<RawValue>>,
    cid: Option<String>,
    identity: Option<subscribe_repos::Identity>,
    account: Option<subscribe_repos::Account>,
    sync: Option<subscribe_repos::Sync>,
    name: Option<String>,
    message: Option<String>,
}

/// Parses one frame (decompressed, when the stream is compressed).
///
/// ```
/// use atdata_firehose::jetstream::v2::{parse_frame, Event, Frame};
/// let frame = parse_frame(br#"{"$type":"error","error":"ConsumerTooSlow"}"#)?;
/// assert!(matches!(frame, Frame::Error { ref error, .. } if error == "ConsumerTooSlow"));
/// # Ok::<(), atdata_firehose::jetstream::v2::FrameError>(())
/// ```
pub fn parse_frame(bytes: &[u8]) -> Result<Frame, FrameError> {
    let envelope: Envelope<'_> = serde_json::from_slice(bytes)?;
    match envelope.ty.as_ref() {
        "error" => Ok(Frame::Error {
            error: envelope.error.ok_or(FrameError::Missing {
                kind: "error".into(),
                field: "error",
            })?,
            message: envelope.message,
        }),
        "message" => {
            let payload = envelope.payload.ok_or(FrameError::Missing {
                kind: "message".into(),
                field: "payload",
            })?;
            let payload: Payload = serde_json::from_str(payload.get())?;
            Ok(Frame::Message(event(payload)?))
        }
        other => Err(FrameError::UnknownFrame(other.to_owned())),
    }
}

fn event(p: Payload) -> Result<Event, FrameError> {
    let Some(kind) = p.ty.strip_prefix(NSID).map(str::to_owned) else {
        return Ok(Event::Unknown(p.ty));
    };
    let missing = |field| FrameError::Missing {
        kind: kind.clone(),
        field,
    };
    macro_rules! need {
        ($field:ident) => {
            p.$field.ok_or_else(|| missing(stringify!($field)))?
        };
    }
    Ok(match kind.as_str() {
        "#commit" => Event::Commit(Commit {
            seq: need!(seq),
            did: need!(did),
            time: need!(time),
            rev: need!(rev),
            operation: need!(operation),
            collection: need!(collection),
            rkey: need!(rkey),
            record: p.record,
            cid: p.cid,
        }),
        "#identity" => Event::Identity(Upstream {
            seq: need!(seq),
            did: need!(did),
            time: need!(time),
            event: Box::new(need!(identity)),
        }),
        "#account" => Event::Account(Upstream {
            seq: need!(seq),
            did: need!(did),
            time: need!(time),
            event: Box::new(need!(account)),
        }),
        "#sync" => Event::Sync(Upstream {
            seq: need!(seq),
            did: need!(did),
            time: need!(time),
            event: Box::new(need!(sync)),
        }),
        "#info" => Event::Info {
            name: need!(name),
            message: p.message,
        },
        _ => Event::Unknown(p.ty),
    })
}

/// What to ask a v2 server for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Resume from this `seq` (inclusive), or, when ≥ 10^15, from this unix-microseconds time.
    pub cursor: Option<i64>,
    /// Kinds to receive (`commit`, `identity`, `account`, `sync`); empty for all.
    pub kinds: Vec<String>,
    /// Accounts to receive events of; empty for all (at most 10,000).
    pub dids: Vec<String>,
    /// Collections (NSIDs or `prefix.*`) of the commits to receive; empty for all (at most 100).
    pub collections: Vec<String>,
    /// Skip frames larger than this (0 or none: no limit).
    pub max_message_size_bytes: Option<u32>,
    /// Ask for frames compressed with this zstd dictionary ID (see [`dictionary_id`]).
    pub zstd_dictionary: Option<u32>,
}

impl Options {
    /// The subscription URL for `endpoint` (`wss://host`), checked as the server checks it
    /// before the upgrade.
    pub fn url(&self, endpoint: &str) -> Result<String, crate::jetstream::OptionsError> {
        use crate::jetstream::client::SubscribeOptions;
        use crate::jetstream::OptionsError;
        let mut check = SubscribeOptions::new();
        check.wanted_collections = self.collections.clone();
        check.wanted_dids = self.dids.clone();
        check.validate()?;
        if !(endpoint.starts_with("ws://") || endpoint.starts_with("wss://")) {
            return Err(OptionsError::BadEndpoint(endpoint.to_owned()));
        }
        for kind in &self.kinds {
            if !matches!(kind.as_str(), "commit" | "identity" | "account" | "sync") {
                return Err(OptionsError::BadKind(kind.clone()));
            }
        }
        let mut url = format!("{}/xrpc/{NSID}", endpoint.trim_end_matches('/'));
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(cursor) = self.cursor {
            params.push(("cursor", cursor.to_string()));
        }
        params.extend(self.kinds.iter().map(|k| ("kinds", k.clone())));
        params.extend(
            self.dids
                .iter()
                .map(|d| ("dids", crate::jetstream::client::query_escape(d))),
        );
        params.extend(
            self.collections
                .iter()
                .map(|c| ("collections", crate::jetstream::client::query_escape(c))),
        );
        if let Some(bytes) = self.max_message_size_bytes {
            params.push(("maxMessageSizeBytes", bytes.to_string()));
        }
        if let Some(id) = self.zstd_dictionary {
            params.push(("zstdDictionary", id.to_string()));
        }
        for (i, (name, value)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(name);
            url.push('=');
            url.push_str(value);
        }
        Ok(url)
    }
}

/// The ID of a zstd structured dictionary (RFC 8878 section 5), which v2's `zstdDictionary`
/// parameter names; `None` for a raw-content dictionary.
pub fn dictionary_id(dictionary: &[u8]) -> Option<u32> {
    let magic = dictionary.get(0..4)?;
    if magic != [0x37, 0xa4, 0x30, 0xec] {
        return None;
    }
    let id = dictionary.get(4..8)?;
    Some(u32::from_le_bytes([id[0], id[1], id[2], id[3]]))
}

/// What a v2 [`Subscription`] yields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Item {
    /// An event (or `#info` notice), in `seq` order, never one delivered before.
    Event(Box<Event>),
    /// An error frame; the server closed the connection after it. After `FutureCursor` the
    /// subscription ends; after any other the client reconnects.
    ServerError {
        /// The error name.
        error: String,
        /// The message, when sent.
        message: Option<String>,
    },
    /// The connection was lost (or could not be made); the client retries after `delay`.
    Reconnecting {
        /// Why.
        error: String,
        /// Failed attempts in a row.
        attempt: u32,
        /// The wait before the next attempt.
        delay: std::time::Duration,
    },
    /// A frame that could not be read (skipped).
    Invalid {
        /// Why.
        error: String,
    },
}

/// Why a v2 subscription could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The options were refused.
    #[error(transparent)]
    Options(#[from] crate::jetstream::OptionsError),
    /// `zstd_dictionary` names a dictionary other than the one given (or none was given).
    #[error("zstdDictionary {asked:?} but the dictionary given has ID {given:?}")]
    Dictionary {
        /// The ID asked for.
        asked: Option<u32>,
        /// The given dictionary's ID.
        given: Option<u32>,
    },
}

/// A running v2 subscription. Dropping it closes the connection.
#[derive(Debug)]
pub struct Subscription {
    items: tokio::sync::mpsc::Receiver<Item>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscription {
    /// The next item; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Item> {
        self.items.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Subscribes to `network.bsky.jetstream.subscribeEvents` at `endpoint` (`wss://host`),
/// offering the `xrpc.v1.json` subprotocol. With `dictionary` (from `getZstdDictionary`) the
/// stream is compressed: `options.zstd_dictionary` is set to its ID. On reconnection the
/// client resumes from the last delivered `seq` (the cursor is inclusive) and drops what it
/// already delivered. Must be called within a Tokio runtime.
pub fn subscribe(
    endpoint: &str,
    mut options: Options,
    dictionary: Option<&[u8]>,
    config: crate::jetstream::ClientConfig,
) -> Result<Subscription, SubscribeError> {
    let given = dictionary.and_then(dictionary_id);
    match (options.zstd_dictionary, dictionary) {
        (None, None) => {}
        (None, Some(_)) if given.is_some() => options.zstd_dictionary = given,
        (Some(asked), Some(_)) if given == Some(asked) => {}
        (asked, _) => return Err(SubscribeError::Dictionary { asked, given }),
    }
    options.url(endpoint)?;
    let decompressor =
        dictionary.map(|d| crate::jetstream::Decompressor::with_dictionary(d, config.max_message));
    let (tx, items) = tokio::sync::mpsc::channel(config.channel_capacity.max(1));
    let task = tokio::spawn(run(endpoint.to_owned(), options, decompressor, config, tx));
    Ok(Subscription { items, task })
}

async fn run(
    endpoint: String,
    options: Options,
    decompressor: Option<crate::jetstream::Decompressor>,
    config: crate::jetstream::ClientConfig,
    items: tokio::sync::mpsc::Sender<Item>,
) {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    use tokio_tungstenite::tungstenite::Message;

    let tls = match crate::jetstream::client::tls_connector() {
        Ok(tls) => tls,
        Err(error) => {
            let _ = items.send(Item::Invalid { error }).await;
            return;
        }
    };
    let mut last_seq: Option<i64> = None;
    let mut attempt: u32 = 0;
    loop {
        let mut asked = options.clone();
        if last_seq.is_some() {
            asked.cursor = last_seq;
        }
        let request = asked
            .url(&endpoint)
            .map_err(|e| e.to_string())
            .and_then(|url| url.into_client_request().map_err(|e| e.to_string()));
        let mut request = match request {
            Ok(request) => request,
            Err(error) => {
                let _ = items.send(Item::Invalid { error }).await;
                return;
            }
        };
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            tokio_tungstenite::tungstenite::http::HeaderValue::from_static(SUBPROTOCOL),
        );
        let websocket = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(config.max_message))
            .max_frame_size(Some(config.max_message));
        let connect = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(websocket),
            true,
            Some(tls.clone()),
        );
        let mut delivered = false;
        let error = match connect.await {
            Err(e) => format!("connect: {e}"),
            Ok((mut stream, _)) => loop {
                let message = match stream.next().await {
                    None => break "the server closed the connection".to_owned(),
                    Some(Err(e)) => break e.to_string(),
                    Some(Ok(message)) => message,
                };
                let bytes: Vec<u8> = match message {
                    Message::Text(text) => text.as_bytes().to_vec(),
                    Message::Binary(bytes) => match &decompressor {
                        Some(d) => match d.decompress(&bytes) {
                            Ok(json) => json,
                            Err(e) => {
                                let error = e.to_string();
                                if items.send(Item::Invalid { error }).await.is_err() {
                                    return;
                                }
                                continue;
                            }
                        },
                        None => bytes.to_vec(),
                    },
                    Message::Close(_) => break "the server closed the connection".to_owned(),
                    _ => continue,
                };
                let item = match parse_frame(&bytes) {
                    Err(e) => Item::Invalid {
                        error: e.to_string(),
                    },
                    Ok(Frame::Error { error, message }) => {
                        let fatal = error == "FutureCursor";
                        let item = Item::ServerError {
                            error: error.clone(),
                            message,
                        };
                        if items.send(item).await.is_err() || fatal {
                            return;
                        }
                        break format!("error frame {error}");
                    }
                    Ok(Frame::Message(event)) => {
                        if let Some(seq) = event.seq() {
                            if last_seq.is_some_and(|last| seq <= last) {
                                continue;
                            }
                            last_seq = Some(seq);
                            delivered = true;
                        }
                        Item::Event(Box::new(event))
                    }
                };
                if items.send(item).await.is_err() {
                    return;
                }
            },
        };
        attempt = if delivered {
            1
        } else {
            attempt.saturating_add(1)
        };
        let delay = crate::jetstream::client::backoff(&config, attempt);
        let notice = Item::Reconnecting {
            error,
            attempt,
            delay,
        };
        if items.send(notice).await.is_err() {
            return;
        }
        tokio::time::sleep(delay).await;
    }
}
