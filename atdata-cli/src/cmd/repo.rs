//! `atdata repo`: list, read and verify repository exports; export a repository from a PDS.

use atdata_core::repo::{verify_car, verify_car_with_key, Repo};
use clap::Subcommand;

use super::read_input;
use crate::output::Output;
use crate::remote::{client_failure, PdsArg, Remote};
use crate::Failure;

#[derive(Subcommand)]
pub enum RepoCommand {
    /// One JSON line per record: collection, rkey, cid (`-` reads stdin).
    Ls { file: String },
    /// Print one record: {"uri", "cid", "value"}.
    Get {
        file: String,
        collection: String,
        rkey: String,
    },
    /// Check block hashes, the commit, the MST and every record; with --key, the signature too.
    Verify {
        file: String,
        /// The account's signing key as did:key (from its DID document).
        #[arg(long)]
        key: Option<String>,
    },
    /// Download a repository from a PDS as a CAR file: prints {"did", "file", "bytes"}.
    ///
    /// REPO is a DID or a handle (`com.atproto.sync.getRepo`; no session needed).
    Export {
        #[command(flatten)]
        pds: PdsArg,
        /// The repository: a DID or a handle.
        repo: String,
        /// Where to write the CAR file (`-` for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: String,
        /// The most bytes to write before giving up (and removing the partial file): a server
        /// that sends an endless body cannot fill the disk. Real repositories are far smaller.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_EXPORT_LIMIT)]
        max_bytes: u64,
    },
}

/// `repo export`'s default size cap: 4 GiB, well above the largest repositories seen.
const DEFAULT_EXPORT_LIMIT: u64 = 4 << 30;

pub fn run(command: RepoCommand, out: &Output) -> Result<(), Failure> {
    match command {
        RepoCommand::Ls { file } => ls(&file, out),
        RepoCommand::Get {
            file,
            collection,
            rkey,
        } => get(&file, &collection, &rkey, out),
        RepoCommand::Verify { file, key } => verify(&file, key.as_deref(), out),
        RepoCommand::Export {
            pds,
            repo,
            output,
            max_bytes,
        } => export(&pds, &repo, &output, max_bytes, out),
    }
}

fn load(file: &str) -> Result<(Vec<u8>, Repo), Failure> {
    let bytes = read_input(file)?;
    let repo = Repo::from_car(&bytes).map_err(|e| Failure::Invalid(format!("{file}: {e}")))?;
    Ok((bytes, repo))
}

fn ls(file: &str, out: &Output) -> Result<(), Failure> {
    let (_, repo) = load(file)?;
    for record in repo.records() {
        let record = record.map_err(|e| Failure::Invalid(e.to_string()))?;
        let json = serde_json::json!({
            "collection": record.collection(),
            "rkey": record.rkey(),
            "cid": record.cid.to_string(),
        });
        out.emit(&json, || {
            format!("{}/{}  {}", record.collection(), record.rkey(), record.cid)
        })?;
    }
    Ok(())
}

fn get(file: &str, collection: &str, rkey: &str, out: &Output) -> Result<(), Failure> {
    let (_, repo) = load(file)?;
    let record = repo
        .get(collection, rkey)
        .map_err(|e| Failure::Invalid(e.to_string()))?
        .ok_or_else(|| Failure::Invalid(format!("no record {collection}/{rkey} in {file}")))?;
    let value = record
        .decode()
        .map_err(|e| Failure::Invalid(format!("record {collection}/{rkey}: {e}")))?;
    let value = serde_json::to_value(&value).map_err(|e| {
        Failure::Invalid(format!(
            "record {collection}/{rkey}: no atproto JSON form: {e}"
        ))
    })?;
    let json = serde_json::json!({
        "uri": format!("at://{}/{collection}/{rkey}", repo.did()),
        "cid": record.cid.to_string(),
        "value": value,
    });
    out.emit(&json, || {
        serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
    })?;
    Ok(())
}

fn verify(file: &str, key: Option<&str>, out: &Output) -> Result<(), Failure> {
    let bytes = read_input(file)?;
    let key = key
        .map(|k| {
            atdata_crypto::PublicKey::from_did_key(k)
                .map_err(|e| Failure::Invalid(format!("--key: {e}")))
        })
        .transpose()?;
    let report = match &key {
        Some(key) => verify_car_with_key(&bytes, key),
        None => verify_car(&bytes),
    }
    .map_err(|e| Failure::Invalid(format!("{file}: {e}")))?;
    let problems: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
    let json = serde_json::json!({
        "file": file,
        "valid": report.is_valid(),
        "did": report.did,
        "rev": report.rev,
        "commit": report.commit.map(|c| c.to_string()),
        "blocks": report.blocks,
        "records": report.records,
        "signature_checked": report.signature_checked,
        "problems": problems,
    });
    if report.is_valid() {
        out.emit(&json, || {
            let sig = if report.signature_checked {
                "signature valid"
            } else {
                "signature not checked (no --key)"
            };
            format!(
                "ok: {file}: {} records, {} blocks, every hash matches, MST well-formed, {sig}",
                report.records, report.blocks
            )
        })?;
        Ok(())
    } else {
        out.emit(&json, || format!("invalid: {file}"))?;
        Err(Failure::Invalid(problems.join("; ")))
    }
}

/// Exports a repository to a file (streamed, with a byte count on stderr when it is a
/// terminal) or to stdout.
///
/// A regular file (or a new one) is written by the client, which checks every write, flushes
/// and syncs, and removes the file when the download fails. Anything else (a FIFO, a device
/// such as `/dev/full`) must not be handed to it, as that removal would delete the device
/// node: like stdout, it gets the repository in memory (the client's response size limit
/// applies), written here with every write checked.
fn export(
    pds: &PdsArg,
    repo: &str,
    output: &str,
    max_bytes: u64,
    out: &Output,
) -> Result<(), Failure> {
    use std::io::IsTerminal as _;

    let repo: atdata_core::AtIdentifier = repo
        .parse()
        .map_err(|e| Failure::Usage(format!("REPO {repo:?}: {e}")))?;
    let remote = Remote::connect_with(pds, |builder| builder.max_download_size(max_bytes))?;
    let did = remote.did_of(repo)?;
    if output == "-" {
        let bytes = remote
            .block_on(remote.client.get_repo(&did))
            .map_err(client_failure)?;
        // `main` flushes stdout and reports a failure.
        return out.bytes(&bytes);
    }
    if !is_regular_file_or_absent(output) {
        let bytes = remote
            .block_on(remote.client.get_repo(&did))
            .map_err(client_failure)?;
        write_existing(output, &bytes)?;
        return emit_exported(&did, output, bytes.len() as u64, out);
    }
    let progress = std::io::stderr().is_terminal();
    let written = remote.block_on(async {
        let ticker = progress.then(|| tokio::spawn(show_progress(output.to_owned())));
        let result = remote.client.get_repo_to_file(&did, output).await;
        if let Some(ticker) = ticker {
            ticker.abort();
            crate::output::note_inline(format_args!("\r\x1b[K"));
        }
        result
    });
    let written = written.map_err(client_failure)?;
    emit_exported(&did, output, written, out)
}

fn emit_exported(
    did: &atdata_core::Did,
    output: &str,
    written: u64,
    out: &Output,
) -> Result<(), Failure> {
    let json = serde_json::json!({
        "did": did.as_str(),
        "file": output,
        "bytes": written,
    });
    out.emit(&json, || {
        format!("wrote {did}'s repository to {output}: {written} bytes")
    })
}

/// Whether `path` is a regular file (through symbolic links) or does not exist yet.
pub(crate) fn is_regular_file_or_absent(path: &str) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) => meta.is_file(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Writes `bytes` into the existing non-regular file at `path`, checking the write and the
/// flush; a failure (a full device, a FIFO nobody reads) is an error, never a silent loss.
pub(crate) fn write_existing(path: &str, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write as _;
    let fail = |e: std::io::Error| Failure::Unwritable(format!("writing {path}: {e}"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.flush().map_err(fail)
}

/// Prints the size of the file being written, every quarter second, on one stderr line.
async fn show_progress(path: String) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        if let Ok(meta) = std::fs::metadata(&path) {
            let kib = meta.len() / 1024;
            crate::output::note_inline(format_args!("\r\x1b[Kexporting to {path}: {kib} KiB"));
        }
    }
}
