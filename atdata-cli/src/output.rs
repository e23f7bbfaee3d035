//! JSON for pipes, text for people; every byte to stdout goes through [`Output`], whose writes
//! and final flush are checked.
//!
//! `println!` panics when stdout is a closed pipe (`atdata data to-json | head -c1` exited 101
//! with a panic message), and the flush Rust does at exit ignores errors (a full disk exited 0
//! with nothing written). Here every write returns its error as a [`Failure`]:
//!
//! - a closed pipe is [`Failure::Closed`]: the reader has all it wanted, as with `head`, and
//!   `main` ends quietly with exit 0 (the command stops at its next write);
//! - any other error (`ENOSPC` on a full disk, `EIO`) is [`Failure::Unwritable`], reported on
//!   stderr with exit 3.
//!
//! `main` calls [`Output::flush`] after the command: standard output is line-buffered, so the
//! last bytes of a binary body (no newline) only reach the file there.

use std::io::{IsTerminal as _, Write as _};

use crate::Failure;

/// Where results go and in which form.
pub struct Output {
    json: bool,
}

impl Output {
    /// JSON when asked for or when stdout is not a terminal.
    pub fn new(force_json: bool) -> Self {
        Output {
            json: force_json || !std::io::stdout().is_terminal(),
        }
    }

    /// Whether output is JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as one JSON line, or `text()` for a terminal.
    pub fn emit(
        &self,
        value: &serde_json::Value,
        text: impl FnOnce() -> String,
    ) -> Result<(), Failure> {
        if self.json {
            let mut stdout = std::io::stdout().lock();
            // Straight into the (buffered) stream: a large value is never held twice.
            serde_json::to_writer(&mut stdout, value)
                .map_err(std::io::Error::from)
                .and_then(|()| stdout.write_all(b"\n"))
                .map_err(write_failure)
        } else {
            self.line(&text())
        }
    }

    /// Prints one line of text.
    pub fn line(&self, line: &str) -> Result<(), Failure> {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(line.as_bytes())
            .and_then(|()| stdout.write_all(b"\n"))
            .map_err(write_failure)
    }

    /// Writes raw bytes (a DAG-CBOR value, a CAR file, a binary XRPC body).
    pub fn bytes(&self, bytes: &[u8]) -> Result<(), Failure> {
        std::io::stdout()
            .lock()
            .write_all(bytes)
            .map_err(write_failure)
    }

    /// Flushes stdout; what is still buffered is written now, and a failure is reported.
    pub fn flush(&self) -> Result<(), Failure> {
        std::io::stdout().lock().flush().map_err(write_failure)
    }
}

/// Writes a diagnostic line to stderr. A failure is ignored rather than a panic, as with
/// `eprintln!`: there is nowhere left to report it.
pub fn note(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// [`note`] without the newline: a progress line rewritten in place.
pub fn note_inline(message: std::fmt::Arguments<'_>) {
    let _ = write!(std::io::stderr(), "{message}");
}

/// A closed pipe ends the output quietly; anything else is an error worth a message.
fn write_failure(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::Closed
    } else {
        Failure::Unwritable(format!("writing stdout: {e}"))
    }
}
