//! The plan: every name and decision that crosses lexicon documents, made once before any code
//! is written, so that each document's module can be emitted on its own.
//!
//! - a Rust module path for every document (`app.bsky.feed.getTimeline` →
//!   `app::bsky::feed::get_timeline`);
//! - the Rust name of every definition (`#replyRef` → `ReplyRef`, a record's `main` → `Record`);
//! - which documents are generated, and the feature group of each;
//! - which struct fields must be boxed to break recursion;
//! - which array definitions must be structs rather than `Vec` aliases, because their items
//!   lead back to them (`type Main = Vec<Main>` does not compile).

use std::collections::{BTreeMap, BTreeSet};

use atdata_lexicon::schema::{Array, BodySchema, FieldType, Object, UserType};
use atdata_lexicon::{Catalog, DefRef, LexiconDoc};

use crate::names::{camel, ident, screaming, snake, Scope, PRELUDE_TYPES};

/// Where a referenced document outside the generated set lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// NSID prefix, e.g. `com.atproto`.
    pub prefix: String,
    /// The Rust path of the module tree holding it, e.g. `::atdata_api`.
    pub root: String,
    /// The cargo feature of the crate that holds it, e.g. `com-atproto` (crate mode adds it to
    /// the dependency's features).
    pub feature: Option<String>,
}

/// A feature group: the generated documents under one NSID prefix.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) prefix: String,
    pub(crate) feature: String,
    /// Features of other groups whose types this one uses.
    pub(crate) deps: BTreeSet<String>,
}

/// What the module of one document holds at the top, by name.
#[derive(Debug, Clone)]
pub(crate) struct DocInfo {
    /// The Rust module path from the generated root.
    pub(crate) module: Vec<String>,
    /// The Rust type name of each definition that is a type (by definition name).
    pub(crate) types: BTreeMap<String, String>,
    /// The constant name of each token (by definition name).
    pub(crate) consts: BTreeMap<String, String>,
    /// Type names taken so far (definitions and method parts); derived types claim from here.
    pub(crate) type_scope: Scope,
    /// Constant names taken so far.
    pub(crate) value_scope: Scope,
    /// The type to re-export at the parent module, and the name it gets there.
    pub(crate) reexport: Option<(String, String)>,
    /// The group (index into [`Plan::groups`]) when the document is generated.
    pub(crate) group: Option<usize>,
}

/// Fixed names in the module of a query, procedure or subscription.
pub(crate) const PARAMS: &str = "Params";
pub(crate) const INPUT: &str = "Input";
pub(crate) const OUTPUT: &str = "Output";
pub(crate) const ERROR: &str = "Error";
pub(crate) const MESSAGE: &str = "Message";

/// Every cross-document decision.
pub(crate) struct Plan<'c> {
    pub(crate) catalog: &'c Catalog,
    pub(crate) docs: BTreeMap<String, DocInfo>,
    pub(crate) groups: Vec<Group>,
    pub(crate) externals: Vec<External>,
    /// External features the generated code uses.
    pub(crate) external_features: BTreeSet<String>,
    /// Struct-to-struct edges (`nsid#def` keys) that need a `Box`.
    pub(crate) boxed: BTreeSet<(String, String)>,
    /// Array definitions (`nsid#def` keys) generated as a struct wrapping the `Vec`: their
    /// items lead back to them through other array definitions, and a type alias cannot
    /// refer to itself.
    pub(crate) wrapped: BTreeSet<String>,
}

impl<'c> Plan<'c> {
    /// Plans the documents of `catalog` under `prefixes` (all documents, grouped by their first two
    /// NSID segments, when empty).
    pub(crate) fn new(catalog: &'c Catalog, prefixes: &[String], externals: &[External]) -> Self {
        let mut group_prefixes: Vec<String> = if prefixes.is_empty() {
            catalog
                .docs()
                .map(|d| {
                    d.id.as_str()
                        .split('.')
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(".")
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        } else {
            prefixes.to_vec()
        };
        group_prefixes.sort();
        group_prefixes.dedup();
        let groups: Vec<Group> = group_prefixes
            .iter()
            .map(|p| Group {
                prefix: p.clone(),
                feature: p.replace('.', "-").to_ascii_lowercase(),
                deps: BTreeSet::new(),
            })
            .collect();

        let modules = module_paths(catalog);
        let mut docs = BTreeMap::new();
        for doc in catalog.docs() {
            let nsid = doc.id.as_str();
            let group = longest_prefix(&group_prefixes, nsid);
            let module = modules.get(nsid).cloned().unwrap_or_default();
            docs.insert(nsid.to_owned(), name_defs(doc, module, group));
        }
        assign_reexports(&mut docs);

        let mut plan = Plan {
            catalog,
            docs,
            groups,
            externals: externals.to_vec(),
            external_features: BTreeSet::new(),
            boxed: BTreeSet::new(),
            wrapped: BTreeSet::new(),
        };
        plan.boxed = plan.boxed_edges();
        plan.wrapped = plan.array_cycles();
        let (deps, external_features) = plan.group_deps();
        for (group, deps) in plan.groups.iter_mut().zip(deps) {
            group.deps = deps;
        }
        plan.external_features = external_features;
        plan
    }

    /// The documents to generate, in NSID order.
    pub(crate) fn generated(&self) -> impl Iterator<Item = (&LexiconDoc, &DocInfo)> {
        self.catalog.docs().filter_map(|doc| {
            let info = self.docs.get(doc.id.as_str())?;
            info.group.map(|_| (doc, info))
        })
    }

    /// The external root for a document outside the generated set, if one is configured.
    pub(crate) fn external_for(&self, nsid: &str) -> Option<&External> {
        self.externals
            .iter()
            .filter(|e| nsid == e.prefix || nsid.starts_with(&format!("{}.", e.prefix)))
            .max_by_key(|e| e.prefix.len())
    }

    /// For each group, the features of the other groups whose types it uses; and the external
    /// features used at all.
    fn group_deps(&self) -> (Vec<BTreeSet<String>>, BTreeSet<String>) {
        let mut deps = vec![BTreeSet::new(); self.groups.len()];
        let mut external = BTreeSet::new();
        for (doc, info) in self.generated() {
            let Some(from) = info.group else { continue };
            for def in doc.defs.values() {
                for_each_ref(def, &mut |target| {
                    let Ok(r) = DefRef::parse(target, &doc.id) else {
                        return;
                    };
                    let nsid = r.nsid().as_str();
                    match self.docs.get(nsid).and_then(|i| i.group) {
                        Some(to) if to != from => {
                            deps[from].insert(self.groups[to].feature.clone());
                        }
                        Some(_) => {}
                        None => {
                            if let Some(feature) =
                                self.external_for(nsid).and_then(|e| e.feature.clone())
                            {
                                external.insert(feature);
                            }
                        }
                    }
                });
            }
        }
        (deps, external)
    }

    /// Edges between structs that lie on a cycle of by-value fields: those need a `Box`.
    fn boxed_edges(&self) -> BTreeSet<(String, String)> {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (doc, _) in self.generated() {
            for (name, def) in &doc.defs {
                let key = node_key(doc.id.as_str(), name);
                match def {
                    UserType::Object(object) => self.object_edges(doc, &key, object, &mut edges),
                    UserType::Record(record) => {
                        self.object_edges(doc, &key, &record.record.0, &mut edges)
                    }
                    _ => {}
                }
            }
        }
        let components = strongly_connected(&edges);
        let mut boxed = BTreeSet::new();
        for (from, tos) in &edges {
            for to in tos {
                if components.get(from) == components.get(to) {
                    boxed.insert((from.clone(), to.clone()));
                }
            }
        }
        boxed
    }

    /// The generated array definitions that lie on a cycle of array definitions.
    ///
    /// An array's items name at most one array definition (a `ref` to it, maybe under inline
    /// arrays), so following items from a definition is a single path: the definition is on a
    /// cycle exactly when the path comes back to it. Every definition on the cycle is wrapped,
    /// which keeps the choice independent of where the walk starts.
    fn array_cycles(&self) -> BTreeSet<String> {
        let mut wrapped = BTreeSet::new();
        for (doc, _) in self.generated() {
            for (name, def) in &doc.defs {
                let UserType::Array(array) = def else {
                    continue;
                };
                let start = node_key(doc.id.as_str(), name);
                let mut seen = BTreeSet::new();
                let mut next = items_array(self.catalog, doc, array);
                while let Some((target, array)) = next {
                    let key = node_key(target.nsid().as_str(), target.name());
                    if key == start {
                        wrapped.insert(start);
                        break;
                    }
                    // A cycle that does not pass through `start`: its own members are found
                    // when the walk starts from them.
                    if !seen.insert(key) {
                        break;
                    }
                    let Some(doc) = self.catalog.doc(target.nsid().as_str()) else {
                        break;
                    };
                    next = items_array(self.catalog, doc, array);
                }
            }
        }
        wrapped
    }

    fn object_edges(
        &self,
        doc: &LexiconDoc,
        key: &str,
        object: &Object,
        edges: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        edges.entry(key.to_owned()).or_default();
        for (prop, field) in &object.properties {
            self.field_edges(doc, key, prop, field, true, edges);
        }
    }

    fn field_edges(
        &self,
        doc: &LexiconDoc,
        key: &str,
        prop: &str,
        field: &FieldType,
        by_value: bool,
        edges: &mut BTreeMap<String, BTreeSet<String>>,
    ) {
        match field {
            FieldType::Ref(r) if by_value => {
                if let Some((target, UserType::Object(_) | UserType::Record(_))) =
                    self.catalog.resolve(&r.target, &doc.id)
                {
                    let to = node_key(target.nsid().as_str(), target.name());
                    edges.entry(key.to_owned()).or_default().insert(to);
                }
            }
            FieldType::Object(inner) => {
                let inner_key = inline_key(key, prop);
                if by_value {
                    edges
                        .entry(key.to_owned())
                        .or_default()
                        .insert(inner_key.clone());
                }
                self.object_edges(doc, &inner_key, inner, edges);
            }
            FieldType::Array(array) => self.field_edges(doc, key, prop, &array.items, false, edges),
            _ => {}
        }
    }

    /// The feature of group `index`.
    pub(crate) fn feature(&self, index: usize) -> &str {
        &self.groups[index].feature
    }
}

/// The array definition that the items of `array` (in `doc`) stand for, under any inline
/// arrays: `B` for items `ref B` or `array of ref B`, when `B` is an array definition.
fn items_array<'c>(
    catalog: &'c Catalog,
    doc: &LexiconDoc,
    array: &'c Array,
) -> Option<(DefRef, &'c Array)> {
    let mut items: &FieldType = &array.items;
    while let FieldType::Array(inner) = items {
        items = &inner.items;
    }
    let FieldType::Ref(r) = items else {
        return None;
    };
    match catalog.resolve(&r.target, &doc.id) {
        Some((target, UserType::Array(array))) => Some((target, array)),
        _ => None,
    }
}

/// The cycle-graph key of a definition.
pub(crate) fn node_key(nsid: &str, name: &str) -> String {
    format!("{nsid}#{name}")
}

/// The cycle-graph key of an inline object in property `prop` of `parent`.
pub(crate) fn inline_key(parent: &str, prop: &str) -> String {
    format!("{parent}/{prop}")
}

fn longest_prefix(prefixes: &[String], nsid: &str) -> Option<usize> {
    prefixes
        .iter()
        .enumerate()
        .filter(|(_, p)| nsid == p.as_str() || nsid.starts_with(&format!("{p}.")))
        .max_by_key(|(_, p)| p.len())
        .map(|(i, _)| i)
}

/// Module paths for every document: each NSID segment becomes a snake_case module name, unique
/// among its siblings (claimed in segment order).
fn module_paths(catalog: &Catalog) -> BTreeMap<String, Vec<String>> {
    #[derive(Default)]
    struct Node {
        children: BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    for doc in catalog.docs() {
        let mut node = &mut root;
        for seg in doc.id.as_str().split('.') {
            node = node.children.entry(seg.to_owned()).or_default();
        }
    }
    fn assign(
        node: &Node,
        prefix_nsid: &[String],
        prefix_mod: &[String],
        out: &mut BTreeMap<String, Vec<String>>,
    ) {
        let mut scope = Scope::with(&["ids"]);
        for (seg, child) in &node.children {
            let name = scope.claim(&ident(&snake(seg)));
            let mut nsid = prefix_nsid.to_vec();
            nsid.push(seg.clone());
            let mut module = prefix_mod.to_vec();
            module.push(name);
            out.insert(nsid.join("."), module.clone());
            assign(child, &nsid, &module, out);
        }
    }
    let mut out = BTreeMap::new();
    assign(&root, &[], &[], &mut out);
    out
}

/// The last NSID segment in UpperCamelCase: what a document's main type is called at its parent.
pub(crate) fn doc_name(nsid: &str) -> String {
    camel(nsid.rsplit('.').next().unwrap_or(nsid))
}

/// The type name of definition `name`: UpperCamelCase, with `Def` after names generated code
/// takes from the prelude (`#string` → `StringDef`).
fn def_type_name(name: &str) -> String {
    let base = camel(name);
    if PRELUDE_TYPES.contains(&base.as_str()) {
        format!("{base}Def")
    } else {
        base
    }
}

/// Claims the names of one document's definitions, in a fixed order: the names a primary type
/// fixes first (`Record`, `Params`, …), then each other definition in name order.
fn name_defs(doc: &LexiconDoc, module: Vec<String>, group: Option<usize>) -> DocInfo {
    let mut type_scope = Scope::with(PRELUDE_TYPES);
    let mut value_scope = Scope::with(&["NSID"]);
    let mut types = BTreeMap::new();
    let mut consts = BTreeMap::new();
    let mut reexport = None;
    let nsid = doc.id.as_str();
    if let Some(main) = doc.defs.get("main") {
        match main {
            UserType::Record(_) => {
                let name = type_scope.claim("Record");
                reexport = Some((name.clone(), doc_name(nsid)));
                types.insert("main".to_owned(), name);
            }
            UserType::Query(q) => {
                if q.parameters.is_some() {
                    type_scope.claim(PARAMS);
                }
                type_scope.claim(OUTPUT);
                type_scope.claim(ERROR);
                let name = type_scope.claim(&doc_name(nsid));
                reexport = Some((name.clone(), doc_name(nsid)));
                types.insert("main".to_owned(), name);
            }
            UserType::Procedure(p) => {
                if p.parameters.is_some() {
                    type_scope.claim(PARAMS);
                }
                if p.input.is_some() {
                    type_scope.claim(INPUT);
                }
                type_scope.claim(OUTPUT);
                type_scope.claim(ERROR);
                let name = type_scope.claim(&doc_name(nsid));
                reexport = Some((name.clone(), doc_name(nsid)));
                types.insert("main".to_owned(), name);
            }
            UserType::Subscription(s) => {
                if s.parameters.is_some() {
                    type_scope.claim(PARAMS);
                }
                type_scope.claim(MESSAGE);
                type_scope.claim(ERROR);
                let name = type_scope.claim(&doc_name(nsid));
                reexport = Some((name.clone(), doc_name(nsid)));
                types.insert("main".to_owned(), name);
            }
            UserType::Token(_) => {
                consts.insert("main".to_owned(), value_scope.claim("MAIN"));
            }
            UserType::PermissionSet(_) => {
                value_scope.claim("SCOPE");
            }
            UserType::Object(_) => {
                let name = type_scope.claim("Main");
                reexport = Some((name.clone(), doc_name(nsid)));
                types.insert("main".to_owned(), name);
            }
            _ => {
                types.insert("main".to_owned(), type_scope.claim("Main"));
            }
        }
    }
    for (name, def) in &doc.defs {
        if name == "main" {
            continue;
        }
        match def {
            UserType::Token(_) => {
                consts.insert(name.clone(), value_scope.claim(&screaming(name)));
            }
            // Primary types appear only as `main` (the document check enforces it).
            UserType::Record(_)
            | UserType::Query(_)
            | UserType::Procedure(_)
            | UserType::Subscription(_)
            | UserType::PermissionSet(_) => {}
            _ => {
                types.insert(name.clone(), type_scope.claim(&def_type_name(name)));
            }
        }
    }
    DocInfo {
        module,
        types,
        consts,
        type_scope,
        value_scope,
        reexport,
        group,
    }
}

/// Keeps a document's re-export at its parent module only when the name is free there (the
/// parent may itself be a document with its own types, or two siblings may share a name).
fn assign_reexports(docs: &mut BTreeMap<String, DocInfo>) {
    let mut taken: BTreeMap<Vec<String>, Scope> = BTreeMap::new();
    for info in docs.values() {
        let scope = taken.entry(info.module.clone()).or_default();
        for name in info.types.values() {
            scope.claim(name);
        }
    }
    for info in docs.values_mut() {
        let Some((local, alias)) = info.reexport.clone() else {
            continue;
        };
        let parent = info.module[..info.module.len().saturating_sub(1)].to_vec();
        let scope = taken
            .entry(parent)
            .or_insert_with(|| Scope::with(PRELUDE_TYPES));
        if scope.contains(&alias) || PRELUDE_TYPES.contains(&alias.as_str()) {
            info.reexport = None;
        } else {
            scope.claim(&alias);
            info.reexport = Some((local, alias));
        }
    }
}

/// Calls `f` with every reference (ref targets, union members) inside `def`.
pub(crate) fn for_each_ref(def: &UserType, f: &mut dyn FnMut(&str)) {
    fn field(ft: &FieldType, f: &mut dyn FnMut(&str)) {
        match ft {
            FieldType::Ref(r) => f(&r.target),
            FieldType::Union(u) => u.refs.iter().for_each(|r| f(r)),
            FieldType::Array(a) => field(&a.items, f),
            FieldType::Object(o) => object(o, f),
            _ => {}
        }
    }
    fn object(o: &Object, f: &mut dyn FnMut(&str)) {
        o.properties.values().for_each(|ft| field(ft, f));
    }
    fn body(schema: Option<&BodySchema>, f: &mut dyn FnMut(&str)) {
        match schema {
            Some(BodySchema::Object(o)) => object(o, f),
            Some(BodySchema::Ref(r)) => f(&r.target),
            Some(BodySchema::Union(u)) => u.refs.iter().for_each(|r| f(r)),
            None => {}
        }
    }
    match def {
        UserType::Record(r) => object(&r.record.0, f),
        UserType::Object(o) => object(o, f),
        UserType::Array(a) => field(&a.items, f),
        UserType::Query(q) => {
            if let Some(p) = &q.parameters {
                p.properties.values().for_each(|ft| field(ft, f));
            }
            body(q.output.as_ref().and_then(|b| b.schema.as_ref()), f);
        }
        UserType::Procedure(p) => {
            if let Some(params) = &p.parameters {
                params.properties.values().for_each(|ft| field(ft, f));
            }
            body(p.input.as_ref().and_then(|b| b.schema.as_ref()), f);
            body(p.output.as_ref().and_then(|b| b.schema.as_ref()), f);
        }
        UserType::Subscription(s) => {
            if let Some(p) = &s.parameters {
                p.properties.values().for_each(|ft| field(ft, f));
            }
            body(s.message.as_ref().map(|m| &m.schema), f);
        }
        _ => {}
    }
}

/// Tarjan's algorithm: the component index of every node.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        component: BTreeMap<String, usize>,
        components: usize,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.edges.get(v) {
            for w in targets {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low.get(w).copied().unwrap_or(usize::MAX);
                    if let Some(lv) = s.low.get_mut(v) {
                        *lv = (*lv).min(lw);
                    }
                } else if s.on_stack.contains(w) {
                    let iw = s.index.get(w).copied().unwrap_or(usize::MAX);
                    if let Some(lv) = s.low.get_mut(v) {
                        *lv = (*lv).min(iw);
                    }
                }
            }
        }
        if s.low.get(v) == s.index.get(v) {
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                s.component.insert(w.to_owned(), s.components);
                if w == v {
                    break;
                }
            }
            s.components += 1;
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        component: BTreeMap::new(),
        components: 0,
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.component
}
