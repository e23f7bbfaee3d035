//! `atdata repo`: list, read and verify repository exports; export a repository from a PDS.

use atdata_core::car::{CarReader, ReadOptions};
use atdata_core::repo::{verify_car, verify_car_with_key, Commit, Problem, Repo, VerifyReport};
use atdata_crypto::PublicKey;
use atdata_identity::KeyCheckError;
use clap::Subcommand;

use super::read_input;
use crate::output::Output;
use crate::remote::{client_failure, PdsArg, Remote};
use crate::resolver::ResolverArgs;
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
    /// Check block hashes, the commit, the MST, every record and the commit's signature.
    ///
    /// The signing key comes from the DID document of the commit's account (resolved; a key
    /// that fails is looked up once more, in case it was rotated), or from --key. --offline
    /// checks everything but the signature (unless --key is given).
    Verify {
        file: String,
        /// The account's signing key as did:key, instead of resolving the DID.
        #[arg(long, value_name = "DID_KEY")]
        key: Option<String>,
        /// Do not resolve the DID: without --key, the signature is not checked.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        resolver: ResolverArgs,
    },
    /// Download a repository from a PDS as a CAR file: prints {"did", "file", "bytes"}.
    ///
    /// REPO is a DID or a handle (`com.atproto.sync.getRepo`; no session needed).
    Export {
        #[command(flatten)]
        pds: PdsArg,
        /// Without --pds and without a session, REPO's PDS is found through its DID document
        /// with these options.
        #[command(flatten)]
        resolver: crate::resolver::ResolverArgs,
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
        RepoCommand::Verify {
            file,
            key,
            offline,
            resolver,
        } => verify(&file, key.as_deref(), offline, &resolver, out),
        RepoCommand::Export {
            pds,
            resolver,
            repo,
            output,
            max_bytes,
        } => export(&pds, &resolver, &repo, &output, max_bytes, out),
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

/// Where the key that checked the signature came from.
#[derive(Clone, Copy)]
enum KeySource {
    /// `--key`.
    Flag,
    /// The DID document of the commit's account.
    Resolved,
}

impl KeySource {
    fn as_str(self) -> &'static str {
        match self {
            KeySource::Flag => "flag",
            KeySource::Resolved => "resolved",
        }
    }
}

fn verify(
    file: &str,
    key: Option<&str>,
    offline: bool,
    resolver: &ResolverArgs,
    out: &Output,
) -> Result<(), Failure> {
    let bytes = read_input(file)?;
    let key = key
        .map(|k| PublicKey::from_did_key(k).map_err(|e| Failure::Invalid(format!("--key: {e}"))))
        .transpose()?;
    let unreadable = |e: atdata_core::repo::RepoError| Failure::Invalid(format!("{file}: {e}"));
    let (report, used) = match key {
        Some(key) => {
            let report = verify_car_with_key(&bytes, &key).map_err(unreadable)?;
            (report, Some((key, KeySource::Flag)))
        }
        None => {
            let mut report = verify_car(&bytes).map_err(unreadable)?;
            let used = if offline {
                None
            } else {
                check_resolved(&bytes, &mut report, resolver)?.map(|key| (key, KeySource::Resolved))
            };
            (report, used)
        }
    };
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
        "key": used.as_ref().map(|(key, _)| key.to_did_key()),
        "key_source": used.as_ref().map(|(_, source)| source.as_str()),
        "problems": problems,
    });
    if report.is_valid() {
        out.emit(&json, || {
            let sig = match &used {
                Some((key, KeySource::Resolved)) if report.signature_checked => format!(
                    "signature valid (key {} from the DID document)",
                    key.to_did_key()
                ),
                Some(_) if report.signature_checked => "signature valid".to_owned(),
                _ if offline => "signature not checked (--offline)".to_owned(),
                _ => "signature not checked".to_owned(),
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

/// Checks the commit's signature with the signing key of the commit's DID, resolved (once
/// more after a forced refresh if the cached key fails: the key may have been rotated), and
/// records the outcome in `report` as [`verify_car_with_key`] would. Gives the key used, or
/// `None` when there is no readable commit to check (the report already says why) or when the
/// key cannot be had for a repository that is invalid anyway.
fn check_resolved(
    bytes: &[u8],
    report: &mut VerifyReport,
    args: &ResolverArgs,
) -> Result<Option<PublicKey>, Failure> {
    let (Some(did), Some(commit)) = (report.did.clone(), commit_of(bytes, report)) else {
        return Ok(None);
    };
    let resolver = args.build()?;
    let checked = resolver.verify_with(&did, |key| {
        commit
            .verify(key)
            .map(|()| *key)
            .map_err(|error| (error, *key))
    });
    let key = match checked {
        Ok(key) => key,
        Err(KeyCheckError::Check((error, key))) => {
            // Where verify_car_with_key puts it: after the CAR's and the commit block's own
            // problems, before the MST's and the records'.
            let at = report
                .problems
                .iter()
                .position(|p| {
                    !matches!(
                        p,
                        Problem::Car(_) | Problem::Roots(_) | Problem::CommitAltered(_)
                    )
                })
                .unwrap_or(report.problems.len());
            report.problems.insert(
                at,
                Problem::Signature {
                    key: key.to_did_key(),
                    error,
                },
            );
            key
        }
        Err(KeyCheckError::Resolve(e)) => {
            let message = format!(
                "could not resolve the signing key of {did}, the repository's account: {} \
                 (--key DID_KEY gives the key, --offline skips the signature check)",
                crate::resolver::describe(&e)
            );
            if !report.is_valid() {
                // The repository is invalid whatever its key: that verdict (exit 1) stands,
                // and the resolution failure is only noted.
                crate::output::note(format_args!("atdata: signature not checked: {message}"));
                return Ok(None);
            }
            // Unreachable (exit 3), or not found / no usable key (exit 1).
            return Err(if e.is_unreachable() {
                Failure::Unreadable(message)
            } else {
                Failure::Invalid(message)
            });
        }
    };
    report.signature_checked = true;
    Ok(Some(key))
}

/// The commit block of the CAR, decoded: the root [`verify_car`] reported, when it read it.
fn commit_of(bytes: &[u8], report: &VerifyReport) -> Option<Commit> {
    let root = report.commit?;
    let reader = CarReader::with_options(bytes, ReadOptions::unverified()).ok()?;
    // The last copy, as verify_car keeps it (a copy that differs is reported as an altered
    // commit either way). Walking the sections without hashing them costs little.
    let block = reader
        .blocks()
        .map_while(Result::ok)
        .filter(|block| block.cid == root)
        .last()?;
    Commit::decode(block.data).ok()
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
    resolver: &crate::resolver::ResolverArgs,
    repo: &str,
    output: &str,
    max_bytes: u64,
    out: &Output,
) -> Result<(), Failure> {
    use std::io::IsTerminal as _;

    let repo: atdata_core::AtIdentifier = repo
        .parse()
        .map_err(|e| Failure::Usage(format!("REPO {repo:?}: {e}")))?;
    let (pds, located) = crate::remote::locate(pds, resolver, &repo)?;
    let remote = Remote::connect_with(&pds, |builder| builder.max_download_size(max_bytes))?;
    let did = match located {
        Some(did) => did,
        None => remote.did_of(repo)?,
    };
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
