//! Differences between two trees: the nodes only one of them has, and the record operations that
//! turn one into the other.

use super::tree::{Child, Node};
use super::Mst;
use crate::cid::{Cid, CidSet};

/// What changed from one tree to another (see [`Mst::diff`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MstDiff {
    /// Nodes of the newer tree that the older one lacks (sorted by CID): the node blocks a
    /// commit or a repo diff must carry.
    pub created_nodes: Vec<Cid>,
    /// Nodes of the older tree that the newer one lacks (sorted by CID).
    pub deleted_nodes: Vec<Cid>,
    /// The records created, updated and deleted, sorted by key.
    pub record_ops: Vec<RecordOp>,
}

/// One record change: `old` is `None` for a creation, `new` is `None` for a deletion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordOp {
    /// The repo path.
    pub key: String,
    /// The value in the older tree.
    pub old: Option<Cid>,
    /// The value in the newer tree.
    pub new: Option<Cid>,
}

/// A node on the current layer of the walk: its CID, and its contents when held in memory.
type Item<'a> = (Cid, Option<&'a Node>);

impl Mst {
    /// What changed from `self` (older) to `newer`.
    ///
    /// Identical subtrees (same CID) are skipped without being visited, so the cost follows the
    /// size of the change, not of the trees: both trees are walked one layer at a time from the
    /// top (a node's CID fixes its layer, so a shared node appears on the same layer in both),
    /// and only nodes whose CID the other tree lacks on that layer are opened.
    ///
    /// ```
    /// use atdata_core::mst::{Mst, RecordOp};
    /// use atdata_core::Cid;
    /// let (v1, v2) = (Cid::for_dag_cbor(b"\x01"), Cid::for_dag_cbor(b"\x02"));
    /// let old = Mst::from_sorted([("a/1".to_string(), v1), ("a/2".to_string(), v1)])?;
    /// let new = Mst::from_sorted([("a/2".to_string(), v2), ("a/3".to_string(), v1)])?;
    /// let diff = old.diff(&new);
    /// assert_eq!(diff.record_ops, vec![
    ///     RecordOp { key: "a/1".into(), old: Some(v1), new: None },
    ///     RecordOp { key: "a/2".into(), old: Some(v1), new: Some(v2) },
    ///     RecordOp { key: "a/3".into(), old: None, new: Some(v1) },
    /// ]);
    /// # Ok::<(), atdata_core::mst::MstError>(())
    /// ```
    ///
    /// With partial trees, a stub the other tree does not share is reported as created or
    /// deleted, but the records under it are unknown and left out of `record_ops`.
    pub fn diff(&self, newer: &Mst) -> MstDiff {
        let mut out = MstDiff::default();
        let mut old_level: Vec<Item<'_>> = Vec::new();
        let mut new_level: Vec<Item<'_>> = Vec::new();
        let mut old_leaves: Vec<(&str, Cid)> = Vec::new();
        let mut new_leaves: Vec<(&str, Cid)> = Vec::new();
        let top = self.layer.max(newer.layer);
        for layer in (0..=top).rev() {
            if layer == self.layer {
                old_level.push((self.root.cid(), Some(&*self.root)));
            }
            if layer == newer.layer {
                new_level.push((newer.root.cid(), Some(&*newer.root)));
            }
            let old_set: CidSet = old_level.iter().map(|i| i.0).collect();
            let new_set: CidSet = new_level.iter().map(|i| i.0).collect();
            old_level = open(
                &old_level,
                &new_set,
                &mut out.deleted_nodes,
                &mut old_leaves,
            );
            new_level = open(
                &new_level,
                &old_set,
                &mut out.created_nodes,
                &mut new_leaves,
            );
        }
        out.created_nodes.sort_unstable();
        out.deleted_nodes.sort_unstable();
        out.record_ops = record_ops(old_leaves, new_leaves);
        out
    }
}

/// Opens the nodes of one layer that `other` lacks: records them in `changed`, their entries in
/// `leaves`, and returns their subtrees (the next layer down).
fn open<'a>(
    level: &[Item<'a>],
    other: &CidSet,
    changed: &mut Vec<Cid>,
    leaves: &mut Vec<(&'a str, Cid)>,
) -> Vec<Item<'a>> {
    let mut next = Vec::new();
    for &(cid, node) in level {
        if other.contains(&cid) {
            continue;
        }
        changed.push(cid);
        let Some(node) = node else { continue };
        for gap in 0..=node.entries.len() {
            match node.child(gap) {
                Some(Child::Node(n)) => next.push((n.cid(), Some(&**n))),
                Some(Child::Missing(c)) => next.push((*c, None)),
                None => {}
            }
        }
        leaves.extend(node.entries.iter().map(|e| (&*e.key, e.value)));
    }
    next
}

/// Merges the entries of the nodes only one tree has into record operations. A key held by a
/// node both trees share is unchanged, and such a key appears in no opened node, so comparing
/// the opened entries is enough.
fn record_ops(mut old: Vec<(&str, Cid)>, mut new: Vec<(&str, Cid)>) -> Vec<RecordOp> {
    old.sort_unstable_by(|a, b| a.0.cmp(b.0));
    new.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        let op = match (old.get(i), new.get(j)) {
            (None, None) => break,
            (Some(&(key, v)), None) => {
                i += 1;
                (key, Some(v), None)
            }
            (None, Some(&(key, v))) => {
                j += 1;
                (key, None, Some(v))
            }
            (Some(&(ko, vo)), Some(&(kn, vn))) => match ko.cmp(kn) {
                std::cmp::Ordering::Less => {
                    i += 1;
                    (ko, Some(vo), None)
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    (kn, None, Some(vn))
                }
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                    if vo == vn {
                        continue;
                    }
                    (ko, Some(vo), Some(vn))
                }
            },
        };
        ops.push(RecordOp {
            key: op.0.to_owned(),
            old: op.1,
            new: op.2,
        });
    }
    ops
}
