//! Response bodies.

use serde::de::{DeserializeOwned, Error as _};

use crate::value_serde::ValueDeserializer;
use crate::xrpc::{Body, BodyError};
use crate::Value;

/// Reads a JSON response body as `T`.
///
/// The JSON is parsed into a [`Value`] first and converted from there. That costs a second pass
/// over a body that just crossed the network, and saves compiling a JSON reader for every output
/// type of every method: the conversion from `Value` is one instantiation per type, which union
/// members need anyway.
pub fn json_output<T: DeserializeOwned>(body: &Body) -> Result<T, BodyError> {
    let value: Value = body.json()?;
    T::deserialize(ValueDeserializer::new(value))
        .map_err(|e| BodyError::Json(serde_json::Error::custom(e)))
}
