//! The rate-limit headers a server sends with its responses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// A server's rate-limit state for the caller, read from the `ratelimit-limit`,
/// `ratelimit-remaining`, `ratelimit-reset` and `ratelimit-policy` headers.
///
/// Every response carries it when the server sends the headers: see
/// [`Client::last_rate_limit`](crate::Client::last_rate_limit) and, on a failed call,
/// [`Error::rate_limit`](crate::Error::rate_limit).
///
/// ```
/// use atdata_client::RateLimit;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let mut headers = reqwest::header::HeaderMap::new();
/// headers.insert("ratelimit-limit", "3000".parse()?);
/// headers.insert("ratelimit-remaining", "0".parse()?);
/// headers.insert("ratelimit-reset", "1700000000".parse()?);
/// headers.insert("ratelimit-policy", "3000;w=300".parse()?);
/// let limit = RateLimit::from_headers(&headers).expect("headers present");
/// assert_eq!(limit.remaining, Some(0));
/// assert_eq!(limit.reset, Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
/// assert_eq!(limit.policy.as_deref(), Some("3000;w=300"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed in the window (`ratelimit-limit`).
    pub limit: Option<u64>,
    /// Requests left in the window (`ratelimit-remaining`).
    pub remaining: Option<u64>,
    /// When the window resets (`ratelimit-reset`).
    pub reset: Option<SystemTime>,
    /// The policy as sent, e.g. `3000;w=300` (`ratelimit-policy`).
    pub policy: Option<String>,
}

/// `ratelimit-reset` values at or above this are Unix times, below it seconds from now.
///
/// The atproto reference servers send a Unix time; the IETF RateLimit draft sends a delta. No
/// delta is this large (over 30 years) and no Unix time this small, so both read correctly.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

impl RateLimit {
    /// Reads the headers; `None` when none of the four is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
        let limit = number("ratelimit-limit");
        let remaining = number("ratelimit-remaining");
        // `checked_add`: a server can send any number, and a time past what the system clock
        // can hold is no reset time at all (rather than a panic).
        let reset = number("ratelimit-reset").and_then(|n| {
            if n >= EPOCH_THRESHOLD {
                UNIX_EPOCH.checked_add(Duration::from_secs(n))
            } else {
                SystemTime::now().checked_add(Duration::from_secs(n))
            }
        });
        let policy = text("ratelimit-policy").map(str::to_owned);
        if limit.is_none() && remaining.is_none() && reset.is_none() && policy.is_none() {
            return None;
        }
        Some(RateLimit {
            limit,
            remaining,
            reset,
            policy,
        })
    }

    /// Whether the window is used up (`remaining` is 0).
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// How long until the window resets, from now (zero when it already has).
    pub fn reset_in(&self) -> Option<Duration> {
        let reset = self.reset?;
        Some(
            reset
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn absent_headers_give_none() {
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn delta_reset_is_from_now() {
        let limit = RateLimit::from_headers(&headers(&[("ratelimit-reset", "30")])).unwrap();
        let wait = limit.reset_in().unwrap();
        assert!(wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28));
    }

    #[test]
    fn garbage_numbers_are_ignored_but_policy_kept() {
        let limit = RateLimit::from_headers(&headers(&[
            ("ratelimit-remaining", "lots"),
            ("ratelimit-policy", "100;w=60"),
        ]))
        .unwrap();
        assert_eq!(limit.remaining, None);
        assert!(!limit.is_exhausted());
        assert_eq!(limit.policy.as_deref(), Some("100;w=60"));
    }
    #[test]
    fn a_reset_past_what_the_clock_holds_is_dropped() {
        let limit = RateLimit::from_headers(&headers(&[
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "18446744073709551615"),
        ]))
        .unwrap();
        assert_eq!(limit.reset, None);
        assert_eq!(limit.reset_in(), None);
        assert!(limit.is_exhausted());
    }

    proptest::proptest! {
        /// Any header values a server sends: reading them returns (and never panics).
        #[test]
        fn any_header_values_are_read_without_panicking(
            limit in "[ -~]{0,24}", remaining in "[ -~]{0,24}",
            // Numbers of any size (up to u64::MAX and past it) as well as junk.
            reset in "[0-9]{1,22}|[ -~]{0,24}",
            policy in "[ -~]{0,48}",
        ) {
            let headers = headers(&[
                ("ratelimit-limit", &limit),
                ("ratelimit-remaining", &remaining),
                ("ratelimit-reset", &reset),
                ("ratelimit-policy", &policy),
            ]);
            if let Some(parsed) = RateLimit::from_headers(&headers) {
                let _ = parsed.reset_in();
                let _ = parsed.is_exhausted();
            }
        }
    }
}
