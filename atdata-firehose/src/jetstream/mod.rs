//! Jetstream: the JSON view of the firehose that `bluesky-social/jetstream` serves.
//!
//! - [`JetstreamEvent`]: the v1 events, typed (serde).
//! - [`Converter`]: `subscribeRepos` events to v1 events, so a Jetstream consumer can run
//!   against any PDS or relay.
//! - [`subscribe`]: a v1 client (`/subscribe`) with filters, zstd compression, run-time
//!   `options_update`, and reconnection that resumes without loss or duplicates.
//! - [`v2`]: `network.bsky.jetstream.subscribeEvents` (`xrpc.v1.json` frames, typed events,
//!   error frames) with its own reconnecting client.
//!
//! ```no_run
//! use atdata_firehose::jetstream::{subscribe, ClientConfig, Item, SubscribeOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let options = SubscribeOptions::new()
//!     .collections(["app.bsky.feed.post"])
//!     .compress(true);
//! let mut events = subscribe(
//!     "wss://jetstream1.us-east.bsky.network",
//!     options,
//!     ClientConfig::default(),
//! )?;
//! while let Some(item) = events.next().await {
//!     match item {
//!         Item::Event(event) => {
//!             if let Some(commit) = &event.commit {
//!                 println!("{} {} {}", event.did, commit.operation.as_str(), commit.rkey);
//!             }
//!         }
//!         Item::Reconnecting { error, delay, .. } => eprintln!("{error}; again in {delay:?}"),
//!         other => eprintln!("{other:?}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod convert;
pub mod event;
pub mod v2;
pub mod zstd_dict;

pub use client::{
    subscribe, ClientConfig, Item, OptionsError, SubscribeOptions, Subscription,
    MAX_WANTED_COLLECTIONS, MAX_WANTED_DIDS,
};
pub use convert::{system_time_us, Converter};
pub use event::{Account, Commit, Identity, JetstreamEvent, Kind, Operation};
pub use zstd_dict::{DecompressError, Decompressor, V1_DICTIONARY};
