//! [`Target`]: what a value is validated as, and the entry into the walk for each kind.

use super::data::private::AnyData;
use super::data::{MapNode, Node, View};
use super::error::Problem;
use super::path::Path;
use super::walk::{split_ref, Flow, Stop, Walker};
use crate::schema::{BodySchema, LexiconDoc, Params, UserType};
use crate::DefRef;

/// What to validate a value as.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A record of the collection with this NSID: the record's object, and `$type` equal to
    /// the NSID. Errors are rooted at `Record`.
    Record(&'a str),
    /// Any data definition (object, token, string, array, …; for a record definition, its
    /// object without the `$type` rule). Errors are rooted at `Value`.
    Def(&'a DefRef),
    /// The parameters of the query, procedure or subscription with this NSID, as a map of
    /// typed values (integers as integers, not query-string text); `null` counts as no
    /// parameters. Errors are rooted at `Params`.
    Params(&'a str),
    /// The JSON input body of the procedure with this NSID. Errors are rooted at `Input`.
    Input(&'a str),
    /// The JSON output body of the query or procedure with this NSID. Errors are rooted at
    /// `Output`.
    Output(&'a str),
    /// A message of the subscription with this NSID, whose `$type` names the message type.
    /// Errors are rooted at `Message`.
    Message(&'a str),
    /// An event-stream frame body of the subscription `method`, whose type comes from the
    /// frame header's `t` (`#commit`) rather than a `$type` in the body. Errors are rooted at
    /// `Message`.
    Frame {
        /// The subscription's NSID.
        method: &'a str,
        /// The header's `t`: `#name` for a message type of the same lexicon, or `nsid#name`.
        t: &'a str,
    },
}

impl<'c> Walker<'c> {
    /// Validates `value`, in whichever representation it is, as `target`.
    pub(crate) fn run_any(&mut self, target: Target<'_>, value: AnyData<'_>) -> Flow {
        match value {
            AnyData::Value(v) => self.run(target, v),
            AnyData::ValueRef(v) => self.run(target, v),
        }
    }

    /// Validates `value` as `target`.
    pub(crate) fn run<D: Node>(&mut self, target: Target<'_>, value: &D) -> Flow {
        match target {
            Target::Record(nsid) => self.record(nsid, value),
            Target::Def(def) => self.def(def, value),
            Target::Params(method) => self.params(method, value),
            Target::Input(method) => self.body(method, BodyKind::Input, value),
            Target::Output(method) => self.body(method, BodyKind::Output, value),
            Target::Message(method) => self.body(method, BodyKind::Message, value),
            Target::Frame { method, t } => self.frame(method, t, value),
        }
    }

    fn record<D: Node>(&mut self, nsid: &str, value: &D) -> Flow {
        let at = Path::root("Record");
        let Some(doc) = self.catalog.doc(nsid) else {
            return self.unknown_lexicon(&at, nsid);
        };
        let record = match doc.main() {
            Some(UserType::Record(record)) => record,
            Some(other) => return self.wrong_def(&at, nsid, "record", other),
            None => return self.unresolved(&at, nsid),
        };
        let View::Map(map) = value.view() else {
            return self.wrong_type(&at, "object", value);
        };
        match map.get("$type").map(Node::view) {
            Some(View::String(t)) if t == nsid => {}
            found => {
                let found = match found {
                    Some(View::String(t)) => Some(t.to_owned()),
                    _ => None,
                };
                self.fail(&at.key("$type"), || Problem::RecordType {
                    expected: nsid.to_owned(),
                    found,
                })?;
            }
        }
        self.object(&record.record.0, doc, value, &at)
    }

    fn def<D: Node>(&mut self, target: &DefRef, value: &D) -> Flow {
        let at = Path::root("Value");
        let found = self
            .catalog
            .doc(target.nsid().as_str())
            .and_then(|doc| Some((doc, doc.def(target.name())?)));
        match found {
            Some((doc, def)) => self.user_type(def, doc, target.name(), value, &at),
            None => self.unresolved(&at, &target.to_string()),
        }
    }

    /// The method definition `method` with its lexicon's NSID, or `None` after recording
    /// why there is none.
    fn method(
        &mut self,
        method: &str,
        at: &Path<'_>,
    ) -> Result<Option<(&'c LexiconDoc, &'c UserType)>, Stop> {
        let Some(doc) = self.catalog.doc(method) else {
            self.unknown_lexicon(at, method)?;
            return Ok(None);
        };
        match doc.main() {
            Some(
                def @ (UserType::Query(_) | UserType::Procedure(_) | UserType::Subscription(_)),
            ) => return Ok(Some((doc, def))),
            Some(other) => self.wrong_def(at, method, "query, procedure or subscription", other)?,
            None => self.unresolved(at, method)?,
        }
        Ok(None)
    }

    fn params<D: Node>(&mut self, method: &str, value: &D) -> Flow {
        let at = Path::root("Params");
        let Some((context, def)) = self.method(method, &at)? else {
            return Ok(());
        };
        let params: Option<&'c Params> = match def {
            UserType::Query(q) => q.parameters.as_ref(),
            UserType::Procedure(p) => p.parameters.as_ref(),
            UserType::Subscription(s) => s.parameters.as_ref(),
            _ => None,
        };
        // Undeclared parameters are ignored, as servers ignore unknown query parameters.
        let Some(p) = params else {
            return match value.view() {
                View::Null | View::Map(_) => Ok(()),
                _ => self.wrong_type(&at, "object", value),
            };
        };
        match value.view() {
            // `null` is no parameters at all.
            View::Null => self.all_missing(&p.required, &p.properties, &at),
            // Parameters are never nullable.
            View::Map(map) => {
                self.properties::<D>(&p.required, &[], &p.properties, context, map, &at)
            }
            _ => self.wrong_type(&at, "object", value),
        }
    }

    fn body<D: Node>(&mut self, method: &str, which: BodyKind, value: &D) -> Flow {
        let at = Path::root(which.root());
        let Some((context, def)) = self.method(method, &at)? else {
            return Ok(());
        };
        let schema = match (def, which) {
            (UserType::Procedure(p), BodyKind::Input) => {
                p.input.as_ref().map(|b| b.schema.as_ref())
            }
            (UserType::Procedure(p), BodyKind::Output) => {
                p.output.as_ref().map(|b| b.schema.as_ref())
            }
            (UserType::Query(q), BodyKind::Output) => q.output.as_ref().map(|b| b.schema.as_ref()),
            (UserType::Subscription(s), BodyKind::Message) => {
                s.message.as_ref().map(|m| Some(&m.schema))
            }
            _ => None,
        };
        match schema {
            None => self.fail(&at, || Problem::NoBody {
                method: method.to_owned(),
                body: which.name(),
            }),
            // A body without a schema (a CAR file, an image, `*/*`) is not JSON to check.
            Some(None) => Ok(()),
            Some(Some(BodySchema::Object(o))) => self.object(o, context, value, &at),
            Some(Some(BodySchema::Ref(r))) => self.reference(&r.target, context, value, &at),
            Some(Some(BodySchema::Union(u))) => self.union(u, context, value, &at),
        }
    }

    fn frame<D: Node>(&mut self, method: &str, t: &str, value: &D) -> Flow {
        let at = Path::root("Message");
        let Some((context, def)) = self.method(method, &at)? else {
            return Ok(());
        };
        let schema = match def {
            UserType::Subscription(s) => s.message.as_ref().map(|m| &m.schema),
            _ => None,
        };
        match schema {
            None => self.fail(&at, || Problem::NoBody {
                method: method.to_owned(),
                body: "message",
            }),
            Some(BodySchema::Union(u)) => {
                let (nsid, name) = split_ref(t, context.id.as_str());
                self.union_member(u, context, nsid, name, t, value, &at)
            }
            // A single message type: the header cannot pick anything else.
            Some(BodySchema::Object(o)) => self.object(o, context, value, &at),
            Some(BodySchema::Ref(r)) => self.reference(&r.target, context, value, &at),
        }
    }

    fn unknown_lexicon(&mut self, at: &Path<'_>, nsid: &str) -> Flow {
        self.fail(at, || Problem::UnknownLexicon {
            nsid: nsid.to_owned(),
        })
    }

    fn unresolved(&mut self, at: &Path<'_>, target: &str) -> Flow {
        self.fail(at, || Problem::UnresolvedRef {
            target: target.to_owned(),
        })
    }

    fn wrong_def(
        &mut self,
        at: &Path<'_>,
        target: &str,
        expected: &'static str,
        found: &UserType,
    ) -> Flow {
        self.fail(at, || Problem::WrongDef {
            target: target.to_owned(),
            expected,
            found: found.type_name(),
        })
    }
}

/// Which body of a method.
#[derive(Clone, Copy)]
enum BodyKind {
    Input,
    Output,
    Message,
}

impl BodyKind {
    fn root(self) -> &'static str {
        match self {
            BodyKind::Input => "Input",
            BodyKind::Output => "Output",
            BodyKind::Message => "Message",
        }
    }

    fn name(self) -> &'static str {
        match self {
            BodyKind::Input => "input",
            BodyKind::Output => "output",
            BodyKind::Message => "message",
        }
    }
}
