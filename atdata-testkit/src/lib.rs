//! Test support shared by atdata's crates (not published): the local reference PDS that the
//! integration tests talk to, account handles that no earlier run used, and access tokens made
//! to look expired; and [`interop`], the runner of the vendored interop fixtures.
//!
//! - `ATDATA_PDS_URL` set: that server is used (and `ATDATA_PLC_URL` for its PLC directory).
//! - Otherwise `scripts/pds/pds.sh start` runs once per test binary. It serialises concurrent
//!   starts with a lock of its own and returns at once with the running server's URLs when one
//!   is up; the server is left running for the next test binary (`pds.sh stop` stops it).
//! - When no PDS can be had, [`pds`] panics if `CI` is set (the tests must not pass by
//!   skipping there) and otherwise prints `SKIPPED` and returns `None`.
//!
//! ```no_run
//! let Some(pds) = atdata_testkit::pds() else { return };
//! let handle = atdata_testkit::unique_handle('t');
//! println!("{} on {}", handle, pds.url);
//! ```

pub mod interop;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the PDS and its PLC directory listen.
#[derive(Debug, Clone)]
pub struct Pds {
    /// The PDS, e.g. `http://localhost:2583`.
    pub url: String,
    /// Its PLC directory, e.g. `http://localhost:2582`.
    pub plc_url: String,
}

/// The PDS, or `None` (after printing why) when the tests should be skipped.
///
/// # Panics
///
/// When no PDS can be had and `CI` is set.
pub fn pds() -> Option<&'static Pds> {
    static PDS: OnceLock<Result<Pds, String>> = OnceLock::new();
    match PDS.get_or_init(find_or_start) {
        Ok(pds) => Some(pds),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the reference PDS is required in CI and could not be started: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED: no reference PDS ({why}); run `scripts/pds/pds.sh start` or set ATDATA_PDS_URL"
            );
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
    let output = Command::new("bash")
        .arg(&script)
        .arg("start")
        .stdin(Stdio::null())
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

/// A handle under `.test` that no earlier run used (the PDS keeps its accounts between runs),
/// starting with `prefix` so that each test suite's accounts can be told apart. The PDS takes
/// at most 18 characters before `.test`; this uses 13.
///
/// ```
/// let a = atdata_testkit::unique_handle('t');
/// let b = atdata_testkit::unique_handle('t');
/// assert_ne!(a, b);
/// assert!(a.starts_with('t') && a.ends_with(".test"));
/// ```
pub fn unique_handle(prefix: char) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Time and process id tell runs and concurrent test binaries apart, the counter the
    // handles of one binary.
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!(
        "{prefix}{:010x}{:02x}.test",
        mixed & 0xff_ffff_ffff,
        n & 0xff
    )
}

/// The JWT secret `scripts/pds/pds.sh` gives the local PDS (`ATDATA_PDS_JWT_SECRET` for
/// another server): with it a test can make an access token that has already expired.
pub fn jwt_secret() -> String {
    std::env::var("ATDATA_PDS_JWT_SECRET").unwrap_or_else(|_| "atdata-test-jwt-secret".into())
}

/// `token` (an HS256 access token from the PDS) with its `exp` moved a minute before its
/// `iat`, signed again with [`jwt_secret`]: the PDS will answer `ExpiredToken` to it, and a
/// client reading it sees it expired. `None` when `token` is not such a JWT.
pub fn expired_access_token(token: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (header, payload) = (parts.next()?, parts.next()?);
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let iat = claims.get("iat")?.as_i64()?;
    claims["exp"] = serde_json::json!(iat - 60);
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mac = hmac_sha256(jwt_secret().as_bytes(), signed.as_bytes());
    Some(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac)))
}

/// HMAC-SHA-256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    let mut block = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    block.resize(64, 0);
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
