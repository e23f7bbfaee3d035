//! A programmable authoritative DNS server on 127.0.0.1, over UDP and TCP on one port.
//!
//! The zone (TXT, A, AAAA records, wildcard A records, and per-name faults) can be changed
//! while the server runs; each name's queries are counted. Names are compared without case and
//! without a trailing dot. A name with no record of any kind gets NXDOMAIN; a name that has
//! records, but none of the asked type, gets an empty NOERROR answer.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, TXT};
use hickory_proto::rr::{RData, Record, RecordType};
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use super::lock;

/// The TTL of every record served, unless [`DnsServer::set_ttl`] says otherwise.
pub const TTL: u32 = 60;

/// A misbehaviour for one name (whatever the record type asked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Never reply: the client times out.
    NoAnswer,
    /// Reply SERVFAIL.
    ServFail,
    /// Reply REFUSED.
    Refused,
    /// Reply normally, but only after this long.
    Delay(Duration),
    /// Over UDP reply with an empty, truncated (TC) message, so the client must retry over
    /// TCP; over TCP reply normally.
    TruncateUdp,
}

/// The transport a query came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

struct Zone {
    ttl: u32,
    txt: HashMap<String, Vec<String>>,
    a: HashMap<String, Vec<Ipv4Addr>>,
    aaaa: HashMap<String, Vec<Ipv6Addr>>,
    /// (suffix, address): any name strictly below the suffix has this A record, unless the
    /// name has A records of its own.
    a_wildcards: Vec<(String, Ipv4Addr)>,
    faults: HashMap<String, Fault>,
    queries: HashMap<String, usize>,
    queries_by_transport: HashMap<(String, Transport), usize>,
    total: usize,
}

impl Default for Zone {
    fn default() -> Self {
        Zone {
            ttl: TTL,
            txt: HashMap::new(),
            a: HashMap::new(),
            aaaa: HashMap::new(),
            a_wildcards: Vec::new(),
            faults: HashMap::new(),
            queries: HashMap::new(),
            queries_by_transport: HashMap::new(),
            total: 0,
        }
    }
}

impl Zone {
    fn wildcard_a(&self, name: &str) -> Option<Ipv4Addr> {
        self.a_wildcards
            .iter()
            .rev()
            .find(|(suffix, _)| {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix.as_str())
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
            })
            .map(|(_, ip)| *ip)
    }

    fn exists(&self, name: &str) -> bool {
        self.txt.contains_key(name)
            || self.a.contains_key(name)
            || self.aaaa.contains_key(name)
            || self.wildcard_a(name).is_some()
    }
}

/// Lower case, no trailing dot: the form every name is kept and compared in.
pub fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A DNS server listening on 127.0.0.1 (UDP and TCP, same port). Stops when dropped.
pub struct DnsServer {
    addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    tasks: Vec<AbortHandle>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

enum Action {
    Reply(Vec<u8>),
    Delayed(Duration, Vec<u8>),
    Silence,
}

impl DnsServer {
    /// Binds UDP and TCP on one free port of 127.0.0.1 and serves in background tasks of the
    /// current tokio runtime.
    pub async fn start() -> DnsServer {
        let (udp, tcp) = bind_pair()
            .await
            .expect("bind the DNS server's UDP and TCP sockets");
        let addr = udp.local_addr().expect("the DNS server's address");
        let zone = Arc::new(Mutex::new(Zone::default()));
        let udp_task = tokio::spawn(serve_udp(Arc::new(udp), zone.clone())).abort_handle();
        let tcp_task = tokio::spawn(serve_tcp(tcp, zone.clone())).abort_handle();
        DnsServer {
            addr,
            zone,
            tasks: vec![udp_task, tcp_task],
        }
    }

    /// Where the server listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A hickory name server entry for this server: UDP and TCP, on its port.
    pub fn name_server_config(&self) -> NameServerConfig {
        let mut config = NameServerConfig::udp_and_tcp(self.addr.ip());
        for connection in &mut config.connections {
            connection.port = self.addr.port();
        }
        config
    }

    /// A hickory resolver configuration with this server as its only name server, and no
    /// search domains.
    pub fn resolver_config(&self) -> ResolverConfig {
        ResolverConfig::from_parts(None, vec![], vec![self.name_server_config()])
    }

    /// The TTL of every record served from now on (0: clients should not cache them).
    /// Negative answers carry no SOA record, so hickory does not cache them anyway.
    pub fn set_ttl(&self, ttl: u32) {
        lock(&self.zone).ttl = ttl;
    }

    /// Replaces the TXT records of `name`: one TXT record per string (a string longer than 255
    /// bytes is split into several character-strings of one record).
    pub fn set_txt<S: Into<String>>(&self, name: &str, records: impl IntoIterator<Item = S>) {
        let records = records.into_iter().map(Into::into).collect();
        lock(&self.zone).txt.insert(normalize(name), records);
    }

    /// Replaces the A records of `name` with this one.
    pub fn set_a(&self, name: &str, ip: Ipv4Addr) {
        lock(&self.zone).a.insert(normalize(name), vec![ip]);
    }

    /// Replaces the A records of `name` with these.
    pub fn set_a_many(&self, name: &str, ips: impl IntoIterator<Item = Ipv4Addr>) {
        lock(&self.zone)
            .a
            .insert(normalize(name), ips.into_iter().collect());
    }

    /// Every name strictly below `suffix` (`"test"` or `"*.test"` both mean `*.test`) gets
    /// this A record, unless it has A records of its own. A later wildcard wins over an
    /// earlier one where both match.
    pub fn set_a_wildcard(&self, suffix: &str, ip: Ipv4Addr) {
        let suffix = normalize(suffix.trim_start_matches("*."));
        let mut zone = lock(&self.zone);
        zone.a_wildcards.retain(|(s, _)| *s != suffix);
        zone.a_wildcards.push((suffix, ip));
    }

    /// Replaces the AAAA records of `name` with this one.
    pub fn set_aaaa(&self, name: &str, ip: Ipv6Addr) {
        lock(&self.zone).aaaa.insert(normalize(name), vec![ip]);
    }

    /// Removes every record and the fault of `name` (and a wildcard whose suffix is `name`,
    /// given as `*.suffix`). Query counts are kept.
    pub fn remove(&self, name: &str) {
        let mut zone = lock(&self.zone);
        if let Some(suffix) = name.strip_prefix("*.") {
            let suffix = normalize(suffix);
            zone.a_wildcards.retain(|(s, _)| *s != suffix);
            return;
        }
        let name = normalize(name);
        zone.txt.remove(&name);
        zone.a.remove(&name);
        zone.aaaa.remove(&name);
        zone.faults.remove(&name);
    }

    /// Removes only the TXT records of `name`.
    pub fn remove_txt(&self, name: &str) {
        lock(&self.zone).txt.remove(&normalize(name));
    }

    /// Makes every query for `name` misbehave so.
    pub fn set_fault(&self, name: &str, fault: Fault) {
        lock(&self.zone).faults.insert(normalize(name), fault);
    }

    /// Lets `name` be answered normally again.
    pub fn clear_fault(&self, name: &str) {
        lock(&self.zone).faults.remove(&normalize(name));
    }

    /// How many queries (any type, any transport) for `name` the server has received.
    pub fn queries(&self, name: &str) -> usize {
        lock(&self.zone)
            .queries
            .get(&normalize(name))
            .copied()
            .unwrap_or(0)
    }

    /// How many queries for `name` came in over this transport.
    pub fn queries_over(&self, name: &str, transport: Transport) -> usize {
        let zone = lock(&self.zone);
        zone.queries_by_transport
            .get(&(normalize(name), transport))
            .copied()
            .unwrap_or(0)
    }

    /// How many queries the server has received in all.
    pub fn total_queries(&self) -> usize {
        lock(&self.zone).total
    }
}

/// Binds UDP on a free port of 127.0.0.1, then TCP on the same port; tries again on another
/// port when that TCP port is taken.
async fn bind_pair() -> io::Result<(UdpSocket, TcpListener)> {
    let mut last_error = None;
    for _ in 0..64 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free port")))
}

async fn serve_udp(socket: Arc<UdpSocket>, zone: Arc<Mutex<Zone>>) {
    let mut delayed = JoinSet::new();
    let mut buf = vec![0u8; 65_535];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        while delayed.try_join_next().is_some() {}
        match respond(&zone, &buf[..len], Transport::Udp) {
            Action::Reply(bytes) => {
                let _ = socket.send_to(&bytes, peer).await;
            }
            Action::Delayed(delay, bytes) => {
                let socket = socket.clone();
                delayed.spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = socket.send_to(&bytes, peer).await;
                });
            }
            Action::Silence => {}
        }
    }
}

async fn serve_tcp(listener: TcpListener, zone: Arc<Mutex<Zone>>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_tcp_connection(stream, zone.clone()));
    }
}

/// Serves the queries of one TCP connection (2-byte length prefix framing). Queries are
/// answered as they come, delayed ones later, all through one writer.
async fn serve_tcp_connection(stream: TcpStream, zone: Arc<Mutex<Zone>>) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        while let Some(bytes) = rx.recv().await {
            let Ok(len) = u16::try_from(bytes.len()) else {
                continue;
            };
            let mut framed = Vec::with_capacity(bytes.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(&bytes);
            if writer.write_all(&framed).await.is_err() {
                return;
            }
        }
    });
    loop {
        let mut len = [0u8; 2];
        if reader.read_exact(&mut len).await.is_err() {
            break;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if reader.read_exact(&mut query).await.is_err() {
            break;
        }
        match respond(&zone, &query, Transport::Tcp) {
            Action::Reply(bytes) => {
                let _ = tx.send(bytes);
            }
            Action::Delayed(delay, bytes) => {
                let tx = tx.clone();
                tasks.spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(bytes);
                });
            }
            Action::Silence => {}
        }
    }
    // The client closed its side: let pending (delayed) answers go out, then close.
    drop(tx);
    while tasks.join_next().await.is_some() {}
}

/// Builds the answer to one query message.
fn respond(zone: &Mutex<Zone>, query: &[u8], transport: Transport) -> Action {
    let Ok(request) = Message::from_vec(query) else {
        return match query {
            // Enough of a header to echo its id: say FORMERR.
            [hi, lo, ..] if query.len() >= 12 => {
                let id = u16::from_be_bytes([*hi, *lo]);
                encode(Message::error_msg(id, OpCode::Query, ResponseCode::FormErr))
            }
            _ => Action::Silence,
        };
    };
    if request.metadata.message_type != MessageType::Query {
        return Action::Silence;
    }

    let mut response = Message::new(
        request.metadata.id,
        MessageType::Response,
        request.metadata.op_code,
    );
    response.metadata = Metadata::response_from_request(&request.metadata);
    response.metadata.authoritative = true;
    response.metadata.recursion_available = true;
    // The question goes back exactly as asked (hickory may randomise its case and checks it).
    response.add_queries(request.queries.iter().cloned());
    let udp_limit = match &request.edns {
        Some(edns) => {
            let mut reply_edns = Edns::new();
            reply_edns.set_max_payload(4096);
            response.set_edns(reply_edns);
            usize::from(edns.max_payload().max(512))
        }
        None => 512,
    };

    let [question] = request.queries.as_slice() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return encode(response);
    };
    if request.metadata.op_code != OpCode::Query {
        response.metadata.response_code = ResponseCode::NotImp;
        return encode(response);
    }

    let name = normalize(&question.name().to_ascii());
    let mut zone = lock(zone);
    *zone.queries.entry(name.clone()).or_default() += 1;
    *zone
        .queries_by_transport
        .entry((name.clone(), transport))
        .or_default() += 1;
    zone.total += 1;

    let mut delay = None;
    match zone.faults.get(&name).copied() {
        Some(Fault::NoAnswer) => return Action::Silence,
        Some(Fault::ServFail) => {
            response.metadata.response_code = ResponseCode::ServFail;
            return encode(response);
        }
        Some(Fault::Refused) => {
            response.metadata.response_code = ResponseCode::Refused;
            return encode(response);
        }
        Some(Fault::TruncateUdp) if transport == Transport::Udp => {
            response.metadata.truncation = true;
            return encode(response);
        }
        Some(Fault::Delay(d)) => delay = Some(d),
        Some(Fault::TruncateUdp) | None => {}
    }

    let owner = question.name().clone();
    let ttl = zone.ttl;
    let record = |rdata: RData| Record::from_rdata(owner.clone(), ttl, rdata);
    let answers: Vec<Record> = match question.query_type() {
        RecordType::TXT => zone
            .txt
            .get(&name)
            .map(|texts| {
                texts
                    .iter()
                    .map(|text| {
                        let chunks: Vec<&[u8]> = if text.is_empty() {
                            vec![&[][..]]
                        } else {
                            text.as_bytes().chunks(255).collect()
                        };
                        record(RData::TXT(TXT::from_bytes(chunks)))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        RecordType::A => match zone.a.get(&name) {
            Some(ips) => ips.iter().map(|ip| record(RData::A(A(*ip)))).collect(),
            None => zone
                .wildcard_a(&name)
                .map(|ip| vec![record(RData::A(A(ip)))])
                .unwrap_or_default(),
        },
        RecordType::AAAA => zone
            .aaaa
            .get(&name)
            .map(|ips| {
                ips.iter()
                    .map(|ip| record(RData::AAAA(AAAA(*ip))))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if answers.is_empty() && !zone.exists(&name) {
        response.metadata.response_code = ResponseCode::NXDomain;
    }
    drop(zone);
    response.add_answers(answers);

    let Ok(mut bytes) = response.to_vec() else {
        return encode(Message::error_msg(
            request.metadata.id,
            OpCode::Query,
            ResponseCode::ServFail,
        ));
    };
    if transport == Transport::Udp && bytes.len() > udp_limit {
        match response.truncate().to_vec() {
            Ok(truncated) => bytes = truncated,
            Err(_) => return Action::Silence,
        }
    }
    match delay {
        Some(d) => Action::Delayed(d, bytes),
        None => Action::Reply(bytes),
    }
}

fn encode(message: Message) -> Action {
    match message.to_vec() {
        Ok(bytes) => Action::Reply(bytes),
        Err(_) => Action::Silence,
    }
}
