//! Namespaced identifiers (`app.bsky.feed.post`).

use crate::syntax::handle::{check_label, MAX_LABEL_LEN};
use crate::syntax::{SharedStr, SyntaxError, SyntaxKind};

/// Hard limit from the NSID spec (253 for the domain authority + `.` + 63 for the name).
pub(crate) const MAX_LEN: usize = 317;

/// A syntactically valid Namespaced Identifier, as the
/// [NSID spec](https://atproto.com/specs/nsid) defines it.
///
/// An NSID is a domain authority in reversed order followed by a name:
/// `ac.foundation.dataset.sampleSchema` has the authority `ac.foundation.dataset`
/// (the domain `dataset.foundation.ac`) and the name `sampleSchema`.
///
/// Rules: at most 317 characters, ASCII only, at least three `.`-separated segments.
/// Authority segments are 1 to 63 characters of `A-Z a-z 0-9 -`, do not start or end
/// with `-`, and the first one (the TLD) starts with a letter. The name is 1 to 63
/// ASCII letters and digits, starting with a letter. The authority is
/// case-insensitive, the name is case-sensitive; text is kept as written.
///
/// The spec also caps the domain authority at 253 characters, but the interop
/// fixtures accept an NSID with a 283-character authority (and the reference
/// implementations only enforce the overall 317), so only the overall limit is
/// enforced here.
///
/// ```
/// use atdata_core::syntax::Nsid;
///
/// let nsid: Nsid = "ac.foundation.dataset.sampleSchema".parse()?;
/// assert_eq!(nsid.authority(), "ac.foundation.dataset");
/// assert_eq!(nsid.domain_authority(), "dataset.foundation.ac");
/// assert_eq!(nsid.name(), "sampleSchema");
/// assert!("com.example.foo-bar".parse::<Nsid>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct Nsid {
    inner: SharedStr,
}

string_type!(Nsid, "an NSID", ord_by_str);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Nsid, reason)
}

/// Checks NSID syntax without allocating.
pub(crate) fn validate(s: &str) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 317)"));
    }
    let Some(last_dot) = b.iter().rposition(|&c| c == b'.') else {
        return Err(err("needs at least three segments"));
    };
    let (authority, name) = (&b[..last_dot], &b[last_dot + 1..]);

    // No separate 253-character cap on the authority: see the type's docs.
    let mut segments = 0usize;
    for label in authority.split(|&c| c == b'.') {
        check_label(label).map_err(err)?;
        if segments == 0 && !label.first().is_some_and(u8::is_ascii_alphabetic) {
            return Err(err("first segment must start with a letter"));
        }
        segments += 1;
    }
    if segments < 2 {
        return Err(err("needs at least three segments"));
    }

    let Some(&first) = name.first() else {
        return Err(err("empty name"));
    };
    if name.len() > MAX_LABEL_LEN {
        return Err(err("name too long (max 63)"));
    }
    if !name.iter().all(u8::is_ascii_alphanumeric) {
        return Err(err("name must be ASCII letters and digits"));
    }
    if !first.is_ascii_alphabetic() {
        return Err(err("name must start with a letter"));
    }
    Ok(())
}

impl Nsid {
    fn parse_meta(s: &str) -> Result<(), SyntaxError> {
        validate(s)
    }

    fn assemble(inner: SharedStr, _meta: ()) -> Self {
        Self { inner }
    }

    /// An NSID from a literal in the program (a collection constant, a generated record's
    /// `NSID`), like `HeaderValue::from_static`: text that is not a valid NSID is a bug in the
    /// program, not bad input, so it panics. Parse input with [`str::parse`] instead.
    ///
    /// ```
    /// let collection = atdata_core::Nsid::from_static("ac.foundation.dataset.sampleSchema");
    /// assert_eq!(collection.name(), "sampleSchema");
    /// ```
    #[track_caller]
    pub fn from_static(nsid: &'static str) -> Self {
        match nsid.parse() {
            Ok(nsid) => nsid,
            Err(e) => panic!("Nsid::from_static({nsid:?}): {e}"),
        }
    }

    /// Wraps text that was already validated as an NSID.
    pub(crate) fn from_validated(inner: SharedStr) -> Self {
        debug_assert!(validate(inner.as_str()).is_ok());
        Self { inner }
    }

    fn name_start(&self) -> usize {
        self.as_str().rfind('.').map_or(0, |i| i + 1)
    }

    /// The authority segments as written, in NSID order: `ac.foundation.dataset` for
    /// `ac.foundation.dataset.sampleSchema`.
    pub fn authority(&self) -> &str {
        let s = self.as_str();
        s.get(..self.name_start().saturating_sub(1)).unwrap_or(s)
    }

    /// The domain authority as a DNS name: segments reversed and lowercased
    /// (`dataset.foundation.ac` for `ac.foundation.dataset.sampleSchema`). This is the
    /// domain that controls the NSID (Lexicon resolution looks up `_lexicon.<domain>`).
    pub fn domain_authority(&self) -> String {
        let authority = self.authority();
        let mut out = String::with_capacity(authority.len());
        for (i, segment) in authority.rsplit('.').enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(segment);
        }
        out.make_ascii_lowercase();
        out
    }

    /// The name segment: `sampleSchema` for `ac.foundation.dataset.sampleSchema`.
    pub fn name(&self) -> &str {
        self.as_str().get(self.name_start()..).unwrap_or_default()
    }

    /// The NSID with its authority lowercased and its name unchanged, the spec's
    /// normal form. Allocates only when the authority has uppercase letters.
    pub fn normalize(&self) -> Nsid {
        let authority = self.authority();
        if authority.bytes().any(|c| c.is_ascii_uppercase()) {
            let mut s = self.as_str().to_owned();
            if let Some(a) = s.get_mut(..authority.len()) {
                a.make_ascii_lowercase();
            }
            Self {
                inner: SharedStr::from_string(s),
            }
        } else {
            self.clone()
        }
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
            "com.example.fooBar",
            "com.example.fooBarV2",
            "a.b.c",
            "one.2.three",
            "cn.8.lex.stuff",
            "a-0.b-1.c",
            "m.xn--masekowski-d0b.pl",
            "one.two.three.four-and.FiVe",
        ] {
            assert!(Nsid::new(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_examples() {
        for (s, why) in [
            ("", "needs at least three segments"),
            ("example.com", "needs at least three segments"),
            ("com.example.", "empty name"),
            (".one.two", "empty label"),
            ("one..two.three", "empty label"),
            ("0two.example.foo", "first segment must start with a letter"),
            ("com.example-.foo", "label ends with a hyphen"),
            ("com.example.fooBar.2", "name must start with a letter"),
            ("a-0.b-1.c-3", "name must be ASCII letters and digits"),
            ("com.example.foo.*", "name must be ASCII letters and digits"),
            (
                "com.atproto.feed.p_st",
                "name must be ASCII letters and digits",
            ),
        ] {
            assert_eq!(Nsid::new(s).unwrap_err().reason(), why, "{s:?}");
        }
    }

    #[test]
    fn limits() {
        let seg63 = "o".repeat(63);
        assert!(Nsid::new(&format!("com.example.{seg63}")).is_ok());
        assert_eq!(
            Nsid::new(&format!("com.example.{seg63}o"))
                .unwrap_err()
                .reason(),
            "name too long (max 63)"
        );
        let long = format!("com.{}.foo", ["middle"; 50].join("."));
        assert!(long.len() > MAX_LEN);
        assert_eq!(Nsid::new(&long).unwrap_err().reason(), "too long (max 317)");
    }

    #[test]
    fn accessors() {
        let n = Nsid::new("ac.foundation.dataset.sampleSchema").unwrap();
        assert_eq!(n.authority(), "ac.foundation.dataset");
        assert_eq!(n.domain_authority(), "dataset.foundation.ac");
        assert_eq!(n.name(), "sampleSchema");
        let upper = Nsid::new("App.Bsky.Feed.getPost").unwrap();
        assert_eq!(upper.domain_authority(), "feed.bsky.app");
        assert_eq!(upper.normalize(), "app.bsky.feed.getPost");
        assert_eq!(n.normalize(), n);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = Nsid::new(&s);
        }

        #[test]
        fn near_valid_never_panics(s in "[a-zA-Z0-9.*_-]{0,40}") {
            let _ = Nsid::new(&s);
        }

        #[test]
        fn display_roundtrip(
            tld in "[a-zA-Z]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?",
            mid in prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", 1..4),
            name in "[a-zA-Z][a-zA-Z0-9]{0,20}",
        ) {
            let s = format!("{tld}.{}.{name}", mid.join("."));
            let n = Nsid::new(&s).unwrap();
            let again: Nsid = n.to_string().parse().unwrap();
            prop_assert_eq!(&again, &n);
            prop_assert_eq!(n.name(), name.as_str());
            prop_assert_eq!(format!("{}.{}", n.authority(), n.name()), s);
        }
    }
}
