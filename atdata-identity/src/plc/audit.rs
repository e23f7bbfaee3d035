//! [`AuditLog`]: a DID's full operation history as the directory serves it
//! (`GET /{did}/log/audit`), and its verification into an [`AuditReport`].

use std::cell::Cell;
use std::fmt;

use atdata_core::did_doc::DidDocument;
use atdata_core::syntax::{Datetime, Did};
use atdata_core::Cid;
use atdata_crypto::PublicKey;
use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::document::{compare, DocumentMismatch};
use super::error::PlcError;
use super::operation::{did_for_bytes, OpKind, Operation, TypeOnly};
use super::state::PlcState;

/// Largest audit log body [`AuditLog::from_json`] parses (4 MiB).
pub const MAX_AUDIT_LOG_BYTES: usize = 4 << 20;
/// Most entries [`AuditLog::from_json`] accepts.
pub const MAX_AUDIT_LOG_ENTRIES: usize = 10_000;
/// How long after an operation a higher-authority rotation key may still nullify it (72 hours).
pub const RECOVERY_WINDOW_SECS: i64 = 72 * 3600;

/// One entry of an audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEntry {
    /// The DID the operation belongs to.
    pub did: Did,
    /// The signed operation.
    pub operation: Operation,
    /// The operation's CID, as the directory lists it.
    pub cid: Cid,
    /// Whether the directory considers the operation nullified (overridden by a recovery).
    pub nullified: bool,
    /// When the directory accepted the operation.
    pub created_at: Datetime,
}

impl AuditEntry {
    /// An entry from its parts.
    pub fn new(
        did: Did,
        operation: Operation,
        cid: Cid,
        nullified: bool,
        created_at: Datetime,
    ) -> Self {
        AuditEntry {
            did,
            operation,
            cid,
            nullified,
            created_at,
        }
    }
}

impl Serialize for AuditEntry {
    /// The directory's JSON form: `{did, operation, cid, nullified, createdAt}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("AuditEntry", 5)?;
        st.serialize_field("did", &self.did)?;
        st.serialize_field("operation", &self.operation)?;
        st.serialize_field("cid", &self.cid.to_string())?;
        st.serialize_field("nullified", &self.nullified)?;
        st.serialize_field("createdAt", &self.created_at)?;
        st.end()
    }
}

/// A DID's audit log: every operation the directory accepted for it, nullified ones included,
/// in the order it accepted them.
///
/// ```no_run
/// use atdata_identity::plc::AuditLog;
///
/// # fn f(body: &[u8], doc: &atdata_core::DidDocument) -> Result<(), Box<dyn std::error::Error>> {
/// let did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz".parse()?;
/// // body: the response to GET https://plc.directory/did:plc:ewvi7nxzyoun6zhxrhs64oiz/log/audit
/// let report = AuditLog::from_json(body)?.verify(&did)?;
/// println!("{} operations, {} nullified", report.op_count(), report.nullified_count());
/// report.matches_document(doc)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditLog {
    entries: Vec<AuditEntry>,
}

/// How strictly [`AuditLog::verify_with`] checks signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Accept a high-S P-256 signature (and flag it in [`VerifiedOp::high_s`]). The spec
    /// forbids them, but plc.directory accepted them for a while, so real logs contain some.
    /// High-S secp256k1 signatures are always refused (the directory always refused them).
    pub allow_high_s_p256: bool,
}

impl VerifyOptions {
    /// The spec's rules, as [`AuditLog::verify`] applies them.
    pub fn strict() -> Self {
        VerifyOptions::default()
    }

    /// What plc.directory actually accepted: the spec's rules, plus high-S P-256 signatures.
    pub fn historical() -> Self {
        VerifyOptions {
            allow_high_s_p256: true,
        }
    }
}

/// An entry as read, before its fields are checked (so a bad field names its entry).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    did: String,
    operation: Box<RawValue>,
    cid: String,
    nullified: bool,
    created_at: String,
}

/// Reads the top-level array, stopping at `max` entries.
struct Entries<'a> {
    max: usize,
    overflow: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = Vec<RawEntry>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = Vec<RawEntry>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of audit log entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(entry) = seq.next_element::<RawEntry>()? {
            if out.len() == self.max {
                self.overflow.set(true);
                return Err(A::Error::custom("too many entries"));
            }
            out.push(entry);
        }
        Ok(out)
    }
}

impl AuditLog {
    /// Parses the directory's JSON (`GET /{did}/log/audit`), refusing bodies over
    /// [`MAX_AUDIT_LOG_BYTES`] and logs over [`MAX_AUDIT_LOG_ENTRIES`] entries.
    pub fn from_json(body: &[u8]) -> Result<AuditLog, PlcError> {
        Self::from_json_with_limits(body, MAX_AUDIT_LOG_BYTES, MAX_AUDIT_LOG_ENTRIES)
    }

    /// [`AuditLog::from_json`] with other limits.
    pub fn from_json_with_limits(
        body: &[u8],
        max_bytes: usize,
        max_entries: usize,
    ) -> Result<AuditLog, PlcError> {
        if body.len() > max_bytes {
            return Err(PlcError::TooLarge {
                len: body.len(),
                max: max_bytes,
            });
        }
        let overflow = Cell::new(false);
        let mut de = serde_json::Deserializer::from_slice(body);
        let parsed = Entries {
            max: max_entries,
            overflow: &overflow,
        }
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw));
        let raw = match parsed {
            Ok(raw) => raw,
            Err(_) if overflow.get() => return Err(PlcError::TooManyEntries { max: max_entries }),
            Err(e) => return Err(PlcError::Json(e)),
        };
        let entries = raw
            .into_iter()
            .enumerate()
            .map(|(index, raw)| parse_entry(index, raw))
            .collect::<Result<_, _>>()?;
        Ok(AuditLog { entries })
    }

    /// A log from entries already parsed.
    pub fn from_entries(entries: Vec<AuditEntry>) -> AuditLog {
        AuditLog { entries }
    }

    /// The entries, in log order.
    pub fn entries(&self) -> &[AuditEntry] {
        &self.entries
    }

    /// The entries, in log order.
    pub fn into_entries(self) -> Vec<AuditEntry> {
        self.entries
    }

    /// Verifies the log as the history of `did`, replaying it as the directory would have
    /// accepted it:
    ///
    /// - every entry belongs to `did`, lists the CID its operation hashes to, and entries are in
    ///   `createdAt` order;
    /// - the first operation is a genesis operation (regular with `prev` null, or a legacy
    ///   `create`) that hashes to `did` and is signed by one of its own rotation keys;
    /// - each later operation's `prev` is an operation of the live chain (not a tombstone), and
    ///   one of that operation's rotation keys signed it;
    /// - when `prev` is not the head, the operation is a recovery: it nullifies every live
    ///   operation after `prev`, so it must be signed by a key ranked above the one that signed
    ///   the first of them, within [`RECOVERY_WINDOW_SECS`] of it;
    /// - each entry's `nullified` flag agrees with the history so replayed.
    ///
    /// Signatures are checked strictly, as the spec requires: unpadded base64url, 64 bytes,
    /// low-S. Some operations the directory accepted in its early days break these rules
    /// (high-S P-256 signatures above all, which the reference implementation of the time both
    /// produced and accepted); their logs fail here with [`PlcError::BadSignature`]. See
    /// [`AuditLog::verify_with`] and [`VerifyOptions::historical`] to accept them.
    pub fn verify(&self, did: &Did) -> Result<AuditReport, PlcError> {
        verify(&self.entries, did, VerifyOptions::strict())
    }

    /// [`AuditLog::verify`] with options.
    pub fn verify_with(&self, did: &Did, options: VerifyOptions) -> Result<AuditReport, PlcError> {
        verify(&self.entries, did, options)
    }
}

impl Serialize for AuditLog {
    /// The directory's JSON form: an array of entries.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(s)
    }
}

fn parse_entry(index: usize, raw: RawEntry) -> Result<AuditEntry, PlcError> {
    let malformed = |reason: String| PlcError::MalformedEntry { index, reason };
    let did = Did::try_from(raw.did).map_err(|e| malformed(format!("did: {e}")))?;
    let cid = Cid::parse_str(&raw.cid).map_err(|e| malformed(format!("cid {:?}: {e}", raw.cid)))?;
    let created_at =
        Datetime::try_from(raw.created_at).map_err(|e| malformed(format!("createdAt: {e}")))?;
    let json = raw.operation.get();
    let operation = serde_json::from_str::<Operation>(json).map_err(|source| {
        match TypeOnly::unsupported(json) {
            Some(op_type) => PlcError::UnsupportedOpType { index, op_type },
            None => PlcError::MalformedOp { index, source },
        }
    })?;
    Ok(AuditEntry {
        did,
        operation,
        cid,
        nullified: raw.nullified,
        created_at,
    })
}

/// What the audit found out about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedOp {
    /// Position in the log.
    pub index: usize,
    /// The operation's CID.
    pub cid: Cid,
    /// The kind of operation.
    pub kind: OpKind,
    /// The operation it follows (`None` for the genesis operation).
    pub prev: Option<Cid>,
    /// When the directory accepted it.
    pub created_at: Datetime,
    /// Index of the rotation key that signed it, in the rotation keys of its `prev` (of itself,
    /// for the genesis operation); 0 is the highest authority.
    pub signer: usize,
    /// That rotation key, as a `did:key`.
    pub signer_key: String,
    /// Whether the signature is a high-S P-256 one, accepted only because
    /// [`VerifyOptions::allow_high_s_p256`] was set.
    pub high_s: bool,
    /// The index of the recovery operation that nullified it, if one did.
    pub nullified_by: Option<usize>,
}

impl VerifiedOp {
    /// Whether a later recovery operation nullified it.
    pub fn is_nullified(&self) -> bool {
        self.nullified_by.is_some()
    }
}

/// The result of [`AuditLog::verify`]: the DID's verified history and current state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditReport {
    /// The DID verified.
    pub did: Did,
    /// Every entry, in log order (nullified ones included).
    pub ops: Vec<VerifiedOp>,
    /// The state set by the last live operation; `None` when it is a tombstone.
    pub state: Option<PlcState>,
    /// CID of the last live operation: the `prev` of the DID's next operation.
    pub head: Cid,
}

impl AuditReport {
    /// How many entries the log has, nullified ones included.
    pub fn op_count(&self) -> usize {
        self.ops.len()
    }

    /// How many entries were nullified.
    pub fn nullified_count(&self) -> usize {
        self.ops.iter().filter(|op| op.is_nullified()).count()
    }

    /// Whether the DID is deactivated (its last live operation is a tombstone).
    pub fn is_tombstoned(&self) -> bool {
        self.state.is_none()
    }

    /// The DID document the directory should serve; `None` when tombstoned.
    pub fn to_document(&self) -> Option<DidDocument> {
        self.state.as_ref().map(|s| s.to_document(&self.did))
    }

    /// Checks a served DID document against the verified state, on what atproto reads: the
    /// `id`, `alsoKnownAs` (in order), the verification methods (by name and key; the legacy
    /// multibase forms of P-256 and secp256k1 keys compare equal to the `Multikey` form) and
    /// the services (by name, type and endpoint). Ids may be relative (`#atproto`) or absolute
    /// (`<did>#atproto`). `@context`, `controller` and other fields are not compared.
    pub fn matches_document(&self, doc: &DidDocument) -> Result<(), DocumentMismatch> {
        compare(&self.did, self.state.as_ref(), doc)
    }
}

/// The rotation keys of a live operation, as strings and parsed (`None` where a key does not
/// parse); `None` for a tombstone.
type Keys = Option<(Vec<String>, Vec<Option<PublicKey>>)>;

/// An operation of the live chain during replay.
struct Live {
    index: usize,
    cid: Cid,
    keys: Keys,
}

fn parse_keys(op: &Operation) -> Keys {
    op.state().map(|s| {
        let parsed = s
            .rotation_keys
            .iter()
            .map(|k| PublicKey::from_did_key(k).ok())
            .collect();
        (s.rotation_keys, parsed)
    })
}

fn at(index: usize, e: PlcError) -> PlcError {
    match e {
        PlcError::Encode { source, .. } => PlcError::Encode {
            index: Some(index),
            source,
        },
        other => other,
    }
}

fn verify(
    entries: &[AuditEntry],
    did: &Did,
    options: VerifyOptions,
) -> Result<AuditReport, PlcError> {
    if did.method() != "plc" {
        return Err(PlcError::NotPlc(did.clone()));
    }
    let mut ops: Vec<VerifiedOp> = Vec::with_capacity(entries.len());
    let mut live: Vec<Live> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let op = &entry.operation;
        let signed = op.signed_bytes().map_err(|e| at(index, e))?;
        let cid = Cid::for_dag_cbor(&signed);
        if cid != entry.cid {
            return Err(PlcError::CidMismatch {
                index,
                listed: entry.cid,
                computed: cid,
            });
        }
        if entry.did != *did {
            return Err(PlcError::WrongDid {
                index,
                cid,
                expected: did.clone(),
                found: entry.did.clone(),
            });
        }
        if let Some(previous) = index.checked_sub(1).and_then(|i| entries.get(i)) {
            if entry.created_at < previous.created_at {
                return Err(PlcError::OutOfOrder {
                    index,
                    cid,
                    created_at: entry.created_at.clone(),
                    previous: previous.created_at.clone(),
                });
            }
        }
        let unsigned = op.unsigned_bytes().map_err(|e| at(index, e))?;
        let bad_sig = |problem| PlcError::BadSignature {
            index,
            cid,
            problem,
        };
        let own_keys = parse_keys(op);
        let lenient = options.allow_high_s_p256;
        let (signer, high_s, signer_key) = match op.prev() {
            None => {
                if !live.is_empty() {
                    return Err(PlcError::UnexpectedGenesis { index, cid });
                }
                // Only tombstones have no state, and a tombstone always has a prev.
                let (strings, parsed) = own_keys.clone().unwrap_or_default();
                let (signer, high_s) = op
                    .find_signer(&unsigned, &parsed, lenient, || {
                        "the operation itself".to_owned()
                    })
                    .map_err(bad_sig)?;
                let computed = did_for_bytes(&signed)?;
                if computed != *did {
                    return Err(PlcError::GenesisHashMismatch {
                        cid,
                        expected: did.clone(),
                        computed,
                    });
                }
                (
                    signer,
                    high_s,
                    strings.get(signer).cloned().unwrap_or_default(),
                )
            }
            Some(prev) => {
                if live.is_empty() {
                    return Err(PlcError::NotGenesis { index, cid });
                }
                let Some(pos) = live.iter().rposition(|l| l.cid == *prev) else {
                    return Err(PlcError::PrevMismatch {
                        index,
                        cid,
                        prev: *prev,
                    });
                };
                let fork = &live[pos];
                let Some((strings, parsed)) = &fork.keys else {
                    return Err(PlcError::AfterTombstone {
                        index,
                        cid,
                        tombstone: fork.cid,
                    });
                };
                let (signer, high_s) = op
                    .find_signer(&unsigned, parsed, lenient, || format!("its prev {prev}"))
                    .map_err(bad_sig)?;
                let signer_key = strings.get(signer).cloned().unwrap_or_default();
                if let Some(first) = live.get(pos + 1) {
                    // A recovery: it rewrites history after `prev`.
                    let disputed = ops.get(first.index).map_or(0, |o| o.signer);
                    if signer >= disputed {
                        return Err(PlcError::RecoveryNotAuthorized {
                            index,
                            cid,
                            nullifies: first.cid,
                            signer,
                            disputed,
                        });
                    }
                    let first_created = &entries[first.index].created_at;
                    let elapsed =
                        entry.created_at.timestamp_micros() - first_created.timestamp_micros();
                    if elapsed > RECOVERY_WINDOW_SECS * 1_000_000 {
                        return Err(PlcError::LateRecovery {
                            index,
                            cid,
                            nullifies: first.cid,
                            elapsed_secs: elapsed / 1_000_000,
                        });
                    }
                    for gone in live.drain(pos + 1..) {
                        if let Some(o) = ops.get_mut(gone.index) {
                            o.nullified_by = Some(index);
                        }
                    }
                }
                (signer, high_s, signer_key)
            }
        };
        live.push(Live {
            index,
            cid,
            keys: own_keys,
        });
        ops.push(VerifiedOp {
            index,
            cid,
            kind: op.kind(),
            prev: op.prev().copied(),
            created_at: entry.created_at.clone(),
            signer,
            signer_key,
            high_s,
            nullified_by: None,
        });
    }
    for (op, entry) in ops.iter().zip(entries) {
        if op.is_nullified() != entry.nullified {
            return Err(PlcError::NullifiedMismatch {
                index: op.index,
                cid: op.cid,
                listed: entry.nullified,
            });
        }
    }
    let Some(head) = live.last() else {
        return Err(PlcError::EmptyLog);
    };
    Ok(AuditReport {
        did: did.clone(),
        state: entries[head.index].operation.state(),
        head: head.cid,
        ops,
    })
}
