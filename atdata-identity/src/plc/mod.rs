//! did:plc operations and audit logs, per the
//! [did:plc spec](https://web.plc.directory/spec/v0.1/did-plc).
//!
//! A did:plc is the hash of its first (genesis) operation; every later operation names the
//! previous one by CID and is signed by one of its rotation keys. The PLC directory stores the
//! chain and serves it as an audit log (`GET /{did}/log/audit`), which anyone can re-verify
//! without trusting the directory beyond the order of operations.
//!
//! - [`UnsignedOperation`] → [`UnsignedOperation::sign`] → [`Operation`]: build and sign
//!   operations; [`genesis_did`] gives the DID a genesis operation defines.
//! - [`AuditLog::from_json`] → [`AuditLog::verify`] → [`AuditReport`]: check a whole history,
//!   recoveries and nullified operations included, and get the current [`PlcState`].
//! - [`AuditReport::matches_document`]: check the document the directory serves against it.
//!
//! ```
//! use atdata_crypto::{Curve, Keypair};
//! use atdata_identity::plc::{genesis_did, PlcState, UnsignedOperation};
//!
//! let rotation = Keypair::generate(Curve::K256)?;
//! let state = PlcState::atproto(
//!     vec![rotation.did_key()],
//!     Keypair::generate(Curve::K256)?.did_key(),
//!     &"alice.test".parse()?,
//!     "https://pds.example.com".into(),
//! );
//! let genesis = UnsignedOperation::regular(state.clone(), None).sign(&rotation)?;
//! let did = genesis_did(&genesis)?;
//!
//! // A handle change: the same state with a new alsoKnownAs, after the genesis operation.
//! let mut next = state;
//! next.also_known_as = vec!["at://alice.example.com".into()];
//! let update = UnsignedOperation::regular(next, Some(genesis.cid()?)).sign(&rotation)?;
//! assert_eq!(update.prev(), Some(&genesis.cid()?));
//! # let _ = did;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod audit;
mod document;
mod error;
mod operation;
mod state;

pub use audit::{
    AuditEntry, AuditLog, AuditReport, VerifiedOp, VerifyOptions, MAX_AUDIT_LOG_BYTES,
    MAX_AUDIT_LOG_ENTRIES, RECOVERY_WINDOW_SECS,
};
pub use document::{Difference, DocumentMismatch};
pub use error::{PlcError, SignatureProblem};
pub use operation::{
    genesis_did, LegacyCreateOp, OpKind, Operation, RegularOp, TombstoneOp, UnsignedOperation,
    MAX_OP_BYTES, MAX_ROTATION_KEYS, MAX_VERIFICATION_METHODS,
};
pub use state::{PlcService, PlcState, ATPROTO_KEY, ATPROTO_PDS, PDS_SERVICE_TYPE};

#[cfg(test)]
mod tests;
