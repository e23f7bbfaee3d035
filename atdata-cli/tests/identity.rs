//! `atdata resolve` and `atdata repo verify`'s resolved keys: against the local reference PDS
//! and its PLC directory (`scripts/pds/pds.sh`, found or started by `atdata-testkit`), a DNS
//! server of the test's own (for handles, through `--dns`) and a did:web host of its own on
//! localhost (through `--allow-private`), which can rotate keys between two requests.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use support::dns::DnsServer;
use support::{assert_fails, json_of, sign_up, Scratch, NOWHERE};

#[test]
fn resolve_reads_did_documents_from_the_plc_directory() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = sign_up(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();

    let args = ["resolve", &account.did, "--plc", plc];
    let out = scratch.json(&args);
    assert_eq!(out["did"], account.did.as_str());
    assert_eq!(out["pds"], pds.url.trim_end_matches('/'));
    assert_eq!(out["signing_key"], account.key.as_str());
    // `.test` handles have no DNS record here: the claim cannot be checked.
    assert_eq!(out["handle"], "handle.invalid");
    assert_eq!(out["handle_verified"], false);
    let claimed = format!("at://{}", account.handle);
    assert_eq!(out["also_known_as"], json!([claimed]));
    assert!(out.get("labeler_key").is_none(), "{out}");
    // The document as the directory serves it.
    assert_eq!(out["doc"]["id"], account.did.as_str());
    assert_eq!(out["doc"]["alsoKnownAs"], json!([claimed]));
    assert!(out["doc"]["verificationMethod"].is_array());

    // An AT-URI: its authority.
    let uri = format!(
        "at://{}/ac.foundation.dataset.sampleSchema/self",
        account.did
    );
    let by_uri = scratch.json(&["resolve", &uri, "--plc", plc]);
    assert_eq!(by_uri, out);

    // The directory from the environment instead of the flag.
    let by_env = scratch.run_env(&["resolve", &account.did], &[("ATDATA_PLC_URL", plc)]);
    assert_eq!(json_of(&by_env, &["resolve", "(ATDATA_PLC_URL)"]), out);

    // A DID the directory does not know: exit 1. No directory at all: exit 3.
    let unknown = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    let missing = scratch.run(&["resolve", unknown, "--plc", plc]);
    assert_fails(&missing, 1, &[unknown, "not found"]);
    assert!(missing.stdout.is_empty());
    let unreachable = scratch.run(&["resolve", &account.did, "--plc", NOWHERE]);
    assert_fails(&unreachable, 3, &["unreachable"]);
    let unreachable = scratch.run_env(&["resolve", &account.did], &[("ATDATA_PLC_URL", NOWHERE)]);
    assert_fails(&unreachable, 3, &["127.0.0.1:9"]);
}

#[test]
fn repo_verify_checks_the_signature_with_the_resolved_key() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = sign_up(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();
    let car = scratch.path("repo.car");
    scratch.json(&[
        "repo",
        "export",
        "--pds",
        &pds.url,
        &account.did,
        "-o",
        &car,
    ]);

    let verified = scratch.json(&["repo", "verify", &car, "--plc", plc]);
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["did"], account.did.as_str());
    assert_eq!(verified["signature_checked"], true);
    assert_eq!(verified["key"], account.key.as_str());
    assert_eq!(verified["key_source"], "resolved");
    // The fields from before resolution was added are all there.
    for field in ["file", "rev", "commit", "blocks", "records", "problems"] {
        assert!(verified.get(field).is_some(), "{field} missing: {verified}");
    }

    // --key overrides resolution (no directory needed): another key does not verify.
    let other = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256)
        .expect("key")
        .public_key()
        .to_did_key();
    let refused = scratch.run(&["repo", "verify", &car, "--key", &other, "--plc", NOWHERE]);
    assert_fails(&refused, 1, &["signature does not verify", &other]);
    let report: Value = serde_json::from_slice(&refused.stdout).expect("json");
    assert_eq!(report["key_source"], "flag");
    assert_eq!(report["key"], other.as_str());
    assert_eq!(report["signature_checked"], true);
    assert_eq!(report["valid"], false);

    // --offline: no signature check, no directory.
    let offline = scratch.json(&["repo", "verify", &car, "--offline", "--plc", NOWHERE]);
    assert_eq!(offline["valid"], true);
    assert_eq!(offline["signature_checked"], false);
    assert_eq!(offline["key"], Value::Null);
    assert_eq!(offline["key_source"], Value::Null);

    // The directory unreachable: exit 3, and the message says what could not be done.
    let unreachable = scratch.run(&["repo", "verify", &car, "--plc", NOWHERE]);
    assert_fails(
        &unreachable,
        3,
        &["could not resolve the signing key", &account.did],
    );
    // The commit signed by a key the DID document does not hold: exit 1, after one refresh.
    let forged = atdata_crypto::Keypair::generate(atdata_crypto::Curve::P256).expect("key");
    let did = atdata_core::Did::new(&account.did).expect("did");
    let repo =
        atdata_core::repo::Repo::create(did, &forged, Vec::<(String, _)>::new()).expect("repo");
    let forged_car = scratch.file("forged.car", &repo.to_car());
    let refused = scratch.run(&["repo", "verify", &forged_car, "--plc", plc]);
    assert_fails(&refused, 1, &["signature does not verify", &account.key]);
    let report: Value = serde_json::from_slice(&refused.stdout).expect("json");
    assert_eq!(report["key_source"], "resolved");
    assert_eq!(report["key"], account.key.as_str());
}

#[test]
fn handles_resolve_through_the_given_nameserver_and_must_be_claimed_back() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = sign_up(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();
    let dns = DnsServer::start();
    dns.set_txt(
        &format!("_atproto.{}", account.handle),
        &format!("did={}", account.did),
    );
    let nameserver = dns.addr.to_string();

    // The handle resolves to the DID, whose document claims it back: verified both ways.
    let by_handle = scratch.json(&[
        "resolve",
        &account.handle,
        "--plc",
        plc,
        "--dns",
        &nameserver,
    ]);
    assert_eq!(by_handle["did"], account.did.as_str());
    assert_eq!(by_handle["handle"], account.handle.as_str());
    assert_eq!(by_handle["handle_verified"], true);
    assert_eq!(by_handle["signing_key"], account.key.as_str());
    // From the DID, with the nameserver from the environment, and in an AT-URI.
    let env = [("ATDATA_DNS", nameserver.as_str()), ("ATDATA_PLC_URL", plc)];
    let by_did = scratch.run_env(&["resolve", &account.did], &env);
    let by_did = json_of(&by_did, &["resolve", "(ATDATA_DNS)"]);
    assert_eq!(by_did["handle"], account.handle.as_str());
    assert_eq!(by_did["handle_verified"], true);
    // The nameserver by name: `localhost:PORT` (its own name goes to the system resolver).
    let by_name = format!("localhost:{}", dns.addr.port());
    let named = scratch.json(&["resolve", &account.handle, "--plc", plc, "--dns", &by_name]);
    assert_eq!(named["handle_verified"], true);
    let uri = format!("at://{}", account.handle);
    let by_uri = scratch.run_env(&["resolve", &uri], &env);
    assert_eq!(
        json_of(&by_uri, &["resolve", &uri])["did"],
        account.did.as_str()
    );

    // Another handle pointing at the DID, which does not claim it: exit 1.
    let impostor = atdata_testkit::unique_handle('x');
    dns.set_txt(
        &format!("_atproto.{impostor}"),
        &format!("did={}", account.did),
    );
    let mismatch = scratch.run_env(&["resolve", &impostor], &env);
    assert_fails(
        &mismatch,
        1,
        &[&impostor, "does not belong to", &account.did],
    );
    assert!(mismatch.stdout.is_empty());
    assert!(dns.queries() > 0);
}

#[test]
fn allow_private_resolves_did_web_on_localhost_and_rotated_keys_are_refetched() {
    let scratch = Scratch::new();
    let old = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).expect("key");
    let new = atdata_crypto::Keypair::generate(atdata_crypto::Curve::P256).expect("key");
    let labeler = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).expect("key");

    // The host serves the old key once, then the new one: the key rotated in between.
    let host = WebHost::start();
    let did = host.did();
    host.serve(vec![
        did_doc(&did, &old, Some(&labeler)),
        did_doc(&did, &new, Some(&labeler)),
    ]);

    // Without --allow-private, did:web:localhost is refused: exit 1, and the hint is given.
    let refused = scratch.run(&["resolve", &did]);
    assert_fails(&refused, 1, &["development mode", "--allow-private"]);
    assert_eq!(host.requests(), 0);

    let out = scratch.json(&["resolve", &did, "--allow-private"]);
    assert_eq!(out["did"], did.as_str());
    assert_eq!(out["signing_key"], old.public_key().to_did_key().as_str());
    assert_eq!(
        out["labeler_key"],
        labeler.public_key().to_did_key().as_str()
    );
    assert_eq!(out["pds"], "http://localhost:2583");
    assert_eq!(out["handle"], "handle.invalid");
    assert_eq!(out["doc"]["id"], did.as_str());

    // A repository signed with the new key: the cached (old) key fails, the document is
    // fetched again, and the new key verifies it.
    let repo = atdata_core::repo::Repo::create(
        atdata_core::Did::new(&did).expect("did"),
        &new,
        Vec::<(String, _)>::new(),
    )
    .expect("repo");
    let car = scratch.file("rotated.car", &repo.to_car());
    host.serve(vec![did_doc(&did, &old, None), did_doc(&did, &new, None)]);
    let env = [("ATDATA_ALLOW_PRIVATE", "1")];
    let verified = scratch.run_env(&["repo", "verify", &car], &env);
    let verified = json_of(&verified, &["repo", "verify", "(rotated)"]);
    assert_eq!(verified["signature_checked"], true);
    assert_eq!(verified["key_source"], "resolved");
    assert_eq!(verified["key"], new.public_key().to_did_key().as_str());
    assert_eq!(host.requests(), 2, "one fetch, one refresh");

    // A key that stays wrong after the refresh: exit 1, with the key it was checked against.
    host.serve(vec![did_doc(&did, &old, None)]);
    let refused = scratch.run_env(&["repo", "verify", &car], &env);
    let old_key = old.public_key().to_did_key();
    assert_fails(&refused, 1, &["signature does not verify", &old_key]);
    assert_eq!(host.requests(), 2, "one fetch, one refresh");
    // A falsy value leaves the guard on.
    let guarded = scratch.run_env(&["repo", "verify", &car], &[("ATDATA_ALLOW_PRIVATE", "0")]);
    assert_fails(
        &guarded,
        1,
        &["could not resolve the signing key", "--allow-private"],
    );
}

#[test]
fn resolver_options_are_checked() {
    let scratch = Scratch::new();
    let did = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    // A nameserver whose name does not resolve, or no address at all: a usage error, from the
    // flag or the environment.
    let bad_dns = scratch.run(&["resolve", did, "--dns", "dns.example:53"]);
    assert_fails(&bad_dns, 2, &["--dns", "dns.example:53", "IP:PORT"]);
    let bad_dns = scratch.run_env(&["resolve", did], &[("ATDATA_DNS", "nameserver")]);
    assert_fails(&bad_dns, 2, &["nameserver", "IP:PORT"]);
    // A CA file that cannot be read: exit 3 with its path; one without certificates: usage.
    let missing = scratch.run(&["resolve", did, "--ca-file", "/nonexistent/roots.pem"]);
    assert_fails(&missing, 3, &["--ca-file", "/nonexistent/roots.pem"]);
    let key = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).expect("key");
    let repo = atdata_core::repo::Repo::create(
        atdata_core::Did::new(did).expect("did"),
        &key,
        Vec::<(String, _)>::new(),
    )
    .expect("repo");
    let car = scratch.file("repo.car", &repo.to_car());
    let missing = scratch.run_env(
        &["repo", "verify", &car],
        &[("ATDATA_CA_FILE", "/nonexistent/roots.pem")],
    );
    assert_fails(&missing, 3, &["--ca-file", "/nonexistent/roots.pem"]);
    let not_pem = scratch.file("roots.pem", b"not a certificate\n");
    let not_pem_out = scratch.run_env(&["resolve", did], &[("ATDATA_CA_FILE", not_pem.as_str())]);
    assert_fails(&not_pem_out, 2, &[&not_pem, "no certificate"]);
    // A PLC directory that is not an http(s) URL; an ATDATA_ALLOW_PRIVATE that is not a
    // yes or a no.
    let bad_plc = scratch.run(&["resolve", did, "--plc", "ftp://plc.example"]);
    assert_fails(&bad_plc, 2, &["--plc", "ftp://plc.example"]);
    let maybe = scratch.run_env(&["resolve", did], &[("ATDATA_ALLOW_PRIVATE", "maybe")]);
    assert_fails(&maybe, 2, &["--allow-private", "maybe"]);
    // An ID that is none of handle, DID, AT-URI.
    let bad_id = scratch.run(&["resolve", "not an identifier"]);
    assert_fails(&bad_id, 2, &["not an identifier"]);
}

/// A DID document for `did` with `key` as `#atproto` (and `labeler` as `#atproto_label`).
fn did_doc(
    did: &str,
    key: &atdata_crypto::Keypair,
    labeler: Option<&atdata_crypto::Keypair>,
) -> String {
    let method = |fragment: &str, key: &atdata_crypto::Keypair| {
        let did_key = key.public_key().to_did_key();
        json!({
            "id": format!("{did}#{fragment}"),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": did_key.trim_start_matches("did:key:"),
        })
    };
    let mut methods = vec![method("atproto", key)];
    methods.extend(labeler.map(|l| method("atproto_label", l)));
    json!({
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "alsoKnownAs": ["at://web-account.test"],
        "verificationMethod": methods,
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": "http://localhost:2583",
        }],
    })
    .to_string()
}

/// An HTTP server on localhost that answers every request with the next of the documents it
/// was given (the last one again when they run out), counting requests.
struct WebHost {
    port: u16,
    state: Arc<Mutex<(Vec<String>, usize)>>,
}

impl WebHost {
    fn start() -> WebHost {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new((Vec::<String>::new(), 0)));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = {
                    let mut state = shared.lock().expect("lock");
                    let (docs, served) = &mut *state;
                    let body = docs
                        .get(*served)
                        .or(docs.last())
                        .cloned()
                        .unwrap_or_default();
                    *served += 1;
                    body
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/did+ld+json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        WebHost { port, state }
    }

    fn did(&self) -> String {
        format!("did:web:localhost%3A{}", self.port)
    }

    /// Serves `docs` from now on, one per request, and resets the request count.
    fn serve(&self, docs: Vec<String>) {
        *self.state.lock().expect("lock") = (docs, 0);
    }

    fn requests(&self) -> usize {
        self.state.lock().expect("lock").1
    }
}

/// Without --pds and without a session, `repo export` finds REPO's PDS through its DID
/// document (the resolver options apply), and the export verifies through resolution too.
#[test]
fn repo_export_without_a_pds_finds_it_through_the_did_document() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let owner = Scratch::new();
    let account = support::create_account(&owner, &pds.url);
    // Someone else: no session, no --pds.
    let reader = Scratch::new();
    let car = reader.path("repo.car");
    let exported = reader.json(&[
        "repo",
        "export",
        &account.did,
        "-o",
        &car,
        "--plc",
        &pds.plc_url,
    ]);
    assert_eq!(exported["did"], account.did.as_str());
    let verified = reader.json(&["repo", "verify", &car, "--plc", &pds.plc_url]);
    assert_eq!(verified["signature_checked"], true);
    assert_eq!(verified["key_source"], "resolved");
    // An unknown DID is "not found" (exit 1), before any PDS is asked.
    let out = reader.run(&[
        "repo",
        "export",
        "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa",
        "-o",
        &car,
        "--plc",
        &pds.plc_url,
    ]);
    support::assert_fails(&out, 1, &["not found"]);
}
