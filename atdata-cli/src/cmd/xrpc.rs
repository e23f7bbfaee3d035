//! `atdata xrpc`: call any XRPC method by its NSID.
//!
//! The client's typed `send` needs a request type per method, known when compiling; this
//! command takes the method at run time, so it speaks HTTP itself: `GET /xrpc/<nsid>?<params>`
//! for a query, `POST /xrpc/<nsid>` with the input for a procedure. Logged in (and talking to
//! the session's PDS), the access token goes along, and an expired one is refreshed through the
//! client (which stores the new session) and the call repeated once.

use std::io::{IsTerminal as _, Write as _};

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
    /// Send no credentials even when logged in.
    #[arg(long)]
    anonymous: bool,
}

/// One request, ready to send (again, after a refresh).
struct Request {
    nsid: Nsid,
    params: Vec<(String, String)>,
    input: Option<Vec<u8>>,
    encoding: String,
    procedure: bool,
    anonymous: bool,
}

/// What the server answered.
struct Response {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
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

/// Methods that take no session (the server refuses an access token with them).
const ANONYMOUS_METHODS: &[&str] = &["com.atproto.server.createAccount"];

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
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
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
    let request = Request {
        anonymous: args.anonymous || ANONYMOUS_METHODS.contains(&nsid.as_str()),
        procedure: args.procedure || input.is_some(),
        nsid,
        params,
        input,
        encoding: args.encoding,
    };
    let remote = Remote::connect(&args.pds)?;
    let response = remote.block_on(call(&remote, &request))?;
    print_output(&request, &response, out)
}

/// Sends the request, refreshing the session once if the server says the token expired.
async fn call(remote: &Remote, request: &Request) -> Result<Response, Failure> {
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(60))
        // XRPC does not redirect; a redirect could carry the token to another host.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("atdata-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Failure::Unreadable(format!("setting up HTTP: {e}")))?;
    let mut refreshed = false;
    loop {
        let logged_in = !request.anonymous && remote.client.session().is_some();
        let response = send_once(&http, remote, request).await?;
        if logged_in && !refreshed && token_expired(&response) {
            remote
                .client
                .refresh_session()
                .await
                .map_err(client_failure)?;
            refreshed = true;
            continue;
        }
        return Ok(response);
    }
}

async fn send_once(
    http: &reqwest::Client,
    remote: &Remote,
    request: &Request,
) -> Result<Response, Failure> {
    let url = format!("{}/xrpc/{}", remote.client.endpoint(), request.nsid);
    let mut builder = if request.procedure {
        http.post(&url)
    } else {
        http.get(&url)
    };
    if !request.params.is_empty() {
        builder = builder.query(&request.params);
    }
    if let Some(input) = &request.input {
        builder = builder
            .header(reqwest::header::CONTENT_TYPE, &request.encoding)
            .body(input.clone());
    }
    if let Some(session) = remote.client.session().filter(|_| !request.anonymous) {
        builder = builder.bearer_auth(session.access_jwt());
    }
    let nsid = &request.nsid;
    // reqwest's messages name the URL (parameters included), never the headers.
    let response = builder
        .send()
        .await
        .map_err(|e| Failure::Unreadable(format!("{nsid}: {e}")))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .bytes()
        .await
        .map_err(|e| Failure::Unreadable(format!("{nsid}: reading the response: {e}")))?;
    Ok(Response {
        status,
        content_type,
        body: body.to_vec(),
    })
}

/// The `{"error", "message"}` of a failed call's body, when it has them.
fn error_body(response: &Response) -> (Option<String>, Option<String>) {
    let json: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    (field("error"), field("message"))
}

/// Whether the access token needs refreshing: `ExpiredToken`, or a 401 about the token.
fn token_expired(response: &Response) -> bool {
    let (error, _) = error_body(response);
    match error.as_deref() {
        Some("ExpiredToken") => true,
        None | Some("InvalidToken") => response.status == 401,
        Some(_) => false,
    }
}

fn print_output(request: &Request, response: &Response, out: &Output) -> Result<(), Failure> {
    let nsid = &request.nsid;
    if !(200..300).contains(&response.status) {
        // `<nsid>: HTTP 400 Name: message`, as the client's errors read.
        let (error, message) = error_body(response);
        let mut text = format!("{nsid}: HTTP {}", response.status);
        if let Some(error) = &error {
            text.push(' ');
            text.push_str(error);
        }
        if let Some(message) = message {
            text.push_str(": ");
            text.push_str(&message);
        }
        if matches!(error.as_deref(), Some("InvalidToken" | "ExpiredToken")) {
            text.push_str("; run `atdata login` again");
        }
        return Err(Failure::Invalid(text));
    }
    if response.body.is_empty() {
        return Ok(());
    }
    let is_json = response
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/json"));
    if is_json {
        let mut json: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| Failure::Invalid(format!("{nsid}: the response is not JSON: {e}")))?;
        redact_tokens(&mut json);
        out.emit(&json, || {
            serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
        });
        return Ok(());
    }
    let kind = response
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    if std::io::stdout().is_terminal() {
        eprintln!(
            "atdata: {nsid} returned {} bytes of {kind}; redirect stdout to a file to keep them",
            response.body.len()
        );
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&response.body)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::Unreadable(format!("writing stdout: {e}")))
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
