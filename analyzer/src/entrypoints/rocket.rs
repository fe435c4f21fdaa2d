//! Entry point detector: rocket 0.5.
//!
//! Input: the [`DefMap`]. Output: one [`EntryPoint`] per route handler that
//! reaches a `.mount(prefix, routes)` call, with the fairings attached to
//! the same rocket as middleware (kind `fairing`, in attach order; the
//! handler is the callback a request meets, none for a fairing that only
//! runs on liftoff or shutdown, whose spawned work `workers.rs` lists).
//!
//! A route is a free fn with a route attribute (`#[get("/<id>", rank = 1)]`,
//! `#[post("/", data = "<note>")]`, `#[route(GET, uri = "/p")]`, ..) named
//! in a `routes![..]` list. Lists are followed through locals, `append` /
//! `extend` / `push`, `chain(..).collect()`, `concat()`, and workspace fns
//! that return them, across modules. The route's path is the mount prefix
//! joined with the attribute's path, query (`?<q>`) dropped, `<p..>` as
//! `{*p}`. Request guards and catchers are neither routes nor middleware.
//! What cannot be fixed statically (a prefix computed at runtime, lists
//! chosen by an `if` or filtered) gives every route found plus a
//! [`Diagnostic`]; a handler that is never mounted gives a diagnostic, not
//! a route. This module never reads the disk and knows nothing of other
//! frameworks.

use std::collections::{BTreeMap, BTreeSet};

use super::prefix::Overrides;
use super::{
    Detection, EntryKind, EntryPoint, Framework, Location, Middleware, join_paths, normalise_path,
};
use crate::diagnostic::Diagnostic;
use crate::framework::ROCKET;
use crate::resolve::{Def, DefMap, FnId, FnKind, ModId, TypeId};
use crate::syntax::{Block, Expr, Pat, Path, Stmt, Ty, UseKind, WrapKind};

#[cfg(test)]
mod tests;

/// Rocket's method-specific route attributes and the method each matches.
const METHOD_ATTRS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
    ("patch", "PATCH"),
];

/// Methods that pass a route list through unchanged (`routes.into_iter().collect()`).
const LIST_THROUGH: &[&str] = &[
    "into_iter",
    "iter",
    "collect",
    "cloned",
    "clone",
    "to_vec",
    "to_owned",
    "into",
    "flatten",
    "concat",
];

/// Methods that add routes to a list held in a local (`v.append(&mut routes![..])`).
const LIST_ADD: &[&str] = &["append", "extend", "extend_from_slice", "push"];

/// Fairing callbacks that run while the app is built or a request is
/// served, in the order a request meets them; the first one a workspace
/// fairing implements stands for it. `on_liftoff` and `on_shutdown` run
/// once beside the server (work they spawn is a worker, see `workers.rs`),
/// so a fairing with only those is listed without a handler.
const FAIRING_METHODS: &[&str] = &["on_request", "on_response", "on_ignite"];

/// `AdHoc` constructors whose callback runs beside the server, not per request.
const ADHOC_BESIDE: &[&str] = &["on_liftoff", "on_shutdown"];

/// Macros that list route handlers: rocket's `routes!`, and rocket_okapi's
/// `openapi_get_routes!` (the list plus a spec route) and
/// `openapi_get_routes_spec!` (the list and the spec, merged and served by
/// `mount_endpoints_and_merged_docs!`).
const ROUTE_LIST_MACROS: &[&str] = &["routes", "openapi_get_routes", "openapi_get_routes_spec"];

/// rocket_okapi's macro that mounts route lists under a base and serves
/// their merged spec there.
const OKAPI_MOUNT: &str = "mount_endpoints_and_merged_docs";

/// The route rocket_okapi adds for the spec (`OpenApiSettings::default()`),
/// and the handler it is listed under: code of the `rocket_okapi` crate.
const OKAPI_SPEC_PATH: &str = "/openapi.json";
const OKAPI_SPEC_HANDLER: &str = "rocket_okapi::handlers::OpenApiHandler";

/// How deep route lists are followed through workspace fns.
const MAX_DEPTH: u32 = 16;

pub(crate) fn detect(defs: &DefMap<'_>, overrides: &Overrides, out: &mut Detection) {
    let mut cx = Cx::new(defs, overrides);
    cx.run(out);
    out.diagnostics.append(&mut cx.diags);
}

/// What a route attribute says.
#[derive(Debug, Clone)]
struct RouteAttr {
    method: String,
    path: String,
}

/// A handler named in a `routes![..]` list, and where that list is written.
/// `handler` is `None` for the `GET /openapi.json` route that rocket_okapi's
/// `openapi_get_routes![..]` adds beside the handlers it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    handler: Option<FnId>,
    at: Location,
    /// A route built by hand (`Route::ranked(1, Method::Get, "/", h)`): its
    /// method, path and handler value as written; `handler` is then the
    /// handler type's `handle` method, if in the workspace.
    manual: Option<(String, String, String)>,
}

type Env = BTreeMap<String, Vec<Listed>>;

/// A `.mount(..)` or `.attach(..)` written in a workspace fn.
#[derive(Debug)]
enum Site<'a> {
    Mount {
        /// `mount_endpoints_and_merged_docs!`'s base path, written before each prefix.
        base: Option<&'a Expr>,
        prefix: &'a Expr,
        routes: &'a Expr,
        line: u32,
        /// Written under an `if`, `match` or loop.
        conditional: bool,
    },
    Attach {
        fairing: &'a Expr,
        line: u32,
    },
}

/// A mount: the fn it is written in, okapi's base, the prefix and the list.
#[derive(Clone, Copy)]
struct MountSite<'e> {
    f: FnId,
    base: Option<&'e Expr>,
    prefix: &'e Expr,
    routes: &'e Expr,
    line: u32,
}

struct Cx<'d, 'a> {
    defs: &'d DefMap<'a>,
    /// The plan's `[prefix]` table.
    overrides: &'d Overrides,
    /// Every free fn with a rocket route attribute.
    attrs: BTreeMap<FnId, RouteAttr>,
    /// Route lists returned by workspace fns.
    memo: BTreeMap<FnId, Vec<Listed>>,
    /// Route lists in each mounting fn's locals.
    envs: BTreeMap<FnId, Env>,
    active: BTreeSet<FnId>,
    diags: Vec<Diagnostic>,
}

impl<'d, 'a> Cx<'d, 'a> {
    fn new(defs: &'d DefMap<'a>, overrides: &'d Overrides) -> Self {
        let mut attrs = BTreeMap::new();
        for f in 0..defs.fns.len() {
            if let Some(a) = route_attr(defs, f) {
                attrs.insert(f, a);
            }
        }
        Cx {
            defs,
            overrides,
            attrs,
            memo: BTreeMap::new(),
            envs: BTreeMap::new(),
            active: BTreeSet::new(),
            diags: Vec::new(),
        }
    }

    fn run(&mut self, out: &mut Detection) {
        let defs = self.defs;
        // Every `.mount`/`.attach` in a crate that depends on rocket.
        let mut sites: BTreeMap<FnId, Vec<Site<'a>>> = BTreeMap::new();
        for (f, data) in defs.fns.iter().enumerate() {
            if !uses_rocket(defs, defs.mods[data.module].krate) {
                continue;
            }
            let Some(body) = &data.def.body else { continue };
            // Mounts inside an `if`, `match` or loop: registered only on some runs.
            let mut conditional: Vec<*const Expr> = Vec::new();
            body.walk(&mut |e| {
                let mut branches: Vec<&Expr> = Vec::new();
                match e {
                    Expr::If { then, els, .. } => {
                        then.walk(&mut |x| branches.push(x));
                        if let Some(x) = els {
                            x.walk(&mut |y| branches.push(y));
                        }
                    }
                    Expr::Match { arms, .. } => {
                        for (_, a) in arms {
                            a.walk(&mut |x| branches.push(x));
                        }
                    }
                    Expr::Loop { body, .. } => body.walk(&mut |x| branches.push(x)),
                    _ => {}
                }
                conditional.extend(
                    branches
                        .into_iter()
                        .filter(
                            |x| matches!(x, Expr::MethodCall { method, .. } if method == "mount"),
                        )
                        .map(|x| x as *const Expr),
                );
            });
            let mut found = Vec::new();
            body.walk(&mut |e| {
                // rocket_okapi: `mount_endpoints_and_merged_docs! { rocket, base,
                // settings, "/p" => routes_and_spec, .. }` mounts each list at
                // base + "/p", and the merged spec at `base/openapi.json`.
                if let Expr::Macro { path, args, line } = e
                    && path.last() == Some(OKAPI_MOUNT)
                    && let [_, base, _, pairs @ ..] = args.as_slice()
                {
                    for pair in pairs.chunks_exact(2) {
                        found.push(Site::Mount {
                            base: Some(base),
                            prefix: &pair[0],
                            routes: &pair[1],
                            line: *line,
                            conditional: false,
                        });
                    }
                    found.push(Site::Mount {
                        base: Some(base),
                        prefix: e,
                        routes: e,
                        line: *line,
                        conditional: false,
                    });
                }
                if let Expr::MethodCall {
                    method, args, line, ..
                } = e
                {
                    match (method.as_str(), args.as_slice()) {
                        // `rocket::build().mount("/api", routes![..])`
                        ("mount", [prefix, routes]) => found.push(Site::Mount {
                            base: None,
                            prefix,
                            routes,
                            line: *line,
                            conditional: conditional.contains(&(e as *const Expr)),
                        }),
                        // `.attach(RequestCounter)`, `.attach(AdHoc::on_response(..))`
                        ("attach", [fairing]) => found.push(Site::Attach {
                            fairing,
                            line: *line,
                        }),
                        _ => {}
                    }
                }
            });
            if !found.is_empty() {
                sites.insert(f, found);
            }
        }

        let mut mounted = BTreeSet::new();
        // Only when something mounts: the reach walks every fn a binary runs.
        let run = if sites.is_empty() {
            None
        } else {
            super::run_by_binaries(defs)
        };
        for component in self.components(&sites) {
            // A rocket no binary builds (a test or tool helper in the library):
            // its routes are not served.
            // (A fairing's `on_ignite` is called by rocket, not by workspace code.)
            let called_by_framework = |f: &FnId| {
                defs.fns[*f]
                    .impl_
                    .is_some_and(|i| defs.impls[i].trait_path.is_some())
            };
            if let Some(run) = &run
                && !component
                    .iter()
                    .any(|f| run.contains(f) || called_by_framework(f))
            {
                let first = component[0];
                let data = &defs.fns[first];
                self.diags.push(Diagnostic::new(
                    "unserved-router",
                    crate::diagnostic::Severity::Note,
                    data.file,
                    data.line,
                    format!(
                        "`{}` mounts routes, but no binary's `main` reaches it: cleave does not \
                         list them as served routes",
                        data.id
                    ),
                ));
                continue;
            }
            let mut fairings = Vec::new();
            for f in &component {
                let mut attaches: Vec<(u32, &Expr)> = sites
                    .get(f)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| match s {
                        Site::Attach { fairing, line } => Some((*line, *fairing)),
                        Site::Mount { .. } => None,
                    })
                    .collect();
                attaches.sort_by_key(|(line, _)| *line);
                for (line, fairing) in attaches {
                    fairings.push(Middleware {
                        kind: "fairing".into(),
                        name: expr_text(fairing),
                        handler: self.fairing_handler(*f, fairing),
                        at: self.loc(*f, line),
                    });
                }
            }
            for f in &component {
                for site in sites.get(f).into_iter().flatten() {
                    let Site::Mount {
                        base,
                        prefix,
                        routes,
                        line,
                        conditional,
                    } = site
                    else {
                        continue;
                    };
                    if *conditional {
                        self.diag(
                            "dynamic-route",
                            *f,
                            *line,
                            format!(
                                "`.mount({}, ..)` is under an `if`, `match` or loop: cleave lists \
                                 its routes as always mounted",
                                expr_text(prefix)
                            ),
                        );
                    }
                    let site = MountSite {
                        f: *f,
                        base: *base,
                        prefix,
                        routes,
                        line: *line,
                    };
                    self.mount(&site, &fairings, &mut mounted, out);
                }
            }
        }

        for (f, a) in &self.attrs {
            let data = &defs.fns[*f];
            if mounted.contains(f) || !uses_rocket(defs, defs.mods[data.module].krate) {
                continue;
            }
            self.diags.push(Diagnostic::warning(
                "unmounted-route",
                data.file,
                data.line,
                format!(
                    "`{}` has a route attribute ({} {}) but cleave found no `.mount(..)` of a \
                     `routes![..]` naming it, so it is not listed as a route; mount it, delete \
                     it, or add the route to the plan by hand if it is mounted in code cleave \
                     cannot read",
                    data.id, a.method, a.path
                ),
            ));
        }
    }

    /// Groups the fns with mounts or attaches into rockets: fns that call
    /// one another (`notes::rocket()` from `main`, `with_api(rocket::build())`),
    /// or that one fn calls together (`api::mount(base())`), build the same
    /// rocket. Each group is ordered callees first, so a helper's fairings
    /// come before those its caller attaches afterwards.
    fn components(&self, sites: &BTreeMap<FnId, Vec<Site<'a>>>) -> Vec<Vec<FnId>> {
        let defs = self.defs;
        let mut calls: BTreeMap<FnId, BTreeSet<FnId>> = BTreeMap::new();
        let mut parent: BTreeMap<FnId, FnId> = sites.keys().map(|f| (*f, *f)).collect();
        for (f, data) in defs.fns.iter().enumerate() {
            if !uses_rocket(defs, defs.mods[data.module].krate) {
                continue;
            }
            let Some(body) = &data.def.body else {
                continue;
            };
            let mut callees = BTreeSet::new();
            body.walk(&mut |e| {
                if let Expr::Call { func, .. } = e
                    && let Expr::Path { path, .. } = func.peel()
                {
                    for g in defs.resolve_fn_path(f, path) {
                        if g != f && sites.contains_key(&g) {
                            callees.insert(g);
                        }
                    }
                }
            });
            let mut it = callees.iter();
            if sites.contains_key(&f) {
                for g in &callees {
                    union(&mut parent, f, *g);
                }
                calls.insert(f, callees);
            } else if let Some(first) = it.next() {
                for g in it {
                    union(&mut parent, *first, *g);
                }
            }
        }
        let mut groups: BTreeMap<FnId, BTreeSet<FnId>> = BTreeMap::new();
        for f in sites.keys() {
            groups.entry(find(&parent, *f)).or_default().insert(*f);
        }
        let mut out = Vec::new();
        for members in groups.values() {
            let called: BTreeSet<FnId> = members
                .iter()
                .flat_map(|f| calls.get(f).into_iter().flatten().copied())
                .collect();
            let mut order = Vec::new();
            let mut seen = BTreeSet::new();
            let starts = members
                .iter()
                .filter(|f| !called.contains(f))
                .chain(members.iter());
            for f in starts {
                postorder(*f, &calls, &mut seen, &mut order);
            }
            out.push(order);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn mount(
        &mut self,
        site: &MountSite<'_>,
        fairings: &[Middleware],
        mounted: &mut BTreeSet<FnId>,
        out: &mut Detection,
    ) {
        let MountSite {
            f,
            base,
            prefix,
            routes,
            line,
        } = *site;
        let mut env = self.fn_env(f);
        // The okapi macro itself stands for its merged spec route at the base.
        let spec_only = std::ptr::eq(prefix, routes);
        let listed = if spec_only {
            vec![Listed {
                handler: None,
                at: self.loc(f, line),
                manual: None,
            }]
        } else {
            self.expr(f, routes, &mut env, 0)
        };
        let mut parts = match base {
            Some(b) => super::prefix::parts(self.defs, f, b),
            None => Vec::new(),
        };
        if !spec_only {
            parts.extend(super::prefix::parts(self.defs, f, prefix));
        }
        let written = base.filter(|_| spec_only).unwrap_or(prefix);
        let prefix = super::prefix::settle(
            &parts,
            written,
            self.defs.fns[f].file,
            line,
            self.overrides,
            &mut self.diags,
        );
        let empty_list = matches!(routes.peel(), Expr::Macro { path, args, .. }
            if path.last() == Some("routes") && args.is_empty());
        let at = self.loc(f, line);
        // `.mount("/static", FileServer::from(relative!("static")))`: files
        // from disk, answered for GET at the prefix and below it.
        if super::serves_files(&ROCKET, routes) {
            for path in [prefix.clone(), join_paths(&prefix, "{*path}")] {
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::Static,
                    framework: Some(Framework::Rocket),
                    method: "GET".into(),
                    path: normalise_path(&path),
                    handler: expr_text(routes),
                    at: at.clone(),
                    registered: at.clone(),
                    middleware: fairings.to_vec(),
                    root: None,
                });
            }
        } else if let Some(krate) = self
            .external_routes(f, routes)
            .filter(|_| listed.is_empty())
        {
            // `.mount("/auth", auth_crate::routes())`: a crate's own routes,
            // whatever they are, under the prefix.
            for path in [prefix.clone(), join_paths(&prefix, "{*rest}")] {
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::External,
                    framework: Some(Framework::Rocket),
                    method: "ANY".into(),
                    path: normalise_path(&path),
                    handler: krate.clone(),
                    at: at.clone(),
                    registered: at.clone(),
                    middleware: fairings.to_vec(),
                    root: None,
                });
            }
        } else if listed.is_empty() && !empty_list {
            self.diag(
                "dynamic-route",
                f,
                line,
                format!(
                    "`.mount({prefix:?}, {})`: cleave cannot see which routes this mounts (not a \
                     `routes![..]` list it can follow); add them to the plan by hand",
                    expr_text(routes)
                ),
            );
        }
        for l in listed {
            if let Some((method, path, written)) = &l.manual {
                let (handler, at) = match l.handler.map(|h| &self.defs.fns[h]) {
                    Some(d) => (
                        d.id.clone(),
                        Location {
                            file: d.file.to_owned(),
                            line: d.line,
                        },
                    ),
                    None => (written.clone(), l.at.clone()),
                };
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::Http,
                    framework: Some(Framework::Rocket),
                    method: method.clone(),
                    path: join_paths(&prefix, path),
                    handler,
                    at,
                    registered: l.at,
                    middleware: fairings.to_vec(),
                    root: l.handler,
                });
                continue;
            }
            let Some(h) = l.handler else {
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::Http,
                    framework: Some(Framework::Rocket),
                    method: "GET".into(),
                    path: join_paths(&prefix, OKAPI_SPEC_PATH),
                    handler: OKAPI_SPEC_HANDLER.into(),
                    at: l.at.clone(),
                    registered: l.at,
                    middleware: fairings.to_vec(),
                    root: None,
                });
                continue;
            };
            let Some(attr) = self.attrs.get(&h) else {
                continue;
            };
            mounted.insert(h);
            let data = &self.defs.fns[h];
            out.entrypoints.push(EntryPoint {
                kind: EntryKind::Http,
                framework: Some(Framework::Rocket),
                method: attr.method.clone(),
                path: join_paths(&prefix, &attr.path),
                handler: data.id.clone(),
                at: Location {
                    file: data.file.to_owned(),
                    line: data.line,
                },
                registered: l.at,
                middleware: fairings.to_vec(),
                root: Some(h),
            });
        }
    }

    /// The fn of another crate a route list comes from
    /// (`rocket_authifier::routes::account::routes()`), as written, when the
    /// list is a call to something outside the workspace.
    fn external_routes(&self, f: FnId, routes: &Expr) -> Option<String> {
        let mut routes = routes.peel();
        // `let swagger = make_swagger_ui(&config); .. .mount("/swagger", swagger)`
        if let Expr::Path { path, .. } = routes
            && let Some(name) = path_name(path)
            && let Some(body) = &self.defs.fns[f].def.body
            && let Some(init) = find_let(body, name)
        {
            routes = init.peel();
        }
        let Expr::Call { func, .. } = routes else {
            return None;
        };
        let Expr::Path { path, .. } = func.peel() else {
            return None;
        };
        let names: Vec<&str> = path.names().collect();
        let module = self.defs.fns[f].module;
        let external = self.defs.resolve_fn_path(f, path).is_empty()
            && self
                .defs
                .resolve_names(module, &names, path.leading_colon)
                .contains(&Def::External);
        external.then(|| path.to_string())
    }

    /// A route built by hand: `[rank,] method, path, handler`.
    fn manual_route(&self, f: FnId, args: &[Expr], line: u32) -> Option<Listed> {
        let [.., method, path, handler] = args else {
            return None;
        };
        let Expr::Path { path: m, .. } = method.peel() else {
            return None;
        };
        let method = m.last()?.to_uppercase();
        let parts = super::prefix::parts(self.defs, f, path);
        let path: String = parts
            .iter()
            .map(|p| match p {
                super::prefix::Part::Known(s) => Some(s.as_str()),
                super::prefix::Part::Runtime(_) => None,
            })
            .collect::<Option<String>>()?;
        // The handler's type: `FairingErrorRoute {}`, `Files::new(..)`, `h`.
        let ty = match handler.peel() {
            Expr::Struct { path, .. } => Some(path.clone()),
            Expr::Call { func, .. } => match func.peel() {
                Expr::Path { path, .. } if path.segments.len() > 1 => Some(Path {
                    leading_colon: path.leading_colon,
                    segments: path.segments[..path.segments.len() - 1].into(),
                }),
                _ => None,
            },
            Expr::Path { path, .. } => Some(path.clone()),
            _ => None,
        };
        let module = self.defs.fns[f].module;
        let handle = ty
            .and_then(|t| self.defs.resolve_type_path(module, &t))
            .and_then(|t| self.defs.methods_of(t, "handle").first().copied());
        Some(Listed {
            handler: handle,
            at: self.loc(f, line),
            manual: Some((method, path, expr_text(handler))),
        })
    }

    /// The routes a workspace fn returns.
    fn fn_routes(&mut self, f: FnId, depth: u32) -> Vec<Listed> {
        if let Some(v) = self.memo.get(&f) {
            return v.clone();
        }
        if depth > MAX_DEPTH || !self.active.insert(f) {
            return Vec::new();
        }
        let out = match &self.defs.fns[f].def.body {
            Some(body) => self.block(f, body, &mut Env::new(), depth),
            None => Vec::new(),
        };
        self.active.remove(&f);
        self.memo.insert(f, out.clone());
        out
    }

    /// The route lists held in a fn's locals once its body has run.
    fn fn_env(&mut self, f: FnId) -> Env {
        if let Some(env) = self.envs.get(&f) {
            return env.clone();
        }
        let mut env = Env::new();
        if let Some(body) = &self.defs.fns[f].def.body {
            self.block(f, body, &mut env, 0);
        }
        self.envs.insert(f, env.clone());
        env
    }

    /// Runs a block's statements over `env`; returns the routes it evaluates to.
    fn block(&mut self, f: FnId, b: &Block, env: &mut Env, depth: u32) -> Vec<Listed> {
        let mut out = Vec::new();
        let last = b.stmts.len().saturating_sub(1);
        for (i, s) in b.stmts.iter().enumerate() {
            match s {
                Stmt::Let {
                    pat, init: Some(e), ..
                } => {
                    let v = self.expr(f, e, env, depth);
                    if let Some(name) = pat_name(pat) {
                        env.insert(name.to_owned(), v);
                    }
                }
                Stmt::Expr(e) if i == last => out.extend(self.expr(f, e, env, depth)),
                Stmt::Expr(e) | Stmt::Semi(e) => out.extend(self.effect(f, e, env, depth)),
                Stmt::Let { .. } | Stmt::Item(_) => {}
            }
        }
        out
    }

    /// A statement's effect on route lists in locals; returns what it `return`s.
    fn effect(&mut self, f: FnId, e: &Expr, env: &mut Env, depth: u32) -> Vec<Listed> {
        match e.peel() {
            // `routes.append(&mut routes![reset])`, `v.extend(other())`
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } if LIST_ADD.contains(&method.as_str()) => {
                if let Some(name) = local_name(receiver) {
                    let mut add = Vec::new();
                    for a in args {
                        add.extend(self.expr(f, a, env, depth));
                    }
                    if !add.is_empty() {
                        env.entry(name.to_owned()).or_default().extend(add);
                    }
                }
                Vec::new()
            }
            // `return routes;`
            Expr::Wrap {
                kind: WrapKind::Return,
                inner,
            } => self.expr(f, inner, env, depth),
            // `v = routes![..];` (an assignment lowers to its two sides)
            Expr::Other(xs) => {
                if let [lhs, rhs] = xs.as_slice()
                    && let Some(name) = local_name(lhs)
                    && env.contains_key(name)
                {
                    let v = self.expr(f, rhs, env, depth);
                    env.insert(name.to_owned(), v);
                }
                Vec::new()
            }
            Expr::Block { block, .. } => self.block(f, block, env, depth),
            // `if cfg!(feature = "x") { routes.extend(extra()) }`: both ways.
            Expr::If { then, els, .. } => {
                let before = env.clone();
                let mut out = self.block(f, then, env, depth);
                if let Some(e) = els {
                    out.extend(self.effect(f, e, env, depth));
                }
                if *env != before {
                    self.diag_expr(
                        "dynamic-route",
                        f,
                        e,
                        "routes are added under an `if`: cleave lists the routes of every branch",
                    );
                }
                out
            }
            Expr::Match { arms, .. } => {
                let before = env.clone();
                let mut out = Vec::new();
                for (_, arm) in arms {
                    out.extend(self.effect(f, arm, env, depth));
                }
                if *env != before {
                    self.diag_expr(
                        "dynamic-route",
                        f,
                        e,
                        "routes are added under a `match`: cleave lists the routes of every arm",
                    );
                }
                out
            }
            // `for m in modules { v.extend(m.routes()) }`
            Expr::Loop { body, .. } => {
                let before = env.clone();
                let out = self.block(f, body, env, depth);
                if *env != before {
                    self.diag_expr(
                        "dynamic-route",
                        f,
                        e,
                        "routes are added in a loop: cleave lists each route it found once",
                    );
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// The routes an expression evaluates to.
    fn expr(&mut self, f: FnId, e: &Expr, env: &mut Env, depth: u32) -> Vec<Listed> {
        match e.peel() {
            Expr::Macro { path, args, line }
                if path.last().is_some_and(|m| ROUTE_LIST_MACROS.contains(&m)) =>
            {
                let mut listed = self.routes_macro(f, args, *line);
                // `openapi_get_routes![..]` serves its spec beside the handlers.
                if path.last() == Some("openapi_get_routes") {
                    listed.push(Listed {
                        handler: None,
                        at: self.loc(f, *line),
                        manual: None,
                    });
                }
                listed
            }
            // `vec![routes![a], routes![b]].concat()`
            Expr::Macro { path, args, .. } if path.last() == Some("vec") => {
                let mut out = Vec::new();
                for a in args {
                    out.extend(self.expr(f, a, env, depth));
                }
                out
            }
            Expr::Path { path, .. } => match path_name(path) {
                Some(name) => match env.get(name) {
                    Some(v) => v.clone(),
                    None => self.nested_let(f, name, depth),
                },
                None => Vec::new(),
            },
            // `Route::new(Method::Get, "/", h)`, `Route::ranked(1, Method::Get, "/", h)`.
            Expr::Call { func, args, line }
                if matches!(func.peel(), Expr::Path { path, .. }
                    if path.ends_with(&["Route", "new"]) || path.ends_with(&["Route", "ranked"])) =>
            {
                self.manual_route(f, args, *line).into_iter().collect()
            }
            Expr::Call { func, args, .. } => {
                let targets = match func.peel() {
                    Expr::Path { path, .. } => self.defs.resolve_fn_path(f, path),
                    _ => Vec::new(),
                };
                let mut out = Vec::new();
                if targets.is_empty() {
                    // `Vec::from(routes![..])`, `[a, b].concat()` through a std call.
                    for a in args {
                        out.extend(self.expr(f, a, env, depth));
                    }
                }
                for t in targets {
                    out.extend(self.fn_routes(t, depth + 1));
                }
                out
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } => {
                let mut out = self.expr(f, receiver, env, depth);
                // `a.into_iter().chain(b).collect()`: both lists.
                if method == "chain" {
                    for a in args {
                        out.extend(self.expr(f, a, env, depth));
                    }
                    return out;
                }
                // `routes.into_iter().collect()`, `[a, b].concat()`
                if LIST_THROUGH.contains(&method.as_str()) || out.is_empty() {
                    return out;
                }
                // `v.extend(..)` as a tail returns `()`; its effect is read by `effect`.
                if LIST_ADD.contains(&method.as_str()) {
                    return Vec::new();
                }
                // `routes![..].into_iter().filter(..)`: keep all, say so.
                self.diag_expr(
                    "dynamic-route",
                    f,
                    e,
                    &format!(
                        "a route list goes through `.{method}(..)`, which may drop or change \
                         routes: cleave lists every route in it"
                    ),
                );
                out
            }
            Expr::Block { block, .. } => {
                let mut inner = env.clone();
                self.block(f, block, &mut inner, depth)
            }
            Expr::If { then, els, .. } => {
                let mut inner = env.clone();
                let mut out = self.block(f, then, &mut inner, depth);
                if let Some(e) = els {
                    out.extend(self.expr(f, e, env, depth));
                }
                if !out.is_empty() {
                    self.diag_expr(
                        "dynamic-route",
                        f,
                        e,
                        "the route list is chosen by an `if`: cleave lists the routes of every branch",
                    );
                }
                out
            }
            Expr::Match { arms, .. } => {
                let mut out = Vec::new();
                for (_, arm) in arms {
                    out.extend(self.expr(f, arm, env, depth));
                }
                if !out.is_empty() {
                    self.diag_expr(
                        "dynamic-route",
                        f,
                        e,
                        "the route list is chosen by a `match`: cleave lists the routes of every arm",
                    );
                }
                out
            }
            // Arrays and tuples: `[routes![a], routes![b]].concat()`.
            Expr::Other(xs) => {
                let mut out = Vec::new();
                for x in xs {
                    out.extend(self.expr(f, x, env, depth));
                }
                out
            }
            Expr::Wrap { inner, .. } => self.expr(f, inner, env, depth),
            _ => Vec::new(),
        }
    }

    /// A local bound inside a nested block or closure of `f`
    /// (`{ let api = routes![..]; rocket.mount("/", api) }`).
    fn nested_let(&mut self, f: FnId, name: &str, depth: u32) -> Vec<Listed> {
        // `let v = v.clone();` names itself: stop.
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let Some(body) = &self.defs.fns[f].def.body else {
            return Vec::new();
        };
        let Some(init) = find_let(body, name) else {
            return Vec::new();
        };
        self.expr(f, init, &mut Env::new(), depth + 1)
    }

    /// `routes![a, module::b]`: each name resolved from the fn's module scope
    /// to the handler fn (rocket's macro also makes a struct of that name).
    fn routes_macro(&mut self, f: FnId, args: &[Expr], line: u32) -> Vec<Listed> {
        let mut out = Vec::new();
        for a in args {
            let Expr::Path { path, .. } = a.peel() else {
                self.diag(
                    "unresolved-route",
                    f,
                    line,
                    format!(
                        "`routes![..]` holds `{}`, which is not a handler name cleave can follow; \
                         its route is not listed",
                        expr_text(a)
                    ),
                );
                continue;
            };
            let handlers: Vec<FnId> = self
                .defs
                .resolve_fn_path(f, path)
                .into_iter()
                .filter(|h| self.attrs.contains_key(h))
                .collect();
            if handlers.is_empty() {
                self.diag(
                    "unresolved-route",
                    f,
                    line,
                    format!(
                        "`routes![..]` names `{path}`, but cleave finds no fn with a route \
                         attribute (`#[get(..)]`, `#[route(..)]`, ..) by that name; its route is \
                         not listed (is it made by a macro?)"
                    ),
                );
            }
            for h in handlers {
                out.push(Listed {
                    handler: Some(h),
                    at: self.loc(f, line),
                    manual: None,
                });
            }
        }
        out
    }

    /// The workspace fn a fairing runs: the `Fairing` impl of a workspace
    /// type (`RequestCounter`, `Counter::new()`, `Counter { .. }`, a fn
    /// returning one), or the fn an `AdHoc` is given by name.
    fn fairing_handler(&self, f: FnId, e: &Expr) -> Option<String> {
        let defs = self.defs;
        let module = defs.fns[f].module;
        match e.peel() {
            // A unit struct: `.attach(RequestCounter)`.
            Expr::Path { path, .. } => defs
                .resolve_type_path(module, path)
                .and_then(|t| self.fairing_impl(t)),
            // `.attach(Counter { hits: 0 })`
            Expr::Struct { path, .. } => defs
                .resolve_type_path(module, path)
                .and_then(|t| self.fairing_impl(t)),
            Expr::Call { func, args, .. } => {
                let Expr::Path { path, .. } = func.peel() else {
                    return None;
                };
                // `AdHoc::on_ignite("migrations", run_migrations)`: the named fn.
                if path.names().any(|n| n == "AdHoc") {
                    if path.last().is_some_and(|n| ADHOC_BESIDE.contains(&n)) {
                        return None;
                    }
                    return args.iter().find_map(|a| match a.peel() {
                        Expr::Path { path, .. } => defs
                            .resolve_fn_path(f, path)
                            .first()
                            .map(|g| defs.fns[*g].id.clone()),
                        _ => None,
                    });
                }
                // A tuple struct: `.attach(Counter(0))`.
                if let Some(t) = defs.resolve_type_path(module, path) {
                    return self.fairing_impl(t);
                }
                // A constructor or a fn returning the fairing: `Counter::new()`, `cors()`.
                for g in defs.resolve_fn_path(f, path) {
                    let data = &defs.fns[g];
                    let owner = data
                        .impl_
                        .and_then(|i| defs.impls[i].self_def)
                        .filter(|_| returns_self(data.def.ret.as_ref()));
                    let ret = match data.def.ret.as_ref() {
                        Some(Ty::Path(p)) => defs.resolve_type_path(data.module, p),
                        _ => None,
                    };
                    if let Some(h) = owner.or(ret).and_then(|t| self.fairing_impl(t)) {
                        return Some(h);
                    }
                }
                None
            }
            // A builder: `Cors::new().allow_origin(..)`.
            Expr::MethodCall { receiver, .. } => self.fairing_handler(f, receiver),
            _ => None,
        }
    }

    /// The first callback of `t`'s `impl Fairing` that a request meets
    /// (`on_ignite` for one that only prepares the app).
    fn fairing_impl(&self, t: TypeId) -> Option<String> {
        let defs = self.defs;
        let imp = defs.impls.iter().find(|i| {
            i.self_def == Some(t) && i.trait_path.and_then(Path::last) == Some("Fairing")
        })?;
        FAIRING_METHODS
            .iter()
            .find_map(|m| imp.methods.get(m))
            .map(|g| defs.fns[*g].id.clone())
    }

    fn loc(&self, f: FnId, line: u32) -> Location {
        Location {
            file: self.defs.fns[f].file.to_owned(),
            line,
        }
    }

    fn diag(&mut self, code: &'static str, f: FnId, line: u32, message: String) {
        let file = self.defs.fns[f].file;
        self.diags
            .push(Diagnostic::warning(code, file, line, message));
    }

    fn diag_expr(&mut self, code: &'static str, f: FnId, e: &Expr, message: &str) {
        let line = head_line(e).unwrap_or(self.defs.fns[f].line);
        self.diag(code, f, line, message.to_owned());
    }
}

/// The line an expression starts on, for the shapes that carry none themselves.
fn head_line(e: &Expr) -> Option<u32> {
    match e.peel() {
        Expr::If { cond, then, .. } => head_line(cond).or_else(|| block_line(then)),
        Expr::Match { expr, .. } => head_line(expr),
        Expr::Block { block, .. } => block_line(block),
        Expr::Let { expr, .. } => head_line(expr),
        other => other.line(),
    }
}

fn block_line(b: &Block) -> Option<u32> {
    b.stmts.iter().find_map(|s| match s {
        Stmt::Let { init: Some(e), .. } | Stmt::Expr(e) | Stmt::Semi(e) => head_line(e),
        _ => None,
    })
}

/// Whether a fn returns `Self` (or `Result<Self, _>`), so the impl's type is what it builds.
fn returns_self(ret: Option<&Ty>) -> bool {
    match ret {
        Some(Ty::Path(p)) => {
            p.is_ident("Self")
                || p.segments
                    .last()
                    .is_some_and(|s| s.generics.first().is_some_and(|g| returns_self(Some(g))))
        }
        _ => false,
    }
}

/// The rocket route attribute on a free fn, if it has one.
fn route_attr(defs: &DefMap<'_>, f: FnId) -> Option<RouteAttr> {
    let data = &defs.fns[f];
    // Rocket's route attributes only go on free fns.
    if data.kind != FnKind::Fn || data.impl_.is_some() || data.trait_.is_some() {
        return None;
    }
    for a in &data.item.attrs {
        let Some(name) = a.path.last() else { continue };
        if !is_rocket_attr(defs, data.module, &a.path) {
            continue;
        }
        let method = if name == "route" {
            // `#[route(GET, uri = "/p")]` (0.5), `#[route(GET, path = "/p")]` (0.4),
            // `#[route("/p", method = GET)]` (later versions).
            let word = a.words.first().cloned().or_else(|| named(a, &["method"]));
            let word = word?;
            let last = word.rsplit("::").next().unwrap_or(&word).to_owned();
            last.to_uppercase()
        } else {
            let (_, method) = METHOD_ATTRS.iter().find(|(attr, _)| *attr == name)?;
            (*method).to_owned()
        };
        // `#[get("/p")]`, or the path given by name (`uri = "/p"`, 0.4's `path = "/p"`).
        let path = a
            .strings
            .first()
            .cloned()
            .or_else(|| named(a, &["uri", "path"]))?;
        return Some(RouteAttr { method, path });
    }
    None
}

fn named(a: &crate::syntax::Attr, keys: &[&str]) -> Option<String> {
    a.named
        .iter()
        .find(|(k, _)| keys.contains(&k.as_str()))
        .map(|(_, v)| v.clone())
}

/// Whether an attribute path is one of rocket's route attributes: written
/// `rocket::get`, or bare `get` (after `#[macro_use] extern crate rocket` or
/// `use rocket::get`) in a crate that depends on rocket and does not import
/// that name from elsewhere (actix-web has a `#[get]` too).
fn is_rocket_attr(defs: &DefMap<'_>, module: ModId, path: &Path) -> bool {
    let Some(name) = path.last() else {
        return false;
    };
    if name != "route" && !METHOD_ATTRS.iter().any(|(a, _)| *a == name) {
        return false;
    }
    let names: Vec<&str> = path.names().collect();
    match names.as_slice() {
        // `#[rocket::get("/")]`
        ["rocket", _] => true,
        // `#[get("/")]`: rocket's unless the name is imported from another crate.
        [_] => {
            uses_rocket(defs, defs.mods[module].krate)
                && super::workers::module_uses(defs, module)
                    .iter()
                    .filter(|u| matches!(&u.kind, UseKind::Name { alias } if alias == name))
                    .all(|u| u.path.first().map(String::as_str) == Some("rocket"))
        }
        _ => false,
    }
}

/// Whether a crate's package depends on rocket.
fn uses_rocket(defs: &DefMap<'_>, krate: usize) -> bool {
    ROCKET.used_by_crate(defs.project, krate)
}

fn pat_name(p: &Pat) -> Option<&str> {
    match p {
        Pat::Ident(n) => Some(n),
        Pat::Ref(inner) => pat_name(inner),
        _ => None,
    }
}

fn path_name(p: &Path) -> Option<&str> {
    if p.leading_colon || p.segments.len() != 1 {
        return None;
    }
    p.last()
}

/// A local named by an expression (`v`, `&mut v`, `(v)`).
fn local_name(e: &Expr) -> Option<&str> {
    match e.peel() {
        Expr::Path { path, .. } => path_name(path),
        Expr::Wrap { inner, .. } => local_name(inner),
        _ => None,
    }
}

/// The initialiser of the last `let name = ..` anywhere in a block, nested blocks and closures included.
fn find_let<'e>(b: &'e Block, name: &str) -> Option<&'e Expr> {
    let mut found = None;
    lets_in_block(b, &mut |n, init| {
        if n == name {
            found = Some(init);
        }
    });
    found
}

/// Calls `f` with every `let name = init` of a block, in source order.
pub(super) fn lets_in_block<'e>(b: &'e Block, f: &mut dyn FnMut(&'e str, &'e Expr)) {
    for s in &b.stmts {
        match s {
            Stmt::Let { pat, init, .. } => {
                if let Some(init) = init {
                    lets_in_expr(init, f);
                    if let Some(n) = pat_name(pat) {
                        f(n, init);
                    }
                }
            }
            Stmt::Expr(e) | Stmt::Semi(e) => lets_in_expr(e, f),
            Stmt::Item(_) => {}
        }
    }
}

fn lets_in_expr<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e str, &'e Expr)) {
    let mut blocks: Vec<&'e Block> = Vec::new();
    e.walk(&mut |x| match x {
        Expr::Block { block, .. } => blocks.push(block),
        Expr::If { then, .. } => blocks.push(then),
        Expr::Loop { body, .. } => blocks.push(body),
        _ => {}
    });
    // `walk` already visits the expressions of nested blocks; only their
    // `let`s need reading, one level at a time.
    for b in blocks {
        for s in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = s
                && let Some(n) = pat_name(pat)
            {
                f(n, init);
            }
        }
    }
}

fn find(parent: &BTreeMap<FnId, FnId>, f: FnId) -> FnId {
    let mut cur = f;
    for _ in 0..parent.len() + 1 {
        match parent.get(&cur) {
            Some(p) if *p != cur => cur = *p,
            _ => break,
        }
    }
    cur
}

fn union(parent: &mut BTreeMap<FnId, FnId>, a: FnId, b: FnId) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent.insert(hi, lo);
    }
}

fn postorder(
    f: FnId,
    calls: &BTreeMap<FnId, BTreeSet<FnId>>,
    seen: &mut BTreeSet<FnId>,
    out: &mut Vec<FnId>,
) {
    if !seen.insert(f) {
        return;
    }
    for g in calls.get(&f).into_iter().flatten() {
        postorder(*g, calls, seen, out);
    }
    out.push(f);
}

pub(super) use crate::syntax::expr_text;
