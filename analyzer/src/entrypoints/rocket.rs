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
use crate::resolve::{DefMap, FnId, FnKind, ModId, TypeId};
use crate::syntax::{Block, Expr, Path, Stmt, Ty, UseKind, WrapKind};

mod fairings;
mod lists;
mod mounts;
#[cfg(test)]
mod tests;

#[allow(unused_imports)]
use self::{fairings::*, lists::*, mounts::*};
use super::locals::{find_let, pat_name};

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
    /// Per crate: whether its package depends on rocket.
    rocket: Vec<bool>,
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
            rocket: (0..defs.project.crates.len())
                .map(|k| uses_rocket(defs, k))
                .collect(),
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
            if !self.rocket[defs.mods[data.module].krate] {
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
                if let Expr::Macro {
                    path, args, line, ..
                } = e
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
            if let Some(run) = &run
                && !component.iter().any(|f| run.contains(f))
            {
                self.diags
                    .push(super::unserved_note(defs, component[0], "mounts"));
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
            if mounted.contains(f) || !self.rocket[defs.mods[data.module].krate] {
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

pub(super) use crate::syntax::expr_text;
