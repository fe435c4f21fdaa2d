//! Hazards: [`DefMap`] + [`CallGraph`] + entry points -> what breaks or
//! behaves differently when the monolith runs as functions on AWS Lambda.
//!
//! Each hazard is a lint in its own file under `hazards/` (`hazards/<code>.rs`,
//! with a doc block saying what it does, why it matters on Lambda, an example
//! and what to write instead), registered once in [`LINTS`]. A lint reads the
//! lowered syntax of the workspace through a `Ctx`, which expands paths
//! through the `use` items of their module (`use std::fs; fs::write(..)` is
//! `std::fs::write`) and knows every `static`. A lint never runs code and
//! never guesses a value it cannot read: a size it cannot evaluate is
//! reported as written.
//!
//! [`check`] turns findings into [`Hazard`]s: the canonical item they are in
//! or are, and the entry points whose call-graph closure reaches them (a fn
//! by reachability; a static or a type by the reachable fns that name it).
//! A hazard no entry point reaches is still reported, with no entry points.
//! Lines: a finding about a fn's signature (a parameter, the return type) is
//! at the fn's line, one about a struct's fields at the struct's line (the
//! lowered tree keeps no field lines). Output is sorted by (file, line, code),
//! one hazard per (file, line, code).

mod background_task;
mod connection_pool;
mod global_mutable_state;
mod in_process_state;
mod large_payload;
mod local_filesystem;
mod long_lived_connection;
mod long_running;
mod process_lifecycle;
mod reach;
mod startup_work;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::Serialize;

use self::reach::{Reach, called_at_startup};
use crate::callgraph::CallGraph;
use crate::diagnostic::Severity;
use crate::entrypoints::EntryPoint;
use crate::hash::FastHash;
use crate::resolve::{Def, DefMap, FnData, FnId, ModId, StaticId, TypeId, TypeKind};
use crate::syntax::{Block, Expr, Item, ItemKind, Lit, Pat, Path, Stmt, Ty, UseKind, WrapKind};

/// One hazard lint: a stable code, its severity, a one-line summary, the
/// default advice, and the check that finds it.
#[derive(Debug)]
pub struct Lint {
    /// Stable, kebab-case: `global-mutable-state`.
    pub code: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// What to do about it, unless a finding gives more specific advice.
    pub advice: &'static str,
    pub(crate) check: fn(&Ctx<'_>, &mut Vec<Finding>),
}

/// Every hazard lint, each once.
pub static LINTS: &[&Lint] = &[
    &background_task::LINT,
    &connection_pool::LINT,
    &global_mutable_state::LINT,
    &in_process_state::LINT,
    &large_payload::LINT,
    &local_filesystem::LINT,
    &long_lived_connection::LINT,
    &long_running::LINT,
    &process_lifecycle::LINT,
    &startup_work::LINT,
];

/// Something that breaks or changes on Lambda, at a place in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hazard {
    pub code: &'static str,
    pub severity: Severity,
    /// Relative to the analysed root, `/`-separated.
    pub file: String,
    pub line: u32,
    /// Canonical path of the fn, static or type the hazard is in or is.
    pub item: String,
    pub message: String,
    pub advice: String,
    /// Routes (`EntryPoint::route()`) that reach it, sorted.
    pub entrypoints: Vec<String>,
    /// For a connection pool: where its size is set, or can be, in the
    /// source (what the plan's `pool_max` edits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolSize>,
}

/// Where a connection pool's size is written, or where one can be written,
/// for an edit that caps it (`[deploy] pool_max`). Lines are the source's;
/// the calls are named so the edit finds them on their line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PoolSize {
    /// `.max_connections(ARG)` (`method`) at `line`: ARG is capped.
    /// `value`: ARG's value when it is a constant.
    Cap {
        line: u32,
        method: String,
        value: Option<u64>,
    },
    /// No size written: `.{method}(N)` goes right after the call of the
    /// path ending in `ctor` (`PgPoolOptions::new()`, `Pool::builder()`)
    /// at `line`.
    Insert {
        line: u32,
        ctor: String,
        method: String,
    },
    /// `PgPool::connect(url)`: the call's path, ending in `owner::call`
    /// at `line`, becomes `{options}::new().max_connections(N).{call}`.
    Options {
        line: u32,
        owner: String,
        call: String,
        options: String,
    },
}

/// Runs every lint. Sorted by (file, line, code).
pub fn check(defs: &DefMap<'_>, graph: &CallGraph, entrypoints: &[EntryPoint]) -> Vec<Hazard> {
    let reach = crate::entrypoints::reach_all(defs, graph, entrypoints);
    Scan::new(defs).finish(graph, entrypoints, &reach).0
}

/// What the lints found, before each finding is tied to the entry points
/// that reach it: the part of [`check`] that needs neither the call graph
/// nor the entry points, so it can run while those are built.
#[derive(Debug)]
pub struct Scan<'a> {
    ctx: Ctx<'a>,
    /// Per lint of [`LINTS`], in order: its findings.
    found: Vec<Vec<Finding>>,
    /// The environment variables read (`config`), tied to routes by `finish`.
    config: crate::config::Found,
}

impl<'a> Scan<'a> {
    /// Runs every lint.
    pub fn new(defs: &'a DefMap<'a>) -> Self {
        let mut ctx = Ctx::new(defs);
        // The lints read and never write: they run on all cores, and their
        // findings are merged in registry order.
        let (found, config): (Vec<Vec<Finding>>, _) = rayon::join(
            || {
                LINTS
                    .par_iter()
                    .map(|lint| {
                        let mut findings = Vec::new();
                        (lint.check)(&ctx, &mut findings);
                        findings
                    })
                    .collect()
            },
            || crate::config::scan(&ctx),
        );
        // What only the lints walk goes now, before the rest of the analysis
        // allocates its results.
        ctx.paths = Vec::new();
        ctx.body_exprs = Vec::new();
        ctx.body_blocks = Vec::new();
        Scan { ctx, found, config }
    }

    /// The hazards, each with the entry points that reach it. Sorted by
    /// (file, line, code).
    ///
    /// Only findings in code the served app runs are kept: code a route or
    /// worker reaches, or the start-up of a binary that serves. Code only
    /// tests, tools or other binaries run is left out; the second value
    /// counts those findings. The third is the environment variables the
    /// served app reads (`config`), tied to routes the same way.
    pub fn finish(
        self,
        graph: &CallGraph,
        entrypoints: &[EntryPoint],
        reach: &[Vec<FnId>],
    ) -> (Vec<Hazard>, usize, Vec<crate::config::EnvVar>) {
        let Scan { ctx, found, config } = self;
        let reach = Reach::new(&ctx, graph, entrypoints, reach);
        let called = called_at_startup(&ctx, graph, &reach.startup);
        let variables = crate::config::tie(config, &|s: &Subject| {
            // Start-up refers to every handler it registers: what it runs
            // itself is what it calls.
            reach.in_scope(&ctx, s).then(|| {
                let routes = reach.routes(&ctx, s);
                let startup = routes.is_empty() || reach.touches(&ctx, &called, s);
                (routes, startup)
            })
        });
        let mut out: BTreeMap<(String, u32, &'static str), Hazard> = BTreeMap::new();
        let mut left_out = BTreeSet::new();
        for (lint, findings) in LINTS.iter().zip(found) {
            for f in findings {
                if !reach.in_scope(&ctx, &f.subject) || reach.in_cli_branch(&f.subject, f.line) {
                    left_out.insert((f.file.clone(), f.line, lint.code));
                    continue;
                }
                let routes = reach.routes(&ctx, &f.subject);
                // State only start-up code changes (a flag set from the
                // command line): every instance sets it the same way.
                if !f.writers.is_empty()
                    && f.writers
                        .iter()
                        .all(|w| reach.startup_only(&ctx, &Subject::Fn(*w)))
                {
                    left_out.insert((f.file.clone(), f.line, lint.code));
                    continue;
                }
                // Reached by no route or worker, only by start-up (when
                // entry points tell the two apart).
                let mut f = f;
                if reach.startup_only(&ctx, &f.subject) {
                    match std::mem::take(&mut f.at_startup) {
                        AtStartup::Keep => {}
                        AtStartup::Drop => {
                            left_out.insert((f.file.clone(), f.line, lint.code));
                            continue;
                        }
                        AtStartup::Reword(message, advice) => {
                            f.message = message;
                            f.advice = Some(advice);
                        }
                    }
                }
                let key = (f.file.clone(), f.line, lint.code);
                if let Some(h) = out.get_mut(&key) {
                    // The same file seen from two crates (a lib and a bin): one hazard.
                    h.entrypoints.extend(routes);
                    h.entrypoints.sort();
                    h.entrypoints.dedup();
                    continue;
                }
                out.insert(
                    key,
                    Hazard {
                        code: lint.code,
                        severity: f.severity.unwrap_or(lint.severity),
                        file: f.file,
                        line: f.line,
                        item: ctx.item_name(&f.subject),
                        message: f.message,
                        advice: f.advice.unwrap_or_else(|| lint.advice.to_owned()),
                        entrypoints: routes,
                        pool: f.pool,
                    },
                );
            }
        }
        let left_out = left_out.iter().filter(|k| !out.contains_key(*k)).count();
        (out.into_values().collect(), left_out, variables)
    }
}

/// What a finding is about: decides its `item` and the entry points that reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    Fn(FnId),
    Static(StaticId),
    Type(TypeId),
    /// A `static` declared inside a fn's body.
    LocalStatic(FnId, String),
}

/// A lint's raw result.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub file: String,
    pub line: u32,
    pub subject: Subject,
    pub message: String,
    /// More specific than the lint's advice.
    pub advice: Option<String>,
    /// Overrides the lint's severity.
    pub severity: Option<Severity>,
    /// What becomes of the finding when no route or worker reaches it,
    /// only the start-up of the serving binary.
    pub at_startup: AtStartup,
    /// For state: the fns that change it. When some are known and no route
    /// or worker reaches any of them, the state is set while the app starts
    /// and only read afterwards: left out.
    pub writers: Vec<FnId>,
    /// For a connection pool: where its size is set (see [`PoolSize`]).
    pub pool: Option<PoolSize>,
}

/// A finding only start-up code reaches.
#[derive(Debug, Clone, Default)]
pub(crate) enum AtStartup {
    /// Reported as it is.
    #[default]
    Keep,
    /// Not a hazard at start-up (an exit there is a failed start): left out.
    Drop,
    /// Reported with this message and advice instead.
    Reword(String, String),
}

impl Finding {
    pub fn new(file: &str, line: u32, subject: Subject, message: String) -> Self {
        Finding {
            file: file.to_owned(),
            line,
            subject,
            message,
            advice: None,
            severity: None,
            at_startup: AtStartup::Keep,
            writers: Vec::new(),
            pool: None,
        }
    }

    /// Where the pool this finding is about has its size set.
    pub fn pool(mut self, pool: Option<PoolSize>) -> Self {
        self.pool = pool;
        self
    }

    /// The fns that change the state the finding is about.
    pub fn writers(mut self, writers: Vec<FnId>) -> Self {
        self.writers = writers;
        self
    }

    /// What becomes of the finding when only start-up code reaches it.
    pub fn at_startup(mut self, what: AtStartup) -> Self {
        self.at_startup = what;
        self
    }

    pub fn advice(mut self, advice: impl Into<String>) -> Self {
        self.advice = Some(advice.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }
}

/// Where a path is written: a module, and the fn whose body it is in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    pub module: ModId,
    pub fn_: Option<FnId>,
}

/// A `static` or `const` of the workspace (module level, inside a macro
/// call such as `thread_local!`/`lazy_static!`, or inside a fn body).
#[derive(Debug)]
pub(crate) struct StaticSite<'a> {
    pub item: &'a Item,
    pub ty: &'a Ty,
    pub init: &'a Expr,
    pub mutable: bool,
    pub is_const: bool,
    pub thread_local: bool,
    pub scope: Scope,
    pub file: &'a str,
    pub subject: Subject,
}

/// What the lints read: the [`DefMap`], every module's imports, every static.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub defs: &'a DefMap<'a>,
    /// Per module: each name a `use` item brings in -> the path it imports.
    imports: Vec<Imports>,
    /// Per fn: the `use` items written inside its body.
    local_imports: BTreeMap<FnId, Imports>,
    pub statics: Vec<StaticSite<'a>>,
    /// Index into `statics` of the first site of each module-level static
    /// and of each fn-local one (by fn and name).
    static_sites: BTreeMap<StaticId, usize>,
    local_static_sites: BTreeMap<(FnId, String), usize>,
    /// Every module's own items.
    pub modules: Vec<(ModId, &'a [Item])>,
    /// Per fn: the paths of its body's calls and of its signature's types
    /// (by the path's address, sorted), each with [`Ctx::expand`] of it in
    /// the fn's scope. Every lint asks about the calls it walks past and the
    /// parameters it reads; expanding each path once, on all cores, instead
    /// of once per lint was most of their time.
    paths: Vec<Vec<(usize, Option<Names>)>>,
    /// Per fn: every expression of its body in [`Expr::walk`] order, and
    /// every block in [`blocks`] order. Each lint walks each body once or
    /// more; a list is walked faster than the tree, and built once.
    body_exprs: Vec<Box<[&'a Expr]>>,
    body_blocks: Vec<Box<[&'a Block]>>,
}

/// A call of a path outside the workspace: the path expanded, the
/// arguments, the line.
pub(crate) type ExtCall<'c, 'e> = (Cow<'c, [String]>, &'e [Expr], u32);

/// The names a `use` item brings in, each with the path it imports.
type Imports = BTreeMap<String, Vec<String>>;

/// An expanded path (`["std", "fs", "write"]`), shared: the same few
/// paths are called all over a workspace.
pub(crate) type Names = Arc<[String]>;

/// What one fn's body holds for [`Ctx`].
struct FnFacts<'a> {
    imports: Option<Imports>,
    statics: Vec<StaticSite<'a>>,
    paths: Vec<(usize, Option<Names>)>,
    exprs: Box<[&'a Expr]>,
    blocks: Box<[&'a Block]>,
}

impl<'a> Ctx<'a> {
    pub fn new(defs: &'a DefMap<'a>) -> Self {
        let mut index = BTreeMap::new();
        for (id, m) in defs.mods.iter().enumerate() {
            index.insert((m.krate, m.path), id);
        }
        let mut modules = Vec::new();
        for (ci, krate) in defs.project.crates.iter().enumerate() {
            for m in &krate.modules {
                if let Some(&mid) = index.get(&(ci, m.path.as_slice())) {
                    modules.push((mid, m.items.as_slice()));
                }
            }
        }
        let module_imports: Vec<Imports> = modules
            .par_iter()
            .map(|(_, items)| {
                let mut map = BTreeMap::new();
                for item in *items {
                    add_imports(item, &mut map);
                }
                map
            })
            .collect();
        let mut imports = vec![BTreeMap::new(); defs.mods.len()];
        for ((mid, items), map) in modules.iter().zip(module_imports) {
            imports[*mid].extend(map);
            if let Some(glob) = external_glob(defs, *mid, items) {
                imports[*mid].insert(GLOB.to_owned(), glob);
            }
        }
        // One pass over each body, on all cores: its `use` items, its
        // `static`s, and its calls resolved.
        let names: Mutex<HashSet<Names, FastHash>> = Mutex::new(HashSet::default());
        let facts: Vec<FnFacts<'a>> = defs
            .fns
            .par_iter()
            .enumerate()
            .map(|(f, data)| fn_facts(defs, &imports, &names, f, data))
            .collect();
        drop(names);
        let mut local_imports = BTreeMap::new();
        let mut local_statics = Vec::new();
        let mut paths = Vec::with_capacity(facts.len());
        let mut body_exprs = Vec::with_capacity(facts.len());
        let mut body_blocks = Vec::with_capacity(facts.len());
        for (f, facts) in facts.into_iter().enumerate() {
            if let Some(map) = facts.imports {
                local_imports.insert(f, map);
            }
            local_statics.extend(facts.statics);
            paths.push(facts.paths);
            body_exprs.push(facts.exprs);
            body_blocks.push(facts.blocks);
        }
        let mut ctx = Ctx {
            defs,
            imports,
            local_imports,
            statics: Vec::new(),
            static_sites: BTreeMap::new(),
            local_static_sites: BTreeMap::new(),
            modules,
            paths,
            body_exprs,
            body_blocks,
        };
        ctx.collect_statics(local_statics);
        ctx
    }

    /// Module-level statics first, then `local` (those of fn bodies, in fn order).
    fn collect_statics(&mut self, local: Vec<StaticSite<'a>>) {
        let defs = self.defs;
        let by_item: BTreeMap<usize, StaticId> = defs
            .statics
            .iter()
            .enumerate()
            .map(|(i, s)| (s.item as *const Item as usize, i))
            .collect();
        let mut out = Vec::new();
        for (mid, items) in &self.modules {
            let scope = Scope {
                module: *mid,
                fn_: None,
            };
            let file = defs.mods[*mid].file;
            for item in *items {
                module_statics(item, scope, file, false, &by_item, &mut out);
            }
        }
        out.extend(local);
        for (i, site) in out.iter().enumerate() {
            match &site.subject {
                Subject::Static(id) => {
                    self.static_sites.entry(*id).or_insert(i);
                }
                Subject::LocalStatic(f, name) => {
                    self.local_static_sites
                        .entry((*f, name.clone()))
                        .or_insert(i);
                }
                Subject::Fn(_) | Subject::Type(_) => {}
            }
        }
        self.statics = out;
    }

    /// Calls `visit` on every expression of `f`'s body, in [`Expr::walk`] order.
    pub fn walk_body(&self, f: FnId, mut visit: impl FnMut(&'a Expr)) {
        for e in self.body_exprs.get(f).into_iter().flatten() {
            visit(e);
        }
    }

    /// Every block of `f`'s body, as [`blocks`] gives them.
    pub fn body_blocks(&self, f: FnId) -> &[&'a Block] {
        self.body_blocks.get(f).map_or(&[], |b| b)
    }

    /// Fns with a body, in id order.
    pub fn bodies(&self) -> impl Iterator<Item = (FnId, &'a Block)> + 'a {
        self.defs
            .fns
            .iter()
            .enumerate()
            .filter_map(|(f, d)| d.def.body.as_ref().map(|b| (f, b)))
    }

    pub fn scope(&self, f: FnId) -> Scope {
        Scope {
            module: self.defs.fns[f].module,
            fn_: Some(f),
        }
    }

    /// The fn's name, for messages.
    pub fn fn_name(&self, f: FnId) -> &'a str {
        self.defs.fns[f].name
    }

    pub fn fn_file(&self, f: FnId) -> &'a str {
        self.defs.fns[f].file
    }

    /// `fn main`, or a fn under a `#[tokio::main]`-style attribute.
    pub fn is_main(&self, f: FnId) -> bool {
        let data = &self.defs.fns[f];
        data.name == "main" || data.item.attr("main").is_some()
    }

    /// The path as the code means it, when it names something outside the
    /// workspace (std or a dependency): `fs::write` after `use std::fs` is
    /// `["std", "fs", "write"]`. `None` when it names a workspace item.
    pub fn expand(&self, scope: Scope, path: &Path) -> Option<Cow<'_, [String]>> {
        // A path of a fn's own body or signature, in that fn's scope: expanded already.
        if let Some(f) = scope.fn_
            && self
                .defs
                .fns
                .get(f)
                .is_some_and(|d| d.module == scope.module)
            && let Some(paths) = self.paths.get(f)
            && let Ok(i) = paths.binary_search_by_key(&(path as *const Path as usize), |c| c.0)
        {
            return paths[i].1.as_deref().map(Cow::Borrowed);
        }
        let local = scope.fn_.and_then(|f| self.local_imports.get(&f));
        expand(self.defs, &self.imports, local, scope, path).map(Cow::Owned)
    }

    /// For `f(..)` where `f` is a path outside the workspace: its expanded
    /// names, arguments and line.
    pub fn ext_call<'e>(&self, scope: Scope, e: &'e Expr) -> Option<ExtCall<'_, 'e>> {
        let Expr::Call { func, args, line } = e else {
            return None;
        };
        let Expr::Path { path, .. } = func.peel() else {
            return None;
        };
        Some((self.expand(scope, path)?, args, *line))
    }

    /// The workspace type a type path names (`Self` included).
    pub fn workspace_type(&self, scope: Scope, path: &Path) -> Option<TypeId> {
        if path.is_ident("Self") {
            let f = scope.fn_?;
            let i = self.defs.fns[f].impl_?;
            return self.defs.impls[i].self_def;
        }
        self.defs.resolve_type_path(scope.module, path)
    }

    /// The workspace types a type mentions, its generic arguments included;
    /// `dyn Trait` stands for every workspace type implementing it.
    pub fn workspace_types(&self, scope: Scope, ty: &Ty) -> Vec<TypeId> {
        let mut out = Vec::new();
        self.workspace_types_into(scope, ty, &mut out);
        out.sort();
        out.dedup();
        out
    }

    fn workspace_types_into(&self, scope: Scope, ty: &Ty, out: &mut Vec<TypeId>) {
        match ty {
            Ty::Path(p) => {
                if let Some(t) = self.workspace_type(scope, p) {
                    out.push(t);
                }
                for seg in &p.segments {
                    for g in &seg.generics {
                        self.workspace_types_into(scope, g, out);
                    }
                }
            }
            Ty::Ref(inner) | Ty::Slice(inner) => self.workspace_types_into(scope, inner, out),
            Ty::Tuple(xs) => xs
                .iter()
                .for_each(|x| self.workspace_types_into(scope, x, out)),
            Ty::Dyn(bounds) | Ty::Impl(bounds) => {
                for b in bounds {
                    let Some(tr) = self.defs.resolve_trait_path(scope.module, b) else {
                        continue;
                    };
                    for i in self.defs.impls_of_trait(tr) {
                        out.extend(self.defs.impls[*i].self_def);
                    }
                }
            }
            Ty::Other => {}
        }
    }

    /// The interior-mutable parts of a type outside the workspace
    /// (`Mutex<..>`, `AtomicU64`, `DashMap<..>`, a broadcast `Sender`), as
    /// written. With `depth > 0`, also looks into the fields of the workspace
    /// types it holds.
    pub fn mutable_parts(&self, scope: Scope, ty: &Ty, depth: u32) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        self.mutable_parts_into(scope, ty, depth, &mut seen, &mut out);
        out
    }

    fn mutable_parts_into(
        &self,
        scope: Scope,
        ty: &Ty,
        depth: u32,
        seen: &mut BTreeSet<TypeId>,
        out: &mut Vec<String>,
    ) {
        match ty {
            Ty::Path(p) => {
                if let Some(t) = self.workspace_type(scope, p) {
                    if depth > 0 && seen.insert(t) {
                        let data = &self.defs.types[t];
                        let inner = Scope {
                            module: data.module,
                            fn_: None,
                        };
                        for (_, fty) in self.fields_of(t) {
                            self.mutable_parts_into(inner, fty, depth - 1, seen, out);
                        }
                    }
                } else if let Some(names) = self.expand(scope, p)
                    && let Some(kind) = interior_kind(&names)
                {
                    out.push(format!("{} ({kind})", ty_text(ty)));
                    return;
                }
                for seg in &p.segments {
                    for g in &seg.generics {
                        self.mutable_parts_into(scope, g, depth, seen, out);
                    }
                }
            }
            Ty::Ref(inner) | Ty::Slice(inner) => {
                self.mutable_parts_into(scope, inner, depth, seen, out)
            }
            Ty::Tuple(xs) => {
                for x in xs {
                    self.mutable_parts_into(scope, x, depth, seen, out);
                }
            }
            Ty::Dyn(_) | Ty::Impl(_) | Ty::Other => {}
        }
    }

    /// A type's fields: a struct's, every variant's of an enum, an alias's target.
    pub fn fields_of(&self, t: TypeId) -> Vec<(&'a str, &'a Ty)> {
        let data = &self.defs.types[t];
        let mut out: Vec<(&'a str, &'a Ty)> =
            data.fields.iter().map(|(n, ty)| (n.as_str(), ty)).collect();
        for fields in data.variant_fields {
            out.extend(fields.iter().map(|(n, ty)| (n.as_str(), ty)));
        }
        if data.kind == TypeKind::Alias
            && let Some(ty) = data.alias_of
        {
            out.push(("", ty));
        }
        out
    }

    /// The integer an expression evaluates to, where the code spells it out:
    /// literals, products of literals (`10 * 1024 * 1024`; the lowered tree
    /// keeps no operator, and sizes are written as products), consts, and
    /// Rocket's byte units (`10.mebibytes()`).
    pub fn eval_u64(&self, scope: Scope, e: &Expr) -> Option<u64> {
        self.eval_depth(scope, e, 0)
    }

    fn eval_depth(&self, scope: Scope, e: &Expr, depth: u32) -> Option<u64> {
        if depth > 8 {
            return None;
        }
        match e {
            Expr::Lit {
                lit: Lit::Int(n), ..
            } => Some(*n),
            Expr::Wrap {
                kind: WrapKind::Paren | WrapKind::Cast | WrapKind::Ref,
                inner,
            } => self.eval_depth(scope, inner, depth + 1),
            Expr::Other(xs) if xs.len() == 2 => {
                let a = self.eval_depth(scope, &xs[0], depth + 1)?;
                let b = self.eval_depth(scope, &xs[1], depth + 1)?;
                a.checked_mul(b)
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } if args.is_empty() => {
                let n = self.eval_depth(scope, receiver, depth + 1)?;
                let unit: u64 = match method.as_str() {
                    "bytes" => 1,
                    "kilobytes" => 1_000,
                    "kibibytes" => 1 << 10,
                    "megabytes" => 1_000_000,
                    "mebibytes" => 1 << 20,
                    "gigabytes" => 1_000_000_000,
                    "gibibytes" => 1 << 30,
                    _ => return None,
                };
                n.checked_mul(unit)
            }
            Expr::Path { path, .. } => {
                let s = self.const_named(scope, path)?;
                self.eval_depth(s.scope, s.init, depth + 1)
            }
            _ => None,
        }
    }

    /// The workspace `const`/`static` a path names.
    pub fn const_named(&self, scope: Scope, path: &Path) -> Option<&StaticSite<'a>> {
        if let Some(f) = scope.fn_
            && path.segments.len() == 1
            && let Some(name) = path.last()
            && let Some(&i) = self.local_static_sites.get(&(f, name.to_owned()))
        {
            return self.statics.get(i);
        }
        let names: Vec<&str> = path.names().collect();
        let id = self
            .defs
            .resolve_names(scope.module, &names, path.leading_colon)
            .into_iter()
            .find_map(|d| match d {
                Def::Static(s) => Some(s),
                _ => None,
            })?;
        self.static_sites
            .get(&id)
            .and_then(|&i| self.statics.get(i))
    }

    fn item_name(&self, subject: &Subject) -> String {
        match subject {
            Subject::Fn(f) => self.defs.fns[*f].id.clone(),
            Subject::Static(s) => self.defs.statics[*s].canonical.clone(),
            Subject::Type(t) => self.defs.types[*t].canonical.clone(),
            Subject::LocalStatic(f, name) => format!("{}::{name}", self.defs.fns[*f].id),
        }
    }
}

/// A fn's `use` items, `static`s and expanded paths (see [`Ctx::paths`]).
/// Its body is walked once, into the lists of [`Ctx::walk_body`] and
/// [`Ctx::body_blocks`].
fn fn_facts<'a>(
    defs: &'a DefMap<'a>,
    imports: &[Imports],
    names: &Mutex<HashSet<Names, FastHash>>,
    f: FnId,
    data: &'a FnData<'a>,
) -> FnFacts<'a> {
    let mut facts = FnFacts {
        imports: None,
        statics: Vec::new(),
        paths: Vec::new(),
        exprs: Box::default(),
        blocks: Box::default(),
    };
    let Some(body) = &data.def.body else {
        return facts;
    };
    let scope = Scope {
        module: data.module,
        fn_: Some(f),
    };
    let mut exprs = Vec::new();
    body.walk(&mut |e| exprs.push(e));
    // `body.blocks()`, from the list.
    let mut all = vec![body];
    all.extend(exprs.iter().filter_map(|e| match e {
        Expr::Block { block, .. } => Some(block),
        Expr::If { then, .. } => Some(then),
        Expr::Loop { body, .. } => Some(body),
        _ => None,
    }));
    let mut map = BTreeMap::new();
    for b in &all {
        for s in &b.stmts {
            if let Stmt::Item(item) = s {
                add_imports(item, &mut map);
            }
        }
    }
    for b in &all {
        for s in &b.stmts {
            let Stmt::Item(item) = s else { continue };
            facts.statics.extend(static_site(
                item,
                scope,
                data.file,
                false,
                Subject::LocalStatic(f, item.name.clone()),
            ));
        }
    }
    let local = (!map.is_empty()).then_some(&map);
    // The callees of calls, and the parameter and return types (and what
    // they refer to): the paths the lints expand.
    let mut paths: Vec<&Path> = Vec::new();
    for t in data.def.params.iter().map(|(_, t)| t).chain(&data.def.ret) {
        match t {
            Ty::Path(p) => paths.push(p),
            Ty::Ref(inner) => {
                if let Ty::Path(p) = &**inner {
                    paths.push(p);
                }
            }
            _ => {}
        }
    }
    for e in &exprs {
        if let Expr::Call { func, .. } = e
            && let Expr::Path { path, .. } = func.peel()
        {
            paths.push(path);
        }
    }
    for path in paths {
        let expanded = expand(defs, imports, local, scope, path).map(|n| {
            let mut shared = names.lock().unwrap_or_else(|p| p.into_inner());
            match shared.get(n.as_slice()) {
                Some(known) => known.clone(),
                None => {
                    let n: Names = n.into();
                    shared.insert(n.clone());
                    n
                }
            }
        });
        facts.paths.push((path as *const Path as usize, expanded));
    }
    facts.paths.sort_by_key(|c| c.0);
    facts.paths.dedup_by_key(|c| c.0);
    facts.paths.shrink_to_fit();
    facts.imports = (!map.is_empty()).then_some(map);
    facts.exprs = exprs.into_boxed_slice();
    facts.blocks = all.into_boxed_slice();
    facts
}

/// [`Ctx::expand`], with the imports of the module and of the fn (`local`).
fn expand(
    defs: &DefMap<'_>,
    imports: &[Imports],
    local: Option<&Imports>,
    scope: Scope,
    path: &Path,
) -> Option<Vec<String>> {
    let mut names: Vec<String> = path.names().map(str::to_owned).collect();
    let first = names.first()?;
    if matches!(first.as_str(), "Self" | "self" | "crate" | "super") {
        return None;
    }
    if let Some(f) = scope.fn_
        && !defs.resolve_fn_path(f, path).is_empty()
    {
        return None;
    }
    let resolved = defs.resolve_names(scope.module, &names, path.leading_colon);
    if resolved.iter().any(|d| *d != Def::External) {
        return None;
    }
    if path.leading_colon {
        return Some(names);
    }
    // A name nothing else brings in, under `use actix_web::web::*;`: that
    // crate's (`Payload` is `actix_web::web::Payload`).
    let module_imports = imports.get(scope.module);
    if resolved.is_empty()
        && !local.is_some_and(|m| m.contains_key(first))
        && !module_imports.is_some_and(|m| m.contains_key(first))
        && let Some(glob) = module_imports.and_then(|m| m.get(GLOB))
    {
        let mut full = glob.clone();
        full.append(&mut names);
        names = full;
    }
    for _ in 0..4 {
        let Some(first) = names.first() else { break };
        let target = local
            .and_then(|m| m.get(first))
            .or_else(|| imports.get(scope.module).and_then(|m| m.get(first)));
        match target {
            Some(full) if full.len() > 1 || full.first() != Some(first) => {
                let mut next = full.clone();
                next.extend(names.iter().skip(1).cloned());
                names = next;
            }
            _ => break,
        }
    }
    Some(names)
}

/// The key under which a module's [`Imports`] hold its glob import of a
/// crate outside the workspace (no name is `*`).
const GLOB: &str = "*";

/// The path of a module's only glob import of a crate outside the
/// workspace (`use actix_web::{web::*, HttpRequest}` gives `actix_web::web`);
/// `None` with none or with two (a name could come from either).
fn external_glob(defs: &DefMap<'_>, module: ModId, items: &[Item]) -> Option<Vec<String>> {
    let mut found = None;
    for item in items {
        let ItemKind::Use(entries) = &item.kind else {
            continue;
        };
        if item.cfg.iter().any(|c| c == "test") {
            continue;
        }
        for e in entries {
            if e.kind != UseKind::Glob || e.path.is_empty() {
                continue;
            }
            let defs = defs.resolve_names(module, &e.path, e.leading_colon);
            if defs.is_empty() || defs.iter().any(|d| *d != Def::External) {
                continue;
            }
            if found.is_some() {
                return None;
            }
            found = Some(e.path.clone());
        }
    }
    found
}

fn add_imports(item: &Item, map: &mut BTreeMap<String, Vec<String>>) {
    if item.cfg.iter().any(|c| c == "test") {
        return;
    }
    let ItemKind::Use(entries) = &item.kind else {
        return;
    };
    for e in entries {
        if let UseKind::Name { alias } = &e.kind
            && alias != "_"
            && !e.path.is_empty()
        {
            map.insert(alias.clone(), e.path.clone());
        }
    }
}

fn module_statics<'a>(
    item: &'a Item,
    scope: Scope,
    file: &'a str,
    thread_local: bool,
    by_item: &BTreeMap<usize, StaticId>,
    out: &mut Vec<StaticSite<'a>>,
) {
    if item.cfg.iter().any(|c| c == "test") {
        return;
    }
    match &item.kind {
        ItemKind::Static { .. } | ItemKind::Const { .. } => {
            let Some(&id) = by_item.get(&(item as *const Item as usize)) else {
                return;
            };
            out.extend(static_site(
                item,
                scope,
                file,
                thread_local,
                Subject::Static(id),
            ));
        }
        ItemKind::MacroCall { path, items, .. } => {
            // `thread_local! { static X: RefCell<..> = .. }`: one copy per thread.
            let tl = path.last() == Some("thread_local");
            for inner in items {
                module_statics(inner, scope, file, tl, by_item, out);
            }
        }
        _ => {}
    }
}

fn static_site<'a>(
    item: &'a Item,
    scope: Scope,
    file: &'a str,
    thread_local: bool,
    subject: Subject,
) -> Option<StaticSite<'a>> {
    let (ty, init, mutable, is_const) = match &item.kind {
        ItemKind::Static { ty, init, mutable } => (ty, init, *mutable, false),
        ItemKind::Const { ty, init } => (ty, init, false, true),
        _ => return None,
    };
    Some(StaticSite {
        item,
        ty,
        init,
        mutable,
        is_const,
        thread_local,
        scope,
        file,
        subject,
    })
}

/// The name a simple pattern binds (`x`, `mut x`, `&x`).
pub(crate) fn bound_name(p: &Pat) -> Option<&str> {
    match p {
        Pat::Ident(n) => Some(n),
        Pat::Ref(inner) => bound_name(inner),
        _ => None,
    }
}

/// The innermost receiver of a method chain: `A::new()` in `A::new().b().c()`.
pub(crate) fn chain_root(e: &Expr) -> &Expr {
    match e.peel() {
        Expr::MethodCall { receiver, .. } => chain_root(receiver),
        other => other,
    }
}

pub(crate) use crate::syntax::ty_text;

/// Whether the (expanded) path ends with these names.
pub(crate) fn ends(names: &[String], tail: &[&str]) -> bool {
    names.len() >= tail.len()
        && names[names.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
}

/// Whether any of these crate or module names appears in the path.
pub(crate) fn mentions_any(names: &[String], any: &[&str]) -> bool {
    names.iter().any(|n| any.contains(&n.as_str()))
}

/// What makes a type outside the workspace interior-mutable, if it is.
fn interior_kind(names: &[String]) -> Option<&'static str> {
    let last = names.last()?.as_str();
    match last {
        // std/parking_lot/tokio/async-lock `Mutex<T>`, `RwLock<T>`.
        "Mutex" | "RwLock" | "ReentrantMutex" | "FairMutex" => Some("lock"),
        // `Cell`/`RefCell` (thread-local state), atomic_refcell.
        "Cell" | "RefCell" | "UnsafeCell" | "AtomicRefCell" => Some("cell"),
        // `AtomicU64`, `AtomicUsize`, crossbeam's `AtomicCell`.
        n if n.starts_with("Atomic") => Some("atomic"),
        // dashmap, arc-swap, chashmap, crossbeam's concurrent collections.
        "DashMap" | "DashSet" | "ArcSwap" | "ArcSwapOption" | "ArcSwapAny" | "CHashMap"
        | "SkipMap" | "SkipSet" | "SegQueue" | "ArrayQueue" => Some("concurrent collection"),
        // moka / mini-moka / quick_cache / stretto caches.
        "Cache" | "SegmentedCache"
            if mentions_any(
                names,
                &["moka", "mini_moka", "quick_cache", "stretto", "cached"],
            ) =>
        {
            Some("cache")
        }
        // scc / papaya / flurry concurrent maps.
        "HashMap" | "HashSet" | "HashIndex" | "TreeIndex"
            if mentions_any(names, &["scc", "papaya", "flurry"]) =>
        {
            Some("concurrent collection")
        }
        // governor's rate limiter: the counts of every key it limits.
        "RateLimiter" if mentions_any(names, &["governor"]) => Some("rate limiter"),
        // tokio/std/crossbeam/flume channels: messages stay in this process.
        "Sender" | "UnboundedSender" | "SyncSender" | "Receiver" | "UnboundedReceiver"
            if mentions_any(
                names,
                &[
                    "broadcast",
                    "mpsc",
                    "watch",
                    "crossbeam_channel",
                    "flume",
                    "async_channel",
                ],
            ) =>
        {
            Some("in-process channel")
        }
        _ => None,
    }
}
