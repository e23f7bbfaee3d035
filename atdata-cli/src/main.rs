//! `atdata`: the AT Protocol from the command line.
//!
//! Output is JSON when stdout is not a terminal or `--json` is given, readable text otherwise.
//! Exit codes: 0 success, 1 the input is invalid (a syntax check failed, a CAR did not verify,
//! the server refused a call, an identity was not found or did not match), 2 usage error, 3 the
//! input could not be read (a missing file, an unreachable server or PLC directory, no session
//! for a command that needs one) or the output could not be written (a full disk). A closed
//! stdout pipe (`atdata car cat repo.car | head`) is not an error: the command stops writing
//! and exits 0 without a message, so that such pipelines succeed even under `set -o pipefail`
//! (see [`output`]).

mod cmd;
mod output;
mod remote;
mod resolver;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use output::Output;

#[derive(Parser)]
#[command(
    name = "atdata",
    version,
    about = "AT Protocol tools: identifiers, data, CAR files, keys, repositories, lexicons, and a PDS client"
)]
struct Cli {
    /// Print JSON even on a terminal.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check identifier syntax.
    Syntax {
        #[command(subcommand)]
        command: cmd::syntax::SyntaxCommand,
    },
    /// Convert data-model values between JSON and DAG-CBOR, compute CIDs.
    Data {
        #[command(subcommand)]
        command: cmd::data::DataCommand,
    },
    /// Inspect, verify and dump CAR files.
    Car {
        #[command(subcommand)]
        command: cmd::car::CarCommand,
    },
    /// List, read and verify repository exports (CAR files); export one from a PDS.
    Repo {
        #[command(subcommand)]
        command: cmd::repo::RepoCommand,
    },
    /// Generate keys; sign and verify bytes (P-256 / secp256k1, did:key).
    Key {
        #[command(subcommand)]
        command: cmd::key::KeyCommand,
    },
    /// Validate data against lexicons; lint lexicon folders.
    Lexicon {
        #[command(subcommand)]
        command: cmd::lexicon::LexiconCommand,
    },
    /// Log in and store the session (password from ATDATA_PASSWORD or a prompt).
    ///
    /// Without --pds, the account's PDS is found through its DID document, as for `resolve`
    /// (a handle must resolve to a DID that claims it back), before the password is read; the
    /// resolver options (--plc, --dns, …) apply. An email address needs --pds.
    Login(cmd::login::LoginArgs),
    /// End the stored session and remove it.
    Logout,
    /// Create accounts (for development PDSes).
    Account {
        #[command(subcommand)]
        command: cmd::login::AccountCommand,
    },
    /// Create, put, get, list and delete records on a PDS.
    Record {
        #[command(subcommand)]
        command: cmd::record::RecordCommand,
    },
    /// Upload blobs to a PDS.
    Blob {
        #[command(subcommand)]
        command: cmd::blob::BlobCommand,
    },
    /// Resolve a handle, DID or at:// URI to its identity: DID, checked handle, PDS, keys and
    /// DID document.
    ///
    /// A handle must resolve to a DID whose document claims it back (otherwise exit 1). For a
    /// DID, a claimed handle that does not resolve back is reported as "handle.invalid".
    Resolve(cmd::resolve::ResolveArgs),
    /// did:plc histories: fetch a DID's operation log from the PLC directory and verify it.
    Plc {
        #[command(subcommand)]
        command: cmd::plc::PlcCommand,
    },
    /// Call any XRPC method: a query (GET) with KEY=VALUE parameters, or a procedure (POST).
    Xrpc(cmd::xrpc::XrpcArgs),
    /// The repository event stream (com.atproto.sync.subscribeRepos): follow a host, replay
    /// recordings; verified (signatures, MST ops, prevData) by default.
    Firehose {
        #[command(subcommand)]
        command: cmd::firehose::FirehoseCommand,
    },
    /// A labeler's stream (com.atproto.label.subscribeLabels).
    Labels {
        #[command(subcommand)]
        command: LabelsCommand,
    },
    /// A Jetstream instance's v1 stream.
    Jetstream {
        #[command(subcommand)]
        command: JetstreamCommand,
    },
}

#[derive(Subcommand)]
enum LabelsCommand {
    /// Follow a labeler: one JSON line per label, each signature checked with its issuer's key.
    Tail(cmd::stream::LabelsTailArgs),
}

#[derive(Subcommand)]
enum JetstreamCommand {
    /// Follow Jetstream v1 events: one JSON line each; reconnects rewind a little and drop
    /// what was already printed.
    Tail(cmd::stream::JetstreamTailArgs),
}

/// How a command failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// The input was read but is not valid (exit 1).
    Invalid(String),
    /// The input could not be read (exit 3): a file, the network, the stored session.
    Unreadable(String),
    /// The command line does not make sense (exit 2), found after parsing.
    Usage(String),
    /// The output could not be written (exit 3): a full disk, an I/O error, a failed `-o FILE`.
    Unwritable(String),
    /// Stdout is a pipe whose reader has gone (exit 0, no message): the output stops there.
    Closed,
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Closed => 0,
            Failure::Invalid(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Unreadable(_) | Failure::Unwritable(_) => 3,
        }
    }
    fn message(&self) -> &str {
        match self {
            Failure::Invalid(m)
            | Failure::Unreadable(m)
            | Failure::Usage(m)
            | Failure::Unwritable(m) => m,
            Failure::Closed => "",
        }
    }

    /// Reports the failure on stderr (nothing for a closed pipe) and gives the exit code.
    fn report(&self) -> ExitCode {
        if !matches!(self, Failure::Closed) {
            output::note(format_args!("atdata: {}", self.message()));
        }
        ExitCode::from(self.code())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    let result = match cli.command {
        Command::Syntax { command } => cmd::syntax::run(command, &out),
        Command::Data { command } => cmd::data::run(command, &out),
        Command::Car { command } => cmd::car::run(command, &out),
        Command::Key { command } => cmd::key::run(command, &out),
        Command::Repo { command } => cmd::repo::run(command, &out),
        Command::Lexicon { command } => cmd::lexicon::run(command, &out),
        Command::Login(args) => cmd::login::login(args, &out),
        Command::Logout => cmd::login::logout(&out),
        Command::Account { command } => cmd::login::account(command, &out),
        Command::Record { command } => cmd::record::run(command, &out),
        Command::Blob { command } => cmd::blob::run(command, &out),
        Command::Xrpc(args) => cmd::xrpc::run(args, &out),
        Command::Resolve(args) => cmd::resolve::run(args, &out),
        Command::Plc { command } => cmd::plc::run(command, &out),
        Command::Firehose { command } => cmd::firehose::run(command, &out),
        Command::Labels {
            command: LabelsCommand::Tail(args),
        } => cmd::stream::labels_tail(&args, &out),
        Command::Jetstream {
            command: JetstreamCommand::Tail(args),
        } => cmd::stream::jetstream_tail(&args, &out),
    };
    // What is still buffered is written now, and checked: the flush at exit ignores errors.
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        // A closed pipe ends the output, not the verdict: a failure of the command stands.
        (Ok(()) | Err(Failure::Closed), Err(failure)) | (Err(failure), Ok(())) => failure.report(),
        (Err(failure), Err(unwritten)) => {
            // Both are worth knowing; the command's own failure decides the exit code.
            let _ = unwritten.report();
            failure.report()
        }
    }
}
