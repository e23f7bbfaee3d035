//! The atdata side of `bench/lexicon/compare`, and the exporter of its input.
//!
//! ```sh
//! # Once: the typical Bluesky records (posts, likes, follows, reposts) of a repository
//! # export that pass strict validation, as a JSON array of atproto JSON records.
//! cargo run --release -p atdata-lexicon --example lexicon_bench -- export \
//!     --car testdata/corpus/repo-stream/car-samples/midsize.car --lexicons atdata-lexicon/lexicons \
//!     --out records.json
//! # Timed: every record validated once per iteration; prints one JSON line.
//! cargo run --release -p atdata-lexicon --example lexicon_bench -- run \
//!     --records records.json --lexicons atdata-lexicon/lexicons --iters 30 [--repr value|value-ref]
//! ```
//!
//! Records are parsed before timing: the timed work is validation alone, as on the Node side
//! (which converts the JSON to its own values before timing). `--repr value` (the default)
//! validates owned `Value`s parsed from the JSON; `--repr value-ref` encodes each record as
//! DAG-CBOR and validates the zero-copy `ValueRef`s decoded from it, the form records have
//! when read from a repository or the firehose.

use std::process::ExitCode;
use std::time::Instant;

use atdata_core::repo::Repo;
use atdata_core::{Value, ValueRef};
use atdata_lexicon::validate::Data;
use atdata_lexicon::{Catalog, Target};

/// The collections of a typical Bluesky repository (by far the most records).
const COLLECTIONS: &[&str] = &[
    "app.bsky.feed.post",
    "app.bsky.feed.like",
    "app.bsky.graph.follow",
    "app.bsky.feed.repost",
];

const WARM_UPS: usize = 3;

fn arg(args: &[String], name: &str) -> Result<String, String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .ok_or_else(|| format!("missing {name}"))
}

fn export(args: &[String]) -> Result<(), String> {
    let car = std::fs::read(arg(args, "--car")?).map_err(|e| e.to_string())?;
    let catalog = Catalog::load_dir(arg(args, "--lexicons")?).map_err(|e| e.to_string())?;
    let repo = Repo::from_car(&car).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut counts = vec![0usize; COLLECTIONS.len()];
    for record in repo.records() {
        let record = record.map_err(|e| e.to_string())?;
        let Some(i) = COLLECTIONS.iter().position(|c| *c == record.collection()) else {
            continue;
        };
        let value = record.value().map_err(|e| e.to_string())?;
        // Old records that today's lexicons refuse would time error paths, not validation.
        if catalog.validate_record(COLLECTIONS[i], &value).is_err() {
            skipped += 1;
            continue;
        }
        counts[i] += 1;
        out.push(value.to_json());
    }
    let text = serde_json::to_string(&out).map_err(|e| e.to_string())?;
    std::fs::write(arg(args, "--out")?, text).map_err(|e| e.to_string())?;
    let summary: Vec<String> = COLLECTIONS
        .iter()
        .zip(&counts)
        .map(|(c, n)| format!("{n} {c}"))
        .collect();
    eprintln!(
        "exported {} records ({}); {skipped} invalid ones left out",
        out.len(),
        summary.join(", ")
    );
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    let text = std::fs::read_to_string(arg(args, "--records")?).map_err(|e| e.to_string())?;
    let records: Vec<Value> = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let catalog = Catalog::load_dir(arg(args, "--lexicons")?).map_err(|e| e.to_string())?;
    let iters: usize = arg(args, "--iters")?
        .parse()
        .map_err(|_| "--iters needs a number")?;
    // The collection of each record is its `$type`.
    let nsids: Vec<String> = records
        .iter()
        .map(|r| r.type_name().unwrap_or("?").to_owned())
        .collect();
    let repr = arg(args, "--repr").unwrap_or_else(|_| "value".into());
    let times = match repr.as_str() {
        "value" => time(&catalog, &nsids, &records, iters)?,
        "value-ref" => {
            let blocks: Vec<Vec<u8>> = records.iter().map(Value::to_dag_cbor).collect();
            let refs = blocks
                .iter()
                .map(|b| ValueRef::from_dag_cbor(b))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            time(&catalog, &nsids, &refs, iters)?
        }
        other => return Err(format!("--repr is value or value-ref, not {other}")),
    };
    let n = records.len() as f64;
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    let (fastest, slowest) = (
        times.first().copied().unwrap_or(f64::NAN),
        times.last().copied().unwrap_or(f64::NAN),
    );
    let name = match repr.as_str() {
        "value" => "atdata-lexicon (Value)",
        _ => "atdata-lexicon (ValueRef, zero-copy)",
    };
    println!(
        "{}",
        serde_json::json!({
            "name": name,
            "records": records.len(),
            "iters": iters,
            "median_s": median,
            "median_rps": n / median,
            "min_rps": n / slowest,
            "max_rps": n / fastest,
        })
    );
    Ok(())
}

/// Seconds per pass over every record, sorted, after the warm-ups.
fn time<D: Data>(
    catalog: &Catalog,
    nsids: &[String],
    records: &[D],
    iters: usize,
) -> Result<Vec<f64>, String> {
    let mut times = Vec::with_capacity(iters);
    for i in 0..WARM_UPS + iters {
        let start = Instant::now();
        for (nsid, record) in nsids.iter().zip(records) {
            catalog
                .validate(Target::Record(nsid), std::hint::black_box(record))
                .map_err(|e| format!("{nsid}: {e}"))?;
        }
        if i >= WARM_UPS {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("export") => export(&args),
        Some("run") => run(&args),
        _ => Err(
            "usage: lexicon_bench export --car CAR --lexicons DIR --out FILE | \
                  run --records FILE --lexicons DIR --iters N [--repr value|value-ref]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lexicon_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
