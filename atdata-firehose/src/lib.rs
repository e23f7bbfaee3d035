//! AT Protocol event streams: `com.atproto.sync.subscribeRepos` (the firehose),
//! `com.atproto.label.subscribeLabels` and Jetstream.
//!
//! - [`frame`] / [`event`]: frames (header `{op, t}` + body), typed events from the generated
//!   `subscribeRepos` types, each commit's CAR slice indexed with every block's hash checked,
//!   records readable as `ValueRef`, `Value`, a tape or any serde type; size limits counted,
//!   never silent.
//! - [`verify`]: commit verification, `Off` / `Sig` (the signature with the repo's key from
//!   `atdata-identity`, one forced refresh before failing) / `Full` (Sync 1.1: every op against
//!   the MST, op inversion against `prevData`, the `rev`/`since` chain, revs in the future,
//!   `#sync` signatures).
//! - [`subscribe`]: the subscription client: a contiguous cursor in a [`CursorStore`] (file
//!   store with atomic writes), reconnects with jittered backoff, stall detection by ping,
//!   `ConsumerTooSlow` / `FutureCursor` / `OutdatedCursor` handled as the spec says, bounded
//!   buffers; an async stream, a blocking iterator, a callback runner and a parallel runner
//!   (each DID in order); `subscribeLabels` with label signatures checked.
//! - [`jetstream`]: Jetstream v1 and v2 clients, and a converter from `subscribeRepos` events
//!   to Jetstream v1 events (so a Jetstream consumer can run against any PDS or relay).
//! - [`replay`]: recorded frame files.
//!
//! ```no_run
//! use atdata_firehose::{subscribe::FileStore, Item, RepoEvent, Subscription};
//!
//! // Follow our dataset records across the network; resume where we stopped last time.
//! let events = Subscription::new()
//!     .host("wss://bsky.network")
//!     .cursor_store(FileStore::new("firehose.cursor"))
//!     .blocking()?;
//! for item in events {
//!     if let Item::Event(RepoEvent::Commit(commit)) = item? {
//!         for op in commit.ops().filter(|op| op.collection().starts_with("ac.foundation.dataset.")) {
//!             println!("{} {} {}", op.action.as_str(), commit.commit.repo, op.path);
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod event;
pub mod frame;
pub mod jetstream;
mod json;
pub mod replay;
pub mod subscribe;
pub mod verify;

pub use event::{
    decode_repo_frame, Action, BlockIndex, CommitEvent, Decoded, Invalid, InvalidEvent, Op,
    RepoEvent, SyncEvent,
};
pub use frame::{FrameError, Limits, StreamError};
pub use subscribe::{
    CursorStore, Events, FileStore, Item, LabelItem, LabelSubscription, MemoryStore,
    SubscribeError, Subscription,
};
pub use verify::{
    CommitVerifier, KeyError, KeySource, NoKeys, StaticKeys, VerifyError, VerifyLevel,
};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
