//! What generated lexicon types are built from: a protocol between `atdata-codegen`'s output and
//! this crate, not an API for people (hence hidden from the docs; it may change with codegen).
//!
//! Code from `atdata-codegen` (the official API in `atdata-api`, and crates generated from your
//! own lexicons) refers to everything through this module as `_rt::…`, so it needs no other import
//! and cannot clash with a definition that happens to be called `Blob` or `Value`.
//!
//! The serde support is written by hand instead of derived, for three reasons:
//!
//! - **Exact round trips.** Every object keeps the keys its lexicon does not declare in an
//!   `extra` map, and writes them back, so a record read and written again has the same bytes and
//!   the same CID.
//! - **`$type`.** Union members and records always write their `$type`, once; a `$type` carried
//!   on a plain object (as real posts do on facets) is kept like any other unknown key.
//! - **Errors with a path.** `embed.images[0].alt: missing field`, or
//!   `embed: unknown $type app.bsky.embed.imagez in closed union`, instead of serde's opaque
//!   "data did not match any variant".
//!
//! Objects stream straight from the input (JSON or DAG-CBOR). A union is read into a [`Value`]
//! first, because its `$type` may come after other keys (DAG-CBOR sorts `$type` after every
//! shorter key), and then converted, which also keeps the number of generic instantiations small.

mod body;
mod object;
mod path;
mod union;

pub use body::json_output;

/// What generated `Debug` impls print in place of a secret (a token, a password).
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

pub use crate::value_serde::{ValueDeserializer, ValueError};
pub use object::{
    de_object, extra, field, field_vec, missing, record_type, required, ser_object, Key, Object,
    Record,
};
pub use union::{de_union, decode_message, member, Union};

pub use crate::xrpc::{
    Binary, Body, BodyError, NoError, QueryParams, XrpcErrorName, XrpcMethod, XrpcRequest,
    XrpcSubscription,
};
pub use crate::{
    AtIdentifier, AtUri, Blob, Bytes, Cid, CidLink, Datetime, Did, Handle, Language, Map, Nsid,
    RecordKey, Tid, Uri, Value,
};
pub use serde::de::MapAccess;
pub use serde::ser::SerializeMap;
pub use serde::{Deserialize, Deserializer, Serialize, Serializer};
