//! Test servers shared by the integration tests: a programmable DNS server ([`dns::DnsServer`])
//! and programmable HTTP/HTTPS servers ([`https::HttpServer`], [`https::HttpsServer`]) whose
//! certificates come from a test CA ([`https::TestCa`]).
//!
//! Everything listens on loopback only. Each test binary that says `mod support;` compiles the
//! whole module, so functions one binary does not use are allowed to be dead there.
#![allow(dead_code, missing_docs, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod dns;
pub mod https;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// Locks a mutex, ignoring poisoning: a test that panicked while holding a server's state
/// must not take every later assertion on that server down with it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The size of 127.0.0.0/8, over which [`next_loopback_ip`] walks (skipping the addresses it
/// must not hand out) before it starts over.
const LOOPBACK_SPAN: u32 = 1 << 24;

fn loopback_offset() -> u32 {
    static OFFSET: OnceLock<u32> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        // `RandomState` is seeded randomly once per process; mixing in the process id keeps
        // two test binaries started at the same moment apart as well.
        let random = RandomState::new().hash_one(std::process::id());
        (random % u64::from(LOOPBACK_SPAN)) as u32
    })
}

/// A loopback address (127.x.y.z) not handed out before in this process.
///
/// The sequence starts at a random point of 127.0.0.0/8 in each process, so test binaries
/// running at the same time are very unlikely to ask for the same address; binding can still
/// fail with `AddrInUse` (another process, a leftover socket), and the servers' `*_on_loopback`
/// constructors then move on to the next address. Never returns 127.0.0.1, 127.0.0.53 (a local
/// stub resolver), or an address whose last byte is 0 or 255.
pub fn next_loopback_ip() -> Ipv4Addr {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let v = loopback_offset().wrapping_add(n) % LOOPBACK_SPAN;
        let [_, b, c, d] = v.to_be_bytes();
        let ip = Ipv4Addr::new(127, b, c, d);
        if d == 0
            || d == 255
            || ip == Ipv4Addr::new(127, 0, 0, 1)
            || ip == Ipv4Addr::new(127, 0, 0, 53)
        {
            continue;
        }
        return ip;
    }
}

/// How many loopback addresses the `*_on_loopback` constructors try before giving up.
pub const LOOPBACK_ATTEMPTS: usize = 64;
