//! `atdata xrpc`: call any XRPC method by its NSID.
//!
//! The method is known only at run time, so this goes through the client's `call_raw` rather
//! than a request type, and takes the same path as every other command: the session's token
//! and PDS, one refresh of an expired token (the refreshed session is written back to the
//! session file by `Remote`'s session callback), retries of queries, the response size limit.

use std::io::IsTerminal as _;

use atdata_client::{CallOptions, RawResponse};
use atdata_core::xrpc::{Body, XrpcMethod};
use atdata_core::Nsid;
use clap::Args;

use super::read_input;
use crate::output::Output;
use crate::remote::{client_failure, PdsArg, Remote};
use crate::Failure;

/// `atdata xrpc`'s arguments.
#[derive(Args)]
pub struct XrpcArgs {
    #[command(flatten)]
    pds: PdsArg,
    /// The method's NSID, e.g. com.atproto.repo.describeRepo.
    nsid: String,
    /// Query parameters as key=value; repeat a key for an array.
    #[arg(value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The procedure's input (JSON unless --encoding says otherwise; `-` reads stdin).
    /// Implies --procedure.
    #[arg(long, value_name = "FILE")]
    input: Option<String>,
    /// The input's MIME type.
    #[arg(long, value_name = "TYPE", default_value = "application/json")]
    encoding: String,
    /// Call a procedure (POST) rather than a query (GET).
    #[arg(long)]
    procedure: bool,
    /// Send no credentials even when logged in (to --pds, else the server logged in to).
    #[arg(long)]
    anonymous: bool,
}

/// Session methods that would print or spend the stored session's tokens, and the command
/// that does the job instead.
const SESSION_METHODS: &[(&str, &str)] = &[
    ("com.atproto.server.createSession", "atdata login"),
    (
        "com.atproto.server.refreshSession",
        "atdata login (sessions are refreshed when they expire)",
    ),
    ("com.atproto.server.deleteSession", "atdata logout"),
];

/// Keys whose values are bearer tokens: never printed.
const TOKEN_KEYS: &[&str] = &["accessJwt", "refreshJwt"];

pub fn run(args: XrpcArgs, out: &Output) -> Result<(), Failure> {
    let nsid: Nsid = args
        .nsid
        .parse()
        .map_err(|e| Failure::Usage(format!("NSID {:?}: {e}", args.nsid)))?;
    if let Some((_, instead)) = SESSION_METHODS.iter().find(|(m, _)| *m == nsid.as_str()) {
        return Err(Failure::Usage(format!(
            "{nsid} manages the stored session's tokens: use `{instead}`"
        )));
    }
    let params = args
        .params
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .ok_or_else(|| Failure::Usage(format!("{pair:?}: parameters are KEY=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let input = args.input.as_deref().map(read_input).transpose()?;
    if let Some(bytes) = &input {
        if args.encoding == "application/json" {
            serde_json::from_slice::<serde_json::Value>(bytes).map_err(|e| {
                Failure::Invalid(format!(
                    "--input: not JSON ({e}); set --encoding for other data"
                ))
            })?;
        }
    }
    let method = if args.procedure || input.is_some() {
        XrpcMethod::Procedure
    } else {
        XrpcMethod::Query
    };
    let input = input.map(|bytes| Body::new(args.encoding, bytes));
    // An anonymous call goes to the client's service; with --pds that is to be the URL given,
    // not the server the stored session logged in to.
    let (remote, options) = match (&args.pds.pds, args.anonymous) {
        (Some(url), true) => (Remote::anonymous(url)?, CallOptions::new()),
        (_, true) => (Remote::connect(&args.pds)?, CallOptions::new().anonymous()),
        (_, false) => (Remote::connect(&args.pds)?, CallOptions::new()),
    };
    let response = remote
        .block_on(
            remote
                .client
                .call_raw(&nsid, method, &params, input, &options),
        )
        .map_err(|e| match e {
            // The body is read into memory, up to the client's limit; say what streams instead.
            atdata_client::Error::BodyTooLarge { .. } => Failure::Invalid(format!(
                "{e}; `atdata repo export` streams a repository to a file"
            )),
            e => client_failure(e),
        })?;
    print_output(&nsid, &response, out)
}

/// Prints a JSON answer (tokens redacted), or writes any other body to stdout when it is not a
/// terminal.
fn print_output(nsid: &Nsid, response: &RawResponse, out: &Output) -> Result<(), Failure> {
    let body = response.bytes();
    if body.is_empty() {
        return Ok(());
    }
    if response.content_type() == Some("application/json") {
        let mut json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| Failure::Invalid(format!("{nsid}: the response is not JSON: {e}")))?;
        redact_tokens(&mut json);
        out.emit(&json, || {
            serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
        })?;
        return Ok(());
    }
    let kind = response
        .content_type()
        .unwrap_or("application/octet-stream");
    if std::io::stdout().is_terminal() {
        crate::output::note(format_args!(
            "atdata: {nsid} returned {} bytes of {kind}; redirect stdout to a file to keep them",
            body.len()
        ));
        return Ok(());
    }
    out.bytes(body)
}

/// Replaces every token in `json` (`accessJwt`, `refreshJwt`, at any depth) with
/// `"<redacted>"`: `createAccount`, say, answers with a fresh session's tokens.
fn redact_tokens(json: &mut serde_json::Value) {
    match json {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if TOKEN_KEYS.contains(&key.as_str()) && value.is_string() {
                    *value = serde_json::Value::String("<redacted>".into());
                } else {
                    redact_tokens(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_tokens),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::redact_tokens;

    #[test]
    fn tokens_are_redacted_at_any_depth() {
        let mut json = serde_json::json!({
            "did": "did:plc:abc123", "accessJwt": "eyJ.a.b",
            "nested": [{"refreshJwt": "eyJ.c.d", "keep": "x"}]
        });
        redact_tokens(&mut json);
        assert_eq!(json["accessJwt"], "<redacted>");
        assert_eq!(json["nested"][0]["refreshJwt"], "<redacted>");
        assert_eq!(json["nested"][0]["keep"], "x");
        assert_eq!(json["did"], "did:plc:abc123");
        assert!(!json.to_string().contains("eyJ"));
    }
}
