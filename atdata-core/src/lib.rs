//! # atdata-core
//!
//! The foundation of the atdata AT Protocol SDK: identifiers, the data model (DAG-CBOR, atproto
//! JSON, CIDs, blobs), CAR files and DID documents. No network, no async runtime (an optional
//! `tokio` feature adds an async CAR reader; an optional `cid` feature converts [`Cid`] to and
//! from the `cid` crate's).
//!
//! ```
//! use atdata_core::{cbor, Value};
//! let record = Value::from_json_str(r#"{"$type": "app.bsky.feed.post", "text": "hi",
//!                                      "createdAt": "2024-01-01T00:00:00.000Z"}"#)?;
//! let bytes = record.to_dag_cbor();
//! let cid = cbor::cid_for(&record)?;
//! assert_eq!(Value::from_dag_cbor(&bytes)?, record);
//! println!("{cid}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod blob;
pub mod car;
pub mod cbor;
pub mod cid;
#[cfg(feature = "cid")]
mod cid_compat;
pub mod did_doc;
// The base encodings and varints the formats are built from: shared with atdata-crypto, not a
// promise to users (the `data-encoding`-style crates are the better general-purpose choice).
#[doc(hidden)]
pub mod encoding;
pub mod mst;
pub mod repo;
#[doc(hidden)]
pub mod runtime;
pub mod signing;
pub mod syntax;
mod value;
pub mod value_read;
mod value_ref;
mod value_serde;
pub mod xrpc;

pub use blob::{Blob, Bytes};
pub use cbor::cid_for;
pub use cid::{Cid, CidHashState, CidLink, CidMap, CidRef, CidSet};
pub use did_doc::DidDocument;
/// A generated record type, which knows its collection (`RecordType::NSID`): what the client's
/// `create_record_of` / `get_record_of` / `list_records_of` take instead of a string.
pub use runtime::Record as RecordType;
pub use syntax::{
    AtIdentifier, AtUri, Datetime, Did, Handle, Language, Nsid, RecordKey, SyntaxError, Tid, Uri,
};
pub use value::{Map, Value};
pub use value_read::ReadValue;
pub use value_ref::ValueRef;
pub use value_serde::{
    from_value, from_value_json, to_value, ValueDeserializer, ValueError, ValueSerializer,
};
