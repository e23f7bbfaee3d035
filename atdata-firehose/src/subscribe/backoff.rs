//! Jittered exponential backoff between reconnects.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How long to wait before reconnecting: `initial`, doubling per failed attempt up to `max`,
/// each delay drawn at random from its upper half (so clients that lost the same server do
/// not return together). A connection that stayed up for `healthy_after` resets the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay (1 s).
    pub initial: Duration,
    /// The largest delay (64 s).
    pub max: Duration,
    /// How long a connection must last to count as healthy and reset the delay (60 s).
    pub healthy_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(64),
            healthy_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The delay before reconnect number `attempt` (0 for the first after a healthy
    /// connection), jitter included: between half the nominal delay and all of it.
    pub fn delay(&self, attempt: u32) -> Duration {
        let nominal = self
            .initial
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.max);
        let half = nominal / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if nanos == 0 {
            0
        } else {
            random() % (nanos + 1)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// A random number from the standard library's per-process hash keys (no extra dependency;
/// jitter does not need a good generator).
fn random() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(u64::from(std::process::id()));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_jitter_in_the_upper_half() {
        let b = Backoff::default();
        for (attempt, secs) in [(0, 1), (1, 2), (2, 4), (5, 32), (6, 64), (7, 64), (40, 64)] {
            let d = b.delay(attempt);
            let nominal = Duration::from_secs(secs);
            assert!(d >= nominal / 2 && d <= nominal, "{attempt}: {d:?}");
        }
    }
}
