//! Formatting the output with `rustfmt`, so that generated code is what `cargo fmt` would make of
//! it (and `cargo fmt --check` passes on checked-in output).
//!
//! All files are written to a scratch folder and formatted by one `rustfmt` run on the root
//! module, which follows the `mod` declarations: one process instead of hundreds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::CodegenError;

/// Formats `files` (paths relative to the tree root) whose root module is `root`; returns the
/// formatted texts. The binary is `$RUSTFMT`, or `rustfmt` from `PATH`.
pub(crate) fn format_tree(
    files: &BTreeMap<PathBuf, String>,
    root: &Path,
) -> Result<BTreeMap<PathBuf, String>, CodegenError> {
    let scratch = scratch_dir();
    let result = format_in(&scratch, files, root);
    // Best effort: a leftover scratch folder in the temp directory is harmless.
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn format_in(
    scratch: &Path,
    files: &BTreeMap<PathBuf, String>,
    root: &Path,
) -> Result<BTreeMap<PathBuf, String>, CodegenError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CodegenError::Io { path, source }
    };
    for (rel, text) in files {
        let path = scratch.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    let binary = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let output = Command::new(&binary)
        .arg("--edition")
        .arg("2021")
        .arg(scratch.join(root))
        .output()
        .map_err(|source| CodegenError::Rustfmt {
            message: format!("cannot run {}: {source}", binary.to_string_lossy()),
        })?;
    if !output.status.success() {
        return Err(CodegenError::Rustfmt {
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let mut out = BTreeMap::new();
    for rel in files.keys() {
        let path = scratch.join(rel);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        out.insert(rel.clone(), text);
    }
    Ok(out)
}

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("atdata-codegen-{}-{nanos}", std::process::id()))
}
