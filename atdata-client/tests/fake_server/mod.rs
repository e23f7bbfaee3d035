//! A FAKE XRPC server for fault tests: a few dozen lines of HTTP/1.1 over a tokio
//! `TcpListener` on 127.0.0.1, answering each request with whatever the test's handler says.
//!
//! It exists because the real PDS cannot be made to fail on demand (expire a token now, reset
//! a connection, send a 502 or broken JSON). It is not a PDS and knows nothing of atproto: the
//! tests that check behaviour against the real server are in `tests/pds.rs`.

// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the fake server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path with the query, e.g. `/xrpc/com.atproto.repo.getRecord?repo=…`.
    pub target: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The NSID from `/xrpc/<nsid>`.
    pub fn nsid(&self) -> &str {
        let path = self.target.split('?').next().unwrap_or("");
        path.strip_prefix("/xrpc/").unwrap_or(path)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// How the fake server answers.
pub enum Reply {
    /// A response with a `content-length`.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// Awaited before answering (a delay, a barrier).
        wait: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    },
    /// A 200 whose body has no length: `body` is written and the connection closed.
    Unframed { body: Vec<u8> },
    /// The connection is reset (RST) without an answer.
    Reset,
    /// A 200 that declares `len` bytes of body and then sends one byte every `every`: a
    /// server that never stalls long enough for a read timeout but never finishes either.
    Trickle { len: usize, every: Duration },
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            wait: None,
        }
    }

    pub fn error(status: u16, name: &str, message: &str) -> Reply {
        Reply::json(
            status,
            serde_json::json!({"error": name, "message": message}),
        )
    }

    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            wait: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    pub fn after(mut self, future: impl Future<Output = ()> + Send + 'static) -> Reply {
        if let Reply::Respond { wait, .. } = &mut self {
            *wait = Some(Box::pin(future));
        }
        self
    }

    pub fn delayed(self, delay: Duration) -> Reply {
        self.after(tokio::time::sleep(delay))
    }
}

type Handler = Arc<dyn Fn(Request) -> Reply + Send + Sync>;

/// A running fake server; it stops when dropped.
pub struct FakeServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Starts a server on a free port of 127.0.0.1 that answers with `handler`.
    pub async fn start(handler: impl Fn(Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let handler: Handler = Arc::new(handler);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = Arc::clone(&handler);
                tokio::spawn(async move {
                    let _ = serve(stream, handler).await;
                });
            }
        });
        FakeServer { url, task }
    }
}

/// Answers requests on one connection until it closes.
async fn serve(mut stream: TcpStream, handler: Handler) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await? else {
            return Ok(());
        };
        match handler(request) {
            Reply::Respond {
                status,
                headers,
                body,
                wait,
            } => {
                if let Some(wait) = wait {
                    wait.await;
                }
                let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
            }
            Reply::Unframed { body } => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                stream.write_all(head.as_bytes()).await?;
                // Written in pieces, as a server streaming a large body would.
                for piece in body.chunks(64 * 1024) {
                    if stream.write_all(piece).await.is_err() {
                        return Ok(());
                    }
                }
                return stream.shutdown().await;
            }
            Reply::Trickle { len, every } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
                for _ in 0..len {
                    tokio::time::sleep(every).await;
                    if stream.write_all(b" ").await.is_err() {
                        return Ok(());
                    }
                }
                return Ok(());
            }
            Reply::Reset => {
                // Linger 0: closing sends RST instead of FIN, as a crashed peer would. (tokio
                // deprecates it because a non-zero linger blocks on drop; zero does not.)
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
        }
    }
}

/// Reads one request (head and `content-length` body); `None` when the peer closed.
async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("").to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    buffer.drain(..head_end + 4);
    while buffer.len() < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer.drain(..length).collect();
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}
