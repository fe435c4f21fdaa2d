//! Entry point detector: axum (0.4 to 0.8, `:param`/`*rest` and
//! `{param}`/`{*rest}` paths alike).
//!
//! Input: the lowered bodies of every fn in a crate that can name axum.
//! Output: one [`EntryPoint`] per method and full path, with the layers
//! around it, plus diagnostics for what cannot be fixed statically. A
//! layer's handler is the fn `from_fn(f)` and its kin name, or for a
//! workspace tower `Layer` the `call` of the `Service` it builds; a layer
//! bound to a local (`let auth = from_fn(f); .. .layer(auth)`) is read
//! through its `let`.
//!
//! axum routers are values built by method chains, so the detector evaluates
//! router-building code symbolically. Every fn body is evaluated once on its
//! own; a value is a [`Value::Router`] (the routes added so far, with the
//! layers wrapping each), a [`Value::Methods`] (`get(a).post(b)`), a string
//! (paths, through `let`s, consts and `concat!`/`format!`) or unknown. Calls
//! to workspace fns that return a `Router`/`MethodRouter` are followed with
//! the argument values bound to their parameters (`nest("/x", orders::routes(state))`),
//! `let` bindings and reassignments carry routers from one statement to the
//! next, and `if`/`match`/loops keep the routes of every branch (with a
//! diagnostic). A router is a root when it leaves router-building code: moved
//! into a call that is not a router operation (`axum::serve`,
//! `lambda_http::run`), dropped unused, or returned from a router fn that no
//! workspace code calls. A router fn that another router uses yields its
//! routes only through that use, so nothing is listed un-prefixed.
//!
//! It never guesses: a path or prefix computed at runtime, a nested router it
//! cannot follow and routes chosen by control flow all yield a diagnostic;
//! `fallback` handlers are not routes and are left out. Routers that wrap
//! axum's with the same methods are read too: aide's `ApiRouter`
//! (`api_route`, `get_with`), utoipa-axum's `OpenApiRouter` (`routes!(..)`
//! with the method and path of `#[utoipa::path]`, read from its raw tokens
//! when other arguments are not Rust expressions, as in `body = Vec<T>`)
//! and axum-extra's `typed_get(..)`
//! (paths from `#[typed_path]`).

use std::collections::{BTreeMap, BTreeSet};

use super::leptos::leptos_unread;
use super::prefix::Overrides;
use super::{Detection, EntryKind, EntryPoint, Framework, Location, Middleware, join_paths};
use crate::diagnostic::Diagnostic;
use crate::framework::AXUM;
use crate::resolve::{Def, DefMap, FnId, ModId, TypeKind};
use crate::syntax::{Expr, Lit, Pat, Path, Stmt, Ty, WrapKind, expr_text as text};

mod eval;
mod handlers;
mod openapi;
mod router;
#[cfg(test)]
mod tests;

#[allow(unused_imports)]
use self::{eval::*, handlers::*, openapi::*, router::*};

/// `axum::routing` fns that make a one-method `MethodRouter` from a handler.
const METHOD_FNS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "trace", "connect", "any",
];

/// Router types: axum's, aide's `ApiRouter`, utoipa-axum's `OpenApiRouter`
/// (both wrap an axum `Router` and share its methods).
const ROUTER_TYPES: &[&str] = AXUM.router_types;

/// `Router` methods that return the same routes: state, fallbacks (not
/// routes), conversions into a service for `axum::serve`.
const ROUTER_IDENTITY: &[&str] = &[
    "with_state",
    "fallback",
    "fallback_service",
    "method_not_allowed_fallback",
    "reset_fallback",
    "into_make_service",
    "into_make_service_with_connect_info",
    "into_service",
    "as_service",
    "clone",
    "into",
    "boxed",
    "handle_error",
    "without_v07_checks",
    // aide: `ApiRouter` -> `Router`.
    "finish_api",
    "finish_api_with",
    // utoipa-axum: `OpenApiRouter` -> `(Router, OpenApi)`.
    "split_for_parts",
    // oasgen: `Server` -> frozen `Server` -> `Router`.
    "freeze",
    "into_router",
];

/// oasgen's builder type: `Server::axum()` starts one, `.get("/p", h)`
/// registers a route on it.
const OASGEN_SERVER: &str = "Server";

/// std and logging macros a router may pass through without gaining routes.
const STD_MACROS: &[&str] = &[
    "println",
    "eprintln",
    "print",
    "eprint",
    "dbg",
    "format",
    "write",
    "writeln",
    "assert",
    "debug_assert",
    "info",
    "debug",
    "trace",
    "warn",
    "error",
    "tracing",
    "vec",
    "panic",
];

/// tower `Service`/`ServiceExt` calls that serve a router.
const SERVE_METHODS: &[&str] = &["oneshot", "call", "ready", "poll_ready", "serve"];

/// `axum::middleware` constructors whose last argument is the middleware fn.
const MIDDLEWARE_FNS: &[&str] = &[
    "from_fn",
    "from_fn_with_state",
    "map_request",
    "map_request_with_state",
    "map_response",
    "map_response_with_state",
];

/// Nesting deeper than this is treated as recursion.
const MAX_DEPTH: usize = 24;
/// Router fns followed per top-level fn before giving up (pathological code).
const FUEL: u32 = 20_000;

pub(crate) fn detect(defs: &DefMap<'_>, overrides: &Overrides, out: &mut Detection) {
    let crates = axum_crates(defs);
    if crates.is_empty() {
        return;
    }
    let mut d = Detector::new(defs, overrides);
    let mut outcomes: Vec<(FnId, Outcome)> = Vec::new();
    for f in 0..defs.fns.len() {
        let data = &defs.fns[f];
        if data.def.body.is_none() || !crates.contains(&defs.mods[data.module].krate) {
            continue;
        }
        d.fuel = FUEL;
        let o = d.eval_fn(f, None, Vec::new());
        outcomes.push((f, o));
    }
    // What the binaries run (`None` for a library: whatever serves it is
    // outside): a router built only in code no binary runs (a library's
    // public router a test or another product uses) is not served.
    let run = super::run_by_binaries(defs);
    // A file two crates both compile (a bin's `mod x;` beside its lib's):
    // the copy a binary runs serves what the other copy builds.
    let run_at: BTreeSet<(&str, u32)> = run
        .iter()
        .flatten()
        .map(|&f| (defs.fns[f].file, defs.fns[f].line))
        .collect();
    let mut roots: Vec<Vec<Route>> = Vec::new();
    for (f, o) in outcomes {
        // A router fn that other router code calls contributes through its callers.
        if d.router_fn[f] && d.called.contains(&f) {
            continue;
        }
        if let Some(run) = &run
            && !run.contains(&f)
        {
            let data = &defs.fns[f];
            let routes = o.escapes.iter().map(Vec::len).sum::<usize>()
                + match &o.value {
                    Value::Router(r) => r.len(),
                    _ => 0,
                };
            if routes > 0 && !run_at.contains(&(data.file, data.line)) {
                out.diagnostics
                    .push(super::unserved_note(defs, f, "builds"));
            }
            continue;
        }
        roots.extend(o.escapes);
        if let Value::Router(r) = o.value {
            roots.push(r);
        }
        out.diagnostics.extend(o.diags);
    }
    // The same router served twice (a server bin and a Lambda bin) is one set
    // of routes; a layer either adds is kept (never drop middleware).
    let mut merged: BTreeMap<(String, String, String, Location), Route> = BTreeMap::new();
    for route in roots.into_iter().flatten() {
        let key = (
            route.method.clone(),
            route.path.clone(),
            route.handler.id.clone(),
            route.registered.clone(),
        );
        match merged.get_mut(&key) {
            Some(q) => merge_layers(&mut q.middleware, route.middleware),
            None => {
                merged.insert(key, route);
            }
        }
    }
    for route in merged.into_values() {
        let mut middleware = route.middleware;
        middleware.reverse();
        out.entrypoints.push(EntryPoint {
            kind: route.handler.kind,
            framework: Some(Framework::Axum),
            method: route.method,
            path: route.path,
            handler: route.handler.id,
            at: route.handler.at,
            registered: route.registered,
            middleware,
            root: route.handler.root,
        });
    }
}

/// Crates whose package depends on axum, directly or through a workspace package.
fn axum_crates(defs: &DefMap<'_>) -> BTreeSet<usize> {
    let packages = &defs.project.packages;
    let mut has: Vec<bool> = packages.iter().map(|p| AXUM.used_by(p)).collect();
    // A workspace crate that re-exports axum (`use web::axum::Router`).
    for _ in 0..packages.len() {
        let mut changed = false;
        for (i, p) in packages.iter().enumerate() {
            if has[i] {
                continue;
            }
            let via = p.dependencies.iter().any(|d| {
                d.path.is_some()
                    && packages
                        .iter()
                        .enumerate()
                        .any(|(j, q)| has[j] && q.name == d.package)
            });
            if via {
                has[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    defs.project
        .crates
        .iter()
        .enumerate()
        .filter(|(_, c)| has.get(c.package).copied().unwrap_or(false))
        .map(|(i, _)| i)
        .collect()
}

/// A handler as an entry point names it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Handler {
    id: String,
    at: Location,
    root: Option<FnId>,
    /// `Static` for a file service (`ServeDir::new(..)`), else `Http`.
    kind: EntryKind,
    /// Why cleave could not resolve it, reported where the route is registered.
    note: Option<String>,
}

/// One method of a `MethodRouter`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MethodEntry {
    method: String,
    handler: Handler,
    /// Innermost first.
    middleware: Vec<Middleware>,
}

/// A route of a router value; `path` is relative to the router.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    method: String,
    path: String,
    handler: Handler,
    registered: Location,
    /// Innermost first (reversed on output).
    middleware: Vec<Middleware>,
}

impl Route {
    fn key(&self) -> (&str, &str, &str, &Location) {
        (&self.method, &self.path, &self.handler.id, &self.registered)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Unknown,
    Str(String),
    /// A closure or fn bound to a variable, usable as a handler.
    Handler(Handler),
    Methods(Vec<MethodEntry>),
    Router(Vec<Route>),
}

impl Value {
    fn is_routing(&self) -> bool {
        matches!(self, Value::Router(_) | Value::Methods(_))
    }
}

/// Both alternatives of a branch: every route of either (a route in both
/// keeps every layer either gives it).
fn union(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Router(mut x), Value::Router(y)) => {
            for r in y {
                match x.iter_mut().find(|q| q.key() == r.key()) {
                    Some(q) => merge_layers(&mut q.middleware, r.middleware),
                    None => x.push(r),
                }
            }
            Value::Router(x)
        }
        (Value::Methods(mut x), Value::Methods(y)) => {
            for e in y {
                match x
                    .iter_mut()
                    .find(|q| q.method == e.method && q.handler.id == e.handler.id)
                {
                    Some(q) => merge_layers(&mut q.middleware, e.middleware),
                    None => x.push(e),
                }
            }
            Value::Methods(x)
        }
        (v @ (Value::Router(_) | Value::Methods(_)), Value::Unknown)
        | (Value::Unknown, v @ (Value::Router(_) | Value::Methods(_))) => v,
        (a, b) if a == b => a,
        _ => Value::Unknown,
    }
}

fn merge_layers(into: &mut Vec<Middleware>, from: Vec<Middleware>) {
    for m in from {
        if !into.contains(&m) {
            into.push(m);
        }
    }
}

/// What evaluating a fn body gives.
#[derive(Debug, Clone)]
struct Outcome {
    /// The returned value (routers only for fns declared to return one).
    value: Value,
    /// Routers that left router-building code: root candidates.
    escapes: Vec<Vec<Route>>,
    diags: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
struct Binding<'a> {
    name: String,
    value: Value,
    /// Read by value (moved); an unmoved router at the end of its scope is a root.
    moved: bool,
    /// The `let` initialiser, to name a handler or service bound to the variable.
    init: Option<&'a Expr>,
    /// What `.push(x)` / `.extend(xs)` added to it since (a list of routes
    /// a loop registers), in order.
    grown: Vec<(&'static str, &'a Expr)>,
}

/// The state of one fn body's evaluation.
struct Frame<'a> {
    fn_id: FnId,
    file: &'a str,
    module: ModId,
    env: Vec<Binding<'a>>,
    /// Values of `return` expressions, per fn or closure body being evaluated.
    rets: Vec<Vec<Value>>,
    escapes: Vec<Vec<Route>>,
    diags: Vec<Diagnostic>,
}

impl<'a> Frame<'a> {
    /// A fresh frame for evaluating fn `f`'s body.
    fn of(defs: &DefMap<'a>, f: FnId) -> Frame<'a> {
        let data = &defs.fns[f];
        Frame {
            fn_id: f,
            file: data.file,
            module: data.module,
            env: Vec::new(),
            rets: vec![Vec::new()],
            escapes: Vec::new(),
            diags: Vec::new(),
        }
    }

    fn loc(&self, line: u32) -> Location {
        Location {
            file: self.file.to_owned(),
            line,
        }
    }

    fn diag(&mut self, code: &'static str, line: u32, message: String) {
        self.diags
            .push(Diagnostic::warning(code, self.file, line, message));
    }

    fn sink(&mut self, v: Value) {
        if let Value::Router(r) = v {
            self.escapes.push(r);
        }
    }

    fn bind(&mut self, name: &str, value: Value) {
        self.env.push(Binding {
            name: name.to_owned(),
            value,
            moved: false,
            init: None,
            grown: Vec::new(),
        });
    }

    fn lookup(&mut self, name: &str) -> Option<&mut Binding<'a>> {
        self.env.iter_mut().rev().find(|b| b.name == name)
    }

    /// Leaves a scope: routers bound in it and never moved are roots.
    fn end_scope(&mut self, mark: usize) {
        if mark >= self.env.len() {
            return;
        }
        for b in self.env.split_off(mark) {
            if !b.moved {
                self.sink(b.value);
            }
        }
    }
}

struct Detector<'d, 'a> {
    defs: &'d DefMap<'a>,
    /// The plan's `[prefix]` table.
    overrides: &'d Overrides,
    /// Per fn: declared to return a `Router` or `MethodRouter`.
    router_fn: Vec<bool>,
    /// Router fns some evaluated code called.
    called: BTreeSet<FnId>,
    /// Outcomes of fns evaluated without argument values.
    memo: BTreeMap<FnId, Outcome>,
    stack: Vec<FnId>,
    fuel: u32,
    /// Workspace macro calls being evaluated, one inside another.
    macro_depth: u32,
}

impl<'d, 'a> Detector<'d, 'a> {
    fn new(defs: &'d DefMap<'a>, overrides: &'d Overrides) -> Self {
        let router_fn = (0..defs.fns.len())
            .map(|f| {
                let data = &defs.fns[f];
                let impl_self = data.impl_.map(|i| defs.impls[i].self_ty);
                data.def
                    .ret
                    .as_ref()
                    .and_then(|t| routing_type(defs, data.module, t, impl_self, 0))
                    .is_some()
            })
            .collect();
        Detector {
            defs,
            overrides,
            router_fn,
            called: BTreeSet::new(),
            memo: BTreeMap::new(),
            stack: Vec::new(),
            fuel: FUEL,
            macro_depth: 0,
        }
    }
}
