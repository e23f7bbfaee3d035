//! String-level syntax check for the Lexicon `cid` format.
//!
//! This only checks the characters and length of a CID string, as Lexicon validation
//! does; decoding a CID (multibase, version, codec, multihash) is the job of the
//! binary CID type.

use crate::syntax::{SyntaxError, SyntaxKind};

/// Shortest accepted CID string.
const MIN_LEN: usize = 8;
/// Longest accepted CID string.
const MAX_LEN: usize = 256;

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Cid, reason)
}

/// Checks the Lexicon `cid` string format: 8 to 256 characters of `A-Z a-z 0-9 + =`,
/// and not a legacy CIDv0 (which starts with `Qmb`; atproto only uses CIDv1).
///
/// ```
/// use atdata_core::syntax::check_cid_syntax;
///
/// assert!(check_cid_syntax("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").is_ok());
/// assert!(check_cid_syntax("QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR").is_err());
/// assert!(check_cid_syntax("cid:bafy").is_err());
/// ```
pub fn check_cid_syntax(s: &str) -> Result<(), SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 256)"));
    }
    if b.len() < MIN_LEN {
        return Err(err("too short (min 8)"));
    }
    // A fold without early exit (and `|`, not `||`) has no branch per byte, so the compiler
    // can check many bytes per instruction: CIDs are long (59 characters for the usual
    // CIDv1) and checked in every reference a record holds.
    let allowed = b.iter().fold(true, |ok, &c| {
        ok & (c.is_ascii_alphanumeric() | (c == b'+') | (c == b'='))
    });
    if !allowed {
        return Err(err(
            "disallowed character (only ASCII letters, digits, + and =)",
        ));
    }
    if b.starts_with(b"Qmb") {
        return Err(err("CIDv0 is not allowed"));
    }
    Ok(())
}

/// Whether `s` passes [`check_cid_syntax`].
pub fn is_valid_cid_syntax(s: &str) -> bool {
    check_cid_syntax(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        for s in [
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            "zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7",
            "mBcDxtdWx0aWhhc2g+",
            "7134036155352661643226414134664076",
        ] {
            assert!(is_valid_cid_syntax(s), "{s}");
        }
        for (s, why) in [
            ("noop", "too short (min 8)"),
            (
                " bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
                "disallowed character (only ASCII letters, digits, + and =)",
            ),
            (
                "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR",
                "CIDv0 is not allowed",
            ),
        ] {
            assert_eq!(check_cid_syntax(s).map_err(|e| e.reason()), Err(why), "{s}");
        }
        assert!(is_valid_cid_syntax(&"a".repeat(256)));
        assert!(!is_valid_cid_syntax(&"a".repeat(257)));
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = check_cid_syntax(&s);
        }

        #[test]
        fn charset_and_length(s in "[a-zA-Z0-9+=]{8,256}") {
            prop_assert_eq!(is_valid_cid_syntax(&s), !s.starts_with("Qmb"));
        }
    }
}
