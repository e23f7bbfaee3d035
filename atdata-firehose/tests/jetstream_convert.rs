//! The converter reproduces, from 150 production relay frames, the 152 events production
//! Jetstream v1 served for the same window (`testdata/corpus/jetstream`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use atdata_firehose::jetstream::{Converter, JetstreamEvent, Kind};
use atdata_firehose::replay::{decompress, frames_detect};
use atdata_firehose::{decode_repo_frame, Decoded, Limits};

fn corpus(path: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/corpus/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn expected() -> Vec<(serde_json::Value, JetstreamEvent)> {
    let text = corpus("jetstream/expected_v1.jsonl");
    text.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            (
                serde_json::from_slice(line).unwrap(),
                JetstreamEvent::from_slice(line).unwrap(),
            )
        })
        .collect()
}

fn converted(converter: &mut Converter) -> Vec<JetstreamEvent> {
    let file = corpus("jetstream/frames.bin.zst");
    let data = decompress(&file).unwrap();
    let (frames, _) = frames_detect(&data, 5_000_000).unwrap();
    let mut out = Vec::new();
    for frame in frames {
        match decode_repo_frame(frame, &Limits::default()).unwrap() {
            Decoded::Event(event) => out.extend(converter.convert(&event)),
            other => panic!("{other:?}"),
        }
    }
    out
}

/// The JSON of an event without `time_us`, which is Jetstream's own clock.
fn without_time(value: &serde_json::Value) -> serde_json::Value {
    let mut value = value.clone();
    value.as_object_mut().unwrap().remove("time_us");
    value
}

#[test]
fn converts_production_frames_to_the_events_jetstream_served() {
    let expected = expected();
    assert_eq!(expected.len(), 152);
    let mut clock = 1_783_175_888_000_000;
    let mut converter = Converter::with_clock(move || {
        clock += 7;
        clock
    });
    let got = converted(&mut converter);
    assert_eq!(got.len(), expected.len());
    for (i, (event, (want_json, want))) in got.iter().zip(&expected).enumerate() {
        // As JSON values (key order free), everything but the stamp.
        let got_json =
            serde_json::from_str::<serde_json::Value>(&event.to_json().unwrap()).unwrap();
        assert_eq!(
            without_time(&got_json),
            without_time(want_json),
            "event {i}"
        );
        // And as typed events, with the stamp taken from the expected one.
        let mut stamped = event.clone();
        stamped.time_us = want.time_us;
        assert_eq!(&stamped, want, "event {i}");
    }
    let kinds = |k: Kind| got.iter().filter(|e| e.kind == k).count();
    assert_eq!(
        (
            kinds(Kind::Commit),
            kinds(Kind::Identity),
            kinds(Kind::Account)
        ),
        (150, 1, 1)
    );
    // Records read back typed, and by `$type` alone.
    let like = got[0].commit.as_ref().unwrap();
    assert_eq!(like.record_type().as_deref(), Some("app.bsky.feed.like"));
    let value: atdata_core::Value = like.record_as().unwrap().unwrap();
    assert!(value.get("subject").and_then(|s| s.get("cid")).is_some());
    // Stamps strictly increase, so they work as a cursor.
    assert!(got.windows(2).all(|w| w[0].time_us < w[1].time_us));
}

/// `time_us` cannot be derived from the frames: it is Jetstream's receive time, after the
/// upstream `time`, one distinct stamp per operation, and not in `seq` order.
#[test]
fn production_time_us_is_jetstreams_clock() {
    let expected = expected();
    let stamps: Vec<i64> = expected.iter().map(|(_, e)| e.time_us).collect();
    let distinct: std::collections::BTreeSet<_> = stamps.iter().collect();
    assert_eq!(distinct.len(), stamps.len());
    assert!(stamps.windows(2).any(|w| w[1] < w[0]), "not in seq order");
    for (_, event) in &expected {
        let upstream = event
            .identity
            .as_ref()
            .map(|i| &i.time)
            .or(event.account.as_ref().map(|a| &a.time));
        if let Some(time) = upstream {
            let upstream_us = time
                .parse::<atdata_core::syntax::Datetime>()
                .unwrap()
                .timestamp_micros();
            assert!(event.time_us > upstream_us);
        }
    }
}

#[test]
fn events_round_trip_through_json() {
    for (json, event) in expected() {
        let again: serde_json::Value = serde_json::from_str(&event.to_json().unwrap()).unwrap();
        assert_eq!(again, json);
    }
    let golden = corpus("jetstream/golden_v1.jsonl");
    for line in golden.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let event = JetstreamEvent::from_slice(line).unwrap();
        let json: serde_json::Value = serde_json::from_slice(line).unwrap();
        let again: serde_json::Value = serde_json::from_str(&event.to_json().unwrap()).unwrap();
        assert_eq!(again, json);
    }
}

#[test]
fn accepts_the_cursor_field_and_unknown_kinds() {
    let line = br#"{"did":"did:plc:abc","time_us":5,"kind":"sync","cursor":42}"#;
    let event = JetstreamEvent::from_slice(line).unwrap();
    assert_eq!(event.kind, Kind::Unknown);
    assert_eq!(event.cursor, Some(42));
    assert_eq!(event.position(), 42);
}
