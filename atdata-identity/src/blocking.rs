//! A blocking resolver, for code without an async runtime: the async
//! [`crate::Resolver`] driven by a runtime this resolver owns. Same methods.
//!
//! Do not use it from inside an async runtime (tokio refuses to block a thread that drives
//! tasks); use [`crate::Resolver`] there.
//!
//! ```no_run
//! use atdata_identity::blocking::Resolver;
//!
//! let resolver = Resolver::new()?;
//! let identity = resolver.lookup(&"atproto.com".parse()?)?;
//! println!("{} → {:?}", identity.did(), identity.pds());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use atdata_core::did_doc::DidDocument;
use atdata_core::syntax::{AtIdentifier, Did, Handle};
use atdata_crypto::PublicKey;
use tokio::runtime::Runtime;

use crate::{BuildError, Error, Identity, KeyCheckError, ResolverBuilder, Stats};

/// The blocking resolver. Cloning is cheap; clones share the runtime, cache and connections.
#[derive(Clone, Debug)]
pub struct Resolver {
    inner: crate::Resolver,
    runtime: Arc<Runtime>,
}

impl ResolverBuilder {
    /// Builds a [`blocking::Resolver`](Resolver).
    pub fn build_blocking(self) -> Result<Resolver, BuildError> {
        // One worker, not a current-thread runtime: pooled connections and background cache
        // refreshes run as tasks, which a current-thread runtime would only drive inside
        // `block_on`.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("atdata-identity")
            .enable_all()
            .build()
            .map_err(|e| BuildError::Http(format!("runtime: {e}")))?;
        // hickory reads the system configuration and binds sockets on the runtime.
        let inner = {
            let _entered = runtime.enter();
            self.build()?
        };
        Ok(Resolver {
            inner,
            runtime: Arc::new(runtime),
        })
    }
}

impl Resolver {
    /// A resolver with the default settings; see [`crate::Resolver::new`].
    pub fn new() -> Result<Resolver, BuildError> {
        ResolverBuilder::default().build_blocking()
    }

    /// A builder; finish it with [`ResolverBuilder::build_blocking`].
    pub fn builder() -> ResolverBuilder {
        ResolverBuilder::default()
    }

    /// The async resolver underneath (sharing this one's cache).
    pub fn as_async(&self) -> &crate::Resolver {
        &self.inner
    }

    /// See [`crate::Resolver::resolve_handle`].
    pub fn resolve_handle(&self, handle: &Handle) -> Result<Did, Error> {
        self.runtime.block_on(self.inner.resolve_handle(handle))
    }

    /// See [`crate::Resolver::resolve_did`].
    pub fn resolve_did(&self, did: &Did) -> Result<DidDocument, Error> {
        self.runtime.block_on(self.inner.resolve_did(did))
    }

    /// See [`crate::Resolver::resolve_did_json`].
    pub fn resolve_did_json(&self, did: &Did) -> Result<String, Error> {
        self.runtime.block_on(self.inner.resolve_did_json(did))
    }

    /// See [`crate::Resolver::signing_key`].
    pub fn signing_key(&self, did: &Did) -> Result<PublicKey, Error> {
        self.runtime.block_on(self.inner.signing_key(did))
    }

    /// See [`crate::Resolver::lookup`].
    pub fn lookup(&self, id: &AtIdentifier) -> Result<Arc<Identity>, Error> {
        self.runtime.block_on(self.inner.lookup(id))
    }

    /// See [`crate::Resolver::lookup_did`].
    pub fn lookup_did(&self, did: &Did) -> Result<Arc<Identity>, Error> {
        self.runtime.block_on(self.inner.lookup_did(did))
    }

    /// See [`crate::Resolver::lookup_document`].
    pub fn lookup_document(&self, did: &Did) -> Result<Arc<Identity>, Error> {
        self.runtime.block_on(self.inner.lookup_document(did))
    }

    /// See [`crate::Resolver::lookup_handle`].
    pub fn lookup_handle(&self, handle: &Handle) -> Result<Arc<Identity>, Error> {
        self.runtime.block_on(self.inner.lookup_handle(handle))
    }

    /// See [`crate::Resolver::purge`].
    pub fn purge(&self, id: &AtIdentifier) {
        self.inner.purge(id);
    }

    /// See [`crate::Resolver::refresh`].
    pub fn refresh(&self, id: &AtIdentifier) -> Result<Arc<Identity>, Error> {
        self.runtime.block_on(self.inner.refresh(id))
    }

    /// See [`crate::Resolver::verify_with`].
    pub fn verify_with<T, E>(
        &self,
        did: &Did,
        check: impl Fn(&PublicKey) -> Result<T, E>,
    ) -> Result<T, KeyCheckError<E>> {
        self.runtime.block_on(self.inner.verify_with(did, check))
    }

    /// See [`crate::Resolver::plc_audit_log`].
    pub fn plc_audit_log(&self, did: &Did) -> Result<crate::plc::AuditLog, Error> {
        self.runtime.block_on(self.inner.plc_audit_log(did))
    }

    /// See [`crate::Resolver::stats`].
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }
}
