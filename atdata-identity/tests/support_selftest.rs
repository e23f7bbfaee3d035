//! The test servers of `tests/support` tried with real clients: hickory-resolver against the
//! DNS server, reqwest (rustls) against the HTTP and HTTPS servers.
#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};
use support::dns::{DnsServer, Fault, Transport};
use support::https::{CertMode, HttpServer, HttpsServer, Response, TestCa};

const ATPROTO_DID: &str = "/.well-known/atproto-did";

fn resolver(dns: &DnsServer, timeout: Duration, attempts: usize) -> TokioResolver {
    let mut builder =
        Resolver::builder_with_config(dns.resolver_config(), TokioRuntimeProvider::default());
    let options = builder.options_mut();
    options.timeout = timeout;
    options.attempts = attempts;
    builder.build().unwrap()
}

fn quick_resolver(dns: &DnsServer) -> TokioResolver {
    resolver(dns, Duration::from_millis(500), 1)
}

async fn txt(resolver: &TokioResolver, name: &str) -> Vec<String> {
    let lookup = resolver.txt_lookup(name).await.unwrap();
    let mut texts: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s))
                    .collect::<String>(),
            ),
            _ => None,
        })
        .collect();
    texts.sort();
    texts
}

async fn ipv4s(resolver: &TokioResolver, name: &str) -> Vec<IpAddr> {
    resolver.lookup_ip(name).await.unwrap().iter().collect()
}

// ---------------------------------------------------------------------------------------------
// DNS

#[tokio::test]
async fn dns_txt_records_each_an_answer() {
    let dns = DnsServer::start().await;
    dns.set_txt(
        "_atproto.alice.test",
        ["did=did:plc:aaaa", "did=did:plc:bbbb"],
    );
    dns.set_txt("_atproto.bob.test", ["did=did:plc:cccc"]);
    let resolver = quick_resolver(&dns);

    assert_eq!(
        txt(&resolver, "_atproto.alice.test.").await,
        ["did=did:plc:aaaa", "did=did:plc:bbbb"]
    );
    // Names are compared without case, with or without the final dot.
    assert_eq!(
        txt(&resolver, "_ATPROTO.Bob.Test").await,
        ["did=did:plc:cccc"]
    );
    assert_eq!(dns.queries("_atproto.alice.test"), 1);
    assert_eq!(dns.queries("_atproto.bob.test."), 1);
    assert_eq!(dns.queries_over("_atproto.alice.test", Transport::Udp), 1);
}

#[tokio::test]
async fn dns_long_txt_is_split_and_joined_back() {
    let dns = DnsServer::start().await;
    let long = "x".repeat(700);
    dns.set_txt("long.test", [long.clone()]);
    assert_eq!(txt(&quick_resolver(&dns), "long.test.").await, [long]);
}

#[tokio::test]
async fn dns_a_records_and_wildcards() {
    let dns = DnsServer::start().await;
    dns.set_a("alice.test", Ipv4Addr::new(127, 0, 0, 7));
    dns.set_a_wildcard("*.test", Ipv4Addr::new(127, 0, 0, 9));
    let resolver = quick_resolver(&dns);

    assert_eq!(
        ipv4s(&resolver, "alice.test.").await,
        [IpAddr::from([127, 0, 0, 7])]
    );
    assert_eq!(
        ipv4s(&resolver, "carol.test.").await,
        [IpAddr::from([127, 0, 0, 9])]
    );
    assert_eq!(
        ipv4s(&resolver, "a.b.test.").await,
        [IpAddr::from([127, 0, 0, 9])]
    );
    // The wildcard names exist, so a TXT question about them has an empty answer, not NXDOMAIN.
    let error = resolver
        .txt_lookup("_atproto.carol.test.")
        .await
        .unwrap_err();
    assert!(
        error.is_no_records_found() && !error.is_nx_domain(),
        "{error:?}"
    );
}

#[tokio::test]
async fn dns_unknown_name_is_nxdomain() {
    let dns = DnsServer::start().await;
    let error = quick_resolver(&dns)
        .txt_lookup("_atproto.nobody.test.")
        .await
        .unwrap_err();
    assert!(error.is_nx_domain(), "{error:?}");
    assert_eq!(dns.queries("_atproto.nobody.test"), 1);
}

#[tokio::test]
async fn dns_no_answer_times_out() {
    let dns = DnsServer::start().await;
    dns.set_txt("_atproto.silent.test", ["did=did:plc:aaaa"]);
    dns.set_fault("_atproto.silent.test", Fault::NoAnswer);
    let resolver = resolver(&dns, Duration::from_millis(300), 1);
    let started = Instant::now();
    let error = resolver
        .txt_lookup("_atproto.silent.test.")
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(!error.is_no_records_found(), "{error:?}");
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
    assert!(dns.queries("_atproto.silent.test") >= 1);
}

#[tokio::test]
async fn dns_servfail_is_an_error() {
    let dns = DnsServer::start().await;
    dns.set_txt("_atproto.broken.test", ["did=did:plc:aaaa"]);
    dns.set_fault("_atproto.broken.test", Fault::ServFail);
    let error = quick_resolver(&dns)
        .txt_lookup("_atproto.broken.test.")
        .await
        .unwrap_err();
    assert!(!error.is_nx_domain(), "{error:?}");
}

#[tokio::test]
async fn dns_truncated_udp_answer_is_retried_over_tcp() {
    let dns = DnsServer::start().await;
    dns.set_txt("_atproto.big.test", ["did=did:plc:aaaa"]);
    dns.set_fault("_atproto.big.test", Fault::TruncateUdp);
    assert_eq!(
        txt(&quick_resolver(&dns), "_atproto.big.test.").await,
        ["did=did:plc:aaaa"]
    );
    assert_eq!(dns.queries_over("_atproto.big.test", Transport::Udp), 1);
    assert_eq!(dns.queries_over("_atproto.big.test", Transport::Tcp), 1);
}

#[tokio::test]
async fn dns_delayed_answer_arrives_late() {
    let dns = DnsServer::start().await;
    dns.set_txt("_atproto.slow.test", ["did=did:plc:aaaa"]);
    dns.set_fault(
        "_atproto.slow.test",
        Fault::Delay(Duration::from_millis(200)),
    );
    let started = Instant::now();
    assert_eq!(
        txt(&quick_resolver(&dns), "_atproto.slow.test.").await,
        ["did=did:plc:aaaa"]
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn dns_zone_changes_while_running() {
    let dns = DnsServer::start().await;
    let resolver = quick_resolver(&dns);
    dns.set_txt("_atproto.alice.test", ["did=did:plc:old"]);
    assert_eq!(
        txt(&resolver, "_atproto.alice.test.").await,
        ["did=did:plc:old"]
    );
    dns.set_txt("_atproto.alice.test", ["did=did:plc:new"]);
    resolver.clear_cache();
    assert_eq!(
        txt(&resolver, "_atproto.alice.test.").await,
        ["did=did:plc:new"]
    );
    dns.remove("_atproto.alice.test");
    resolver.clear_cache();
    let error = resolver
        .txt_lookup("_atproto.alice.test.")
        .await
        .unwrap_err();
    assert!(error.is_nx_domain(), "{error:?}");
    assert_eq!(dns.queries("_atproto.alice.test"), 3);
}

#[tokio::test]
async fn dns_ttl_zero_answers_are_not_cached() {
    let dns = DnsServer::start().await;
    dns.set_ttl(0);
    let resolver = quick_resolver(&dns);
    dns.set_txt("_atproto.alice.test", ["did=did:plc:old"]);
    assert_eq!(
        txt(&resolver, "_atproto.alice.test.").await,
        ["did=did:plc:old"]
    );
    dns.set_txt("_atproto.alice.test", ["did=did:plc:new"]);
    assert_eq!(
        txt(&resolver, "_atproto.alice.test.").await,
        ["did=did:plc:new"]
    );
    assert_eq!(dns.queries("_atproto.alice.test"), 2);
}

// ---------------------------------------------------------------------------------------------
// HTTPS and HTTP

fn client(ca: Option<&TestCa>, names: &[&str], at: SocketAddr) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(2));
    if let Some(ca) = ca {
        builder = builder.add_root_certificate(ca.reqwest_certificate());
    }
    for name in names {
        builder = builder.resolve(name, at);
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn https_serves_a_route_under_the_test_ca() {
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    assert_eq!(server.port(), 443);
    server.route("alice.test", ATPROTO_DID, Response::text("did:plc:aaaa"));
    server.route("a.b.test", ATPROTO_DID, Response::text("did:plc:nested"));
    let client = client(Some(&ca), &["alice.test", "a.b.test"], server.addr());

    let response = client
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "did:plc:aaaa");
    // A name two labels below `test`: the certificate is made for the SNI name itself.
    let body = client
        .get("https://a.b.test/.well-known/atproto-did")
        .send()
        .await
        .unwrap();
    assert_eq!(body.text().await.unwrap(), "did:plc:nested");
    // No route: 404.
    let missing = client
        .get("https://alice.test/elsewhere")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    assert_eq!(server.hits("alice.test", ATPROTO_DID), 1);
    assert_eq!(server.hits("a.b.test", ATPROTO_DID), 1);
    assert_eq!(server.total_hits(), 3);
    assert_eq!(server.last_host().as_deref(), Some("alice.test"));
    let first = &server.requests()[0];
    assert_eq!(
        (first.method.as_str(), first.sni.as_deref()),
        ("GET", Some("alice.test"))
    );
}

#[tokio::test]
async fn https_without_the_ca_fails_verification() {
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    server.route("alice.test", ATPROTO_DID, Response::text("did:plc:aaaa"));

    let untrusting = client(None, &["alice.test"], server.addr());
    let error = untrusting
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");

    let other_ca = TestCa::new();
    let wrong = client(Some(&other_ca), &["alice.test"], server.addr());
    assert!(wrong
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .is_err());
    assert_eq!(server.total_hits(), 0);
}

#[tokio::test]
async fn https_expired_or_misnamed_certificates_fail() {
    let ca = TestCa::new();
    let expired = HttpsServer::start_on_loopback_with(&ca, 443, CertMode::Expired).await;
    let error = client(Some(&ca), &["alice.test"], expired.addr())
        .get(expired.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap_err();
    assert!(format!("{error:?}").contains("Expired"), "{error:?}");

    let misnamed =
        HttpsServer::start_on_loopback_with(&ca, 443, CertMode::Fixed(vec!["*.other".into()]))
            .await;
    let error = client(Some(&ca), &["alice.test"], misnamed.addr())
        .get(misnamed.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{error:?}").contains("NotValidForName"),
        "{error:?}"
    );
}

#[tokio::test]
async fn https_by_ip_address_gets_an_ip_certificate() {
    let ca = TestCa::new();
    let server = HttpsServer::start(&ca, Ipv4Addr::LOCALHOST, 0).await;
    server.route("*", "/x", Response::json("{}"));
    let client = client(Some(&ca), &[], server.addr());
    let url = format!("https://127.0.0.1:{}/x", server.port());
    assert_eq!(
        client.get(url).send().await.unwrap().text().await.unwrap(),
        "{}"
    );
    assert_eq!(server.last_request().unwrap().sni, None);
}

#[tokio::test]
async fn https_redirects_are_followed() {
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    server.route(
        "alice.test",
        ATPROTO_DID,
        Response::redirect(302, "https://bob.test/moved"),
    );
    server.route("bob.test", "/moved", Response::redirect(308, "/final"));
    server.route("bob.test", "/final", Response::text("did:plc:bbbb"));
    let client = client(Some(&ca), &["alice.test", "bob.test"], server.addr());

    let response = client
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap();
    assert_eq!(response.url().as_str(), "https://bob.test/final");
    assert_eq!(response.text().await.unwrap(), "did:plc:bbbb");
    assert_eq!(server.hits("alice.test", ATPROTO_DID), 1);
    assert_eq!(server.hits("bob.test", "/moved"), 1);
    assert_eq!(server.hits("bob.test", "/final"), 1);
}

#[tokio::test]
async fn https_hang_makes_the_client_time_out() {
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    server.route("alice.test", ATPROTO_DID, Response::Hang);
    let client = reqwest::Client::builder()
        .add_root_certificate(ca.reqwest_certificate())
        .resolve("alice.test", server.addr())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    // The request did arrive: it is the answer that never came.
    assert_eq!(server.hits("alice.test", ATPROTO_DID), 1);
}

#[tokio::test]
async fn https_oversize_body_streams_until_the_client_stops() {
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    server.route(
        "alice.test",
        ATPROTO_DID,
        Response::Oversize {
            bytes: 256 * 1024 * 1024,
        },
    );
    let client = client(Some(&ca), &["alice.test"], server.addr());

    let mut response = client
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), None);
    let limit = 1024 * 1024;
    let mut read = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        read += chunk.len();
        if read > limit {
            break;
        }
    }
    assert!(read > limit, "the body ended after {read} bytes");
    drop(response);

    // The server is still fine afterwards.
    server.route("alice.test", ATPROTO_DID, Response::text("did:plc:aaaa"));
    let body = client
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap();
    assert_eq!(body.text().await.unwrap(), "did:plc:aaaa");
}

#[tokio::test]
async fn https_slow_and_status_responses() {
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    server.route(
        "alice.test",
        ATPROTO_DID,
        Response::slow(Duration::from_millis(150), Response::status(503, "later")),
    );
    let client = client(Some(&ca), &["alice.test"], server.addr());
    let started = Instant::now();
    let response = client
        .get(server.url("alice.test", ATPROTO_DID))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "later");
}

#[tokio::test]
async fn https_servers_on_port_443_get_their_own_loopback_addresses() {
    let ca = TestCa::new();
    let one = HttpsServer::start_on_loopback(&ca, 443).await;
    let two = HttpsServer::start_on_loopback(&ca, 443).await;
    assert_ne!(one.ip(), two.ip());
    assert!(one.ip().is_loopback() && two.ip().is_loopback());
    one.route("alice.test", ATPROTO_DID, Response::text("one"));
    two.route("alice.test", ATPROTO_DID, Response::text("two"));
    for (server, expected) in [(&one, "one"), (&two, "two")] {
        let client = client(Some(&ca), &["alice.test"], server.addr());
        let body = client
            .get(server.url("alice.test", ATPROTO_DID))
            .send()
            .await
            .unwrap();
        assert_eq!(body.text().await.unwrap(), expected);
    }
}

#[tokio::test]
async fn http_plain_server_for_localhost_with_a_port() {
    let server = HttpServer::start(Ipv4Addr::LOCALHOST, 0).await;
    server.route(
        "localhost",
        "/.well-known/did.json",
        Response::json(r#"{"id":"did:web:x"}"#),
    );
    let url = server.url("localhost", "/.well-known/did.json");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), r#"{"id":"did:web:x"}"#);
    let host = format!("localhost:{}", server.port());
    assert_eq!(server.last_host(), Some(host.clone()));
    assert_eq!(server.hits("localhost", "/.well-known/did.json"), 1);
    assert_eq!(server.hits(&host, "/.well-known/did.json"), 1);
}

// ---------------------------------------------------------------------------------------------
// Both: names through the DNS server, then HTTPS on port 443

/// A reqwest name resolver that asks hickory, which asks the test DNS server.
struct ViaHickory(TokioResolver);

impl reqwest::dns::Resolve for ViaHickory {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        let host = format!("{}.", name.as_str());
        Box::pin(async move {
            let ips = resolver.lookup_ip(host).await?;
            let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[tokio::test]
async fn dns_and_https_together() {
    let dns = DnsServer::start().await;
    let ca = TestCa::new();
    let server = HttpsServer::start_on_loopback(&ca, 443).await;
    let IpAddr::V4(ip) = server.ip() else {
        unreachable!()
    };
    dns.set_a_wildcard("test", ip);
    server.route("*", ATPROTO_DID, Response::text("did:plc:wild"));

    let client = reqwest::Client::builder()
        .add_root_certificate(ca.reqwest_certificate())
        .dns_resolver(Arc::new(ViaHickory(quick_resolver(&dns))))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    for handle in ["alice.test", "deep.er.test"] {
        let response = client
            .get(format!("https://{handle}{ATPROTO_DID}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "did:plc:wild");
        assert!(dns.queries(handle) >= 1);
        assert_eq!(server.hits(handle, ATPROTO_DID), 1);
    }
}
