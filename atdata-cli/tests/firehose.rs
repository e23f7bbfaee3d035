//! `atdata firehose`, `labels` and `jetstream`: replays of the corpus recordings (with and
//! without verification, as JSON and as Jetstream events), and `firehose tail` on the local
//! reference PDS with every commit verified against keys from the local PLC directory.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{assert_fails, sign_up, Scratch, BIN, NOWHERE};

fn corpus(path: &str) -> String {
    format!("{}/../testdata/corpus/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn lines(output: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn replay_counts_the_pds_recording() {
    let scratch = Scratch::new();
    let stats = scratch.json(&["firehose", "replay", &corpus("firehose/pds-frames.bin.zst")]);
    assert_eq!(stats["frames"], 6051);
    assert_eq!(stats["events"], 6051);
    assert_eq!(stats["commits"], 6010);
    assert_eq!(stats["records"], 8102);
    assert_eq!(stats["invalid"], 0);
    assert!(stats["frames_per_s"].as_f64().unwrap_or(0.0) > 0.0);
}

#[test]
fn replay_verifies_production_commits_with_their_did_documents() {
    let scratch = Scratch::new();
    let frames = corpus("jetstream/frames.bin.zst");
    let docs = corpus("jetstream/did_docs.json.zst");
    for level in ["sig", "full"] {
        let stats = scratch.json(&[
            "firehose",
            "replay",
            &frames,
            "--did-docs",
            &docs,
            "--verify",
            level,
        ]);
        assert_eq!(stats["commits"], 148, "{level}");
        assert_eq!(stats["invalid"], 0, "{level}");
    }
    // Keys that cannot be had: every commit is invalid, on stderr, and the exit is 1.
    let out = scratch.run(&[
        "firehose", "replay", &frames, "--verify", "sig", "--plc", NOWHERE,
    ]);
    assert_fails(&out, 1, &["148 invalid events"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines().filter(|l| l.contains("\"error\"")).count(),
        148,
        "{err}"
    );
}

#[test]
fn replay_prints_events_as_json_and_as_jetstream() {
    let scratch = Scratch::new();
    let frames = corpus("jetstream/frames.bin.zst");
    let out = scratch.run(&["firehose", "replay", &frames, "--format", "json"]);
    assert!(out.status.success());
    let events = lines(&out);
    assert_eq!(events.len(), 150);
    assert_eq!(events.iter().filter(|e| e["kind"] == "commit").count(), 148);
    let commit = events
        .iter()
        .find(|e| e["kind"] == "commit")
        .unwrap_or_else(|| panic!("a commit"));
    for field in ["seq", "repo", "rev", "time", "ops"] {
        assert!(!commit[field].is_null(), "{field} in {commit}");
    }
    assert!(commit["ops"][0]["record"]["$type"].is_string(), "{commit}");

    let out = scratch.run(&["firehose", "replay", &frames, "--format", "jetstream"]);
    assert!(out.status.success());
    let converted = lines(&out);
    let expected: Vec<Value> = std::fs::read_to_string(corpus("jetstream/expected_v1.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    assert_eq!(converted.len(), expected.len());
    for (ours, theirs) in converted.iter().zip(&expected) {
        // time_us is each Jetstream server's own clock; everything else must agree.
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(map) = v.as_object_mut() {
                map.remove("time_us");
            }
            v
        };
        assert_eq!(strip(ours), strip(theirs));
    }
}

#[test]
fn tail_follows_the_local_pds_with_every_commit_verified() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = sign_up(&scratch, &pds.url);
    let collection = "com.example.atdata.firehose";
    let host = pds.url.replace("http://", "ws://");
    let mut tail = Command::new(BIN)
        .args([
            "firehose",
            "tail",
            "--host",
            &host,
            "--collection",
            collection,
            "--limit",
            "3",
            "--verify",
            "full",
            "--plc",
            &pds.plc_url,
        ])
        .env_remove("ATDATA_PLC_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    // Give it time to connect: it starts live.
    std::thread::sleep(Duration::from_millis(1_500));
    for n in 0..3 {
        let record = scratch.file(
            &format!("r{n}.json"),
            format!(r#"{{"$type":"{collection}","n":{n},"createdAt":"2026-12-03T00:00:00.000Z"}}"#)
                .as_bytes(),
        );
        let created = scratch.run(&["record", "create", collection, &record, "--no-validate"]);
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
    }
    let started = Instant::now();
    let output = loop {
        if let Some(_status) = tail.try_wait().unwrap_or(None) {
            break tail.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = tail.kill();
            let output = tail.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
            panic!(
                "tail did not finish: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events = lines(&output);
    assert_eq!(events.len(), 3, "{events:?}");
    let mut last = 0;
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["kind"], "commit");
        assert_eq!(event["repo"], account.did.as_str());
        assert_eq!(event["ops"][0]["record"]["n"], n as u64);
        let seq = event["seq"].as_i64().unwrap_or(0);
        assert!(seq > last);
        last = seq;
    }
    // Nothing failed verification.
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("\"error\""), "{err}");
}

#[test]
fn jetstream_options_are_checked_before_connecting() {
    let scratch = Scratch::new();
    let mut args = vec![
        "jetstream".to_owned(),
        "tail".into(),
        "--url".into(),
        "ws://127.0.0.1:9".into(),
    ];
    for i in 0..101 {
        args.push("--collection".into());
        args.push(format!("com.example.c{i}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = scratch.run(&args);
    assert_fails(&out, 2, &["100"]);
}
