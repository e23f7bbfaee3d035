//! Lexicon `language` strings: BCP 47 language tags.

use crate::syntax::{SharedStr, SyntaxError, SyntaxKind};

/// Our hard length limit (the RFC sets none; real tags are far shorter).
const MAX_LEN: usize = 128;

/// The grandfathered tags of RFC 5646 (section 2.2.8): irregular ones that do not fit
/// the `langtag` grammar, and regular ones that do but are listed whole.
const GRANDFATHERED: [&str; 26] = [
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
    "art-lojban",
    "cel-gaulish",
    "no-bok",
    "no-nyn",
    "zh-guoyu",
    "zh-hakka",
    "zh-min",
    "zh-min-nan",
    "zh-xiang",
];

/// A language tag, as the [Lexicon spec](https://atproto.com/specs/lexicon#language)
/// defines it: a well-formed [BCP 47](https://www.rfc-editor.org/rfc/rfc5646) tag.
///
/// The grammar is RFC 5646's `Language-Tag` (language, extlangs, script, region,
/// variants, extensions, private use; private-use-only tags like `x-foo`; the
/// grandfathered list), with one atproto restriction taken from the interop
/// fixtures: the primary language subtag must be 2 or 3 *lowercase* letters (so
/// `JA` and the reserved 4-letter form `jaja` are rejected; `i-…` and `x-…` tags are
/// allowed). Other subtags are case-insensitive. Parsing is strict: a tag that
/// repeats a variant or an extension singleton (case-insensitively) is rejected, as
/// RFC 5646 section 2.2.9 requires of valid tags; [`Language::check_syntax`] is the
/// lenient, well-formedness-only check. The text is kept exactly (no case
/// normalization) and compared exactly.
///
/// ```
/// use atdata_core::syntax::Language;
///
/// let lang: Language = "pt-BR".parse()?;
/// assert_eq!(lang.primary(), "pt");
/// assert!("en-rozaj-ROZAJ".parse::<Language>().is_err()); // duplicate variant
/// assert!(Language::check_syntax("en-rozaj-ROZAJ").is_ok()); // but well-formed
/// assert!("JA".parse::<Language>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct Language {
    inner: SharedStr,
}

string_type!(Language, "a language tag", ord_by_str);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Language, reason)
}

/// Where we are in the `langtag` production; later stages can not go back.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Language,
    Extlang,
    Script,
    Region,
    Variant,
    Extension,
    PrivateUse,
}

fn check_subtag(t: &[u8]) -> Result<(), SyntaxError> {
    if t.is_empty() {
        return Err(err("empty subtag"));
    }
    if t.len() > 8 {
        return Err(err("subtag longer than 8 characters"));
    }
    if !t.iter().all(u8::is_ascii_alphanumeric) {
        return Err(err("subtags must be ASCII letters and digits"));
    }
    Ok(())
}

/// Bit index of a singleton (an ASCII alphanumeric byte), case-insensitive.
fn singleton_bit(c: u8) -> u64 {
    let c = c.to_ascii_lowercase();
    let index = if c.is_ascii_digit() {
        c - b'0'
    } else {
        c.wrapping_sub(b'a').wrapping_add(10)
    };
    1u64 << (index & 63)
}

fn is_grandfathered(s: &str) -> bool {
    let primary_is_lower = s
        .bytes()
        .take_while(|&c| c != b'-')
        .all(|c| c.is_ascii_lowercase());
    primary_is_lower && GRANDFATHERED.iter().any(|g| g.eq_ignore_ascii_case(s))
}

/// Checks a language tag; with `strict`, also rejects duplicate variants and
/// duplicate extension singletons.
fn check(s: &str, strict: bool) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 128)"));
    }
    if b.is_empty() {
        return Err(err("empty"));
    }
    if is_grandfathered(s) {
        return Ok(());
    }

    let mut parts = b.split(|&c| c == b'-');
    let first = parts.next().unwrap_or_default();
    check_subtag(first)?;

    if first.eq_ignore_ascii_case(b"x") {
        // A private-use-only tag: `x-` then 1 to 8 alphanumerics per subtag.
        let mut count = 0usize;
        for t in parts {
            check_subtag(t)?;
            count += 1;
        }
        return if count == 0 {
            Err(err("private use needs at least one subtag"))
        } else {
            Ok(())
        };
    }
    if !(2..=3).contains(&first.len()) || !first.iter().all(u8::is_ascii_lowercase) {
        return Err(err("primary language subtag must be 2-3 lowercase letters"));
    }

    let mut stage = Stage::Language;
    let mut extlangs = 0u8;
    // Byte offset of the current subtag, and of the first variant (variants are
    // contiguous, so earlier ones can be re-read from the input without storing them).
    let mut offset = first.len() + 1;
    let mut variants_start: Option<usize> = None;
    let mut singletons = 0u64;
    let mut stage_subtags = 0usize;

    for t in parts {
        check_subtag(t)?;
        let here = offset;
        offset += t.len() + 1;

        if stage == Stage::PrivateUse {
            stage_subtags += 1;
            continue;
        }
        if let &[c] = t {
            if stage == Stage::Extension && stage_subtags == 0 {
                return Err(err("extension needs at least one subtag"));
            }
            stage_subtags = 0;
            if c.eq_ignore_ascii_case(&b'x') {
                stage = Stage::PrivateUse;
                continue;
            }
            let bit = singleton_bit(c);
            if strict && singletons & bit != 0 {
                return Err(err("duplicate extension singleton"));
            }
            singletons |= bit;
            stage = Stage::Extension;
            continue;
        }
        if stage == Stage::Extension {
            // Extension subtags are 2 to 8 alphanumerics; length 1 was handled above.
            stage_subtags += 1;
            continue;
        }

        let alpha = t.iter().all(u8::is_ascii_alphabetic);
        let digit = t.iter().all(u8::is_ascii_digit);
        let starts_digit = t.first().is_some_and(u8::is_ascii_digit);
        match t.len() {
            3 if alpha
                && (stage == Stage::Language || (stage == Stage::Extlang && extlangs < 3)) =>
            {
                stage = Stage::Extlang;
                extlangs += 1;
            }
            4 if alpha && stage <= Stage::Extlang => stage = Stage::Script,
            2 if alpha && stage <= Stage::Script => stage = Stage::Region,
            3 if digit && stage <= Stage::Script => stage = Stage::Region,
            len if (len >= 5 || (len == 4 && starts_digit)) && stage <= Stage::Variant => {
                let start = *variants_start.get_or_insert(here);
                if strict {
                    let earlier = b.get(start..here.saturating_sub(1)).unwrap_or_default();
                    if here > start
                        && earlier
                            .split(|&c| c == b'-')
                            .any(|v| v.eq_ignore_ascii_case(t))
                    {
                        return Err(err("duplicate variant subtag"));
                    }
                }
                stage = Stage::Variant;
            }
            _ => return Err(err("misplaced or malformed subtag")),
        }
    }

    match stage {
        Stage::Extension if stage_subtags == 0 => Err(err("extension needs at least one subtag")),
        Stage::PrivateUse if stage_subtags == 0 => {
            Err(err("private use needs at least one subtag"))
        }
        _ => Ok(()),
    }
}

impl Language {
    fn parse_meta(s: &str) -> Result<(), SyntaxError> {
        check(s, true)
    }

    fn assemble(inner: SharedStr, _meta: ()) -> Self {
        Self { inner }
    }

    /// Checks only that `s` is a well-formed tag (duplicate variants or singletons
    /// allowed). The Lexicon spec asks validators for well-formedness, and clients to
    /// ignore tags that are well-formed but not valid; the parsers are always strict.
    pub fn check_syntax(s: &str) -> Result<(), SyntaxError> {
        check(s, false)
    }

    /// The primary language subtag: `pt` for `pt-BR`, `i` for `i-navajo`, `x` for a
    /// private-use tag such as `x-klingon`.
    pub fn primary(&self) -> &str {
        let s = self.as_str();
        s.split_once('-').map_or(s, |(p, _)| p)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_examples() {
        for s in [
            "ja",
            "ban",
            "pt-BR",
            "hy-Latn-IT-arevela",
            "sgn-BE-NL",
            "en-GB-oed",
            "es-419",
            "zh-yue-HK",
            "zh-min-nan",
            "en-GB-boont-r-extended-sequence-x-private",
            "i-default",
            "X-fr-CH",
            "x-a",
            "de-X-foo",
            "de-CH-1901",
            "qaa-Qaaa-QM-x-southern",
            "sl-rozaj-biske",
            "en-u-co-phonebk-t-en-US",
            "en-a-bbb-x-a-ccc",
        ] {
            assert!(Language::new(s).is_ok(), "{s}");
            assert!(Language::check_syntax(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_examples() {
        for (s, why) in [
            ("", "empty"),
            (
                "jaja",
                "primary language subtag must be 2-3 lowercase letters",
            ),
            (
                "JA",
                "primary language subtag must be 2-3 lowercase letters",
            ),
            ("j", "primary language subtag must be 2-3 lowercase letters"),
            (
                "a-DE",
                "primary language subtag must be 2-3 lowercase letters",
            ),
            (
                "123",
                "primary language subtag must be 2-3 lowercase letters",
            ),
            (".", "subtags must be ASCII letters and digits"),
            ("ja-", "empty subtag"),
            ("en--US", "empty subtag"),
            ("en-abcdefghi", "subtag longer than 8 characters"),
            ("x", "private use needs at least one subtag"),
            ("en-x", "private use needs at least one subtag"),
            ("en-a", "extension needs at least one subtag"),
            ("en-a-b-cc", "extension needs at least one subtag"),
            ("de-419-DE", "misplaced or malformed subtag"),
            ("en-US-Latn", "misplaced or malformed subtag"),
            ("en-abc-def-ghi-jkl", "misplaced or malformed subtag"),
            (
                "i-foo",
                "primary language subtag must be 2-3 lowercase letters",
            ),
        ] {
            assert_eq!(Language::new(s).unwrap_err().reason(), why, "{s:?}");
        }
    }

    #[test]
    fn strict_duplicates() {
        for (s, why) in [
            ("de-DE-1901-1901", "duplicate variant subtag"),
            ("en-rozaj-ROZAJ", "duplicate variant subtag"),
            ("en-a-foo-a-bar", "duplicate extension singleton"),
            (
                "en-u-co-phonebk-U-ca-buddhist",
                "duplicate extension singleton",
            ),
        ] {
            assert_eq!(Language::new(s).unwrap_err().reason(), why, "{s:?}");
            assert!(Language::check_syntax(s).is_ok(), "{s:?}");
        }
        // Repeats inside private use are fine.
        assert!(Language::new("en-x-foo-foo-a-a").is_ok());
    }

    #[test]
    fn primary_subtag() {
        assert_eq!(Language::new("pt-BR").unwrap().primary(), "pt");
        assert_eq!(Language::new("ja").unwrap().primary(), "ja");
        assert_eq!(Language::new("i-navajo").unwrap().primary(), "i");
        assert_eq!(Language::new("X-fr-CH").unwrap().primary(), "X");
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = Language::new(&s);
            let _ = Language::check_syntax(&s);
        }

        #[test]
        fn near_valid_never_panics(s in "[a-zA-Z0-9]{1,4}(-[a-zA-Z0-9]{0,9}){0,6}") {
            let _ = Language::new(&s);
        }

        #[test]
        fn display_roundtrip(
            lang in "[a-z]{2,3}",
            script in proptest::option::of("[A-Z][a-z]{3}"),
            region in proptest::option::of("[A-Z]{2}|[0-9]{3}"),
            private in proptest::option::of("[a-z0-9]{1,8}"),
        ) {
            let mut s = lang;
            for part in [script, region].into_iter().flatten() {
                s.push('-');
                s.push_str(&part);
            }
            if let Some(p) = private {
                s.push_str("-x-");
                s.push_str(&p);
            }
            let l = Language::new(&s).unwrap();
            let again: Language = l.to_string().parse().unwrap();
            prop_assert_eq!(&again, &l);
            prop_assert_eq!(again.as_str(), s.as_str());
        }
    }
}
