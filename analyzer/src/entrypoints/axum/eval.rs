//! The axum interpreter's core: evaluating fn bodies, blocks, calls,
//! macros and bindings into [`Value`]s, following calls into workspace fns
//! with argument values, joining branches, and sinking routers that leave
//! router-building code. Router semantics live in `router.rs`.

use super::*;
#[allow(unused_imports)]
use super::{handlers::*, openapi::*, router::*};

impl<'d, 'a> Detector<'d, 'a> {
    /// Evaluates fn `f`'s body with values for `self` and its parameters.
    pub(super) fn eval_fn(
        &mut self,
        f: FnId,
        self_val: Option<Value>,
        args: Vec<Value>,
    ) -> Outcome {
        let plain = self_val.as_ref().is_none_or(|v| *v == Value::Unknown)
            && args.iter().all(|v| *v == Value::Unknown);
        if plain && let Some(o) = self.memo.get(&f) {
            return o.clone();
        }
        let defs = self.defs;
        let data = &defs.fns[f];
        let mut fr = Frame::of(defs, f);
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
                grown: Vec::new(),
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
    pub(super) fn inline(
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

    pub(super) fn bind_pat(&mut self, fr: &mut Frame<'a>, pat: &Pat, v: Value) {
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
    pub(super) fn discard(&mut self, fr: &mut Frame<'a>, v: Value, e: &Expr, line: u32) {
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

    pub(super) fn eval_block(
        &mut self,
        fr: &mut Frame<'a>,
        block: &'a crate::syntax::Block,
    ) -> Value {
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
    pub(super) fn eval_arg(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Value {
        match e {
            Expr::Wrap {
                kind: WrapKind::Ref,
                inner,
            } => self.eval_borrowed(fr, inner),
            _ => self.eval(fr, e),
        }
    }

    /// Evaluates `e` without moving the variable it names (`&app`, `app.clone()`).
    pub(super) fn eval_borrowed(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Value {
        if let Expr::Path { path, .. } = e.peel()
            && let Some(name) = single(path)
            && let Some(b) = fr.lookup(name)
        {
            return b.value.clone();
        }
        self.eval(fr, e)
    }

    /// Sinks the routers moved into a call that is not a router operation.
    pub(super) fn sink_args(fr: &mut Frame<'a>, args: &[Expr], vals: Vec<Value>) {
        for (a, v) in args.iter().zip(vals) {
            if !is_borrow(a) {
                fr.sink(v);
            }
        }
    }

    pub(super) fn eval(&mut self, fr: &mut Frame<'a>, e: &'a Expr) -> Value {
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
            Expr::Macro {
                path,
                args,
                line,
                tokens,
            } => self.eval_macro(fr, path, args, tokens.as_deref(), *line),
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
                // `for page in ["index.html", "cpu.html"].iter() { router =
                // router.route_service(&format!("/{page}"), ..) }` and
                // `for (path, handler) in routes { router = router.route(path,
                // handler) }` over `vec![("/a", post(a)), ..]`: a loop over a
                // fixed list of strings, or of tuples led by one, runs once
                // per item.
                if let (Some(p), Some(it)) = (pat, iter)
                    && let Some(items) = self.fixed_items(fr, fr.fn_id, it, 0)
                    && let Some(names) = loop_names(p, &items)
                {
                    for (g, item) in items {
                        let parts: Vec<&'a Expr> = match item.peel() {
                            Expr::Other(xs) if names.len() > 1 => xs.iter().collect(),
                            _ => vec![item],
                        };
                        let vals: Vec<Value> =
                            parts.iter().map(|x| self.eval_in(fr, g, x)).collect();
                        let mark = fr.env.len();
                        for (name, v) in names.iter().zip(vals) {
                            if let Some(name) = name {
                                fr.bind(name, v);
                            }
                        }
                        let v = self.eval_block(fr, body);
                        fr.sink(v);
                        fr.end_scope(mark);
                    }
                    return Value::Unknown;
                }
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

    pub(super) fn eval_path(&mut self, fr: &mut Frame<'a>, path: &Path) -> Value {
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
    pub(super) fn const_str(&self, module: ModId, path: &Path, depth: u32) -> Option<String> {
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

    pub(super) fn eval_macro(
        &mut self,
        fr: &mut Frame<'a>,
        path: &Path,
        args: &'a [Expr],
        tokens: Option<&str>,
        line: u32,
    ) -> Value {
        let vals: Vec<Value> = args.iter().map(|a| self.eval_arg(fr, a)).collect();
        let name = path.last().unwrap_or("");
        let module = fr.module;
        // A workspace macro: its body, evaluated here.
        if self.macro_depth < crate::entrypoints::MACRO_DEPTH
            && let Some(call) =
                crate::entrypoints::macro_call(self.defs, module, path, tokens, args.len())
        {
            self.macro_depth += 1;
            let mark = fr.env.len();
            for (name, v) in call.params.iter().zip(vals) {
                fr.bind(name, v);
            }
            let v = self.eval_block(fr, call.body);
            fr.end_scope(mark);
            self.macro_depth -= 1;
            return v;
        }
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

    /// The items a loop iterates over, when the syntax fixes them, each
    /// with the fn it is written in: an array or `vec![..]` literal,
    /// directly or through a local bound to one (with what `.push(x)` and
    /// `.extend(xs)` added to it since), with `.iter()`/`.into_iter()`/
    /// `.copied()` or `&`; a field of the struct a workspace fn of no
    /// arguments returns (`routes.extend(openai_routes().routes)`).
    fn fixed_items(
        &self,
        fr: &Frame<'a>,
        f: FnId,
        e: &'a Expr,
        depth: u32,
    ) -> Option<Vec<(FnId, &'a Expr)>> {
        const MOST: usize = 256;
        if depth > 6 {
            return None;
        }
        let items: Vec<(FnId, &'a Expr)> = match e.peel() {
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } if args.is_empty()
                && matches!(method.as_str(), "iter" | "into_iter" | "copied" | "cloned") =>
            {
                return self.fixed_items(fr, f, receiver, depth + 1);
            }
            Expr::Wrap {
                kind: WrapKind::Ref,
                inner,
            } => return self.fixed_items(fr, f, inner, depth + 1),
            // A local of the frame being evaluated.
            Expr::Path { path, .. } if f == fr.fn_id => {
                let b = fr
                    .env
                    .iter()
                    .rev()
                    .find(|b| Some(b.name.as_str()) == single(path))?;
                let mut items = self.fixed_items(fr, f, b.init?, depth + 1)?;
                for (how, x) in &b.grown {
                    match *how {
                        "push" => items.push((f, *x)),
                        _ => items.extend(self.fixed_items(fr, f, x, depth + 1)?),
                    }
                }
                items
            }
            Expr::Field { base, member } => {
                let Expr::Call { func, args, .. } = base.peel() else {
                    return None;
                };
                let Expr::Path { path, .. } = func.peel() else {
                    return None;
                };
                let [g] = self.defs.resolve_fn_path(f, path)[..] else {
                    return None;
                };
                let def = self.defs.fns[g].def;
                if !args.is_empty() || !def.params.is_empty() || def.receiver.is_some() {
                    return None;
                }
                let Expr::Struct { fields, .. } = def.body.as_ref()?.tail()?.peel() else {
                    return None;
                };
                let (_, x) = fields.iter().find(|(n, _)| n == member.as_str())?;
                return self.fixed_items(fr, g, x, depth + 1);
            }
            Expr::Other(xs) => xs.iter().map(|x| (f, x)).collect(),
            Expr::Macro { path, args, .. } if path.last() == Some("vec") => {
                args.iter().map(|x| (f, x)).collect()
            }
            _ => return None,
        };
        (!items.is_empty() && items.len() <= MOST).then_some(items)
    }

    /// An expression of fn `g` (the frame's own, or a workspace fn whose
    /// literal a loop reads) evaluated where it is written.
    fn eval_in(&mut self, fr: &mut Frame<'a>, g: FnId, e: &'a Expr) -> Value {
        if g == fr.fn_id {
            return self.eval_arg(fr, e);
        }
        let mut there = Frame::of(self.defs, g);
        let v = self.eval_arg(&mut there, e);
        fr.diags.append(&mut there.diags);
        fr.escapes.append(&mut there.escapes);
        v
    }

    pub(super) fn eval_call(
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
    pub(super) fn split_receiver(
        &self,
        targets: &[FnId],
        vals: Vec<Value>,
    ) -> (Option<Value>, Vec<Value>) {
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
}

/// How many router values the innermost fn or closure body has returned so far.
pub(super) fn routing_returns(fr: &Frame<'_>) -> usize {
    fr.rets
        .last()
        .map_or(0, |r| r.iter().filter(|v| v.is_routing()).count())
}

/// Merges two environments of the same scope after a branch; whether a
/// router binding differs between them.
pub(super) fn merge_envs<'a>(a: Vec<Binding<'a>>, b: Vec<Binding<'a>>) -> (Vec<Binding<'a>>, bool) {
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
                // What either branch added (the first's, then the second's
                // own).
                grown: {
                    let mut grown = x.grown;
                    let more: Vec<_> = y
                        .grown
                        .into_iter()
                        .filter(|(m, e)| !grown.iter().any(|(n, g)| n == m && std::ptr::eq(*g, *e)))
                        .collect();
                    grown.extend(more);
                    grown
                },
            }
        })
        .collect();
    (out, changed)
}

pub(super) fn single(path: &Path) -> Option<&str> {
    match &path.segments[..] {
        [s] if !path.leading_colon && s.generics.is_empty() => Some(&s.name),
        _ => None,
    }
}

pub(super) fn is_borrow(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Wrap {
            kind: WrapKind::Ref,
            ..
        }
    )
}

pub(super) fn pat_idents(p: &Pat, out: &mut Vec<String>) {
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

/// The smallest line number inside an expression (for `if`, which has none).
pub(super) fn first_line(e: &Expr) -> u32 {
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
pub(super) fn format_str(
    template: &str,
    args: &[Value],
    fr: &mut Frame<'_>,
    consts: &dyn Fn(&Path) -> Option<String>,
) -> Option<String> {
    let text = |v: Option<Value>| match v {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    };
    crate::entrypoints::expand_format(template, |hole| match hole {
        crate::entrypoints::Hole::Index(i) => text(args.get(i).cloned()),
        crate::entrypoints::Hole::Named(name) => match fr.lookup(name) {
            Some(b) => text(Some(b.value.clone())),
            None => consts(&Path::from_names([name])),
        },
    })
}

/// The names a loop's pattern binds per item of a fixed list: `page` over
/// strings, `(path, handler)` (or `_`) over tuples of that many elements led
/// by a string. `None` when the items are of another shape, and the loop is
/// read once.
fn loop_names<'p>(p: &'p Pat, items: &[(FnId, &Expr)]) -> Option<Vec<Option<&'p str>>> {
    let name = |p: &'p Pat| match p {
        Pat::Ident(n) => Some(Some(n.as_str())),
        Pat::Other => Some(None),
        _ => None,
    };
    match p {
        Pat::Ident(n) => items
            .iter()
            .all(|(_, x)| x.as_str().is_some())
            .then(|| vec![Some(n.as_str())]),
        Pat::Tuple(ps) if ps.len() >= 2 => {
            let shaped = items.iter().all(|(_, x)| match x.peel() {
                Expr::Other(xs) => xs.len() == ps.len() && xs[0].as_str().is_some(),
                _ => false,
            });
            if !shaped {
                return None;
            }
            ps.iter().map(name).collect()
        }
        Pat::Ref(inner) => loop_names(inner, items),
        _ => None,
    }
}
