//! Decentralized identifiers (`did:plc:…`, `did:web:…`).

use crate::syntax::{SharedStr, SyntaxError, SyntaxKind};

/// Hard limit from the atproto DID spec (2 KiB).
pub(crate) const MAX_LEN: usize = 2048;

/// A syntactically valid DID, as the atproto [DID spec](https://atproto.com/specs/did)
/// defines it.
///
/// Rules: at most 2048 characters; starts with lowercase `did:`; the method is one or
/// more lowercase ASCII letters followed by `:`; the method-specific identifier is one
/// or more of `A-Z a-z 0-9 . _ : % -` and does not end in `:` or `%`. Any method passes
/// the syntax check (atproto itself only "blesses" `plc` and `web`). Percent-encoding
/// is not decoded or checked beyond the final character, as the spec allows.
///
/// ```
/// use atdata_core::syntax::Did;
///
/// let did: Did = "did:plc:7iza6de2dwap2sbkpav7c6c6".parse()?;
/// assert_eq!(did.method(), "plc");
/// assert_eq!(did.identifier(), "7iza6de2dwap2sbkpav7c6c6");
/// assert!("did:PLC:abc".parse::<Did>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct Did {
    inner: SharedStr,
}

string_type!(Did, "a DID", ord_by_str);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Did, reason)
}

/// Checks DID syntax without allocating.
pub(crate) fn validate(s: &str) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 2048)"));
    }
    let Some(rest) = b.strip_prefix(b"did:") else {
        return Err(err("must start with \"did:\""));
    };
    let method_len = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
    if method_len == 0 {
        return Err(err("method must be lowercase letters"));
    }
    let Some((&sep, id)) = rest[method_len..].split_first() else {
        return Err(err("missing ':' after method"));
    };
    if sep != b':' {
        return Err(err("method must be lowercase letters followed by ':'"));
    }
    let Some(&last) = id.last() else {
        return Err(err("empty method-specific identifier"));
    };
    // A fold without early exit has no branch per byte, so the compiler checks many bytes
    // at once (DIDs are checked in every reference a record holds).
    if !id.iter().fold(true, |ok, &c| ok & is_id_char(c)) {
        return Err(err("disallowed character in identifier"));
    }
    match last {
        b':' => Err(err("ends with ':'")),
        b'%' => Err(err("ends with '%'")),
        _ => Ok(()),
    }
}

#[inline]
fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() | matches!(c, b'.' | b'_' | b':' | b'%' | b'-')
}

impl Did {
    fn parse_meta(s: &str) -> Result<(), SyntaxError> {
        validate(s)
    }

    fn assemble(inner: SharedStr, _meta: ()) -> Self {
        Self { inner }
    }

    /// Wraps text that was already validated as a DID (a view into a larger identifier).
    pub(crate) fn from_validated(inner: SharedStr) -> Self {
        debug_assert!(validate(inner.as_str()).is_ok());
        Self { inner }
    }

    /// The DID method: `plc` for `did:plc:abc`.
    pub fn method(&self) -> &str {
        self.split().0
    }

    /// The method-specific identifier (everything after the method and its `:`):
    /// `abc` for `did:plc:abc`, `example.com` for `did:web:example.com`.
    pub fn identifier(&self) -> &str {
        self.split().1
    }

    fn split(&self) -> (&str, &str) {
        let s = self.as_str();
        s.get(4..)
            .and_then(|rest| rest.split_once(':'))
            .unwrap_or(("", ""))
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
            "did:plc:7iza6de2dwap2sbkpav7c6c6",
            "did:web:example.com",
            "did:web:localhost%3A1234",
            "did:m:v",
            "did:method::::val",
            "did:method:-:_:.:%ab",
            "did:method:val%BB",
            "did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N",
        ] {
            assert!(Did::new(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn rejects_examples() {
        for (s, why) in [
            ("did", "must start with \"did:\""),
            ("did:", "method must be lowercase letters"),
            ("DID:plc:abc", "must start with \"did:\""),
            ("did:METHOD:val", "method must be lowercase letters"),
            (
                "did:m123:val",
                "method must be lowercase letters followed by ':'",
            ),
            ("did:method", "missing ':' after method"),
            ("did:method:", "empty method-specific identifier"),
            ("did:method:val:", "ends with ':'"),
            ("did:method:val%", "ends with '%'"),
            ("did:method:val/two", "disallowed character in identifier"),
            ("did:method:val#two", "disallowed character in identifier"),
            ("did:method:vál", "disallowed character in identifier"),
        ] {
            let e = Did::new(s).unwrap_err();
            assert_eq!(e.reason(), why, "{s}");
            assert_eq!(e.kind(), SyntaxKind::Did);
        }
    }

    #[test]
    fn length_limit() {
        let ok = format!("did:web:{}", "a".repeat(MAX_LEN - 8));
        assert_eq!(ok.len(), MAX_LEN);
        assert!(Did::new(&ok).is_ok());
        let long = format!("did:web:{}", "a".repeat(MAX_LEN - 7));
        assert_eq!(Did::new(&long).unwrap_err().reason(), "too long (max 2048)");
    }

    #[test]
    fn accessors_and_traits() {
        let d = Did::try_from(String::from("did:web:example.com")).unwrap();
        assert_eq!(d.method(), "web");
        assert_eq!(d.identifier(), "example.com");
        assert_eq!(d.to_string(), "did:web:example.com");
        assert_eq!(format!("{d:?}"), "Did(\"did:web:example.com\")");
        assert_eq!(d, "did:web:example.com");
        let mut set = std::collections::HashSet::new();
        set.insert(d.clone());
        assert!(set.contains("did:web:example.com"));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"did:web:example.com\"");
        let back: Did = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        let e = serde_json::from_str::<Did>("\"did:web:\"").unwrap_err();
        assert!(e.to_string().contains("invalid DID"), "{e}");
        assert!(serde_json::from_str::<Did>("42").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = Did::new(&s);
        }

        #[test]
        fn near_valid_never_panics(s in "(did|DID)?:?[a-z0-9]{0,4}:?[a-zA-Z0-9._:%#/-]{0,12}") {
            let _ = Did::new(&s);
        }

        #[test]
        fn display_roundtrip(s in "did:[a-z]{1,8}:[a-zA-Z0-9._:%-]{0,30}[a-zA-Z0-9._-]") {
            let d = Did::new(&s).unwrap();
            let again: Did = d.to_string().parse().unwrap();
            prop_assert_eq!(&again, &d);
            prop_assert_eq!(again.as_str(), s.as_str());
            prop_assert_eq!(format!("did:{}:{}", d.method(), d.identifier()), s);
        }
    }
}
