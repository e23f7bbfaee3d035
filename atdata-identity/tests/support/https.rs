//! A test certificate authority, and tiny HTTP/1.1 servers (plain, and TLS with certificates
//! that authority signs) whose routes can be changed while they run.
//!
//! One request per connection, always answered with `Connection: close`. Routes are keyed by
//! (host, path): the request's Host header (lower case, trailing dot dropped) is tried as sent,
//! then without its port, then as `*`; the request target is tried whole, then without its
//! query. Anything else gets a 404. Every request is logged.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use super::{lock, next_loopback_ip, LOOPBACK_ATTEMPTS};

// ---------------------------------------------------------------------------------------------
// The test CA

/// A self-signed certificate authority made fresh for a test (ECDSA P-256). Cheap to clone.
#[derive(Clone)]
pub struct TestCa {
    inner: Arc<CaInner>,
}

struct CaInner {
    issuer: Issuer<'static, KeyPair>,
    cert: rcgen::Certificate,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

/// A certificate the CA issued, with its private key.
pub struct Issued {
    /// The end-entity certificate alone (the CA is the trust anchor, not sent).
    pub chain: Vec<CertificateDer<'static>>,
    /// `chain` as PEM.
    pub chain_pem: String,
    /// The private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// `key` as PEM.
    pub key_pem: String,
}

/// The validity of an issued certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// From 1975 to 4096 (rcgen's defaults).
    Current,
    /// From 2000-01-01 to 2001-01-01: expired.
    Expired,
}

impl TestCa {
    /// A new CA with a new key.
    pub fn new() -> TestCa {
        let key = KeyPair::generate().expect("generate the test CA's key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "atdata test CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("self-sign the test CA");
        let issuer = Issuer::new(params, key);
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        TestCa {
            inner: Arc::new(CaInner {
                issuer,
                cert,
                provider,
            }),
        }
    }

    /// The CA certificate as PEM: the extra trusted root to give a client.
    pub fn pem(&self) -> String {
        self.inner.cert.pem()
    }

    /// The CA certificate as DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.inner.cert.der().clone()
    }

    /// The CA certificate for a reqwest client's `add_root_certificate`.
    pub fn reqwest_certificate(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.pem().as_bytes())
            .expect("the test CA as reqwest wants it")
    }

    /// Issues a server certificate for these names: DNS names (`*.test` wildcards allowed:
    /// one label each) and IP addresses. The first name is also the subject's common name.
    pub fn issue(&self, names: &[&str]) -> Issued {
        self.issue_with(names, Validity::Current)
    }

    /// Like [`TestCa::issue`], valid over another period.
    pub fn issue_with(&self, names: &[&str], validity: Validity) -> Issued {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("certificate names");
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().map_or("atdata test server", String::as_str),
        );
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        if validity == Validity::Expired {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().expect("generate a server key");
        let cert = params
            .signed_by(&key, &self.inner.issuer)
            .expect("sign a server certificate");
        Issued {
            chain_pem: cert.pem(),
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            key_pem: key.serialize_pem(),
        }
    }

    fn certified_key(&self, names: &[&str], validity: Validity) -> Arc<CertifiedKey> {
        let issued = self.issue_with(names, validity);
        let key = CertifiedKey::from_der(issued.chain, issued.key, &self.inner.provider)
            .expect("a certificate and key rustls accepts");
        Arc::new(key)
    }

    fn provider(&self) -> Arc<CryptoProvider> {
        self.inner.provider.clone()
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

/// Which certificate an [`HttpsServer`] presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertMode {
    /// One certificate per SNI name, issued when first asked for, for exactly that name
    /// (so `a.b.test` works as well as `alice.test`). A client that sends no SNI (it connects
    /// to an IP address) gets one for the listening address and `localhost`.
    OnDemand,
    /// Like `OnDemand`, but every certificate has expired.
    Expired,
    /// One certificate for these names, whatever the client asks for (for mismatch tests).
    Fixed(Vec<String>),
}

#[derive(Debug)]
struct CertResolver {
    ca: TestCa,
    mode: CertMode,
    ip: IpAddr,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = client_hello.server_name().map(|s| s.to_ascii_lowercase());
        let key = match &self.mode {
            CertMode::Fixed(_) => String::new(),
            CertMode::OnDemand | CertMode::Expired => sni.clone().unwrap_or_default(),
        };
        let mut cache = lock(&self.cache);
        if let Some(found) = cache.get(&key) {
            return Some(found.clone());
        }
        let ip = self.ip.to_string();
        let names: Vec<&str> = match (&self.mode, sni.as_deref()) {
            (CertMode::Fixed(names), _) => names.iter().map(String::as_str).collect(),
            (_, Some(sni)) => vec![sni],
            (_, None) => vec!["localhost", ip.as_str()],
        };
        let validity = match self.mode {
            CertMode::Expired => Validity::Expired,
            _ => Validity::Current,
        };
        let certified = self.ca.certified_key(&names, validity);
        cache.insert(key, certified.clone());
        Some(certified)
    }
}

// ---------------------------------------------------------------------------------------------
// Responses, requests, routes

/// What a route answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// 200 with this body.
    Ok { content_type: String, body: Vec<u8> },
    /// This status, with this body (text/plain).
    Status(u16, Vec<u8>),
    /// A redirect (301, 302, 303, 307, 308) to `location`, with an empty body.
    Redirect { status: u16, location: String },
    /// Read the request, never answer (the connection stays open until the server stops).
    Hang,
    /// A 200 (application/octet-stream) of `bytes` bytes, chunked, with no Content-Length:
    /// a client has to count and cut it off itself.
    Oversize { bytes: usize },
    /// A 200 of `bytes` bytes that says so in its Content-Length.
    OversizeDeclared { bytes: usize },
    /// A 200 (text/plain, chunked) whose body is `chunks` bytes of `x`, one each `interval`.
    Trickle { chunks: usize, interval: Duration },
    /// The inner response, after `delay`.
    Slow {
        delay: Duration,
        then: Box<Response>,
    },
    /// These bytes as they are, then close (for malformed responses).
    Raw(Vec<u8>),
    /// Forward the request (method, target and Host header) over plain HTTP/1.1 to this
    /// upstream and relay its answer as it comes: a TLS front for a real server, such as the
    /// reference PDS answering `/.well-known/atproto-did` for its handles.
    Proxy(SocketAddr),
}

impl Response {
    /// 200, text/plain.
    pub fn text(body: impl Into<Vec<u8>>) -> Response {
        Response::Ok {
            content_type: "text/plain".into(),
            body: body.into(),
        }
    }

    /// 200, application/json.
    pub fn json(body: impl Into<Vec<u8>>) -> Response {
        Response::Ok {
            content_type: "application/json".into(),
            body: body.into(),
        }
    }

    /// A status with a text body.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::Status(status, body.into())
    }

    /// A redirect.
    pub fn redirect(status: u16, location: impl Into<String>) -> Response {
        Response::Redirect {
            status,
            location: location.into(),
        }
    }

    /// `then`, after `delay`.
    pub fn slow(delay: Duration, then: Response) -> Response {
        Response::Slow {
            delay,
            then: Box::new(then),
        }
    }
}

/// One request a server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// The Host header as sent.
    pub host: Option<String>,
    /// The TLS server name the client sent (HTTPS only).
    pub sni: Option<String>,
    /// Every header, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
}

impl Request {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The target without its query.
    pub fn path(&self) -> &str {
        path_of(&self.target)
    }
}

#[derive(Default)]
struct SiteState {
    routes: HashMap<(String, String), Response>,
    log: Vec<Request>,
}

/// The routes and request log of a server; [`HttpServer`] and [`HttpsServer`] dereference to it.
#[derive(Clone, Default)]
pub struct Site {
    state: Arc<Mutex<SiteState>>,
}

fn normalize_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `host` without a `:port` (IPv6 literals keep their brackets).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((bare, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            bare.trim_end_matches('.')
        }
        _ => host,
    }
}

fn path_of(target: &str) -> &str {
    target.split_once('?').map_or(target, |(path, _)| path)
}

fn host_matches(sent: Option<&str>, wanted: &str) -> bool {
    let wanted = normalize_host(wanted);
    if wanted == "*" {
        return true;
    }
    let Some(sent) = sent else {
        return false;
    };
    let sent = normalize_host(sent);
    sent == wanted || strip_port(&sent) == wanted
}

impl Site {
    /// Answers requests for `host` (`*`: any host; with or without `:port`) and `path`
    /// (with a query, it matches only that query) with `response`, from now on.
    pub fn route(&self, host: &str, path: &str, response: Response) {
        lock(&self.state)
            .routes
            .insert((normalize_host(host), path.to_owned()), response);
    }

    /// Removes a route: the request gets a 404 again.
    pub fn unroute(&self, host: &str, path: &str) {
        lock(&self.state)
            .routes
            .remove(&(normalize_host(host), path.to_owned()));
    }

    /// How many requests for `host` (`*`: any; a host without a port matches the Host header
    /// with or without one) and `path` (a path without a query matches any query) arrived.
    pub fn hits(&self, host: &str, path: &str) -> usize {
        lock(&self.state)
            .log
            .iter()
            .filter(|r| host_matches(r.host.as_deref(), host))
            .filter(|r| r.target == path || r.path() == path)
            .count()
    }

    /// How many requests arrived in all.
    pub fn total_hits(&self) -> usize {
        lock(&self.state).log.len()
    }

    /// The Host header of the latest request (`None` if there was none, or no request).
    pub fn last_host(&self) -> Option<String> {
        lock(&self.state).log.last().and_then(|r| r.host.clone())
    }

    /// The latest request.
    pub fn last_request(&self) -> Option<Request> {
        lock(&self.state).log.last().cloned()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state).log.clone()
    }

    fn find(&self, host: Option<&str>, target: &str) -> Response {
        let state = lock(&self.state);
        let host = host.map(normalize_host).unwrap_or_default();
        let hosts = [host.as_str(), strip_port(&host), "*"];
        let paths = [target, path_of(target)];
        for h in hosts {
            for p in paths {
                if let Some(found) = state.routes.get(&(h.to_owned(), p.to_owned())) {
                    return found.clone();
                }
            }
        }
        Response::status(404, "not found\n")
    }

    fn log(&self, request: Request) {
        lock(&self.state).log.push(request);
    }
}

// ---------------------------------------------------------------------------------------------
// The servers

/// A plain-HTTP server. Stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    site: Site,
    task: AbortHandle,
}

/// An HTTPS server whose certificates the test CA signs. Stops when dropped.
pub struct HttpsServer {
    addr: SocketAddr,
    site: Site,
    task: AbortHandle,
}

impl Deref for HttpServer {
    type Target = Site;
    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Deref for HttpsServer {
    type Target = Site;
    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `port` on a fresh loopback address (see [`next_loopback_ip`]), moving on to the next
/// address while the address is taken.
async fn bind_loopback(port: u16) -> io::Result<TcpListener> {
    let mut last_error = None;
    for _ in 0..LOOPBACK_ATTEMPTS {
        let ip = next_loopback_ip();
        match TcpListener::bind((ip, port)).await {
            Ok(listener) => return Ok(listener),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable
                ) =>
            {
                last_error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no loopback address was free")))
}

impl HttpServer {
    /// Serves plain HTTP on `ip:port` (port 0: an ephemeral one). Panics if it cannot bind.
    pub async fn start(ip: Ipv4Addr, port: u16) -> HttpServer {
        HttpServer::try_start(ip, port)
            .await
            .expect("bind the HTTP server")
    }

    /// Like [`HttpServer::start`], returning the bind error.
    pub async fn try_start(ip: Ipv4Addr, port: u16) -> io::Result<HttpServer> {
        Ok(HttpServer::serve(TcpListener::bind((ip, port)).await?))
    }

    /// Serves plain HTTP on `port` of a loopback address of its own.
    pub async fn start_on_loopback(port: u16) -> HttpServer {
        HttpServer::serve(
            bind_loopback(port)
                .await
                .expect("bind the HTTP server on loopback"),
        )
    }

    fn serve(listener: TcpListener) -> HttpServer {
        let addr = listener.local_addr().expect("the HTTP server's address");
        let site = Site::default();
        let task = tokio::spawn(accept_loop(listener, site.clone(), None)).abort_handle();
        HttpServer { addr, site, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://host[:port]path` for this server's port (the port left out if it is 80).
    pub fn url(&self, host: &str, path: &str) -> String {
        match self.addr.port() {
            80 => format!("http://{host}{path}"),
            port => format!("http://{host}:{port}{path}"),
        }
    }
}

impl HttpsServer {
    /// Serves HTTPS on `ip:port` (port 0: an ephemeral one) with certificates issued on
    /// demand for each SNI name. Panics if it cannot bind.
    pub async fn start(ca: &TestCa, ip: Ipv4Addr, port: u16) -> HttpsServer {
        HttpsServer::start_with(ca, ip, port, CertMode::OnDemand).await
    }

    /// Like [`HttpsServer::start`], presenting certificates so.
    pub async fn start_with(ca: &TestCa, ip: Ipv4Addr, port: u16, mode: CertMode) -> HttpsServer {
        HttpsServer::try_start_with(ca, ip, port, mode)
            .await
            .expect("bind the HTTPS server")
    }

    /// Like [`HttpsServer::start_with`], returning the bind error.
    pub async fn try_start_with(
        ca: &TestCa,
        ip: Ipv4Addr,
        port: u16,
        mode: CertMode,
    ) -> io::Result<HttpsServer> {
        Ok(HttpsServer::serve(
            ca,
            TcpListener::bind((ip, port)).await?,
            mode,
        ))
    }

    /// Serves HTTPS on `port` (443 for handle and did:web resolution) of a loopback address of
    /// its own, with certificates issued on demand.
    pub async fn start_on_loopback(ca: &TestCa, port: u16) -> HttpsServer {
        HttpsServer::start_on_loopback_with(ca, port, CertMode::OnDemand).await
    }

    /// Like [`HttpsServer::start_on_loopback`], presenting certificates so.
    pub async fn start_on_loopback_with(ca: &TestCa, port: u16, mode: CertMode) -> HttpsServer {
        let listener = bind_loopback(port)
            .await
            .expect("bind the HTTPS server on loopback");
        HttpsServer::serve(ca, listener, mode)
    }

    fn serve(ca: &TestCa, listener: TcpListener, mode: CertMode) -> HttpsServer {
        let addr = listener.local_addr().expect("the HTTPS server's address");
        let resolver = CertResolver {
            ca: ca.clone(),
            mode,
            ip: addr.ip(),
            cache: Mutex::new(HashMap::new()),
        };
        let mut config = ServerConfig::builder_with_provider(ca.provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let site = Site::default();
        let task = tokio::spawn(accept_loop(listener, site.clone(), Some(acceptor))).abort_handle();
        HttpsServer { addr, site, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://host[:port]path` for this server's port (the port left out if it is 443).
    pub fn url(&self, host: &str, path: &str) -> String {
        match self.addr.port() {
            443 => format!("https://{host}{path}"),
            port => format!("https://{host}:{port}{path}"),
        }
    }
}

/// Accepts connections until aborted; the connections live in a set the loop owns, so
/// aborting the loop closes them too (hanging ones included).
async fn accept_loop(listener: TcpListener, site: Site, tls: Option<TlsAcceptor>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        let site = site.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            match tls {
                None => serve_connection(stream, peer, None, site).await,
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let sni = stream.get_ref().1.server_name().map(str::to_owned);
                    serve_connection(stream, peer, sni, site).await;
                }
            }
        });
    }
}

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// Reads one request, logs it, answers it by its route, and closes.
async fn serve_connection<S>(mut stream: S, peer: SocketAddr, sni: Option<String>, site: Site)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_HEAD {
            let _ = write_simple(&mut stream, 431, "text/plain", b"request head too large\n").await;
            let _ = stream.shutdown().await;
            return;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let Some(mut request) = parse_head(&buf[..head_end], peer, sni) else {
        let _ = write_simple(&mut stream, 400, "text/plain", b"bad request\n").await;
        let _ = stream.shutdown().await;
        return;
    };
    let body_len = request
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < body_len {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(body_len);
    request.body = body;

    let response = site.find(request.host.as_deref(), &request.target);
    if let Response::Proxy(upstream) = response {
        let head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            request.method,
            request.target,
            request.host.as_deref().unwrap_or("localhost")
        );
        site.log(request);
        if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
            if up.write_all(head.as_bytes()).await.is_ok() {
                let _ = tokio::io::copy(&mut up, &mut stream).await;
            }
        }
        let _ = stream.shutdown().await;
        return;
    }
    site.log(request);
    let _ = write_response(&mut stream, response).await;
    let _ = stream.shutdown().await;
}

fn parse_head(head: &[u8], peer: SocketAddr, sni: Option<String>) -> Option<Request> {
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    if !request_line.next()?.starts_with("HTTP/") {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let host = headers
        .iter()
        .find(|(n, _)| n == "host")
        .map(|(_, v)| v.clone());
    Some(Request {
        method,
        target,
        host,
        sni,
        headers,
        body: Vec::new(),
        peer,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

async fn write_simple<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

async fn write_chunk<S: AsyncWrite + Unpin>(stream: &mut S, data: &[u8]) -> io::Result<()> {
    stream
        .write_all(format!("{:x}\r\n", data.len()).as_bytes())
        .await?;
    stream.write_all(data).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

async fn write_response<S: AsyncWrite + Unpin>(
    stream: &mut S,
    mut response: Response,
) -> io::Result<()> {
    while let Response::Slow { delay, then } = response {
        tokio::time::sleep(delay).await;
        response = *then;
    }
    match response {
        Response::Ok { content_type, body } => {
            write_simple(stream, 200, &content_type, &body).await
        }
        Response::Status(status, body) => write_simple(stream, status, "text/plain", &body).await,
        Response::Redirect { status, location } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                reason(status)
            );
            stream.write_all(head.as_bytes()).await?;
            stream.flush().await
        }
        Response::Hang => std::future::pending().await,
        Response::Oversize { bytes } => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                )
                .await?;
            let block = vec![b'a'; 16 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(block.len());
                write_chunk(stream, &block[..n]).await?;
                left -= n;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            stream.flush().await
        }
        Response::OversizeDeclared { bytes } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let block = vec![b'a'; 16 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(block.len());
                stream.write_all(&block[..n]).await?;
                left -= n;
            }
            stream.flush().await
        }
        Response::Trickle { chunks, interval } => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                )
                .await?;
            stream.flush().await?;
            for _ in 0..chunks {
                tokio::time::sleep(interval).await;
                write_chunk(stream, b"x").await?;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            stream.flush().await
        }
        Response::Raw(bytes) => {
            stream.write_all(&bytes).await?;
            stream.flush().await
        }
        Response::Slow { .. } => unreachable!("slow responses are unwrapped above"),
        Response::Proxy(_) => unreachable!("proxied requests are relayed before this"),
    }
}
