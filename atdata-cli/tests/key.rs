//! `atdata key`: generate, sign and verify through the binary, as a user would.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;

const BIN: &str = env!("CARGO_BIN_EXE_atdata");
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/interop/crypto/signature-fixtures.json"
);

fn run(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("ATDATA_PRIVATE_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn atdata");
    // A command may exit before reading stdin; the broken pipe is then expected.
    let _ = child.stdin.take().expect("stdin").write_all(stdin);
    child.wait_with_output().expect("wait")
}

fn atdata(args: &[&str]) -> Output {
    run(args, &[], b"")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim_end().to_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file holding `bytes`, unique to this test.
fn temp_file(name: &str, bytes: &[u8]) -> String {
    let path = format!("{}/key-{name}", env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

struct Generated {
    did_key: String,
    private_key: String,
}

fn gen(curve: &str) -> Generated {
    let out = atdata(&["key", "gen", "--curve", curve, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["curve"], curve);
    Generated {
        did_key: json["did_key"].as_str().expect("did_key").to_owned(),
        private_key: json["private_key"]
            .as_str()
            .expect("private_key")
            .to_owned(),
    }
}

#[test]
fn gen_sign_verify_on_both_curves() {
    for (curve, prefix) in [("p256", "did:key:zDnae"), ("k256", "did:key:zQ3s")] {
        let key = gen(curve);
        assert!(key.did_key.starts_with(prefix), "{}", key.did_key);
        let message = format!("a message signed with {curve}\n");
        let file = temp_file(&format!("roundtrip-{curve}"), message.as_bytes());

        let signed = atdata(&["key", "sign", "--private-key", &key.private_key, &file]);
        assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
        let signature = stdout(&signed);
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&signature)
            .expect("base64url without padding");
        assert_eq!(raw.len(), 64);

        // The key from the environment and the message from stdin give the same signature
        // (RFC 6979 signing is deterministic).
        let from_env = run(
            &["key", "sign", "-"],
            &[("ATDATA_PRIVATE_KEY", &key.private_key)],
            message.as_bytes(),
        );
        assert_eq!(from_env.status.code(), Some(0), "{}", stderr(&from_env));
        assert_eq!(stdout(&from_env), signature);

        let verified = atdata(&[
            "key",
            "verify",
            "--did-key",
            &key.did_key,
            "--sig",
            &signature,
            &file,
        ]);
        assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
        assert_eq!(stdout(&verified), r#"{"valid":true}"#);

        let from_stdin = run(
            &[
                "key",
                "verify",
                "--did-key",
                &key.did_key,
                "--sig",
                &signature,
                "-",
            ],
            &[],
            message.as_bytes(),
        );
        assert_eq!(from_stdin.status.code(), Some(0), "{}", stderr(&from_stdin));
    }
}

#[test]
fn a_flipped_message_byte_fails() {
    for curve in ["p256", "k256"] {
        let key = gen(curve);
        let mut message = b"the original message".to_vec();
        let signed = run(
            &["key", "sign", "--private-key", &key.private_key, "-"],
            &[],
            &message,
        );
        let signature = stdout(&signed);
        message[3] ^= 0x01;
        let out = run(
            &[
                "key",
                "verify",
                "--did-key",
                &key.did_key,
                "--sig",
                &signature,
                "-",
            ],
            &[],
            &message,
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(stdout(&out).is_empty());
        assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
    }
}

/// Every signature fixture through the CLI: the valid ones pass, the high-S and DER ones fail
/// with exit 1 and say why.
#[test]
fn interop_signatures_through_the_cli() {
    let text = std::fs::read_to_string(FIXTURES).expect("fixtures");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
    let mut high_s = 0;
    for (i, case) in cases.iter().enumerate() {
        let message =
            atdata_core::encoding::base64_decode(case["messageBase64"].as_str().expect("msg"))
                .expect("message base64");
        let raw =
            atdata_core::encoding::base64_decode(case["signatureBase64"].as_str().expect("sig"))
                .expect("signature base64");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let did_key = case["publicKeyDid"].as_str().expect("did");
        let file = temp_file(&format!("fixture-{i}"), &message);
        let out = atdata(&[
            "key",
            "verify",
            "--did-key",
            did_key,
            "--sig",
            &signature,
            &file,
        ]);
        let tags = case["tags"].to_string();
        if case["validSignature"] == true {
            assert_eq!(out.status.code(), Some(0), "case {i}: {}", stderr(&out));
        } else {
            assert_eq!(out.status.code(), Some(1), "case {i} accepted");
            if tags.contains("high-s") {
                high_s += 1;
                assert!(
                    stderr(&out).contains("high S"),
                    "case {i}: {}",
                    stderr(&out)
                );
            }
            if tags.contains("der-encoded") {
                assert!(
                    stderr(&out).contains("64 bytes"),
                    "case {i}: {}",
                    stderr(&out)
                );
            }
        }
    }
    assert_eq!(high_s, 2);
}

#[test]
fn bad_did_key_is_exit_1() {
    let file = temp_file("bad-did", b"x");
    let sig = "A".repeat(86);
    for did_key in [
        "did:key:zfoo",
        "did:plc:aacgrc5ejsyn73e3lcdjgyte",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "",
    ] {
        let out = atdata(&["key", "verify", "--did-key", did_key, "--sig", &sig, &file]);
        assert_eq!(out.status.code(), Some(1), "{did_key:?}");
        assert!(stderr(&out).contains("invalid did:key"), "{}", stderr(&out));
    }
}

#[test]
fn unreadable_file_is_exit_3() {
    let key = gen("k256");
    let sig = "A".repeat(86);
    let missing = format!("{}/key-does-not-exist", env!("CARGO_TARGET_TMPDIR"));
    let out = atdata(&[
        "key",
        "verify",
        "--did-key",
        &key.did_key,
        "--sig",
        &sig,
        &missing,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = atdata(&["key", "sign", "--private-key", &key.private_key, &missing]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn bad_signatures_are_exit_1() {
    let key = gen("p256");
    let file = temp_file("bad-sig", b"x");
    for (sig, reason) in [("!!!", "base64"), ("AAAA", "64 bytes")] {
        let out = atdata(&[
            "key",
            "verify",
            "--did-key",
            &key.did_key,
            "--sig",
            sig,
            &file,
        ]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(reason), "{}", stderr(&out));
    }
}

#[test]
fn private_key_is_never_echoed() {
    let key = gen("k256");
    // A damaged key: still base58, but no longer a valid key encoding.
    let damaged = format!("{}1", &key.private_key[..key.private_key.len() - 3]);
    for out in [
        atdata(&["key", "sign", "--private-key", &damaged, "-"]),
        run(
            &["key", "sign", "-"],
            &[("ATDATA_PRIVATE_KEY", &damaged)],
            b"",
        ),
    ] {
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains("invalid private key"), "{err}");
        assert!(!err.contains(&damaged[1..12]), "{err}");
    }
    let out = atdata(&["key", "sign", "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ATDATA_PRIVATE_KEY"));
    // A public key is not a private key.
    let multikey = key.did_key.trim_start_matches("did:key:");
    let out = atdata(&["key", "sign", "--private-key", multikey, "-"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("expected a private key"),
        "{}",
        stderr(&out)
    );
}
