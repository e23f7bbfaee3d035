//! What the network commands share: the `--pds` option, the stored session
//! (`$ATDATA_CONFIG_DIR/session.json`), the client and its runtime, and how client errors
//! become exit codes.
//!
//! Which server a command talks to, and with which credentials:
//!
//! - `--pds URL` (or `ATDATA_PDS_URL`) given: that server. The stored session goes along only
//!   when the URL is the service it logged in to or its PDS; otherwise the command runs
//!   anonymously.
//! - not given: the stored session's service, logged in (calls go to the account's PDS). A
//!   login without `--pds` stores the PDS it found as the service.
//! - neither: a usage error (exit 2).
//!
//! A command that needs a session and has none fails with exit 3 ("not logged in").

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use atdata_client::{Account, Client, Session, SessionChange};
use clap::Args;
use zeroize::Zeroizing;

use crate::resolver::ResolverArgs;
use crate::Failure;

/// Where the config directory is when `ATDATA_CONFIG_DIR` is not set: under
/// `$XDG_CONFIG_HOME`, else `~/.config` (`%APPDATA%` on Windows).
const CONFIG_DIR_ENV: &str = "ATDATA_CONFIG_DIR";
/// The password for `login` and `account create`, so that scripts need no prompt.
pub const PASSWORD_ENV: &str = "ATDATA_PASSWORD";
/// The session file's name in the config directory.
const SESSION_FILE: &str = "session.json";

/// The `--pds` option of every network command.
#[derive(Args, Debug, Clone, Default)]
pub struct PdsArg {
    /// The PDS to talk to (default: the logged-in account's PDS).
    #[arg(long, value_name = "URL", env = "ATDATA_PDS_URL")]
    pub pds: Option<String>,
}

/// Where REPO lives, for the commands that read an account's data (`repo export`, `blob
/// get`): with `--pds` or a stored session, that server (REPO is resolved there); with
/// neither, the account's PDS from its DID document, found with the resolver options (a
/// handle must resolve both ways), and the DID with it.
pub fn locate(
    pds: &PdsArg,
    resolver: &crate::resolver::ResolverArgs,
    repo: &atdata_core::AtIdentifier,
) -> Result<(PdsArg, Option<atdata_core::Did>), Failure> {
    if pds.pds.is_some() || load_session(&session_path()?)?.is_some() {
        return Ok((pds.clone(), None));
    }
    let resolver = resolver.build()?;
    let identity = match repo {
        atdata_core::AtIdentifier::Did(did) => resolver.lookup_document(did),
        atdata_core::AtIdentifier::Handle(handle) => resolver.lookup_handle(handle),
    }
    .map_err(|e| crate::resolver::identity_failure(&e))?;
    let endpoint = identity.pds().ok_or_else(|| {
        Failure::Invalid(format!("{}: the DID document names no PDS", identity.did()))
    })?;
    Ok((
        PdsArg {
            pds: Some(endpoint.to_owned()),
        },
        Some(identity.did().clone()),
    ))
}

/// The directory holding `session.json`.
pub fn config_dir() -> Result<PathBuf, Failure> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(CONFIG_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CONFIG_HOME").map(PathBuf::from) {
        if dir.is_absolute() {
            return Ok(dir.join("atdata"));
        }
    }
    if cfg!(windows) {
        if let Some(dir) = non_empty("APPDATA") {
            return Ok(PathBuf::from(dir).join("atdata"));
        }
    }
    if let Some(home) = non_empty("HOME") {
        return Ok(PathBuf::from(home).join(".config").join("atdata"));
    }
    Err(Failure::Usage(format!(
        "no config directory: set {CONFIG_DIR_ENV} (or HOME)"
    )))
}

/// The path of the stored session.
pub fn session_path() -> Result<PathBuf, Failure> {
    Ok(config_dir()?.join(SESSION_FILE))
}

/// The session as `login` stored it, and the service it logged in to.
pub struct Stored {
    /// The session; its `pds` is where calls go.
    pub session: Session,
    /// The URL given to `login --pds` (an entryway such as `https://bsky.social`, or the PDS),
    /// or the PDS a login without `--pds` found through the DID document.
    pub service: String,
}

impl Stored {
    /// Whether `url` names this session's server: the service it logged in to, or its PDS.
    fn serves(&self, url: &str) -> bool {
        let Some(url) = normalize_url(url) else {
            return false;
        };
        [Some(self.service.as_str()), self.session.pds.as_deref()]
            .into_iter()
            .flatten()
            .any(|known| normalize_url(known).as_deref() == Some(url.as_str()))
    }
}

/// The key `save_session` adds to the exported session for the login service. The rest of
/// the file is `Session::export`'s string, which `Session::import` reads as it is.
const SERVICE_KEY: &str = "service";

/// The stored session, if there is one. A file that is not an exported session is reported
/// (without its contents: it holds tokens) and treated as absent.
pub fn load_session(path: &Path) -> Result<Option<Stored>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::Unreadable(format!(
                "reading {}: {e}",
                path.display()
            )))
        }
    };
    let session = match Session::import(&text) {
        Ok(session) => session,
        Err(e) => {
            crate::output::note(format_args!(
                "atdata: ignoring {}: {e}; run `atdata login` again",
                path.display()
            ));
            return Ok(None);
        }
    };
    let service = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get(SERVICE_KEY)?.as_str().map(str::to_owned))
        .or_else(|| session.pds.clone());
    Ok(service.map(|service| Stored { session, service }))
}

/// Writes `session` (and the `service` it logged in to) to `path` with owner-only permissions
/// (0600; the directory 0700), through a temporary file and a rename, so that a reader never
/// sees half a file.
pub fn save_session(path: &Path, session: &Session, service: &str) -> Result<(), Failure> {
    let fail = |what: &str, e: std::io::Error| {
        Failure::Unreadable(format!("{what} {}: {e}", path.display()))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(|e| fail("creating the directory of", e))?;
    let exported = Zeroizing::new(session.export());
    let mut object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&exported)
        .map_err(|e| Failure::Invalid(format!("exporting the session: {e}")))?;
    object.insert(SERVICE_KEY.into(), service.into());
    let contents = Zeroizing::new(serde_json::Value::Object(object).to_string());
    let tmp = dir.join(format!(".{SESSION_FILE}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = private_file(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("writing", e));
    }
    Ok(())
}

/// Removes the stored session; `Ok(false)` when there was none.
pub fn remove_session(path: &Path) -> Result<bool, Failure> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Failure::Unreadable(format!(
            "removing {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// A service URL in the form the client keeps it (`http://host:port`, no trailing slash), or
/// `None` when it does not parse (the client then reports why).
pub fn normalize_url(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| u.as_str().trim_end_matches('/').to_owned())
}

/// A client for one command, with the runtime that drives it.
pub struct Remote {
    /// The client; logged in when the stored session belongs to the server in use.
    pub client: Client,
    runtime: tokio::runtime::Runtime,
    /// Why there is no session, for the "not logged in" message.
    no_session: Option<String>,
}

impl Remote {
    /// A client for the server `pds` names (or the stored session's), logged in when the
    /// stored session is for that server. A refreshed session is written back to the file.
    pub fn connect(pds: &PdsArg) -> Result<Remote, Failure> {
        Remote::connect_with(pds, |builder| builder)
    }

    /// [`Remote::connect`] with client settings of the command's own (`configure` gets the
    /// builder before the session is attached).
    pub fn connect_with(
        pds: &PdsArg,
        configure: impl FnOnce(atdata_client::ClientBuilder) -> atdata_client::ClientBuilder,
    ) -> Result<Remote, Failure> {
        let path = session_path()?;
        let stored = load_session(&path)?;
        let (service, session, no_session) = match (&pds.pds, stored) {
            (Some(url), Some(stored)) if stored.serves(url) => {
                (stored.service, Some(stored.session), None)
            }
            (Some(url), Some(stored)) => {
                let why = format!("the stored session is for {}, not {url}", stored.service);
                (url.clone(), None, Some(why))
            }
            (Some(url), None) => (url.clone(), None, None),
            (None, Some(stored)) => (stored.service, Some(stored.session), None),
            (None, None) => {
                return Err(Failure::Usage(
                    "no PDS: pass --pds URL (or set ATDATA_PDS_URL), or log in first".into(),
                ))
            }
        };
        let mut builder = configure(Client::builder().service(service.clone()));
        if let Some(session) = session {
            builder = builder.session(session);
            let path = path.clone();
            let service = service.clone();
            builder = builder.on_session_change(move |change, session| {
                persist(&path, &service, change, session);
            });
        }
        let client = builder
            .build()
            .map_err(|e| Failure::Usage(format!("--pds: {e}")))?;
        Ok(Remote {
            client,
            runtime: runtime()?,
            no_session,
        })
    }

    /// An anonymous client for `service` (login, account creation).
    pub fn anonymous(service: &str) -> Result<Remote, Failure> {
        let client = Client::new(service).map_err(|e| Failure::Usage(format!("--pds: {e}")))?;
        Remote::from_client(client)
    }

    /// An anonymous client without a service, for `login` without `--pds`: the account's PDS
    /// is found through its DID document, with the resolver `options` describe (built on this
    /// client's runtime, so that the lookups `login` makes run there). The resolver is returned
    /// too; it shares its cache with the client's.
    pub fn resolving(
        options: &ResolverArgs,
    ) -> Result<(Remote, atdata_identity::Resolver), Failure> {
        let runtime = runtime()?;
        let resolver = {
            let _entered = runtime.enter();
            options.build_async()?
        };
        let client = Client::builder()
            .resolver(resolver.clone())
            .build()
            .map_err(|e| Failure::Usage(format!("the client: {e}")))?;
        let remote = Remote {
            client,
            runtime,
            no_session: None,
        };
        Ok((remote, resolver))
    }

    /// A runtime for a client made elsewhere.
    pub fn from_client(client: Client) -> Result<Remote, Failure> {
        Ok(Remote {
            client,
            runtime: runtime()?,
            no_session: None,
        })
    }

    /// Runs `future` to completion on this command's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The DID of `repo`: itself, or what its handle resolves to on the server in use
    /// (`com.atproto.identity.resolveHandle`).
    pub fn did_of(&self, repo: atdata_core::AtIdentifier) -> Result<atdata_core::Did, Failure> {
        match repo {
            atdata_core::AtIdentifier::Did(did) => Ok(did),
            atdata_core::AtIdentifier::Handle(handle) => {
                let request = atdata_client::com::atproto::identity::ResolveHandle::new(handle);
                self.block_on(self.client.send(&request))
                    .map(|resolved| resolved.did)
                    .map_err(client_failure)
            }
        }
    }

    /// The logged-in account, or the "not logged in" failure (exit 3) for commands that need
    /// one.
    pub fn require_login(&self, what: &str) -> Result<Account, Failure> {
        self.client.me().ok_or_else(|| {
            let why = self
                .no_session
                .as_deref()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default();
            Failure::Unreadable(format!(
                "{what} needs a session: not logged in{why}; run `atdata login HANDLE`"
            ))
        })
    }
}

/// Keeps the stored session in step with the client: a refreshed session is written, an
/// expired one removed. Failures are reported, not fatal: the command itself went through.
fn persist(path: &Path, service: &str, change: SessionChange, session: Option<&Session>) {
    let result = match (change, session) {
        (SessionChange::Refreshed, Some(session)) => save_session(path, session, service),
        (SessionChange::Expired, _) => {
            crate::output::note(format_args!(
                "atdata: the session expired; run `atdata login` again"
            ));
            remove_session(path).map(drop)
        }
        _ => Ok(()),
    };
    if let Err(e) = result {
        crate::output::note(format_args!("atdata: warning: {}", e.message()));
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Unreadable(format!("starting the async runtime: {e}")))
}

/// A client error as a failure: the server said no (exit 1: `<nsid>: HTTP 400 Name: message`),
/// the input did not fit (exit 1), the server could not be reached or a file not read (exit 3),
/// no session or an expired one (exit 3).
pub fn client_failure<E: atdata_core::xrpc::XrpcErrorName>(
    error: atdata_client::Error<E>,
) -> Failure {
    use atdata_client::Error;
    let mut message = error.to_string();
    if matches!(error.error_name(), Some("InvalidToken" | "ExpiredToken")) {
        message.push_str("; run `atdata login` again");
    }
    match error {
        Error::Transport { .. } | Error::Io { .. } => Failure::Unreadable(message),
        Error::NotLoggedIn { .. } => {
            Failure::Unreadable(format!("{message}; run `atdata login HANDLE`"))
        }
        // The account's PDS could not be found (login without --pds): as `resolve` says it.
        Error::Identity { identifier, source } => {
            let message = format!(
                "finding the PDS of {identifier}: {}",
                crate::resolver::describe(&source)
            );
            if source.is_unreachable() {
                Failure::Unreadable(message)
            } else {
                Failure::Invalid(message)
            }
        }
        Error::Refresh { .. } => {
            Failure::Unreadable(format!("{message}; run `atdata login` again"))
        }
        _ => Failure::Invalid(message),
    }
}

/// The password for `login` / `account create`: `ATDATA_PASSWORD`, else a prompt without echo
/// on a terminal, else one line of stdin. Never printed.
pub fn read_password(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if let Some(password) = std::env::var_os(PASSWORD_ENV).filter(|v| !v.is_empty()) {
        return password
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| Failure::Invalid(format!("{PASSWORD_ENV} is not UTF-8")));
    }
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| Failure::Unreadable(format!("reading the password: {e}")))?
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure::Unreadable(format!("reading the password from stdin: {e}")))?;
        let trimmed = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(trimmed);
        line
    };
    if password.is_empty() {
        return Err(Failure::Usage(format!(
            "no password: set {PASSWORD_ENV}, or type it at the prompt"
        )));
    }
    Ok(password)
}
