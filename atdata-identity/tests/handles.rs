//! Handles and did:web through the resolver's real code paths: hickory asks a DNS server this
//! test starts (TXT and A records for `*.test` names), and HTTPS goes to a server on
//! 127.0.0.x:443 whose certificates a test CA signs, which the resolver trusts through its
//! own `root_certificates_pem` setting. Nothing is faked inside the resolver.
//!
//! The servers (tests/support) are hand-made because the faults tested here — a server that
//! never answers, oversize bodies, redirect chains, two TXT records — are ones a real
//! deployment cannot be made to produce on demand.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use atdata_core::syntax::{AtIdentifier, Did, Handle};
use atdata_crypto::{Curve, Keypair};
use atdata_identity::{Error, Resolver, ResolverBuilder};
use support::dns::{DnsServer, Fault};
use support::https::{HttpServer, HttpsServer, Response, TestCa};

const WELL_KNOWN: &str = "/.well-known/atproto-did";
const DID_JSON: &str = "/.well-known/did.json";

/// A DNS server, a CA and an HTTPS server on its own loopback address, port 443.
struct World {
    dns: DnsServer,
    ca: TestCa,
    web: HttpsServer,
    ip: Ipv4Addr,
}

impl World {
    async fn start() -> World {
        let dns = DnsServer::start().await;
        let ca = TestCa::new();
        let web = HttpsServer::start_on_loopback(&ca, 443).await;
        let IpAddr::V4(ip) = web.ip() else {
            panic!("loopback servers are IPv4")
        };
        World { dns, ca, web, ip }
    }

    /// The resolver under test: this world's DNS and CA, short deadlines, guard off.
    fn builder(&self) -> ResolverBuilder {
        Resolver::builder()
            .nameserver(self.dns.addr())
            .root_certificates_pem(self.ca.pem())
            .dns_timeout(Duration::from_millis(700))
            .http_timeout(Duration::from_millis(1_500))
            .ssrf_guard(false)
    }

    fn resolver(&self) -> Resolver {
        self.builder().build().unwrap()
    }

    /// Points `name` at the HTTPS server.
    fn host(&self, name: &str) {
        self.dns.set_a(name, self.ip);
    }
}

fn did(s: &str) -> Did {
    Did::new(s).unwrap()
}

fn handle(s: &str) -> Handle {
    Handle::new(s).unwrap()
}

fn plc(n: u8) -> Did {
    did(&format!(
        "did:plc:{}",
        String::from_utf8(vec![b'a' + n % 26; 24]).unwrap()
    ))
}

/// A did:web document claiming `aka` (if any), with `key` as its signing key.
fn web_document(did: &str, aka: Option<&str>, key: &Keypair) -> String {
    let aka = aka.map_or_else(Vec::new, |h| vec![format!("at://{h}")]);
    serde_json::json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": aka,
        "verificationMethod": [{
            "id": format!("{did}#atproto"),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key().to_multibase(),
        }],
        "service": [{
            "id": "#atproto_pds",
            "type": "AtprotoPersonalDataServer",
            "serviceEndpoint": "https://pds.example.com",
        }],
    })
    .to_string()
}

#[tokio::test]
async fn dns_txt_resolves_a_handle() {
    let w = World::start().await;
    w.dns
        .set_txt("_atproto.alice.test", [format!("did={}", plc(1))]);
    let r = w.resolver();
    assert_eq!(
        r.resolve_handle(&handle("Alice.TEST")).await.unwrap(),
        plc(1)
    );
    assert!(w.dns.queries("_atproto.alice.test") >= 1);
    // Cached under the normal form: a second lookup asks nobody.
    let queries = w.dns.total_queries();
    assert_eq!(
        r.resolve_handle(&handle("alice.test")).await.unwrap(),
        plc(1)
    );
    assert_eq!(w.dns.total_queries(), queries);
}

#[tokio::test]
async fn https_well_known_resolves_a_handle_through_our_dns_and_ca() {
    let w = World::start().await;
    w.host("bob.test");
    w.web.route(
        "bob.test",
        WELL_KNOWN,
        Response::text(format!("{}\n", plc(2))),
    );
    let r = w.resolver();
    assert_eq!(r.resolve_handle(&handle("bob.test")).await.unwrap(), plc(2));
    assert_eq!(w.web.hits("bob.test", WELL_KNOWN), 1);
    assert_eq!(
        w.web.last_request().unwrap().sni.as_deref(),
        Some("bob.test")
    );

    // Without the test CA the certificate is not trusted: no DID, and the failure says so.
    let untrusting = Resolver::builder()
        .nameserver(w.dns.addr())
        .ssrf_guard(false)
        .http_timeout(Duration::from_millis(1_500))
        .build()
        .unwrap();
    let e = untrusting
        .resolve_handle(&handle("bob.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
}

#[tokio::test]
async fn dns_wins_when_both_answer() {
    let w = World::start().await;
    w.host("both.test");
    w.dns
        .set_txt("_atproto.both.test", [format!("did={}", plc(3))]);
    w.web.route(
        "both.test",
        WELL_KNOWN,
        Response::slow(
            Duration::from_millis(50),
            Response::text(plc(4).to_string()),
        ),
    );
    assert_eq!(
        w.resolver()
            .resolve_handle(&handle("both.test"))
            .await
            .unwrap(),
        plc(3)
    );

    // HTTPS first, DNS later: still DNS.
    w.host("both2.test");
    w.dns.set_fault(
        "_atproto.both2.test",
        Fault::Delay(Duration::from_millis(300)),
    );
    w.dns
        .set_txt("_atproto.both2.test", [format!("did={}", plc(5))]);
    w.web
        .route("both2.test", WELL_KNOWN, Response::text(plc(6).to_string()));
    assert_eq!(
        w.resolver()
            .resolve_handle(&handle("both2.test"))
            .await
            .unwrap(),
        plc(5)
    );
}

#[tokio::test]
async fn several_different_txt_dids_fail_and_duplicates_do_not() {
    let w = World::start().await;
    w.dns.set_txt(
        "_atproto.two.test",
        [format!("did={}", plc(7)), format!("did={}", plc(8))],
    );
    let r = w.resolver();
    let e = r.resolve_handle(&handle("two.test")).await.unwrap_err();
    match &e {
        Error::HandleAmbiguous { dids, .. } => assert_eq!(dids.len(), 2),
        other => panic!("{other}"),
    }
    assert!(e.is_not_found());

    w.dns.set_txt(
        "_atproto.same.test",
        [
            format!("did={}", plc(9)),
            "v=spf1 -all".into(),
            format!("did={}", plc(9)),
        ],
    );
    assert_eq!(
        r.resolve_handle(&handle("same.test")).await.unwrap(),
        plc(9)
    );
}

#[tokio::test]
async fn html_pages_junk_and_404_are_not_found() {
    let w = World::start().await;
    let r = w.resolver();
    for (name, response) in [
        (
            "html.test",
            Response::Ok {
                content_type: "text/html".into(),
                body: b"<!doctype html><html><body>did:plc:aaaaaaaaaaaaaaaaaaaaaaaa</body></html>"
                    .to_vec(),
            },
        ),
        ("junk.test", Response::text("did:plc:not a did at all")),
        (
            "json.test",
            Response::json(r#"{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}"#),
        ),
        ("missing.test", Response::status(404, "no")),
        ("broken.test", Response::status(500, "oops")),
    ] {
        w.host(name);
        w.web.route(name, WELL_KNOWN, response);
        let e = r.resolve_handle(&handle(name)).await.unwrap_err();
        assert!(matches!(e, Error::HandleNotFound { .. }), "{name}: {e}");
        assert!(e.is_not_found(), "{name}");
    }
    // No DNS record and no host at all: not found, not unreachable.
    let e = r.resolve_handle(&handle("nowhere.test")).await.unwrap_err();
    assert!(matches!(e, Error::HandleNotFound { .. }), "{e}");
    assert!(e.to_string().contains("nowhere.test"), "{e}");
    let e = r
        .resolve_did(&did("did:web:nowhere.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::DidNotFound { .. }), "{e}");
}

#[tokio::test]
async fn reserved_tlds_are_refused_before_any_lookup() {
    let w = World::start().await;
    let r = w.resolver();
    for name in [
        "foo.local",
        "x.onion",
        "handle.invalid",
        "a.localhost",
        "b.internal",
        "c.arpa",
        "d.example",
        "e.alt",
    ] {
        let e = r.resolve_handle(&handle(name)).await.unwrap_err();
        assert!(matches!(e, Error::ReservedTld { .. }), "{name}: {e}");
        let e = r
            .lookup(&AtIdentifier::Handle(handle(name)))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::ReservedTld { .. }), "{name}: {e}");
    }
    assert_eq!(w.dns.total_queries(), 0);
    assert_eq!(w.web.total_hits(), 0);
    assert_eq!(r.stats().dns_queries + r.stats().http_requests, 0);
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let w = World::start().await;
    w.host("hop.test");
    w.host("target.test");
    w.web.route(
        "hop.test",
        WELL_KNOWN,
        Response::redirect(302, "https://target.test/did.txt"),
    );
    w.web.route(
        "target.test",
        "/did.txt",
        Response::text(plc(10).to_string()),
    );
    let r = w.resolver();
    assert_eq!(
        r.resolve_handle(&handle("hop.test")).await.unwrap(),
        plc(10)
    );

    // A chain of 7 hops with a limit of 5.
    w.host("loop.test");
    for i in 0..7 {
        w.web.route(
            "loop.test",
            &format!("/{i}"),
            Response::redirect(307, format!("/{}", i + 1)),
        );
    }
    w.web
        .route("loop.test", WELL_KNOWN, Response::redirect(308, "/0"));
    w.web
        .route("loop.test", "/7", Response::text(plc(11).to_string()));
    let e = r.resolve_handle(&handle("loop.test")).await.unwrap_err();
    assert!(matches!(e, Error::Redirect { .. }), "{e}");
    assert!(e.is_unreachable());
    // With room for 8 it arrives.
    let roomy = w.builder().max_redirects(8).build().unwrap();
    assert_eq!(
        roomy.resolve_handle(&handle("loop.test")).await.unwrap(),
        plc(11)
    );

    // https → http is refused outside development mode.
    w.host("down.test");
    w.web.route(
        "down.test",
        WELL_KNOWN,
        Response::redirect(302, "http://down.test/did.txt"),
    );
    let e = r.resolve_handle(&handle("down.test")).await.unwrap_err();
    assert!(matches!(e, Error::Redirect { .. }), "{e}");
}

#[tokio::test]
async fn servers_that_never_answer_time_out() {
    let w = World::start().await;
    w.host("hang.test");
    w.dns.set_fault("_atproto.hang.test", Fault::NoAnswer);
    w.web.route("hang.test", WELL_KNOWN, Response::Hang);
    let r = w.resolver();
    let started = std::time::Instant::now();
    let e = r.resolve_handle(&handle("hang.test")).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(e.is_unreachable());
    assert!(took < Duration::from_secs(4), "{took:?}");

    // A did:web host that never answers.
    w.host("hangweb.test");
    w.web.route("hangweb.test", DID_JSON, Response::Hang);
    let e = r
        .resolve_did(&did("did:web:hangweb.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
}

#[tokio::test]
async fn oversize_bodies_are_cut_off() {
    let w = World::start().await;
    w.host("big.test");
    w.web.route(
        "big.test",
        WELL_KNOWN,
        Response::Oversize {
            bytes: 64 * 1024 * 1024,
        },
    );
    w.host("bigdecl.test");
    w.web.route(
        "bigdecl.test",
        WELL_KNOWN,
        Response::OversizeDeclared { bytes: 4096 },
    );
    let r = w.resolver();
    for name in ["big.test", "bigdecl.test"] {
        let e = r.resolve_handle(&handle(name)).await.unwrap_err();
        assert!(
            matches!(e, Error::TooLarge { limit: 2048, .. }),
            "{name}: {e}"
        );
    }
    // A DID document over 512 KiB.
    w.host("bigdoc.test");
    w.web.route(
        "bigdoc.test",
        DID_JSON,
        Response::Oversize { bytes: 600 * 1024 },
    );
    let e = r
        .resolve_did(&did("did:web:bigdoc.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // A smaller limit applies when set.
    w.host("mid.test");
    w.web.route(
        "mid.test",
        WELL_KNOWN,
        Response::text(format!("{}{}", plc(12), " ".repeat(200))),
    );
    let tight = w.builder().well_known_limit(100).build().unwrap();
    assert!(matches!(
        tight.resolve_handle(&handle("mid.test")).await.unwrap_err(),
        Error::TooLarge { .. }
    ));
    assert_eq!(
        r.resolve_handle(&handle("mid.test")).await.unwrap(),
        plc(12)
    );
}

#[tokio::test]
async fn the_ssrf_guard_refuses_private_targets_after_dns_and_on_every_hop() {
    let w = World::start().await;
    w.host("inside.test");
    w.web.route(
        "inside.test",
        WELL_KNOWN,
        Response::text(plc(13).to_string()),
    );
    let guarded = w.builder().ssrf_guard(true).build().unwrap();
    let e = guarded
        .resolve_handle(&handle("inside.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "{e}");
    assert!(e.is_unreachable());
    assert_eq!(
        w.web.hits("inside.test", WELL_KNOWN),
        0,
        "no connection was made"
    );

    // Allowing this one server's address: the first hop passes, and a redirect to another
    // loopback address (by name, or as an IP literal) is refused.
    let allowing = w
        .builder()
        .ssrf_guard(true)
        .ssrf_allow(IpAddr::V4(w.ip))
        .build()
        .unwrap();
    assert_eq!(
        allowing
            .resolve_handle(&handle("inside.test"))
            .await
            .unwrap(),
        plc(13)
    );
    w.host("jump.test");
    w.dns.set_a("elsewhere.test", Ipv4Addr::new(127, 0, 0, 1));
    w.web.route(
        "jump.test",
        WELL_KNOWN,
        Response::redirect(302, "https://elsewhere.test/x"),
    );
    let e = allowing
        .resolve_handle(&handle("jump.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "{e}");
    w.host("jump2.test");
    w.web.route(
        "jump2.test",
        WELL_KNOWN,
        Response::redirect(302, "https://127.0.0.1/x"),
    );
    let e = allowing
        .resolve_handle(&handle("jump2.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "{e}");
    w.host("jump3.test");
    w.web.route(
        "jump3.test",
        WELL_KNOWN,
        Response::redirect(302, "https://[::1]/x"),
    );
    let e = allowing
        .resolve_handle(&handle("jump3.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "{e}");

    // did:web too.
    w.host("webinside.test");
    let e = guarded
        .resolve_did(&did("did:web:webinside.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "{e}");
}

#[tokio::test]
async fn did_web_documents_resolve_and_rotated_keys_appear_after_a_purge() {
    let w = World::start().await;
    let key1 = Keypair::generate(Curve::P256).unwrap();
    let key2 = Keypair::generate(Curve::K256).unwrap();
    w.host("carol.test");
    let carol = did("did:web:carol.test");
    w.web.route(
        "carol.test",
        DID_JSON,
        Response::json(web_document(carol.as_str(), Some("carol.test"), &key1)),
    );
    w.dns
        .set_txt("_atproto.carol.test", [format!("did={carol}")]);
    let r = w.resolver();

    let identity = r.lookup(&AtIdentifier::Did(carol.clone())).await.unwrap();
    assert_eq!(identity.handle().as_str(), "carol.test");
    assert!(identity.handle_verified());
    assert_eq!(identity.pds(), Some("https://pds.example.com"));
    assert_eq!(identity.signing_key().unwrap(), key1.public_key());
    let by_handle = r
        .lookup(&AtIdentifier::Handle(handle("carol.test")))
        .await
        .unwrap();
    assert_eq!(by_handle.did(), &carol);

    // The document changes; the cache keeps the old key until purged.
    w.web.route(
        "carol.test",
        DID_JSON,
        Response::json(web_document(carol.as_str(), Some("carol.test"), &key2)),
    );
    assert_eq!(r.signing_key(&carol).await.unwrap(), key1.public_key());
    r.purge(&AtIdentifier::Did(carol.clone()));
    assert_eq!(r.signing_key(&carol).await.unwrap(), key2.public_key());
    let refreshed = r.refresh(&AtIdentifier::Did(carol.clone())).await.unwrap();
    assert_eq!(refreshed.signing_key().unwrap(), key2.public_key());

    // verify_with refreshes once when the cached key fails.
    w.web.route(
        "carol.test",
        DID_JSON,
        Response::json(web_document(carol.as_str(), Some("carol.test"), &key1)),
    );
    let signature = key1.sign(b"hello");
    r.verify_with(&carol, |key| key.verify(b"hello", &signature))
        .await
        .unwrap();
}

#[tokio::test]
async fn handles_must_point_back_both_ways() {
    let w = World::start().await;
    let key = Keypair::generate(Curve::K256).unwrap();
    let r = w.resolver();

    // The document claims no handle.
    w.host("noaka.test");
    let noaka = did("did:web:noaka.test");
    w.web.route(
        "noaka.test",
        DID_JSON,
        Response::json(web_document(noaka.as_str(), None, &key)),
    );
    w.dns
        .set_txt("_atproto.noaka.test", [format!("did={noaka}")]);
    let identity = r.lookup_did(&noaka).await.unwrap();
    assert!(identity.handle().is_invalid_marker());
    assert_eq!(identity.claimed_handle(), None);
    let e = r
        .lookup(&AtIdentifier::Handle(handle("noaka.test")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::HandleMismatch { .. }), "{e}");
    assert!(e.is_not_found());

    // The document claims a handle that points at someone else.
    w.host("liar.test");
    let liar = did("did:web:liar.test");
    w.web.route(
        "liar.test",
        DID_JSON,
        Response::json(web_document(liar.as_str(), Some("famous.test"), &key)),
    );
    w.dns
        .set_txt("_atproto.famous.test", [format!("did={}", plc(14))]);
    let identity = r.lookup_did(&liar).await.unwrap();
    assert!(identity.handle().is_invalid_marker());
    assert_eq!(identity.claimed_handle().unwrap().as_str(), "famous.test");
    let e = r.lookup(&AtIdentifier::Handle(handle("famous.test"))).await;
    assert!(e.is_err());

    // The handle points at a DID whose document claims another handle.
    w.dns
        .set_txt("_atproto.pointer.test", [format!("did={liar}")]);
    let e = r
        .lookup(&AtIdentifier::Handle(handle("pointer.test")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::HandleMismatch { .. }), "{e}");
}

#[tokio::test]
async fn did_web_faults() {
    let w = World::start().await;
    let key = Keypair::generate(Curve::K256).unwrap();
    let r = w.resolver();

    w.host("other.test");
    w.web.route(
        "other.test",
        DID_JSON,
        Response::json(web_document("did:web:someone-else.test", None, &key)),
    );
    let e = r.resolve_did(&did("did:web:other.test")).await.unwrap_err();
    assert!(matches!(e, Error::DocumentIdMismatch { .. }), "{e}");

    w.host("gone.test");
    w.web
        .route("gone.test", DID_JSON, Response::status(404, "no"));
    let e = r.resolve_did(&did("did:web:gone.test")).await.unwrap_err();
    assert!(matches!(e, Error::DidNotFound { .. }), "{e}");

    w.host("dead.test");
    w.web
        .route("dead.test", DID_JSON, Response::status(410, "gone"));
    let e = r.resolve_did(&did("did:web:dead.test")).await.unwrap_err();
    assert!(matches!(e, Error::DidDeactivated { .. }), "{e}");

    w.host("garbage.test");
    w.web.route(
        "garbage.test",
        DID_JSON,
        Response::json("<html>not json</html>"),
    );
    let e = r
        .resolve_did(&did("did:web:garbage.test"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidDocument { .. }), "{e}");

    for bad in [
        "did:web:path.test:user:alice",
        "did:web:port.test%3A8443",
        "did:web:localhost",
    ] {
        let e = r.resolve_did(&did(bad)).await.unwrap_err();
        assert!(matches!(e, Error::DidWebNotAllowed { .. }), "{bad}: {e}");
    }
    assert_eq!(w.web.total_hits(), 4);
}

#[tokio::test]
async fn did_web_on_localhost_with_a_port_in_development_mode() {
    let key = Keypair::generate(Curve::K256).unwrap();
    let server = HttpServer::start(Ipv4Addr::LOCALHOST, 0).await;
    let id = format!("did:web:localhost%3A{}", server.port());
    server.route(
        "localhost",
        DID_JSON,
        Response::json(web_document(&id, None, &key)),
    );
    let w = World::start().await;
    let dev = w.builder().development(true).build().unwrap();
    let identity = dev.lookup_did(&did(&id)).await.unwrap();
    assert_eq!(identity.signing_key().unwrap(), key.public_key());
    // Outside development mode it is refused before any request.
    let e = w.resolver().resolve_did(&did(&id)).await.unwrap_err();
    assert!(matches!(e, Error::DidWebNotAllowed { .. }), "{e}");
    // Development mode does not switch the guard off.
    let guarded = w
        .builder()
        .development(true)
        .ssrf_guard(true)
        .build()
        .unwrap();
    let e = guarded.resolve_did(&did(&id)).await.unwrap_err();
    assert!(matches!(e, Error::Blocked { .. }), "{e}");
    assert_eq!(server.hits("localhost", DID_JSON), 1);

    // A development server on localhost that speaks TLS (with the test CA) works too.
    let tls = HttpsServer::start(&w.ca, Ipv4Addr::LOCALHOST, 0).await;
    let id = format!("did:web:localhost%3A{}", tls.port());
    tls.route(
        "localhost",
        DID_JSON,
        Response::json(web_document(&id, None, &key)),
    );
    let identity = dev.lookup_did(&did(&id)).await.unwrap();
    assert_eq!(identity.signing_key().unwrap(), key.public_key());
    assert_eq!(tls.hits("localhost", DID_JSON), 1);
}

#[tokio::test]
async fn a_hundred_concurrent_lookups_of_one_did_make_one_request() {
    let w = World::start().await;
    let key = Keypair::generate(Curve::K256).unwrap();
    w.host("busy.test");
    let busy = did("did:web:busy.test");
    w.web.route(
        "busy.test",
        DID_JSON,
        Response::slow(
            Duration::from_millis(100),
            Response::json(web_document(busy.as_str(), None, &key)),
        ),
    );
    let r = w.resolver();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let r = r.clone();
            let busy = busy.clone();
            tokio::spawn(async move { r.lookup_did(&busy).await.map(|i| i.signing_key().unwrap()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), key.public_key());
    }
    assert_eq!(
        w.web.hits("busy.test", DID_JSON),
        1,
        "exactly one request reached the server"
    );
    let stats = r.stats();
    assert!(stats.merged >= 1, "{stats:?}");
}

#[tokio::test]
async fn stale_answers_are_served_while_a_refresh_runs() {
    let w = World::start().await;
    w.dns
        .set_txt("_atproto.stale.test", [format!("did={}", plc(15))]);
    let r = w
        .builder()
        .cache_config(
            atdata_identity::CacheConfig::default()
                .stale_after(Duration::from_millis(200))
                .ttl(Duration::from_secs(60)),
        )
        .build()
        .unwrap();
    assert_eq!(
        r.resolve_handle(&handle("stale.test")).await.unwrap(),
        plc(15)
    );
    w.dns
        .set_txt("_atproto.stale.test", [format!("did={}", plc(16))]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Stale: the old answer at once, and a refresh in the background.
    assert_eq!(
        r.resolve_handle(&handle("stale.test")).await.unwrap(),
        plc(15)
    );
    let mut fresh = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if r.resolve_handle(&handle("stale.test")).await.unwrap() == plc(16) {
            fresh = true;
            break;
        }
    }
    assert!(fresh, "the background refresh stored the new answer");
}

#[tokio::test]
async fn the_reference_pds_answers_the_well_known_for_its_handles() {
    let Some(pds) = atdata_testkit::pds() else {
        return;
    };
    // An account on the PDS, then its handle reached over HTTPS through a TLS front (the
    // test server relaying to the PDS with the handle as Host).
    let name = atdata_testkit::unique_handle('w');
    let created: serde_json::Value = serde_json::from_str(
        &reqwest::Client::new()
            .post(format!("{}/xrpc/com.atproto.server.createAccount", pds.url))
            .header("content-type", "application/json")
            .body(serde_json::json!({"handle": name, "email": format!("{name}@example.com"), "password": "pw-identity-wk"}).to_string())
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let account = did(created["did"].as_str().unwrap());
    let port = reqwest::Url::parse(&pds.url).unwrap().port().unwrap_or(80);
    let w = World::start().await;
    w.host(&name);
    w.web.route(
        &name,
        WELL_KNOWN,
        Response::Proxy(std::net::SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
    );
    let r = w.builder().plc_url(&pds.plc_url).build().unwrap();
    assert_eq!(r.resolve_handle(&handle(&name)).await.unwrap(), account);
    // Both ways: the PLC document claims the handle, the handle resolves to the DID.
    let identity = r
        .lookup(&AtIdentifier::Handle(handle(&name)))
        .await
        .unwrap();
    assert_eq!(identity.did(), &account);
    assert!(identity.handle_verified());
    assert_eq!(identity.handle().as_str(), name);
}
