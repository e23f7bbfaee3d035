//! `com.atproto.label.subscribeLabels`: a labeler's labels, through the same connection
//! machinery as the firehose.
//!
//! Labels are handed out as sent. Checking each label's signature against the issuer's
//! `#atproto_label` key is not done here yet.

use atdata_api::com::atproto::label::defs::Label;
use atdata_api::com::atproto::label::subscribe_labels::{Info, Message, SubscribeLabels};
use atdata_core::xrpc::XrpcSubscription as _;

use super::connection::{Protocol, Step};
use super::runner::{BlockingEvents, Events, PartitionKey};
use super::{common_settings, runner, Options, SubscribeError};
use crate::event::{Invalid, InvalidEvent};
use crate::frame::{split, Frame, FrameError, Limits};

/// One item of `subscribeLabels`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LabelItem {
    /// `#labels`: labels (and negations) at one seq.
    Labels {
        /// The stream sequence number.
        seq: i64,
        /// The labels.
        labels: Vec<Label>,
    },
    /// A message that did not decode, or was over the size limit.
    Invalid(Box<InvalidEvent>),
    /// `#info` from the server (`OutdatedCursor`, …).
    Info(Box<Info>),
}

impl PartitionKey for LabelItem {
    fn partition_key(&self) -> Option<&str> {
        None
    }
}

struct Labels;

impl Protocol for Labels {
    type Item = LabelItem;
    const NSID: &'static str = SubscribeLabels::NSID;

    fn decode(&self, bytes: &[u8], limits: &Limits) -> Result<Step<LabelItem>, FrameError> {
        let invalid = |kind: &str, reason| Step::Item {
            item: LabelItem::Invalid(Box::new(InvalidEvent {
                seq: None,
                repo: None,
                kind: kind.to_owned(),
                reason,
            })),
            seq: None,
            invalid: true,
        };
        if bytes.len() > limits.max_message {
            return Ok(invalid(
                "",
                Invalid::MessageTooLarge {
                    size: bytes.len(),
                    limit: limits.max_message,
                },
            ));
        }
        let (t, body) = match split(bytes)? {
            Frame::Error(e) => return Ok(Step::Error(e)),
            Frame::Message { t, body } => (t, body),
        };
        Ok(match SubscribeLabels::decode_message(t, body) {
            Err(e) => invalid(t, Invalid::Body(e.to_string())),
            Ok(Message::Labels(labels)) => Step::Item {
                seq: Some(labels.seq),
                item: LabelItem::Labels {
                    seq: labels.seq,
                    labels: labels.labels,
                },
                invalid: false,
            },
            Ok(Message::Info(info)) => Step::Item {
                item: LabelItem::Info(info),
                seq: None,
                invalid: false,
            },
            Ok(Message::Unknown(_)) => Step::Skip(t.to_owned()),
        })
    }
}

/// A `com.atproto.label.subscribeLabels` subscription, being set up. The host is the
/// labeler's service endpoint.
#[derive(Debug, Clone)]
pub struct LabelSubscription {
    options: Options,
}

impl LabelSubscription {
    /// A subscription to `host`, starting live, its cursor kept in memory.
    pub fn new(host: impl Into<String>) -> Self {
        let mut options = Options::new();
        options.host = host.into();
        LabelSubscription { options }
    }

    common_settings!();

    /// Starts, on the current Tokio runtime: a stream of items.
    pub fn stream(self) -> Result<Events<LabelItem>, SubscribeError> {
        self.options.spawn(Labels)
    }

    /// Starts on a runtime of its own: a blocking iterator of items.
    pub fn blocking(self) -> Result<BlockingEvents<LabelItem>, SubscribeError> {
        let runtime = runner::blocking_runtime()?;
        let events = {
            let _guard = runtime.enter();
            self.stream()?
        };
        Ok(BlockingEvents::new(events, runtime))
    }
}
