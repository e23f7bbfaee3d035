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
    let trusted = Mst::load(&Trusted(&blocks), &cid).map(|t| t.root_cid());
    let checked = Mst::load(&blocks, &cid);
    // Blocks stored under their own hash: vouching for hashes changes nothing.
    assert_eq!(trusted, checked.clone().map(|t| t.root_cid()));
    checked
}

/// A source that vouches for its blocks' hashes ([`BlockSource::hashes_verified`]), as the
/// firehose's does; the tests store blocks under their hash unless they say otherwise.
struct Trusted<'a>(&'a HashMap<Cid, Vec<u8>>);

impl BlockSource for Trusted<'_> {
    fn get_block(&self, cid: &Cid) -> Option<&[u8]> {
        self.0.get_block(cid)
    }

    fn hashes_verified(&self) -> bool {
        true
    }
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
fn trusted_sources_keep_every_other_check() {
    let ok = node_bytes(None, vec![(0, b"k/00", None), (3, b"4", None)]);
    let load = |cid: Cid, bytes: Vec<u8>| {
        let blocks = HashMap::from([(cid, bytes)]);
        Mst::load(&Trusted(&blocks), &cid)
    };
    assert!(load(Cid::for_dag_cbor(&ok), ok.clone()).is_ok());
    // The right hash under the raw codec (a CAR's hash check accepts it): not a node link.
    let raw = Cid::hash_of(crate::cid::RAW, &ok);
    assert!(matches!(
        problem(load(raw, ok.clone())),
        NodeProblem::HashMismatch
    ));
    // Non-canonical bytes under their own hash: the `e` array length in two bytes, then the
    // entry maps' keys out of order (`p` before `k`).
    let mut long_head = ok.clone();
    assert_eq!(long_head[3], 0x82);
    long_head.splice(3..4, [0x98, 0x02]);
    let cid = Cid::for_dag_cbor(&long_head);
    assert!(matches!(
        problem(load(cid, long_head)),
        NodeProblem::Malformed { .. }
    ));
    let mut swapped = ok.clone();
    let k_at = 5;
    assert_eq!(&swapped[k_at..k_at + 2], b"\x61k");
    // `k`, 4-byte suffix `k/00` (head + 4), then `p`, 0.
    let k_field: Vec<u8> = swapped[k_at..k_at + 7].to_vec();
    let p_field: Vec<u8> = swapped[k_at + 7..k_at + 10].to_vec();
    assert_eq!(p_field, b"\x61p\x00");
    swapped.splice(k_at..k_at + 10, p_field.into_iter().chain(k_field));
    let cid = Cid::for_dag_cbor(&swapped);
    assert!(matches!(
        problem(load(cid, swapped)),
        NodeProblem::Malformed { .. }
    ));
    // Canonical DAG-CBOR but not the canonical node: a prefix that is not maximal.
    let short_prefix = node_bytes(None, vec![(0, b"k/00", None), (0, b"k/04", None)]);
    let cid = Cid::for_dag_cbor(&short_prefix);
    assert!(matches!(
        problem(load(cid, short_prefix)),
        NodeProblem::PrefixLength { .. }
    ));
}

#[test]
fn trusted_sources_load_the_same_trees() {
    for n in [0, 1, 5, 60, 400] {
        let t = Mst::from_sorted(keys(n)).expect("sorted");
        let blocks = blocks_of(&t);
        let loaded = Mst::load(&Trusted(&blocks), &t.root_cid()).expect("trusted load");
        assert_eq!(loaded.len(), t.len());
        assert!(loaded.iter().eq(t.iter()));
        if n == 0 {
            continue;
        }
        // A proof, edited: the same roots as from the checked loader.
        let key = format!("com.example.record/{:05}", n / 2);
        let proof: HashMap<Cid, Vec<u8>> = t.covering_proof(&key).into_iter().collect();
        let mut trusted = Mst::load_partial(&Trusted(&proof), &t.root_cid()).expect("proof");
        let mut checked = Mst::load_partial(&proof, &t.root_cid()).expect("proof");
        assert_eq!(trusted.try_remove(&key), checked.try_remove(&key));
        assert_eq!(trusted.root_cid(), checked.root_cid());
    }
}

/// What lets the trusted path skip encoding a node again: whatever `NodeData::decode` accepts
/// is its own encoding, and a node the loader accepts from a trusted source is one it accepts
/// from a checked one (blocks stored under their hash). Every byte of some real nodes is set to
/// every value.
#[test]
fn strict_decoding_implies_the_canonical_encoding() {
    let t = Mst::from_sorted(keys(400)).expect("sorted");
    let mut nodes: Vec<Vec<u8>> = t.blocks().into_iter().map(|(_, b)| b).collect();
    nodes.sort_by_key(Vec::len);
    // The smallest nodes of each kind: a leaf, one with a left subtree, one with a right one.
    let mut picked: Vec<Vec<u8>> = Vec::new();
    fn has_left(n: &NodeData) -> bool {
        n.left.is_some()
    }
    fn has_right(n: &NodeData) -> bool {
        n.entries.iter().any(|e| e.right.is_some())
    }
    fn is_leaf(n: &NodeData) -> bool {
        !has_left(n) && !has_right(n)
    }
    let kinds: [fn(&NodeData) -> bool; 3] = [is_leaf, has_left, has_right];
    for kind in kinds {
        let node = nodes
            .iter()
            .find(|b| NodeData::decode(b).map(|n| kind(&n)).unwrap_or(false))
            .expect("a node of each kind");
        picked.push(node.clone());
    }
    let mut accepted = 0;
    for node in &picked {
        for at in 0..node.len() {
            for byte in 0..=255u8 {
                let mut bytes = node.clone();
                bytes[at] = byte;
                if let Ok(data) = NodeData::decode(&bytes) {
                    assert_eq!(data.encode(), bytes, "byte {at} set to {byte:#04x}");
                }
                let cid = Cid::for_dag_cbor(&bytes);
                let blocks = HashMap::from([(cid, bytes)]);
                let trusted = Mst::load_partial(&Trusted(&blocks), &cid).map(|t| t.root_cid());
                let checked = Mst::load_partial(&blocks, &cid).map(|t| t.root_cid());
                assert_eq!(trusted, checked, "byte {at} set to {byte:#04x}");
                accepted += usize::from(checked.is_ok());
            }
        }
    }
    // Changing a key or value byte keeps a valid node now and then.
    assert!(accepted > picked.len());
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
