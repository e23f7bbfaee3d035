//! Handles: DNS hostnames used as human-readable account names.

use crate::syntax::{SharedStr, SyntaxError, SyntaxKind};

/// Hard limit from the handle spec (the DNS hostname limit).
pub(crate) const MAX_LEN: usize = 253;

/// Longest single DNS label.
pub(crate) const MAX_LABEL_LEN: usize = 63;

/// A syntactically valid handle, as the atproto
/// [handle spec](https://atproto.com/specs/handle) defines it.
///
/// Rules: at most 253 characters; ASCII only; two or more labels separated by `.`;
/// each label 1 to 63 characters of `A-Z a-z 0-9 -`, not starting or ending with `-`;
/// the last label (the TLD) starts with a letter. Handles are case-insensitive: the
/// original case is kept (and compared exactly) and [`Handle::normalize`] lowercases.
///
/// The syntax check accepts TLDs that atproto does not allow for real accounts
/// (`.local`, `.onion`, `.invalid`, …); see [`Handle::has_disallowed_tld`].
///
/// ```
/// use atdata_core::syntax::Handle;
///
/// let h: Handle = "Alice.Bsky.Social".parse()?;
/// assert_eq!(h.normalize().as_str(), "alice.bsky.social");
/// assert_eq!(h.tld(), "Social");
/// assert!("alice".parse::<Handle>().is_err());
/// assert!(Handle::invalid().is_invalid_marker());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: SharedStr,
}

string_type!(Handle, "a handle", ord_by_str);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Handle, reason)
}

/// Checks one DNS label (shared with the NSID domain authority). Returns a static
/// reason on failure. Does not check the "TLD starts with a letter" rule.
#[inline]
pub(crate) fn check_label(label: &[u8]) -> Result<(), &'static str> {
    let (Some(&first), Some(&last)) = (label.first(), label.last()) else {
        return Err("empty label");
    };
    if label.len() > MAX_LABEL_LEN {
        return Err("label too long (max 63)");
    }
    if !label
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    {
        return Err("disallowed character (only ASCII letters, digits and '-')");
    }
    if first == b'-' {
        return Err("label starts with a hyphen");
    }
    if last == b'-' {
        return Err("label ends with a hyphen");
    }
    Ok(())
}

/// Checks handle syntax without allocating.
pub(crate) fn validate(s: &str) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 253)"));
    }
    if b.is_empty() {
        return Err(err("empty"));
    }
    let mut labels = 0usize;
    let mut last_label: &[u8] = &[];
    for label in b.split(|&c| c == b'.') {
        check_label(label).map_err(err)?;
        labels += 1;
        last_label = label;
    }
    if labels < 2 {
        return Err(err("needs at least two labels"));
    }
    if !last_label.first().is_some_and(u8::is_ascii_alphabetic) {
        return Err(err("top-level domain must start with a letter"));
    }
    Ok(())
}

/// TLDs the handle spec disallows for real accounts (syntax alone allows them).
const DISALLOWED_TLDS: [&str; 8] = [
    "alt",
    "arpa",
    "example",
    "internal",
    "invalid",
    "local",
    "localhost",
    "onion",
];

impl Handle {
    /// The special handle `handle.invalid`, which services show when an account's
    /// handle does not verify.
    pub const INVALID_STR: &'static str = "handle.invalid";

    fn parse_meta(s: &str) -> Result<(), SyntaxError> {
        validate(s)
    }

    fn assemble(inner: SharedStr, _meta: ()) -> Self {
        Self { inner }
    }

    /// Wraps text that was already validated as a handle.
    pub(crate) fn from_validated(inner: SharedStr) -> Self {
        debug_assert!(validate(inner.as_str()).is_ok());
        Self { inner }
    }

    /// The `handle.invalid` marker as a [`Handle`].
    pub fn invalid() -> Self {
        Self {
            inner: SharedStr::new(Self::INVALID_STR),
        }
    }

    /// Whether this is the `handle.invalid` marker (in any letter case).
    pub fn is_invalid_marker(&self) -> bool {
        self.as_str().eq_ignore_ascii_case(Self::INVALID_STR)
    }

    /// The handle in lowercase, its normal form. Allocates only when the handle has
    /// uppercase letters.
    pub fn normalize(&self) -> Handle {
        let s = self.as_str();
        if s.bytes().any(|c| c.is_ascii_uppercase()) {
            Self {
                inner: SharedStr::from_string(s.to_ascii_lowercase()),
            }
        } else {
            self.clone()
        }
    }

    /// The last label (top-level domain), as written.
    pub fn tld(&self) -> &str {
        let s = self.as_str();
        s.rsplit_once('.').map_or(s, |(_, tld)| tld)
    }

    /// Whether the TLD is one the handle spec disallows for accounts (`.alt`, `.arpa`,
    /// `.example`, `.internal`, `.invalid`, `.local`, `.localhost`, `.onion`). Syntax
    /// validation accepts these; account-level checks should reject them (note that
    /// this includes the `handle.invalid` marker).
    pub fn has_disallowed_tld(&self) -> bool {
        let tld = self.tld();
        DISALLOWED_TLDS.iter().any(|d| d.eq_ignore_ascii_case(tld))
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
            "john.test",
            "XX.LCS.MIT.EDU",
            "jo.hn",
            "a.co",
            "john.t--t",
            "4chan.o-g",
            "xn--ls8h.test",
            "8.cn",
            "laptop.local",
            "handle.invalid",
        ] {
            assert!(Handle::new(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_examples() {
        for (s, why) in [
            ("", "empty"),
            ("john", "needs at least two labels"),
            ("john.", "empty label"),
            (".john", "empty label"),
            ("john..test", "empty label"),
            ("-john.test", "label starts with a hyphen"),
            ("john-.test", "label ends with a hyphen"),
            (
                "jo_hn.test",
                "disallowed character (only ASCII letters, digits and '-')",
            ),
            (
                "jo\u{e9}hn.test",
                "disallowed character (only ASCII letters, digits and '-')",
            ),
            ("john.0", "top-level domain must start with a letter"),
            ("127.0.0.1", "top-level domain must start with a letter"),
        ] {
            assert_eq!(Handle::new(s).unwrap_err().reason(), why, "{s:?}");
        }
    }

    #[test]
    fn limits() {
        let label63 = "o".repeat(63);
        assert!(Handle::new(&format!("short.{label63}.test")).is_ok());
        let label64 = "o".repeat(64);
        assert_eq!(
            Handle::new(&format!("short.{label64}.test"))
                .unwrap_err()
                .reason(),
            "label too long (max 63)"
        );
        // 4 * 63 + 3 dots = 255 > 253
        let too_long = [label63.as_str(); 4].join(".");
        assert_eq!(
            Handle::new(&too_long).unwrap_err().reason(),
            "too long (max 253)"
        );
    }

    #[test]
    fn normalize_and_markers() {
        let h = Handle::new("John.TEST").unwrap();
        assert_eq!(h.normalize(), "john.test");
        let lower = Handle::new("john.test").unwrap();
        assert_eq!(lower.normalize(), lower);
        assert!(Handle::new("Handle.Invalid").unwrap().is_invalid_marker());
        assert!(!lower.is_invalid_marker());
        assert_eq!(Handle::invalid().as_str(), Handle::INVALID_STR);
        assert!(Handle::new("x.onion").unwrap().has_disallowed_tld());
        assert!(Handle::new("x.LOCAL").unwrap().has_disallowed_tld());
        assert!(!lower.has_disallowed_tld());
        assert_eq!(lower.tld(), "test");
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = Handle::new(&s);
        }

        #[test]
        fn near_valid_never_panics(s in "[a-zA-Z0-9.-]{0,70}") {
            let _ = Handle::new(&s);
        }

        #[test]
        fn display_roundtrip(
            labels in prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", 1..5),
            tld in "[a-zA-Z]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?",
        ) {
            let s = format!("{}.{}", labels.join("."), tld);
            let h = Handle::new(&s).unwrap();
            let again: Handle = h.to_string().parse().unwrap();
            prop_assert_eq!(&again, &h);
            prop_assert_eq!(h.normalize().to_string(), s.to_ascii_lowercase());
        }
    }
}
