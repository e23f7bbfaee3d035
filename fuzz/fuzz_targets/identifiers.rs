//! Feeds arbitrary input to every identifier parser in `atdata_core::syntax`.
//!
//! Besides "never panics", it checks the invariants a parsed value promises: its text
//! is the input unchanged, it re-parses to an equal value, and component accessors
//! agree with the whole.

#![no_main]

use std::str::FromStr;

use atdata_core::syntax::{
    check_cid_syntax, check_uri_syntax, AtIdentifier, AtUri, Datetime, Did, Handle, Language, Nsid,
    RecordKey, SyntaxError, Tid,
};
use libfuzzer_sys::fuzz_target;

/// Parses `s` as `T`; if it is valid, checks that Display gives back the input and
/// that the result re-parses (from both `&str` and `String`) to an equal value.
fn roundtrip<T>(s: &str) -> Option<T>
where
    T: FromStr<Err = SyntaxError> + TryFrom<String, Error = SyntaxError> + ToString + PartialEq,
{
    let value = T::from_str(s).ok()?;
    let text = value.to_string();
    assert_eq!(text, s, "Display must give back the parsed text");
    assert!(
        T::from_str(&text).ok() == Some(T::from_str(s).ok()?),
        "re-parse differs"
    );
    assert!(
        T::try_from(text).ok().is_some_and(|v| v == value),
        "TryFrom<String> differs"
    );
    Some(value)
}

fn check_str(s: &str) {
    if let Some(did) = roundtrip::<Did>(s) {
        assert_eq!(format!("did:{}:{}", did.method(), did.identifier()), s);
    }
    if let Some(handle) = roundtrip::<Handle>(s) {
        assert!(Handle::from_str(handle.normalize().as_str()).is_ok());
    }
    if let Some(nsid) = roundtrip::<Nsid>(s) {
        assert_eq!(format!("{}.{}", nsid.authority(), nsid.name()), s);
        assert!(Nsid::from_str(nsid.normalize().as_str()).is_ok());
    }
    if let Some(id) = roundtrip::<AtIdentifier>(s) {
        assert_eq!(id.is_did(), Did::from_str(s).is_ok());
        assert_eq!(id.is_handle(), Handle::from_str(s).is_ok());
    }
    if let Some(uri) = roundtrip::<AtUri>(s) {
        let rebuilt = AtUri::from_parts(
            uri.authority().clone(),
            uri.collection().cloned(),
            uri.rkey().cloned(),
        );
        assert!(rebuilt.is_ok_and(|r| r == uri), "from_parts differs");
    }
    if let Some(rkey) = roundtrip::<RecordKey>(s) {
        let _ = rkey.to_tid();
    }
    if let Some(tid) = roundtrip::<Tid>(s) {
        if tid.to_u64() >> 63 == 0 {
            assert!(Tid::from_parts(tid.timestamp_micros(), tid.clock_id()) == Ok(tid));
        }
        let _ = tid.timestamp();
    }
    if let Some(dt) = roundtrip::<Datetime>(s) {
        assert!(Datetime::check_syntax(s).is_ok());
        let _ = dt.to_system_time();
        let _ = Datetime::from_unix_micros(dt.timestamp_micros());
    }
    if let Some(lang) = roundtrip::<Language>(s) {
        assert!(Language::check_syntax(s).is_ok());
        assert!(s.starts_with(lang.primary()));
    }
    let _ = Datetime::check_syntax(s);
    let _ = Language::check_syntax(s);
    let _ = check_cid_syntax(s);
    let _ = check_uri_syntax(s);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        check_str(s);
    }
    // Integer-level TID constructors accept any input without panicking.
    if let Ok(bytes) = <[u8; 8]>::try_from(data.get(..8).unwrap_or_default()) {
        let value = u64::from_le_bytes(bytes);
        let _ = Tid::from_u64(value);
        let _ = Tid::from_parts(value >> 11, (value & 0x7ff) as u16);
        let _ = Datetime::from_unix_micros(value as i64);
    }
});
