//! `at-identifier`: a DID or a handle.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::syntax::{did, handle, Did, Handle, SharedStr, SyntaxError, SyntaxKind};

/// An account identifier that is either a [`Did`] or a [`Handle`] (the Lexicon
/// `at-identifier` format, and the authority of an [`AtUri`](crate::syntax::AtUri)).
///
/// Text starting with `did:` is parsed as a DID, anything else as a handle (a handle
/// can not contain `:`, so nothing is ambiguous). Equality, hashing and ordering use
/// the text, like the two inner types.
///
/// ```
/// use atdata_core::syntax::AtIdentifier;
///
/// let id: AtIdentifier = "did:plc:44ybard66vv44zksje25o7dz".parse()?;
/// assert!(id.as_did().is_some());
/// let id: AtIdentifier = "bsky.app".parse()?;
/// assert_eq!(id.as_handle().map(|h| h.as_str()), Some("bsky.app"));
/// assert!("@bsky.app".parse::<AtIdentifier>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub enum AtIdentifier {
    /// A DID.
    Did(Did),
    /// A handle.
    Handle(Handle),
}

/// Which variant a validated authority is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IdentifierKind {
    Did,
    Handle,
}

/// Checks `s` as a DID (if it starts with `did:`) or a handle, without allocating.
/// Errors keep the inner kind (DID or handle) for the caller to wrap.
pub(crate) fn validate(s: &str) -> Result<IdentifierKind, SyntaxError> {
    if s.len() > did::MAX_LEN {
        return Err(SyntaxError::new(
            SyntaxKind::AtIdentifier,
            "too long (max 2048)",
        ));
    }
    if s.starts_with("did:") {
        did::validate(s).map(|()| IdentifierKind::Did)
    } else {
        handle::validate(s).map(|()| IdentifierKind::Handle)
    }
}

impl AtIdentifier {
    /// Parses a DID or handle.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        Self::parse_with(s, SharedStr::new)
    }

    /// Checks that `s` is a DID or handle without building one (no allocation): the same
    /// verdict and error as [`AtIdentifier::new`].
    pub fn check(s: &str) -> Result<(), SyntaxError> {
        Self::kind_of(s).map(drop)
    }

    /// Which of the two `s` is; a DID or handle error is reported as an at-identifier one.
    fn kind_of(s: &str) -> Result<IdentifierKind, SyntaxError> {
        validate(s).map_err(|e| {
            if e.kind() == SyntaxKind::AtIdentifier {
                e
            } else {
                e.within(SyntaxKind::AtIdentifier)
            }
        })
    }

    fn parse_with<S: AsRef<str>>(
        s: S,
        to_shared: impl FnOnce(S) -> SharedStr,
    ) -> Result<Self, SyntaxError> {
        let kind = Self::kind_of(s.as_ref())?;
        Ok(Self::from_validated(to_shared(s), kind))
    }

    pub(crate) fn from_validated(inner: SharedStr, kind: IdentifierKind) -> Self {
        match kind {
            IdentifierKind::Did => Self::Did(Did::from_validated(inner)),
            IdentifierKind::Handle => Self::Handle(Handle::from_validated(inner)),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Did(d) => d.as_str(),
            Self::Handle(h) => h.as_str(),
        }
    }

    /// Whether this is a DID.
    pub fn is_did(&self) -> bool {
        matches!(self, Self::Did(_))
    }

    /// Whether this is a handle.
    pub fn is_handle(&self) -> bool {
        matches!(self, Self::Handle(_))
    }

    /// The DID, if this is one.
    pub fn as_did(&self) -> Option<&Did> {
        match self {
            Self::Did(d) => Some(d),
            Self::Handle(_) => None,
        }
    }

    /// The handle, if this is one.
    pub fn as_handle(&self) -> Option<&Handle> {
        match self {
            Self::Handle(h) => Some(h),
            Self::Did(_) => None,
        }
    }
}

impl From<Did> for AtIdentifier {
    fn from(d: Did) -> Self {
        Self::Did(d)
    }
}

impl From<Handle> for AtIdentifier {
    fn from(h: Handle) -> Self {
        Self::Handle(h)
    }
}

impl FromStr for AtIdentifier {
    type Err = SyntaxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for AtIdentifier {
    type Error = SyntaxError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for AtIdentifier {
    type Error = SyntaxError;
    /// Validates in place, then moves the text into the shared buffer.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse_with(s, SharedStr::from_string)
    }
}

impl fmt::Display for AtIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AtIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Did(d) => f
                .debug_tuple("AtIdentifier::Did")
                .field(&d.as_str())
                .finish(),
            Self::Handle(h) => f
                .debug_tuple("AtIdentifier::Handle")
                .field(&h.as_str())
                .finish(),
        }
    }
}

impl AsRef<str> for AtIdentifier {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for AtIdentifier {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for AtIdentifier {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for AtIdentifier {}

impl PartialEq<str> for AtIdentifier {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for AtIdentifier {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Hash for AtIdentifier {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl PartialOrd for AtIdentifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for AtIdentifier {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl From<AtIdentifier> for String {
    fn from(v: AtIdentifier) -> String {
        v.as_str().to_owned()
    }
}

impl serde::Serialize for AtIdentifier {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AtIdentifier {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AtIdentifier;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DID or handle")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AtIdentifier, E> {
                AtIdentifier::new(v).map_err(E::custom)
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<AtIdentifier, E> {
                AtIdentifier::try_from(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn variants() {
        let d = AtIdentifier::new("did:plc:abc").unwrap();
        assert!(d.is_did() && !d.is_handle());
        assert_eq!(d.as_did().unwrap().method(), "plc");
        let h = AtIdentifier::try_from(String::from("john.test")).unwrap();
        assert!(h.is_handle());
        assert_eq!(h.as_handle().unwrap(), "john.test");
        assert_eq!(format!("{h:?}"), "AtIdentifier::Handle(\"john.test\")");
        assert_eq!(
            AtIdentifier::from(Did::new("did:web:a.b").unwrap()),
            "did:web:a.b"
        );
    }

    #[test]
    fn errors_name_the_part() {
        let e = AtIdentifier::new("did:thing").unwrap_err();
        assert_eq!(e.kind(), SyntaxKind::AtIdentifier);
        assert_eq!(e.part(), Some(SyntaxKind::Did));
        let e = AtIdentifier::new("@handle").unwrap_err();
        assert_eq!(e.part(), Some(SyntaxKind::Handle));
        assert_eq!(
            e.to_string(),
            "invalid AT identifier (handle): disallowed character (only ASCII letters, digits and '-')"
        );
        let e = AtIdentifier::new(&"a".repeat(5000)).unwrap_err();
        assert_eq!((e.kind(), e.part()), (SyntaxKind::AtIdentifier, None));
    }

    #[test]
    fn serde_and_collections() {
        let id: AtIdentifier = serde_json::from_str("\"did:plc:abc\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"did:plc:abc\"");
        let mut set = std::collections::BTreeSet::new();
        set.insert(id);
        assert!(set.contains("did:plc:abc"));
        assert!(serde_json::from_str::<AtIdentifier>("\"did:\"").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = AtIdentifier::new(&s);
        }

        #[test]
        fn display_roundtrip(s in "did:[a-z]{1,5}:[a-zA-Z0-9._-]{1,20}|[a-z0-9]{1,10}\\.[a-z]{1,5}") {
            let id = AtIdentifier::new(&s).unwrap();
            let again: AtIdentifier = id.to_string().parse().unwrap();
            prop_assert_eq!(&again, &id);
            prop_assert_eq!(again.is_did(), s.starts_with("did:"));
        }
    }
}
