//! AT-URIs (`at://did:plc:…/app.bsky.feed.post/3jwdwj2ctlk26`).

use crate::syntax::at_identifier::{self, IdentifierKind};
use crate::syntax::{
    nsid, record_key, AtIdentifier, Nsid, RecordKey, SharedStr, SyntaxError, SyntaxKind,
};

/// Hard limit from the AT-URI spec (8 KiB, as for ordinary URLs).
const MAX_LEN: usize = 8192;

const PREFIX: &str = "at://";

/// An AT-URI in the restricted form that Lexicon `at-uri` fields use, as the
/// [AT-URI spec](https://atproto.com/specs/at-uri-scheme) defines it:
///
/// `at://` AUTHORITY [ `/` COLLECTION [ `/` RKEY ] ]
///
/// The authority is a [`Did`](crate::syntax::Did) or a [`Handle`](crate::syntax::Handle),
/// the collection an [`Nsid`] and the record key a [`RecordKey`]. At most 8192
/// characters; no trailing slash, no empty segments, no query and no fragment (the spec
/// reserves those for future use and the interop fixtures reject them), and the scheme
/// is lowercase `at`.
///
/// The components are checked by the same parsers as the standalone types and handed
/// out as those types. They share the URI's single allocation, so accessors are O(1)
/// and allocation-free.
///
/// ```
/// use atdata_core::syntax::{AtIdentifier, AtUri, Nsid, RecordKey};
///
/// let uri: AtUri = "at://did:plc:44ybard66vv44zksje25o7dz/app.bsky.feed.post/3jwdwj2ctlk26"
///     .parse()?;
/// assert!(uri.authority().is_did());
/// assert_eq!(uri.collection().map(Nsid::name), Some("post"));
/// assert_eq!(uri.rkey().map(RecordKey::as_str), Some("3jwdwj2ctlk26"));
///
/// let built = AtUri::from_parts(
///     uri.authority().clone(),
///     uri.collection().cloned(),
///     uri.rkey().cloned(),
/// )?;
/// assert_eq!(built, uri);
/// assert!("at://bsky.app/app.bsky.feed.post/".parse::<AtUri>().is_err());
/// # Ok::<(), atdata_core::syntax::SyntaxError>(())
/// ```
#[derive(Clone)]
pub struct AtUri {
    inner: SharedStr,
    authority: AtIdentifier,
    collection: Option<Nsid>,
    rkey: Option<RecordKey>,
}

string_type!(AtUri, "an AT-URI", ord_by_str);

const fn err(reason: &'static str) -> SyntaxError {
    SyntaxError::new(SyntaxKind::AtUri, reason)
}

/// Component boundaries found by validation (byte offsets into the whole URI).
#[derive(Clone, Copy)]
struct Meta {
    authority_end: usize,
    authority_kind: IdentifierKind,
    collection_end: Option<usize>,
    has_rkey: bool,
}

fn validate(s: &str) -> Result<Meta, SyntaxError> {
    if s.len() > MAX_LEN {
        return Err(err("too long (max 8192)"));
    }
    let Some(rest) = s.strip_prefix(PREFIX) else {
        return Err(err("must start with \"at://\""));
    };
    // Two byte searches (`memchr`, several bytes per step) rather than one loop testing each
    // byte twice: validators run this on every reference in every record.
    if rest.as_bytes().contains(&b'?') || rest.as_bytes().contains(&b'#') {
        return Err(err("query and fragment parts are not supported"));
    }

    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    if authority.is_empty() {
        return Err(err("empty authority"));
    }
    let authority_kind =
        at_identifier::validate(authority).map_err(|e| e.within(SyntaxKind::AtUri))?;
    let authority_end = PREFIX.len() + authority.len();
    let Some(path) = path else {
        return Ok(Meta {
            authority_end,
            authority_kind,
            collection_end: None,
            has_rkey: false,
        });
    };

    let (collection, rkey) = match path.split_once('/') {
        Some((c, r)) => (c, Some(r)),
        None => (path, None),
    };
    if collection.is_empty() {
        return Err(err("empty collection (trailing or double slash)"));
    }
    nsid::validate(collection).map_err(|e| e.within(SyntaxKind::AtUri))?;
    let collection_end = authority_end + 1 + collection.len();

    if let Some(rkey) = rkey {
        if rkey.is_empty() || rkey.ends_with('/') {
            return Err(err("trailing slash"));
        }
        if rkey.contains('/') {
            return Err(err(
                "too many path segments (max collection and record key)",
            ));
        }
        record_key::validate(rkey).map_err(|e| e.within(SyntaxKind::AtUri))?;
    }
    Ok(Meta {
        authority_end,
        authority_kind,
        collection_end: Some(collection_end),
        has_rkey: rkey.is_some(),
    })
}

impl AtUri {
    fn parse_meta(s: &str) -> Result<Meta, SyntaxError> {
        validate(s)
    }

    fn assemble(inner: SharedStr, meta: Meta) -> Self {
        let full_len = inner.as_str().len();
        let authority = AtIdentifier::from_validated(
            inner.slice(PREFIX.len(), meta.authority_end),
            meta.authority_kind,
        );
        let collection = meta
            .collection_end
            .map(|end| Nsid::from_validated(inner.slice(meta.authority_end + 1, end)));
        let rkey = match meta.collection_end {
            Some(end) if meta.has_rkey => {
                Some(RecordKey::from_validated(inner.slice(end + 1, full_len)))
            }
            _ => None,
        };
        Self {
            inner,
            authority,
            collection,
            rkey,
        }
    }

    /// Builds `at://{authority}[/{collection}[/{rkey}]]` from parsed parts.
    ///
    /// Fails only when `rkey` is given without `collection` (the result can not be too
    /// long: the parts' own limits add up to well under 8192).
    pub fn from_parts(
        authority: AtIdentifier,
        collection: Option<Nsid>,
        rkey: Option<RecordKey>,
    ) -> Result<Self, SyntaxError> {
        if rkey.is_some() && collection.is_none() {
            return Err(err("record key without a collection"));
        }
        let a = authority.as_str();
        let c = collection.as_ref().map_or("", Nsid::as_str);
        let r = rkey.as_ref().map_or("", RecordKey::as_str);
        let mut text = String::with_capacity(PREFIX.len() + a.len() + c.len() + r.len() + 2);
        text.push_str(PREFIX);
        text.push_str(a);
        let authority_end = text.len();
        if !c.is_empty() {
            text.push('/');
            text.push_str(c);
        }
        let collection_end = collection.as_ref().map(|_| text.len());
        if !r.is_empty() {
            text.push('/');
            text.push_str(r);
        }
        let meta = Meta {
            authority_end,
            authority_kind: if authority.is_did() {
                IdentifierKind::Did
            } else {
                IdentifierKind::Handle
            },
            collection_end,
            has_rkey: rkey.is_some(),
        };
        debug_assert!(validate(&text).is_ok());
        Ok(Self::assemble(SharedStr::from_string(text), meta))
    }

    /// The authority: the DID or handle of the repository (the TypeScript and Python
    /// SDKs call this `hostname`).
    pub fn authority(&self) -> &AtIdentifier {
        &self.authority
    }

    /// The collection NSID, if the URI has a path.
    pub fn collection(&self) -> Option<&Nsid> {
        self.collection.as_ref()
    }

    /// The record key, if the URI names a record.
    pub fn rkey(&self) -> Option<&RecordKey> {
        self.rkey.as_ref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn components() {
        let u = AtUri::new("at://did:plc:asdf123/com.atproto.feed.post/record").unwrap();
        assert_eq!(u.authority(), "did:plc:asdf123");
        assert!(u.authority().is_did());
        assert_eq!(u.collection().unwrap(), "com.atproto.feed.post");
        assert_eq!(u.collection().unwrap().name(), "post");
        assert_eq!(u.rkey().unwrap(), "record");

        let u = AtUri::new("at://user.bsky.social").unwrap();
        assert!(u.authority().is_handle());
        assert!(u.collection().is_none() && u.rkey().is_none());

        let u = AtUri::new("at://user.bsky.social/app.bsky.feed.like").unwrap();
        assert_eq!(u.collection().unwrap(), "app.bsky.feed.like");
        assert!(u.rkey().is_none());
    }

    #[test]
    fn errors() {
        for (s, kind_part, why) in [
            ("at:/did:plc:a", None, "must start with \"at://\""),
            ("AT://did:plc:a", None, "must start with \"at://\""),
            ("at://", None, "empty authority"),
            ("at:///did:plc:a", None, "empty authority"),
            (
                "at://did:plc:a#/frag",
                None,
                "query and fragment parts are not supported",
            ),
            (
                "at://did:plc:a?x=1",
                None,
                "query and fragment parts are not supported",
            ),
            (
                "at://did:plc:a/",
                None,
                "empty collection (trailing or double slash)",
            ),
            (
                "at://a.b//c.d.e",
                None,
                "empty collection (trailing or double slash)",
            ),
            ("at://did:plc:a/a.b.c/", None, "trailing slash"),
            ("at://did:plc:a/a.b.c/r/", None, "trailing slash"),
            (
                "at://did:plc:a/a.b.c/r/s",
                None,
                "too many path segments (max collection and record key)",
            ),
            (
                "at://did:plc:a:/a.b.c",
                Some(SyntaxKind::Did),
                "ends with ':'",
            ),
            (
                "at://name",
                Some(SyntaxKind::Handle),
                "needs at least two labels",
            ),
            (
                "at://did:plc:a/12345",
                Some(SyntaxKind::Nsid),
                "needs at least three segments",
            ),
            (
                "at://did:plc:a/a.b.c/..",
                Some(SyntaxKind::RecordKey),
                "can not be \".\" or \"..\"",
            ),
        ] {
            let e = AtUri::new(s).unwrap_err();
            assert_eq!(e.kind(), SyntaxKind::AtUri, "{s}");
            assert_eq!(e.part(), kind_part, "{s}");
            assert_eq!(e.reason(), why, "{s}");
        }
        let long = format!("at://did:plc:a/a.b.c/{}", "o".repeat(MAX_LEN));
        assert_eq!(
            AtUri::new(&long).unwrap_err().reason(),
            "too long (max 8192)"
        );
    }

    #[test]
    fn from_parts() {
        let a = AtIdentifier::new("did:plc:abc").unwrap();
        let c = Nsid::new("app.bsky.feed.post").unwrap();
        let r = RecordKey::new("3jwdwj2ctlk26").unwrap();
        let u = AtUri::from_parts(a.clone(), Some(c.clone()), Some(r.clone())).unwrap();
        assert_eq!(u, "at://did:plc:abc/app.bsky.feed.post/3jwdwj2ctlk26");
        assert_eq!(u.rkey(), Some(&r));
        let u = AtUri::from_parts(a.clone(), Some(c), None).unwrap();
        assert_eq!(u, "at://did:plc:abc/app.bsky.feed.post");
        let u = AtUri::from_parts(a.clone(), None, None).unwrap();
        assert_eq!(u, "at://did:plc:abc");
        assert_eq!(u.authority(), &a);
        assert_eq!(
            AtUri::from_parts(a, None, Some(r)).unwrap_err().reason(),
            "record key without a collection"
        );
    }

    #[test]
    fn traits() {
        let s = "at://bsky.app/app.bsky.feed.post/3jwdwj2ctlk26";
        let u = AtUri::try_from(s.to_owned()).unwrap();
        assert_eq!(u.to_string(), s);
        assert_eq!(format!("{u:?}"), format!("AtUri({s:?})"));
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<AtUri>(&json).unwrap(), u);
        assert!(serde_json::from_str::<AtUri>("\"at://bsky.app/\"").is_err());
        let mut set = std::collections::HashSet::new();
        set.insert(u.clone());
        assert!(set.contains(s));
        // Components outlive the URI they came from.
        let rkey = u.rkey().cloned().unwrap();
        drop(u);
        assert_eq!(rkey, "3jwdwj2ctlk26");
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = AtUri::new(&s);
        }

        #[test]
        fn near_valid_never_panics(s in "at://[a-z:.]{0,12}(/[a-zA-Z.]{0,10}(/[a-zA-Z0-9.:~#%/-]{0,10})?)?") {
            let _ = AtUri::new(&s);
        }

        #[test]
        fn display_roundtrip(
            authority in "did:[a-z]{1,5}:[a-zA-Z0-9._-]{1,20}|[a-z0-9]{1,10}\\.[a-z]{1,5}",
            collection in proptest::option::of("[a-z]{1,5}\\.[a-z]{1,5}\\.[a-zA-Z]{1,8}"),
            rkey in proptest::option::of("[a-zA-Z0-9_~:-]{1,20}"),
        ) {
            let mut s = format!("at://{authority}");
            if let Some(c) = &collection {
                s.push('/');
                s.push_str(c);
                if let Some(r) = &rkey {
                    s.push('/');
                    s.push_str(r);
                }
            }
            let u = AtUri::new(&s).unwrap();
            let again: AtUri = u.to_string().parse().unwrap();
            prop_assert_eq!(&again, &u);
            prop_assert_eq!(u.authority().as_str(), authority.as_str());
            prop_assert_eq!(u.collection().map(Nsid::as_str), collection.as_deref());
            let expected_rkey = if collection.is_some() { rkey.as_deref() } else { None };
            prop_assert_eq!(u.rkey().map(RecordKey::as_str), expected_rkey);
            let rebuilt = AtUri::from_parts(
                u.authority().clone(),
                u.collection().cloned(),
                u.rkey().cloned(),
            ).unwrap();
            prop_assert_eq!(rebuilt, u);
        }
    }
}
