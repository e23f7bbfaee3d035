//! The Jetstream v1 client against a local server replaying production's events
//! (`testdata/corpus/jetstream/expected_v1.jsonl`): filters, cursor, compression,
//! `options_update`, and a connection dropped mid-way that the client resumes without loss or
//! duplicates.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The handshake callback's signature is tungstenite's.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atdata_firehose::jetstream::{
    subscribe, ClientConfig, Item, JetstreamEvent, Kind, OptionsError, SubscribeOptions,
    Subscription, V1_DICTIONARY,
};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// Production's events in the order a server replays them (by `time_us`), with their lines.
fn events() -> Vec<(JetstreamEvent, String)> {
    let mut events = live_events();
    events.sort_by_key(|(e, _)| e.time_us);
    events
}

/// Production's events in the order production served them live: upstream `seq` order, with
/// `time_us` out of order.
fn live_events() -> Vec<(JetstreamEvent, String)> {
    let path = format!(
        "{}/../testdata/corpus/jetstream/expected_v1.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| {
            (
                JetstreamEvent::from_slice(line.as_bytes()).unwrap(),
                line.to_owned(),
            )
        })
        .collect()
}

/// A connection's filters, as the server reads them.
#[derive(Debug, Clone, Default)]
struct Filters {
    collections: Vec<String>,
    dids: Vec<String>,
}

impl Filters {
    fn wants(&self, event: &JetstreamEvent) -> bool {
        if !self.dids.is_empty() && !self.dids.contains(&event.did) {
            return false;
        }
        match (&event.commit, self.collections.is_empty()) {
            (Some(commit), false) => self.collections.iter().any(|c| match c.strip_suffix('*') {
                Some(prefix) => commit.collection.starts_with(prefix),
                None => *c == commit.collection,
            }),
            _ => true,
        }
    }

    fn update(&mut self, text: &str) {
        let message: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(message["type"], "options_update");
        let list = |key: &str| -> Vec<String> {
            message["payload"][key]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        self.collections = list("wantedCollections");
        self.dids = list("wantedDids");
    }
}

/// How the test server behaves.
#[derive(Clone, Copy, Default)]
struct Scenario {
    /// On the first connection, drop the socket after sending this many events.
    drop_after: Option<usize>,
    /// On the first connection, after this many events wait for an `options_update`.
    pause_after: Option<usize>,
    /// Add the `cursor` sequence number newer servers send (the event's index), and stamp
    /// every event with the same `time_us`, so only `cursor` tells them apart.
    with_seq: bool,
    /// Without a cursor, send in production's live order (not by `time_us`).
    live_order: bool,
}

/// A Jetstream v1 server on 127.0.0.1; returns its endpoint and the URLs clients asked for.
async fn server(scenario: Scenario) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("ws://{}", listener.local_addr().unwrap());
    let urls = Arc::new(Mutex::new(Vec::new()));
    let seen = urls.clone();
    let mut events = events();
    if scenario.with_seq {
        for (seq, (event, line)) in events.iter_mut().enumerate() {
            event.cursor = Some(seq as i64 + 1);
            event.time_us = 1_783_175_888_000_000;
            *line = event.to_json().unwrap();
        }
    }
    let events = Arc::new(events);
    let live = Arc::new(live_events());
    tokio::spawn(async move {
        let mut connection = 0;
        while let Ok((tcp, _)) = listener.accept().await {
            let first = connection == 0;
            connection += 1;
            let seen = seen.clone();
            let events = events.clone();
            let live = live.clone();
            tokio::spawn(async move {
                let mut uri = String::new();
                let callback = |request: &Request, response: Response| {
                    uri = request.uri().to_string();
                    Ok(response)
                };
                let ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                    .await
                    .unwrap();
                seen.lock().unwrap().push(uri.clone());
                let live_now = scenario.live_order && !uri.contains("cursor=");
                let events = if live_now { &live } else { &events };
                serve(ws, &uri, events, first, scenario).await;
            });
        }
    });
    (endpoint, urls)
}

/// The next text message (an `options_update`), or `None` when the client has gone.
async fn next_update(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> Option<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Some(text.to_string()),
            Some(Ok(_)) => continue,
            _ => return None,
        }
    }
}

async fn serve(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    uri: &str,
    events: &[(JetstreamEvent, String)],
    first: bool,
    scenario: Scenario,
) {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let mut filters = Filters::default();
    let (mut cursor, mut compress, mut hello) = (None, false, false);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap();
        match key {
            "wantedCollections" => filters.collections.push(value.to_owned()),
            "wantedDids" => filters.dids.push(value.to_owned()),
            "cursor" => cursor = Some(value.parse::<i64>().unwrap()),
            "compress" => compress = value == "true",
            "requireHello" => hello = value == "true",
            "maxMessageSizeBytes" => {}
            other => panic!("unknown parameter {other}"),
        }
    }
    if hello {
        let Some(text) = next_update(&mut ws).await else {
            return;
        };
        filters.update(&text);
    }
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, V1_DICTIONARY).unwrap();
    let mut sent = 0;
    for (event, line) in events {
        if cursor.is_some_and(|c| event.time_us < c) || !filters.wants(event) {
            continue;
        }
        let message = if compress {
            Message::binary(compressor.compress(line.as_bytes()).unwrap())
        } else {
            Message::text(line.clone())
        };
        if ws.send(message).await.is_err() {
            return;
        }
        sent += 1;
        if first && scenario.drop_after == Some(sent) {
            // An abrupt end: no close frame.
            return;
        }
        if first && scenario.pause_after == Some(sent) {
            let Some(text) = next_update(&mut ws).await else {
                return;
            };
            filters.update(&text);
        }
    }
    // Live: nothing more to send; hold the connection until the client goes.
    while let Some(Ok(_)) = ws.next().await {}
}

fn config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.backoff_min = Duration::from_millis(10);
    config.backoff_max = Duration::from_millis(50);
    config.channel_capacity = 16;
    config
}

/// Receives `n` events (failing after a few seconds), then checks nothing more arrives.
/// Returns them and how many reconnections were announced.
async fn take(subscription: &mut Subscription, n: usize) -> (Vec<JetstreamEvent>, usize) {
    let mut got = Vec::new();
    let mut reconnects = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while got.len() < n {
        let item = tokio::time::timeout_at(deadline, subscription.next())
            .await
            .unwrap_or_else(|_| panic!("timed out with {} of {n} events", got.len()))
            .unwrap();
        match item {
            Item::Event(event) => got.push(*event),
            Item::Reconnecting { .. } => reconnects += 1,
            other => panic!("{other:?}"),
        }
    }
    let extra = tokio::time::timeout(Duration::from_millis(200), subscription.next()).await;
    match extra {
        Err(_) => {}
        Ok(Some(Item::Event(event))) => panic!("an extra event: {event:?}"),
        Ok(other) => panic!("{other:?}"),
    }
    (got, reconnects)
}

fn expected(filters: &Filters, cursor: Option<i64>) -> Vec<JetstreamEvent> {
    events()
        .into_iter()
        .map(|(e, _)| e)
        .filter(|e| cursor.is_none_or(|c| e.time_us >= c) && filters.wants(e))
        .collect()
}

fn cursor_of(url: &str) -> Option<i64> {
    url.split(['?', '&'])
        .find_map(|p| p.strip_prefix("cursor="))
        .map(|c| c.parse().unwrap())
}

#[tokio::test]
async fn resumes_after_a_dropped_connection_without_loss_or_duplicates() {
    let scenario = Scenario {
        drop_after: Some(60),
        ..Scenario::default()
    };
    let (endpoint, urls) = server(scenario).await;
    let want = expected(&Filters::default(), None);
    assert_eq!(want.len(), 152);
    let mut subscription = subscribe(&endpoint, SubscribeOptions::new(), config()).unwrap();
    let (got, reconnects) = take(&mut subscription, want.len()).await;
    assert_eq!(got, want);
    assert_eq!(reconnects, 1);
    let urls = urls.lock().unwrap().clone();
    assert_eq!(urls.len(), 2);
    assert_eq!(cursor_of(&urls[0]), None);
    // The second connection rewinds three seconds before the last delivered event.
    assert_eq!(cursor_of(&urls[1]), Some(want[59].time_us - 3_000_000));
}

#[tokio::test]
async fn resumes_when_the_live_order_is_not_time_order() {
    let scenario = Scenario {
        drop_after: Some(88),
        live_order: true,
        ..Scenario::default()
    };
    let (endpoint, urls) = server(scenario).await;
    let mut subscription = subscribe(&endpoint, SubscribeOptions::new(), config()).unwrap();
    let (got, reconnects) = take(&mut subscription, 152).await;
    assert_eq!(reconnects, 1);
    // The first 88 as served live, then the rest in replay order, each once.
    let live: Vec<JetstreamEvent> = live_events().into_iter().map(|(e, _)| e).collect();
    assert_eq!(got[..88], live[..88]);
    let mut got_stamps: Vec<i64> = got.iter().map(|e| e.time_us).collect();
    let mut want_stamps: Vec<i64> = live.iter().map(|e| e.time_us).collect();
    got_stamps.sort_unstable();
    want_stamps.sort_unstable();
    assert_eq!(got_stamps, want_stamps);
    // Some of those after the drop are older than the latest delivered before it: a
    // "newer than the last" rule would have lost them.
    let latest = live[..88].iter().map(|e| e.time_us).max().unwrap();
    assert!(got[88..].iter().any(|e| e.time_us < latest));
    assert_eq!(urls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn resumes_by_the_servers_sequence_number_when_sent() {
    let scenario = Scenario {
        drop_after: Some(75),
        with_seq: true,
        ..Scenario::default()
    };
    let (endpoint, urls) = server(scenario).await;
    let mut subscription = subscribe(&endpoint, SubscribeOptions::new(), config()).unwrap();
    let (got, reconnects) = take(&mut subscription, 152).await;
    let seqs: Vec<i64> = got.iter().map(|e| e.cursor.unwrap()).collect();
    assert_eq!(seqs, (1..=152).collect::<Vec<_>>());
    assert_eq!(reconnects, 1);
    assert_eq!(urls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn compressed_and_filtered_by_collection_prefix() {
    let scenario = Scenario {
        drop_after: Some(20),
        ..Scenario::default()
    };
    let (endpoint, urls) = server(scenario).await;
    let options = SubscribeOptions::new()
        .collections(["app.bsky.feed.*", "app.bsky.graph.follow"])
        .compress(true);
    let filters = Filters {
        collections: options.wanted_collections.clone(),
        dids: Vec::new(),
    };
    let want = expected(&filters, None);
    assert!(want.len() > 40 && want.len() < 152, "{}", want.len());
    let mut subscription = subscribe(&endpoint, options, config()).unwrap();
    let (got, reconnects) = take(&mut subscription, want.len()).await;
    assert_eq!(got, want);
    assert_eq!(reconnects, 1);
    assert!(urls.lock().unwrap()[0].contains("compress=true"));
}

#[tokio::test]
async fn filtered_by_did_from_a_cursor() {
    let all = events();
    let start = all[50].0.time_us;
    let dids: Vec<String> = all.iter().step_by(3).map(|(e, _)| e.did.clone()).collect();
    let (endpoint, _) = server(Scenario::default()).await;
    let options = SubscribeOptions::new().dids(dids.clone()).cursor(start);
    let filters = Filters {
        collections: Vec::new(),
        dids,
    };
    let want = expected(&filters, Some(start));
    assert!(!want.is_empty());
    let mut subscription = subscribe(&endpoint, options, config()).unwrap();
    let (got, reconnects) = take(&mut subscription, want.len()).await;
    assert_eq!(got, want);
    assert_eq!(reconnects, 0);
}

#[tokio::test]
async fn require_hello_and_options_update_at_run_time() {
    let scenario = Scenario {
        pause_after: Some(10),
        ..Scenario::default()
    };
    let (endpoint, urls) = server(scenario).await;
    let first = SubscribeOptions::new()
        .collections(["app.bsky.feed.like"])
        .require_hello(true);
    let mut subscription = subscribe(&endpoint, first.clone(), config()).unwrap();
    let (got, _) = take(&mut subscription, 10).await;
    assert!(got
        .iter()
        .all(|e| e.commit.as_ref().unwrap().collection == "app.bsky.feed.like"));
    let second = SubscribeOptions::new().collections(["app.bsky.graph.*"]);
    subscription.update_options(second.clone()).await.unwrap();
    let filters = Filters {
        collections: second.wanted_collections.clone(),
        dids: Vec::new(),
    };
    let after = got[9].time_us;
    let want: Vec<_> = expected(&filters, None)
        .into_iter()
        .filter(|e| e.time_us > after)
        .collect();
    assert!(!want.is_empty());
    let (rest, reconnects) = take(&mut subscription, want.len()).await;
    assert_eq!(rest, want);
    assert_eq!(reconnects, 0);
    assert!(rest.iter().all(|e| e.kind != Kind::Commit
        || e.commit
            .as_ref()
            .unwrap()
            .collection
            .starts_with("app.bsky.graph.")));
    assert!(urls.lock().unwrap()[0].contains("requireHello=true"));
}

#[test]
fn options_are_validated() {
    let too_many: Vec<String> = (0..101).map(|i| format!("com.example.c{i}")).collect();
    assert_eq!(
        SubscribeOptions::new().collections(too_many).validate(),
        Err(OptionsError::TooManyCollections(101))
    );
    let dids: Vec<String> = (0..10_001)
        .map(|i| format!("did:web:h{i}.example"))
        .collect();
    assert_eq!(
        SubscribeOptions::new().dids(dids).validate(),
        Err(OptionsError::TooManyDids(10_001))
    );
    for bad in ["app.bsky", "*", "app..bsky.*", "app.bsky.feed.post/x", ".*"] {
        assert!(
            matches!(
                SubscribeOptions::new().collections([bad]).validate(),
                Err(OptionsError::BadCollection(_))
            ),
            "{bad}"
        );
    }
    for good in ["app.*", "app.bsky.feed.*", "app.bsky.feed.post"] {
        SubscribeOptions::new()
            .collections([good])
            .validate()
            .unwrap();
    }
    assert!(matches!(
        SubscribeOptions::new().dids(["did:nope"]).validate(),
        Err(OptionsError::BadDid(..))
    ));
    assert!(matches!(
        SubscribeOptions::new().url("https://jetstream.example"),
        Err(OptionsError::BadEndpoint(_))
    ));
    let url = SubscribeOptions::new()
        .dids(["did:plc:abc"])
        .max_message_size_bytes(1000)
        .url("ws://h/subscribe/")
        .unwrap();
    assert_eq!(
        url,
        "ws://h/subscribe?wantedDids=did:plc:abc&maxMessageSizeBytes=1000"
    );
    let hello = SubscribeOptions::new()
        .dids(["did:plc:abc"])
        .require_hello(true);
    assert_eq!(
        hello.url("ws://h").unwrap(),
        "ws://h/subscribe?requireHello=true"
    );
    let update: serde_json::Value = serde_json::from_str(&hello.options_update()).unwrap();
    assert_eq!(update["payload"]["wantedDids"][0], "did:plc:abc");
}

#[tokio::test]
async fn an_unreachable_server_is_retried_with_backoff() {
    // A port nothing listens on: bind one, then free it.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // wss:// also builds the TLS configuration (rustls with ring, webpki roots).
    let endpoint = format!("wss://127.0.0.1:{port}");
    let mut subscription = subscribe(&endpoint, SubscribeOptions::new(), config()).unwrap();
    let mut delays = Vec::new();
    while delays.len() < 3 {
        let item = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .unwrap()
            .unwrap();
        match item {
            Item::Reconnecting { attempt, delay, .. } => {
                assert_eq!(attempt as usize, delays.len() + 1);
                delays.push(delay);
            }
            other => panic!("{other:?}"),
        }
    }
    // 10 ms, 20 ms, then capped at 50 ms, each with up to a quarter of jitter.
    assert!(delays[0] >= Duration::from_millis(10) && delays[0] < Duration::from_millis(13));
    assert!(delays[1] >= Duration::from_millis(20) && delays[1] < Duration::from_millis(25));
    assert!(delays[2] >= Duration::from_millis(40) && delays[2] < Duration::from_millis(63));
}

#[test]
fn compressed_messages_round_trip_with_the_v1_dictionary_and_a_limit() {
    use atdata_firehose::jetstream::{DecompressError, Decompressor};
    let (_, line) = &events()[1];
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, V1_DICTIONARY).unwrap();
    let compressed = compressor.compress(line.as_bytes()).unwrap();
    assert!(
        compressed.len() < line.len() / 2,
        "{} of {}",
        compressed.len(),
        line.len()
    );
    let back = Decompressor::v1(1 << 20).decompress(&compressed).unwrap();
    assert_eq!(back, line.as_bytes());
    assert!(matches!(
        Decompressor::v1(100).decompress(&compressed),
        Err(DecompressError::TooLarge { limit: 100 })
    ));
    assert!(Decompressor::v1(1 << 20).decompress(b"not zstd").is_err());
}
