//! The identity cache: the [`Cache`] trait a resolver stores answers in, and
//! [`MemoryCache`], the bounded in-memory store it uses unless told otherwise.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use atdata_core::syntax::{Did, Handle};

use crate::{Error, Identity};

/// What an answer is cached under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// A handle (lowercased): the DID it resolves to.
    Handle(Handle),
    /// A DID: its document, as an [`Identity`] whose handle is not checked.
    Document(Did),
    /// A DID: its [`Identity`] with the handle checked both ways.
    Identity(Did),
}

/// A cached answer.
#[derive(Debug, Clone)]
pub enum Cached {
    /// The DID a handle resolves to.
    Did(Did),
    /// A DID's identity.
    Identity(Arc<Identity>),
    /// The lookup failed this way.
    Error(Error),
}

/// A cached answer and when it goes stale and expires.
#[derive(Debug, Clone)]
pub struct CacheEntry {
    /// The answer.
    pub value: Cached,
    /// When it was fetched.
    pub fetched: Instant,
    /// From then on the answer is still served, but a refresh starts in the background.
    pub stale_at: Instant,
    /// From then on the answer is not served: the next lookup waits for a new one.
    pub expires_at: Instant,
}

/// A store of resolved answers, shared by all clones of a [`Resolver`](crate::Resolver).
///
/// The resolver decides what to store and for how long (the entry carries its own times);
/// the store decides what to forget when full. Calls are synchronous and made on the lookup
/// path, so they must be quick and must not block on I/O: a store shared between processes
/// belongs behind a local layer that answers from memory.
pub trait Cache: Send + Sync + 'static {
    /// The entry stored under `key`, if any (expired or not: the resolver checks).
    fn get(&self, key: &CacheKey) -> Option<CacheEntry>;
    /// Stores `entry` under `key`, replacing what was there.
    fn insert(&self, key: CacheKey, entry: CacheEntry);
    /// Forgets `key`.
    fn remove(&self, key: &CacheKey);
    /// How many entries are stored.
    fn len(&self) -> usize;
    /// Whether nothing is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How long answers live, and how many the default cache holds. The defaults are indigo's:
/// 250,000 entries (and at most 512 MiB of documents), answers for 24 hours, errors for 2 minutes, an identity whose handle did
/// not check out for 5 minutes; answers older than an hour are refreshed in the background
/// while the old answer is still served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Entries the in-memory cache keeps (0 turns caching off).
    pub capacity: usize,
    /// Bytes of documents the in-memory cache keeps (about; 512 MiB by default).
    pub max_bytes: usize,
    /// How long a found answer is served.
    pub ttl: Duration,
    /// How old a found answer may get before a lookup refreshes it in the background.
    pub stale_after: Duration,
    /// How long a failure is remembered.
    pub error_ttl: Duration,
    /// How long an identity whose handle did not resolve back to it is served.
    pub invalid_handle_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            capacity: 250_000,
            max_bytes: 512 << 20,
            ttl: Duration::from_secs(24 * 60 * 60),
            stale_after: Duration::from_secs(60 * 60),
            error_ttl: Duration::from_secs(2 * 60),
            invalid_handle_ttl: Duration::from_secs(5 * 60),
        }
    }
}

impl CacheConfig {
    /// No caching: every lookup asks again (concurrent lookups of one key are still merged).
    pub fn disabled() -> Self {
        CacheConfig {
            capacity: 0,
            ..CacheConfig::default()
        }
    }

    /// Sets [`capacity`](CacheConfig::capacity).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets [`max_bytes`](CacheConfig::max_bytes).
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Sets [`ttl`](CacheConfig::ttl) (and lowers `stale_after` to it if above).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self.stale_after = self.stale_after.min(ttl);
        self
    }

    /// Sets [`stale_after`](CacheConfig::stale_after).
    pub fn stale_after(mut self, stale_after: Duration) -> Self {
        self.stale_after = stale_after;
        self
    }

    /// Sets [`error_ttl`](CacheConfig::error_ttl).
    pub fn error_ttl(mut self, error_ttl: Duration) -> Self {
        self.error_ttl = error_ttl;
        self
    }

    /// Sets [`invalid_handle_ttl`](CacheConfig::invalid_handle_ttl).
    pub fn invalid_handle_ttl(mut self, ttl: Duration) -> Self {
        self.invalid_handle_ttl = ttl;
        self
    }

    /// The entry for `value` fetched at `now`, with the lifetimes its kind gets.
    pub(crate) fn entry(&self, value: Cached, now: Instant) -> CacheEntry {
        let (stale, expires) = match &value {
            Cached::Error(_) => (self.error_ttl, self.error_ttl),
            Cached::Identity(identity) if !identity.handle_verified() => {
                let ttl = self.invalid_handle_ttl;
                (self.stale_after.min(ttl), ttl)
            }
            _ => (self.stale_after, self.ttl),
        };
        CacheEntry {
            value,
            fetched: now,
            stale_at: now + stale,
            expires_at: now + expires,
        }
    }
}

/// Shards of the in-memory cache: lookups of different keys rarely wait on one lock.
const SHARDS: usize = 16;
/// Entries looked at to choose one to evict.
const EVICTION_SAMPLE: usize = 8;

/// The bounded in-memory [`Cache`]: a sharded hash map keyed with a per-process random seed
/// (keys come from strangers), bounded both in entries and in bytes (a did:web document may
/// be up to the document limit, so a count alone would not bound memory), evicting an expired
/// entry, else the oldest of a small sample, when a shard is full.
///
/// ```
/// use atdata_identity::{Cache, MemoryCache};
///
/// let cache = MemoryCache::new(1_000);
/// assert!(cache.is_empty());
/// ```
pub struct MemoryCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    per_shard: usize,
    bytes_per_shard: usize,
}

/// One shard: keys carry the hash the cache computed once (seeded SipHash over the whole
/// key), which both picks the shard and places the key in the shard's table.
#[derive(Default)]
struct Shard {
    map: HashMap<Slot, CacheEntry, BuildHasherDefault<PassThrough>>,
    /// The [`weight`]s of the entries in `map`.
    bytes: usize,
}

/// Roughly the memory an entry holds: the document text twice (verbatim and typed) for an
/// identity, a small constant otherwise.
fn weight(entry: &CacheEntry) -> usize {
    const BASE: usize = 256;
    match &entry.value {
        Cached::Identity(identity) => BASE + 2 * identity.document_json().len(),
        Cached::Did(_) | Cached::Error(_) => BASE,
    }
}

#[derive(Clone)]
struct Slot {
    hash: u64,
    key: CacheKey,
}

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl Eq for Slot {}

impl std::hash::Hash for Slot {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// Hands a [`Slot`]'s precomputed hash to the table.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (by `Slot`); this keeps any other use well-defined.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl MemoryCache {
    /// A cache of at most about `capacity` entries and [`CacheConfig::max_bytes`]'s default
    /// of bytes.
    pub fn new(capacity: usize) -> MemoryCache {
        MemoryCache::with_limits(capacity, CacheConfig::default().max_bytes)
    }

    /// A cache of at most about `capacity` entries and `max_bytes` bytes of documents.
    pub fn with_limits(capacity: usize, max_bytes: usize) -> MemoryCache {
        MemoryCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(SHARDS),
            bytes_per_shard: max_bytes.div_ceil(SHARDS),
        }
    }

    /// The key's slot and shard. The shard comes from middle bits of the hash: the table
    /// inside uses the low bits for its index and the top ones for its tags.
    fn locate(&self, key: &CacheKey) -> (Slot, &Mutex<Shard>) {
        let hash = self.hasher.hash_one(key);
        let shard = &self.shards[((hash >> 32) as usize) % SHARDS];
        let slot = Slot {
            hash,
            key: key.clone(),
        };
        (slot, shard)
    }
}

impl Cache for MemoryCache {
    fn get(&self, key: &CacheKey) -> Option<CacheEntry> {
        let (slot, shard) = self.locate(key);
        shard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .get(&slot)
            .cloned()
    }

    fn insert(&self, key: CacheKey, entry: CacheEntry) {
        let size = weight(&entry);
        if self.per_shard == 0 || size > self.bytes_per_shard {
            return;
        }
        let (slot, shard) = self.locate(&key);
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = shard.map.remove(&slot) {
            shard.bytes -= weight(&old);
        }
        let now = Instant::now();
        while !shard.map.is_empty()
            && (shard.map.len() >= self.per_shard || shard.bytes + size > self.bytes_per_shard)
        {
            // The table's order follows the keys' seeded hashes, so the sample is an
            // arbitrary one an attacker cannot aim at.
            let victim = shard
                .map
                .iter()
                .take(EVICTION_SAMPLE)
                .min_by_key(|(_, e)| (e.expires_at > now, e.fetched))
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else { break };
            if let Some(old) = shard.map.remove(&victim) {
                shard.bytes -= weight(&old);
            }
        }
        shard.bytes += size;
        shard.map.insert(slot, entry);
    }

    fn remove(&self, key: &CacheKey) {
        let (slot, shard) = self.locate(key);
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = shard.map.remove(&slot) {
            shard.bytes -= weight(&old);
        }
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).map.len())
            .sum()
    }
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("len", &self.len())
            .field("capacity", &(self.per_shard * SHARDS))
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn did(i: usize) -> Did {
        Did::new(&format!("did:plc:{i:0>24}")).unwrap()
    }

    #[test]
    fn bounded_and_evicts_expired_first() {
        let cache = MemoryCache::new(64);
        let config = CacheConfig::default();
        let now = Instant::now();
        for i in 0..1_000 {
            let key = CacheKey::Handle(Handle::new(&format!("h{i}.test")).unwrap());
            cache.insert(key, config.entry(Cached::Did(did(i)), now));
        }
        assert!(cache.len() <= 64, "{}", cache.len());
        assert!(cache.len() >= 48, "{}", cache.len());
        let key = CacheKey::Document(did(1));
        cache.insert(key.clone(), config.entry(Cached::Did(did(1)), now));
        assert!(matches!(cache.get(&key).unwrap().value, Cached::Did(_)));
        cache.remove(&key);
        assert!(cache.get(&key).is_none());
    }

    #[test]
    fn bounded_in_bytes_too() {
        // Documents weighing about 33 KiB into a cache of 1 MiB (64 KiB a shard): at most
        // one or two a shard.
        let padding = "x".repeat(16 * 1024);
        let cache = MemoryCache::with_limits(1_000, 1 << 20);
        let config = CacheConfig::default();
        for i in 0..200 {
            let json = format!(
                r#"{{"id":"{}","alsoKnownAs":["https://example.com/{padding}"]}}"#,
                did(i)
            );
            let identity = Identity::from_json(&json, false).unwrap();
            let entry = config.entry(Cached::Identity(Arc::new(identity)), Instant::now());
            cache.insert(CacheKey::Document(did(i)), entry);
        }
        let held: usize = cache.shards.iter().map(|s| s.lock().unwrap().bytes).sum();
        assert!(held <= 1 << 20, "{held}");
        assert!(cache.len() <= 2 * SHARDS, "{}", cache.len());
        assert!(cache.len() >= 4, "{}", cache.len());
        // An entry larger than a shard's share is not stored at all.
        let tiny = MemoryCache::with_limits(1_000, 16 * 1024);
        let json = format!(r#"{{"id":"{}","alsoKnownAs":["{padding}"]}}"#, did(1));
        assert!(json.len() > 1024);
        let entry = config.entry(
            Cached::Identity(Arc::new(Identity::from_json(&json, false).unwrap())),
            Instant::now(),
        );
        tiny.insert(CacheKey::Document(did(1)), entry);
        assert!(tiny.is_empty());
        // Replacing an entry does not count it twice.
        let small = MemoryCache::with_limits(10, 1 << 20);
        for _ in 0..100 {
            small.insert(
                CacheKey::Document(did(2)),
                config.entry(Cached::Did(did(2)), Instant::now()),
            );
        }
        assert_eq!(small.len(), 1);
        let bytes: usize = small.shards.iter().map(|s| s.lock().unwrap().bytes).sum();
        assert_eq!(bytes, 256);
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let cache = MemoryCache::new(0);
        let entry = CacheConfig::default().entry(Cached::Did(did(1)), Instant::now());
        cache.insert(CacheKey::Document(did(1)), entry);
        assert!(cache.is_empty());
    }

    #[test]
    fn lifetimes_by_kind() {
        let config = CacheConfig::default();
        let now = Instant::now();
        let found = config.entry(Cached::Did(did(1)), now);
        assert_eq!(found.expires_at - now, Duration::from_secs(86_400));
        assert_eq!(found.stale_at - now, Duration::from_secs(3_600));
        let failed = config.entry(Cached::Error(Error::DidNotFound { did: did(1) }), now);
        assert_eq!(failed.expires_at - now, Duration::from_secs(120));
    }
}
