//! Decodes a frame file once (or N times) and prints what it found: a profiling aid
//! (`valgrind --tool=callgrind target/release/examples/decode_frames FILE`).

#![allow(clippy::unwrap_used)]

use atdata_firehose::replay::{decompress, frames_detect};
use atdata_firehose::{decode_repo_frame, Decoded, Limits, RepoEvent};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/corpus/firehose/pds-frames.bin.zst"
        )
        .into()
    });
    let rounds: usize = args.next().map_or(1, |n| n.parse().unwrap());
    let data = decompress(&std::fs::read(&path).unwrap())
        .unwrap()
        .into_owned();
    let (frames, _) = frames_detect(&data, 5_000_000).unwrap();
    let limits = Limits::default();
    let started = std::time::Instant::now();
    let mut records = 0;
    let tape_mode = std::env::var_os("TAPE").is_some();
    for _ in 0..rounds {
        for frame in &frames {
            if let Decoded::Event(RepoEvent::Commit(commit)) =
                decode_repo_frame(frame, &limits).unwrap()
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
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} frames x {rounds}, {records} records, {:.0} frames/s",
        frames.len(),
        (frames.len() * rounds) as f64 / secs
    );
}
