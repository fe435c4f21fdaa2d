//! actix-web app semantics: `App`, `Scope`, `Resource` and `Route`
//! builder methods, `ServiceConfig` fns, services, route attributes, paths,
//! prefixes and method guards.

use super::*;
#[allow(unused_imports)]
use super::{eval::*, flatten::*, handlers::*};

impl<'d, 'a> Interp<'d, 'a> {
    /// `App`, `Scope` and `ServiceConfig` builder methods.
    pub(super) fn apply_node(
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
                let mut routes = self.routes_of(fr.func, rv, args.get(1), at);
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

    /// leptos_actix's `.leptos_routes(options, routes, app)` (and its
    /// `_with_context` form): one GET route per page of the route list.
    pub(super) fn leptos_routes(
        &mut self,
        fr: &mut Frame<'a>,
        mut node: Node,
        args: &'a [Expr],
        at: &Location,
    ) -> Node {
        let vals: Vec<(Val<'a>, &'a Expr)> = args.iter().map(|a| (self.eval(fr, a), a)).collect();
        let Some((pages, unread, text)) = vals.iter().find_map(|(v, a)| match v {
            Val::Pages(p, u) => Some((p.clone(), *u, expr_text(a))),
            _ => None,
        }) else {
            self.warn(
                "unknown-builder",
                at,
                "actix `App::leptos_routes(..)`: cleave cannot read its route list (not \
                 `generate_route_list(App)` of a workspace component); its pages are not listed"
                    .to_owned(),
            );
            return node;
        };
        if unread > 0 {
            self.warn(
                "dynamic-route",
                at,
                crate::entrypoints::leptos::leptos_unread(unread),
            );
        }
        for page in pages {
            let res = Res {
                paths: vec![page],
                routes: vec![RouteVal {
                    methods: vec!["GET".to_owned()],
                    handlers: vec![Handler::Unresolved(text.clone())],
                    registered: at.clone(),
                }],
                depth: node.depth,
                ..Res::default()
            };
            self.push_child(&mut node.children, node.depth, Child::Resource(res));
        }
        node
    }

    pub(super) fn apply_resource(
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
                let routes = self.routes_of(fr.func, v, args.first(), at);
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

    pub(super) fn apply_route(
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
    pub(super) fn run_config(&mut self, v: Val<'a>, arg: &'a Expr, at: &Location) -> Vec<Child> {
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

    pub(super) fn fill_config(&mut self, v: Val<'a>, sink: usize, arg: &'a Expr, at: &Location) {
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
    pub(super) fn note_conditional(&mut self, depth: usize) {
        if self.conds.len() > depth
            && let Some((where_, what)) = self.conds.last().cloned()
        {
            self.chosen(&where_, what);
        }
    }

    pub(super) fn push_child(&mut self, children: &mut Vec<Child>, depth: usize, c: Child) {
        self.note_conditional(depth);
        children.push(c);
    }

    pub(super) fn add_service(
        &mut self,
        node: &mut Node,
        v: Val<'a>,
        arg: &'a Expr,
        at: &Location,
    ) {
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
    pub(super) fn routes_of(
        &mut self,
        func: FnId,
        v: Val<'a>,
        arg: Option<&'a Expr>,
        at: &Location,
    ) -> Vec<RouteVal> {
        match v {
            Val::Route(r) => vec![r],
            Val::List(xs) => xs
                .into_iter()
                .flat_map(|x| self.routes_of(func, x, arg, at))
                .collect(),
            Val::Alt(xs, where_, what) => {
                self.chosen(&where_, what);
                xs.into_iter()
                    .flat_map(|x| self.routes_of(func, x, arg, at))
                    .collect()
            }
            // `.route("/fxn/{tail:.*}", leptos_actix::handle_server_fns())`:
            // a route an outside crate's fn makes answers the methods it
            // chooses, listed as any method with the handler as written.
            _ if arg.is_some_and(|a| self.outside_call(func, a)) => {
                let text = arg.map(expr_text).unwrap_or_default();
                self.warn(
                    "unresolved-handler",
                    at,
                    format!(
                        "actix route `{text}` comes from outside the workspace; it is listed \
                         for any method, with the handler as written"
                    ),
                );
                vec![RouteVal {
                    methods: Vec::new(),
                    handlers: vec![Handler::Unresolved(text)],
                    registered: at.clone(),
                }]
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

    /// Whether `e` is a call of a fn outside the workspace
    /// (`leptos_actix::handle_server_fns()`), written in `caller`.
    fn outside_call(&self, caller: FnId, e: &Expr) -> bool {
        let Expr::Call { func, .. } = e.peel() else {
            return false;
        };
        let Expr::Path { path, .. } = func.peel() else {
            return false;
        };
        let module = self.defs.fns[caller].module;
        let names: Vec<&str> = path.names().collect();
        names.len() > 1 && self.defs.names_external(module, &names, path.leading_colon)
    }

    /// Every value a scope's prefix may have. One computed at runtime (a
    /// configured base path) is read by the shared prefix evaluator: its
    /// runtime parts are assumed empty, or set by the plan's `[prefix]`
    /// table, with a warning.
    pub(super) fn prefixes_of(
        &mut self,
        fr: &mut Frame<'a>,
        arg: &'a Expr,
        at: &Location,
    ) -> Vec<String> {
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
                let parts = crate::entrypoints::prefix::parts(self.defs, fr.func, arg);
                vec![crate::entrypoints::prefix::settle(
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
    pub(super) fn paths_of(
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

    pub(super) fn strs(&mut self, v: Val<'a>, arg: &'a Expr, at: &Location, out: &mut Vec<String>) {
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

    /// `Method::GET`, `http::Method::POST`.
    pub(super) fn method_of(&mut self, arg: &Expr, at: &Location) -> Option<String> {
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
}

/// `web::scope`, `scope` (imported), `Scope::new`.
pub(super) fn is_ctor(path: &Path, func: &str, ty: &str) -> bool {
    path.ends_with(&["web", func]) || path.is_ident(func) || path.ends_with(&[ty, "new"])
}

/// The methods two guards both let through; an empty list lets through any.
pub(super) fn narrow(outer: &[String], inner: &[String]) -> Vec<String> {
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
pub(super) fn is_node_method(m: &str) -> bool {
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

/// A parameter-like name for a path part computed at runtime.
pub(super) fn placeholder(text: &str) -> String {
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
pub(super) fn guard_methods(e: &Expr) -> Vec<String> {
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

/// One route attribute: its methods and path (`#[get("/p")]`,
/// `#[route("/p", method = "GET", method = "POST")]`).
pub(super) fn attr_route(attr: &crate::syntax::Attr) -> Option<(Vec<String>, String)> {
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

pub(super) fn has_route_attrs(defs: &DefMap<'_>, f: FnId) -> bool {
    defs.fns
        .get(f)
        .is_some_and(|d| d.item.attrs.iter().any(|a| attr_route(a).is_some()))
}

/// Whether a route attribute is actix-web's: `#[actix_web::get]`, or a bare
/// `#[get]` imported from `actix_web` in the fn's module (rocket has the same names).
pub(super) fn is_actix_attr(defs: &DefMap<'_>, f: FnId, path: &Path) -> bool {
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
