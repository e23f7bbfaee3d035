//! Inserting and removing keys: splitting a subtree at a key, merging two neighbouring subtrees,
//! and keeping the top of the tree trimmed.
//!
//! Every function takes nodes by `Arc` and edits through [`Arc::make_mut`] (or takes them over
//! when unshared), so nodes shared with a clone of the tree are copied, never changed, and every
//! edited node forgets its cached CID.

use std::sync::{Arc, OnceLock};

use super::error::MstError;
use super::tree::{Child, Entry, Node};
use super::Mst;
use crate::cid::Cid;

fn missing(cid: Cid, depth: usize, key: &str) -> MstError {
    MstError::MissingNode {
        cid,
        depth,
        near: Some(key.to_owned()),
    }
}

/// A node holding one entry and no subtrees.
fn single(key: Arc<str>, value: Cid) -> Node {
    Node {
        left: None,
        entries: vec![Entry {
            key,
            value,
            right: None,
        }],
        cid: OnceLock::new(),
    }
}

/// Hangs a subtree from layer `from` under empty nodes up to layer `to`, so that links never skip
/// a layer.
fn lift(mut child: Option<Child>, from: u32, to: u32) -> Option<Child> {
    if child.is_some() {
        for _ in from..to {
            child = Some(Child::Node(Arc::new(Node {
                left: child,
                entries: Vec::new(),
                cid: OnceLock::new(),
            })));
        }
    }
    child
}

fn own(node: Arc<Node>) -> Node {
    let mut node = Arc::unwrap_or_clone(node);
    node.touch();
    node
}

fn wrap(node: Node) -> Option<Child> {
    (!node.is_empty()).then(|| Child::Node(Arc::new(node)))
}

/// Inserts a key known to be absent, whose height is `height`.
pub(crate) fn insert(
    tree: &mut Mst,
    key: Arc<str>,
    value: Cid,
    height: u32,
) -> Result<(), MstError> {
    if tree.root.is_empty() {
        tree.root = Arc::new(single(key, value));
        tree.layer = height;
        return Ok(());
    }
    if height > tree.layer {
        // The key goes above the current root: split the whole tree around it.
        let old = std::mem::take(&mut tree.root);
        let (lo, hi) = split(Some(Child::Node(old)), tree.layer, &key, 0)?;
        let mut root = single(key, value);
        root.left = lift(lo, tree.layer, height - 1);
        root.entries[0].right = lift(hi, tree.layer, height - 1);
        tree.root = Arc::new(root);
        tree.layer = height;
        return Ok(());
    }
    insert_into(&mut tree.root, tree.layer, key, value, height, 0)
}

fn insert_into(
    node: &mut Arc<Node>,
    layer: u32,
    key: Arc<str>,
    value: Cid,
    height: u32,
    depth: usize,
) -> Result<(), MstError> {
    let n = Arc::make_mut(node);
    n.touch();
    let gap = match n.search(&key) {
        Ok(i) => {
            n.entries[i].value = value;
            return Ok(());
        }
        Err(gap) => gap,
    };
    if height >= layer {
        // This layer: the subtree in the key's gap splits into the parts before and after it.
        let inner = n.child_slot(gap).take();
        let (lo, hi) = split(inner, layer.saturating_sub(1), &key, depth + 1)?;
        *n.child_slot(gap) = lo;
        n.entries.insert(
            gap,
            Entry {
                key,
                value,
                right: hi,
            },
        );
        return Ok(());
    }
    let below = layer - 1;
    let slot = n.child_slot(gap);
    match slot {
        None => {
            *slot = lift(
                Some(Child::Node(Arc::new(single(key, value)))),
                height,
                below,
            );
            Ok(())
        }
        Some(Child::Missing(cid)) => Err(missing(*cid, depth + 1, &key)),
        Some(Child::Node(child)) => insert_into(child, below, key, value, height, depth + 1),
    }
}

/// Splits a subtree on `layer` into the parts before and after `key` (which it does not hold).
type Halves = (Option<Child>, Option<Child>);

fn split(child: Option<Child>, layer: u32, key: &str, depth: usize) -> Result<Halves, MstError> {
    let node = match child {
        None => return Ok((None, None)),
        Some(Child::Missing(cid)) => return Err(missing(cid, depth, key)),
        Some(Child::Node(node)) => node,
    };
    let mut left = own(node);
    let gap = left.entries.partition_point(|e| *e.key < *key);
    let inner = left.child_slot(gap).take();
    let (lo, hi) = split(inner, layer.saturating_sub(1), key, depth + 1)?;
    *left.child_slot(gap) = lo;
    let right = Node {
        left: hi,
        entries: left.entries.split_off(gap),
        cid: OnceLock::new(),
    };
    Ok((wrap(left), wrap(right)))
}

/// Removes a key known to be present, whose height is `height`, then trims the top of the tree.
pub(crate) fn remove(tree: &mut Mst, key: &str, height: u32) -> Result<(), MstError> {
    remove_from(&mut tree.root, tree.layer, key, height, 0)?;
    while tree.root.entries.is_empty() {
        match &tree.root.left {
            None => {
                tree.layer = 0;
                break;
            }
            Some(Child::Node(n)) => {
                tree.root = n.clone();
                tree.layer = tree.layer.saturating_sub(1);
            }
            Some(Child::Missing(cid)) => return Err(missing(*cid, 1, key)),
        }
    }
    Ok(())
}

fn remove_from(
    node: &mut Arc<Node>,
    layer: u32,
    key: &str,
    height: u32,
    depth: usize,
) -> Result<(), MstError> {
    let n = Arc::make_mut(node);
    n.touch();
    match n.search(key) {
        Ok(i) => {
            // The subtrees either side of the entry become neighbours: merge them.
            let entry = n.entries.remove(i);
            let before = n.child_slot(i).take();
            *n.child_slot(i) = merge(before, entry.right, layer.saturating_sub(1), key, depth + 1)?;
            Ok(())
        }
        Err(gap) => {
            if height >= layer {
                return Ok(());
            }
            let slot = n.child_slot(gap);
            match slot {
                None => Ok(()),
                Some(Child::Missing(cid)) => Err(missing(*cid, depth + 1, key)),
                Some(Child::Node(child)) => {
                    remove_from(child, layer - 1, key, height, depth + 1)?;
                    let empty = child.is_empty();
                    if empty {
                        *slot = None;
                    }
                    Ok(())
                }
            }
        }
    }
}

/// Merges two neighbouring subtrees on `layer` (all of `a`'s keys sort before `b`'s).
fn merge(
    a: Option<Child>,
    b: Option<Child>,
    layer: u32,
    key: &str,
    depth: usize,
) -> Result<Option<Child>, MstError> {
    match (a, b) {
        (None, x) | (x, None) => Ok(x),
        (Some(Child::Missing(cid)), _) | (_, Some(Child::Missing(cid))) => {
            Err(missing(cid, depth, key))
        }
        (Some(Child::Node(a)), Some(Child::Node(b))) => {
            let mut a = own(a);
            let mut b = own(b);
            let last = a.entries.len();
            let tail = a.child_slot(last).take();
            *a.child_slot(last) =
                merge(tail, b.left.take(), layer.saturating_sub(1), key, depth + 1)?;
            a.entries.append(&mut b.entries);
            Ok(Some(Child::Node(Arc::new(a))))
        }
    }
}

/// Replaces the value of a key known to be present.
pub(crate) fn replace_value(node: &mut Arc<Node>, key: &str, value: Cid) {
    let n = Arc::make_mut(node);
    n.touch();
    match n.search(key) {
        Ok(i) => n.entries[i].value = value,
        Err(gap) => {
            if let Some(Child::Node(child)) = n.child_slot(gap) {
                replace_value(child, key, value);
            }
        }
    }
}
