//! `com.atproto.label.subscribeLabels`: a labeler's labels, through the same connection
//! machinery as the firehose.
//!
//! Labels are handed out as sent unless [`LabelSubscription::verify_with`] is set: then each
//! label's signature is checked against its issuer's `#atproto_label` key, and a message with
//! a label that fails becomes [`LabelItem::Invalid`].

use std::sync::Arc;

use atdata_api::com::atproto::label::defs::Label;
use atdata_api::com::atproto::label::subscribe_labels::{Info, Message, SubscribeLabels};
use atdata_core::syntax::Did;
use atdata_core::xrpc::XrpcSubscription as _;
use atdata_crypto::PublicKey;
use futures_util::future::BoxFuture;

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

/// Finds a labeler's label-signing key (`#atproto_label` in its DID document).
pub trait LabelKeys: Send + Sync {
    /// The key `src` signs labels with.
    fn labeler_key<'a>(&'a self, src: &'a Did) -> BoxFuture<'a, Result<PublicKey, String>>;

    /// The key again, bypassing any cache: called once when a label fails with the first
    /// key, in case the labeler rotated it. By default the same as
    /// [`labeler_key`](LabelKeys::labeler_key).
    fn fresh_labeler_key<'a>(&'a self, src: &'a Did) -> BoxFuture<'a, Result<PublicKey, String>> {
        self.labeler_key(src)
    }
}

impl LabelKeys for atdata_identity::Resolver {
    fn labeler_key<'a>(&'a self, src: &'a Did) -> BoxFuture<'a, Result<PublicKey, String>> {
        Box::pin(async move {
            let identity = self.lookup_did(src).await.map_err(|e| e.to_string())?;
            identity.labeler_key().map_err(|e| e.to_string())
        })
    }

    fn fresh_labeler_key<'a>(&'a self, src: &'a Did) -> BoxFuture<'a, Result<PublicKey, String>> {
        Box::pin(async move {
            let id = atdata_core::syntax::AtIdentifier::from(src.clone());
            let identity = self.refresh(&id).await.map_err(|e| e.to_string())?;
            identity.labeler_key().map_err(|e| e.to_string())
        })
    }
}

/// Checks a label's signature: `sig` over the DAG-CBOR of the label without `sig`.
pub fn verify_label(label: &Label, key: &PublicKey) -> Result<(), String> {
    let Some(sig) = &label.sig else {
        return Err("no signature".into());
    };
    let mut unsigned = label.clone();
    unsigned.sig = None;
    let bytes = atdata_core::cbor::to_vec(&unsigned).map_err(|e| e.to_string())?;
    key.verify(&bytes, &sig.0).map_err(|e| e.to_string())
}

struct Labels {
    keys: Option<Arc<dyn LabelKeys>>,
}

impl Labels {
    async fn verify(&self, keys: &dyn LabelKeys, labels: &[Label]) -> Result<(), String> {
        for (i, label) in labels.iter().enumerate() {
            let key = keys
                .labeler_key(&label.src)
                .await
                .map_err(|e| format!("label {i} from {}: key: {e}", label.src.as_str()))?;
            let mut result = verify_label(label, &key);
            if result.is_err() {
                // Perhaps a rotated key: look it up afresh, once.
                if let Ok(fresh) = keys.fresh_labeler_key(&label.src).await {
                    if fresh != key {
                        result = verify_label(label, &fresh);
                    }
                }
            }
            result.map_err(|e| {
                format!(
                    "label {i} ({} on {}) from {}: {e}",
                    label.val,
                    label.uri.as_str(),
                    label.src.as_str()
                )
            })?;
        }
        Ok(())
    }
}

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

    fn check(&self, item: LabelItem) -> BoxFuture<'_, (LabelItem, bool)> {
        Box::pin(async move {
            let (Some(keys), LabelItem::Labels { seq, labels }) = (&self.keys, &item) else {
                return (item, false);
            };
            match self.verify(keys.as_ref(), labels).await {
                Ok(()) => (item, false),
                Err(reason) => {
                    let invalid = InvalidEvent {
                        seq: Some(*seq),
                        repo: None,
                        kind: "#labels".into(),
                        reason: Invalid::Verify(reason),
                    };
                    (LabelItem::Invalid(Box::new(invalid)), true)
                }
            }
        })
    }
}

/// A `com.atproto.label.subscribeLabels` subscription, being set up. The host is the
/// labeler's service endpoint.
#[derive(Clone)]
pub struct LabelSubscription {
    options: Options,
    keys: Option<Arc<dyn LabelKeys>>,
}

impl std::fmt::Debug for LabelSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelSubscription")
            .field("options", &self.options)
            .field("verify", &self.keys.is_some())
            .finish()
    }
}

impl LabelSubscription {
    /// A subscription to `host`, starting live, its cursor kept in memory.
    pub fn new(host: impl Into<String>) -> Self {
        let mut options = Options::new();
        options.host = host.into();
        LabelSubscription {
            options,
            keys: None,
        }
    }

    common_settings!();

    /// Checks every label's signature with its issuer's key from `keys` (an
    /// [`atdata_identity::Resolver`], or your own key source); a message with a label that
    /// fails becomes [`LabelItem::Invalid`] with [`Invalid::Verify`].
    pub fn verify_with(mut self, keys: impl LabelKeys + 'static) -> Self {
        self.keys = Some(Arc::new(keys));
        self
    }

    /// Starts, on the current Tokio runtime: a stream of items.
    pub fn stream(self) -> Result<Events<LabelItem>, SubscribeError> {
        self.options.spawn(Labels { keys: self.keys })
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
