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

use super::prefix::Overrides;
use super::{Detection, EntryKind, EntryPoint, Framework, Location, Middleware, join_paths};
use crate::diagnostic::Diagnostic;
use crate::framework::AXUM;
use crate::resolve::{Def, DefMap, FnId, ModId, TypeKind};
use crate::syntax::{Expr, Lit, Pat, Path, Stmt, Ty, WrapKind, expr_text as text};

#[cfg(test)]
mod tests;

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
];

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
    let mut roots: Vec<Vec<Route>> = Vec::new();
    for (f, o) in outcomes {
        // A router fn that other router code calls contributes through its callers.
        if d.router_fn[f] && d.called.contains(&f) {
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
        }
    }

    /// Evaluates fn `f`'s body with values for `self` and its parameters.
    fn eval_fn(&mut self, f: FnId, self_val: Option<Value>, args: Vec<Value>) -> Outcome {
        let plain = self_val.as_ref().is_none_or(|v| *v == Value::Unknown)
            && args.iter().all(|v| *v == Value::Unknown);
        if plain && let Some(o) = self.memo.get(&f) {
            return o.clone();
        }
        let defs = self.defs;
        let data = &defs.fns[f];
        let mut fr = Frame {
            fn_id: f,
            file: data.file,
            module: data.module,
            env: Vec::new(),
            rets: vec![Vec::new()],
            escapes: Vec::new(),
            diags: Vec::new(),
        };
        let Some(body) = &data.def.body else {
            return Outcome {
                value: Value::Unknown,
                escapes: Vec::new(),
                diags: Vec::new(),
            };
        };
        if self.fuel == 0 {
            fr.diag(
                "router-recursion",
                data.line,
                format!(
                    "cleave stopped following router fns at `{}` (too many calls); routes built from here may be missing",
                    data.id
                ),
            );
            return Outcome {
                value: Value::Unknown,
                escapes: Vec::new(),
                diags: fr.diags,
            };
        }
        self.fuel -= 1;
        if data.def.receiver.is_some() {
            fr.env.push(Binding {
                name: "self".to_owned(),
                value: self_val.unwrap_or(Value::Unknown),
                moved: true,
                init: None,
            });
        }
        for (i, (pat, ty)) in data.def.params.iter().enumerate() {
            let v = match args.get(i) {
                Some(v) if *v != Value::Unknown => v.clone(),
                // A router parameter seen from inside: routes added to it still count.
                _ => match routing_type(defs, data.module, ty, None, 0) {
                    Some(Routing::Router) => Value::Router(Vec::new()),
                    Some(Routing::Methods) => Value::Methods(Vec::new()),
                    None => Value::Unknown,
                },
            };
            self.bind_pat(&mut fr, pat, v);
        }
        self.stack.push(f);
        let tail = self.eval_block(&mut fr, body);
        self.stack.pop();
        let mut value = tail;
        for r in fr.rets.pop().unwrap_or_default() {
            value = union(value, r);
        }
        fr.end_scope(0);
        let value = if self.router_fn[f] {
            value
        } else {
            fr.sink(value);
            Value::Unknown
        };
        let o = Outcome {
            value,
            escapes: fr.escapes,
            diags: fr.diags,
        };
        if plain {
            self.memo.insert(f, o.clone());
        }
        o
    }

    /// Follows calls into router fns, binding argument values; the union of their results.
    fn inline(
        &mut self,
        fr: &mut Frame<'a>,
        targets: &[FnId],
        self_val: Option<Value>,
        args: &[Value],
        line: u32,
    ) -> Value {
        let mut out = Value::Unknown;
        if targets.len() > 1 {
            let names: Vec<&str> = targets
                .iter()
                .map(|t| self.defs.fns[*t].id.as_str())
                .collect();
            fr.diag(
                "dynamic-route",
                line,
                format!(
                    "this call may build its router in any of {}; cleave lists the routes of all of them",
                    names.join(", ")
                ),
            );
        }
        for &t in targets {
            if self.stack.contains(&t) || self.stack.len() >= MAX_DEPTH {
                fr.diag(
                    "router-recursion",
                    line,
                    format!(
                        "`{}` builds its router recursively; cleave does not follow it again, so routes it adds here are not listed",
                        self.defs.fns[t].id
                    ),
                );
                continue;
            }
            self.called.insert(t);
            let o = self.eval_fn(t, self_val.clone(), args.to_vec());
            fr.escapes.extend(o.escapes);
            fr.diags.extend(o.diags);
            out = union(out, o.value);
        }
        out
    }

    fn bind_pat(&mut self, fr: &mut Frame<'a>, pat: &Pat, v: Value) {
        match pat {
            Pat::Ident(name) => fr.bind(name, v),
            Pat::Ref(inner) => self.bind_pat(fr, inner, v),
            // utoipa-axum: `let (router, api) = r.split_for_parts();` (the router comes first).
            Pat::Tuple(ps) if matches!(v, Value::Router(_)) => {
                let mut v = Some(v);
                for p in ps {
                    self.bind_pat(fr, p, v.take().unwrap_or(Value::Unknown));
                }
            }
            _ => {
                fr.sink(v);
                let mut names = Vec::new();
                pat_idents(pat, &mut names);
                for n in names {
                    fr.bind(&n, Value::Unknown);
                }
            }
        }
    }

    /// A value thrown away on purpose (`_ = e`, `let _ = e`): a router built
    /// only to read its OpenAPI spec or to check it is never served, so its
    /// routes are not listed; a note says so.
    fn discard(&mut self, fr: &mut Frame<'a>, v: Value, e: &Expr, line: u32) {
        if let Value::Router(r) = v
            && !r.is_empty()
        {
            fr.diags.push(Diagnostic::new(
                "unserved-router",
                crate::diagnostic::Severity::Note,
                fr.file,
                line,
                format!(
                    "the router `{}` is built and thrown away (`_ = ..`), never served: its {} \
                     route(s) are not listed",
                    text(e),
                    r.len()
                ),
            ));
        }
    }

    fn eval_block(&mut self, fr: &mut Frame<'a>, block: &'a crate::syntax::Block) -> Value {
        let mark = fr.env.len();
        let mut tail = Value::Unknown;
        let n = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            match stmt {
                // `let _ = router.split_for_parts();`: built for its spec only.
                Stmt::Let {
                    pat,
                    init: Some(e),
                    els: None,
                    ..
                } if matches!(**pat, Pat::Other) => {
                    let v = self.eval(fr, e);
                    let line = first_line(e);
                    self.discard(fr, v, e, line);
                }
                Stmt::Let { pat, init, els, .. } => {
                    let v = match init {
                        Some(e) => self.eval(fr, e),
                        None => Value::Unknown,
                    };
                    if let Some(b) = els {
                        let ev = self.eval_block(fr, b);
                        fr.sink(ev);
                    }
                    self.bind_pat(fr, pat, v);
                    if let (Pat::Ident(_), Some(b)) = (&**pat, fr.env.last_mut()) {
                        b.init = init.as_ref();
                    }
                }
                Stmt::Expr(e) => {
                    let v = self.eval(fr, e);
                    if i + 1 == n {
                        tail = v;
                    } else {
                        fr.sink(v);
                    }
                }
                // `_ = router.finish_api(&mut spec);`: built for its spec only.
                Stmt::Semi(Expr::Other(xs)) if matches!(xs.as_slice(), [Expr::Other(l), _] if l.is_empty()) =>
                {
                    let v = self.eval(fr, &xs[1]);
                    let line = first_line(&xs[1]);
                    self.discard(fr, v, &xs[1], line);
                }
                Stmt::Semi(e) => {
                    let v = self.eval(fr, e);
                    fr.sink(v);
                }
                Stmt::Item(_) => {}
            }
        }
        fr.end_scope(mark);
        tail
    }

    /// Evaluates an argument: `&x` borrows `x` (it is not moved away).
    fn eval_arg(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Value {
        match e {
            Expr::Wrap {
                kind: WrapKind::Ref,
                inner,
            } => self.eval_borrowed(fr, inner),
            _ => self.eval(fr, e),
        }
    }

    /// Evaluates `e` without moving the variable it names (`&app`, `app.clone()`).
    fn eval_borrowed(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Value {
        if let Expr::Path { path, .. } = e.peel()
            && let Some(name) = single(path)
            && let Some(b) = fr.lookup(name)
        {
            return b.value.clone();
        }
        self.eval(fr, e)
    }

    /// Sinks the routers moved into a call that is not a router operation.
    fn sink_args(fr: &mut Frame<'a>, args: &[Expr], vals: Vec<Value>) {
        for (a, v) in args.iter().zip(vals) {
            if !is_borrow(a) {
                fr.sink(v);
            }
        }
    }

    fn eval(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Value {
        match e {
            Expr::Path { path, .. } => self.eval_path(fr, path),
            Expr::Lit {
                lit: Lit::Str(s), ..
            } => Value::Str(s.clone()),
            Expr::Lit { .. } => Value::Unknown,
            Expr::Call { func, args, line } => self.eval_call(fr, func, args, *line),
            Expr::MethodCall {
                receiver,
                method,
                args,
                line,
                ..
            } => self.eval_method(fr, receiver, method, args, *line),
            Expr::Field { base, .. } => {
                // `state.router`: a field cleave does not track.
                self.eval_borrowed(fr, base);
                Value::Unknown
            }
            Expr::Closure {
                params, body, line, ..
            } => {
                let mark = fr.env.len();
                for (p, _) in params {
                    let mut names = Vec::new();
                    pat_idents(p, &mut names);
                    for n in names {
                        fr.bind(&n, Value::Unknown);
                    }
                }
                fr.rets.push(Vec::new());
                let mut v = self.eval(fr, body);
                for r in fr.rets.pop().unwrap_or_default() {
                    v = union(v, r);
                }
                fr.end_scope(mark);
                // A router built inside a closure (`LazyLock::new(|| Router::new()..)`).
                fr.sink(v);
                Value::Handler(self.closure_handler(fr, *line))
            }
            Expr::Block { block, .. } => self.eval_block(fr, block),
            Expr::Macro { path, args, line } => self.eval_macro(fr, path, args, *line),
            Expr::Struct { fields, rest, .. } => {
                for (_, f) in fields {
                    let v = self.eval(fr, f);
                    fr.sink(v);
                }
                if let Some(r) = rest {
                    let v = self.eval(fr, r);
                    fr.sink(v);
                }
                Value::Unknown
            }
            Expr::Let { expr, .. } => {
                let v = self.eval(fr, expr);
                fr.sink(v);
                Value::Unknown
            }
            Expr::If { cond, then, els } => {
                let c = self.eval(fr, cond);
                fr.sink(c);
                let line = first_line(e);
                let before = fr.env.clone();
                let rets_before = routing_returns(fr);
                let v1 = self.eval_block(fr, then);
                let env1 = std::mem::replace(&mut fr.env, before);
                let v2 = match els {
                    Some(x) => self.eval(fr, x),
                    None => Value::Unknown,
                };
                let env2 = std::mem::take(&mut fr.env);
                let (env, changed) = merge_envs(env1, env2);
                fr.env = env;
                // `if cond { return Router::new().. }`: an early return picks the routes too.
                let returned = routing_returns(fr) != rets_before;
                if changed || returned || ((v1.is_routing() || v2.is_routing()) && v1 != v2) {
                    fr.diag(
                        "dynamic-route",
                        line,
                        "routes or layers are chosen by an `if`; cleave lists the routes of every branch (check which ones the deployed configuration enables)".to_owned(),
                    );
                }
                union(v1, v2)
            }
            Expr::Match { expr, arms } => {
                let s = self.eval(fr, expr);
                fr.sink(s);
                let line = first_line(e);
                let before = fr.env.clone();
                let mut acc: Option<(Value, Vec<Binding<'a>>)> = None;
                let mut changed = false;
                for (pat, body) in arms {
                    fr.env = before.clone();
                    let mark = fr.env.len();
                    let mut names = Vec::new();
                    pat_idents(pat, &mut names);
                    for n in names {
                        fr.bind(&n, Value::Unknown);
                    }
                    let v = self.eval(fr, body);
                    fr.end_scope(mark);
                    let env = std::mem::take(&mut fr.env);
                    acc = Some(match acc {
                        None => (v, env),
                        Some((av, aenv)) => {
                            let (menv, c) = merge_envs(aenv, env);
                            if c || ((av.is_routing() || v.is_routing()) && av != v) {
                                changed = true;
                            }
                            (union(av, v), menv)
                        }
                    });
                }
                if changed {
                    fr.diag(
                        "dynamic-route",
                        line,
                        "routes or layers are chosen by a `match`; cleave lists the routes of every arm".to_owned(),
                    );
                }
                match acc {
                    Some((v, env)) => {
                        fr.env = env;
                        v
                    }
                    None => {
                        fr.env = before;
                        Value::Unknown
                    }
                }
            }
            Expr::Loop {
                pat,
                iter,
                body,
                line,
            } => {
                if let Some(it) = iter {
                    let v = self.eval(fr, it);
                    fr.sink(v);
                }
                let before = fr.env.clone();
                let mark = fr.env.len();
                if let Some(p) = pat {
                    let mut names = Vec::new();
                    pat_idents(p, &mut names);
                    for n in names {
                        fr.bind(&n, Value::Unknown);
                    }
                }
                let v = self.eval_block(fr, body);
                fr.sink(v);
                fr.end_scope(mark);
                let after = std::mem::take(&mut fr.env);
                let (env, changed) = merge_envs(before, after);
                fr.env = env;
                if changed {
                    fr.diag(
                        "dynamic-route",
                        *line,
                        "routes are registered in a loop; cleave lists what one pass registers (routes whose path comes from the loop are reported separately)".to_owned(),
                    );
                }
                Value::Unknown
            }
            Expr::Wrap { kind, inner } => match kind {
                WrapKind::Ref => self.eval_borrowed(fr, inner),
                WrapKind::Return => {
                    let v = self.eval(fr, inner);
                    match fr.rets.last_mut() {
                        Some(r) => r.push(v),
                        None => fr.sink(v),
                    }
                    Value::Unknown
                }
                _ => self.eval(fr, inner),
            },
            Expr::Other(xs) => {
                // `app = app.route(..)`: the lowered tree keeps an assignment
                // as its two sides; routers are never compared or added, so two
                // sides with a router on the right are an assignment.
                if let [Expr::Path { path, .. }, rhs] = xs.as_slice()
                    && let Some(name) = single(path)
                    && fr.lookup(name).is_some()
                {
                    let v = self.eval(fr, rhs);
                    if v.is_routing() {
                        if let Some(b) = fr.lookup(name) {
                            let old = std::mem::replace(&mut b.value, v);
                            let was_moved = std::mem::replace(&mut b.moved, false);
                            if !was_moved {
                                fr.sink(old);
                            }
                        }
                    } else {
                        fr.sink(v);
                    }
                    return Value::Unknown;
                }
                for x in xs {
                    let v = self.eval(fr, x);
                    fr.sink(v);
                }
                Value::Unknown
            }
        }
    }

    fn eval_path(&mut self, fr: &mut Frame<'a>, path: &Path) -> Value {
        if let Some(name) = single(path)
            && let Some(b) = fr.lookup(name)
        {
            b.moved = true;
            return b.value.clone();
        }
        if let Some(s) = self.const_str(fr.module, path, 0) {
            return Value::Str(s);
        }
        // `let h = handlers::list;` then `get(h)`.
        match self.fn_handler(fr, path) {
            Some(h) => Value::Handler(h),
            None => Value::Unknown,
        }
    }

    /// The string a `const`/`static` path names (`const API: &str = "/api"`).
    fn const_str(&self, module: ModId, path: &Path, depth: u32) -> Option<String> {
        if depth > 4 {
            return None;
        }
        let names: Vec<String> = path.names().map(str::to_owned).collect();
        self.defs
            .resolve_names(module, &names, path.leading_colon)
            .into_iter()
            .find_map(|d| match d {
                Def::Static(s) => {
                    let data = &self.defs.statics[s];
                    let init = match &data.item.kind {
                        crate::syntax::ItemKind::Const { init, .. }
                        | crate::syntax::ItemKind::Static { init, .. } => init,
                        _ => return None,
                    };
                    match init.peel() {
                        Expr::Path { path, .. } => self.const_str(data.module, path, depth + 1),
                        other => other.as_str().map(str::to_owned),
                    }
                }
                _ => None,
            })
    }

    fn eval_macro(
        &mut self,
        fr: &mut Frame<'a>,
        path: &Path,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
        let name = path.last().unwrap_or("");
        let module = fr.module;
        // `concat!("/api", "/v1")`
        if name == "concat" && !vals.is_empty() {
            let mut s = String::new();
            for v in &vals {
                match v {
                    Value::Str(x) => s.push_str(x),
                    _ => return Value::Unknown,
                }
            }
            return Value::Str(s);
        }
        // `format!("{}/users", API)`, `format!("{API}/users")`
        if name == "format"
            && let Some(Value::Str(template)) = vals.first()
            && let Some(s) = format_str(template, vals.get(1..).unwrap_or(&[]), fr, &|p: &Path| {
                self.const_str(module, p, 0)
            })
        {
            return Value::Str(s);
        }
        // `register_admin!(app)`: a macro cleave cannot see into may add routes.
        if !STD_MACROS.contains(&name) && vals.iter().any(|v| matches!(v, Value::Router(_))) {
            fr.diag(
                "dynamic-route",
                line,
                format!(
                    "a router is passed to the macro `{name}!`; routes it adds are not listed (write them as `.route(..)` calls, or add them to cleave.toml by hand)"
                ),
            );
        }
        Self::sink_args(fr, args, vals);
        Value::Unknown
    }

    fn eval_call(
        &mut self,
        fr: &mut Frame<'a>,
        func: &'a Expr,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        let Expr::Path { path, .. } = func.peel() else {
            let v = self.eval(fr, func);
            fr.sink(v);
            let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
            Self::sink_args(fr, args, vals);
            return Value::Unknown;
        };
        // `Ok(router)` as the tail of `-> Result<Router, E>`; `String::from("/x")`.
        if (path.is_ident("Ok") || path.is_ident("Some") || path.ends_with(&["String", "from"]))
            && args.len() == 1
            && let Some(a) = args.first()
        {
            return self.eval(fr, a);
        }
        // `Router::new()`, `axum::Router::<S>::new()`, `Router::default()`.
        if self.is_router_ctor(fr.module, path) {
            let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
            Self::sink_args(fr, args, vals);
            return Value::Router(Vec::new());
        }
        let targets = self.defs.resolve_fn_path(fr.fn_id, path);
        if !targets.is_empty() {
            let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
            // A router lent (`&app`) stays with the caller.
            let passed: Vec<Value> = args
                .iter()
                .zip(&vals)
                .map(|(a, v)| {
                    if is_borrow(a) && v.is_routing() {
                        Value::Unknown
                    } else {
                        v.clone()
                    }
                })
                .collect();
            let routing: Vec<FnId> = targets
                .iter()
                .copied()
                .filter(|t| self.router_fn[*t])
                .collect();
            if !routing.is_empty() {
                let (self_val, rest) = self.split_receiver(&routing, passed);
                return self.inline(fr, &routing, self_val, &rest, line);
            }
            // `serve(app, 3000)`: a workspace fn the router is moved into decides
            // its last layers and where it is served.
            if passed.iter().any(|v| matches!(v, Value::Router(_))) {
                let (self_val, rest) = self.split_receiver(&targets, passed);
                self.inline(fr, &targets, self_val, &rest, line);
                return Value::Unknown;
            }
            Self::sink_args(fr, args, vals);
            return Value::Unknown;
        }
        // `get(h)`, `routing::post(h)`, `on(MethodFilter::PUT, h)`, `get_service(svc)`.
        if let Some(v) = self.method_router_ctor(fr, path, args, line) {
            return v;
        }
        // `MethodRouter::new()`
        if path.ends_with(&["MethodRouter", "new"]) && args.is_empty() {
            return Value::Methods(Vec::new());
        }
        let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
        Self::sink_args(fr, args, vals);
        Value::Unknown
    }

    /// `Type::method(router, ..)` passes the receiver first.
    fn split_receiver(&self, targets: &[FnId], vals: Vec<Value>) -> (Option<Value>, Vec<Value>) {
        let takes_self = targets
            .first()
            .is_some_and(|t| self.defs.fns[*t].def.receiver.is_some());
        if !takes_self {
            return (None, vals);
        }
        let mut it = vals.into_iter();
        let first = it.next();
        (first, it.collect())
    }

    fn is_router_ctor(&self, module: ModId, path: &Path) -> bool {
        let Some((last, prefix)) = path.segments.split_last() else {
            return false;
        };
        // `OpenApiRouter::with_openapi(doc)` starts a router too.
        if !matches!(last.name.as_str(), "new" | "default" | "with_openapi") || prefix.is_empty() {
            return false;
        }
        let ty = Path {
            leading_colon: path.leading_colon,
            segments: prefix.into(),
        };
        match self.defs.resolve_type_path(module, &ty) {
            // axum's `Router`, aide's `ApiRouter`, utoipa-axum's `OpenApiRouter`
            // (outside the workspace).
            None => ty.last().is_some_and(|n| ROUTER_TYPES.contains(&n)),
            // `type AppRouter = Router<AppState>; AppRouter::new()`
            Some(t) => {
                self.defs.types[t].kind == TypeKind::Alias
                    && matches!(self.defs.types[t].alias_of, Some(Ty::Path(p)) if p.last() == Some("Router"))
            }
        }
    }

    /// A free `axum::routing` fn making a `MethodRouter`; `None` when `path` is not one.
    fn method_router_ctor(
        &mut self,
        fr: &mut Frame<'a>,
        path: &Path,
        args: &'a [Expr],
        line: u32,
    ) -> Option<Value> {
        // Imported (`get`) or written through the module (`routing::get`,
        // `axum::routing::get`); other crates' `get(url)` are not routers.
        let qualified_ok = path.segments.len() == 1
            || path
                .names()
                .any(|n| n == "routing" || n == "method_routing");
        if !qualified_ok {
            return None;
        }
        let name = path.last()?;
        let entries = match (name, args) {
            (n, [h]) if METHOD_FNS.contains(&n) => {
                let (handler, middleware) = self.handler_of(fr, h, line);
                vec![MethodEntry {
                    method: n.to_uppercase(),
                    handler,
                    middleware,
                }]
            }
            // aide: `get_with(handler, |op| op.description(..))`.
            (n, [h, _])
                if n.strip_suffix("_with")
                    .is_some_and(|m| METHOD_FNS.contains(&m)) =>
            {
                let (handler, middleware) = self.handler_of(fr, h, line);
                vec![MethodEntry {
                    method: n.strip_suffix("_with").unwrap_or(n).to_uppercase(),
                    handler,
                    middleware,
                }]
            }
            (n, [svc])
                if n.strip_suffix("_service")
                    .is_some_and(|m| METHOD_FNS.contains(&m)) =>
            {
                let (handler, middleware) = self.service_handler(fr, svc, line);
                let m = n.strip_suffix("_service").unwrap_or(n);
                vec![MethodEntry {
                    method: m.to_uppercase(),
                    handler,
                    middleware,
                }]
            }
            ("on", [filter, h]) => {
                let methods = self.method_filter(fr, filter, line);
                let (handler, middleware) = self.handler_of(fr, h, line);
                entry_per_method(methods, handler, middleware)
            }
            ("on_service", [filter, svc]) => {
                let methods = self.method_filter(fr, filter, line);
                let (handler, middleware) = self.service_handler(fr, svc, line);
                entry_per_method(methods, handler, middleware)
            }
            _ => return None,
        };
        Some(Value::Methods(entries))
    }

    /// `MethodFilter::GET`, `MethodFilter::GET.or(MethodFilter::POST)`, `A | B` (0.6).
    fn method_filter(&self, fr: &mut Frame<'a>, e: &Expr, line: u32) -> Vec<String> {
        let mut out = Vec::new();
        if collect_filters(e.peel(), &mut out) && !out.is_empty() {
            return out;
        }
        fr.diag(
            "dynamic-route",
            line,
            format!(
                "cleave cannot read the method filter `{}`; the route is listed as ANY",
                text(e)
            ),
        );
        vec!["ANY".to_owned()]
    }

    fn eval_method(
        &mut self,
        fr: &mut Frame<'a>,
        receiver: &'a Expr,
        method: &str,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        let recv = if method == "clone" {
            self.eval_borrowed(fr, receiver)
        } else {
            self.eval(fr, receiver)
        };
        match recv {
            Value::Router(r) => self.router_method(fr, r, method, args, line),
            Value::Methods(m) => self.methods_method(fr, m, method, args, line),
            // `"/x".to_string()`, `PREFIX.to_owned()`
            Value::Str(s)
                if args.is_empty()
                    && matches!(
                        method,
                        "to_string" | "to_owned" | "into" | "as_str" | "clone" | "as_ref"
                    ) =>
            {
                Value::Str(s)
            }
            other => self.unknown_method(fr, other, receiver, method, args, line),
        }
    }

    /// A method on a value that is not a router: a workspace method building
    /// one (`AppBuilder::new().router()`), or a router operation on a
    /// receiver cleave does not track (`self.router.nest(..)`).
    fn unknown_method(
        &mut self,
        fr: &mut Frame<'a>,
        recv: Value,
        receiver: &Expr,
        method: &str,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
        let targets = self.routing_methods(fr, receiver, method);
        if !targets.is_empty() {
            return self.inline(fr, &targets, Some(recv), &vals, line);
        }
        let router_op = matches!(
            (method, vals.as_slice()),
            (
                "route" | "route_with_tsr" | "api_route",
                [_, Value::Methods(_)]
            ) | (
                "nest" | "nest_service" | "nest_api_service",
                [_, Value::Router(_)]
            ) | ("merge", [Value::Router(_)])
        );
        if router_op {
            return self.router_op(fr, Vec::new(), method, args, vals, line);
        }
        fr.sink(recv);
        Self::sink_args(fr, args, vals);
        Value::Unknown
    }

    /// Workspace methods of this name that return a router and can be the
    /// one called on `receiver`: by its type where the syntax shows it
    /// (`self`, `Type::new(..).build()`), else the only one of that name.
    fn routing_methods(&self, fr: &Frame<'a>, receiver: &Expr, method: &str) -> Vec<FnId> {
        let defs = self.defs;
        let all: Vec<FnId> = defs
            .methods_named(method)
            .iter()
            .copied()
            .filter(|f| self.router_fn[*f] && defs.fns[*f].def.receiver.is_some())
            .collect();
        if all.is_empty() {
            return all;
        }
        match self.receiver_type(fr, receiver, 0) {
            RecvTy::Known(t) => defs
                .methods_of(t, method)
                .iter()
                .copied()
                .filter(|f| self.router_fn[*f])
                .collect(),
            // `reqwest::Client::builder().build()`: not the workspace's.
            RecvTy::Foreign => Vec::new(),
            RecvTy::Unknown if all.len() == 1 => all,
            RecvTy::Unknown => Vec::new(),
        }
    }

    /// Workspace methods callable on a `Router` (an extension trait
    /// implemented for it, or a trait's default method).
    fn router_ext_methods(&self, method: &str) -> Vec<FnId> {
        let defs = self.defs;
        defs.methods_named(method)
            .iter()
            .copied()
            .filter(|f| {
                let data = &defs.fns[*f];
                self.router_fn[*f]
                    && data.def.receiver.is_some()
                    && match data.impl_ {
                        Some(i) => {
                            routing_type(defs, defs.impls[i].module, defs.impls[i].self_ty, None, 0)
                                == Some(Routing::Router)
                        }
                        None => data.trait_.is_some(),
                    }
            })
            .collect()
    }

    /// The workspace type of a method receiver, where the syntax shows it.
    fn receiver_type(&self, fr: &Frame<'a>, e: &Expr, depth: u32) -> RecvTy {
        let defs = self.defs;
        let self_def = || {
            defs.fns[fr.fn_id]
                .impl_
                .and_then(|i| defs.impls[i].self_def)
                .map_or(RecvTy::Unknown, RecvTy::Known)
        };
        if depth > 16 {
            return RecvTy::Unknown;
        }
        match e.peel() {
            Expr::Path { path, .. } if path.is_ident("self") => self_def(),
            // A builder chain: `AppBuilder::new(cfg).with_docs().router()`.
            Expr::MethodCall { receiver, .. } => self.receiver_type(fr, receiver, depth + 1),
            Expr::Call { func, .. } => {
                let Expr::Path { path, .. } = func.peel() else {
                    return RecvTy::Unknown;
                };
                let Some((_, prefix)) = path.segments.split_last() else {
                    return RecvTy::Unknown;
                };
                if prefix.is_empty() {
                    // `make_app(cfg).router()`: the fn's declared return type.
                    let f = defs.resolve_fn_path(fr.fn_id, path).into_iter().next();
                    return match f.and_then(|f| defs.fns[f].def.ret.as_ref().map(|t| (f, t))) {
                        Some((f, Ty::Path(p))) => defs
                            .resolve_type_path(defs.fns[f].module, p)
                            .map_or(RecvTy::Unknown, RecvTy::Known),
                        _ => RecvTy::Unknown,
                    };
                }
                if prefix.len() == 1 && prefix.first().is_some_and(|s| s.name == "Self") {
                    return self_def();
                }
                let ty = Path {
                    leading_colon: path.leading_colon,
                    segments: prefix.into(),
                };
                if let Some(t) = defs.resolve_type_path(fr.module, &ty) {
                    return RecvTy::Known(t);
                }
                let names: Vec<String> = ty.names().map(str::to_owned).collect();
                if defs
                    .resolve_names(fr.module, &names, ty.leading_colon)
                    .contains(&Def::External)
                {
                    RecvTy::Foreign
                } else {
                    RecvTy::Unknown
                }
            }
            _ => RecvTy::Unknown,
        }
    }

    fn router_method(
        &mut self,
        fr: &mut Frame<'a>,
        r: Vec<Route>,
        method: &str,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
        self.router_op(fr, r, method, args, vals, line)
    }

    fn router_op(
        &mut self,
        fr: &mut Frame<'a>,
        mut r: Vec<Route>,
        method: &str,
        args: &'a [Expr],
        vals: Vec<Value>,
        line: u32,
    ) -> Value {
        let loc = fr.loc(line);
        match (method, args, vals.as_slice()) {
            // `.route("/p", get(a).post(b))`; axum-extra's `route_with_tsr` adds a
            // redirect too; aide's `api_route(p, mr)` / `api_route_with(p, mr, docs)`.
            ("route" | "route_with_tsr" | "api_route", [p_expr, mr_expr], [pv, mv])
            | ("api_route_with", [p_expr, mr_expr, _], [pv, mv, _]) => {
                let hidden: Vec<String> = match mv {
                    Value::Methods(es) => es
                        .iter()
                        .map(|e| format!("`{} <path> -> {}`", e.method, e.handler.id))
                        .collect(),
                    _ => Vec::new(),
                };
                let Some(path) = self.path_value(fr, pv, p_expr, &hidden, line) else {
                    return Value::Router(r);
                };
                match mv {
                    Value::Methods(entries) => {
                        for e in entries {
                            push_route(
                                fr,
                                &mut r,
                                &e.method,
                                &path,
                                e.handler.clone(),
                                &loc,
                                e.middleware.clone(),
                            );
                        }
                    }
                    _ => {
                        fr.diag(
                            "unresolved-router",
                            line,
                            format!(
                                "cleave cannot read the method router `{}` of `{path}`; the route is listed as ANY",
                                text(mr_expr)
                            ),
                        );
                        let h = self.text_handler(fr, mr_expr, line, None);
                        push_route(fr, &mut r, "ANY", &path, h, &loc, Vec::new());
                    }
                }
                Value::Router(r)
            }
            // `.route_service("/ws", svc)`: every method.
            ("route_service", [p_expr, svc], [pv, _]) => {
                let Some(path) = self.path_value(fr, pv, p_expr, &[], line) else {
                    return Value::Router(r);
                };
                let (h, mw) = self.service_handler(fr, svc, line);
                push_route(fr, &mut r, "ANY", &path, h, &loc, mw);
                Value::Router(r)
            }
            // `.nest("/api", api::router())`, `.nest_service("/assets", ServeDir::new(..))`.
            // aide's `nest_api_service("/api/v1", router)` nests like `nest`.
            ("nest" | "nest_service" | "nest_api_service", [p_expr, inner_expr], [pv, iv]) => {
                let prefix = self.prefix_value(fr, pv, p_expr, line);
                match iv {
                    Value::Router(inner) => {
                        for mut q in inner.clone() {
                            q.path = join(&prefix, &q.path);
                            r.push(q);
                        }
                    }
                    _ => {
                        let (h, mw) = if method != "nest" {
                            self.service_handler(fr, inner_expr, line)
                        } else {
                            fr.diag(
                                "unresolved-router",
                                line,
                                format!(
                                    "cleave cannot follow the router `{}` nested at `{prefix}`; it is listed as ANY {prefix} and ANY {prefix}/{{*rest}}",
                                    text(inner_expr)
                                ),
                            );
                            (self.text_handler(fr, inner_expr, line, None), Vec::new())
                        };
                        // A nested service answers the prefix and everything below it.
                        push_route(fr, &mut r, "ANY", &prefix, h.clone(), &loc, mw.clone());
                        let tail = join(&prefix, "/{*rest}");
                        push_route(fr, &mut r, "ANY", &tail, h, &loc, mw);
                    }
                }
                Value::Router(r)
            }
            ("merge", [inner_expr], [iv]) => {
                match iv {
                    Value::Router(inner) => r.extend(inner.iter().cloned()),
                    _ => fr.diag(
                        "unresolved-router",
                        line,
                        format!(
                            "cleave cannot follow the router `{}` merged here; its routes are not listed",
                            text(inner_expr)
                        ),
                    ),
                }
                Value::Router(r)
            }
            // `.layer(l)` wraps every route added before it; `.route_layer(l)` too (matched routes only).
            ("layer" | "route_layer", [l], _) => {
                let mw = self.middleware(fr, method, l, line);
                for q in &mut r {
                    q.middleware.push(mw.clone());
                }
                Value::Router(r)
            }
            // axum-extra's `RouterExt::typed_get(h)`: the path is the
            // `#[typed_path("..")]` of the handler's `TypedPath` argument.
            (m, [h], _)
                if m.strip_prefix("typed_")
                    .is_some_and(|x| METHOD_FNS.contains(&x)) =>
            {
                let verb = m.strip_prefix("typed_").unwrap_or(m).to_uppercase();
                let (handler, mw) = self.handler_of(fr, h, line);
                match handler.root.and_then(|f| self.typed_path(f)) {
                    Some(path) => push_route(fr, &mut r, &verb, &norm(&path), handler, &loc, mw),
                    None => fr.diag(
                        "dynamic-route",
                        line,
                        format!(
                            "cleave cannot find the `#[typed_path]` of `{}`'s argument, so its `{verb}` route is not listed",
                            handler.id
                        ),
                    ),
                }
                Value::Router(r)
            }
            // utoipa-axum: `.routes(routes!(a, b))`, paths and methods from
            // `#[utoipa::path]`; `routes!(a).layer(l)` wraps those routes in `l`.
            ("routes", [arg], _) if routes_macro(arg).is_some() => {
                let Some((hs, layers)) = routes_macro(arg) else {
                    return Value::Router(r);
                };
                // Innermost first, as `Route::middleware` keeps them.
                let around: Vec<Middleware> = layers
                    .into_iter()
                    .map(|(kind, l)| self.middleware(fr, kind, l, line))
                    .collect();
                for h in hs {
                    let (handler, mut mw) = self.handler_of(fr, h, line);
                    mw.extend(around.iter().cloned());
                    let spec = handler
                        .root
                        .map(|f| self.utoipa_path(f))
                        .unwrap_or_default();
                    match spec {
                        Some((methods, path)) => {
                            for verb in methods {
                                push_route(fr, &mut r, &verb, &norm(&path), handler.clone(), &loc, mw.clone());
                            }
                        }
                        None => fr.diag(
                            "dynamic-route",
                            line,
                            format!(
                                "cleave cannot read the `#[utoipa::path(..)]` of `{}`, so its routes are not listed",
                                handler.id
                            ),
                        ),
                    }
                }
                Value::Router(r)
            }
            (m, _, _) if ROUTER_IDENTITY.contains(&m) => Value::Router(r),
            // Called as a tower service (`app.oneshot(req)` in a Lambda adapter): served.
            (m, _, _) if SERVE_METHODS.contains(&m) => {
                fr.sink(Value::Router(r));
                Self::sink_args(fr, args, vals);
                Value::Unknown
            }
            _ => {
                // A workspace extension trait on `Router` (`fn with_docs(self) -> Self`).
                let targets = self.router_ext_methods(method);
                if !targets.is_empty() {
                    return self.inline(fr, &targets, Some(Value::Router(r)), &vals, line);
                }
                fr.diag(
                    "unknown-router-method",
                    line,
                    format!(
                        "cleave does not know the router method `.{method}(..)`; routes it adds are not listed"
                    ),
                );
                Self::sink_args(fr, args, vals);
                Value::Router(r)
            }
        }
    }

    /// The `#[typed_path("/users/{id}")]` of a handler's argument type (axum-extra).
    fn typed_path(&self, f: FnId) -> Option<String> {
        let data = &self.defs.fns[f];
        data.def.params.iter().find_map(|(_, ty)| {
            let Ty::Path(p) = ty else { return None };
            let t = self.defs.resolve_type_path(data.module, p)?;
            self.defs.types[t]
                .item
                .attr("typed_path")
                .and_then(|a| a.strings.first().cloned())
        })
    }

    /// Methods and path of a handler's `#[utoipa::path(get, path = "/x")]`
    /// (utoipa 5 also writes `method(get, head)`).
    fn utoipa_path(&self, f: FnId) -> Option<(Vec<String>, String)> {
        let item = self.defs.fns[f].item;
        let attr = item
            .attrs
            .iter()
            .find(|a| a.path.ends_with(&["utoipa", "path"]))?;
        let Some(path) = attr
            .named
            .iter()
            .find(|(k, _)| k == "path")
            .map(|(_, v)| v.clone())
        else {
            // Arguments that are not Rust expressions (`body = Vec<Reservation>`)
            // come as the raw tokens: read the method and `path = ".."` from them.
            return attr.words.iter().find_map(|w| utoipa_tokens(w));
        };
        let mut methods = Vec::new();
        for w in &attr.words {
            let inner = w
                .strip_prefix("method(")
                .and_then(|x| x.strip_suffix(')'))
                .unwrap_or(w);
            for m in inner.split(',').map(str::trim) {
                if METHOD_FNS.contains(&m) && m != "any" {
                    methods.push(m.to_uppercase());
                }
            }
        }
        (!methods.is_empty()).then_some((methods, path))
    }

    /// A route's own path, or a diagnostic naming the route it hides when
    /// the path is computed at runtime (a segment that varies, as in a loop
    /// over names: nothing to assume). A path whose only runtime part is a
    /// base before a fixed path is settled like a prefix.
    fn path_value(
        &self,
        fr: &mut Frame<'a>,
        v: &Value,
        e: &Expr,
        hidden: &[String],
        line: u32,
    ) -> Option<String> {
        if let Value::Str(s) = v {
            return Some(norm(s));
        }
        // `format!("{root_path}/realms/{{id}}")`: a configured base path
        // before a fixed path is a prefix, read as one.
        let parts = super::prefix::parts(self.defs, fr.fn_id, e);
        if super::prefix::is_based(&parts) {
            let path =
                super::prefix::settle(&parts, e, fr.file, line, self.overrides, &mut fr.diags);
            return Some(norm(&path));
        }
        let what = if hidden.is_empty() {
            "the routes it registers are".to_owned()
        } else {
            format!("the routes it registers ({}) are", hidden.join(", "))
        };
        fr.diag(
            "dynamic-route",
            line,
            format!(
                "the path `{}` is computed at runtime, so {what} not listed; write it as a literal or const, or add the routes to cleave.toml by hand",
                text(e)
            ),
        );
        None
    }

    /// A `nest` prefix. One the interpreter could not fix is read by the
    /// shared prefix evaluator: its runtime parts (a configured base path)
    /// are assumed empty, or set by the plan's `[prefix]` table, with a
    /// warning.
    fn prefix_value(&self, fr: &mut Frame<'a>, v: &Value, e: &Expr, line: u32) -> String {
        if let Value::Str(s) = v {
            return norm(s);
        }
        let parts = super::prefix::parts(self.defs, fr.fn_id, e);
        let path = super::prefix::settle(&parts, e, fr.file, line, self.overrides, &mut fr.diags);
        norm(&path)
    }

    fn methods_method(
        &mut self,
        fr: &mut Frame<'a>,
        mut m: Vec<MethodEntry>,
        method: &str,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        match (method, args) {
            // `get(a).post(b)`
            (name, [h]) if METHOD_FNS.contains(&name) => {
                let (handler, middleware) = self.handler_of(fr, h, line);
                m.push(MethodEntry {
                    method: name.to_uppercase(),
                    handler,
                    middleware,
                });
            }
            // aide: `get_with(a, docs).post_with(b, docs)`
            (name, [h, _])
                if name
                    .strip_suffix("_with")
                    .is_some_and(|x| METHOD_FNS.contains(&x)) =>
            {
                let (handler, middleware) = self.handler_of(fr, h, line);
                m.push(MethodEntry {
                    method: name.strip_suffix("_with").unwrap_or(name).to_uppercase(),
                    handler,
                    middleware,
                });
            }
            // `get(a).post_service(svc)`
            (name, [svc])
                if name
                    .strip_suffix("_service")
                    .is_some_and(|x| METHOD_FNS.contains(&x)) =>
            {
                let (handler, middleware) = self.service_handler(fr, svc, line);
                m.push(MethodEntry {
                    method: name.strip_suffix("_service").unwrap_or(name).to_uppercase(),
                    handler,
                    middleware,
                });
            }
            ("on", [filter, h]) => {
                let methods = self.method_filter(fr, filter, line);
                let (handler, middleware) = self.handler_of(fr, h, line);
                m.extend(entry_per_method(methods, handler, middleware));
            }
            ("on_service", [filter, svc]) => {
                let methods = self.method_filter(fr, filter, line);
                let (handler, middleware) = self.service_handler(fr, svc, line);
                m.extend(entry_per_method(methods, handler, middleware));
            }
            // `get(a).layer(l)` wraps the methods added before it.
            ("layer" | "route_layer", [l]) => {
                let mw = self.middleware(fr, method, l, line);
                for e in &mut m {
                    e.middleware.push(mw.clone());
                }
            }
            // `with_state`, `fallback` (not a route), `handle_error`, `merge`d method routers.
            ("merge", [other]) => {
                if let Value::Methods(o) = self.eval(fr, other) {
                    m.extend(o);
                }
            }
            _ => {}
        }
        Value::Methods(m)
    }

    /// The handler named by a `get(..)` argument, with layers put on the handler itself.
    fn handler_of(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
    ) -> (Handler, Vec<Middleware>) {
        self.handler_at(fr, e, line, 0)
    }

    fn handler_at(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
        depth: u32,
    ) -> (Handler, Vec<Middleware>) {
        if depth > 8 {
            return (self.text_handler(fr, e, line, None), Vec::new());
        }
        match e.peel() {
            Expr::Path { path, .. } => {
                if let Some(name) = single(path)
                    && let Some(b) = fr.lookup(name)
                {
                    if let Value::Handler(h) = &b.value {
                        return (h.clone(), Vec::new());
                    }
                    // `let h = make_handler(cfg);` then `get(h)`.
                    if let Some(init) = b.init {
                        return self.handler_at(fr, init, line, depth + 1);
                    }
                    let note = format!("the handler `{name}` is a variable cleave cannot follow");
                    return (self.text_handler(fr, e, line, Some(note)), Vec::new());
                }
                match self.fn_handler(fr, path) {
                    Some(h) => (h, Vec::new()),
                    None => {
                        let note = self.unresolved_note(fr, path);
                        (self.text_handler(fr, e, line, note), Vec::new())
                    }
                }
            }
            Expr::Closure { line: cl, .. } => (self.closure_handler(fr, *cl), Vec::new()),
            // `handler.layer(l)` (axum's `Handler::layer`), `handler.with_state(s)`.
            Expr::MethodCall {
                receiver,
                method,
                args,
                line: ml,
                ..
            } => match (method.as_str(), args.as_slice()) {
                ("layer", [l]) => {
                    let (h, mut mw) = self.handler_at(fr, receiver, line, depth + 1);
                    let m = self.middleware(fr, "layer", l, *ml);
                    mw.push(m);
                    (h, mw)
                }
                ("with_state" | "clone" | "into_service" | "into_make_service", _) => {
                    self.handler_at(fr, receiver, line, depth + 1)
                }
                _ => (self.text_handler(fr, e, line, None), Vec::new()),
            },
            Expr::Call { func, args, .. } => {
                // `get(conduit(krate::search))`, `get(Wrap::new(C(h)))`: a wrapper
                // around a workspace fn or closure, which is the handler's code.
                if let Some(h) = args.iter().find_map(|a| self.wrapped_fn(fr, a, 0)) {
                    return (h, Vec::new());
                }
                // `get(make_handler(cfg))`: the workspace fn that makes the handler.
                if let Expr::Path { path, .. } = func.peel()
                    && let Some(h) = self.fn_handler(fr, path)
                {
                    return (h, Vec::new());
                }
                (self.text_handler(fr, e, line, None), Vec::new())
            }
            Expr::Block { block, .. } => match block.tail() {
                Some(t) => self.handler_at(fr, t, line, depth + 1),
                None => (self.text_handler(fr, e, line, None), Vec::new()),
            },
            _ => (self.text_handler(fr, e, line, None), Vec::new()),
        }
    }

    /// The handler of a tower service: the workspace fn it is made from
    /// (`service_fn(f)`, `handler.into_service()`), else the service as written.
    fn service_handler(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
    ) -> (Handler, Vec<Middleware>) {
        self.service_at(fr, e, line, 0)
    }

    fn service_at(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
        depth: u32,
    ) -> (Handler, Vec<Middleware>) {
        if depth > 8 {
            return (self.text_handler(fr, e, line, None), Vec::new());
        }
        match e.peel() {
            Expr::MethodCall {
                receiver,
                method,
                args,
                line: ml,
                ..
            } => match (method.as_str(), args.as_slice()) {
                ("layer", [l]) => {
                    let (h, mut mw) = self.service_at(fr, receiver, line, depth + 1);
                    let m = self.middleware(fr, "layer", l, *ml);
                    mw.push(m);
                    (h, mw)
                }
                (
                    "into_service" | "with_state" | "handle_error" | "map_err" | "clone"
                    | "boxed_clone" | "into_make_service",
                    _,
                ) => self.service_at(fr, receiver, line, depth + 1),
                _ => (self.text_handler(fr, e, line, None), Vec::new()),
            },
            Expr::Path { path, .. } => {
                if let Some(name) = single(path)
                    && let Some(b) = fr.lookup(name)
                {
                    if let Value::Handler(h) = &b.value {
                        return (h.clone(), Vec::new());
                    }
                    // `let serve_dir = ServeDir::new("assets");` then `nest_service(p, serve_dir)`.
                    if let Some(init) = b.init {
                        return self.service_at(fr, init, line, depth + 1);
                    }
                }
                match self.fn_handler(fr, path) {
                    Some(h) => (h, Vec::new()),
                    None => (self.text_handler(fr, e, line, None), Vec::new()),
                }
            }
            Expr::Closure { line: cl, .. } => (self.closure_handler(fr, *cl), Vec::new()),
            Expr::Call { func, args, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    if let Some(h) = self.fn_handler(fr, path) {
                        return (h, Vec::new());
                    }
                    // `tower::service_fn(f)`
                    if path.last() == Some("service_fn")
                        && let [f] = args.as_slice()
                    {
                        return self.handler_at(fr, f, line, depth + 1);
                    }
                }
                (self.text_handler(fr, e, line, None), Vec::new())
            }
            _ => (self.text_handler(fr, e, line, None), Vec::new()),
        }
    }

    /// A workspace fn or closure passed (directly or through nested wrapper
    /// calls) as an argument: `krate::search` in `conduit(krate::search)`.
    fn wrapped_fn(&mut self, fr: &mut Frame<'a>, e: &Expr, depth: u32) -> Option<Handler> {
        if depth > 4 {
            return None;
        }
        match e.peel() {
            Expr::Path { path, .. } => {
                if let Some(name) = single(path)
                    && let Some(b) = fr.lookup(name)
                {
                    return match &b.value {
                        Value::Handler(h) => Some(h.clone()),
                        _ => None,
                    };
                }
                self.fn_handler(fr, path)
            }
            Expr::Closure { line, .. } => Some(self.closure_handler(fr, *line)),
            Expr::Call { args, .. } => args.iter().find_map(|a| self.wrapped_fn(fr, a, depth + 1)),
            _ => None,
        }
    }

    fn fn_handler(&self, fr: &Frame<'a>, path: &Path) -> Option<Handler> {
        let f = self
            .defs
            .resolve_fn_path(fr.fn_id, path)
            .into_iter()
            .next()?;
        let data = &self.defs.fns[f];
        Some(Handler {
            id: data.id.clone(),
            at: Location {
                file: data.file.to_owned(),
                line: data.line,
            },
            root: Some(f),
            kind: EntryKind::Http,
            note: None,
        })
    }

    /// Why a handler path resolves to nothing in the workspace, unless it is a dependency's.
    fn unresolved_note(&self, fr: &Frame<'a>, path: &Path) -> Option<String> {
        let names: Vec<String> = path.names().map(str::to_owned).collect();
        let defs = self
            .defs
            .resolve_names(fr.module, &names, path.leading_colon);
        if defs.contains(&Def::External) {
            return None;
        }
        Some(format!(
            "cleave cannot resolve the handler `{path}` to a workspace fn"
        ))
    }

    fn closure_handler(&self, fr: &Frame<'a>, line: u32) -> Handler {
        Handler {
            id: format!("{}::{{closure}}", self.defs.fns[fr.fn_id].id),
            at: fr.loc(line),
            root: Some(fr.fn_id),
            kind: EntryKind::Http,
            note: None,
        }
    }

    fn text_handler(&self, fr: &Frame<'a>, e: &Expr, line: u32, note: Option<String>) -> Handler {
        Handler {
            id: text(e),
            at: fr.loc(e.line().unwrap_or(line)),
            root: None,
            kind: if super::serves_files(&AXUM, e) {
                EntryKind::Static
            } else {
                EntryKind::Http
            },
            note,
        }
    }

    fn middleware(&mut self, fr: &mut Frame<'a>, kind: &str, l: &'a Expr, line: u32) -> Middleware {
        // `let auth = from_fn(require_auth); .. .layer(auth)`: the bound value.
        let mut l = l;
        for _ in 0..4 {
            let init = match l.peel() {
                Expr::Path { path, .. } => single(path)
                    .and_then(|name| fr.lookup(name))
                    .and_then(|b| b.init),
                _ => None,
            };
            match init {
                Some(init) if !std::ptr::eq(init, l) => l = init,
                _ => break,
            }
        }
        Middleware {
            kind: kind.to_owned(),
            name: text(l),
            handler: self.middleware_fn(fr, l),
            at: fr.loc(line),
        }
    }

    /// The fn behind `from_fn(f)`, `from_fn_with_state(s, f)`, `map_request(f)`
    /// (also inside a `ServiceBuilder` chain, when it holds exactly one).
    fn middleware_fn(&self, fr: &Frame<'a>, l: &Expr) -> Option<String> {
        let mut found: Vec<&Expr> = Vec::new();
        l.walk(&mut |x| {
            if let Expr::Call { func, args, .. } = x
                && let Expr::Path { path, .. } = func.peel()
                && path.last().is_some_and(|n| MIDDLEWARE_FNS.contains(&n))
                && let Some(f) = args.last()
            {
                found.push(f);
            }
        });
        let [f] = found.as_slice() else {
            // A workspace tower `Layer` (`.layer(RateLimitLayer::new(..))`): the
            // `call` of the service it builds.
            return found
                .is_empty()
                .then(|| super::actix::middleware_service(self.defs, fr.fn_id, l, "Layer"))
                .flatten()
                .map(|g| self.defs.fns[g].id.clone());
        };
        match f.peel() {
            Expr::Path { path, .. } => self.fn_handler(fr, path).map(|h| h.id),
            Expr::Closure { line, .. } => Some(self.closure_handler(fr, *line).id),
            _ => None,
        }
    }
}

/// A method receiver's type as far as the syntax shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecvTy {
    Known(crate::resolve::TypeId),
    /// A dependency's type.
    Foreign,
    Unknown,
}

/// What kind of routing value a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Routing {
    Router,
    Methods,
}

/// Whether a type names axum's `Router`/`MethodRouter`, also inside generics
/// (`Result<Router, E>`), through `Self` in an impl and workspace type aliases.
fn routing_type(
    defs: &DefMap<'_>,
    module: ModId,
    ty: &Ty,
    impl_self: Option<&Ty>,
    depth: u32,
) -> Option<Routing> {
    if depth > 6 {
        return None;
    }
    match ty {
        Ty::Path(p) => {
            // `fn with_docs(self) -> Self` in `impl Ext for Router`.
            if p.is_ident("Self") {
                return impl_self.and_then(|t| routing_type(defs, module, t, None, depth + 1));
            }
            let names: Vec<String> = p.names().map(str::to_owned).collect();
            let workspace_type = defs
                .resolve_names(module, &names, p.leading_colon)
                .into_iter()
                .find_map(|d| match d {
                    Def::Type(t) => Some(t),
                    _ => None,
                });
            match workspace_type {
                // `type App = Router<AppState>;`
                Some(t) => {
                    if let Some(alias) = defs.types[t].alias_of
                        && let Some(r) =
                            routing_type(defs, defs.types[t].module, alias, None, depth + 1)
                    {
                        return Some(r);
                    }
                }
                // axum's types (a workspace's own `Router` struct is not one).
                None => match p.last() {
                    Some(n) if ROUTER_TYPES.contains(&n) => return Some(Routing::Router),
                    Some("MethodRouter" | "ApiMethodRouter") => return Some(Routing::Methods),
                    _ => {}
                },
            }
            p.segments
                .iter()
                .flat_map(|s| &s.generics)
                .find_map(|g| routing_type(defs, module, g, impl_self, depth + 1))
        }
        Ty::Ref(inner) => routing_type(defs, module, inner, impl_self, depth + 1),
        _ => None,
    }
}

fn entry_per_method(
    methods: Vec<String>,
    handler: Handler,
    middleware: Vec<Middleware>,
) -> Vec<MethodEntry> {
    methods
        .into_iter()
        .map(|method| MethodEntry {
            method,
            handler: handler.clone(),
            middleware: middleware.clone(),
        })
        .collect()
}

/// Reads `MethodFilter::X` leaves joined by `.or(..)` or `|`.
fn collect_filters(e: &Expr, out: &mut Vec<String>) -> bool {
    match e.peel() {
        Expr::Path { path, .. } => {
            let Some(last) = path.last() else {
                return false;
            };
            // `MethodFilter::GET` (0.6+), `MethodFilter::Get`-style spellings upper-cased.
            if path.segments.len() >= 2
                && path.names().any(|n| n == "MethodFilter" || n == "Method")
            {
                out.push(last.to_uppercase());
                true
            } else {
                false
            }
        }
        Expr::MethodCall {
            receiver,
            method,
            args,
            ..
        } if method == "or" && args.len() == 1 => {
            collect_filters(receiver, out) && args.iter().all(|a| collect_filters(a, out))
        }
        // `MethodFilter::GET | MethodFilter::POST` (bitflags, axum 0.5).
        Expr::Other(xs) if !xs.is_empty() => xs.iter().all(|x| collect_filters(x, out)),
        _ => false,
    }
}

fn push_route(
    fr: &mut Frame<'_>,
    r: &mut Vec<Route>,
    method: &str,
    path: &str,
    handler: Handler,
    loc: &Location,
    middleware: Vec<Middleware>,
) {
    if let Some(note) = &handler.note {
        fr.diag(
            "unresolved-handler",
            loc.line,
            format!("{note} (route `{method} {path}`); it is listed by its text"),
        );
    }
    r.push(Route {
        method: method.to_owned(),
        path: path.to_owned(),
        handler,
        registered: loc.clone(),
        middleware,
    });
}

/// How many router values the innermost fn or closure body has returned so far.
fn routing_returns(fr: &Frame<'_>) -> usize {
    fr.rets
        .last()
        .map_or(0, |r| r.iter().filter(|v| v.is_routing()).count())
}

/// Merges two environments of the same scope after a branch; whether a
/// router binding differs between them.
fn merge_envs<'a>(a: Vec<Binding<'a>>, b: Vec<Binding<'a>>) -> (Vec<Binding<'a>>, bool) {
    let mut changed = false;
    let out = a
        .into_iter()
        .zip(b)
        .map(|(x, y)| {
            if x.value != y.value && (x.value.is_routing() || y.value.is_routing()) {
                changed = true;
            }
            Binding {
                name: x.name,
                moved: x.moved || y.moved,
                value: union(x.value, y.value),
                init: x.init,
            }
        })
        .collect();
    (out, changed)
}

/// A route path as axum matches it, normalised; a trailing slash is kept
/// (axum routes `/a/` and `/a` apart).
fn norm(raw: &str) -> String {
    let p = super::normalise_path(raw);
    if raw.ends_with('/') && p != "/" {
        format!("{p}/")
    } else {
        p
    }
}

/// Nesting: `/api` + `/` is `/api` (axum 0.8), `/api` + `/users/` keeps the slash.
fn join(prefix: &str, path: &str) -> String {
    let p = join_paths(prefix, path);
    if path.ends_with('/') && path != "/" && p != "/" {
        format!("{p}/")
    } else {
        p
    }
}

/// Methods and path from the raw tokens of a `#[utoipa::path(..)]` whose
/// arguments do not parse as expressions: the top-level arguments (split at
/// commas outside brackets and string literals) that are a method
/// (`get`, `method(get, head)`) and `path = "/x"`.
fn utoipa_tokens(tokens: &str) -> Option<(Vec<String>, String)> {
    let mut args: Vec<String> = vec![String::new()];
    let (mut depth, mut in_str, mut escaped) = (0u32, false, false);
    for c in tokens.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else {
            match c {
                '"' => in_str = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    args.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        if let Some(last) = args.last_mut() {
            last.push(c);
        }
    }
    let mut methods = Vec::new();
    let mut path = None;
    for arg in &args {
        let arg = arg.trim();
        if let Some((key, value)) = arg.split_once('=')
            && key.trim() == "path"
        {
            let value = value.trim();
            path = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned);
            continue;
        }
        let inner = arg
            .strip_prefix("method")
            .map(str::trim_start)
            .and_then(|x| x.strip_prefix('('))
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(arg);
        for m in inner.split(',').map(str::trim) {
            if METHOD_FNS.contains(&m) && m != "any" {
                methods.push(m.to_uppercase());
            }
        }
    }
    let path = path?;
    (!methods.is_empty()).then_some((methods, path))
}

fn single(path: &Path) -> Option<&str> {
    match &path.segments[..] {
        [s] if !path.leading_colon && s.generics.is_empty() => Some(&s.name),
        _ => None,
    }
}

fn is_borrow(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Wrap {
            kind: WrapKind::Ref,
            ..
        }
    )
}

fn pat_idents(p: &Pat, out: &mut Vec<String>) {
    match p {
        Pat::Ident(n) => out.push(n.clone()),
        Pat::TupleStruct(_, ps) | Pat::Tuple(ps) | Pat::Or(ps) => {
            ps.iter().for_each(|x| pat_idents(x, out))
        }
        Pat::Struct(_, fs) => fs.iter().for_each(|(_, x)| pat_idents(x, out)),
        Pat::Ref(x) => pat_idents(x, out),
        Pat::Path(_) | Pat::Other => {}
    }
}

/// utoipa-axum's `routes!(a, b)`, possibly wrapped in `.layer(l)` /
/// `.route_layer(l)` calls: the handlers, and the layers innermost first.
fn routes_macro(e: &Expr) -> Option<(&[Expr], Vec<(&'static str, &Expr)>)> {
    let mut layers = Vec::new();
    let mut e = e.peel();
    loop {
        match e {
            Expr::Macro { path, args, .. } if path.last() == Some("routes") => {
                layers.reverse();
                return Some((args, layers));
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } if args.len() == 1 && (method == "layer" || method == "route_layer") => {
                let kind = if method == "layer" {
                    "layer"
                } else {
                    "route_layer"
                };
                layers.push((kind, &args[0]));
                e = receiver.peel();
            }
            _ => return None,
        }
    }
}

/// The smallest line number inside an expression (for `if`, which has none).
fn first_line(e: &Expr) -> u32 {
    let mut min = u32::MAX;
    e.walk(&mut |x| {
        if let Some(l) = x.line()
            && l > 0
            && l < min
        {
            min = l;
        }
    });
    if min == u32::MAX { 0 } else { min }
}

/// `format!` with `{}`, `{0}` and `{name}` placeholders over known strings.
fn format_str(
    template: &str,
    args: &[Value],
    fr: &mut Frame<'_>,
    consts: &dyn Fn(&Path) -> Option<String>,
) -> Option<String> {
    let text = |v: Option<Value>| match v {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    };
    super::expand_format(template, |hole| match hole {
        super::Hole::Index(i) => text(args.get(i).cloned()),
        super::Hole::Named(name) => match fr.lookup(name) {
            Some(b) => text(Some(b.value.clone())),
            None => consts(&Path::from_names([name])),
        },
    })
}
