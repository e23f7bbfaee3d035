//! Unit tests of the tree against itself and against hand-made hostile nodes.

use std::collections::HashMap;

use super::*;
use crate::cid::Cid;

fn value(i: usize) -> Cid {
    Cid::for_dag_cbor(&(i as u64).to_be_bytes())
}

fn keys(n: usize) -> Vec<(String, Cid)> {
    (0..n)
        .map(|i| (format!("com.example.record/{i:05}"), value(i)))
        .collect()
}

fn blocks_of(tree: &Mst) -> HashMap<Cid, Vec<u8>> {
    tree.blocks().into_iter().collect()
}

/// Checks the tree's invariants by loading its own blocks.
fn check(tree: &Mst) {
    let loaded = Mst::load(&blocks_of(tree), &tree.root_cid()).expect("valid tree");
    assert_eq!(loaded.root_cid(), tree.root_cid());
    assert_eq!(loaded.len(), tree.len());
    assert_eq!(loaded.iter().count(), tree.len());
}

#[test]
fn empty_tree_is_one_empty_node() {
    let tree = Mst::new();
    assert_eq!(
        tree.root_cid().to_string(),
        "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
    );
    assert_eq!(tree.blocks().len(), 1);
    check(&tree);
    assert!(tree.is_empty());
}

#[test]
fn inserts_in_any_order_match_from_sorted() {
    let all = keys(600);
    let sorted = Mst::from_sorted(all.clone()).expect("sorted");
    check(&sorted);
    let mut forward = Mst::new();
    let mut backward = Mst::new();
    for (k, v) in &all {
        assert_eq!(forward.insert(k.clone(), *v), Ok(None));
    }
    for (k, v) in all.iter().rev() {
        backward.insert(k.clone(), *v).expect("insert");
    }
    assert_eq!(forward.root_cid(), sorted.root_cid());
    assert_eq!(backward.root_cid(), sorted.root_cid());
    assert_eq!(forward.len(), 600);
    // Remove every other key and compare with a tree built without them.
    for (k, v) in all.iter().step_by(2) {
        assert_eq!(forward.remove(k), Some(*v));
        assert_eq!(forward.remove(k), None);
    }
    let rest = Mst::from_sorted(all.iter().skip(1).step_by(2).cloned()).expect("sorted");
    assert_eq!(forward.root_cid(), rest.root_cid());
    check(&forward);
    // Down to nothing.
    for (k, _) in all.iter().skip(1).step_by(2) {
        forward.remove(k).expect("present");
    }
    assert_eq!(forward.root_cid(), Mst::new().root_cid());
    assert_eq!(forward.layer, 0);
}

#[test]
fn clones_do_not_see_edits() {
    let mut a = Mst::from_sorted(keys(300)).expect("sorted");
    let root = a.root_cid();
    let b = a.clone();
    a.insert("com.example.record/99999".into(), value(1))
        .expect("insert");
    a.remove("com.example.record/00007");
    assert_eq!(b.root_cid(), root);
    assert_ne!(a.root_cid(), root);
    check(&a);
    check(&b);
}

#[test]
fn updates_return_the_old_value() {
    let mut t = Mst::from_sorted(keys(50)).expect("sorted");
    let k = "com.example.record/00010".to_string();
    assert_eq!(t.insert(k.clone(), value(999)), Ok(Some(value(10))));
    assert_eq!(t.get(&k), Some(value(999)));
    assert_eq!(t.len(), 50);
    check(&t);
}

#[test]
fn rejects_bad_keys_and_order() {
    assert!(matches!(
        Mst::new().insert("nope".into(), value(0)),
        Err(MstError::InvalidKey { .. })
    ));
    let unsorted = vec![("a/2".to_string(), value(0)), ("a/1".to_string(), value(0))];
    assert!(matches!(
        Mst::from_sorted(unsorted),
        Err(MstError::Unsorted { .. })
    ));
    let dup = vec![("a/1".to_string(), value(0)), ("a/1".to_string(), value(0))];
    assert!(Mst::from_sorted(dup).is_err());
}

#[test]
fn range_prefix_finds_a_collection() {
    let mut entries = keys(100);
    entries.extend((0..30).map(|i| (format!("com.example.zother/{i:03}"), value(i))));
    entries.insert(0, ("com.example.aaa/1".to_string(), value(0)));
    let t = Mst::from_sorted(entries).expect("sorted");
    assert_eq!(t.range_prefix("com.example.record/").count(), 100);
    assert_eq!(t.range_prefix("com.example.zother/").count(), 30);
    assert_eq!(t.range_prefix("com.example.record/0009").count(), 10);
    assert_eq!(t.range_prefix("zzz").count(), 0);
    assert_eq!(t.range_prefix("").count(), 131);
}

fn node_bytes(left: Option<Cid>, entries: Vec<(usize, &[u8], Option<Cid>)>) -> Vec<u8> {
    NodeData {
        left,
        entries: entries
            .into_iter()
            .map(|(p, k, t)| NodeEntry {
                prefix_len: p,
                key_suffix: k.to_vec(),
                value: value(0),
                right: t,
            })
            .collect(),
    }
    .encode()
}

fn load_one(bytes: Vec<u8>) -> Result<Mst, MstError> {
    let cid = Cid::for_dag_cbor(&bytes);
    let blocks = HashMap::from([(cid, bytes)]);
    Mst::load(&blocks, &cid)
}

fn problem(r: Result<Mst, MstError>) -> NodeProblem {
    match r {
        Err(MstError::InvalidNode { problem, .. }) => problem,
        other => panic!("expected an invalid node, got {other:?}"),
    }
}

#[test]
fn hostile_nodes_are_named() {
    // A height-0 key ("k/00" is height 0 in the mst-test-suite).
    let ok = node_bytes(None, vec![(0, b"k/00", None)]);
    assert!(load_one(ok).is_ok());
    // Prefix not maximal: "k/00" then "k/04" written with p = 0.
    let bad = node_bytes(None, vec![(0, b"k/00", None), (0, b"k/04", None)]);
    assert!(matches!(
        problem(load_one(bad)),
        NodeProblem::PrefixLength { expected: 3, .. }
    ));
    // First entry with p > 0.
    let bad = node_bytes(None, vec![(1, b"k/00", None)]);
    assert!(matches!(
        problem(load_one(bad)),
        NodeProblem::PrefixLength { .. }
    ));
    // Out of order.
    let bad = node_bytes(None, vec![(0, b"k/04", None), (3, b"0", None)]);
    assert!(matches!(
        problem(load_one(bad)),
        NodeProblem::Unsorted { .. }
    ));
    // Invalid key.
    let bad = node_bytes(None, vec![(0, b"k00", None)]);
    assert!(matches!(
        problem(load_one(bad)),
        NodeProblem::InvalidKey { .. }
    ));
    // A layer-0 node with a subtree.
    let bad = node_bytes(Some(value(5)), vec![(0, b"k/00", None)]);
    assert!(matches!(
        problem(load_one(bad)),
        NodeProblem::SubtreeBelowLeaves
    ));
    // An untrimmed root.
    let bad = node_bytes(Some(value(5)), vec![]);
    assert!(matches!(problem(load_one(bad)), NodeProblem::UntrimmedRoot));
    // Garbage.
    assert!(matches!(
        problem(load_one(vec![0xa0])),
        NodeProblem::Malformed { .. }
    ));
    // Wrong CID for the bytes.
    let bytes = node_bytes(None, vec![(0, b"k/00", None)]);
    let blocks = HashMap::from([(value(77), bytes)]);
    assert!(matches!(
        problem(Mst::load(&blocks, &value(77))),
        NodeProblem::HashMismatch
    ));
}

#[test]
fn missing_nodes_are_reported_and_partial_trees_work() {
    let t = Mst::from_sorted(keys(400)).expect("sorted");
    let mut blocks = blocks_of(&t);
    let proof: HashMap<Cid, Vec<u8>> = t
        .covering_proof("com.example.record/00123")
        .into_iter()
        .collect();
    // Drop some node that is not the root.
    let victim = *blocks
        .keys()
        .find(|c| **c != t.root_cid() && !proof.contains_key(c))
        .expect("a node");
    blocks.remove(&victim);
    match Mst::load(&blocks, &t.root_cid()) {
        Err(MstError::MissingNode { cid, .. }) => assert_eq!(cid, victim),
        other => panic!("expected a missing node, got {other:?}"),
    }
    let partial = Mst::load_partial(&blocks, &t.root_cid()).expect("partial");
    assert!(partial.is_partial());
    assert_eq!(partial.root_cid(), t.root_cid());

    // Only the proof: the key is there, and removing and re-adding it round-trips the root.
    let mut p = Mst::load_partial(&proof, &t.root_cid()).expect("proof");
    let k = "com.example.record/00123";
    assert_eq!(p.try_get(k), Ok(Some(value(123))));
    assert_eq!(p.try_remove(k), Ok(Some(value(123))));
    let mut full = t.clone();
    full.remove(k);
    assert_eq!(p.root_cid(), full.root_cid());
    assert_eq!(p.insert(k.to_string(), value(123)), Ok(None));
    assert_eq!(p.root_cid(), t.root_cid());
    // A far-away key needs nodes the proof lacks; the tree is left as it was.
    let before = p.root_cid();
    assert!(matches!(
        p.insert("com.example.record/00390x".into(), value(1)),
        Err(MstError::MissingNode { .. })
    ));
    assert_eq!(p.root_cid(), before);
}

#[test]
fn diff_reports_nodes_and_ops() {
    let a = Mst::from_sorted(keys(500)).expect("sorted");
    let mut b = a.clone();
    b.remove("com.example.record/00001");
    b.insert("com.example.record/00002".into(), value(9999))
        .expect("update");
    b.insert("com.example.record/10000".into(), value(1))
        .expect("create");
    let d = a.diff(&b);
    let ops: Vec<_> = d.record_ops.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        ops,
        [
            "com.example.record/00001",
            "com.example.record/00002",
            "com.example.record/10000"
        ]
    );
    let a_nodes: std::collections::HashSet<Cid> = blocks_of(&a).into_keys().collect();
    let b_nodes: std::collections::HashSet<Cid> = blocks_of(&b).into_keys().collect();
    let mut created: Vec<Cid> = b_nodes.difference(&a_nodes).copied().collect();
    let mut deleted: Vec<Cid> = a_nodes.difference(&b_nodes).copied().collect();
    created.sort();
    deleted.sort();
    assert_eq!(d.created_nodes, created);
    assert_eq!(d.deleted_nodes, deleted);
    assert_eq!(a.diff(&a), MstDiff::default());
    let back = b.diff(&a);
    assert_eq!(back.created_nodes, deleted);
}
