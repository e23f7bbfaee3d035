//! Advice for lexicon authors: schema problems that parse fine but break or mislead at run
//! time.
//!
//! [`lint`] checks the typed documents of a [`Catalog`]; [`lint_raw`] checks one document's
//! JSON for keys the typed model would silently drop (a `maxlength` typo, say); and
//! [`lint_json_dir`] does both for a folder, reporting unreadable documents as lints instead
//! of stopping at the first. Each [`Rule`] documents why it exists and its [`Severity`].
//!
//! Rules considered and left out, because on the official lexicons they only made noise:
//! definitions nobody references (tokens are used through `knownValues` strings, and shared
//! `defs` documents hold views for other services), and primary definitions without a
//! description (six official methods have none; records, which users read most, have their own
//! rule).
//!
//! ```
//! use atdata_lexicon::{lint::{lint, Rule, Severity}, Catalog};
//!
//! let mut catalog = Catalog::new();
//! catalog.add_json(r##"{"lexicon": 1, "id": "com.example.note", "defs": {
//!     "main": {"type": "record", "key": "tid", "description": "A note.",
//!         "record": {"type": "object", "required": ["text"], "properties": {
//!             "text": {"type": "string", "minLength": 10, "maxLength": 5},
//!             "kind": {"type": "union", "refs": ["#missing"]}}}}}}"##)?;
//! let lints = lint(&catalog);
//! assert_eq!(lints.len(), 2);
//! assert_eq!(lints[0].rule, Rule::UnresolvedRef);
//! assert_eq!(lints[1].rule, Rule::Bounds);
//! assert_eq!(lints[1].severity, Severity::Error);
//! assert_eq!(lints[1].path, "defs.main.record.properties.text");
//! # Ok::<(), atdata_lexicon::CatalogError>(())
//! ```

mod raw;

use std::fmt;
use std::path::Path;

use atdata_core::Value;

use crate::catalog::{collect_json_files, read_doc_file};
use crate::schema::{
    Array, BlobSchema, BodySchema, Boolean, BytesSchema, FieldType, Integer, LexiconDoc, Object,
    Params, StringSchema, Union, UserType,
};
use crate::validate::{scalar_problems, Scalar};
use crate::{Catalog, CatalogError, DefRef};

pub use raw::lint_raw;

/// How serious a lint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The schema is broken: data cannot validate as intended. `atdata lexicon lint` exits 1.
    Error,
    /// The schema works but is probably not what its author meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A lint rule. Its [`name`](Rule::name) is what the CLI prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// Error: a file is not JSON, is larger than the loader's
    /// [`MAX_DOC_BYTES`](crate::doc::MAX_DOC_BYTES), or is not a valid lexicon document
    /// ([`lint_json_dir`] only).
    InvalidDoc,
    /// Error: two files define the same NSID ([`lint_json_dir`] only).
    DuplicateId,
    /// Error: a `ref` or union member names a definition the catalog lacks; data reaching it
    /// can never validate.
    UnresolvedRef,
    /// Error: a union member is not an object, record or token: union data is an object
    /// with a `$type`, so nothing else can be a member.
    BadUnionMember,
    /// Error: a `ref` names a query, procedure, subscription or permission set, which
    /// describe methods, not data.
    BadRefTarget,
    /// Error: a closed union with no members accepts nothing.
    EmptyClosedUnion,
    /// Error: a minimum above its maximum (`minLength`/`maxLength`, graphemes, `minimum`/
    /// `maximum`, array and bytes lengths): no value fits.
    Bounds,
    /// Error: a `default` or `const` that breaks its own field's rules (outside the range,
    /// not in the `enum`, not of the `format`, a `default` other than the `const`).
    InvalidDefault,
    /// Error: an array definition whose items lead back to it through array definitions
    /// only (`main: array of #main`, or two arrays of each other): no data fits but nested
    /// empty arrays, and a type generated for it cannot be a plain `Vec` alias.
    ArrayCycle,
    /// Warning: a required property with a `default`. The default can never apply, and
    /// validators disagree on such data (the TypeScript reference fills the default in and
    /// accepts a missing value; this crate and others refuse it). Make the property optional
    /// or drop the default.
    RequiredDefault,
    /// Warning: a string with a `format` and also `knownValues` or `enum`; the two constrain
    /// the same value in different ways, and usually one is a leftover.
    FormatWithValues,
    /// Warning: a property or parameter name that is not camelCase (`^[a-z][a-zA-Z0-9]*$`),
    /// the convention of every official lexicon and what code generators expect.
    PropertyCase,
    /// Warning: a record type without a description; records are what users and other
    /// developers read first.
    RecordDescription,
    /// Warning: a `knownValues` entry written as a reference (`#name`, `nsid#name`) that does
    /// not resolve in the catalog (a typo, or a token that was renamed).
    UnresolvedKnownValue,
    /// Warning: a blob with an empty `accept` list: validators disagree whether it accepts
    /// everything or nothing. Omit `accept` to allow any type.
    EmptyAccept,
    /// Warning: a key a definition of its type does not have (a `maxlength` typo, a
    /// `maxGraphemes` on an integer); the typed model drops it, so the rule it meant to set
    /// is not enforced ([`lint_raw`]).
    UnknownKey,
}

impl Rule {
    /// The severity of this rule.
    pub fn severity(self) -> Severity {
        match self {
            Rule::InvalidDoc
            | Rule::DuplicateId
            | Rule::UnresolvedRef
            | Rule::BadUnionMember
            | Rule::BadRefTarget
            | Rule::EmptyClosedUnion
            | Rule::Bounds
            | Rule::InvalidDefault
            | Rule::ArrayCycle => Severity::Error,
            Rule::RequiredDefault
            | Rule::FormatWithValues
            | Rule::PropertyCase
            | Rule::RecordDescription
            | Rule::UnresolvedKnownValue
            | Rule::EmptyAccept
            | Rule::UnknownKey => Severity::Warning,
        }
    }

    /// The kebab-case name (`unresolved-ref`, …).
    pub fn name(self) -> &'static str {
        match self {
            Rule::InvalidDoc => "invalid-doc",
            Rule::DuplicateId => "duplicate-id",
            Rule::UnresolvedRef => "unresolved-ref",
            Rule::BadUnionMember => "bad-union-member",
            Rule::BadRefTarget => "bad-ref-target",
            Rule::EmptyClosedUnion => "empty-closed-union",
            Rule::Bounds => "bounds",
            Rule::InvalidDefault => "invalid-default",
            Rule::ArrayCycle => "array-cycle",
            Rule::RequiredDefault => "required-default",
            Rule::FormatWithValues => "format-with-values",
            Rule::PropertyCase => "property-case",
            Rule::RecordDescription => "record-description",
            Rule::UnresolvedKnownValue => "unresolved-known-value",
            Rule::EmptyAccept => "empty-accept",
            Rule::UnknownKey => "unknown-key",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lint {
    /// The lexicon's NSID (or the file, for a document that does not parse).
    pub id: String,
    /// Where in the document, as a JSON path: `defs.main.record.properties.text`.
    pub path: String,
    /// The rule.
    pub rule: Rule,
    /// `rule.severity()`, kept here for convenience.
    pub severity: Severity,
    /// What is wrong, in words.
    pub message: String,
}

impl Lint {
    pub(crate) fn new(rule: Rule, id: &str, path: &str, message: impl Into<String>) -> Lint {
        Lint {
            id: id.to_owned(),
            path: path.to_owned(),
            rule,
            severity: rule.severity(),
            message: message.into(),
        }
    }
}

/// `error[bounds] com.example.note defs.main…: message`.
impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}] {}", self.severity, self.rule.name(), self.id)?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Lints every document of `catalog` (the typed rules: everything but [`Rule::UnknownKey`],
/// [`Rule::InvalidDoc`] and [`Rule::DuplicateId`]), sorted by document and path.
pub fn lint(catalog: &Catalog) -> Vec<Lint> {
    let mut linter = Linter {
        catalog,
        out: Vec::new(),
    };
    for doc in catalog.docs() {
        linter.doc(doc);
    }
    let mut out = linter.out;
    out.sort();
    out
}

/// Lints every `*.json` lexicon under `dir`: the raw-JSON rules per file, then the typed rules
/// over all documents that parse. A file larger than [`MAX_DOC_BYTES`](crate::doc::MAX_DOC_BYTES),
/// the limit [`Catalog::load_dir`] applies, is an [`Rule::InvalidDoc`] lint and is not read
/// past the limit. Only an unreadable folder or file is an `Err`. With the
/// `official` feature, references to official lexicons not in `dir` resolve against the
/// compiled-in ones.
pub fn lint_json_dir(dir: impl AsRef<Path>) -> Result<Vec<Lint>, CatalogError> {
    let mut files = Vec::new();
    collect_json_files(dir.as_ref(), &mut files)?;
    files.sort();
    let mut catalog = Catalog::new();
    let mut out = Vec::new();
    for file in files {
        let origin = file.display().to_string();
        // The loader's size limit applies here too: a file over it is a lint, like a file
        // that is not JSON, and is never read whole.
        let text = match read_doc_file(&file) {
            Ok(text) => text,
            Err(CatalogError::Doc { source, .. }) => {
                out.push(Lint::new(Rule::InvalidDoc, &origin, "", source.to_string()));
                continue;
            }
            Err(e) => return Err(e),
        };
        let json: serde_json::Value = match serde_json::from_str(&text) {
            Ok(json) => json,
            Err(e) => {
                out.push(Lint::new(
                    Rule::InvalidDoc,
                    &origin,
                    "",
                    format!("not JSON: {e}"),
                ));
                continue;
            }
        };
        out.extend(lint_raw(&json));
        match LexiconDoc::from_value(json) {
            Ok(doc) => {
                if let Err(e) = catalog.add_from(doc, origin.clone()) {
                    out.push(Lint::new(Rule::DuplicateId, &origin, "", e.to_string()));
                }
            }
            Err(e) => out.push(Lint::new(Rule::InvalidDoc, &origin, "", e.to_string())),
        }
    }
    // References to official lexicons resolve without copies of them; only the folder's own
    // documents are reported on.
    #[cfg(feature = "official")]
    {
        let added = catalog.fill_from(crate::official::catalog());
        out.extend(
            lint(&catalog)
                .into_iter()
                .filter(|l| !added.contains(&l.id)),
        );
    }
    #[cfg(not(feature = "official"))]
    out.extend(lint(&catalog));
    out.sort();
    Ok(out)
}

/// The typed rules, one document at a time.
struct Linter<'c> {
    catalog: &'c Catalog,
    out: Vec<Lint>,
}

/// Where the linter is: the document and a JSON path in it.
#[derive(Clone, Copy)]
struct At<'a> {
    doc: &'a LexiconDoc,
    path: &'a str,
}

impl At<'_> {
    fn id(&self) -> &str {
        self.doc.id.as_str()
    }
}

impl<'c> Linter<'c> {
    fn push(&mut self, rule: Rule, at: At<'_>, message: impl Into<String>) {
        self.out.push(Lint::new(rule, at.id(), at.path, message));
    }

    fn doc(&mut self, doc: &LexiconDoc) {
        for (name, def) in &doc.defs {
            let path = format!("defs.{name}");
            if let UserType::Array(array) = def {
                self.array_cycle(doc, name, array);
            }
            self.user_type(def, At { doc, path: &path });
        }
    }

    /// [`Rule::ArrayCycle`] for array definition `name`. An array's items name at most one
    /// array definition (a `ref`, maybe under inline arrays), so following them is a single
    /// path: the definition is on a cycle exactly when the path comes back to it.
    fn array_cycle(&mut self, doc: &LexiconDoc, name: &str, array: &Array) {
        let start = DefRef::new(doc.id.clone(), name);
        let mut chain = vec![start.to_string()];
        let mut next = items_array(self.catalog, doc, array);
        while let Some((target, context, array)) = next {
            let here = target.to_string();
            if target == start {
                chain.push(here);
                let path = format!("defs.{name}.items");
                self.push(
                    Rule::ArrayCycle,
                    At { doc, path: &path },
                    format!(
                        "the items lead back to this array ({}): only nested empty arrays fit",
                        chain.join(" → ")
                    ),
                );
                return;
            }
            // A cycle that does not pass through `start` is reported from its own members.
            if chain.contains(&here) {
                return;
            }
            chain.push(here);
            next = items_array(self.catalog, context, array);
        }
    }

    fn user_type(&mut self, def: &UserType, at: At<'_>) {
        match def {
            UserType::Record(r) => {
                if r.description.as_deref().is_none_or(str::is_empty) {
                    self.push(
                        Rule::RecordDescription,
                        at,
                        "the record type has no description",
                    );
                }
                self.nested(at, "record", |l, at| l.object(&r.record.0, at));
            }
            UserType::Query(q) => {
                self.params(q.parameters.as_ref(), at);
                self.body(
                    q.output.as_ref().and_then(|b| b.schema.as_ref()),
                    at,
                    "output",
                );
            }
            UserType::Procedure(p) => {
                self.params(p.parameters.as_ref(), at);
                self.body(
                    p.input.as_ref().and_then(|b| b.schema.as_ref()),
                    at,
                    "input",
                );
                self.body(
                    p.output.as_ref().and_then(|b| b.schema.as_ref()),
                    at,
                    "output",
                );
            }
            UserType::Subscription(s) => {
                self.params(s.parameters.as_ref(), at);
                self.body(s.message.as_ref().map(|m| &m.schema), at, "message");
            }
            UserType::Object(o) => self.object(o, at),
            UserType::Array(a) => self.array(a, at),
            UserType::Boolean(b) => self.boolean(b, at),
            UserType::Integer(i) => self.integer(i, at),
            UserType::String(s) => self.string(s, at),
            UserType::Bytes(b) => self.bytes(b, at),
            UserType::Blob(b) => self.blob(b, at),
            UserType::PermissionSet(_) | UserType::Token(_) | UserType::CidLink(_) => {}
        }
    }

    /// Runs `f` one path segment deeper.
    fn nested(&mut self, at: At<'_>, segment: &str, f: impl FnOnce(&mut Self, At<'_>)) {
        let path = format!("{}.{segment}", at.path);
        f(self, At { path: &path, ..at });
    }

    fn params(&mut self, params: Option<&Params>, at: At<'_>) {
        if let Some(p) = params {
            self.nested(at, "parameters", |l, at| {
                l.properties(&p.required, &p.properties, at);
            });
        }
    }

    fn body(&mut self, schema: Option<&BodySchema>, at: At<'_>, which: &str) {
        let Some(schema) = schema else { return };
        self.nested(at, &format!("{which}.schema"), |l, at| match schema {
            BodySchema::Object(o) => l.object(o, at),
            BodySchema::Ref(r) => l.reference(&r.target, at),
            BodySchema::Union(u) => l.union(u, at),
        });
    }

    fn object(&mut self, object: &Object, at: At<'_>) {
        self.properties(&object.required, &object.properties, at);
    }

    fn properties(
        &mut self,
        required: &[String],
        properties: &std::collections::BTreeMap<String, FieldType>,
        at: At<'_>,
    ) {
        for (name, field) in properties {
            let path = format!("{}.properties.{name}", at.path);
            let here = At { path: &path, ..at };
            if !is_camel_case(name) {
                self.push(
                    Rule::PropertyCase,
                    here,
                    format!("property {name:?} is not camelCase"),
                );
            }
            if required.contains(name) && has_default(field) {
                self.push(
                    Rule::RequiredDefault,
                    here,
                    format!("{name:?} is required and has a default, which can never apply"),
                );
            }
            self.field(field, here);
        }
    }

    fn field(&mut self, field: &FieldType, at: At<'_>) {
        match field {
            FieldType::Boolean(b) => self.boolean(b, at),
            FieldType::Integer(i) => self.integer(i, at),
            FieldType::String(s) => self.string(s, at),
            FieldType::Bytes(b) => self.bytes(b, at),
            FieldType::Blob(b) => self.blob(b, at),
            FieldType::Ref(r) => self.reference(&r.target, at),
            FieldType::Union(u) => self.union(u, at),
            FieldType::Array(a) => self.array(a, at),
            FieldType::Object(o) => self.object(o, at),
            FieldType::CidLink(_) | FieldType::Unknown(_) => {}
        }
    }

    fn array(&mut self, array: &Array, at: At<'_>) {
        self.bounds(
            array.min_length,
            array.max_length,
            "minLength",
            "maxLength",
            at,
        );
        self.nested(at, "items", |l, at| l.field(&array.items, at));
    }

    fn reference(&mut self, target: &str, at: At<'_>) {
        match self.catalog.resolve(target, &at.doc.id) {
            None => self.push(
                Rule::UnresolvedRef,
                at,
                format!("reference {target:?} is not in the catalog"),
            ),
            Some((_, def)) if def.is_primary() && !matches!(def, UserType::Record(_)) => self.push(
                Rule::BadRefTarget,
                at,
                format!(
                    "reference {target:?} names a {}, which is not data",
                    def.type_name()
                ),
            ),
            Some(_) => {}
        }
    }

    fn union(&mut self, union: &Union, at: At<'_>) {
        if union.refs.is_empty() && union.is_closed() {
            self.push(
                Rule::EmptyClosedUnion,
                at,
                "a closed union with no refs accepts nothing",
            );
        }
        let path = format!("{}.refs", at.path);
        let at = At { path: &path, ..at };
        for target in &union.refs {
            match self.catalog.resolve(target, &at.doc.id) {
                None => self.push(
                    Rule::UnresolvedRef,
                    at,
                    format!("union member {target:?} is not in the catalog"),
                ),
                Some((_, UserType::Object(_) | UserType::Record(_) | UserType::Token(_))) => {}
                Some((_, def)) => self.push(
                    Rule::BadUnionMember,
                    at,
                    format!(
                        "union member {target:?} is a {}; members are objects, records or tokens",
                        def.type_name()
                    ),
                ),
            }
        }
    }

    fn boolean(&mut self, schema: &Boolean, at: At<'_>) {
        if let Some(d) = schema.default {
            self.own_rules(Scalar::Boolean(schema), &Value::Bool(d), "default", at);
        }
    }

    fn integer(&mut self, schema: &Integer, at: At<'_>) {
        if let (Some(min), Some(max)) = (schema.minimum, schema.maximum) {
            if min > max {
                self.push(
                    Rule::Bounds,
                    at,
                    format!("minimum {min} is above maximum {max}"),
                );
            }
        }
        if let Some(d) = schema.default {
            self.own_rules(Scalar::Integer(schema), &Value::Integer(d), "default", at);
        }
        if let Some(c) = schema.const_value {
            self.own_rules(Scalar::Integer(schema), &Value::Integer(c), "const", at);
        }
    }

    fn string(&mut self, schema: &StringSchema, at: At<'_>) {
        self.bounds(
            schema.min_length,
            schema.max_length,
            "minLength",
            "maxLength",
            at,
        );
        self.bounds(
            schema.min_graphemes,
            schema.max_graphemes,
            "minGraphemes",
            "maxGraphemes",
            at,
        );
        if let Some(format) = schema.format {
            let with = match (&schema.enum_values, &schema.known_values) {
                (Some(_), _) => Some("enum"),
                (None, Some(_)) => Some("knownValues"),
                (None, None) => None,
            };
            if let Some(with) = with {
                self.push(
                    Rule::FormatWithValues,
                    at,
                    format!("a {} string also has {with}", format.name()),
                );
            }
        }
        if let Some(d) = &schema.default {
            self.own_rules(
                Scalar::String(schema),
                &Value::from(d.as_str()),
                "default",
                at,
            );
        }
        if let Some(c) = &schema.const_value {
            self.own_rules(
                Scalar::String(schema),
                &Value::from(c.as_str()),
                "const",
                at,
            );
        }
        for value in schema.known_values.iter().flatten() {
            // Only entries written as references: plain words ("en", "public") are values.
            if value.contains('#') && self.catalog.resolve(value, &at.doc.id).is_none() {
                self.push(
                    Rule::UnresolvedKnownValue,
                    at,
                    format!("known value {value:?} names a definition that is not in the catalog"),
                );
            }
        }
    }

    fn bytes(&mut self, schema: &BytesSchema, at: At<'_>) {
        self.bounds(
            schema.min_length,
            schema.max_length,
            "minLength",
            "maxLength",
            at,
        );
    }

    fn blob(&mut self, schema: &BlobSchema, at: At<'_>) {
        if schema.accept.as_ref().is_some_and(Vec::is_empty) {
            self.push(
                Rule::EmptyAccept,
                at,
                "an empty accept list; omit it to accept any MIME type",
            );
        }
    }

    fn bounds(&mut self, min: Option<u64>, max: Option<u64>, lo: &str, hi: &str, at: At<'_>) {
        if let (Some(min), Some(max)) = (min, max) {
            if min > max {
                self.push(Rule::Bounds, at, format!("{lo} {min} is above {hi} {max}"));
            }
        }
    }

    /// A `default` or `const` must pass the field's own rules.
    fn own_rules(&mut self, schema: Scalar<'_>, value: &Value, what: &str, at: At<'_>) {
        for problem in scalar_problems(schema, value) {
            self.push(
                Rule::InvalidDefault,
                at,
                format!("the {what} {value}: {problem}"),
            );
        }
    }
}

/// The array definition the items of `array` (in `doc`) stand for, under any inline arrays:
/// `B` for items `ref B` or `array of ref B` when `B` is an array definition, with the
/// document holding it.
fn items_array<'c>(
    catalog: &'c Catalog,
    doc: &LexiconDoc,
    array: &'c Array,
) -> Option<(DefRef, &'c LexiconDoc, &'c Array)> {
    let mut items: &FieldType = &array.items;
    while let FieldType::Array(inner) = items {
        items = &inner.items;
    }
    let FieldType::Ref(r) = items else {
        return None;
    };
    let (target, def) = catalog.resolve(&r.target, &doc.id)?;
    let context = catalog.doc(target.nsid().as_str())?;
    match def {
        UserType::Array(array) => Some((target, context, array)),
        _ => None,
    }
}

fn has_default(field: &FieldType) -> bool {
    match field {
        FieldType::Boolean(b) => b.default.is_some(),
        FieldType::Integer(i) => i.default.is_some(),
        FieldType::String(s) => s.default.is_some(),
        _ => false,
    }
}

fn is_camel_case(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}
