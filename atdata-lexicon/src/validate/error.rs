//! [`ValidationError`]: what is wrong with the data, and where.

use std::fmt;

use atdata_core::SyntaxError;

use crate::schema::StringFormat;

/// One reason the data does not match its schema, with the path of the offending value.
///
/// The path is JavaScript-style and starts with the name of what was validated: `Record`,
/// `Params`, `Input`, `Output`, `Message`, or `Value` for a single definition. Map keys follow
/// a `.` (or `["…"]` when the key is not an identifier) and array indexes are in brackets:
/// `Record.embed.images[2].alt`, `Record["cid-link"]`. A missing required property is reported
/// at the property's own path.
///
/// ```
/// use atdata_core::Value;
/// use atdata_lexicon::{validate::Problem, Catalog};
///
/// let mut catalog = Catalog::new();
/// catalog.add_json(r#"{"lexicon": 1, "id": "com.example.note",
///     "defs": {"main": {"type": "record", "key": "tid",
///         "record": {"type": "object", "required": ["text"],
///                    "properties": {"text": {"type": "string", "maxLength": 5}}}}}}"#)?;
/// let note = Value::from_json_str(r#"{"$type": "com.example.note", "text": "too long"}"#)?;
/// let err = catalog.validate_record("com.example.note", &note).unwrap_err();
/// assert_eq!(err.path, "Record.text");
/// assert!(matches!(err.problem, Problem::TooLong { limit: 5, found: 8, .. }));
/// assert_eq!(err.to_string(), "Record.text: must not be longer than 5 bytes (found 8)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct ValidationError {
    /// Where: `Record.embed.images[2].alt`.
    pub path: String,
    /// What is wrong: expected versus found.
    pub problem: Problem,
}

/// What is wrong with a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The value has the wrong data-model type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// The type the schema asks for (`string`, `object`, `blob`, …).
        expected: &'static str,
        /// The type of the data (`integer`, `map`, `blob`, …).
        found: &'static str,
    },
    /// A required property is absent.
    #[error("required property is missing")]
    Missing,
    /// The value is `null` but the property is not listed in `nullable`.
    #[error("must not be null (the property is not nullable)")]
    NotNullable,
    /// An integer below `minimum`.
    #[error("must not be less than {limit} (found {found})")]
    TooSmall {
        /// The minimum.
        limit: i64,
        /// The value.
        found: i64,
    },
    /// An integer above `maximum`.
    #[error("must not be greater than {limit} (found {found})")]
    TooBig {
        /// The maximum.
        limit: i64,
        /// The value.
        found: i64,
    },
    /// A string, bytes or array shorter than its minimum.
    #[error("must not be shorter than {limit} {unit} (found {found})")]
    TooShort {
        /// What is counted.
        unit: Unit,
        /// The minimum.
        limit: u64,
        /// The length found.
        found: u64,
    },
    /// A string, bytes or array longer than its maximum.
    #[error("must not be longer than {limit} {unit} (found {found})")]
    TooLong {
        /// What is counted.
        unit: Unit,
        /// The maximum.
        limit: u64,
        /// The length found.
        found: u64,
    },
    /// A value outside the schema's `enum`.
    #[error("must be one of {} (found {found})", allowed.join(", "))]
    NotInEnum {
        /// The allowed values, as JSON.
        allowed: Vec<String>,
        /// The value, as JSON.
        found: String,
    },
    /// A value different from the schema's `const`.
    #[error("must be {expected} (found {found})")]
    NotConst {
        /// The constant, as JSON.
        expected: String,
        /// The value, as JSON.
        found: String,
    },
    /// A string that does not follow its `format`.
    #[error("not a valid {} string: {error}", format.name())]
    Format {
        /// The format.
        format: StringFormat,
        /// Why the syntax check refused it.
        error: SyntaxError,
    },
    /// A blob whose MIME type is not in `accept`.
    #[error("blob MIME type {mime_type:?} is not accepted (accept: {})", accept.join(", "))]
    BlobType {
        /// The blob's MIME type.
        mime_type: String,
        /// The schema's patterns.
        accept: Vec<String>,
    },
    /// A blob larger than `maxSize`.
    #[error("blob is {size} bytes, larger than the maximum {max_size}")]
    BlobTooBig {
        /// The blob's size.
        size: u64,
        /// The schema's `maxSize`.
        max_size: u64,
    },
    /// A map with `"$type": "blob"` that lacks a field of the blob shape.
    #[error("malformed blob: {0}")]
    MalformedBlob(&'static str),
    /// A legacy `{cid, mimeType}` blob, refused unless
    /// [`ValidateOptions::allow_legacy_blobs`](super::ValidateOptions::allow_legacy_blobs).
    #[error(
        "legacy blob form {{cid, mimeType}} (current form: {{$type: blob, ref, mimeType, size}})"
    )]
    LegacyBlob,
    /// A union member without a string `$type`.
    #[error("a union member must be an object with a \"$type\"")]
    MissingType,
    /// A `$type` not listed in a closed union.
    #[error("$type {found:?} is not one of the closed union's {}", refs.join(", "))]
    NotInUnion {
        /// The data's `$type`.
        found: String,
        /// The union's members as written.
        refs: Vec<String>,
    },
    /// A record whose `$type` is not the NSID it is validated as.
    #[error("$type must be {expected:?}, found {}", found.as_deref().map_or("none".to_owned(), |f| format!("{f:?}")))]
    RecordType {
        /// The record NSID.
        expected: String,
        /// The data's `$type`, if it is a string.
        found: Option<String>,
    },
    /// A reference to a token, whose value must be the token's full name.
    #[error("must be the token {expected:?} (found {found})")]
    Token {
        /// `nsid#name` of the token.
        expected: String,
        /// The value, as JSON.
        found: String,
    },
    /// A reference (or union member) whose target is not in the catalog.
    #[error("reference {target:?} is not in the catalog")]
    UnresolvedRef {
        /// The reference as written (or the `$type` named by the data).
        target: String,
    },
    /// The catalog has no lexicon with this NSID.
    #[error("no lexicon {nsid:?} in the catalog")]
    UnknownLexicon {
        /// The NSID asked for.
        nsid: String,
    },
    /// The definition is of the wrong kind for what was asked (a record wanted, a query found).
    #[error("{target} is a {found}, not a {expected}")]
    WrongDef {
        /// The definition.
        target: String,
        /// What was needed.
        expected: &'static str,
        /// What the definition is.
        found: &'static str,
    },
    /// The method has no such body (`input` of a query, say).
    #[error("{method} has no {body}")]
    NoBody {
        /// The method's NSID.
        method: String,
        /// `input`, `output` or `message`.
        body: &'static str,
    },
    /// Data nested deeper than [`ValidateOptions::max_depth`](super::ValidateOptions).
    #[error("nested deeper than {max_depth} levels")]
    TooDeep {
        /// The limit.
        max_depth: usize,
    },
}

/// What a length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// UTF-8 bytes of a string, or bytes of a byte string.
    Bytes,
    /// Grapheme clusters of a string.
    Graphemes,
    /// Array elements.
    Elements,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Bytes => "bytes",
            Unit::Graphemes => "graphemes",
            Unit::Elements => "elements",
        })
    }
}

/// Every problem found in one value, in the order the walk met them (never empty).
///
/// Only the first [`ValidateOptions::max_errors`](super::ValidateOptions::max_errors) are
/// kept; [`ValidationErrors::omitted`] counts the others, and the `Display` form ends with
/// `… and N more` when there are any.
///
/// ```
/// use atdata_core::Value;
/// use atdata_lexicon::{validate::Target, Catalog};
///
/// let mut catalog = Catalog::new();
/// catalog.add_json(r#"{"lexicon": 1, "id": "com.example.pair",
///     "defs": {"main": {"type": "object", "required": ["a", "b"],
///         "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}"#)?;
/// let target = "com.example.pair".parse()?;
/// let errors = catalog.validate_all(Target::Def(&target), &Value::from_json_str("{}")?)
///     .unwrap_err();
/// assert_eq!(errors.len(), 2);
/// assert_eq!(errors[1].path, "Value.b");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    pub(crate) errors: Vec<ValidationError>,
    pub(crate) omitted: usize,
}

impl ValidationErrors {
    /// The errors kept, as a vector (see [`ValidationErrors::omitted`] for the others).
    pub fn into_vec(self) -> Vec<ValidationError> {
        self.errors
    }

    /// How many errors were found past the cap and not kept.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// How many errors were found: those kept and those omitted.
    pub fn total(&self) -> usize {
        self.errors.len().saturating_add(self.omitted)
    }
}

impl std::ops::Deref for ValidationErrors {
    type Target = [ValidationError];
    fn deref(&self) -> &[ValidationError] {
        &self.errors
    }
}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// One error per line, then `… and N more` if some were omitted.
impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        if self.omitted > 0 {
            write!(f, "\n… and {} more", self.omitted)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
