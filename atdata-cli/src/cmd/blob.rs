//! `atdata blob upload`: put a file on the logged-in account's PDS as a blob.

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
}

pub fn run(command: BlobCommand, out: &Output) -> Result<(), Failure> {
    match command {
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
