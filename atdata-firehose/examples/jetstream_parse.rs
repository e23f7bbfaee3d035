//! The Jetstream parsing workload of `bench/jetstream/compare`.
//!
//! `jetstream_parse --write-frames DIR` reshapes the 152 production v1 events of
//! `testdata/corpus/jetstream/expected_v1.jsonl` into v2 message frames (as
//! `tests/jetstream_v2.rs` does) and writes three files of length-prefixed frames (each a
//! little-endian u32 length, then the bytes) that every contender reads:
//!
//! - `v1.frames`: the v1 lines as they are;
//! - `v2.frames`: the v2 frames;
//! - `v2-zstd.frames`: each v2 frame compressed alone (level 3) with the v2 dictionary
//!   `subscribe_events_20260811.zdict`.
//!
//! `jetstream_parse DIR [--repeat N] [--rounds R]` then times, per variant, R rounds of
//! parsing every frame N times (v1: `JetstreamEvent::from_slice`; v2: `v2::parse_frame`;
//! v2-zstd: dictionary decompression, the dictionary prepared once outside timing, then
//! `v2::parse_frame`) and prints one JSON line per variant: the median round.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use atdata_firehose::jetstream::v2::{self, parse_frame, Frame};
use atdata_firehose::jetstream::{Decompressor, JetstreamEvent, Kind};
use serde_json::json;

const DICTIONARY: &str = "subscribe_events_20260811.zdict";
/// Decompressed size limit: the Python client's (`_MAX_MESSAGE_SIZE_BYTES`), on both sides.
const MAX_MESSAGE: usize = 32 << 20;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/corpus/jetstream")
        .join(name)
}

fn v2_frame(seq: usize, line: &str) -> String {
    let event = JetstreamEvent::from_slice(line.as_bytes()).unwrap();
    let v1: serde_json::Value = serde_json::from_str(line).unwrap();
    let mut payload = json!({"seq": seq, "did": event.did, "time": "2026-07-04T14:38:08.085434Z"});
    let kind = match event.kind {
        Kind::Commit => {
            for (k, v) in v1["commit"].as_object().unwrap() {
                payload[k] = v.clone();
            }
            "commit"
        }
        Kind::Identity => {
            payload["identity"] = v1["identity"].clone();
            "identity"
        }
        Kind::Account => {
            payload["account"] = v1["account"].clone();
            "account"
        }
        Kind::Unknown => panic!("unknown event kind in the corpus"),
    };
    payload["$type"] = json!(format!("{}#{kind}", v2::NSID));
    json!({"$type": "message", "payload": payload}).to_string()
}

fn write_frames(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    for frame in frames {
        out.extend_from_slice(&u32::try_from(frame.len()).unwrap().to_le_bytes());
        out.extend_from_slice(frame);
    }
    std::fs::write(path, out).unwrap();
}

fn read_frames(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let (len, tail) = rest.split_at(4);
        let len = u32::from_le_bytes(len.try_into().unwrap()) as usize;
        frames.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    frames
}

fn write_all(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(corpus("expected_v1.jsonl")).unwrap();
    let v1: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    let v2: Vec<Vec<u8>> = text
        .lines()
        .enumerate()
        .map(|(i, l)| v2_frame(i + 1, l).into_bytes())
        .collect();
    let dictionary = std::fs::read(corpus(DICTIONARY)).unwrap();
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &dictionary).unwrap();
    let compressed: Vec<Vec<u8>> = v2.iter().map(|f| compressor.compress(f).unwrap()).collect();
    let size = |frames: &[Vec<u8>]| frames.iter().map(Vec::len).sum::<usize>();
    eprintln!(
        "{} events: v1 {} bytes, v2 {} bytes, v2-zstd {} bytes",
        v1.len(),
        size(&v1),
        size(&v2),
        size(&compressed)
    );
    write_frames(&dir.join("v1.frames"), &v1);
    write_frames(&dir.join("v2.frames"), &v2);
    write_frames(&dir.join("v2-zstd.frames"), &compressed);
}

fn message(frame: Frame) -> v2::Event {
    match frame {
        Frame::Message(event) => event,
        other => panic!("not a message frame: {other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--write-frames") {
        write_all(Path::new(args.get(1).expect("--write-frames DIR")));
        return;
    }
    let mut dir = None;
    let mut repeat = 200usize;
    let mut rounds = 5usize;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--repeat" => repeat = it.next().unwrap().parse().unwrap(),
            "--rounds" => rounds = it.next().unwrap().parse().unwrap(),
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let dir = dir.expect("usage: jetstream_parse DIR [--repeat N] [--rounds R]");
    let v1 = read_frames(&dir.join("v1.frames"));
    let v2 = read_frames(&dir.join("v2.frames"));
    let compressed = read_frames(&dir.join("v2-zstd.frames"));
    let decompressor =
        Decompressor::with_dictionary(&std::fs::read(corpus(DICTIONARY)).unwrap(), MAX_MESSAGE);

    let variants: [(&str, &dyn Fn()); 3] = [
        ("v1", &|| {
            for line in &v1 {
                black_box(JetstreamEvent::from_slice(line).unwrap());
            }
        }),
        ("v2", &|| {
            for frame in &v2 {
                black_box(message(parse_frame(frame).unwrap()));
            }
        }),
        ("v2-zstd", &|| {
            for frame in &compressed {
                let plain = decompressor.decompress(frame).unwrap();
                black_box(message(parse_frame(&plain).unwrap()));
            }
        }),
    ];
    for (variant, pass) in variants {
        pass(); // warm-up
        let mut times: Vec<f64> = (0..rounds)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..repeat {
                    pass();
                }
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let events = v2.len() * repeat;
        println!(
            "{}",
            json!({
                "contender": "atdata",
                "variant": variant,
                "events": events,
                "median_seconds": median,
                "events_per_s": events as f64 / median,
            })
        );
    }
}
