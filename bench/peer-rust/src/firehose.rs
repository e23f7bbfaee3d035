//! `peer-car-bench firehose-iroh --frames FILE [--rounds N]`: the firehose
//! workload of `bench/firehose/compare` on the iroh-car + serde_ipld_dagcbor
//! stack, the same work as atdata's `decode_frames` example.
//!
//! FILE is an uncompressed frame file: each frame is preceded by its length
//! as a 4-byte big-endian integer. It is read and split once, untimed. Per
//! round, for every frame:
//!
//! - the header (a DAG-CBOR map `{op, t}`) and the body are decoded from the
//!   frame with one `serde_ipld_dagcbor` deserializer, the body into a
//!   `#[derive(Deserialize)]` struct chosen by `t` (owned fields, like a
//!   generated SDK type), and the frame must end after the body;
//! - for `#commit` and `#sync`, the `blocks` CAR slice is read with iroh-car's
//!   `CarReader` (every block copied into a `Vec`, that is its API), and each
//!   block's SHA-256 is checked against its CID (sha2 0.11);
//! - for `#commit`, the blocks are indexed by CID and each op's record block
//!   (create and update ops; deletes carry no CID) is decoded into `Ipld`.
//!
//! One warm-up round, then the median of N rounds. Prints one JSON line in the
//! shape of atdata's example.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use anyhow::{anyhow, bail, ensure, Context, Result};
use ipld_core::cid::Cid;
use ipld_core::ipld::Ipld;
use serde::Deserialize;

use crate::check_sha256;

pub const MODE: &str = "firehose-iroh";

/// The frame header. `t` is absent on error frames (`op` = -1).
#[derive(Deserialize)]
struct Header<'a> {
    op: i64,
    #[serde(borrow)]
    t: Option<&'a str>,
}

/// `com.atproto.sync.subscribeRepos#commit`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // the fields are decoded (that is the work), not all read
struct Commit {
    seq: i64,
    repo: String,
    rev: String,
    since: Option<String>,
    commit: Cid,
    #[serde(with = "serde_bytes")]
    blocks: Vec<u8>,
    ops: Vec<RepoOp>,
    prev_data: Option<Cid>,
    time: String,
    too_big: bool,
    #[serde(default)]
    rebase: bool,
    #[serde(default)]
    blobs: Vec<Cid>,
}

/// `com.atproto.sync.subscribeRepos#repoOp`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct RepoOp {
    action: String,
    path: String,
    cid: Option<Cid>,
    #[serde(default)]
    prev: Option<Cid>,
}

/// `#sync`: a repository's current commit, as a CAR holding the commit block.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Sync {
    seq: i64,
    did: String,
    #[serde(with = "serde_bytes")]
    blocks: Vec<u8>,
    rev: String,
    time: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Identity {
    seq: i64,
    did: String,
    time: String,
    handle: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Account {
    seq: i64,
    did: String,
    time: String,
    active: bool,
    status: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Info {
    name: String,
    message: Option<String>,
}

/// The body of an error frame (`op` = -1).
#[derive(Deserialize)]
#[allow(dead_code)]
struct ErrorBody {
    error: String,
    message: Option<String>,
}

/// Per-round tallies; `records` must equal atdata's.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Counts {
    commits: usize,
    records: usize,
    blocks: usize,
    other: usize,
}

pub fn main(args: impl Iterator<Item = String>) -> Result<()> {
    let usage = || anyhow!("usage: peer-car-bench {MODE} --frames FILE [--rounds N]");
    let (mut path, mut rounds) = (None, 5usize);
    let mut args = args;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--frames" => path = Some(args.next().ok_or_else(usage)?),
            "--rounds" => rounds = args.next().ok_or_else(usage)?.parse().context("--rounds")?,
            _ => return Err(usage()),
        }
    }
    let path = path.ok_or_else(usage)?;
    ensure!(rounds > 0, "--rounds must be at least 1");
    let data = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
    let frames = split_frames(&data)?;

    // Built once, outside the timed region, as in the CAR workload: iroh-car
    // is async, and a firehose consumer already runs inside a runtime. Each
    // round is one `block_on`, so no per-frame runtime entry is timed.
    let rt = tokio::runtime::Builder::new_current_thread().build()?;

    let warm = rt.block_on(round(&frames))?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let counts = rt.block_on(round(&frames))?;
        times.push(start.elapsed().as_secs_f64());
        ensure!(counts == warm, "rounds disagree: {counts:?} vs {warm:?}");
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    eprintln!(
        "{MODE}: {} frames, {} commits, {} records, {} blocks hash-checked, {} other messages",
        frames.len(),
        warm.commits,
        warm.records,
        warm.blocks,
        warm.other
    );
    println!(
        "{{\"contender\": \"iroh-car + serde_ipld_dagcbor\", \"frames\": {}, \"records\": {}, \
         \"hashes_checked\": true, \"median_seconds\": {}, \"frames_per_s\": {}}}",
        frames.len(),
        warm.records,
        median,
        frames.len() as f64 / median,
    );
    Ok(())
}

/// Splits the file at its 4-byte big-endian length prefixes.
fn split_frames(mut data: &[u8]) -> Result<Vec<&[u8]>> {
    let mut frames = Vec::new();
    while !data.is_empty() {
        ensure!(data.len() >= 4, "truncated length prefix");
        let (len, rest) = data.split_at(4);
        let len = u32::from_be_bytes(len.try_into()?) as usize;
        ensure!(len <= rest.len(), "frame of {len} bytes runs past the end of the file");
        let (frame, rest) = rest.split_at(len);
        frames.push(frame);
        data = rest;
    }
    Ok(frames)
}

async fn round(frames: &[&[u8]]) -> Result<Counts> {
    let mut counts = Counts::default();
    for (i, frame) in frames.iter().enumerate() {
        decode_frame(frame, &mut counts).await.with_context(|| format!("frame {i}"))?;
    }
    Ok(counts)
}

/// Decodes the body that follows the header, then requires the frame to end.
/// (A macro: the deserializer's reader type is not exported by the crate.)
macro_rules! body {
    ($de:expr, $t:ty) => {{
        let value = <$t>::deserialize(&mut $de).context("frame body")?;
        $de.end().context("trailing bytes after the frame body")?;
        value
    }};
}

async fn decode_frame(frame: &[u8], counts: &mut Counts) -> Result<()> {
    // One deserializer over the frame: the header, then the body right after it.
    let mut de = serde_ipld_dagcbor::de::Deserializer::from_slice(frame);
    let header = Header::deserialize(&mut de).context("frame header")?;
    match (header.op, header.t) {
        (1, Some("#commit")) => {
            let commit = body!(de, Commit);
            let blocks = read_car(&commit.blocks, &mut counts.blocks).await?;
            for op in &commit.ops {
                let Some(cid) = &op.cid else { continue };
                if let Some(block) = blocks.get(cid) {
                    let value: Ipld = serde_ipld_dagcbor::from_slice(block)
                        .with_context(|| format!("record {}", op.path))?;
                    black_box(value);
                    counts.records += 1;
                }
            }
            black_box(&commit);
            counts.commits += 1;
        }
        (1, Some("#sync")) => {
            let sync = body!(de, Sync);
            black_box(read_car(&sync.blocks, &mut counts.blocks).await?);
            black_box(&sync);
            counts.other += 1;
        }
        (1, Some("#identity")) => {
            black_box(body!(de, Identity));
            counts.other += 1;
        }
        (1, Some("#account")) => {
            black_box(body!(de, Account));
            counts.other += 1;
        }
        (1, Some("#info")) => {
            black_box(body!(de, Info));
            counts.other += 1;
        }
        (-1, _) => {
            black_box(body!(de, ErrorBody));
            counts.other += 1;
        }
        (op, t) => bail!("unexpected frame header op {op}, t {t:?}"),
    }
    Ok(())
}

/// Reads a CAR slice with iroh-car, checks every block's SHA-256 against its
/// CID and indexes the blocks by CID.
async fn read_car(car: &[u8], checked: &mut usize) -> Result<HashMap<Cid, Vec<u8>>> {
    // `&[u8]` implements tokio's AsyncRead: straight from memory.
    let mut reader = iroh_car::CarReader::new(car).await.context("CAR header")?;
    let mut blocks = HashMap::new();
    while let Some((cid, bytes)) = reader.next_block().await.context("CAR block")? {
        check_sha256(cid.hash().code(), cid.hash().digest(), &bytes)?;
        *checked += 1;
        blocks.insert(cid, bytes);
    }
    Ok(blocks)
}
