//! Handlers and middleware: the fn (or closure, service, file service)
//! a method router calls, and the fn a layer runs.

use super::*;
#[allow(unused_imports)]
use super::{eval::*, openapi::*, router::*};

impl<'d, 'a> Detector<'d, 'a> {
    /// The handler named by a `get(..)` argument, with layers put on the handler itself.
    pub(super) fn handler_of(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
    ) -> (Handler, Vec<Middleware>) {
        self.handler_at(fr, e, line, 0)
    }

    pub(super) fn handler_at(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
        depth: u32,
    ) -> (Handler, Vec<Middleware>) {
        if depth > 8 {
            return (self.text_handler(fr, e, line, None), Vec::new());
        }
        match e.peel() {
            Expr::Path { path, .. } => {
                if let Some(name) = single(path)
                    && let Some(b) = fr.lookup(name)
                {
                    if let Value::Handler(h) = &b.value {
                        return (h.clone(), Vec::new());
                    }
                    // `let h = make_handler(cfg);` then `get(h)`.
                    if let Some(init) = b.init {
                        return self.handler_at(fr, init, line, depth + 1);
                    }
                    let note = format!("the handler `{name}` is a variable cleave cannot follow");
                    return (self.text_handler(fr, e, line, Some(note)), Vec::new());
                }
                match self.fn_handler(fr, path) {
                    Some(h) => (h, Vec::new()),
                    None => {
                        let note = self.unresolved_note(fr, path);
                        (self.text_handler(fr, e, line, note), Vec::new())
                    }
                }
            }
            Expr::Closure { line: cl, .. } => (self.closure_handler(fr, *cl), Vec::new()),
            // `handler.layer(l)` (axum's `Handler::layer`), `handler.with_state(s)`.
            Expr::MethodCall {
                receiver,
                method,
                args,
                line: ml,
                ..
            } => match (method.as_str(), args.as_slice()) {
                ("layer", [l]) => {
                    let (h, mut mw) = self.handler_at(fr, receiver, line, depth + 1);
                    let m = self.middleware(fr, "layer", l, *ml);
                    mw.push(m);
                    (h, mw)
                }
                ("with_state" | "clone" | "into_service" | "into_make_service", _) => {
                    self.handler_at(fr, receiver, line, depth + 1)
                }
                _ => (self.text_handler(fr, e, line, None), Vec::new()),
            },
            Expr::Call { func, args, .. } => {
                // `get(conduit(krate::search))`, `get(Wrap::new(C(h)))`: a wrapper
                // around a workspace fn or closure, which is the handler's code.
                if let Some(h) = args.iter().find_map(|a| self.wrapped_fn(fr, a, 0)) {
                    return (h, Vec::new());
                }
                // `get(make_handler(cfg))`: the workspace fn that makes the handler.
                if let Expr::Path { path, .. } = func.peel()
                    && let Some(h) = self.fn_handler(fr, path)
                {
                    return (h, Vec::new());
                }
                (self.text_handler(fr, e, line, None), Vec::new())
            }
            Expr::Block { block, .. } => match block.tail() {
                Some(t) => self.handler_at(fr, t, line, depth + 1),
                None => (self.text_handler(fr, e, line, None), Vec::new()),
            },
            _ => (self.text_handler(fr, e, line, None), Vec::new()),
        }
    }

    /// The handler of a tower service: the workspace fn it is made from
    /// (`service_fn(f)`, `handler.into_service()`), else the service as written.
    pub(super) fn service_handler(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
    ) -> (Handler, Vec<Middleware>) {
        self.service_at(fr, e, line, 0)
    }

    pub(super) fn service_at(
        &mut self,
        fr: &mut Frame<'a>,
        e: &'a Expr,
        line: u32,
        depth: u32,
    ) -> (Handler, Vec<Middleware>) {
        if depth > 8 {
            return (self.text_handler(fr, e, line, None), Vec::new());
        }
        match e.peel() {
            Expr::MethodCall {
                receiver,
                method,
                args,
                line: ml,
                ..
            } => match (method.as_str(), args.as_slice()) {
                ("layer", [l]) => {
                    let (h, mut mw) = self.service_at(fr, receiver, line, depth + 1);
                    let m = self.middleware(fr, "layer", l, *ml);
                    mw.push(m);
                    (h, mw)
                }
                (
                    "into_service" | "with_state" | "handle_error" | "map_err" | "clone"
                    | "boxed_clone" | "into_make_service",
                    _,
                ) => self.service_at(fr, receiver, line, depth + 1),
                _ => (self.text_handler(fr, e, line, None), Vec::new()),
            },
            Expr::Path { path, .. } => {
                if let Some(name) = single(path)
                    && let Some(b) = fr.lookup(name)
                {
                    if let Value::Handler(h) = &b.value {
                        return (h.clone(), Vec::new());
                    }
                    // `let serve_dir = ServeDir::new("assets");` then `nest_service(p, serve_dir)`.
                    if let Some(init) = b.init {
                        return self.service_at(fr, init, line, depth + 1);
                    }
                }
                match self.fn_handler(fr, path) {
                    Some(h) => (h, Vec::new()),
                    None => (self.text_handler(fr, e, line, None), Vec::new()),
                }
            }
            Expr::Closure { line: cl, .. } => (self.closure_handler(fr, *cl), Vec::new()),
            Expr::Call { func, args, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    if let Some(mut h) = self.fn_handler(fr, path) {
                        // `nest_service("/assets", static_files(dir))`: the
                        // workspace fn builds a file service.
                        if h.root.is_some_and(|f| {
                            crate::entrypoints::fn_serves_files(&AXUM, self.defs.fns[f].def)
                        }) {
                            h.kind = EntryKind::Static;
                        }
                        return (h, Vec::new());
                    }
                    // `tower::service_fn(f)`
                    if path.last() == Some("service_fn")
                        && let [f] = args.as_slice()
                    {
                        return self.handler_at(fr, f, line, depth + 1);
                    }
                }
                (self.text_handler(fr, e, line, None), Vec::new())
            }
            _ => (self.text_handler(fr, e, line, None), Vec::new()),
        }
    }

    /// A workspace fn or closure passed (directly or through nested wrapper
    /// calls) as an argument: `krate::search` in `conduit(krate::search)`.
    pub(super) fn wrapped_fn(
        &mut self,
        fr: &mut Frame<'a>,
        e: &Expr,
        depth: u32,
    ) -> Option<Handler> {
        if depth > 4 {
            return None;
        }
        match e.peel() {
            Expr::Path { path, .. } => {
                if let Some(name) = single(path)
                    && let Some(b) = fr.lookup(name)
                {
                    return match &b.value {
                        Value::Handler(h) => Some(h.clone()),
                        _ => None,
                    };
                }
                self.fn_handler(fr, path)
            }
            Expr::Closure { line, .. } => Some(self.closure_handler(fr, *line)),
            Expr::Call { args, .. } => args.iter().find_map(|a| self.wrapped_fn(fr, a, depth + 1)),
            _ => None,
        }
    }

    pub(super) fn fn_handler(&self, fr: &Frame<'a>, path: &Path) -> Option<Handler> {
        let f = self
            .defs
            .resolve_fn_path(fr.fn_id, path)
            .into_iter()
            .next()?;
        let data = &self.defs.fns[f];
        Some(Handler {
            id: data.id.clone(),
            at: Location {
                file: data.file.to_owned(),
                line: data.line,
            },
            root: Some(f),
            kind: EntryKind::Http,
            note: None,
        })
    }

    /// Why a handler path resolves to nothing in the workspace, unless it is a dependency's.
    pub(super) fn unresolved_note(&self, fr: &Frame<'a>, path: &Path) -> Option<String> {
        let names: Vec<String> = path.names().map(str::to_owned).collect();
        if self
            .defs
            .names_external(fr.module, &names, path.leading_colon)
        {
            return None;
        }
        Some(format!(
            "cleave cannot resolve the handler `{path}` to a workspace fn"
        ))
    }

    pub(super) fn closure_handler(&self, fr: &Frame<'a>, line: u32) -> Handler {
        Handler {
            id: format!("{}::{{closure}}", self.defs.fns[fr.fn_id].id),
            at: fr.loc(line),
            root: Some(fr.fn_id),
            kind: EntryKind::Http,
            note: None,
        }
    }

    pub(super) fn text_handler(
        &self,
        fr: &Frame<'a>,
        e: &Expr,
        line: u32,
        note: Option<String>,
    ) -> Handler {
        Handler {
            id: text(e),
            at: fr.loc(e.line().unwrap_or(line)),
            root: None,
            kind: if crate::entrypoints::serves_files(&AXUM, e) {
                EntryKind::Static
            } else {
                EntryKind::Http
            },
            note,
        }
    }

    pub(super) fn middleware(
        &mut self,
        fr: &mut Frame<'a>,
        kind: &str,
        l: &'a Expr,
        line: u32,
    ) -> Middleware {
        // `let auth = from_fn(require_auth); .. .layer(auth)`: the bound value.
        let mut l = l;
        for _ in 0..4 {
            let init = match l.peel() {
                Expr::Path { path, .. } => single(path)
                    .and_then(|name| fr.lookup(name))
                    .and_then(|b| b.init),
                _ => None,
            };
            match init {
                Some(init) if !std::ptr::eq(init, l) => l = init,
                _ => break,
            }
        }
        Middleware {
            kind: kind.to_owned(),
            name: text(l),
            handler: self.middleware_fn(fr, l),
            at: fr.loc(line),
        }
    }

    /// The fn behind `from_fn(f)`, `from_fn_with_state(s, f)`, `map_request(f)`
    /// (also inside a `ServiceBuilder` chain, when it holds exactly one).
    pub(super) fn middleware_fn(&self, fr: &Frame<'a>, l: &Expr) -> Option<String> {
        let mut found: Vec<&Expr> = Vec::new();
        l.walk(&mut |x| {
            if let Expr::Call { func, args, .. } = x
                && let Expr::Path { path, .. } = func.peel()
                && path.last().is_some_and(|n| MIDDLEWARE_FNS.contains(&n))
                && let Some(f) = args.last()
            {
                found.push(f);
            }
        });
        let [f] = found.as_slice() else {
            // A workspace tower `Layer` (`.layer(RateLimitLayer::new(..))`): the
            // `call` of the service it builds.
            return found
                .is_empty()
                .then(|| {
                    crate::entrypoints::actix::middleware_service(self.defs, fr.fn_id, l, "Layer")
                })
                .flatten()
                .map(|g| self.defs.fns[g].id.clone());
        };
        match f.peel() {
            Expr::Path { path, .. } => self.fn_handler(fr, path).map(|h| h.id),
            Expr::Closure { line, .. } => Some(self.closure_handler(fr, *line).id),
            _ => None,
        }
    }
}
