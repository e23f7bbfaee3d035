//! Property tests for the MST: the tree depends only on its contents, whatever the history of
//! edits; it survives a round trip through its blocks; iteration is sorted; a diff's record ops
//! turn one tree into the other; covering proofs prove; hostile node bytes never panic.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use atdata_core::mst::{Mst, MstError, NodeData};
use atdata_core::Cid;
use proptest::prelude::*;

/// Keys from a small alphabet, so trees share prefixes and collections.
fn arb_key() -> impl Strategy<Value = String> {
    "[a-c]{1,2}\\.[a-c]{1,2}/[a-z0-9]{1,5}"
}

fn value(seed: u16) -> Cid {
    Cid::for_dag_cbor(&seed.to_be_bytes())
}

fn arb_map(max: usize) -> impl Strategy<Value = BTreeMap<String, Cid>> {
    proptest::collection::btree_map(arb_key(), any::<u16>().prop_map(value), 0..max)
}

fn sorted(map: &BTreeMap<String, Cid>) -> Mst {
    Mst::from_sorted(map.iter().map(|(k, v)| (k.clone(), *v))).expect("valid sorted keys")
}

fn blocks(tree: &Mst) -> HashMap<Cid, Vec<u8>> {
    tree.blocks().into_iter().collect()
}

#[derive(Debug, Clone)]
enum Op {
    Insert(String, Cid),
    Remove(String),
}

/// A final map, and a shuffled history of edits that ends in it: stray keys inserted and later
/// removed, final keys first inserted with a wrong value and later corrected.
fn arb_history() -> impl Strategy<Value = (BTreeMap<String, Cid>, Vec<Op>)> {
    (
        arb_map(200),
        proptest::collection::btree_set(arb_key(), 0..60),
    )
        .prop_flat_map(|(target, strays)| {
            let strays: Vec<String> = strays
                .into_iter()
                .filter(|k| !target.contains_key(k))
                .collect();
            let mut first: Vec<Op> = strays
                .iter()
                .map(|k| Op::Insert(k.clone(), value(1)))
                .collect();
            let mut second: Vec<Op> = strays.iter().map(|k| Op::Remove(k.clone())).collect();
            for (i, (k, v)) in target.iter().enumerate() {
                if i % 3 == 0 {
                    first.push(Op::Insert(k.clone(), value(2)));
                    second.push(Op::Insert(k.clone(), *v));
                } else {
                    first.push(Op::Insert(k.clone(), *v));
                }
            }
            (
                Just(target),
                Just(first).prop_shuffle(),
                Just(second).prop_shuffle(),
            )
                .prop_map(|(target, mut first, second)| {
                    first.extend(second);
                    (target, first)
                })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_history_gives_the_same_tree((target, ops) in arb_history()) {
        let mut tree = Mst::new();
        for op in &ops {
            match op {
                Op::Insert(k, v) => { tree.insert(k.clone(), *v).expect("valid key"); }
                Op::Remove(k) => { prop_assert!(tree.remove(k).is_some()); }
            }
        }
        let expected = sorted(&target);
        prop_assert_eq!(tree.root_cid(), expected.root_cid());
        prop_assert_eq!(tree.len(), target.len());
        // Same nodes, too.
        let ours: BTreeSet<Cid> = blocks(&tree).into_keys().collect();
        let theirs: BTreeSet<Cid> = blocks(&expected).into_keys().collect();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn blocks_load_back(map in arb_map(300)) {
        let tree = sorted(&map);
        let loaded = Mst::load(&blocks(&tree), &tree.root_cid()).expect("own blocks load");
        prop_assert_eq!(loaded.root_cid(), tree.root_cid());
        prop_assert_eq!(loaded.len(), map.len());
        let entries: Vec<(String, Cid)> = loaded.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let expected: Vec<(String, Cid)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
        prop_assert_eq!(entries, expected);
    }

    #[test]
    fn iteration_and_lookups_agree_with_a_btreemap(map in arb_map(300), probe in arb_key(), prefix in "[a-c]{0,2}\\.?[a-c]?/?[a-z0-9]?") {
        let tree = sorted(&map);
        let keys: Vec<&str> = tree.iter().map(|(k, _)| k).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(keys.len(), map.len());
        prop_assert_eq!(tree.get(&probe), map.get(&probe).copied());
        let by_prefix: Vec<&str> = tree.range_prefix(&prefix).map(|(k, _)| k).collect();
        let expected: Vec<&str> = map.keys().map(String::as_str).filter(|k| k.starts_with(&prefix)).collect();
        prop_assert_eq!(by_prefix, expected);
    }

    #[test]
    fn diff_ops_turn_a_into_b(a in arb_map(200), b in arb_map(200)) {
        let (ta, tb) = (sorted(&a), sorted(&b));
        let diff = ta.diff(&tb);
        let mut patched = ta.clone();
        for op in &diff.record_ops {
            prop_assert_eq!(op.old, a.get(&op.key).copied());
            prop_assert_eq!(op.new, b.get(&op.key).copied());
            prop_assert_ne!(op.old, op.new);
            match op.new {
                Some(v) => { patched.insert(op.key.clone(), v).expect("valid key"); }
                None => { patched.remove(&op.key); }
            }
        }
        prop_assert_eq!(patched.root_cid(), tb.root_cid());
        // Every change is listed.
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let changed = keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).count();
        prop_assert_eq!(diff.record_ops.len(), changed);
        // Created / deleted nodes are exactly the block-set differences.
        let na: BTreeSet<Cid> = blocks(&ta).into_keys().collect();
        let nb: BTreeSet<Cid> = blocks(&tb).into_keys().collect();
        prop_assert_eq!(diff.created_nodes.iter().copied().collect::<BTreeSet<_>>(), &nb - &na);
        prop_assert_eq!(diff.deleted_nodes.iter().copied().collect::<BTreeSet<_>>(), &na - &nb);
    }

    #[test]
    fn covering_proofs_prove_and_allow_inversion(map in arb_map(200), key in arb_key(), v in any::<u16>()) {
        let tree = sorted(&map);
        let proof: HashMap<Cid, Vec<u8>> = tree.covering_proof(&key).into_iter().collect();
        let mut partial = Mst::load_partial(&proof, &tree.root_cid()).expect("proof loads");
        prop_assert_eq!(partial.try_get(&key), Ok(map.get(&key).copied()));
        // Toggle the key on the proof alone and compare with the full tree.
        let mut full = tree.clone();
        match map.get(&key) {
            Some(_) => {
                prop_assert_eq!(partial.try_remove(&key).map(|o| o.is_some()), Ok(true));
                full.remove(&key);
            }
            None => {
                prop_assert_eq!(partial.insert(key.clone(), value(v)), Ok(None));
                full.insert(key.clone(), value(v)).expect("valid key");
            }
        }
        prop_assert_eq!(partial.root_cid(), full.root_cid());
    }

    #[test]
    fn node_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(node) = NodeData::decode(&bytes) {
            prop_assert_eq!(node.encode(), bytes.clone());
        }
        let cid = Cid::for_dag_cbor(&bytes);
        let source = HashMap::from([(cid, bytes)]);
        let _ = Mst::load(&source, &cid);
    }

    #[test]
    fn mutated_nodes_never_load_silently(map in arb_map(60), pos in any::<usize>(), byte in any::<u8>()) {
        // Flip one byte of one node and relabel it with its new hash: loading either fails or
        // gives a valid tree whose root is that relabelled CID.
        let tree = sorted(&map);
        let mut all = blocks(&tree);
        let root = tree.root_cid();
        let mut node = all.remove(&root).expect("root block");
        if !node.is_empty() {
            let i = pos % node.len();
            node[i] ^= byte | 1;
        }
        let cid = Cid::for_dag_cbor(&node);
        all.insert(cid, node);
        match Mst::load(&all, &cid) {
            Ok(t) => prop_assert_eq!(t.root_cid(), cid),
            Err(MstError::InvalidNode { .. } | MstError::MissingNode { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error kind: {e}"),
        }
    }
}
