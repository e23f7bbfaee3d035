//! The SSRF guard: which addresses a resolver may connect to on behalf of data it was handed.
//!
//! Handles and did:web names come from strangers, so without a guard `alice.example` could
//! point its `A` record (or a redirect) at `127.0.0.1:443` or a cloud metadata address and make
//! the resolver probe the operator's own network. The guard runs after DNS (in the HTTP
//! client's name lookup), on IP-literal URLs, and on every redirect hop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is an address on the public internet: not loopback, private, link-local,
/// shared (CGNAT), unspecified, multicast, broadcast, documentation, benchmarking or reserved,
/// including those forms hidden inside IPv4-mapped, NAT64 and 6to4 IPv6 addresses.
///
/// ```
/// use atdata_identity::is_public_address;
///
/// assert!(is_public_address("93.184.216.34".parse()?));
/// assert!(!is_public_address("127.0.0.1".parse()?));
/// assert!(!is_public_address("169.254.169.254".parse()?)); // cloud metadata
/// assert!(!is_public_address("::ffff:10.0.0.1".parse()?));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 (2002::/16) carries one in bits 16..48.
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated) and the rest of ::/96
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID, …)
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0]; // discard-only
    !blocked
}

/// The guard's setting: off, or on with a list of addresses allowed anyway.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    pub(crate) on: bool,
    pub(crate) allowed: Arc<[IpAddr]>,
}

impl Guard {
    /// Whether the resolver may connect to `ip`.
    pub(crate) fn permits(&self, ip: IpAddr) -> bool {
        !self.on || is_public_address(ip) || self.allowed.contains(&ip)
    }
}

/// The marker error the guarded name lookup and redirect policy return, found again in the
/// HTTP error's source chain to report [`Error::Blocked`](crate::Error::Blocked).
#[derive(Debug, thiserror::Error)]
#[error("{host} is not a public address")]
pub(crate) struct BlockedHost {
    pub(crate) host: String,
}

/// The marker error of a name that does not exist (or has no address): the host is not
/// there, which for a handle means "not found" rather than "unreachable".
#[derive(Debug, thiserror::Error)]
#[error("no such host: {host}")]
pub(crate) struct NoSuchHost {
    pub(crate) host: String,
}

/// The name lookup of the HTTP client that fetches from untrusted hosts: hickory (so the
/// configured nameservers apply to HTTPS too), with non-public addresses dropped when the
/// guard is on.
pub(crate) struct GuardedLookup {
    pub(crate) dns: Arc<TokioResolver>,
    pub(crate) guard: Guard,
}

impl Resolve for GuardedLookup {
    fn resolve(&self, name: Name) -> Resolving {
        let dns = Arc::clone(&self.dns);
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = match dns.lookup_ip(host.as_str()).await {
                Ok(found) => found,
                Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                    return Err(Box::new(NoSuchHost { host }) as Box<_>)
                }
                Err(e) => return Err(Box::new(e) as Box<_>),
            };
            let mut addrs: Vec<SocketAddr> = found
                .iter()
                .filter(|ip| guard.permits(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(BlockedHost { host }) as Box<_>);
            }
            // Deterministic order: IPv4 first, as most atproto hosts are reached that way.
            addrs.sort_by_key(|a| a.is_ipv6());
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public_address(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    #[test]
    fn classifies_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(public(s), "{s} should be public");
        }
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "100.64.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
        ] {
            assert!(!public(s), "{s} should be refused");
        }
    }
}
