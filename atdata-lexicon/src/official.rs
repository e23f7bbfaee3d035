//! The official AT Protocol lexicons (`com.atproto`, `app.bsky`, `chat.bsky`, `tools.ozone`, …),
//! compiled into the binary, so that users can validate Bluesky data and generate code against
//! it without a copy of the lexicon tree. Behind the `official` feature (about 730 KB of JSON).

use std::sync::OnceLock;

use crate::{Catalog, CatalogError};

#[path = "official_files.rs"]
mod files;

/// The official lexicons as a [`Catalog`], parsed once per process.
///
/// ```
/// let catalog = atdata_lexicon::official::catalog();
/// assert!(catalog.doc("app.bsky.feed.post").is_some());
/// assert!(catalog.unresolved_refs().is_empty());
/// ```
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match load() {
        Ok(catalog) => catalog,
        // The files are fixed at build time and a test parses every one of them, so this
        // cannot happen in a released build; an empty catalog is the safe fallback.
        Err(_) => Catalog::new(),
    })
}

/// Parses the compiled-in lexicons into a fresh catalog.
pub fn load() -> Result<Catalog, CatalogError> {
    let mut catalog = Catalog::new();
    for (path, text) in files::FILES {
        let doc = crate::LexiconDoc::from_json(text).map_err(|source| CatalogError::Doc {
            path: (*path).to_owned(),
            source,
        })?;
        catalog.add(doc)?;
    }
    Ok(catalog)
}

/// `(path under lexicons/, JSON text)` of every compiled-in lexicon, in path order.
pub fn files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}
