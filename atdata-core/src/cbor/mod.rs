//! DAG-CBOR, the binary encoding of the AT Protocol data model.
//!
//! Encoding is canonical: shortest integer and length forms, map keys sorted shorter-first then
//! bytewise, CID links as tag 42. Decoding is strict: it rejects what canonical encoding would
//! never produce (floats, indefinite lengths, non-shortest forms, unsorted or duplicate keys,
//! non-string keys, tags other than 42, `undefined`, trailing bytes) and bounds nesting depth, so
//! the same value always has exactly one accepted encoding and therefore one CID.
//!
//! - [`decode_ref`] / [`decode_value`]: bytes to [`ValueRef`] (zero-copy) or [`Value`].
//! - [`encode_value`] / [`encode_ref`]: the reverse.
//! - [`to_vec`] / [`from_slice`]: any serde type, e.g. your own record structs.
//! - [`cid_for`]: the CID (dag-cbor, sha-256) of any serializable value.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! #[derive(Serialize, Deserialize, PartialEq, Debug)]
//! struct Like { subject: String, #[serde(rename = "createdAt")] created_at: String }
//! let like = Like { subject: "at://did:plc:x/app.bsky.feed.post/3k".into(),
//!                   created_at: "2024-01-01T00:00:00Z".into() };
//! let bytes = atdata_core::cbor::to_vec(&like)?;
//! let back: Like = atdata_core::cbor::from_slice(&bytes)?;
//! assert_eq!(back, like);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod de;
pub(crate) mod decode;
mod encode;
mod error;
pub(crate) mod ser;
pub mod tape;
mod utf8;

pub use de::{from_slice, from_slice_prefix, Deserializer};
pub use decode::{decode_ref, decode_ref_prefix, decode_ref_with, decode_value, Limits};
pub(crate) use encode::write_head;
pub use encode::{encode_ref, encode_value};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use ser::{to_vec, Serializer};
pub use tape::{Tape, TapeArrayIter, TapeMapIter, TapeValue};

use crate::cid::Cid;

#[allow(unused_imports)]
use crate::{Value, ValueRef};

/// The DAG-CBOR order of map keys: shorter first, then bytewise.
#[inline]
pub fn canonical_key_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// The CID (CIDv1, dag-cbor, sha-256) of a value's canonical DAG-CBOR encoding.
///
/// ```
/// let v = atdata_core::Value::from_json_str(r#"{"hello": "world"}"#)?;
/// let cid = atdata_core::cbor::cid_for(&v)?;
/// assert_eq!(cid.codec(), atdata_core::cid::DAG_CBOR);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cid_for<T: serde::Serialize + ?Sized>(value: &T) -> Result<Cid, EncodeError> {
    Ok(Cid::for_dag_cbor(&to_vec(value)?))
}
