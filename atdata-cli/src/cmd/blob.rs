//! `atdata blob upload`: put a file on the logged-in account's PDS as a blob; `atdata blob get`:
//! download one, checked against its CID.

use std::path::Path;

use clap::Subcommand;

use super::read_input;
use crate::output::Output;
use crate::remote::{client_failure, PdsArg, Remote};
use crate::Failure;

#[derive(Subcommand)]
pub enum BlobCommand {
    /// Upload a file as a blob: prints the blob reference to put in a record.
    ///
    /// FILE `-` reads stdin. The reference is {"$type": "blob", "ref": {"$link": …},
    /// "mimeType", "size"}.
    Upload {
        #[command(flatten)]
        pds: PdsArg,
        /// The file, or `-` for stdin.
        file: String,
        /// The MIME type (default: guessed from the file's extension, else
        /// application/octet-stream).
        #[arg(long, value_name = "TYPE")]
        mime: Option<String>,
    },
    /// Download a blob (`com.atproto.sync.getBlob`; no session needed) and check its bytes
    /// against the CID: prints {"did", "cid", "file", "bytes"}.
    ///
    /// Bytes that do not hash to CID are an error (exit 1) and are not kept.
    Get {
        #[command(flatten)]
        pds: PdsArg,
        /// Without --pds and without a session, REPO's PDS is found through its DID document
        /// with these options.
        #[command(flatten)]
        resolver: crate::resolver::ResolverArgs,
        /// The account holding the blob: a DID or a handle.
        repo: String,
        /// The blob's CID (the `ref` of the blob reference).
        cid: String,
        /// Where to write the blob (`-` for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: String,
        /// The most bytes to accept before giving up (and removing the partial file).
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BLOB_LIMIT)]
        max_bytes: u64,
    },
}

/// `blob get`'s default size cap: 1 GiB, above the reference PDS's largest blob limit.
const DEFAULT_BLOB_LIMIT: u64 = 1 << 30;

pub fn run(command: BlobCommand, out: &Output) -> Result<(), Failure> {
    match command {
        BlobCommand::Get {
            pds,
            resolver,
            repo,
            cid,
            output,
            max_bytes,
        } => get(&pds, &resolver, &repo, &cid, &output, max_bytes, out),
        BlobCommand::Upload { pds, file, mime } => {
            let mime = mime.unwrap_or_else(|| guess_mime(&file).to_owned());
            // Check the file before asking for a session, so that a typo is reported as such.
            let stdin = if file == "-" {
                Some(read_input(&file)?)
            } else {
                std::fs::metadata(&file)
                    .map_err(|e| Failure::Unreadable(format!("reading {file}: {e}")))?;
                None
            };
            let remote = Remote::connect(&pds)?;
            remote.require_login("blob upload")?;
            let blob = match stdin {
                Some(bytes) => remote.block_on(remote.client.upload_blob(bytes, &mime)),
                // Streamed from disk.
                None => remote.block_on(remote.client.upload_blob_file(&file, &mime)),
            }
            .map_err(client_failure)?;
            let json = serde_json::to_value(&blob)
                .map_err(|e| Failure::Invalid(format!("the blob reference: {e}")))?;
            out.emit(&json, || {
                serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
            })?;
            Ok(())
        }
    }
}

/// Downloads blob `cid` of `repo` to `output`, refusing bytes that do not match the CID.
fn get(
    pds: &PdsArg,
    resolver: &crate::resolver::ResolverArgs,
    repo: &str,
    cid: &str,
    output: &str,
    max_bytes: u64,
    out: &Output,
) -> Result<(), Failure> {
    let repo: atdata_core::AtIdentifier = repo
        .parse()
        .map_err(|e| Failure::Usage(format!("REPO {repo:?}: {e}")))?;
    let cid: atdata_core::Cid = cid
        .parse()
        .map_err(|e| Failure::Usage(format!("CID {cid:?}: {e}")))?;
    let (pds, located) = crate::remote::locate(pds, resolver, &repo)?;
    let remote = Remote::connect_with(&pds, |builder| {
        builder
            .max_download_size(max_bytes)
            .max_response_size(max_bytes.min(MAX_IN_MEMORY))
    })?;
    let did = match located {
        Some(did) => did,
        None => remote.did_of(repo)?,
    };
    let mismatch = || {
        Failure::Invalid(format!(
            "the bytes the server sent for {cid} do not hash to that CID; nothing was kept"
        ))
    };
    let written = if output == "-" || !super::repo::is_regular_file_or_absent(output) {
        // In memory, checked before a byte is written: stdout, or a device / FIFO that a
        // partial download must not be left in (nor removed, as a file would be).
        let bytes = remote
            .block_on(remote.client.get_blob(&did, cid))
            .map_err(client_failure)?;
        if cid.matches(&bytes) != Some(true) {
            return Err(mismatch());
        }
        if output == "-" {
            return out.bytes(&bytes);
        }
        super::repo::write_existing(output, &bytes)?;
        bytes.len() as u64
    } else {
        let written = remote
            .block_on(remote.client.get_blob_to_file(&did, cid, output))
            .map_err(client_failure)?;
        match file_matches(output, &cid) {
            Ok(true) => written,
            Ok(false) => {
                let _ = std::fs::remove_file(output);
                return Err(mismatch());
            }
            Err(e) => {
                let _ = std::fs::remove_file(output);
                return Err(Failure::Unreadable(format!("reading back {output}: {e}")));
            }
        }
    };
    let json = serde_json::json!({
        "did": did.as_str(),
        "cid": cid.to_string(),
        "file": output,
        "bytes": written,
    });
    out.emit(&json, || {
        format!("wrote blob {cid} to {output}: {written} bytes")
    })
}

/// The largest blob `blob get -o -` holds in memory to check it before writing.
const MAX_IN_MEMORY: u64 = 256 << 20;

/// Whether the file at `path` hashes to `cid` (SHA-256, read in pieces).
fn file_matches(path: &str, cid: &atdata_core::Cid) -> std::io::Result<bool> {
    use sha2::Digest as _;
    use std::io::Read as _;
    if cid.hash_code() != 0x12 {
        return Ok(false);
    }
    let mut file = std::fs::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().as_slice() == cid.digest())
}

/// The MIME type for a file name's extension, for the common kinds; else
/// `application/octet-stream`.
pub fn guess_mime(file: &str) -> &'static str {
    let extension = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("json") => "application/json",
        Some("jsonl" | "ndjson") => "application/x-ndjson",
        Some("txt") => "text/plain",
        Some("md") => "text/markdown",
        Some("csv") => "text/csv",
        Some("tsv") => "text/tab-separated-values",
        Some("html" | "htm") => "text/html",
        Some("xml") => "application/xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("avif") => "image/avif",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("ogg") => "audio/ogg",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("zst") => "application/zstd",
        Some("tar") => "application/x-tar",
        Some("parquet") => "application/vnd.apache.parquet",
        Some("arrow" | "feather") => "application/vnd.apache.arrow.file",
        Some("car") => "application/vnd.ipld.car",
        Some("cbor") => "application/cbor",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::guess_mime;

    #[test]
    fn common_extensions_and_the_fallback() {
        assert_eq!(guess_mime("schema.json"), "application/json");
        assert_eq!(guess_mime("shard-0000.TAR"), "application/x-tar");
        assert_eq!(guess_mime("photo.jpeg"), "image/jpeg");
        assert_eq!(guess_mime("data.parquet"), "application/vnd.apache.parquet");
        assert_eq!(guess_mime("README"), "application/octet-stream");
        assert_eq!(guess_mime("-"), "application/octet-stream");
        assert_eq!(guess_mime("x.unknown"), "application/octet-stream");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod get_tests {
    use super::*;

    #[test]
    fn a_file_matches_only_the_cid_of_its_bytes() {
        let dir = std::env::temp_dir().join(format!("atdata-blob-get-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("blob.bin");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let path = path.to_str().unwrap();
        assert!(file_matches(path, &atdata_core::Cid::for_raw(&bytes)).unwrap());
        assert!(!file_matches(path, &atdata_core::Cid::for_raw(b"other")).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
