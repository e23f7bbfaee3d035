//! `atdata data`: the data model on stdin and stdout.

use std::io::Read as _;

use atdata_core::{cbor, Value};
use clap::Subcommand;

use crate::output::Output;
use crate::Failure;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Print the CID (dag-cbor, sha-256) of the JSON value on stdin.
    Cid,
    /// Convert the JSON value on stdin to DAG-CBOR bytes on stdout.
    ToCbor,
    /// Convert the DAG-CBOR value on stdin to JSON on stdout.
    ToJson,
}

fn stdin() -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| Failure::Unreadable(format!("reading stdin: {e}")))?;
    Ok(buf)
}

fn json_value(bytes: &[u8]) -> Result<Value, Failure> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Failure::Invalid("stdin is not UTF-8 JSON".into()))?;
    Value::from_json_str(text).map_err(|e| Failure::Invalid(format!("not data-model JSON: {e}")))
}

pub fn run(command: DataCommand, out: &Output) -> Result<(), Failure> {
    match command {
        DataCommand::Cid => {
            let value = json_value(&stdin()?)?;
            let cid = cbor::cid_for(&value).map_err(|e| Failure::Invalid(e.to_string()))?;
            out.emit(&serde_json::json!({ "cid": cid.to_string() }), || {
                cid.to_string()
            })?;
        }
        DataCommand::ToCbor => {
            let value = json_value(&stdin()?)?;
            out.bytes(&value.to_dag_cbor())?;
        }
        DataCommand::ToJson => {
            let bytes = stdin()?;
            let value =
                Value::from_dag_cbor(&bytes).map_err(|e| Failure::Invalid(e.to_string()))?;
            // A map keyed `$link` or `$bytes` would read back as a link or bytes: say so
            // rather than print JSON that means something else.
            let json = value
                .try_to_json()
                .map_err(|e| Failure::Invalid(format!("no atproto JSON form: {e}")))?;
            let text = if out.is_json() {
                json.to_string()
            } else {
                serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
            };
            out.line(&text)?;
        }
    }
    Ok(())
}
