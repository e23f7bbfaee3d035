//! Syntax check for the Lexicon `uri` format (any URI scheme).

use crate::syntax::{SharedStr, SyntaxError, SyntaxKind};

/// Hard limit from the Lexicon spec (8 KiB).
const MAX_LEN: usize = 8192;

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Uri, reason)
}

/// Checks the Lexicon `uri` string format: a generic
/// [RFC 3986](https://www.rfc-editor.org/rfc/rfc3986) URI of any scheme, at most 8192
/// characters.
///
/// The check is deliberately shallow, like the reference implementations: a scheme (an
/// ASCII letter, then letters, digits, `+`, `-` or `.`), a `:`, then at least one
/// more character, with no whitespace or control characters anywhere. Non-ASCII text is
/// accepted as the TypeScript reference accepts it (IRIs like `https://fly.io’s` appear in real
/// link facets). It does not parse authorities, paths or percent-escapes.
///
/// ```
/// use atdata_core::syntax::check_uri_syntax;
///
/// assert!(check_uri_syntax("https://example.com/path?q=1#frag").is_ok());
/// assert!(check_uri_syntax("did:plc:44ybard66vv44zksje25o7dz").is_ok());
/// assert!(check_uri_syntax("example.com").is_err());
/// assert!(check_uri_syntax("https://example.com/a b").is_err());
/// assert!(check_uri_syntax("https://fly.io’s").is_ok());
/// assert!(check_uri_syntax("https://example.com/\u{2003}").is_err());
/// ```
pub fn check_uri_syntax(s: &str) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 8192)"));
    }
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return Err(err("missing scheme (no ':')"));
    };
    let (scheme, rest) = (&b[..colon], &b[colon + 1..]);
    if !scheme.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(err("scheme must start with an ASCII letter"));
    }
    if !scheme
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return Err(err("scheme must be ASCII letters, digits, '+', '-' or '.'"));
    }
    if rest.is_empty() {
        return Err(err("nothing after the scheme"));
    }
    // Printable ASCII, or any non-ASCII character that is not whitespace or a control (the
    // TypeScript reference accepts `https://fly.io’s`, and real posts link such text).
    let rest_text = &s[colon + 1..];
    if !rest_text.chars().all(|c| {
        if c.is_ascii() {
            c.is_ascii_graphic()
        } else {
            !c.is_whitespace() && !c.is_control() && c != '\u{feff}'
        }
    }) {
        return Err(err("whitespace or control character"));
    }
    Ok(())
}

/// Whether `s` passes [`check_uri_syntax`].
pub fn is_valid_uri_syntax(s: &str) -> bool {
    check_uri_syntax(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        for s in [
            "https://example.com",
            "dns:example.com",
            "content-type:text/plan",
            "microsoft.windows.camera:thing",
            "go://?Mercedes%20Benz",
            "at://handle.example.com/nsid/rkey",
            "web+ap:x",
            "https://example.com/caf\u{e9}",
            "https://fly.io\u{2019}s",
        ] {
            assert!(is_valid_uri_syntax(s), "{s}");
        }
        for (s, why) in [
            ("example.com", "missing scheme (no ':')"),
            ("://example.com", "scheme must start with an ASCII letter"),
            (
                "-http://example.com",
                "scheme must start with an ASCII letter",
            ),
            (
                "ht_tp://example.com",
                "scheme must be ASCII letters, digits, '+', '-' or '.'",
            ),
            ("http:", "nothing after the scheme"),
            (
                "https://example.com/path gap",
                "whitespace or control character",
            ),
            (
                "https://example.com/a\u{2003}b",
                "whitespace or control character",
            ),
            (
                "https://example.com/a\u{85}b",
                "whitespace or control character",
            ),
        ] {
            assert_eq!(check_uri_syntax(s).map_err(|e| e.reason()), Err(why), "{s}");
        }
        let ok = format!("https://example.com/{}", "x".repeat(MAX_LEN - 20));
        assert!(is_valid_uri_syntax(&ok));
        let long = format!("https://example.com/{}", "x".repeat(MAX_LEN));
        assert_eq!(
            check_uri_syntax(&long).map_err(|e| e.reason()),
            Err("too long (max 8192)")
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = check_uri_syntax(&s);
        }

        #[test]
        fn generated_valid(s in "[a-zA-Z][a-zA-Z0-9+.-]{0,10}:[!-~]{1,40}") {
            prop_assert!(is_valid_uri_syntax(&s));
        }
    }
}

/// A string of the Lexicon `uri` format (any scheme), validated by [`check_uri_syntax`].
///
/// ```
/// use atdata_core::syntax::Uri;
///
/// let uri: Uri = "https://example.com/feed".parse()?;
/// assert_eq!(uri.as_str(), "https://example.com/feed");
/// assert!("no scheme".parse::<Uri>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct Uri {
    inner: SharedStr,
}

string_type!(Uri, "a URI", ord_by_str);

impl Uri {
    fn parse_meta(s: &str) -> Result<(), SyntaxError> {
        check_uri_syntax(s)
    }

    fn assemble(inner: SharedStr, _meta: ()) -> Self {
        Self { inner }
    }
}
