//! The actix interpreter's core: evaluating fn and closure bodies,
//! blocks, calls, macros and method calls into [`Val`]s, following calls
//! into workspace fns with argument values and keeping every variant a
//! branch or loop can produce. App, scope and resource semantics live in
//! `app.rs`.

use super::*;
#[allow(unused_imports)]
use super::{app::*, flatten::*, handlers::*};

impl<'d, 'a> Interp<'d, 'a> {
    pub(super) fn call_fn(&mut self, f: FnId, args: Vec<Val<'a>>, path_call: bool) -> Val<'a> {
        self.call_with_self(f, None, args, path_call)
    }

    /// [`Interp::call_fn`], with `self_val` bound to `self` in a method.
    fn call_with_self(
        &mut self,
        f: FnId,
        self_val: Option<Val<'a>>,
        args: Vec<Val<'a>>,
        path_call: bool,
    ) -> Val<'a> {
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
        if let Some(v) = self_val {
            fr.vars.push(("self".to_owned(), v));
        }
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

    pub(super) fn call_closure(&mut self, c: &Closure<'a>, args: Vec<Val<'a>>) -> Val<'a> {
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
    /// it is handed a builder or a `ServiceConfig`, or returns a builder or a
    /// closure (a configure closure: `-> impl Fn(&mut ServiceConfig)`), or
    /// builds a string from known ones (`web::resource(&api_path("/users"))`).
    pub(super) fn worth_calling(&self, f: FnId, args: &[Val<'a>]) -> bool {
        if args.iter().any(Val::is_builder) {
            return true;
        }
        let ret = self.defs.fns.get(f).and_then(|d| d.def.ret.as_ref());
        ret.is_some_and(|t| {
            mentions(t, BUILDER_TYPES)
                || mentions(t, &["Fn", "FnMut", "FnOnce"])
                || mentions(t, ACTIX_WEB.file_services)
        }) || (args.iter().all(|a| matches!(a, Val::Str(_)))
            && ret.is_some_and(|t| mentions(t, &["String", "str"])))
    }

    pub(super) fn eval_block(&mut self, fr: &mut Frame<'a>, b: &'a Block) -> Val<'a> {
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
    pub(super) fn assign(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> bool {
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

    pub(super) fn eval(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Val<'a> {
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
            Expr::Macro {
                path,
                args,
                line,
                tokens,
            } => self.eval_macro(fr, path, args, tokens.as_deref(), *line),
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

    pub(super) fn eval_path(&mut self, fr: &mut Frame<'a>, path: &Path) -> Val<'a> {
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

    pub(super) fn eval_macro(
        &mut self,
        fr: &mut Frame<'a>,
        path: &Path,
        args: &'a [Expr],
        tokens: Option<&str>,
        line: u32,
    ) -> Val<'a> {
        let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
        // A workspace macro: its body, evaluated here.
        if self.macro_depth < crate::entrypoints::MACRO_DEPTH
            && let Some(call) = crate::entrypoints::macro_call(
                self.defs,
                self.defs.fns[fr.func].module,
                path,
                tokens,
                args.len(),
            )
        {
            self.macro_depth += 1;
            let mark = fr.vars.len();
            for (name, v) in call.params.iter().zip(vals) {
                fr.vars.push(((*name).to_owned(), v));
            }
            let v = self.eval_block(fr, call.body);
            fr.vars.truncate(mark);
            self.macro_depth -= 1;
            return v;
        }
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

    pub(super) fn eval_call(
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
        // Leptos's `generate_route_list(App)`: the pages of `App`'s routes.
        if let Some((pages, unread)) =
            crate::entrypoints::leptos::route_list_call(self.defs, fr.func, func, args)
        {
            return Val::Pages(pages, unread);
        }
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
            let at = self.loc(fr.func, line);
            // `Self::configure_routes(cfg)` in a trait's default method: the
            // implementing type picks one at runtime; every one is listed.
            if targets.len() > 1 && vals.iter().any(|v| matches!(v, Val::Cfg(_))) {
                self.warn(
                    "dynamic-route",
                    &at,
                    format!(
                        "`{path}` is one of {} fns (the implementations of a trait method, \
                         chosen by the type at runtime): cleave lists the routes of every one; \
                         check which one the deployed binary runs",
                        targets.len()
                    ),
                );
            }
            let mut outs = Vec::new();
            for &t in &targets {
                outs.push(self.call_fn(t, vals.clone(), true));
            }
            return alt(outs, at, "a call with several targets");
        }
        let at = self.loc(fr.func, line);
        // `App::new()`: a new app.
        if args.is_empty() && is_app_new(self.defs, fr.func, path) {
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
        // `web::redirect("/from", "/to")` and `Redirect::new("/from", "/to")`:
        // a service answering any method at `/from` with a redirect (actix's
        // `Redirect`, outside the workspace).
        if (path.ends_with(&["web", "redirect"])
            || (path.ends_with(&["Redirect", "new"])
                && self.defs.resolve_fn_path(fr.func, path).is_empty()))
            && args.len() == 2
        {
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
        // `Box::new(move |cfg| ..)` (a boxed configure closure), `Arc::new(..)`,
        // `Rc::new(..)`: the value itself.
        if let [.., ty, ctor] = path.segments.as_ref()
            && ctor.name == "new"
            && matches!(ty.name.as_str(), "Box" | "Arc" | "Rc")
            && let [arg] = args
        {
            return self.eval(fr, arg);
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

    pub(super) fn eval_method(
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

    pub(super) fn dispatch(
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
            // A workspace extension trait's method on `App` or `Scope`
            // (`impl ScopeExt for Scope { fn api_routes(self) -> Self {
            // self.service(..) } }`): followed with the builder as `self`.
            Val::App(..) | Val::Scope(_)
                if !is_node_method(method)
                    && !self.builder_ext_methods(&recv, method).is_empty() =>
            {
                let targets = self.builder_ext_methods(&recv, method);
                let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
                let outs: Vec<Val<'a>> = targets
                    .iter()
                    .map(|f| self.call_with_self(*f, Some(recv.clone()), vals.clone(), false))
                    .collect();
                match outs.into_iter().find(Val::is_builder) {
                    Some(v) => v,
                    None => {
                        self.warn(
                            "unknown-builder",
                            &at,
                            format!(
                                "actix `.{method}(..)`: cleave cannot follow what this \
                                 method adds; the routes added before it are kept"
                            ),
                        );
                        recv
                    }
                }
            }
            Val::App(node, serial) => {
                let node = if is_node_method(method) {
                    self.apply_node(fr, node, method, args, &at)
                } else if method.starts_with("leptos_routes") {
                    self.leptos_routes(fr, node, args, &at)
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
            Val::Pages(..) if matches!(method, "to_owned" | "into" | "to_vec") => recv,
            // `"/api".to_string()` and friends keep the text.
            Val::Str(s)
                if matches!(
                    method,
                    "to_string" | "to_owned" | "into" | "as_str" | "as_ref"
                ) =>
            {
                Val::Str(s)
            }
            // `path.replace("{id}", &format!("{{id:{}}}", ID_REGEX))`.
            Val::Str(s) if method == "replace" && args.len() == 2 => {
                match [self.eval(fr, &args[0]), self.eval(fr, &args[1])] {
                    [Val::Str(from), Val::Str(to)] => Val::Str(s.replace(&from, &to)),
                    _ => Val::Unknown,
                }
            }
            // `auth.routes()` on a value cleave does not track: the
            // workspace methods of that name that return a builder (one per
            // implementing type, each a possible value).
            _ if !self.builder_methods(method).is_empty() => {
                let targets = self.builder_methods(method);
                let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
                let outs = targets
                    .iter()
                    .map(|f| self.call_with_self(*f, None, vals.clone(), false))
                    .collect();
                alt(outs, at, "the type of the receiver")
            }
            _ => self.opaque_method(fr, method, args),
        }
    }

    /// Workspace methods named `method` (taking `self`, with a body) that
    /// return an actix builder, when there are at most a few of them.
    fn builder_methods(&self, method: &str) -> Vec<FnId> {
        const MOST: usize = 8;
        let defs = self.defs;
        let out: Vec<FnId> = defs
            .methods_named(method)
            .iter()
            .copied()
            .filter(|f| {
                let d = &defs.fns[*f].def;
                d.receiver.is_some()
                    && d.body.is_some()
                    && d.ret.as_ref().is_some_and(|t| mentions(t, BUILDER_TYPES))
            })
            .collect();
        if out.len() > MOST { Vec::new() } else { out }
    }

    /// Workspace methods named `method` taking `self` that can extend this
    /// builder: in an `impl` for actix's own `App` or `Scope` (an
    /// extension trait's), or a trait's default body.
    fn builder_ext_methods(&self, recv: &Val<'a>, method: &str) -> Vec<FnId> {
        let ty = match recv {
            Val::App(..) => "App",
            Val::Scope(_) => "Scope",
            _ => return Vec::new(),
        };
        let defs = self.defs;
        defs.methods_named(method)
            .iter()
            .copied()
            .filter(|f| {
                let data = &defs.fns[*f];
                data.def.receiver.is_some()
                    && match data.impl_ {
                        Some(i) => {
                            let imp = &defs.impls[i];
                            imp.self_def.is_none()
                                && matches!(imp.self_ty, Ty::Path(p) if p.last() == Some(ty))
                        }
                        None => data.trait_.is_some() && data.def.body.is_some(),
                    }
            })
            .collect()
    }

    /// A method cleave does not model: arguments are still evaluated; a
    /// `ServiceConfig` handed to a workspace method (`self.routes(cfg)`) is
    /// followed; closures passed in run under a "maybe" condition.
    pub(super) fn opaque_method(
        &mut self,
        fr: &mut Frame<'a>,
        method: &str,
        args: &'a [Expr],
    ) -> Val<'a> {
        let vals: Vec<Val<'a>> = args.iter().map(|a| self.eval(fr, a)).collect();
        if vals.iter().any(|v| matches!(v, Val::Cfg(_))) {
            // `self.routes(cfg)`; `ext.config_web(cfg)` on a trait object:
            // each workspace method of that name with a body (a trait's
            // implementations and its default) registers into the config.
            const MOST: usize = 8;
            let targets: Vec<FnId> = self
                .defs
                .methods_named(method)
                .iter()
                .copied()
                .filter(|f| self.defs.fns[*f].def.body.is_some())
                .collect();
            if let [only] = targets[..] {
                return self.call_fn(only, vals, false);
            }
            if (2..=MOST).contains(&targets.len()) {
                for f in &targets {
                    let _ = self.call_fn(*f, vals.clone(), false);
                }
                return Val::Unknown;
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
}

/// Binds a pattern's names to a value (destructuring tuples of lists);
/// names it cannot pair with a value shadow as unknown.
pub(super) fn bind<'a>(fr: &mut Frame<'a>, pat: &Pat, v: Val<'a>) {
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

pub(super) fn pat_names(p: &Pat, out: &mut Vec<String>) {
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
pub(super) fn combine<'a>(returns: Vec<Val<'a>>, tail: Val<'a>, at: Location) -> Val<'a> {
    let mut vals = returns;
    vals.push(tail);
    alt(vals, at, "early `return`s")
}

/// One of several values; unknown-only collapses to unknown, one to itself.
pub(super) fn alt<'a>(vals: Vec<Val<'a>>, at: Location, what: &'static str) -> Val<'a> {
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

pub(super) fn single(path: &Path) -> Option<&str> {
    match &path.segments[..] {
        [s] if !path.leading_colon => Some(s.name.as_str()),
        _ => None,
    }
}

/// Whether a type mentions one of `names` anywhere (`App<impl ServiceFactory<..>>`).
pub(super) fn mentions(t: &Ty, names: &[&str]) -> bool {
    match t {
        Ty::Path(p) => path_mentions(p, names),
        Ty::Ref(i) | Ty::Slice(i) => mentions(i, names),
        Ty::Dyn(ps) | Ty::Impl(ps) => ps.iter().any(|p| path_mentions(p, names)),
        Ty::Tuple(ts) => ts.iter().any(|t| mentions(t, names)),
        Ty::Other => false,
    }
}

pub(super) fn path_mentions(p: &Path, names: &[&str]) -> bool {
    p.segments
        .iter()
        .any(|s| names.contains(&s.name.as_str()) || s.generics.iter().any(|g| mentions(g, names)))
}

/// Which parameter of a configure fn takes the `&mut ServiceConfig` (the first if none says).
pub(super) fn cfg_param(defs: &DefMap<'_>, f: FnId) -> usize {
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
pub(super) fn const_str(defs: &DefMap<'_>, func: FnId, path: &Path) -> Option<String> {
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
pub(super) fn format_str(fr: &Frame<'_>, args: &[Expr], vals: &[Val<'_>]) -> Option<String> {
    let template = args.first()?.as_str()?;
    let text = |v: Option<&Val<'_>>| match v {
        Some(Val::Str(s)) => Some(s.clone()),
        _ => None,
    };
    crate::entrypoints::expand_format(template, |hole| match hole {
        crate::entrypoints::Hole::Index(i) => text(vals.get(i + 1)),
        crate::entrypoints::Hole::Named(name) => text(fr.var(name)),
    })
}
