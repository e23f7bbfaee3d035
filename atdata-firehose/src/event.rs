//! `subscribeRepos` events: the generated message types, with each commit's CAR slice indexed
//! (every block's hash checked) so its records can be read.

use std::fmt;

use atdata_api::com::atproto::sync::subscribe_repos::{
    self, Account, Commit, Identity, Info, Message, RepoOp, Sync,
};
use atdata_core::car::CarReader;
use atdata_core::cid::{Cid, CidMap};
use atdata_core::syntax::Did;
use atdata_core::ValueRef;
use atdata_core::xrpc::XrpcSubscription as _;

use crate::frame::{split, Frame, FrameError, Limits, StreamError};

/// One event of `com.atproto.sync.subscribeRepos`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RepoEvent {
    /// `#commit`: a repository changed.
    Commit(CommitEvent),
    /// `#sync`: a repository's current commit, with no diff (resynchronise from here).
    Sync(SyncEvent),
    /// `#identity`: a DID document or handle may have changed.
    Identity(Box<Identity>),
    /// `#account`: an account's hosting status changed.
    Account(Box<Account>),
    /// `#info`: a message from the server (`OutdatedCursor`: the cursor asked for is older
    /// than the server keeps).
    Info(Box<Info>),
}

impl RepoEvent {
    /// The stream sequence number (`#info` has none).
    pub fn seq(&self) -> Option<i64> {
        match self {
            RepoEvent::Commit(c) => Some(c.commit.seq),
            RepoEvent::Sync(s) => Some(s.sync.seq),
            RepoEvent::Identity(i) => Some(i.seq),
            RepoEvent::Account(a) => Some(a.seq),
            RepoEvent::Info(_) => None,
        }
    }

    /// The account the event is about (`#info` has none).
    pub fn repo(&self) -> Option<&Did> {
        match self {
            RepoEvent::Commit(c) => Some(&c.commit.repo),
            RepoEvent::Sync(s) => Some(&s.sync.did),
            RepoEvent::Identity(i) => Some(&i.did),
            RepoEvent::Account(a) => Some(&a.did),
            RepoEvent::Info(_) => None,
        }
    }

    /// The header type: `"commit"`, `"sync"`, `"identity"`, `"account"` or `"info"`.
    pub fn kind(&self) -> &'static str {
        match self {
            RepoEvent::Commit(_) => "commit",
            RepoEvent::Sync(_) => "sync",
            RepoEvent::Identity(_) => "identity",
            RepoEvent::Account(_) => "account",
            RepoEvent::Info(_) => "info",
        }
    }
}

/// The blocks of a CAR slice, by CID, as ranges of the event's own bytes (no copies).
#[derive(Clone, Default)]
pub struct BlockIndex {
    root: Option<Cid>,
    ranges: CidMap<(u32, u32)>,
}

impl BlockIndex {
    /// Reads `car`, checking every block's hash. Duplicate blocks are allowed (they carry the
    /// same bytes).
    pub fn new(car: &[u8]) -> Result<BlockIndex, Invalid> {
        let reader = CarReader::new(car).map_err(|e| Invalid::Car(e.to_string()))?;
        let root = reader.roots().first().copied();
        let mut ranges = CidMap::default();
        let base = car.as_ptr() as usize;
        for block in reader.blocks() {
            let block = block.map_err(|e| Invalid::Car(e.to_string()))?;
            let start = block.data.as_ptr() as usize - base;
            // A CAR slice is at most `max_blocks` (far below 4 GiB): the casts are exact.
            ranges.insert(block.cid, (start as u32, block.data.len() as u32));
        }
        Ok(BlockIndex { root, ranges })
    }

    /// The first root of the CAR header.
    pub fn root(&self) -> Option<Cid> {
        self.root
    }

    /// How many distinct blocks.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The bytes of block `cid` in `car` (the slice this index was made from).
    pub fn get<'a>(&self, car: &'a [u8], cid: &Cid) -> Option<&'a [u8]> {
        let &(start, len) = self.ranges.get(cid)?;
        car.get(start as usize..start as usize + len as usize)
    }
}

impl fmt::Debug for BlockIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockIndex")
            .field("root", &self.root)
            .field("blocks", &self.ranges.len())
            .finish()
    }
}

/// A `#commit` event: the message and its indexed blocks.
#[derive(Debug, Clone)]
pub struct CommitEvent {
    /// The message as sent.
    pub commit: Box<Commit>,
    blocks: BlockIndex,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new record.
    Create,
    /// A record replaced.
    Update,
    /// A record removed.
    Delete,
}

impl Action {
    /// `"create"`, `"update"` or `"delete"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One operation of a commit, with its record's bytes when the slice holds them.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// What it does.
    pub action: Action,
    /// `collection/rkey`.
    pub path: &'a str,
    /// The new record's CID (create, update).
    pub cid: Option<Cid>,
    /// The previous record's CID (update, delete; sync 1.1).
    pub prev: Option<Cid>,
    /// The new record's DAG-CBOR bytes, when the slice has the block.
    pub record: Option<&'a [u8]>,
}

impl<'a> Op<'a> {
    /// The collection NSID part of the path.
    pub fn collection(&self) -> &'a str {
        self.path.split_once('/').map_or(self.path, |(c, _)| c)
    }

    /// The record key part of the path.
    pub fn rkey(&self) -> &'a str {
        self.path.split_once('/').map_or("", |(_, r)| r)
    }

    /// The record as a borrowed value.
    pub fn value_ref(&self) -> Option<Result<ValueRef<'a>, atdata_core::cbor::DecodeError>> {
        self.record.map(atdata_core::cbor::decode_ref)
    }

    /// The record as any serde type (generated record types, `serde_json::Value` in the
    /// atproto JSON view, `atdata_core::Value`).
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Option<Result<T, atdata_core::cbor::DecodeError>> {
        self.record.map(atdata_core::cbor::from_slice)
    }
}

impl CommitEvent {
    /// The commit's blocks.
    pub fn blocks(&self) -> &BlockIndex {
        &self.blocks
    }

    /// The bytes of block `cid` from the commit's slice.
    pub fn block(&self, cid: &Cid) -> Option<&[u8]> {
        self.blocks.get(&self.commit.blocks.0, cid)
    }

    /// The operations, each with its record bytes when the slice holds them.
    pub fn ops(&self) -> impl Iterator<Item = Op<'_>> + '_ {
        self.commit.ops.iter().map(|op| self.op(op))
    }

    fn op<'a>(&'a self, op: &'a RepoOp) -> Op<'a> {
        let action = match op.action.as_str() {
            "create" => Action::Create,
            "update" => Action::Update,
            _ => Action::Delete,
        };
        let cid = op.cid.as_ref().map(|c| c.0);
        Op {
            action,
            path: &op.path,
            cid,
            prev: op.prev.as_ref().map(|c| c.0),
            record: cid.and_then(|cid| self.block(&cid)),
        }
    }
}

/// A `#sync` event: the message and its indexed blocks (the commit block).
#[derive(Debug, Clone)]
pub struct SyncEvent {
    /// The message as sent.
    pub sync: Box<Sync>,
    blocks: BlockIndex,
}

impl SyncEvent {
    /// The slice's blocks.
    pub fn blocks(&self) -> &BlockIndex {
        &self.blocks
    }

    /// The bytes of block `cid` from the slice.
    pub fn block(&self, cid: &Cid) -> Option<&[u8]> {
        self.blocks.get(&self.sync.blocks.0, cid)
    }
}

/// Why one event is not delivered as valid. The stream goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The message is larger than [`Limits::max_message`].
    #[error("message of {size} bytes is over the limit of {limit}")]
    MessageTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The `blocks` slice is larger than [`Limits::max_blocks`].
    #[error("blocks of {size} bytes are over the limit of {limit}")]
    BlocksTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A record block is larger than [`Limits::max_record`].
    #[error("record {path} of {size} bytes is over the limit of {limit}")]
    RecordTooLarge {
        /// The operation's path.
        path: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More operations than [`Limits::max_ops`].
    #[error("{count} operations, over the limit of {limit}")]
    TooManyOps {
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The body does not decode as the message its header names.
    #[error("body: {0}")]
    Body(String),
    /// The `blocks` CAR slice is malformed, or a block does not hash to its CID.
    #[error("blocks: {0}")]
    Car(String),
    /// An operation is malformed (unknown action, a create without a CID, …).
    #[error("op {path}: {reason}")]
    Op {
        /// The operation's path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Verification failed; see [`crate::verify`].
    #[error("{0}")]
    Verify(String),
}

/// An event that failed a check: its seq and repo when they could be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEvent {
    /// The stream sequence number, if the message got that far.
    pub seq: Option<i64>,
    /// The account, if known.
    pub repo: Option<Did>,
    /// The header type (`"#commit"`, …).
    pub kind: String,
    /// Why.
    pub reason: Invalid,
}

/// What one frame of `subscribeRepos` holds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Decoded {
    /// An event, decoded and checked (sizes, CAR hashes, ops).
    Event(RepoEvent),
    /// An event that failed a check.
    Invalid(Box<InvalidEvent>),
    /// A message type this version does not know: skipped, as the spec asks.
    Unknown {
        /// Its header type.
        t: String,
    },
    /// An error frame: the server closes the connection after it.
    Error(StreamError),
}

/// Decodes one `subscribeRepos` frame, checking sizes against `limits`, every block's hash,
/// and each operation's shape. Errors are connection errors (a frame that cannot be split).
pub fn decode_repo_frame(bytes: &[u8], limits: &Limits) -> Result<Decoded, FrameError> {
    let invalid = |kind: &str, seq, repo, reason| {
        Decoded::Invalid(Box::new(InvalidEvent {
            seq,
            repo,
            kind: kind.to_owned(),
            reason,
        }))
    };
    if bytes.len() > limits.max_message {
        let reason = Invalid::MessageTooLarge {
            size: bytes.len(),
            limit: limits.max_message,
        };
        return Ok(invalid("", None, None, reason));
    }
    let (t, body) = match split(bytes)? {
        Frame::Error(e) => return Ok(Decoded::Error(e)),
        Frame::Message { t, body } => (t, body),
    };
    let message = match subscribe_repos::SubscribeRepos::decode_message(t, body) {
        Ok(message) => message,
        Err(e) => return Ok(invalid(t, None, None, Invalid::Body(e.to_string()))),
    };
    Ok(match message {
        Message::Commit(commit) => match commit_event(commit, limits) {
            Ok(event) => Decoded::Event(RepoEvent::Commit(event)),
            Err((commit, reason)) => invalid(t, Some(commit.seq), Some(commit.repo), reason),
        },
        Message::Sync(sync) => {
            if sync.blocks.0.len() > limits.max_blocks {
                let reason = Invalid::BlocksTooLarge {
                    size: sync.blocks.0.len(),
                    limit: limits.max_blocks,
                };
                return Ok(invalid(t, Some(sync.seq), Some(sync.did), reason));
            }
            match BlockIndex::new(&sync.blocks.0) {
                Ok(blocks) => Decoded::Event(RepoEvent::Sync(SyncEvent { sync, blocks })),
                Err(reason) => invalid(t, Some(sync.seq), Some(sync.did), reason),
            }
        }
        Message::Identity(identity) => Decoded::Event(RepoEvent::Identity(identity)),
        Message::Account(account) => Decoded::Event(RepoEvent::Account(account)),
        Message::Info(info) => Decoded::Event(RepoEvent::Info(info)),
        Message::Unknown(_) => Decoded::Unknown { t: t.to_owned() },
    })
}

/// Checks a commit's sizes, blocks and ops, and indexes its blocks.
#[allow(clippy::result_large_err)]
fn commit_event(commit: Box<Commit>, limits: &Limits) -> Result<CommitEvent, (Commit, Invalid)> {
    let fail = |commit: Box<Commit>, reason| Err((*commit, reason));
    if commit.blocks.0.len() > limits.max_blocks {
        let reason = Invalid::BlocksTooLarge {
            size: commit.blocks.0.len(),
            limit: limits.max_blocks,
        };
        return fail(commit, reason);
    }
    if commit.ops.len() > limits.max_ops {
        let reason = Invalid::TooManyOps {
            count: commit.ops.len(),
            limit: limits.max_ops,
        };
        return fail(commit, reason);
    }
    let blocks = match BlockIndex::new(&commit.blocks.0) {
        Ok(blocks) => blocks,
        Err(reason) => return fail(commit, reason),
    };
    for op in &commit.ops {
        let bad = |reason: &str| Invalid::Op {
            path: op.path.clone(),
            reason: reason.to_owned(),
        };
        let problem = match (op.action.as_str(), &op.cid) {
            ("create" | "update", None) => Some(bad("no CID")),
            ("delete", Some(_)) => Some(bad("a delete with a CID")),
            ("create" | "update" | "delete", _) => None,
            (other, _) => Some(bad(&format!("unknown action {other:?}"))),
        };
        if let Some(reason) = problem {
            return fail(commit, reason);
        }
        if let Some(cid) = &op.cid {
            if let Some(record) = blocks.get(&commit.blocks.0, &cid.0) {
                if record.len() > limits.max_record {
                    let reason = Invalid::RecordTooLarge {
                        path: op.path.clone(),
                        size: record.len(),
                        limit: limits.max_record,
                    };
                    return fail(commit, reason);
                }
            }
        }
    }
    Ok(CommitEvent { commit, blocks })
}
