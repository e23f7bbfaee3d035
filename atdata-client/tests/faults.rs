//! How the client behaves when things go wrong: rate limits, 5xx, connection resets, broken
//! or oversize bodies, expired tokens under concurrency. These run against a FAKE server
//! (`fake_server`), because the real PDS cannot be made to fail on demand; `tests/pds.rs`
//! covers the same client against the real one.

#![cfg(feature = "http")]

mod fake_server;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atdata_client::com::atproto::repo::get_record;
use atdata_client::com::atproto::server::{DescribeServer, GetSession};
use atdata_client::{
    CallOptions, Client, Error, RetryPolicy, Session, SessionChange, XrpcErrorKind,
};
use fake_server::{FakeServer, Reply, Request};
use serde_json::json;

const DESCRIBE: &str = "com.atproto.server.describeServer";

fn describe_body() -> serde_json::Value {
    json!({"did": "did:web:fake.test", "availableUserDomains": [".test"]})
}

/// A client for `server` whose retries wait milliseconds, not seconds.
fn client(server: &FakeServer) -> Client {
    Client::builder()
        .service(&server.url)
        .retry(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client")
}

/// A handler that answers the `n`th request (from 0) with `replies(n, request)`, counting.
fn counting(
    replies: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
) -> (
    Arc<AtomicUsize>,
    impl Fn(Request) -> Reply + Send + Sync + 'static,
) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    (count, move |request: Request| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        replies(n, &request)
    })
}

#[tokio::test]
async fn rate_limited_query_waits_for_retry_after_then_succeeds() {
    let (count, handler) = counting(|n, _| match n {
        0 => Reply::error(429, "RateLimitExceeded", "Rate Limit Exceeded")
            .header("retry-after", "1")
            .header("ratelimit-limit", "3000")
            .header("ratelimit-remaining", "0")
            .header("ratelimit-reset", "4000000000")
            .header("ratelimit-policy", "3000;w=300"),
        _ => Reply::json(200, describe_body())
            .header("ratelimit-limit", "3000")
            .header("ratelimit-remaining", "2999")
            .header("ratelimit-policy", "3000;w=300"),
    });
    let server = FakeServer::start(handler).await;
    let client = client(&server);
    let started = Instant::now();
    let described = client.send(&DescribeServer::new()).await.expect("succeeds");
    assert_eq!(described.did.as_str(), "did:web:fake.test");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    // retry-after (1 s) wins over the exhausted window's far-off reset.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let limit = client
        .last_rate_limit()
        .expect("rate limit of the last response");
    assert_eq!(limit.remaining, Some(2999));
    assert_eq!(limit.policy.as_deref(), Some("3000;w=300"));
}

#[tokio::test]
async fn rate_limit_asking_for_too_long_a_wait_fails_at_once_with_the_limit() {
    let (count, handler) = counting(|_, _| {
        Reply::error(429, "RateLimitExceeded", "slow down")
            .header("retry-after", "3600")
            .header("ratelimit-remaining", "0")
            .header("ratelimit-limit", "100")
    });
    let server = FakeServer::start(handler).await;
    let error = client(&server)
        .send(&DescribeServer::new())
        .await
        .expect_err("429");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.error_name(), Some("RateLimitExceeded"));
    assert_eq!(error.rate_limit().and_then(|r| r.limit), Some(100));
    match error {
        Error::Xrpc { retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(3600))),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_gateway_then_success() {
    let (count, handler) = counting(|n, _| match n {
        0 => Reply::raw(502, "text/html", "<html>Bad Gateway</html>"),
        _ => Reply::json(200, describe_body()),
    });
    let server = FakeServer::start(handler).await;
    client(&server)
        .send(&DescribeServer::new())
        .await
        .expect("second attempt succeeds");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_policy_s_retries() {
    let (count, handler) = counting(|_, _| Reply::error(503, "Unavailable", "down"));
    let server = FakeServer::start(handler).await;
    let error = client(&server)
        .send(&DescribeServer::new())
        .await
        .expect_err("always 503");
    assert_eq!(count.load(Ordering::SeqCst), 4, "1 attempt + 3 retries");
    assert_eq!(error.status(), Some(503));
}

#[tokio::test]
async fn procedures_are_retried_only_when_the_caller_opts_in() {
    let (count, handler) = counting(|n, _| match n {
        0 | 1 => Reply::raw(502, "text/plain", "bad gateway"),
        _ => Reply::json(200, json!({})),
    });
    let server = FakeServer::start(handler).await;
    let client = client(&server);
    let request = atdata_client::com::atproto::server::RequestEmailConfirmation::new();
    let error = client.send(&request).await.expect_err("502, not retried");
    assert_eq!(error.status(), Some(502));
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let options = CallOptions::new().retry(
        RetryPolicy::default()
            .initial_backoff(Duration::from_millis(5))
            .retry_procedures(true),
    );
    client
        .send_with(&request, &options)
        .await
        .expect("retried and succeeded");
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn connection_reset_is_retried_for_a_query() {
    let (count, handler) = counting(|n, _| match n {
        0 => Reply::Reset,
        _ => Reply::json(200, describe_body()),
    });
    let server = FakeServer::start(handler).await;
    client(&server)
        .send(&DescribeServer::new())
        .await
        .expect("retried after the reset");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connection_reset_fails_a_procedure_with_a_transport_error() {
    let (count, handler) = counting(|_, _| Reply::Reset);
    let server = FakeServer::start(handler).await;
    let request = atdata_client::com::atproto::server::RequestEmailConfirmation::new();
    let error = client(&server).send(&request).await.expect_err("reset");
    assert!(error.is_transport(), "{error:?}");
    assert_eq!(error.status(), None);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(error
        .to_string()
        .starts_with("com.atproto.server.requestEmailConfirmation: "));
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_naming_the_method() {
    let server =
        FakeServer::start(|_| Reply::raw(200, "application/json", r#"{"did": "did:web:x", "#))
            .await;
    let error = client(&server)
        .send(&DescribeServer::new())
        .await
        .expect_err("broken JSON");
    assert!(
        matches!(&error, Error::Decode { nsid, .. } if nsid == DESCRIBE),
        "{error:?}"
    );

    let wrong_shape =
        FakeServer::start(|_| Reply::json(200, json!({"did": 42, "availableUserDomains": []})))
            .await;
    let error = client(&wrong_shape)
        .send(&DescribeServer::new())
        .await
        .expect_err("wrong type");
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let big = vec![b' '; 300_000];
    let declared = {
        let big = big.clone();
        FakeServer::start(move |_| Reply::raw(200, "application/json", big.clone())).await
    };
    let unframed = FakeServer::start(move |_| Reply::Unframed { body: big.clone() }).await;
    for server in [&declared, &unframed] {
        let client = Client::builder()
            .service(&server.url)
            .max_response_size(100_000)
            .build()
            .expect("client");
        let error = client
            .send(&DescribeServer::new())
            .await
            .expect_err("too large");
        assert!(
            matches!(error, Error::BodyTooLarge { limit: 100_000, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("100000 bytes"), "{error}");
    }
}

#[tokio::test]
async fn declared_error_names_are_typed_and_others_kept_as_text() {
    let server = FakeServer::start(|request| match request.nsid() {
        "com.atproto.repo.getRecord" => {
            Reply::error(400, "RecordNotFound", "Could not locate record")
        }
        _ => Reply::error(400, "InvalidRequest", "nope"),
    })
    .await;
    let client = client(&server);
    let error = client
        .get_record::<atdata_core::Value>("at://did:plc:abc123/com.example.thing/self")
        .await
        .expect_err("not found");
    assert_eq!(error.known(), Some(&get_record::Error::RecordNotFound));
    assert!(matches!(
        &error,
        Error::Xrpc { status: 400, error: Some(XrpcErrorKind::Known(get_record::Error::RecordNotFound)), message: Some(m), .. }
            if m == "Could not locate record"
    ));
    let error = client.send(&DescribeServer::new()).await.expect_err("400");
    assert_eq!(error.error_name(), Some("InvalidRequest"));
}

#[tokio::test]
async fn headers_reach_the_server() {
    let seen = Arc::new(Mutex::new(Vec::<Request>::new()));
    let log = Arc::clone(&seen);
    let server = FakeServer::start(move |request| {
        log.lock().expect("lock").push(request);
        Reply::json(200, describe_body())
    })
    .await;
    let client = Client::builder()
        .service(&server.url)
        .user_agent("fault-tests/1")
        .call_options(CallOptions::new().accept_labeler("did:plc:labeler", true))
        .session(Session::new(
            "did:plc:abc123".parse().expect("did"),
            "alice.test".parse().expect("handle"),
            "ACCESS".into(),
            "REFRESH".into(),
        ))
        .build()
        .expect("client");
    let options = CallOptions::new()
        .proxy("did:web:api.bsky.chat#bsky_chat")
        .header(
            reqwest::header::HeaderName::from_static("x-extra"),
            reqwest::header::HeaderValue::from_static("1"),
        );
    client
        .send_with(&DescribeServer::new(), &options)
        .await
        .expect("ok");
    let seen = seen.lock().expect("lock");
    let request = &seen[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.target, "/xrpc/com.atproto.server.describeServer");
    assert_eq!(request.header("authorization"), Some("Bearer ACCESS"));
    assert_eq!(request.header("user-agent"), Some("fault-tests/1"));
    assert_eq!(
        request.header("atproto-proxy"),
        Some("did:web:api.bsky.chat#bsky_chat")
    );
    assert_eq!(
        request.header("atproto-accept-labelers"),
        Some("did:plc:labeler;redact")
    );
    assert_eq!(request.header("x-extra"), Some("1"));
}

/// Fake session endpoints: the `n`th session issued has tokens `access-<n>` and
/// `refresh-<n>`; only the newest pair is valid, and the test can expire the access token or
/// revoke the refresh token at will. Counts refreshes and `ExpiredToken` answers.
struct SessionFake {
    issued: AtomicUsize,
    expired_through: AtomicUsize,
    revoked: AtomicBool,
    refreshes: AtomicUsize,
    expired_answers: AtomicUsize,
}

fn session_output(generation: usize, pds: Option<&str>) -> serde_json::Value {
    let mut body = json!({
        "did": "did:plc:abc123",
        "handle": "alice.test",
        "accessJwt": format!("access-{generation}"),
        "refreshJwt": format!("refresh-{generation}"),
    });
    if let Some(pds) = pds {
        body["didDoc"] = json!({
            "id": "did:plc:abc123",
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}]
        });
    }
    body
}

impl SessionFake {
    fn new() -> Arc<SessionFake> {
        Arc::new(SessionFake {
            issued: AtomicUsize::new(0),
            expired_through: AtomicUsize::new(0),
            revoked: AtomicBool::new(false),
            refreshes: AtomicUsize::new(0),
            expired_answers: AtomicUsize::new(0),
        })
    }

    /// The access token in use now counts as expired.
    fn expire_access(&self) {
        self.expired_through
            .store(self.issued.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    /// Both tokens in use now are refused.
    fn revoke(&self) {
        self.expire_access();
        self.revoked.store(true, Ordering::SeqCst);
    }

    fn answer(&self, request: &Request, expired_wait: Option<Arc<tokio::sync::Barrier>>) -> Reply {
        let current = self.issued.load(Ordering::SeqCst);
        let bearer = request.header("authorization").unwrap_or("");
        match request.nsid() {
            "com.atproto.server.createSession" => {
                self.revoked.store(false, Ordering::SeqCst);
                let next = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                Reply::json(200, session_output(next, None))
            }
            "com.atproto.server.refreshSession" => {
                if self.revoked.load(Ordering::SeqCst)
                    || bearer != format!("Bearer refresh-{current}")
                {
                    return Reply::error(400, "ExpiredToken", "Token has been revoked");
                }
                self.refreshes.fetch_add(1, Ordering::SeqCst);
                let next = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                // Slow, so that callers pile up behind the refresh in flight.
                Reply::json(200, session_output(next, None)).delayed(Duration::from_millis(200))
            }
            _ if bearer == format!("Bearer access-{current}")
                && current > self.expired_through.load(Ordering::SeqCst) =>
            {
                Reply::json(
                    200,
                    json!({"did": "did:plc:abc123", "handle": "alice.test"}),
                )
            }
            _ => {
                self.expired_answers.fetch_add(1, Ordering::SeqCst);
                let reply = Reply::error(400, "ExpiredToken", "Token has expired");
                match expired_wait {
                    Some(barrier) => reply.after(async move {
                        barrier.wait().await;
                    }),
                    None => reply,
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_with_50_concurrent_callers_refreshes_exactly_once() {
    const CALLERS: usize = 50;
    let fake = SessionFake::new();
    // Every caller gets its ExpiredToken only once all 50 have asked: all of them really do
    // find the token expired at the same time.
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let handler_fake = Arc::clone(&fake);
    let server =
        FakeServer::start(move |request| handler_fake.answer(&request, Some(Arc::clone(&barrier))))
            .await;
    let changes = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&changes);
    let client = Client::builder()
        .service(&server.url)
        .on_session_change(move |change, _| recorded.lock().expect("lock").push(change))
        .build()
        .expect("client");
    client.login("alice.test", "password").await.expect("login");
    fake.expire_access();

    let calls: Vec<_> = (0..CALLERS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.send(&GetSession::new()).await })
        })
        .collect();
    for call in calls {
        let session = call
            .await
            .expect("task")
            .expect("call succeeds after the refresh");
        assert_eq!(session.handle.as_str(), "alice.test");
    }
    assert_eq!(fake.expired_answers.load(Ordering::SeqCst), CALLERS);
    assert_eq!(
        fake.refreshes.load(Ordering::SeqCst),
        1,
        "exactly one refresh"
    );
    assert_eq!(client.session().expect("session").access_jwt(), "access-2");
    assert_eq!(
        *changes.lock().expect("lock"),
        [SessionChange::Created, SessionChange::Refreshed]
    );
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let fake = SessionFake::new();
    let handler_fake = Arc::clone(&fake);
    let server = FakeServer::start(move |request| handler_fake.answer(&request, None)).await;
    let changes = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&changes);
    let client = client(&server);
    client.on_session_change(move |change, session| {
        recorded
            .lock()
            .expect("lock")
            .push((change, session.is_some()))
    });
    client.login("alice.test", "password").await.expect("login");
    fake.revoke();
    let error = client.send(&GetSession::new()).await.expect_err("expired");
    match &error {
        Error::Refresh { nsid, source } => {
            assert_eq!(*nsid, "com.atproto.server.getSession");
            assert_eq!(source.error_name(), Some("ExpiredToken"));
        }
        other => panic!("{other:?}"),
    }
    assert!(client.session().is_none());
    assert_eq!(
        *changes.lock().expect("lock"),
        [
            (SessionChange::Created, true),
            (SessionChange::Expired, false)
        ]
    );
    let error = client
        .create_record("com.example.thing", &json!({}))
        .await
        .expect_err("no session");
    assert!(matches!(error, Error::NotLoggedIn { .. }), "{error:?}");
}

#[tokio::test]
async fn calls_move_to_the_pds_named_by_the_session_did_document() {
    let pds_hits = Arc::new(AtomicUsize::new(0));
    let hits = Arc::clone(&pds_hits);
    let pds = FakeServer::start(move |request| {
        hits.fetch_add(1, Ordering::SeqCst);
        assert_eq!(request.header("authorization"), Some("Bearer access-1"));
        Reply::json(
            200,
            json!({"did": "did:plc:abc123", "handle": "alice.test"}),
        )
    })
    .await;
    let pds_url = pds.url.clone();
    let entryway = FakeServer::start(move |request| match request.nsid() {
        "com.atproto.server.createSession" => Reply::json(200, session_output(1, Some(&pds_url))),
        _ => Reply::error(400, "WrongServer", "calls should go to the PDS"),
    })
    .await;
    let client = client(&entryway);
    client.login("alice.test", "password").await.expect("login");
    assert_eq!(client.endpoint(), pds.url);
    assert_eq!(client.service(), entryway.url);
    client
        .send(&GetSession::new())
        .await
        .expect("sent to the PDS");
    assert_eq!(pds_hits.load(Ordering::SeqCst), 1);

    // The PDS survives export and resume.
    let exported = client.export_session().expect("logged in");
    let resumed = Client::from_session(&entryway.url, &exported).expect("resume");
    assert_eq!(resumed.endpoint(), pds.url);
    resumed
        .send(&GetSession::new())
        .await
        .expect("sent to the PDS");
    assert_eq!(pds_hits.load(Ordering::SeqCst), 2);
}

/// Collects every tracing event and span field the client emits, as text.
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&mut self.0.lock().expect("lock")));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().expect("lock")));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut log = self.0.lock().expect("lock");
        log.push_str(event.metadata().target());
        log.push(' ');
        event.record(&mut Fields(&mut log));
        log.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn passwords_and_tokens_never_reach_errors_debug_or_logs() {
    const PASSWORD: &str = "correct-horse-battery-staple";
    let log = Arc::new(Mutex::new(String::new()));
    let _guard = tracing::subscriber::set_default(Capture(Arc::clone(&log)));

    let fake = SessionFake::new();
    let handler_fake = Arc::clone(&fake);
    let server = FakeServer::start(move |request| {
        let body = String::from_utf8_lossy(&request.body);
        if request.nsid() == "com.atproto.server.createSession" && !body.contains(PASSWORD) {
            return Reply::error(
                401,
                "AuthenticationRequired",
                "Invalid identifier or password",
            );
        }
        handler_fake.answer(&request, None)
    })
    .await;
    let client = client(&server);
    let mut seen = String::new();

    let error = client
        .login("alice.test", "wrong-password-hunter2")
        .await
        .expect_err("wrong password");
    seen.push_str(&format!("{error} {error:?}\n"));
    assert_eq!(error.status(), Some(401));

    client.login("alice.test", PASSWORD).await.expect("login");
    fake.expire_access();
    client.send(&GetSession::new()).await.expect("refreshed");
    fake.revoke();
    let error = client.send(&GetSession::new()).await.expect_err("refused");
    seen.push_str(&format!("{error} {error:?}\n"));
    client
        .login("alice.test", PASSWORD)
        .await
        .expect("login again");
    seen.push_str(&format!("{client:?} {:?}\n", client.session()));

    let log = log.lock().expect("lock").clone();
    assert!(log.contains("atdata_client"), "the client logs: {log}");
    for secret in [PASSWORD, "wrong-password-hunter2", "access-", "refresh-"] {
        assert!(!seen.contains(secret), "{secret} in {seen}");
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

/// `call_raw`, the run-time-NSID call, takes the same path as `send`: retries, refresh,
/// credentials.
mod call_raw {
    use super::*;
    use atdata_core::xrpc::{Body, XrpcMethod};

    #[tokio::test]
    async fn a_query_is_retried_after_a_502_and_a_procedure_is_not() {
        let (count, handler) = counting(|n, _| match n {
            0 | 2 => Reply::raw(502, "text/html", "<html>Bad Gateway</html>"),
            _ => Reply::json(200, describe_body()),
        });
        let server = FakeServer::start(handler).await;
        let client = client(&server);
        let options = CallOptions::new();
        let described = client
            .call_raw(DESCRIBE, XrpcMethod::Query, &[], None, &options)
            .await
            .expect("second attempt succeeds");
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(described.status(), 200);
        assert_eq!(described.content_type(), Some("application/json"));
        assert_eq!(
            described.json::<serde_json::Value>().expect("json"),
            describe_body()
        );

        let nsid = "com.atproto.server.requestEmailConfirmation";
        let error = client
            .call_raw(nsid, XrpcMethod::Procedure, &[], None, &options)
            .await
            .expect_err("502, not retried");
        assert_eq!(count.load(Ordering::SeqCst), 3, "one attempt only");
        assert_eq!(error.status(), Some(502));
        assert_eq!(error.nsid(), Some(nsid));
        assert!(error.to_string().starts_with(&format!("{nsid}: HTTP 502")));
    }

    #[tokio::test]
    async fn an_expired_token_is_refreshed_once_and_the_call_repeated() {
        let fake = SessionFake::new();
        let handler_fake = Arc::clone(&fake);
        let server = FakeServer::start(move |request| handler_fake.answer(&request, None)).await;
        let changes = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&changes);
        let client = client(&server);
        client.on_session_change(move |change, _| recorded.lock().expect("lock").push(change));
        client.login("alice.test", "password").await.expect("login");
        fake.expire_access();

        let session = client
            .call_raw(
                "com.atproto.server.getSession",
                XrpcMethod::Query,
                &[],
                None,
                &CallOptions::new(),
            )
            .await
            .expect("succeeds after the refresh");
        let session: serde_json::Value = session.json().expect("json");
        assert_eq!(session["handle"], "alice.test");
        assert_eq!(fake.expired_answers.load(Ordering::SeqCst), 1);
        assert_eq!(fake.refreshes.load(Ordering::SeqCst), 1);
        assert_eq!(client.session().expect("session").access_jwt(), "access-2");
        assert_eq!(
            *changes.lock().expect("lock"),
            [SessionChange::Created, SessionChange::Refreshed]
        );

        // A refresh token the server refuses: the session ends, the error says so.
        fake.revoke();
        let error = client
            .call_raw(
                "com.atproto.server.getSession",
                XrpcMethod::Query,
                &[],
                None,
                &CallOptions::new(),
            )
            .await
            .expect_err("refused");
        assert!(matches!(error, Error::Refresh { .. }), "{error:?}");
        assert_eq!(error.nsid(), Some("com.atproto.server.getSession"));
        assert!(client.session().is_none());
    }

    #[tokio::test]
    async fn params_input_credentials_and_errors() {
        let seen = Arc::new(Mutex::new(Vec::<Request>::new()));
        let log = Arc::clone(&seen);
        let server = FakeServer::start(move |request| {
            log.lock().expect("lock").push(request.clone());
            match request.nsid() {
                "com.example.fail" => Reply::error(400, "SomethingOdd", "no such thing"),
                "com.example.bytes" => Reply::raw(200, "Application/CBOR; x=y", vec![0xa0]),
                _ => Reply::json(200, json!({})),
            }
        })
        .await;
        let client = Client::builder()
            .service(&server.url)
            .session(Session::new(
                "did:plc:abc123".parse().expect("did"),
                "alice.test".parse().expect("handle"),
                "ACCESS".into(),
                "REFRESH".into(),
            ))
            .build()
            .expect("client");
        let options = CallOptions::new();
        let nsid: atdata_core::Nsid = "com.example.get".parse().expect("nsid");
        let params = [("q", "a b/c"), ("uris", "at://x"), ("uris", "at://y")];
        client
            .call_raw(&nsid, XrpcMethod::Query, &params, None, &options)
            .await
            .expect("query");
        let input = Body::new("text/plain", b"hello".to_vec());
        client
            .call_raw(
                "com.example.put",
                XrpcMethod::Procedure,
                &[],
                Some(input),
                &options,
            )
            .await
            .expect("procedure");
        // Anonymous: by the caller's choice, and always for createAccount.
        client
            .call_raw(
                "com.example.get",
                XrpcMethod::Query,
                &[],
                None,
                &options.clone().anonymous(),
            )
            .await
            .expect("anonymous");
        let account = Body::from_json(&json!({"handle": "bob.test"})).expect("json");
        client
            .call_raw(
                "com.atproto.server.createAccount",
                XrpcMethod::Procedure,
                &[],
                Some(account),
                &options,
            )
            .await
            .expect("createAccount");
        let cbor = client
            .call_raw("com.example.bytes", XrpcMethod::Query, &[], None, &options)
            .await
            .expect("bytes");
        assert_eq!(cbor.content_type(), Some("application/cbor"));
        assert_eq!(cbor.bytes(), [0xa0]);

        let error = client
            .call_raw("com.example.fail", XrpcMethod::Query, &[], None, &options)
            .await
            .expect_err("400");
        assert!(
            matches!(&error, Error::Xrpc { status: 400, error: Some(XrpcErrorKind::Other(name)), message: Some(m), .. }
                if name == "SomethingOdd" && m == "no such thing"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "com.example.fail: HTTP 400 SomethingOdd: no such thing"
        );

        // Refused before anything is sent: a query with an input, an NSID that does not parse.
        let body = Body::new("application/json", b"{}".to_vec());
        let error = client
            .call_raw(
                "com.example.get",
                XrpcMethod::Query,
                &[],
                Some(body),
                &options,
            )
            .await
            .expect_err("a query takes no input");
        assert!(matches!(error, Error::Encode { .. }), "{error:?}");
        let error = client
            .call_raw("not an nsid", XrpcMethod::Query, &[], None, &options)
            .await
            .expect_err("bad NSID");
        assert!(
            matches!(error, Error::InvalidArgument { what: "nsid", .. }),
            "{error:?}"
        );

        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 6, "{seen:?}");
        assert_eq!(seen[0].method, "GET");
        assert_eq!(
            seen[0].target,
            "/xrpc/com.example.get?q=a%20b%2Fc&uris=at%3A%2F%2Fx&uris=at%3A%2F%2Fy"
        );
        assert_eq!(seen[0].header("authorization"), Some("Bearer ACCESS"));
        assert_eq!(seen[1].method, "POST");
        assert_eq!(seen[1].target, "/xrpc/com.example.put");
        assert_eq!(seen[1].header("content-type"), Some("text/plain"));
        assert_eq!(seen[1].body, b"hello");
        assert_eq!(seen[1].header("authorization"), Some("Bearer ACCESS"));
        assert_eq!(seen[2].header("authorization"), None, "anonymous");
        assert_eq!(seen[3].nsid(), "com.atproto.server.createAccount");
        assert_eq!(seen[3].header("authorization"), None, "createAccount");
        assert_eq!(seen[5].header("authorization"), Some("Bearer ACCESS"));
    }

    #[tokio::test]
    async fn an_anonymous_call_goes_to_the_service_not_the_session_s_pds() {
        let pds = FakeServer::start(|request| {
            Reply::json(
                200,
                json!({"at": "pds", "auth": request.header("authorization")}),
            )
        })
        .await;
        let pds_url = pds.url.clone();
        let entryway = FakeServer::start(move |request| match request.nsid() {
            "com.atproto.server.createSession" => {
                Reply::json(200, session_output(1, Some(&pds_url)))
            }
            _ => Reply::json(
                200,
                json!({"at": "entryway", "auth": request.header("authorization")}),
            ),
        })
        .await;
        let client = client(&entryway);
        client.login("alice.test", "password").await.expect("login");
        let whereto = |options: CallOptions| {
            let client = client.clone();
            async move {
                let answer = client
                    .call_raw("com.example.where", XrpcMethod::Query, &[], None, &options)
                    .await
                    .expect("answer");
                answer.json::<serde_json::Value>().expect("json")
            }
        };
        assert_eq!(
            whereto(CallOptions::new()).await,
            json!({"at": "pds", "auth": "Bearer access-1"})
        );
        assert_eq!(
            whereto(CallOptions::new().anonymous()).await,
            json!({"at": "entryway", "auth": null})
        );
        // A default cannot make every call anonymous.
        let defaulted = Client::builder()
            .service(&entryway.url)
            .call_options(CallOptions::new().anonymous())
            .build()
            .expect("client");
        defaulted
            .login("alice.test", "password")
            .await
            .expect("login");
        let answer = defaulted
            .call_raw(
                "com.example.where",
                XrpcMethod::Query,
                &[],
                None,
                &CallOptions::new(),
            )
            .await
            .expect("answer");
        assert_eq!(
            answer.json::<serde_json::Value>().expect("json")["at"],
            "pds"
        );
    }
}

/// Refreshing ahead of expiry: a session whose access token (a real JWT shape, with `iat` and
/// `exp`) is about to expire is refreshed before the call, so the server never answers
/// `ExpiredToken`. The fake issues `access-<n>` JWTs and counts what it sees.
mod early_refresh {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    }

    /// An unsigned JWT (the client never checks signatures) for generation `n`.
    fn jwt(n: usize, iat: u64, exp: u64) -> String {
        let claims = json!({"sub": "did:plc:abc123", "gen": n, "iat": iat, "exp": exp});
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    /// Issues tokens that live `lifetime` seconds by a clock `skew` seconds off ours; logs what
    /// each request carried.
    struct Issuer {
        lifetime: u64,
        skew: i64,
        issued: AtomicUsize,
        log: Mutex<Vec<String>>,
    }

    impl Issuer {
        fn answer(&self, request: &Request) -> Reply {
            let bearer = request.header("authorization").unwrap_or("").to_owned();
            let generation = |token: &str| -> String {
                let payload = token.split('.').nth(1).unwrap_or("");
                let claims: serde_json::Value = URL_SAFE_NO_PAD
                    .decode(payload)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_default();
                claims["gen"].to_string()
            };
            let seen = match bearer.strip_prefix("Bearer ") {
                Some(token) if token.starts_with("refresh-") => token.to_owned(),
                Some(token) => format!("access gen {}", generation(token)),
                None => "no token".into(),
            };
            self.log
                .lock()
                .expect("lock")
                .push(format!("{} with {seen}", request.nsid()));
            match request.nsid() {
                "com.atproto.server.createSession" | "com.atproto.server.refreshSession" => {
                    let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                    let issued_at = now().saturating_add_signed(self.skew);
                    Reply::json(
                        200,
                        json!({
                            "did": "did:plc:abc123",
                            "handle": "alice.test",
                            "accessJwt": jwt(n, issued_at, issued_at + self.lifetime),
                            "refreshJwt": format!("refresh-{n}"),
                        }),
                    )
                }
                _ => Reply::json(
                    200,
                    json!({"did": "did:plc:abc123", "handle": "alice.test"}),
                ),
            }
        }
    }

    async fn server(lifetime: u64, skew: i64) -> (Arc<Issuer>, FakeServer) {
        let issuer = Arc::new(Issuer {
            lifetime,
            skew,
            issued: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        });
        let handler = Arc::clone(&issuer);
        let server = FakeServer::start(move |request| handler.answer(&request)).await;
        (issuer, server)
    }

    /// A client resumed from an exported session whose access token (generation 0) was issued
    /// at `iat` and expires at `exp`.
    fn resumed(server: &FakeServer, iat: u64, exp: u64) -> Client {
        let exported = json!({
            "version": 1, "did": "did:plc:abc123", "handle": "alice.test",
            "accessJwt": jwt(0, iat, exp), "refreshJwt": "refresh-0",
        })
        .to_string();
        Client::from_session(&server.url, &exported).expect("client")
    }

    #[tokio::test]
    async fn a_resumed_session_about_to_expire_is_refreshed_before_the_call() {
        let (issuer, server) = server(3600, 0).await;
        // Issued an hour ago, 30 seconds left: inside the minute the client refreshes ahead.
        let t = now();
        let client = resumed(&server, t - 3570, t + 30);
        client.send(&GetSession::new()).await.expect("getSession");
        client.send(&GetSession::new()).await.expect("getSession");
        assert_eq!(
            *issuer.log.lock().expect("lock"),
            [
                "com.atproto.server.refreshSession with refresh-0",
                "com.atproto.server.getSession with access gen 1",
                "com.atproto.server.getSession with access gen 1",
            ]
        );
    }

    #[tokio::test]
    async fn a_fresh_token_is_used_until_near_its_end_whatever_the_clocks_say() {
        // The server's clock is an hour behind ours, so by our clock its tokens expired before
        // they were issued; a client trusting `exp` would refresh before every call. Lifetime
        // 4 s: the client refreshes in the token's last tenth (0.4 s), counted from receipt.
        let (issuer, server) = server(4, -3600).await;
        let client = client(&server);
        client.login("alice.test", "password").await.expect("login");
        client.send(&GetSession::new()).await.expect("getSession");
        tokio::time::sleep(Duration::from_millis(3700)).await;
        client.send(&GetSession::new()).await.expect("getSession");
        assert_eq!(
            *issuer.log.lock().expect("lock"),
            [
                "com.atproto.server.createSession with no token",
                "com.atproto.server.getSession with access gen 1",
                "com.atproto.server.refreshSession with refresh-1",
                "com.atproto.server.getSession with access gen 2",
            ]
        );
    }

    #[tokio::test]
    async fn a_resumed_session_with_time_left_is_not_refreshed() {
        let (issuer, server) = server(3600, 0).await;
        let t = now();
        let client = resumed(&server, t - 60, t + 3540);
        client.send(&GetSession::new()).await.expect("getSession");
        assert_eq!(
            *issuer.log.lock().expect("lock"),
            ["com.atproto.server.getSession with access gen 0"]
        );
    }
}

/// A server that sends one byte at a time, never slowly enough for the read timeout, cannot
/// hold a call past the client's deadline (fake server: the real one cannot be made to trickle).
#[tokio::test]
async fn a_trickling_server_cannot_hold_a_call_past_the_deadline() {
    let server = FakeServer::start(|_| Reply::Trickle {
        len: 10_000,
        every: Duration::from_millis(50),
    })
    .await;
    assert_eq!(atdata_client::DEFAULT_TIMEOUT, Duration::from_secs(30));
    let client = Client::builder()
        .service(&server.url)
        .timeout(Duration::from_secs(1))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let started = Instant::now();
    let error = client
        .send(&DescribeServer::new())
        .await
        .expect_err("the body never finishes in time");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(matches!(error, Error::Transport { .. }), "{error}");

    // The per-call setting overrides the client's.
    let started = Instant::now();
    let error = client
        .send_with(
            &DescribeServer::new(),
            &CallOptions::new().timeout(Duration::from_millis(300)),
        )
        .await
        .expect_err("per-call deadline");
    assert!(started.elapsed() < Duration::from_secs(1), "{error}");
}
