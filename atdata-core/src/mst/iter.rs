//! In-order iteration over a tree.

use super::tree::{Child, Node};
use crate::cid::Cid;

/// Iterator over a tree's keys and values in key order, from [`super::Mst::iter`]. Subtrees a
/// partial tree does not hold are skipped.
#[derive(Clone)]
pub struct Iter<'a> {
    /// Nodes from the root down to the current one, each with the index of its next entry.
    stack: Vec<(&'a Node, usize)>,
}

impl<'a> Iter<'a> {
    pub(crate) fn new(root: &'a Node) -> Self {
        let mut it = Iter {
            stack: Vec::with_capacity(16),
        };
        it.descend_left(root);
        it
    }

    /// Positioned so that the first item is the first key at or after `key`.
    pub(crate) fn seek(root: &'a Node, key: &str) -> Self {
        let mut stack = Vec::with_capacity(16);
        let mut node = root;
        loop {
            let next = node.entries.partition_point(|e| *e.key < *key);
            stack.push((node, next));
            match node.child(next) {
                Some(Child::Node(n)) => node = n,
                _ => break,
            }
        }
        Iter { stack }
    }

    fn descend_left(&mut self, mut node: &'a Node) {
        loop {
            self.stack.push((node, 0));
            match &node.left {
                Some(Child::Node(n)) => node = n,
                _ => break,
            }
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a Cid);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let top = self.stack.last_mut()?;
            let (node, index) = *top;
            match node.entries.get(index) {
                Some(entry) => {
                    top.1 += 1;
                    if let Some(Child::Node(right)) = &entry.right {
                        self.descend_left(right);
                    }
                    return Some((&entry.key, &entry.value));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

impl std::iter::FusedIterator for Iter<'_> {}

impl std::fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("depth", &self.stack.len())
            .finish()
    }
}
