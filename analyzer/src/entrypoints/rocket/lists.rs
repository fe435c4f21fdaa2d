//! Route lists: what a `routes![..]` (or rocket_okapi's list macros, a
//! hand-built `Route`, an external crate's fn) names, followed through
//! locals, `append`/`extend`/`push`, `chain(..).collect()`, `concat()` and
//! workspace fns that return lists.

use super::*;
#[allow(unused_imports)]
use super::{fairings::*, mounts::*};

impl<'d, 'a> Cx<'d, 'a> {
    /// The fn of another crate a route list comes from
    /// (`auth_crate::routes()`), as written, when the
    /// list is a call to something outside the workspace.
    pub(super) fn external_routes(&self, f: FnId, routes: &Expr) -> Option<String> {
        let mut routes = routes.peel();
        // `let ui = docs_crate::ui(&config); .. .mount("/docs", ui)`
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
            && self.defs.names_external(module, &names, path.leading_colon);
        external.then(|| path.to_string())
    }

    /// A route built by hand: `[rank,] method, path, handler`.
    pub(super) fn manual_route(&self, f: FnId, args: &[Expr], line: u32) -> Option<Listed> {
        let [.., method, path, handler] = args else {
            return None;
        };
        let Expr::Path { path: m, .. } = method.peel() else {
            return None;
        };
        let method = m.last()?.to_uppercase();
        let parts = crate::entrypoints::prefix::parts(self.defs, f, path);
        let path: String = parts
            .iter()
            .map(|p| match p {
                crate::entrypoints::prefix::Part::Known(s) => Some(s.as_str()),
                crate::entrypoints::prefix::Part::Runtime(_) => None,
            })
            .collect::<Option<String>>()?;
        // The handler's type: `MyHandler {}`, `Files::new(..)`, `h`.
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
    pub(super) fn fn_routes(&mut self, f: FnId, depth: u32) -> Vec<Listed> {
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
    pub(super) fn fn_env(&mut self, f: FnId) -> Env {
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
    pub(super) fn block(&mut self, f: FnId, b: &Block, env: &mut Env, depth: u32) -> Vec<Listed> {
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
    pub(super) fn effect(&mut self, f: FnId, e: &Expr, env: &mut Env, depth: u32) -> Vec<Listed> {
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
    pub(super) fn expr(&mut self, f: FnId, e: &Expr, env: &mut Env, depth: u32) -> Vec<Listed> {
        match e.peel() {
            Expr::Macro {
                path, args, line, ..
            } if path.last().is_some_and(|m| ROUTE_LIST_MACROS.contains(&m)) => {
                let name = path.last().unwrap_or_default();
                let mut listed = self.routes_macro(f, name, args, *line);
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
    pub(super) fn nested_let(&mut self, f: FnId, name: &str, depth: u32) -> Vec<Listed> {
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
    /// rocket_okapi's `openapi_get_routes![settings: a, b]` (and `_spec`)
    /// first names its `OpenApiSettings`: a parameter of the fn, skipped.
    pub(super) fn routes_macro(
        &mut self,
        f: FnId,
        macro_name: &str,
        args: &[Expr],
        line: u32,
    ) -> Vec<Listed> {
        let mut out = Vec::new();
        let settings = macro_name.starts_with("openapi_")
            && args.first().is_some_and(|a| match a.peel() {
                Expr::Path { path, .. } => path_name(path).is_some_and(|name| {
                    self.defs.fns[f]
                        .def
                        .params
                        .iter()
                        .any(|(p, _)| matches!(p, crate::syntax::Pat::Ident(n) if n == name))
                }),
                _ => false,
            });
        for a in &args[usize::from(settings)..] {
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
}

pub(super) fn path_name(p: &Path) -> Option<&str> {
    if p.leading_colon || p.segments.len() != 1 {
        return None;
    }
    p.last()
}

/// A local named by an expression (`v`, `&mut v`, `(v)`).
pub(super) fn local_name(e: &Expr) -> Option<&str> {
    match e.peel() {
        Expr::Path { path, .. } => path_name(path),
        Expr::Wrap { inner, .. } => local_name(inner),
        _ => None,
    }
}
