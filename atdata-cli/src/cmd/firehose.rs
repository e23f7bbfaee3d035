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
    },
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
        } => replay(&file, format, order, out),
    }
}

fn replay(
    file: &str,
    format: ReplayFormat,
    order: Option<Order>,
    out: &Output,
) -> Result<(), Failure> {
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
                let line = serde_json::json!({
                    "seq": invalid.seq,
                    "repo": invalid.repo.as_ref().map(|d| d.as_str()),
                    "error": invalid.reason.to_string(),
                });
                crate::output::note(format_args!("{line}"));
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
            Item::Invalid(invalid) => {
                let line = serde_json::json!({
                    "seq": invalid.seq,
                    "repo": invalid.repo.as_ref().map(|d| d.as_str()),
                    "error": invalid.reason.to_string(),
                });
                crate::output::note(format_args!("{line}"));
            }
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
