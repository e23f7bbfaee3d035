//! A DNS server over UDP on 127.0.0.1 for handles' `_atproto` TXT records.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A DNS server over UDP on 127.0.0.1 that answers TXT queries from its table; every other
/// name does not exist (NXDOMAIN), and other types of a known name have no records.
pub struct DnsServer {
    pub addr: std::net::SocketAddr,
    txt: Arc<Mutex<HashMap<String, String>>>,
    queries: Arc<AtomicUsize>,
}

impl DnsServer {
    pub fn start() -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = socket.local_addr().expect("addr");
        let txt = Arc::new(Mutex::new(HashMap::<String, String>::new()));
        let queries = Arc::new(AtomicUsize::new(0));
        let (table, count) = (Arc::clone(&txt), Arc::clone(&queries));
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let table = table.lock().expect("lock").clone();
                if let Some(answer) = dns_answer(&buf[..n], &table) {
                    let _ = socket.send_to(&answer, peer);
                }
            }
        });
        DnsServer { addr, txt, queries }
    }

    pub fn set_txt(&self, name: &str, value: &str) {
        self.txt
            .lock()
            .expect("lock")
            .insert(name.to_ascii_lowercase(), value.to_owned());
    }

    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

/// The answer to one DNS query (RFC 1035 §4): the question echoed, and one TXT record when
/// the table has one for the name.
fn dns_answer(query: &[u8], table: &HashMap<String, String>) -> Option<Vec<u8>> {
    const TXT: u16 = 16;
    let header = query.get(..12)?;
    // The question: labels up to the root, then type and class.
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question = query.get(12..at + 4)?;
    let name = labels.join(".");
    let record = table.get(&name);
    let answer = record.filter(|_| qtype == TXT);
    let rcode: u16 = if record.is_some() { 0 } else { 3 };
    // QR, the query's opcode and RD, AA, RA, and the response code.
    let flags = 0x8000 | (u16::from_be_bytes([header[2], header[3]]) & 0x7900) | 0x0400 | 0x0080;
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&header[..2]);
    out.extend_from_slice(&(flags | rcode).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&u16::from(answer.is_some()).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    if let Some(text) = answer {
        let text = text.as_bytes();
        let text_len = u8::try_from(text.len()).ok()?;
        out.extend_from_slice(&[0xc0, 0x0c]); // the name: a pointer to the question's
        out.extend_from_slice(&TXT.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&60u32.to_be_bytes());
        out.extend_from_slice(&(u16::from(text_len) + 1).to_be_bytes());
        out.push(text_len);
        out.extend_from_slice(text);
    }
    Some(out)
}
