//! The network commands (`account create`, `login`, `record`, `blob`, `repo export`, `xrpc`,
//! `logout`) against the local reference PDS (`scripts/pds/pds.sh`).
//!
//! `atdata-testkit` finds the PDS (`ATDATA_PDS_URL`) or starts it (`pds.sh start`, left
//! running); without one the tests print `SKIPPED` and pass, unless `CI` is set.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const BIN: &str = env!("CARGO_BIN_EXE_atdata");
const PASSWORD: &str = "cli-net-test-password";
const COLLECTION: &str = "ac.foundation.dataset.sampleSchema";

/// The PDS URL, or `None` (after `atdata-testkit` said why) when the tests are to be skipped.
fn pds() -> Option<&'static str> {
    atdata_testkit::pds().map(|pds| pds.url.as_str())
}

/// A handle no earlier run used (the PDS keeps accounts between runs).
fn unique_handle() -> String {
    atdata_testkit::unique_handle('c')
}

/// One user of the CLI: a config directory of their own, and the PDS.
struct User {
    dir: PathBuf,
    pds: &'static str,
}

impl User {
    fn new(pds: &'static str) -> User {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "atdata-cli-net-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        User { dir, pds }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("config")
    }

    /// `atdata ARGS` with this user's config directory, no password in the environment and
    /// no PDS from it either, and `stdin` on standard input.
    fn run_with(&self, args: &[&str], password: Option<&str>, stdin: &[u8]) -> Output {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("ATDATA_CONFIG_DIR", self.config())
            .env_remove("ATDATA_PDS_URL")
            .env_remove("ATDATA_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(password) = password {
            command.env("ATDATA_PASSWORD", password);
        }
        let mut child = command.spawn().expect("spawn atdata");
        {
            use std::io::Write as _;
            let mut input = child.stdin.take().expect("stdin");
            // A command that does not read stdin may exit first: a broken pipe is fine.
            let _ = input.write_all(stdin);
        }
        let output = child.wait_with_output().expect("wait");
        // Whatever happens, the password is never printed.
        for stream in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(PASSWORD),
                "the password was printed by atdata {args:?}"
            );
        }
        output
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None, b"")
    }

    /// Runs, expects exit 0, and returns stdout as one JSON value.
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let output = self.run(args);
        assert_ok(&output, args);
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("atdata {args:?}: stdout is not one JSON value: {e}"))
    }

    /// Writes `contents` to a file in the user's directory.
    fn file(&self, name: &str, contents: &[u8]) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).expect("write");
        path.to_string_lossy().into_owned()
    }

    /// A new account, created with `atdata account create` and logged in with `atdata login`
    /// (password from ATDATA_PASSWORD): its DID and handle.
    fn sign_up(&self) -> (String, String) {
        let handle = unique_handle();
        let email = format!("{}@example.com", handle.trim_end_matches(".test"));
        let created = self.run_with(
            &[
                "account", "create", "--pds", self.pds, "--handle", &handle, "--email", &email,
            ],
            Some(PASSWORD),
            b"",
        );
        assert_ok(&created, &["account", "create"]);
        let login = self.run_with(&["login", "--pds", self.pds, &handle], Some(PASSWORD), b"");
        assert_ok(&login, &["login"]);
        let json: serde_json::Value = serde_json::from_slice(&login.stdout).expect("login JSON");
        assert_eq!(json["handle"], handle.as_str());
        let did = json["did"].as_str().expect("did").to_owned();
        (did, handle)
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(output: &Output, args: &[&str]) {
    assert!(
        output.status.success(),
        "atdata {args:?} failed ({:?}): {}",
        output.status.code(),
        text(&output.stderr)
    );
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

#[test]
fn login_records_blobs_export_xrpc_logout() {
    let Some(pds) = pds() else { return };
    let user = User::new(pds);
    let (did, handle) = user.sign_up();

    // The session file: owner-only, and it holds no password.
    let session_file = user.config().join("session.json");
    let stored = std::fs::read_to_string(&session_file).expect("session.json");
    assert!(stored.contains(&did) && !stored.contains(PASSWORD));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&session_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "session.json mode {mode:o}");
    }

    // create, with a server-chosen key and with a given one; stdin as FILE.
    let schema = user.file(
        "schema.json",
        br#"{"name": "mnist", "version": "1.0.0", "schemaType": "jsonSchema"}"#,
    );
    let created = user.json(&["record", "create", COLLECTION, &schema]);
    let uri = created["uri"].as_str().expect("uri").to_owned();
    assert!(
        uri.starts_with(&format!("at://{did}/{COLLECTION}/")),
        "{uri}"
    );
    assert!(created["cid"]
        .as_str()
        .is_some_and(|c| c.starts_with("bafyrei")));
    let piped = user.run_with(
        &[
            "record",
            "create",
            COLLECTION,
            "-",
            "--rkey",
            "self",
            "--no-validate",
        ],
        None,
        br#"{"name": "cifar", "version": "0.1.0"}"#,
    );
    assert_ok(&piped, &["record", "create", "-"]);
    let self_uri = format!("at://{did}/{COLLECTION}/self");

    // get: the value as written, `$type` added.
    let got = user.json(&["record", "get", &uri]);
    assert_eq!(got["uri"], uri.as_str());
    assert_eq!(got["cid"], created["cid"]);
    assert_eq!(got["value"]["$type"], COLLECTION);
    assert_eq!(got["value"]["name"], "mnist");

    // put replaces (addressed by handle here), get sees the new version.
    let v2 = user.file("v2.json", br#"{"name": "mnist", "version": "2.0.0"}"#);
    let put = user.json(&[
        "record",
        "put",
        &format!("at://{handle}/{COLLECTION}/self"),
        &v2,
    ]);
    assert_eq!(put["uri"], self_uri.as_str());
    let got = user.json(&["record", "get", &self_uri]);
    assert_eq!(got["value"]["version"], "2.0.0");
    assert_eq!(got["cid"], put["cid"]);

    // list: every record, one JSON line each; --limit stops early.
    let all = user.run(&["record", "list", &did, COLLECTION]);
    assert_ok(&all, &["record", "list"]);
    let lines = json_lines(&all);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().any(|l| l["uri"] == uri.as_str()));
    assert!(lines.iter().all(|l| l["value"]["$type"] == COLLECTION));
    let one = user.run(&["record", "list", &handle, COLLECTION, "--limit", "1"]);
    assert_eq!(json_lines(&one).len(), 1);

    // A blob, and a record that refers to it.
    let payload: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let shard = user.file("shard-0000.tar", &payload);
    let blob = user.json(&["blob", "upload", &shard]);
    assert_eq!(blob["$type"], "blob");
    assert_eq!(blob["mimeType"], "application/x-tar");
    assert_eq!(blob["size"], payload.len());
    assert!(blob["ref"]["$link"]
        .as_str()
        .is_some_and(|c| c.starts_with("bafkrei")));
    let typed = user.json(&["blob", "upload", &schema, "--mime", "text/plain"]);
    assert_eq!(typed["mimeType"], "text/plain");
    let with_blob = serde_json::json!({"name": "shards", "version": "1.0.0", "data": blob});
    let with_blob = user.file("with-blob.json", with_blob.to_string().as_bytes());
    let written = user.json(&["record", "create", COLLECTION, &with_blob, "--rkey", "blob"]);
    let back = user.json(&["record", "get", written["uri"].as_str().expect("uri")]);
    assert_eq!(back["value"]["data"], blob);

    // The blob downloads byte for byte, checked against its CID, to a file and to stdout.
    let cid = blob["ref"]["$link"].as_str().expect("cid");
    let fetched = user.dir.join("fetched.tar").to_string_lossy().into_owned();
    let got = user.json(&["blob", "get", &did, cid, "-o", &fetched]);
    assert_eq!(got["bytes"], payload.len());
    assert_eq!(std::fs::read(&fetched).expect("fetched"), payload);
    let piped = user.run(&["blob", "get", &did, cid, "-o", "-"]);
    assert!(piped.status.success());
    assert_eq!(piped.stdout, payload);
    // A blob the account does not have: an error, no file.
    let other = atdata_core::Cid::for_raw(b"never uploaded").to_string();
    let missing = user.dir.join("missing.bin").to_string_lossy().into_owned();
    let refused = user.run(&["blob", "get", &did, &other, "-o", &missing]);
    assert!(!refused.status.success());
    assert!(!std::path::Path::new(&missing).exists());

    // Export the repository and verify it, signature included (key from the DID document,
    // fetched with `atdata xrpc`).
    let car = user.dir.join("repo.car").to_string_lossy().into_owned();
    let exported = user.json(&["repo", "export", &did, "-o", &car]);
    assert_eq!(exported["did"], did.as_str());
    assert!(exported["bytes"].as_u64().is_some_and(|n| n > 0));
    // Past --max-bytes the export stops, fails and leaves no partial file.
    let capped = user.dir.join("capped.car").to_string_lossy().into_owned();
    let refused = user.run(&["repo", "export", &did, "-o", &capped, "--max-bytes", "100"]);
    assert!(
        !refused.status.success(),
        "an export over the cap must fail"
    );
    assert!(
        !std::path::Path::new(&capped).exists(),
        "no partial file is left"
    );
    let described = user.json(&[
        "xrpc",
        "com.atproto.repo.describeRepo",
        &format!("repo={did}"),
    ]);
    assert_eq!(described["did"], did.as_str());
    assert_eq!(described["handle"], handle.as_str());
    assert!(described["collections"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c == COLLECTION)));
    let method = &described["didDoc"]["verificationMethod"][0];
    let key = atdata_crypto::PublicKey::from_verification_method(
        method["type"].as_str().expect("type"),
        method["publicKeyMultibase"].as_str().expect("key"),
    )
    .expect("signing key")
    .to_did_key();
    let verified = user.json(&["repo", "verify", &car, "--key", &key]);
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["signature_checked"], true);
    assert_eq!(verified["records"], 3);
    assert_eq!(verified["did"], did.as_str());

    // delete, then the record is gone: the server's error, exit 1.
    let deleted = user.json(&["record", "delete", &uri]);
    assert_eq!(deleted["deleted"], true);
    let gone = user.run(&["record", "get", &uri]);
    assert_eq!(gone.status.code(), Some(1));
    let stderr = text(&gone.stderr);
    assert!(
        stderr.contains("com.atproto.repo.getRecord: HTTP 400 RecordNotFound"),
        "{stderr}"
    );

    // logout ends the session and removes the file; writing then says why it cannot (exit 3).
    let out = user.json(&["logout"]);
    assert_eq!(out["logged_out"], handle.as_str());
    assert!(!session_file.exists());
    let refused = user.run(&["record", "create", "--pds", pds, COLLECTION, &schema]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(text(&refused.stderr).contains("not logged in"));
    // Reading needs no session.
    let public = user.run(&["record", "list", "--pds", pds, &did, COLLECTION]);
    assert_ok(&public, &["record", "list", "(logged out)"]);
    assert_eq!(json_lines(&public).len(), 2);
}

#[test]
fn xrpc_queries_and_procedures() {
    let Some(pds) = pds() else { return };
    let user = User::new(pds);
    let (did, _) = user.sign_up();

    // A procedure with a JSON input (POST), then a query with repeated keys left out.
    let input = serde_json::json!({
        "repo": did, "collection": COLLECTION, "rkey": "viaxrpc",
        "record": {"$type": COLLECTION, "name": "raw", "version": "1.0.0"}
    });
    let input = user.file("create.json", input.to_string().as_bytes());
    let created = user.json(&["xrpc", "com.atproto.repo.createRecord", "--input", &input]);
    assert_eq!(
        created["uri"],
        format!("at://{did}/{COLLECTION}/viaxrpc").as_str()
    );
    let got = user.json(&[
        "xrpc",
        "com.atproto.repo.getRecord",
        &format!("repo={did}"),
        &format!("collection={COLLECTION}"),
        "rkey=viaxrpc",
    ]);
    assert_eq!(got["value"]["name"], "raw");
    // The session's own query: the token goes along.
    let session = user.json(&["xrpc", "com.atproto.server.getSession"]);
    assert_eq!(session["did"], did.as_str());
    assert!(session.get("accessJwt").is_none());

    // Errors: the server's in `<nsid>: HTTP 400 Name: message` form (exit 1), usage (exit 2).
    let missing = user.run(&[
        "xrpc",
        "com.atproto.repo.getRecord",
        &format!("repo={did}"),
        "collection=x.y.z",
        "rkey=nope",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("com.atproto.repo.getRecord: HTTP 400 RecordNotFound"));
    let unknown = user.run(&["xrpc", "com.example.noSuchMethod"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("com.example.noSuchMethod: HTTP"));
    assert_eq!(user.run(&["xrpc", "not an nsid"]).status.code(), Some(2));
    // The stored session's own methods are left to login/logout.
    let refresh = user.run(&["xrpc", "com.atproto.server.refreshSession", "--procedure"]);
    assert_eq!(refresh.status.code(), Some(2));
    assert!(text(&refresh.stderr).contains("atdata login"));

    // Tokens in an output are never printed: createAccount answers with a session.
    let handle = unique_handle();
    let body = serde_json::json!({
        "handle": handle,
        "email": format!("{}@example.com", handle.trim_end_matches(".test")),
        "password": PASSWORD,
    });
    let body = user.file("account.json", body.to_string().as_bytes());
    let made = user.run(&["xrpc", "com.atproto.server.createAccount", "--input", &body]);
    assert_ok(&made, &["xrpc", "createAccount"]);
    let stdout = text(&made.stdout);
    assert!(!stdout.contains("eyJ"), "a token was printed: {stdout}");
    let made: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(made["handle"], handle.as_str());
    assert_eq!(made["accessJwt"], "<redacted>");
    assert_eq!(made["refreshJwt"], "<redacted>");
    assert_eq!(
        user.run(&["xrpc", "com.atproto.repo.describeRepo", "repo"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn xrpc_refreshes_an_expired_session_and_stores_it() {
    let Some(pds) = pds() else { return };
    let user = User::new(pds);
    let (did, _) = user.sign_up();
    let path = user.config().join("session.json");
    let read = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&path).expect("session file")).expect("json")
    };
    let mut stored = read();
    let refresh = stored["refreshJwt"].as_str().expect("refresh").to_owned();
    let stale = atdata_testkit::expired_access_token(stored["accessJwt"].as_str().expect("access"))
        .expect("a JWT");
    stored["accessJwt"] = stale.clone().into();
    std::fs::write(&path, stored.to_string()).expect("write session");

    // The client sees the token expired and refreshes before the call (the server would have
    // answered ExpiredToken), and the CLI writes the new session to the file.
    let me = user.json(&["xrpc", "com.atproto.server.getSession"]);
    assert_eq!(me["did"], did.as_str());
    let stored = read();
    assert_ne!(stored["accessJwt"], stale.as_str());
    assert_ne!(stored["refreshJwt"], refresh.as_str());
    assert_eq!(stored["did"], did.as_str());
    let again = user.json(&["xrpc", "com.atproto.server.getSession"]);
    assert_eq!(again["did"], did.as_str());
    assert_eq!(
        read()["accessJwt"],
        stored["accessJwt"],
        "no second refresh"
    );

    // --anonymous sends no token: the server refuses getSession (exit 1) but answers a query
    // anyone may make, here binary (a CAR file), written to stdout as it came.
    let anonymous = user.run(&["xrpc", "--anonymous", "com.atproto.server.getSession"]);
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(text(&anonymous.stderr).contains("com.atproto.server.getSession: HTTP 401"));
    let car = user.run(&[
        "xrpc",
        "--anonymous",
        "--pds",
        pds,
        "com.atproto.sync.getRepo",
        &format!("did={did}"),
    ]);
    assert_ok(&car, &["xrpc", "getRepo"]);
    let report = atdata_core::repo::verify_car(&car.stdout).expect("a CAR file");
    assert!(report.is_valid(), "{:?}", report.problems);
}

#[test]
fn login_reads_the_password_from_stdin_and_refuses_a_wrong_one() {
    let Some(pds) = pds() else { return };
    let first = User::new(pds);
    let (did, handle) = first.sign_up();

    let user = User::new(pds);
    let piped = user.run_with(
        &["login", "--pds", pds, &handle],
        None,
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert_ok(&piped, &["login", "(stdin)"]);
    let json: serde_json::Value = serde_json::from_slice(&piped.stdout).expect("json");
    assert_eq!(json["did"], did.as_str());
    // Without --pds, commands use the session's PDS.
    let me = user.json(&["xrpc", "com.atproto.server.getSession"]);
    assert_eq!(me["handle"], handle.as_str());
    // The session goes only to its own server: another URL (the same server by another
    // name, here) is talked to anonymously, and writing says why it is not logged in.
    if let Some(other_name) = pds
        .contains("localhost")
        .then(|| pds.replace("localhost", "127.0.0.1"))
    {
        let file = user.file("r.json", br#"{"name": "x"}"#);
        let elsewhere = user.run(&["record", "create", "--pds", &other_name, COLLECTION, &file]);
        assert_eq!(elsewhere.status.code(), Some(3));
        assert!(
            text(&elsewhere.stderr).contains("the stored session is for"),
            "{}",
            text(&elsewhere.stderr)
        );
    }

    let other = User::new(pds);
    let wrong = other.run_with(
        &["login", "--pds", pds, &handle],
        Some("not-the-password"),
        b"",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).contains("com.atproto.server.createSession: HTTP 401"));
    assert!(!other.config().join("session.json").exists());
}

#[test]
fn usage_errors_and_missing_sessions() {
    // No server needed for these.
    let user = User::new("http://127.0.0.1:9");
    // No --pds and no session: a usage error.
    let no_pds = user.run(&["record", "get", "at://did:plc:abc123/x.y.z/self"]);
    assert_eq!(no_pds.status.code(), Some(2));
    assert!(text(&no_pds.stderr).contains("--pds"));
    // Writing without a session: exit 3, and the message says what to do.
    let file = user.file("r.json", br#"{"name": "x"}"#);
    let create = user.run(&["record", "create", "--pds", user.pds, COLLECTION, &file]);
    assert_eq!(create.status.code(), Some(3));
    assert!(text(&create.stderr).contains("atdata login"));
    // Malformed arguments.
    let bad_uri = user.run(&["record", "get", "--pds", user.pds, "at://did:plc:abc123"]);
    assert_eq!(bad_uri.status.code(), Some(2));
    let not_object = user.file("list.json", b"[1, 2]");
    let bad_record = user.run(&[
        "record",
        "create",
        "--pds",
        user.pds,
        COLLECTION,
        &not_object,
    ]);
    assert_eq!(bad_record.status.code(), Some(1));
    // An unreachable server: exit 3.
    let unreachable = user.run(&[
        "record",
        "get",
        "--pds",
        user.pds,
        "at://did:plc:abc123/x.y.z/self",
    ]);
    assert_eq!(unreachable.status.code(), Some(3));
    // logout without a session is fine.
    assert_ok(&user.run(&["logout"]), &["logout"]);
}
