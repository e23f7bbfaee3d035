//! Firehose decoding on one core: the reference PDS's 6,051 recorded frames (23.8 MB), each
//! split, decoded into its typed message, its CAR slice read with every block's hash
//! checked, and every record block decoded. Reported per frame (divide into 1 s for frames/s).

#![allow(missing_docs, clippy::unwrap_used)]

use atdata_firehose::replay::{decompress, frames_detect};
use atdata_firehose::{decode_repo_frame, Decoded, Limits, RepoEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn corpus() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/corpus/firehose/pds-frames.bin.zst"
    );
    decompress(&std::fs::read(path).unwrap())
        .unwrap()
        .into_owned()
}

/// Decodes every frame and every record; returns the records read (so nothing is optimised
/// away).
fn decode_all(frames: &[&[u8]], limits: &Limits) -> usize {
    let mut records = 0;
    for frame in frames {
        match decode_repo_frame(frame, limits).unwrap() {
            Decoded::Event(RepoEvent::Commit(commit)) => {
                for op in commit.ops() {
                    if let Some(value) = op.value_ref() {
                        value.unwrap();
                        records += 1;
                    }
                }
            }
            Decoded::Event(_) => {}
            other => panic!("{other:?}"),
        }
    }
    records
}

fn frames(c: &mut Criterion) {
    let data = corpus();
    let (frames, _) = frames_detect(&data, 5_000_000).unwrap();
    let limits = Limits::default();
    assert_eq!(decode_all(&frames, &limits), 8_102);
    let mut group = c.benchmark_group("firehose");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.sample_size(20);
    group.bench_function("decode_6051_pds_frames", |b| {
        b.iter(|| decode_all(&frames, &limits))
    });
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
