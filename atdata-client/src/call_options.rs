//! Settings for one call: service proxying, labelers, extra headers, retries, timeout,
//! credentials or none.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::RetryPolicy;

/// Per-call settings for [`Client::send_with`](crate::Client::send_with). Client-wide defaults
/// come from [`ClientBuilder::call_options`](crate::ClientBuilder::call_options); a setting made
/// here wins over the default, and headers add to the default ones.
///
/// ```
/// use atdata_client::{CallOptions, RetryPolicy};
/// use std::time::Duration;
///
/// let options = CallOptions::new()
///     .proxy("did:web:api.bsky.chat#bsky_chat")
///     .accept_labeler("did:plc:ar7c4by46qjdydhdevvrndac", true)
///     .timeout(Duration::from_secs(5))
///     .retry(RetryPolicy::none());
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    pub(crate) proxy: Option<String>,
    pub(crate) labelers: Vec<(String, bool)>,
    pub(crate) headers: HeaderMap,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) anonymous: bool,
    /// Where an anonymous call goes instead of the client's service (login to a PDS found
    /// through the account's DID document).
    pub(crate) base: Option<String>,
}

impl CallOptions {
    /// No settings: the client's defaults apply.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// Asks the PDS to forward the call to a service (the `atproto-proxy` header), named as
    /// `<did>#<service id>`, e.g. `did:web:api.bsky.app#bsky_appview`.
    pub fn proxy(mut self, service: impl Into<String>) -> Self {
        self.proxy = Some(service.into());
        self
    }

    /// Adds a labeler whose labels the caller wants (the `atproto-accept-labelers` header);
    /// `redact` asks the service to apply its takedowns.
    pub fn accept_labeler(mut self, did: impl Into<String>, redact: bool) -> Self {
        self.labelers.push((did.into(), redact));
        self
    }

    /// Adds a header to the request.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The retry policy for this call (e.g. [`RetryPolicy::retry_procedures`] for a write that
    /// is safe to repeat).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The longest the whole call (each attempt) may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the call without credentials even when logged in, as a client without a session
    /// would: to the service the client was built for, not the session's PDS, with no token.
    /// For asking what anyone may see, or for methods that must not carry the session. It is
    /// a per-call setting: in
    /// [`ClientBuilder::call_options`](crate::ClientBuilder::call_options) it has no effect
    /// (a client that should never send credentials is one that never logs in).
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// `self` over `defaults`: what is set here wins, headers from both are sent.
    pub(crate) fn over(&self, defaults: &CallOptions) -> CallOptions {
        let mut headers = defaults.headers.clone();
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        CallOptions {
            proxy: self.proxy.clone().or_else(|| defaults.proxy.clone()),
            labelers: if self.labelers.is_empty() {
                defaults.labelers.clone()
            } else {
                self.labelers.clone()
            },
            headers,
            retry: self.retry.clone().or_else(|| defaults.retry.clone()),
            timeout: self.timeout.or(defaults.timeout),
            anonymous: self.anonymous,
            base: self.base.clone(),
        }
    }

    /// The `atproto-accept-labelers` value: `did:plc:a;redact, did:plc:b`.
    pub(crate) fn labelers_header(&self) -> Option<String> {
        if self.labelers.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .labelers
            .iter()
            .map(|(did, redact)| {
                if *redact {
                    format!("{did};redact")
                } else {
                    did.clone()
                }
            })
            .collect();
        Some(parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_settings_win_over_defaults() {
        let defaults = CallOptions::new()
            .proxy("did:web:a#x")
            .accept_labeler("did:plc:one", false)
            .timeout(Duration::from_secs(9));
        let merged = CallOptions::new().proxy("did:web:b#y").over(&defaults);
        assert_eq!(merged.proxy.as_deref(), Some("did:web:b#y"));
        assert_eq!(merged.timeout, Some(Duration::from_secs(9)));
        assert_eq!(merged.labelers_header().as_deref(), Some("did:plc:one"));
        let two = CallOptions::new()
            .accept_labeler("did:plc:a", true)
            .accept_labeler("did:plc:b", false);
        assert_eq!(
            two.labelers_header().as_deref(),
            Some("did:plc:a;redact, did:plc:b")
        );
    }
}
