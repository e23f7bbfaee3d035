//! Checking `subscribeRepos` events: commit signatures, and (Sync 1.1) each commit's
//! operations against its MST proof, by inversion, and against the account's revision chain.
//!
//! A [`CommitVerifier`] checks events at a [`VerifyLevel`]:
//!
//! - [`VerifyLevel::Sig`]: the commit block named by the event is in its blocks, decodes as a
//!   signed repository commit of the event's account and revision, and its signature verifies
//!   with the account's key, which comes from a [`KeySource`] (an
//!   [`atdata_identity::Resolver`], or [`StaticKeys`] for replays and tests).
//! - [`VerifyLevel::Full`]: also, the tree under the commit's `data` holds every created or
//!   updated path with the operation's CID and no deleted path; undoing the operations in
//!   reverse on the partial tree the blocks prove gives the previous commit's root (`prevData`);
//!   the event's `since` is the revision last seen for the account; revisions increase and are
//!   not too far in the future. `#sync` events get their commit checked and restart the chain.
//!
//! What the checks decide, where the spec leaves room:
//!
//! - A repository's first commit (no `since`) without `prevData` is inverted to the empty
//!   tree; if it does not invert to it (a legacy commit that left `since` out), it counts as
//!   a commit without `prevData`.
//! - Any other commit without `prevData` (from a PDS older than Sync 1.1) cannot be inverted: it fails
//!   with [`VerifyError::MissingPrevData`] unless the verifier is
//!   [lenient](CommitVerifier::lenient); then inversion is skipped (the ops are still checked
//!   against the tree). Lenient verification also lets a `since` that is not the last seen
//!   revision through (older servers did not keep the chain exact); the chain resumes from
//!   the new commit.
//! - A `tooBig` commit (a legacy flag: its blocks and ops are truncated) cannot be checked
//!   against its tree. Strict verification rejects it ([`VerifyError::TooBig`]); lenient
//!   verification checks its signature and revision only.
//! - When `since` does not match (strict), the event is rejected with
//!   [`VerifyError::ChainBroken`], but the chain resumes from its revision: the commit is
//!   authentic (its signature and tree checked out), events were missed, and the account
//!   should be resynchronised. A revision that does not increase leaves the chain as it was.
//! - The chain state is bounded (see [`CommitVerifier::max_accounts`]): an account evicted
//!   from it, or not yet seen, has no `since` check for its next commit.
//! - With [`CommitVerifier::require_signature`] off, an account whose key the source does not
//!   know ([`KeyError::Unknown`]) is checked without its signature (replays of recordings
//!   whose identities are gone); a key that is known but does not verify still fails.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use atdata_core::cid::Cid;
use atdata_core::mst::{BlockSource, Mst, MstError};
use atdata_core::repo::Commit as SignedCommit;
use atdata_core::syntax::{Did, Tid};
use atdata_crypto::PublicKey;

use crate::event::{Action, BlockIndex, CommitEvent, Invalid, RepoEvent, SyncEvent};

/// How much of each event is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum VerifyLevel {
    /// Nothing: every event passes.
    Off,
    /// The commit block and its signature.
    #[default]
    Sig,
    /// The signature, the operations against the MST proof (inversion to `prevData`), and the
    /// account's revision chain (Sync 1.1).
    Full,
}

/// Why an event failed verification. Each check has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The commit block the event names is not in its blocks.
    #[error("commit block {0} is not in the event's blocks")]
    MissingCommitBlock(Cid),
    /// The commit block does not decode as a signed repository commit.
    #[error("bad commit block: {0}")]
    BadCommitBlock(String),
    /// The commit is another account's.
    #[error("commit is signed for {commit}, the event is for {event}")]
    RepoMismatch {
        /// The commit's `did`.
        commit: Did,
        /// The event's account.
        event: Did,
    },
    /// The commit's revision is not the event's.
    #[error("commit rev {commit:?} is not the event's rev {event}")]
    RevMismatch {
        /// The commit's `rev` (absent in a v2 commit).
        commit: Option<Tid>,
        /// The event's `rev`.
        event: Tid,
    },
    /// The event's `rev` is not a TID.
    #[error("rev {0:?} is not a TID")]
    BadRev(String),
    /// The signature does not verify with the account's key.
    #[error("signature: {0}")]
    Signature(String),
    /// The account's key could not be had.
    #[error("signing key unavailable: {0}")]
    KeyUnavailable(String),
    /// The key source does not know the account (and signatures are required).
    #[error("signing key of {0} unknown")]
    KeyUnknown(Did),
    /// The tree's blocks do not load from the commit's `data`.
    #[error("MST proof: {0}")]
    BadTree(String),
    /// A lookup or an undo needed a subtree the blocks do not hold.
    #[error("MST proof is missing a node needed for {path}")]
    IncompleteProof {
        /// The operation's path.
        path: String,
    },
    /// The tree does not hold what an operation says: a created or updated path with another
    /// CID (or none), or a deleted path still present.
    #[error("op {path}: the tree holds {found:?}, the op says {expected:?}")]
    OpNotInTree {
        /// The operation's path.
        path: String,
        /// The CID the operation gives (`None` for a delete).
        expected: Option<Cid>,
        /// What the tree holds.
        found: Option<Cid>,
    },
    /// An update or delete without `prev`, in a commit that has `prevData`: it cannot be undone.
    #[error("op {path}: no prev to undo it")]
    MissingOpPrev {
        /// The operation's path.
        path: String,
    },
    /// Undoing the operations does not give `prevData`.
    #[error("inverted root {inverted} is not prevData {prev_data}")]
    InversionMismatch {
        /// The event's `prevData` (the empty tree's root for a repository's first commit).
        prev_data: Cid,
        /// The root after undoing every operation.
        inverted: Cid,
    },
    /// A commit with `since` but without `prevData` (verification is not lenient).
    #[error("no prevData (a pre-Sync 1.1 commit)")]
    MissingPrevData,
    /// A `tooBig` commit (verification is not lenient).
    #[error("tooBig commit: its operations cannot be checked")]
    TooBig,
    /// `since` is not the revision last seen for the account.
    #[error("since {since:?}, but the last rev seen is {expected}")]
    ChainBroken {
        /// The last revision seen, which `since` should be.
        expected: Tid,
        /// The event's `since`.
        since: Option<Tid>,
    },
    /// The revision is not after the last one seen for the account.
    #[error("rev {rev} is not after the last rev seen, {previous}")]
    RevNotIncreasing {
        /// The last revision seen.
        previous: Tid,
        /// The event's.
        rev: Tid,
    },
    /// The revision's timestamp is too far ahead of the clock.
    #[error("rev {rev} is {ahead:?} in the future")]
    FutureRev {
        /// The event's revision.
        rev: Tid,
        /// How far ahead of now.
        ahead: Duration,
    },
}

impl From<VerifyError> for Invalid {
    fn from(e: VerifyError) -> Invalid {
        Invalid::Verify(e.to_string())
    }
}

/// Why a [`KeySource`] could not confirm a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The source has no key for the account.
    #[error("no key known")]
    Unknown,
    /// The key could not be fetched (resolution failed).
    #[error("{0}")]
    Unavailable(String),
    /// The signature does not verify with the account's (current) key.
    #[error("{0}")]
    Signature(String),
}

/// Where accounts' signing keys come from.
pub trait KeySource: Send + Sync {
    /// Checks `commit`'s signature with `did`'s signing key.
    fn verify_commit<'a>(
        &'a self,
        did: &'a Did,
        commit: &'a SignedCommit,
    ) -> impl Future<Output = Result<(), KeyError>> + Send + 'a;
}

/// Keys from the resolver's cache or the network; a key that fails is refreshed once (a
/// rotation), through [`atdata_identity::Resolver::verify_with`].
impl KeySource for atdata_identity::Resolver {
    async fn verify_commit(&self, did: &Did, commit: &SignedCommit) -> Result<(), KeyError> {
        use atdata_identity::KeyCheckError;
        match self.verify_with(did, |key| commit.verify(key)).await {
            Ok(()) => Ok(()),
            Err(KeyCheckError::Resolve(e)) => Err(KeyError::Unavailable(e.to_string())),
            Err(KeyCheckError::Check(e)) => Err(KeyError::Signature(e.to_string())),
        }
    }
}

impl<S: std::hash::BuildHasher + Send + Sync> KeySource for HashMap<Did, PublicKey, S> {
    async fn verify_commit(&self, did: &Did, commit: &SignedCommit) -> Result<(), KeyError> {
        let key = self.get(did).ok_or(KeyError::Unknown)?;
        commit
            .verify(key)
            .map_err(|e| KeyError::Signature(e.to_string()))
    }
}

impl<K: KeySource> KeySource for &K {
    fn verify_commit<'a>(
        &'a self,
        did: &'a Did,
        commit: &'a SignedCommit,
    ) -> impl Future<Output = Result<(), KeyError>> + Send + 'a {
        (**self).verify_commit(did, commit)
    }
}

impl<K: KeySource> KeySource for std::sync::Arc<K> {
    fn verify_commit<'a>(
        &'a self,
        did: &'a Did,
        commit: &'a SignedCommit,
    ) -> impl Future<Output = Result<(), KeyError>> + Send + 'a {
        (**self).verify_commit(did, commit)
    }
}

/// A source that knows no keys: with [`CommitVerifier::require_signature`] off, events are
/// checked without their signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKeys;

impl KeySource for NoKeys {
    async fn verify_commit(&self, _: &Did, _: &SignedCommit) -> Result<(), KeyError> {
        Err(KeyError::Unknown)
    }
}

/// A fixed map of signing keys, for replays and tests.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    keys: HashMap<Did, PublicKey>,
}

/// Why [`StaticKeys::from_did_documents_json`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StaticKeysError {
    /// The JSON is not an object of DID documents.
    #[error("DID documents: {0}")]
    Json(#[from] serde_json::Error),
    /// A key is not a DID.
    #[error("{0:?} is not a DID")]
    Did(String),
    /// A document is for another DID than its key.
    #[error("the document under {key} is for {document}")]
    Mismatch {
        /// The map's key.
        key: String,
        /// The document's `id`.
        document: String,
    },
}

impl StaticKeys {
    /// An empty map.
    pub fn new() -> StaticKeys {
        StaticKeys::default()
    }

    /// Adds (or replaces) an account's key.
    pub fn insert(&mut self, did: Did, key: PublicKey) -> Option<PublicKey> {
        self.keys.insert(did, key)
    }

    /// The key of `did`, if known.
    pub fn get(&self, did: &Did) -> Option<&PublicKey> {
        self.keys.get(did)
    }

    /// How many accounts.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Reads a JSON object from DID to DID document (as `did_docs.json` files hold). A document
    /// without a usable `#atproto` key is left out (its account's events then have no key).
    pub fn from_did_documents_json(json: &str) -> Result<StaticKeys, StaticKeysError> {
        let docs: HashMap<String, serde_json::Value> = serde_json::from_str(json)?;
        let mut keys = HashMap::with_capacity(docs.len());
        for (did, doc) in docs {
            let parsed = Did::new(&did).map_err(|_| StaticKeysError::Did(did.clone()))?;
            let identity = atdata_identity::Identity::from_json(&doc.to_string(), false)?;
            if identity.did() != &parsed {
                return Err(StaticKeysError::Mismatch {
                    key: did,
                    document: identity.did().to_string(),
                });
            }
            if let Ok(key) = identity.signing_key() {
                keys.insert(parsed, key);
            }
        }
        Ok(StaticKeys { keys })
    }
}

impl From<HashMap<Did, PublicKey>> for StaticKeys {
    fn from(keys: HashMap<Did, PublicKey>) -> StaticKeys {
        StaticKeys { keys }
    }
}

impl KeySource for StaticKeys {
    fn verify_commit<'a>(
        &'a self,
        did: &'a Did,
        commit: &'a SignedCommit,
    ) -> impl Future<Output = Result<(), KeyError>> + Send + 'a {
        self.keys.verify_commit(did, commit)
    }
}

/// The default bound of the chain state: accounts remembered.
pub const DEFAULT_MAX_ACCOUNTS: usize = 1_000_000;

/// The default tolerance for revisions ahead of the clock.
pub const DEFAULT_MAX_FUTURE: Duration = Duration::from_secs(5 * 60);

/// The last revision seen per account, bounded: two generations of a seeded hash map; when
/// the newer fills half the bound, the older is dropped (accounts not seen for a generation
/// are forgotten first).
#[derive(Debug)]
struct Chain {
    current: HashMap<Did, Tid>,
    older: HashMap<Did, Tid>,
    half: usize,
}

impl Chain {
    fn new(max: usize) -> Chain {
        Chain {
            current: HashMap::new(),
            older: HashMap::new(),
            half: (max / 2).max(1),
        }
    }

    fn get(&self, did: &Did) -> Option<Tid> {
        self.current
            .get(did)
            .or_else(|| self.older.get(did))
            .copied()
    }

    fn set(&mut self, did: &Did, rev: Tid) {
        if let Some(slot) = self.current.get_mut(did) {
            *slot = rev;
            return;
        }
        if self.current.len() >= self.half {
            self.older = std::mem::take(&mut self.current);
        }
        self.older.remove(did);
        self.current.insert(did.clone(), rev);
    }

    fn len(&self) -> usize {
        self.current.len() + self.older.len()
    }
}

/// The blocks of one event, as the MST loader reads them.
struct EventBlocks<'a> {
    index: &'a BlockIndex,
    car: &'a [u8],
}

impl BlockSource for EventBlocks<'_> {
    fn get_block(&self, cid: &Cid) -> Option<&[u8]> {
        self.index.get(self.car, cid)
    }

    /// [`BlockIndex::new`] checked every block's hash when the event was decoded, so the loader
    /// need not hash the proof nodes again.
    fn hashes_verified(&self) -> bool {
        true
    }
}

/// Checks `subscribeRepos` events (see the [module docs](self)), keeping each account's last
/// revision for the chain checks.
#[derive(Debug)]
pub struct CommitVerifier<K> {
    keys: K,
    level: VerifyLevel,
    lenient: bool,
    require_signature: bool,
    max_future: Duration,
    chain: Chain,
}

impl<K: KeySource> CommitVerifier<K> {
    /// A verifier at `level` with keys from `keys`: strict, signatures required, revisions
    /// up to [`DEFAULT_MAX_FUTURE`] ahead, [`DEFAULT_MAX_ACCOUNTS`] remembered.
    pub fn new(keys: K, level: VerifyLevel) -> CommitVerifier<K> {
        CommitVerifier {
            keys,
            level,
            lenient: false,
            require_signature: true,
            max_future: DEFAULT_MAX_FUTURE,
            chain: Chain::new(DEFAULT_MAX_ACCOUNTS),
        }
    }

    /// Accepts pre-Sync 1.1 commits: no `prevData` (inversion skipped), a `since` gap, and
    /// `tooBig` (tree checks skipped). Off by default.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// Whether an account whose key the source does not know fails
    /// ([`VerifyError::KeyUnknown`]; the default) or is checked without its signature.
    pub fn require_signature(mut self, require: bool) -> Self {
        self.require_signature = require;
        self
    }

    /// How far ahead of the clock a revision's timestamp may be (default five minutes).
    pub fn max_future(mut self, max: Duration) -> Self {
        self.max_future = max;
        self
    }

    /// How many accounts' last revisions are remembered (default [`DEFAULT_MAX_ACCOUNTS`]).
    /// Resets the chain state.
    pub fn max_accounts(mut self, max: usize) -> Self {
        self.chain = Chain::new(max);
        self
    }

    /// The level.
    pub fn level(&self) -> VerifyLevel {
        self.level
    }

    /// The key source.
    pub fn keys(&self) -> &K {
        &self.keys
    }

    /// The last revision seen for `did`, if remembered.
    pub fn last_rev(&self, did: &Did) -> Option<Tid> {
        self.chain.get(did)
    }

    /// Sets the last revision seen for `did` (to resume from a saved state).
    pub fn set_last_rev(&mut self, did: &Did, rev: Tid) {
        self.chain.set(did, rev);
    }

    /// How many accounts' revisions are remembered.
    pub fn accounts(&self) -> usize {
        self.chain.len()
    }

    /// Checks one event. Events other than `#commit` and `#sync` pass.
    pub async fn verify(&mut self, event: &RepoEvent) -> Result<(), VerifyError> {
        match event {
            RepoEvent::Commit(commit) => self.verify_commit(commit).await,
            RepoEvent::Sync(sync) => self.verify_sync(sync).await,
            _ => Ok(()),
        }
    }

    /// Checks a `#commit` event.
    pub async fn verify_commit(&mut self, event: &CommitEvent) -> Result<(), VerifyError> {
        if self.level == VerifyLevel::Off {
            return Ok(());
        }
        let msg = &event.commit;
        let signed = signed_commit(
            event.block(&msg.commit.0),
            &msg.commit.0,
            &msg.repo,
            &msg.rev,
        )?;
        if self.level == VerifyLevel::Full {
            // Cheap checks before the signature.
            self.check_rev(&msg.repo, &msg.rev)?;
            if msg.too_big {
                if !self.lenient {
                    return Err(VerifyError::TooBig);
                }
            } else {
                self.check_tree(event, &signed)?;
            }
        }
        self.check_signature(&msg.repo, &signed).await?;
        if self.level == VerifyLevel::Full {
            let previous = self.chain.get(&msg.repo);
            self.chain.set(&msg.repo, msg.rev);
            if let Some(expected) = previous {
                if msg.since != Some(expected) && !self.lenient {
                    return Err(VerifyError::ChainBroken {
                        expected,
                        since: msg.since,
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks a `#sync` event: its commit block and signature; at [`VerifyLevel::Full`], its
    /// revision (not before the last seen, not in the future), and the chain restarts from it.
    pub async fn verify_sync(&mut self, event: &SyncEvent) -> Result<(), VerifyError> {
        if self.level == VerifyLevel::Off {
            return Ok(());
        }
        let msg = &event.sync;
        let root = event
            .blocks()
            .root()
            .ok_or_else(|| VerifyError::BadCommitBlock("the blocks have no root".into()))?;
        let rev = Tid::new(&msg.rev).map_err(|_| VerifyError::BadRev(msg.rev.clone()))?;
        let signed = signed_commit(event.block(&root), &root, &msg.did, &rev)?;
        if self.level == VerifyLevel::Full {
            self.check_future(&rev)?;
            if let Some(previous) = self.chain.get(&msg.did) {
                if rev < previous {
                    return Err(VerifyError::RevNotIncreasing { previous, rev });
                }
            }
        }
        self.check_signature(&msg.did, &signed).await?;
        if self.level == VerifyLevel::Full {
            self.chain.set(&msg.did, rev);
        }
        Ok(())
    }

    async fn check_signature(&self, did: &Did, signed: &SignedCommit) -> Result<(), VerifyError> {
        match self.keys.verify_commit(did, signed).await {
            Ok(()) => Ok(()),
            Err(KeyError::Unknown) if !self.require_signature => Ok(()),
            Err(KeyError::Unknown) => Err(VerifyError::KeyUnknown(did.clone())),
            Err(KeyError::Unavailable(e)) => Err(VerifyError::KeyUnavailable(e)),
            Err(KeyError::Signature(e)) => Err(VerifyError::Signature(e)),
        }
    }

    fn check_future(&self, rev: &Tid) -> Result<(), VerifyError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let at = u128::from(rev.timestamp_micros());
        let limit = now + self.max_future.as_micros();
        if at > limit {
            let ahead = Duration::from_micros(u64::try_from(at - now).unwrap_or(u64::MAX));
            return Err(VerifyError::FutureRev { rev: *rev, ahead });
        }
        Ok(())
    }

    fn check_rev(&self, did: &Did, rev: &Tid) -> Result<(), VerifyError> {
        self.check_future(rev)?;
        if let Some(previous) = self.chain.get(did) {
            if *rev <= previous {
                return Err(VerifyError::RevNotIncreasing {
                    previous,
                    rev: *rev,
                });
            }
        }
        Ok(())
    }

    /// The ops against the tree the blocks prove, then inversion to `prevData`.
    fn check_tree(&self, event: &CommitEvent, signed: &SignedCommit) -> Result<(), VerifyError> {
        let msg = &event.commit;
        // What the inversion must give: `prevData`; for a repository's first commit (no
        // `since`), the empty tree; for a legacy commit, nothing (lenient) or an error.
        let prev_root = match (&msg.prev_data, &msg.since) {
            (Some(prev), _) => Some(prev.0),
            (None, _) if self.lenient => None,
            (None, None) => Some(Mst::new().root_cid()),
            (None, Some(_)) => return Err(VerifyError::MissingPrevData),
        };
        let blocks = EventBlocks {
            index: event.blocks(),
            car: &msg.blocks.0,
        };
        let mut tree = Mst::load_partial(&blocks, signed.data())
            .map_err(|e| VerifyError::BadTree(e.to_string()))?;
        let incomplete = |path: &str, e: MstError| match e {
            MstError::MissingNode { .. } => VerifyError::IncompleteProof {
                path: path.to_owned(),
            },
            other => VerifyError::BadTree(format!("{path}: {other}")),
        };
        // Without `prevData` and `since`, a commit that does not invert to the empty tree is
        // a legacy commit whose `since` was left out, not a first commit.
        let genesis = msg.prev_data.is_none();
        let Some(prev_root) = prev_root else {
            // Lenient, legacy: nothing to invert to; the new tree must hold what each op says
            // (for a path changed twice, what the last op says).
            for (i, op) in event.ops().enumerate() {
                if event.ops().skip(i + 1).any(|later| later.path == op.path) {
                    continue;
                }
                let found = tree.try_get(op.path).map_err(|e| incomplete(op.path, e))?;
                let expected = match op.action {
                    Action::Create | Action::Update => op.cid,
                    Action::Delete => None,
                };
                if found != expected {
                    return Err(VerifyError::OpNotInTree {
                        path: op.path.to_owned(),
                        expected,
                        found,
                    });
                }
            }
            return Ok(());
        };
        let incomplete = |path: &str, e: MstError| match e {
            MstError::MissingNode { .. } if genesis => VerifyError::MissingPrevData,
            other => incomplete(path, other),
        };
        // Undo each op, last first. Each undo also checks the op against the tree: the path
        // must hold what the op left there (the op's CID, or nothing after a delete).
        let ops: Vec<_> = event.ops().collect();
        for op in ops.iter().rev() {
            let path = op.path;
            let (expected, old) = match op.action {
                Action::Create => (
                    op.cid,
                    tree.try_remove(path).map_err(|e| incomplete(path, e))?,
                ),
                Action::Update | Action::Delete => {
                    let prev = op.prev.ok_or_else(|| VerifyError::MissingOpPrev {
                        path: path.to_owned(),
                    })?;
                    let expected = match op.action {
                        Action::Update => op.cid,
                        _ => None,
                    };
                    let old = tree
                        .insert(path.to_owned(), prev)
                        .map_err(|e| incomplete(path, e))?;
                    (expected, old)
                }
            };
            if old != expected {
                return Err(VerifyError::OpNotInTree {
                    path: path.to_owned(),
                    expected,
                    found: old,
                });
            }
        }
        let inverted = tree.root_cid();
        if inverted != prev_root && genesis {
            return Err(VerifyError::MissingPrevData);
        }
        if inverted != prev_root {
            return Err(VerifyError::InversionMismatch {
                prev_data: prev_root,
                inverted,
            });
        }
        Ok(())
    }
}

/// Decodes the commit block and checks it is `did`'s at `rev`.
fn signed_commit(
    block: Option<&[u8]>,
    cid: &Cid,
    did: &Did,
    rev: &Tid,
) -> Result<SignedCommit, VerifyError> {
    let block = block.ok_or(VerifyError::MissingCommitBlock(*cid))?;
    let signed =
        SignedCommit::decode(block).map_err(|e| VerifyError::BadCommitBlock(e.to_string()))?;
    if signed.did() != did {
        return Err(VerifyError::RepoMismatch {
            commit: signed.did().clone(),
            event: did.clone(),
        });
    }
    if signed.rev() != Some(rev) {
        return Err(VerifyError::RevMismatch {
            commit: signed.rev().copied(),
            event: *rev,
        });
    }
    Ok(signed)
}

/// A verifier as a subscription's check: events are verified one at a time, in stream order
/// (the chain state needs that order), and a failure becomes an invalid item.
impl<K> crate::subscribe::EventCheck for tokio::sync::Mutex<CommitVerifier<K>>
where
    K: KeySource + Send + Sync + 'static,
{
    fn check<'a>(
        &'a self,
        event: &'a RepoEvent,
    ) -> futures_util::future::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.lock()
                .await
                .verify(event)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn did(i: usize) -> Did {
        Did::new(&format!("did:plc:account{i:018}")).expect("did")
    }

    fn tid(i: u64) -> Tid {
        Tid::from_parts(1_700_000_000_000_000 + i, 0).expect("tid")
    }

    #[test]
    fn chain_state_is_bounded_and_keeps_recent_accounts() {
        let mut chain = Chain::new(100);
        for i in 0..10_000 {
            chain.set(&did(i), tid(i as u64));
            assert!(chain.len() <= 100, "{} after {i}", chain.len());
        }
        // The latest accounts are remembered; the earliest are gone.
        assert_eq!(chain.get(&did(9_999)), Some(tid(9_999)));
        assert_eq!(chain.get(&did(0)), None);
        // An account seen again moves to the newer generation and keeps its latest rev.
        let kept = did(9_960);
        chain.set(&kept, tid(20_000));
        for i in 20_000..20_049 {
            chain.set(&did(i), tid(i as u64));
        }
        assert_eq!(chain.get(&kept), Some(tid(20_000)));
    }
}
