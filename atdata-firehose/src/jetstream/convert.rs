//! `subscribeRepos` events to Jetstream v1 events, so a Jetstream consumer can run against any
//! PDS or relay.
//!
//! The mapping (checked against production: `testdata/corpus/jetstream`, 150 relay frames and
//! the 152 events Jetstream served for them):
//!
//! - `#commit`: one event per operation, in the commit's order, with the commit's `rev`; creates
//!   and updates carry the record (atproto JSON: `{"$link"}`, `{"$bytes"}`, blobs as their
//!   `$type: blob` maps) and its CID; deletes carry neither.
//! - `#identity`, `#account`: one event each, the message's fields as sent (`did`, `handle`,
//!   `seq`, `time`; `active`, `did`, `seq`, `status`, `time`).
//! - `#sync`, `#info`: no event (v1 has no such kinds).
//!
//! `time_us` is **not** in the upstream data: Jetstream stamps each event with its own clock
//! when it processes it (production stamps are 0.2–0.5 s after the upstream `time`, a distinct
//! microsecond per operation, and not in `seq` order). A [`Converter`] therefore takes a clock,
//! and keeps the stamps strictly increasing so they stay usable as a cursor.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::value::RawValue;

use crate::event::{Action, CommitEvent, RepoEvent};
use crate::jetstream::event::{Account, Commit, Identity, JetstreamEvent, Kind, Operation};

/// Turns `subscribeRepos` events into Jetstream v1 events, stamping each with `time_us` from a
/// clock.
///
/// ```
/// use atdata_firehose::jetstream::Converter;
/// // A fixed clock: stamps still increase by one microsecond per event.
/// let mut converter = Converter::with_clock(|| 1_783_175_888_000_000);
/// assert_eq!(converter.next_time_us(), 1_783_175_888_000_000);
/// assert_eq!(converter.next_time_us(), 1_783_175_888_000_001);
/// ```
pub struct Converter {
    clock: Box<dyn FnMut() -> i64 + Send>,
    last_time_us: i64,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("last_time_us", &self.last_time_us)
            .finish_non_exhaustive()
    }
}

impl Default for Converter {
    fn default() -> Self {
        Converter::new()
    }
}

/// Microseconds since the Unix epoch by the system clock (0 before 1970).
pub fn system_time_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Converter {
    /// A converter stamping events with the system clock.
    pub fn new() -> Converter {
        Converter::with_clock(system_time_us)
    }

    /// A converter stamping events with `clock` (microseconds since the Unix epoch).
    pub fn with_clock(clock: impl FnMut() -> i64 + Send + 'static) -> Converter {
        Converter {
            clock: Box::new(clock),
            last_time_us: i64::MIN,
        }
    }

    /// The next stamp: the clock's reading, or one more than the last stamp if the clock has not
    /// moved past it.
    pub fn next_time_us(&mut self) -> i64 {
        let now = (self.clock)();
        let stamp = if now > self.last_time_us {
            now
        } else {
            self.last_time_us.saturating_add(1)
        };
        self.last_time_us = stamp;
        stamp
    }

    /// The Jetstream v1 events for one `subscribeRepos` event (none for `#sync` and `#info`).
    ///
    /// A record that cannot be rendered as atproto JSON (a map with a `$link` or `$bytes` key,
    /// or a block missing from the commit's slice) gives an event without `record`, logged.
    pub fn convert(&mut self, event: &RepoEvent) -> Vec<JetstreamEvent> {
        match event {
            RepoEvent::Commit(commit) => self.commit(commit),
            RepoEvent::Identity(identity) => {
                let did = identity.did.as_str().to_owned();
                vec![JetstreamEvent {
                    did: did.clone(),
                    time_us: self.next_time_us(),
                    kind: Kind::Identity,
                    commit: None,
                    identity: Some(Identity {
                        did,
                        handle: identity.handle.as_ref().map(|h| h.as_str().to_owned()),
                        seq: identity.seq,
                        time: identity.time.as_str().to_owned(),
                    }),
                    account: None,
                    cursor: None,
                }]
            }
            RepoEvent::Account(account) => {
                let did = account.did.as_str().to_owned();
                vec![JetstreamEvent {
                    did: did.clone(),
                    time_us: self.next_time_us(),
                    kind: Kind::Account,
                    commit: None,
                    identity: None,
                    account: Some(Account {
                        active: account.active,
                        did,
                        seq: account.seq,
                        status: account.status.clone(),
                        time: account.time.as_str().to_owned(),
                    }),
                    cursor: None,
                }]
            }
            _ => Vec::new(),
        }
    }

    fn commit(&mut self, event: &CommitEvent) -> Vec<JetstreamEvent> {
        let did = event.commit.repo.as_str();
        let rev = event.commit.rev.as_str();
        event
            .ops()
            .map(|op| {
                let operation = match op.action {
                    Action::Create => Operation::Create,
                    Action::Update => Operation::Update,
                    Action::Delete => Operation::Delete,
                };
                let record = match operation {
                    Operation::Delete => None,
                    _ => record_json(did, op.path, op.record),
                };
                JetstreamEvent {
                    did: did.to_owned(),
                    time_us: self.next_time_us(),
                    kind: Kind::Commit,
                    commit: Some(Commit {
                        rev: rev.to_owned(),
                        operation,
                        collection: op.collection().to_owned(),
                        rkey: op.rkey().to_owned(),
                        record,
                        cid: op.cid.map(|c| c.to_string()),
                    }),
                    identity: None,
                    account: None,
                    cursor: None,
                }
            })
            .collect()
    }
}

/// A record block as raw atproto JSON.
fn record_json(did: &str, path: &str, block: Option<&[u8]>) -> Option<Box<RawValue>> {
    let Some(block) = block else {
        tracing::warn!(
            did,
            path,
            "jetstream: the commit's slice lacks the record block"
        );
        return None;
    };
    let rendered = atdata_core::cbor::decode_ref(block)
        .map_err(|e| e.to_string())
        .and_then(|value| serde_json::value::to_raw_value(&value).map_err(|e| e.to_string()));
    match rendered {
        Ok(raw) => Some(raw),
        Err(error) => {
            tracing::warn!(did, path, %error, "jetstream: record has no atproto JSON form");
            None
        }
    }
}
