//! The resolver against the local reference PDS and its PLC directory (`scripts/pds/pds.sh`):
//! accounts the PDS creates resolve, their keys and PDS match what the PDS reports, lookups
//! are cached and merged, and missing DIDs are told apart from unreachable directories.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use atdata_core::syntax::{AtIdentifier, Did};
use atdata_identity::{CacheConfig, Error, Resolver};
use serde_json::{json, Value};

struct Account {
    did: Did,
    handle: String,
    access_jwt: String,
}

async fn create_account(pds: &atdata_testkit::Pds) -> Account {
    let handle = atdata_testkit::unique_handle('i');
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/xrpc/com.atproto.server.createAccount", pds.url))
        .header("content-type", "application/json")
        .body(json!({"handle": handle, "email": format!("{handle}@example.com"), "password": "identity-test-pw"}).to_string())
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    Account {
        did: Did::new(created["did"].as_str().unwrap()).unwrap(),
        handle,
        access_jwt: created["accessJwt"].as_str().unwrap().to_owned(),
    }
}

async fn recommended_key(pds: &atdata_testkit::Pds, account: &Account) -> String {
    let creds: Value = reqwest::Client::new()
        .get(format!(
            "{}/xrpc/com.atproto.identity.getRecommendedDidCredentials",
            pds.url
        ))
        .bearer_auth(&account.access_jwt)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    creds["verificationMethods"]["atproto"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn resolver(pds: &atdata_testkit::Pds) -> Resolver {
    Resolver::builder().plc_url(&pds.plc_url).build().unwrap()
}

#[tokio::test]
async fn accounts_the_pds_creates_resolve_with_its_key_and_endpoint() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let account = create_account(pds).await;
    let resolver = resolver(pds);

    let identity = resolver.lookup_did(&account.did).await.unwrap();
    assert_eq!(identity.did(), &account.did);
    assert_eq!(identity.pds(), Some(pds.url.trim_end_matches('/')));
    assert_eq!(
        identity.claimed_handle().map(|h| h.as_str()),
        Some(account.handle.as_str())
    );
    // `.test` handles have no DNS record and no HTTPS server on 443 here, so the claim
    // cannot be checked: the identity carries the marker, not the claimed handle.
    assert!(identity.handle().is_invalid_marker());
    assert!(!identity.handle_verified());
    let key = identity.signing_key().unwrap();
    assert_eq!(key.to_did_key(), recommended_key(pds, &account).await);
    assert!(identity.labeler_key().is_err());

    // The verbatim document is what the directory serves.
    let served: Value = reqwest::get(format!("{}/{}", pds.plc_url, account.did))
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let ours: Value = serde_json::from_str(identity.document_json()).unwrap();
    assert_eq!(ours, served);
    let document = resolver.resolve_did(&account.did).await.unwrap();
    assert_eq!(serde_json::to_value(&document).unwrap(), served);
    assert_eq!(resolver.signing_key(&account.did).await.unwrap(), key);
}

#[tokio::test]
async fn the_repository_verifies_with_the_resolved_key() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let account = create_account(pds).await;
    let car = reqwest::get(format!(
        "{}/xrpc/com.atproto.sync.getRepo?did={}",
        pds.url, account.did
    ))
    .await
    .unwrap()
    .error_for_status()
    .unwrap()
    .bytes()
    .await
    .unwrap();
    let resolver = resolver(pds);
    let report = resolver
        .verify_with(&account.did, |key| {
            let report = atdata_core::repo::verify_car_with_key(&car, key).unwrap();
            if report.problems.is_empty() {
                Ok(report)
            } else {
                Err(report.problems)
            }
        })
        .await
        .unwrap();
    assert!(report.signature_checked);
    assert_eq!(report.did.as_ref(), Some(&account.did));

    // Another key fails, after one refresh of the document (the key did not change).
    let other = atdata_crypto::Keypair::generate(atdata_crypto::Curve::K256).unwrap();
    let requests = resolver.stats().http_requests;
    let e = resolver
        .verify_with(&account.did, |_| {
            let report = atdata_core::repo::verify_car_with_key(&car, &other.public_key()).unwrap();
            if report.problems.is_empty() {
                Ok(())
            } else {
                Err(report.problems)
            }
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, atdata_identity::KeyCheckError::Check(_)),
        "{e:?}"
    );
    assert_eq!(resolver.stats().http_requests, requests + 1);
}

#[tokio::test]
async fn a_hundred_concurrent_lookups_send_one_request() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let account = create_account(pds).await;
    let resolver = resolver(pds);
    let before = resolver.stats();
    let lookups = (0..100).map(|_| {
        let resolver = resolver.clone();
        let did = account.did.clone();
        tokio::spawn(async move { resolver.signing_key(&did).await })
    });
    let keys = futures_util::future::join_all(lookups).await;
    let first = keys[0].as_ref().unwrap().as_ref().unwrap();
    assert!(keys
        .iter()
        .all(|k| k.as_ref().unwrap().as_ref().unwrap() == first));
    let after = resolver.stats();
    assert_eq!(after.http_requests - before.http_requests, 1, "{after:?}");
    assert_eq!(after.cache_hits + after.cache_misses, 100, "{after:?}");

    // Cached: no further request; purged: one more.
    resolver.signing_key(&account.did).await.unwrap();
    assert_eq!(resolver.stats().http_requests, after.http_requests);
    resolver.purge(&AtIdentifier::Did(account.did.clone()));
    resolver.signing_key(&account.did).await.unwrap();
    assert_eq!(resolver.stats().http_requests, after.http_requests + 1);
}

#[tokio::test]
async fn missing_dids_are_not_found_and_failures_are_cached_briefly() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let resolver = resolver(pds);
    let did = Did::new("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
    let e = resolver.lookup_did(&did).await.unwrap_err();
    assert!(matches!(e, Error::DidNotFound { .. }), "{e}");
    assert!(e.is_not_found());
    let requests = resolver.stats().http_requests;
    let again = resolver.lookup_did(&did).await.unwrap_err();
    assert_eq!(again, e);
    assert_eq!(
        resolver.stats().http_requests,
        requests,
        "the failure is cached"
    );

    let e = resolver
        .lookup_did(&Did::new("did:key:zQ3shunBKsXixLxKtC5qeSG9E4J5RkGN57im31pcTzbNQnm5w").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UnsupportedDidMethod { .. }), "{e}");
}

#[tokio::test]
async fn an_unreachable_directory_is_not_a_missing_did() {
    // Nothing listens on port 9 of loopback: the connection is refused at once.
    let resolver = Resolver::builder()
        .plc_url("http://127.0.0.1:9")
        .cache_config(CacheConfig::disabled())
        .build()
        .unwrap();
    let did = Did::new("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
    let e = resolver.lookup_did(&did).await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
    assert!(e.is_unreachable());
}

#[test]
fn the_blocking_resolver_resolves_too() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let account = runtime.block_on(create_account(pds));
    drop(runtime);
    let resolver = atdata_identity::blocking::Resolver::builder()
        .plc_url(&pds.plc_url)
        .build_blocking()
        .unwrap();
    let identity: Arc<_> = resolver
        .lookup(&AtIdentifier::Did(account.did.clone()))
        .unwrap();
    assert_eq!(identity.did(), &account.did);
    assert!(resolver.signing_key(&account.did).is_ok());
}

/// Posts a signed operation to the PLC directory.
async fn post_op(plc_url: &str, did: &Did, op: &atdata_identity::plc::Operation) {
    let response = reqwest::Client::new()
        .post(format!("{plc_url}/{did}"))
        .header("content-type", "application/json")
        .body(serde_json::to_string(op).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        response.text().await.unwrap()
    );
}

/// A DID of our own on the local PLC directory: a genesis operation we sign, then a key
/// rotation and a tombstone, each picked up after a purge (and not before).
#[tokio::test]
async fn plc_operations_rotate_keys_and_tombstone_dids() {
    use atdata_crypto::{Curve, Keypair};
    use atdata_identity::plc::{genesis_did, PlcState, UnsignedOperation};

    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    let rotation = Keypair::generate(Curve::K256).unwrap();
    let key1 = Keypair::generate(Curve::K256).unwrap();
    let key2 = Keypair::generate(Curve::P256).unwrap();
    let handle = atdata_core::syntax::Handle::new(&atdata_testkit::unique_handle('p')).unwrap();
    let state = |key: &Keypair| {
        PlcState::atproto(
            vec![rotation.did_key()],
            key.did_key(),
            &handle,
            "https://pds.example.com".into(),
        )
    };
    let genesis = UnsignedOperation::regular(state(&key1), None)
        .sign(&rotation)
        .unwrap();
    let did = genesis_did(&genesis).unwrap();
    post_op(&pds.plc_url, &did, &genesis).await;

    let resolver = resolver(pds);
    assert_eq!(resolver.signing_key(&did).await.unwrap(), key1.public_key());
    let identity = resolver.lookup_document(&did).await.unwrap();
    assert_eq!(identity.pds(), Some("https://pds.example.com"));
    assert_eq!(identity.claimed_handle(), Some(&handle));

    // Rotate the signing key.
    let rotate = UnsignedOperation::regular(state(&key2), Some(genesis.cid().unwrap()))
        .sign(&rotation)
        .unwrap();
    post_op(&pds.plc_url, &did, &rotate).await;
    assert_eq!(
        resolver.signing_key(&did).await.unwrap(),
        key1.public_key(),
        "cached until purged"
    );
    // A signature by the new key verifies after one forced refresh.
    let signature = key2.sign(b"rotated");
    resolver
        .verify_with(&did, |key| key.verify(b"rotated", &signature))
        .await
        .unwrap();
    assert_eq!(resolver.signing_key(&did).await.unwrap(), key2.public_key());

    // The audit log verifies and matches the document served.
    let log = resolver.plc_audit_log(&did).await.unwrap();
    let report = log.verify(&did).unwrap();
    assert_eq!(report.op_count(), 2);
    let served = resolver.resolve_did(&did).await.unwrap();
    report.matches_document(&served).unwrap();

    // Tombstone: the DID is gone once the cache is purged. plc.directory answers 410
    // (DidDeactivated); the @did-plc/server version of the local set-up answers 404.
    let tombstone = UnsignedOperation::tombstone(rotate.cid().unwrap())
        .sign(&rotation)
        .unwrap();
    post_op(&pds.plc_url, &did, &tombstone).await;
    assert!(resolver.signing_key(&did).await.is_ok(), "cached");
    resolver.purge(&AtIdentifier::Did(did.clone()));
    let e = resolver.signing_key(&did).await.unwrap_err();
    assert!(
        matches!(e, Error::DidDeactivated { .. } | Error::DidNotFound { .. }),
        "{e}"
    );
    assert!(e.is_not_found());
    let report = resolver
        .plc_audit_log(&did)
        .await
        .unwrap()
        .verify(&did)
        .unwrap();
    assert!(report.is_tombstoned());
}
