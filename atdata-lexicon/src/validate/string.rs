//! Strings: `const`, `enum`, byte and grapheme lengths, then `format`.
//!
//! `knownValues` is advice for authors and user interfaces, not a rule: any string passes it.

use unicode_segmentation::UnicodeSegmentation as _;

use super::data::{Node, View};
use super::error::{Problem, Unit};
use super::format::check_format;
use super::path::Path;
use super::walk::{Flow, Walker};
use crate::schema::StringSchema;

/// Longest text of a value echoed in an error message, in characters.
const MAX_ECHO_CHARS: usize = 64;

impl Walker<'_> {
    /// `string`; every failing rule is reported.
    pub(crate) fn string<D: Node>(
        &mut self,
        schema: &StringSchema,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        let View::String(s) = value.view() else {
            return self.wrong_type(at, "string", value);
        };
        if let Some(c) = schema.const_value.as_ref().filter(|c| c.as_str() != s) {
            self.fail(at, || Problem::NotConst {
                expected: quoted(c),
                found: quoted(s),
            })?;
        }
        if let Some(allowed) = schema
            .enum_values
            .as_ref()
            .filter(|allowed| !allowed.iter().any(|a| a == s))
        {
            self.fail(at, || Problem::NotInEnum {
                allowed: allowed.iter().map(|a| quoted(a)).collect(),
                found: quoted(s),
            })?;
        }
        let len = s.len() as u64;
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
        if schema.min_graphemes.is_some() || schema.max_graphemes.is_some() {
            self.graphemes(schema.min_graphemes, schema.max_graphemes, s, at)?;
        }
        if let Some(format) = schema.format {
            if let Err(error) = check_format(format, s) {
                self.fail(at, || Problem::Format { format, error })?;
            }
        }
        Ok(())
    }

    /// `minGraphemes` / `maxGraphemes`. Segmenting text into grapheme clusters is the costliest
    /// check here, so it runs only when cheaper counts cannot decide: a grapheme cluster holds
    /// at least one character and a character at least one byte, so
    /// `graphemes <= chars <= bytes`.
    fn graphemes(&mut self, min: Option<u64>, max: Option<u64>, s: &str, at: &Path<'_>) -> Flow {
        let bytes = s.len() as u64;
        let mut max_open = max.is_some_and(|m| bytes > m);
        let min_open = min.is_some_and(|m| bytes >= m);
        if max_open {
            let chars = s.chars().count() as u64;
            max_open = max.is_some_and(|m| chars > m);
        }
        if let Some(m) = min.filter(|&m| bytes < m) {
            // Fewer bytes than the minimum: certainly too few graphemes.
            return self.too_few_graphemes(m, s, at);
        }
        if !max_open && !min_open {
            return Ok(());
        }
        // Count only as far as needed to decide both bounds.
        let cap = max
            .filter(|_| max_open)
            .map_or(0, |m| m.saturating_add(1))
            .max(min.filter(|_| min_open).unwrap_or(0));
        let counted = s
            .graphemes(true)
            .take(usize::try_from(cap).unwrap_or(usize::MAX))
            .count() as u64;
        if let Some(m) = max.filter(|&m| counted > m) {
            self.fail(at, || Problem::TooLong {
                unit: Unit::Graphemes,
                limit: m,
                found: s.graphemes(true).count() as u64,
            })?;
        }
        if let Some(m) = min.filter(|&m| counted < m) {
            self.too_few_graphemes(m, s, at)?;
        }
        Ok(())
    }

    fn too_few_graphemes(&mut self, min: u64, s: &str, at: &Path<'_>) -> Flow {
        self.fail(at, || Problem::TooShort {
            unit: Unit::Graphemes,
            limit: min,
            found: s.graphemes(true).count() as u64,
        })
    }
}

/// `s` as a JSON string for an error message, cut after [`MAX_ECHO_CHARS`] characters:
/// data can be large and messages end up in logs.
pub(crate) fn quoted(s: &str) -> String {
    match s.char_indices().nth(MAX_ECHO_CHARS) {
        None => serde_json::Value::from(s).to_string(),
        Some((cut, _)) => {
            let mut out = serde_json::Value::from(&s[..cut]).to_string();
            out.insert(out.len() - 1, '…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoted_escapes_and_cuts() {
        assert_eq!(quoted("a\"b"), r#""a\"b""#);
        let long = "x".repeat(100);
        let q = quoted(&long);
        assert!(q.starts_with("\"xxx") && q.ends_with("x…\""));
        assert_eq!(q.chars().count(), 64 + 3);
    }
}
