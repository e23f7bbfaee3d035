//! Runs every MST case of the AT Protocol interop fixtures (`testdata/interop/mst/`) and the
//! commit-proof fixtures (`testdata/interop/firehose/commit-proof-fixtures.json`) through the
//! shared runner, `atdata_testkit::interop`, which prints the counts per file and in total.
//!
//! A plain `main` rather than libtest so the counts are always printed, not captured.

use std::collections::{BTreeSet, HashMap};

use atdata_core::mst::{common_prefix_len, is_valid_key, key_height, Mst};
use atdata_core::Cid;
use atdata_testkit::interop::Suite;

fn str_field<'a>(case: &'a serde_json::Value, field: &str) -> Result<&'a str, String> {
    case[field]
        .as_str()
        .ok_or_else(|| format!("no string field {field}"))
}

fn cid_field(case: &serde_json::Value, field: &str) -> Result<Cid, String> {
    str_field(case, field)?
        .parse()
        .map_err(|e| format!("bad CID in {field}: {e}"))
}

fn strings(case: &serde_json::Value, field: &str) -> Result<Vec<String>, String> {
    case[field]
        .as_array()
        .ok_or_else(|| format!("no array field {field}"))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("non-string in {field}"))
        })
        .collect()
}

fn key_height_case(case: &serde_json::Value) -> Result<(), String> {
    let key = str_field(case, "key")?;
    let expected = case["height"].as_u64().ok_or("no height")?;
    let got = key_height(key.as_bytes());
    if u64::from(got) != expected {
        return Err(format!("height of {key:?} is {got}, expected {expected}"));
    }
    Ok(())
}

fn common_prefix_case(case: &serde_json::Value) -> Result<(), String> {
    let left = str_field(case, "left")?;
    let right = str_field(case, "right")?;
    let expected = case["len"].as_u64().ok_or("no len")?;
    let got = common_prefix_len(left.as_bytes(), right.as_bytes());
    if got as u64 != expected {
        return Err(format!(
            "prefix of {left:?} / {right:?} is {got}, expected {expected}"
        ));
    }
    Ok(())
}

/// `<Letter><h>/<6 digits>`: the key's height is `h`.
fn example_key_case(key: &str) -> Result<(), String> {
    let expected = key
        .chars()
        .nth(1)
        .and_then(|c| c.to_digit(10))
        .ok_or("no height digit after the letter")?;
    if !is_valid_key(key) {
        return Err(format!("{key:?} rejected as an MST key"));
    }
    let got = key_height(key.as_bytes());
    if got != expected {
        return Err(format!("height of {key:?} is {got}, expected {expected}"));
    }
    Ok(())
}

/// The interop README's procedure: build, apply the commit, check the proof blocks, then undo the
/// commit against a tree loaded from the proof blocks alone.
fn commit_proof_case(case: &serde_json::Value) -> Result<String, String> {
    let leaf = cid_field(case, "leafValue")?;
    let keys = strings(case, "keys")?;
    let adds = strings(case, "adds")?;
    let dels = strings(case, "dels")?;
    let before = cid_field(case, "rootBeforeCommit")?;
    let after = cid_field(case, "rootAfterCommit")?;
    let proof: Vec<Cid> = strings(case, "blocksInProof")?
        .iter()
        .map(|s| s.parse().map_err(|e| format!("bad proof CID {s}: {e}")))
        .collect::<Result<_, String>>()?;

    // 1. Build from the keys, in the order given (insertion order must not matter).
    let mut tree = Mst::new();
    for key in &keys {
        tree.insert(key.clone(), leaf).map_err(|e| e.to_string())?;
    }
    if tree.root_cid() != before {
        return Err(format!(
            "root {} != rootBeforeCommit {before}",
            tree.root_cid()
        ));
    }
    let mut sorted_keys = keys.clone();
    sorted_keys.sort();
    let sorted =
        Mst::from_sorted(sorted_keys.into_iter().map(|k| (k, leaf))).map_err(|e| e.to_string())?;
    if sorted.root_cid() != before {
        return Err("from_sorted gives another root than inserts".into());
    }

    // 2. Apply the commit: all adds, then all dels.
    for key in &adds {
        if tree
            .insert(key.clone(), leaf)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Err(format!("add of {key} found it present"));
        }
    }
    for key in &dels {
        if tree.remove(key) != Some(leaf) {
            return Err(format!("del of {key} did not find it"));
        }
    }
    if tree.root_cid() != after {
        return Err(format!(
            "root {} != rootAfterCommit {after}",
            tree.root_cid()
        ));
    }

    // 3. Every proof block is a node of the new tree.
    let new_blocks: HashMap<Cid, Vec<u8>> = tree.blocks().into_iter().collect();
    for cid in &proof {
        if !new_blocks.contains_key(cid) {
            return Err(format!("proof block {cid} is not a node of the new tree"));
        }
    }

    // 4. Invert the commit against only the proof blocks: load them as a partial tree, undo the
    //    ops in reverse order, and the root must be the one before the commit.
    let proof_blocks: HashMap<Cid, Vec<u8>> = proof
        .iter()
        .map(|cid| (*cid, new_blocks[cid].clone()))
        .collect();
    let mut partial = Mst::load_partial(&proof_blocks, &after).map_err(|e| e.to_string())?;
    for key in dels.iter().rev() {
        match partial.insert(key.clone(), leaf) {
            Ok(None) => {}
            Ok(Some(_)) => return Err(format!("inverting del of {key}: it is present")),
            Err(e) => return Err(format!("inverting del of {key}: {e}")),
        }
    }
    for key in adds.iter().rev() {
        match partial.try_remove(key) {
            Ok(Some(v)) if v == leaf => {}
            Ok(other) => return Err(format!("inverting add of {key}: found {other:?}")),
            Err(e) => return Err(format!("inverting add of {key}: {e}")),
        }
    }
    if partial.root_cid() != before {
        return Err(format!(
            "inverted root {} != rootBeforeCommit {before}",
            partial.root_cid()
        ));
    }

    // For the report: how our covering proofs of the changed keys compare with the fixture's.
    let ours: BTreeSet<Cid> = adds
        .iter()
        .chain(&dels)
        .flat_map(|k| tree.covering_proof(k))
        .map(|(cid, _)| cid)
        .collect();
    let theirs: BTreeSet<Cid> = proof.iter().copied().collect();
    Ok(if ours == theirs {
        "covering proofs = blocksInProof".to_string()
    } else {
        format!(
            "covering proofs: {} blocks, blocksInProof: {} ({} shared)",
            ours.len(),
            theirs.len(),
            ours.intersection(&theirs).count()
        )
    })
}

fn main() {
    // Case counts from the fixture README: 9 + 13 + 156 + 6.
    let mut suite = Suite::new("interop-mst");
    suite.json_file("mst/key_heights.json", Some(9), key_height_case);
    suite.json_file("mst/common_prefix.json", Some(13), common_prefix_case);
    suite.lines_file("mst/example_keys.txt", Some(156), example_key_case);
    suite.json_file("firehose/commit-proof-fixtures.json", Some(6), |case| {
        let label = case["comment"].as_str().unwrap_or("?");
        commit_proof_case(case).map(|note| println!("  {label}: ok ({note})"))
    });
    suite.finish();
}
