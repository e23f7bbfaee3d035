//! Throughput of the full CAR path: parse every section, check every block's SHA-256 against its
//! CID, and decode every block into the data model. `bench/compare` runs this beside the peer
//! libraries; the criterion bench `car` measures the same thing.
//!
//! Usage: `cargo run --release -p atdata-core --example car_bench -- FILE [--iters N] [--warmup N]`

use std::time::Instant;

use atdata_core::car::CarReader;

fn run(buf: &[u8]) -> Result<usize, Box<dyn std::error::Error>> {
    let reader = CarReader::new(buf)?;
    let mut blocks = 0;
    for block in reader.blocks() {
        let block = block?;
        let value = block.decode()?;
        std::hint::black_box(&value);
        blocks += 1;
    }
    Ok(blocks)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut iters = 30usize;
    let mut warmup = 3usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iters" => iters = args.next().ok_or("--iters needs a value")?.parse()?,
            "--warmup" => warmup = args.next().ok_or("--warmup needs a value")?.parse()?,
            other => path = Some(other.to_owned()),
        }
    }
    let path = path.ok_or("usage: car_bench FILE [--iters N] [--warmup N]")?;
    let buf = std::fs::read(&path)?;
    let mut blocks = 0;
    for _ in 0..warmup {
        blocks = run(&buf)?;
    }
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters.max(1) {
        let t = Instant::now();
        blocks = run(&buf)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mb = buf.len() as f64 / 1e6;
    println!(
        "{}",
        serde_json::json!({
            "name": "atdata",
            "blocks": blocks,
            "bytes": buf.len(),
            "iters": times.len(),
            "median_s": median,
            "median_mb_s": mb / median,
            "min_mb_s": mb / times[times.len() - 1],
            "max_mb_s": mb / times[0],
            "hash_check": true,
        })
    );
    Ok(())
}
