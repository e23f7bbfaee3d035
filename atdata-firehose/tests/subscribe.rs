//! The subscription client against the local reference PDS (records created here, read back
//! through the firehose), through fault-injecting TCP proxies, and against a small fake
//! server for the error frames the PDS does not send on demand.

#![allow(clippy::unwrap_used)]
// The handshake callback's signature is tungstenite's.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atdata_core::Value;
use atdata_firehose::subscribe::{
    Backoff, CursorStore as _, Events, FileStore, Item, MemoryStore, SubscribeError, Subscription,
};
use atdata_firehose::RepoEvent;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

const COLLECTION: &str = "com.example.atdata.test";

// ---------------------------------------------------------------------------------------
// The PDS side: accounts and records over plain XRPC.

struct Account {
    did: String,
    jwt: String,
}

async fn post(url: &str, token: Option<&str>, body: serde_json::Value) -> serde_json::Value {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{url}: {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn create_account(pds: &str) -> Account {
    let handle = atdata_testkit::unique_handle('f');
    let body = serde_json::json!({
        "handle": handle,
        "email": format!("{handle}@example.com"),
        "password": "subscribe-test-password",
    });
    let out = post(
        &format!("{pds}/xrpc/com.atproto.server.createAccount"),
        None,
        body,
    )
    .await;
    Account {
        did: out["did"].as_str().unwrap().to_owned(),
        jwt: out["accessJwt"].as_str().unwrap().to_owned(),
    }
}

/// Creates record `n`; returns its rkey.
async fn create_record(pds: &str, account: &Account, n: i64) -> String {
    let body = serde_json::json!({
        "repo": account.did,
        "collection": COLLECTION,
        "record": {"$type": COLLECTION, "n": n, "createdAt": "2026-01-01T00:00:00.000Z"},
        "validate": false,
    });
    let out = post(
        &format!("{pds}/xrpc/com.atproto.repo.createRecord"),
        Some(&account.jwt),
        body,
    )
    .await;
    let uri = out["uri"].as_str().unwrap();
    uri.rsplit('/').next().unwrap().to_owned()
}

/// Creates `count` records in order, `pause` apart; returns their rkeys.
fn spawn_records(
    pds: String,
    account: Arc<Account>,
    count: i64,
    pause: Duration,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut rkeys = Vec::new();
        for n in 0..count {
            rkeys.push(create_record(&pds, &account, n).await);
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        rkeys
    })
}

/// Our records in an item: `(seq, rkey)` for each create in our collection by `did`.
fn our_records(item: &Item, did: &str) -> Vec<(i64, String)> {
    let Item::Event(RepoEvent::Commit(commit)) = item else {
        return Vec::new();
    };
    if commit.commit.repo.as_str() != did {
        return Vec::new();
    }
    commit
        .ops()
        .filter(|op| op.collection() == COLLECTION)
        .map(|op| (commit.commit.seq, op.rkey().to_owned()))
        .collect()
}

/// Reads until `want` of our records were seen (or `limit` passes).
async fn read_records(
    events: &mut Events<Item>,
    did: &str,
    want: usize,
    limit: Duration,
) -> Vec<(i64, String)> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while seen.len() < want {
        let next = tokio::time::timeout_at(deadline, events.next()).await;
        let item = match next {
            Ok(Some(item)) => item.unwrap(),
            Ok(None) => panic!("stream ended after {} records", seen.len()),
            Err(_) => panic!(
                "timed out after {} of {want} records; stats {:?}",
                seen.len(),
                events.stats()
            ),
        };
        seen.extend(our_records(&item, did));
    }
    seen
}

/// A new account and a seq from before any of its records: a live subscription is opened,
/// the account created, and the first event about it read.
async fn account_and_marker(pds: &str) -> (Arc<Account>, i64) {
    let mut live = Subscription::new().host(pds).stream().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while live.stats().connects() == 0 {
        assert!(
            Instant::now() < deadline,
            "no connection to the PDS firehose"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let account = Arc::new(create_account(pds).await);
    let mut marker_made = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(3), live.next()).await {
            Ok(Some(Ok(item))) => {
                let ours = match &item {
                    Item::Event(e) => e.repo().map(|d| d.as_str()) == Some(&account.did),
                    _ => false,
                };
                if ours {
                    let seq = item.seq().unwrap();
                    live.close().await;
                    return (account, seq);
                }
            }
            Ok(other) => panic!("live stream: {other:?}"),
            // The account's own events came before the server subscribed us: a marker record.
            Err(_) if !marker_made => {
                marker_made = true;
                create_record(pds, &account, -1).await;
            }
            Err(_) => panic!("no event about the new account"),
        }
    }
}

fn check_exactly(seen: &[(i64, String)], created: &[String]) {
    let rkeys: Vec<&String> = seen.iter().map(|(_, r)| r).collect();
    let want: Vec<&String> = created.iter().collect();
    assert_eq!(rkeys, want, "every record once, in order");
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "seqs increase: {seen:?}"
    );
}

fn fast_backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(300),
        healthy_after: Duration::from_secs(60),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sees_exactly_the_records_created_live_and_replayed() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let (account, marker) = account_and_marker(&pds.url).await;
    let mut live = Subscription::new()
        .host(&pds.url)
        .cursor(marker)
        .stream()
        .unwrap();
    let created = spawn_records(pds.url.clone(), account.clone(), 20, Duration::ZERO);
    let seen = read_records(&mut live, &account.did, 20, Duration::from_secs(20)).await;
    let created = created.await.unwrap();
    check_exactly(&seen, &created);
    live.close().await;

    // The same from a cursor, with the blocking iterator.
    let url = pds.url.clone();
    let did = account.did.clone();
    let replayed = tokio::task::spawn_blocking(move || {
        let events = Subscription::new()
            .host(url)
            .cursor(marker)
            .blocking()
            .unwrap();
        let mut seen = Vec::new();
        for item in events {
            seen.extend(our_records(&item.unwrap(), &did));
            if seen.len() == 20 {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    assert_eq!(replayed, seen);
}

// ---------------------------------------------------------------------------------------
// A TCP proxy in the test, between the client and the PDS. It injects faults the real server
// cannot produce on demand: connections cut at random points, and a connection that stalls
// without closing.

#[derive(Clone, Copy)]
enum Fault {
    /// Cut each connection after a random 100–1,000 ms, `kills` times; then pass through.
    Cut { kills: usize },
    /// Stop forwarding on the first connection after `after`, keeping it open.
    StallFirst { after: Duration },
}

struct Proxy {
    url: String,
    cuts: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    stalled_at: Arc<Mutex<Option<Instant>>>,
    second_at: Arc<Mutex<Option<Instant>>>,
}

async fn proxy(pds: &str, fault: Fault) -> Proxy {
    let upstream = pds
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let cuts = Arc::new(AtomicUsize::new(0));
    let connections = Arc::new(AtomicUsize::new(0));
    let stalled_at = Arc::new(Mutex::new(None));
    let second_at = Arc::new(Mutex::new(None));
    let seed = AtomicU64::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    let state = (
        cuts.clone(),
        connections.clone(),
        stalled_at.clone(),
        second_at.clone(),
    );
    tokio::spawn(async move {
        let (cuts, connections, stalled_at, second_at) = state;
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let number = connections.fetch_add(1, Ordering::SeqCst);
            if number == 1 {
                *second_at.lock().unwrap() = Some(Instant::now());
            }
            let Ok(mut server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            // xorshift: enough randomness for cut points.
            let mut x = seed.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seed.store(x, Ordering::Relaxed);
            let cuts = cuts.clone();
            let stalled_at = stalled_at.clone();
            tokio::spawn(async move {
                let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                match fault {
                    Fault::Cut { kills } if cuts.load(Ordering::SeqCst) < kills => {
                        let life = Duration::from_millis(100 + x % 900);
                        tokio::select! {
                            _ = copy => {}
                            _ = tokio::time::sleep(life) => {
                                cuts.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                    Fault::StallFirst { after } if number == 0 => {
                        tokio::select! {
                            _ = copy => return,
                            _ = tokio::time::sleep(after) => {}
                        }
                        *stalled_at.lock().unwrap() = Some(Instant::now());
                        // Hold both sockets open, forwarding nothing.
                        tokio::time::sleep(Duration::from_secs(120)).await;
                        drop((client, server));
                    }
                    _ => {
                        let _ = copy.await;
                    }
                }
            });
        }
    });
    Proxy {
        url,
        cuts,
        connections,
        stalled_at,
        second_at,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_connections_cut_at_random_points() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let (account, marker) = account_and_marker(&pds.url).await;
    let proxy = proxy(&pds.url, Fault::Cut { kills: 10 }).await;
    let mut events = Subscription::new()
        .host(&proxy.url)
        .cursor(marker)
        .backoff(fast_backoff())
        .stall_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
        .stream()
        .unwrap();
    const N: usize = 1_000;
    let created = spawn_records(pds.url.clone(), account.clone(), N as i64, Duration::ZERO);
    let seen = read_records(&mut events, &account.did, N, Duration::from_secs(120)).await;
    let created = created.await.unwrap();
    check_exactly(&seen, &created);
    let cuts = proxy.cuts.load(Ordering::SeqCst);
    eprintln!(
        "{N} records through {cuts} cuts: {} connects, {} connection errors, {} replayed dropped",
        events.stats().connects(),
        events.stats().connection_errors(),
        events.stats().replayed()
    );
    assert!(cuts >= 5, "only {cuts} cuts happened");
    assert!(events.stats().connection_errors() >= cuts as u64);
    events.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_the_connection_stalls() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let (account, marker) = account_and_marker(&pds.url).await;
    let stall = Duration::from_millis(1500);
    let proxy = proxy(
        &pds.url,
        Fault::StallFirst {
            after: Duration::from_millis(700),
        },
    )
    .await;
    let mut events = Subscription::new()
        .host(&proxy.url)
        .cursor(marker)
        .backoff(fast_backoff())
        .stall_timeout(stall)
        .stream()
        .unwrap();
    let created = spawn_records(
        pds.url.clone(),
        account.clone(),
        30,
        Duration::from_millis(80),
    );
    let seen = read_records(&mut events, &account.did, 30, Duration::from_secs(20)).await;
    let created = created.await.unwrap();
    check_exactly(&seen, &created);
    let stalled_at = proxy.stalled_at.lock().unwrap().unwrap();
    let second_at = proxy.second_at.lock().unwrap().unwrap();
    let took = second_at.duration_since(stalled_at);
    eprintln!("stalled; reconnected after {took:?} (stall timeout {stall:?})");
    // The last frame came at most `stall` before the deadline; plus backoff and slack.
    assert!(took <= stall + Duration::from_millis(1000), "{took:?}");
    assert!(proxy.connections.load(Ordering::SeqCst) >= 2);
    assert!(events.stats().connection_errors() >= 1);
    events.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_and_restarted_from_its_file_cursor_loses_nothing() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let (account, marker) = account_and_marker(&pds.url).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursor");
    FileStore::new(&path).save(marker).unwrap();
    const N: usize = 60;
    let created = spawn_records(
        pds.url.clone(),
        account.clone(),
        N as i64,
        Duration::from_millis(10),
    );

    // A: killed. Its own runtime is shut down under it: no shutdown save, only the periodic
    // ones, as when the process is killed.
    let (url, did, store_path) = (pds.url.clone(), account.did.clone(), path.clone());
    let a: Vec<(i64, String)> = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seen = runtime.block_on(async {
            let mut events = Subscription::new()
                .host(url)
                .cursor_store(FileStore::new(store_path))
                .save_interval(Duration::from_millis(50))
                .stream()
                .unwrap();
            let seen = read_records(&mut events, &did, 20, Duration::from_secs(20)).await;
            // Let a periodic save happen, then die without closing.
            tokio::time::sleep(Duration::from_millis(150)).await;
            std::mem::forget(events);
            seen
        });
        runtime.shutdown_background();
        seen
    })
    .await
    .unwrap();
    let after_kill = FileStore::new(&path).load().unwrap().unwrap();
    assert!(after_kill > marker, "a periodic save happened");
    assert!(
        after_kill < a.last().unwrap().0 + 1,
        "the cursor never passes what A got"
    );

    // B: restarted from the file; closed gracefully after 20 more of ours.
    let mut b_events = Subscription::new()
        .host(&pds.url)
        .cursor_store(FileStore::new(&path))
        .stream()
        .unwrap();
    let b = read_records(&mut b_events, &account.did, 20, Duration::from_secs(20)).await;
    b_events.close().await;
    let after_close = FileStore::new(&path).load().unwrap().unwrap();
    assert!(after_close >= b.last().unwrap().0);
    // What B saw starts right after the saved cursor: A's events up to it are not repeated.
    assert!(b.first().unwrap().0 > after_kill);

    // C: the rest.
    let a_and_b: Vec<(i64, String)> = a
        .iter()
        .filter(|(seq, _)| *seq <= after_kill)
        .chain(b.iter())
        .cloned()
        .collect();
    let mut c_events = Subscription::new()
        .host(&pds.url)
        .cursor_store(FileStore::new(&path))
        .stream()
        .unwrap();
    let c = read_records(
        &mut c_events,
        &account.did,
        N - a_and_b.len(),
        Duration::from_secs(20),
    )
    .await;
    c_events.close().await;
    let created = created.await.unwrap();
    let all: Vec<(i64, String)> = a_and_b.into_iter().chain(c).collect();
    // No loss, no duplicates: A up to its saved cursor, then B, then C, is every record once.
    check_exactly(&all, &created);
    // A saw a few beyond its last save: those are the ones B saw again (at least once).
    let redelivered = a.iter().filter(|(seq, _)| *seq > after_kill).count();
    eprintln!("killed consumer: {redelivered} events after its last save were delivered again");
}

// ---------------------------------------------------------------------------------------
// A fake server: error frames and exact sequences.

fn frame(header: &str, body: &str) -> Message {
    let mut bytes = atdata_core::cbor::encode_value(&Value::from_json_str(header).unwrap());
    bytes.extend(atdata_core::cbor::encode_value(
        &Value::from_json_str(body).unwrap(),
    ));
    Message::Binary(bytes.into())
}

fn identity(seq: i64, did: &str) -> Message {
    frame(
        r##"{"op":1,"t":"#identity"}"##,
        &format!(r#"{{"seq":{seq},"did":"{did}","time":"2026-01-01T00:00:00.000Z"}}"#),
    )
}

fn error_frame(name: &str) -> Message {
    frame(
        r#"{"op":-1}"#,
        &format!(r#"{{"error":"{name}","message":"test"}}"#),
    )
}

/// Serves connection `i` with `script(i)`'s messages, then keeps it open (answering pings)
/// or closes it. Records each request's query string.
async fn fake_server<F>(script: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(usize) -> (Vec<Message>, bool) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = queries.clone();
    tokio::spawn(async move {
        let mut i = 0;
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            let callback =
                move |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                      response| {
                    seen.lock()
                        .unwrap()
                        .push(request.uri().query().unwrap_or("").to_owned());
                    Ok(response)
                };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(socket, callback).await else {
                continue;
            };
            let (messages, keep_open) = script(i);
            i += 1;
            tokio::spawn(async move {
                for m in messages {
                    if ws.send(m).await.is_err() {
                        return;
                    }
                }
                if !keep_open {
                    let _ = ws.close(None).await;
                }
                // Answer pings until the client goes.
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    (url, queries)
}

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

#[tokio::test]
async fn consumer_too_slow_reconnects_from_the_cursor_and_future_cursor_stops() {
    let (url, queries) = fake_server(|i| match i {
        0 => (
            vec![
                frame(
                    r##"{"op":1,"t":"#info"}"##,
                    r#"{"name":"OutdatedCursor","message":"too old"}"#,
                ),
                identity(41, DID),
                identity(43, DID),
                error_frame("ConsumerTooSlow"),
            ],
            true,
        ),
        // A replay of 43 (dropped), then a close; then the cursor is "ahead".
        1 => (vec![identity(43, DID), identity(44, DID)], false),
        _ => (vec![error_frame("FutureCursor")], true),
    })
    .await;
    let mut events = Subscription::new()
        .host(url.replace("ws://", "http://"))
        .cursor(40)
        .backoff(fast_backoff())
        .stall_timeout(Duration::from_millis(600))
        .stream()
        .unwrap();
    let mut items = Vec::new();
    let error = loop {
        match tokio::time::timeout(Duration::from_secs(10), events.next()).await {
            Ok(Some(Ok(item))) => items.push(item),
            Ok(Some(Err(e))) => break e,
            other => panic!("{other:?}"),
        }
    };
    assert!(matches!(&error, SubscribeError::FutureCursor(e) if e.is_future_cursor()));
    assert!(matches!(&items[0], Item::Info(info) if info.name == "OutdatedCursor"));
    let seqs: Vec<Option<i64>> = items.iter().map(Item::seq).collect();
    assert_eq!(seqs, [None, Some(41), Some(43), Some(44)]);
    // Reconnected from the last event handed out, each time.
    let queries = queries.lock().unwrap().clone();
    assert_eq!(queries, ["cursor=40", "cursor=43", "cursor=44"]);
    assert_eq!(events.stats().consumer_too_slow(), 1);
    assert_eq!(events.stats().replayed(), 1);
    assert!(events.next().await.is_none(), "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_runner_keeps_each_account_in_order_and_the_cursor_contiguous() {
    const N: i64 = 300;
    let dids: Vec<String> = (0..7)
        .map(|i| format!("did:plc:aaaaaaaaaaaaaaaaaaaaaaa{i}"))
        .collect();
    let script_dids = dids.clone();
    let (url, _) = fake_server(move |i| {
        if i > 0 {
            return (Vec::new(), true);
        }
        let messages = (1..=N)
            .map(|seq| identity(seq, &script_dids[seq as usize % script_dids.len()]))
            .collect();
        (messages, true)
    })
    .await;
    let store = Arc::new(MemoryStore::new());
    let subscription = Subscription::new()
        .host(&url)
        .cursor(0)
        .cursor_store(store.clone())
        .stall_timeout(Duration::from_secs(30));
    let stop = subscription.stop_handle();
    let events = subscription.stream().unwrap();
    let handled: Arc<Mutex<BTreeMap<String, Vec<i64>>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let stopper = {
        let count = count.clone();
        tokio::spawn(async move {
            while count.load(Ordering::SeqCst) < N as usize {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            stop.stop();
        })
    };
    let h = handled.clone();
    events
        .run_parallel(4, move |item| {
            let h = h.clone();
            let count = count.clone();
            async move {
                let Item::Event(event) = item else { return };
                let seq = event.seq().unwrap();
                // Uneven work, so workers finish out of order.
                tokio::time::sleep(Duration::from_micros((seq as u64 * 7919) % 3000)).await;
                h.lock()
                    .unwrap()
                    .entry(event.repo().unwrap().as_str().to_owned())
                    .or_default()
                    .push(seq);
                count.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await
        .unwrap();
    stopper.await.unwrap();
    let handled = handled.lock().unwrap();
    let mut all = BTreeSet::new();
    for (did, seqs) in handled.iter() {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{did} in order");
        all.extend(seqs.iter().copied());
    }
    assert_eq!(all, (1..=N).collect::<BTreeSet<_>>());
    assert_eq!(handled.len(), dids.len());
    assert_eq!(
        store.load().unwrap(),
        Some(N),
        "every event done: the cursor is the last"
    );
}

#[test]
fn callback_runner_and_the_saved_cursor() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, _) = runtime.block_on(fake_server(|i| {
        if i > 0 {
            return (Vec::new(), true);
        }
        ((1..=5).map(|seq| identity(seq, DID)).collect(), true)
    }));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursor");
    let subscription = Subscription::new()
        .host(&url)
        .cursor(0)
        .cursor_store(FileStore::new(&path));
    let stop = subscription.stop_handle();
    let mut seqs = Vec::new();
    subscription
        .start(|item| {
            seqs.push(item.seq().unwrap());
            if seqs.len() == 5 {
                stop.stop();
            }
        })
        .unwrap();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert_eq!(FileStore::new(&path).load().unwrap(), Some(5));
}

// ---------------------------------------------------------------------------------------
// subscribeLabels, with signatures checked.

/// A labeler that rotated its key: a cache still holds the old one.
struct Keys {
    cached: atdata_crypto::PublicKey,
    current: atdata_crypto::PublicKey,
}

impl atdata_firehose::subscribe::LabelKeys for Keys {
    fn labeler_key<'a>(
        &'a self,
        _src: &'a atdata_core::syntax::Did,
    ) -> futures_util::future::BoxFuture<'a, Result<atdata_crypto::PublicKey, String>> {
        Box::pin(async move { Ok(self.cached) })
    }

    fn fresh_labeler_key<'a>(
        &'a self,
        _src: &'a atdata_core::syntax::Did,
    ) -> futures_util::future::BoxFuture<'a, Result<atdata_crypto::PublicKey, String>> {
        Box::pin(async move { Ok(self.current) })
    }
}

#[tokio::test]
async fn label_stream_checks_signatures() {
    use atdata_api::com::atproto::label::subscribe_labels::Labels;
    use atdata_firehose::subscribe::{verify_label, LabelItem, LabelSubscription};

    let keypair = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).unwrap();
    let message = |seq: i64, val: &str, tamper: bool| {
        let json = format!(
            r#"{{"seq":{seq},"labels":[{{"ver":1,"src":"{DID}","uri":"at://{DID}/app.bsky.feed.post/3k2a","val":"{val}","cts":"2026-01-01T00:00:00.000Z"}}]}}"#
        );
        let mut labels: Labels = serde_json::from_str(&json).unwrap();
        for label in &mut labels.labels {
            let unsigned = atdata_core::cbor::to_vec(&*label).unwrap();
            label.sig = Some(atdata_core::Bytes(keypair.sign(&unsigned).to_vec()));
            if tamper {
                label.val = "not-what-was-signed".into();
            }
        }
        let mut bytes = atdata_core::cbor::encode_value(
            &Value::from_json_str(r##"{"op":1,"t":"#labels"}"##).unwrap(),
        );
        bytes.extend(atdata_core::cbor::to_vec(&labels).unwrap());
        Message::Binary(bytes.into())
    };
    let frames = vec![message(7, "spam", false), message(8, "porn", true)];
    let (url, queries) = fake_server(move |i| {
        if i == 0 {
            (frames.clone(), true)
        } else {
            (Vec::new(), true)
        }
    })
    .await;
    let mut events = LabelSubscription::new(&url)
        .cursor(6)
        .verify_with(Keys {
            cached: atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256)
                .unwrap()
                .public_key(),
            current: keypair.public_key(),
        })
        .stream()
        .unwrap();
    let first = events.next().await.unwrap().unwrap();
    let LabelItem::Labels { seq: 7, labels } = &first else {
        panic!("{first:?}");
    };
    assert_eq!(labels[0].val, "spam");
    verify_label(&labels[0], &keypair.public_key()).unwrap();
    let second = events.next().await.unwrap().unwrap();
    let LabelItem::Invalid(invalid) = &second else {
        panic!("{second:?}");
    };
    assert_eq!(invalid.seq, Some(8));
    assert_eq!(events.stats().invalid(), 1);
    events.close().await;
    assert_eq!(queries.lock().unwrap()[0], "cursor=6");
}

#[tokio::test]
async fn the_pds_refuses_a_future_cursor_with_a_typed_stop() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let mut events = Subscription::new()
        .host(&pds.url)
        // Far ahead, but still a safe integer for the TypeScript server.
        .cursor(1_000_000_000_000)
        .backoff(fast_backoff())
        .stream()
        .unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap();
    assert!(
        matches!(&item, Some(Err(SubscribeError::FutureCursor(_)))),
        "{item:?}"
    );
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn the_pds_refuses_a_malformed_cursor_and_the_client_stops_instead_of_retrying() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let mut events = Subscription::new()
        .host(&pds.url)
        // Beyond JavaScript's safe integers: the TypeScript server answers InvalidRequest.
        .cursor(1 << 60)
        .backoff(fast_backoff())
        .stream()
        .unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap();
    match &item {
        Some(Err(SubscribeError::Refused(e))) => assert!(e.is_request_refused(), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(events.next().await.is_none());
}

/// A slow consumer with a small byte budget: the socket task waits for room (back-pressure)
/// instead of buffering, and every event still arrives, in order. The fake server stands in
/// for a relay because the test needs a burst of events it controls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_byte_budget_holds_back_the_socket_and_loses_nothing() {
    const N: i64 = 200;
    let (url, _) = fake_server(move |i| {
        if i > 0 {
            return (Vec::new(), true);
        }
        let did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaab";
        ((1..=N).map(|seq| identity(seq, did)).collect(), true)
    })
    .await;
    let subscription = Subscription::new()
        .host(&url)
        .cursor(0)
        // About two identity frames' worth.
        .buffer_bytes(300)
        .stall_timeout(Duration::from_secs(30));
    let mut events = subscription.stream().unwrap();
    let mut seen = Vec::new();
    while seen.len() < N as usize {
        let item = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Item::Event(event) = item {
            seen.push(event.seq().unwrap());
        }
        if seen.len() % 50 == 0 {
            // A consumer that falls behind now and then.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(seen, (1..=N).collect::<Vec<_>>());
}
