//! Merging concurrent lookups of one key into one request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use crate::cache::{CacheKey, Cached};

/// The lookups in flight, by key. The first caller of a key runs the lookup; later callers
/// wait for its answer. If the running caller is dropped mid-way, a waiting one takes over
/// (that is how [`OnceCell::get_or_init`] behaves), so a cancelled task never strands the
/// others.
#[derive(Default)]
pub(crate) struct Flights {
    // std's HashMap with its per-process random SipHash seed: keys come from strangers.
    map: Mutex<HashMap<CacheKey, Arc<OnceCell<Cached>>>>,
}

impl Flights {
    /// Runs `lookup` for `key` unless a lookup of `key` is running, in which case its answer
    /// is awaited instead. Returns the answer and whether this call joined another's lookup.
    pub(crate) async fn run<F>(&self, key: &CacheKey, lookup: F) -> (Cached, bool)
    where
        F: Future<Output = Cached>,
    {
        let cell = {
            let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(key.clone()).or_default())
        };
        let mut ran = false;
        let value = cell
            .get_or_init(|| {
                ran = true;
                lookup
            })
            .await
            .clone();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            map.remove(key);
        }
        (value, !ran)
    }

    /// Whether a lookup of `key` is running.
    pub(crate) fn in_flight(&self, key: &CacheKey) -> bool {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(key)
    }
}
