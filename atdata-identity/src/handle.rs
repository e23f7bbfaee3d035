//! Handle → DID: DNS TXT `_atproto.<handle>` and HTTPS `/.well-known/atproto-did`, together.

use std::sync::atomic::Ordering;

use atdata_core::syntax::{Did, Handle};
use futures_util::future::{select, Either};

use crate::{dns, http, Error, Resolver};

/// What one method found.
enum Found {
    /// A DID.
    Did(Did),
    /// Nothing there (for people: what was there instead).
    Nothing(String),
    /// No answer could be had, or the answer was unusable in a way that must not be hidden.
    Failed(Error),
}

/// Resolves `handle` (already lowercased and checked for reserved TLDs) by both methods at
/// once. DNS wins when both answer; a DNS answer naming several DIDs fails the resolution.
pub(crate) async fn resolve(resolver: &Resolver, handle: &Handle) -> Result<Did, Error> {
    let dns = std::pin::pin!(by_dns(resolver, handle));
    let https = std::pin::pin!(by_https(resolver, handle));
    let (dns_found, https_found) = match select(dns, https).await {
        Either::Left((Found::Did(did), _)) => return Ok(did),
        Either::Left((Found::Failed(e @ Error::HandleAmbiguous { .. }), _)) => return Err(e),
        Either::Left((dns_found, https)) => (dns_found, https.await),
        Either::Right((https_found, dns)) => {
            let dns_found = dns.await;
            match dns_found {
                Found::Did(did) => return Ok(did),
                Found::Failed(e @ Error::HandleAmbiguous { .. }) => return Err(e),
                other => (other, https_found),
            }
        }
    };
    match (dns_found, https_found) {
        // DNS found nothing, or would have returned above.
        (Found::Did(did), _) | (_, Found::Did(did)) => Ok(did),
        // A failure says more than "not found": report the HTTPS one first, as DNS
        // failures are rarer and usually the network's rather than the handle's.
        (_, Found::Failed(e)) | (Found::Failed(e), _) => Err(e),
        (Found::Nothing(dns), Found::Nothing(https)) => Err(Error::HandleNotFound {
            handle: handle.clone(),
            reason: format!("DNS: {dns}; HTTPS: {https}"),
        }),
    }
}

async fn by_dns(resolver: &Resolver, handle: &Handle) -> Found {
    let inner = resolver.inner();
    inner.stats.dns_queries.fetch_add(1, Ordering::Relaxed);
    let name = format!("_atproto.{handle}");
    let records = match dns::txt(&inner.dns, &name, inner.settings.dns_timeout).await {
        Ok(dns::Txt::Records(records)) => records,
        Ok(dns::Txt::None) => return Found::Nothing(format!("no TXT record at {name}")),
        Err(e) => return Found::Failed(e),
    };
    let mut dids: Vec<Did> = records
        .iter()
        .filter_map(|r| r.trim().strip_prefix("did="))
        .filter_map(|d| Did::new(d.trim()).ok())
        .collect();
    dids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    dids.dedup();
    match dids.len() {
        0 => Found::Nothing(format!("no valid did= TXT record at {name}")),
        1 => dids
            .pop()
            .map_or_else(|| Found::Nothing(String::new()), Found::Did),
        _ => Found::Failed(Error::HandleAmbiguous {
            handle: handle.clone(),
            dids,
        }),
    }
}

async fn by_https(resolver: &Resolver, handle: &Handle) -> Found {
    let inner = resolver.inner();
    let settings = &inner.settings;
    inner.stats.http_requests.fetch_add(1, Ordering::Relaxed);
    let url = format!("https://{handle}/.well-known/atproto-did");
    let fetched = match http::get(
        &inner.untrusted,
        &url,
        "text/plain",
        settings.well_known_limit,
        settings.http_timeout,
        Some(&settings.guard),
    )
    .await
    {
        Ok(fetched) => fetched,
        Err(Error::HostNotFound { host, .. }) => {
            return Found::Nothing(format!("no such host {host}"))
        }
        Err(e) => return Found::Failed(e),
    };
    if fetched.status != 200 {
        return Found::Nothing(format!("{url} answered HTTP {}", fetched.status));
    }
    // The body is the DID alone, maybe with surrounding whitespace; an HTML page, a JSON
    // object or any other text means the host does not declare one.
    let text = String::from_utf8_lossy(&fetched.body);
    match Did::new(text.trim()) {
        Ok(did) => Found::Did(did),
        Err(_) => Found::Nothing(format!("{url} does not hold a DID")),
    }
}
