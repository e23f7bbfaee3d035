//! Two suites on real and generated trees, printing their counts (a plain `main`, so the counts
//! are never captured):
//!
//! 1. All 16,384 cases of the mst-test-suite's exhaustive diff tests
//!    (`testdata/corpus/mst-test-suite/mst-diff-exhaustive.jsonl.gz`): load both trees from their
//!    CARs, diff them, compare created and deleted nodes (as sets) and record ops (exactly).
//!    Proofs: `proof_nodes` must equal the union of each changed key's inclusion or exclusion
//!    path (see [`key_proof`]); undoing the ops in reverse order on a tree loaded from
//!    `inductive_proof_nodes` alone must give back the older root, and dropping any one of those
//!    blocks must make that fail (so the set is exactly what our inversion needs). The counts of
//!    cases where these sets equal our `covering_proof`s are printed.
//! 2. Every full repository CAR in `testdata/corpus/`: find the MST through the commit, load it
//!    with every check, compare the record count with the corpus README and the root with the
//!    commit's `data`; the partial `repo_slice.car` must fail to load, naming the missing node.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead as _;

use atdata_core::car::CarReader;
use atdata_core::mst::{key_height, Mst, MstError, NodeData};
use atdata_core::{cbor, Cid};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus");
const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/corpus/mst-test-suite"
);

/// A tree loaded from one of the suite's CARs, with its blocks.
struct Loaded {
    tree: Mst,
    blocks: HashMap<Cid, Vec<u8>>,
}

fn load_suite_car(path: &str) -> Result<Loaded, String> {
    let bytes = std::fs::read(format!("{SUITE}/{path}")).map_err(|e| format!("{path}: {e}"))?;
    let reader = CarReader::new(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let root = *reader.roots().first().ok_or("no root")?;
    let blocks: HashMap<Cid, Vec<u8>> = reader
        .index()
        .map_err(|e| format!("{path}: {e}"))?
        .into_iter()
        .map(|(c, b)| (c, b.to_vec()))
        .collect();
    let tree = Mst::load(&blocks, &root).map_err(|e| format!("{path}: {e}"))?;
    if tree.root_cid() != root {
        return Err(format!(
            "{path}: root_cid {} != CAR root {root}",
            tree.root_cid()
        ));
    }
    // The CARs hold only MST nodes: our blocks must be exactly theirs.
    let ours: BTreeSet<Cid> = tree.blocks().into_iter().map(|(c, _)| c).collect();
    let theirs: BTreeSet<Cid> = blocks.keys().copied().collect();
    if ours != theirs {
        return Err(format!("{path}: blocks() differs from the CAR's blocks"));
    }
    Ok(Loaded { tree, blocks })
}

fn cid_set(v: &serde_json::Value) -> Result<BTreeSet<Cid>, String> {
    v.as_array()
        .ok_or("not an array")?
        .iter()
        .map(|s| {
            s.as_str()
                .ok_or("not a string")?
                .parse()
                .map_err(|e| format!("bad CID: {e}"))
        })
        .collect()
}

fn opt_cid(v: &serde_json::Value) -> Result<Option<Cid>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        v => v
            .as_str()
            .ok_or("not a string")?
            .parse()
            .map(Some)
            .map_err(|e| format!("bad CID: {e}")),
    }
}

/// A key's proof in a tree given by its blocks, our reading of the upstream README's
/// `proof_nodes` (it matches all 16,384 cases): the nodes a lookup of the key visits from the
/// root. For a present key (inclusion) the walk ends at the node holding it. For an absent key
/// (exclusion) it goes down the key's gaps to the bottom, except that it ends at a node whose
/// keys are on a lower layer than the key's height (the key would have to sit higher). Decodes
/// the blocks itself, independently of `Mst`.
fn key_proof(blocks: &HashMap<Cid, Vec<u8>>, root: Cid, key: &str) -> Vec<Cid> {
    let height = key_height(key.as_bytes());
    let mut out = Vec::new();
    let mut next = Some(root);
    while let Some(cid) = next.take() {
        out.push(cid);
        let Some(node) = blocks.get(&cid).and_then(|b| NodeData::decode(b).ok()) else {
            break;
        };
        let mut prev: Vec<u8> = Vec::new();
        let mut keys = Vec::new();
        for e in &node.entries {
            let mut k = prev[..e.prefix_len.min(prev.len())].to_vec();
            k.extend_from_slice(&e.key_suffix);
            prev.clone_from(&k);
            keys.push(k);
        }
        // Stop at the key, or where the key's height is above the node's keys (it would have
        // to be higher up). Nodes without keys don't stop the walk.
        let above = keys.first().is_some_and(|k| key_height(k) < height);
        if keys.iter().any(|k| k == key.as_bytes()) || above {
            break;
        }
        let gap = keys
            .iter()
            .filter(|k| k.as_slice() < key.as_bytes())
            .count();
        next = match gap {
            0 => node.left,
            i => node.entries[i - 1].right,
        };
    }
    out
}

#[derive(Default)]
struct ProofStats {
    with_ops: usize,
    proof_is_covering: usize,
    inductive_is_covering: usize,
    inductive_within_covering: usize,
    inductive_minimal: usize,
}

fn diff_case(
    case: &serde_json::Value,
    cars: &mut HashMap<String, Loaded>,
    stats: &mut ProofStats,
) -> Result<(), String> {
    let inputs = &case["inputs"];
    let mut paths = Vec::new();
    for side in ["mst_a", "mst_b"] {
        let path = inputs[side].as_str().ok_or("no input path")?.to_string();
        if !cars.contains_key(&path) {
            let loaded = load_suite_car(&path)?;
            cars.insert(path.clone(), loaded);
        }
        paths.push(path);
    }
    let a = &cars[&paths[0]];
    let b = &cars[&paths[1]];
    let diff = a.tree.diff(&b.tree);
    let results = &case["results"];

    let created: BTreeSet<Cid> = diff.created_nodes.iter().copied().collect();
    if created != cid_set(&results["created_nodes"])? {
        return Err("created_nodes differ".into());
    }
    let deleted: BTreeSet<Cid> = diff.deleted_nodes.iter().copied().collect();
    if deleted != cid_set(&results["deleted_nodes"])? {
        return Err("deleted_nodes differ".into());
    }
    let expected_ops = results["record_ops"].as_array().ok_or("no record_ops")?;
    if expected_ops.len() != diff.record_ops.len() {
        return Err(format!(
            "{} record ops, expected {}",
            diff.record_ops.len(),
            expected_ops.len()
        ));
    }
    for (op, want) in diff.record_ops.iter().zip(expected_ops) {
        let key = want["rpath"].as_str().ok_or("no rpath")?;
        if op.key != key
            || op.old != opt_cid(&want["old_value"])?
            || op.new != opt_cid(&want["new_value"])?
        {
            return Err(format!("record op {op:?} != {want}"));
        }
    }

    // Proofs, all in the newer tree, checked only when something changed (with no ops every
    // proof set is empty).
    if diff.record_ops.is_empty() {
        return check_empty(results);
    }
    stats.with_ops += 1;
    let root_b = b.tree.root_cid();
    let proof = cid_set(&results["proof_nodes"])?;
    let paths: BTreeSet<Cid> = diff
        .record_ops
        .iter()
        .flat_map(|op| key_proof(&b.blocks, root_b, &op.key))
        .collect();
    if proof != paths {
        return Err("proof_nodes differ from the inclusion/exclusion proofs".into());
    }
    let covering: BTreeSet<Cid> = diff
        .record_ops
        .iter()
        .flat_map(|op| b.tree.covering_proof(&op.key))
        .map(|(cid, _)| cid)
        .collect();
    let inductive = cid_set(&results["inductive_proof_nodes"])?;
    stats.proof_is_covering += usize::from(proof == covering);
    stats.inductive_is_covering += usize::from(inductive == covering);
    stats.inductive_within_covering += usize::from(inductive.is_subset(&covering));

    // The inductive proof is enough: undo the ops (in reverse order) on the newer tree loaded
    // from those blocks alone, and the older root comes back. And it is minimal for our
    // inversion: without any one of its blocks, the inversion fails.
    let invert = |set: &BTreeSet<Cid>| -> Result<Cid, String> {
        let blocks: HashMap<Cid, &[u8]> = set
            .iter()
            .filter_map(|c| b.blocks.get(c).map(|bytes| (*c, &bytes[..])))
            .collect();
        let mut partial = Mst::load_partial(&blocks, &root_b).map_err(|e| e.to_string())?;
        for op in diff.record_ops.iter().rev() {
            match op.old {
                Some(old) => partial.insert(op.key.clone(), old).map(|_| ()),
                None => partial.try_remove(&op.key).map(|_| ()),
            }
            .map_err(|e| format!("inverting {op:?}: {e}"))?;
        }
        Ok(partial.root_cid())
    };
    if invert(&inductive)? != a.tree.root_cid() {
        return Err("inverting the ops on the inductive proof gives another root".into());
    }
    if invert(&covering)? != a.tree.root_cid() {
        return Err("inverting the ops on the covering proofs gives another root".into());
    }
    let minimal = inductive.iter().all(|drop| {
        let mut fewer = inductive.clone();
        fewer.remove(drop);
        invert(&fewer).is_err()
    });
    stats.inductive_minimal += usize::from(minimal);
    Ok(())
}

/// With no record ops, every proof set must be empty.
fn check_empty(results: &serde_json::Value) -> Result<(), String> {
    for field in ["proof_nodes", "inductive_proof_nodes"] {
        if !cid_set(&results[field])?.is_empty() {
            return Err(format!("no ops, but {field} is not empty"));
        }
    }
    Ok(())
}

fn run_diff_suite() -> (usize, usize) {
    let started = std::time::Instant::now();
    let file = std::fs::File::open(format!("{SUITE}/mst-diff-exhaustive.jsonl.gz"))
        .unwrap_or_else(|e| panic!("cannot open the diff suite: {e}"));
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut cars = HashMap::new();
    let mut stats = ProofStats::default();
    let (mut pass, mut fail) = (0, 0);
    for line in reader.lines() {
        let line = line.unwrap_or_else(|e| panic!("reading the diff suite: {e}"));
        let case: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad JSON line: {e}"));
        match diff_case(&case, &mut cars, &mut stats) {
            Ok(()) => pass += 1,
            Err(e) => {
                fail += 1;
                if fail <= 20 {
                    println!("  FAIL {}: {e}", case["file"]);
                }
            }
        }
    }
    if pass + fail != 16_384 {
        println!("  FAIL: {} cases, expected 16384", pass + fail);
        fail += 1;
    }
    println!(
        "  proofs, in the {} cases with ops: proof_nodes = covering proofs in {}; \
         inductive_proof_nodes = covering proofs in {}, within them in {}, \
         minimal for our inversion in {}",
        stats.with_ops,
        stats.proof_is_covering,
        stats.inductive_is_covering,
        stats.inductive_within_covering,
        stats.inductive_minimal
    );
    println!(
        "mst-diff-exhaustive: {pass} passed, {fail} failed ({} CARs, {:.1?})",
        cars.len(),
        started.elapsed()
    );
    (pass, fail)
}

/// Full repositories in the corpus and their record counts (corpus README), plus collection
/// counts where the README gives them.
/// A repository CAR's path, its record count and some `(collection prefix, count)` pairs.
type RepoCase = (&'static str, usize, &'static [(&'static str, usize)]);

const REPOS: &[RepoCase] = &[
    (
        "repo-stream/car-samples/midsize.car",
        11_585,
        &[
            ("app.bsky.feed.like/", 7_192),
            ("app.bsky.feed.post/", 3_021),
            ("app.bsky.feed.repost/", 676),
            ("app.bsky.graph.follow/", 419),
        ],
    ),
    ("repo-stream/car-samples/little.car", 278, &[]),
    ("repo-stream/car-samples/tiny.car", 8, &[]),
    ("repo-stream/car-samples/empty.car", 0, &[]),
    ("indigo/testing/testdata/fakermaker.repo.car", 142, &[]),
    ("indigo/testing/testdata/paul_staging.repo.car", 185, &[]),
    (
        "indigo/atproto/repo/testdata/bnewbold.robocracy.org.20250310005405.car",
        38,
        &[],
    ),
    (
        "indigo/testing/testdata/bafyreieovfuizojpw3zresz7sx3nk4trm2by23pt5rxbey3jme4uo5ogiu.car",
        6,
        &[],
    ),
    ("indigo/testing/testdata/divy.repo", 6, &[]),
    ("indigo/testing/testdata/greenground.repo.car", 2, &[]),
    ("rsky/rsky-repo/resources/test/valid_repo.car", 6, &[]),
    ("arroba/arroba/tests/snarfed2.car", 5, &[]),
];

/// Reads a repository CAR: its blocks and the commit's `data` (the MST root).
fn open_repo(bytes: &[u8]) -> Result<(atdata_core::CidMap<&[u8]>, Cid), String> {
    let reader = CarReader::new(bytes).map_err(|e| e.to_string())?;
    let commit_cid = *reader.roots().first().ok_or("no root")?;
    let blocks = reader.index().map_err(|e| e.to_string())?;
    let commit = blocks.get(&commit_cid).ok_or("commit block missing")?;
    let commit = cbor::decode_ref(commit).map_err(|e| e.to_string())?;
    let data = commit
        .get("data")
        .and_then(|d| d.as_link())
        .ok_or("commit has no `data` link")?;
    Ok((blocks, data))
}

fn repo_case(path: &str, records: usize, collections: &[(&str, usize)]) -> Result<String, String> {
    let bytes = std::fs::read(format!("{CORPUS}/{path}")).map_err(|e| e.to_string())?;
    let (blocks, data) = open_repo(&bytes)?;
    let tree = Mst::load(&blocks, &data).map_err(|e| e.to_string())?;
    if tree.len() != records || tree.iter().count() != records {
        return Err(format!("{} records, the README says {records}", tree.len()));
    }
    if tree.root_cid() != data {
        return Err(format!(
            "root_cid {} != commit data {data}",
            tree.root_cid()
        ));
    }
    for (prefix, count) in collections {
        let got = tree.range_prefix(prefix).count();
        if got != *count {
            return Err(format!(
                "{got} keys under {prefix}, the README says {count}"
            ));
        }
    }
    // Rebuilding from the sorted entries gives the same root, and so does the block list.
    let rebuilt = Mst::from_sorted(tree.iter().map(|(k, v)| (k.to_string(), *v)))
        .map_err(|e| e.to_string())?;
    if rebuilt.root_cid() != data {
        return Err("from_sorted of the loaded entries gives another root".into());
    }
    for (cid, node) in tree.blocks() {
        if blocks.get(&cid).copied() != Some(&node[..]) {
            return Err(format!("blocks(): node {cid} differs from the CAR's block"));
        }
    }
    Ok(format!("{records} records"))
}

fn run_repos() -> (usize, usize) {
    let (mut pass, mut fail) = (0, 0);
    for &(path, records, collections) in REPOS {
        let name = path.rsplit('/').next().unwrap_or(path);
        match repo_case(path, records, collections) {
            Ok(note) => {
                pass += 1;
                println!("  {name}: ok ({note})");
            }
            Err(e) => {
                fail += 1;
                println!("  FAIL {name}: {e}");
            }
        }
    }
    // The partial slice: a full load must fail and name a missing node; a partial load works.
    let slice = "indigo/testing/testdata/repo_slice.car";
    let result = std::fs::read(format!("{CORPUS}/{slice}"))
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            let (blocks, data) = open_repo(&bytes)?;
            let missing = match Mst::load(&blocks, &data) {
                Err(MstError::MissingNode { cid, .. }) => cid,
                Err(e) => return Err(format!("failed, but not on a missing node: {e}")),
                Ok(_) => return Err("loaded a partial repo".into()),
            };
            if blocks.contains_key(&missing) {
                return Err(format!("reported {missing} missing, but it is there"));
            }
            let partial = Mst::load_partial(&blocks, &data).map_err(|e| e.to_string())?;
            if partial.root_cid() != data || !partial.is_partial() {
                return Err("partial load has the wrong root".into());
            }
            Ok(format!(
                "full load reports {missing} missing; partial load holds {} keys",
                partial.len()
            ))
        });
    match result {
        Ok(note) => {
            pass += 1;
            println!("  repo_slice.car: ok ({note})");
        }
        Err(e) => {
            fail += 1;
            println!("  FAIL repo_slice.car: {e}");
        }
    }
    println!("corpus-repos: {pass} passed, {fail} failed");
    (pass, fail)
}

fn main() {
    let (p1, f1) = run_diff_suite();
    let (p2, f2) = run_repos();
    println!("mst-suites: {} passed, {} failed", p1 + p2, f1 + f2);
    if f1 + f2 > 0 {
        std::process::exit(1);
    }
}
