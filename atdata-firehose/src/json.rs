//! Events as one line of JSON each, the shape `atdata firehose tail` prints:
//! `{"seq","kind":"commit","repo","rev","time","ops":[{"action","path","cid","record"}]}` for
//! a commit (records in the atproto JSON view), and the message's own fields with `"kind"` for
//! the others.

use serde_json::{json, Map, Value as Json};

use crate::event::{CommitEvent, RepoEvent};

impl RepoEvent {
    /// The event as JSON (see the module documentation).
    ///
    /// A record block that does not decode shows as `"record": null` with `"record_error"`.
    pub fn to_json(&self) -> Json {
        match self {
            RepoEvent::Commit(commit) => commit_json(commit),
            RepoEvent::Sync(sync) => with_kind("sync", serde_json::to_value(&*sync.sync)),
            RepoEvent::Identity(identity) => {
                with_kind("identity", serde_json::to_value(&**identity))
            }
            RepoEvent::Account(account) => with_kind("account", serde_json::to_value(&**account)),
            RepoEvent::Info(info) => with_kind("info", serde_json::to_value(&**info)),
        }
    }
}

fn with_kind(kind: &str, value: Result<Json, serde_json::Error>) -> Json {
    let mut map = match value {
        Ok(Json::Object(map)) => map,
        Ok(other) => {
            let mut map = Map::new();
            map.insert("value".into(), other);
            map
        }
        Err(e) => {
            let mut map = Map::new();
            map.insert("error".into(), Json::String(e.to_string()));
            map
        }
    };
    // A `#sync` message's `blocks` is a CAR slice: not for a JSON line.
    map.remove("blocks");
    map.remove("$type");
    map.insert("kind".into(), Json::String(kind.to_owned()));
    Json::Object(map)
}

fn commit_json(event: &CommitEvent) -> Json {
    let commit = &event.commit;
    let ops: Vec<Json> = event
        .ops()
        .map(|op| {
            let mut entry = Map::new();
            entry.insert("action".into(), json!(op.action.as_str()));
            entry.insert("path".into(), json!(op.path));
            entry.insert(
                "cid".into(),
                op.cid.map_or(Json::Null, |c| json!(c.to_string())),
            );
            if let Some(result) = op.decode::<atdata_core::Value>() {
                match result {
                    Ok(record) => {
                        entry.insert("record".into(), record.to_json());
                    }
                    Err(e) => {
                        entry.insert("record".into(), Json::Null);
                        entry.insert("record_error".into(), json!(e.to_string()));
                    }
                }
            }
            Json::Object(entry)
        })
        .collect();
    json!({
        "seq": commit.seq,
        "kind": "commit",
        "repo": commit.repo.as_str(),
        "rev": commit.rev.as_str(),
        "time": commit.time.as_str(),
        "ops": ops,
    })
}
