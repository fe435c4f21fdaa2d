//! Entry point detector: actix-web 4.
//!
//! Input: the [`DefMap`]. Output: one [`EntryPoint`] per method and full
//! path of every route an actix `App` serves, with its handler's canonical
//! definition and the `wrap`/`wrap_fn` middleware around it, outermost
//! first; plus diagnostics for what it cannot fix statically.
//!
//! Roots are the workspace fns that build an `App::new()` (inside
//! `HttpServer::new(move || ..)`, a factory fn, a test helper). From each
//! root a small abstract interpreter runs over the lowered syntax: it knows
//! the actix builders (`App`, `web::scope`, `web::resource`, `web::get()` and
//! the other `Route`s, `&mut ServiceConfig`), follows `let` bindings, calls
//! into workspace fns that take a `ServiceConfig` or return a builder
//! (`configure(f)`, `configure(|cfg| f::<T>(cfg, x))`, `fn api() -> Scope`),
//! and keeps both branches of an `if`/`match`. Configure fns and scopes that
//! no `App` reaches produce no routes; a fn with a route attribute
//! (`#[get("/p")]`) that no `App` registers produces a note.
//!
//! Middleware order follows actix: on one builder the last `.wrap` is the
//! outermost; app-level wraps sit outside scope-level ones, which sit
//! outside resource-level ones. `default_service` is not a route. A
//! middleware bound to a local (`let auth = HttpAuthentication::bearer(f);
//! .. .wrap(auth)`) is read through its `let`; its handler is the fn it
//! names (`from_fn(f)`, `HttpAuthentication::bearer(f)`, the one fn a
//! `wrap_fn` closure calls) or, for a workspace `Transform`, the `call` of
//! the `Service` it builds.
//! It never runs code and never guesses a value: a path computed at runtime
//! becomes a `{placeholder}` segment plus a diagnostic.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::prefix::Overrides;
use super::{Detection, EntryKind, EntryPoint, Framework, Location, Middleware, normalise_path};
use crate::diagnostic::{Diagnostic, Severity};
use crate::framework::ACTIX_WEB;
use crate::resolve::{Def, DefMap, FnId, TypeId};
use crate::syntax::{
    Block, Expr, ItemKind, Lit, Pat, Path, Stmt, Ty, UseKind, WrapKind, expr_text, path_text,
};

#[cfg(test)]
mod tests;

/// Route attribute macros of actix-web (`#[get("/p")]`) and their methods.
const METHOD_ATTRS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("post", "POST"),
    ("put", "PUT"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
    ("trace", "TRACE"),
    ("connect", "CONNECT"),
];

/// `web::get()` .. `web::trace()` route constructors and `Resource::get(h)` .. shortcuts.
const ROUTE_FNS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("post", "POST"),
    ("put", "PUT"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("head", "HEAD"),
    ("trace", "TRACE"),
];

/// Method guards: `guard::Get()`, `guard::Any(guard::Get()).or(guard::Post())`.
const GUARD_METHODS: &[(&str, &str)] = &[
    ("Get", "GET"),
    ("Post", "POST"),
    ("Put", "PUT"),
    ("Delete", "DELETE"),
    ("Patch", "PATCH"),
    ("Head", "HEAD"),
    ("Options", "OPTIONS"),
    ("Connect", "CONNECT"),
    ("Trace", "TRACE"),
];

const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

/// Type names in a fn signature that mean "this fn builds part of a router".
const BUILDER_TYPES: &[&str] = &[
    "App",
    "Scope",
    "Resource",
    "Route",
    "ServiceConfig",
    "HttpServiceFactory",
    "ServiceFactory",
];

/// Deepest chain of workspace calls followed from one root.
const MAX_DEPTH: usize = 32;
/// Expressions evaluated per root before giving up (pathological inputs).
const BUDGET: usize = 400_000;

pub(crate) fn detect(defs: &DefMap<'_>, overrides: &Overrides, out: &mut Detection) {
    // Only projects that depend on actix-web: `App::new()` also names clap's and GUI apps.
    if !ACTIX_WEB.used_in(defs.project) {
        return;
    }
    let roots = find_roots(defs);
    let runs: Vec<Run> = roots
        .iter()
        .map(|&r| {
            let mut it = Interp::new(defs, overrides);
            it.run_root(r);
            Run {
                root: r,
                apps: it.apps.into_values().collect(),
                called: it.called,
                diags: it.diags,
            }
        })
        .collect();

    let mut entries: BTreeSet<EntryPoint> = BTreeSet::new();
    let mut diags: BTreeSet<Diagnostic> = BTreeSet::new();
    let mut registered: BTreeSet<FnId> = BTreeSet::new();
    for run in &runs {
        // A factory fn (`fn app() -> App<..>`) that another root calls is
        // counted through that caller, which may wrap it further.
        let through_caller = runs.iter().any(|s| {
            s.root != run.root && s.called.contains(&run.root) && !run.called.contains(&s.root)
        });
        if through_caller {
            continue;
        }
        let mut flat = Flatten {
            defs,
            out: &mut entries,
            registered: &mut registered,
        };
        for app in &run.apps {
            flat.node(app, &[String::new()], &[], &[]);
        }
        diags.extend(run.diags.iter().cloned());
    }

    for (f, data) in defs.fns.iter().enumerate() {
        if registered.contains(&f) {
            continue;
        }
        for attr in &data.item.attrs {
            if attr_route(attr).is_some() && is_actix_attr(defs, f, &attr.path) {
                let shown = attr.strings.first().map(String::as_str).unwrap_or("");
                diags.insert(Diagnostic::new(
                    "unregistered-handler",
                    Severity::Note,
                    data.file,
                    attr.line,
                    format!(
                        "`#[{}(\"{shown}\")]` on `{}`: handler attribute but not registered \
                         with `.service(..)` from any actix-web App cleave can see; it is not \
                         listed as a route",
                        attr.path, data.id
                    ),
                ));
            }
        }
    }
    out.entrypoints.extend(entries);
    out.diagnostics.extend(diags);
}

/// What one root's interpretation found.
struct Run {
    root: FnId,
    apps: Vec<Node>,
    called: BTreeSet<FnId>,
    diags: Vec<Diagnostic>,
}

/// The fns an `App` is built in: those that write `App::new()`, and those
/// that call an app factory (`HttpServer::new(|| app().wrap(..))` with
/// `fn app() -> App<..>`), to a fixpoint.
fn find_roots(defs: &DefMap<'_>) -> Vec<FnId> {
    let mut roots: BTreeSet<FnId> = (0..defs.fns.len())
        .filter(|&f| builds_app(defs, f))
        .collect();
    for _round in 0..8 {
        let factories: BTreeSet<FnId> = roots
            .iter()
            .copied()
            .filter(|&f| {
                defs.fns
                    .get(f)
                    .and_then(|d| d.def.ret.as_ref())
                    .is_some_and(|t| mentions(t, &["App"]))
            })
            .collect();
        let names: BTreeSet<&str> = factories
            .iter()
            .filter_map(|&f| defs.fns.get(f).map(|d| d.name))
            .collect();
        let mut added = false;
        for (f, data) in defs.fns.iter().enumerate() {
            if roots.contains(&f) {
                continue;
            }
            let Some(body) = &data.def.body else { continue };
            let mut calls = false;
            body.walk(&mut |e| {
                if let Expr::Call { func, .. } = e
                    && let Expr::Path { path, .. } = &**func
                    && path.last().is_some_and(|n| names.contains(n))
                    && defs
                        .resolve_fn_path(f, path)
                        .iter()
                        .any(|g| factories.contains(g))
                {
                    calls = true;
                }
            });
            if calls {
                roots.insert(f);
                added = true;
            }
        }
        if !added {
            break;
        }
    }
    roots.into_iter().collect()
}

/// Whether fn `f` writes `App::new()` (actix's takes no arguments; clap's takes a name).
fn builds_app(defs: &DefMap<'_>, f: FnId) -> bool {
    let Some(data) = defs.fns.get(f) else {
        return false;
    };
    let Some(body) = &data.def.body else {
        return false;
    };
    let mut found = false;
    body.walk(&mut |e| {
        if let Expr::Call { func, args, .. } = e
            && args.is_empty()
            && let Expr::Path { path, .. } = &**func
            && path.ends_with(&["App", "new"])
            && defs.resolve_fn_path(f, path).is_empty()
        {
            found = true;
        }
    });
    found
}

/// An `App` or a `web::scope(..)`: a prefix, middleware, services.
#[derive(Debug, Clone, Default)]
struct Node {
    /// Every value the prefix may have (one unless chosen at runtime).
    prefixes: Vec<String>,
    /// In registration order (the last is the outermost).
    wraps: Vec<Middleware>,
    /// Methods a `.guard(guard::Post())` on the scope lets through (empty: any).
    methods: Vec<String>,
    children: Vec<Child>,
    /// How many `if`/`match`/loops enclosed its creation.
    depth: usize,
}

#[derive(Debug, Clone)]
enum Child {
    Scope(Node),
    Resource(Res),
    /// A fn with route attributes (`#[get("/p")]`) passed to `.service(..)`.
    Attr(FnId),
}

/// A `web::resource(..)` (or the resource `.route(path, ..)` makes).
#[derive(Debug, Clone, Default)]
struct Res {
    paths: Vec<String>,
    routes: Vec<RouteVal>,
    wraps: Vec<Middleware>,
    /// Methods a `.guard(guard::Get())` on the resource lets through (empty: any).
    methods: Vec<String>,
    depth: usize,
}

/// A `Route`: its methods (none = any) and handlers.
#[derive(Debug, Clone)]
struct RouteVal {
    methods: Vec<String>,
    handlers: Vec<Handler>,
    registered: Location,
}

#[derive(Debug, Clone)]
enum Handler {
    Fn(FnId),
    /// `web::get().to(|| async { .. })`: the fn the closure is written in.
    Closure {
        func: FnId,
        line: u32,
    },
    /// A handler outside the workspace (`HttpResponse::Ok`), as written.
    Unresolved(String),
    /// `actix_files::Files::new("/static", "./static")`, as written: files
    /// from disk, a `static` entry point.
    Files(String),
}

/// What an expression evaluates to, as far as routing is concerned.
#[derive(Debug, Clone)]
enum Val<'a> {
    Unknown,
    Str(String),
    /// A tuple, array or `vec![..]`: all of them.
    List(Vec<Val<'a>>),
    /// One of these, chosen at runtime by the construct named at the location.
    Alt(Vec<Val<'a>>, Location, &'static str),
    /// An `App` and its serial (each builder step makes a new one).
    App(Node, usize),
    Scope(Node),
    Resource(Res),
    Route(RouteVal),
    /// A path naming workspace fns.
    Fns(Vec<FnId>),
    Closure(Rc<Closure<'a>>),
    /// A `&mut ServiceConfig`: index of the sink its services go to.
    Cfg(usize),
}

impl Val<'_> {
    fn is_builder(&self) -> bool {
        match self {
            Val::App(..) | Val::Scope(_) | Val::Resource(_) | Val::Route(_) | Val::Cfg(_) => true,
            Val::List(xs) | Val::Alt(xs, ..) => xs.iter().any(Val::is_builder),
            _ => false,
        }
    }
}

#[derive(Debug)]
struct Closure<'a> {
    func: FnId,
    params: &'a [(Pat, Option<Ty>)],
    body: &'a Expr,
    line: u32,
    vars: Vec<(String, Val<'a>)>,
}

struct Frame<'a> {
    func: FnId,
    vars: Vec<(String, Val<'a>)>,
    returns: Vec<Val<'a>>,
}

impl<'a> Frame<'a> {
    fn new(func: FnId) -> Self {
        Frame {
            func,
            vars: Vec::new(),
            returns: Vec::new(),
        }
    }

    fn var(&self, name: &str) -> Option<&Val<'a>> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

struct Sink {
    children: Vec<Child>,
    depth: usize,
}

struct Interp<'d, 'a> {
    defs: &'d DefMap<'a>,
    /// The plan's `[prefix]` table.
    overrides: &'d Overrides,
    sinks: Vec<Sink>,
    stack: Vec<FnId>,
    /// Enclosing `if`/`match`/loops: where, and what.
    conds: Vec<(Location, &'static str)>,
    next_serial: usize,
    /// `App` values never extended further, by serial: the finished apps.
    apps: BTreeMap<usize, Node>,
    extended: BTreeSet<usize>,
    called: BTreeSet<FnId>,
    diags: Vec<Diagnostic>,
    budget: usize,
    closure_depth: usize,
}

impl<'d, 'a> Interp<'d, 'a> {
    fn new(defs: &'d DefMap<'a>, overrides: &'d Overrides) -> Self {
        Interp {
            defs,
            overrides,
            sinks: Vec::new(),
            stack: Vec::new(),
            conds: Vec::new(),
            next_serial: 0,
            apps: BTreeMap::new(),
            extended: BTreeSet::new(),
            called: BTreeSet::new(),
            diags: Vec::new(),
            budget: BUDGET,
            closure_depth: 0,
        }
    }

    fn run_root(&mut self, root: FnId) {
        let _ = self.call_fn(root, Vec::new(), false);
    }

    fn loc(&self, func: FnId, line: u32) -> Location {
        Location {
            file: self
                .defs
                .fns
                .get(func)
                .map(|f| f.file.to_owned())
                .unwrap_or_default(),
            line,
        }
    }

    fn line_or_fn(&self, func: FnId, line: Option<u32>) -> Location {
        let line = line.unwrap_or_else(|| self.defs.fns.get(func).map_or(0, |f| f.line));
        self.loc(func, line)
    }

    fn warn(&mut self, code: &'static str, at: &Location, message: String) {
        self.diags.push(Diagnostic::new(
            code,
            Severity::Warning,
            at.file.clone(),
            at.line,
            message,
        ));
    }

    fn chosen(&mut self, at: &Location, what: &str) {
        self.warn(
            "dynamic-route",
            at,
            format!(
                "actix routes are chosen by {what} here: cleave lists every variant it found; \
                 check which ones are live"
            ),
        );
    }

    // ---- calls -------------------------------------------------------

    fn call_fn(&mut self, f: FnId, args: Vec<Val<'a>>, path_call: bool) -> Val<'a> {
        let defs = self.defs;
        let Some(data) = defs.fns.get(f) else {
            return Val::Unknown;
        };
        let Some(body) = &data.def.body else {
            return Val::Unknown;
        };
        if self.stack.contains(&f) || self.stack.len() > MAX_DEPTH {
            return Val::Unknown;
        }
        self.called.insert(f);
        let mut fr = Frame::new(f);
        let mut args = args.into_iter();
        if data.def.receiver.is_some() && path_call {
            // `Type::method(receiver, ..)`: the receiver is not a parameter.
            args.next();
        }
        for (pat, _) in &data.def.params {
            let v = args.next().unwrap_or(Val::Unknown);
            bind(&mut fr, pat, v);
        }
        self.stack.push(f);
        let tail = self.eval_block(&mut fr, body);
        self.stack.pop();
        let at = self.loc(f, data.line);
        combine(fr.returns, tail, at)
    }

    fn call_closure(&mut self, c: &Closure<'a>, args: Vec<Val<'a>>) -> Val<'a> {
        if self.closure_depth > MAX_DEPTH {
            return Val::Unknown;
        }
        self.closure_depth += 1;
        let mut fr = Frame::new(c.func);
        fr.vars = c.vars.clone();
        let mut args = args.into_iter();
        for (pat, _) in c.params {
            let v = args.next().unwrap_or(Val::Unknown);
            bind(&mut fr, pat, v);
        }
        let tail = self.eval(&mut fr, c.body);
        self.closure_depth -= 1;
        let at = self.loc(c.func, c.line);
        combine(fr.returns, tail, at)
    }

    /// Whether interpreting a call to workspace fn `f` can matter for routing:
    /// it is handed a builder or a `ServiceConfig`, or returns a builder.
    fn worth_calling(&self, f: FnId, args: &[Val<'a>]) -> bool {
        if args.iter().any(Val::is_builder) {
            return true;
        }
        self.defs
            .fns
            .get(f)
            .and_then(|d| d.def.ret.as_ref())
            .is_some_and(|t| mentions(t, BUILDER_TYPES))
    }

    // ---- statements ----------------------------------------------------

    fn eval_block(&mut self, fr: &mut Frame<'a>, b: &'a Block) -> Val<'a> {
        let mark = fr.vars.len();
        let mut last = Val::Unknown;
        let n = b.stmts.len();
        for (i, s) in b.stmts.iter().enumerate() {
            match s {
                Stmt::Let { pat, init, els, .. } => {
                    let v = match init {
                        Some(e) => self.eval(fr, e),
                        None => Val::Unknown,
                    };
                    if let Some(els) = els {
                        let _ = self.eval_block(fr, els);
                    }
                    bind(fr, pat, v);
                }
                Stmt::Expr(e) => {
                    let v = self.eval(fr, e);
                    if i + 1 == n {
                        last = v;
                    }
                }
                Stmt::Semi(e) => {
                    if !self.assign(fr, e) {
                        let _ = self.eval(fr, e);
                    }
                }
                Stmt::Item(_) => {}
            }
        }
        fr.vars.truncate(mark);
        last
    }

    /// `scope = scope.service(..);` (an assignment lowers to a two-element
    /// `Other`; a tuple statement would be meaningless, so this is safe).
    fn assign(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> bool {
        let Expr::Other(xs) = e else { return false };
        let [Expr::Path { path, .. }, rhs] = xs.as_slice() else {
            return false;
        };
        let Some(name) = single(path) else {
            return false;
        };
        if fr.var(name).is_none() {
            return false;
        }
        let v = self.eval(fr, rhs);
        if let Some(slot) = fr.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
        true
    }

    // ---- expressions ---------------------------------------------------

    fn eval(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Val<'a> {
        if self.budget == 0 {
            return Val::Unknown;
        }
        self.budget -= 1;
        if self.budget == 0 {
            let at = self.line_or_fn(fr.func, e.line());
            self.warn(
                "actix-budget",
                &at,
                "the router-building code is too large to follow; actix routes past this \
                 point are not listed"
                    .to_owned(),
            );
            return Val::Unknown;
        }
        match e {
            Expr::Path { path, .. } => self.eval_path(fr, path),
            Expr::Lit {
                lit: Lit::Str(s), ..
            } => Val::Str(s.clone()),
            Expr::Lit { .. } => Val::Unknown,
            Expr::Call { func, args, line } => self.eval_call(fr, func, args, *line),
            Expr::MethodCall {
                receiver,
                method,
                args,
                line,
                ..
            } => self.eval_method(fr, receiver, method, args, *line),
            Expr::Closure {
                params, body, line, ..
            } => Val::Closure(Rc::new(Closure {
                func: fr.func,
                params,
                body,
                line: *line,
                vars: fr.vars.clone(),
            })),
            Expr::Block { block, .. } => self.eval_block(fr, block),
            Expr::Macro { path, args, line } => self.eval_macro(fr, path, args, *line),
            Expr::Struct { fields, rest, .. } => {
                for (_, f) in fields {
                    let _ = self.eval(fr, f);
                }
                if let Some(r) = rest {
                    let _ = self.eval(fr, r);
                }
                Val::Unknown
            }
            Expr::Field { base, .. } => {
                let _ = self.eval(fr, base);
                Val::Unknown
            }
            Expr::Let { expr, .. } => {
                let _ = self.eval(fr, expr);
                Val::Unknown
            }
            Expr::If { cond, then, els } => {
                let _ = self.eval(fr, cond);
                let at = self.line_or_fn(fr.func, cond.line());
                self.conds.push((at.clone(), "an `if`"));
                let a = self.eval_block(fr, then);
                let b = match els {
                    Some(x) => self.eval(fr, x),
                    None => Val::Unknown,
                };
                self.conds.pop();
                alt(vec![a, b], at, "an `if`")
            }
            Expr::Match { expr, arms } => {
                let _ = self.eval(fr, expr);
                let at = self.line_or_fn(fr.func, expr.line());
                self.conds.push((at.clone(), "a `match`"));
                let mut vals = Vec::new();
                for (pat, arm) in arms {
                    let mark = fr.vars.len();
                    bind(fr, pat, Val::Unknown);
                    vals.push(self.eval(fr, arm));
                    fr.vars.truncate(mark);
                }
                self.conds.pop();
                alt(vals, at, "a `match`")
            }
            Expr::Loop {
                pat,
                iter,
                body,
                line,
            } => {
                let items = match iter {
                    Some(x) => self.eval(fr, x),
                    None => Val::Unknown,
                };
                let at = self.loc(fr.func, *line);
                self.conds.push((at.clone(), "a loop"));
                let mark = fr.vars.len();
                if let Some(p) = pat {
                    let v = match items {
                        Val::List(xs) => Val::Alt(xs, at, "a loop"),
                        _ => Val::Unknown,
                    };
                    bind(fr, p, v);
                }
                let _ = self.eval_block(fr, body);
                fr.vars.truncate(mark);
                self.conds.pop();
                Val::Unknown
            }
            Expr::Wrap { kind, inner } => {
                let v = self.eval(fr, inner);
                match kind {
                    WrapKind::Return => {
                        fr.returns.push(v);
                        Val::Unknown
                    }
                    WrapKind::Await
                    | WrapKind::Try
                    | WrapKind::Ref
                    | WrapKind::Deref
                    | WrapKind::Paren => v,
                    WrapKind::Cast | WrapKind::Unary | WrapKind::Break => Val::Unknown,
                }
            }
            Expr::Other(xs) => {
                let vals: Vec<Val<'a>> = xs.iter().map(|x| self.eval(fr, x)).collect();
                if vals.iter().all(|v| matches!(v, Val::Unknown)) {
                    Val::Unknown
                } else {
                    Val::List(vals)
                }
            }
        }
    }

    fn eval_path(&mut self, fr: &mut Frame<'a>, path: &Path) -> Val<'a> {
        if let Some(name) = single(path)
            && let Some(v) = fr.var(name)
        {
            return v.clone();
        }
        let fns = self.defs.resolve_fn_path(fr.func, path);
        if !fns.is_empty() {
            return Val::Fns(fns);
        }
        const_str(self.defs, fr.func, path).map_or(Val::Unknown, Val::Str)
    }

    fn eval_macro(
        &mut self,
        fr: &mut Frame<'a>,
        path: &Path,
        args: &'a [Expr],
        line: u32,
    ) -> Val<'a> {
        let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
        match path.last() {
            // `vec![a, b]`, `web::services![a, b]`: every element.
            Some("vec" | "services") => Val::List(vals),
            // `concat!("/api", "/v1")`.
            Some("concat") => {
                let mut s = String::new();
                for v in &vals {
                    match v {
                        Val::Str(x) => s.push_str(x),
                        _ => return Val::Unknown,
                    }
                }
                Val::Str(s)
            }
            // `format!("{}/users", PREFIX)` with values cleave knows.
            Some("format") => format_str(fr, args, &vals).map_or(Val::Unknown, Val::Str),
            _ => {
                // A user macro handed a builder (`routes!(cfg)`): cleave cannot expand it.
                if vals.iter().any(Val::is_builder) {
                    let at = self.line_or_fn(fr.func, Some(line));
                    self.warn(
                        "unknown-config",
                        &at,
                        format!(
                            "actix builder handed to macro `{path}!`, which cleave cannot \
                             expand; the routes it registers are not listed"
                        ),
                    );
                }
                Val::Unknown
            }
        }
    }

    fn eval_call(
        &mut self,
        fr: &mut Frame<'a>,
        func: &'a Expr,
        args: &'a [Expr],
        line: u32,
    ) -> Val<'a> {
        let Expr::Path { path, .. } = func.peel() else {
            let f = self.eval(fr, func);
            let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
            return match f {
                Val::Closure(c) => self.call_closure(&c, vals),
                _ => Val::Unknown,
            };
        };
        // A closure bound to a local: `let routes = |cfg| ..; routes(cfg)`.
        if let Some(name) = single(path)
            && let Some(v) = fr.var(name).cloned()
        {
            let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
            return match v {
                Val::Closure(c) => self.call_closure(&c, vals),
                Val::Fns(ids) => {
                    let outs = ids
                        .into_iter()
                        .map(|f| self.call_fn(f, vals.clone(), true))
                        .collect();
                    alt(outs, self.loc(fr.func, line), "a call with several targets")
                }
                _ => Val::Unknown,
            };
        }
        let targets = self.defs.resolve_fn_path(fr.func, path);
        if !targets.is_empty() {
            // A workspace fn: a configure fn, a scope-building fn, a factory.
            let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
            if !targets.iter().any(|&t| self.worth_calling(t, &vals)) {
                return Val::Unknown;
            }
            let mut outs = Vec::new();
            for &t in &targets {
                outs.push(self.call_fn(t, vals.clone(), true));
            }
            let at = self.loc(fr.func, line);
            return alt(outs, at, "a call with several targets");
        }
        let at = self.loc(fr.func, line);
        // `App::new()`: a new app.
        if path.ends_with(&["App", "new"]) && args.is_empty() {
            let serial = self.next_serial;
            self.next_serial += 1;
            let node = Node {
                prefixes: vec![String::new()],
                depth: self.conds.len(),
                ..Node::default()
            };
            self.apps.insert(serial, node.clone());
            return Val::App(node, serial);
        }
        // `web::scope("/p")`, `Scope::new("/p")`.
        if is_ctor(path, "scope", "Scope") && args.len() == 1 {
            let prefixes = self.prefixes_of(fr, &args[0], &at);
            return Val::Scope(Node {
                prefixes,
                depth: self.conds.len(),
                ..Node::default()
            });
        }
        // `web::redirect("/from", "/to")`: a service answering any method at
        // `/from` with a redirect (actix's `Redirect`, outside the workspace).
        if path.ends_with(&["web", "redirect"]) && args.len() == 2 {
            let paths = self.paths_of(fr, args.first(), &at);
            return Val::Resource(Res {
                paths,
                routes: vec![RouteVal {
                    methods: Vec::new(),
                    handlers: vec![Handler::Unresolved("actix_web::web::Redirect".into())],
                    registered: at.clone(),
                }],
                depth: self.conds.len(),
                ..Res::default()
            });
        }
        // `actix_files::Files::new("/static", "./static")`: files under the
        // mount path, for GET.
        if let [.., ty, ctor] = path.segments.as_ref()
            && ctor.name == "new"
            && ACTIX_WEB.file_services.contains(&ty.name.as_str())
            && !args.is_empty()
        {
            let mounts = self.paths_of(fr, args.first(), &at);
            let paths = mounts
                .iter()
                .flat_map(|m| [m.clone(), format!("{}/{{*path}}", m.trim_end_matches('/'))])
                .collect();
            return Val::Resource(Res {
                paths,
                routes: vec![RouteVal {
                    methods: vec!["GET".to_owned()],
                    handlers: vec![Handler::Files(format!(
                        "{}({})",
                        path_text(path),
                        args.iter().map(expr_text).collect::<Vec<_>>().join(", ")
                    ))],
                    registered: at.clone(),
                }],
                depth: self.conds.len(),
                ..Res::default()
            });
        }
        // `web::resource("/p")`, `web::resource(["/a", "/b"])`, `Resource::new("/p")`.
        if is_ctor(path, "resource", "Resource") && args.len() == 1 {
            let paths = self.paths_of(fr, args.first(), &at);
            return Val::Resource(Res {
                paths,
                depth: self.conds.len(),
                ..Res::default()
            });
        }
        // `web::get()` .. `web::trace()`: a route for one method.
        if args.is_empty()
            && let Some(name) = path.last()
            && (path.segments.len() == 1 || path.ends_with(&["web", name]))
            && let Some((_, m)) = ROUTE_FNS.iter().find(|(f, _)| *f == name)
        {
            return Val::Route(RouteVal {
                methods: vec![(*m).to_owned()],
                handlers: Vec::new(),
                registered: at,
            });
        }
        // `web::route()`, `Route::new()`: a route for any method (until guarded).
        if args.is_empty()
            && (path.ends_with(&["web", "route"]) || path.ends_with(&["Route", "new"]))
        {
            return Val::Route(RouteVal {
                methods: Vec::new(),
                handlers: Vec::new(),
                registered: at,
            });
        }
        // `web::method(Method::PATCH)`.
        if path.ends_with(&["web", "method"])
            && let Some(arg) = args.first()
        {
            let methods = self.method_of(arg, &at).into_iter().collect();
            return Val::Route(RouteVal {
                methods,
                handlers: Vec::new(),
                registered: at,
            });
        }
        // `web::to(h)`: a route for any method with its handler.
        if path.ends_with(&["web", "to"])
            && let Some(arg) = args.first()
        {
            let v = self.eval(fr, arg);
            let handlers = self.handlers_of(v, arg, &at);
            return Val::Route(RouteVal {
                methods: Vec::new(),
                handlers,
                registered: at,
            });
        }
        // `String::from("/p")`.
        if path.ends_with(&["String", "from"])
            && let Some(arg) = args.first()
        {
            return match self.eval(fr, arg) {
                Val::Str(s) => Val::Str(s),
                _ => Val::Unknown,
            };
        }
        // Anything else is outside the workspace; closures handed to it
        // (`HttpServer::new(move || App::new()..)`) run, since the App is built there.
        let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
        if vals.iter().any(|v| matches!(v, Val::Cfg(_))) {
            self.warn(
                "unknown-config",
                &at,
                format!(
                    "actix `ServiceConfig` handed to `{}(..)`, which is not a workspace fn; \
                     the routes it registers are not listed",
                    path_text(path)
                ),
            );
        }
        for v in vals {
            if let Val::Closure(c) = v {
                let _ = self.call_closure(&c, Vec::new());
            }
        }
        Val::Unknown
    }

    fn eval_method(
        &mut self,
        fr: &mut Frame<'a>,
        receiver: &'a Expr,
        method: &str,
        args: &'a [Expr],
        line: u32,
    ) -> Val<'a> {
        let recv = self.eval(fr, receiver);
        let at = self.loc(fr.func, line);
        self.dispatch(fr, recv, method, args, &at)
    }

    fn dispatch(
        &mut self,
        fr: &mut Frame<'a>,
        recv: Val<'a>,
        method: &str,
        args: &'a [Expr],
        at: &Location,
    ) -> Val<'a> {
        let at = at.clone();
        if method == "clone" {
            return recv;
        }
        match recv {
            // A builder chosen by an `if` (`let app = if x { .. } else { .. }; app.wrap(..)`):
            // the call applies to each.
            Val::Alt(xs, where_, what) if xs.iter().any(Val::is_builder) => {
                self.chosen(&where_, what);
                let ys = xs
                    .into_iter()
                    .map(|x| self.dispatch(fr, x, method, args, &at))
                    .collect();
                alt(ys, where_, what)
            }
            Val::App(node, serial) => {
                let node = if is_node_method(method) {
                    self.apply_node(fr, node, method, args, &at)
                } else {
                    // An extension (`utoipa_actix_web`'s `into_utoipa_app()`, ..):
                    // followed as if it kept the app, and said so.
                    self.warn(
                        "unknown-builder",
                        &at,
                        format!(
                            "actix `App::{method}(..)` is not an actix-web builder method; \
                             cleave assumes it keeps the app's routes and middleware"
                        ),
                    );
                    for a in args {
                        let _ = self.eval(fr, a);
                    }
                    node
                };
                self.extended.insert(serial);
                self.apps.remove(&serial);
                let next = self.next_serial;
                self.next_serial += 1;
                self.apps.insert(next, node.clone());
                Val::App(node, next)
            }
            Val::Scope(node) if is_node_method(method) => {
                Val::Scope(self.apply_node(fr, node, method, args, &at))
            }
            Val::Resource(res) => self.apply_resource(fr, res, method, args, &at),
            Val::Route(route) => self.apply_route(fr, route, method, args, &at),
            // `cfg.service(..)`, `cfg.route(..)`, `cfg.configure(..)` on a `&mut ServiceConfig`.
            Val::Cfg(i) if is_node_method(method) => {
                let depth = self.sinks.get(i).map_or(0, |s| s.depth);
                let node = Node {
                    depth,
                    ..Node::default()
                };
                let node = self.apply_node(fr, node, method, args, &at);
                if let Some(s) = self.sinks.get_mut(i) {
                    s.children.extend(node.children);
                }
                Val::Cfg(i)
            }
            // `"/api".to_string()` and friends keep the text.
            Val::Str(s)
                if matches!(
                    method,
                    "to_string" | "to_owned" | "into" | "as_str" | "as_ref"
                ) =>
            {
                Val::Str(s)
            }
            _ => self.opaque_method(fr, method, args),
        }
    }

    /// A method cleave does not model: arguments are still evaluated; a
    /// `ServiceConfig` handed to a workspace method (`self.routes(cfg)`) is
    /// followed; closures passed in run under a "maybe" condition.
    fn opaque_method(&mut self, fr: &mut Frame<'a>, method: &str, args: &'a [Expr]) -> Val<'a> {
        let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
        if vals.iter().any(|v| matches!(v, Val::Cfg(_))) {
            if let [only] = self.defs.methods_named(method) {
                return self.call_fn(*only, vals, false);
            }
            let at = self.line_or_fn(fr.func, args.first().and_then(Expr::line));
            self.warn(
                "unknown-config",
                &at,
                format!(
                    "actix `ServiceConfig` handed to `.{method}(..)`, which cleave cannot \
                     follow; the routes it registers are not listed"
                ),
            );
        }
        for (v, a) in vals.into_iter().zip(args) {
            if let Val::Closure(c) = v {
                let at = self.line_or_fn(fr.func, a.line());
                self.conds.push((at, "a closure passed to a method"));
                let _ = self.call_closure(&c, Vec::new());
                self.conds.pop();
            }
        }
        Val::Unknown
    }

    /// `App`, `Scope` and `ServiceConfig` builder methods.
    fn apply_node(
        &mut self,
        fr: &mut Frame<'a>,
        mut node: Node,
        method: &str,
        args: &'a [Expr],
        at: &Location,
    ) -> Node {
        match method {
            "service" => {
                for a in args {
                    let v = self.eval(fr, a);
                    self.add_service(&mut node, v, a, at);
                }
            }
            "route" => {
                let paths = self.paths_of(fr, args.first(), at);
                let rv = match args.get(1) {
                    Some(a) => self.eval(fr, a),
                    None => Val::Unknown,
                };
                let mut routes = self.routes_of(rv, args.get(1), at);
                for r in &mut routes {
                    r.registered = at.clone();
                }
                let res = Res {
                    paths,
                    routes,
                    depth: node.depth,
                    ..Res::default()
                };
                self.push_child(&mut node.children, node.depth, Child::Resource(res));
            }
            "configure" => {
                if let Some(a) = args.first() {
                    let v = self.eval(fr, a);
                    let kids = self.run_config(v, a, at);
                    for k in kids {
                        self.push_child(&mut node.children, node.depth, k);
                    }
                }
            }
            "wrap" | "wrap_fn" => {
                if let Some(a) = args.first() {
                    let mw = self.middleware(fr.func, method, a, at);
                    node.wraps.push(mw);
                }
            }
            // `web::scope("/auth").guard(guard::Post())`: only those methods get in.
            "guard" => {
                if let Some(a) = args.first() {
                    node.methods = narrow(&node.methods, &guard_methods(a));
                }
            }
            // `default_service`, `app_data`, ...: not routes.
            _ => {
                for a in args {
                    let _ = self.eval(fr, a);
                }
            }
        }
        node
    }

    fn apply_resource(
        &mut self,
        fr: &mut Frame<'a>,
        mut res: Res,
        method: &str,
        args: &'a [Expr],
        at: &Location,
    ) -> Val<'a> {
        match method {
            // `.route(web::get().to(h))`.
            "route" => {
                let v = match args.first() {
                    Some(a) => self.eval(fr, a),
                    None => Val::Unknown,
                };
                let routes = self.routes_of(v, args.first(), at);
                self.note_conditional(res.depth);
                res.routes.extend(routes);
            }
            // `.to(h)`: any method; `.get(h)` .. `.trace(h)`: one method.
            m if m == "to" || ROUTE_FNS.iter().any(|(f, _)| *f == m) => {
                let Some(arg) = args.first() else {
                    return Val::Resource(res);
                };
                let v = self.eval(fr, arg);
                let handlers = self.handlers_of(v, arg, at);
                let methods = ROUTE_FNS
                    .iter()
                    .find(|(f, _)| *f == m)
                    .map(|(_, up)| vec![(*up).to_owned()])
                    .unwrap_or_default();
                self.note_conditional(res.depth);
                res.routes.push(RouteVal {
                    methods,
                    handlers,
                    registered: at.clone(),
                });
            }
            "wrap" | "wrap_fn" => {
                if let Some(a) = args.first() {
                    let mw = self.middleware(fr.func, method, a, at);
                    res.wraps.push(mw);
                }
            }
            "clone" => {}
            "guard" => {
                if let Some(a) = args.first() {
                    res.methods = narrow(&res.methods, &guard_methods(a));
                }
            }
            // `name`, `app_data`, `default_service`: not routes.
            _ => {
                for a in args {
                    let _ = self.eval(fr, a);
                }
            }
        }
        Val::Resource(res)
    }

    fn apply_route(
        &mut self,
        fr: &mut Frame<'a>,
        mut route: RouteVal,
        method: &str,
        args: &'a [Expr],
        at: &Location,
    ) -> Val<'a> {
        match method {
            "to" => {
                if let Some(arg) = args.first() {
                    let v = self.eval(fr, arg);
                    route.handlers = self.handlers_of(v, arg, at);
                    route.registered = at.clone();
                }
            }
            // `web::route().method(Method::GET)`.
            "method" => {
                if let Some(arg) = args.first() {
                    route.methods.extend(self.method_of(arg, at));
                }
            }
            // `web::route().guard(guard::Get())`: method guards narrow the route.
            "guard" => {
                if let Some(arg) = args.first() {
                    route.methods.extend(guard_methods(arg));
                    route.methods.sort();
                    route.methods.dedup();
                }
            }
            _ => {
                for a in args {
                    let _ = self.eval(fr, a);
                }
            }
        }
        Val::Route(route)
    }

    /// Runs a configure fn or closure against a fresh `ServiceConfig` and
    /// returns what it registered.
    fn run_config(&mut self, v: Val<'a>, arg: &'a Expr, at: &Location) -> Vec<Child> {
        let sink = self.sinks.len();
        self.sinks.push(Sink {
            children: Vec::new(),
            depth: self.conds.len(),
        });
        self.fill_config(v, sink, arg, at);
        self.sinks
            .get_mut(sink)
            .map(|s| std::mem::take(&mut s.children))
            .unwrap_or_default()
    }

    fn fill_config(&mut self, v: Val<'a>, sink: usize, arg: &'a Expr, at: &Location) {
        match v {
            // `configure(routes::config)`, `configure(listing::<User>)`.
            Val::Fns(ids) => {
                for f in ids {
                    let n = self.defs.fns.get(f).map_or(0, |d| d.def.params.len());
                    let at_param = cfg_param(self.defs, f);
                    let args = (0..n.max(1))
                        .map(|i| {
                            if i == at_param {
                                Val::Cfg(sink)
                            } else {
                                Val::Unknown
                            }
                        })
                        .collect();
                    let _ = self.call_fn(f, args, false);
                }
            }
            // `configure(|cfg| { .. })`.
            Val::Closure(c) => {
                let _ = self.call_closure(&c, vec![Val::Cfg(sink)]);
            }
            Val::List(xs) => {
                for x in xs {
                    self.fill_config(x, sink, arg, at);
                }
            }
            Val::Alt(xs, where_, what) => {
                self.chosen(&where_, what);
                for x in xs {
                    self.fill_config(x, sink, arg, at);
                }
            }
            _ => self.warn(
                "unknown-config",
                at,
                format!(
                    "actix `configure({})`: cleave cannot find this configure fn in the \
                     workspace; the routes it registers are not listed",
                    expr_text(arg)
                ),
            ),
        }
    }

    /// A registration inside an `if`/`match`/loop that the builder was not created in.
    fn note_conditional(&mut self, depth: usize) {
        if self.conds.len() > depth
            && let Some((where_, what)) = self.conds.last().cloned()
        {
            self.chosen(&where_, what);
        }
    }

    fn push_child(&mut self, children: &mut Vec<Child>, depth: usize, c: Child) {
        self.note_conditional(depth);
        children.push(c);
    }

    fn add_service(&mut self, node: &mut Node, v: Val<'a>, arg: &'a Expr, at: &Location) {
        match v {
            Val::Scope(n) => self.push_child(&mut node.children, node.depth, Child::Scope(n)),
            Val::Resource(r) => self.push_child(&mut node.children, node.depth, Child::Resource(r)),
            Val::Fns(ids) => {
                for f in ids {
                    if has_route_attrs(self.defs, f) {
                        self.push_child(&mut node.children, node.depth, Child::Attr(f));
                    } else {
                        let id = self.defs.fns.get(f).map_or("", |d| d.id.as_str());
                        self.warn(
                            "unknown-service",
                            at,
                            format!(
                                "actix `.service({})` names `{id}`, which has no route \
                                 attribute (`#[get(..)]`); its routes are not listed",
                                expr_text(arg)
                            ),
                        );
                    }
                }
            }
            Val::List(xs) => {
                for x in xs {
                    self.add_service(node, x, arg, at);
                }
            }
            Val::Alt(xs, where_, what) => {
                self.chosen(&where_, what);
                for x in xs {
                    self.add_service(node, x, arg, at);
                }
            }
            _ => self.warn(
                "unknown-service",
                at,
                format!(
                    "actix `.service({})`: cleave cannot read this service; the routes it \
                     serves are not listed",
                    expr_text(arg)
                ),
            ),
        }
    }

    /// The routes a `.route(..)` argument stands for.
    fn routes_of(&mut self, v: Val<'a>, arg: Option<&'a Expr>, at: &Location) -> Vec<RouteVal> {
        match v {
            Val::Route(r) => vec![r],
            Val::List(xs) => xs
                .into_iter()
                .flat_map(|x| self.routes_of(x, arg, at))
                .collect(),
            Val::Alt(xs, where_, what) => {
                self.chosen(&where_, what);
                xs.into_iter()
                    .flat_map(|x| self.routes_of(x, arg, at))
                    .collect()
            }
            _ => {
                let message = match arg {
                    Some(a) => format!(
                        "actix route `{}`: cleave cannot read this route; it is not listed",
                        expr_text(a)
                    ),
                    None => "actix `.route(..)` without a route: nothing is listed".to_owned(),
                };
                self.warn("unknown-service", at, message);
                Vec::new()
            }
        }
    }

    /// Every value a scope's prefix may have. One computed at runtime (a
    /// configured base path) is read by the shared prefix evaluator: its
    /// runtime parts are assumed empty, or set by the plan's `[prefix]`
    /// table, with a warning.
    fn prefixes_of(&mut self, fr: &mut Frame<'a>, arg: &'a Expr, at: &Location) -> Vec<String> {
        match self.eval(fr, arg) {
            Val::Str(s) => vec![s],
            Val::Alt(xs, where_, what) if xs.iter().all(|x| matches!(x, Val::Str(_))) => {
                self.chosen(&where_, what);
                xs.into_iter()
                    .filter_map(|x| match x {
                        Val::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect()
            }
            _ => {
                let parts = super::prefix::parts(self.defs, fr.func, arg);
                vec![super::prefix::settle(
                    &parts,
                    arg,
                    &at.file,
                    at.line,
                    self.overrides,
                    &mut self.diags,
                )]
            }
        }
    }

    /// Every value a path argument may have; a runtime value becomes a
    /// `{placeholder}` and a diagnostic.
    fn paths_of(
        &mut self,
        fr: &mut Frame<'a>,
        arg: Option<&'a Expr>,
        at: &Location,
    ) -> Vec<String> {
        let Some(arg) = arg else {
            return vec![String::new()];
        };
        let v = self.eval(fr, arg);
        let mut out = Vec::new();
        self.strs(v, arg, at, &mut out);
        out
    }

    fn strs(&mut self, v: Val<'a>, arg: &'a Expr, at: &Location, out: &mut Vec<String>) {
        match v {
            Val::Str(s) => out.push(s),
            // `web::resource(["/a", "/b"])`: each path. (A list holding anything
            // else is a `base + "/x"` or an index: one runtime value.)
            Val::List(xs) if xs.iter().all(|x| matches!(x, Val::Str(_))) => {
                for x in xs {
                    self.strs(x, arg, at, out);
                }
            }
            Val::Alt(xs, where_, what) => {
                self.chosen(&where_, what);
                for x in xs {
                    self.strs(x, arg, at, out);
                }
            }
            _ => {
                let text = expr_text(arg);
                let name = placeholder(&text);
                self.warn(
                    "dynamic-route",
                    at,
                    format!(
                        "actix path `{text}` is computed at runtime: cleave writes it as \
                         `{{{name}}}`; check the real value"
                    ),
                );
                out.push(format!("{{{name}}}"));
            }
        }
    }

    fn handlers_of(&mut self, v: Val<'a>, arg: &'a Expr, at: &Location) -> Vec<Handler> {
        match v {
            Val::Fns(ids) => {
                if ids.len() > 1 {
                    self.warn(
                        "unresolved-handler",
                        at,
                        format!(
                            "actix handler `{}` may be any of {} workspace fns; cleave lists \
                             each",
                            expr_text(arg),
                            ids.len()
                        ),
                    );
                }
                ids.into_iter().map(Handler::Fn).collect()
            }
            Val::Closure(c) => vec![Handler::Closure {
                func: c.func,
                line: c.line,
            }],
            Val::Alt(xs, where_, what) => {
                self.chosen(&where_, what);
                xs.into_iter()
                    .flat_map(|x| self.handlers_of(x, arg, at))
                    .collect()
            }
            _ => {
                let text = expr_text(arg);
                self.warn(
                    "unresolved-handler",
                    at,
                    format!(
                        "actix handler `{text}` is not a workspace fn cleave can find; the \
                         route is listed with the handler as written"
                    ),
                );
                vec![Handler::Unresolved(text)]
            }
        }
    }

    /// `Method::GET`, `http::Method::POST`.
    fn method_of(&mut self, arg: &Expr, at: &Location) -> Option<String> {
        if let Expr::Path { path, .. } = arg.peel()
            && let Some(last) = path.last()
        {
            let up = last.to_ascii_uppercase();
            if HTTP_METHODS.contains(&up.as_str()) {
                return Some(up);
            }
        }
        self.warn(
            "dynamic-route",
            at,
            format!(
                "actix route method `{}` is not a constant cleave can read; the route is \
                 listed as `ANY`",
                expr_text(arg)
            ),
        );
        None
    }

    fn middleware(&self, func: FnId, kind: &str, arg: &'a Expr, at: &Location) -> Middleware {
        // `let auth = HttpAuthentication::bearer(validator); .. .wrap(auth)`: the bound value.
        let arg = let_bound(self.defs, func, arg, at.line);
        Middleware {
            kind: kind.to_owned(),
            name: expr_text(arg),
            handler: middleware_fn(self.defs, func, arg),
            at: at.clone(),
        }
    }
}

/// Binds a pattern's names to a value (destructuring tuples of lists);
/// names it cannot pair with a value shadow as unknown.
fn bind<'a>(fr: &mut Frame<'a>, pat: &Pat, v: Val<'a>) {
    match (pat, v) {
        (Pat::Ident(n), v) => fr.vars.push((n.clone(), v)),
        (Pat::Ref(inner), v) => bind(fr, inner, v),
        (Pat::Tuple(ps), Val::List(vs)) if ps.len() == vs.len() => {
            for (p, v) in ps.iter().zip(vs) {
                bind(fr, p, v);
            }
        }
        (p, _) => {
            let mut names = Vec::new();
            pat_names(p, &mut names);
            for n in names {
                fr.vars.push((n, Val::Unknown));
            }
        }
    }
}

fn pat_names(p: &Pat, out: &mut Vec<String>) {
    match p {
        Pat::Ident(n) => out.push(n.clone()),
        Pat::TupleStruct(_, ps) | Pat::Tuple(ps) | Pat::Or(ps) => {
            for p in ps {
                pat_names(p, out);
            }
        }
        Pat::Struct(_, fs) => {
            for (_, p) in fs {
                pat_names(p, out);
            }
        }
        Pat::Ref(p) => pat_names(p, out),
        Pat::Path(_) | Pat::Other => {}
    }
}

/// A fn's value: its tail, or each value it returns.
fn combine<'a>(returns: Vec<Val<'a>>, tail: Val<'a>, at: Location) -> Val<'a> {
    let mut vals = returns;
    vals.push(tail);
    alt(vals, at, "early `return`s")
}

/// One of several values; unknown-only collapses to unknown, one to itself.
fn alt<'a>(vals: Vec<Val<'a>>, at: Location, what: &'static str) -> Val<'a> {
    let mut flat = Vec::new();
    for v in vals {
        match v {
            Val::Alt(xs, _, _) => flat.extend(xs),
            v => flat.push(v),
        }
    }
    let known: Vec<&Val<'a>> = flat.iter().filter(|v| !matches!(v, Val::Unknown)).collect();
    match known.as_slice() {
        [] => Val::Unknown,
        [one] => (*one).clone(),
        _ => Val::Alt(
            flat.into_iter()
                .filter(|v| !matches!(v, Val::Unknown))
                .collect(),
            at,
            what,
        ),
    }
}

fn single(path: &Path) -> Option<&str> {
    match &path.segments[..] {
        [s] if !path.leading_colon => Some(s.name.as_str()),
        _ => None,
    }
}

/// `web::scope`, `scope` (imported), `Scope::new`.
fn is_ctor(path: &Path, func: &str, ty: &str) -> bool {
    path.ends_with(&["web", func]) || path.is_ident(func) || path.ends_with(&[ty, "new"])
}

/// The methods two guards both let through; an empty list lets through any.
fn narrow(outer: &[String], inner: &[String]) -> Vec<String> {
    match (outer.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_vec(),
        (false, true) => outer.to_vec(),
        (false, false) => outer
            .iter()
            .filter(|m| inner.contains(m))
            .cloned()
            .collect(),
    }
}

/// Builder methods shared by `App`, `Scope` and `ServiceConfig`.
fn is_node_method(m: &str) -> bool {
    matches!(
        m,
        "service"
            | "route"
            | "configure"
            | "wrap"
            | "wrap_fn"
            | "default_service"
            | "app_data"
            | "data"
            | "data_factory"
            | "guard"
            | "external_resource"
    )
}

/// Whether a type mentions one of `names` anywhere (`App<impl ServiceFactory<..>>`).
fn mentions(t: &Ty, names: &[&str]) -> bool {
    match t {
        Ty::Path(p) => path_mentions(p, names),
        Ty::Ref(i) | Ty::Slice(i) => mentions(i, names),
        Ty::Dyn(ps) | Ty::Impl(ps) => ps.iter().any(|p| path_mentions(p, names)),
        Ty::Tuple(ts) => ts.iter().any(|t| mentions(t, names)),
        Ty::Other => false,
    }
}

fn path_mentions(p: &Path, names: &[&str]) -> bool {
    p.segments
        .iter()
        .any(|s| names.contains(&s.name.as_str()) || s.generics.iter().any(|g| mentions(g, names)))
}

/// Which parameter of a configure fn takes the `&mut ServiceConfig` (the first if none says).
fn cfg_param(defs: &DefMap<'_>, f: FnId) -> usize {
    defs.fns
        .get(f)
        .and_then(|d| {
            d.def
                .params
                .iter()
                .position(|(_, t)| mentions(t, &["ServiceConfig"]))
        })
        .unwrap_or(0)
}

/// A `const`/`static` string named by a path (`web::scope(API_PREFIX)`).
fn const_str(defs: &DefMap<'_>, func: FnId, path: &Path) -> Option<String> {
    let module = defs.fns.get(func)?.module;
    let names: Vec<String> = path.names().map(str::to_owned).collect();
    defs.resolve_names(module, &names, path.leading_colon)
        .into_iter()
        .find_map(|d| match d {
            Def::Static(s) => match &defs.statics.get(s)?.item.kind {
                ItemKind::Const { init, .. } | ItemKind::Static { init, .. } => {
                    init.as_str().map(str::to_owned)
                }
                _ => None,
            },
            _ => None,
        })
}

/// `format!` with `{}`, `{0}` and `{name}` holes filled from known strings.
fn format_str(fr: &Frame<'_>, args: &[Expr], vals: &[Val<'_>]) -> Option<String> {
    let template = args.first()?.as_str()?;
    let text = |v: Option<&Val<'_>>| match v {
        Some(Val::Str(s)) => Some(s.clone()),
        _ => None,
    };
    super::expand_format(template, |hole| match hole {
        super::Hole::Index(i) => text(vals.get(i + 1)),
        super::Hole::Named(name) => text(fr.var(name)),
    })
}

/// A parameter-like name for a path part computed at runtime.
fn placeholder(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('_') && !s.is_empty() {
            s.push('_');
        }
    }
    let s: String = s.trim_matches('_').chars().take(40).collect();
    if s.is_empty() {
        "dynamic".to_owned()
    } else {
        s
    }
}

/// Methods named by guards in a guard expression (`guard::Any(guard::Get()).or(guard::Post())`).
fn guard_methods(e: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    let mut negated = false;
    e.walk(&mut |x| {
        if let Expr::Call { func, args, .. } = x
            && let Expr::Path { path, .. } = &**func
            && let Some(last) = path.last()
        {
            if last == "Not" {
                negated = true;
            }
            if let Some((_, m)) = GUARD_METHODS.iter().find(|(g, _)| *g == last) {
                out.push((*m).to_owned());
            }
            // `guard::Method(Method::GET)`.
            if last == "Method"
                && let Some(Expr::Path { path: mp, .. }) = args.first().map(Expr::peel)
                && let Some(m) = mp.last()
                && HTTP_METHODS.contains(&m)
            {
                out.push(m.to_owned());
            }
        }
    });
    if negated { Vec::new() } else { out }
}

/// The value a middleware local was bound to: `auth` (or `auth.clone()`)
/// after `let auth = HttpAuthentication::bearer(validate);` in the same fn
/// (its closures included) is that call; the last such `let` written at or
/// before `line`. Anything else is returned as it is.
fn let_bound<'e>(defs: &DefMap<'e>, func: FnId, e: &'e Expr, line: u32) -> &'e Expr {
    let mut cur = e;
    for _ in 0..4 {
        let mut peeled = cur.peel();
        while let Expr::MethodCall {
            receiver, method, ..
        } = peeled
            && method == "clone"
        {
            peeled = receiver.peel();
        }
        let Expr::Path { path, .. } = peeled else {
            return cur;
        };
        let Some(name) = single(path) else {
            return cur;
        };
        let Some(body) = defs.fns.get(func).and_then(|d| d.def.body.as_ref()) else {
            return cur;
        };
        let mut found: Option<&'e Expr> = None;
        super::rocket::lets_in_block(body, &mut |n, init| {
            if n == name && init.line().is_none_or(|l| l <= line) {
                found = Some(init);
            }
        });
        match found {
            Some(init) if !std::ptr::eq(init, cur) => cur = init,
            _ => return cur,
        }
    }
    cur
}

/// The workspace fn implementing a middleware: `from_fn(f)`, `wrap_fn(f)`,
/// a fn handed to a constructor (`HttpAuthentication::bearer(validator)`,
/// `::basic(f)`, `::with_fn(f)`), the one workspace fn a closure calls
/// (`wrap_fn(|req, srv| { check(&req); srv.call(req) })`), or for a
/// workspace `Transform` (`.wrap(RateLimit::new(..))`) the `call` of the
/// service it builds (else its `new_transform`).
fn middleware_fn(defs: &DefMap<'_>, func: FnId, e: &Expr) -> Option<String> {
    if let Some(g) = middleware_service(defs, func, e, "Transform") {
        return defs.fns.get(g).map(|d| d.id.clone());
    }
    let named = |p: &Path| {
        defs.resolve_fn_path(func, p)
            .first()
            .and_then(|f| defs.fns.get(*f))
            .map(|d| d.id.clone())
    };
    match e.peel() {
        Expr::Path { path, .. } => named(path),
        Expr::Closure { body, .. } => closure_fn(defs, func, body),
        Expr::Call { args, .. } => args.iter().find_map(|a| match a.peel() {
            Expr::Path { path, .. } => named(path),
            Expr::Closure { body, .. } => closure_fn(defs, func, body),
            _ => None,
        }),
        _ => None,
    }
}

/// The one workspace fn a closure's body calls by path, if it calls exactly one.
fn closure_fn(defs: &DefMap<'_>, func: FnId, body: &Expr) -> Option<String> {
    let mut called = BTreeSet::new();
    body.walk(&mut |x| {
        if let Expr::Call { func: callee, .. } = x
            && let Expr::Path { path, .. } = callee.peel()
        {
            called.extend(defs.resolve_fn_path(func, path));
        }
    });
    match called.into_iter().collect::<Vec<_>>().as_slice() {
        [g] => defs.fns.get(*g).map(|d| d.id.clone()),
        _ => None,
    }
}

/// For a middleware value of a workspace type that implements the factory
/// trait `factory` (actix `Transform`, tower `Layer`): the `call` of the
/// `Service` its factory method builds (`new_transform` returning
/// `RateLimitMiddleware { service, .. }`), else the factory method itself.
/// The value is a unit struct, a struct literal, a tuple struct, a
/// constructor (`RateLimit::new(..)`, a fn returning the type) or a builder
/// chain on one of those.
pub(super) fn middleware_service(
    defs: &DefMap<'_>,
    func: FnId,
    e: &Expr,
    factory: &str,
) -> Option<FnId> {
    let t = value_type(defs, func, e, 0)?;
    let imp = defs.impls.iter().find(|i| {
        i.self_def == Some(t)
            && i.trait_.is_none()
            && i.trait_path.and_then(Path::last) == Some(factory)
    })?;
    let methods: Vec<FnId> = imp.methods.values().copied().collect();
    for &m in &methods {
        let Some(body) = defs.fns.get(m).and_then(|d| d.def.body.as_ref()) else {
            continue;
        };
        let module = defs.fns[m].module;
        let mut built = None;
        body.walk(&mut |x| {
            let path = match x {
                Expr::Struct { path, .. } => path,
                Expr::Call { func: callee, .. } => match callee.peel() {
                    Expr::Path { path, .. } => path,
                    _ => return,
                },
                _ => return,
            };
            if built.is_none()
                && let Some(u) = defs.resolve_type_path(module, path)
                && u != t
            {
                built = service_call(defs, u);
            }
        });
        if built.is_some() {
            return built;
        }
    }
    methods.first().copied()
}

/// The `call` of a workspace type's `Service` impl.
fn service_call(defs: &DefMap<'_>, t: TypeId) -> Option<FnId> {
    defs.impls
        .iter()
        .filter(|i| i.self_def == Some(t) && i.trait_path.and_then(Path::last) == Some("Service"))
        .find_map(|i| i.methods.get("call").copied())
}

/// The workspace type an expression builds, where the syntax shows it.
fn value_type(defs: &DefMap<'_>, func: FnId, e: &Expr, depth: u32) -> Option<TypeId> {
    if depth > 8 {
        return None;
    }
    let module = defs.fns.get(func)?.module;
    match e.peel() {
        Expr::Path { path, .. } | Expr::Struct { path, .. } => defs.resolve_type_path(module, path),
        Expr::Call { func: callee, .. } => {
            let Expr::Path { path, .. } = callee.peel() else {
                return None;
            };
            // A tuple struct: `RateLimit(limits)`.
            if let Some(t) = defs.resolve_type_path(module, path) {
                return Some(t);
            }
            // A constructor or a fn returning the type: `RateLimit::new(..)`, `auth_layer()`.
            for g in defs.resolve_fn_path(func, path) {
                let data = &defs.fns[g];
                let owner = data.impl_.and_then(|i| defs.impls[i].self_def);
                let ret = match data.def.ret.as_ref() {
                    Some(Ty::Path(p)) if p.is_ident("Self") => owner,
                    Some(Ty::Path(p)) => defs.resolve_type_path(data.module, p),
                    _ => None,
                };
                if ret.is_some() {
                    return ret;
                }
            }
            None
        }
        // A builder: `RateLimit::new().per_second(5)`.
        Expr::MethodCall { receiver, .. } => value_type(defs, func, receiver, depth + 1),
        _ => None,
    }
}

/// One route attribute: its methods and path (`#[get("/p")]`,
/// `#[route("/p", method = "GET", method = "POST")]`).
fn attr_route(attr: &crate::syntax::Attr) -> Option<(Vec<String>, String)> {
    let name = attr.path.last()?;
    let path = attr.strings.first()?.clone();
    if let Some((_, m)) = METHOD_ATTRS.iter().find(|(a, _)| *a == name) {
        return Some((vec![(*m).to_owned()], path));
    }
    if name == "route" {
        let methods: Vec<String> = attr
            .named
            .iter()
            .filter(|(k, _)| k == "method")
            .map(|(_, v)| v.to_ascii_uppercase())
            .collect();
        if !methods.is_empty() {
            return Some((methods, path));
        }
    }
    None
}

fn has_route_attrs(defs: &DefMap<'_>, f: FnId) -> bool {
    defs.fns
        .get(f)
        .is_some_and(|d| d.item.attrs.iter().any(|a| attr_route(a).is_some()))
}

/// Whether a route attribute is actix-web's: `#[actix_web::get]`, or a bare
/// `#[get]` imported from `actix_web` in the fn's module (rocket has the same names).
fn is_actix_attr(defs: &DefMap<'_>, f: FnId, path: &Path) -> bool {
    if path.segments.len() > 1 {
        return path.names().next() == Some("actix_web");
    }
    let Some(name) = path.last() else {
        return false;
    };
    let Some(data) = defs.fns.get(f) else {
        return false;
    };
    let Some(m) = defs.mods.get(data.module) else {
        return false;
    };
    let Some(module) = defs
        .project
        .crates
        .get(m.krate)
        .and_then(|c| c.modules.iter().find(|x| x.path == m.path))
    else {
        return false;
    };
    module.items.iter().any(|item| match &item.kind {
        ItemKind::Use(entries) => entries.iter().any(|e| {
            e.path.first().map(String::as_str) == Some("actix_web")
                && match &e.kind {
                    UseKind::Name { alias } => alias == name,
                    UseKind::Glob => e.path.len() == 1,
                }
        }),
        _ => false,
    })
}

/// Turns finished apps into entry points.
struct Flatten<'o, 'd, 'a> {
    defs: &'d DefMap<'a>,
    out: &'o mut BTreeSet<EntryPoint>,
    registered: &'o mut BTreeSet<FnId>,
}

impl Flatten<'_, '_, '_> {
    /// `allowed`: the methods the enclosing scopes' guards let through
    /// (empty: any).
    fn node(&mut self, node: &Node, prefixes: &[String], outer: &[Middleware], allowed: &[String]) {
        let prefixes = cross(prefixes, &node.prefixes);
        let allowed = narrow(allowed, &node.methods);
        let mut mws = outer.to_vec();
        mws.extend(node.wraps.iter().rev().cloned());
        for child in &node.children {
            match child {
                Child::Scope(n) => self.node(n, &prefixes, &mws, &allowed),
                Child::Resource(r) => {
                    let paths = cross(&prefixes, &r.paths);
                    let allowed = narrow(&allowed, &r.methods);
                    let mut mws = mws.clone();
                    mws.extend(r.wraps.iter().rev().cloned());
                    for route in &r.routes {
                        let methods = narrow(&allowed, &route.methods);
                        // Guards that let no method through: never reached.
                        if methods.is_empty() && !(allowed.is_empty() && route.methods.is_empty()) {
                            continue;
                        }
                        for h in &route.handlers {
                            for p in &paths {
                                for m in methods_or_any(&methods) {
                                    self.push(&m, p, h, &route.registered, &mws);
                                }
                            }
                        }
                    }
                }
                Child::Attr(f) => self.attr(*f, &prefixes, &mws, &allowed),
            }
        }
    }

    fn attr(&mut self, f: FnId, prefixes: &[String], outer: &[Middleware], allowed: &[String]) {
        let Some(data) = self.defs.fns.get(f) else {
            return;
        };
        self.registered.insert(f);
        for attr in &data.item.attrs {
            let Some((methods, path)) = attr_route(attr) else {
                continue;
            };
            let registered = Location {
                file: data.file.to_owned(),
                line: attr.line,
            };
            // `#[get("/p", wrap = "Logger::default()")]`: resource-level middleware.
            let mut mws = outer.to_vec();
            for (k, v) in attr.named.iter().rev() {
                if k == "wrap" {
                    mws.push(Middleware {
                        kind: "wrap".to_owned(),
                        name: v.clone(),
                        handler: None,
                        at: registered.clone(),
                    });
                }
            }
            for p in cross(prefixes, std::slice::from_ref(&path)) {
                for m in methods
                    .iter()
                    .filter(|m| allowed.is_empty() || allowed.contains(m))
                {
                    self.push(m, &p, &Handler::Fn(f), &registered, &mws);
                }
            }
        }
    }

    fn push(
        &mut self,
        method: &str,
        raw: &str,
        h: &Handler,
        registered: &Location,
        mws: &[Middleware],
    ) {
        let defs = self.defs;
        let (handler, at, root) = match h {
            Handler::Fn(f) => {
                let Some(d) = defs.fns.get(*f) else { return };
                (
                    d.id.clone(),
                    Location {
                        file: d.file.to_owned(),
                        line: d.line,
                    },
                    Some(*f),
                )
            }
            Handler::Closure { func, line } => {
                let Some(d) = defs.fns.get(*func) else { return };
                (
                    format!("{}::{{closure}}", d.id),
                    Location {
                        file: d.file.to_owned(),
                        line: *line,
                    },
                    Some(*func),
                )
            }
            Handler::Unresolved(text) | Handler::Files(text) => {
                (text.clone(), registered.clone(), None)
            }
        };
        self.out.insert(EntryPoint {
            kind: match h {
                Handler::Files(_) => EntryKind::Static,
                _ => EntryKind::Http,
            },
            framework: Some(Framework::ActixWeb),
            method: method.to_owned(),
            path: full_path(raw),
            handler,
            at,
            registered: registered.clone(),
            middleware: mws.to_vec(),
            root,
        });
    }
}

fn methods_or_any(methods: &[String]) -> Vec<String> {
    if methods.is_empty() {
        vec!["ANY".to_owned()]
    } else {
        methods.to_vec()
    }
}

/// Every prefix joined with every path, the way actix nests: a scope's path
/// and a resource's path are concatenated (`/api` + `` = `/api`, `/api` +
/// `/` = `/api/`), a missing leading slash is added.
fn cross(prefixes: &[String], paths: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for p in prefixes {
        for s in paths {
            let joined = if s.is_empty() {
                p.clone()
            } else if s.starts_with('/') {
                format!("{p}{s}")
            } else {
                format!("{p}/{s}")
            };
            if !out.contains(&joined) {
                out.push(joined);
            }
        }
    }
    out
}

/// Normalises a joined actix path, keeping a trailing slash actix would
/// match literally (`web::scope("/api").route("/", ..)` serves `/api/`, not `/api`).
fn full_path(raw: &str) -> String {
    let norm = normalise_path(raw);
    if raw.ends_with('/') && norm != "/" {
        format!("{norm}/")
    } else {
        norm
    }
}
