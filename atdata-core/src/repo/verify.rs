//! Checking a repository export and reporting every problem, by name.

use std::fmt;

use crate::car::{CarReader, ReadOptions};
use crate::cbor::{DecodeError, Tape};
use crate::cid::{self, Cid, CidMap, CidSet};
use crate::mst::{Mst, MstError};
use crate::signing::{SignatureError, Verifier};
use crate::syntax::{Did, Tid};

use super::{Commit, RepoError};

/// One thing wrong with a repository.
///
/// `Car` and `BadCommit` carry messages: the CAR reader's error can hold an I/O error, which
/// cannot be cloned or compared, and a commit's decoding problems are messages today.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The CAR stops or breaks part-way (the blocks before it were checked).
    Car(String),
    /// The CAR does not have exactly one root.
    Roots(usize),
    /// The commit block is missing.
    MissingCommit(Cid),
    /// The commit block's bytes do not hash to the root CID: the commit was altered.
    CommitAltered(Cid),
    /// The commit block does not decode as a commit.
    BadCommit(String),
    /// The signature does not verify with the given key.
    Signature {
        /// The key used, as `did:key:…`.
        key: String,
        /// Why it failed.
        error: SignatureError,
    },
    /// The MST is malformed or a node was altered.
    Mst(MstError),
    /// A record block is missing.
    MissingRecord {
        /// `collection/rkey`.
        path: String,
        /// The CID the MST points at.
        cid: Cid,
    },
    /// A record block's bytes do not hash to the CID the MST holds for it.
    RecordAltered {
        /// `collection/rkey`.
        path: String,
        /// The CID the MST points at.
        cid: Cid,
    },
    /// A record does not decode strictly as DAG-CBOR.
    BadRecord {
        /// `collection/rkey`.
        path: String,
        /// Why.
        error: DecodeError,
    },
    /// The MST links a record by a CID whose codec is not `dag-cbor`: records are DAG-CBOR (a
    /// `raw` CID is a blob's).
    RecordCodec {
        /// `collection/rkey`.
        path: String,
        /// The CID the MST holds for it.
        cid: Cid,
    },
    /// A block that no record or node accounts for has bytes that do not match its CID.
    BlockAltered(Cid),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Car(why) => write!(f, "CAR: {why}"),
            Problem::Roots(n) => f.write_str(&super::roots_problem(*n)),
            Problem::MissingCommit(c) => write!(f, "commit block {c} is missing"),
            Problem::CommitAltered(c) => {
                write!(
                    f,
                    "commit block {c}: bytes do not match its CID (commit altered)"
                )
            }
            Problem::BadCommit(why) => write!(f, "commit: {why}"),
            Problem::Signature { key, error } => {
                write!(f, "commit signature does not verify with {key}: {error}")
            }
            Problem::Mst(why) => write!(f, "MST: {why}"),
            Problem::MissingRecord { path, cid } => write!(f, "record {path}: block {cid} missing"),
            Problem::RecordAltered { path, cid } => {
                write!(
                    f,
                    "record {path}: bytes do not match its CID {cid} (record altered)"
                )
            }
            Problem::BadRecord { path, error } => write!(f, "record {path}: {error}"),
            Problem::RecordCodec { path, cid } => {
                write!(f, "record {path}: {}", super::record_codec_problem(cid))
            }
            Problem::BlockAltered(c) => write!(f, "block {c}: bytes do not match its CID"),
        }
    }
}

/// What [`verify_car`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// The account, when the commit could be read.
    pub did: Option<Did>,
    /// The revision, when the commit could be read and has one (v2 commits have none).
    pub rev: Option<Tid>,
    /// The commit's CID (the CAR root).
    pub commit: Option<Cid>,
    /// Blocks in the CAR.
    pub blocks: usize,
    /// Records the MST lists.
    pub records: usize,
    /// Whether a signature check ran ([`verify_car_with_key`] was called and the commit decoded).
    pub signature_checked: bool,
    /// Everything wrong, in the order found.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// No problems.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks a repository export as far as it can and reports every problem: block hashes, the
/// commit, the MST's structure, and every record. The signature is not checked (see
/// [`verify_car_with_key`]).
///
/// Unlike [`super::Repo::from_car`], which stops at the first error, this keeps going so that
/// the report names each altered record, node or commit. `Err` only when the CAR header itself
/// cannot be read.
pub fn verify_car(bytes: &[u8]) -> Result<VerifyReport, RepoError> {
    verify(bytes, None)
}

/// [`verify_car`], and the commit's signature checked with the account's signing key.
pub fn verify_car_with_key(bytes: &[u8], key: &impl Verifier) -> Result<VerifyReport, RepoError> {
    verify(bytes, Some(key))
}

// One instance for every key type: the signature check is one call in a walk of the whole CAR.
fn verify(bytes: &[u8], key: Option<&dyn Verifier>) -> Result<VerifyReport, RepoError> {
    let reader = CarReader::with_options(bytes, ReadOptions::unverified())?;
    let mut report = VerifyReport::default();
    let mut blocks: CidMap<&[u8]> = CidMap::default();
    let mut altered = CidSet::default();
    for block in reader.blocks() {
        match block {
            Ok(block) => {
                report.blocks += 1;
                if block.cid.matches(block.data) != Some(true) {
                    altered.insert(block.cid);
                }
                blocks.insert(block.cid, block.data);
            }
            Err(e) => {
                report.problems.push(Problem::Car(e.to_string()));
                break;
            }
        }
    }
    let mut accounted = CidSet::default();
    let roots = reader.roots();
    if roots.len() != 1 {
        report.problems.push(Problem::Roots(roots.len()));
    }
    let Some(root) = roots.first().copied() else {
        return Ok(report);
    };
    report.commit = Some(root);
    accounted.insert(root);
    let Some(commit_bytes) = blocks.get(&root) else {
        report.problems.push(Problem::MissingCommit(root));
        return Ok(report);
    };
    if altered.contains(&root) {
        report.problems.push(Problem::CommitAltered(root));
    }
    let commit = match Commit::decode(commit_bytes) {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(Problem::BadCommit(e.to_string()));
            return Ok(report);
        }
    };
    report.did = Some(commit.did().clone());
    report.rev = commit.rev().cloned();
    if let Some(key) = key {
        report.signature_checked = true;
        if let Err(error) = commit.verify(&key) {
            report.problems.push(Problem::Signature {
                key: key.did_key(),
                error,
            });
        }
    }
    let mst = match Mst::load(&blocks, commit.data()) {
        Ok(mst) => mst,
        Err(e) => {
            report.problems.push(Problem::Mst(e));
            // Without the tree, records cannot be attributed: report altered blocks as such.
            for cid in sorted(&altered) {
                if cid != root {
                    report.problems.push(Problem::BlockAltered(cid));
                }
            }
            return Ok(report);
        }
    };
    for (cid, _) in mst.blocks() {
        accounted.insert(cid);
    }
    report.records = mst.len();
    // One tape for every record: it applies decode_ref's rules exactly, but builds no tree, and
    // once grown to the largest record it allocates nothing.
    let mut tape = Tape::new();
    for (path, cid) in mst.iter() {
        accounted.insert(*cid);
        let Some(data) = blocks.get(cid) else {
            report.problems.push(Problem::MissingRecord {
                path: path.to_owned(),
                cid: *cid,
            });
            continue;
        };
        if altered.contains(cid) {
            report.problems.push(Problem::RecordAltered {
                path: path.to_owned(),
                cid: *cid,
            });
            continue;
        }
        // Records are DAG-CBOR: another codec is a problem to report, not a record to skip.
        if cid.codec() != cid::DAG_CBOR {
            report.problems.push(Problem::RecordCodec {
                path: path.to_owned(),
                cid: *cid,
            });
        } else if let Err(error) = tape.decode(data) {
            report.problems.push(Problem::BadRecord {
                path: path.to_owned(),
                error,
            });
        }
    }
    for cid in sorted(&altered) {
        if !accounted.contains(&cid) {
            report.problems.push(Problem::BlockAltered(cid));
        }
    }
    Ok(report)
}

fn sorted(set: &CidSet) -> Vec<Cid> {
    let mut v: Vec<Cid> = set.iter().copied().collect();
    v.sort();
    v
}
