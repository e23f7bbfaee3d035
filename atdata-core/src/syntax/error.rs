//! The error returned by every parser in [`crate::syntax`].

use std::fmt;

/// Which kind of identifier or string format failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyntaxKind {
    /// A [`Did`](crate::syntax::Did).
    Did,
    /// A [`Handle`](crate::syntax::Handle).
    Handle,
    /// An [`Nsid`](crate::syntax::Nsid).
    Nsid,
    /// An [`AtUri`](crate::syntax::AtUri).
    AtUri,
    /// An [`AtIdentifier`](crate::syntax::AtIdentifier) (DID or handle).
    AtIdentifier,
    /// A [`Tid`](crate::syntax::Tid).
    Tid,
    /// A [`RecordKey`](crate::syntax::RecordKey).
    RecordKey,
    /// A [`Datetime`](crate::syntax::Datetime).
    Datetime,
    /// A [`Language`](crate::syntax::Language) tag.
    Language,
    /// A CID string (see [`check_cid_syntax`](crate::syntax::check_cid_syntax)).
    Cid,
    /// A generic URI (see [`check_uri_syntax`](crate::syntax::check_uri_syntax)).
    Uri,
}

impl SyntaxKind {
    /// Human-readable name, as used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            SyntaxKind::Did => "DID",
            SyntaxKind::Handle => "handle",
            SyntaxKind::Nsid => "NSID",
            SyntaxKind::AtUri => "AT-URI",
            SyntaxKind::AtIdentifier => "AT identifier",
            SyntaxKind::Tid => "TID",
            SyntaxKind::RecordKey => "record key",
            SyntaxKind::Datetime => "datetime",
            SyntaxKind::Language => "language tag",
            SyntaxKind::Cid => "CID",
            SyntaxKind::Uri => "URI",
        }
    }
}

impl fmt::Display for SyntaxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string is not a valid identifier.
///
/// It names the kind of identifier, the component that failed when the identifier is
/// made of others (the collection NSID inside an AT-URI, for example) and a short,
/// fixed reason. The input is deliberately not echoed: inputs can be megabytes of
/// attacker-controlled text, and errors end up in logs.
///
/// ```
/// use atdata_core::syntax::{Handle, SyntaxKind};
///
/// let err = "-john.test".parse::<Handle>().unwrap_err();
/// assert_eq!(err.kind(), SyntaxKind::Handle);
/// assert_eq!(err.to_string(), "invalid handle: label starts with a hyphen");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("invalid {kind}{}: {reason}", PartName(*.part))]
pub struct SyntaxError {
    kind: SyntaxKind,
    part: Option<SyntaxKind>,
    reason: &'static str,
}

/// Formats the optional component as ` (NSID)`.
struct PartName(Option<SyntaxKind>);

impl fmt::Display for PartName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(part) => write!(f, " ({part})"),
            None => Ok(()),
        }
    }
}

impl SyntaxError {
    /// A new error for `kind` with a fixed `reason`.
    pub(crate) const fn new(kind: SyntaxKind, reason: &'static str) -> Self {
        Self {
            kind,
            part: None,
            reason,
        }
    }

    /// Re-labels an error from a component parser as an error of the enclosing `kind`,
    /// keeping the component's own kind and reason.
    pub(crate) const fn within(self, kind: SyntaxKind) -> Self {
        Self {
            kind,
            part: Some(self.kind),
            reason: self.reason,
        }
    }

    /// The kind of identifier that failed to parse.
    pub const fn kind(&self) -> SyntaxKind {
        self.kind
    }

    /// The component that failed, when the identifier is built from others
    /// (for example [`SyntaxKind::Nsid`] for a bad collection in an AT-URI).
    pub const fn part(&self) -> Option<SyntaxKind> {
        self.part
    }

    /// A short, fixed description of the problem.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_part() {
        let e = SyntaxError::new(SyntaxKind::Nsid, "name starts with a digit");
        assert_eq!(e.to_string(), "invalid NSID: name starts with a digit");
        let w = e.within(SyntaxKind::AtUri);
        assert_eq!(
            w.to_string(),
            "invalid AT-URI (NSID): name starts with a digit"
        );
        assert_eq!(w.kind(), SyntaxKind::AtUri);
        assert_eq!(w.part(), Some(SyntaxKind::Nsid));
        assert_eq!(w.reason(), "name starts with a digit");
    }

    #[test]
    fn is_std_error() {
        fn takes(_: &dyn std::error::Error) {}
        takes(&SyntaxError::new(SyntaxKind::Did, "x"));
    }
}
