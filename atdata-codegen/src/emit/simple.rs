//! Definitions that need no serde code: tokens, string definitions (with their known values)
//! and permission sets.

use std::fmt::Write as _;

use atdata_lexicon::schema::{PermissionSet, StringSchema};

use super::{string_type, DocEmitter};
use crate::docs::{escape, write_doc};
use crate::names::screaming;

impl DocEmitter<'_, '_> {
    /// A token: a constant holding its full reference.
    pub(crate) fn token(&mut self, name: &str, description: Option<&str>) {
        let nsid = self.nsid();
        let value = if name == "main" {
            nsid.to_owned()
        } else {
            format!("{nsid}#{name}")
        };
        let Some(konst) = self.info.consts.get(name).cloned() else {
            return;
        };
        let fallback = format!("The `{value}` token.");
        self.item_doc("", description, &fallback, &value);
        let _ = writeln!(self.out, "pub const {konst}: &str = \"{value}\";\n");
    }

    /// A string definition: an alias of its Rust type, and a constant per known value.
    pub(crate) fn string_def(&mut self, name: &str, rust: &str, string: &StringSchema) {
        let nsid = self.nsid();
        let lexicon = if name == "main" {
            nsid.to_owned()
        } else {
            format!("{nsid}#{name}")
        };
        self.alias(
            rust,
            string_type(string.format),
            string.description.as_deref(),
            &lexicon,
        );
        let values = string
            .known_values
            .iter()
            .chain(string.enum_values.iter())
            .flatten();
        let values: Vec<&String> = values.collect();
        let prefix = screaming(name);
        // Known values that are token references are named after the token (`…#reasonSpam` →
        // `REASON_TYPE_REASON_SPAM`), unless two tokens share a name: then after the whole value.
        let short = |value: &str| screaming(value.rsplit('#').next().unwrap_or(value));
        for value in &values {
            let clash = values
                .iter()
                .filter(|other| short(other) == short(value))
                .count()
                > 1;
            let suffix = if clash {
                screaming(value)
            } else {
                short(value)
            };
            let konst = self.values.claim(&format!("{prefix}_{suffix}"));
            write_doc(
                &mut self.out,
                "",
                &format!("Known value of `{lexicon}`: `{}`.", escape_tick(value)),
            );
            let _ = writeln!(self.out, "pub const {konst}: &str = {value:?};\n");
        }
    }

    /// A permission set: its OAuth scope string, with the title, detail and permissions as docs.
    pub(crate) fn permission_set(&mut self, set: &PermissionSet) {
        let nsid = self.nsid();
        let mut text = String::new();
        match &set.title {
            Some(title) => text.push_str(&format!(
                "OAuth scope of the permission set \"{}\".",
                escape(title)
            )),
            None => text.push_str("OAuth scope of this permission set."),
        }
        if let Some(detail) = &set.detail {
            text.push_str(&format!("\n\n{}", escape(detail)));
        }
        if let Some(description) = &set.description {
            text.push_str(&format!("\n\n{}", escape(description)));
        }
        text.push_str("\n\nPermissions:\n");
        for p in &set.permissions {
            let fields: Vec<String> = p
                .fields
                .iter()
                .map(|(k, v)| format!("{k} {}", permission_value(v)))
                .collect();
            text.push_str(&format!("\n- `{}`: {}", p.resource, fields.join("; ")));
        }
        text.push_str(&format!("\n\nLexicon: `{nsid}`."));
        write_doc(&mut self.out, "", &text);
        let _ = writeln!(self.out, "pub const SCOPE: &str = \"include:{nsid}\";\n");
    }
}

/// A permission field's value for docs: strings and lists of strings in backticks, anything else
/// as JSON in backticks.
fn permission_value(value: &serde_json::Value) -> String {
    let code = |text: &str| format!("`{}`", escape_tick(text));
    match value {
        serde_json::Value::String(s) => code(s),
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_string()) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(code)
            .collect::<Vec<_>>()
            .join(", "),
        other => code(&other.to_string()),
    }
}

/// A value shown inside backticks: a backtick in it would end the code span.
fn escape_tick(value: &str) -> String {
    value.replace('`', "'")
}
