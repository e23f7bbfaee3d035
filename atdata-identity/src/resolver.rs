//! [`Resolver`]: handles and DIDs to verified identities, with a cache in front.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atdata_core::did_doc::DidDocument;
use atdata_core::syntax::{AtIdentifier, Did, Handle};
use atdata_crypto::PublicKey;
use hickory_resolver::TokioResolver;

use crate::cache::{Cache, CacheConfig, CacheKey, Cached, MemoryCache};
use crate::flight::Flights;
use crate::guard::{Guard, GuardedLookup};
use crate::{dns, handle, http, web, BuildError, Error, Identity};

/// The default PLC directory.
pub const DEFAULT_PLC_URL: &str = "https://plc.directory";
/// The default deadline of one HTTP resolution (a well-known file or a DID document,
/// redirects included).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The default deadline of one DNS lookup.
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(3);
/// The default size limit of `/.well-known/atproto-did`.
pub const DEFAULT_WELL_KNOWN_LIMIT: usize = 2_048;
/// The default size limit of a DID document.
pub const DEFAULT_DOCUMENT_LIMIT: usize = 512 * 1024;
/// The default number of redirects followed for a handle's well-known file or a did:web
/// document.
pub const DEFAULT_MAX_REDIRECTS: usize = 5;

/// Resolves handles and DIDs, checks them against each other, and caches the answers.
///
/// Cloning is cheap; clones share the cache, the connections and the lookups in flight.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use atdata_identity::Resolver;
///
/// let resolver = Resolver::new()?;
/// let identity = resolver.lookup(&"atproto.com".parse()?).await?;
/// println!(
///     "{} is {} on {:?}, signing with {}",
///     identity.handle(),
///     identity.did(),
///     identity.pds(),
///     identity.signing_key()?
/// );
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: Settings,
    pub(crate) dns: Arc<TokioResolver>,
    /// For handles' well-known files and did:web documents: guarded, redirects counted.
    pub(crate) untrusted: reqwest::Client,
    /// For the configured PLC directory.
    plc: reqwest::Client,
    cache: Arc<dyn Cache>,
    flights: Flights,
    pub(crate) stats: Counters,
}

/// The settings a resolver was built with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) plc_url: String,
    pub(crate) http_timeout: Duration,
    pub(crate) dns_timeout: Duration,
    pub(crate) well_known_limit: usize,
    pub(crate) document_limit: usize,
    pub(crate) guard: Guard,
    pub(crate) development: bool,
    pub(crate) cache: CacheConfig,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) dns_queries: AtomicU64,
    pub(crate) http_requests: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    merged: AtomicU64,
}

/// What a resolver has done since it was built (all clones together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// DNS TXT queries sent.
    pub dns_queries: u64,
    /// HTTP requests sent (well-known files, DID documents).
    pub http_requests: u64,
    /// Answers served from the cache.
    pub cache_hits: u64,
    /// Lookups the cache could not answer.
    pub cache_misses: u64,
    /// Lookups that waited for the same lookup already in flight instead of sending their own.
    pub merged: u64,
}

/// Builds a [`Resolver`]; see each setting for its default.
///
/// ```no_run
/// use std::time::Duration;
/// use atdata_identity::{CacheConfig, Resolver};
///
/// let resolver = Resolver::builder()
///     .plc_url("http://localhost:2582")
///     .nameserver("127.0.0.1:5353".parse()?)
///     .http_timeout(Duration::from_secs(5))
///     .cache_config(CacheConfig::default().capacity(10_000))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ResolverBuilder {
    plc_url: String,
    nameservers: Vec<SocketAddr>,
    roots_pem: Vec<Vec<u8>>,
    http_timeout: Duration,
    dns_timeout: Duration,
    well_known_limit: usize,
    document_limit: usize,
    max_redirects: usize,
    user_agent: String,
    cache_config: CacheConfig,
    cache: Option<Arc<dyn Cache>>,
    guard: bool,
    guard_allows: Vec<IpAddr>,
    development: bool,
}

impl Default for ResolverBuilder {
    fn default() -> Self {
        ResolverBuilder {
            plc_url: DEFAULT_PLC_URL.to_owned(),
            nameservers: Vec::new(),
            roots_pem: Vec::new(),
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            dns_timeout: DEFAULT_DNS_TIMEOUT,
            well_known_limit: DEFAULT_WELL_KNOWN_LIMIT,
            document_limit: DEFAULT_DOCUMENT_LIMIT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            user_agent: concat!("atdata-identity/", env!("CARGO_PKG_VERSION")).to_owned(),
            cache_config: CacheConfig::default(),
            cache: None,
            guard: true,
            guard_allows: Vec::new(),
            development: false,
        }
    }
}

impl std::fmt::Debug for ResolverBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolverBuilder")
            .field("plc_url", &self.plc_url)
            .field("nameservers", &self.nameservers)
            .field("extra_roots", &self.roots_pem.len())
            .field("ssrf_guard", &self.guard)
            .field("development", &self.development)
            .finish_non_exhaustive()
    }
}

impl ResolverBuilder {
    /// The PLC directory did:plc documents come from (default `https://plc.directory`).
    /// The directory is trusted: the SSRF guard does not apply to it.
    pub fn plc_url(mut self, url: impl Into<String>) -> Self {
        self.plc_url = url.into();
        self
    }

    /// Adds a DNS nameserver (UDP and TCP on the address's port). Without any, the system's
    /// (`/etc/resolv.conf`) are used.
    pub fn nameserver(mut self, addr: SocketAddr) -> Self {
        self.nameservers.push(addr);
        self
    }

    /// Trusts the root certificates in this PEM text too (in addition to the built-in web
    /// roots), for handles and did:web hosts.
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots_pem.push(pem.into());
        self
    }

    /// The deadline of one HTTP resolution, redirects included (default 10 s).
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// The deadline of one DNS lookup (default 3 s).
    pub fn dns_timeout(mut self, timeout: Duration) -> Self {
        self.dns_timeout = timeout;
        self
    }

    /// The largest `/.well-known/atproto-did` body accepted (default 2,048 bytes).
    pub fn well_known_limit(mut self, bytes: usize) -> Self {
        self.well_known_limit = bytes;
        self
    }

    /// The largest DID document accepted (default 512 KiB).
    pub fn document_limit(mut self, bytes: usize) -> Self {
        self.document_limit = bytes;
        self
    }

    /// How many redirects a well-known file or did:web document may take (default 5).
    pub fn max_redirects(mut self, redirects: usize) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// The `User-Agent` of every request.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long answers live and how many the built-in cache holds.
    pub fn cache_config(mut self, config: CacheConfig) -> Self {
        self.cache_config = config;
        self
    }

    /// Stores answers in `cache` instead of a [`MemoryCache`] of
    /// [`CacheConfig::capacity`] entries.
    pub fn cache(mut self, cache: Arc<dyn Cache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Whether the SSRF guard is on (the default): handles' and did:web hosts' addresses
    /// must be public, after DNS and on every redirect. Switch it off only for tests and
    /// local development.
    pub fn ssrf_guard(mut self, on: bool) -> Self {
        self.guard = on;
        self
    }

    /// Lets the SSRF guard permit this address although it is not public (an internal host
    /// you trust), while it keeps refusing every other one.
    pub fn ssrf_allow(mut self, ip: IpAddr) -> Self {
        self.guard_allows.push(ip);
        self
    }

    /// Development mode (off by default): `did:web:localhost` (with a `%3A` port) is resolved
    /// over plain `http://`, and a redirect from `https://` to `http://` is followed. It does
    /// not switch off the SSRF guard, which refuses `localhost` on its own.
    pub fn development(mut self, on: bool) -> Self {
        self.development = on;
        self
    }

    /// Builds the resolver.
    pub fn build(self) -> Result<Resolver, BuildError> {
        let plc_url = self.plc_url.trim_end_matches('/').to_owned();
        let plc_ok = reqwest::Url::parse(&plc_url).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
        });
        if !plc_ok {
            return Err(BuildError::PlcUrl(self.plc_url));
        }
        if reqwest::header::HeaderValue::from_str(&self.user_agent).is_err() {
            return Err(BuildError::UserAgent(self.user_agent));
        }
        let mut roots = Vec::new();
        for pem in &self.roots_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| BuildError::RootCertificates(e.to_string()))?;
            if certs.is_empty() {
                return Err(BuildError::RootCertificates(
                    "no certificate in the PEM text".into(),
                ));
            }
            roots.extend(certs);
        }
        let dns = Arc::new(dns::build(&self.nameservers, self.dns_timeout)?);
        let guard = Guard {
            on: self.guard,
            allowed: self.guard_allows.into(),
        };
        let untrusted = http::untrusted_client(http::UntrustedClient {
            lookup: GuardedLookup {
                dns: Arc::clone(&dns),
                guard: guard.clone(),
            },
            max_redirects: self.max_redirects,
            development: self.development,
            roots: &roots,
            user_agent: &self.user_agent,
        })
        .map_err(|e| BuildError::Http(e.to_string()))?;
        let plc = http::trusted_client(&self.user_agent, &roots)
            .map_err(|e| BuildError::Http(e.to_string()))?;
        let cache = self.cache.unwrap_or_else(|| {
            Arc::new(MemoryCache::with_limits(
                self.cache_config.capacity,
                self.cache_config.max_bytes,
            ))
        });
        Ok(Resolver {
            inner: Arc::new(Inner {
                settings: Settings {
                    plc_url,
                    http_timeout: self.http_timeout,
                    dns_timeout: self.dns_timeout,
                    well_known_limit: self.well_known_limit,
                    document_limit: self.document_limit,
                    guard,
                    development: self.development,
                    cache: self.cache_config,
                },
                dns,
                untrusted,
                plc,
                cache,
                flights: Flights::default(),
                stats: Counters::default(),
            }),
        })
    }
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("plc_url", &self.inner.settings.plc_url)
            .field("ssrf_guard", &self.inner.settings.guard.on)
            .field("cached", &self.inner.cache.len())
            .finish_non_exhaustive()
    }
}

/// A boxed lookup: the resolution steps call each other (an identity needs a document and a
/// handle), so the recursion goes through a box.
type Lookup<'a> = Pin<Box<dyn Future<Output = Cached> + Send + 'a>>;

/// Why [`Resolver::verify_with`] failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError<E> {
    /// The DID's key could not be had.
    #[error(transparent)]
    Resolve(#[from] Error),
    /// The check failed with the current key (after a refresh, if the cached key failed).
    #[error("check against the signing key of the DID failed: {0}")]
    Check(E),
}

impl Resolver {
    /// A resolver with the default settings (plc.directory, the system's DNS, the SSRF
    /// guard on).
    pub fn new() -> Result<Resolver, BuildError> {
        ResolverBuilder::default().build()
    }

    /// A builder to change the settings.
    pub fn builder() -> ResolverBuilder {
        ResolverBuilder::default()
    }

    /// The DID a handle resolves to, by DNS TXT `_atproto.<handle>` and HTTPS
    /// `https://<handle>/.well-known/atproto-did` run together (DNS wins when both answer).
    ///
    /// This checks one direction only; [`lookup`](Resolver::lookup) checks both.
    pub async fn resolve_handle(&self, handle: &Handle) -> Result<Did, Error> {
        let handle = handle.normalize();
        if handle.has_disallowed_tld() {
            return Err(Error::ReservedTld { handle });
        }
        match self.cached(CacheKey::Handle(handle)).await {
            Cached::Did(did) => Ok(did),
            Cached::Error(e) => Err(e),
            Cached::Identity(_) => Err(unexpected()),
        }
    }

    /// The DID document of `did`, from the PLC directory (did:plc) or the web host
    /// (did:web), checked to describe `did`.
    pub async fn resolve_did(&self, did: &Did) -> Result<DidDocument, Error> {
        Ok(self.lookup_document(did).await?.document().clone())
    }

    /// The DID document of `did` exactly as it was served.
    pub async fn resolve_did_json(&self, did: &Did) -> Result<String, Error> {
        Ok(self.lookup_document(did).await?.document_json().to_owned())
    }

    /// The key that signs `did`'s repository commits (`#atproto`). Reads the document only:
    /// the handle is not resolved.
    pub async fn signing_key(&self, did: &Did) -> Result<PublicKey, Error> {
        self.lookup_document(did).await?.signing_key()
    }

    /// The identity `id` names, with the handle checked both ways.
    ///
    /// - For a DID: its document; the handle it claims is resolved, and kept only if it
    ///   resolves back to the DID (otherwise [`Identity::handle`] is `handle.invalid`).
    /// - For a handle: the DID it resolves to, then as above; the DID must claim this handle
    ///   back, or the lookup fails with [`Error::HandleMismatch`].
    pub async fn lookup(&self, id: &AtIdentifier) -> Result<Arc<Identity>, Error> {
        match id {
            AtIdentifier::Did(did) => self.lookup_did(did).await,
            AtIdentifier::Handle(handle) => self.lookup_handle(handle).await,
        }
    }

    /// [`lookup`](Resolver::lookup) of a DID.
    pub async fn lookup_did(&self, did: &Did) -> Result<Arc<Identity>, Error> {
        match self.cached(CacheKey::Identity(did.clone())).await {
            Cached::Identity(identity) => Ok(identity),
            Cached::Error(e) => Err(e),
            Cached::Did(_) => Err(unexpected()),
        }
    }

    /// [`lookup`](Resolver::lookup) of a handle.
    pub async fn lookup_handle(&self, handle: &Handle) -> Result<Arc<Identity>, Error> {
        let handle = handle.normalize();
        let did = self.resolve_handle(&handle).await?;
        let identity = self.lookup_did(&did).await?;
        if identity.handle() == &handle {
            return Ok(identity);
        }
        let reason = match identity.claimed_handle() {
            Some(claimed) if claimed == &handle => {
                "the handle no longer resolves to the DID".to_owned()
            }
            Some(claimed) => format!("the DID document claims {claimed}"),
            None => "the DID document claims no handle".to_owned(),
        };
        Err(Error::HandleMismatch {
            handle,
            did,
            reason,
        })
    }

    /// Forgets what the cache holds for `id`: for a handle, its DID and that DID's
    /// identity; for a DID, its document, identity and claimed handle.
    pub fn purge(&self, id: &AtIdentifier) {
        let cache = &self.inner.cache;
        match id {
            AtIdentifier::Handle(handle) => {
                let key = CacheKey::Handle(handle.normalize());
                if let Some(Cached::Did(did)) = cache.get(&key).map(|e| e.value) {
                    self.purge_did(&did);
                }
                cache.remove(&key);
            }
            AtIdentifier::Did(did) => self.purge_did(did),
        }
    }

    fn purge_did(&self, did: &Did) {
        let cache = &self.inner.cache;
        for key in [
            CacheKey::Identity(did.clone()),
            CacheKey::Document(did.clone()),
        ] {
            if let Some(Cached::Identity(identity)) = cache.get(&key).map(|e| e.value) {
                if let Some(handle) = identity.claimed_handle() {
                    cache.remove(&CacheKey::Handle(handle.clone()));
                }
            }
            cache.remove(&key);
        }
    }

    /// [`purge`](Resolver::purge)s `id`, then looks it up again: a forced refresh.
    pub async fn refresh(&self, id: &AtIdentifier) -> Result<Arc<Identity>, Error> {
        self.purge(id);
        self.lookup(id).await
    }

    /// Runs `check` with `did`'s signing key; if it fails with a cached key, refreshes the
    /// document once and, if the key changed (a rotation), runs it again with the new key.
    ///
    /// ```no_run
    /// # async fn run(resolver: atdata_identity::Resolver, did: atdata_core::Did, msg: &[u8], sig: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// resolver.verify_with(&did, |key| key.verify(msg, sig)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn verify_with<T, E>(
        &self,
        did: &Did,
        check: impl Fn(&PublicKey) -> Result<T, E>,
    ) -> Result<T, KeyCheckError<E>> {
        let key = self.signing_key(did).await?;
        let first = match check(&key) {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        self.purge(&AtIdentifier::Did(did.clone()));
        let fresh = self.signing_key(did).await?;
        if fresh == key {
            return Err(KeyCheckError::Check(first));
        }
        tracing::debug!(%did, "signing key changed; checking again with the new key");
        check(&fresh).map_err(KeyCheckError::Check)
    }

    /// What this resolver (with all its clones) has done so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.stats;
        Stats {
            dns_queries: c.dns_queries.load(Ordering::Relaxed),
            http_requests: c.http_requests.load(Ordering::Relaxed),
            cache_hits: c.hits.load(Ordering::Relaxed),
            cache_misses: c.misses.load(Ordering::Relaxed),
            merged: c.merged.load(Ordering::Relaxed),
        }
    }

    /// The PLC directory this resolver reads did:plc documents from.
    pub fn plc_url(&self) -> &str {
        &self.inner.settings.plc_url
    }

    /// GETs `path` (starting with `/`) from the PLC directory: status and body (at most
    /// `limit` bytes).
    pub(crate) async fn plc_get(&self, path: &str, limit: usize) -> Result<(u16, Vec<u8>), Error> {
        let url = format!("{}{path}", self.inner.settings.plc_url);
        self.inner
            .stats
            .http_requests
            .fetch_add(1, Ordering::Relaxed);
        let fetched = http::get(
            &self.inner.plc,
            &url,
            "application/did+ld+json, application/json",
            limit,
            self.inner.settings.http_timeout,
            None,
        )
        .await?;
        Ok((fetched.status, fetched.body))
    }

    /// The identity `did`'s document describes, without checking its handle (so without
    /// resolving it): [`Identity::handle`] is `handle.invalid`, and
    /// [`Identity::claimed_handle`] what the document claims. Cheaper than
    /// [`lookup_did`](Resolver::lookup_did) when only the keys or services are needed.
    pub async fn lookup_document(&self, did: &Did) -> Result<Arc<Identity>, Error> {
        match self.cached(CacheKey::Document(did.clone())).await {
            Cached::Identity(identity) => Ok(identity),
            Cached::Error(e) => Err(e),
            Cached::Did(_) => Err(unexpected()),
        }
    }

    /// The answer for `key`: from the cache while fresh (starting a background refresh once
    /// stale), otherwise fetched — once, however many callers ask at the same time.
    ///
    /// The cache hit is answered before any future is boxed: it is the hot path.
    async fn cached(&self, key: CacheKey) -> Cached {
        match self.hit(&key) {
            Some(value) => value,
            None => self.miss(key).await,
        }
    }

    fn hit(&self, key: &CacheKey) -> Option<Cached> {
        let inner = &self.inner;
        let entry = inner.cache.get(key)?;
        let now = Instant::now();
        if now >= entry.expires_at {
            return None;
        }
        inner.stats.hits.fetch_add(1, Ordering::Relaxed);
        if now >= entry.stale_at && !inner.flights.in_flight(key) {
            self.refresh_in_background(key.clone());
        }
        Some(entry.value)
    }

    fn miss(&self, key: CacheKey) -> Lookup<'_> {
        Box::pin(async move {
            self.inner.stats.misses.fetch_add(1, Ordering::Relaxed);
            self.fetch_once(key).await
        })
    }

    async fn fetch_once(&self, key: CacheKey) -> Cached {
        let inner = &self.inner;
        let (value, merged) = inner
            .flights
            .run(&key, async {
                let value = self.fetch(&key).await;
                let entry = inner.settings.cache.entry(value.clone(), Instant::now());
                inner.cache.insert(key.clone(), entry);
                value
            })
            .await;
        if merged {
            inner.stats.merged.fetch_add(1, Ordering::Relaxed);
        }
        value
    }

    fn refresh_in_background(&self, key: CacheKey) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let this = self.clone();
        runtime.spawn(async move {
            let _ = this.fetch_once(key).await;
        });
    }

    /// Fetches the answer for `key`, bypassing the cache.
    fn fetch<'a>(&'a self, key: &'a CacheKey) -> Lookup<'a> {
        Box::pin(async move {
            let result = match key {
                CacheKey::Handle(handle) => handle::resolve(self, handle).await.map(Cached::Did),
                CacheKey::Document(did) => self.fetch_document(did).await,
                CacheKey::Identity(did) => self.fetch_identity(did).await,
            };
            result.unwrap_or_else(Cached::Error)
        })
    }

    async fn fetch_document(&self, did: &Did) -> Result<Cached, Error> {
        let json = match did.method() {
            "plc" => self.fetch_plc_document(did).await?,
            "web" => web::fetch_document(self, did).await?,
            _ => return Err(Error::UnsupportedDidMethod { did: did.clone() }),
        };
        let identity = Identity::from_json(&json, false).map_err(|e| Error::InvalidDocument {
            did: did.clone(),
            reason: e.to_string(),
        })?;
        if identity.did() != did {
            return Err(Error::DocumentIdMismatch {
                did: did.clone(),
                found: identity.did().to_string(),
            });
        }
        Ok(Cached::Identity(Arc::new(identity)))
    }

    /// The operation log of a did:plc (`/{did}/log/audit`) from the PLC directory, parsed but
    /// not yet verified: [`AuditLog::verify`](crate::plc::AuditLog::verify) checks the chain.
    /// Not cached.
    pub async fn plc_audit_log(&self, did: &Did) -> Result<crate::plc::AuditLog, Error> {
        if did.method() != "plc" {
            return Err(Error::UnsupportedDidMethod { did: did.clone() });
        }
        let limit = crate::plc::MAX_AUDIT_LOG_BYTES;
        let (status, body) = self.plc_get(&format!("/{did}/log/audit"), limit).await?;
        let body = document_body(did, status, body)?;
        crate::plc::AuditLog::from_json(body.as_bytes()).map_err(|e| Error::InvalidDocument {
            did: did.clone(),
            reason: format!("audit log: {e}"),
        })
    }

    async fn fetch_plc_document(&self, did: &Did) -> Result<String, Error> {
        let limit = self.inner.settings.document_limit;
        let (status, body) = self.plc_get(&format!("/{did}"), limit).await?;
        document_body(did, status, body)
    }

    async fn fetch_identity(&self, did: &Did) -> Result<Cached, Error> {
        let document = self.lookup_document(did).await?;
        let verified = match document.claimed_handle() {
            Some(handle) if !handle.has_disallowed_tld() => {
                match self.resolve_handle(handle).await {
                    Ok(resolved) => &resolved == did,
                    Err(e) => {
                        tracing::debug!(%did, %handle, error = %e, "claimed handle did not resolve");
                        false
                    }
                }
            }
            _ => false,
        };
        let identity = Identity::new(
            document.document().clone(),
            document.document_json().to_owned(),
            verified,
        );
        Ok(Cached::Identity(Arc::new(identity)))
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// Turns a DID document response into its text: 200 is the document, 404 not found, 410
/// deactivated, anything else a failure.
pub(crate) fn document_body(did: &Did, status: u16, body: Vec<u8>) -> Result<String, Error> {
    match status {
        200 => String::from_utf8(body).map_err(|_| Error::InvalidDocument {
            did: did.clone(),
            reason: "not UTF-8".into(),
        }),
        404 => Err(Error::DidNotFound { did: did.clone() }),
        410 => Err(Error::DidDeactivated { did: did.clone() }),
        other => Err(Error::DidResolutionFailed {
            did: did.clone(),
            reason: format!("HTTP status {other}"),
        }),
    }
}

/// A cache entry of the wrong kind under a key: only a foreign [`Cache`] that mixes up its
/// keys can cause it.
fn unexpected() -> Error {
    Error::Unreachable {
        target: "identity cache".into(),
        reason: "the cache returned an entry of the wrong kind".into(),
    }
}
