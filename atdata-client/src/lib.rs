//! # atdata-client
//!
//! The AT Protocol XRPC client, over the API types of [`atdata_api`] (re-exported here, so
//! `atdata_client::app::bsky::feed::Post` is [`atdata_api::app::bsky::feed::Post`]): one module
//! per lexicon document, with records, objects, unions, and a request type per query and
//! procedure that implements [`atdata_core::xrpc::XrpcRequest`].
//!
//! Each namespace is a cargo feature (`com-atproto`, `app-bsky`, `chat-bsky`, `tools-ozone`, all
//! on by default), passed on to `atdata-api`; a feature turns on those whose types it uses.
//!
//! ```
//! # #[cfg(feature = "app-bsky")] {
//! use atdata_client::app::bsky::feed::{GetTimeline, Post};
//! use atdata_core::{cbor, Datetime};
//!
//! let post = Post::new("hello world", "2024-05-01T12:00:00.000Z".parse::<Datetime>()?)
//!     .langs(vec!["en".parse()?]);
//! let bytes = cbor::to_vec(&post)?;
//! let back: Post = cbor::from_slice(&bytes)?;
//! assert_eq!(back, post);
//!
//! let request = GetTimeline::new().limit(50);
//! # let _ = request;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The client (feature `http`, on by default)
//!
//! [`Client`] sends any request type with one generic [`send`](Client::send) (and any method
//! by its NSID with [`call_raw`](Client::call_raw)), logs in and keeps the session fresh (one
//! refresh in flight however many calls find the token expired), retries what is safe to
//! retry, and has first-class calls for records of any collection ([`records`]), blobs and
//! repository exports. [`blocking::Client`] is the same for code without an async runtime.
//!
//! ```no_run
//! # #[cfg(feature = "http")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use atdata_client::Client;
//!
//! let client = Client::new("http://localhost:2583")?;
//! client.login("alice.test", "password").await?;
//! let schema = serde_json::json!({"name": "mnist", "version": "1.0.0"});
//! let written = client
//!     .create_record("ac.foundation.dataset.sampleSchema", &schema)
//!     .validate(false)
//!     .await?;
//! println!("{} {}", written.uri, written.cid);
//! # Ok(()) }
//! ```
//!
//! Errors keep the server's answer ([`Error::Xrpc`], with the method's declared error names
//! typed) apart from network failures ([`Error::Transport`]). No error, `Debug` output or log
//! line holds a password or token.
//!
//! Without the `http` feature the crate is the re-exported types only; any transport can send
//! them through the [`atdata_core::xrpc`] traits.

/// The generated API types ([`atdata_api`]), also re-exported at this crate's root.
pub use atdata_api as api;

#[cfg(feature = "http")]
mod auth;
#[cfg(feature = "http")]
mod blobs;
#[cfg(feature = "http")]
pub mod blocking;
#[cfg(feature = "http")]
mod builder;
#[cfg(feature = "http")]
mod call_options;
#[cfg(feature = "http")]
mod client;
#[cfg(feature = "http")]
mod error;
#[cfg(feature = "http")]
mod into_identifier;
#[cfg(feature = "http")]
mod rate_limit;
#[cfg(feature = "http")]
mod raw;
#[cfg(feature = "http")]
pub mod records;
#[cfg(feature = "http")]
mod retry;
/// The namespaced methods (`client.com.atproto.repo.create_record(&req)`), generated.
#[cfg(feature = "http")]
pub mod services;
#[cfg(feature = "http")]
mod session;
#[cfg(feature = "http")]
mod transport;

#[cfg(feature = "http")]
pub use auth::SessionChange;
#[cfg(feature = "http")]
pub use builder::{BuildError, ClientBuilder, DEFAULT_SERVICE, DEFAULT_TIMEOUT};
#[cfg(feature = "http")]
pub use call_options::CallOptions;
#[cfg(feature = "http")]
pub use client::Client;
#[cfg(feature = "http")]
pub use error::{Error, XrpcErrorKind};
#[cfg(feature = "http")]
pub use into_identifier::IntoIdentifier;
#[cfg(feature = "http")]
pub use rate_limit::RateLimit;
#[cfg(feature = "http")]
pub use raw::RawResponse;
#[cfg(feature = "http")]
pub use retry::RetryPolicy;
#[cfg(feature = "http")]
pub use session::{Account, Session, SessionError};

// The namespace modules (`app`, `com`, …) and `ids`, at the crate root: whichever features are on.
pub use atdata_api::*;
