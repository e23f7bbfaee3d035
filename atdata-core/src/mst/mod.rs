//! The Merkle Search Tree (MST): the ordered, content-addressed key/value tree that holds an
//! atproto repository's records.
//!
//! Keys are repo paths (`collection/rkey`), values the CIDs of records. Each key has a height,
//! from the leading zeros of its SHA-256 ([`key_height`]), and sits on that layer of the tree;
//! the shape, and so every node CID up to the root, depends only on the set of keys and values.
//! The root CID is what a commit's `data` field holds.
//!
//! - [`Mst`]: the tree in memory. Build it ([`Mst::from_sorted`], [`Mst::insert`]), read it from
//!   blocks with every rule checked ([`Mst::load`], or [`Mst::load_partial`] for a proof), walk
//!   it ([`Mst::iter`], [`Mst::range_prefix`]), write it ([`Mst::root_cid`], [`Mst::blocks`]),
//!   compare two versions ([`Mst::diff`]) and prove a key's presence or absence
//!   ([`Mst::covering_proof`]).
//! - [`NodeData`]: one node as stored, `{l, e: [{p, k, v, t}]}`, with a strict decoder.
//!
//! ```
//! use atdata_core::{car, mst::Mst, Cid};
//! let like = Cid::for_dag_cbor(b"\xa0");
//! let tree = Mst::from_sorted((0..100).map(|i| (format!("app.bsky.feed.like/{i:03}"), like)))?;
//!
//! // A CAR of the tree, and back.
//! let blocks = tree.blocks();
//! let bytes = car::write_car(&[tree.root_cid()], blocks.iter().map(|(c, b)| (*c, &b[..])));
//! let reader = car::CarReader::new(&bytes)?;
//! let loaded = Mst::load(&reader.index()?, &reader.roots()[0])?;
//! assert_eq!(loaded.range_prefix("app.bsky.feed.like/").count(), 100);
//! assert!(tree.diff(&loaded).record_ops.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod diff;
mod edit;
mod error;
mod iter;
mod key;
mod load;
mod node;
mod proof;
mod tree;

pub use diff::{MstDiff, RecordOp};
pub use error::{MstError, NodeProblem};
pub use iter::Iter;
pub use key::{common_prefix_len, is_valid_key, key_height, MAX_KEY_LEN};
pub use load::BlockSource;
pub use node::{NodeData, NodeEntry, MAX_NODE_ENTRIES};
pub use tree::Mst;

#[cfg(test)]
mod tests;
