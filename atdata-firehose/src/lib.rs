//! AT Protocol event streams: `com.atproto.sync.subscribeRepos` (the firehose),
//! `com.atproto.label.subscribeLabels` and Jetstream.
//!
//! (Work in progress: see issue 12.)

pub mod event;
pub mod frame;
pub mod jetstream;
mod json;
pub mod replay;
pub mod subscribe;

pub use event::{
    decode_repo_frame, Action, BlockIndex, CommitEvent, Decoded, Invalid, InvalidEvent, Op,
    RepoEvent, SyncEvent,
};
pub use frame::{FrameError, Limits, StreamError};
pub use subscribe::{
    CursorStore, Events, FileStore, Item, LabelItem, LabelSubscription, MemoryStore,
    SubscribeError, Subscription,
};
