//! AT Protocol identifiers and string formats.
//!
//! Every type here is a validated string: the only way to get one is to parse it
//! (`FromStr`, `TryFrom<&str>`, `TryFrom<String>`, `new`, or serde deserialization),
//! so holding a [`Did`] or an [`AtUri`] means the text passed the syntax rules of the
//! [atproto specs](https://atproto.com/specs). The parsers are hand-written byte loops
//! that check hard length limits first, never panic and allocate only the final
//! owned string.
//!
//! | type | spec | max length |
//! |---|---|---|
//! | [`Did`] | did | 2048 |
//! | [`Handle`] | handle | 253 |
//! | [`Nsid`] | nsid | 317 |
//! | [`AtUri`] | at-uri-scheme (restricted Lexicon form) | 8192 |
//! | [`AtIdentifier`] | lexicon `at-identifier` | 2048 |
//! | [`RecordKey`] | record-key | 512 |
//! | [`Tid`] | tid | 13 (exactly) |
//! | [`Datetime`] | lexicon `datetime` | 64 |
//! | [`Language`] | lexicon `language` (BCP 47) | 128 |
//! | [`check_cid_syntax`] | lexicon `cid` | 256 |
//! | [`check_uri_syntax`] | lexicon `uri` | 8192 |
//!
//! String-backed types share their text through an [`Arc<str>`](std::sync::Arc), so
//! cloning is a reference-count increment, and the parts handed out by
//! [`AtUri::authority`], [`AtUri::collection`] and [`AtUri::rkey`] point into the same
//! allocation instead of copying.
//!
//! ```
//! use atdata_core::syntax::{AtUri, Nsid};
//!
//! let uri: AtUri = "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3jwdwj2ctlk26"
//!     .parse()?;
//! assert_eq!(uri.collection().map(Nsid::name), Some("post"));
//! assert!("app.bsky.feed.post".parse::<Nsid>().is_ok());
//! assert!("app.bsky.feed.".parse::<Nsid>().is_err());
//! # Ok::<(), atdata_core::syntax::SyntaxError>(())
//! ```

use std::sync::Arc;

/// Shared, immutable text with a view range.
///
/// Identifier types store their text here. Parsing allocates one `Arc<str>`; a
/// sub-identifier taken out of a larger one (the collection of an AT-URI, say) clones
/// the `Arc` and narrows the range, so it costs no allocation and no re-validation.
#[derive(Clone)]
pub(crate) struct SharedStr {
    buf: Arc<str>,
    start: u32,
    end: u32,
}

impl SharedStr {
    /// Copies `s` into a new shared buffer.
    pub(crate) fn new(s: &str) -> Self {
        Self::from_arc(Arc::from(s))
    }

    /// Moves `s` into a shared buffer (one allocation for the reference-counted block).
    pub(crate) fn from_string(s: String) -> Self {
        Self::from_arc(Arc::from(s))
    }

    fn from_arc(buf: Arc<str>) -> Self {
        // Every identifier is length-limited far below u32::MAX before it gets here;
        // saturating keeps this total anyway (an over-long view would read as "").
        let end = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        Self { buf, start: 0, end }
    }

    /// A view of `self.as_str()[start..end]` sharing the same buffer.
    ///
    /// Callers pass offsets that came from validating this text, so they are in range
    /// and on ASCII boundaries; out-of-range offsets give an empty view, not a panic.
    pub(crate) fn slice(&self, start: usize, end: usize) -> Self {
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let new_start = self.start.saturating_add(to_u32(start)).min(self.end);
        let new_end = self.start.saturating_add(to_u32(end)).min(self.end);
        Self {
            buf: Arc::clone(&self.buf),
            start: new_start,
            end: new_end.max(new_start),
        }
    }

    /// The viewed text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        self.buf
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// Implements the common surface of a string-backed identifier type.
///
/// The type must have a field `inner: SharedStr` and two private associated functions:
/// `parse_meta(&str) -> Result<Meta, SyntaxError>` (validation, no allocation) and
/// `assemble(SharedStr, Meta) -> Self`. The macro adds `new`, `as_str`, `FromStr`,
/// `TryFrom<&str>`, `TryFrom<String>`, `Display`, `Debug`, `AsRef<str>`, comparisons
/// with `str`, `From<T> for String` and serde. The `ord_by_str` arm also adds
/// `Eq`/`Hash`/`Ord` on the text and `Borrow<str>` (sound because all three agree
/// with `str`).
macro_rules! string_type {
    ($ty:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!("Parses and validates ", $what, ".")]
            ///
            /// This is the same check as `FromStr` and `TryFrom`; the text is copied
            /// into one shared allocation only after it validated.
            pub fn new(s: &str) -> Result<Self, $crate::syntax::SyntaxError> {
                let meta = Self::parse_meta(s)?;
                Ok(Self::assemble($crate::syntax::SharedStr::new(s), meta))
            }

            /// The text, exactly as it was parsed.
            #[inline]
            pub fn as_str(&self) -> &str {
                self.inner.as_str()
            }

            #[doc = concat!("Checks that `s` is ", $what, " without building one (no allocation):")]
            /// the same verdict and error as `new`, for validators that only need the answer.
            pub fn check(s: &str) -> Result<(), $crate::syntax::SyntaxError> {
                Self::parse_meta(s).map(drop)
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::syntax::SyntaxError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl ::std::convert::TryFrom<&str> for $ty {
            type Error = $crate::syntax::SyntaxError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $crate::syntax::SyntaxError;
            /// Validates in place, then moves the text into the shared buffer.
            fn try_from(s: String) -> Result<Self, Self::Error> {
                let meta = Self::parse_meta(&s)?;
                Ok(Self::assemble(
                    $crate::syntax::SharedStr::from_string(s),
                    meta,
                ))
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&self.as_str())
                    .finish()
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.as_str().to_owned()
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        <$ty>::new(v).map_err(E::custom)
                    }
                    fn visit_string<E: ::serde::de::Error>(self, v: String) -> Result<$ty, E> {
                        <$ty>::try_from(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
    ($ty:ident, $what:literal, ord_by_str) => {
        string_type!($ty, $what);

        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $ty {}

        impl ::std::hash::Hash for $ty {
            fn hash<H: ::std::hash::Hasher>(&self, h: &mut H) {
                self.as_str().hash(h)
            }
        }

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<::std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl ::std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
    };
}

mod at_identifier;
mod at_uri;
mod cid_syntax;
mod datetime;
mod did;
mod error;
mod handle;
mod language;
mod nsid;
mod record_key;
mod tid;
mod uri;

pub use at_identifier::AtIdentifier;
pub use at_uri::AtUri;
pub use cid_syntax::{check_cid_syntax, is_valid_cid_syntax};
pub use datetime::Datetime;
pub use did::Did;
pub use error::{SyntaxError, SyntaxKind};
pub use handle::Handle;
pub use language::Language;
pub use nsid::Nsid;
pub use record_key::RecordKey;
pub use tid::Tid;
pub use uri::{check_uri_syntax, is_valid_uri_syntax, Uri};

/// Checks `s` against the syntax of `kind`, without building the identifier: the one door the
/// lexicon validator's string formats and `atdata syntax check` both go through, so the three
/// can never disagree about what is valid.
///
/// ```
/// use atdata_core::syntax::{check, SyntaxKind};
/// assert!(check(SyntaxKind::Nsid, "ac.foundation.dataset.sampleSchema").is_ok());
/// let e = check(SyntaxKind::Handle, "not a handle").unwrap_err();
/// assert_eq!(e.kind(), SyntaxKind::Handle);
/// ```
pub fn check(kind: SyntaxKind, s: &str) -> Result<(), SyntaxError> {
    match kind {
        SyntaxKind::Did => Did::check(s),
        SyntaxKind::Handle => Handle::check(s),
        SyntaxKind::Nsid => Nsid::check(s),
        SyntaxKind::AtUri => AtUri::check(s),
        SyntaxKind::AtIdentifier => AtIdentifier::check(s),
        SyntaxKind::Tid => Tid::new(s).map(drop),
        SyntaxKind::RecordKey => RecordKey::check(s),
        SyntaxKind::Datetime => Datetime::check(s),
        SyntaxKind::Language => Language::check(s),
        SyntaxKind::Cid => check_cid_syntax(s),
        SyntaxKind::Uri => check_uri_syntax(s),
    }
}

#[cfg(test)]
mod tests {
    use super::SharedStr;

    #[test]
    fn shared_str_slices_share_and_clamp() {
        let s = SharedStr::new("at://did:plc:abc/app.bsky.feed.post");
        let auth = s.slice(5, 16);
        assert_eq!(auth.as_str(), "did:plc:abc");
        let inner = auth.slice(4, 7);
        assert_eq!(inner.as_str(), "plc");
        // Out-of-range requests give an empty (or clamped) view instead of panicking.
        assert_eq!(s.slice(100, 200).as_str(), "");
        assert_eq!(s.slice(10, 5).as_str(), "");
        assert_eq!(auth.slice(4, 1000).as_str(), "plc:abc");
    }

    #[test]
    fn shared_str_from_string() {
        let s = SharedStr::from_string(String::from("hello"));
        assert_eq!(s.as_str(), "hello");
        assert_eq!(s.clone().as_str(), "hello");
    }
}
