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
