//! Rust names for lexicon names: case conversion, keywords, and scopes that keep names unique.
//!
//! Lexicon names are camelCase (`replyRef`, `getTimeline`), sometimes with `-` or `_`
//! (`cid-link`, `viewer_state`) or acronyms (`reasonChildSafetyCSAM`). They are split into
//! words, then joined in the Rust case: `reply_ref`, `ReplyRef`, `REPLY_REF`. Acronyms become
//! words (`ReasonChildSafetyCsam`), as the Rust API guidelines ask.

use std::collections::BTreeSet;

/// Splits a name into words: at every character that is not a letter or digit, before an upper-case
/// letter that follows a lower-case letter or a digit, and before the last capital of an acronym
/// that starts a new word (`CSAMReport` → `CSAM`, `Report`).
pub(crate) fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut word));
            }
        }
        word.push(c);
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// `snake_case`; a leading digit gets `_` in front, an empty name becomes `x`.
pub(crate) fn snake(name: &str) -> String {
    let joined = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    fix_start(joined, "_", "x")
}

/// `UpperCamelCase`; a leading digit gets `N` in front, an empty name becomes `X`.
pub(crate) fn camel(name: &str) -> String {
    let joined: String = words(name)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    fix_start(joined, "N", "X")
}

/// `SCREAMING_SNAKE_CASE`; a leading digit gets `_` in front, an empty name becomes `X`.
pub(crate) fn screaming(name: &str) -> String {
    let joined = words(name)
        .iter()
        .map(|w| w.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("_");
    fix_start(joined, "_", "X")
}

fn fix_start(name: String, digit_prefix: &str, empty: &str) -> String {
    match name.chars().next() {
        None => empty.to_owned(),
        Some(c) if c.is_ascii_digit() => format!("{digit_prefix}{name}"),
        Some(_) => name,
    }
}

/// Rust keywords (strict and reserved, edition 2021).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// An identifier for `name` (already in the right case): keywords become raw identifiers
/// (`r#type`), or get a `_` suffix where Rust forbids that (`self_`).
pub(crate) fn ident(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

/// Type names generated code uses from the prelude: a definition may not take them.
pub(crate) const PRELUDE_TYPES: &[&str] = &[
    "Box", "Default", "Err", "From", "Into", "None", "Ok", "Option", "Result", "Self", "Sized",
    "Some", "String", "Vec",
];

/// The names taken in one Rust namespace of one scope (a module's types, its constants, a
/// struct's fields). Names are claimed in a fixed order, so the result is deterministic: the
/// first claimant keeps the name, later ones get a number (`Foo2`, `foo_2`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    used: BTreeSet<String>,
}

impl Scope {
    pub(crate) fn new() -> Self {
        Scope::default()
    }

    /// A scope where `names` are already taken.
    pub(crate) fn with(names: &[&str]) -> Self {
        Scope {
            used: names.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    /// Claims `base` (already cased and a valid identifier), or `base` with the smallest
    /// free number.
    pub(crate) fn claim(&mut self, base: &str) -> String {
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        let stem = base.strip_prefix("r#").unwrap_or(base);
        // snake_case and SCREAMING names separate the number with `_`.
        let sep = if stem.chars().any(|c| c.is_ascii_lowercase())
            && stem.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        {
            ""
        } else {
            "_"
        };
        (2..)
            .map(|n| format!("{stem}{sep}{n}"))
            .find(|candidate| self.used.insert(candidate.clone()))
            .unwrap_or_default()
    }

    /// Whether `name` is taken.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.used.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(snake("replyRef"), "reply_ref");
        assert_eq!(camel("replyRef"), "ReplyRef");
        assert_eq!(screaming("replyRef"), "REPLY_REF");
        assert_eq!(camel("cid-link"), "CidLink");
        assert_eq!(snake("viewer_state"), "viewer_state");
        assert_eq!(camel("reasonChildSafetyCSAM"), "ReasonChildSafetyCsam");
        assert_eq!(snake("usersIFollow"), "users_i_follow");
        assert_eq!(camel("savedFeedsPrefV2"), "SavedFeedsPrefV2");
        assert_eq!(snake("JOB_STATE_CREATED"), "job_state_created");
        assert_eq!(screaming("!hide"), "HIDE");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(camel("2fa"), "N2fa");
        assert_eq!(snake("$"), "x");
    }

    #[test]
    fn keywords() {
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
        assert_eq!(ident("text"), "text");
    }

    #[test]
    fn scopes_number_collisions() {
        let mut s = Scope::with(&["String"]);
        assert_eq!(s.claim("String"), "String2");
        assert_eq!(s.claim("foo_bar"), "foo_bar");
        assert_eq!(s.claim("foo_bar"), "foo_bar_2");
        assert_eq!(s.claim("r#type"), "r#type");
        assert_eq!(s.claim("r#type"), "type_2");
        assert_eq!(s.claim("FOO"), "FOO");
        assert_eq!(s.claim("FOO"), "FOO_2");
    }
}
