//! [`PlcError`]: why an operation could not be built, or an audit log did not verify.

use atdata_core::cbor::EncodeError;
use atdata_core::signing::SignatureError;
use atdata_core::syntax::{Datetime, Did};
use atdata_core::Cid;

/// Why a did:plc operation could not be built or signed, or why an audit log was refused.
///
/// Errors about an audit log name the entry by its `index` (0-based position in the log) and,
/// once it could be computed, the operation's CID.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlcError {
    /// The audit log body is larger than the limit; it was not parsed.
    #[error("audit log is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Size of the body.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The audit log has more entries than the limit; parsing stopped there.
    #[error("audit log has more than {max} entries")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
    /// The audit log is not a JSON array of entries.
    #[error("audit log is not a JSON array of entries: {0}")]
    Json(#[source] serde_json::Error),
    /// The audit log has no entries.
    #[error("audit log is empty")]
    EmptyLog,
    /// A field of an audit log entry around the operation (`did`, `cid`, `createdAt`) is
    /// malformed.
    #[error("entry {index}: {reason}")]
    MalformedEntry {
        /// Position in the log.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The operation of an entry is not a well-formed operation of its type: a missing,
    /// mistyped or unknown field, or a `prev` that is not a canonical CID string.
    #[error("entry {index}: malformed operation: {source}")]
    MalformedOp {
        /// Position in the log.
        index: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The operation's `type` is none of `plc_operation`, `plc_tombstone` and `create`.
    #[error("entry {index}: unsupported operation type {op_type:?}")]
    UnsupportedOpType {
        /// Position in the log.
        index: usize,
        /// The `type` found (empty when missing or null).
        op_type: String,
    },
    /// The entry is about another DID than the one being verified.
    #[error("entry {index} ({cid}): is an operation of {found}, not of {expected}")]
    WrongDid {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The DID being verified.
        expected: Did,
        /// The entry's `did`.
        found: Did,
    },
    /// The entry's `cid` is not the CID of its operation.
    #[error("entry {index}: listed as {listed} but the operation hashes to {computed}")]
    CidMismatch {
        /// Position in the log.
        index: usize,
        /// The entry's `cid`.
        listed: Cid,
        /// The CID computed from the operation.
        computed: Cid,
    },
    /// Entries are not in `createdAt` order.
    #[error(
        "entry {index} ({cid}): created at {created_at}, before the previous entry ({previous})"
    )]
    OutOfOrder {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The entry's `createdAt`.
        created_at: Datetime,
        /// The previous entry's `createdAt`.
        previous: Datetime,
    },
    /// The genesis operation does not hash to the DID.
    #[error("genesis operation {cid} is the genesis of {computed}, not of {expected}")]
    GenesisHashMismatch {
        /// The genesis operation's CID.
        cid: Cid,
        /// The DID being verified.
        expected: Did,
        /// The DID the genesis operation hashes to.
        computed: Did,
    },
    /// The first entry is not a genesis operation (its `prev` is not null, or it is a
    /// tombstone).
    #[error("entry {index} ({cid}): the first operation must be a genesis operation (prev null)")]
    NotGenesis {
        /// Position in the log (0).
        index: usize,
        /// The operation's CID.
        cid: Cid,
    },
    /// A genesis operation (null `prev`, or a legacy `create`) after the first entry.
    #[error("entry {index} ({cid}): a second genesis operation (prev null)")]
    UnexpectedGenesis {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
    },
    /// `prev` is not the CID of an operation of the live chain at that point (it is unknown, or
    /// a nullified operation).
    #[error("entry {index} ({cid}): prev {prev} is not an operation of the live chain")]
    PrevMismatch {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The operation's `prev`.
        prev: Cid,
    },
    /// The operation's `prev` is a tombstone: nothing can follow a tombstone.
    #[error("entry {index} ({cid}): follows the tombstone {tombstone}")]
    AfterTombstone {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The tombstone's CID.
        tombstone: Cid,
    },
    /// The signature is malformed, or no allowed rotation key verifies it.
    #[error("entry {index} ({cid}): bad signature: {problem}")]
    BadSignature {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// What is wrong with it.
        problem: SignatureProblem,
    },
    /// A recovery operation (one whose `prev` is not the head) is signed by a key that does not
    /// rank above the key that signed the first operation it would nullify.
    #[error(
        "entry {index} ({cid}): rewrites history after {nullifies} with rotation key {signer}, \
         which does not rank above key {disputed} that signed it"
    )]
    RecoveryNotAuthorized {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The first operation it would nullify.
        nullifies: Cid,
        /// Index (in the fork point's rotation keys) of the key that signed the recovery.
        signer: usize,
        /// Index of the key that signed the operation it would nullify.
        disputed: usize,
    },
    /// A recovery operation came more than 72 hours after the first operation it nullifies.
    #[error(
        "entry {index} ({cid}): nullifies {nullifies} {elapsed_secs} s after it was created, \
         past the 72-hour recovery window"
    )]
    LateRecovery {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The first operation it would nullify.
        nullifies: Cid,
        /// Seconds between the two `createdAt`.
        elapsed_secs: i64,
    },
    /// The entry's `nullified` flag disagrees with the history the log itself implies.
    #[error("entry {index} ({cid}): listed as nullified: {listed}, but the log implies {}", !listed)]
    NullifiedMismatch {
        /// Position in the log.
        index: usize,
        /// The operation's CID.
        cid: Cid,
        /// The entry's `nullified` flag.
        listed: bool,
    },
    /// An operation could not be encoded as DAG-CBOR. The encoder refuses a few things the
    /// reference implementation would encode, such as a map key `$type` whose value is not a
    /// non-empty string.
    #[error("{}could not encode the operation as DAG-CBOR: {source}", at_index(*.index))]
    Encode {
        /// Position in the log, when the operation came from one.
        index: Option<usize>,
        /// The encoder's error.
        #[source]
        source: EncodeError,
    },
    /// The operation to sign breaks a rule the PLC directory enforces.
    #[error("invalid operation: {reason}")]
    InvalidOperation {
        /// Which rule.
        reason: String,
    },
    /// The signer failed.
    #[error("signing failed: {0}")]
    Sign(#[source] SignatureError),
    /// [`AuditLog::verify`](super::AuditLog::verify) was given a DID that is not a did:plc.
    #[error("{0} is not a did:plc")]
    NotPlc(Did),
}

fn at_index(index: Option<usize>) -> String {
    index.map_or_else(String::new, |i| format!("entry {i}: "))
}

/// What is wrong with an operation's signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// `sig` is not unpadded base64url (with zero trailing bits), or does not decode to 64 bytes.
    #[error("sig is not 64 bytes of unpadded base64url")]
    Encoding,
    /// The signature has a high S value: the spec requires low-S (some old P-256 operations on
    /// plc.directory have one).
    #[error("high-S signature (the spec requires low-S)")]
    HighS,
    /// None of the allowed rotation keys verifies the signature.
    #[error("no rotation key of {authority} verifies it ({keys} keys tried)")]
    NoMatchingKey {
        /// How many keys were allowed.
        keys: usize,
        /// Whose keys: `the operation itself` (genesis) or `its prev <cid>`.
        authority: String,
    },
}
