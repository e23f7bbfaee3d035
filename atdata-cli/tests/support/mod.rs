//! What the tests of the identity commands (`resolve`, `repo verify`, `login` without `--pds`,
//! `plc log`) share: a scratch config directory to run `atdata` in, accounts on the local
//! reference PDS, a DNS server for handles ([`dns::DnsServer`]) and an HTTP server with fixed
//! answers ([`http::Routes`]).
//!
//! Each test binary that says `mod support;` compiles the whole module, so what one binary
//! does not use is allowed to be dead there.
#![allow(dead_code)]

pub mod dns;
pub mod http;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_atdata");
/// The password of every test account: no run of `atdata` may print it.
pub const PASSWORD: &str = "cli-identity-test-password";
/// Nothing listens on the discard port: connections are refused at once.
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// The resolver's environment variables: removed for every run unless a test sets them.
const RESOLVER_ENV: [&str; 4] = [
    "ATDATA_PLC_URL",
    "ATDATA_DNS",
    "ATDATA_CA_FILE",
    "ATDATA_ALLOW_PRIVATE",
];

/// A scratch directory (also the CLI's config directory), removed at the end.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "atdata-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }

    pub fn file(&self, name: &str, contents: &[u8]) -> String {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// The stored session, as `login` wrote it (`None` when there is none).
    pub fn session(&self) -> Option<Value> {
        let text = std::fs::read(self.0.join("config").join("session.json")).ok()?;
        Some(serde_json::from_slice(&text).expect("session.json is JSON"))
    }

    /// `atdata ARGS` with `env` set and the other resolver variables (and `ATDATA_PDS_URL`,
    /// `ATDATA_PASSWORD`) removed; stdin is empty. Whatever happens, the password is not
    /// printed.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("ATDATA_CONFIG_DIR", self.0.join("config"))
            .env_remove("ATDATA_PDS_URL")
            .env_remove("ATDATA_PASSWORD")
            .stdin(std::process::Stdio::null());
        for name in RESOLVER_ENV {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("run atdata");
        for stream in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(stream).contains(PASSWORD),
                "atdata {args:?} printed the password"
            );
        }
        output
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Runs, expects exit 0, and returns stdout as one JSON value.
    pub fn json(&self, args: &[&str]) -> Value {
        json_of(&self.run(args), args)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json_of(output: &Output, args: &[&str]) -> Value {
    assert!(
        output.status.success(),
        "atdata {args:?} failed ({:?}): {}",
        output.status.code(),
        stderr(output)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("atdata {args:?}: stdout is not one JSON value: {e}"))
}

/// Asserts the exit code, and that stderr contains each of `needles`.
pub fn assert_fails(output: &Output, code: i32, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in stderr: {err}");
    }
}

/// An account on the PDS: DID, handle, and the signing key the PDS recommends for its DID
/// document (empty until [`sign_up`] asks for it).
pub struct Account {
    pub did: String,
    pub handle: String,
    pub key: String,
}

/// A new account on the PDS (password [`PASSWORD`]), not logged in.
pub fn create_account(scratch: &Scratch, pds: &str) -> Account {
    let handle = atdata_testkit::unique_handle('r');
    let email = format!("{}@example.com", handle.trim_end_matches(".test"));
    let env = [("ATDATA_PASSWORD", PASSWORD)];
    let create = [
        "account", "create", "--pds", pds, "--handle", &handle, "--email", &email,
    ];
    let created = json_of(&scratch.run_env(&create, &env), &create);
    let did = created["did"].as_str().expect("did").to_owned();
    Account {
        did,
        handle,
        key: String::new(),
    }
}

/// A new account on the PDS, logged in (with `--pds`) in `scratch`'s config directory.
pub fn sign_up(scratch: &Scratch, pds: &str) -> Account {
    let mut account = create_account(scratch, pds);
    let env = [("ATDATA_PASSWORD", PASSWORD)];
    let login = ["login", "--pds", pds, &account.handle];
    let session = json_of(&scratch.run_env(&login, &env), &login);
    assert_eq!(session["did"], account.did.as_str());
    let creds = scratch.json(&["xrpc", "com.atproto.identity.getRecommendedDidCredentials"]);
    account.key = creds["verificationMethods"]["atproto"]
        .as_str()
        .expect("the recommended #atproto key")
        .to_owned();
    account
}
