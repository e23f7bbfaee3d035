//! The in-memory tree: nodes shared by reference count, each caching its own CID.

use std::sync::{Arc, OnceLock};

use super::edit;
use super::error::MstError;
use super::iter::Iter;
use super::key::{common_prefix_len, key_height, key_problem};
use super::node;
use crate::cid::Cid;

/// A link from a node to a subtree one layer down.
#[derive(Clone)]
pub(crate) enum Child {
    /// A subtree held in memory.
    Node(Arc<Node>),
    /// A subtree known only by its CID (partial trees, see [`Mst::load_partial`]).
    Missing(Cid),
}

impl Child {
    pub(crate) fn cid(&self) -> Cid {
        match self {
            Child::Node(n) => n.cid(),
            Child::Missing(cid) => *cid,
        }
    }
}

/// One node: the subtree left of its first key, then its entries, each with the subtree to its
/// right.
#[derive(Clone, Default)]
pub(crate) struct Node {
    pub(crate) left: Option<Child>,
    pub(crate) entries: Vec<Entry>,
    /// The node's CID once computed; cleared by every edit of this node (edits go through
    /// [`Arc::make_mut`] and [`Node::touch`], so a shared node is copied, never changed).
    pub(crate) cid: OnceLock<Cid>,
}

/// A key, its value and the subtree right of it.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) key: Arc<str>,
    pub(crate) value: Cid,
    pub(crate) right: Option<Child>,
}

impl Node {
    /// The node's CID, computed (with any uncached subtree CIDs) on first use.
    pub(crate) fn cid(&self) -> Cid {
        *self.cid.get_or_init(|| Cid::for_dag_cbor(&self.encode()))
    }

    /// The node's block: canonical DAG-CBOR with prefix-compressed keys.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.entries.len() * 96);
        node::write_node_start(&mut out, self.entries.len());
        let mut prev: &[u8] = &[];
        for e in &self.entries {
            let key = e.key.as_bytes();
            let p = common_prefix_len(prev, key);
            let right = e.right.as_ref().map(Child::cid);
            node::write_entry(&mut out, p, &key[p..], &e.value, right.as_ref());
            prev = key;
        }
        let left = self.left.as_ref().map(Child::cid);
        node::write_node_end(&mut out, left.as_ref());
        out
    }

    /// The subtree in gap `gap`: 0 is left of the first entry, `i` right of entry `i - 1`.
    pub(crate) fn child(&self, gap: usize) -> Option<&Child> {
        match gap.checked_sub(1) {
            None => self.left.as_ref(),
            Some(i) => self.entries.get(i).and_then(|e| e.right.as_ref()),
        }
    }

    /// The slot of gap `gap` (see [`Node::child`]); `gap` must be at most `entries.len()`.
    pub(crate) fn child_slot(&mut self, gap: usize) -> &mut Option<Child> {
        match gap.checked_sub(1).and_then(|i| self.entries.get_mut(i)) {
            Some(e) => &mut e.right,
            None => &mut self.left,
        }
    }

    /// Whether the node holds nothing at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.left.is_none()
    }

    /// Forgets the cached CID; call after every edit.
    pub(crate) fn touch(&mut self) {
        self.cid = OnceLock::new();
    }

    /// Index of `key` among the entries, or the gap it would fall in.
    pub(crate) fn search(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| (*e.key).cmp(key))
    }
}

/// A Merkle Search Tree held in memory: the key/value map of an atproto repository, keys being
/// repo paths (`collection/rkey`) and values record CIDs.
///
/// The tree's shape depends only on its contents, so any two trees with the same entries have the
/// same [`root_cid`](Mst::root_cid), whatever the order of edits that built them. Nodes are shared
/// between clones (cloning is cheap; an edit copies only the nodes on its path) and cache their
/// CIDs, so the root CID after a few edits costs only the changed nodes.
///
/// ```
/// use atdata_core::mst::Mst;
/// use atdata_core::Cid;
/// let post = Cid::for_dag_cbor(b"\xa0");
/// let mut tree = Mst::new();
/// tree.insert("app.bsky.feed.post/3k2a".into(), post)?;
/// tree.insert("app.bsky.feed.like/3k2b".into(), post)?;
/// assert_eq!(tree.get("app.bsky.feed.post/3k2a"), Some(post));
/// assert_eq!(tree.len(), 2);
///
/// // The same contents give the same root, however they were built.
/// let sorted = Mst::from_sorted([
///     ("app.bsky.feed.like/3k2b".to_string(), post),
///     ("app.bsky.feed.post/3k2a".to_string(), post),
/// ])?;
/// assert_eq!(sorted.root_cid(), tree.root_cid());
///
/// // Write it out and read it back.
/// let blocks: std::collections::HashMap<_, _> = tree.blocks().into_iter().collect();
/// let loaded = Mst::load(&blocks, &tree.root_cid())?;
/// assert_eq!(loaded.iter().count(), 2);
/// # Ok::<(), atdata_core::mst::MstError>(())
/// ```
#[derive(Clone, Default)]
pub struct Mst {
    pub(crate) root: Arc<Node>,
    /// The root's layer (the height of its keys; 0 for the empty tree).
    pub(crate) layer: u32,
    /// Number of keys held in memory.
    pub(crate) len: usize,
    /// Whether some subtree is known only by CID.
    pub(crate) partial: bool,
}

impl std::fmt::Debug for Mst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mst")
            .field("root", &self.root_cid())
            .field("len", &self.len)
            .field("layer", &self.layer)
            .field("partial", &self.partial)
            .finish()
    }
}

/// Checks a key against the repo-path rules.
pub(crate) fn check_key(key: &str) -> Result<(), MstError> {
    match key_problem(key) {
        None => Ok(()),
        Some(reason) => Err(MstError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
    }
}

impl Mst {
    /// An empty tree. Its root is a node with no entries, as the spec requires for an empty
    /// repository.
    pub fn new() -> Mst {
        Mst::default()
    }

    /// Builds a tree from entries in strictly increasing key order, in one pass per layer (much
    /// faster than inserting one at a time). Fails on an invalid key or a key out of order.
    pub fn from_sorted(entries: impl IntoIterator<Item = (String, Cid)>) -> Result<Mst, MstError> {
        let mut items: Vec<(Arc<str>, Cid, u32)> = Vec::new();
        for (key, value) in entries {
            check_key(&key)?;
            if let Some((previous, _, _)) = items.last() {
                if **previous >= *key {
                    return Err(MstError::Unsorted {
                        previous: previous.to_string(),
                        key,
                    });
                }
            }
            let height = key_height(key.as_bytes());
            items.push((Arc::from(key), value, height));
        }
        let layer = items.iter().map(|i| i.2).max().unwrap_or(0);
        let root = build(&items, layer).unwrap_or_default();
        Ok(Mst {
            root: Arc::new(root),
            layer,
            len: items.len(),
            partial: false,
        })
    }

    /// The value stored under `key`. On a partial tree, `None` also when the key would sit in a
    /// subtree that is not loaded; [`Mst::try_get`] tells the two apart.
    pub fn get(&self, key: &str) -> Option<Cid> {
        self.try_get(key).ok().flatten()
    }

    /// The value stored under `key`, or [`MstError::MissingNode`] when finding out needs a node a
    /// partial tree lacks.
    pub fn try_get(&self, key: &str) -> Result<Option<Cid>, MstError> {
        let mut node = &*self.root;
        let mut depth = 0;
        loop {
            match node.search(key) {
                Ok(i) => return Ok(Some(node.entries[i].value)),
                Err(gap) => match node.child(gap) {
                    None => return Ok(None),
                    Some(Child::Node(n)) => node = n,
                    Some(Child::Missing(cid)) => {
                        return Err(MstError::MissingNode {
                            cid: *cid,
                            depth: depth + 1,
                            near: Some(key.to_owned()),
                        })
                    }
                },
            }
            depth += 1;
        }
    }

    /// Sets `key` to `value`, returning the value it replaces. Fails on an invalid key, or on a
    /// partial tree when the edit needs a node that is not loaded (the tree is then unchanged).
    pub fn insert(&mut self, key: String, value: Cid) -> Result<Option<Cid>, MstError> {
        check_key(&key)?;
        let previous = self.try_get(&key)?;
        if previous == Some(value) {
            return Ok(previous);
        }
        if let Some(old) = previous {
            edit::replace_value(&mut self.root, &key, value);
            return Ok(Some(old));
        }
        let height = key_height(key.as_bytes());
        self.transaction(|tree| edit::insert(tree, Arc::from(key), value, height))?;
        self.len += 1;
        Ok(None)
    }

    /// Removes `key`, returning its value. On a partial tree, `None` also when the edit needs a
    /// node that is not loaded (the tree is then unchanged); [`Mst::try_remove`] reports that.
    pub fn remove(&mut self, key: &str) -> Option<Cid> {
        self.try_remove(key).ok().flatten()
    }

    /// Removes `key`, returning its value, or [`MstError::MissingNode`] when a partial tree lacks
    /// a node the edit needs (the tree is then unchanged).
    pub fn try_remove(&mut self, key: &str) -> Result<Option<Cid>, MstError> {
        let Some(value) = self.try_get(key)? else {
            return Ok(None);
        };
        let height = key_height(key.as_bytes());
        self.transaction(|tree| edit::remove(tree, key, height))?;
        self.len -= 1;
        Ok(Some(value))
    }

    /// Runs an edit; on a partial tree the edit works on a copy that replaces the tree only if
    /// it succeeds (a complete tree has every node, so its edits cannot fail half-way).
    fn transaction(
        &mut self,
        edit: impl FnOnce(&mut Mst) -> Result<(), MstError>,
    ) -> Result<(), MstError> {
        if !self.partial {
            return edit(self);
        }
        let mut copy = self.clone();
        edit(&mut copy)?;
        *self = copy;
        Ok(())
    }

    /// Number of keys (on a partial tree, of the keys held in memory).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree has no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether some subtrees are known only by their CID (see [`Mst::load_partial`]).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Every key and value, in key order (on a partial tree, those held in memory).
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(&self.root)
    }

    /// The keys starting with `prefix` and their values, in key order: with `prefix` =
    /// `"app.bsky.feed.post/"`, every post. Costs a descent to the first match, then one step per
    /// key.
    pub fn range_prefix<'a>(
        &'a self,
        prefix: &str,
    ) -> impl Iterator<Item = (&'a str, &'a Cid)> + 'a {
        // The prefix is copied so the keys borrow only from the tree.
        let owned = prefix.to_owned();
        Iter::seek(&self.root, prefix).take_while(move |(key, _)| key.starts_with(owned.as_str()))
    }

    /// The root node's CID: the `data` field of a repository commit. Only nodes changed since
    /// the last call are hashed again.
    pub fn root_cid(&self) -> Cid {
        self.root.cid()
    }

    /// Every node block of the tree (root first), for writing a CAR. Record blocks are not
    /// included: the tree holds only their CIDs. A partial tree gives the nodes it holds.
    pub fn blocks(&self) -> Vec<(Cid, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![&*self.root];
        while let Some(node) = stack.pop() {
            out.push((node.cid(), node.encode()));
            // Push right to left so the output is a pre-order walk, left first.
            for gap in (0..=node.entries.len()).rev() {
                if let Some(Child::Node(n)) = node.child(gap) {
                    stack.push(n);
                }
            }
        }
        out
    }
}

/// Builds the subtree on `layer` holding `items` (sorted, none above `layer`); `None` when empty.
fn build(items: &[(Arc<str>, Cid, u32)], layer: u32) -> Option<Node> {
    if items.is_empty() {
        return None;
    }
    let sub = |range: &[(Arc<str>, Cid, u32)]| -> Option<Child> {
        let below = layer.checked_sub(1)?;
        build(range, below).map(|n| Child::Node(Arc::new(n)))
    };
    let mut node = Node::default();
    let mut start = 0;
    for (i, (key, value, height)) in items.iter().enumerate() {
        if *height == layer {
            *node.child_slot(node.entries.len()) = sub(&items[start..i]);
            node.entries.push(Entry {
                key: key.clone(),
                value: *value,
                right: None,
            });
            start = i + 1;
        }
    }
    *node.child_slot(node.entries.len()) = sub(&items[start..]);
    Some(node)
}
