//! Record keys: the last segment of a record's AT-URI and repository path.

use crate::syntax::{SharedStr, SyntaxError, SyntaxKind, Tid};

/// Hard limit from the record key spec.
pub(crate) const MAX_LEN: usize = 512;

/// A syntactically valid record key, as the
/// [record key spec](https://atproto.com/specs/record-key) defines it.
///
/// Rules: 1 to 512 characters of `A-Z a-z 0-9 . - _ : ~`, and not `.` or `..`.
/// Record keys are case-sensitive. Lexicon-level key types (`tid`, `nsid`,
/// `literal:self`, `any`) are checked by the schema, not here.
///
/// ```
/// use atdata_core::syntax::{RecordKey, Tid};
///
/// let rkey: RecordKey = "3jwdwj2ctlk26".parse()?;
/// assert_eq!(rkey.as_str(), "3jwdwj2ctlk26");
/// assert!("self".parse::<RecordKey>().is_ok());
/// assert!("..".parse::<RecordKey>().is_err());
/// let from_tid = RecordKey::from(Tid::now());
/// assert_eq!(from_tid.as_str().len(), 13);
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct RecordKey {
    inner: SharedStr,
}

string_type!(RecordKey, "a record key", ord_by_str);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::RecordKey, reason)
}

/// Checks record key syntax without allocating.
pub(crate) fn validate(s: &str) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 512)"));
    }
    if b.is_empty() {
        return Err(err("empty"));
    }
    // A fold without early exit has no branch per byte, so the compiler checks many bytes
    // at once (record keys are checked in every AT-URI of every record).
    if !b.iter().fold(true, |ok, &c| ok & is_rkey_char(c)) {
        return Err(err(
            "disallowed character (only ASCII letters, digits and . - _ : ~)",
        ));
    }
    if b == b"." || b == b".." {
        return Err(err("can not be \".\" or \"..\""));
    }
    Ok(())
}

#[inline]
fn is_rkey_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() | matches!(c, b'.' | b'-' | b'_' | b':' | b'~')
}

impl RecordKey {
    fn parse_meta(s: &str) -> Result<(), SyntaxError> {
        validate(s)
    }

    fn assemble(inner: SharedStr, _meta: ()) -> Self {
        Self { inner }
    }

    /// Wraps text that was already validated as a record key.
    pub(crate) fn from_validated(inner: SharedStr) -> Self {
        debug_assert!(validate(inner.as_str()).is_ok());
        Self { inner }
    }

    /// The key as a [`Tid`], if it is one (most records created by clients are keyed by
    /// TIDs).
    pub fn to_tid(&self) -> Option<Tid> {
        Tid::new(self.as_str()).ok()
    }
}

impl From<Tid> for RecordKey {
    /// Every TID is a valid record key (its alphabet is a subset of the allowed one).
    fn from(tid: Tid) -> Self {
        Self {
            inner: SharedStr::new(tid.as_str()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_rejects() {
        for s in ["self", "example.com", "~1.2-3_", ":", "...", "literal:self"] {
            assert!(RecordKey::new(s).is_ok(), "{s}");
        }
        for (s, why) in [
            ("", "empty"),
            (".", "can not be \".\" or \"..\""),
            ("..", "can not be \".\" or \"..\""),
            (
                "alpha/beta",
                "disallowed character (only ASCII letters, digits and . - _ : ~)",
            ),
            (
                "dHJ1ZQ==",
                "disallowed character (only ASCII letters, digits and . - _ : ~)",
            ),
        ] {
            assert_eq!(RecordKey::new(s).unwrap_err().reason(), why, "{s:?}");
        }
        assert!(RecordKey::new(&"o".repeat(512)).is_ok());
        assert_eq!(
            RecordKey::new(&"o".repeat(513)).unwrap_err().reason(),
            "too long (max 512)"
        );
    }

    #[test]
    fn tid_conversions() {
        let tid = Tid::new("3jzfcijpj2z2a").unwrap();
        let rkey = RecordKey::from(tid);
        assert_eq!(rkey, "3jzfcijpj2z2a");
        assert_eq!(rkey.to_tid(), Some(tid));
        assert_eq!(RecordKey::new("self").unwrap().to_tid(), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = RecordKey::new(&s);
        }

        #[test]
        fn display_roundtrip(s in "[a-zA-Z0-9._:~-]{1,64}") {
            prop_assume!(s != "." && s != "..");
            let k = RecordKey::new(&s).unwrap();
            let again: RecordKey = k.to_string().parse().unwrap();
            prop_assert_eq!(&again, &k);
            prop_assert_eq!(again.as_str(), s.as_str());
        }
    }
}
