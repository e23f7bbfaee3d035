//! Jetstream v1 events: one JSON object per WebSocket message.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One Jetstream v1 event.
///
/// Records stay raw JSON ([`Commit::record`]) until asked for, so parsing an event costs one
/// pass over the bytes and a few small allocations.
///
/// ```
/// use atdata_firehose::jetstream::{JetstreamEvent, Kind, Operation};
///
/// let line = br#"{"did":"did:plc:abc","time_us":1783175888085434,"kind":"commit",
///   "commit":{"rev":"3mptbypluud2a","operation":"delete","collection":"app.bsky.feed.like","rkey":"3mptbyplj5d2a"}}"#;
/// let event = JetstreamEvent::from_slice(line)?;
/// assert_eq!(event.kind, Kind::Commit);
/// assert_eq!(event.commit.as_ref().map(|c| c.operation), Some(Operation::Delete));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JetstreamEvent {
    /// The account the event is about.
    pub did: String,
    /// When the Jetstream server received the event, in microseconds since the Unix epoch: the
    /// v1 cursor.
    pub time_us: i64,
    /// Which of `commit`, `identity` and `account` is set.
    pub kind: Kind,
    /// The record operation (`kind` = `commit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
    /// The identity change (`kind` = `identity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The account status change (`kind` = `account`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    /// The server's own sequence number, sent by newer servers beside `time_us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<i64>,
}

impl JetstreamEvent {
    /// Parses one message.
    pub fn from_slice(bytes: &[u8]) -> Result<JetstreamEvent, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Renders as one line of JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The key that orders events for resumption: `cursor` when the server sends it, else
    /// `time_us`.
    pub fn position(&self) -> i64 {
        self.cursor.unwrap_or(self.time_us)
    }
}

impl PartialEq for JetstreamEvent {
    fn eq(&self, other: &Self) -> bool {
        self.did == other.did
            && self.time_us == other.time_us
            && self.kind == other.kind
            && self.commit == other.commit
            && self.identity == other.identity
            && self.account == other.account
            && self.cursor == other.cursor
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A record was created, updated or deleted.
    Commit,
    /// A DID document or handle may have changed.
    Identity,
    /// An account's hosting status changed.
    Account,
    /// A kind this version does not know.
    #[serde(other)]
    Unknown,
}

/// What a commit event does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// A new record.
    Create,
    /// A record replaced.
    Update,
    /// A record removed.
    Delete,
}

impl Operation {
    /// `"create"`, `"update"` or `"delete"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// One record operation of a commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    /// The revision (TID) of the commit.
    pub rev: String,
    /// What was done.
    pub operation: Operation,
    /// The record's collection NSID.
    pub collection: String,
    /// The record key.
    pub rkey: String,
    /// The new record in atproto JSON (create, update), raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Box<RawValue>>,
    /// The new record's CID (create, update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
}

impl Commit {
    /// Decodes the record as `T` (a generated record type, `serde_json::Value`,
    /// `atdata_core::Value`, …). `None` for deletes.
    pub fn record_as<'a, T: Deserialize<'a>>(&'a self) -> Option<Result<T, serde_json::Error>> {
        self.record
            .as_deref()
            .map(|raw| serde_json::from_str(raw.get()))
    }

    /// The record's `$type`, read without decoding the rest.
    pub fn record_type(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct TypeOnly {
            #[serde(rename = "$type")]
            ty: Option<String>,
        }
        let typed: TypeOnly = self.record_as()?.ok()?;
        typed.ty
    }
}

impl PartialEq for Commit {
    /// Records compare as JSON values (key order and spacing ignored).
    fn eq(&self, other: &Self) -> bool {
        let record = |c: &Commit| -> Option<Option<serde_json::Value>> {
            match c.record.as_deref() {
                None => Some(None),
                Some(raw) => serde_json::from_str(raw.get()).ok().map(Some),
            }
        };
        self.rev == other.rev
            && self.operation == other.operation
            && self.collection == other.collection
            && self.rkey == other.rkey
            && self.cid == other.cid
            && match (record(self), record(other)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
    }
}

/// An identity event: the `#identity` message of `subscribeRepos`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The account.
    pub did: String,
    /// The handle, when the upstream event carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The upstream `subscribeRepos` sequence number.
    pub seq: i64,
    /// When the upstream event was emitted (RFC 3339).
    pub time: String,
}

/// An account event: the `#account` message of `subscribeRepos`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Whether the account is active.
    pub active: bool,
    /// The account.
    pub did: String,
    /// The upstream `subscribeRepos` sequence number.
    pub seq: i64,
    /// Why the account is inactive (`takendown`, `suspended`, `deleted`, `deactivated`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When the upstream event was emitted (RFC 3339).
    pub time: String,
}
