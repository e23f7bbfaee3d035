//! The walk: one schema node against one value, recursing through objects, arrays, refs and
//! unions. Leaf checks live in their own modules as further `impl Walker` blocks.

use std::collections::BTreeMap;

use super::data::{MapNode, Node, View};
use super::error::{Problem, Unit, ValidationError};
use super::path::Path;
use super::ValidateOptions;
use crate::schema::{Array, FieldType, LexiconDoc, Object, Union, UserType};
use crate::Catalog;

/// Stops the walk at the first error (first-error mode); never produced when collecting all.
pub(crate) struct Stop;

/// `Err(Stop)` unwinds the walk; `Ok` carries on, whether or not an error was recorded.
pub(crate) type Flow = Result<(), Stop>;

/// Validation state: the catalog, the options and the errors found so far.
pub(crate) struct Walker<'c> {
    pub(crate) catalog: &'c Catalog,
    pub(crate) options: ValidateOptions,
    collect_all: bool,
    /// At most [`ValidateOptions::max_errors`] of them: a huge wrong value would otherwise
    /// cost an error (a rendered path and a message) per element.
    pub(crate) errors: Vec<ValidationError>,
    /// Errors found after `errors` was full: only counted.
    pub(crate) omitted: usize,
}

impl<'c> Walker<'c> {
    pub(crate) fn new(catalog: &'c Catalog, options: ValidateOptions, collect_all: bool) -> Self {
        Walker {
            catalog,
            options,
            collect_all,
            errors: Vec::new(),
            omitted: 0,
        }
    }

    /// Records a problem at `at`; stops the walk unless every error is wanted.
    ///
    /// `problem` is a closure so that errors past the cap cost no allocation at all: neither
    /// the path nor the message (an `enum` list, a quoted string, a grapheme count) is made
    /// for an error that is only counted. The walk itself goes on to the end so that the
    /// count is exact; it is linear in the data, and nothing it keeps grows past the cap.
    pub(crate) fn fail(&mut self, at: &Path<'_>, problem: impl FnOnce() -> Problem) -> Flow {
        // At least one error is kept: `ValidationErrors` is never empty.
        if self.errors.len() < self.options.max_errors.max(1) {
            self.errors.push(ValidationError {
                path: at.render(),
                problem: problem(),
            });
        } else {
            self.omitted = self.omitted.saturating_add(1);
        }
        if self.collect_all {
            Ok(())
        } else {
            Err(Stop)
        }
    }

    /// Records a wrong-type problem.
    pub(crate) fn wrong_type<D: Node>(
        &mut self,
        at: &Path<'_>,
        expected: &'static str,
        value: &D,
    ) -> Flow {
        self.fail(at, || Problem::WrongType {
            expected,
            found: kind_of(value),
        })
    }

    /// A property, array item or parameter. `context` is the lexicon holding `schema`,
    /// against which local `#name` references resolve.
    pub(crate) fn field<D: Node>(
        &mut self,
        schema: &'c FieldType,
        context: &'c LexiconDoc,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        match schema {
            FieldType::Boolean(s) => self.boolean(s, value, at),
            FieldType::Integer(s) => self.integer(s, value, at),
            FieldType::String(s) => self.string(s, value, at),
            FieldType::Bytes(s) => self.bytes(s, value, at),
            FieldType::CidLink(_) => self.cid_link(value, at),
            FieldType::Blob(s) => self.blob(s, value, at),
            FieldType::Unknown(_) => self.unknown(value, at),
            FieldType::Ref(r) => self.reference(&r.target, context, value, at),
            FieldType::Union(u) => self.union(u, context, value, at),
            FieldType::Array(a) => self.array(a, context, value, at),
            FieldType::Object(o) => self.object(o, context, value, at),
        }
    }

    /// A named definition `nsid#name` (the target of a ref, a union member or a
    /// [`Target::Def`](super::Target::Def)).
    pub(crate) fn user_type<D: Node>(
        &mut self,
        def: &'c UserType,
        doc: &'c LexiconDoc,
        name: &str,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        match def {
            // A record's body is an object like any other once reached through a ref.
            UserType::Record(r) => self.object(&r.record.0, doc, value, at),
            UserType::Object(o) => self.object(o, doc, value, at),
            UserType::Array(a) => self.array(a, doc, value, at),
            UserType::Token(_) => self.token(doc.id.as_str(), name, value, at),
            UserType::Boolean(s) => self.boolean(s, value, at),
            UserType::Integer(s) => self.integer(s, value, at),
            UserType::String(s) => self.string(s, value, at),
            UserType::Bytes(s) => self.bytes(s, value, at),
            UserType::CidLink(_) => self.cid_link(value, at),
            UserType::Blob(s) => self.blob(s, value, at),
            UserType::Query(_)
            | UserType::Procedure(_)
            | UserType::Subscription(_)
            | UserType::PermissionSet(_) => self.fail(at, || Problem::WrongDef {
                target: full_name(doc.id.as_str(), name),
                expected: "data type",
                found: def.type_name(),
            }),
        }
    }

    /// An object: a map whose listed properties match their schemas. Other keys are allowed.
    pub(crate) fn object<D: Node>(
        &mut self,
        schema: &'c Object,
        context: &'c LexiconDoc,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        let View::Map(map) = value.view() else {
            return self.wrong_type(at, "object", value);
        };
        self.properties::<D>(
            &schema.required,
            &schema.nullable,
            &schema.properties,
            context,
            map,
            at,
        )
    }

    /// The properties of an object or of a method's parameters.
    pub(crate) fn properties<D: Node>(
        &mut self,
        required: &'c [String],
        nullable: &'c [String],
        properties: &'c BTreeMap<String, FieldType>,
        context: &'c LexiconDoc,
        map: &D::Map,
        at: &Path<'_>,
    ) -> Flow {
        if at.depth() >= self.options.max_depth {
            let max_depth = self.options.max_depth;
            return self.fail(at, || Problem::TooDeep { max_depth });
        }
        map.pair(properties, |name, schema, found| match found {
            None if required.iter().any(|r| r == name) => {
                self.fail(&at.key(name), || Problem::Missing)
            }
            None => Ok(()),
            Some(value) => match value.view() {
                View::Null if nullable.iter().any(|n| n == name) => Ok(()),
                View::Null => self.fail(&at.key(name), || Problem::NotNullable),
                _ => self.field(schema, context, value, &at.key(name)),
            },
        })
    }

    /// Every property of an absent object or parameter set: the required ones are missing.
    pub(crate) fn all_missing(
        &mut self,
        required: &'c [String],
        properties: &'c BTreeMap<String, FieldType>,
        at: &Path<'_>,
    ) -> Flow {
        for name in properties.keys().filter(|n| required.contains(n)) {
            self.fail(&at.key(name), || Problem::Missing)?;
        }
        Ok(())
    }

    fn array<D: Node>(
        &mut self,
        schema: &'c Array,
        context: &'c LexiconDoc,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        let View::Array(items) = value.view() else {
            return self.wrong_type(at, "array", value);
        };
        let len = items.len() as u64;
        if let Some(max) = schema.max_length.filter(|&max| len > max) {
            self.fail(at, || Problem::TooLong {
                unit: Unit::Elements,
                limit: max,
                found: len,
            })?;
        }
        if let Some(min) = schema.min_length.filter(|&min| len < min) {
            self.fail(at, || Problem::TooShort {
                unit: Unit::Elements,
                limit: min,
                found: len,
            })?;
        }
        if at.depth() >= self.options.max_depth {
            let max_depth = self.options.max_depth;
            return self.fail(at, || Problem::TooDeep { max_depth });
        }
        for (i, item) in items.iter().enumerate() {
            self.field(&schema.items, context, item, &at.index(i))?;
        }
        Ok(())
    }

    /// `unknown`: any object, but not a blob (bytes and links are not maps in the data model).
    fn unknown<D: Node>(&mut self, value: &D, at: &Path<'_>) -> Flow {
        match value.view() {
            View::Map(map) if !is_blob::<D>(map) => Ok(()),
            _ => self.wrong_type(at, "object", value),
        }
    }

    /// A `ref` field: validate against whatever the reference names.
    pub(crate) fn reference<D: Node>(
        &mut self,
        target: &'c str,
        context: &'c LexiconDoc,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        match self.resolve(target, context) {
            Some((doc, name, def)) => self.user_type(def, doc, name, value, at),
            None => self.fail(at, || Problem::UnresolvedRef {
                target: target.to_owned(),
            }),
        }
    }

    /// A union: a map whose `$type` picks the member. Open unions accept other `$type`s
    /// without looking inside.
    pub(crate) fn union<D: Node>(
        &mut self,
        schema: &'c Union,
        context: &'c LexiconDoc,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        let View::Map(map) = value.view() else {
            return self.wrong_type(at, "object", value);
        };
        let Some(View::String(kind)) = map.get("$type").map(Node::view) else {
            return self.fail(at, || Problem::MissingType);
        };
        let (nsid, name) = split_type(kind);
        self.union_member(schema, context, nsid, name, kind, value, at)
    }

    /// The member of `schema` named `nsid#name` (`written` as the data wrote it), or the
    /// open/closed rule when there is none.
    #[allow(clippy::too_many_arguments)] // one call site per entry; a struct would only rename them
    pub(crate) fn union_member<D: Node>(
        &mut self,
        schema: &'c Union,
        context: &'c LexiconDoc,
        nsid: &str,
        name: &str,
        written: &str,
        value: &D,
        at: &Path<'_>,
    ) -> Flow {
        let member = schema.refs.iter().find(|r| {
            let (r_nsid, r_name) = split_ref(r, context.id.as_str());
            r_nsid == nsid && r_name == name
        });
        match member {
            Some(target) => match self.resolve(target, context) {
                // A token member names itself and carries no data; everything else must be
                // an object (checked by `user_type`, which refuses non-maps for objects).
                Some((_, _, UserType::Token(_))) => Ok(()),
                Some((m_doc, m_name, def)) => self.user_type(def, m_doc, m_name, value, at),
                None => self.fail(at, || Problem::UnresolvedRef {
                    target: target.clone(),
                }),
            },
            None if schema.is_closed() => self.fail(at, || Problem::NotInUnion {
                found: written.to_owned(),
                refs: schema.refs.clone(),
            }),
            None => Ok(()),
        }
    }

    /// A reference to a token: the value is the token's full name, `nsid#name`.
    fn token<D: Node>(&mut self, nsid: &str, name: &str, value: &D, at: &Path<'_>) -> Flow {
        let View::String(s) = value.view() else {
            return self.wrong_type(at, "string", value);
        };
        let (s_nsid, s_name) = split_type(s);
        if s_nsid == nsid && s_name == name {
            return Ok(());
        }
        self.fail(at, || Problem::Token {
            expected: full_name(nsid, name),
            found: super::string::quoted(s),
        })
    }

    /// Looks a reference up without allocating: `(lexicon, name, definition)`. References
    /// into the lexicon at hand skip the catalog lookup.
    pub(crate) fn resolve<'r>(
        &self,
        target: &'r str,
        context: &'c LexiconDoc,
    ) -> Option<(&'c LexiconDoc, &'r str, &'c UserType)>
    where
        'c: 'r,
    {
        let (nsid, name) = split_ref(target, context.id.as_str());
        let doc = if nsid == context.id.as_str() {
            context
        } else {
            self.catalog.doc(nsid)?
        };
        Some((doc, name, doc.def(name)?))
    }
}

/// `#name` → (context, name); `nsid#name` → (nsid, name); `nsid` → (nsid, "main").
pub(crate) fn split_ref<'a>(target: &'a str, context: &'a str) -> (&'a str, &'a str) {
    match target.split_once('#') {
        Some(("", name)) => (context, name),
        Some((nsid, name)) => (nsid, name),
        None => (target, "main"),
    }
}

/// A `$type` value: like [`split_ref`] but with no local form (a leading `#` never matches).
pub(crate) fn split_type(kind: &str) -> (&str, &str) {
    match kind.split_once('#') {
        Some((nsid, name)) => (nsid, name),
        None => (kind, "main"),
    }
}

/// `nsid#name`, or `nsid` for `main`.
pub(crate) fn full_name(nsid: &str, name: &str) -> String {
    if name == "main" {
        nsid.to_owned()
    } else {
        format!("{nsid}#{name}")
    }
}

/// Whether a map is a blob reference (`"$type": "blob"`).
pub(crate) fn is_blob<D: Node>(map: &D::Map) -> bool {
    matches!(map.get("$type").map(Node::view), Some(View::String("blob")))
}

/// The data-model type of a value in schema words: maps are `object`s, or `blob`s.
pub(crate) fn kind_of<D: Node>(value: &D) -> &'static str {
    match value.view() {
        View::Null => "null",
        View::Bool(_) => "boolean",
        View::Integer(_) => "integer",
        View::String(_) => "string",
        View::Bytes(_) => "bytes",
        View::Link => "cid-link",
        View::Array(_) => "array",
        View::Map(map) if is_blob::<D>(map) => "blob",
        View::Map(_) => "object",
    }
}
