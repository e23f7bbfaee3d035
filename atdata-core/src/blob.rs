//! Blob references and byte strings as they appear inside records.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cid::{Cid, CidLink};
use crate::encoding;

/// A reference to a blob (an image, a dataset file…) stored beside a repository.
///
/// The current form is `{"$type": "blob", "ref": <link>, "mimeType": …, "size": …}`. Records
/// written before 2023 may hold the legacy form `{"cid": "<cid string>", "mimeType": …}`, which has
/// no size; both read, and each writes back as it was read.
///
/// ```
/// use atdata_core::{Blob, Cid};
/// let blob = Blob::new(Cid::for_raw(b"png bytes"), "image/png", 9);
/// let json = serde_json::to_value(&blob)?;
/// assert_eq!(json["$type"], "blob");
/// assert_eq!(json["size"], 9);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    /// The current, typed form.
    Typed {
        /// The blob's CID (`raw` codec).
        cid: Cid,
        /// Its MIME type as declared on upload.
        mime_type: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The legacy form (no `$type`, the CID as a string, no size).
    Legacy {
        /// The blob's CID.
        cid: Cid,
        /// Its MIME type.
        mime_type: String,
    },
}

impl Blob {
    /// A current-form blob reference.
    pub fn new(cid: Cid, mime_type: impl Into<String>, size: u64) -> Blob {
        Blob::Typed {
            cid,
            mime_type: mime_type.into(),
            size,
        }
    }

    /// The blob's CID.
    pub fn cid(&self) -> &Cid {
        match self {
            Blob::Typed { cid, .. } | Blob::Legacy { cid, .. } => cid,
        }
    }

    /// The blob's MIME type.
    pub fn mime_type(&self) -> &str {
        match self {
            Blob::Typed { mime_type, .. } | Blob::Legacy { mime_type, .. } => mime_type,
        }
    }

    /// The size in bytes, when known (not for the legacy form).
    pub fn size(&self) -> Option<u64> {
        match self {
            Blob::Typed { size, .. } => Some(*size),
            Blob::Legacy { .. } => None,
        }
    }
}

#[derive(Serialize)]
struct TypedOut<'a> {
    #[serde(rename = "$type")]
    kind: &'static str,
    #[serde(rename = "ref")]
    link: CidLink,
    #[serde(rename = "mimeType")]
    mime_type: &'a str,
    size: u64,
}

#[derive(Serialize)]
struct LegacyOut<'a> {
    cid: &'a Cid,
    #[serde(rename = "mimeType")]
    mime_type: &'a str,
}

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Blob::Typed {
                cid,
                mime_type,
                size,
            } => TypedOut {
                kind: "blob",
                link: CidLink(*cid),
                mime_type,
                size: *size,
            }
            .serialize(s),
            Blob::Legacy { cid, mime_type } => LegacyOut { cid, mime_type }.serialize(s),
        }
    }
}

/// Both blob forms' fields; any other key is an error (see [`unexpected_blob_key`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlobIn {
    #[serde(rename = "$type")]
    kind: Option<String>,
    #[serde(rename = "ref")]
    link: Option<CidLink>,
    cid: Option<Cid>,
    #[serde(rename = "mimeType")]
    mime_type: String,
    size: Option<i64>,
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = BlobIn::deserialize(d)?;
        match (raw.kind.as_deref(), raw.link, raw.cid) {
            (Some("blob"), Some(link), None) => {
                let size = raw.size.ok_or_else(|| D::Error::missing_field("size"))?;
                let size = u64::try_from(size)
                    .map_err(|_| D::Error::custom("blob size must not be negative"))?;
                Ok(Blob::Typed {
                    cid: link.0,
                    mime_type: raw.mime_type,
                    size,
                })
            }
            (Some("blob"), Some(_), Some(_)) => Err(D::Error::custom(
                "a blob has either \"ref\" (current form) or \"cid\" (legacy form), not both",
            )),
            (Some("blob"), None, _) => Err(D::Error::missing_field("ref")),
            (Some(other), _, _) => Err(D::Error::custom(format!(
                "expected $type \"blob\", found {other:?}"
            ))),
            (None, None, Some(cid)) => Ok(Blob::Legacy {
                cid,
                mime_type: raw.mime_type,
            }),
            _ => Err(D::Error::custom(
                "not a blob: expected {$type: blob, ref, mimeType, size} or legacy {cid, mimeType}",
            )),
        }
    }
}

/// A byte string: DAG-CBOR bytes, `{"$bytes": "<base64>"}` in atproto JSON (lexicon `bytes`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({})", encoding::base64_encode(&self.0))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::value::BytesRef(&self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes or {\"$bytes\": base64}")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Bytes, A::Error> {
                Err(serde::de::Error::custom("expected bytes, found an array"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Bytes, A::Error> {
                use serde::de::Error as _;
                let key: Option<std::borrow::Cow<'de, str>> = m.next_key()?;
                if key.as_deref() != Some("$bytes") {
                    return Err(A::Error::custom("expected a single \"$bytes\" key"));
                }
                let s: std::borrow::Cow<'de, str> = m.next_value()?;
                let bytes = encoding::base64_decode(&s)
                    .ok_or_else(|| A::Error::custom("$bytes is not valid base64"))?;
                if m.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::custom("a $bytes object has exactly one key"));
                }
                Ok(Bytes(bytes))
            }
        }
        // Both forms whatever `is_human_readable` says, as for `CidLink`: serde's buffering
        // for tagged and untagged enums reports human-readable even over DAG-CBOR.
        d.deserialize_any(V)
    }
}

/// The keys of a current-form blob: it has these and no others.
const BLOB_KEYS: [&str; 4] = ["$type", "ref", "mimeType", "size"];

/// The first key of a `$type: "blob"` map that a blob does not have, if any.
///
/// indigo refuses a blob with any other number of keys and the TypeScript blob schema is
/// strict, so a blob carrying more is not one the network accepts; decoders reject it rather
/// than let it through (and a typed `Blob` would drop the key, changing the record's CID).
pub(crate) fn unexpected_blob_key<'k>(keys: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    keys.into_iter().find(|k| !BLOB_KEYS.contains(k))
}

/// The data-model error for [`unexpected_blob_key`]'s finding.
pub(crate) fn unexpected_blob_key_message(key: &str) -> String {
    format!("blob has an unexpected key {key:?}: a blob has exactly $type, ref, mimeType and size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_forms_round_trip_in_both_encodings() {
        let typed = Blob::new(Cid::for_raw(b"x"), "image/png", 1);
        let legacy = Blob::Legacy {
            cid: Cid::for_raw(b"y"),
            mime_type: "image/jpeg".into(),
        };
        for blob in [typed, legacy] {
            let json = serde_json::to_string(&blob).expect("json");
            assert_eq!(
                serde_json::from_str::<Blob>(&json).expect("json back"),
                blob
            );
            let cbor = crate::cbor::to_vec(&blob).expect("cbor");
            assert_eq!(
                crate::cbor::from_slice::<Blob>(&cbor).expect("cbor back"),
                blob
            );
        }
    }

    #[test]
    fn bytes_forms() {
        let b = Bytes(vec![1, 2, 3]);
        assert_eq!(
            serde_json::to_string(&b).expect("json"),
            r#"{"$bytes":"AQID"}"#
        );
        assert_eq!(crate::cbor::to_vec(&b).expect("cbor"), vec![0x43, 1, 2, 3]);
    }
}
