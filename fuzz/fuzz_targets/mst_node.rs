//! MST node decoding of arbitrary bytes: never panics, anything accepted re-encodes to the same
//! bytes, and loading the bytes as a one-node tree fails cleanly or gives that CID back.
#![no_main]

use std::collections::HashMap;

use atdata_core::mst::{Mst, NodeData};
use atdata_core::Cid;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(node) = NodeData::decode(data) {
        assert_eq!(node.encode(), data);
    }
    let cid = Cid::for_dag_cbor(data);
    let blocks: HashMap<Cid, &[u8]> = HashMap::from([(cid, data)]);
    if let Ok(tree) = Mst::load(&blocks, &cid) {
        assert_eq!(tree.root_cid(), cid);
        assert_eq!(tree.iter().count(), tree.len());
    }
    if let Ok(tree) = Mst::load_partial(&blocks, &cid) {
        assert_eq!(tree.root_cid(), cid);
    }
});
