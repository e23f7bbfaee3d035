//! Lints on a document's raw JSON: keys that its definitions do not have.
//!
//! The typed model ignores unknown keys (so newer lexicons with new keys still load), which
//! means a typo like `maxlength` silently drops the rule it meant to set. This walk knows
//! which keys each definition type has and reports the others, with a suggestion when one is
//! close.

use serde_json::{Map, Value};

use super::{Lint, Rule};

/// Keys every definition and field may carry.
const COMMON: &[&str] = &["type", "description"];

/// The keys of a definition or field of lexicon type `kind`, besides [`COMMON`]. `None` for
/// a type this walk does not know (the document would not parse anyway).
fn keys_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "record" => &["key", "record"],
        "query" => &["parameters", "output", "errors"],
        "procedure" => &["parameters", "input", "output", "errors"],
        "subscription" => &["parameters", "message", "errors"],
        "permission-set" => &[
            "title",
            "title:lang",
            "detail",
            "detail:lang",
            "permissions",
        ],
        "token" | "cid-link" | "unknown" => &[],
        "object" => &["required", "nullable", "properties"],
        "params" => &["required", "properties"],
        "array" => &["items", "minLength", "maxLength"],
        "boolean" => &["default", "const"],
        "integer" => &["minimum", "maximum", "enum", "default", "const"],
        "string" => &[
            "format",
            "minLength",
            "maxLength",
            "minGraphemes",
            "maxGraphemes",
            "knownValues",
            "enum",
            "default",
            "const",
        ],
        "bytes" => &["minLength", "maxLength"],
        "blob" => &["accept", "maxSize"],
        "ref" => &["ref"],
        "union" => &["refs", "closed"],
        _ => return None,
    })
}

/// The top level of a document; `$type` appears when a lexicon is published as a record.
const DOC_KEYS: &[&str] = &["lexicon", "id", "revision", "description", "defs", "$type"];
/// An `input` or `output` body.
const BODY_KEYS: &[&str] = &["description", "encoding", "schema"];
/// A subscription's `message`.
const MESSAGE_KEYS: &[&str] = &["description", "schema"];
/// An entry of `errors`.
const ERROR_KEYS: &[&str] = &["name", "description"];

/// Lints one document's JSON for keys its definitions do not have ([`Rule::UnknownKey`]).
///
/// ```
/// let json = serde_json::json!({"lexicon": 1, "id": "com.example.note", "defs": {
///     "main": {"type": "object", "properties": {
///         "text": {"type": "string", "maxlength": 300}}}}});
/// let lints = atdata_lexicon::lint::lint_raw(&json);
/// assert_eq!(lints.len(), 1);
/// assert_eq!(lints[0].path, "defs.main.properties.text.maxlength");
/// assert!(lints[0].message.contains("did you mean \"maxLength\""));
/// ```
pub fn lint_raw(doc: &Value) -> Vec<Lint> {
    let id = doc.get("id").and_then(Value::as_str).unwrap_or("?");
    let mut walk = Walk {
        id,
        out: Vec::new(),
    };
    if let Some(map) = doc.as_object() {
        walk.keys(map, DOC_KEYS, "");
        if let Some(defs) = map.get("defs").and_then(Value::as_object) {
            for (name, def) in defs {
                walk.node(def, &format!("defs.{name}"));
            }
        }
    }
    walk.out
}

struct Walk<'a> {
    id: &'a str,
    out: Vec<Lint>,
}

impl Walk<'_> {
    /// A definition, field, `params` or nested schema: anything with a `type`.
    fn node(&mut self, value: &Value, path: &str) {
        let Some(map) = value.as_object() else { return };
        let Some(kind) = map.get("type").and_then(Value::as_str) else {
            return;
        };
        let Some(own) = keys_of(kind) else { return };
        for key in map.keys() {
            if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
                self.unknown(key, kind, COMMON.iter().chain(own), path);
            }
        }
        let child = |key: &str| map.get(key);
        match kind {
            "record" => self.each_node(child("record"), path, "record"),
            "query" | "procedure" | "subscription" => {
                self.each_node(child("parameters"), path, "parameters");
                for body in ["input", "output"] {
                    self.body(child(body), &format!("{path}.{body}"), BODY_KEYS);
                }
                self.body(child("message"), &format!("{path}.message"), MESSAGE_KEYS);
                if let Some(errors) = child("errors").and_then(Value::as_array) {
                    for (i, error) in errors.iter().enumerate() {
                        if let Some(error) = error.as_object() {
                            self.keys(error, ERROR_KEYS, &format!("{path}.errors[{i}]"));
                        }
                    }
                }
            }
            "object" | "params" => {
                if let Some(properties) = child("properties").and_then(Value::as_object) {
                    for (name, field) in properties {
                        self.node(field, &format!("{path}.properties.{name}"));
                    }
                }
            }
            "array" => self.each_node(child("items"), path, "items"),
            _ => {}
        }
    }

    fn each_node(&mut self, value: Option<&Value>, path: &str, key: &str) {
        if let Some(value) = value {
            self.node(value, &format!("{path}.{key}"));
        }
    }

    /// A body or message: its own keys, then its schema.
    fn body(&mut self, value: Option<&Value>, path: &str, allowed: &[&str]) {
        let Some(map) = value.and_then(Value::as_object) else {
            return;
        };
        self.keys(map, allowed, path);
        self.each_node(map.get("schema"), path, "schema");
    }

    fn keys(&mut self, map: &Map<String, Value>, allowed: &[&str], path: &str) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let what = if path.is_empty() {
                    "document"
                } else {
                    "object"
                };
                self.unknown(key, what, allowed.iter(), path);
            }
        }
    }

    fn unknown<'k>(
        &mut self,
        key: &str,
        kind: &str,
        known: impl Iterator<Item = &'k &'k str>,
        path: &str,
    ) {
        let suggestion = known
            .map(|k| (distance(key, k), *k))
            .filter(|&(d, _)| d <= 2)
            .min()
            .map(|(_, k)| format!("; did you mean {k:?}?"))
            .unwrap_or_default();
        let full = if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        };
        self.out.push(Lint::new(
            Rule::UnknownKey,
            self.id,
            &full,
            format!("a {kind} has no key {key:?}, so it is ignored{suggestion}"),
        ));
    }
}

/// Edit distance between two short keys, case changes costing nothing (so `maxlength` is
/// 0 away from `maxLength`).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("maxlength", "maxLength"), 0);
        assert_eq!(distance("maxLenght", "maxLength"), 2);
        assert_eq!(distance("refs", "ref"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn unknown_keys_everywhere() {
        let doc = serde_json::json!({
            "lexicon": 1, "id": "com.example.x", "revison": 2,
            "defs": {
                "main": {"type": "procedure",
                    "input": {"encoding": "application/json", "shema": {"type": "object"}},
                    "errors": [{"name": "Bad", "descripton": "x"}]},
                "num": {"type": "integer", "maxLength": 3},
                "list": {"type": "array", "items": {"type": "ref", "ref": "#num", "closed": true}}
            }
        });
        let paths: Vec<String> = lint_raw(&doc).into_iter().map(|l| l.path).collect();
        assert_eq!(
            paths,
            [
                "revison",
                "defs.list.items.closed",
                "defs.main.input.shema",
                "defs.main.errors[0].descripton",
                "defs.num.maxLength",
            ]
        );
    }
}
