//! AT Protocol lexicons: a typed model of lexicon documents ([`LexiconDoc`]), a [`Catalog`]
//! that resolves references between them, run-time [validation](validate) of data against
//! them, and [lints](lint) for lexicon authors.
//!
//! See <https://atproto.com/specs/lexicon>.
//!
//! ```
//! use atdata_core::Value;
//! use atdata_lexicon::{Catalog, schema::UserType};
//!
//! let mut catalog = Catalog::new();
//! catalog.add_json(r#"{"lexicon": 1, "id": "com.example.note",
//!     "defs": {"main": {"type": "record", "key": "tid",
//!         "record": {"type": "object", "required": ["text"],
//!                    "properties": {"text": {"type": "string", "maxLength": 300}}}}}}"#)?;
//! let doc = catalog.doc("com.example.note").expect("added");
//! assert!(matches!(doc.main(), Some(UserType::Record(_))));
//!
//! let note = Value::from_json_str(r#"{"$type": "com.example.note", "text": 42}"#)?;
//! let err = catalog.validate_record("com.example.note", &note).unwrap_err();
//! assert_eq!(err.to_string(), "Record.text: expected string, found integer");
//!
//! let lints = atdata_lexicon::lint::lint(&catalog);
//! assert_eq!(lints[0].to_string(),
//!     "warning[record-description] com.example.note defs.main: the record type has no description");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod catalog;
pub mod doc;
pub mod lint;
#[cfg(feature = "official")]
pub mod official;
pub mod reference;
pub mod schema;
pub mod validate;

pub use catalog::{Catalog, CatalogError, UnresolvedRef};
pub use doc::DocError;
pub use reference::{DefRef, RefError};
pub use schema::LexiconDoc;
pub use validate::{Target, ValidateOptions, ValidationError, ValidationErrors, Validator};
