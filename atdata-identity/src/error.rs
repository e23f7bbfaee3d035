//! What can go wrong resolving an identity.

use std::time::Duration;

use atdata_core::syntax::{Did, Handle};

/// Why a handle, DID or identity could not be resolved or verified.
///
/// Errors are `Clone` because one failed lookup is shared by every caller that waited on it
/// and is cached for a short while (see [`CacheConfig::error_ttl`](crate::CacheConfig)).
///
/// [`Error::is_not_found`] and [`Error::is_unreachable`] sort the variants into "the answer is
/// no" and "no answer could be had", which is the split a command-line tool turns into exit
/// codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The handle ends in a TLD the handle spec reserves (`.local`, `.invalid`, `.onion`, …);
    /// refused before any lookup.
    #[error("handle {handle}: .{} is a reserved TLD, which never resolves", handle.tld())]
    ReservedTld {
        /// The handle.
        handle: Handle,
    },
    /// Neither `_atproto.<handle>` in DNS nor `https://<handle>/.well-known/atproto-did`
    /// names a DID.
    #[error("handle {handle} not found ({reason})")]
    HandleNotFound {
        /// The handle.
        handle: Handle,
        /// What each method found, for people.
        reason: String,
    },
    /// The handle's DNS records name more than one DID.
    #[error("handle {handle}: DNS names several DIDs ({})", join(dids))]
    HandleAmbiguous {
        /// The handle.
        handle: Handle,
        /// The DIDs named.
        dids: Vec<Did>,
    },
    /// The DID document names no handle (no valid `at://` entry in `alsoKnownAs`).
    #[error("{did} does not declare a handle")]
    HandleNotDeclared {
        /// The DID.
        did: Did,
    },
    /// The handle and the DID do not point at each other.
    #[error("handle {handle} does not belong to {did} ({reason})")]
    HandleMismatch {
        /// The handle.
        handle: Handle,
        /// The DID it was expected to belong to.
        did: Did,
        /// Which side disagrees.
        reason: String,
    },
    /// The DID does not exist (the PLC directory or web host answered 404).
    #[error("{did} not found")]
    DidNotFound {
        /// The DID.
        did: Did,
    },
    /// The DID was deactivated (a tombstoned did:plc: the directory answers 410).
    #[error("{did} is deactivated (tombstoned)")]
    DidDeactivated {
        /// The DID.
        did: Did,
    },
    /// A DID method other than `plc` and `web`.
    #[error("{did}: unsupported DID method {:?} (atproto uses plc and web)", did.method())]
    UnsupportedDidMethod {
        /// The DID.
        did: Did,
    },
    /// A did:web atproto does not accept: a path, a port other than on `localhost` in
    /// development mode, or `localhost` outside development mode.
    #[error("{did}: {reason}")]
    DidWebNotAllowed {
        /// The DID.
        did: Did,
        /// What is wrong with it.
        reason: DidWebRefusal,
    },
    /// The document served for a DID describes another DID.
    #[error("{did}: the document served describes {found}")]
    DocumentIdMismatch {
        /// The DID asked for.
        did: Did,
        /// The `id` of the document.
        found: String,
    },
    /// The document served for a DID is not a DID document.
    #[error("{did}: invalid DID document: {reason}")]
    InvalidDocument {
        /// The DID.
        did: Did,
        /// What is wrong with it.
        reason: String,
    },
    /// The server that holds the DID document answered with an error.
    #[error("{did}: resolution failed: {reason}")]
    DidResolutionFailed {
        /// The DID.
        did: Did,
        /// The status or what went wrong.
        reason: String,
    },
    /// The DID document has no usable key with this fragment (`#atproto`, `#atproto_label`).
    #[error(
        "{did}: no usable {fragment} key in the DID document{}",
        detail_suffix(reason)
    )]
    KeyNotDeclared {
        /// The DID.
        did: Did,
        /// The verification method's fragment.
        fragment: &'static str,
        /// Why a declared key was unusable, if one was declared.
        reason: Option<String>,
    },
    /// The DID document has no usable service with this fragment (`#atproto_pds`).
    #[error("{did}: no {fragment} service in the DID document")]
    ServiceNotDeclared {
        /// The DID.
        did: Did,
        /// The service's fragment.
        fragment: &'static str,
    },
    /// No answer within the deadline.
    #[error("{target}: no answer within {after:?}")]
    Timeout {
        /// What was asked (a URL or a DNS name).
        target: String,
        /// The deadline.
        after: Duration,
    },
    /// The answer was larger than the configured limit.
    #[error("{target}: the answer is larger than {limit} bytes")]
    TooLarge {
        /// What was asked.
        target: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// More redirects than allowed, or a redirect the resolver will not follow (to plain
    /// `http://` from `https://`).
    #[error("{target}: {reason}")]
    Redirect {
        /// What was asked.
        target: String,
        /// What was wrong.
        reason: String,
    },
    /// The SSRF guard refused to connect: the host is, or resolves only to, a loopback,
    /// private, link-local or otherwise non-public address.
    #[error("{target}: blocked by the SSRF guard ({host} is not a public address)")]
    Blocked {
        /// What was asked.
        target: String,
        /// The refused host or address.
        host: String,
    },
    /// The host does not exist: DNS has no address for it.
    #[error("{target}: no such host {host}")]
    HostNotFound {
        /// What was asked.
        target: String,
        /// The host DNS does not know.
        host: String,
    },
    /// The server could not be reached (DNS failure, connection refused, TLS error, …).
    #[error("{target}: unreachable: {reason}")]
    Unreachable {
        /// What was asked.
        target: String,
        /// What went wrong.
        reason: String,
    },
}

/// Why atproto does not accept a did:web.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DidWebRefusal {
    /// A path after the host (`did:web:example.com:user:alice`).
    #[error("did:web with a path is not allowed in atproto")]
    Path,
    /// A port on a host other than `localhost` in development mode.
    #[error("did:web with a port is only allowed for localhost in development mode")]
    Port,
    /// `did:web:localhost` outside development mode.
    #[error("did:web:localhost is only resolved in development mode")]
    Localhost,
    /// The host is not a hostname (an IP address, one label, percent-encoded characters) or
    /// the port is not a number.
    #[error("did:web host is not a valid hostname (and port)")]
    InvalidHost,
}

fn join(dids: &[Did]) -> String {
    dids.iter().map(Did::as_str).collect::<Vec<_>>().join(", ")
}

fn detail_suffix(reason: &Option<String>) -> String {
    reason
        .as_deref()
        .map_or_else(String::new, |r| format!(": {r}"))
}

impl Error {
    /// Whether the answer was "no such thing, or not this one": not found, deactivated,
    /// mismatched, reserved, invalid or not allowed. A retry later gives the same answer
    /// unless the data changes.
    pub fn is_not_found(&self) -> bool {
        !self.is_unreachable()
    }

    /// Whether no answer could be had: a timeout, an unreachable server, a server error,
    /// an oversize answer, a redirect loop or the SSRF guard. Retrying (or a configuration
    /// change) may help.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. }
                | Self::TooLarge { .. }
                | Self::Redirect { .. }
                | Self::Blocked { .. }
                | Self::Unreachable { .. }
                | Self::DidResolutionFailed { .. }
        )
    }
}

/// Why a [`Resolver`](crate::Resolver) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The PLC directory URL is not an `http(s)://` URL.
    #[error("PLC directory URL {0:?}: expected http:// or https:// and a host")]
    PlcUrl(String),
    /// A PEM file of extra root certificates could not be read.
    #[error("root certificates: {0}")]
    RootCertificates(String),
    /// The user agent is not a valid header value.
    #[error("user agent {0:?} is not a valid header value")]
    UserAgent(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
    /// The DNS resolver could not be built.
    #[error("DNS resolver: {0}")]
    Dns(String),
}
