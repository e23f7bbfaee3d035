//! Where a subscription keeps its cursor, and how it decides which seq is safe to save.

use std::collections::VecDeque;
use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a cursor could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// Reading or writing the store failed.
    #[error("cursor store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The stored cursor is not a non-negative integer, or the file is too large to be one.
    #[error("cursor store {path}: not a cursor ({reason})")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another store's failure.
    #[error("cursor store: {0}")]
    Other(String),
}

/// Keeps a subscription's cursor between runs: the highest seq below which every event has
/// been handled. Called from a blocking thread at most once a second and on shutdown.
pub trait CursorStore: Send + Sync + fmt::Debug {
    /// The saved cursor, or `None` when nothing was saved yet.
    fn load(&self) -> Result<Option<i64>, CursorError>;
    /// Saves `cursor`, replacing what was there.
    fn save(&self, cursor: i64) -> Result<(), CursorError>;
}

impl<S: CursorStore + ?Sized> CursorStore for std::sync::Arc<S> {
    fn load(&self) -> Result<Option<i64>, CursorError> {
        (**self).load()
    }

    fn save(&self, cursor: i64) -> Result<(), CursorError> {
        (**self).save(cursor)
    }
}

/// A cursor kept in memory (lost when the process ends): the default.
#[derive(Debug, Default)]
pub struct MemoryStore {
    cursor: Mutex<Option<i64>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A store that starts at `cursor`.
    pub fn with_cursor(cursor: i64) -> Self {
        MemoryStore {
            cursor: Mutex::new(Some(cursor)),
        }
    }
}

impl CursorStore for MemoryStore {
    fn load(&self) -> Result<Option<i64>, CursorError> {
        Ok(*self.cursor.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn save(&self, cursor: i64) -> Result<(), CursorError> {
        *self.cursor.lock().unwrap_or_else(|p| p.into_inner()) = Some(cursor);
        Ok(())
    }
}

/// The largest cursor file read: a decimal `i64` and a newline fit in far less.
const MAX_CURSOR_FILE: u64 = 64;

/// A cursor kept in a file as decimal text. Each save writes a temporary file next to it,
/// syncs it and renames it over the old one, so a crash leaves the old cursor or the new one,
/// never a torn write. A file over 64 bytes, or not holding a non-negative integer, is an
/// error rather than a silent restart from the live tail.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store at `path` (created on the first save; its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> CursorError {
        CursorError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl CursorStore for FileStore {
    fn load(&self) -> Result<Option<i64>, CursorError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(e)),
        };
        let mut text = String::new();
        file.take(MAX_CURSOR_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| self.io(e))?;
        let corrupt = |reason: String| CursorError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        if text.len() as u64 > MAX_CURSOR_FILE {
            return Err(corrupt(format!("over {MAX_CURSOR_FILE} bytes")));
        }
        let cursor: i64 = text
            .trim()
            .parse()
            .map_err(|e: std::num::ParseIntError| corrupt(e.to_string()))?;
        if cursor < 0 {
            return Err(corrupt(format!("negative: {cursor}")));
        }
        Ok(Some(cursor))
    }

    fn save(&self, cursor: i64) -> Result<(), CursorError> {
        let mut temp = self.path.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temp)?;
            writeln!(file, "{cursor}")?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.path)?;
            // The rename itself survives a crash once the directory is synced (Unix).
            #[cfg(unix)]
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| self.io(e))
    }
}

/// The seqs handed to the consumer and not yet all handled. Seqs arrive increasing; the
/// cursor advances over the longest handled prefix only, so it never passes an event still
/// being worked on, whatever order workers finish in.
#[derive(Debug)]
pub(crate) struct Tracker {
    pending: VecDeque<(i64, bool)>,
    cursor: Option<i64>,
    saved: Option<i64>,
}

impl Tracker {
    pub(crate) fn new(cursor: Option<i64>) -> Self {
        Tracker {
            pending: VecDeque::new(),
            cursor,
            saved: cursor,
        }
    }

    /// `seq` is about to be handed out.
    pub(crate) fn delivered(&mut self, seq: i64) {
        self.pending.push_back((seq, false));
    }

    /// `seq` was handled.
    pub(crate) fn completed(&mut self, seq: i64) {
        if let Ok(i) = self.pending.binary_search_by_key(&seq, |(s, _)| *s) {
            if let Some(entry) = self.pending.get_mut(i) {
                entry.1 = true;
            }
        }
        while let Some(&(s, true)) = self.pending.front() {
            self.cursor = Some(s);
            self.pending.pop_front();
        }
    }

    /// The highest seq below which every event has been handled.
    pub(crate) fn cursor(&self) -> Option<i64> {
        self.cursor
    }

    /// Forgets the last save (it failed), so the next save tries again.
    pub(crate) fn unsave(&mut self) {
        self.saved = None;
    }

    /// The cursor, if it changed since the last call that returned one.
    pub(crate) fn take_unsaved(&mut self) -> Option<i64> {
        match self.cursor {
            Some(c) if self.saved != Some(c) => {
                self.saved = Some(c);
                Some(c)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_advances_over_the_handled_prefix_only() {
        let mut t = Tracker::new(Some(10));
        for s in [11, 13, 20, 21] {
            t.delivered(s);
        }
        t.completed(13);
        assert_eq!(t.cursor(), Some(10));
        t.completed(11);
        assert_eq!(t.cursor(), Some(13));
        t.completed(21);
        assert_eq!(t.cursor(), Some(13));
        assert_eq!(t.take_unsaved(), Some(13));
        assert_eq!(t.take_unsaved(), None);
        t.completed(20);
        assert_eq!(t.cursor(), Some(21));
    }

    #[test]
    fn file_store_round_trips_and_refuses_garbage() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = FileStore::new(dir.path().join("cursor"));
        assert_eq!(store.load()?, None);
        store.save(42)?;
        assert_eq!(store.load()?, Some(42));
        std::fs::write(store.path(), "nope")?;
        assert!(matches!(store.load(), Err(CursorError::Corrupt { .. })));
        std::fs::write(store.path(), "1".repeat(100))?;
        assert!(matches!(store.load(), Err(CursorError::Corrupt { .. })));
        std::fs::write(store.path(), "-3")?;
        assert!(matches!(store.load(), Err(CursorError::Corrupt { .. })));
        Ok(())
    }
}
