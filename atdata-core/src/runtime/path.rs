//! Error paths: `embed.images[0].alt: missing field`.
//!
//! serde errors carry a message and, depending on the format, a position; they have no place for
//! a path. Each level that reads a field or an array element prefixes its name to the message
//! of an error passing through. Formats decorate messages with their position (serde_json
//! appends ` at line L column C`, our DAG-CBOR decoder prefixes `invalid DAG-CBOR at byte N: `)
//! and add it again when the rewritten error leaves the next level, so the decoration is
//! stripped before prefixing: the final error has the full path and one position.

use std::fmt::Write as _;

use serde::de::Error;

/// One step of a path.
#[derive(Clone, Copy)]
pub(crate) enum Seg<'a> {
    /// An object key, as the data spells it.
    Field(&'a str),
    /// An array index.
    Index(usize),
}

/// Prefixes `seg` to the path of `err`.
pub(crate) fn nest<E: Error>(err: E, seg: Seg<'_>) -> E {
    let text = err.to_string();
    let inner = strip_position(&text);
    let mut out = String::with_capacity(inner.len() + 16);
    match seg {
        Seg::Field(name) => out.push_str(name),
        Seg::Index(i) => {
            let _ = write!(out, "[{i}]");
        }
    }
    if has_path(inner) {
        if !inner.starts_with('[') {
            out.push('.');
        }
    } else {
        out.push_str(": ");
    }
    out.push_str(inner);
    E::custom(out)
}

/// Whether `message` starts with a path we wrote (`a.b[2].c: …`). Messages from serde and the
/// formats put words with spaces before their first `": "`, never a bare path.
fn has_path(message: &str) -> bool {
    message.split_once(": ").is_some_and(|(head, _)| {
        !head.is_empty()
            && head.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '[' | ']' | '-')
            })
    })
}

/// The message without the position serde_json or our DAG-CBOR decoder added to it.
fn strip_position(text: &str) -> &str {
    let text = match text.strip_prefix("invalid DAG-CBOR at byte ") {
        Some(rest) => match rest.split_once(": ") {
            Some((offset, message)) if is_digits(offset) => message,
            _ => text,
        },
        None => text,
    };
    if let Some(at) = text.rfind(" at line ") {
        let tail = &text[at + " at line ".len()..];
        if let Some((line, column)) = tail.split_once(" column ") {
            if is_digits(line) && is_digits(column) {
                return &text[..at];
            }
        }
    }
    text
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ValueError;

    fn msg(e: ValueError) -> String {
        e.to_string()
    }

    #[test]
    fn paths_join() {
        let e = ValueError::custom("alt: missing field");
        let e = nest(e, Seg::Index(0));
        assert_eq!(msg(e.clone()), "[0].alt: missing field");
        let e = nest(e, Seg::Field("images"));
        assert_eq!(msg(e.clone()), "images[0].alt: missing field");
        let e = nest(e, Seg::Field("embed"));
        assert_eq!(msg(e), "embed.images[0].alt: missing field");
        let e = nest(
            ValueError::custom("invalid type: integer `5`, expected a string"),
            Seg::Field("text"),
        );
        assert_eq!(msg(e), "text: invalid type: integer `5`, expected a string");
    }

    #[test]
    fn positions_are_stripped() {
        assert_eq!(strip_position("text: bad at line 3 column 14"), "text: bad");
        assert_eq!(
            strip_position("invalid DAG-CBOR at byte 12: text: bad"),
            "text: bad"
        );
        assert_eq!(strip_position("at line x column y"), "at line x column y");
    }
}
