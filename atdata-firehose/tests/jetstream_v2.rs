//! Jetstream v2 (`network.bsky.jetstream.subscribeEvents`) frames and URLs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
