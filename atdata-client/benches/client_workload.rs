//! The client workload of `bench/client/compare`: many `getRecord` or `createRecord` calls
//! against a running PDS, with 1 or more in flight, timed for throughput and for the CPU the
//! client process spends per call.
//!
//! Not a criterion bench: a PDS call takes milliseconds of the server's time, so the figure of
//! interest is how little the client adds to it. Run it through the compare script, which
//! starts the local PDS and runs the Python SDK on the same calls:
//!
//! ```text
//! bench/client/compare
//! cargo bench -p atdata-client --bench client_workload -- setup --pds URL
//! cargo bench -p atdata-client --bench client_workload -- run --pds URL --handle H \
//!     --password P --uri AT-URI --contender async --op get --calls 2000 --concurrency 16
//! ```
//!
//! `setup` makes an account and one post to read, and prints them as JSON. `run` logs in
//! (not timed), makes `--warmup` calls, then times `--calls` calls and prints one JSON line.
//! Contenders: `async` (`Client` on tokio's default multi-thread runtime, one task per call
//! slot), `blocking` (`blocking::Client` shared by one OS thread per slot), `raw` (reqwest
//! with the URL, token and body prepared outside the timing: the HTTP floor no client can
//! beat). `--runtime current` puts the async contenders on a current-thread runtime (the
//! default is tokio's multi-thread one, as `#[tokio::main]` gives).

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atdata_client::app::bsky::feed::post::Record as Post;
use atdata_client::ids::APP_BSKY_FEED_POST;
use atdata_client::Client;
use atdata_core::{AtUri, Datetime};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    // `cargo bench` adds `--bench` to the arguments of every bench target.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client_workload: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command line of `run`.
#[derive(Debug, Clone)]
struct Options {
    pds: String,
    handle: String,
    password: String,
    uri: String,
    contender: String,
    op: Op,
    calls: usize,
    concurrency: usize,
    warmup: usize,
}

/// Which call is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Create,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "getRecord",
            Op::Create => "createRecord",
        }
    }
}

fn run(args: &[String]) -> Result<(), BoxError> {
    let (command, rest) = args
        .split_first()
        .ok_or("usage: client_workload setup|run [--flag value]...")?;
    let flag = |name: &str| -> Option<String> {
        rest.iter()
            .position(|a| a == name)
            .and_then(|i| rest.get(i + 1).cloned())
    };
    let need = |name: &str| flag(name).ok_or_else(|| format!("{name} is required"));
    // `--runtime current` runs the async contenders on a current-thread runtime instead of
    // tokio's default multi-thread one.
    let runtime = match flag("--runtime").as_deref() {
        None | Some("multi") => tokio::runtime::Runtime::new()?,
        Some("current") => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Some(other) => return Err(format!("--runtime {other}: multi or current").into()),
    };
    match command.as_str() {
        "setup" => runtime.block_on(setup(&need("--pds")?)),
        "run" => {
            let number = |name: &str, default: usize| -> Result<usize, BoxError> {
                Ok(flag(name)
                    .map(|v| v.parse())
                    .transpose()?
                    .unwrap_or(default))
            };
            let options = Options {
                pds: need("--pds")?,
                handle: need("--handle")?,
                password: need("--password")?,
                uri: need("--uri")?,
                contender: need("--contender")?,
                op: match need("--op")?.as_str() {
                    "get" => Op::Get,
                    "create" => Op::Create,
                    other => return Err(format!("--op {other}: get or create").into()),
                },
                calls: number("--calls", 2000)?,
                concurrency: number("--concurrency", 1)?.max(1),
                warmup: number("--warmup", 50)?,
            };
            let report = match options.contender.as_str() {
                "async" => runtime.block_on(run_async(&options))?,
                "raw" => runtime.block_on(run_raw(&options))?,
                "blocking" => {
                    // The blocking client brings its own runtime and must not run inside one.
                    drop(runtime);
                    run_blocking(&options)?
                }
                other => return Err(format!("--contender {other}: async, blocking or raw").into()),
            };
            println!("{}", report.json(&options));
            Ok(())
        }
        other => Err(format!("unknown command {other}: setup or run").into()),
    }
}

/// Makes an account and the post the `get` runs read; prints them as one JSON object.
async fn setup(pds: &str) -> Result<(), BoxError> {
    let client = Client::new(pds)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    // The PDS allows at most 18 characters before `.test`.
    let handle = format!("bench{:012x}.test", stamp & 0xffff_ffff_ffff);
    let password = "client-bench-password";
    let email = format!("{}@example.com", handle.trim_end_matches(".test"));
    let account = client
        .create_account(&handle, &email, password, None)
        .await?;
    let post = Post::new("the post the getRecord runs read", Datetime::now());
    let written = client.create_record(APP_BSKY_FEED_POST, &post).await?;
    println!(
        "{}",
        serde_json::json!({
            "handle": handle,
            "password": password,
            "did": account.did.as_str(),
            "uri": written.uri.to_string(),
        })
    );
    Ok(())
}

/// What one timed run measured.
struct Report {
    wall: Duration,
    cpu: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn json(&self, options: &Options) -> serde_json::Value {
        let mut latencies = self.latencies.clone();
        latencies.sort_unstable();
        let percentile = |p: f64| {
            let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies
                .get(index)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let calls = options.calls as f64;
        serde_json::json!({
            "lib": "atdata",
            "contender": options.contender,
            "op": options.op.name(),
            "concurrency": options.concurrency,
            "calls": options.calls,
            "wall_s": self.wall.as_secs_f64(),
            "calls_per_s": calls / self.wall.as_secs_f64(),
            "cpu_s": self.cpu.as_secs_f64(),
            "cpu_us_per_call": self.cpu.as_secs_f64() * 1e6 / calls,
            "latency_p50_ms": percentile(0.5),
            "latency_p99_ms": percentile(0.99),
        })
    }
}

/// CPU time of the whole process (every thread), as Python's `time.process_time()` counts it.
#[allow(unsafe_code)]
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID is always supported
    // on Linux, and on failure the zero value stays (the run then reports zero CPU).
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Shared by the call slots: the next call number, and the latencies measured.
struct Work {
    next: AtomicUsize,
    calls: usize,
    latencies: Mutex<Vec<Duration>>,
}

impl Work {
    fn new(calls: usize) -> Arc<Work> {
        Arc::new(Work {
            next: AtomicUsize::new(0),
            calls,
            latencies: Mutex::new(Vec::with_capacity(calls)),
        })
    }

    /// The next call's number, or `None` when all are taken.
    fn take(&self) -> Option<usize> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (n < self.calls).then_some(n)
    }

    fn record(&self, latencies: Vec<Duration>) {
        if let Ok(mut all) = self.latencies.lock() {
            all.extend(latencies);
        }
    }

    fn latencies(&self) -> Vec<Duration> {
        self.latencies.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn post_text(n: usize) -> String {
    format!("client bench post {n}")
}

async fn async_call(client: &Client, uri: &AtUri, op: Op, n: usize) -> Result<(), BoxError> {
    match op {
        Op::Get => {
            let record = client.get_record::<Post>(uri).await?;
            std::hint::black_box(record);
        }
        Op::Create => {
            let post = Post::new(post_text(n), Datetime::now());
            let written = client.create_record(APP_BSKY_FEED_POST, &post).await?;
            std::hint::black_box(written);
        }
    }
    Ok(())
}

/// Runs `calls` calls of `call` with `concurrency` tasks, each taking the next call number
/// until none is left; the latencies.
async fn in_flight<F, Fut>(
    calls: usize,
    concurrency: usize,
    call: F,
) -> Result<Vec<Duration>, BoxError>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), BoxError>> + Send,
{
    let work = Work::new(calls);
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (call, work) = (call.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while let Some(n) = work.take() {
                let started = Instant::now();
                call(n).await?;
                latencies.push(started.elapsed());
            }
            work.record(latencies);
            Ok::<(), BoxError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(work.latencies())
}

/// The async client's calls, `calls` of them with `concurrency` in flight.
async fn async_phase(
    client: &Client,
    uri: &AtUri,
    op: Op,
    calls: usize,
    concurrency: usize,
) -> Result<Vec<Duration>, BoxError> {
    let (client, uri) = (client.clone(), uri.clone());
    in_flight(calls, concurrency, move |n| {
        let (client, uri) = (client.clone(), uri.clone());
        async move { async_call(&client, &uri, op, n).await }
    })
    .await
}

async fn run_async(options: &Options) -> Result<Report, BoxError> {
    let client = Client::new(&options.pds)?;
    client.login(&options.handle, &options.password).await?;
    let uri: AtUri = options.uri.parse()?;
    async_phase(
        &client,
        &uri,
        options.op,
        options.warmup,
        options.concurrency,
    )
    .await?;
    let (cpu, wall) = (process_cpu_time(), Instant::now());
    let latencies = async_phase(
        &client,
        &uri,
        options.op,
        options.calls,
        options.concurrency,
    )
    .await?;
    Ok(Report {
        wall: wall.elapsed(),
        cpu: process_cpu_time() - cpu,
        latencies,
    })
}

fn blocking_call(
    client: &atdata_client::blocking::Client,
    uri: &AtUri,
    op: Op,
    n: usize,
) -> Result<(), BoxError> {
    match op {
        Op::Get => {
            let record = client.get_record::<Post>(uri).send()?;
            std::hint::black_box(record);
        }
        Op::Create => {
            let post = Post::new(post_text(n), Datetime::now());
            let written = client.create_record(APP_BSKY_FEED_POST, &post).send()?;
            std::hint::black_box(written);
        }
    }
    Ok(())
}

/// Runs `calls` calls on `concurrency` OS threads sharing the one client.
fn blocking_phase(
    client: &atdata_client::blocking::Client,
    uri: &AtUri,
    op: Op,
    calls: usize,
    concurrency: usize,
) -> Result<Vec<Duration>, BoxError> {
    let work = Work::new(calls);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..concurrency)
            .map(|_| {
                let work = &work;
                scope.spawn(move || {
                    let mut latencies = Vec::new();
                    while let Some(n) = work.take() {
                        let started = Instant::now();
                        blocking_call(client, uri, op, n)?;
                        latencies.push(started.elapsed());
                    }
                    work.record(latencies);
                    Ok::<(), BoxError>(())
                })
            })
            .collect();
        for thread in threads {
            thread.join().map_err(|_| "a call thread panicked")??;
        }
        Ok::<(), BoxError>(())
    })?;
    Ok(work.latencies())
}

fn run_blocking(options: &Options) -> Result<Report, BoxError> {
    let client = atdata_client::blocking::Client::new(&options.pds)?;
    client.login(&options.handle, &options.password)?;
    let uri: AtUri = options.uri.parse()?;
    blocking_phase(
        &client,
        &uri,
        options.op,
        options.warmup,
        options.concurrency,
    )?;
    let (cpu, wall) = (process_cpu_time(), Instant::now());
    let latencies = blocking_phase(
        &client,
        &uri,
        options.op,
        options.calls,
        options.concurrency,
    )?;
    Ok(Report {
        wall: wall.elapsed(),
        cpu: process_cpu_time() - cpu,
        latencies,
    })
}

/// Everything a raw call needs, prepared before the timing.
struct Raw {
    http: reqwest::Client,
    get_url: String,
    create_url: String,
    authorization: String,
    did: String,
}

impl Raw {
    async fn call(&self, op: Op, n: usize) -> Result<(), BoxError> {
        let request = match op {
            Op::Get => self.http.get(&self.get_url),
            Op::Create => {
                // The body is the one the clients send, written by hand: no serde in the way.
                let body = format!(
                    r#"{{"repo":"{}","collection":"app.bsky.feed.post","record":{{"$type":"app.bsky.feed.post","text":"{}","createdAt":"{}"}}}}"#,
                    self.did,
                    post_text(n),
                    Datetime::now()
                );
                self.http
                    .post(&self.create_url)
                    .header("content-type", "application/json")
                    .body(body)
            }
        };
        let response = request
            .header("authorization", &self.authorization)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        std::hint::black_box(body);
        Ok(())
    }
}

async fn raw_phase(
    raw: &Arc<Raw>,
    op: Op,
    calls: usize,
    concurrency: usize,
) -> Result<Vec<Duration>, BoxError> {
    let raw = raw.clone();
    in_flight(calls, concurrency, move |n| {
        let raw = raw.clone();
        async move { raw.call(op, n).await }
    })
    .await
}

async fn run_raw(options: &Options) -> Result<Report, BoxError> {
    // The client logs in and hands over its access token: the raw path only sends requests.
    let client = Client::new(&options.pds)?;
    let account = client.login(&options.handle, &options.password).await?;
    let session = client.session().ok_or("not logged in after login")?;
    let token = session.access_jwt();
    let uri: AtUri = options.uri.parse()?;
    let base = options.pds.trim_end_matches('/');
    let rkey = uri.rkey().ok_or("--uri names no record")?;
    let collection = uri.collection().ok_or("--uri names no collection")?;
    let raw = Arc::new(Raw {
        http: reqwest::Client::new(),
        get_url: format!(
            "{base}/xrpc/com.atproto.repo.getRecord?repo={}&collection={collection}&rkey={rkey}",
            uri.authority()
        ),
        create_url: format!("{base}/xrpc/com.atproto.repo.createRecord"),
        authorization: format!("Bearer {token}"),
        did: account.did.to_string(),
    });
    raw_phase(&raw, options.op, options.warmup, options.concurrency).await?;
    let (cpu, wall) = (process_cpu_time(), Instant::now());
    let latencies = raw_phase(&raw, options.op, options.calls, options.concurrency).await?;
    Ok(Report {
        wall: wall.elapsed(),
        cpu: process_cpu_time() - cpu,
        latencies,
    })
}
