//! Objects and records: a struct with `pub` fields, `new` and setters, and the
//! `_rt::Object` impl that serde goes through.

use std::fmt::Write as _;

use atdata_lexicon::schema::{FieldType, Object};

use super::{cbor_order, DocEmitter, Owner};
use crate::docs::{first_sentence, write_doc};
use crate::names::{ident, snake, Scope};

/// One property of a struct, with everything the code for it needs.
pub(crate) struct Field {
    /// The key in the data.
    pub(crate) key: String,
    /// The Rust field name.
    pub(crate) ident: String,
    /// The Rust type of the value (without the `Option`s below).
    pub(crate) ty: String,
    pub(crate) required: bool,
    pub(crate) nullable: bool,
    /// An array read with `field_vec` (errors name the index).
    pub(crate) array: bool,
    pub(crate) description: Option<String>,
    /// Where the lexicon's `required` list names it (`usize::MAX` when optional): the order of
    /// `new`'s arguments.
    pub(crate) position: usize,
}

/// Keys whose values are secrets (tokens, passwords, one-time codes): generated types print
/// them as `<redacted>` in `Debug`, so logging a request or response never leaks a credential.
/// By key rather than by lexicon path, so a new method with an `accessJwt` is covered too.
pub(crate) const SECRET_KEYS: &[&str] = &[
    "accessJwt",
    "refreshJwt",
    "password",
    "newPassword",
    "appPassword",
    "token",
    "authFactorToken",
    "code",
    "inviteCode",
    "verificationCode",
    "joinLinkCode",
];

impl Field {
    /// Whether its value is a secret that `Debug` must not show.
    pub(crate) fn is_secret(&self) -> bool {
        SECRET_KEYS.contains(&self.key.as_str())
    }

    /// What `Debug` shows for it: the value, or `<redacted>` in its place (keeping whether an
    /// optional one is set).
    fn debug_expr(&self) -> String {
        let place = format!("self.{}", self.ident);
        if !self.is_secret() {
            return format!("&{place}");
        }
        match (self.required, self.nullable) {
            (true, false) => "&_rt::Redacted".to_owned(),
            (true, true) | (false, false) => format!("&{place}.as_ref().map(|_| _rt::Redacted)"),
            (false, true) => {
                format!("&{place}.as_ref().map(|v| v.as_ref().map(|_| _rt::Redacted))")
            }
        }
    }
}

/// The derives of a struct with `fields`: `Debug` unless a field is secret (then
/// [`write_debug`] writes it by hand), `Default` when every field is optional.
pub(crate) fn derives(fields: &[Field], default: bool) -> String {
    let mut out = Vec::new();
    if !fields.iter().any(Field::is_secret) {
        out.push("Debug");
    }
    out.extend(["Clone", "PartialEq"]);
    if default {
        out.push("Default");
    }
    out.join(", ")
}

/// `impl Debug` for a struct with a secret field: every field in order, secrets redacted, then
/// `extra` when given. Nothing when no field is secret (the derive does it).
pub(crate) fn write_debug(out: &mut String, name: &str, fields: &[Field], extra: Option<&str>) {
    if !fields.iter().any(Field::is_secret) {
        return;
    }
    let _ = writeln!(
        out,
        "impl ::std::fmt::Debug for {name} {{\n    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {{\n        f.debug_struct({name:?})"
    );
    for field in fields {
        let _ = writeln!(
            out,
            "            .field({:?}, {})",
            field.ident,
            field.debug_expr()
        );
    }
    if let Some(extra) = extra {
        let _ = writeln!(out, "            .field({extra:?}, &self.{extra})");
    }
    let _ = writeln!(out, "            .finish()\n    }}\n}}\n");
}

impl Field {
    /// The declared type: `T`, `Option<T>` (optional, or required but nullable), or
    /// `Option<Option<T>>` (optional and nullable: absent, `null`, or a value).
    pub(crate) fn declared(&self) -> String {
        match (self.required, self.nullable) {
            (true, false) => self.ty.clone(),
            (true, true) | (false, false) => format!("Option<{}>", self.ty),
            (false, true) => format!("Option<Option<{}>>", self.ty),
        }
    }

    /// What `new` and the setter take: `impl Into<…>` of the declared type without the outer
    /// `Option` of an optional field.
    pub(crate) fn argument(&self) -> String {
        match (self.required, self.nullable) {
            (true, false) | (false, false) => format!("impl Into<{}>", self.ty),
            (true, true) | (false, true) => format!("impl Into<Option<{}>>", self.ty),
        }
    }
}

impl<'c> DocEmitter<'_, 'c> {
    /// The fields of `object`, in property-name order, with Rust names unique in `scope`.
    pub(crate) fn fields(
        &mut self,
        object: &'c Object,
        owner: Owner<'_>,
        scope: &mut Scope,
    ) -> Vec<Field> {
        let mut fields = Vec::new();
        for (key, field) in &object.properties {
            let ident = scope.claim(&ident(&snake(key)));
            let ty = self.field_type(field, owner, key);
            let nullable = object.is_nullable(key);
            fields.push(Field {
                key: key.clone(),
                ident,
                ty,
                required: object.is_required(key),
                nullable,
                array: matches!(field, FieldType::Array(_)) && !nullable,
                description: field.description().map(str::to_owned),
                position: object
                    .required
                    .iter()
                    .position(|r| r == key)
                    .unwrap_or(usize::MAX),
            });
        }
        fields
    }

    /// A struct for `object`, named `name`, whose `$type` is `ty`. `node` is its key in the
    /// cycle graph.
    pub(crate) fn object(
        &mut self,
        name: &str,
        ty: &str,
        object: &'c Object,
        description: Option<&str>,
        node: Option<&str>,
        origin: &str,
    ) -> Vec<Field> {
        let record = self
            .doc
            .defs
            .get("main")
            .is_some_and(|d| matches!(d, atdata_lexicon::schema::UserType::Record(_)))
            && ty == self.nsid();
        let owner = Owner {
            type_name: name,
            node,
            origin,
        };
        let mut scope = Scope::new();
        let fields = self.fields(object, owner, &mut scope);
        let extra = scope.claim("extra");
        let all_optional = fields.iter().all(|f| !f.required);

        let fallback = if let Some(nsid) = ty.strip_suffix("#main.input") {
            format!("The request body of `{nsid}`.")
        } else if let Some(nsid) = ty.strip_suffix("#main.output") {
            format!("The response body of `{nsid}`.")
        } else {
            format!("The `{ty}` object.")
        };
        self.item_doc("", description, &fallback, ty);
        let derives = derives(&fields, all_optional);
        let _ = writeln!(self.out, "#[derive({derives})]\npub struct {name} {{");
        for f in &fields {
            let text = match f.description.as_deref() {
                Some(d) => crate::docs::escape(d),
                None => format!("`{}`.", f.key),
            };
            write_doc(&mut self.out, "    ", &text);
            let _ = writeln!(self.out, "    pub {}: {},", f.ident, f.declared());
        }
        let _ = writeln!(
            self.out,
            "    /// Keys the lexicon does not declare, kept so the data round-trips unchanged.\n    pub {extra}: _rt::Map,\n}}\n"
        );
        write_debug(&mut self.out, name, &fields, Some(&extra));

        self.constructors(name, &fields, &extra);
        self.object_impl(name, ty, &fields, &extra, record);
        let _ = writeln!(
            self.out,
            "impl _rt::Serialize for {name} {{\n    fn serialize<S: _rt::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {{\n        _rt::ser_object(self, s, {record})\n    }}\n}}\n"
        );
        let _ = writeln!(
            self.out,
            "impl<'de> _rt::Deserialize<'de> for {name} {{\n    fn deserialize<D: _rt::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {{\n        _rt::de_object(d)\n    }}\n}}\n"
        );
        fields
    }

    /// `new(required…)` and one setter per optional field.
    fn constructors(&mut self, name: &str, fields: &[Field], extra: &str) {
        let required: Vec<&Field> = self.required_order(fields);
        let _ = writeln!(self.out, "impl {name} {{");
        let _ = writeln!(
            self.out,
            "    /// Builds a value from its required fields; the optional ones start unset."
        );
        if required.len() > 7 {
            let _ = writeln!(self.out, "    #[allow(clippy::too_many_arguments)]");
        }
        let args: Vec<String> = required
            .iter()
            .map(|f| format!("{}: {}", f.ident, f.argument()))
            .collect();
        if args.is_empty() {
            let _ = writeln!(self.out, "    #[inline]");
        }
        let _ = writeln!(self.out, "    pub fn new({}) -> Self {{", args.join(", "));
        let _ = writeln!(self.out, "        Self {{");
        for f in fields {
            if f.required {
                let _ = writeln!(self.out, "            {0}: {0}.into(),", f.ident);
            } else {
                let _ = writeln!(self.out, "            {}: None,", f.ident);
            }
        }
        let _ = writeln!(
            self.out,
            "            {extra}: _rt::Map::new(),\n        }}\n    }}"
        );
        let mut setters = Scope::with(&["new"]);
        for f in fields.iter().filter(|f| !f.required) {
            let setter = setters.claim(&f.ident);
            self.setter(&setter, f, &format!("self.{}", f.ident));
        }
        let _ = writeln!(self.out, "}}\n");
    }

    /// The required fields in the order the lexicon lists them (its `required` array), which
    /// reads better as arguments than key order.
    pub(crate) fn required_order<'f>(&self, fields: &'f [Field]) -> Vec<&'f Field> {
        let mut out: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
        out.sort_by_key(|f| f.position);
        out
    }

    /// A chainable setter `name` for optional field `f`, stored at `place`.
    pub(crate) fn setter(&mut self, name: &str, f: &Field, place: &str) {
        let about = match f.description.as_deref() {
            Some(d) => format!("Sets `{}`: {}", f.key, first_sentence(d)),
            None => format!("Sets `{}`.", f.key),
        };
        write_doc(&mut self.out, "    ", &about);
        let _ = writeln!(
            self.out,
            "    pub fn {name}(mut self, value: {}) -> Self {{\n        {place} = Some(value.into());\n        self\n    }}",
            f.argument()
        );
    }

    /// `impl _rt::Object`: the field list, `write_fields` and `from_map`.
    fn object_impl(&mut self, name: &str, ty: &str, fields: &[Field], extra: &str, record: bool) {
        let mut keys: Vec<&Field> = fields.iter().collect();
        keys.sort_by(|a, b| cbor_order(&a.key, &b.key));
        let _ = writeln!(self.out, "impl _rt::Object for {name} {{");
        let _ = writeln!(self.out, "    const TYPE: &'static str = \"{ty}\";");
        let list: Vec<String> = fields.iter().map(|f| format!("{:?}", f.key)).collect();
        let _ = writeln!(
            self.out,
            "    const FIELDS: &'static [&'static str] = &[{}];",
            list.join(", ")
        );
        let _ = writeln!(
            self.out,
            "    #[inline]\n    fn extra(&self) -> &_rt::Map {{\n        &self.{extra}\n    }}"
        );

        // write_fields: in DAG-CBOR key order, `$type` in its place.
        let _ = writeln!(
            self.out,
            "    fn write_fields<M: _rt::SerializeMap>(&self, map: &mut M, ty: Option<&'static str>) -> Result<(), M::Error> {{"
        );
        let mut type_written = false;
        for f in &keys {
            if !type_written && cbor_order("$type", &f.key).is_lt() {
                self.write_type_entry();
                type_written = true;
            }
            if f.required {
                let _ = writeln!(
                    self.out,
                    "        map.serialize_entry({:?}, &self.{})?;",
                    f.key, f.ident
                );
            } else {
                let _ = writeln!(
                    self.out,
                    "        if let Some(v) = &self.{} {{\n            map.serialize_entry({:?}, v)?;\n        }}",
                    f.ident, f.key
                );
            }
        }
        if !type_written {
            self.write_type_entry();
        }
        let _ = writeln!(self.out, "        Ok(())\n    }}");

        // from_map.
        let _ = writeln!(
            self.out,
            "    fn from_map<'de, A: _rt::MapAccess<'de>>(mut __map: A) -> Result<Self, A::Error> {{"
        );
        for f in fields {
            let _ = writeln!(self.out, "        let mut {} = None;", local(&f.ident));
        }
        let _ = writeln!(self.out, "        let mut __extra = _rt::Map::new();");
        // An object without properties (or a record with only `$type`) keeps everything in
        // `extra`, and needs no `match`.
        let no_match = fields.is_empty() && !record;
        if no_match {
            let _ = writeln!(
                self.out,
                "        while let Some(__key) = __map.next_key::<_rt::Key<'de>>()? {{\n            _rt::extra(&mut __map, &mut __extra, __key)?;\n        }}"
            );
        } else {
            let _ = writeln!(
                self.out,
                "        while let Some(__key) = __map.next_key::<_rt::Key<'de>>()? {{\n            match __key.as_str() {{"
            );
        }
        for f in fields {
            let helper = if f.array { "field_vec" } else { "field" };
            let _ = writeln!(
                self.out,
                "                {0:?} => _rt::{helper}(&mut __map, &mut {1}, {0:?})?,",
                f.key,
                local(&f.ident)
            );
        }
        if record {
            let _ = writeln!(
                self.out,
                "                \"$type\" => _rt::record_type(&mut __map, \"{ty}\")?,"
            );
        }
        if !no_match {
            let _ = writeln!(
                self.out,
                "                _ => _rt::extra(&mut __map, &mut __extra, __key)?,\n            }}\n        }}"
            );
        }
        let _ = writeln!(self.out, "        Ok(Self {{");
        for f in fields {
            if f.required {
                let _ = writeln!(
                    self.out,
                    "            {}: _rt::required(&__map, {}, {:?})?,",
                    f.ident,
                    local(&f.ident),
                    f.key
                );
            } else {
                let _ = writeln!(self.out, "            {}: {},", f.ident, local(&f.ident));
            }
        }
        let _ = writeln!(
            self.out,
            "            {extra}: __extra,\n        }})\n    }}\n}}\n"
        );
    }

    fn write_type_entry(&mut self) {
        let _ = writeln!(
            self.out,
            "        if let Some(t) = ty {{\n            map.serialize_entry(\"$type\", t)?;\n        }}"
        );
    }
}

/// The local variable holding field `ident` while reading (`f_…`; the reader's own locals
/// start with `__`, so the two never meet).
fn local(ident: &str) -> String {
    let bare = ident.strip_prefix("r#").unwrap_or(ident);
    format!("f_{}", bare.trim_start_matches('_'))
}
