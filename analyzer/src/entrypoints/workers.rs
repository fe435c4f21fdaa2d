//! Entry point detector: workers, whatever the framework.
//!
//! Input: the [`DefMap`] and the HTTP entry points the framework detectors
//! found. Output: one [`EntryPoint`] (kind `worker`, or `schedule` for an
//! interval loop) per piece of work `main` starts beside the server:
//! `tokio::spawn(f(..))`, `tokio::task::spawn_blocking`, `actix_web::rt::spawn`,
//! `std::thread::spawn(|| ..)` and their imported short forms (`rt::spawn`
//! after `use actix_web::rt`), futures raced or joined with the server in
//! `tokio::select!` / `join!`, and interval loops `main` runs itself.
//!
//! Only code reachable from a bin's `main` (and rocket's `#[launch]` fn, and
//! the `on_liftoff` of every workspace rocket `Fairing` or the fn an
//! `AdHoc::on_liftoff` names, which run once beside the server), through fns
//! called by path up to two calls deep, is read; route handlers
//! are never entered (work they spawn is a hazard, not an entry point). The
//! handler is the workspace fn the spawn names (or the one fn a spawned
//! block calls), else `<enclosing fn>::{closure}`. A spawn per accepted
//! connection or per loop iteration gives a [`Diagnostic`]. This module
//! never reads the disk.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Detection, EntryKind, EntryPoint, Location};
use crate::diagnostic::Diagnostic;
use crate::load::TargetKind;
use crate::resolve::{Def, DefMap, FnId, ModId};
use crate::syntax::{Block, Expr, ItemKind, Path, Stmt, UseEntry, UseKind, WrapKind};

mod jobs;
#[cfg(test)]
mod tests;
pub mod work;

use work::Work;

/// How many calls deep from `main` spawns are looked for (`main` -> `run` -> `start_jobs`).
const MAX_CALL_DEPTH: u32 = 2;

/// Crates whose `spawn` fns start a task or thread: tokio, actix-web's and
/// actix's runtimes, rocket's re-export of tokio, std threads, async-std, smol.
const RUNTIMES: &[&str] = &[
    "tokio",
    "actix_web",
    "actix_rt",
    "actix",
    "rocket",
    "std",
    "async_std",
    "smol",
];

/// Fns that start work which runs on after the call returns.
const SPAWN_FNS: &[&str] = &["spawn", "spawn_blocking", "spawn_local"];

/// Types whose `.spawn(fut)` starts a task or thread: tokio's `Runtime`,
/// `Handle`, `JoinSet`, `LocalSet`, std's `thread::Builder`.
const SPAWNER_TYPES: &[&str] = &[
    "runtime", "Runtime", "Handle", "JoinSet", "LocalSet", "thread", "Builder",
];

/// Crates with `select!` / `join!` macros that race futures.
const CONCURRENCY_CRATES: &[&str] = &["tokio", "futures", "futures_util", "rocket"];

/// Methods that run an HTTP server until it stops: rocket's `launch`,
/// hyper/axum 0.6/salvo `serve`, actix's `run_until_stopped`-style helpers,
/// graceful shutdown wrappers, tide's `listen`.
const SERVER_METHODS: &[&str] = &[
    "launch",
    "serve",
    "run_until_stopped",
    "with_graceful_shutdown",
    "listen",
];

/// Builder steps that make a value a server whose `.run()` serves it
/// (`HttpServer::new(..).bind(..)?.run()`, `poem::Server::new(..).run(app)`).
const SERVER_BUILDER_METHODS: &[&str] = &[
    "bind",
    "bind_rustls",
    "bind_rustls_0_23",
    "bind_openssl",
    "bind_uds",
    "listen",
    "serve",
];

pub(crate) fn detect(defs: &DefMap<'_>, out: &mut Detection) {
    let mut handlers = BTreeSet::new();
    let mut handler_closures = BTreeSet::new();
    for e in out.entrypoints.iter().filter(|e| e.kind.is_route()) {
        let Some(root) = e.root else { continue };
        if defs.fns.get(root).is_some_and(|d| d.id == e.handler) {
            handlers.insert(root);
        } else {
            handler_closures.insert((e.at.file.clone(), e.at.line));
        }
    }
    let mut w = Workers {
        defs,
        handlers,
        handler_closures,
        found: Vec::new(),
        works: BTreeMap::new(),
        diags: Vec::new(),
    };
    let mut queue: VecDeque<(FnId, u32)> = mains(defs).into_iter().map(|f| (f, 0)).collect();
    let mut seen = BTreeSet::new();
    while let Some((f, depth)) = queue.pop_front() {
        if !seen.insert(f) || w.handlers.contains(&f) {
            continue;
        }
        for g in w.scan_fn(f) {
            if depth < MAX_CALL_DEPTH {
                queue.push_back((g, depth + 1));
            }
        }
    }
    out.entrypoints.append(&mut w.found);
    out.works.append(&mut w.works);
    out.diagnostics.append(&mut w.diags);
}

/// Each bin's `main`, and rocket's `#[launch]` fn, which stands in for one.
fn mains(defs: &DefMap<'_>) -> Vec<FnId> {
    let mut out = BTreeSet::new();
    for (ci, krate) in defs.project.crates.iter().enumerate() {
        if krate.kind != TargetKind::Bin {
            continue;
        }
        let Some(&root) = defs.crate_roots.get(ci) else {
            continue;
        };
        if root >= defs.mods.len() {
            continue;
        }
        for d in defs.lookup(root, "main") {
            if let Def::Fn(f) = d
                && defs.fns[f].module == root
            {
                out.insert(f);
            }
        }
    }
    for (f, data) in defs.fns.iter().enumerate() {
        // `#[launch] fn rocket() -> _ { .. }`
        let is_launch = data.item.attrs.iter().any(|a| {
            let names: Vec<&str> = a.path.names().collect();
            matches!(names.as_slice(), ["launch"] | ["rocket", "launch"])
        });
        if is_launch && data.impl_.is_none() {
            out.insert(f);
        }
    }
    // `impl Fairing for SessionCleanup { async fn on_liftoff(..) { tokio::spawn(..) } }`:
    // rocket runs it once, after launch.
    for imp in &defs.impls {
        if imp.trait_.is_none()
            && imp.trait_path.and_then(Path::last) == Some("Fairing")
            && let Some(&f) = imp.methods.get("on_liftoff")
        {
            out.insert(f);
        }
    }
    out.into_iter().collect()
}

/// The innermost loop around the code being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopCtx {
    None,
    /// An interval loop: work spawned in it is scheduled.
    Schedule,
    /// A loop accepting connections: a hand-written server.
    Accept(u32),
    /// Any other loop: one spawn site starts many tasks.
    Plain(u32),
}

/// What a spawned (or raced) future is.
#[derive(Debug)]
enum Spawned<'a> {
    /// The HTTP server itself.
    Server,
    /// A handle of work spawned elsewhere (already reported there).
    Spawn,
    /// A call to workspace fns.
    Fns(Vec<FnId>),
    /// A closure body, async block or other expression; its line if it has one.
    Body(&'a Expr, Option<u32>),
}

/// The fn being read: its locals and its own `use` items.
struct FnCx<'a> {
    f: FnId,
    lets: BTreeMap<&'a str, &'a Expr>,
    uses: Vec<&'a UseEntry>,
}

struct Workers<'d, 'a> {
    defs: &'d DefMap<'a>,
    /// Route handler fns: never entered.
    handlers: BTreeSet<FnId>,
    /// Route handler closures (file, line): never entered.
    handler_closures: BTreeSet<(String, u32)>,
    found: Vec<EntryPoint>,
    /// What each schedule does per round, by handler and spawn site.
    works: BTreeMap<(String, Location), Work>,
    diags: Vec<Diagnostic>,
}

impl<'a> Workers<'_, 'a> {
    /// Reads one fn reachable from `main`; returns the workspace fns it calls.
    fn scan_fn(&mut self, f: FnId) -> BTreeSet<FnId> {
        let mut callees = BTreeSet::new();
        let Some(body) = &self.defs.fns[f].def.body else {
            return callees;
        };
        let cx = self.fn_cx(f);
        self.scan_block(&cx, body, LoopCtx::None, &mut callees);
        callees
    }

    fn fn_cx(&self, f: FnId) -> FnCx<'a> {
        let mut lets = BTreeMap::new();
        let mut uses = Vec::new();
        if let Some(body) = &self.defs.fns[f].def.body {
            super::locals::lets_in_block(body, &mut |n, init| {
                lets.insert(n, init);
            });
            // `use` items of the body and of the blocks in it (a spawned
            // closure's `use job_scheduler_ng::{Job, JobScheduler};`).
            let mut blocks = vec![body];
            body.walk(&mut |x| {
                if let Expr::Block { block, .. } = x {
                    blocks.push(block);
                }
            });
            for b in blocks {
                for s in &b.stmts {
                    if let Stmt::Item(item) = s
                        && let ItemKind::Use(entries) = &item.kind
                    {
                        uses.extend(entries.iter());
                    }
                }
            }
        }
        FnCx { f, lets, uses }
    }

    fn scan_block(
        &mut self,
        cx: &FnCx<'a>,
        b: &'a Block,
        ctx: LoopCtx,
        calls: &mut BTreeSet<FnId>,
    ) {
        for s in &b.stmts {
            match s {
                Stmt::Let { init, els, .. } => {
                    if let Some(e) = init {
                        self.scan(cx, e, ctx, calls);
                    }
                    if let Some(b) = els {
                        self.scan_block(cx, b, ctx, calls);
                    }
                }
                Stmt::Expr(e) | Stmt::Semi(e) => self.scan(cx, e, ctx, calls),
                Stmt::Item(_) => {}
            }
        }
    }

    fn scan(&mut self, cx: &FnCx<'a>, e: &'a Expr, ctx: LoopCtx, calls: &mut BTreeSet<FnId>) {
        match e {
            Expr::Call { func, args, line } => {
                if self.job(cx, e) {
                    return;
                }
                calls.extend(self.actor_started(cx, e));
                if let Expr::Path { path, .. } = func.peel() {
                    // `tokio::spawn(fut)`, `rt::spawn(async move { .. })`, `thread::spawn(|| ..)`
                    if self.is_spawn_fn(cx, path) {
                        if let Some(fut) = args.first() {
                            self.spawn(cx, fut, *line, ctx);
                        }
                        return;
                    }
                    calls.extend(self.defs.resolve_fn_path(cx.f, path));
                    // `AdHoc::on_liftoff("jobs", start_jobs)`: rocket calls it once, after launch.
                    if path.ends_with(&["AdHoc", "on_liftoff"]) {
                        for a in args {
                            if let Expr::Path { path: p, .. } = a.peel() {
                                calls.extend(self.defs.resolve_fn_path(cx.f, p));
                            }
                        }
                    }
                }
                self.scan(cx, func, ctx, calls);
                for a in args {
                    self.scan(cx, a, ctx, calls);
                }
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                line,
                ..
            } => {
                if self.job(cx, e) {
                    self.scan(cx, receiver, ctx, calls);
                    return;
                }
                calls.extend(self.actor_started(cx, e));
                // `Handle::current().spawn(fut)`, `thread::Builder::new().spawn(|| ..)`
                if SPAWN_FNS.contains(&method.as_str())
                    && let [fut] = args.as_slice()
                    && self.is_spawner(cx, receiver, 0)
                {
                    self.spawn(cx, fut, *line, ctx);
                    self.scan(cx, receiver, ctx, calls);
                    return;
                }
                self.scan(cx, receiver, ctx, calls);
                for a in args {
                    self.scan(cx, a, ctx, calls);
                }
            }
            Expr::Macro {
                path, args, line, ..
            } => {
                let consumed = if self.race_macro(cx, path) {
                    self.arms(cx, args, *line, ctx)
                } else {
                    Vec::new()
                };
                for a in args {
                    if !consumed.iter().any(|c| std::ptr::eq(*c, a)) {
                        self.scan(cx, a, ctx, calls);
                    }
                }
            }
            Expr::Closure { body, line, .. } => {
                let file = self.defs.fns[cx.f].file;
                if self.handler_closures.contains(&(file.to_owned(), *line)) {
                    return;
                }
                self.scan(cx, body, ctx, calls);
            }
            Expr::Loop {
                iter, body, line, ..
            } => {
                let inner = loop_ctx(e, *line, false);
                let before = self.found.len();
                if let Some(i) = iter {
                    self.scan(cx, i, inner, calls);
                }
                self.scan_block(cx, body, inner, calls);
                // `loop { ticker.tick().await; sweep(&state).await }` run by `main` itself.
                if inner == LoopCtx::Schedule
                    && ctx != LoopCtx::Schedule
                    && self.found.len() == before
                    && !self.pumps_scheduler(cx, &[e])
                {
                    let data = &self.defs.fns[cx.f];
                    if let Some(body) = &data.def.body {
                        let w = work::read(self.defs, cx.f, &cx.lets, &|g| body.walk(g), e);
                        self.works
                            .insert((data.id.clone(), self.loc(cx.f, *line)), w);
                    }
                    self.found.push(EntryPoint {
                        kind: EntryKind::Schedule,
                        framework: None,
                        method: String::new(),
                        path: String::new(),
                        handler: data.id.clone(),
                        at: Location {
                            file: data.file.to_owned(),
                            line: data.line,
                        },
                        registered: self.loc(cx.f, *line),
                        middleware: Vec::new(),
                        root: Some(cx.f),
                    });
                }
            }
            Expr::Field { base, .. } => self.scan(cx, base, ctx, calls),
            Expr::Block { block, .. } => self.scan_block(cx, block, ctx, calls),
            Expr::Struct { fields, rest, .. } => {
                for (_, x) in fields {
                    self.scan(cx, x, ctx, calls);
                }
                if let Some(r) = rest {
                    self.scan(cx, r, ctx, calls);
                }
            }
            Expr::Let { expr, .. } | Expr::Wrap { inner: expr, .. } => {
                self.scan(cx, expr, ctx, calls)
            }
            Expr::Match { expr, arms } => {
                self.scan(cx, expr, ctx, calls);
                for (_, a) in arms {
                    self.scan(cx, a, ctx, calls);
                }
            }
            Expr::If { cond, then, els } => {
                self.scan(cx, cond, ctx, calls);
                self.scan_block(cx, then, ctx, calls);
                if let Some(x) = els {
                    self.scan(cx, x, ctx, calls);
                }
            }
            Expr::Other(xs) => {
                for x in xs {
                    self.scan(cx, x, ctx, calls);
                }
            }
            Expr::Path { .. } | Expr::Lit { .. } => {}
        }
    }

    /// A spawn site: reports the work it starts.
    fn spawn(&mut self, cx: &FnCx<'a>, fut: &'a Expr, line: u32, ctx: LoopCtx) {
        let mut schedule = false;
        match ctx {
            LoopCtx::Accept(l) => {
                self.diags.push(Diagnostic::warning(
                    "custom-server",
                    self.defs.fns[cx.f].file,
                    l,
                    format!(
                        "`{}` accepts connections in a loop and spawns a task for each (line \
                         {line}): a hand-written server whose routes cleave cannot see; its \
                         tasks are not listed as workers",
                        self.defs.fns[cx.f].id
                    ),
                ));
                return;
            }
            LoopCtx::Plain(l) => self.diags.push(Diagnostic::warning(
                "dynamic-worker",
                self.defs.fns[cx.f].file,
                line,
                format!(
                    "work is spawned inside a loop (line {l}): each iteration starts another \
                     task; cleave lists this spawn once"
                ),
            )),
            LoopCtx::Schedule => schedule = true,
            LoopCtx::None => {}
        }
        match self.classify(cx, fut, 0) {
            Spawned::Server | Spawned::Spawn => {}
            Spawned::Fns(gs) => {
                for g in gs {
                    self.push_fn(cx, g, schedule, line, None);
                }
            }
            Spawned::Body(body, at) => self.push_body(cx, body, at.unwrap_or(line), line, schedule),
        }
    }

    /// Futures raced or joined with the server in `select!` / `join!`;
    /// returns the arguments it reported, which are not read again.
    ///
    /// cleave reads a macro's tokens as a flat list of expressions, so the
    /// arms of a `select!` (`pat = future => handler`) cannot be told apart
    /// by position. A future is told by its shape instead: a call to an
    /// `async` workspace fn that is not `.await`ed (a handler awaits what it
    /// calls), an `async` block, or a local bound to one of those.
    fn arms(&mut self, cx: &FnCx<'a>, args: &'a [Expr], line: u32, ctx: LoopCtx) -> Vec<&'a Expr> {
        let classified: Vec<(&'a Expr, Spawned<'a>)> = args
            .iter()
            .filter(|e| {
                !matches!(
                    e,
                    Expr::Wrap {
                        kind: WrapKind::Await,
                        ..
                    }
                )
            })
            .map(|e| (e, self.classify(cx, e, 0)))
            .collect();
        // Only futures run beside a server outlive requests; `join!(a(), b())`
        // alone is start-up work.
        if !classified.iter().any(|(_, s)| matches!(s, Spawned::Server)) {
            return Vec::new();
        }
        let schedule = ctx == LoopCtx::Schedule;
        let mut consumed = Vec::new();
        for (fut, s) in classified {
            let reg = fut.line().unwrap_or(line);
            match s {
                Spawned::Server | Spawned::Spawn => {}
                Spawned::Fns(gs) => {
                    let futures: Vec<FnId> = gs
                        .into_iter()
                        .filter(|g| self.defs.fns[*g].def.is_async)
                        .collect();
                    if !futures.is_empty() {
                        consumed.push(fut);
                    }
                    for g in futures {
                        self.push_fn(cx, g, schedule, reg, None);
                    }
                }
                // `async { loop { .. } }` beside the server; an async block
                // that only waits (a shutdown signal) is not work of the app.
                Spawned::Body(body @ Expr::Block { is_async: true, .. }, _) => {
                    consumed.push(fut);
                    if !self.workspace_calls(cx, body).is_empty() || has_schedule_loop(body, true) {
                        self.push_body(cx, body, reg, reg, schedule);
                    }
                }
                Spawned::Body(..) => {}
            }
        }
        consumed
    }

    fn classify(&self, cx: &FnCx<'a>, e: &'a Expr, depth: u32) -> Spawned<'a> {
        let e = e.peel();
        match e {
            Expr::Closure { body, line, .. } => Spawned::Body(body, Some(*line)),
            Expr::Block { .. } => {
                if self.server_like(cx, e, 0) {
                    Spawned::Server
                } else {
                    Spawned::Body(e, None)
                }
            }
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    if self.is_spawn_fn(cx, path) {
                        return Spawned::Spawn;
                    }
                    let gs = self.defs.resolve_fn_path(cx.f, path);
                    if !gs.is_empty() {
                        // `tokio::spawn(run_http(state))`: the fn serves HTTP.
                        if gs.iter().any(|g| self.fn_serves(*g)) {
                            return Spawned::Server;
                        }
                        return Spawned::Fns(gs);
                    }
                }
                if self.server_like(cx, e, 0) {
                    Spawned::Server
                } else {
                    Spawned::Body(e, None)
                }
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } => {
                if SPAWN_FNS.contains(&method.as_str())
                    && args.len() == 1
                    && self.is_spawner(cx, receiver, 0)
                {
                    Spawned::Spawn
                } else if self.server_like(cx, e, 0) {
                    Spawned::Server
                } else {
                    Spawned::Body(e, None)
                }
            }
            // `let server = HttpServer::new(..).run(); .. tokio::spawn(server)`
            Expr::Path { path, .. } => match local(path).and_then(|n| cx.lets.get(n)) {
                Some(init) if depth < 4 => self.classify(cx, init, depth + 1),
                _ => Spawned::Body(e, None),
            },
            _ => {
                if self.server_like(cx, e, 0) {
                    Spawned::Server
                } else {
                    Spawned::Body(e, None)
                }
            }
        }
    }

    /// Reports spawned code that is not a call to a named fn: the one
    /// workspace fn it calls, or else the closure itself.
    fn push_body(&mut self, cx: &FnCx<'a>, body: &'a Expr, at: u32, line: u32, schedule: bool) {
        if self.server_like(cx, body, 0) {
            return;
        }
        // A thread or task running a scheduler: its jobs are the workers.
        if self.pumps_scheduler(cx, &[body]) {
            self.scan(cx, body, LoopCtx::None, &mut BTreeSet::new());
            return;
        }
        let lp = first_schedule_loop(body);
        let w = match lp {
            Some(lp) => Some(work::read(self.defs, cx.f, &cx.lets, &|g| body.walk(g), lp)),
            None if schedule => Some(work::blocked(SPAWNED_EACH_ROUND, None)),
            None => None,
        };
        let schedule = schedule || lp.is_some();
        let called = self.workspace_calls(cx, body);
        if let [g] = called.as_slice() {
            self.push_fn(cx, *g, schedule, line, w);
            return;
        }
        let data = &self.defs.fns[cx.f];
        let handler = format!("{}::{{closure}}", data.id);
        if let Some(w) = w {
            self.works
                .insert((handler.clone(), self.loc(cx.f, line)), w);
        }
        self.found.push(EntryPoint {
            kind: if schedule {
                EntryKind::Schedule
            } else {
                EntryKind::Worker
            },
            framework: None,
            method: String::new(),
            path: String::new(),
            handler,
            at: self.loc(cx.f, at),
            registered: self.loc(cx.f, line),
            middleware: Vec::new(),
            root: Some(cx.f),
        });
    }

    /// Reports a workspace fn as a worker; `w` is what the loop around its
    /// call does per round, when the spawned code holds that loop.
    fn push_fn(&mut self, cx: &FnCx<'a>, g: FnId, schedule: bool, line: u32, w: Option<Work>) {
        let data = &self.defs.fns[g];
        // `tokio::spawn(jobs::setup(ctx))` whose body runs a scheduler: its jobs are the workers.
        if let Some(body) = &data.def.body
            && self.pumps_scheduler(&self.fn_cx(g), &stmt_exprs(body))
        {
            self.scan_fn(g);
            return;
        }
        let own = data.def.body.as_ref().and_then(|b| {
            let mut lp = None;
            b.walk(&mut |x| {
                if lp.is_none() && is_schedule_loop(x, true) {
                    lp = Some(x);
                }
            });
            lp.map(|lp| (b, lp))
        });
        let w = match (w, own) {
            (Some(w), _) => Some(w),
            (None, Some((b, lp))) => {
                let gcx = self.fn_cx(g);
                Some(work::read(self.defs, g, &gcx.lets, &|f| b.walk(f), lp))
            }
            (None, None) if schedule => Some(work::blocked(SPAWNED_EACH_ROUND, None)),
            (None, None) => None,
        };
        let schedule = schedule || own.is_some();
        if let Some(w) = w {
            self.works
                .insert((data.id.clone(), self.loc(cx.f, line)), w);
        }
        self.found.push(EntryPoint {
            kind: if schedule {
                EntryKind::Schedule
            } else {
                EntryKind::Worker
            },
            framework: None,
            method: String::new(),
            path: String::new(),
            handler: data.id.clone(),
            at: Location {
                file: data.file.to_owned(),
                line: data.line,
            },
            registered: self.loc(cx.f, line),
            middleware: Vec::new(),
            root: Some(g),
        });
    }

    /// The distinct workspace fns an expression calls: by path, or by a
    /// method name only one workspace impl has (as the call graph resolves them).
    fn workspace_calls(&self, cx: &FnCx<'a>, e: &'a Expr) -> Vec<FnId> {
        let defs = self.defs;
        let mut out = BTreeSet::new();
        e.walk(&mut |x| match x {
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    out.extend(defs.resolve_fn_path(cx.f, path));
                }
            }
            Expr::MethodCall { method, .. } => {
                if let [m] = defs.methods_named(method) {
                    // An impl of a foreign trait (`Clone`, `Display`) is std's method, not app work.
                    let foreign = defs.fns[*m].impl_.is_some_and(|i| {
                        defs.impls[i].trait_path.is_some() && defs.impls[i].trait_.is_none()
                    });
                    if !foreign {
                        out.insert(*m);
                    }
                }
            }
            _ => {}
        });
        out.into_iter().collect()
    }

    /// Whether a workspace fn's body runs an HTTP server.
    fn fn_serves(&self, g: FnId) -> bool {
        let Some(body) = &self.defs.fns[g].def.body else {
            return false;
        };
        let cx = self.fn_cx(g);
        body.stmts.iter().any(|s| match s {
            Stmt::Let { init: Some(e), .. } | Stmt::Expr(e) | Stmt::Semi(e) => {
                self.server_like(&cx, e, 1)
            }
            _ => false,
        })
    }

    /// Whether an expression runs an HTTP server: `axum::serve(..)`,
    /// `rocket.launch()`, `HttpServer::new(..).bind(..)?.run()`, or a local
    /// bound to one.
    fn server_like(&self, cx: &FnCx<'a>, e: &'a Expr, depth: u32) -> bool {
        if depth > 4 {
            return false;
        }
        let mut hit = false;
        let mut locals = Vec::new();
        e.walk(&mut |x| match x {
            Expr::MethodCall { method, .. } if SERVER_METHODS.contains(&method.as_str()) => {
                hit = true
            }
            Expr::MethodCall {
                method, receiver, ..
            } if method == "run" && self.server_builder(cx, receiver, depth) => hit = true,
            // `axum::serve(listener, app)`, `warp::serve(routes)`
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel()
                    && path.last() == Some("serve")
                {
                    hit = true;
                }
            }
            Expr::Path { path, .. } => {
                if let Some(n) = local(path) {
                    locals.push(n);
                }
            }
            _ => {}
        });
        hit || locals.into_iter().any(|n| {
            cx.lets.get(n).is_some_and(|init| {
                !std::ptr::eq(*init, e) && self.server_like(cx, init, depth + 1)
            })
        })
    }

    /// Whether the receiver of a `.run()` is a server being built.
    fn server_builder(&self, cx: &FnCx<'a>, e: &'a Expr, depth: u32) -> bool {
        if depth > 4 {
            return false;
        }
        let mut hit = false;
        let mut locals = Vec::new();
        e.walk(&mut |x| match x {
            Expr::MethodCall { method, .. }
                if SERVER_BUILDER_METHODS.contains(&method.as_str()) =>
            {
                hit = true
            }
            // `HttpServer::new(..)`, `poem::Server::new(..)`
            Expr::Path { path, .. } => {
                if path.names().any(|n| n == "HttpServer" || n == "Server") {
                    hit = true;
                }
                if let Some(n) = local(path) {
                    locals.push(n);
                }
            }
            _ => {}
        });
        hit || locals.into_iter().any(|n| {
            cx.lets
                .get(n)
                .is_some_and(|init| self.server_builder(cx, init, depth + 1))
        })
    }

    /// Whether a path names a runtime's spawn fn (`tokio::spawn`,
    /// `tokio::task::spawn_blocking`, `rt::spawn` after `use actix_web::rt`).
    fn is_spawn_fn(&self, cx: &FnCx<'a>, path: &Path) -> bool {
        let module = self.defs.fns[cx.f].module;
        let Some(full) = dependency_path(self.defs, module, &cx.uses, path) else {
            return false;
        };
        let (Some(first), Some(last)) = (full.first(), full.last()) else {
            return false;
        };
        RUNTIMES.contains(&first.as_str())
            && SPAWN_FNS.contains(&last.as_str())
            && full.len() >= 2
            // std's only spawn fn is `std::thread::spawn`.
            && (first != "std" || full.iter().any(|s| s == "thread"))
    }

    /// Whether `.spawn(..)` is called on a runtime, handle, join set or thread builder.
    fn is_spawner(&self, cx: &FnCx<'a>, e: &'a Expr, depth: u32) -> bool {
        if depth > 4 {
            return false;
        }
        let module = self.defs.fns[cx.f].module;
        match e.peel() {
            Expr::MethodCall { receiver, .. } => self.is_spawner(cx, receiver, depth + 1),
            Expr::Wrap { inner, .. } => self.is_spawner(cx, inner, depth + 1),
            Expr::Call { func, .. } => match func.peel() {
                Expr::Path { path, .. } => dependency_path(self.defs, module, &cx.uses, path)
                    .is_some_and(|full| {
                        full.first().is_some_and(|f| RUNTIMES.contains(&f.as_str()))
                            && full.iter().any(|s| SPAWNER_TYPES.contains(&s.as_str()))
                    }),
                _ => false,
            },
            Expr::Path { path, .. } => match local(path).and_then(|n| cx.lets.get(n)) {
                Some(init) => self.is_spawner(cx, init, depth + 1),
                None => false,
            },
            _ => false,
        }
    }

    /// Whether a macro is tokio's or futures' `select!` / `join!`.
    fn race_macro(&self, cx: &FnCx<'a>, path: &Path) -> bool {
        if !matches!(
            path.last(),
            Some("select" | "select_biased" | "join" | "try_join")
        ) {
            return false;
        }
        let module = self.defs.fns[cx.f].module;
        dependency_path(self.defs, module, &cx.uses, path).is_some_and(|full| {
            full.len() == 1
                || full
                    .first()
                    .is_some_and(|f| CONCURRENCY_CRATES.contains(&f.as_str()))
        })
    }

    fn loc(&self, f: FnId, line: u32) -> Location {
        Location {
            file: self.defs.fns[f].file.to_owned(),
            line,
        }
    }
}

/// What kind of loop `e` is (its line given).
fn loop_ctx(e: &Expr, line: u32, lenient: bool) -> LoopCtx {
    let mut accept = false;
    e.walk(&mut |x| {
        // `listener.accept().await`, `incoming.next()` on a listener
        if let Expr::MethodCall { method, .. } = x
            && (method == "accept" || method == "incoming")
        {
            accept = true;
        }
    });
    if accept {
        return LoopCtx::Accept(line);
    }
    if is_schedule_loop(e, lenient) {
        LoopCtx::Schedule
    } else {
        LoopCtx::Plain(line)
    }
}

/// Whether a loop expression waits on a timer each round: `interval(..)` /
/// `.tick()` always; `sleep(..)` when `lenient` or when the loop never
/// breaks (a retry loop sleeps, then breaks), and never in a `for` loop,
/// whose rounds are its iterator's items (a countdown, a bounded retry).
fn is_schedule_loop(e: &Expr, lenient: bool) -> bool {
    let Expr::Loop { pat, .. } = e else {
        return false;
    };
    let is_for = pat.is_some();
    let (mut ticks, mut sleeps) = (false, false);
    e.walk(&mut |x| match x {
        Expr::MethodCall { method, .. } if method == "tick" => ticks = true,
        Expr::Call { func, .. } => {
            if let Expr::Path { path, .. } = func.peel() {
                match path.last() {
                    Some("interval" | "interval_at") => ticks = true,
                    Some("sleep" | "sleep_until" | "delay_for") => sleeps = true,
                    _ => {}
                }
            }
        }
        _ => {}
    });
    ticks || (!is_for && sleeps && (lenient || !breaks(e)))
}

/// Whether a spawned expression contains an interval loop.
fn has_schedule_loop(e: &Expr, lenient: bool) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if is_schedule_loop(x, lenient) {
            found = true;
        }
    });
    found
}

/// The first interval loop in a spawned expression, outermost first.
fn first_schedule_loop(e: &Expr) -> Option<&Expr> {
    let mut found = None;
    e.walk(&mut |x| {
        if found.is_none() && is_schedule_loop(x, true) {
            found = Some(x);
        }
    });
    found
}

/// Why a worker spawned afresh by each round of an interval loop gets no
/// scheduled function.
const SPAWNED_EACH_ROUND: &str = "each round of its loop spawns the work as a task of its own, \
     which an invocation would not wait for; call it in the loop instead of spawning it";

/// Whether a loop may end: `break`, `return` (a bare one lowers to an empty
/// expression in statement or arm position).
fn breaks(e: &Expr) -> bool {
    let mut found = false;
    let bare = |x: &Expr| matches!(x, Expr::Other(xs) if xs.is_empty());
    e.walk(&mut |x| {
        found |= match x {
            Expr::Wrap {
                kind: WrapKind::Break | WrapKind::Return,
                ..
            } => true,
            Expr::Block { block: b, .. }
            | Expr::If { then: b, .. }
            | Expr::Loop { body: b, .. } => b
                .stmts
                .iter()
                .any(|s| matches!(s, Stmt::Expr(x) | Stmt::Semi(x) if bare(x))),
            Expr::Match { arms, .. } => arms.iter().any(|(_, a)| bare(a)),
            _ => false,
        }
    });
    found
}

/// The expressions of a block's statements.
fn stmt_exprs(b: &Block) -> Vec<&Expr> {
    b.stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Let { init: Some(e), .. } | Stmt::Expr(e) | Stmt::Semi(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn local(p: &Path) -> Option<&str> {
    if p.leading_colon || p.segments.len() != 1 {
        return None;
    }
    p.last()
}

/// The `use` entries written at the top of a module.
pub(super) fn module_uses<'a>(defs: &DefMap<'a>, module: ModId) -> Vec<&'a UseEntry> {
    let Some(m) = defs.mods.get(module) else {
        return Vec::new();
    };
    let project = defs.project;
    let Some(md) = project
        .crates
        .get(m.krate)
        .and_then(|c| c.modules.iter().find(|md| md.path == m.path))
    else {
        return Vec::new();
    };
    md.items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Use(entries) => Some(entries.iter()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The full dependency path a path written in `module` stands for:
/// `rt::spawn` after `use actix_web::rt;` is `actix_web::rt::spawn`,
/// `spawn` after `use tokio::spawn;` is `tokio::spawn`; a path with no
/// import is returned as written. `None` when it names a workspace item.
/// (`DefMap` resolves such names to `Def::External` without the path.)
pub(super) fn dependency_path(
    defs: &DefMap<'_>,
    module: ModId,
    local_uses: &[&UseEntry],
    path: &Path,
) -> Option<Vec<String>> {
    let names: Vec<String> = path.names().map(str::to_owned).collect();
    if path.leading_colon {
        return Some(names);
    }
    let (first, rest) = names.split_first()?;
    let module_uses = module_uses(defs, module);
    let import = local_uses
        .iter()
        .chain(module_uses.iter())
        .find(|u| matches!(&u.kind, UseKind::Name { alias } if alias == first));
    if let Some(u) = import {
        if matches!(
            u.path.first().map(String::as_str),
            Some("crate" | "self" | "super")
        ) {
            return None;
        }
        let mut full = u.path.clone();
        full.extend(rest.iter().cloned());
        return Some(full);
    }
    if defs
        .resolve_names(module, &names, false)
        .iter()
        .any(|d| *d != Def::External)
    {
        return None;
    }
    Some(names)
}
