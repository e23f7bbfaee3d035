//! The CAR v1 header.

use super::CarError;
use crate::cbor;
use crate::cid::Cid;
use crate::value_ref::ValueRef;

/// The decoded header: the root CIDs (for a repository, the signed commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarHeader {
    /// The roots, in file order. May be empty: CAR v1 readers disagree (go-car refuses such
    /// a header, the JavaScript readers accept it) and the reference PDS answers
    /// `com.atproto.sync.getBlocks` with a CAR that has none, so the readers here accept it.
    /// A repository export needs exactly one, its commit: [`crate::repo::Repo::from_car`] and
    /// [`crate::repo::verify_car`] refuse anything else.
    pub roots: Vec<Cid>,
}

impl CarHeader {
    /// Decodes and checks the header's DAG-CBOR bytes.
    pub fn decode(bytes: &[u8]) -> Result<CarHeader, CarError> {
        let value =
            cbor::decode_ref(bytes).map_err(|e| CarError::Header(format!("not DAG-CBOR: {e}")))?;
        let ValueRef::Map(entries) = &value else {
            return Err(CarError::Header("not a map".into()));
        };
        match value.get("version") {
            Some(ValueRef::Integer(1)) => {}
            Some(ValueRef::Integer(v)) => {
                return Err(CarError::Header(format!(
                    "version {v} (only CAR v1 is read)"
                )));
            }
            _ => return Err(CarError::Header("missing integer \"version\"".into())),
        }
        let roots = match value.get("roots") {
            Some(ValueRef::Array(items)) => items
                .iter()
                .map(|item| match item {
                    ValueRef::Link(c) => Ok(c.to_cid()),
                    other => Err(CarError::Header(format!(
                        "roots must be CID links, found {}",
                        other.kind()
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(CarError::Header("missing \"roots\" array".into())),
        };
        if entries.len() != 2 {
            return Err(CarError::Header(
                "unexpected keys besides roots and version".into(),
            ));
        }
        Ok(CarHeader { roots })
    }

    /// Encodes the header's DAG-CBOR bytes (without the length prefix).
    pub fn encode(&self) -> Vec<u8> {
        let roots = self
            .roots
            .iter()
            .map(|c| ValueRef::Link(c.as_cid_ref()))
            .collect();
        cbor::encode_ref(&ValueRef::Map(vec![
            ("roots", ValueRef::Array(roots)),
            ("version", ValueRef::Integer(1)),
        ]))
    }
}
