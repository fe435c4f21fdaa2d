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

mod app;
mod eval;
mod flatten;
mod handlers;
#[cfg(test)]
mod tests;

pub(super) use self::handlers::middleware_service;
#[allow(unused_imports)]
use self::{app::*, eval::*, flatten::*, handlers::*};

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
    body.walk(&mut |e| match e {
        Expr::Call { func, args, .. }
            if args.is_empty()
                && matches!(&**func, Expr::Path { path, .. } if is_app_new(defs, f, path)) =>
        {
            found = true;
        }
        // `build_app!(state)`: a workspace macro whose body writes `App::new()`.
        Expr::Macro {
            path,
            tokens: Some(_),
            ..
        } if !found => {
            found = defs
                .workspace_macro(data.module, path)
                .is_some_and(|m| macro_writes_app(defs, m));
        }
        _ => {}
    });
    found
}

/// Whether `path`, written in fn `f`, is actix's `App::new`: the type may
/// be imported under another name (`use actix_web::App as WebApp`), and
/// is no workspace type.
pub(super) fn is_app_new(defs: &DefMap<'_>, f: FnId, path: &Path) -> bool {
    let [.., ty, new] = &path.segments[..] else {
        return false;
    };
    let Some(data) = defs.fns.get(f) else {
        return false;
    };
    new.name == "new"
        && defs.original_name(data.module, &ty.name) == "App"
        && defs.resolve_fn_path(f, path).is_empty()
}

/// Whether a rule of workspace macro `m` writes `App::new()`.
fn macro_writes_app(defs: &DefMap<'_>, m: crate::resolve::MacroId) -> bool {
    let ItemKind::MacroRules { bodies, .. } = &defs.macros[m].item.kind else {
        return false;
    };
    let mut found = false;
    for b in bodies {
        b.walk(&mut |e| {
            if let Expr::Call { func, args, .. } = e
                && args.is_empty()
                && let Expr::Path { path, .. } = &**func
                && path.ends_with(&["App", "new"])
            {
                found = true;
            }
        });
    }
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
    /// Leptos's `generate_route_list(App)`: its pages, and how many of its
    /// routes' paths cleave cannot read.
    Pages(Vec<String>, usize),
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
    /// Workspace macro calls being evaluated, one inside another.
    macro_depth: u32,
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
            macro_depth: 0,
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

    // ---- statements ----------------------------------------------------

    // ---- expressions ---------------------------------------------------
}
