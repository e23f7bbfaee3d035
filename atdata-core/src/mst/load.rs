//! Reading a tree from its node blocks, checking every rule of the MST on the way.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use super::error::{MstError, NodeProblem};
use super::key::{common_prefix_len, key_height, key_problem};
use super::node::NodeData;
use super::tree::{Child, Entry, Node};
use super::Mst;
use crate::cid::Cid;

/// Where node blocks come from when loading a tree: a map from CID to bytes, such as
/// [`crate::car::CarReader::index`] builds.
pub trait BlockSource {
    /// The bytes of the block with this CID, if present.
    fn get_block(&self, cid: &Cid) -> Option<&[u8]>;

    /// Whether every block [`get_block`](BlockSource::get_block) returns is already known to
    /// hash to the CID it was asked for (under that CID's hash function), as with the blocks of a
    /// CAR read with hash checks on. `false` by default.
    ///
    /// When `true`, the loader does not hash nodes again. It still decodes each node strictly,
    /// checks that the linking CID is a DAG-CBOR SHA-256 CID (a block's own hash check accepts
    /// any codec), and that the block is the node's canonical encoding; every other check is
    /// unchanged. Returning `true` for blocks that were not hash-checked lets a block that is not
    /// the linked one through, so only do it for sources that checked them.
    fn hashes_verified(&self) -> bool {
        false
    }
}

impl<S: BuildHasher> BlockSource for HashMap<Cid, Vec<u8>, S> {
    fn get_block(&self, cid: &Cid) -> Option<&[u8]> {
        self.get(cid).map(Vec::as_slice)
    }
}

impl<S: BuildHasher> BlockSource for HashMap<Cid, &[u8], S> {
    fn get_block(&self, cid: &Cid) -> Option<&[u8]> {
        self.get(cid).copied()
    }
}

impl<T: BlockSource + ?Sized> BlockSource for &T {
    fn get_block(&self, cid: &Cid) -> Option<&[u8]> {
        (**self).get_block(cid)
    }

    fn hashes_verified(&self) -> bool {
        (**self).hashes_verified()
    }
}

impl Mst {
    /// Reads the whole tree under `root` from `blocks`, checking it as it goes: every node
    /// decodes strictly, its canonical encoding hashes to the CID that links to it, keys are
    /// valid repo paths in strictly increasing order across the whole tree, each on the layer
    /// its height names, links go exactly one layer down, no node but an empty tree's root is
    /// empty, and the root is not an empty node over a subtree. A missing node is an error
    /// ([`MstError::MissingNode`]); other errors ([`MstError::InvalidNode`]) name the node, its
    /// depth, the last key read and what is wrong.
    ///
    /// Once loaded, the tree's [`root_cid`](Mst::root_cid) is `root`.
    pub fn load(blocks: &impl BlockSource, root: &Cid) -> Result<Mst, MstError> {
        Loader::new(blocks, false).run(root)
    }

    /// Like [`Mst::load`], but a subtree whose root block is absent is kept as a stub known only
    /// by its CID, as in a commit's proof blocks. The nodes present get every check `load`
    /// makes; the root block itself must be present.
    ///
    /// Lookups and edits that need a stub fail with [`MstError::MissingNode`] ([`Mst::try_get`],
    /// [`Mst::insert`], [`Mst::try_remove`]) and leave the tree unchanged; those that don't work
    /// as on a full tree, and [`Mst::root_cid`] stays exact. That is what inverting a commit's
    /// operations against its proof needs (Sync 1.1): load the proof, undo each operation, and
    /// compare the root with the previous commit's `data`.
    pub fn load_partial(blocks: &impl BlockSource, root: &Cid) -> Result<Mst, MstError> {
        Loader::new(blocks, true).run(root)
    }
}

/// Whether `cid` has the form [`Cid::for_dag_cbor`] gives: version 1, DAG-CBOR, SHA-256,
/// 32-byte digest.
fn is_dag_cbor_sha256(cid: &Cid) -> bool {
    let b = cid.as_bytes();
    b.len() == 36 && b[..4] == [0x01, 0x71, 0x12, 0x20]
}

struct Loader<'s, S: ?Sized> {
    blocks: &'s S,
    partial: bool,
    /// The source vouches for block hashes ([`BlockSource::hashes_verified`]).
    hashes_verified: bool,
    missing: bool,
    last_key: Option<Arc<str>>,
    len: usize,
}

impl<'s, S: BlockSource + ?Sized> Loader<'s, S> {
    fn new(blocks: &'s S, partial: bool) -> Self {
        Loader {
            blocks,
            partial,
            hashes_verified: blocks.hashes_verified(),
            missing: false,
            last_key: None,
            len: 0,
        }
    }

    fn run(mut self, root: &Cid) -> Result<Mst, MstError> {
        let blocks = self.blocks;
        let bytes = blocks.get_block(root).ok_or(MstError::MissingNode {
            cid: *root,
            depth: 0,
            near: None,
        })?;
        let (node, layer) = self.node(*root, bytes, None, 0)?;
        Ok(Mst {
            root: Arc::new(node),
            layer,
            len: self.len,
            partial: self.missing,
        })
    }

    fn near(&self) -> Option<String> {
        self.last_key.as_deref().map(str::to_owned)
    }

    fn invalid(&self, cid: Cid, depth: usize, problem: NodeProblem) -> MstError {
        MstError::InvalidNode {
            cid,
            depth,
            near: self.near(),
            problem,
        }
    }

    fn child(
        &mut self,
        cid: Option<Cid>,
        layer: u32,
        depth: usize,
    ) -> Result<Option<Child>, MstError> {
        let Some(cid) = cid else { return Ok(None) };
        let blocks = self.blocks;
        match blocks.get_block(&cid) {
            Some(bytes) => {
                let (node, _) = self.node(cid, bytes, Some(layer), depth)?;
                Ok(Some(Child::Node(Arc::new(node))))
            }
            None if self.partial => {
                self.missing = true;
                Ok(Some(Child::Missing(cid)))
            }
            None => Err(MstError::MissingNode {
                cid,
                depth,
                near: self.near(),
            }),
        }
    }

    /// Loads one node (and, recursively, its subtrees) on `layer`, or on the layer of its keys
    /// for the root (`layer` = `None`). Recursion is bounded: links go exactly one layer down
    /// and the root's layer is at most 128.
    fn node(
        &mut self,
        cid: Cid,
        bytes: &[u8],
        layer: Option<u32>,
        depth: usize,
    ) -> Result<(Node, u32), MstError> {
        let data = NodeData::decode(bytes).map_err(|e| match e {
            MstError::Malformed { offset, reason } => {
                self.invalid(cid, depth, NodeProblem::Malformed { offset, reason })
            }
            other => other,
        })?;

        // Rebuild the full keys from the prefix compression.
        let mut keys: Vec<Arc<str>> = Vec::with_capacity(data.entries.len());
        let mut prev: Vec<u8> = Vec::new();
        for (index, e) in data.entries.iter().enumerate() {
            if e.prefix_len > prev.len() {
                return Err(self.invalid(
                    cid,
                    depth,
                    NodeProblem::PrefixLength {
                        index,
                        prefix_len: e.prefix_len,
                        expected: prev.len(),
                    },
                ));
            }
            let mut buf = Vec::with_capacity(e.prefix_len + e.key_suffix.len());
            buf.extend_from_slice(&prev[..e.prefix_len]);
            buf.extend_from_slice(&e.key_suffix);
            let shared = common_prefix_len(&prev, &buf);
            if shared != e.prefix_len {
                return Err(self.invalid(
                    cid,
                    depth,
                    NodeProblem::PrefixLength {
                        index,
                        prefix_len: e.prefix_len,
                        expected: shared,
                    },
                ));
            }
            let key = match std::str::from_utf8(&buf) {
                Ok(key) => key,
                Err(_) => {
                    return Err(self.invalid(
                        cid,
                        depth,
                        NodeProblem::InvalidKey {
                            key: String::from_utf8_lossy(&buf).into_owned(),
                            reason: "not UTF-8",
                        },
                    ))
                }
            };
            if let Some(reason) = key_problem(key) {
                let key = key.to_owned();
                return Err(self.invalid(cid, depth, NodeProblem::InvalidKey { key, reason }));
            }
            keys.push(Arc::from(key));
            prev = buf;
        }

        let is_root = layer.is_none();
        let layer = match (layer, keys.first()) {
            (Some(layer), _) => layer,
            (None, Some(first)) => key_height(first.as_bytes()),
            (None, None) => 0,
        };
        if data.entries.is_empty() {
            match (is_root, data.left.is_some()) {
                (true, true) => return Err(self.invalid(cid, depth, NodeProblem::UntrimmedRoot)),
                (false, false) => return Err(self.invalid(cid, depth, NodeProblem::Empty)),
                _ => {}
            }
        }
        for key in &keys {
            let height = key_height(key.as_bytes());
            if height != layer {
                let key = key.to_string();
                return Err(self.invalid(
                    cid,
                    depth,
                    NodeProblem::WrongLayer { key, height, layer },
                ));
            }
        }
        let below = match layer.checked_sub(1) {
            Some(below) => below,
            None if data.left.is_some() || data.entries.iter().any(|e| e.right.is_some()) => {
                return Err(self.invalid(cid, depth, NodeProblem::SubtreeBelowLeaves))
            }
            None => 0,
        };

        // Walk in key order, so that the order check spans the whole tree and a repeated
        // subtree fails on its first key.
        let left = self.child(data.left, below, depth + 1)?;
        let mut entries = Vec::with_capacity(keys.len());
        for (key, e) in keys.into_iter().zip(data.entries) {
            if let Some(previous) = &self.last_key {
                if **previous >= *key {
                    let problem = NodeProblem::Unsorted {
                        previous: previous.to_string(),
                        key: key.to_string(),
                    };
                    return Err(self.invalid(cid, depth, problem));
                }
            }
            self.last_key = Some(key.clone());
            self.len += 1;
            let right = self.child(e.right, below, depth + 1)?;
            entries.push(Entry {
                key,
                value: e.value,
                right,
            });
        }

        let node = Node {
            left,
            entries,
            cid: OnceLock::new(),
        };
        if self.hashes_verified {
            // The block hashes to `cid` (the source checked it), so what is left is that `cid`
            // is a DAG-CBOR SHA-256 CID, as the hash below would require, and that the block is
            // the node's canonical encoding. Strict decoding gives the latter without encoding
            // again: `NodeData::decode` accepts only the fixed shape, every head in shortest
            // form (the only form `write_head` writes), keys and tags as exact bytes, and copies
            // key suffixes and CIDs verbatim with no trailing bytes; and the prefix checks above
            // make each `p` the shared prefix length that `Node::encode` recomputes, so its
            // suffix is the one stored. Hence `node.encode() == bytes`, checked in debug builds.
            if !is_dag_cbor_sha256(&cid) {
                return Err(self.invalid(cid, depth, NodeProblem::HashMismatch));
            }
            debug_assert!(
                node.encode() == bytes,
                "strict decoding implies canonical form"
            );
        } else if Cid::for_dag_cbor(&node.encode()) != cid {
            // Subtree CIDs are already cached (or are stubs), so this hashes one block.
            return Err(self.invalid(cid, depth, NodeProblem::HashMismatch));
        }
        let _ = node.cid.set(cid);
        Ok((node, layer))
    }
}
