//! The firehose workload of `bench/firehose/compare`, and a profiling aid
//! (`valgrind --tool=callgrind target/release/examples/decode_frames FILE 1`).
//!
//! Per round, every frame of the file is split, decoded into its typed message, its CAR slice
//! read with every block's hash checked, and every record block decoded (into `ValueRef`, or
//! onto a reused tape with `--tape`). Prints one JSON line: the median round.
//!
//! `decode_frames [FILE] [ROUNDS] [--tape]` (FILE defaults to the PDS recording; zstd is
//! unpacked before timing).

#![allow(clippy::unwrap_used)]

use atdata_firehose::replay::{decompress, frames_detect};
use atdata_firehose::{decode_repo_frame, Decoded, Limits, RepoEvent};

fn round(frames: &[&[u8]], limits: &Limits, tape_mode: bool) -> usize {
    let mut records = 0;
    for frame in frames {
        if let Decoded::Event(RepoEvent::Commit(commit)) = decode_repo_frame(frame, limits).unwrap()
        {
            // The tape borrows the commit's bytes: one per commit.
            let mut tape = atdata_core::cbor::Tape::new();
            for op in commit.ops() {
                if tape_mode {
                    if let Some(value) = op.decode_into(&mut tape) {
                        value.unwrap();
                        records += 1;
                    }
                } else if let Some(value) = op.value_ref() {
                    value.unwrap();
                    records += 1;
                }
            }
        }
    }
    records
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tape_mode = args.iter().any(|a| a == "--tape");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let path = positional.next().cloned().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/corpus/firehose/pds-frames.bin.zst"
        )
        .into()
    });
    let rounds: usize = positional.next().map_or(5, |n| n.parse().unwrap());
    let data = decompress(&std::fs::read(&path).unwrap())
        .unwrap()
        .into_owned();
    let (frames, _) = frames_detect(&data, 5_000_000).unwrap();
    let limits = Limits::default();
    let mut times = Vec::new();
    let mut records = 0;
    for _ in 0..rounds.max(1) {
        let started = std::time::Instant::now();
        records = round(&frames, &limits, tape_mode);
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "contender": if tape_mode { "atdata (records on a tape)" } else { "atdata (records as ValueRef)" },
            "frames": frames.len(),
            "records": records,
            "hashes_checked": true,
            "median_seconds": median,
            "frames_per_s": frames.len() as f64 / median,
        })
    );
}
