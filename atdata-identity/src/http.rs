//! Bounded HTTP GETs: a deadline for the whole exchange, a cap on the body, redirects counted
//! and checked by the SSRF guard, and reqwest's errors turned into [`Error`]s.

use std::error::Error as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::redirect;

use crate::guard::{BlockedHost, Guard, GuardedLookup, NoSuchHost};
use crate::Error;

/// A fetched answer: the status and at most `limit` bytes of body.
pub(crate) struct Fetched {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Settings of the client for untrusted hosts (handles' well-known files and did:web).
pub(crate) struct UntrustedClient<'a> {
    pub(crate) lookup: GuardedLookup,
    pub(crate) max_redirects: usize,
    pub(crate) development: bool,
    pub(crate) roots: &'a [reqwest::Certificate],
    pub(crate) user_agent: &'a str,
}

/// Builds the client for untrusted hosts: guarded name lookups, a redirect policy that counts
/// hops and applies the guard to IP-literal targets, and no plain-http downgrade outside
/// development mode.
pub(crate) fn untrusted_client(settings: UntrustedClient<'_>) -> reqwest::Result<reqwest::Client> {
    let guard = settings.lookup.guard.clone();
    let max = settings.max_redirects;
    let development = settings.development;
    let policy = redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > max {
            return attempt.error(TooManyRedirects(max));
        }
        let url = attempt.url();
        if let Some(ip) = literal_ip(url) {
            if !guard.permits(ip) {
                let host = ip.to_string();
                return attempt.error(BlockedHost { host });
            }
        }
        let downgrade = url.scheme() != "https"
            && attempt
                .previous()
                .last()
                .is_some_and(|prev| prev.scheme() == "https");
        if downgrade && !development {
            return attempt.error(Downgrade);
        }
        attempt.follow()
    });
    base_builder(settings.user_agent, settings.roots)
        .dns_resolver(Arc::new(settings.lookup))
        .redirect(policy)
        .build()
}

/// Builds the client for the configured PLC directory: trusted (the operator chose it), so no
/// guard, and no redirects.
pub(crate) fn trusted_client(
    user_agent: &str,
    roots: &[reqwest::Certificate],
) -> reqwest::Result<reqwest::Client> {
    base_builder(user_agent, roots)
        .redirect(redirect::Policy::none())
        .build()
}

fn base_builder(user_agent: &str, roots: &[reqwest::Certificate]) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(Duration::from_secs(5))
        // Connections to many different hosts, each used once: keep few idle.
        .pool_max_idle_per_host(4);
    for root in roots {
        builder = builder.add_root_certificate(root.clone());
    }
    builder
}

#[derive(Debug, thiserror::Error)]
#[error("more than {0} redirects")]
struct TooManyRedirects(usize);

#[derive(Debug, thiserror::Error)]
#[error("redirect from https:// to plain http:// refused")]
struct Downgrade;

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// GETs `url` with `deadline` for the whole exchange and at most `limit` bytes of body.
///
/// `guard` refuses an IP-literal URL it does not permit (name lookups are guarded by the
/// client itself).
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    accept: &str,
    limit: usize,
    deadline: Duration,
    guard: Option<&Guard>,
) -> Result<Fetched, Error> {
    let target = url.to_owned();
    let parsed = reqwest::Url::parse(url).map_err(|e| Error::Unreachable {
        target: target.clone(),
        reason: format!("invalid URL: {e}"),
    })?;
    if let Some(ip) = literal_ip(&parsed) {
        if guard.is_some_and(|g| !g.permits(ip)) {
            return Err(Error::Blocked {
                target,
                host: ip.to_string(),
            });
        }
    }
    let exchange = async {
        let response = client
            .get(parsed)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| from_reqwest(&target, &e))?;
        let status = response.status().as_u16();
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(Error::TooLarge {
                target: target.clone(),
                limit,
            });
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| from_reqwest(&target, &e))?;
            if body.len() + chunk.len() > limit {
                return Err(Error::TooLarge {
                    target: target.clone(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { status, body })
    };
    match tokio::time::timeout(deadline, exchange).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout {
            target: url.to_owned(),
            after: deadline,
        }),
    }
}

/// Sorts a reqwest error into the resolver's kinds by what its source chain holds.
fn from_reqwest(target: &str, error: &reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = error.source();
    let mut reasons = vec![error.to_string()];
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<BlockedHost>() {
            return Error::Blocked {
                target: target.to_owned(),
                host: blocked.host.clone(),
            };
        }
        if let Some(missing) = e.downcast_ref::<NoSuchHost>() {
            return Error::HostNotFound {
                target: target.to_owned(),
                host: missing.host.clone(),
            };
        }
        if e.is::<TooManyRedirects>() || e.is::<Downgrade>() {
            return Error::Redirect {
                target: target.to_owned(),
                reason: e.to_string(),
            };
        }
        reasons.push(e.to_string());
        source = e.source();
    }
    if error.is_redirect() {
        return Error::Redirect {
            target: target.to_owned(),
            reason: "too many redirects".to_owned(),
        };
    }
    reasons.dedup();
    Error::Unreachable {
        target: target.to_owned(),
        reason: reasons.join(": "),
    }
}
