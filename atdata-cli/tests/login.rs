//! `atdata login` without `--pds`: the account's PDS found through its DID document (a handle
//! through the test's own DNS server first), against the local reference PDS and its PLC
//! directory; the session it stores serves the commands that follow.

mod support;

use support::dns::DnsServer;
use support::{assert_fails, create_account, json_of, Scratch, NOWHERE, PASSWORD};

const WITH_PASSWORD: [(&str, &str); 1] = [("ATDATA_PASSWORD", PASSWORD)];

#[test]
fn login_by_did_finds_the_pds_and_later_commands_use_it() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = create_account(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();
    let endpoint = pds.url.trim_end_matches('/');

    let login = ["login", &account.did, "--plc", plc];
    let out = json_of(&scratch.run_env(&login, &WITH_PASSWORD), &login);
    assert_eq!(out["did"], account.did.as_str());
    assert_eq!(out["handle"], account.handle.as_str());
    assert_eq!(out["pds"], endpoint);
    assert_eq!(out["pds_source"], "resolved");
    // The session remembers the PDS it found (not the client's default service), and no
    // password.
    let session = scratch.session().expect("a stored session");
    assert_eq!(session["service"], endpoint);
    assert_eq!(session["pds"], endpoint);
    assert!(!session.to_string().contains(PASSWORD));

    // No --pds anywhere from here on: the stored session says where to go.
    let me = scratch.json(&["xrpc", "com.atproto.server.getSession"]);
    assert_eq!(me["did"], account.did.as_str());
    let record = scratch.file(
        "schema.json",
        br#"{"name": "resolved-login", "version": "1.0.0", "createdAt": "2026-01-01T00:00:00.000Z"}"#,
    );
    let collection = "ac.foundation.dataset.sampleSchema";
    let created = scratch.json(&["record", "create", collection, &record, "--no-validate"]);
    let uri = created["uri"].as_str().expect("uri");
    assert!(uri.starts_with(&format!("at://{}/", account.did)), "{uri}");
    let listed = scratch.run(&["record", "list", &account.did, collection]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains(uri), "{uri} not listed: {listed}");
    let logged_out = scratch.json(&["logout"]);
    assert_eq!(logged_out["logged_out"], account.handle.as_str());
    assert!(scratch.session().is_none());

    // The directory from the environment works the same.
    let by_env = scratch.run_env(
        &["login", &account.did],
        &[("ATDATA_PASSWORD", PASSWORD), ("ATDATA_PLC_URL", plc)],
    );
    assert_eq!(
        json_of(&by_env, &["login", "(ATDATA_PLC_URL)"])["pds_source"],
        "resolved"
    );

    // --pds still logs in where it says, with an email address too.
    let email = format!("{}@example.com", account.handle.trim_end_matches(".test"));
    let by_email = ["login", "--pds", &pds.url, &email];
    let out = json_of(&scratch.run_env(&by_email, &WITH_PASSWORD), &by_email);
    assert_eq!(out["did"], account.did.as_str());
    assert_eq!(out["pds_source"], "flag");
    assert_eq!(
        scratch.session().expect("a stored session")["service"],
        endpoint
    );
}

#[test]
fn login_by_handle_resolves_it_through_the_nameserver() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = create_account(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();
    let dns = DnsServer::start();
    dns.set_txt(
        &format!("_atproto.{}", account.handle),
        &format!("did={}", account.did),
    );
    let nameserver = dns.addr.to_string();

    let login = ["login", &account.handle, "--plc", plc, "--dns", &nameserver];
    let out = json_of(&scratch.run_env(&login, &WITH_PASSWORD), &login);
    assert_eq!(out["did"], account.did.as_str());
    assert_eq!(out["handle"], account.handle.as_str());
    assert_eq!(out["pds"], pds.url.trim_end_matches('/'));
    assert_eq!(out["pds_source"], "resolved");
    assert!(dns.queries() > 0);
    let me = scratch.json(&["xrpc", "com.atproto.server.getSession"]);
    assert_eq!(me["handle"], account.handle.as_str());
}

#[test]
fn identities_that_do_not_resolve_are_refused_before_the_password() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let scratch = Scratch::new();
    let account = create_account(&scratch, &pds.url);
    let plc = pds.plc_url.as_str();
    let dns = DnsServer::start();
    let nameserver = dns.addr.to_string();

    // A handle with no record: exit 1, no session. Without a password at hand it is the same
    // answer (not "no password", exit 2): the password is never asked for.
    let unknown = atdata_testkit::unique_handle('n');
    let args = ["login", &unknown, "--plc", plc, "--dns", &nameserver];
    let refused = scratch.run_env(&args, &WITH_PASSWORD);
    assert_fails(&refused, 1, &["finding the PDS of", &unknown, "not found"]);
    assert!(refused.stdout.is_empty());
    assert!(scratch.session().is_none());
    assert_fails(&scratch.run(&args), 1, &[&unknown, "not found"]);
    assert!(scratch.session().is_none());

    // A handle that points at the account, which does not claim it: exit 1.
    let impostor = atdata_testkit::unique_handle('x');
    dns.set_txt(
        &format!("_atproto.{impostor}"),
        &format!("did={}", account.did),
    );
    let args = ["login", &impostor, "--plc", plc, "--dns", &nameserver];
    let refused = scratch.run_env(&args, &WITH_PASSWORD);
    assert_fails(
        &refused,
        1,
        &[&impostor, "does not belong to", &account.did],
    );
    assert!(scratch.session().is_none());

    // A DID the directory does not know: exit 1; no directory: exit 3.
    let missing = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa";
    let refused = scratch.run_env(&["login", missing, "--plc", plc], &WITH_PASSWORD);
    assert_fails(&refused, 1, &[missing, "not found"]);
    let unreachable = scratch.run_env(&["login", &account.did, "--plc", NOWHERE], &WITH_PASSWORD);
    assert_fails(&unreachable, 3, &["unreachable", "127.0.0.1:9"]);
    assert!(scratch.session().is_none());

    // An email address needs a server to look it up: a usage error, before any password.
    let email = format!("{}@example.com", account.handle.trim_end_matches(".test"));
    let refused = scratch.run(&["login", &email, "--plc", plc]);
    assert_fails(&refused, 2, &[&email, "email", "--pds"]);
    let refused = scratch.run(&["login", "not a handle"]);
    assert_fails(&refused, 2, &["not a handle or a DID"]);
    assert!(scratch.session().is_none());
}
