//! Where in the data a problem sits, kept as a chain of stack frames.
//!
//! Each step into a map or an array makes a [`Path`] node on the call stack that points at its
//! parent, so walking valid data costs no allocation; the path is rendered into a `String`
//! only when an error is reported.

use std::fmt::Write as _;

/// One step from a value to the value inside it.
#[derive(Clone, Copy)]
enum Step<'a> {
    /// The value being validated, named by its role (`Record`, `Params`, …).
    Root(&'a str),
    /// A map entry.
    Key(&'a str),
    /// An array element.
    Index(usize),
}

/// The location of the value being checked: a root name, then keys and indexes.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
    /// Number of steps below the root: the data nesting depth at this point.
    depth: usize,
}

impl<'a> Path<'a> {
    /// The root, named after what is validated.
    pub(crate) fn root(name: &'a str) -> Self {
        Path {
            parent: None,
            step: Step::Root(name),
            depth: 0,
        }
    }

    /// The entry `key` of the map at `self`.
    pub(crate) fn key<'b>(&'b self, key: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            step: Step::Key(key),
            depth: self.depth + 1,
        }
    }

    /// The element `index` of the array at `self`.
    pub(crate) fn index(&self, index: usize) -> Path<'_> {
        Path {
            parent: Some(self),
            step: Step::Index(index),
            depth: self.depth + 1,
        }
    }

    /// How many maps and arrays lie between the root and here.
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    /// JavaScript-style text: `Record.embed.images[2].alt`; keys that are not JavaScript
    /// identifiers are quoted, `Record["cid-link"]`.
    pub(crate) fn render(&self) -> String {
        let mut steps = Vec::with_capacity(self.depth + 1);
        let mut node = Some(self);
        while let Some(n) = node {
            steps.push(n.step);
            node = n.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match step {
                Step::Root(name) => out.push_str(name),
                Step::Key(key) if is_identifier(key) => {
                    out.push('.');
                    out.push_str(key);
                }
                Step::Key(key) => {
                    out.push('[');
                    // A JSON string literal is also a valid JavaScript one.
                    out.push_str(&serde_json::Value::from(*key).to_string());
                    out.push(']');
                }
                Step::Index(i) => {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "[{i}]");
                }
            }
        }
        out
    }
}

/// Whether `key` can follow a `.` in JavaScript (ASCII subset: letters, digits, `_`, `$`).
fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keys_indexes_and_quoted_keys() {
        let root = Path::root("Record");
        let embed = root.key("embed");
        let images = embed.key("images");
        let second = images.index(2);
        let alt = second.key("alt");
        assert_eq!(alt.render(), "Record.embed.images[2].alt");
        assert_eq!(alt.depth(), 4);
        assert_eq!(root.key("cid-link").render(), r#"Record["cid-link"]"#);
        assert_eq!(root.key("$type").render(), "Record.$type");
        assert_eq!(root.key("").render(), r#"Record[""]"#);
        assert_eq!(root.render(), "Record");
    }
}
