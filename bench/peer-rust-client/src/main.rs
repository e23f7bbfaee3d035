//! atrium's client in bench/client/compare: the same calls as atdata's `client_workload` bench
//! (see atdata-client/benches/client_workload.rs), through `AtpAgent` (atrium-api 0.26, the
//! `agent` feature) over `atrium_xrpc_client::reqwest::ReqwestClient`, on tokio's multi-thread
//! runtime. Prints one JSON line.
//!
//! Usage: peer-client-bench --pds URL --handle H --password P --uri AT-URI --op get|create
//!                          [--calls N] [--concurrency C] [--warmup W]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atrium_api::agent::atp_agent::store::MemorySessionStore;
use atrium_api::agent::atp_agent::AtpAgent;
use atrium_api::app::bsky::feed::post;
use atrium_api::com::atproto::repo::{create_record, get_record};
use atrium_api::types::string::{AtIdentifier, Datetime, Nsid, RecordKey};
use atrium_api::types::{TryFromUnknown, TryIntoUnknown};
use atrium_xrpc_client::reqwest::ReqwestClient;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Agent = AtpAgent<MemorySessionStore, ReqwestClient>;

/// CPU time of the whole process, as the atdata and Python contenders measure it.
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

struct Target {
    repo: AtIdentifier,
    did: String,
    collection: Nsid,
    rkey: RecordKey,
}

async fn call(agent: &Agent, target: &Target, get: bool, n: usize) -> Result<(), BoxError> {
    if get {
        let output = agent
            .api
            .com
            .atproto
            .repo
            .get_record(
                get_record::ParametersData {
                    cid: None,
                    collection: target.collection.clone(),
                    repo: target.repo.clone(),
                    rkey: target.rkey.clone(),
                }
                .into(),
            )
            .await?;
        // Decoded into the typed post, as the other contenders do.
        let record = post::Record::try_from_unknown(output.data.value)?;
        std::hint::black_box(record);
    } else {
        let record: post::Record = post::RecordData {
            created_at: Datetime::now(),
            embed: None,
            entities: None,
            facets: None,
            labels: None,
            langs: None,
            reply: None,
            tags: None,
            text: format!("client bench post {n}"),
        }
        .into();
        let output = agent
            .api
            .com
            .atproto
            .repo
            .create_record(
                create_record::InputData {
                    collection: "app.bsky.feed.post".parse()?,
                    record: record.try_into_unknown()?,
                    repo: target.did.parse()?,
                    rkey: None,
                    swap_commit: None,
                    validate: None,
                }
                .into(),
            )
            .await?;
        std::hint::black_box(output);
    }
    Ok(())
}

async fn phase(
    agent: &Arc<Agent>,
    target: &Arc<Target>,
    get: bool,
    calls: usize,
    concurrency: usize,
) -> Result<Vec<Duration>, BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let all = Arc::new(Mutex::new(Vec::with_capacity(calls)));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (agent, target, next, all) = (agent.clone(), target.clone(), next.clone(), all.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls {
                    break;
                }
                let started = Instant::now();
                call(&agent, &target, get, n).await?;
                latencies.push(started.elapsed());
            }
            all.lock().map_err(|_| "poisoned")?.extend(latencies);
            Ok::<(), BoxError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let latencies = all.lock().map_err(|_| "poisoned")?.clone();
    Ok(latencies)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let need = |name: &str| flag(name).ok_or_else(|| format!("{name} is required"));
    let number = |name: &str, default: usize| -> Result<usize, BoxError> {
        Ok(flag(name).map(|v| v.parse()).transpose()?.unwrap_or(default))
    };
    let pds = need("--pds")?;
    let uri = need("--uri")?;
    let get = match need("--op")?.as_str() {
        "get" => true,
        "create" => false,
        other => return Err(format!("--op {other}: get or create").into()),
    };
    let calls = number("--calls", 2000)?;
    let concurrency = number("--concurrency", 1)?.max(1);
    let warmup = number("--warmup", 50)?;

    let agent = Arc::new(AtpAgent::new(ReqwestClient::new(pds), MemorySessionStore::default()));
    let session = agent.login(need("--handle")?, need("--password")?).await?;
    // at://<did>/<collection>/<rkey>
    let parts: Vec<&str> = uri.trim_start_matches("at://").split('/').collect();
    let [repo, collection, rkey] = parts[..] else {
        return Err(format!("--uri {uri}: not a record URI").into());
    };
    let target = Arc::new(Target {
        repo: repo.parse()?,
        did: session.did.to_string(),
        collection: collection.parse()?,
        rkey: rkey.parse()?,
    });

    phase(&agent, &target, get, warmup, concurrency).await?;
    let (cpu, wall) = (process_cpu_time(), Instant::now());
    let mut latencies = phase(&agent, &target, get, calls, concurrency).await?;
    let (wall, cpu) = (wall.elapsed(), process_cpu_time() - cpu);
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "lib": "atrium-api 0.26 + atrium-xrpc-client (reqwest)",
            "contender": "atrium",
            "op": if get { "getRecord" } else { "createRecord" },
            "concurrency": concurrency,
            "calls": calls,
            "wall_s": wall.as_secs_f64(),
            "calls_per_s": calls as f64 / wall.as_secs_f64(),
            "cpu_s": cpu.as_secs_f64(),
            "cpu_us_per_call": cpu.as_secs_f64() * 1e6 / calls as f64,
            "latency_p50_ms": percentile(0.5),
            "latency_p99_ms": percentile(0.99),
        })
    );
    Ok(())
}
