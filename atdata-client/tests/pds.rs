//! The client against the real reference PDS (`@atproto/pds` from npm, started by
//! `scripts/pds/pds.sh`; see `pds_harness`). Each test makes its own account, so the tests run
//! in parallel and again on a PDS that kept earlier runs' data.

#![cfg(feature = "http")]

mod pds_harness;

use std::time::Duration;

use atdata_client::com::atproto::repo::{delete_record, get_record, put_record};
use atdata_client::com::atproto::server::{create_session, GetSession};
use atdata_client::records::{Write, WriteResult};
use atdata_client::{Client, Error, SessionChange, XrpcErrorKind};
use atdata_core::car::CarReader;
use atdata_core::{Blob, Value};
use futures_util::{StreamExt as _, TryStreamExt as _};
use pds_harness::{new_account, pds, Pds, PASSWORD};
use serde::{Deserialize, Serialize};

const SAMPLE_SCHEMA: &str = "ac.foundation.dataset.sampleSchema";

/// `ac.foundation.dataset.sampleSchema` (examples/dataset/lexicons), as a plain serde type:
/// the PDS has no lexicon for it, so it is written with `validate: false`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SampleSchema {
    #[serde(rename = "$type")]
    kind: String,
    name: String,
    version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    schema: JsonSchema,
    created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct JsonSchema {
    #[serde(rename = "$type")]
    kind: String,
    document: serde_json::Value,
}

fn sample_schema(name: &str, version: &str) -> SampleSchema {
    SampleSchema {
        kind: SAMPLE_SCHEMA.into(),
        name: name.into(),
        version: version.into(),
        description: Some("an image and its caption".into()),
        schema: JsonSchema {
            kind: format!("{SAMPLE_SCHEMA}#jsonSchema"),
            document: serde_json::json!({
                "type": "object",
                "required": ["image", "caption"],
                "properties": {"image": {"type": "string"}, "caption": {"type": "string", "maxLength": 300}}
            }),
        },
        created_at: "2024-05-01T12:00:00.000Z".into(),
    }
}

/// A small record of an unknown collection, without `$type` (the client adds it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Note {
    text: String,
    n: i64,
}

#[tokio::test]
async fn create_account_login_and_me() {
    let Some(pds) = pds() else { return };
    let (created, account) = new_account(pds).await;
    assert_eq!(created.me(), Some(account.clone()));
    assert!(account.did.as_str().starts_with("did:plc:"));
    // The DID document names the PDS, and calls now go there.
    assert_eq!(created.endpoint(), pds.url.trim_end_matches('/'));

    let client = Client::new(&pds.url).expect("client");
    let me = client
        .login(account.handle.as_str(), PASSWORD)
        .await
        .expect("login");
    assert_eq!(me, account);
    let session = client.send(&GetSession::new()).await.expect("getSession");
    assert_eq!(session.did, account.did);
    assert_eq!(session.handle, account.handle);

    // Logging in by DID works too.
    Client::new(&pds.url)
        .expect("client")
        .login(account.did.as_str(), PASSWORD)
        .await
        .expect("login by DID");

    let wrong = "not-the-password-hunter2";
    let error = Client::new(&pds.url)
        .expect("client")
        .login(account.handle.as_str(), wrong)
        .await
        .expect_err("wrong password");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.error_name(), Some("AuthenticationRequired"));
    assert!(!format!("{error} {error:?}").contains(wrong));
    let _: Option<&create_session::Error> = error.known();
}

/// Without a service, login finds the PDS through the account's DID document (as goat does).
#[cfg(feature = "identity")]
#[tokio::test]
async fn login_without_a_service_finds_the_pds_through_the_did_document() {
    let Some(pds) = pds() else { return };
    let (_, account) = new_account(pds).await;
    let resolver = atdata_identity::Resolver::builder()
        .plc_url(&pds.plc_url)
        .build()
        .expect("resolver");
    let client = Client::builder()
        .resolver(resolver.clone())
        .build()
        .expect("client");
    assert_eq!(client.service(), atdata_client::DEFAULT_SERVICE);
    let me = client
        .login(account.did.as_str(), PASSWORD)
        .await
        .expect("login by DID, no service");
    assert_eq!(me, account);
    assert_eq!(client.endpoint(), pds.url.trim_end_matches('/'));
    let session = client.send(&GetSession::new()).await.expect("getSession");
    assert_eq!(session.did, account.did);

    // A handle must resolve both ways first; `.test` handles have no DNS or HTTPS record
    // here, so the login stops before any password is sent anywhere.
    let client = Client::builder()
        .resolver(resolver)
        .build()
        .expect("client");
    let error = client
        .login(account.handle.as_str(), PASSWORD)
        .await
        .expect_err("an unresolvable handle");
    assert!(matches!(error, Error::Identity { .. }), "{error}");
    assert!(!format!("{error} {error:?}").contains(PASSWORD));
    assert!(client.session().is_none());
}

/// The namespaced form reaches the same methods as `send`, also from a namespace that outlives
/// its client.
#[tokio::test]
async fn namespaced_methods_mirror_the_python_sdk() {
    use atdata_client::com::atproto::repo::{CreateRecord, DescribeRepo};
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let note = atdata_core::Value::from_json_str(
        r#"{"$type": "ac.foundation.dataset.sampleSchema", "name": "n", "version": "1",
            "schema": {"$type": "ac.foundation.dataset.sampleSchema#jsonSchema", "document": {}},
            "createdAt": "2024-05-01T12:00:00.000Z"}"#,
    )
    .expect("record");
    let created = client
        .com
        .atproto
        .repo
        .create_record(
            &CreateRecord::new(
                atdata_core::AtIdentifier::from(account.did.clone()),
                SAMPLE_SCHEMA.parse::<atdata_core::Nsid>().expect("nsid"),
                note,
            )
            .validate(false),
        )
        .await
        .expect("createRecord through client.com.atproto.repo");
    assert!(created.uri.as_str().starts_with("at://did:plc:"));
    let described = client
        .com
        .atproto
        .repo
        .describe_repo(&DescribeRepo::new(atdata_core::AtIdentifier::from(
            account.did.clone(),
        )))
        .await
        .expect("describeRepo");
    assert!(described
        .collections
        .iter()
        .any(|c| c.as_str() == SAMPLE_SCHEMA));

    // A namespace holds a strong handle on the client's state: cloned out of a client, it
    // keeps working (with the session) after the client itself is dropped.
    let repo = client.com.atproto.repo.clone();
    drop(client);
    let described = repo
        .describe_repo(&DescribeRepo::new(atdata_core::AtIdentifier::from(
            account.did.clone(),
        )))
        .await
        .expect("the namespace outlives the client");
    assert_eq!(described.did, account.did);
}

#[tokio::test]
async fn session_export_resume_refresh_and_logout() {
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let exported = client.export_session().expect("logged in");
    let session = client.session().expect("session");
    assert!(exported.contains(session.access_jwt()));
    assert!(!format!("{session:?} {client:?}").contains(session.access_jwt()));

    let resumed = Client::from_session(&pds.url, &exported).expect("from_session");
    assert_eq!(resumed.me(), Some(account.clone()));
    let session = resumed.send(&GetSession::new()).await.expect("getSession");
    assert_eq!(session.did, account.did);

    let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = std::sync::Arc::clone(&changes);
    let other = Client::new(&pds.url).expect("client");
    other.on_session_change(move |change, session| {
        recorded
            .lock()
            .expect("lock")
            .push((change, session.map(|s| s.export())));
    });
    other.resume_session(&exported).expect("resume");
    let before = other.session().expect("session").access_jwt().to_owned();
    // Tokens carry whole-second timestamps: wait so the new ones differ.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    other.refresh_session().await.expect("refreshSession");
    let after = other.session().expect("session");
    assert_ne!(after.access_jwt(), before);
    assert!(after.access_expires_at().is_some());
    other
        .send(&GetSession::new())
        .await
        .expect("new token works");
    other.logout().await.expect("deleteSession");
    assert!(other.me().is_none());
    let changes = changes.lock().expect("lock").clone();
    let kinds: Vec<SessionChange> = changes.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        kinds,
        [
            SessionChange::Resumed,
            SessionChange::Refreshed,
            SessionChange::Ended
        ]
    );
    // The callback saw the refreshed session; the logout revoked its refresh token.
    let refreshed = changes[1].1.clone().expect("session");
    let revived = Client::from_session(&pds.url, &refreshed).expect("from_session");
    let error = revived.refresh_session().await.expect_err("revoked");
    assert_eq!(error.status(), Some(400), "{error:?}");
    assert!(revived.me().is_none(), "a refused refresh ends the session");
}

/// `call_raw` reaches methods by an NSID known at run time: a procedure with a JSON input, a
/// query with parameters, binary input and output, the server's errors, anonymous calls.
#[tokio::test]
async fn call_raw_sends_queries_and_procedures_by_nsid() {
    use atdata_client::CallOptions;
    use atdata_core::xrpc::{Body, XrpcMethod};
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let did = account.did.as_str();
    let options = CallOptions::new();

    let input = Body::from_json(&serde_json::json!({
        "repo": did, "collection": SAMPLE_SCHEMA, "rkey": "raw", "validate": false,
        "record": sample_schema("raw", "1.0.0"),
    }))
    .expect("json");
    let created = client
        .call_raw(
            "com.atproto.repo.createRecord",
            XrpcMethod::Procedure,
            &[],
            Some(input),
            &options,
        )
        .await
        .expect("createRecord");
    assert_eq!(created.status(), 200);
    assert_eq!(created.content_type(), Some("application/json"));
    let created: serde_json::Value = created.json().expect("json");
    assert_eq!(
        created["uri"],
        format!("at://{did}/{SAMPLE_SCHEMA}/raw").as_str()
    );

    let params = [
        ("repo", did),
        ("collection", SAMPLE_SCHEMA),
        ("rkey", "raw"),
    ];
    let got = client
        .call_raw(
            "com.atproto.repo.getRecord",
            XrpcMethod::Query,
            &params,
            None,
            &options,
        )
        .await
        .expect("getRecord");
    let got: serde_json::Value = got.json().expect("json");
    assert_eq!(got["value"]["name"], "raw");
    assert_eq!(got["cid"], created["cid"]);

    // The session's own query carries the token; anonymously the PDS refuses it.
    let me = client
        .call_raw(
            "com.atproto.server.getSession",
            XrpcMethod::Query,
            &[],
            None,
            &options,
        )
        .await
        .expect("getSession");
    assert_eq!(me.json::<serde_json::Value>().expect("json")["did"], did);
    let anonymous = client
        .call_raw(
            "com.atproto.server.getSession",
            XrpcMethod::Query,
            &[],
            None,
            &options.clone().anonymous(),
        )
        .await
        .expect_err("no token");
    assert_eq!(anonymous.status(), Some(401), "{anonymous:?}");

    // Binary in (uploadBlob) and out (getRepo, a CAR file).
    let bytes = pseudo_random_bytes(5000);
    let blob = client
        .call_raw(
            "com.atproto.repo.uploadBlob",
            XrpcMethod::Procedure,
            &[],
            Some(Body::new("application/octet-stream", bytes)),
            &options,
        )
        .await
        .expect("uploadBlob");
    let blob: serde_json::Value = blob.json().expect("json");
    assert_eq!(blob["blob"]["size"], 5000);
    let car = client
        .call_raw(
            "com.atproto.sync.getRepo",
            XrpcMethod::Query,
            &[("did", did)],
            None,
            &options,
        )
        .await
        .expect("getRepo");
    assert_eq!(car.content_type(), Some("application/vnd.ipld.car"));
    let report = atdata_core::repo::verify_car(car.bytes()).expect("verify");
    assert_eq!(report.records, 1);

    // The server's errors, with the name as it sent it.
    let missing = [
        ("repo", did),
        ("collection", SAMPLE_SCHEMA),
        ("rkey", "nope"),
    ];
    let error = client
        .call_raw(
            "com.atproto.repo.getRecord",
            XrpcMethod::Query,
            &missing,
            None,
            &options,
        )
        .await
        .expect_err("no such record");
    assert_eq!(error.status(), Some(400));
    assert!(
        matches!(&error, Error::Xrpc { error: Some(XrpcErrorKind::Other(name)), .. } if name == "RecordNotFound"),
        "{error:?}"
    );
    assert!(error
        .to_string()
        .starts_with("com.atproto.repo.getRecord: HTTP 400 RecordNotFound"));
    let error = client
        .call_raw(
            "com.example.noSuchMethod",
            XrpcMethod::Query,
            &[],
            None,
            &options,
        )
        .await
        .expect_err("unknown method");
    assert_eq!(error.nsid(), Some("com.example.noSuchMethod"));
    assert!(error.status().is_some_and(|s| s >= 400), "{error:?}");
}

#[tokio::test]
async fn records_create_get_put_swap_delete() {
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let collection = "com.example.atdata.note";

    let first = Note {
        text: "first".into(),
        n: 1,
    };
    let created = client
        .create_record(collection, &first)
        .validate(false)
        .await
        .expect("createRecord");
    assert_eq!(created.uri.authority().as_str(), account.did.as_str());
    assert_eq!(
        created.uri.collection().map(|c| c.as_str()),
        Some(collection)
    );

    let read = client
        .get_record::<Note>(&created.uri)
        .await
        .expect("getRecord by URI");
    assert_eq!(read.value, first);
    assert_eq!(read.cid.as_ref(), Some(&created.cid));
    // As a Value, with the `$type` the client added.
    let rkey = created.uri.rkey().expect("rkey").clone();
    let as_value = client
        .get_record_at::<Value>(&account.did, collection, &rkey)
        .await
        .expect("getRecord by parts");
    assert_eq!(
        as_value.value.get("$type").and_then(Value::as_str),
        Some(collection)
    );
    // The CID the server returned is the CID of the record's DAG-CBOR.
    assert_eq!(
        atdata_core::cid_for(&as_value.value).expect("cid"),
        created.cid
    );

    let second = Note {
        text: "second".into(),
        n: 2,
    };
    let replaced = client
        .put_record(collection, &rkey, &second)
        .swap_record(Some(created.cid))
        .validate(false)
        .await
        .expect("putRecord with the right swap CID");
    assert_ne!(replaced.cid, created.cid);

    // Swapping against the old CID again is a conflict.
    let conflict = client
        .put_record(collection, &rkey, &first)
        .swap_record(Some(created.cid))
        .validate(false)
        .await
        .expect_err("stale swap CID");
    assert_eq!(conflict.known(), Some(&put_record::Error::InvalidSwap));
    assert!(matches!(
        conflict,
        Error::Xrpc {
            status: 400,
            error: Some(XrpcErrorKind::Known(put_record::Error::InvalidSwap)),
            ..
        }
    ));
    // "Create only": swap against no record fails when one exists.
    let exists = client
        .put_record(collection, &rkey, &first)
        .swap_record(None)
        .validate(false)
        .await
        .expect_err("record exists");
    assert_eq!(exists.known(), Some(&put_record::Error::InvalidSwap));
    let delete_conflict = client
        .delete_record(collection, &rkey)
        .swap_record(created.cid)
        .await
        .expect_err("stale swap CID");
    assert_eq!(
        delete_conflict.known(),
        Some(&delete_record::Error::InvalidSwap)
    );

    assert_eq!(
        client
            .get_record::<Note>(&created.uri)
            .await
            .expect("read")
            .value,
        second
    );
    client
        .delete_record(collection, &rkey)
        .swap_record(replaced.cid)
        .await
        .expect("deleteRecord");
    let missing = client
        .get_record::<Note>(&created.uri)
        .await
        .expect_err("deleted");
    assert_eq!(missing.known(), Some(&get_record::Error::RecordNotFound));
    assert!(matches!(
        missing,
        Error::Xrpc {
            status: 400,
            error: Some(XrpcErrorKind::Known(get_record::Error::RecordNotFound)),
            ..
        }
    ));

    // Bad arguments fail before the network, naming the argument.
    let bad = client
        .create_record("not a collection", &first)
        .await
        .expect_err("bad NSID");
    assert!(
        matches!(
            bad,
            Error::InvalidArgument {
                what: "collection",
                ..
            }
        ),
        "{bad:?}"
    );
}

#[tokio::test]
async fn sample_schema_record_with_validate_false() {
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let schema = sample_schema("image-caption-pair", "1.0.0");

    // The PDS has no lexicon for the collection: requiring validation fails...
    let refused = client
        .create_record(SAMPLE_SCHEMA, &schema)
        .validate(true)
        .await
        .expect_err("unknown lexicon");
    assert_eq!(refused.status(), Some(400));
    assert_eq!(refused.error_name(), Some("InvalidRequest"));
    assert!(
        refused.to_string().contains("Unknown lexicon type"),
        "{refused}"
    );

    // ...and skipping it works, per call or for the whole client.
    let written = client
        .create_record(SAMPLE_SCHEMA, &schema)
        .validate(false)
        .await
        .expect("createRecord, validate false");
    let back = client
        .get_record::<SampleSchema>(&written.uri)
        .await
        .expect("getRecord");
    assert_eq!(back.value, schema);

    let exported = client.export_session().expect("session");
    let lenient = Client::builder()
        .service(&pds.url)
        .validate(Some(false))
        .build()
        .expect("client");
    lenient.resume_session(&exported).expect("resume");
    let v2 = sample_schema("image-caption-pair", "2.0.0");
    let second = lenient
        .put_record(SAMPLE_SCHEMA, "v2", &v2)
        .await
        .expect("putRecord with the client's validate(false)");
    assert_eq!(second.uri.rkey().map(|k| k.as_str()), Some("v2"));
    let listed: Vec<_> = lenient
        .list_records::<SampleSchema>(SAMPLE_SCHEMA)
        .repo(&account.did)
        .stream()
        .try_collect()
        .await
        .expect("listRecords");
    assert_eq!(listed.len(), 2);
}

/// Records holding a blob, a link and bytes read as any serde type, `serde_json::Value`
/// included; a record that does not fit the type is named by URI, and only fails a listing in
/// strict mode.
#[tokio::test]
async fn records_with_links_blobs_and_bytes_read_as_json_and_misfits_are_named() {
    let Some(pds) = pds() else { return };
    let (client, _) = new_account(pds).await;
    let collection = "ac.foundation.dataset.record";
    let blob = client
        .upload_blob(b"shard bytes".to_vec(), "application/octet-stream")
        .await
        .expect("upload");
    let schema = client
        .create_record(SAMPLE_SCHEMA, &sample_schema("links", "1"))
        .validate(false)
        .await
        .expect("schema");
    let record = serde_json::json!({
        "name": "with links",
        "shard": serde_json::to_value(&blob).expect("blob json"),
        "schema": {"uri": schema.uri.to_string(), "cid": schema.cid.to_string()},
        "prev": {"$link": schema.cid.to_string()},
        "checksum": {"$bytes": "AAECAwQ"},
    });
    let written = client
        .create_record(collection, &record)
        .validate(false)
        .await
        .expect("create");
    let back = client
        .get_record::<serde_json::Value>(&written.uri)
        .await
        .expect("a record with a blob, a link and bytes reads as serde_json::Value");
    assert_eq!(back.value["prev"]["$link"], schema.cid.to_string());
    assert_eq!(back.value["checksum"]["$bytes"], "AAECAwQ");
    assert_eq!(back.value["shard"]["$type"], "blob");
    assert_eq!(back.value["name"], "with links");
    // Our own types read the same record.
    #[derive(Deserialize)]
    struct Typed {
        shard: Blob,
        prev: atdata_core::CidLink,
        checksum: atdata_core::Bytes,
    }
    let typed = client
        .get_record::<Typed>(&written.uri)
        .await
        .expect("typed");
    assert_eq!(typed.value.shard, blob);
    assert_eq!(typed.value.prev.0, schema.cid);
    assert_eq!(typed.value.checksum.0, vec![0, 1, 2, 3, 4]);

    // Generated record types know their collection: no NSID string at the call.
    #[cfg(feature = "app-bsky")]
    {
        let post = atdata_client::app::bsky::feed::Post::new(
            "typed collection",
            "2024-05-01T12:00:00.000Z"
                .parse::<atdata_core::Datetime>()
                .expect("datetime"),
        );
        let made = client
            .create_record_of(&post)
            .await
            .expect("create_record_of");
        assert_eq!(
            made.uri.collection().map(|c| c.as_str()),
            Some("app.bsky.feed.post")
        );
        let rkey = made.uri.rkey().cloned().expect("rkey");
        let read = client
            .get_record_of::<atdata_client::app::bsky::feed::Post>(
                made.uri.authority().clone(),
                rkey,
            )
            .await
            .expect("get_record_of");
        assert_eq!(read.value, post);
        let page = client
            .list_records_of::<atdata_client::app::bsky::feed::Post>()
            .page()
            .await
            .expect("list_records_of");
        assert_eq!(page.records.len(), 1);
    }

    // One record of the collection does not fit `Typed`.
    let misfit = client
        .create_record(collection, &serde_json::json!({"name": "no shard"}))
        .validate(false)
        .await
        .expect("misfit");
    let error = match client.get_record::<Typed>(&misfit.uri).await {
        Err(e) => e,
        Ok(_) => panic!("a record without shard must not read as Typed"),
    };
    assert!(
        matches!(&error, Error::RecordDecode { uri, .. } if **uri == misfit.uri),
        "{error}"
    );
    assert!(error.to_string().contains("shard"), "{error}");

    let listed: Vec<_> = client
        .list_records::<serde_json::Value>(collection)
        .stream()
        .try_collect()
        .await
        .expect("list as JSON");
    assert_eq!(listed.len(), 2);
    let page = client
        .list_records::<Typed>(collection)
        .page()
        .await
        .expect("lenient page");
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.skipped.len(), 1);
    assert_eq!(page.skipped[0].uri, misfit.uri);
    // A plain loop reads the stream (it is pinned inside); the misfit is left out.
    let mut stream = client.list_records::<Typed>(collection).stream();
    let mut read = 0;
    while let Some(record) = stream.try_next().await.expect("lenient stream") {
        assert_eq!(record.uri, written.uri);
        read += 1;
    }
    assert_eq!(read, 1);
    let strict: Result<Vec<_>, _> = client
        .list_records::<Typed>(collection)
        .strict(true)
        .stream()
        .try_collect()
        .await;
    match strict {
        Err(Error::RecordDecode { uri, .. }) => assert_eq!(*uri, misfit.uri),
        other => panic!(
            "strict listing must fail on the misfit: {:?}",
            other.map(|v| v.len())
        ),
    }
}

#[tokio::test]
async fn list_records_paginates_over_1000_records() {
    const RECORDS: usize = 1000;
    let Some(pds) = pds() else { return };
    let (client, _) = new_account(pds).await;
    let collection = "com.example.atdata.item";
    for batch in 0..RECORDS / 200 {
        let writes = (0..200).map(|i| {
            let n = batch * 200 + i;
            Write::create_at(
                collection,
                format!("item{n:04}"),
                &Note {
                    text: format!("item {n}"),
                    n: n as i64,
                },
            )
        });
        let results = client
            .apply_writes(writes)
            .validate(false)
            .await
            .expect("applyWrites");
        assert_eq!(results.len(), 200);
        assert!(matches!(results[0], WriteResult::Created(_)));
    }

    // The stream asks for pages of 100 and stops after the last one.
    let all: Vec<_> = client
        .list_records::<Note>(collection)
        .reverse(true)
        .stream()
        .try_collect()
        .await
        .expect("listRecords stream");
    assert_eq!(all.len(), RECORDS);
    for (i, record) in all.iter().enumerate() {
        assert_eq!(record.value.n, i as i64, "in key order");
        assert_eq!(
            record.uri.rkey().map(|k| k.as_str().to_owned()),
            Some(format!("item{i:04}"))
        );
        assert!(record.cid.is_some());
    }

    // Small pages and an explicit cursor.
    let page = client
        .list_records::<Note>(collection)
        .limit(7)
        .page()
        .await
        .expect("one page");
    assert_eq!(page.records.len(), 7);
    assert_eq!(page.records[0].value.n, 999, "newest key first");
    let cursor = page.cursor.expect("more pages");
    let next = client
        .list_records::<Note>(collection)
        .limit(7)
        .cursor(cursor)
        .page()
        .await
        .expect("next page");
    assert_eq!(next.records[0].value.n, 992);
    let first_three: Vec<_> = client
        .list_records::<Value>(collection)
        .limit(3)
        .stream()
        .take(5)
        .collect()
        .await;
    assert_eq!(first_three.len(), 5, "the stream crosses pages of 3");

    // Mixed writes in one commit.
    let results = client
        .apply_writes([
            Write::update(
                collection,
                "item0000",
                &Note {
                    text: "changed".into(),
                    n: -1,
                },
            ),
            Write::delete(collection, "item0001"),
            Write::create(
                collection,
                &Note {
                    text: "new".into(),
                    n: 1000,
                },
            ),
        ])
        .validate(false)
        .await
        .expect("mixed applyWrites");
    assert!(matches!(results[0], WriteResult::Updated(_)));
    assert_eq!(results[1], WriteResult::Deleted);
    assert!(matches!(results[2], WriteResult::Created(_)));
}

/// Deterministic bytes that do not compress to nothing.
fn pseudo_random_bytes(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test]
async fn blob_round_trip_of_1_mb_from_bytes_and_from_a_file() {
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let data = pseudo_random_bytes(1 << 20);

    let blob = client
        .upload_blob(data.clone(), "application/octet-stream")
        .await
        .expect("uploadBlob");
    assert_eq!(blob.size(), Some(1 << 20));
    assert_eq!(blob.mime_type(), "application/octet-stream");
    assert_eq!(*blob.cid(), atdata_core::Cid::for_raw(&data));

    let dir = std::env::temp_dir().join(format!("atdata-blob-{}", account.handle));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("upload.bin");
    std::fs::write(&path, &data).expect("write");
    let from_file = client
        .upload_blob_file(&path, "application/octet-stream")
        .await
        .expect("uploadBlob from a file");
    assert_eq!(from_file, blob);

    // The blob ref drops into a record, which keeps the blob.
    #[derive(Serialize, Deserialize)]
    struct Shard {
        name: String,
        data: Blob,
    }
    let written = client
        .create_record(
            "com.example.atdata.shard",
            &Shard {
                name: "shard 0".into(),
                data: blob.clone(),
            },
        )
        .validate(false)
        .await
        .expect("record with a blob");
    let shard = client
        .get_record::<Shard>(&written.uri)
        .await
        .expect("read back");
    assert_eq!(shard.value.data, blob);

    let downloaded = client
        .get_blob(&account.did, *blob.cid())
        .await
        .expect("getBlob");
    assert!(downloaded == data, "byte-identical");
    let out = dir.join("download.bin");
    let written = client
        .get_blob_to_file(&account.did, *blob.cid(), &out)
        .await
        .expect("getBlob to a file");
    assert_eq!(written, 1 << 20);
    assert!(std::fs::read(&out).expect("read") == data, "byte-identical");

    let missing = client
        .get_blob(&account.did, atdata_core::Cid::for_raw(b"never uploaded"))
        .await
        .expect_err("no such blob");
    assert_eq!(missing.status(), Some(400));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn get_repo_parses_and_verifies_with_the_plc_signing_key() {
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let writes = (0..25).map(|n| {
        Write::create(
            "com.example.atdata.item",
            &Note {
                text: format!("{n}"),
                n,
            },
        )
    });
    client
        .apply_writes(writes)
        .validate(false)
        .await
        .expect("applyWrites");

    let car = client.get_repo(&account.did).await.expect("getRepo");
    let blocks = CarReader::new(&car)
        .expect("CAR header")
        .blocks()
        .collect::<Result<Vec<_>, _>>()
        .expect("every block's hash checks");
    assert!(blocks.len() > 25);

    let key = signing_key(pds, &account.did).await;
    let report = atdata_core::repo::verify_car_with_key(&car, &key).expect("verify");
    assert!(report.is_valid(), "{:?}", report.problems);
    assert!(report.signature_checked);
    assert_eq!(
        report.did.as_ref().map(|did| did.as_str()),
        Some(account.did.as_str())
    );
    assert_eq!(report.records, 25);

    let path = std::env::temp_dir().join(format!("atdata-repo-{}.car", account.handle));
    let written = client
        .get_repo_to_file(&account.did, &path)
        .await
        .expect("getRepo to a file");
    let from_file = std::fs::read(&path).expect("read");
    assert_eq!(written, from_file.len() as u64);
    let report = atdata_core::repo::verify_car_with_key(&from_file, &key).expect("verify");
    assert!(report.is_valid(), "{:?}", report.problems);
    std::fs::remove_file(&path).ok();
}

/// The account's `#atproto` key, through the identity resolver and the PLC directory.
async fn signing_key(pds: &Pds, did: &atdata_core::Did) -> atdata_crypto::PublicKey {
    let resolver = atdata_identity::Resolver::builder()
        .plc_url(&pds.plc_url)
        .build()
        .expect("resolver");
    let identity = resolver.lookup_document(did).await.expect("DID document");
    assert_eq!(identity.pds(), Some(pds.url.trim_end_matches('/')));
    identity.signing_key().expect("#atproto key")
}

#[test]
fn blocking_client_does_the_same_without_a_runtime() {
    let Some(pds) = pds() else { return };
    let client = atdata_client::blocking::Client::new(&pds.url).expect("client");
    let handle = pds_harness::unique_handle();
    let email = format!("{}@example.com", handle.trim_end_matches(".test"));
    let account = client
        .create_account(&handle, &email, PASSWORD, None)
        .expect("createAccount");
    let login = atdata_client::blocking::Client::new(&pds.url).expect("client");
    assert_eq!(login.login(&handle, PASSWORD).expect("login"), account);

    let collection = "com.example.atdata.note";
    let writes = (0..120).map(|n| {
        Write::create(
            collection,
            &Note {
                text: format!("{n}"),
                n,
            },
        )
    });
    login
        .apply_writes(writes)
        .validate(false)
        .send()
        .expect("applyWrites");
    let written = login
        .create_record(
            collection,
            &Note {
                text: "one more".into(),
                n: 120,
            },
        )
        .validate(false)
        .send()
        .expect("createRecord");
    let read = login
        .get_record::<Note>(&written.uri)
        .send()
        .expect("getRecord");
    assert_eq!(read.value.n, 120);
    let count = login
        .list_records::<Note>(collection)
        .iter()
        .collect::<Result<Vec<_>, _>>()
        .expect("records")
        .len();
    assert_eq!(count, 121, "two pages of 100");
    let blob = login
        .upload_blob(pseudo_random_bytes(1000), "application/octet-stream")
        .expect("uploadBlob");
    // The PDS serves a blob once a record refers to it.
    login
        .create_record(
            collection,
            &serde_json::json!({"text": "blob", "n": 121, "data": blob}),
        )
        .validate(false)
        .send()
        .expect("record with the blob");
    assert_eq!(
        login.get_blob(&account.did, *blob.cid()).expect("getBlob"),
        pseudo_random_bytes(1000)
    );
    let car = login.get_repo(&account.did).expect("getRepo");
    let report = atdata_core::repo::verify_car(&car).expect("verify");
    assert!(report.is_valid(), "{:?}", report.problems);
    assert_eq!(report.records, 122);
    let described = login
        .call_raw(
            "com.atproto.repo.describeRepo",
            atdata_core::xrpc::XrpcMethod::Query,
            &[("repo", account.did.as_str())],
            None,
            &atdata_client::CallOptions::new(),
        )
        .expect("describeRepo by NSID");
    let described: serde_json::Value = described.json().expect("json");
    assert_eq!(described["handle"], account.handle.as_str());

    // The namespaced form, as on the async client.
    let repo = login
        .com
        .atproto
        .repo
        .describe_repo(&atdata_client::com::atproto::repo::DescribeRepo::new(
            account.did.clone(),
        ))
        .expect("namespaced describeRepo");
    assert_eq!(repo.handle, account.handle);
    assert!(repo.collections.iter().any(|c| c.as_str() == collection));
    let missing = login
        .com
        .atproto
        .repo
        .get_record(&atdata_client::com::atproto::repo::GetRecord::new(
            account.did.clone(),
            collection.parse::<atdata_core::Nsid>().expect("nsid"),
            "3zzzzzzzzzzzz"
                .parse::<atdata_core::RecordKey>()
                .expect("rkey"),
        ))
        .expect_err("no such record");
    assert!(
        matches!(
            &missing,
            atdata_client::Error::Xrpc {
                error: Some(atdata_client::XrpcErrorKind::Known(
                    atdata_client::com::atproto::repo::get_record::Error::RecordNotFound
                )),
                ..
            }
        ),
        "{missing:?}"
    );
    login.logout().expect("logout");
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_before_the_call() {
    let Some(pds) = pds() else { return };
    let (client, account) = new_account(pds).await;
    let mut exported: serde_json::Value =
        serde_json::from_str(&client.export_session().expect("session")).expect("json");
    let stale =
        atdata_testkit::expired_access_token(exported["accessJwt"].as_str().expect("accessJwt"))
            .expect("the PDS's access tokens are JWTs");
    exported["accessJwt"] = stale.clone().into();

    // The PDS itself refuses the doctored token: it really is expired.
    let refused = reqwest::Client::new()
        .get(format!("{}/xrpc/com.atproto.server.getSession", pds.url))
        .bearer_auth(&stale)
        .send()
        .await
        .expect("getSession");
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value =
        serde_json::from_slice(&refused.bytes().await.expect("error body")).expect("json");
    assert_eq!(body["error"], "ExpiredToken");

    // A client resumed with it refreshes first, then calls with the new token.
    let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = changes.clone();
    let resumed = Client::builder()
        .service(&pds.url)
        .session(atdata_client::Session::import(&exported.to_string()).expect("import"))
        .on_session_change(move |change, _| recorded.lock().expect("lock").push(change))
        .build()
        .expect("client");
    let me = resumed.send(&GetSession::new()).await.expect("getSession");
    assert_eq!(me.did, account.did);
    assert_eq!(*changes.lock().expect("lock"), [SessionChange::Refreshed]);
    let fresh = resumed.session().expect("session");
    assert_ne!(fresh.access_jwt(), stale);
    // The refresh token was rotated and the old one spent.
    assert_ne!(
        fresh.refresh_jwt(),
        exported["refreshJwt"].as_str().unwrap_or("")
    );
}

/// The async client under a blocking one, awaited on a runtime of the caller's: connections the
/// blocking client pooled must not be tied to its own (idle) runtime, or reusing one would hang.
#[test]
fn as_async_of_a_blocking_client_works_on_another_runtime() {
    let Some(pds) = pds() else { return };
    let blocking = atdata_client::blocking::Client::new(&pds.url).expect("client");
    // A call through the blocking client leaves a pooled keep-alive connection behind.
    blocking
        .send(&atdata_client::com::atproto::server::DescribeServer::new())
        .expect("blocking call");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let async_client = blocking.as_async().clone();
    let outcome = runtime.block_on(async move {
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(
                tokio::time::timeout(
                    Duration::from_secs(10),
                    async_client.send(&atdata_client::com::atproto::server::DescribeServer::new()),
                )
                .await,
            );
        }
        answers
    });
    for answer in outcome {
        answer
            .expect("answered in time on the caller's runtime")
            .expect("describeServer");
    }
    // And the blocking client still works afterwards.
    blocking
        .send(&atdata_client::com::atproto::server::DescribeServer::new())
        .expect("blocking call after");
}
