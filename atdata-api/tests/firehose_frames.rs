//! Real `com.atproto.sync.subscribeRepos` message bodies (from indigo's test data, as DAG-JSON):
//! decoded through the generated subscription type from their DAG-CBOR form, they encode back to
//! the same bytes; the records inside their CAR diffs round-trip too.

#![cfg(all(feature = "com-atproto", feature = "app-bsky"))]

use std::path::{Path, PathBuf};

use atdata_api::com::atproto::sync::subscribe_repos::{Message, SubscribeRepos};
use atdata_core::car::CarReader;
use atdata_core::xrpc::XrpcSubscription;
use atdata_core::{cbor, Value};

fn indigo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus/indigo")
}

/// Decodes one message body and encodes its member again; returns the message.
fn round_trip(t: &str, body: &serde_json::Value) -> Result<Message, String> {
    let mut body = body.clone();
    // These bodies were dumped through Go's encoding/json, which writes an empty (nil) slice as
    // `null`; on the wire (cbor-gen) it is an empty array, as the lexicon requires.
    if t == "#commit" && body["blobs"].is_null() {
        body["blobs"] = serde_json::Value::Array(Vec::new());
    }
    let value = Value::from_json(body).map_err(|e| format!("json: {e}"))?;
    let bytes = value.to_dag_cbor();
    let message = SubscribeRepos::decode_message(t, &bytes).map_err(|e| e.to_string())?;
    // Frame bodies carry no `$type` (the header's `t` says what they are), so the member itself
    // is encoded, not the union (which would add `$type`).
    let again = match &message {
        Message::Commit(m) => cbor::to_vec(&**m),
        Message::Sync(m) => cbor::to_vec(&**m),
        Message::Identity(m) => cbor::to_vec(&**m),
        Message::Account(m) => cbor::to_vec(&**m),
        Message::Info(m) => cbor::to_vec(&**m),
        Message::Unknown(_) => return Err(format!("{t} decoded as unknown")),
    }
    .map_err(|e| e.to_string())?;
    if again != bytes {
        return Err(format!("{t}: re-encoded body differs"));
    }
    Ok(message)
}

/// Decodes `bytes` as `T` and encodes it again.
fn same<T: serde::de::DeserializeOwned + serde::Serialize>(path: &str, bytes: &[u8]) {
    let record: T = cbor::from_slice(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let again = cbor::to_vec(&record).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(again, bytes, "record {path} round-trips");
}

/// Round-trips the records carried in a commit's CAR diff; returns how many.
fn records_in(message: &Message) -> usize {
    use atdata_api::app::bsky::{actor, feed, graph};
    let Message::Commit(commit) = message else {
        return 0;
    };
    let car = CarReader::new(&commit.blocks.0).expect("the commit's CAR diff parses");
    let mut n = 0;
    for op in &commit.ops {
        let Some(cid) = &op.cid else {
            continue;
        };
        let Some(block) = car.blocks().flatten().find(|b| b.cid == cid.0) else {
            continue;
        };
        let path = op.path.as_str();
        match path.split('/').next().unwrap_or("") {
            "app.bsky.feed.post" => same::<feed::Post>(path, block.data),
            "app.bsky.feed.like" => same::<feed::Like>(path, block.data),
            "app.bsky.feed.repost" => same::<feed::Repost>(path, block.data),
            "app.bsky.feed.threadgate" => same::<feed::Threadgate>(path, block.data),
            "app.bsky.feed.postgate" => same::<feed::Postgate>(path, block.data),
            "app.bsky.graph.follow" => same::<graph::Follow>(path, block.data),
            "app.bsky.graph.block" => same::<graph::Block>(path, block.data),
            "app.bsky.actor.profile" => same::<actor::Profile>(path, block.data),
            _ => continue,
        }
        n += 1;
    }
    n
}

#[test]
fn production_commit_bodies() {
    let dir = indigo().join("atproto/repo/testdata");
    let mut bodies = 0;
    let mut records = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("firehose_commit_"))
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).expect("read");
        let body: serde_json::Value = serde_json::from_str(&text).expect("json");
        let message =
            round_trip("#commit", &body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        records += records_in(&message);
        bodies += 1;
    }
    println!("{bodies} production #commit bodies, {records} records in their CAR diffs");
    assert_eq!(bodies, 4);
    assert!(records > 0);
}

#[test]
fn relay_scenario_frames() {
    let dir = indigo().join("cmd/relay/testing/testdata");
    let mut frames = 0;
    let mut records = 0;
    let mut dropped = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let scenario: serde_json::Value = serde_json::from_str(&text).expect("json");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        for message in scenario["messages"].as_array().into_iter().flatten() {
            let frame = &message["frame"];
            let t = frame["header"]["t"].as_str().expect("t");
            match round_trip(t, &frame["body"]) {
                Ok(message) => {
                    records += records_in(&message);
                    frames += 1;
                }
                // Frames the scenario expects a relay to drop may be malformed on purpose
                // (`rev_ordering` has a rev that is not a TID).
                Err(e) if message["drop"] == true => dropped.push(format!("{name}: {e}")),
                Err(e) => panic!("{name} {t}: {e}"),
            }
        }
    }
    println!("{frames} relay frames round-trip, {records} records in their CAR diffs");
    for d in &dropped {
        println!("  rejected, as the scenario expects: {d}");
    }
    assert!(frames > 10, "{frames}");
}
