//! Blob references: shape, `accept` MIME patterns and `maxSize`.

use atdata_core::syntax::check_cid_syntax;

use super::data::{MapNode, Node, View};
use super::error::Problem;
use super::path::Path;
use super::walk::{is_blob, Flow, Walker};
use crate::schema::BlobSchema;

impl Walker<'_> {
    /// `blob`: `{"$type": "blob", "ref": <link>, "mimeType", "size"}`, or the legacy
    /// `{"cid", "mimeType"}` when the options allow it (it has no size, so `maxSize` cannot
    /// apply to it).
    pub(crate) fn blob<D: Node>(&mut self, schema: &BlobSchema, value: &D, at: &Path<'_>) -> Flow {
        let View::Map(map) = value.view() else {
            return self.wrong_type(at, "blob", value);
        };
        let (mime_type, size) = if is_blob::<D>(map) {
            match typed_blob::<D>(map) {
                Ok(parts) => parts,
                Err(reason) => return self.fail(at, || Problem::MalformedBlob(reason)),
            }
        } else if let Some(mime_type) = legacy_blob::<D>(map) {
            if !self.options.allow_legacy_blobs {
                return self.fail(at, || Problem::LegacyBlob);
            }
            match mime_type {
                Ok(mime_type) => (mime_type, None),
                Err(reason) => return self.fail(at, || Problem::MalformedBlob(reason)),
            }
        } else {
            return self.wrong_type(at, "blob", value);
        };
        if let Some(accept) = schema.accept.as_ref().filter(|a| !a.is_empty()) {
            if !accept.iter().any(|pattern| accepts(pattern, mime_type)) {
                self.fail(at, || Problem::BlobType {
                    mime_type: mime_type.to_owned(),
                    accept: accept.clone(),
                })?;
            }
        }
        if let (Some(max_size), Some(size)) = (schema.max_size, size) {
            if size > max_size {
                self.fail(at, || Problem::BlobTooBig { size, max_size })?;
            }
        }
        Ok(())
    }
}

/// The MIME type and size of a current-form blob. Decoders already check this shape, but a
/// `Value` can be built by hand.
fn typed_blob<'a, D: Node + 'a>(map: &'a D::Map) -> Result<(&'a str, Option<u64>), &'static str> {
    if !matches!(map.get("ref").map(Node::view), Some(View::Link)) {
        return Err("\"ref\" must be a link");
    }
    let Some(View::String(mime_type)) = map.get("mimeType").map(Node::view) else {
        return Err("\"mimeType\" must be a string");
    };
    let Some(View::Integer(size)) = map.get("size").map(Node::view) else {
        return Err("\"size\" must be an integer");
    };
    let size = u64::try_from(size).map_err(|_| "\"size\" must not be negative")?;
    // `$type`, `ref`, `mimeType` and `size` are all present: any fifth key is one too many
    // (the decoders and the reference refuse extra keys, which would change the blob's CID).
    if map.len() != 4 {
        return Err("a blob has only \"$type\", \"ref\", \"mimeType\" and \"size\"");
    }
    Ok((mime_type, Some(size)))
}

/// `Some` when the map looks like a legacy blob (string `cid` and `mimeType`, no `$type`);
/// inside, the MIME type or why the CID is bad.
fn legacy_blob<'a, D: Node + 'a>(map: &'a D::Map) -> Option<Result<&'a str, &'static str>> {
    if map.get("$type").is_some() {
        return None;
    }
    let (Some(View::String(cid)), Some(View::String(mime_type))) = (
        map.get("cid").map(Node::view),
        map.get("mimeType").map(Node::view),
    ) else {
        return None;
    };
    // The legacy form wrote the CID as a string: the lexicon `cid` string syntax applies.
    Some(match check_cid_syntax(cid) {
        Ok(()) => Ok(mime_type),
        Err(_) => Err("legacy \"cid\" is not a valid CID"),
    })
}

/// Whether an `accept` pattern (`image/png`, `image/*`, `*/*`) admits `mime_type`.
/// MIME types are case-insensitive.
pub(crate) fn accepts(pattern: &str, mime_type: &str) -> bool {
    if pattern == "*/*" {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(top) => mime_type
            .split_once('/')
            .is_some_and(|(t, sub)| t.eq_ignore_ascii_case(top) && !sub.is_empty()),
        None => pattern.eq_ignore_ascii_case(mime_type),
    }
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_patterns() {
        assert!(accepts("*/*", "text/plain"));
        assert!(accepts("image/*", "image/png"));
        assert!(accepts("image/*", "IMAGE/webp"));
        assert!(!accepts("image/*", "image/"));
        assert!(!accepts("image/*", "text/plain"));
        assert!(!accepts("image/*", "imagex/png"));
        assert!(accepts("video/mp4", "video/MP4"));
        assert!(!accepts("video/mp4", "video/mp4v"));
    }
}
