//! Run-time validation of data-model [`Value`]s against the lexicons of a [`Catalog`].
//!
//! Every rule of the lexicon spec is checked: required and nullable properties, the type of
//! each value, integer `minimum`/`maximum`/`enum`/`const`, boolean `const`, string
//! `minLength`/`maxLength` (UTF-8 bytes), `minGraphemes`/`maxGraphemes`, `enum`/`const` and
//! every `format`, bytes lengths, blob `accept` (with `image/*` and `*/*` patterns) and
//! `maxSize`, array lengths and items, `unknown` (an object, not a blob), refs (a ref to a
//! token wants the token's name), unions (open or closed, `nsid` and `nsid#main` alike) and a
//! record's own `$type`. `knownValues` is advice, not a rule, and `default`s are not applied.
//!
//! Data is an owned [`Value`] or a zero-copy [`ValueRef`](atdata_core::ValueRef) (what
//! `Record::decode` and the firehose give): both implement [`Data`] and run the same walk.
//! `ValueRef` is the faster of the two to validate, as its maps are vectors and its strings
//! borrow one contiguous block.
//!
//! Two modes: [`Catalog::validate`] and the `validate_*` shortcuts stop at the first error,
//! which is the fast path for code that only needs a verdict; [`Catalog::validate_all`]
//! collects every error (the CLI uses it), keeping the first
//! [`ValidateOptions::max_errors`] in full and only counting the rest
//! ([`ValidationErrors::omitted`]), so that a huge wrong value costs no more memory than a
//! small one. Valid data is walked without allocating paths: an error's path is rendered only
//! when the error is kept (format checks that build an identifier are the one allocation
//! left).
//!
//! Nesting deeper than [`ValidateOptions::max_depth`] is an error, never a stack overflow; a
//! reference the catalog cannot resolve is an error naming the reference.
//!
//! ```
//! use atdata_core::Value;
//! use atdata_lexicon::Catalog;
//!
//! let mut catalog = Catalog::new();
//! catalog.add_json(r#"{"lexicon": 1, "id": "com.example.like",
//!     "defs": {"main": {"type": "record", "key": "tid",
//!         "record": {"type": "object", "required": ["subject", "createdAt"],
//!             "properties": {
//!                 "subject": {"type": "string", "format": "at-uri"},
//!                 "createdAt": {"type": "string", "format": "datetime"}}}}}}"#)?;
//! let like = Value::from_json_str(r#"{"$type": "com.example.like",
//!     "subject": "at://did:plc:abc/com.example.post/3k2a", "createdAt": "2024-05-01T12:00:00Z"}"#)?;
//! catalog.validate_record("com.example.like", &like)?;
//!
//! let bad = Value::from_json_str(r#"{"$type": "com.example.like", "subject": "nope"}"#)?;
//! let errors = catalog.validate_all(atdata_lexicon::validate::Target::Record("com.example.like"), &bad)
//!     .unwrap_err();
//! let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
//! assert_eq!(lines, [
//!     "Record.createdAt: required property is missing",
//!     "Record.subject: not a valid at-uri string: invalid AT-URI: must start with \"at://\"",
//! ]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod blob;
mod data;
mod error;
mod format;
mod path;
mod scalar;
mod string;
mod target;
mod walk;

use atdata_core::Value;

pub use data::Data;
pub use error::{Problem, Unit, ValidationError, ValidationErrors};
pub use target::Target;

use crate::schema::{Boolean, Integer, StringSchema};
use crate::{Catalog, DefRef};
use path::Path;
use walk::Walker;

/// Default for [`ValidateOptions::max_depth`]: the nesting the DAG-CBOR decoder accepts, so
/// that any value atdata-core can decode can be validated.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Default for [`ValidateOptions::max_errors`]: more than anyone reads, few enough that an
/// array of a million wrong items costs kilobytes, not gigabytes.
pub const DEFAULT_MAX_ERRORS: usize = 100;

/// Knobs of validation. The default is strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// Accept legacy blobs, `{"cid": "…", "mimeType": "…"}`, found in records written before
    /// 2023. Off by default: the spec says to read the form but never write it.
    pub allow_legacy_blobs: bool,
    /// The deepest nesting of maps and arrays walked; deeper data is an error.
    pub max_depth: usize,
    /// How many errors [`Validator::validate_all`] keeps in full; later ones are only
    /// counted in [`ValidationErrors::omitted`]. At least one is always kept.
    pub max_errors: usize,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            allow_legacy_blobs: false,
            max_depth: DEFAULT_MAX_DEPTH,
            max_errors: DEFAULT_MAX_ERRORS,
        }
    }
}

impl ValidateOptions {
    /// Sets [`ValidateOptions::allow_legacy_blobs`].
    pub fn with_legacy_blobs(mut self, allow: bool) -> Self {
        self.allow_legacy_blobs = allow;
        self
    }

    /// Sets [`ValidateOptions::max_depth`].
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Sets [`ValidateOptions::max_errors`].
    pub fn with_max_errors(mut self, max_errors: usize) -> Self {
        self.max_errors = max_errors;
        self
    }
}

/// A catalog with validation options.
///
/// ```
/// use atdata_core::Value;
/// use atdata_lexicon::{validate::{Target, ValidateOptions}, Catalog};
///
/// let mut catalog = Catalog::new();
/// catalog.add_json(r#"{"lexicon": 1, "id": "com.example.avatar",
///     "defs": {"main": {"type": "object", "properties": {
///         "image": {"type": "blob", "accept": ["image/*"]}}}}}"#)?;
/// let old = Value::from_json_str(r#"{"image": {"cid":
///     "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy", "mimeType": "image/png"}}"#)?;
/// let target = "com.example.avatar".parse()?;
/// assert!(catalog.validate(Target::Def(&target), &old).is_err());
/// let lenient = catalog.validator().with_options(ValidateOptions::default().with_legacy_blobs(true));
/// lenient.validate(Target::Def(&target), &old)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Validator<'c> {
    catalog: &'c Catalog,
    options: ValidateOptions,
}

impl<'c> Validator<'c> {
    /// A validator with the default (strict) options.
    pub fn new(catalog: &'c Catalog) -> Self {
        Validator {
            catalog,
            options: ValidateOptions::default(),
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: ValidateOptions) -> Self {
        self.options = options;
        self
    }

    /// The options in use.
    pub fn options(&self) -> ValidateOptions {
        self.options
    }

    /// Validates `value` (a [`Value`] or a zero-copy [`ValueRef`](atdata_core::ValueRef)) as
    /// `target`, stopping at the first error.
    pub fn validate<D: Data + ?Sized>(
        &self,
        target: Target<'_>,
        value: &D,
    ) -> Result<(), ValidationError> {
        let mut walker = Walker::new(self.catalog, self.options, false);
        // In first-error mode the walk stops exactly when it records an error.
        let _ = walker.run_any(target, value.any());
        match walker.errors.into_iter().next() {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    /// Validates `value` as `target`, collecting every error: the first
    /// [`ValidateOptions::max_errors`] in full, a count of the others.
    pub fn validate_all<D: Data + ?Sized>(
        &self,
        target: Target<'_>,
        value: &D,
    ) -> Result<(), ValidationErrors> {
        let mut walker = Walker::new(self.catalog, self.options, true);
        let _ = walker.run_any(target, value.any());
        if walker.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                errors: walker.errors,
                omitted: walker.omitted,
            })
        }
    }
}

impl Catalog {
    /// A [`Validator`] over this catalog, to set options.
    pub fn validator(&self) -> Validator<'_> {
        Validator::new(self)
    }

    /// Validates `value` (a [`Value`] or a zero-copy [`ValueRef`](atdata_core::ValueRef)) as
    /// `target` with the default options, stopping at the first error.
    pub fn validate<D: Data + ?Sized>(
        &self,
        target: Target<'_>,
        value: &D,
    ) -> Result<(), ValidationError> {
        self.validator().validate(target, value)
    }

    /// Validates `value` as `target` with the default options, collecting every error (the
    /// first [`DEFAULT_MAX_ERRORS`] in full, a count of the others).
    pub fn validate_all<D: Data + ?Sized>(
        &self,
        target: Target<'_>,
        value: &D,
    ) -> Result<(), ValidationErrors> {
        self.validator().validate_all(target, value)
    }

    /// Validates a record of collection `nsid` (its `$type` must be `nsid`).
    pub fn validate_record<D: Data + ?Sized>(
        &self,
        nsid: &str,
        record: &D,
    ) -> Result<(), ValidationError> {
        self.validate(Target::Record(nsid), record)
    }

    /// Validates a value against one definition.
    pub fn validate_def<D: Data + ?Sized>(
        &self,
        def: &DefRef,
        value: &D,
    ) -> Result<(), ValidationError> {
        self.validate(Target::Def(def), value)
    }

    /// Validates the parameters of method `nsid`, given as a map of typed values.
    pub fn validate_params<D: Data + ?Sized>(
        &self,
        nsid: &str,
        params: &D,
    ) -> Result<(), ValidationError> {
        self.validate(Target::Params(nsid), params)
    }

    /// Validates the input body of procedure `nsid`.
    pub fn validate_input<D: Data + ?Sized>(
        &self,
        nsid: &str,
        body: &D,
    ) -> Result<(), ValidationError> {
        self.validate(Target::Input(nsid), body)
    }

    /// Validates the output body of query or procedure `nsid`.
    pub fn validate_output<D: Data + ?Sized>(
        &self,
        nsid: &str,
        body: &D,
    ) -> Result<(), ValidationError> {
        self.validate(Target::Output(nsid), body)
    }

    /// Validates a message (with its `$type`) of subscription `nsid`.
    pub fn validate_message<D: Data + ?Sized>(
        &self,
        nsid: &str,
        message: &D,
    ) -> Result<(), ValidationError> {
        self.validate(Target::Message(nsid), message)
    }
}

/// A scalar schema, for checking a lexicon's own `default` and `const` values (lint).
#[derive(Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Boolean(&'a Boolean),
    Integer(&'a Integer),
    String(&'a StringSchema),
}

/// Every problem of `value` under a scalar schema (no references involved, so no catalog).
pub(crate) fn scalar_problems(schema: Scalar<'_>, value: &Value) -> Vec<Problem> {
    let catalog = Catalog::new();
    let mut walker = Walker::new(&catalog, ValidateOptions::default(), true);
    let at = Path::root("");
    // Collecting every error: the walk never stops early.
    let _ = match schema {
        Scalar::Boolean(s) => walker.boolean(s, value, &at),
        Scalar::Integer(s) => walker.integer(s, value, &at),
        Scalar::String(s) => walker.string(s, value, &at),
    };
    walker.errors.into_iter().map(|e| e.problem).collect()
}
