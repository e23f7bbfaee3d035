//! Any serde type to and from a [`Value`], directly: [`to_value`], [`from_value`] and
//! [`from_value_json`], over [`ValueSerializer`] and [`ValueDeserializer`].
//!
//! They give what a trip through the encoded form would give (DAG-CBOR for `to_value` and
//! `from_value`, atproto JSON for `from_value_json`) without writing and parsing the bytes.

mod de;
mod ser;

use std::fmt;

pub(crate) use de::MapAccess;
pub use de::ValueDeserializer;
pub use ser::ValueSerializer;

use crate::Value;

/// Why a value did not fit a type, or a type could not become a [`Value`]. The message starts
/// with the path when there is one (`images[0].alt: missing field`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

impl serde::de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

impl serde::ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError(msg.to_string())
    }
}

/// Converts any serializable value (your own record struct, say) into a [`Value`], exactly as
/// its DAG-CBOR encoding would decode.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Schema { name: String, version: u32 }
/// let v = atdata_core::to_value(&Schema { name: "mnist".into(), version: 2 })?;
/// assert_eq!(v.get("version").and_then(|v| v.as_integer()), Some(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_value<T: serde::Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(&mut ValueSerializer::new())
}

/// Converts a [`Value`] into any deserializable type, as if decoding its DAG-CBOR encoding
/// (links reach [`CidLink`](crate::CidLink), bytes arrive as bytes).
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Like { #[serde(rename = "createdAt")] created_at: String }
/// let v = atdata_core::Value::from_json_str(r#"{"createdAt": "2024-01-01T00:00:00Z"}"#)?;
/// let like: Like = atdata_core::from_value(v)?;
/// assert_eq!(like.created_at, "2024-01-01T00:00:00Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(ValueDeserializer::new(value))
}

/// Converts a [`Value`] into any deserializable type, as if parsing its atproto JSON: links and
/// bytes are the objects `{"$link": …}` and `{"$bytes": …}`, so JSON-only types such as
/// `serde_json::Value` read any record.
///
/// ```
/// let v = atdata_core::Value::from_json_str(
///     r#"{"ref": {"$link": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"}}"#,
/// )?;
/// let json: serde_json::Value = atdata_core::from_value_json(v)?;
/// assert_eq!(json["ref"]["$link"], "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_value_json<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    T::deserialize(ValueDeserializer::json_view(value))
}
