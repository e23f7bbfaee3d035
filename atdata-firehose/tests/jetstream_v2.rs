//! Jetstream v2 (`network.bsky.jetstream.subscribeEvents`) frames and URLs.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The handshake callback's signature is tungstenite's.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use atdata_firehose::jetstream::v2::{self, dictionary_id, parse_frame, Event, Frame};
use atdata_firehose::jetstream::{JetstreamEvent, Kind, Operation, OptionsError};
use serde_json::json;

fn corpus(path: &str) -> Vec<u8> {
    let path = format!(
        "{}/../testdata/corpus/jetstream/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Production's v1 events reshaped as v2 messages (seq = line number).
fn v2_frames() -> Vec<(JetstreamEvent, String)> {
    let text = String::from_utf8(corpus("expected_v1.jsonl")).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let event = JetstreamEvent::from_slice(line.as_bytes()).unwrap();
            let v1: serde_json::Value = serde_json::from_str(line).unwrap();
            let time = "2026-07-04T14:38:08.085434Z";
            let mut payload = json!({"seq": i + 1, "did": event.did, "time": time});
            let kind = match event.kind {
                Kind::Commit => {
                    for (k, v) in v1["commit"].as_object().unwrap() {
                        payload[k] = v.clone();
                    }
                    "commit"
                }
                Kind::Identity => {
                    payload["identity"] = v1["identity"].clone();
                    "identity"
                }
                Kind::Account => {
                    payload["account"] = v1["account"].clone();
                    "account"
                }
                Kind::Unknown => unreachable!(),
            };
            payload["$type"] = json!(format!("{}#{kind}", v2::NSID));
            let frame = json!({"$type": "message", "payload": payload});
            (event, frame.to_string())
        })
        .collect()
}

#[test]
fn messages_parse_into_typed_events() {
    let frames = v2_frames();
    assert_eq!(frames.len(), 152);
    for (i, (v1, frame)) in frames.iter().enumerate() {
        let Frame::Message(event) = parse_frame(frame.as_bytes()).unwrap() else {
            panic!("frame {i}")
        };
        assert_eq!(event.seq(), Some(i as i64 + 1));
        match (&event, v1.kind) {
            (Event::Commit(commit), Kind::Commit) => {
                let want = v1.commit.as_ref().unwrap();
                assert_eq!(commit.did, v1.did);
                assert_eq!(commit.operation(), Some(want.operation));
                assert_eq!(
                    (&commit.rev, &commit.collection, &commit.rkey, &commit.cid),
                    (&want.rev, &want.collection, &want.rkey, &want.cid)
                );
                let record = |r: Option<&serde_json::value::RawValue>| {
                    r.map(|r| serde_json::from_str::<serde_json::Value>(r.get()).unwrap())
                };
                assert_eq!(
                    record(commit.record.as_deref()),
                    record(want.record.as_deref())
                );
                assert_eq!(commit.record.is_none(), want.operation == Operation::Delete);
            }
            (Event::Identity(identity), Kind::Identity) => {
                let want = v1.identity.as_ref().unwrap();
                assert_eq!(identity.event.did.as_str(), want.did);
                assert_eq!(identity.event.seq, want.seq);
                assert_eq!(identity.event.time.as_str(), want.time);
            }
            (Event::Account(account), Kind::Account) => {
                let want = v1.account.as_ref().unwrap();
                assert_eq!(account.event.active, want.active);
                assert_eq!(account.event.seq, want.seq);
            }
            other => panic!("frame {i}: {other:?}"),
        }
    }
}

#[test]
fn errors_info_and_unknown_types() {
    let error = parse_frame(br#"{"$type":"error","error":"FutureCursor","message":"ahead"}"#);
    assert_eq!(
        error.unwrap(),
        Frame::Error {
            error: "FutureCursor".into(),
            message: Some("ahead".into())
        }
    );
    let info = format!(
        r#"{{"$type":"message","payload":{{"$type":"{}#info","name":"OutdatedCursor"}}}}"#,
        v2::NSID
    );
    assert_eq!(
        parse_frame(info.as_bytes()).unwrap(),
        Frame::Message(Event::Info {
            name: "OutdatedCursor".into(),
            message: None
        })
    );
    let unknown = br#"{"$type":"message","payload":{"$type":"com.example.stream#thing","x":1}}"#;
    assert_eq!(
        parse_frame(unknown).unwrap(),
        Frame::Message(Event::Unknown("com.example.stream#thing".into()))
    );
    assert!(parse_frame(br#"{"$type":"surprise"}"#).is_err());
    let no_seq = format!(
        r#"{{"$type":"message","payload":{{"$type":"{}#commit","did":"did:plc:x"}}}}"#,
        v2::NSID
    );
    assert!(parse_frame(no_seq.as_bytes()).is_err());
}

#[test]
fn urls_and_the_dictionary_id() {
    let mut options = v2::Options::default();
    options.cursor = Some(42);
    options.kinds = vec!["commit".into()];
    options.collections = vec!["app.bsky.feed.*".into()];
    options.dids = vec!["did:plc:abc".into()];
    options.zstd_dictionary = dictionary_id(&corpus("subscribe_events_20260811.zdict"));
    assert_eq!(options.zstd_dictionary, Some(20_260_811));
    assert_eq!(
        options.url("wss://jetstream.example/").unwrap(),
        "wss://jetstream.example/xrpc/network.bsky.jetstream.subscribeEvents?cursor=42\
         &kinds=commit&dids=did:plc:abc&collections=app.bsky.feed.*&zstdDictionary=20260811"
    );
    options.kinds = vec!["label".into()];
    assert_eq!(
        options.url("wss://jetstream.example"),
        Err(OptionsError::BadKind("label".into()))
    );
    assert_eq!(dictionary_id(b"raw content dictionary"), None);
}

/// A v2 server on 127.0.0.1 serving [`v2_frames`]: honours `cursor` (seq, inclusive), `kinds`
/// and `zstdDictionary`; on the first connection it sends `ConsumerTooSlow` after
/// `error_after` events and closes. Returns the endpoint and the URLs asked for.
async fn v2_server(error_after: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("ws://{}", listener.local_addr().unwrap());
    let urls = Arc::new(Mutex::new(Vec::new()));
    let seen = urls.clone();
    let frames = Arc::new(v2_frames());
    let dictionary = Arc::new(corpus("subscribe_events_20260811.zdict"));
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((tcp, _)) = listener.accept().await {
            let (seen, frames, dictionary) = (seen.clone(), frames.clone(), dictionary.clone());
            let this_first = std::mem::replace(&mut first, false);
            tokio::spawn(async move {
                let mut uri = String::new();
                let callback = |request: &Request, mut response: Response| {
                    uri = request.uri().to_string();
                    let offered = request.headers().get("Sec-WebSocket-Protocol");
                    assert_eq!(offered.unwrap(), v2::SUBPROTOCOL);
                    response.headers_mut().insert(
                        "Sec-WebSocket-Protocol",
                        HeaderValue::from_static(v2::SUBPROTOCOL),
                    );
                    Ok(response)
                };
                let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                    .await
                    .unwrap();
                seen.lock().unwrap().push(uri.clone());
                let query = uri.split_once('?').map_or("", |(_, q)| q);
                let (mut cursor, mut kinds, mut compress) = (1, Vec::new(), false);
                for (key, value) in query.split('&').filter_map(|p| p.split_once('=')) {
                    match key {
                        "cursor" => cursor = value.parse().unwrap(),
                        "kinds" => kinds.push(value.to_owned()),
                        "zstdDictionary" => {
                            assert_eq!(value, "20260811");
                            compress = true;
                        }
                        other => panic!("{other}"),
                    }
                }
                let mut compressor =
                    zstd::bulk::Compressor::with_dictionary(3, &dictionary).unwrap();
                let mut sent = 0;
                for (i, (event, frame)) in frames.iter().enumerate() {
                    let seq = i as i64 + 1;
                    let kind = format!("{:?}", event.kind).to_lowercase();
                    if seq < cursor || !(kinds.is_empty() || kinds.contains(&kind)) {
                        continue;
                    }
                    let message = if compress {
                        Message::binary(compressor.compress(frame.as_bytes()).unwrap())
                    } else {
                        Message::text(frame.clone())
                    };
                    ws.send(message).await.unwrap();
                    sent += 1;
                    if this_first && sent == error_after {
                        let error = r#"{"$type":"error","error":"ConsumerTooSlow"}"#;
                        ws.send(Message::text(error)).await.unwrap();
                        let _ = ws.close(None).await;
                        return;
                    }
                }
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    (endpoint, urls)
}

fn fast() -> atdata_firehose::jetstream::ClientConfig {
    let mut config = atdata_firehose::jetstream::ClientConfig::default();
    config.backoff_min = Duration::from_millis(10);
    config.channel_capacity = 8;
    config
}

#[tokio::test]
async fn the_v2_client_resumes_by_seq_after_an_error_frame_compressed() {
    let (endpoint, urls) = v2_server(40).await;
    let dictionary = corpus("subscribe_events_20260811.zdict");
    let mut subscription =
        v2::subscribe(&endpoint, v2::Options::default(), Some(&dictionary), fast()).unwrap();
    let (mut seqs, mut errors, mut reconnects) = (Vec::new(), 0, 0);
    while seqs.len() < 152 {
        let item = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .unwrap_or_else(|_| panic!("timed out after {} events", seqs.len()))
            .unwrap();
        match item {
            v2::Item::Event(event) => seqs.push(event.seq().unwrap()),
            v2::Item::ServerError { error, .. } => {
                assert_eq!(error, "ConsumerTooSlow");
                errors += 1;
            }
            v2::Item::Reconnecting { .. } => reconnects += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seqs, (1..=152).collect::<Vec<i64>>());
    assert_eq!((errors, reconnects), (1, 1));
    let extra = tokio::time::timeout(Duration::from_millis(200), subscription.next()).await;
    assert!(extra.is_err(), "{extra:?}");
    let urls = urls.lock().unwrap().clone();
    assert!(urls[1].contains("cursor=40"), "{urls:?}");
    assert!(urls[0].contains("zstdDictionary=20260811"), "{urls:?}");
}

#[tokio::test]
async fn the_v2_client_filters_by_kind() {
    let (endpoint, _) = v2_server(usize::MAX).await;
    let mut options = v2::Options::default();
    options.kinds = vec!["identity".into(), "account".into()];
    let mut subscription = v2::subscribe(&endpoint, options, None, fast()).unwrap();
    for want in ["identity", "account"] {
        let item = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .unwrap()
            .unwrap();
        match (item, want) {
            (v2::Item::Event(event), "identity") => {
                assert!(matches!(*event, Event::Identity(_)))
            }
            (v2::Item::Event(event), "account") => assert!(matches!(*event, Event::Account(_))),
            (other, _) => panic!("{other:?}"),
        }
    }
    let wrong = v2::subscribe(&endpoint, v2::Options::default(), Some(b"raw"), fast());
    assert!(matches!(wrong, Err(v2::SubscribeError::Dictionary { .. })));
}
