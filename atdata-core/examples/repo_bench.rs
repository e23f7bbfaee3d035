//! Throughput of a whole-repository walk: load a repository export from a CAR already in memory
//! (every block's SHA-256 checked against its CID, the commit decoded, the MST loaded with its
//! structure checks), then visit every record in key order (collection, then rkey), take its CID
//! and decode its DAG-CBOR bytes into the data model. `bench/compare --workload repo` runs this
//! beside the peer libraries.
//!
//! Usage: `cargo run --release -p atdata-core --example repo_bench -- FILE [--iters N]
//! [--warmup N] [--mode tape|tree|verify]`
//!
//! Modes:
//! - `tape` (default): [`Repo::from_car`], then [`Repo::records`], each record decoded onto one
//!   reused [`Tape`];
//! - `tree`: the same walk, each record decoded into a `ValueRef` tree ([`Record::decode`]);
//! - `verify`: [`verify_car`] without a key, which checks the same things as `from_car` plus a
//!   strict decode of every record, and collects every problem instead of stopping at the first
//!   (what `atdata repo verify` runs). It builds no [`Repo`] and copies no record.
//!
//! [`Record::decode`]: atdata_core::repo::Record::decode

use std::time::Instant;

use atdata_core::cbor::Tape;
use atdata_core::repo::{verify_car, Repo};

fn run(buf: &[u8], mode: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let mut records = 0;
    match mode {
        "tape" => {
            let repo = Repo::from_car(buf)?;
            let mut tape = Tape::new();
            for record in repo.records() {
                let record = record?;
                std::hint::black_box(record.cid);
                std::hint::black_box(tape.decode(record.bytes)?);
                records += 1;
            }
        }
        "tree" => {
            let repo = Repo::from_car(buf)?;
            for record in repo.records() {
                let record = record?;
                std::hint::black_box(record.cid);
                std::hint::black_box(record.decode()?);
                records += 1;
            }
        }
        "verify" => {
            let report = verify_car(buf)?;
            if let Some(problem) = report.problems.first() {
                return Err(
                    format!("{} problem(s), first: {problem}", report.problems.len()).into(),
                );
            }
            records = report.records;
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(records)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut iters = 30usize;
    let mut warmup = 3usize;
    let mut mode = String::from("tape");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iters" => iters = args.next().ok_or("--iters needs a value")?.parse()?,
            "--warmup" => warmup = args.next().ok_or("--warmup needs a value")?.parse()?,
            "--mode" => mode = args.next().ok_or("--mode needs a value")?,
            other => path = Some(other.to_owned()),
        }
    }
    let path = path.ok_or("usage: repo_bench FILE [--iters N] [--warmup N] [--mode M]")?;
    let buf = std::fs::read(&path)?;
    let mut records = 0;
    for _ in 0..warmup {
        records = run(&buf, &mode)?;
    }
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters.max(1) {
        let t = Instant::now();
        records = run(&buf, &mode)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let n = times.len();
    // The same median as the peers: the mean of the two middle samples for an even count.
    let median = if n % 2 == 0 {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    } else {
        times[n / 2]
    };
    let mb = buf.len() as f64 / 1e6;
    let name = match mode.as_str() {
        "tape" => "atdata".to_owned(),
        other => format!("atdata-{other}"),
    };
    let note = match mode.as_str() {
        "tape" => "Repo::from_car (hashes, commit, MST structure) + records() + Tape decode",
        "tree" => "Repo::from_car (hashes, commit, MST structure) + records() + ValueRef decode",
        _ => "verify_car without a key: hashes, commit, MST structure, strict decode of records",
    };
    println!(
        "{}",
        serde_json::json!({
            "name": name,
            "workload": "repo",
            "records": records,
            "bytes": buf.len(),
            "iters": n,
            "median_s": median,
            "median_mb_s": mb / median,
            "min_mb_s": mb / times[n - 1],
            "max_mb_s": mb / times[0],
            "median_records_s": records as f64 / median,
            "hash_check": true,
            "threads": 1,
            "note": note,
        })
    );
    Ok(())
}
