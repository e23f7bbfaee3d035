//! did:web: the document at `https://<host>/.well-known/did.json`.

use std::sync::atomic::Ordering;

use atdata_core::syntax::{Did, Handle};

use crate::resolver::document_body;
use crate::{http, DidWebRefusal, Error, Resolver};

/// Where the document of a did:web lives, or why atproto does not accept the DID
/// ([`Error::DidWebNotAllowed`]).
///
/// atproto takes hostname-level did:web only: no path (`did:web:example.com:user`), no port,
/// except `localhost` with an optional `%3A` port in development mode, which is fetched over
/// plain `http://` (and over `https://` if a plain connection fails, for development servers
/// with a test CA).
///
/// ```
/// use atdata_identity::did_web_url;
///
/// let did = "did:web:example.com".parse()?;
/// assert_eq!(did_web_url(&did, false)?, "https://example.com/.well-known/did.json");
/// assert!(did_web_url(&"did:web:example.com:u:alice".parse()?, false).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn did_web_url(did: &Did, development: bool) -> Result<String, Error> {
    let refuse = |reason| Error::DidWebNotAllowed {
        did: did.clone(),
        reason,
    };
    let id = did.identifier();
    if id.contains(':') {
        return Err(refuse(DidWebRefusal::Path));
    }
    let (host, port) = match id.split_once("%3A").or_else(|| id.split_once("%3a")) {
        Some((host, port)) => (host, Some(port)),
        None => (id, None),
    };
    if host.contains('%') {
        return Err(refuse(DidWebRefusal::InvalidHost));
    }
    if host.eq_ignore_ascii_case("localhost") {
        if !development {
            return Err(refuse(DidWebRefusal::Localhost));
        }
        return Ok(match port {
            Some(port) if port.parse::<u16>().is_ok_and(|p| p != 0) => {
                format!("http://localhost:{port}/.well-known/did.json")
            }
            Some(_) => return Err(refuse(DidWebRefusal::InvalidHost)),
            None => "http://localhost/.well-known/did.json".to_owned(),
        });
    }
    if port.is_some() {
        return Err(refuse(DidWebRefusal::Port));
    }
    // A hostname with at least two labels, as a handle is (IP addresses are not hostnames).
    if Handle::new(host).is_err() {
        return Err(refuse(DidWebRefusal::InvalidHost));
    }
    Ok(format!(
        "https://{}/.well-known/did.json",
        host.to_ascii_lowercase()
    ))
}

/// Fetches the document text of a did:web.
pub(crate) async fn fetch_document(resolver: &Resolver, did: &Did) -> Result<String, Error> {
    let inner = resolver.inner();
    let settings = &inner.settings;
    let url = did_web_url(did, settings.development)?;
    let get = |url: String| async move {
        inner.stats.http_requests.fetch_add(1, Ordering::Relaxed);
        http::get(
            &inner.untrusted,
            &url,
            "application/did+ld+json, application/json",
            settings.document_limit,
            settings.http_timeout,
            Some(&settings.guard),
        )
        .await
    };
    let fetched = match url.strip_prefix("http://localhost") {
        // A development server on localhost may speak TLS (with a test CA) or not: the
        // reference implementations use plain http there, so that is tried first, and
        // https when the connection fails (a TLS server closes on a plain request).
        Some(rest) => match get(url.clone()).await {
            Err(Error::Unreachable { .. }) => get(format!("https://localhost{rest}")).await,
            other => other,
        },
        None => get(url).await,
    }
    .map_err(|e| match e {
        // The host is not there, so neither is the DID.
        Error::HostNotFound { .. } => Error::DidNotFound { did: did.clone() },
        other => other,
    })?;
    document_body(did, fetched.status, fetched.body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(did: &str, development: bool) -> Result<String, Error> {
        did_web_url(&Did::new(did).unwrap(), development)
    }

    #[test]
    fn hostnames_ports_and_paths() {
        assert_eq!(
            url("did:web:example.com", false).unwrap(),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(
            url("did:web:Sub.Example.COM", false).unwrap(),
            "https://sub.example.com/.well-known/did.json"
        );
        for (did, development) in [
            ("did:web:example.com:user:alice", true),
            ("did:web:example.com%3A8080", true),
            ("did:web:localhost%3A8080", false),
            ("did:web:localhost", false),
            ("did:web:localhost%3Axyz", true),
            ("did:web:localhost%3A0", true),
            ("did:web:exa%41mple.com", true),
            ("did:web:com", true),
            ("did:web:127.0.0.1", true),
        ] {
            let e = url(did, development).unwrap_err();
            assert!(matches!(e, Error::DidWebNotAllowed { .. }), "{did}: {e}");
        }
        let refusal = |did, development| match url(did, development) {
            Err(Error::DidWebNotAllowed { reason, .. }) => reason,
            other => panic!("{did}: {other:?}"),
        };
        assert_eq!(refusal("did:web:a.com:u", false), DidWebRefusal::Path);
        assert_eq!(refusal("did:web:a.com%3A1", true), DidWebRefusal::Port);
        assert_eq!(
            refusal("did:web:localhost%3A1", false),
            DidWebRefusal::Localhost
        );
        assert_eq!(
            refusal("did:web:127.0.0.1", true),
            DidWebRefusal::InvalidHost
        );
        assert_eq!(
            url("did:web:localhost%3A8080", true).unwrap(),
            "http://localhost:8080/.well-known/did.json"
        );
    }
}
