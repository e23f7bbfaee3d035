//! Timestamp identifiers (TIDs): sortable 13-character record keys and revisions.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::syntax::{Datetime, SyntaxError, SyntaxKind};

/// Length of every TID.
const LEN: usize = 13;

/// The base32-sortable alphabet: digits `2`–`7`, then `a`–`z`, in ASCII order, so the
/// string order of TIDs equals their numeric order.
const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// Marks bytes that are not in [`ALPHABET`] in [`DECODE`].
const INVALID: u8 = 0xff;

/// Byte to 5-bit value lookup (`INVALID` for bytes outside the alphabet).
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Largest timestamp: 53 bits of microseconds (about the year 2255).
const MAX_TIMESTAMP: u64 = (1 << 53) - 1;

/// Largest clock identifier: 10 bits.
const MAX_CLOCK_ID: u16 = (1 << 10) - 1;

/// A timestamp identifier, as the [TID spec](https://atproto.com/specs/tid) defines it.
///
/// A TID is a 64-bit integer, written as 13 characters of the base32-sortable alphabet
/// `234567abcdefghijklmnopqrstuvwxyz`: the top bit is 0, the next 53 bits are
/// microseconds since the UNIX epoch and the low 10 bits are a random "clock
/// identifier". The first character is one of `234567abcdefghij`, which keeps the
/// 65th (padding) bit of the encoding at zero; this is the spec's syntax rule.
///
/// The TID is stored inline as its 13 ASCII bytes, so it is `Copy` and string order,
/// byte order and numeric order all agree.
///
/// ```
/// use atdata_core::syntax::Tid;
///
/// let tid: Tid = "3jzfcijpj2z2a".parse()?;
/// assert_eq!(tid.as_str(), "3jzfcijpj2z2a");
/// let same = Tid::from_parts(tid.timestamp_micros(), tid.clock_id())?;
/// assert_eq!(same, tid);
///
/// let a = Tid::now();
/// let b = Tid::now();
/// assert!(b > a);
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tid([u8; LEN]);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::Tid, reason)
}

/// Checks TID syntax without allocating; returns the bytes on success.
fn validate(s: &str) -> Result<[u8; LEN], SyntaxError> {
    let Ok(bytes) = <[u8; LEN]>::try_from(s.as_bytes()) else {
        return Err(err("must be exactly 13 characters"));
    };
    if DECODE[bytes[0] as usize] >= 16 {
        return Err(err("first character must be one of 234567abcdefghij"));
    }
    if bytes.iter().any(|&c| DECODE[c as usize] == INVALID) {
        return Err(err(
            "disallowed character (base32-sortable: 234567abcdefghijklmnopqrstuvwxyz)",
        ));
    }
    Ok(bytes)
}

/// Last timestamp handed out by [`Tid::now`] in this process.
static LAST_TIMESTAMP: AtomicU64 = AtomicU64::new(0);

/// This process's clock identifier, chosen at random on first use.
static CLOCK_ID: OnceLock<u16> = OnceLock::new();

fn process_clock_id() -> u16 {
    *CLOCK_ID.get_or_init(|| {
        // std's RandomState is seeded from the OS random source; hashing the time and
        // process id on top keeps two processes apart even with the same seed.
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        if let Ok(d) = SystemTime::now().duration_since(UNIX_EPOCH) {
            h.write_u128(d.as_nanos());
        }
        (h.finish() & u64::from(MAX_CLOCK_ID)) as u16
    })
}

fn system_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl Tid {
    /// Parses and validates a TID.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        validate(s).map(Tid)
    }

    /// A new TID for the current time, unique and increasing within this process.
    ///
    /// The timestamp is the system clock in microseconds, bumped to one more than the
    /// previous call's timestamp when the clock has not moved on (or went backwards),
    /// through a global atomic, so calls from any number of threads never return the
    /// same TID and each call returns a larger TID than every call that finished
    /// before it. The clock identifier is random and fixed for the process.
    pub fn now() -> Self {
        let wall = system_micros().min(MAX_TIMESTAMP);
        let mut prev = LAST_TIMESTAMP.load(Ordering::Relaxed);
        let timestamp = loop {
            // The 53-bit timestamp space lasts until about 2255; wrap rather than
            // panic if a clock is set absurdly far ahead.
            let next = wall.max(prev.wrapping_add(1)) & MAX_TIMESTAMP;
            match LAST_TIMESTAMP.compare_exchange_weak(
                prev,
                next,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break next,
                Err(actual) => prev = actual,
            }
        };
        Self::encode((timestamp << 10) | u64::from(process_clock_id()))
    }

    /// A TID from its parts: `timestamp_micros` since the UNIX epoch (at most 2^53 - 1)
    /// and a 10-bit `clock_id` (at most 1023).
    pub fn from_parts(timestamp_micros: u64, clock_id: u16) -> Result<Self, SyntaxError> {
        if timestamp_micros > MAX_TIMESTAMP {
            return Err(err("timestamp does not fit in 53 bits"));
        }
        if clock_id > MAX_CLOCK_ID {
            return Err(err("clock id does not fit in 10 bits"));
        }
        Ok(Self::encode((timestamp_micros << 10) | u64::from(clock_id)))
    }

    /// A TID from its 64-bit integer form. The top bit must be 0.
    pub fn from_u64(value: u64) -> Result<Self, SyntaxError> {
        if value >> 63 != 0 {
            return Err(err("top bit must be 0"));
        }
        Ok(Self::encode(value))
    }

    fn encode(value: u64) -> Self {
        let mut out = [0u8; LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 5 * (LEN - 1 - i);
            *slot = ALPHABET[((value >> shift) & 31) as usize];
        }
        Tid(out)
    }

    /// The 64-bit integer form.
    ///
    /// TIDs whose first character is `c` to `j` pass the spec's syntax rule but have
    /// the top bit set; it is returned as is here.
    pub fn to_u64(&self) -> u64 {
        self.0.iter().fold(0u64, |acc, &c| {
            (acc << 5) | u64::from(DECODE[c as usize] & 31)
        })
    }

    /// Microseconds since the UNIX epoch (the 53 timestamp bits).
    pub fn timestamp_micros(&self) -> u64 {
        (self.to_u64() >> 10) & MAX_TIMESTAMP
    }

    /// The 10-bit clock identifier.
    pub fn clock_id(&self) -> u16 {
        (self.to_u64() & u64::from(MAX_CLOCK_ID)) as u16
    }

    /// The timestamp as a [`Datetime`] (UTC, microsecond precision).
    pub fn timestamp(&self) -> Datetime {
        // 53 bits of microseconds always fit in i64 and stay within year 9999.
        Datetime::from_unix_micros_clamped(self.timestamp_micros() as i64)
    }

    /// The 13-character text.
    pub fn as_str(&self) -> &str {
        // Always ASCII (validated or encoded from the alphabet), so this never fails.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for Tid {
    type Err = SyntaxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Tid {
    type Error = SyntaxError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for Tid {
    type Error = SyntaxError;
    /// A TID is stored inline, so the `String` is only read.
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl fmt::Display for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Tid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tid").field(&self.as_str()).finish()
    }
}

impl Hash for Tid {
    /// Hashes like the `str`, to agree with `Borrow<str>`.
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl AsRef<str> for Tid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Tid {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Tid {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Tid {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<Tid> for String {
    fn from(t: Tid) -> String {
        t.as_str().to_owned()
    }
}

impl serde::Serialize for Tid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Tid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Tid;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a TID")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Tid, E> {
                Tid::new(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_examples() {
        for s in [
            "3jzfcijpj2z2a",
            "7777777777777",
            "3zzzzzzzzzzzz",
            "2222222222222",
            "jzzzzzzzzzzzz",
        ] {
            assert_eq!(Tid::new(s).unwrap().as_str(), s);
        }
        for (s, why) in [
            ("3jzfcijpj2z2", "must be exactly 13 characters"),
            ("3jzfcijpj2z2aa", "must be exactly 13 characters"),
            (
                "kjzfcijpj2z2a",
                "first character must be one of 234567abcdefghij",
            ),
            (
                "3jzfcijpj2z21",
                "disallowed character (base32-sortable: 234567abcdefghijklmnopqrstuvwxyz)",
            ),
            (
                "3JZFCIJPJ2Z2A",
                "disallowed character (base32-sortable: 234567abcdefghijklmnopqrstuvwxyz)",
            ),
            (
                "3jzfcijpj2z\u{e9}",
                "disallowed character (base32-sortable: 234567abcdefghijklmnopqrstuvwxyz)",
            ),
            ("3jzfcijpj2z2\u{e9}", "must be exactly 13 characters"),
        ] {
            assert_eq!(Tid::new(s).unwrap_err().reason(), why, "{s:?}");
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(Tid::new("2222222222222").unwrap().to_u64(), 0);
        let max = Tid::new("bzzzzzzzzzzzz").unwrap();
        assert_eq!(max.to_u64(), i64::MAX as u64);
        assert_eq!(Tid::from_u64(i64::MAX as u64).unwrap(), max);
        assert!(Tid::from_u64(1 << 63).is_err());
        let t = Tid::from_parts(1, 2).unwrap();
        assert_eq!(t.to_u64(), (1 << 10) | 2);
        assert_eq!(t.as_str(), "2222222222324");
        assert!(Tid::from_parts(MAX_TIMESTAMP + 1, 0).is_err());
        assert!(Tid::from_parts(0, 1024).is_err());
        // The top-bit TID that syntax allows still gives bounded parts.
        let high = Tid::new("jzzzzzzzzzzzz").unwrap();
        assert_eq!(high.timestamp_micros(), MAX_TIMESTAMP);
        assert_eq!(high.clock_id(), 1023);
    }

    #[test]
    fn timestamp_datetime() {
        // 1985-04-12T23:20:50.123456Z
        let micros = 482_196_050_123_456u64;
        let t = Tid::from_parts(micros, 7).unwrap();
        assert_eq!(t.timestamp().as_str(), "1985-04-12T23:20:50.123456Z");
        assert_eq!(t.timestamp().timestamp_micros(), micros as i64);
    }

    #[test]
    fn traits() {
        let t = Tid::new("3jzfcijpj2z2a").unwrap();
        assert_eq!(format!("{t:?}"), "Tid(\"3jzfcijpj2z2a\")");
        assert_eq!(t.to_string(), "3jzfcijpj2z2a");
        assert_eq!(t, "3jzfcijpj2z2a");
        let mut set = std::collections::HashSet::new();
        set.insert(t);
        assert!(set.contains("3jzfcijpj2z2a"));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Tid>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Tid>("\"3jzfcijpj2z2\"").is_err());
        assert_eq!(Tid::try_from(String::from("3jzfcijpj2z2a")).unwrap(), t);
    }

    #[test]
    fn now_is_strictly_increasing() {
        let mut prev = Tid::now();
        for _ in 0..100_000 {
            let next = Tid::now();
            assert!(next > prev, "{next} <= {prev}");
            assert!(next.as_str() > prev.as_str());
            prev = next;
        }
        assert_eq!(prev.clock_id(), Tid::now().clock_id());
    }

    #[test]
    fn now_is_unique_across_threads() {
        let threads: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut v = Vec::with_capacity(20_000);
                    for _ in 0..20_000 {
                        v.push(Tid::now());
                    }
                    v
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            let v = t.join().unwrap();
            assert!(v.windows(2).all(|w| w[0] < w[1]), "per-thread order");
            all.extend(v);
        }
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "duplicate TIDs across threads");
        // A TID made after all threads finished is larger than all of theirs.
        assert!(all.iter().all(|t| *t < Tid::now()));
    }

    #[test]
    fn now_is_close_to_wall_clock() {
        let before = system_micros();
        let t = Tid::now();
        // Other tests may have pushed the counter ahead of the clock, but only slightly.
        assert!(t.timestamp_micros() >= before);
        assert!(t.timestamp_micros() < before + 60_000_000);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = Tid::new(&s);
        }

        #[test]
        fn parts_roundtrip(ts in 0u64..=MAX_TIMESTAMP, clock in 0u16..=MAX_CLOCK_ID) {
            let t = Tid::from_parts(ts, clock).unwrap();
            prop_assert_eq!(t.timestamp_micros(), ts);
            prop_assert_eq!(t.clock_id(), clock);
            let again: Tid = t.to_string().parse().unwrap();
            prop_assert_eq!(again, t);
            prop_assert_eq!(Tid::from_u64(t.to_u64()).unwrap(), t);
        }

        #[test]
        fn string_order_is_numeric_order(a in 0u64..(1 << 63), b in 0u64..(1 << 63)) {
            let (ta, tb) = (Tid::from_u64(a).unwrap(), Tid::from_u64(b).unwrap());
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
            prop_assert_eq!(ta.as_str().cmp(tb.as_str()), a.cmp(&b));
        }

        #[test]
        fn display_roundtrip(s in "[234567a-j][234567a-z]{12}") {
            let t = Tid::new(&s).unwrap();
            let again: Tid = t.to_string().parse().unwrap();
            prop_assert_eq!(again, t);
            prop_assert_eq!(again.as_str(), s.as_str());
        }
    }
}
