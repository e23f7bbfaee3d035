//! # atdata-codegen
//!
//! Rust types from AT Protocol lexicons: one module per lexicon document, with
//!
//! - a struct per object and record (`pub` fields, `new(required…)`, chainable setters, unknown
//!   keys kept in `extra` so data round-trips byte for byte);
//! - an enum per union (a boxed variant per member, `Unknown(Value)` when the union is open);
//! - constants for tokens and known string values, type aliases for other definitions;
//! - for each query and procedure, `Params`, `Input`, `Output`, `Error` and a request type that
//!   implements [`atdata_core::xrpc::XrpcRequest`]; for each subscription, its `Message` union
//!   and a type implementing [`atdata_core::xrpc::XrpcSubscription`];
//! - an `ids` module with the NSID of every document.
//!
//! Serialization goes through the support module of `atdata-core` (`atdata_core::runtime`), so
//! generated code depends on that crate only (and on `atdata-api` when it refers to official
//! lexicons), never on the HTTP client.
//!
//! ```no_run
//! use atdata_codegen::{CrateOptions, Generator};
//! use atdata_lexicon::Catalog;
//!
//! let catalog = Catalog::load_dir("lexicons")?;
//! let tree = Generator::new(&catalog).generate_crate(&CrateOptions::new("my-lexicons"))?;
//! tree.write_to("my-lexicons")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Output is deterministic: the same lexicons always give the same files.

mod docs;
mod emit;
mod generator;
mod layout;
mod manifest;
mod names;
mod plan;
mod rustfmt;
mod services;
mod tree;

use std::fmt;
use std::path::{Path, PathBuf};

pub use generator::Generator;
pub use manifest::{CrateOptions, Dependency};
pub use plan::External;
pub use services::ServicesOptions;
pub use tree::GeneratedTree;

/// The official namespaces `atdata-api` holds, with its cargo feature for each.
pub const OFFICIAL_NAMESPACES: [(&str, &str); 4] = [
    ("com.atproto", "com-atproto"),
    ("app.bsky", "app-bsky"),
    ("chat.bsky", "chat-bsky"),
    ("tools.ozone", "tools-ozone"),
];

/// Why code could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// The lexicons could not be loaded.
    #[error(transparent)]
    Catalog(#[from] atdata_lexicon::CatalogError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `rustfmt` is missing or rejected the output.
    #[error("rustfmt failed: {message}")]
    Rustfmt {
        /// What it said.
        message: String,
    },
    /// A bug in the generator.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Something the generator worked around: a reference it could not type, a union member it
/// skipped, ….
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// Where in the lexicons (`app.bsky.feed.post#main.embed`).
    pub origin: String,
    /// What happened.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// What [`generate_dir`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Lexicon documents read.
    pub documents: usize,
    /// Files written.
    pub files: usize,
    /// What the generator worked around.
    pub warnings: Vec<Warning>,
}

/// `atdata lexicon gen`: generates Rust from the lexicons under `lexicons` into `out`.
///
/// With `krate`, `out` becomes a ready-to-build crate (`Cargo.toml`, `src/lib.rs`, one feature
/// per namespace) depending on `atdata-core` (and `atdata-api` when it refers to official
/// lexicons), from crates.io or a checkout as [`CrateOptions::atdata`] says. Without it, `out`
/// receives a module tree (`mod.rs` and below) to mount anywhere in a crate that depends on
/// `atdata-core` (and `atdata-api`), e.g. with `mod lexicons;` for `out` = `src/lexicons`.
///
/// Official lexicons (`com.atproto`, `app.bsky`, `chat.bsky`, `tools.ozone`) found beside the
/// user's own are not generated again: references to them become the types of `atdata-api`.
/// A folder holding only official lexicons is generated whole. References to lexicons that are
/// not in the folder at all cannot be typed (their shape is unknown) and become `Value`, with a
/// warning in the summary. Earlier output that is no longer generated is deleted.
pub fn generate_dir(
    lexicons: &Path,
    out: &Path,
    krate: Option<&CrateOptions>,
) -> Result<Summary, CodegenError> {
    let mut catalog = atdata_lexicon::Catalog::load_dir(lexicons)?;
    let own: std::collections::BTreeSet<String> = catalog
        .docs()
        .map(|d| {
            d.id.as_str()
                .split('.')
                .take(2)
                .collect::<Vec<_>>()
                .join(".")
        })
        .filter(|prefix| !OFFICIAL_NAMESPACES.iter().any(|(p, _)| p == prefix))
        .collect();
    let documents = catalog.len();
    if !own.is_empty() {
        // The user's lexicons may refer to official ones (`com.atproto.repo.strongRef`, …)
        // without carrying copies: the compiled-in official tree fills the gaps, and those
        // references become atdata-api's types.
        for doc in atdata_lexicon::official::catalog().docs() {
            if catalog.doc(doc.id.as_str()).is_none() {
                catalog.add(doc.clone())?;
            }
        }
    }
    let mut generator = Generator::new(&catalog);
    if !own.is_empty() {
        generator = generator.namespaces(own).official_externals();
    }
    let tree = match krate {
        Some(options) => generator.generate_crate(options)?,
        None => generator.generate()?,
    };
    tree.write_to(out)?;
    Ok(Summary {
        documents,
        files: tree.files.len(),
        warnings: tree.warnings,
    })
}
