//! JSON for pipes, text for people.

use std::io::{IsTerminal as _, Write as _};

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
    pub fn emit(&self, value: &serde_json::Value, text: impl FnOnce() -> String) {
        let line = if self.json { value.to_string() } else { text() };
        let mut stdout = std::io::stdout().lock();
        // A closed pipe (`atdata car cat x | head`) is not an error worth reporting.
        let _ = writeln!(stdout, "{line}");
    }
}
