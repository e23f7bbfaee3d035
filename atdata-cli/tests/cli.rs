//! Runs the `atdata` binary as a user would.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_atdata");
const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata");

fn atdata(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run atdata")
}

fn atdata_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn atdata");
    // A command may exit before reading stdin; the broken pipe is then expected.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every interop syntax case, through the CLI: the exit code must match the fixture.
#[test]
fn syntax_check_agrees_with_every_interop_case() {
    let dir = format!("{TESTDATA}/interop/syntax");
    let kinds = [
        ("atidentifier", "at-identifier"),
        ("aturi", "at-uri"),
        ("cid", "cid"),
        ("datetime", "datetime"),
        ("did", "did"),
        ("handle", "handle"),
        ("language", "language"),
        ("nsid", "nsid"),
        ("recordkey", "record-key"),
        ("tid", "tid"),
    ];
    let mut cases = 0;
    for (prefix, kind) in kinds {
        for (suffix, valid) in [
            ("syntax_valid", true),
            ("syntax_invalid", false),
            ("parse_invalid", false),
        ] {
            let Ok(text) = std::fs::read_to_string(format!("{dir}/{prefix}_{suffix}.txt")) else {
                continue;
            };
            for line in text.split('\n') {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                cases += 1;
                let out = atdata(&["syntax", "check", kind, "--", line]);
                let code = out.status.code();
                if valid {
                    assert_eq!(
                        code,
                        Some(0),
                        "{kind} {line:?} should be valid: {}",
                        stderr(&out)
                    );
                } else {
                    assert_eq!(code, Some(1), "{kind} {line:?} should be invalid");
                    assert!(stderr(&out).contains("invalid"), "reason on stderr");
                }
            }
        }
    }
    // 536 cases minus the generic-URI files, which have no CLI kind.
    assert_eq!(cases, 536 - 21);
}

#[test]
fn data_cid_matches_the_fixture() {
    let fixtures: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{TESTDATA}/interop/data-model/data-model-fixtures.json"
        ))
        .expect("fixtures"),
    )
    .expect("json");
    for case in fixtures.as_array().expect("array") {
        let out = atdata_stdin(&["data", "cid"], case["json"].to_string().as_bytes());
        assert!(out.status.success(), "{}", stderr(&out));
        let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json out");
        assert_eq!(printed["cid"], case["cid"]);

        let cbor = atdata_stdin(&["data", "to-cbor"], case["json"].to_string().as_bytes());
        assert!(cbor.status.success());
        let expected =
            atdata_core::encoding::base64_decode(case["cbor_base64"].as_str().expect("b64"))
                .expect("base64");
        assert_eq!(cbor.stdout, expected);

        let json = atdata_stdin(&["data", "to-json"], &cbor.stdout);
        assert!(json.status.success());
        let back: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
        assert_eq!(back, case["json"]);
    }
    let float = atdata_stdin(&["data", "cid"], br#"{"a": 1.5}"#);
    assert_eq!(float.status.code(), Some(1));
}

/// A DAG-CBOR map whose only key is `$link` (a plain map with a text value, not a tag-42 link)
/// has no atproto JSON form: printed as JSON it would read back as a link, with another CID.
#[test]
fn data_to_json_refuses_maps_json_would_misread() {
    const POST: &str = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm";
    for key in ["$link", "$bytes"] {
        let mut cbor = vec![0xa1, 0x60 + key.len() as u8];
        cbor.extend_from_slice(key.as_bytes());
        cbor.extend_from_slice(&[0x78, POST.len() as u8]);
        cbor.extend_from_slice(POST.as_bytes());
        let out = atdata_stdin(&["data", "to-json"], &cbor);
        assert_eq!(out.status.code(), Some(1), "{key}: {}", stdout(&out));
        assert!(stdout(&out).is_empty());
        assert!(stderr(&out).contains(key), "{}", stderr(&out));
    }
    // The JSON forms themselves are a link and bytes, and survive the round trip unchanged.
    let json = format!(r#"{{"a":{{"$link":"{POST}"}},"b":{{"$bytes":"aGk"}}}}"#);
    let cbor = atdata_stdin(&["data", "to-cbor"], json.as_bytes());
    assert!(cbor.status.success(), "{}", stderr(&cbor));
    assert_eq!(cbor.stdout[..4], [0xa2, 0x61, b'a', 0xd8], "a tag-42 link");
    let back = atdata_stdin(&["--json", "data", "to-json"], &cbor.stdout);
    assert!(back.status.success(), "{}", stderr(&back));
    assert_eq!(stdout(&back).trim(), json);
}

fn little() -> String {
    format!("{TESTDATA}/corpus/repo-stream/car-samples/little.car")
}

#[test]
fn car_inspect_verify_cat() {
    let out = atdata(&["car", "inspect", &little()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(info["blocks"], 375);
    assert_eq!(info["roots"].as_array().map(Vec::len), Some(1));

    let out = atdata(&["car", "verify", &little()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["blocks"], 375);
    assert_eq!(v["valid"], true);

    let out = atdata(&["car", "cat", &little()]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 375);
    assert!(lines.iter().all(|l| l["cid"].is_string()));
}

/// A block whose hash matches but whose DAG-CBOR is not strict (keys out of order, a float) is
/// refused, and the error names the block and the rule.
#[test]
fn car_verify_rejects_blocks_that_do_not_decode_strictly() {
    use atdata_core::{car, Cid};
    for (block, why) in [
        (&b"\xa2\x61b\x01\x61a\x02"[..], "canonical order"),
        (&b"\xa1\x61n\xf9\x3c\x00"[..], "floats"),
    ] {
        let ok: &[u8] = b"\xa1\x61a\x01";
        let cid = Cid::for_dag_cbor(block);
        let bytes = car::write_car(&[cid], [(Cid::for_dag_cbor(ok), ok), (cid, block)]);
        let out = atdata_stdin(&["car", "verify", "-"], &bytes);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("block 1 ({cid})")), "{err}");
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn car_verify_rejects_flipped_and_truncated() {
    let bytes = std::fs::read(little()).expect("car");
    let dir = std::env::temp_dir().join(format!("atdata-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");

    // One flipped byte in the middle of the file (inside some block).
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x20;
    let path = dir.join("flipped.car");
    std::fs::write(&path, &flipped).expect("write");
    let out = atdata(&["car", "verify", path.to_str().expect("utf8 path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("block"),
        "names the block: {}",
        stderr(&out)
    );

    let truncated = &bytes[..bytes.len() - 100];
    let path = dir.join("truncated.car");
    std::fs::write(&path, truncated).expect("write");
    let out = atdata(&["car", "verify", path.to_str().expect("utf8 path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));

    let out = atdata(&[
        "car",
        "verify",
        dir.join("missing.car").to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(3), "unreadable is not invalid");

    let out = atdata_stdin(&["car", "verify", "-"], &bytes);
    assert!(out.status.success(), "stdin: {}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `atdata ARGS` with `stdin`, its stdout a pipe whose read end is closed before the
/// command writes anything: every write it makes meets a closed pipe (EPIPE).
fn atdata_closed_stdout(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn atdata");
    drop(child.stdout.take());
    // The command may exit before reading stdin; the broken pipe is then expected.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}

/// A closed stdout (`atdata … | head`) ends the command quietly with exit 0, whichever way it
/// writes: JSON lines, a `println!`-style line, raw bytes.
#[test]
fn a_closed_stdout_pipe_exits_0_without_a_panic() {
    let car = std::fs::read(little()).expect("car");
    let cbor = atdata_stdin(&["data", "to-cbor"], br#"{"a": [1, 2, 3], "b": "text"}"#).stdout;
    let key = atdata(&["key", "gen"]);
    let private_key = serde_json::from_str::<serde_json::Value>(&stdout(&key)).expect("json")
        ["private_key"]
        .as_str()
        .expect("private key")
        .to_owned();
    let little = little();
    let cases: [(&[&str], &[u8]); 5] = [
        (&["car", "cat", &little], b""),
        (&["car", "cat", "-"], &car),
        (&["data", "to-json"], &cbor),
        (&["data", "to-cbor"], br#"{"a": 1}"#),
        (
            &["key", "sign", "--private-key", &private_key, "-"],
            b"message",
        ),
    ];
    for (args, stdin) in cases {
        let out = atdata_closed_stdout(args, stdin);
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}: quietly");
    }
}

/// Runs `atdata ARGS` with `stdin` and its stdout on `/dev/full`, where every write fails
/// with ENOSPC.
#[cfg(target_os = "linux")] // `/dev/full`
fn atdata_to_dev_full(args: &[&str], stdin: &[u8]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn atdata");
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}

/// Output that cannot be written (a full disk) is an error (exit 3, the reason on stderr),
/// never a silent exit 0 with nothing written; small outputs included, which sit in the
/// stdout buffer until the final flush.
#[cfg(target_os = "linux")] // `/dev/full`
#[test]
fn a_full_disk_on_stdout_is_an_error() {
    let cbor = atdata_stdin(&["data", "to-cbor"], br#"{"a": 1}"#).stdout;
    let little = little();
    let cases: [(&[&str], &[u8]); 5] = [
        (&["car", "cat", &little], b""),
        (&["car", "verify", &little], b""),
        (&["data", "to-cbor"], br#"{"a": 1}"#),
        (&["data", "to-json"], &cbor),
        (&["syntax", "check", "did", "did:plc:abc"], b""),
    ];
    for (args, stdin) in cases {
        let out = atdata_to_dev_full(args, stdin);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("writing stdout") && stderr(&out).contains("No space left"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    // A command that fails keeps its own exit code; the write error is reported as well.
    let out = atdata_to_dev_full(&["syntax", "check", "did", "nope"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A one-shot stand-in for a PDS: answers every request on a local port with `body` as a
/// CAR file, for `repo export`.
#[cfg(target_os = "linux")] // `/dev/full`
fn serve_car(body: Vec<u8>) -> String {
    use std::io::{BufRead as _, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut line = String::new();
            // The request head ends with an empty line; there is no request body.
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.ipld.car\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// `repo export -o FILE`: a file that cannot be written is an error; a device such as
/// `/dev/full` (here through a symbolic link, so that a regression could only ever remove the
/// link) is written, not replaced or removed; a regular file gets every byte.
#[cfg(target_os = "linux")] // `/dev/full`
#[test]
fn repo_export_checks_its_output_file() {
    let car = std::fs::read(little()).expect("car");
    let pds = serve_car(car.clone());
    let dir = std::env::temp_dir().join(format!("atdata-cli-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let export = |output: &std::path::Path| {
        Command::new(BIN)
            .args([
                "repo",
                "export",
                "--pds",
                &pds,
                "did:plc:ewvi7nxzyoun6zhxrhs64oiz",
                "-o",
            ])
            .arg(output)
            .env("ATDATA_CONFIG_DIR", dir.join("config"))
            .env_remove("ATDATA_PDS_URL")
            .output()
            .expect("run atdata")
    };

    let file = dir.join("repo.car");
    let out = export(&file);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read(&file).expect("exported"), car);

    let link = dir.join("full");
    std::os::unix::fs::symlink("/dev/full", &link).expect("symlink");
    let out = export(&link);
    let link_kept = std::fs::symlink_metadata(&link).is_ok();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("No space left"), "{}", stderr(&out));
    assert!(link_kept, "the output path was removed");
    assert!(std::path::Path::new("/dev/full").exists());
}
