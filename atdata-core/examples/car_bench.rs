//! Throughput of the full CAR path: parse every section, check every block's SHA-256 against its
//! CID, and decode every block into the data model. `bench/compare` runs this beside the peer
//! libraries; the criterion bench `car` measures the same thing.
//!
//! Usage: `cargo run --release -p atdata-core --example car_bench -- FILE [--iters N]
//! [--warmup N] [--mode tape|tree|parallel]`
//!
//! Modes: `tape` (default) decodes onto a reused [`Tape`], single-threaded; `tree` builds a
//! `ValueRef` tree per block, single-threaded; `parallel` is `CarReader::verify_all` on every core.

use std::time::Instant;

use atdata_core::car::CarReader;
use atdata_core::cbor::Tape;

fn run(buf: &[u8], mode: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let reader = CarReader::new(buf)?;
    let mut blocks = 0;
    match mode {
        "tape" => {
            let mut tape = Tape::new();
            for block in reader.blocks() {
                let value = block?.decode_into(&mut tape)?;
                std::hint::black_box(value);
                blocks += 1;
            }
        }
        "tree" => {
            for block in reader.blocks() {
                std::hint::black_box(block?.decode()?);
                blocks += 1;
            }
        }
        "parallel" => blocks = reader.verify_all(0)? as usize,
        other => return Err(format!("unknown mode {other}").into()),
    }
    Ok(blocks)
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
    let path = path.ok_or("usage: car_bench FILE [--iters N] [--warmup N] [--mode M]")?;
    let buf = std::fs::read(&path)?;
    let mut blocks = 0;
    for _ in 0..warmup {
        blocks = run(&buf, &mode)?;
    }
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters.max(1) {
        let t = Instant::now();
        blocks = run(&buf, &mode)?;
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
    let threads = if mode == "parallel" {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    println!(
        "{}",
        serde_json::json!({
            "name": name,
            "blocks": blocks,
            "bytes": buf.len(),
            "iters": n,
            "median_s": median,
            "median_mb_s": mb / median,
            "min_mb_s": mb / times[n - 1],
            "max_mb_s": mb / times[0],
            "hash_check": true,
            "threads": threads,
        })
    );
    Ok(())
}
