//! String formats, checked by atdata-core's identifier parsers.
//!
//! `datetime` and `language` use the strict parsers (a real calendar instant, no duplicated
//! subtags), as the lexicon spec asks of validators; `cid` and `uri` are syntax checks, which
//! is all the spec defines for them.

use atdata_core::syntax::{check, SyntaxKind};
use atdata_core::SyntaxError;

use crate::schema::StringFormat;

/// Checks `s` against `format`, through core's one syntax door ([`check`]): the same tested
/// parsers as the identifier types and `atdata syntax check`, without allocating.
pub(crate) fn check_format(format: StringFormat, s: &str) -> Result<(), SyntaxError> {
    let kind = match format {
        StringFormat::AtIdentifier => SyntaxKind::AtIdentifier,
        StringFormat::AtUri => SyntaxKind::AtUri,
        StringFormat::Cid => SyntaxKind::Cid,
        StringFormat::Datetime => SyntaxKind::Datetime,
        StringFormat::Did => SyntaxKind::Did,
        StringFormat::Handle => SyntaxKind::Handle,
        StringFormat::Language => SyntaxKind::Language,
        StringFormat::Nsid => SyntaxKind::Nsid,
        StringFormat::RecordKey => SyntaxKind::RecordKey,
        StringFormat::Tid => SyntaxKind::Tid,
        StringFormat::Uri => SyntaxKind::Uri,
    };
    check(kind, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_accepts_and_refuses() {
        let cases = [
            (StringFormat::AtIdentifier, "alice.example.com", "123"),
            (
                StringFormat::AtUri,
                "at://did:plc:abc/app.bsky.feed.post/1",
                "123",
            ),
            (
                StringFormat::Cid,
                "bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq",
                "123",
            ),
            (
                StringFormat::Datetime,
                "2023-10-30T22:25:23Z",
                "2023-02-30T00:00:00Z",
            ),
            (StringFormat::Did, "did:web:example.com", "123"),
            (StringFormat::Handle, "alice.example.com", "123"),
            (StringFormat::Language, "en-GB", "123"),
            (StringFormat::Nsid, "com.example.nsid", "123"),
            (StringFormat::RecordKey, "simple", "."),
            (StringFormat::Tid, "3kznmn7xqxl22", "000"),
            (StringFormat::Uri, "https://example.com/x", "123"),
        ];
        for (format, good, bad) in cases {
            assert!(check_format(format, good).is_ok(), "{format:?} {good}");
            assert!(check_format(format, bad).is_err(), "{format:?} {bad}");
        }
    }
}
