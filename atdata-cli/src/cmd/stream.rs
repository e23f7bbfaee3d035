//! `atdata labels tail` and `atdata jetstream tail`: the other two event streams, one JSON
//! line per event on stdout (flushed per line), problems on stderr.

use atdata_firehose::jetstream::{self, ClientConfig, SubscribeOptions};
use atdata_firehose::LabelItem;

use crate::output::Output;
use crate::Failure;

/// `labels tail`'s options.
#[derive(clap::Args)]
pub struct LabelsTailArgs {
    /// The labeler (`wss://`, `https://` or a bare host).
    #[arg(long)]
    host: String,
    /// Start after this seq (default: live; 0 for everything the labeler keeps).
    #[arg(long)]
    cursor: Option<i64>,
    /// Stop after this many labels printed.
    #[arg(long)]
    limit: Option<usize>,
    /// Do not check label signatures (by default each label is checked with its issuer's
    /// `#atproto_label` key, resolved with --plc, --dns, …).
    #[arg(long)]
    no_verify: bool,
    #[command(flatten)]
    resolver: crate::resolver::ResolverArgs,
}

/// Prints the labels of `args.host`, one JSON line per label.
pub fn labels_tail(args: &LabelsTailArgs, out: &Output) -> Result<(), Failure> {
    let mut subscription = atdata_firehose::LabelSubscription::new(args.host.clone());
    if let Some(cursor) = args.cursor {
        subscription = subscription.cursor(cursor);
    }
    if !args.no_verify {
        subscription = subscription.verify_with(args.resolver.build_async()?);
    }
    let items = subscription
        .blocking()
        .map_err(|e| Failure::Unreadable(format!("{}: {e}", args.host)))?;
    let mut printed = 0usize;
    for item in items {
        let item = item.map_err(|e| Failure::Unreadable(format!("{}: {e}", args.host)))?;
        match item {
            LabelItem::Labels { seq, labels } => {
                for label in labels {
                    let mut json = serde_json::to_value(&label).map_err(|e| {
                        Failure::Invalid(format!("a label that does not render: {e}"))
                    })?;
                    if let Some(map) = json.as_object_mut() {
                        map.insert("seq".into(), seq.into());
                    }
                    out.line(&json.to_string())?;
                    printed += 1;
                }
                out.flush()?;
            }
            LabelItem::Invalid(invalid) => crate::output::note(format_args!(
                "{}",
                serde_json::json!({"seq": invalid.seq, "error": invalid.reason.to_string()})
            )),
            LabelItem::Info(info) => crate::output::note(format_args!(
                "{}",
                serde_json::json!({"info": info.name, "message": info.message})
            )),
            _ => {}
        }
        if args.limit.is_some_and(|limit| printed >= limit) {
            break;
        }
    }
    Ok(())
}

/// `jetstream tail`'s options.
#[derive(clap::Args)]
pub struct JetstreamTailArgs {
    /// The Jetstream instance (its `/subscribe` endpoint or just the host).
    #[arg(long, default_value = "wss://jetstream2.us-east.bsky.network")]
    url: String,
    /// Only these collections (NSIDs, or `prefix.*`; at most 100).
    #[arg(long = "collection", value_name = "NSID")]
    collections: Vec<String>,
    /// Only these accounts (at most 10,000).
    #[arg(long = "did", value_name = "DID")]
    dids: Vec<String>,
    /// Start at this time (unix microseconds).
    #[arg(long, value_name = "US")]
    cursor: Option<i64>,
    /// Ask for zstd-compressed messages (the v1 dictionary).
    #[arg(long)]
    compress: bool,
    /// Stop after this many events printed.
    #[arg(long)]
    limit: Option<usize>,
}

/// Prints Jetstream v1 events, one JSON line each.
pub fn jetstream_tail(args: &JetstreamTailArgs, out: &Output) -> Result<(), Failure> {
    let mut options = SubscribeOptions::new()
        .collections(args.collections.clone())
        .dids(args.dids.clone())
        .compress(args.compress);
    if let Some(cursor) = args.cursor {
        options = options.cursor(cursor);
    }
    options
        .validate()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Failure::Unreadable(format!("runtime: {e}")))?;
    let endpoint = if args.url.contains("/subscribe") {
        args.url.clone()
    } else {
        format!("{}/subscribe", args.url.trim_end_matches('/'))
    };
    let mut subscription = {
        let _guard = runtime.enter();
        jetstream::subscribe(&endpoint, options, ClientConfig::default())
            .map_err(|e| Failure::Usage(e.to_string()))?
    };
    let mut printed = 0usize;
    while let Some(item) = runtime.block_on(subscription.next()) {
        match item {
            jetstream::Item::Event(event) => {
                let line = event
                    .to_json()
                    .map_err(|e| Failure::Invalid(format!("an event that does not render: {e}")))?;
                out.line(&line)?;
                out.flush()?;
                printed += 1;
            }
            jetstream::Item::Reconnecting {
                error,
                attempt,
                delay,
            } => crate::output::note(format_args!(
                "{}",
                serde_json::json!({"reconnecting": error, "attempt": attempt, "delay_ms": delay.as_millis() as u64})
            )),
            jetstream::Item::Invalid { error } => {
                crate::output::note(format_args!("{}", serde_json::json!({"error": error})))
            }
            _ => {}
        }
        if args.limit.is_some_and(|limit| printed >= limit) {
            break;
        }
    }
    Ok(())
}
