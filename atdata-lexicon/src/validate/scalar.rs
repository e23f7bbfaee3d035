//! Booleans, integers, bytes and CID links.

use super::data::{Node, View};
use super::error::{Problem, Unit};
use super::path::Path;
use super::walk::{Flow, Walker};
use crate::schema::{Boolean, BytesSchema, Integer};

impl Walker<'_> {
    /// `boolean` with its optional `const`.
    pub(crate) fn boolean<D: Node>(&mut self, schema: &Boolean, value: &D, at: &Path<'_>) -> Flow {
        let View::Bool(b) = value.view() else {
            return self.wrong_type(at, "boolean", value);
        };
        match schema.const_value {
            Some(c) if c != b => self.fail(at, || Problem::NotConst {
                expected: c.to_string(),
                found: b.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// `integer` with `const`, `enum`, `minimum` and `maximum`; every failing rule is reported.
    pub(crate) fn integer<D: Node>(&mut self, schema: &Integer, value: &D, at: &Path<'_>) -> Flow {
        let View::Integer(n) = value.view() else {
            return self.wrong_type(at, "integer", value);
        };
        if let Some(c) = schema.const_value.filter(|&c| c != n) {
            self.fail(at, || Problem::NotConst {
                expected: c.to_string(),
                found: n.to_string(),
            })?;
        }
        if let Some(allowed) = schema.enum_values.as_ref().filter(|a| !a.contains(&n)) {
            self.fail(at, || Problem::NotInEnum {
                allowed: allowed.iter().map(i64::to_string).collect(),
                found: n.to_string(),
            })?;
        }
        if let Some(max) = schema.maximum.filter(|&max| n > max) {
            self.fail(at, || Problem::TooBig {
                limit: max,
                found: n,
            })?;
        }
        if let Some(min) = schema.minimum.filter(|&min| n < min) {
            self.fail(at, || Problem::TooSmall {
                limit: min,
                found: n,
            })?;
        }
        Ok(())
    }

    /// `bytes` with `minLength` / `maxLength` in bytes.
    pub(crate) fn bytes<D: Node>(
        &mut self,
        schema: &BytesSchema,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        let View::Bytes(bytes) = value.view() else {
            return self.wrong_type(at, "bytes", value);
        };
        let len = bytes.len() as u64;
        if let Some(max) = schema.max_length.filter(|&max| len > max) {
            self.fail(at, || Problem::TooLong {
                unit: Unit::Bytes,
                limit: max,
                found: len,
            })?;
        }
        if let Some(min) = schema.min_length.filter(|&min| len < min) {
            self.fail(at, || Problem::TooShort {
                unit: Unit::Bytes,
                limit: min,
                found: len,
            })?;
        }
        Ok(())
    }

    /// `cid-link`: a link (`{"$link": …}` in JSON), not a CID string.
    pub(crate) fn cid_link<D: Node>(&mut self, value: &D, at: &Path<'_>) -> Flow {
        match value.view() {
            View::Link => Ok(()),
            _ => self.wrong_type(at, "cid-link", value),
        }
    }
}
