//! `atdata firehose`: read `com.atproto.sync.subscribeRepos` events from recordings (and, with
//! `tail`, from a live host).

use std::time::Instant;

use atdata_firehose::replay::{decompress, frames, frames_detect, LengthOrder};
use atdata_firehose::{decode_repo_frame, Decoded, Limits, RepoEvent};
use clap::{Subcommand, ValueEnum};

use super::read_input;
use crate::output::Output;
use crate::Failure;

#[derive(Subcommand)]
pub enum FirehoseCommand {
    /// Follow a host's repository event stream: one JSON line per event on stdout (flushed per
    /// line); invalid events as `{"seq","repo","error"}` lines on stderr. Reconnects by itself
    /// from the last event printed.
    Tail(TailArgs),
    /// Read a recorded frame file: frames one after another, each behind a 4-byte length
    /// (big- or little-endian, found from the file unless --order is given; zstd-compressed
    /// files are unpacked). Prints statistics, or one JSON line per event.
    Replay {
        /// The frame file (`-` reads stdin).
        file: String,
        /// What to print.
        #[arg(long, value_enum, default_value_t = ReplayFormat::Stats)]
        format: ReplayFormat,
        /// The byte order of the length prefixes.
        #[arg(long, value_enum)]
        order: Option<Order>,
        /// Verification: off, sig (commit signatures) or full (also every op against the MST,
        /// inversion against prevData, the rev chain). Default: full with --did-docs, else off.
        #[arg(long, value_enum)]
        verify: Option<Level>,
        /// Keys for verification: a JSON object DID → DID document (zstd allowed), such as the
        /// corpus's did_docs.json.zst. Without it, keys are resolved (--plc, --dns, …).
        #[arg(long, value_name = "FILE")]
        did_docs: Option<String>,
        /// Accept legacy commits without prevData (as indigo does).
        #[arg(long)]
        lenient: bool,
        #[command(flatten)]
        resolver: crate::resolver::ResolverArgs,
    },
}

/// Verification level.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Level {
    /// No verification.
    Off,
    /// Commit signatures.
    Sig,
    /// Signatures, ops against the MST, inversion against prevData, the rev chain.
    Full,
}

impl Level {
    fn library(self) -> atdata_firehose::VerifyLevel {
        match self {
            Level::Off => atdata_firehose::VerifyLevel::Off,
            Level::Sig => atdata_firehose::VerifyLevel::Sig,
            Level::Full => atdata_firehose::VerifyLevel::Full,
        }
    }
}

/// The keys a replay verifies with: a DID-document file, or the resolver.
enum Keys {
    Static(atdata_firehose::StaticKeys),
    Resolved(atdata_identity::Resolver),
}

impl atdata_firehose::KeySource for Keys {
    async fn verify_commit(
        &self,
        did: &atdata_core::Did,
        commit: &atdata_core::repo::Commit,
    ) -> Result<(), atdata_firehose::KeyError> {
        match self {
            Keys::Static(keys) => keys.verify_commit(did, commit).await,
            Keys::Resolved(resolver) => resolver.verify_commit(did, commit).await,
        }
    }
}

/// `firehose tail`'s options.
#[derive(clap::Args)]
pub struct TailArgs {
    /// The relay or PDS (`wss://`, `https://` or a bare host; http(s) become ws(s)).
    #[arg(long, default_value = atdata_firehose::subscribe::DEFAULT_HOST)]
    host: String,
    /// Start after this seq (default: live).
    #[arg(long)]
    cursor: Option<i64>,
    /// Print only operations on these collections (repeatable); other events are skipped.
    #[arg(long = "collection", value_name = "NSID")]
    collections: Vec<String>,
    /// Stop after this many events printed.
    #[arg(long)]
    limit: Option<usize>,
    /// Reconnect when nothing arrived for this many seconds.
    #[arg(long, default_value_t = 60)]
    stall_seconds: u64,
    /// How events are printed.
    #[arg(long, value_enum, default_value_t = TailFormat::Json)]
    format: TailFormat,
    /// Verification of each commit (keys resolved with --plc, --dns, …; cached).
    #[arg(long, value_enum, default_value_t = Level::Full)]
    verify: Level,
    /// Accept legacy commits without prevData (as indigo does).
    #[arg(long)]
    lenient: bool,
    #[command(flatten)]
    resolver: crate::resolver::ResolverArgs,
}

/// What `tail` prints.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TailFormat {
    /// `{"seq","kind","repo",…}` lines.
    Json,
    /// Jetstream v1 events, one per operation.
    Jetstream,
}

fn jetstream_line(event: &atdata_firehose::jetstream::JetstreamEvent) -> Result<String, Failure> {
    event
        .to_json()
        .map_err(|e| Failure::Invalid(format!("a Jetstream event that does not render: {e}")))
}

/// What `replay` prints.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReplayFormat {
    /// One JSON object: frames, events, commits, ops, records, bytes, invalid, seconds,
    /// frames_per_s.
    Stats,
    /// One JSON line per event (invalid events go to stderr).
    Json,
    /// One Jetstream v1 event per line, as Jetstream would serve the same events (`time_us`
    /// is this machine's clock, as Jetstream's is its own).
    Jetstream,
}

/// Length-prefix byte order.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Order {
    /// Big-endian (`firehose/pds-frames.bin`).
    Be,
    /// Little-endian (Jetstream's `frames.bin.zst`).
    Le,
}

pub fn run(command: FirehoseCommand, out: &Output) -> Result<(), Failure> {
    match command {
        FirehoseCommand::Tail(args) => tail(&args, out),
        FirehoseCommand::Replay {
            file,
            format,
            order,
            verify,
            did_docs,
            lenient,
            resolver,
        } => {
            let level = verify.unwrap_or(if did_docs.is_some() {
                Level::Full
            } else {
                Level::Off
            });
            let verifier = if level == Level::Off {
                None
            } else {
                let keys = match &did_docs {
                    Some(path) => {
                        let raw = read_input(path)?;
                        let text = decompress(&raw)
                            .map_err(|e| Failure::Invalid(format!("{path}: {e}")))?;
                        let text = std::str::from_utf8(&text)
                            .map_err(|_| Failure::Invalid(format!("{path}: not UTF-8")))?;
                        Keys::Static(
                            atdata_firehose::StaticKeys::from_did_documents_json(text)
                                .map_err(|e| Failure::Invalid(format!("{path}: {e}")))?,
                        )
                    }
                    None => Keys::Resolved(resolver.build_async()?),
                };
                Some(atdata_firehose::CommitVerifier::new(keys, level.library()).lenient(lenient))
            };
            replay(&file, format, order, verifier, out)
        }
    }
}

fn replay(
    file: &str,
    format: ReplayFormat,
    order: Option<Order>,
    mut verifier: Option<atdata_firehose::CommitVerifier<Keys>>,
    out: &Output,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Unreadable(format!("runtime: {e}")))?;
    let raw = read_input(file)?;
    let data = decompress(&raw).map_err(|e| Failure::Invalid(format!("{file}: {e}")))?;
    let limits = Limits::default();
    // A frame may carry a little framing overhead over the message limit.
    let max_frame = limits.max_message + 1024;
    let frames = match order {
        Some(Order::Be) => frames(&data, LengthOrder::BigEndian, max_frame),
        Some(Order::Le) => frames(&data, LengthOrder::LittleEndian, max_frame),
        None => frames_detect(&data, max_frame).map(|(frames, _)| frames),
    }
    .map_err(|e| Failure::Invalid(format!("{file}: {e}")))?;

    let started = Instant::now();
    let mut stats = Stats::default();
    let mut converter = atdata_firehose::jetstream::Converter::new();
    for frame in &frames {
        stats.frames += 1;
        stats.bytes += frame.len();
        let decoded = decode_repo_frame(frame, &limits)
            .map_err(|e| Failure::Invalid(format!("{file}: frame {}: {e}", stats.frames)))?;
        let decoded = match (decoded, verifier.as_mut()) {
            (Decoded::Event(event), Some(verifier)) => {
                match runtime.block_on(verifier.verify(&event)) {
                    Ok(()) => Decoded::Event(event),
                    Err(e) => Decoded::Invalid(Box::new(atdata_firehose::InvalidEvent {
                        seq: event.seq(),
                        repo: event.repo().cloned(),
                        kind: event.kind().to_owned(),
                        reason: atdata_firehose::Invalid::Verify(e.to_string()),
                    })),
                }
            }
            (decoded, _) => decoded,
        };
        match decoded {
            Decoded::Event(event) => {
                stats.events += 1;
                if let RepoEvent::Commit(commit) = &event {
                    stats.commits += 1;
                    for op in commit.ops() {
                        stats.ops += 1;
                        if let Some(value) = op.value_ref() {
                            match value {
                                Ok(_) => stats.records += 1,
                                Err(_) => stats.bad_records += 1,
                            }
                        }
                    }
                }
                match format {
                    ReplayFormat::Json => out.line(&event.to_json().to_string())?,
                    ReplayFormat::Jetstream => {
                        for converted in converter.convert(&event) {
                            out.line(&jetstream_line(&converted)?)?;
                        }
                    }
                    ReplayFormat::Stats => {}
                }
            }
            Decoded::Invalid(invalid) => {
                stats.invalid += 1;
                report_invalid(&invalid);
            }
            Decoded::Unknown { .. } => stats.unknown += 1,
            Decoded::Error(e) => {
                stats.invalid += 1;
                crate::output::note(format_args!(
                    "{}",
                    serde_json::json!({"error": e.to_string()})
                ));
            }
            // Kinds a later version may add are counted as unknown too.
            _ => stats.unknown += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let ReplayFormat::Stats = format {
        let value = serde_json::json!({
            "frames": stats.frames,
            "events": stats.events,
            "commits": stats.commits,
            "ops": stats.ops,
            "records": stats.records,
            "bad_records": stats.bad_records,
            "unknown": stats.unknown,
            "bytes": stats.bytes,
            "invalid": stats.invalid,
            "seconds": seconds,
            "frames_per_s": if seconds > 0.0 { stats.frames as f64 / seconds } else { 0.0 },
        });
        out.emit(&value, || {
            format!(
                "{} frames ({} bytes): {} events, {} commits, {} ops, {} records, {} invalid; {:.0} frames/s",
                stats.frames, stats.bytes, stats.events, stats.commits, stats.ops, stats.records,
                stats.invalid, stats.frames as f64 / seconds.max(f64::EPSILON)
            )
        })?;
    }
    if stats.invalid > 0 || stats.bad_records > 0 {
        return Err(Failure::Invalid(format!(
            "{} invalid events, {} records that do not decode",
            stats.invalid, stats.bad_records
        )));
    }
    Ok(())
}

#[derive(Default)]
struct Stats {
    frames: usize,
    events: usize,
    commits: usize,
    ops: usize,
    records: usize,
    bad_records: usize,
    unknown: usize,
    bytes: usize,
    invalid: usize,
}

/// Whether `path` (`collection/rkey`) is in one of `collections` (all when empty).
fn wanted(collections: &[String], path: &str) -> bool {
    collections.is_empty()
        || collections.iter().any(|c| {
            path.strip_prefix(c.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// The event's JSON line with only the wanted operations, or `None` when nothing is wanted.
fn filtered(event: &RepoEvent, collections: &[String]) -> Option<serde_json::Value> {
    let mut json = event.to_json();
    if collections.is_empty() {
        return Some(json);
    }
    let RepoEvent::Commit(_) = event else {
        return None;
    };
    let ops = json.get_mut("ops")?.as_array_mut()?;
    ops.retain(|op| {
        op.get("path")
            .and_then(|p| p.as_str())
            .is_some_and(|p| wanted(collections, p))
    });
    (!ops.is_empty()).then_some(json)
}

fn tail(args: &TailArgs, out: &Output) -> Result<(), Failure> {
    use atdata_firehose::subscribe::{Item, Subscription};

    let mut subscription = Subscription::new()
        .host(args.host.clone())
        .stall_timeout(std::time::Duration::from_secs(args.stall_seconds.max(1)));
    if let Some(cursor) = args.cursor {
        subscription = subscription.cursor(cursor);
    }
    if args.verify != Level::Off {
        let resolver = args.resolver.build_async()?;
        subscription = subscription.verify(
            atdata_firehose::CommitVerifier::new(resolver, args.verify.library())
                .lenient(args.lenient),
        );
    }
    let events = subscription
        .blocking()
        .map_err(|e| Failure::Unreadable(format!("{}: {e}", args.host)))?;
    let mut printed = 0usize;
    let mut converter = atdata_firehose::jetstream::Converter::new();
    for item in events {
        let item = item.map_err(|e| Failure::Unreadable(format!("{}: {e}", args.host)))?;
        match item {
            Item::Event(event) => match args.format {
                TailFormat::Json => {
                    if let Some(json) = filtered(&event, &args.collections) {
                        out.line(&json.to_string())?;
                        out.flush()?;
                        printed += 1;
                    }
                }
                TailFormat::Jetstream => {
                    for converted in converter.convert(&event) {
                        let wanted_op = converted.commit.as_ref().is_none_or(|c| {
                            wanted(&args.collections, &format!("{}/{}", c.collection, c.rkey))
                        });
                        if args.collections.is_empty() || (converted.commit.is_some() && wanted_op)
                        {
                            out.line(&jetstream_line(&converted)?)?;
                            printed += 1;
                        }
                    }
                    out.flush()?;
                }
            },
            Item::Invalid(invalid) => report_invalid(&invalid),
            Item::Info(info) => {
                crate::output::note(format_args!(
                    "{}",
                    serde_json::json!({"info": info.name, "message": info.message})
                ));
            }
            _ => {}
        }
        if args.limit.is_some_and(|limit| printed >= limit) {
            break;
        }
    }
    Ok(())
}

/// An event that failed a check, as the `{"seq","repo","error"}` line on stderr that `tail`
/// and `replay` print instead of the event.
fn report_invalid(invalid: &atdata_firehose::InvalidEvent) {
    let line = serde_json::json!({
        "seq": invalid.seq,
        "repo": invalid.repo.as_ref().map(|d| d.as_str()),
        "error": invalid.reason.to_string(),
    });
    crate::output::note(format_args!("{line}"));
}
