//! When a failed call is tried again, and how long the client waits first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the client retries calls that failed for reasons that may pass: HTTP 429 (rate
/// limited), 5xx (except 501 and 505, which will not change), and transport failures
/// (connection refused or reset, timeouts).
///
/// Only queries (GET) are retried by default. A procedure may have taken effect even when its
/// response was lost, so it is retried only when the policy says
/// [`retry_procedures(true)`](RetryPolicy::retry_procedures) — set it per call with
/// [`CallOptions::retry`](crate::CallOptions::retry) for writes that are safe to repeat.
///
/// The wait before each retry is the server's `retry-after` when it sends one, else the
/// rate-limit window's reset for a 429 that used the window up, else an exponential backoff
/// with jitter. A server that asks for a longer wait than [`max_wait`](RetryPolicy::max_wait)
/// gets no retry: the call fails at once with the server's error, which carries the
/// [`RateLimit`](crate::RateLimit).
///
/// ```
/// use atdata_client::RetryPolicy;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::default()
///     .max_retries(5)
///     .initial_backoff(Duration::from_millis(100))
///     .max_wait(Duration::from_secs(10));
/// assert_eq!(policy.retries(), 5);
/// assert_eq!(RetryPolicy::none().retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_wait: Duration,
    procedures: bool,
}

impl Default for RetryPolicy {
    /// Three retries, backoff from 250 ms up to 8 s, server-requested waits up to 60 s,
    /// queries only.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
            procedures: false,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy::default().max_retries(0)
    }

    /// Retries after the first attempt (so `n + 1` attempts at most).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The backoff before the first retry; it doubles for each one after.
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The longest backoff the doubling reaches.
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The longest wait the client honours when the server names one (`retry-after`,
    /// `ratelimit-reset`); past it the call fails instead of sleeping.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Whether procedures (POST) are retried too. Off by default: only turn it on for calls
    /// that are safe to repeat.
    pub fn retry_procedures(mut self, yes: bool) -> Self {
        self.procedures = yes;
        self
    }

    /// How many retries the policy allows.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// Whether procedures are retried.
    pub fn retries_procedures(&self) -> bool {
        self.procedures
    }

    /// The wait before retry number `attempt` (0 for the first), given the wait the server asked
    /// for, or `None` when the policy gives up.
    pub(crate) fn delay(&self, attempt: u32, server_wait: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_retries {
            return None;
        }
        if let Some(wait) = server_wait {
            return (wait <= self.max_wait).then_some(wait);
        }
        let doubled = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX));
        let ceiling = doubled.min(self.max_backoff);
        // Jitter spreads clients that failed together, so their retries do not arrive together
        // too: wait a random time between half the backoff and all of it.
        let half = ceiling / 2;
        Some(half + half.mul_f64(jitter()))
    }
}

/// A number in `[0, 1)` that differs between calls. Not cryptographic: spreading retries out
/// needs no more than the clock's low bits, mixed.
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = u64::from(nanos) ^ 0x9E37_79B9_7F4A_7C15;
    // splitmix64's finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    // The top 53 bits fill an f64's mantissa exactly.
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether a response with this status may succeed when tried again.
pub(crate) fn status_is_transient(status: u16) -> bool {
    status == 429
        || status == 408
        || ((500..=599).contains(&status) && status != 501 && status != 505)
}

/// Reads a `retry-after` value: whole seconds, or an HTTP date (RFC 9110 IMF-fixdate).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Parses `Sun, 06 Nov 1994 08:49:37 GMT`, the only date form servers may send today.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let (_weekday, rest) = text.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    // IMF-fixdate years have four digits; anything else is not a date (and a huge year would
    // overflow the arithmetic below).
    if !(1..=9999).contains(&year) {
        return None;
    }
    let mut clock = parts.next()?.split(':');
    let hour: u64 = clock.next()?.parse().ok()?;
    let minute: u64 = clock.next()?.parse().ok()?;
    let second: u64 = clock.next()?.parse().ok()?;
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = u64::try_from(days).ok()? * 86_400 + hour * 3_600 + minute * 60 + second;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(at, UNIX_EPOCH + Duration::from_secs(784_111_777));
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(UNIX_EPOCH)
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn backoff_doubles_within_bounds_and_stops() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(300));
        let first = policy.delay(0, None).unwrap();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let third = policy.delay(2, None).unwrap();
        assert!(third >= Duration::from_millis(150) && third <= Duration::from_millis(300));
        assert_eq!(policy.delay(3, None), None);
    }

    #[test]
    fn server_waits_are_honoured_up_to_max_wait() {
        let policy = RetryPolicy::default().max_wait(Duration::from_secs(5));
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(policy.delay(0, Some(Duration::from_secs(6))), None);
    }

    #[test]
    fn transient_statuses() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(status_is_transient(status), "{status}");
        }
        for status in [200, 400, 401, 404, 413, 501, 505] {
            assert!(!status_is_transient(status), "{status}");
        }
    }
    #[test]
    fn absurd_dates_and_numbers_are_refused_not_panicked_on() {
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 99999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov -4 08:49:37 GMT"), None);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").map(|d| d > Duration::ZERO),
            Some(true)
        );
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    proptest::proptest! {
        /// Whatever a server sends as `retry-after`, reading it returns (and never panics).
        #[test]
        fn retry_after_never_panics(text in "\\PC{0,48}") {
            let _ = parse_retry_after(&text);
        }

        #[test]
        fn http_dates_with_any_numbers_never_panic(
            day: u32, year: i64, hour: u64, minute: u64, second: u64,
        ) {
            let text = format!("Sun, {day:02} Nov {year} {hour:02}:{minute:02}:{second:02} GMT");
            let _ = parse_retry_after(&text);
        }
    }
}
