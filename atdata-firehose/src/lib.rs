//! AT Protocol event streams: `com.atproto.sync.subscribeRepos` (the firehose),
//! `com.atproto.label.subscribeLabels` and Jetstream.
//!
//! (Work in progress: see issue 12.)

pub mod event;
pub mod frame;
pub mod replay;
pub mod verify;

pub use event::{
    decode_repo_frame, Action, BlockIndex, CommitEvent, Decoded, Invalid, InvalidEvent, Op,
    RepoEvent, SyncEvent,
};
pub use frame::{FrameError, Limits, StreamError};
pub use verify::{
    CommitVerifier, KeyError, KeySource, NoKeys, StaticKeys, VerifyError, VerifyLevel,
};
