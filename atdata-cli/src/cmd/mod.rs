//! One module per command group.

pub mod blob;
pub mod car;
pub mod data;
pub mod firehose;
pub mod key;
pub mod lexicon;
pub mod login;
pub mod plc;
pub mod record;
pub mod repo;
pub mod resolve;
pub mod stream;
pub mod syntax;
pub mod xrpc;

use crate::Failure;

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &str) -> Result<Vec<u8>, Failure> {
    use std::io::Read as _;
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::Unreadable(format!("reading stdin: {e}")))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| Failure::Unreadable(format!("reading {path}: {e}")))
    }
}
