//! `atdata record`: create, put, get, list and delete records of any collection on a PDS.
//!
//! Values are atproto JSON (`{"$link": …}`, `{"$bytes": …}`, blob refs) both ways. Reading
//! (`get`, `list`) needs no session; writing needs `atdata login`.

use atdata_core::{AtIdentifier, AtUri, Nsid, RecordKey, Value};
use clap::Subcommand;
use futures_util::StreamExt as _;

use super::read_input;
use crate::output::Output;
use crate::remote::{client_failure, PdsArg, Remote};
use crate::Failure;

#[derive(Subcommand)]
pub enum RecordCommand {
    /// Create a record from a JSON file: prints {"uri", "cid"}.
    ///
    /// The record goes in COLLECTION of the logged-in account's repository. FILE holds a JSON
    /// object (`-` reads stdin); `$type` is added when missing.
    Create {
        #[command(flatten)]
        pds: PdsArg,
        /// The collection (an NSID, e.g. ac.foundation.dataset.sampleSchema).
        collection: String,
        /// The record as JSON, or `-` for stdin.
        file: String,
        /// The record key (default: a TID chosen by the server).
        #[arg(long)]
        rkey: Option<String>,
        /// Ask the server not to validate against its lexicons (for collections it does not
        /// know, the server skips validation anyway).
        #[arg(long)]
        no_validate: bool,
    },
    /// Create or replace the record at AT-URI with FILE: prints {"uri", "cid"}.
    Put {
        #[command(flatten)]
        pds: PdsArg,
        /// at://<repo>/<collection>/<rkey>
        uri: String,
        /// The record as JSON, or `-` for stdin.
        file: String,
        /// Ask the server not to validate against its lexicons.
        #[arg(long)]
        no_validate: bool,
    },
    /// Read the record at AT-URI: prints {"uri", "cid", "value"}.
    Get {
        #[command(flatten)]
        pds: PdsArg,
        /// at://<repo>/<collection>/<rkey>
        uri: String,
    },
    /// List records: one JSON line {"uri", "cid", "value"} per record.
    ///
    /// Every page of COLLECTION in REPO (a DID or handle) is read, unless --limit.
    List {
        #[command(flatten)]
        pds: PdsArg,
        /// The repository: a DID or a handle.
        repo: String,
        /// The collection (an NSID).
        collection: String,
        /// At most this many records.
        #[arg(long)]
        limit: Option<u64>,
        /// Oldest first.
        #[arg(long)]
        reverse: bool,
    },
    /// Delete the record at AT-URI.
    ///
    /// Deleting a record that does not exist succeeds.
    Delete {
        #[command(flatten)]
        pds: PdsArg,
        /// at://<repo>/<collection>/<rkey>
        uri: String,
    },
}

pub fn run(command: RecordCommand, out: &Output) -> Result<(), Failure> {
    match command {
        RecordCommand::Create {
            pds,
            collection,
            file,
            rkey,
            no_validate,
        } => {
            let collection: Nsid = parse("COLLECTION", &collection)?;
            let rkey: Option<RecordKey> =
                rkey.as_deref().map(|k| parse("--rkey", k)).transpose()?;
            let record = read_record(&file)?;
            let remote = Remote::connect(&pds)?;
            remote.require_login("record create")?;
            let mut call = remote.client.create_record(collection, &record);
            if let Some(rkey) = rkey {
                call = call.rkey(rkey);
            }
            if no_validate {
                call = call.validate(false);
            }
            let written = remote.block_on(call.send()).map_err(client_failure)?;
            emit_written(out, "created", &written)?;
            Ok(())
        }
        RecordCommand::Put {
            pds,
            uri,
            file,
            no_validate,
        } => {
            let (repo, collection, rkey) = record_uri(&uri)?;
            let record = read_record(&file)?;
            let remote = Remote::connect(&pds)?;
            remote.require_login("record put")?;
            let mut call = remote
                .client
                .put_record(collection, rkey, &record)
                .repo(repo);
            if no_validate {
                call = call.validate(false);
            }
            let written = remote.block_on(call.send()).map_err(client_failure)?;
            emit_written(out, "wrote", &written)?;
            Ok(())
        }
        RecordCommand::Get { pds, uri } => {
            let (repo, collection, rkey) = record_uri(&uri)?;
            let remote = Remote::connect(&pds)?;
            let record = remote
                .block_on(
                    remote
                        .client
                        .get_record_at::<Value>(repo, collection, rkey)
                        .send(),
                )
                .map_err(client_failure)?;
            let json = serde_json::json!({
                "uri": record.uri.to_string(),
                "cid": record.cid.map(|c| c.to_string()),
                "value": record.value.to_json(),
            });
            out.emit(&json, || {
                serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
            })?;
            Ok(())
        }
        RecordCommand::List {
            pds,
            repo,
            collection,
            limit,
            reverse,
        } => list(&pds, &repo, &collection, limit, reverse, out),
        RecordCommand::Delete { pds, uri } => {
            let (repo, collection, rkey) = record_uri(&uri)?;
            let remote = Remote::connect(&pds)?;
            remote.require_login("record delete")?;
            let call = remote.client.delete_record(collection, rkey).repo(repo);
            remote.block_on(call.send()).map_err(client_failure)?;
            out.emit(&serde_json::json!({ "uri": uri, "deleted": true }), || {
                format!("deleted {uri}")
            })?;
            Ok(())
        }
    }
}

fn list(
    pds: &PdsArg,
    repo: &str,
    collection: &str,
    limit: Option<u64>,
    reverse: bool,
    out: &Output,
) -> Result<(), Failure> {
    let repo: AtIdentifier = parse("REPO", repo)?;
    let collection: Nsid = parse("COLLECTION", collection)?;
    if limit == Some(0) {
        return Ok(());
    }
    let remote = Remote::connect(pds)?;
    let mut call = remote
        .client
        .list_records::<Value>(collection)
        .repo(repo)
        .reverse(reverse);
    if let Some(limit) = limit {
        // Pages no larger than needed (the server's largest is 100).
        call = call.limit(u8::try_from(limit.min(100)).unwrap_or(100));
    }
    let stream = call.stream();
    let mut stream = match limit {
        Some(limit) => stream
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .boxed(),
        None => stream.boxed(),
    };
    remote.block_on(async {
        while let Some(record) = stream.next().await {
            let record = record.map_err(client_failure)?;
            let json = serde_json::json!({
                "uri": record.uri.to_string(),
                "cid": record.cid.map(|c| c.to_string()),
                "value": record.value.to_json(),
            });
            out.emit(&json, || json.to_string())?;
        }
        Ok(())
    })
}

/// Parses an identifier argument; a malformed one is a usage error.
fn parse<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, Failure>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| Failure::Usage(format!("{what} {text:?}: {e}")))
}

/// The repository, collection and key of a record's AT-URI.
fn record_uri(text: &str) -> Result<(AtIdentifier, Nsid, RecordKey), Failure> {
    let uri: AtUri = parse("AT-URI", text)?;
    match (uri.collection(), uri.rkey()) {
        (Some(collection), Some(rkey)) => {
            Ok((uri.authority().clone(), collection.clone(), rkey.clone()))
        }
        _ => Err(Failure::Usage(format!(
            "AT-URI {text:?} does not name a record: at://<repo>/<collection>/<rkey>"
        ))),
    }
}

/// A record from a JSON file (`-`: stdin): a JSON object in atproto form.
fn read_record(file: &str) -> Result<Value, Failure> {
    let bytes = read_input(file)?;
    let name = if file == "-" { "stdin" } else { file };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::Invalid(format!("{name}: not UTF-8 JSON")))?;
    let value = Value::from_json_str(text)
        .map_err(|e| Failure::Invalid(format!("{name}: not a record: {e}")))?;
    if !matches!(value, Value::Map(_)) {
        return Err(Failure::Invalid(format!(
            "{name}: a record is a JSON object"
        )));
    }
    Ok(value)
}

fn emit_written(
    out: &Output,
    verb: &str,
    written: &atdata_client::records::RecordRef,
) -> Result<(), Failure> {
    let json = serde_json::json!({
        "uri": written.uri.to_string(),
        "cid": written.cid.to_string(),
    });
    out.emit(&json, || {
        format!("{verb} {} ({})", written.uri, written.cid)
    })
}
