//! AT Protocol identity: handles and DIDs resolved, verified both ways, and cached.
//!
//! One [`Resolver`] answers "who is this?":
//!
//! - [`Resolver::resolve_handle`]: handle → DID, by DNS TXT `_atproto.<handle>` and HTTPS
//!   `https://<handle>/.well-known/atproto-did` at once (DNS wins when both answer).
//! - [`Resolver::resolve_did`]: DID → DID document, from the PLC directory (did:plc) or the
//!   web host (did:web), checked to describe that DID.
//! - [`Resolver::lookup`]: either → [`Identity`]: DID, handle (only when it resolves back to
//!   the DID), PDS, signing key, labeler key, services and document.
//! - [`Resolver::purge`] / [`Resolver::refresh`] and [`Resolver::verify_with`], which
//!   refreshes a document once when a signature does not verify with the cached key
//!   (rotated keys).
//!
//! Answers are cached (bounded; 24 h for answers, 2 min for failures), concurrent lookups of
//! one name are merged into one request, and stale answers are served while a refresh runs.
//! Every request has a deadline and a size limit, and an SSRF guard (on by default) keeps
//! handles and did:web names from pointing the resolver at loopback, private or link-local
//! addresses, after DNS and on every redirect.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use atdata_identity::Resolver;
//!
//! let resolver = Resolver::new()?;
//! let did = resolver.resolve_handle(&"atproto.com".parse()?).await?;
//! let identity = resolver.lookup_did(&did).await?;
//! assert_eq!(identity.handle().as_str(), "atproto.com");
//! println!("PDS {:?}, key {}", identity.pds(), identity.signing_key()?);
//! # Ok(()) }
//! ```
//!
//! [`blocking::Resolver`] is the same without async.

pub mod blocking;
mod cache;
mod dns;
mod error;
mod flight;
mod guard;
mod handle;
mod http;
mod identity;
pub mod plc;
mod resolver;
mod web;

pub use cache::{Cache, CacheConfig, CacheEntry, CacheKey, Cached, MemoryCache};
pub use error::{BuildError, DidWebRefusal, Error};
pub use guard::is_public_address;
pub use identity::{Identity, LABELER_KEY_FRAGMENT, SIGNING_KEY_FRAGMENT};
pub use resolver::{
    KeyCheckError, Resolver, ResolverBuilder, Stats, DEFAULT_DNS_TIMEOUT, DEFAULT_DOCUMENT_LIMIT,
    DEFAULT_HTTP_TIMEOUT, DEFAULT_MAX_REDIRECTS, DEFAULT_PLC_URL, DEFAULT_WELL_KNOWN_LIMIT,
};
pub use web::did_web_url;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
