//! Lookups against a running PLC directory (the local one of `scripts/pds/pds.sh`): L lookups
//! over D DIDs with F in flight, reporting wall time, lookups per second and the requests the
//! resolver sent. Not criterion: one timed pass per contender (the directory and the
//! resolver share the machine); `bench/identity/compare` runs it beside the Python SDK.
//!
//! ```text
//! cargo bench -p atdata-identity --bench plc_lookups -- --plc http://localhost:2582 \
//!     [--dids 1000] [--lookups 10000] [--in-flight 64] [--dids-out FILE | --dids-in FILE]
//!     [--no-cache]
//! ```
//!
//! `--dids-in` reuses a lookup order written by `--dids-out`; `--no-cache` adds a pass with
//! the cache off (merging of concurrent lookups only).
//!
//! The D DIDs are made for the run: genesis operations signed here and posted to the
//! directory (a handle in `alsoKnownAs`, a PDS service and a signing key each, like an
//! account's). The lookup order holds each DID L/D times, shuffled with a fixed seed, the same
//! order the Python contender reads from `--dids-out`.
//!
//! Prints one JSON line per contender.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use atdata_core::syntax::{Did, Handle};
use atdata_crypto::{Curve, Keypair};
use atdata_identity::plc::{genesis_did, PlcState, UnsignedOperation};
use atdata_identity::{CacheConfig, Resolver};
use futures_util::{stream, StreamExt as _};

struct Args {
    plc: String,
    dids: usize,
    lookups: usize,
    in_flight: usize,
    dids_out: Option<String>,
    dids_in: Option<String>,
    no_cache: bool,
}

fn args() -> Args {
    let mut args = Args {
        plc: std::env::var("ATDATA_PLC_URL").unwrap_or_else(|_| "http://localhost:2582".into()),
        dids: 1_000,
        lookups: 10_000,
        in_flight: 64,
        dids_out: None,
        dids_in: None,
        no_cache: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--plc" => args.plc = it.next().expect("--plc URL"),
            "--dids" => args.dids = it.next().expect("--dids N").parse().expect("a number"),
            "--lookups" => {
                args.lookups = it.next().expect("--lookups N").parse().expect("a number")
            }
            "--in-flight" => {
                args.in_flight = it.next().expect("--in-flight N").parse().expect("a number")
            }
            "--dids-out" => args.dids_out = Some(it.next().expect("--dids-out FILE")),
            "--dids-in" => args.dids_in = Some(it.next().expect("--dids-in FILE")),
            "--no-cache" => args.no_cache = true,
            // cargo bench passes --bench; criterion-style filters are ignored.
            _ => {}
        }
    }
    args
}

/// Creates `n` DIDs on the directory, `concurrency` posts at a time.
async fn create_dids(plc: &str, n: usize) -> Vec<Did> {
    let http = reqwest::Client::new();
    let rotation = Keypair::generate(Curve::K256).unwrap();
    let run = std::process::id();
    stream::iter(0..n)
        .map(|i| {
            let http = http.clone();
            let rotation = &rotation;
            async move {
                let key = Keypair::generate(Curve::K256).unwrap();
                let handle = Handle::new(&format!("b{run:x}x{i}.test")).unwrap();
                let state = PlcState::atproto(
                    vec![rotation.did_key()],
                    key.did_key(),
                    &handle,
                    "https://pds.example.com".into(),
                );
                let op = UnsignedOperation::regular(state, None)
                    .sign(rotation)
                    .unwrap();
                let did = genesis_did(&op).unwrap();
                let response = http
                    .post(format!("{plc}/{did}"))
                    .header("content-type", "application/json")
                    .body(serde_json::to_string(&op).unwrap())
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                did
            }
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// Each DID `rounds` times, shuffled with a fixed seed (xorshift), as the Python side reads it.
fn order(dids: &[Did], lookups: usize) -> Vec<Did> {
    let mut order: Vec<Did> = (0..lookups).map(|i| dids[i % dids.len()].clone()).collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

async fn run(contender: &str, resolver: Resolver, order: &[Did], in_flight: usize, dids: usize) {
    let started = Instant::now();
    let failures = stream::iter(order.iter().cloned())
        .map(|did| {
            let resolver = resolver.clone();
            async move {
                resolver
                    .lookup_document(&did)
                    .await
                    .map(|i| i.signing_key().is_ok())
            }
        })
        .buffer_unordered(in_flight)
        .filter(|r| std::future::ready(!matches!(r, Ok(true))))
        .count()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let stats = resolver.stats();
    println!(
        "{}",
        serde_json::json!({
            "contender": contender,
            "lookups": order.len(),
            "dids": dids,
            "in_flight": in_flight,
            "seconds": seconds,
            "lookups_per_s": order.len() as f64 / seconds,
            "requests": stats.http_requests,
            "merged": stats.merged,
            "failures": failures,
        })
    );
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (order, dids) = match &args.dids_in {
            Some(path) => {
                let order: Vec<Did> = std::fs::read_to_string(path)
                    .unwrap()
                    .lines()
                    .map(|l| Did::new(l.trim()).unwrap())
                    .collect();
                let distinct = order.iter().collect::<std::collections::HashSet<_>>().len();
                (order, distinct)
            }
            None => {
                let started = Instant::now();
                let dids = create_dids(&args.plc, args.dids).await;
                let secs = started.elapsed().as_secs_f64();
                eprintln!("created {} DIDs in {secs:.1} s", dids.len());
                (order(&dids, args.lookups), dids.len())
            }
        };
        if let Some(path) = &args.dids_out {
            let text: String = order.iter().map(|d| format!("{d}\n")).collect();
            std::fs::write(path, text).unwrap();
        }
        let cached = Resolver::builder().plc_url(&args.plc).build().unwrap();
        run("atdata", cached, &order, args.in_flight, dids).await;
        if !args.no_cache {
            return;
        }
        let uncached = Resolver::builder()
            .plc_url(&args.plc)
            .cache_config(CacheConfig::disabled())
            .build()
            .unwrap();
        run("atdata, no cache", uncached, &order, args.in_flight, dids).await;
    });
}
