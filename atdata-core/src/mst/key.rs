//! MST keys: their height (the tree layer they live on), shared prefixes, and the repo-path rules
//! they must follow.

use sha2::{Digest as _, Sha256};

/// Longest accepted key, in bytes.
///
/// The repository spec bounds repo paths by their parts (an NSID, `/`, a record key); 1024 bytes
/// is comfortably above any valid combination and keeps hostile keys small.
pub const MAX_KEY_LEN: usize = 1024;

/// The layer (height) of a key in the tree: the number of leading zero bits of `SHA-256(key)`,
/// divided by two and rounded down (a fanout of 4). Between 0 and 128.
///
/// ```
/// use atdata_core::mst::key_height;
/// assert_eq!(key_height(b"2653ae71"), 0);
/// assert_eq!(key_height(b"blue"), 1);
/// assert_eq!(key_height(b"app.bsky.feed.post/9adeb165882c"), 8);
/// ```
pub fn key_height(key: &[u8]) -> u32 {
    let hash: [u8; 32] = Sha256::digest(key).into();
    let mut zeros = 0u32;
    for byte in hash {
        if byte == 0 {
            zeros += 8;
        } else {
            zeros += byte.leading_zeros();
            break;
        }
    }
    zeros / 2
}

/// How many leading bytes `a` and `b` share (what an MST node entry's `p` records).
///
/// ```
/// assert_eq!(atdata_core::mst::common_prefix_len(b"abcde", b"abc1"), 3);
/// ```
pub fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Whether `key` is a valid repo path, and so a valid MST key: `<collection>/<record-key>`, both
/// parts non-empty, neither `.` nor `..`, only the characters `A-Z a-z 0-9 . - _ : ~` besides the
/// one `/`, and at most [`MAX_KEY_LEN`] bytes.
///
/// The collection is not checked as an NSID (test fixtures use keys such as `A0/374913`), matching
/// what the reference implementations accept when they read trees.
///
/// ```
/// use atdata_core::mst::is_valid_key;
/// assert!(is_valid_key("app.bsky.feed.post/3jui7kd2z2y2e"));
/// assert!(!is_valid_key("app.bsky.feed.post"));
/// assert!(!is_valid_key("a/b/c"));
/// assert!(!is_valid_key("app.bsky.feed.post/.."));
/// ```
pub fn is_valid_key(key: &str) -> bool {
    key_problem(key).is_none()
}

/// Why `key` is not a valid MST key, or `None` when it is.
pub(crate) fn key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("empty key");
    }
    if key.len() > MAX_KEY_LEN {
        return Some("longer than 1024 bytes");
    }
    let Some((collection, rkey)) = key.split_once('/') else {
        return Some("no `/` between collection and record key");
    };
    if rkey.contains('/') {
        return Some("more than one `/`");
    }
    for part in [collection, rkey] {
        if part.is_empty() {
            return Some("empty path segment");
        }
        if part == "." || part == ".." {
            return Some("`.` and `..` are not allowed as path segments");
        }
        if !part.bytes().all(is_key_byte) {
            return Some("character outside A-Z a-z 0-9 . - _ : ~");
        }
    }
    None
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_from_the_spec() {
        assert_eq!(key_height(b""), 0);
        assert_eq!(key_height(b"asdf"), 0);
        assert_eq!(key_height(b"88bfafc7"), 2);
        assert_eq!(key_height(b"2a92d355"), 4);
        assert_eq!(key_height(b"884976f5"), 6);
        assert_eq!(key_height(b"app.bsky.feed.post/454397e440ec"), 4);
    }

    #[test]
    fn key_rules() {
        for ok in ["k/00", "A0/374913", "com.example.x/self", "a/b:c~d-e_f.g"] {
            assert!(is_valid_key(ok), "{ok}");
        }
        let long = format!("a/{}", "x".repeat(MAX_KEY_LEN));
        for bad in [
            "", "/", "a/", "/a", "a", "a/b/c", "a b/c", "a/é", "./a", "a/.", "a/..", &long,
        ] {
            assert!(!is_valid_key(bad), "{bad}");
        }
        assert!(is_valid_key(&format!("a/{}", "x".repeat(MAX_KEY_LEN - 2))));
    }
}
