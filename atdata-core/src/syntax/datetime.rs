//! Lexicon `datetime` strings: a strict intersection of RFC 3339 and ISO 8601.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::syntax::{SharedStr, SyntaxError, SyntaxKind};

/// Our hard length limit. The spec sets none; with at most [`MAX_FRACTION_DIGITS`] the longest
/// valid datetime has 46 bytes, so this only bounds work on hostile input.
const MAX_LEN: usize = 64;

/// Most fraction-of-second digits accepted, as in the reference implementations' syntax.
const MAX_FRACTION_DIGITS: usize = 20;

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// 0000-01-01T00:00:00Z: nothing may normalize to an earlier instant.
const MIN_MICROS: i64 = days_from_civil(0, 1, 1) * MICROS_PER_DAY;

/// 9999-12-31T23:59:59.999999Z: the last instant with a 4-digit year, the limit for
/// values we format ourselves.
const MAX_FORMAT_MICROS: i64 = days_from_civil(10000, 1, 1) * MICROS_PER_DAY - 1;

/// A Lexicon `datetime`, as the [Lexicon spec](https://atproto.com/specs/lexicon#datetime)
/// defines it, parsed strictly.
///
/// Accepted form: `YYYY-MM-DDTHH:MM:SS`, an optional `.` with 1 to 20 fraction
/// digits, then `Z` or a `+HH:MM`/`-HH:MM` offset (`-00:00` is not allowed). The `T`
/// and `Z` must be uppercase. On top of the syntax, the value must be a real instant:
/// month 1–12, a day that exists in that month (leap years per the proleptic
/// Gregorian calendar), hour 0–23, minute and second 0–59 (no leap seconds), offset
/// hours 0–23, and after applying the offset the instant must not be before
/// `0000-01-01T00:00:00Z`.
///
/// The original text is kept, so `Display` and serde give back exactly what was
/// parsed; [`Datetime::timestamp_micros`] gives the instant (fraction digits past
/// microseconds are truncated). Equality and hashing use the text, ordering is by
/// instant (then text), so it is chronological.
///
/// ```
/// use atdata_core::syntax::Datetime;
///
/// let dt: Datetime = "1985-04-12T23:20:50.123Z".parse()?;
/// assert_eq!(dt.timestamp_micros(), 482_196_050_123_000);
/// assert_eq!(dt.to_string(), "1985-04-12T23:20:50.123Z");
/// let same_instant: Datetime = "1985-04-13T00:20:50.123+01:00".parse()?;
/// assert_eq!(same_instant.timestamp_micros(), dt.timestamp_micros());
/// assert!("1985-02-30T00:00:00Z".parse::<Datetime>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct Datetime {
    inner: SharedStr,
    micros: i64,
}

string_type!(Datetime, "a datetime");

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Datetime, reason)
}

/// The fields of a datetime that passed the syntax (shape) check.
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    frac_micros: u32,
    /// Offset east of UTC: sign, hours, minutes.
    offset: (i64, u32, u32),
}

/// `n` ASCII digits at `at` as a number.
#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let d = b.get(at..at.checked_add(n)?)?;
    d.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

#[inline]
fn byte_is(b: &[u8], at: usize, c: u8) -> bool {
    b.get(at) == Some(&c)
}

/// The syntax check: shape only, no calendar or range rules.
fn parse_fields(s: &str) -> Result<Fields, SyntaxError> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err(err("too long (max 64)"));
    }
    let year = digits(b, 0, 4).ok_or(err("year must be 4 digits"))?;
    if !byte_is(b, 4, b'-') {
        return Err(err("expected '-' after a 4-digit year"));
    }
    let month = digits(b, 5, 2).ok_or(err("month must be 2 digits"))?;
    if !byte_is(b, 7, b'-') {
        return Err(err("expected '-' after a 2-digit month"));
    }
    let day = digits(b, 8, 2).ok_or(err("day must be 2 digits"))?;
    if !byte_is(b, 10, b'T') {
        return Err(err("expected uppercase 'T' after a 2-digit day"));
    }
    let hour = digits(b, 11, 2).ok_or(err("hour must be 2 digits"))?;
    if !byte_is(b, 13, b':') {
        return Err(err("expected ':' after a 2-digit hour"));
    }
    let minute = digits(b, 14, 2).ok_or(err("minute must be 2 digits"))?;
    if !byte_is(b, 16, b':') {
        return Err(err(
            "expected ':' after a 2-digit minute (seconds are required)",
        ));
    }
    let second = digits(b, 17, 2).ok_or(err("second must be 2 digits"))?;

    let mut pos = 19;
    let mut frac_micros = 0u32;
    if byte_is(b, pos, b'.') {
        pos += 1;
        let frac = b.get(pos..).unwrap_or_default();
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(err("fraction needs at least one digit"));
        }
        // The reference implementations' syntax caps the fraction at 20 digits; a longer one
        // would be accepted here and refused by every other implementation.
        if n > MAX_FRACTION_DIGITS {
            return Err(err("fraction has more than 20 digits"));
        }
        // Keep microseconds: the first six digits, right-padded with zeros.
        for i in 0..6 {
            let d = frac
                .get(i)
                .filter(|_| i < n)
                .map_or(0, |&c| u32::from(c - b'0'));
            frac_micros = frac_micros * 10 + d;
        }
        pos += n;
    }

    let offset = match b.get(pos..).unwrap_or_default() {
        b"Z" => (1, 0, 0),
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 => {
            let (Some(h), true, Some(m)) =
                (digits(rest, 0, 2), rest[2] == b':', digits(rest, 3, 2))
            else {
                return Err(err("offset must be +HH:MM or -HH:MM"));
            };
            if *sign == b'-' && h == 0 && m == 0 {
                return Err(err("offset -00:00 is not allowed (use Z or +00:00)"));
            }
            (if *sign == b'-' { -1 } else { 1 }, h, m)
        }
        [] => return Err(err("missing timezone (Z or +HH:MM)")),
        b"z" => return Err(err("timezone 'Z' must be uppercase")),
        _ => return Err(err("timezone must be Z or +HH:MM or -HH:MM")),
    };

    Ok(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
        frac_micros,
        offset,
    })
}

const fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (valid for all years here).
/// The usual era/day-of-era method: shift the year to start in March so the leap
/// day is last, then count whole 400-year eras.
const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// The semantic check: ranges, calendar and the year-0 floor. Returns the instant.
fn to_micros(f: &Fields) -> Result<i64, SyntaxError> {
    let year = i64::from(f.year);
    if !(1..=12).contains(&f.month) {
        return Err(err("month out of range"));
    }
    if f.day == 0 || f.day > days_in_month(year, f.month) {
        return Err(err("day out of range for the month"));
    }
    if f.hour > 23 {
        return Err(err("hour out of range"));
    }
    if f.minute > 59 {
        return Err(err("minute out of range"));
    }
    if f.second > 59 {
        return Err(err("second out of range"));
    }
    let (sign, off_h, off_m) = f.offset;
    if off_h > 23 || off_m > 59 {
        return Err(err("timezone offset out of range"));
    }
    let local_secs = days_from_civil(year, f.month, f.day) * 86_400
        + i64::from(f.hour) * 3600
        + i64::from(f.minute) * 60
        + i64::from(f.second);
    let offset_secs = sign * (i64::from(off_h) * 3600 + i64::from(off_m) * 60);
    let micros = (local_secs - offset_secs) * MICROS_PER_SEC + i64::from(f.frac_micros);
    if micros < MIN_MICROS {
        return Err(err("before year 0000 once normalized to UTC"));
    }
    Ok(micros)
}

fn push_padded(out: &mut String, value: i64, width: u32) {
    let mut div = 10i64.pow(width.saturating_sub(1));
    while div > 0 {
        let digit = (value / div).rem_euclid(10) as u8;
        out.push(char::from(b'0' + digit));
        div /= 10;
    }
}

/// Formats an instant (already clamped to the 4-digit-year range) as
/// `YYYY-MM-DDTHH:MM:SS.fffZ` (`frac_digits` = 3) or `.ffffffZ` (6).
fn format_utc(micros: i64, frac_digits: u32) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let in_day = micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = in_day / MICROS_PER_SEC;
    let frac = in_day % MICROS_PER_SEC;
    let mut out = String::with_capacity(27);
    push_padded(&mut out, year, 4);
    out.push('-');
    push_padded(&mut out, i64::from(month), 2);
    out.push('-');
    push_padded(&mut out, i64::from(day), 2);
    out.push('T');
    push_padded(&mut out, secs / 3600, 2);
    out.push(':');
    push_padded(&mut out, secs / 60 % 60, 2);
    out.push(':');
    push_padded(&mut out, secs % 60, 2);
    out.push('.');
    push_padded(
        &mut out,
        frac / 10i64.pow(6 - frac_digits.min(6)),
        frac_digits.min(6),
    );
    out.push('Z');
    out
}

impl Datetime {
    fn parse_meta(s: &str) -> Result<i64, SyntaxError> {
        to_micros(&parse_fields(s)?)
    }

    fn assemble(inner: SharedStr, micros: i64) -> Self {
        Self { inner, micros }
    }

    /// Checks only the syntax (shape) of a datetime string, not whether it is a real
    /// instant: `1985-00-12T23:20:50Z` passes this and fails [`Datetime::new`]. Use it
    /// where a lenient check is wanted; the parsers are always strict.
    pub fn check_syntax(s: &str) -> Result<(), SyntaxError> {
        parse_fields(s).map(|_| ())
    }

    /// The current time, in the spec's preferred form with millisecond precision
    /// (`2024-05-01T12:34:56.789Z`).
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
        };
        let micros = micros.clamp(MIN_MICROS, MAX_FORMAT_MICROS);
        let millis_floor = micros - micros.rem_euclid(1000);
        Self::from_formatted(format_utc(millis_floor, 3), millis_floor)
    }

    /// The datetime for `micros` microseconds since the UNIX epoch, in UTC with
    /// microsecond precision (`1985-04-12T23:20:50.123456Z`). Fails outside years
    /// 0000–9999.
    pub fn from_unix_micros(micros: i64) -> Result<Self, SyntaxError> {
        if !(MIN_MICROS..=MAX_FORMAT_MICROS).contains(&micros) {
            return Err(err("outside years 0000-9999"));
        }
        Ok(Self::from_formatted(format_utc(micros, 6), micros))
    }

    /// Like [`Datetime::from_unix_micros`], clamping into the representable range.
    pub(crate) fn from_unix_micros_clamped(micros: i64) -> Self {
        let micros = micros.clamp(MIN_MICROS, MAX_FORMAT_MICROS);
        Self::from_formatted(format_utc(micros, 6), micros)
    }

    fn from_formatted(text: String, micros: i64) -> Self {
        debug_assert_eq!(Self::parse_meta(&text).ok(), Some(micros));
        Self {
            inner: SharedStr::from_string(text),
            micros,
        }
    }

    /// Microseconds since the UNIX epoch (negative before 1970), with the offset
    /// applied; fraction digits past the sixth are truncated.
    pub fn timestamp_micros(&self) -> i64 {
        self.micros
    }

    /// The instant as a [`SystemTime`] (saturating at the platform's limits).
    pub fn to_system_time(&self) -> SystemTime {
        let magnitude = Duration::from_micros(self.micros.unsigned_abs());
        let t = if self.micros >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        };
        t.unwrap_or(UNIX_EPOCH)
    }
}

impl PartialEq for Datetime {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Datetime {}

impl Hash for Datetime {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl PartialOrd for Datetime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Datetime {
    /// Chronological, then by text so that different spellings of one instant have a
    /// stable order (and `Ord` agrees with `Eq`).
    fn cmp(&self, other: &Self) -> Ordering {
        self.micros
            .cmp(&other.micros)
            .then_with(|| self.as_str().cmp(other.as_str()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn calendar_helpers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
        for days in [-719_528, -1, 0, 1, 11_016, 11_017, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert!(is_leap(0) && is_leap(2000) && !is_leap(1900) && is_leap(2024));
    }

    #[test]
    fn accepts_examples() {
        for (s, micros) in [
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T00:00:00.000001Z", 1),
            ("1969-12-31T23:59:59.999999Z", -1),
            ("1985-04-12T23:20:50.123Z", 482_196_050_123_000),
            ("1985-04-12T23:20:50.1235678912345Z", 482_196_050_123_567),
            ("1985-04-12T23:20:50.123-07:00", 482_221_250_123_000),
            ("2000-02-29T00:00:00+00:00", 951_782_400_000_000),
            ("0000-01-01T00:00:00.000Z", MIN_MICROS),
            ("0000-01-01T00:30:00+00:30", MIN_MICROS),
            (
                "9999-12-31T23:59:59-01:00",
                MAX_FORMAT_MICROS + 3_599_000_001,
            ),
        ] {
            let dt = Datetime::new(s).unwrap();
            assert_eq!(dt.timestamp_micros(), micros, "{s}");
            assert_eq!(dt.as_str(), s);
        }
    }

    #[test]
    fn rejects_examples() {
        for (s, why) in [
            ("1985-04-12T23:20:50.123z", "timezone 'Z' must be uppercase"),
            (
                "1985-04-12t23:20:50.123Z",
                "expected uppercase 'T' after a 2-digit day",
            ),
            ("1985-04-12T23:20:50.123", "missing timezone (Z or +HH:MM)"),
            (
                "1985-04-12T23:20:50.123-00:00",
                "offset -00:00 is not allowed (use Z or +00:00)",
            ),
            (
                "1985-04-12T23:20:50.123+0000",
                "timezone must be Z or +HH:MM or -HH:MM",
            ),
            (
                "1985-04-12T23:20:50.123+00-00",
                "offset must be +HH:MM or -HH:MM",
            ),
            ("1985-04-12T23:20:50.Z", "fraction needs at least one digit"),
            (
                "1985-04-12T23:20Z",
                "expected ':' after a 2-digit minute (seconds are required)",
            ),
            ("01985-04-12T23:20:50Z", "expected '-' after a 4-digit year"),
            ("1985-02-29T00:00:00Z", "day out of range for the month"),
            ("1900-02-29T00:00:00Z", "day out of range for the month"),
            ("1985-02-30T00:00:00Z", "day out of range for the month"),
            ("1985-04-31T00:00:00Z", "day out of range for the month"),
            ("1985-00-12T23:20:50.123Z", "month out of range"),
            ("1985-04-12T24:00:00Z", "hour out of range"),
            ("1985-04-12T23:60:00Z", "minute out of range"),
            ("1985-04-12T23:59:60Z", "second out of range"),
            ("1985-04-12T23:59:00+24:00", "timezone offset out of range"),
            ("1985-04-12T23:59:00+05:60", "timezone offset out of range"),
            (
                "0000-01-01T00:00:00+01:00",
                "before year 0000 once normalized to UTC",
            ),
        ] {
            assert_eq!(Datetime::new(s).unwrap_err().reason(), why, "{s}");
        }
        let long = format!("1985-04-12T23:20:50.{}Z", "1".repeat(50));
        assert_eq!(
            Datetime::new(&long).unwrap_err().reason(),
            "too long (max 64)"
        );
    }

    #[test]
    fn fraction_has_at_most_20_digits() {
        // The reference syntax allows 1 to 20 fraction digits.
        let twenty = format!("1985-04-12T23:20:50.{}Z", "1".repeat(20));
        assert_eq!(
            Datetime::new(&twenty).map(|d| d.timestamp_micros() % 1_000_000),
            Ok(111_111)
        );
        for offset in ["Z", "+01:00"] {
            let long = format!("1985-04-12T23:20:50.{}{offset}", "1".repeat(21));
            assert_eq!(
                Datetime::new(&long).unwrap_err().reason(),
                "fraction has more than 20 digits",
                "{long}"
            );
            assert!(Datetime::check_syntax(&long).is_err());
        }
    }

    #[test]
    fn syntax_only_check() {
        assert!(Datetime::check_syntax("1985-13-12T23:20:50.123Z").is_ok());
        assert!(Datetime::check_syntax("0000-01-01T00:00:00+01:00").is_ok());
        assert!(Datetime::check_syntax("1985-04-12T23:20:50.123").is_err());
    }

    #[test]
    fn formatting() {
        let dt = Datetime::from_unix_micros(482_196_050_123_456).unwrap();
        assert_eq!(dt.as_str(), "1985-04-12T23:20:50.123456Z");
        assert_eq!(
            Datetime::from_unix_micros(MIN_MICROS).unwrap().as_str(),
            "0000-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            Datetime::from_unix_micros(MAX_FORMAT_MICROS)
                .unwrap()
                .as_str(),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            Datetime::from_unix_micros(-1).unwrap().as_str(),
            "1969-12-31T23:59:59.999999Z"
        );
        assert!(Datetime::from_unix_micros(MIN_MICROS - 1).is_err());
        assert!(Datetime::from_unix_micros(MAX_FORMAT_MICROS + 1).is_err());
    }

    #[test]
    fn now_and_system_time() {
        let before = SystemTime::now();
        let now = Datetime::now();
        let after = SystemTime::now();
        assert_eq!(now.as_str().len(), 24, "{now}");
        assert!(now.as_str().ends_with('Z'));
        let t = now.to_system_time();
        assert!(t <= after);
        assert!(t + Duration::from_millis(1) >= before);
        let reparsed: Datetime = now.to_string().parse().unwrap();
        assert_eq!(reparsed, now);
        assert_eq!(
            Datetime::new("1969-12-31T23:59:59Z")
                .unwrap()
                .to_system_time(),
            UNIX_EPOCH - Duration::from_secs(1)
        );
    }

    #[test]
    fn ordering_and_traits() {
        let a = Datetime::new("1985-04-12T23:20:50Z").unwrap();
        let b = Datetime::new("1985-04-12T22:20:51-01:00").unwrap();
        let c = Datetime::new("1985-04-12T23:20:51Z").unwrap();
        assert!(a < b && b < c);
        assert_ne!(b, c);
        assert_eq!(b.timestamp_micros(), c.timestamp_micros());
        assert_eq!(format!("{a:?}"), "Datetime(\"1985-04-12T23:20:50Z\")");
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, "\"1985-04-12T22:20:51-01:00\"");
        assert_eq!(serde_json::from_str::<Datetime>(&json).unwrap(), b);
        assert!(serde_json::from_str::<Datetime>("\"1985-02-30T00:00:00Z\"").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = Datetime::new(&s);
            let _ = Datetime::check_syntax(&s);
        }

        #[test]
        fn near_valid_never_panics(
            s in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,8})?(Z|z|[+-][0-9]{2}:[0-9]{2})?",
        ) {
            let _ = Datetime::new(&s);
        }

        #[test]
        fn display_roundtrip(
            micros in MIN_MICROS..=MAX_FORMAT_MICROS,
            off_h in 0u32..24,
            off_m in 0u32..60,
            neg in any::<bool>(),
        ) {
            let utc = Datetime::from_unix_micros(micros).unwrap();
            let again: Datetime = utc.to_string().parse().unwrap();
            prop_assert_eq!(&again, &utc);
            prop_assert_eq!(again.timestamp_micros(), micros);

            // Rewrite the same instant with an offset: local time = UTC + offset.
            let sign = if neg { -1 } else { 1 };
            let offset = sign * (i64::from(off_h) * 3600 + i64::from(off_m) * 60) * MICROS_PER_SEC;
            let local = micros + offset;
            prop_assume!((MIN_MICROS..=MAX_FORMAT_MICROS).contains(&local));
            prop_assume!(!(neg && off_h == 0 && off_m == 0));
            let local_text = format_utc(local, 6);
            let text = format!(
                "{}{}{:02}:{:02}",
                local_text.trim_end_matches('Z'),
                if neg { '-' } else { '+' },
                off_h,
                off_m
            );
            let parsed = Datetime::new(&text);
            prop_assert!(parsed.is_ok(), "{}", text);
            let parsed = parsed.unwrap();
            prop_assert_eq!(parsed.timestamp_micros(), micros);
            prop_assert_eq!(parsed.to_string(), text);
        }
    }
}
