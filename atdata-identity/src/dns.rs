//! DNS through hickory: the resolver the handle TXT lookups and the guarded HTTP client share.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::TokioResolver;

use crate::BuildError;

/// Builds the hickory resolver: the given nameservers, or the system's (`/etc/resolv.conf`).
///
/// hickory's own answer cache is off: the identity cache above it decides how long an answer
/// lives, and a purge must really ask again.
pub(crate) fn build(
    nameservers: &[SocketAddr],
    timeout: Duration,
) -> Result<TokioResolver, BuildError> {
    let mut builder = if nameservers.is_empty() {
        match TokioResolver::builder_tokio() {
            Ok(builder) => builder,
            // No readable system configuration (a container without /etc/resolv.conf, say):
            // did:plc still resolves (the directory is reached without this resolver), and
            // handle lookups fail as unreachable rather than the whole resolver refusing to
            // exist.
            Err(e) => {
                tracing::warn!(error = %e, "no system DNS configuration; handle lookups will fail until a nameserver is set");
                TokioResolver::builder_with_config(
                    ResolverConfig::from_parts(None, vec![], vec![]),
                    TokioRuntimeProvider::default(),
                )
            }
        }
    } else {
        let servers = nameservers
            .iter()
            .map(|addr| {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
            })
            .collect();
        TokioResolver::builder_with_config(
            ResolverConfig::from_parts(None, vec![], servers),
            TokioRuntimeProvider::default(),
        )
    };
    let opts: &mut ResolverOpts = builder.options_mut();
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.cache_size = 0;
    // Handles are absolute names: never try them under a local search domain.
    opts.ndots = 0;
    builder.build().map_err(|e| BuildError::Dns(e.to_string()))
}

/// What a TXT lookup found.
pub(crate) enum Txt {
    /// The records, each record's character-strings joined (as RFC 7208 joins long values).
    Records(Vec<String>),
    /// The name does not exist, or has no TXT records.
    None,
}

/// Looks up the TXT records of `name`, giving up after `deadline`.
pub(crate) async fn txt(
    dns: &TokioResolver,
    name: &str,
    deadline: Duration,
) -> Result<Txt, crate::Error> {
    // An absolute name: no search domains.
    let fqdn = format!("{name}.");
    let lookup = match tokio::time::timeout(deadline, dns.txt_lookup(fqdn.as_str())).await {
        Err(_) => {
            return Err(crate::Error::Timeout {
                target: format!("DNS TXT {name}"),
                after: deadline,
            })
        }
        Ok(Err(e)) if e.is_no_records_found() || e.is_nx_domain() => return Ok(Txt::None),
        Ok(Err(e)) => {
            let timed_out = matches!(e, hickory_resolver::net::NetError::Timeout);
            return Err(if timed_out {
                crate::Error::Timeout {
                    target: format!("DNS TXT {name}"),
                    after: deadline,
                }
            } else {
                crate::Error::Unreachable {
                    target: format!("DNS TXT {name}"),
                    reason: e.to_string(),
                }
            });
        }
        Ok(Ok(lookup)) => lookup,
    };
    let records = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect();
    Ok(Txt::Records(records))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fallback when the system has no DNS configuration: a resolver with no nameservers
    /// still builds, and its lookups fail (as unreachable) instead of panicking or hanging.
    #[tokio::test]
    async fn a_resolver_without_nameservers_builds_and_fails_lookups() {
        let resolver = TokioResolver::builder_with_config(
            ResolverConfig::from_parts(None, vec![], vec![]),
            TokioRuntimeProvider::default(),
        )
        .build();
        let Ok(resolver) = resolver else {
            panic!("an empty configuration builds");
        };
        let answer = txt(&resolver, "_atproto.example.com", Duration::from_secs(1)).await;
        assert!(
            matches!(
                answer,
                Err(crate::Error::Unreachable { .. }) | Ok(Txt::None)
            ),
            "{:?}",
            answer.err()
        );
    }
}
