//! Runs every program in `examples/` against the local reference PDS, as a user would: with
//! `ATDATA_PDS_URL`, `ATDATA_HANDLE` and `ATDATA_PASSWORD` set for an account made here, and
//! checks their exit status and what they print.
//!
//! `cargo test` builds the examples along with the tests (`target/<profile>/examples/`), so
//! this test runs those binaries rather than `cargo run`. A run that builds only this test
//! (`cargo test --test examples`) may not have them: it then fails and says how to build them.

#![cfg(feature = "http")]

mod pds_harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pds_harness::{new_account, pds, PASSWORD};

/// Each example and what its output must contain (`{handle}`, `{did}` and `{pds}` are
/// replaced).
const EXAMPLES: &[(&str, &[&str])] = &[
    (
        "login",
        &[
            "logged in as {handle} ({did})",
            "calls go to {pds}",
            "the server knows us as {handle}, active: true",
        ],
    ),
    (
        "custom_pds",
        &[
            "service: {pds}",
            "handles end in: .test",
            "logged in as {handle} on {pds}",
        ],
    ),
    (
        "session_export",
        &[
            "session change: Created",
            "exported the session (",
            "resumed as {handle} ({did})",
            "refreshed; the new export differs: true",
            "logged out: true",
        ],
    ),
    (
        "custom_records",
        &[
            "created at://{did}/ac.foundation.dataset.sampleSchema/",
            "got image-caption-pair version 1.0.0",
            "updated at://{did}/ac.foundation.dataset.sampleSchema/",
            "version 1.1.0",
            "deleted at://{did}/ac.foundation.dataset.sampleSchema/",
        ],
    ),
    (
        "upload_blob",
        &[
            "uploaded 69 bytes as blob bafkrei",
            "schema at://{did}/ac.foundation.dataset.sampleSchema/",
            "dataset at://{did}/ac.foundation.dataset.record/",
            "\"$type\":\"blob\"",
            "downloaded the blob again: 69 bytes, identical",
        ],
    ),
];

/// The longest one example may run.
const TIMEOUT: Duration = Duration::from_secs(120);

/// `target/<profile>/examples`, beside the `deps` folder this test binary is in.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps");
    profile_dir.join("examples")
}

/// The example's binary, checked to exist and to be newer than its source.
fn example_binary(name: &str) -> PathBuf {
    let binary = examples_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let how = "`cargo test -p atdata-client` builds the examples with the tests \
               (or run `cargo build -p atdata-client --examples` first)";
    match (modified(&binary), modified(&source)) {
        (None, _) => panic!("{} is not built: {how}", binary.display()),
        (Some(built), Some(edited)) if built < edited => {
            panic!("{} is older than its source: {how}", binary.display())
        }
        _ => binary,
    }
}

/// Runs the example with the account's environment; its status and output.
fn run_example(name: &str, env: &[(&str, &str)]) -> (std::process::ExitStatus, String, String) {
    let mut command = Command::new(example_binary(name));
    command
        .env_remove("ATDATA_PDS_URL")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start the example");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("example {name} ran longer than {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("output");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn every_example_runs_against_the_local_pds() {
    let Some(pds) = pds() else { return };
    // Every example is found before any account is made: a missing binary says so at once.
    for (name, _) in EXAMPLES {
        example_binary(name);
    }
    let (_client, account) = new_account(pds).await;
    let (did, handle) = (account.did.to_string(), account.handle.to_string());
    let env = [
        ("ATDATA_PDS_URL", pds.url.as_str()),
        ("ATDATA_PLC_URL", pds.plc_url.as_str()),
        ("ATDATA_HANDLE", handle.as_str()),
        ("ATDATA_PASSWORD", PASSWORD),
    ];
    for (name, expected) in EXAMPLES {
        let (status, stdout, stderr) = run_example(name, &env);
        assert!(
            status.success(),
            "example {name} failed ({status}):\n{stdout}\n{stderr}"
        );
        for line in *expected {
            let line = line
                .replace("{handle}", &handle)
                .replace("{did}", &did)
                .replace("{pds}", &pds.url);
            assert!(
                stdout.contains(&line),
                "example {name} did not print {line:?}:\n{stdout}"
            );
        }
        // No example shows the password or a token (JWTs start with `eyJ`).
        for text in [&stdout, &stderr] {
            assert!(
                !text.contains(PASSWORD),
                "example {name} printed the password"
            );
            assert!(!text.contains("eyJ"), "example {name} printed a token");
        }
    }
}

#[test]
fn every_example_file_is_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "tests/examples.rs must run every example");
}
