//! Reading lexicon documents and checking the rules that span definitions.

use crate::reference::is_valid_def_name;
use crate::schema::{BodySchema, FieldType, LexiconDoc, Object, Params, UserType};
use crate::DefRef;

/// Largest lexicon document accepted, in bytes. The biggest official one is about 40 KB.
pub const MAX_DOC_BYTES: usize = 1 << 20;

/// Deepest nesting of JSON accepted in a lexicon document.
pub const MAX_DOC_DEPTH: usize = 64;

/// Why a lexicon document was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// Not JSON, or JSON of the wrong shape (the message names the field).
    #[error("{id}: {source}")]
    Json {
        /// The document's `id` when it could be read, else `"?"`.
        id: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// JSON whose shape is wrong at `path` (a missing field, a wrong type, an unknown `type`).
    #[error("{id}: {path}: {message}")]
    Shape {
        /// The document's `id` when it could be read, else `"?"`.
        id: String,
        /// Where: `defs.main.record`, ….
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Larger than [`MAX_DOC_BYTES`] or nested deeper than [`MAX_DOC_DEPTH`].
    #[error("lexicon document is too large or too deeply nested ({0})")]
    TooLarge(String),
    /// Well-formed JSON that breaks a lexicon rule.
    #[error("{id}: {path}: {message}")]
    Invalid {
        /// The document's `id`.
        id: String,
        /// Where: `defs.main.record.properties.text`, ….
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl LexiconDoc {
    /// Parses and checks a lexicon document from JSON text.
    ///
    /// ```
    /// use atdata_lexicon::LexiconDoc;
    ///
    /// let doc = LexiconDoc::from_json(r#"{
    ///     "lexicon": 1,
    ///     "id": "com.example.note",
    ///     "defs": {"main": {"type": "record", "key": "tid",
    ///         "record": {"type": "object", "required": ["text"],
    ///                    "properties": {"text": {"type": "string", "maxLength": 300}}}}}
    /// }"#)?;
    /// assert_eq!(doc.id.as_str(), "com.example.note");
    /// # Ok::<(), atdata_lexicon::DocError>(())
    /// ```
    pub fn from_json(text: &str) -> Result<LexiconDoc, DocError> {
        if text.len() > MAX_DOC_BYTES {
            return Err(DocError::TooLarge(format!("{} bytes", text.len())));
        }
        // serde_json refuses nesting beyond 128 on its own; a Value first gives the id for
        // error messages and lets us apply our tighter depth bound.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| DocError::Json {
                id: "?".into(),
                source,
            })?;
        LexiconDoc::from_value(value)
    }

    /// Parses and checks a lexicon document from a JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<LexiconDoc, DocError> {
        if depth(&value) > MAX_DOC_DEPTH {
            return Err(DocError::TooLarge(format!(
                "nested deeper than {MAX_DOC_DEPTH}"
            )));
        }
        let id = value
            .get("id")
            .and_then(|id| id.as_str())
            .unwrap_or("?")
            .to_owned();
        let doc: LexiconDoc = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let source = e.into_inner();
            if path == "." || path.is_empty() {
                DocError::Json { id, source }
            } else {
                DocError::Shape {
                    id,
                    path,
                    message: source.to_string(),
                }
            }
        })?;
        doc.check()?;
        Ok(doc)
    }

    /// Checks the rules serde's shape check cannot: primary types only as `main`, valid
    /// definition names, `required`/`nullable` naming real properties, well-formed
    /// references, and record keys of a known kind.
    pub fn check(&self) -> Result<(), DocError> {
        let invalid = |path: String, message: String| DocError::Invalid {
            id: self.id.to_string(),
            path,
            message,
        };
        for (name, def) in &self.defs {
            let path = format!("defs.{name}");
            if !is_valid_def_name(name) {
                return Err(invalid(path, "not a valid definition name".into()));
            }
            if def.is_primary() && name != "main" {
                return Err(invalid(
                    path,
                    format!("a {} can only be the main definition", def.type_name()),
                ));
            }
            self.check_user_type(def, &path)
                .map_err(|(p, m)| invalid(p, m))?;
        }
        Ok(())
    }

    fn check_user_type(&self, def: &UserType, path: &str) -> Result<(), (String, String)> {
        match def {
            UserType::Record(record) => {
                check_record_key(&record.key).map_err(|m| (format!("{path}.key"), m))?;
                self.check_object(&record.record.0, &format!("{path}.record"))
            }
            UserType::Query(query) => {
                self.check_params(query.parameters.as_ref(), path)?;
                self.check_body(query.output.as_ref().and_then(|b| b.schema.as_ref()), path)
            }
            UserType::Procedure(proc) => {
                self.check_params(proc.parameters.as_ref(), path)?;
                self.check_body(
                    proc.input.as_ref().and_then(|b| b.schema.as_ref()),
                    &format!("{path}.input"),
                )?;
                self.check_body(
                    proc.output.as_ref().and_then(|b| b.schema.as_ref()),
                    &format!("{path}.output"),
                )
            }
            UserType::Subscription(sub) => {
                self.check_params(sub.parameters.as_ref(), path)?;
                self.check_body(
                    sub.message.as_ref().map(|m| &m.schema),
                    &format!("{path}.message"),
                )
            }
            UserType::Object(object) => self.check_object(object, path),
            UserType::Array(array) => self.check_field(&array.items, &format!("{path}.items")),
            UserType::PermissionSet(_)
            | UserType::Token(_)
            | UserType::Boolean(_)
            | UserType::Integer(_)
            | UserType::String(_)
            | UserType::Bytes(_)
            | UserType::CidLink(_)
            | UserType::Blob(_) => Ok(()),
        }
    }

    fn check_params(&self, params: Option<&Params>, path: &str) -> Result<(), (String, String)> {
        let Some(params) = params else { return Ok(()) };
        let path = format!("{path}.parameters");
        for name in &params.required {
            if !params.properties.contains_key(name) {
                return Err((
                    format!("{path}.required"),
                    format!("{name:?} is required but not defined"),
                ));
            }
        }
        for (name, field) in &params.properties {
            let field_path = format!("{path}.properties.{name}");
            let allowed = match field {
                FieldType::Boolean(_)
                | FieldType::Integer(_)
                | FieldType::String(_)
                | FieldType::Unknown(_) => true,
                FieldType::Array(array) => matches!(
                    *array.items,
                    FieldType::Boolean(_) | FieldType::Integer(_) | FieldType::String(_)
                ),
                _ => false,
            };
            if !allowed {
                return Err((
                    field_path,
                    format!(
                        "a parameter is a boolean, integer, string, unknown or an array of \
                         those, not {}",
                        field.type_name()
                    ),
                ));
            }
            self.check_field(field, &field_path)?;
        }
        Ok(())
    }

    fn check_body(&self, schema: Option<&BodySchema>, path: &str) -> Result<(), (String, String)> {
        match schema {
            None => Ok(()),
            Some(BodySchema::Object(object)) => {
                self.check_object(object, &format!("{path}.schema"))
            }
            Some(BodySchema::Ref(r)) => self.check_ref(&r.target, &format!("{path}.schema")),
            Some(BodySchema::Union(u)) => {
                for target in &u.refs {
                    self.check_ref(target, &format!("{path}.schema.refs"))?;
                }
                Ok(())
            }
        }
    }

    fn check_object(&self, object: &Object, path: &str) -> Result<(), (String, String)> {
        for (list, names) in [
            ("required", &object.required),
            ("nullable", &object.nullable),
        ] {
            for name in names {
                if !object.properties.contains_key(name) {
                    return Err((
                        format!("{path}.{list}"),
                        format!("{name:?} is listed as {list} but not defined"),
                    ));
                }
            }
        }
        for (name, field) in &object.properties {
            self.check_field(field, &format!("{path}.properties.{name}"))?;
        }
        Ok(())
    }

    fn check_field(&self, field: &FieldType, path: &str) -> Result<(), (String, String)> {
        match field {
            FieldType::Ref(r) => self.check_ref(&r.target, path),
            FieldType::Union(u) => {
                for target in &u.refs {
                    self.check_ref(target, &format!("{path}.refs"))?;
                }
                Ok(())
            }
            FieldType::Array(array) => self.check_field(&array.items, &format!("{path}.items")),
            FieldType::Object(object) => self.check_object(object, path),
            FieldType::Integer(int) => match (int.minimum, int.maximum) {
                (Some(min), Some(max)) if min > max => Err((
                    path.to_owned(),
                    format!("minimum {min} is above maximum {max}"),
                )),
                _ => Ok(()),
            },
            FieldType::Boolean(_)
            | FieldType::String(_)
            | FieldType::Bytes(_)
            | FieldType::CidLink(_)
            | FieldType::Blob(_)
            | FieldType::Unknown(_) => Ok(()),
        }
    }

    fn check_ref(&self, target: &str, path: &str) -> Result<(), (String, String)> {
        DefRef::parse(target, &self.id)
            .map(|_| ())
            .map_err(|e| (path.to_owned(), e.to_string()))
    }

    /// The document's definition `name`, when it has one.
    pub fn def(&self, name: &str) -> Option<&UserType> {
        self.defs.get(name)
    }

    /// The `main` definition, when the document has one.
    pub fn main(&self) -> Option<&UserType> {
        self.defs.get("main")
    }
}

/// `tid`, `nsid`, `any`, or `literal:<record key>`.
fn check_record_key(key: &str) -> Result<(), String> {
    match key {
        "tid" | "nsid" | "any" => Ok(()),
        _ => match key.strip_prefix("literal:") {
            Some(literal) if atdata_core::syntax::RecordKey::new(literal).is_ok() => Ok(()),
            Some(literal) => Err(format!("{literal:?} is not a valid record key")),
            None => Err(format!(
                "unknown record key type {key:?} (expected tid, nsid, any or literal:<key>)"
            )),
        },
    }
}

fn depth(value: &serde_json::Value) -> usize {
    // Iterative, so a hostile document cannot overflow the stack here.
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((value, d)) = stack.pop() {
        deepest = deepest.max(d);
        match value {
            serde_json::Value::Array(items) => stack.extend(items.iter().map(|v| (v, d + 1))),
            serde_json::Value::Object(map) => stack.extend(map.values().map(|v| (v, d + 1))),
            _ => {}
        }
    }
    deepest
}
