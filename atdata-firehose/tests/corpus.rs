//! Every frame of the corpus recordings decodes: the reference PDS's 6,051 frames and 150
//! production relay frames (Jetstream corpus), each block's hash checked, each record read.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use atdata_firehose::replay::{decompress, frames_detect, LengthOrder};
use atdata_firehose::{decode_repo_frame, Decoded, Limits, RepoEvent};

fn corpus(path: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/corpus/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn tally(bytes: &[u8], order: LengthOrder) -> BTreeMap<&'static str, usize> {
    let data = decompress(bytes).unwrap();
    let (frames, found) = frames_detect(&data, 5_000_000).unwrap();
    assert_eq!(found, order);
    let mut counts = BTreeMap::new();
    let mut last_seq = 0;
    for frame in frames {
        match decode_repo_frame(frame, &Limits::default()).unwrap() {
            Decoded::Event(event) => {
                let seq = event.seq().unwrap();
                assert!(seq > last_seq, "seqs increase: {seq} after {last_seq}");
                last_seq = seq;
                if let RepoEvent::Commit(commit) = &event {
                    for op in commit.ops() {
                        *counts.entry("ops").or_default() += 1;
                        if let Some(value) = op.value_ref() {
                            let value = value.unwrap();
                            assert!(value.type_name().is_some(), "{}", op.path);
                            *counts.entry("records").or_default() += 1;
                        }
                    }
                }
                *counts.entry(event.kind()).or_default() += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    counts
}

#[test]
fn the_reference_pds_recording_decodes() {
    let counts = tally(&corpus("firehose/pds-frames.bin.zst"), LengthOrder::BigEndian);
    println!("pds-frames.bin: {counts:?}");
    let events: usize = ["commit", "sync", "identity", "account", "info"]
        .iter()
        .map(|k| counts.get(k).copied().unwrap_or(0))
        .sum();
    assert_eq!(events, 6_051);
}

#[test]
fn production_relay_frames_decode() {
    let counts = tally(&corpus("jetstream/frames.bin.zst"), LengthOrder::LittleEndian);
    println!("jetstream frames: {counts:?}");
    assert_eq!(counts["commit"], 148);
    assert_eq!(counts["identity"], 1);
    assert_eq!(counts["account"], 1);
}
