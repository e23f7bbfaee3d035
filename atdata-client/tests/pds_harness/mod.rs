//! Finds or starts the local reference PDS (`scripts/pds/pds.sh`) for the integration tests.
//!
//! - `ATDATA_PDS_URL` set: that server is used (and `ATDATA_PLC_URL` for its PLC).
//! - Otherwise `pds.sh start` runs once per test binary; it serialises concurrent starts with
//!   a lock of its own, and returns at once with the running server's URLs when one is up. The server is left running
//!   for the next run; `scripts/pds/pds.sh stop` stops it.
//! - When no PDS can be had, the tests fail if `CI` is set and are skipped (with a notice)
//!   otherwise.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use atdata_client::{Account, Client};

/// Where the PDS and its PLC directory listen.
#[derive(Debug, Clone)]
pub struct Pds {
    pub url: String,
    pub plc_url: String,
}

/// The PDS, or `None` (after printing why) when the tests should be skipped.
pub fn pds() -> Option<&'static Pds> {
    static PDS: OnceLock<Result<Pds, String>> = OnceLock::new();
    match PDS.get_or_init(find_or_start) {
        Ok(pds) => Some(pds),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the reference PDS is required in CI and could not be started: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: no reference PDS ({why}); run `scripts/pds/pds.sh start` or set ATDATA_PDS_URL");
            None
        }
    }
}

fn find_or_start() -> Result<Pds, String> {
    if let Ok(url) = std::env::var("ATDATA_PDS_URL") {
        let plc_url =
            std::env::var("ATDATA_PLC_URL").unwrap_or_else(|_| "http://localhost:2582".into());
        return Ok(Pds { url, plc_url });
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pds/pds.sh");
    // `pds.sh start` serialises concurrent starts itself and returns at once when the server
    // is already up.
    let output = Command::new("bash")
        .arg(&script)
        .arg("start")
        .output()
        .map_err(|e| format!("running {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        return Err(format!(
            "pds.sh start exited with {}: {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let url = value("ATDATA_PDS_URL").ok_or("pds.sh start printed no ATDATA_PDS_URL")?;
    let plc_url = value("ATDATA_PLC_URL").ok_or("pds.sh start printed no ATDATA_PLC_URL")?;
    Ok(Pds { url, plc_url })
}

/// A handle no earlier run used: the PDS keeps its accounts between runs.
pub fn unique_handle() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    // The PDS takes at most 18 characters before `.test`.
    format!("t{:010x}{:02x}.test", mixed & 0xff_ffff_ffff, n & 0xff)
}

pub const PASSWORD: &str = "integration-test-password";

/// A new account on the PDS and a client logged in as it.
pub async fn new_account(pds: &Pds) -> (Client, Account) {
    let client = Client::new(&pds.url).expect("client");
    let handle = unique_handle();
    let email = format!("{}@example.com", handle.trim_end_matches(".test"));
    let account = client
        .create_account(&handle, &email, PASSWORD, None)
        .await
        .expect("createAccount");
    (client, account)
}
