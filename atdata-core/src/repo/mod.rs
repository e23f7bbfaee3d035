//! Repositories: a signed [`Commit`] over a Merkle Search Tree of records, as exported in a CAR
//! (`com.atproto.sync.getRepo`) or created here.
//!
//! - [`Repo::from_car`] loads an export, checking every block's hash and the MST's structure.
//! - [`verify_car`] checks everything it can and reports every problem it finds, naming the
//!   record, node or commit at fault: what `atdata repo verify` prints.
//!   [`verify_car_with_key`] checks the commit's signature too.
//! - [`Repo::create`] builds and signs a new repository; [`Repo::to_car`] writes it out.

mod commit;
mod repository;
mod verify;

pub use commit::Commit;
pub use repository::{Record, Repo};
pub use verify::{verify_car, verify_car_with_key, Problem, VerifyReport};

use crate::cid::Cid;

/// Why a repository could not be loaded or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The CAR itself is unreadable.
    #[error(transparent)]
    Car(#[from] crate::car::CarError),
    /// The CAR has no root, or more than one.
    #[error("{}", roots_problem(*.0))]
    Roots(usize),
    /// A block the repository needs is not in the CAR.
    #[error("block {cid} ({what}) is missing")]
    MissingBlock {
        /// The missing block.
        cid: Cid,
        /// What it was needed for.
        what: String,
    },
    /// The commit block is malformed.
    #[error("bad commit: {0}")]
    Commit(String),
    /// The MST is malformed.
    #[error("bad MST: {0}")]
    Mst(#[from] crate::mst::MstError),
    /// A record key is not `collection/rkey`.
    #[error("bad record path {0:?}")]
    Path(String),
    /// The MST links a record by a CID whose codec is not `dag-cbor`: records are DAG-CBOR
    /// (a `raw` CID is a blob's).
    #[error("record {path}: {}", record_codec_problem(cid))]
    RecordCodec {
        /// `collection/rkey`.
        path: String,
        /// The CID the MST holds for it.
        cid: Cid,
    },
    /// A record does not encode or decode.
    #[error("record {path}: {source}")]
    Record {
        /// `collection/rkey`.
        path: String,
        /// What was wrong.
        source: crate::cbor::DecodeError,
    },
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(#[from] crate::signing::SignatureError),
    /// A record could not be encoded.
    #[error("encoding a record: {0}")]
    Encode(#[from] crate::cbor::EncodeError),
}

/// Why a CAR's roots do not make a repository.
///
/// Generic CAR readers accept a header without roots (CAR v1 readers disagree on it, and the
/// reference PDS writes such CARs for `getBlocks`); a repository export is the one place a root
/// is required, so the message says what is missing rather than just counting.
pub(crate) fn roots_problem(found: usize) -> String {
    if found == 0 {
        "the CAR header lists no root: a repository CAR has exactly one, its commit".into()
    } else {
        format!("the CAR header lists {found} roots: a repository CAR has exactly one, its commit")
    }
}

/// Why a record's CID cannot be a record's.
pub(crate) fn record_codec_problem(cid: &Cid) -> String {
    let codec = match cid.codec() {
        crate::cid::RAW => "raw (0x55)".to_owned(),
        crate::cid::DAG_PB => "dag-pb (0x70)".to_owned(),
        other => format!("0x{other:x}"),
    };
    format!("CID {cid} has codec {codec}, not dag-cbor: a record is a DAG-CBOR block")
}
