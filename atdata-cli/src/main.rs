//! `atdata`: the AT Protocol from the command line.
//!
//! Output is JSON when stdout is not a terminal or `--json` is given, readable text otherwise.
//! Exit codes: 0 success, 1 the input is invalid (a syntax check failed, a CAR did not verify,
//! the server refused a call), 2 usage error, 3 the input could not be read (a missing file,
//! an unreachable server, no session for a command that needs one).

mod cmd;
mod output;
mod remote;

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
    /// Log in to a PDS and store the session (password from ATDATA_PASSWORD or a prompt).
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
    /// Call any XRPC method: a query (GET) with KEY=VALUE parameters, or a procedure (POST).
    Xrpc(cmd::xrpc::XrpcArgs),
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
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Invalid(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Unreadable(_) => 3,
        }
    }
    fn message(&self) -> &str {
        match self {
            Failure::Invalid(m) | Failure::Unreadable(m) | Failure::Usage(m) => m,
        }
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("atdata: {}", failure.message());
            ExitCode::from(failure.code())
        }
    }
}
