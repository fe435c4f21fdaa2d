//! axum router semantics: router and method-router constructors, the
//! router operations (`route`, `nest`, `merge`, `layer`, ..), method
//! filters, receiver types of router methods, and route paths and
//! prefixes.

use super::*;
#[allow(unused_imports)]
use super::{eval::*, handlers::*, openapi::*};

impl<'d, 'a> Detector<'d, 'a> {
    pub(super) fn is_router_ctor(&self, module: ModId, path: &Path) -> bool {
        let Some((last, prefix)) = path.segments.split_last() else {
            return false;
        };
        // `OpenApiRouter::with_openapi(doc)` starts a router too, and so
        // does oasgen's `Server::axum()`, a builder of an axum `Router`.
        let ctor = last.name.as_str();
        if !matches!(ctor, "new" | "default" | "with_openapi" | "axum") || prefix.is_empty() {
            return false;
        }
        let ty = Path {
            leading_colon: path.leading_colon,
            segments: prefix.into(),
        };
        let resolved = self.defs.resolve_type_path(module, &ty);
        if ctor == "axum" {
            return resolved.is_none()
                && ty
                    .last()
                    .is_some_and(|n| self.defs.original_name(module, n) == OASGEN_SERVER);
        }
        match resolved {
            // axum's `Router`, aide's `ApiRouter`, utoipa-axum's `OpenApiRouter`
            // (outside the workspace).
            None => ty
                .last()
                .is_some_and(|n| ROUTER_TYPES.contains(&self.defs.original_name(module, n))),
            // `type AppRouter = Router<AppState>; AppRouter::new()`
            Some(t) => {
                self.defs.types[t].kind == TypeKind::Alias
                    && matches!(self.defs.types[t].alias_of, Some(Ty::Path(p)) if p.last() == Some("Router"))
            }
        }
    }

    /// A free `axum::routing` fn making a `MethodRouter`; `None` when `path` is not one.
    pub(super) fn method_router_ctor(
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
    pub(super) fn method_filter(&self, fr: &mut Frame<'a>, e: &Expr, line: u32) -> Vec<String> {
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

    pub(super) fn eval_method(
        &mut self,
        fr: &mut Frame<'a>,
        receiver: &'a Expr,
        method: &str,
        args: &'a [Expr],
        line: u32,
    ) -> Value {
        // `routes.push(("/a", get(a)))`, `routes.extend(more)`: what a loop
        // over the list will register.
        if matches!(method, "push" | "extend")
            && let [arg] = args
            && let Expr::Path { path, .. } = receiver.peel()
            && let Some(name) = single(path)
            && let Some(b) = fr.lookup(name)
        {
            b.grown
                .push((if method == "push" { "push" } else { "extend" }, arg));
        }
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
    pub(super) fn unknown_method(
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
    pub(super) fn routing_methods(
        &self,
        fr: &Frame<'a>,
        receiver: &Expr,
        method: &str,
    ) -> Vec<FnId> {
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
    pub(super) fn router_ext_methods(&self, method: &str) -> Vec<FnId> {
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
    pub(super) fn receiver_type(&self, fr: &Frame<'a>, e: &Expr, depth: u32) -> RecvTy {
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
                if defs.names_external(fr.module, &names, ty.leading_colon) {
                    RecvTy::Foreign
                } else {
                    RecvTy::Unknown
                }
            }
            _ => RecvTy::Unknown,
        }
    }

    pub(super) fn router_method(
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

    pub(super) fn router_op(
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
                // axum-extra's trailing-slash twin: `any(..)` redirecting to
                // the route (`/a` for `/a/`, `/a/` for `/a`; none for `/`).
                if method == "route_with_tsr" && path != "/" {
                    let twin = match path.strip_suffix('/') {
                        Some(bare) => bare.to_owned(),
                        None => format!("{path}/"),
                    };
                    let redirect = Handler {
                        id: "axum_extra::routing::RouterExt::route_with_tsr".to_owned(),
                        at: loc.clone(),
                        root: None,
                        kind: EntryKind::Http,
                        note: None,
                    };
                    push_route(fr, &mut r, "ANY", &twin, redirect, &loc, Vec::new());
                }
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
                let prefixes = match literal_alternatives(p_expr) {
                    Some(alts) => {
                        fr.diag(
                            "dynamic-route",
                            line,
                            format!(
                                "the prefix is chosen at runtime among {}; cleave lists the routes under each",
                                alts.iter()
                                    .map(|a| format!("`{a}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        alts.iter().map(|a| norm(a)).collect()
                    }
                    None => vec![self.prefix_value(fr, pv, p_expr, line)],
                };
                for prefix in prefixes {
                    match iv {
                        Value::Router(inner) => {
                            for mut q in inner.clone() {
                                q.path = join(&prefix, &q.path);
                                r.push(q);
                            }
                        }
                        // `.nest_service("/static", get(static_handler))`: the
                        // method router answers its methods at the prefix and
                        // below (a file service stays one, any method).
                        Value::Methods(entries)
                            if method == "nest_service"
                                && !entries.is_empty()
                                && self.service_handler(fr, inner_expr, line).0.kind
                                    != EntryKind::Static =>
                        {
                            let tail = join(&prefix, "/{*rest}");
                            for e in entries {
                                for p in [&prefix, &tail] {
                                    push_route(
                                        fr,
                                        &mut r,
                                        &e.method,
                                        p,
                                        e.handler.clone(),
                                        &loc,
                                        e.middleware.clone(),
                                    );
                                }
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
                                    "cleave cannot follow the router `{}` nested at `{prefix}`; it is listed as ANY {prefix} and ANY {}",
                                    text(inner_expr),
                                    join(&prefix, "/{*rest}")
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
                let turbofish: &[Ty] = match h.peel() {
                    Expr::Path { path, .. } => path.segments.last().map_or(&[], |s| &*s.generics),
                    _ => &[],
                };
                match handler.root.and_then(|f| self.typed_path(f, turbofish, fr.module)) {
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
            // leptos_axum: one GET route per page of the app's route list.
            (
                "leptos_routes" | "leptos_routes_with_handler" | "leptos_routes_with_context",
                [routes, ..] | [_, routes, ..],
                _,
            ) if self.leptos_pages(fr, routes).is_some() => {
                let (pages, unread) = self.leptos_pages(fr, routes).unwrap_or_default();
                if unread > 0 {
                    fr.diag("dynamic-route", line, leptos_unread(unread));
                }
                let handler = match (method, vals.last()) {
                    ("leptos_routes_with_handler", Some(Value::Methods(es))) if !es.is_empty() => {
                        es[0].handler.clone()
                    }
                    _ => self.text_handler(fr, routes, line, None),
                };
                for p in pages {
                    push_route(
                        fr,
                        &mut r,
                        "GET",
                        &norm(&p),
                        handler.clone(),
                        &loc,
                        Vec::new(),
                    );
                }
                Value::Router(r)
            }
            // oasgen's builder: `.get("/p", handler)` registers the route
            // itself (axum's own `Router` has no two-argument method of a
            // method's name).
            (m, [p_expr, h_expr], [pv, _]) if METHOD_FNS.contains(&m) => {
                let (handler, middleware) = self.handler_of(fr, h_expr, line);
                let hidden = [format!("`{} <path> -> {}`", m.to_uppercase(), handler.id)];
                if let Some(path) = self.path_value(fr, pv, p_expr, &hidden, line) {
                    push_route(
                        fr,
                        &mut r,
                        &m.to_uppercase(),
                        &path,
                        handler,
                        &loc,
                        middleware,
                    );
                }
                Value::Router(r)
            }
            // oasgen serves the OpenAPI document it builds: a route the
            // outside crate makes.
            ("route_json_spec" | "route_yaml_spec", [p_expr], [pv]) => {
                if let Some(path) = self.path_value(fr, pv, p_expr, &[], line) {
                    let spec = Handler {
                        id: format!("oasgen::Server::{method}"),
                        at: loc.clone(),
                        root: None,
                        kind: EntryKind::External,
                        note: None,
                    };
                    push_route(fr, &mut r, "GET", &path, spec, &loc, Vec::new());
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
                    let v = self.inline(fr, &targets, Some(Value::Router(r.clone())), &vals, line);
                    if v != Value::Unknown {
                        return v;
                    }
                    // `router.ruma_route(&h)` whose body hands the router to
                    // code cleave cannot resolve: the routes so far stay.
                    fr.diag(
                        "unresolved-router",
                        line,
                        format!(
                            "cleave cannot follow what the router method `.{method}(..)` adds (its body hands the router to code cleave cannot resolve); routes added before it are kept, the ones it adds are not listed"
                        ),
                    );
                    return Value::Router(r);
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

    /// The pages of a Leptos route list expression, when it is (or a local
    /// bound to) `generate_route_list(App)` of a workspace component, and
    /// how many of its routes' paths cleave cannot read.
    pub(super) fn leptos_pages(
        &self,
        fr: &Frame<'a>,
        routes: &Expr,
    ) -> Option<(Vec<String>, usize)> {
        let mut e = routes.peel();
        for _ in 0..4 {
            let Expr::Path { path, .. } = e else { break };
            let name = single(path)?;
            e = fr.env.iter().rev().find(|b| b.name == name)?.init?.peel();
        }
        crate::entrypoints::leptos::route_list_pages(self.defs, fr.fn_id, e)
    }

    /// A route's own path, or a diagnostic naming the route it hides when
    /// the path is computed at runtime (a segment that varies, as in a loop
    /// over names: nothing to assume). A path whose only runtime part is a
    /// base before a fixed path is settled like a prefix.
    pub(super) fn path_value(
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
        // `format!("{base}/orders/{{id}}")`: a configured base path
        // before a fixed path is a prefix, read as one.
        let parts = crate::entrypoints::prefix::parts(self.defs, fr.fn_id, e);
        if crate::entrypoints::prefix::is_based(&parts) {
            let path = crate::entrypoints::prefix::settle(
                &parts,
                e,
                fr.file,
                line,
                self.overrides,
                &mut fr.diags,
            );
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
    pub(super) fn prefix_value(
        &self,
        fr: &mut Frame<'a>,
        v: &Value,
        e: &Expr,
        line: u32,
    ) -> String {
        if let Value::Str(s) = v {
            return norm(s);
        }
        let parts = crate::entrypoints::prefix::parts(self.defs, fr.fn_id, e);
        let path = crate::entrypoints::prefix::settle(
            &parts,
            e,
            fr.file,
            line,
            self.overrides,
            &mut fr.diags,
        );
        norm(&path)
    }

    pub(super) fn methods_method(
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
}

/// A method receiver's type as far as the syntax shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecvTy {
    Known(crate::resolve::TypeId),
    /// A dependency's type.
    Foreign,
    Unknown,
}

/// What kind of routing value a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Routing {
    Router,
    Methods,
}

/// Whether a type names axum's `Router`/`MethodRouter`, also inside generics
/// (`Result<Router, E>`), through `Self` in an impl and workspace type aliases.
pub(super) fn routing_type(
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
                None => match p.last().map(|n| defs.original_name(module, n)) {
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

pub(super) fn entry_per_method(
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
pub(super) fn collect_filters(e: &Expr, out: &mut Vec<String>) -> bool {
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

/// The strings a prefix chooses among when it is a `match` or an `if`
/// whose every arm is a string literal (`match tenancy { Multi =>
/// "/{account}/{dataset}", Single => "/{dataset}" }`); `None` otherwise.
fn literal_alternatives(e: &Expr) -> Option<Vec<String>> {
    fn lit(e: &Expr) -> Option<Vec<String>> {
        match e.peel() {
            Expr::Block { block, .. } if block.stmts.is_empty() => None,
            Expr::Block { block, .. } => lit(block.tail()?),
            Expr::If { then, els, .. } => {
                let mut out = lit(then.tail()?)?;
                out.extend(lit(els.as_deref()?)?);
                Some(out)
            }
            Expr::Match { arms, .. } if !arms.is_empty() => {
                let mut out = Vec::new();
                for (_, a) in arms {
                    out.extend(lit(a)?);
                }
                Some(out)
            }
            x => x.as_str().map(|s| vec![s.to_owned()]),
        }
    }
    if !matches!(e.peel(), Expr::Match { .. } | Expr::If { .. }) {
        return None;
    }
    let mut alts = lit(e)?;
    alts.dedup();
    (alts.len() > 1).then_some(alts)
}

pub(super) fn push_route(
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

/// A route path as axum matches it, normalised; a trailing slash is kept
/// (axum routes `/a/` and `/a` apart).
pub(super) fn norm(raw: &str) -> String {
    let p = crate::entrypoints::normalise_path(raw);
    if raw.ends_with('/') && p != "/" {
        format!("{p}/")
    } else {
        p
    }
}

/// Nesting as axum joins paths: `/api` + `/` is `/api`, `/api` + `/users/`
/// keeps the path's slash, and a prefix ending in `/` keeps its own before
/// the nested root (`/web/` + `/` is `/web/`).
pub(super) fn join(prefix: &str, path: &str) -> String {
    let p = join_paths(prefix, path);
    let slash = if path == "/" {
        prefix.ends_with('/')
    } else {
        path.ends_with('/')
    };
    if slash && p != "/" {
        format!("{p}/")
    } else {
        p
    }
}
