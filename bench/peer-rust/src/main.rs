//! Peer benchmarks for `bench/compare`. Every `--lib` reads the file into
//! memory once, untimed, then times one of two workloads:
//!
//! - CAR (`iroh-car+serde_ipld_dagcbor`, `serde_ipld_dagcbor`, `ciborium`): the
//!   same work as atdata's `car_bench` example. Parse the header and every
//!   block, check SHA-256 of each block against the digest in its CID, and
//!   decode each DAG-CBOR block (codec 0x71) into the library's generic value
//!   type.
//! - Repository walk (`atrium-repo`): the same work as atdata's `repo_bench`
//!   example. Open the CAR, load the repository (commit and MST), visit every
//!   record in key order and decode each record block into `Ipld`.
//!
//! `peer-car-bench firehose-iroh --frames FILE [--rounds N]` is the firehose
//! workload of `bench/firehose/compare` instead (see `firehose.rs`).
//!
//! One JSON line goes to stdout; everything else goes to stderr.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use ipld_core::ipld::Ipld;
use sha2::{Digest, Sha256};

mod firehose;

const DAG_CBOR: u64 = 0x71;
const SHA2_256: u64 = 0x12;

const CAR_LIBS: &[&str] = &["iroh-car+serde_ipld_dagcbor", "serde_ipld_dagcbor", "ciborium"];
const REPO_LIBS: &[&str] = &["atrium-repo"];

struct Args {
    lib: String,
    car: String,
    iters: usize,
    warmup: usize,
}

fn parse_args() -> Result<Args> {
    let usage = || {
        anyhow!(
            "usage: peer-car-bench --lib <{}> [--iters N] [--warmup N] <CAR>\n       \
             peer-car-bench {} --frames FILE [--rounds N]",
            [CAR_LIBS, REPO_LIBS].concat().join("|"),
            firehose::MODE,
        )
    };
    let (mut lib, mut car, mut iters, mut warmup) = (None, None, 30, 3);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--lib" => lib = Some(it.next().ok_or_else(usage)?),
            "--iters" => iters = it.next().ok_or_else(usage)?.parse().context("--iters")?,
            "--warmup" => warmup = it.next().ok_or_else(usage)?.parse().context("--warmup")?,
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with('-') => bail!("unknown option {s}\n{}", usage()),
            _ if car.is_none() => car = Some(a),
            _ => return Err(usage()),
        }
    }
    let lib = lib.ok_or_else(usage)?;
    ensure!(
        CAR_LIBS.contains(&lib.as_str()) || REPO_LIBS.contains(&lib.as_str()),
        "unknown --lib {lib}\n{}",
        usage()
    );
    ensure!(iters > 0, "--iters must be at least 1");
    Ok(Args { lib, car: car.ok_or_else(usage)?, iters, warmup })
}

fn main() -> Result<()> {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some(firehose::MODE) {
        argv.next();
        return firehose::main(argv);
    }
    let args = parse_args()?;
    let data = std::fs::read(&args.car).with_context(|| format!("reading {}", args.car))?;

    // Built once, outside the timed region: iroh-car and atrium-repo are async,
    // and a real application would already be running inside a runtime.
    let rt = tokio::runtime::Builder::new_current_thread().build()?;

    // Returns the block count (CAR workload) or the record count (repo walk).
    let run = |data: &[u8]| -> Result<usize> {
        match args.lib.as_str() {
            "iroh-car+serde_ipld_dagcbor" => rt.block_on(iroh_car_dagcbor(data)),
            "serde_ipld_dagcbor" => walk_car(data, decode_dagcbor, decode_dagcbor),
            "ciborium" => walk_car(data, decode_ciborium, decode_ciborium),
            "atrium-repo" => rt.block_on(atrium_repo_walk(data)),
            _ => unreachable!("checked in parse_args"),
        }
    };

    for _ in 0..args.warmup {
        run(&data)?;
    }
    let mut times = Vec::with_capacity(args.iters);
    let mut count = 0;
    for _ in 0..args.iters {
        let start = Instant::now();
        count = run(&data)?;
        times.push(start.elapsed());
    }

    times.sort();
    let median = median(&times);
    let mb_s = |d: Duration| data.len() as f64 / d.as_secs_f64() / 1e6;
    let note = match args.lib.as_str() {
        "ciborium" => {
            "ciborium has no CID type: tag 42 is kept as Value::Tag(42, bytes); own CAR framing"
        }
        "serde_ipld_dagcbor" => "own CAR framing (varint + CIDv1 + data), decoder only",
        "atrium-repo" => {
            "CarStore::open (hashes every block, sha2 0.10) + Repository::open + mst::Tree::entries \
             collected, then read_block_into + serde_ipld_dagcbor 0.7 Ipld per record; no MST \
             order/layer checks"
        }
        _ => "iroh-car CarReader on a current-thread tokio runtime over &[u8]",
    };
    // Every field is a number, a bool or a fixed ASCII string without quotes,
    // so plain formatting is valid JSON.
    let counted = if REPO_LIBS.contains(&args.lib.as_str()) {
        format!(
            "\"workload\": \"repo\", \"records\": {count}, \"median_records_s\": {:.1}, ",
            count as f64 / median.as_secs_f64()
        )
    } else {
        format!("\"blocks\": {count}, ")
    };
    println!(
        "{{\"name\": \"{}\", {counted}\"bytes\": {}, \"iters\": {}, \"median_s\": {}, \
         \"median_mb_s\": {:.2}, \"min_mb_s\": {:.2}, \"max_mb_s\": {:.2}, \"hash_check\": true, \
         \"note\": \"{}\"}}",
        args.lib,
        data.len(),
        args.iters,
        median.as_secs_f64(),
        mb_s(median),
        mb_s(times[times.len() - 1]), // slowest run = lowest throughput
        mb_s(times[0]),
        note,
    );
    Ok(())
}

/// Median of sorted durations (mean of the two middle ones for an even count).
fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// Hash check shared by every variant: the CID must carry a 32-byte SHA-256
/// digest equal to SHA-256(data). A mismatch aborts the run, since a
/// benchmark over a corrupt file measures nothing useful.
fn check_sha256(code: u64, digest: &[u8], data: &[u8]) -> Result<()> {
    ensure!(code == SHA2_256 && digest.len() == 32, "block CID is not sha2-256 (code {code:#x})");
    ensure!(Sha256::digest(data)[..] == *digest, "SHA-256 mismatch for a block");
    Ok(())
}

// ---------------------------------------------------------------------------
// iroh-car + serde_ipld_dagcbor: the stack used by atrium / jacquard.

async fn iroh_car_dagcbor(data: &[u8]) -> Result<usize> {
    // `&[u8]` implements tokio's AsyncRead, so this reads straight from memory.
    let mut reader = iroh_car::CarReader::new(data).await?;
    black_box(reader.header());
    let mut blocks = 0;
    // `next_block` copies every block into a fresh Vec: that is iroh-car's API.
    while let Some((cid, bytes)) = reader.next_block().await? {
        check_sha256(cid.hash().code(), cid.hash().digest(), &bytes)?;
        if cid.codec() == DAG_CBOR {
            let value: Ipld = serde_ipld_dagcbor::from_slice(&bytes)?;
            black_box(value);
        }
        blocks += 1;
    }
    Ok(blocks)
}

// ---------------------------------------------------------------------------
// atrium-repo: the repository walk.

/// Opens the CAR with atrium-repo, walks the MST in key order and decodes every
/// record. Returns the record count.
///
/// `CarStore::open` reads every section and checks each block's SHA-256
/// against its CID (with atrium-repo's own sha2 0.10). `Repository::open`
/// decodes the commit; `mst::Tree::entries` walks the tree in key order,
/// decoding each node. The tree borrows the store for as long as the walk
/// runs, and `Repository` keeps its store private, so the (key, CID) pairs
/// are collected first and the record blocks are then read from the store in
/// that same order, into one reused buffer.
async fn atrium_repo_walk(data: &[u8]) -> Result<usize> {
    use atrium_repo::blockstore::{AsyncBlockStoreRead, CarStore};
    use futures_util::TryStreamExt;

    // Cursor<&[u8]> implements tokio's AsyncRead + AsyncSeek, straight from memory.
    let mut store = CarStore::open(std::io::Cursor::new(data)).await?;
    let roots: Vec<_> = store.roots().collect();
    let [root] = roots[..] else {
        bail!("a repository CAR has exactly one root, found {}", roots.len());
    };

    let entries = {
        let mut repo = atrium_repo::Repository::open(&mut store, root).await?;
        let mut tree = repo.tree();
        let walk = tree.entries();
        futures_util::pin_mut!(walk);
        let mut entries = Vec::new();
        while let Some(entry) = walk.try_next().await? {
            entries.push(entry);
        }
        entries
    };

    let mut block = Vec::new();
    for (key, cid) in &entries {
        ensure!(cid.codec() == DAG_CBOR, "record {key} is not DAG-CBOR");
        store.read_block_into(*cid, &mut block).await?;
        let value: Ipld = serde_ipld_dagcbor::from_slice(&block)
            .with_context(|| format!("record {key}"))?;
        black_box((key, cid, value));
    }
    Ok(entries.len())
}

// ---------------------------------------------------------------------------
// Own minimal CAR framing, so that the two variants below differ only in the
// CBOR decoder. It borrows from the input (no per-block copy) and only
// understands CIDv1, which is all atproto repositories contain.

fn decode_dagcbor(bytes: &[u8]) -> Result<()> {
    let value: Ipld = serde_ipld_dagcbor::from_slice(bytes)?;
    black_box(value);
    Ok(())
}

fn decode_ciborium(bytes: &[u8]) -> Result<()> {
    let value: ciborium::Value = ciborium::from_reader(bytes)?;
    black_box(value);
    Ok(())
}

/// Walks the CAR: decodes the header with `header`, hash-checks every block
/// and decodes DAG-CBOR blocks with `block`. Returns the block count.
fn walk_car(
    mut buf: &[u8],
    header: fn(&[u8]) -> Result<()>,
    block: fn(&[u8]) -> Result<()>,
) -> Result<usize> {
    let head_len = read_varint(&mut buf)? as usize;
    let head = take(&mut buf, head_len)?;
    header(head).context("CAR header")?;
    let mut blocks = 0;
    while !buf.is_empty() {
        let len = read_varint(&mut buf)? as usize;
        let mut section = take(&mut buf, len)?;
        // CIDv1 = version, codec, multihash code, digest length, digest.
        ensure!(read_varint(&mut section)? == 1, "only CIDv1 blocks are supported");
        let codec = read_varint(&mut section)?;
        let hash_code = read_varint(&mut section)?;
        let digest_len = read_varint(&mut section)? as usize;
        let digest = take(&mut section, digest_len)?;
        check_sha256(hash_code, digest, section)?;
        if codec == DAG_CBOR {
            block(section).with_context(|| format!("block {blocks}"))?;
        }
        blocks += 1;
    }
    Ok(blocks)
}

/// Unsigned LEB128 varint, at most 9 bytes (as multiformats allows).
fn read_varint(buf: &mut &[u8]) -> Result<u64> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(9) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Ok(value);
        }
    }
    bail!("truncated or overlong varint")
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
    ensure!(n <= buf.len(), "section of {n} bytes runs past the end of the file");
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}
