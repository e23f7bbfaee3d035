//! AT Protocol lexicons: a typed model of lexicon documents ([`LexiconDoc`]), a [`Catalog`]
//! that resolves references between them, and run-time validation of data against them.
//!
//! See <https://atproto.com/specs/lexicon>.
//!
//! ```
//! use atdata_lexicon::{Catalog, schema::UserType};
//!
//! let mut catalog = Catalog::new();
//! catalog.add_json(r#"{"lexicon": 1, "id": "com.example.note",
//!     "defs": {"main": {"type": "record", "key": "tid",
//!         "record": {"type": "object", "required": ["text"],
//!                    "properties": {"text": {"type": "string", "maxLength": 300}}}}}}"#)?;
//! let doc = catalog.doc("com.example.note").expect("added");
//! assert!(matches!(doc.main(), Some(UserType::Record(_))));
//! # Ok::<(), atdata_lexicon::CatalogError>(())
//! ```

pub mod catalog;
pub mod doc;
pub mod reference;
pub mod schema;

pub use catalog::{Catalog, CatalogError, UnresolvedRef};
pub use doc::DocError;
pub use reference::{DefRef, RefError};
pub use schema::LexiconDoc;
