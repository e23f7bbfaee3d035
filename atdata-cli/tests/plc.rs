//! `atdata plc log`: operation logs from the local PLC directory (accounts the local PDS made,
//! and a DID of the test's own whose operations it signs and posts: genesis, key rotation,
//! tombstone), and from a directory of the test's own that serves logs and documents that
//! disagree.

mod support;

use atdata_crypto::{Curve, Keypair};
use atdata_identity::plc::{genesis_did, Operation, PlcState, UnsignedOperation};
use serde_json::{json, Value};

use support::http::{post_json, Routes};
use support::{assert_fails, create_account, Scratch, NOWHERE};

#[test]
fn the_log_of_a_new_account_verifies_and_matches_its_document() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = create_account(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();

    let out = scratch.json(&["plc", "log", &account.did, "--plc", plc]);
    assert_eq!(out["did"], account.did.as_str());
    assert!(out["ops"].as_u64() >= Some(1), "{out}");
    assert_eq!(out["nullified"], 0);
    assert_eq!(out["tombstoned"], false);
    assert_eq!(out["verified"], true);
    assert_eq!(out["matches_document"], true);
    let ops = out["operations"].as_array().expect("operations");
    assert_eq!(ops.len() as u64, out["ops"].as_u64().expect("ops"));
    let genesis = &ops[0];
    assert_eq!(genesis["kind"], "plc_operation");
    assert_eq!(genesis["prev"], Value::Null);
    assert_eq!(genesis["nullified"], false);
    assert!(genesis["signer_key"]
        .as_str()
        .is_some_and(|k| k.starts_with("did:key:")));
    assert_eq!(out["head"], ops[ops.len() - 1]["cid"]);
    let state = &out["state"];
    assert_eq!(
        state["also_known_as"],
        json!([format!("at://{}", account.handle)])
    );
    assert_eq!(
        state["services"]["atproto_pds"]["endpoint"],
        pds.url.trim_end_matches('/')
    );
    assert!(state["rotation_keys"]
        .as_array()
        .is_some_and(|k| !k.is_empty()));
    // The key the document serves: what `resolve` reads.
    let resolved = scratch.json(&["resolve", &account.did, "--plc", plc]);
    assert_eq!(
        state["verification_methods"]["atproto"],
        resolved["signing_key"]
    );
    // --historical changes nothing for a log without high-S signatures.
    let historical = scratch.json(&["plc", "log", &account.did, "--plc", plc, "--historical"]);
    assert_eq!(historical, out);
}

#[test]
fn unknown_dids_other_methods_and_unreachable_directories_fail() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let plc = pds.plc_url.as_str();
    let unknown = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    let missing = scratch.run(&["plc", "log", unknown, "--plc", plc]);
    assert_fails(&missing, 1, &[unknown, "not found"]);
    assert!(missing.stdout.is_empty());

    let web = scratch.run(&["plc", "log", "did:web:example.com", "--plc", plc]);
    assert_fails(&web, 2, &["did:web:example.com", "only a did:plc"]);
    let not_a_did = scratch.run(&["plc", "log", "alice.test", "--plc", plc]);
    assert_fails(&not_a_did, 2, &["not a DID"]);

    let unreachable = scratch.run(&["plc", "log", unknown, "--plc", NOWHERE]);
    assert_fails(&unreachable, 3, &["unreachable", "127.0.0.1:9"]);
    let unreachable = scratch.run_env(&["plc", "log", unknown], &[("ATDATA_PLC_URL", NOWHERE)]);
    assert_fails(&unreachable, 3, &["127.0.0.1:9"]);
}

/// The state of a DID the test makes: `rotation` may sign the next operation.
fn state(rotation: &Keypair, signing: &Keypair, handle: &str) -> PlcState {
    PlcState::atproto(
        vec![rotation.did_key()],
        signing.did_key(),
        &handle.parse().expect("handle"),
        "https://pds.example.com".into(),
    )
}

fn key(curve: Curve) -> Keypair {
    Keypair::generate(curve).expect("key")
}

/// POSTs `op` for `did` to the directory, which must accept it.
fn post(plc: &str, did: &str, op: &Operation) {
    let body = serde_json::to_string(op).expect("operation JSON");
    let (status, answer) = post_json(&format!("{plc}/{did}"), &body);
    assert_eq!(status, 200, "the directory refused the operation: {answer}");
}

#[test]
fn operations_the_test_signs_are_verified_up_to_the_tombstone() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let plc = pds.plc_url.as_str();
    let (first, second) = (key(Curve::K256), key(Curve::P256));
    let signing = key(Curve::K256);
    let handle = atdata_testkit::unique_handle('p');

    // Genesis: the DID is its hash.
    let genesis = UnsignedOperation::regular(state(&first, &signing, &handle), None)
        .sign(&first)
        .expect("sign");
    let did = genesis_did(&genesis).expect("did").to_string();
    post(plc, &did, &genesis);
    let out = scratch.json(&["plc", "log", &did, "--plc", plc]);
    assert_eq!(out["ops"], 1);
    assert_eq!(out["matches_document"], true);
    assert_eq!(out["state"]["rotation_keys"], json!([first.did_key()]));

    // A rotation: the first key hands over to the second.
    let genesis_cid = genesis.cid().expect("cid");
    let rotated = UnsignedOperation::regular(state(&second, &signing, &handle), Some(genesis_cid))
        .sign(&first)
        .expect("sign");
    post(plc, &did, &rotated);
    let out = scratch.json(&["plc", "log", &did, "--plc", plc]);
    assert_eq!(out["ops"], 2);
    assert_eq!(out["verified"], true);
    assert_eq!(out["matches_document"], true);
    assert_eq!(out["tombstoned"], false);
    let rotated_cid = rotated.cid().expect("cid").to_string();
    assert_eq!(out["head"], rotated_cid.as_str());
    let ops = &out["operations"];
    assert_eq!(ops[0]["cid"], genesis_cid.to_string());
    assert_eq!(ops[0]["signer_key"], first.did_key());
    assert_eq!(ops[1]["prev"], genesis_cid.to_string());
    assert_eq!(ops[1]["signer_key"], first.did_key());
    assert_eq!(out["state"]["rotation_keys"], json!([second.did_key()]));
    assert_eq!(
        out["state"]["verification_methods"]["atproto"],
        signing.did_key()
    );

    // The tombstone, signed by the new key: deactivated, and the directory serves no
    // document, which is what the log says.
    let rotated_cid = rotated.cid().expect("cid");
    let tombstone = UnsignedOperation::tombstone(rotated_cid)
        .sign(&second)
        .expect("sign");
    post(plc, &did, &tombstone);
    let out = scratch.json(&["plc", "log", &did, "--plc", plc]);
    assert_eq!(out["ops"], 3);
    assert_eq!(out["tombstoned"], true);
    assert_eq!(out["verified"], true);
    assert_eq!(out["matches_document"], true);
    assert_eq!(out["state"], Value::Null);
    assert_eq!(out["operations"][2]["kind"], "plc_tombstone");
    assert_eq!(out["operations"][2]["signer_key"], second.did_key());
    assert_eq!(out["head"], tombstone.cid().expect("cid").to_string());
    // `resolve` finds no identity there any more.
    assert_fails(&scratch.run(&["resolve", &did, "--plc", plc]), 1, &[&did]);
}

/// An audit log entry as the directory serves it.
fn entry(did: &str, op: &Operation, created_at: &str) -> Value {
    json!({
        "did": did,
        "operation": op,
        "cid": op.cid().expect("cid").to_string(),
        "nullified": false,
        "createdAt": created_at,
    })
}

#[test]
fn a_log_that_does_not_verify_or_a_document_that_does_not_match_is_exit_1() {
    let scratch = Scratch::new();
    let directory = Routes::start();
    let plc = directory.url();
    let (rotation, signing) = (key(Curve::K256), key(Curve::K256));
    let genesis = UnsignedOperation::regular(state(&rotation, &signing, "alice.test"), None)
        .sign(&rotation)
        .expect("sign");
    let did = genesis_did(&genesis).expect("did").to_string();
    let log = json!([entry(&did, &genesis, "2026-01-01T00:00:00.000Z")]);
    let audit = format!("/{did}/log/audit");
    directory.set(&audit, 200, &log.to_string());
    let document = |state: &PlcState| {
        let did = did.parse().expect("did");
        serde_json::to_string(&state.to_document(&did)).expect("document JSON")
    };

    // The document the log implies: verified.
    let current = state(&rotation, &signing, "alice.test");
    directory.set(&format!("/{did}"), 200, &document(&current));
    let out = scratch.json(&["plc", "log", &did, "--plc", &plc]);
    assert_eq!(out["matches_document"], true);

    // Another handle in the served document: the report, and exit 1 saying what differs.
    let other = state(&rotation, &signing, "mallory.test");
    directory.set(&format!("/{did}"), 200, &document(&other));
    let mismatch = scratch.run(&["plc", "log", &did, "--plc", &plc]);
    assert_fails(
        &mismatch,
        1,
        &["does not match", "alsoKnownAs", "mallory.test"],
    );
    let report: Value = serde_json::from_slice(&mismatch.stdout).expect("the report");
    assert_eq!(report["verified"], true);
    assert_eq!(report["matches_document"], false);

    // No document for a DID whose log is live: exit 1.
    directory.set(
        &format!("/{did}"),
        410,
        r#"{"message":"DID not available"}"#,
    );
    let gone = scratch.run(&["plc", "log", &did, "--plc", &plc]);
    assert_fails(&gone, 1, &["serves no document"]);

    // The genesis operation with the signature of another operation: the chain does not
    // verify.
    let intruder = key(Curve::K256);
    let (_, sig) = UnsignedOperation::regular(state(&intruder, &signing, "alice.test"), None)
        .sign(&intruder)
        .expect("sign")
        .into_parts();
    let (content, _) = genesis.clone().into_parts();
    let forged = Operation::from_parts(content, sig);
    let forged_did = genesis_did(&forged).expect("did").to_string();
    let log = json!([entry(&forged_did, &forged, "2026-01-01T00:00:00.000Z")]);
    directory.set(&format!("/{forged_did}/log/audit"), 200, &log.to_string());
    let refused = scratch.run(&["plc", "log", &forged_did, "--plc", &plc]);
    assert_fails(&refused, 1, &["does not verify", "bad signature"]);
    assert!(refused.stdout.is_empty());

    // A log of another DID served under this one: the genesis does not hash to it.
    directory.set(&audit, 200, &log.to_string());
    let refused = scratch.run(&["plc", "log", &did, "--plc", &plc]);
    assert_fails(&refused, 1, &["does not verify"]);

    // A log that is not one: exit 1 too.
    directory.set(&audit, 200, r#"{"not": "a log"}"#);
    let refused = scratch.run(&["plc", "log", &did, "--plc", &plc]);
    assert_fails(&refused, 1, &[&did, "audit log"]);
}

#[test]
fn a_tombstoned_did_the_directory_still_serves_a_document_for_is_exit_1() {
    let scratch = Scratch::new();
    let directory = Routes::start();
    let plc = directory.url();
    let (rotation, signing) = (key(Curve::P256), key(Curve::K256));
    let live = state(&rotation, &signing, "alice.test");
    let genesis = UnsignedOperation::regular(live.clone(), None)
        .sign(&rotation)
        .expect("sign");
    let did = genesis_did(&genesis).expect("did").to_string();
    let tombstone = UnsignedOperation::tombstone(genesis.cid().expect("cid"))
        .sign(&rotation)
        .expect("sign");
    let log = json!([
        entry(&did, &genesis, "2026-01-01T00:00:00.000Z"),
        entry(&did, &tombstone, "2026-01-02T00:00:00.000Z"),
    ]);
    directory.set(&format!("/{did}/log/audit"), 200, &log.to_string());

    // 410, as plc.directory answers for a deactivated DID: tombstoned, and that matches.
    directory.set(
        &format!("/{did}"),
        410,
        r#"{"message":"DID not available"}"#,
    );
    let out = scratch.json(&["plc", "log", &did, "--plc", &plc]);
    assert_eq!(out["tombstoned"], true);
    assert_eq!(out["matches_document"], true);
    assert_eq!(out["state"], Value::Null);

    // The old document still served: exit 1.
    let doc = serde_json::to_string(&live.to_document(&did.parse().expect("did"))).expect("json");
    directory.set(&format!("/{did}"), 200, &doc);
    let refused = scratch.run(&["plc", "log", &did, "--plc", &plc]);
    assert_fails(&refused, 1, &["does not match", "deactivated"]);
    let report = json_of_failure(&refused);
    assert_eq!(report["tombstoned"], true);
    assert_eq!(report["matches_document"], false);
}

fn json_of_failure(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("the report on stdout")
}
