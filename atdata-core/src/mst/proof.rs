//! Covering proofs: the node blocks that show a key present (with its value) or absent.

use super::tree::{Child, Node};
use super::Mst;
use crate::cid::Cid;

impl Mst {
    /// The node blocks proving that `key` is present with its value, or absent, in this tree:
    /// every node whose key range reaches `key`, root first.
    ///
    /// From the root down, each node's subtree in the gap where `key` falls is followed; where
    /// the node holds `key`, the subtrees on both sides of it are followed, down their edges
    /// nearest the key. Those edge nodes are what removing the key would merge, so the proof
    /// also suffices to undo the key's creation against these blocks alone, and, symmetrically,
    /// the proof of an absent key holds every node that inserting it would split. A verifier
    /// loads the blocks with [`Mst::load_partial`] and checks the key with [`Mst::try_get`].
    ///
    /// ```
    /// use atdata_core::mst::Mst;
    /// use atdata_core::Cid;
    /// let v = Cid::for_dag_cbor(b"\xa0");
    /// let keys = (0..200).map(|i| (format!("com.example.thing/{i:04}"), v));
    /// let tree = Mst::from_sorted(keys)?;
    /// let proof: std::collections::HashMap<_, _> =
    ///     tree.covering_proof("com.example.thing/0042").into_iter().collect();
    /// let partial = Mst::load_partial(&proof, &tree.root_cid())?;
    /// assert_eq!(partial.try_get("com.example.thing/0042")?, Some(v));
    /// assert_eq!(partial.try_get("com.example.thing/0042x")?, None);
    /// # Ok::<(), atdata_core::mst::MstError>(())
    /// ```
    ///
    /// On a partial tree, nodes it does not hold are left out.
    pub fn covering_proof(&self, key: &str) -> Vec<(Cid, Vec<u8>)> {
        let mut out = Vec::new();
        collect(&self.root, key, &mut out);
        out
    }
}

fn collect(node: &Node, key: &str, out: &mut Vec<(Cid, Vec<u8>)>) {
    out.push((node.cid(), node.encode()));
    let (first, last) = match node.search(key) {
        Ok(i) => (i, i + 1),
        Err(gap) => (gap, gap),
    };
    for gap in first..=last {
        if let Some(Child::Node(child)) = node.child(gap) {
            collect(child, key, out);
        }
    }
}
