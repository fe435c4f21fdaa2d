//! Handlers and middleware: the fn (or closure) a route calls, and the fn
//! a `wrap`/`wrap_fn` middleware or a workspace `Transform` runs.

use super::*;
#[allow(unused_imports)]
use super::{app::*, eval::*, flatten::*};

impl<'d, 'a> Interp<'d, 'a> {
    pub(super) fn handlers_of(&mut self, v: Val<'a>, arg: &'a Expr, at: &Location) -> Vec<Handler> {
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

    pub(super) fn middleware(
        &self,
        func: FnId,
        kind: &str,
        arg: &'a Expr,
        at: &Location,
    ) -> Middleware {
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

/// The value a middleware local was bound to: `auth` (or `auth.clone()`)
/// after `let auth = HttpAuthentication::bearer(validate);` in the same fn
/// (its closures included) is that call; the last such `let` written at or
/// before `line`. Anything else is returned as it is.
pub(super) fn let_bound<'e>(defs: &DefMap<'e>, func: FnId, e: &'e Expr, line: u32) -> &'e Expr {
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
        crate::entrypoints::locals::lets_in_block(body, &mut |n, init| {
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
pub(super) fn middleware_fn(defs: &DefMap<'_>, func: FnId, e: &Expr) -> Option<String> {
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
pub(super) fn closure_fn(defs: &DefMap<'_>, func: FnId, body: &Expr) -> Option<String> {
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
pub(in crate::entrypoints) fn middleware_service(
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
pub(super) fn service_call(defs: &DefMap<'_>, t: TypeId) -> Option<FnId> {
    defs.impls
        .iter()
        .filter(|i| i.self_def == Some(t) && i.trait_path.and_then(Path::last) == Some("Service"))
        .find_map(|i| i.methods.get("call").copied())
}

/// The workspace type an expression builds, where the syntax shows it.
pub(super) fn value_type(defs: &DefMap<'_>, func: FnId, e: &Expr, depth: u32) -> Option<TypeId> {
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
