//! [`Catalog`]: a set of lexicon documents that resolves references between them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use atdata_core::Nsid;

use crate::doc::MAX_DOC_BYTES;
use crate::schema::{BodySchema, FieldType, LexiconDoc, Object, UserType};
use crate::{DefRef, DocError};

/// Why a catalog could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A document is not a valid lexicon.
    #[error("{path}: {source}")]
    Doc {
        /// Where it came from (a file path, or `#n` for the n-th value).
        path: String,
        /// What is wrong.
        #[source]
        source: DocError,
    },
    /// Two documents have the same `id`.
    #[error("lexicon {id} is defined twice ({first} and {second})")]
    Duplicate {
        /// The NSID.
        id: String,
        /// Where the first came from.
        first: String,
        /// Where the second came from.
        second: String,
    },
}

/// A reference, in some document, to a definition the catalog does not have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnresolvedRef {
    /// The definition holding the reference (`nsid#name`).
    pub from: String,
    /// Where in it: `record.properties.embed.refs`, ….
    pub path: String,
    /// The reference as written.
    pub target: String,
}

/// A set of lexicon documents, by NSID.
///
/// ```
/// use atdata_lexicon::Catalog;
///
/// let mut catalog = Catalog::new();
/// catalog.add_json(r#"{"lexicon": 1, "id": "com.example.tag",
///     "defs": {"main": {"type": "token"}}}"#)?;
/// catalog.add_json(r#"{"lexicon": 1, "id": "com.example.item",
///     "defs": {"main": {"type": "object",
///         "properties": {"kind": {"type": "ref", "ref": "com.example.tag"},
///                        "other": {"type": "ref", "ref": "com.example.missing#x"}}}}}"#)?;
/// let missing = catalog.unresolved_refs();
/// assert_eq!(missing.len(), 1);
/// assert_eq!(missing[0].target, "com.example.missing#x");
/// # Ok::<(), atdata_lexicon::CatalogError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Documents by NSID. Hashed rather than a B-tree: validation looks a document up for
    /// every record and every cross-lexicon ref, and hashing a short NSID beats comparing it
    /// against a dozen long shared prefixes. [`Catalog::docs`] sorts. The hasher is std's
    /// randomly keyed SipHash: lexicons can come from anywhere (a downloaded folder, lexicon
    /// resolution), and an unkeyed hash (FNV, used here before) lets crafted NSIDs collide.
    docs: HashMap<String, (LexiconDoc, String)>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// Loads every `*.json` file under `dir` (recursively, in path order). A file larger than
    /// [`MAX_DOC_BYTES`] is refused ([`DocError::TooLarge`]) without being read whole.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let mut files = Vec::new();
        collect_json_files(dir.as_ref(), &mut files)?;
        files.sort();
        let mut catalog = Catalog::new();
        for file in files {
            let text = read_doc_file(&file)?;
            let origin = file.display().to_string();
            let doc = LexiconDoc::from_json(&text).map_err(|source| CatalogError::Doc {
                path: origin.clone(),
                source,
            })?;
            catalog.add_from(doc, origin)?;
        }
        Ok(catalog)
    }

    /// Builds a catalog from JSON values, one document each.
    pub fn from_values(
        values: impl IntoIterator<Item = serde_json::Value>,
    ) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::new();
        for (i, value) in values.into_iter().enumerate() {
            let origin = format!("#{i}");
            let doc = LexiconDoc::from_value(value).map_err(|source| CatalogError::Doc {
                path: origin.clone(),
                source,
            })?;
            catalog.add_from(doc, origin)?;
        }
        Ok(catalog)
    }

    /// Parses and adds one document.
    pub fn add_json(&mut self, text: &str) -> Result<(), CatalogError> {
        let origin = format!("#{}", self.docs.len());
        let doc = LexiconDoc::from_json(text).map_err(|source| CatalogError::Doc {
            path: origin.clone(),
            source,
        })?;
        self.add_from(doc, origin)
    }

    /// Adds a parsed document; its `id` must be new.
    pub fn add(&mut self, doc: LexiconDoc) -> Result<(), CatalogError> {
        let origin = format!("#{}", self.docs.len());
        self.add_from(doc, origin)
    }

    pub(crate) fn add_from(&mut self, doc: LexiconDoc, origin: String) -> Result<(), CatalogError> {
        let id = doc.id.to_string();
        if let Some((_, first)) = self.docs.get(&id) {
            return Err(CatalogError::Duplicate {
                id,
                first: first.clone(),
                second: origin,
            });
        }
        self.docs.insert(id, (doc, origin));
        Ok(())
    }

    /// Adds a copy of every document of `other` this catalog lacks, and returns their NSIDs.
    ///
    /// For user lexicons that refer to official ones without carrying copies:
    /// `catalog.fill_from(atdata_lexicon::official::catalog())` (feature `official`).
    pub fn fill_from(&mut self, other: &Catalog) -> std::collections::BTreeSet<String> {
        let mut added = std::collections::BTreeSet::new();
        for doc in other.docs() {
            let id = doc.id.as_str();
            if self.doc(id).is_none() {
                let origin = other.origin(id).unwrap_or("(other catalog)").to_owned();
                if self.add_from(doc.clone(), origin).is_ok() {
                    added.insert(id.to_owned());
                }
            }
        }
        added
    }

    /// The document `nsid`.
    pub fn doc(&self, nsid: &str) -> Option<&LexiconDoc> {
        self.docs.get(nsid).map(|(doc, _)| doc)
    }

    /// Every document, in NSID order.
    pub fn docs(&self) -> impl Iterator<Item = &LexiconDoc> {
        let mut docs: Vec<&LexiconDoc> = self.docs.values().map(|(doc, _)| doc).collect();
        docs.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        docs.into_iter()
    }

    /// Where document `nsid` was loaded from (a path, or `#n`).
    pub fn origin(&self, nsid: &str) -> Option<&str> {
        self.docs.get(nsid).map(|(_, origin)| origin.as_str())
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The definition a reference points to.
    pub fn get(&self, target: &DefRef) -> Option<&UserType> {
        self.doc(target.nsid().as_str())?.def(target.name())
    }

    /// Resolves a reference as written inside lexicon `context` (`#name`, `nsid`,
    /// `nsid#name`). `None` when it is malformed or the catalog lacks the target.
    pub fn resolve(&self, target: &str, context: &Nsid) -> Option<(DefRef, &UserType)> {
        let target = DefRef::parse(target, context).ok()?;
        let def = self.get(&target)?;
        Some((target, def))
    }

    /// Every reference (in `ref`s, unions, bodies and messages) whose target is missing, in
    /// document order.
    pub fn unresolved_refs(&self) -> Vec<UnresolvedRef> {
        let mut out = Vec::new();
        for doc in self.docs() {
            for (name, def) in &doc.defs {
                let from = DefRef::new(doc.id.clone(), name.clone()).to_string();
                let mut visit = |path: &str, target: &str| {
                    if self.resolve(target, &doc.id).is_none() {
                        out.push(UnresolvedRef {
                            from: from.clone(),
                            path: path.to_owned(),
                            target: target.to_owned(),
                        });
                    }
                };
                visit_refs_in_def(def, &mut visit);
            }
        }
        out
    }
}

/// Calls `visit(path, target)` for every reference inside `def`.
pub(crate) fn visit_refs_in_def(def: &UserType, visit: &mut dyn FnMut(&str, &str)) {
    match def {
        UserType::Record(record) => visit_object(&record.record.0, "record", visit),
        UserType::Query(query) => {
            if let Some(params) = &query.parameters {
                visit_fields(&params.properties, "parameters", visit);
            }
            visit_body(
                query.output.as_ref().and_then(|b| b.schema.as_ref()),
                "output",
                visit,
            );
        }
        UserType::Procedure(proc) => {
            if let Some(params) = &proc.parameters {
                visit_fields(&params.properties, "parameters", visit);
            }
            visit_body(
                proc.input.as_ref().and_then(|b| b.schema.as_ref()),
                "input",
                visit,
            );
            visit_body(
                proc.output.as_ref().and_then(|b| b.schema.as_ref()),
                "output",
                visit,
            );
        }
        UserType::Subscription(sub) => {
            if let Some(params) = &sub.parameters {
                visit_fields(&params.properties, "parameters", visit);
            }
            visit_body(sub.message.as_ref().map(|m| &m.schema), "message", visit);
        }
        UserType::Object(object) => visit_object(object, "", visit),
        UserType::Array(array) => visit_field(&array.items, "items", visit),
        _ => {}
    }
}

fn visit_body(schema: Option<&BodySchema>, path: &str, visit: &mut dyn FnMut(&str, &str)) {
    match schema {
        Some(BodySchema::Object(object)) => visit_object(object, path, visit),
        Some(BodySchema::Ref(r)) => visit(&format!("{path}.schema"), &r.target),
        Some(BodySchema::Union(u)) => {
            for target in &u.refs {
                visit(&format!("{path}.schema.refs"), target);
            }
        }
        None => {}
    }
}

fn visit_object(object: &Object, path: &str, visit: &mut dyn FnMut(&str, &str)) {
    visit_fields(&object.properties, path, visit);
}

fn visit_fields(
    fields: &BTreeMap<String, FieldType>,
    path: &str,
    visit: &mut dyn FnMut(&str, &str),
) {
    for (name, field) in fields {
        let path = if path.is_empty() {
            format!("properties.{name}")
        } else {
            format!("{path}.properties.{name}")
        };
        visit_field(field, &path, visit);
    }
}

fn visit_field(field: &FieldType, path: &str, visit: &mut dyn FnMut(&str, &str)) {
    match field {
        FieldType::Ref(r) => visit(path, &r.target),
        FieldType::Union(u) => {
            for target in &u.refs {
                visit(&format!("{path}.refs"), target);
            }
        }
        FieldType::Array(array) => visit_field(&array.items, &format!("{path}.items"), visit),
        FieldType::Object(object) => visit_object(object, path, visit),
        _ => {}
    }
}

/// Reads a lexicon file as text, refusing one larger than [`MAX_DOC_BYTES`] with
/// [`DocError::TooLarge`] after reading at most one byte past the limit: a stray huge (or
/// endless) `.json` file in a lexicon folder must not be loaded into memory whole.
pub(crate) fn read_doc_file(file: &Path) -> Result<String, CatalogError> {
    let io = |source| CatalogError::Io {
        path: file.to_owned(),
        source,
    };
    let bytes = read_bounded(std::fs::File::open(file).map_err(io)?, MAX_DOC_BYTES).map_err(io)?;
    let Some(bytes) = bytes else {
        return Err(CatalogError::Doc {
            path: file.display().to_string(),
            source: DocError::TooLarge(format!("more than {MAX_DOC_BYTES} bytes")),
        });
    };
    // Invalid UTF-8 stays an I/O error, as `read_to_string` made it.
    String::from_utf8(bytes)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Up to `limit` bytes of `reader`, or `None` if it holds more; reads at most `limit + 1`.
fn read_bounded(reader: impl std::io::Read, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

pub(crate) fn collect_json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CatalogError> {
    let io = |source| CatalogError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            collect_json_files(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::read_bounded;

    #[test]
    fn bounded_reads_stop_one_byte_past_the_limit() {
        // An endless reader: reading it whole would never end.
        let endless = std::io::repeat(b' ');
        assert_eq!(read_bounded(endless, 1000).ok(), Some(None));
        let exact = read_bounded(&[b'x'; 1000][..], 1000).ok().flatten();
        assert_eq!(exact.map(|b| b.len()), Some(1000));
        assert_eq!(read_bounded(&[b'x'; 1001][..], 1000).ok(), Some(None));
        assert_eq!(read_bounded(&b""[..], 1000).ok(), Some(Some(Vec::new())));
    }
}
