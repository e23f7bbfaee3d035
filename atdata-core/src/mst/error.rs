//! Errors from building, loading and editing Merkle Search Trees.

use std::fmt;

use crate::cid::Cid;

/// Something wrong with a tree, a node or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MstError {
    /// A key that is not a valid repo path (see [`super::is_valid_key`]).
    #[error("invalid MST key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// [`super::Mst::from_sorted`] was given keys out of order or repeated.
    #[error("keys are not strictly sorted: {key:?} comes after {previous:?}")]
    Unsorted {
        /// The key before.
        previous: String,
        /// The key that should have sorted after it.
        key: String,
    },
    /// Bytes that are not a well-formed node (from [`super::NodeData::decode`]).
    #[error("malformed MST node at byte {offset}: {reason}")]
    Malformed {
        /// Byte offset of the problem.
        offset: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// A node of a tree being loaded breaks the MST rules.
    #[error("invalid MST node {cid} at depth {depth}{}: {problem}", Near(.near))]
    InvalidNode {
        /// The node's CID.
        cid: Cid,
        /// Links followed from the root to reach it (0 = the root).
        depth: usize,
        /// The last key read before the problem, in key order, if any.
        near: Option<String>,
        /// What is wrong.
        problem: NodeProblem,
    },
    /// A node the operation needs is not available: absent from the block source while loading,
    /// or not loaded in a partial tree (see [`super::Mst::load_partial`]).
    #[error("MST node {cid} at depth {depth} is missing{}", Near(.near))]
    MissingNode {
        /// The missing node's CID.
        cid: Cid,
        /// Links followed from the root to reach it (0 = the root).
        depth: usize,
        /// For loads, the last key read before the missing subtree; for edits and lookups on a
        /// partial tree, the key being looked for.
        near: Option<String>,
    },
}

/// What is wrong with one node of a tree being loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeProblem {
    /// The block does not decode as a node.
    #[error("does not decode: {reason} at byte {offset}")]
    Malformed {
        /// Byte offset of the problem.
        offset: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// The node's canonical encoding does not hash to the CID that links to it (the block is not
    /// canonical DAG-CBOR, or it is not the block that was linked).
    #[error("its canonical encoding does not hash to its CID")]
    HashMismatch,
    /// A node below the root with no entries and no subtree (only an empty tree's root may be
    /// empty).
    #[error("non-root node has no entries and no subtree")]
    Empty,
    /// A root with no entries and only a left subtree: the top of the tree was not trimmed.
    #[error("root node has no entries, only a subtree (the tree top is not trimmed)")]
    UntrimmedRoot,
    /// A layer-0 node links to a subtree.
    #[error("a node on layer 0 links to a subtree")]
    SubtreeBelowLeaves,
    /// A key whose height is not the layer of the node holding it.
    #[error("key {key:?} has height {height} but sits on layer {layer}")]
    WrongLayer {
        /// The key.
        key: String,
        /// Its height.
        height: u32,
        /// The layer of the node holding it.
        layer: u32,
    },
    /// A key that does not sort strictly after the key before it in the whole tree.
    #[error("key {key:?} does not sort after {previous:?}")]
    Unsorted {
        /// The key before, in tree order.
        previous: String,
        /// The key out of place.
        key: String,
    },
    /// A key that is not a valid repo path.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key (lossily decoded if it is not UTF-8).
        key: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// An entry's prefix length `p` is wrong: longer than the previous key, not 0 on the first
    /// entry, or not the whole shared prefix (the compression is mandatory).
    #[error("entry {index} has prefix length {prefix_len}, expected {expected}")]
    PrefixLength {
        /// Index of the entry in the node.
        index: usize,
        /// Its `p`.
        prefix_len: usize,
        /// The length of the prefix it actually shares with the previous key.
        expected: usize,
    },
}

/// Formats an optional "near key" suffix.
struct Near<'a>(&'a Option<String>);

impl fmt::Display for Near<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(key) => write!(f, " (near key {key:?})"),
            None => Ok(()),
        }
    }
}
