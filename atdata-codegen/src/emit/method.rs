//! Queries, procedures and subscriptions: `Params`, `Input`, `Output`, `Error`, `Message`, and
//! the request type that implements `XrpcRequest` / `XrpcSubscription`.

use std::fmt::Write as _;

use atdata_lexicon::schema::{
    Body, BodySchema, ErrorDef, FieldType, Params, Procedure, Query, Subscription,
};

use super::object::Field;
use super::{string_type, DocEmitter, Owner};
use crate::docs::{escape, write_doc};
use crate::names::{camel, ident, snake, Scope};
use crate::plan::{ERROR, INPUT, MESSAGE, OUTPUT, PARAMS};

/// What the request type holds as its body.
enum InputKind {
    None,
    /// A JSON object: `Input` is a struct; the request gets its fields' setters.
    Object(Vec<Field>),
    /// JSON of another shape (a ref, a union, no schema): `Input` is an alias or enum.
    Json,
    /// Not JSON: the request holds a `Binary`.
    Binary,
}

/// How a response body is read.
enum OutputKind {
    None,
    Json,
    Binary,
}

impl<'c> DocEmitter<'_, 'c> {
    pub(crate) fn query(&mut self, query: &'c Query) {
        let params = query.parameters.as_ref().map(|p| self.params(p));
        let output = self.output(query.output.as_ref());
        self.errors(&query.errors);
        self.request(
            "Query",
            query.description.as_deref(),
            params.as_deref(),
            InputKind::None,
            output,
        );
    }

    pub(crate) fn procedure(&mut self, procedure: &'c Procedure) {
        let params = procedure.parameters.as_ref().map(|p| self.params(p));
        let input = self.input(procedure.input.as_ref());
        let output = self.output(procedure.output.as_ref());
        self.errors(&procedure.errors);
        self.request(
            "Procedure",
            procedure.description.as_deref(),
            params.as_deref(),
            input,
            output,
        );
    }

    pub(crate) fn subscription(&mut self, subscription: &'c Subscription) {
        let nsid = self.nsid();
        let params = subscription.parameters.as_ref().map(|p| self.params(p));
        let origin = format!("{nsid}#main.message");
        match subscription
            .message
            .as_ref()
            .map(|m| (&m.schema, m.description.as_deref()))
        {
            Some((BodySchema::Union(union), description)) => {
                self.union(MESSAGE, union, description, &origin);
            }
            _ => {
                self.warn(
                    &origin,
                    "subscription message is not a union; typed as Value".into(),
                );
                self.alias(MESSAGE, "_rt::Value", None, &origin);
            }
        }
        let message_is_union = matches!(
            subscription.message.as_ref().map(|m| &m.schema),
            Some(BodySchema::Union(_))
        );
        self.errors(&subscription.errors);

        let name = self.main_name();
        let fallback = format!("The `{nsid}` event stream.");
        self.item_doc("", subscription.description.as_deref(), &fallback, nsid);
        self.request_struct(&name, params.as_deref(), &InputKind::None);
        self.request_methods(&name, params.as_deref(), &InputKind::None);
        let params = params.unwrap_or_default();
        let _ = writeln!(self.out, "impl _rt::XrpcSubscription for {name} {{");
        let _ = writeln!(self.out, "    const NSID: &'static str = \"{nsid}\";");
        let _ = writeln!(
            self.out,
            "    type Message = {MESSAGE};\n    type Error = {ERROR};"
        );
        self.write_params_fn(&params);
        if message_is_union {
            let _ = writeln!(
                self.out,
                "    #[inline]\n    fn decode_message(t: &str, payload: &[u8]) -> Result<{MESSAGE}, _rt::BodyError> {{\n        _rt::decode_message(\"{nsid}\", t, payload)\n    }}\n}}\n"
            );
        } else {
            let _ = writeln!(
                self.out,
                "    #[inline]\n    fn decode_message(_t: &str, payload: &[u8]) -> Result<{MESSAGE}, _rt::BodyError> {{\n        _rt::Value::from_dag_cbor(payload).map_err(_rt::BodyError::Cbor)\n    }}\n}}\n"
            );
        }
    }

    /// The request type's name (what `main` is called).
    fn main_name(&self) -> String {
        self.info
            .types
            .get("main")
            .cloned()
            .unwrap_or_else(|| crate::plan::doc_name(self.nsid()))
    }

    /// `Params`: a plain struct (parameters are written into the query string, not serialized).
    fn params(&mut self, params: &'c Params) -> Vec<Field> {
        let nsid = self.nsid();
        let mut scope = Scope::new();
        let mut fields = Vec::new();
        for (key, field) in &params.properties {
            let ty = match param_type(field) {
                Some(ty) => ty,
                None => {
                    self.warn(
                        &format!("{nsid}#main.parameters.{key}"),
                        format!("parameter of type {}; typed as String", field.type_name()),
                    );
                    "String".to_owned()
                }
            };
            fields.push(Field {
                key: key.clone(),
                ident: scope.claim(&ident(&snake(key))),
                ty,
                required: params.required.iter().any(|r| r == key),
                nullable: false,
                array: false,
                description: field.description().map(str::to_owned),
                position: params
                    .required
                    .iter()
                    .position(|r| r == key)
                    .unwrap_or(usize::MAX),
            });
        }
        let all_optional = fields.iter().all(|f| !f.required);
        let fallback = format!("The query-string parameters of `{nsid}`.");
        self.item_doc(
            "",
            params.description.as_deref(),
            &fallback,
            &format!("{nsid}#main.parameters"),
        );
        let derives = super::object::derives(&fields, all_optional);
        let _ = writeln!(self.out, "#[derive({derives})]\npub struct {PARAMS} {{");
        for f in &fields {
            let text = match f.description.as_deref() {
                Some(d) => escape(d),
                None => format!("`{}`.", f.key),
            };
            write_doc(&mut self.out, "    ", &text);
            let _ = writeln!(self.out, "    pub {}: {},", f.ident, f.declared());
        }
        let _ = writeln!(self.out, "}}\n");
        super::object::write_debug(&mut self.out, PARAMS, &fields, None);
        fields
    }

    fn input(&mut self, body: Option<&'c Body>) -> InputKind {
        let nsid = self.nsid();
        let Some(body) = body else {
            return InputKind::None;
        };
        let lexicon = format!("{nsid}#main.input");
        if body.encoding != "application/json" {
            let fallback = format!("The `{}` request body of `{nsid}`.", body.encoding);
            self.alias(
                INPUT,
                "_rt::Binary",
                body.description.as_deref().or(Some(&fallback)),
                &lexicon,
            );
            return InputKind::Binary;
        }
        match &body.schema {
            Some(BodySchema::Object(object)) => {
                let fields = self.object(
                    INPUT,
                    &lexicon,
                    object,
                    body.description.as_deref(),
                    None,
                    &lexicon,
                );
                InputKind::Object(fields)
            }
            Some(BodySchema::Ref(r)) => {
                let ty = self.body_ref(&r.target, INPUT, &lexicon);
                self.alias(INPUT, &ty, body.description.as_deref(), &lexicon);
                InputKind::Json
            }
            Some(BodySchema::Union(union)) => {
                self.union(INPUT, union, body.description.as_deref(), &lexicon);
                InputKind::Json
            }
            None => {
                self.alias(INPUT, "_rt::Value", body.description.as_deref(), &lexicon);
                InputKind::Json
            }
        }
    }

    fn output(&mut self, body: Option<&'c Body>) -> OutputKind {
        let nsid = self.nsid();
        let lexicon = format!("{nsid}#main.output");
        let Some(body) = body else {
            let doc = format!("`{nsid}` returns no body.");
            self.alias(OUTPUT, "()", Some(&doc), &lexicon);
            return OutputKind::None;
        };
        if body.encoding != "application/json" {
            let fallback = format!("The `{}` response body of `{nsid}`.", body.encoding);
            self.alias(
                OUTPUT,
                "_rt::Binary",
                body.description.as_deref().or(Some(&fallback)),
                &lexicon,
            );
            return OutputKind::Binary;
        }
        match &body.schema {
            Some(BodySchema::Object(object)) => {
                self.object(
                    OUTPUT,
                    &lexicon,
                    object,
                    body.description.as_deref(),
                    None,
                    &lexicon,
                );
            }
            Some(BodySchema::Ref(r)) => {
                let ty = self.body_ref(&r.target, OUTPUT, &lexicon);
                self.alias(OUTPUT, &ty, body.description.as_deref(), &lexicon);
            }
            Some(BodySchema::Union(union)) => {
                self.union(OUTPUT, union, body.description.as_deref(), &lexicon);
            }
            None => self.alias(OUTPUT, "_rt::Value", body.description.as_deref(), &lexicon),
        }
        OutputKind::Json
    }

    /// The type a body's `ref` schema stands for (never boxed: nothing refers to a body).
    fn body_ref(&mut self, target: &str, type_name: &str, origin: &str) -> String {
        let owner = Owner {
            type_name,
            node: None,
            origin,
        };
        self.ref_type(target, owner, false)
    }

    /// `Error`: the named errors, or `NoError`.
    fn errors(&mut self, errors: &[ErrorDef]) {
        let nsid = self.nsid();
        let lexicon = format!("{nsid}#main.errors");
        if errors.is_empty() {
            let doc = format!("`{nsid}` declares no errors.");
            self.alias(ERROR, "_rt::NoError", Some(&doc), &lexicon);
            return;
        }
        let mut scope = Scope::with(&["Self"]);
        let variants: Vec<(String, &ErrorDef)> = errors
            .iter()
            .map(|e| (scope.claim(&camel(&e.name)), e))
            .collect();
        let fallback = format!("The errors `{nsid}` declares (`\"error\"` in the response body).");
        self.item_doc("", None, &fallback, &lexicon);
        let _ = writeln!(
            self.out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum {ERROR} {{"
        );
        for (variant, e) in &variants {
            let text = match e.description.as_deref() {
                Some(d) => format!("`{}`: {}", e.name, escape(d)),
                None => format!("`{}`.", e.name),
            };
            write_doc(&mut self.out, "    ", &text);
            let _ = writeln!(self.out, "    {variant},");
        }
        let _ = writeln!(self.out, "}}\n");
        let _ = writeln!(
            self.out,
            "impl _rt::XrpcErrorName for {ERROR} {{\n    fn from_name(name: &str) -> Option<Self> {{\n        match name {{"
        );
        for (variant, e) in &variants {
            let _ = writeln!(
                self.out,
                "            {:?} => Some(Self::{variant}),",
                e.name
            );
        }
        let _ = writeln!(
            self.out,
            "            _ => None,\n        }}\n    }}\n    #[inline]\n    fn name(&self) -> &'static str {{\n        match self {{"
        );
        for (variant, e) in &variants {
            let _ = writeln!(self.out, "            Self::{variant} => {:?},", e.name);
        }
        let _ = writeln!(self.out, "        }}\n    }}\n}}\n");
    }

    /// The request type of a query or procedure.
    fn request(
        &mut self,
        method: &str,
        description: Option<&str>,
        params: Option<&[Field]>,
        input: InputKind,
        output: OutputKind,
    ) {
        let nsid = self.nsid();
        let name = self.main_name();
        let fallback = format!("The `{nsid}` {}.", method.to_ascii_lowercase());
        self.item_doc("", description, &fallback, nsid);
        self.request_struct(&name, params, &input);
        self.request_methods(&name, params, &input);
        let params = params.unwrap_or_default();

        let _ = writeln!(self.out, "impl _rt::XrpcRequest for {name} {{");
        let _ = writeln!(self.out, "    const NSID: &'static str = \"{nsid}\";");
        let _ = writeln!(
            self.out,
            "    const METHOD: _rt::XrpcMethod = _rt::XrpcMethod::{method};"
        );
        let _ = writeln!(
            self.out,
            "    type Output = {OUTPUT};\n    type Error = {ERROR};"
        );
        self.write_params_fn(params);
        let encode = match input {
            InputKind::None => "Ok(None)",
            InputKind::Object(_) | InputKind::Json => "_rt::Body::from_json(&self.input).map(Some)",
            InputKind::Binary => "Ok(Some(self.input.clone()))",
        };
        let _ = writeln!(
            self.out,
            "    #[inline]\n    fn encode_input(&self) -> Result<Option<_rt::Body>, _rt::BodyError> {{\n        {encode}\n    }}"
        );
        let (arg, decode) = match output {
            OutputKind::None => ("_body", "Ok(())"),
            OutputKind::Json => ("body", "_rt::json_output(&body)"),
            OutputKind::Binary => ("body", "Ok(body)"),
        };
        let _ = writeln!(
            self.out,
            "    #[inline]\n    fn decode_output({arg}: _rt::Body) -> Result<{OUTPUT}, _rt::BodyError> {{\n        {decode}\n    }}\n}}\n"
        );
    }

    /// The request struct: `params` and `input` fields, when the method has them.
    fn request_struct(&mut self, name: &str, params: Option<&[Field]>, input: &InputKind) {
        let has_params = params.is_some();
        let params_default = params.unwrap_or_default().iter().all(|f| !f.required);
        let input_default = match input {
            InputKind::None => true,
            InputKind::Object(fields) => fields.iter().all(|f| !f.required),
            InputKind::Json | InputKind::Binary => false,
        };
        let derives = if params_default && input_default {
            "Debug, Clone, PartialEq, Default"
        } else {
            "Debug, Clone, PartialEq"
        };
        let _ = writeln!(self.out, "#[derive({derives})]\npub struct {name} {{");
        if has_params {
            let _ = writeln!(
                self.out,
                "    /// The query-string parameters.\n    pub params: {PARAMS},"
            );
        }
        if !matches!(input, InputKind::None) {
            let _ = writeln!(
                self.out,
                "    /// The request body.\n    pub input: {INPUT},"
            );
        }
        let _ = writeln!(self.out, "}}\n");
    }

    /// `new(required params…, required input fields…)` and setters for the optional ones.
    fn request_methods(&mut self, name: &str, params: Option<&[Field]>, input: &InputKind) {
        let has_params = params.is_some();
        let params = params.unwrap_or_default();
        let mut args = Scope::new();
        let mut list: Vec<String> = Vec::new();
        let mut param_inits: Vec<String> = Vec::new();
        for f in self.required_order(params) {
            let arg = args.claim(&f.ident);
            list.push(format!("{arg}: {}", f.argument()));
            param_inits.push(format!("{}: {arg}.into()", f.ident));
        }
        for f in params.iter().filter(|f| !f.required) {
            param_inits.push(format!("{}: None", f.ident));
        }
        let input_init = match input {
            InputKind::None => None,
            InputKind::Object(fields) => {
                let mut call = Vec::new();
                for f in self.required_order(fields) {
                    let arg = args.claim(&f.ident);
                    list.push(format!("{arg}: {}", f.argument()));
                    call.push(arg);
                }
                Some(format!("{INPUT}::new({})", call.join(", ")))
            }
            InputKind::Json => {
                let arg = args.claim("input");
                list.push(format!("{arg}: impl Into<{INPUT}>"));
                Some(format!("{arg}.into()"))
            }
            InputKind::Binary => {
                let arg = args.claim("input");
                list.push(format!("{arg}: _rt::Binary"));
                Some(arg)
            }
        };
        let _ = writeln!(self.out, "impl {name} {{");
        let about = if list.is_empty() {
            "A request with every parameter unset."
        } else {
            "A request from its required parameters and input; the optional ones start unset."
        };
        let _ = writeln!(self.out, "    /// {about}");
        if list.len() > 7 {
            let _ = writeln!(self.out, "    #[allow(clippy::too_many_arguments)]");
        }
        if list.is_empty() {
            let _ = writeln!(self.out, "    #[inline]");
        }
        let _ = writeln!(
            self.out,
            "    pub fn new({}) -> Self {{\n        Self {{",
            list.join(", ")
        );
        if has_params {
            let _ = writeln!(
                self.out,
                "            params: {PARAMS} {{ {} }},",
                param_inits.join(", ")
            );
        }
        if let Some(init) = input_init {
            if init == "input" {
                let _ = writeln!(self.out, "            input,");
            } else {
                let _ = writeln!(self.out, "            input: {init},");
            }
        }
        let _ = writeln!(self.out, "        }}\n    }}");
        let mut setters = Scope::with(&["new"]);
        for f in params.iter().filter(|f| !f.required) {
            let setter = setters.claim(&f.ident);
            self.setter(&setter, f, &format!("self.params.{}", f.ident));
        }
        if let InputKind::Object(fields) = input {
            for f in fields.iter().filter(|f| !f.required) {
                let setter = setters.claim(&f.ident);
                self.setter(&setter, f, &format!("self.input.{}", f.ident));
            }
        }
        let _ = writeln!(self.out, "}}\n");
    }

    fn write_params_fn(&mut self, params: &[Field]) {
        if params.is_empty() {
            let _ = writeln!(
                self.out,
                "    #[inline]\n    fn write_params(&self, _params: &mut _rt::QueryParams) {{}}"
            );
            return;
        }
        let _ = writeln!(
            self.out,
            "    #[inline]\n    fn write_params(&self, params: &mut _rt::QueryParams) {{"
        );
        for f in params {
            let _ = writeln!(
                self.out,
                "        params.push({:?}, &self.params.{});",
                f.key, f.ident
            );
        }
        let _ = writeln!(self.out, "    }}");
    }
}

/// The Rust type of a query parameter (booleans, integers, strings and arrays of them), or
/// `None` for a type a query string cannot hold.
fn param_type(field: &FieldType) -> Option<String> {
    match field {
        FieldType::Boolean(_) => Some("bool".to_owned()),
        FieldType::Integer(_) => Some("i64".to_owned()),
        FieldType::String(s) => Some(string_type(s.format).to_owned()),
        FieldType::Array(a) => match &*a.items {
            FieldType::Array(_) => None,
            items => param_type(items).map(|t| format!("Vec<{t}>")),
        },
        _ => None,
    }
}
