//! Unions: an enum with a boxed variant per member, and `Unknown(Value)` when open.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use atdata_lexicon::schema::{Union, UserType};

use super::DocEmitter;
use crate::docs::escape;
use crate::names::{camel, Scope};
use crate::plan::doc_name;

/// One member of a union.
struct Variant {
    name: String,
    /// The `$type` (`nsid` or `nsid#name`).
    ty: String,
    /// The Rust path of the member type.
    path: String,
}

impl DocEmitter<'_, '_> {
    /// An enum `name` for `union`. `description` is the union's own, or the property's.
    pub(crate) fn union(
        &mut self,
        name: &str,
        union: &Union,
        description: Option<&str>,
        origin: &str,
    ) {
        let variants = self.variants(union, origin);
        let open = !union.is_closed();
        let kind = if open { "open" } else { "closed" };
        let fallback = format!("One of several types, told apart by `$type` ({kind} union).");
        let description = description.or(union.description.as_deref());
        let text = match description.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => format!(
                "{}\n\nThe members are told apart by `$type` ({kind} union).",
                escape(d)
            ),
            None => fallback,
        };
        self.item_doc("", None, &text, origin);
        let _ = writeln!(
            self.out,
            "#[derive(Debug, Clone, PartialEq)]\npub enum {name} {{"
        );
        for v in &variants {
            let _ = writeln!(
                self.out,
                "    /// `{}`.\n    {}(Box<{}>),",
                v.ty, v.name, v.path
            );
        }
        if open {
            let _ = writeln!(
                self.out,
                "    /// A member this lexicon does not list (open union), kept as it was read.\n    Unknown(_rt::Value),"
            );
        }
        let _ = writeln!(self.out, "}}\n");

        let _ = writeln!(self.out, "impl _rt::Union for {name} {{");
        let _ = writeln!(
            self.out,
            "    fn from_map<'de, A: _rt::MapAccess<'de>>(ty: &str, map: A) -> Result<Option<Self>, A::Error> {{"
        );
        if variants.is_empty() {
            let _ = writeln!(
                self.out,
                "        let _ = (ty, map);\n        Ok(None)\n    }}"
            );
        } else {
            let _ = writeln!(self.out, "        Ok(Some(match ty {{");
            for v in &variants {
                let _ = writeln!(
                    self.out,
                    "            \"{}\" => Self::{}(_rt::member(map)?),",
                    v.ty, v.name
                );
            }
            let _ = writeln!(
                self.out,
                "            _ => return Ok(None),\n        }}))\n    }}"
            );
        }
        if open {
            let _ = writeln!(
                self.out,
                "    #[inline]\n    fn unknown(value: _rt::Value) -> Option<Self> {{\n        Some(Self::Unknown(value))\n    }}"
            );
        } else {
            let _ = writeln!(
                self.out,
                "    #[inline]\n    fn unknown(_: _rt::Value) -> Option<Self> {{\n        None\n    }}"
            );
        }
        let _ = writeln!(self.out, "}}\n");

        let _ = writeln!(
            self.out,
            "impl _rt::Serialize for {name} {{\n    fn serialize<S: _rt::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{"
        );
        if variants.is_empty() && !open {
            // A closed union without members has no values.
            let _ = writeln!(
                self.out,
                "        let _ = s;\n        match *self {{}}\n    }}\n}}\n"
            );
        } else {
            let _ = writeln!(self.out, "        match self {{");
            for v in &variants {
                let _ = writeln!(
                    self.out,
                    "            Self::{}(v) => _rt::ser_object(&**v, s, true),",
                    v.name
                );
            }
            if open {
                let _ = writeln!(
                    self.out,
                    "            Self::Unknown(v) => _rt::Serialize::serialize(v, s),"
                );
            }
            let _ = writeln!(self.out, "        }}\n    }}\n}}\n");
        }
        let _ = writeln!(
            self.out,
            "impl<'de> _rt::Deserialize<'de> for {name} {{\n    fn deserialize<D: _rt::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{\n        _rt::de_union(d)\n    }}\n}}\n"
        );
        for v in &variants {
            let _ = writeln!(
                self.out,
                "impl From<{path}> for {name} {{\n    #[inline]\n    fn from(value: {path}) -> Self {{\n        Self::{v}(Box::new(value))\n    }}\n}}\n",
                path = v.path,
                v = v.name
            );
        }
    }

    /// The members that resolve to objects or records, named after their definitions: the
    /// definition name (the document name for `main`), or the document name and definition
    /// name together when two members would otherwise share a name.
    fn variants(&mut self, union: &Union, origin: &str) -> Vec<Variant> {
        let mut found: Vec<(String, String, String, String)> = Vec::new();
        for target in &union.refs {
            let Some((dref, def)) = self.plan.catalog.resolve(target, &self.doc.id) else {
                self.warn(
                    origin,
                    format!("unresolved union member {target}; read as unknown"),
                );
                continue;
            };
            if !matches!(def, UserType::Object(_) | UserType::Record(_)) {
                self.warn(
                    origin,
                    format!(
                        "union member {target} is a {}, not an object; skipped",
                        def.type_name()
                    ),
                );
                continue;
            }
            let nsid = dref.nsid().as_str();
            let type_name = self
                .plan
                .docs
                .get(nsid)
                .and_then(|i| i.types.get(dref.name()))
                .cloned();
            let Some(path) = type_name.and_then(|t| self.type_path(nsid, &t)) else {
                self.warn(
                    origin,
                    format!(
                        "union member {target} is outside the generated lexicons; read as unknown"
                    ),
                );
                continue;
            };
            let ty = dref.to_string();
            if found.iter().any(|(t, ..)| *t == ty) {
                continue;
            }
            let short = if dref.is_main() {
                doc_name(nsid)
            } else {
                camel(dref.name())
            };
            let long = if dref.is_main() {
                doc_name(nsid)
            } else {
                format!("{}{}", doc_name(nsid), camel(dref.name()))
            };
            found.push((ty, path, short, long));
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, _, short, _) in &found {
            *counts.entry(short.as_str()).or_default() += 1;
        }
        let mut scope = Scope::with(&["Unknown"]);
        let named: Vec<(String, String, String)> = found
            .iter()
            .map(|(ty, path, short, long)| {
                let base = if counts.get(short.as_str()).copied().unwrap_or(0) > 1 {
                    long
                } else {
                    short
                };
                (ty.clone(), path.clone(), base.clone())
            })
            .collect();
        named
            .into_iter()
            .map(|(ty, path, base)| Variant {
                name: scope.claim(&base),
                ty,
                path,
            })
            .collect()
    }
}
