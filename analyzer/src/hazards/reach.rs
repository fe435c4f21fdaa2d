//! Which entry points reach what a finding is about, and what the served
//! app runs at all: the scope `Scan::finish` keeps findings in (routes and
//! workers, the start-up of a binary that serves, less its command-line
//! branches that do not), with indexes built once so that tying a finding
//! to its routes costs what it touches, not the whole workspace.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use rayon::prelude::*;

use super::{Ctx, Subject};
use crate::callgraph::CallGraph;
use crate::entrypoints::EntryPoint;
use crate::hash::FastHash;
use crate::resolve::{Def, DefMap, FnId, StaticId, TypeId};
use crate::syntax::{Block, Expr, Path, Stmt, Ty, WrapKind};

/// What the serving binaries' `main`s (those in `startup`) reach through
/// calls, not through handlers they only name (`get(handler)`).
pub(super) fn called_at_startup(
    ctx: &Ctx<'_>,
    graph: &CallGraph,
    startup: &BTreeSet<FnId>,
) -> BTreeSet<FnId> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<FnId> = crate::entrypoints::binary_mains(ctx.defs)
        .into_iter()
        .filter(|m| startup.contains(m))
        .collect();
    while let Some(f) = stack.pop() {
        if !seen.insert(f) {
            continue;
        }
        for e in graph.graph.edges(graph.node(f)) {
            if e.weight().kind != crate::callgraph::EdgeKind::Ref {
                stack.push(graph.graph[petgraph::visit::EdgeRef::target(&e)]);
            }
        }
    }
    seen
}

/// Which entry points reach what.
pub(super) struct Reach<'a> {
    /// Each entry point's route (of those that reach something).
    routes: Vec<String>,
    /// Per fn: the entry points of `routes` that reach it (their indexes).
    reached_by: Vec<Vec<usize>>,
    /// The fns that name each static and type, ascending.
    named: BTreeMap<Def, Vec<FnId>>,
    /// The fns of each type's impls, ascending.
    implementing: BTreeMap<TypeId, Vec<FnId>>,
    /// Per type subject, asked about once per route and finding: the fns
    /// that name or implement the type or a type holding it ([`holders`]).
    touching: RefCell<BTreeMap<TypeId, Rc<[FnId]>>>,
    /// Which types hold a type of each name ([`holders`]).
    holding: Holding<'a>,
    /// The fns the served app runs: what routes and workers reach, and the
    /// start-up of each binary that serves. `None`: every fn (no binary, or
    /// no entry point, so nothing tells served code from the rest).
    scope: Option<BTreeSet<FnId>>,
    /// What the start-up of a serving binary runs (a subset of `scope`).
    pub(super) startup: BTreeSet<FnId>,
    /// Per serving `main`: the line spans of its command-line branches that
    /// do not serve (see [`cli_branches`]). Code there is not the served app.
    cli: CliSpans,
}

/// Per serving `main`: the line spans of its command-line branches that do not serve.
type CliSpans = BTreeMap<FnId, Vec<(u32, u32)>>;

impl<'a> Reach<'a> {
    pub(super) fn new(
        ctx: &Ctx<'a>,
        graph: &CallGraph,
        entrypoints: &[EntryPoint],
        reach: &[Vec<FnId>],
    ) -> Self {
        if entrypoints.is_empty() {
            return Reach {
                routes: Vec::new(),
                reached_by: Vec::new(),
                named: BTreeMap::new(),
                implementing: implementing(ctx.defs),
                touching: RefCell::default(),
                holding: holding(ctx.defs),
                scope: None,
                startup: BTreeSet::new(),
                cli: BTreeMap::new(),
            };
        }
        let defs = ctx.defs;
        // Each entry point's reach (`reach`, in order; one that reaches
        // nothing has no route here), and what each fn mentions: on all
        // cores, in order.
        let routes: Vec<(String, BTreeSet<FnId>)> = entrypoints
            .par_iter()
            .zip(reach)
            .filter(|(_, r)| !r.is_empty())
            .map(|(e, r)| (e.route(), r.iter().copied().collect()))
            .collect();
        let mentions: Vec<BTreeSet<Def>> = (0..defs.fns.len())
            .into_par_iter()
            .map(|f| fn_mentions(ctx, f))
            .collect();
        let inits = static_init_calls(ctx);
        let (scope, startup, cli) =
            match served_scope(defs, graph, entrypoints, &routes, &mentions, &inits) {
                Some((scope, startup, cli)) => (Some(scope), startup, cli),
                None => (None, BTreeSet::new(), BTreeMap::new()),
            };
        let mut named: BTreeMap<Def, Vec<FnId>> = BTreeMap::new();
        for (f, m) in mentions.iter().enumerate() {
            for d in m {
                named.entry(*d).or_default().push(f);
            }
        }
        let mut reached_by = vec![Vec::new(); defs.fns.len()];
        for (i, (_, fns)) in routes.iter().enumerate() {
            for f in fns {
                reached_by[*f].push(i);
            }
        }
        Reach {
            routes: routes.into_iter().map(|(r, _)| r).collect(),
            reached_by,
            named,
            implementing: implementing(defs),
            touching: RefCell::default(),
            holding: holding(defs),
            scope,
            startup,
            cli,
        }
    }

    /// Whether a finding sits in a command-line branch of a serving `main`
    /// that does not serve (`Some(Command::Migrate) => ..`).
    pub(super) fn in_cli_branch(&self, subject: &Subject, line: u32) -> bool {
        let Subject::Fn(f) = subject else {
            return false;
        };
        self.cli
            .get(f)
            .is_some_and(|spans| spans.iter().any(|(lo, hi)| (*lo..=*hi).contains(&line)))
    }

    /// Whether the served app runs the code a finding is about.
    /// Whether only the start-up of a serving binary runs it (no route or
    /// worker), as far as the call graph shows.
    pub(super) fn startup_only(&self, ctx: &Ctx<'_>, subject: &Subject) -> bool {
        self.scope.is_some()
            && self.routes(ctx, subject).is_empty()
            && self.touches(ctx, &self.startup, subject)
    }

    pub(super) fn in_scope(&self, ctx: &Ctx<'_>, subject: &Subject) -> bool {
        let Some(scope) = &self.scope else {
            return true;
        };
        self.touches(ctx, scope, subject)
    }

    /// Whether any of `fns` is, names or implements the subject.
    pub(super) fn touches(&self, ctx: &Ctx<'_>, fns: &BTreeSet<FnId>, subject: &Subject) -> bool {
        let any = |touching: &[FnId]| touching.iter().any(|f| fns.contains(f));
        match subject {
            Subject::Fn(f) | Subject::LocalStatic(f, _) => fns.contains(f),
            Subject::Static(s) => self.named.get(&Def::Static(*s)).is_some_and(|t| any(t)),
            Subject::Type(t) => any(&self.touching(ctx, *t)),
        }
    }

    /// The fns that name or implement type `t` or a type holding it, ascending.
    fn touching(&self, ctx: &Ctx<'_>, t: TypeId) -> Rc<[FnId]> {
        if let Some(known) = self.touching.borrow().get(&t) {
            return Rc::clone(known);
        }
        let mut fns = BTreeSet::new();
        for h in holders(ctx, &self.holding, t) {
            fns.extend(self.named.get(&Def::Type(h)).into_iter().flatten());
            fns.extend(self.implementing.get(&h).into_iter().flatten());
        }
        let fns: Rc<[FnId]> = fns.into_iter().collect();
        self.touching.borrow_mut().insert(t, Rc::clone(&fns));
        fns
    }

    /// The routes that reach what the subject is about, sorted.
    pub(super) fn routes(&self, ctx: &Ctx<'_>, subject: &Subject) -> Vec<String> {
        let reached_by = |f: &FnId| self.reached_by.get(*f).into_iter().flatten();
        let entries: BTreeSet<usize> = match subject {
            Subject::Fn(f) | Subject::LocalStatic(f, _) => reached_by(f).copied().collect(),
            Subject::Static(s) => self
                .named
                .get(&Def::Static(*s))
                .into_iter()
                .flatten()
                .flat_map(reached_by)
                .copied()
                .collect(),
            Subject::Type(t) => self
                .touching(ctx, *t)
                .iter()
                .flat_map(reached_by)
                .copied()
                .collect(),
        };
        let mut out: Vec<String> = entries
            .into_iter()
            .map(|i| self.routes[i].clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The fns of each type's impls (`impl T { .. }`, `impl Trait for T { .. }`), ascending.
fn implementing(defs: &DefMap<'_>) -> BTreeMap<TypeId, Vec<FnId>> {
    let mut out: BTreeMap<TypeId, Vec<FnId>> = BTreeMap::new();
    for (f, data) in defs.fns.iter().enumerate() {
        if let Some(t) = data.impl_.and_then(|i| defs.impls[i].self_def) {
            out.entry(t).or_default().push(f);
        }
    }
    out
}

/// Per type name: the workspace types with a field or variant of a type of
/// that name (`Cli { command: Command }` under `Command`), ascending.
type Holding<'a> = HashMap<&'a str, Vec<TypeId>, FastHash>;

fn holding<'a>(defs: &DefMap<'a>) -> Holding<'a> {
    fn names<'t>(ty: &'t Ty, out: &mut Vec<&'t str>) {
        match ty {
            Ty::Path(p) => {
                out.extend(p.last());
                for seg in p.segments.iter() {
                    seg.generics.iter().for_each(|g| names(g, out));
                }
            }
            Ty::Ref(inner) | Ty::Slice(inner) => names(inner, out),
            Ty::Tuple(items) => items.iter().for_each(|i| names(i, out)),
            _ => {}
        }
    }
    let mut out: Holding<'a> = HashMap::default();
    let mut field_types = Vec::new();
    for (u, data) in defs.types.iter().enumerate() {
        field_types.clear();
        for (_, ty) in data
            .fields
            .iter()
            .chain(data.variant_fields.iter().flatten())
        {
            names(ty, &mut field_types);
        }
        for n in &field_types {
            let types = out.entry(*n).or_default();
            if types.last() != Some(&u) {
                types.push(u);
            }
        }
    }
    out
}

/// Type `t` and the workspace types that hold it, at any depth, in a field
/// or a variant (`Cli { command: Command }`, `Command::Serve(ServeArgs)`):
/// code that names a holder uses what it holds (clap parses the whole tree
/// from `Cli::parse()`). Types are matched by name.
///
/// A few rounds reach every real command tree: each round goes through the
/// types in order, taking each whose fields name a type taken so far (one
/// taken earlier in the same round counts). Each round visits only the
/// types a newly taken name could take ([`holding`]).
fn holders(ctx: &Ctx<'_>, holding: &Holding<'_>, t: TypeId) -> BTreeSet<TypeId> {
    let types = &ctx.defs.types;
    let mut out = BTreeSet::from([t]);
    let mut held: BTreeSet<&str> = BTreeSet::from([types[t].name]);
    let mut now: BTreeSet<TypeId> = holding
        .get(types[t].name)
        .into_iter()
        .flatten()
        .copied()
        .filter(|u| *u != t)
        .collect();
    for _ in 0..4 {
        let mut next = BTreeSet::new();
        while let Some(u) = now.pop_first() {
            if !out.insert(u) {
                continue;
            }
            if held.insert(types[u].name) {
                for v in holding.get(types[u].name).into_iter().flatten() {
                    if !out.contains(v) {
                        if *v > u {
                            now.insert(*v);
                        } else {
                            next.insert(*v);
                        }
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        now = next;
    }
    out
}

/// The fns the served app runs: what the entry points reach, and what the
/// `main` of each binary that serves reaches (its start-up). A binary
/// serves when its `main` reaches a route's handler; when none does (the
/// app is a library, or cleave cannot see the link), every binary's
/// start-up counts. `None` when there is no binary at all.
fn served_scope(
    defs: &DefMap<'_>,
    graph: &CallGraph,
    entrypoints: &[EntryPoint],
    routes: &[(String, BTreeSet<FnId>)],
    mentions: &[BTreeSet<Def>],
    inits: &BTreeMap<StaticId, Vec<FnId>>,
) -> Option<(BTreeSet<FnId>, BTreeSet<FnId>, CliSpans)> {
    let mains = crate::entrypoints::binary_mains(defs);
    if mains.is_empty() {
        return None;
    }
    let handlers: BTreeSet<FnId> = entrypoints
        .iter()
        .filter(|e| e.kind.is_route())
        .flat_map(|e| crate::entrypoints::reach_roots(defs, e))
        .collect();
    let starts: Vec<BTreeSet<FnId>> = mains
        .iter()
        .map(|m| graph.reachable(&[*m]).into_iter().collect())
        .collect();
    let serving_mains: Vec<usize> = (0..mains.len())
        .filter(|&i| starts[i].iter().any(|f| handlers.contains(f)))
        .collect();
    let mut cli = BTreeMap::new();
    let mut startup: BTreeSet<FnId> = if serving_mains.is_empty() {
        starts.iter().flatten().copied().collect()
    } else {
        // What a serving `main` runs, less what only its command-line
        // branches that do not serve call.
        let serves = reaching(graph, &handlers);
        let mut startup = BTreeSet::new();
        for i in serving_mains {
            let m = mains[i];
            let Some(body) = defs.fns[m].def.body.as_ref() else {
                startup.extend(starts[i].iter().copied());
                continue;
            };
            let (spans, outside) = cli_branches(graph, m, body, &serves);
            startup.extend(reachable_outside(defs, graph, m, &spans, &outside));
            if !spans.is_empty() {
                cli.insert(m, spans);
            }
        }
        startup
    };
    with_framework_calls(defs, graph, mentions, &mut startup);
    let mut scope = startup.clone();
    for (_, reached) in routes {
        scope.extend(reached.iter().copied());
    }
    // A method call the call graph could not pin (a receiver behind a type
    // alias, a framework wrapper) may land in any workspace method of that
    // name: the scope errs on the side of "runs". A static's initializer
    // runs when code in scope first uses the static
    // (`static SETTINGS: LazyLock<Settings> = LazyLock::new(|| Settings::init())`).
    loop {
        let mut more: Vec<FnId> = Vec::new();
        for f in &scope {
            for d in mentions.get(*f).into_iter().flatten() {
                if let Def::Static(st) = d
                    && let Some(calls) = inits.get(st)
                {
                    more.extend(calls.iter().filter(|g| !scope.contains(g)));
                }
            }
        }
        for u in &graph.unresolved {
            if !scope.contains(&u.from) {
                continue;
            }
            let method = u.call.rsplit(['.', ':']).next().unwrap_or(&u.call);
            more.extend(
                defs.methods_named(method)
                    .iter()
                    .filter(|f| !scope.contains(f))
                    .copied(),
            );
        }
        if more.is_empty() {
            break;
        }
        scope.extend(graph.reachable(&more));
    }
    with_framework_calls(defs, graph, mentions, &mut scope);
    Some((scope, startup, cli))
}

/// Per static: the workspace fns its initializer calls; they run when the
/// static is first used.
fn static_init_calls(ctx: &Ctx<'_>) -> BTreeMap<StaticId, Vec<FnId>> {
    let mut out: BTreeMap<StaticId, Vec<FnId>> = BTreeMap::new();
    for s in &ctx.statics {
        let Subject::Static(id) = s.subject else {
            continue;
        };
        s.init.walk(&mut |e| {
            if let Expr::Call { func, .. } = e
                && let Expr::Path { path, .. } = func.peel()
            {
                let names: Vec<&str> = path.names().collect();
                for d in ctx
                    .defs
                    .resolve_names(s.scope.module, &names, path.leading_colon)
                {
                    if let Def::Fn(f) = d {
                        out.entry(id).or_default().push(f);
                    }
                }
            }
        });
    }
    out
}

/// The fns from which the call graph reaches one of `targets` (themselves included).
fn reaching(graph: &CallGraph, targets: &BTreeSet<FnId>) -> BTreeSet<FnId> {
    let mut seen: BTreeSet<FnId> = BTreeSet::new();
    let mut stack: Vec<FnId> = targets.iter().copied().collect();
    while let Some(f) = stack.pop() {
        if !seen.insert(f) {
            continue;
        }
        for n in graph
            .graph
            .neighbors_directed(graph.node(f), petgraph::Direction::Incoming)
        {
            stack.push(graph.graph[n]);
        }
    }
    seen
}

/// The branches of a serving `main` that are command-line subcommands and
/// do not serve: arms of a `match` of which another arm serves
/// (`Some(Command::Migrate) => ..` beside `None => run(cfg).await`), and an
/// `if` / `if let` block that does not serve and returns
/// (`if let Some(Command::GenApi { .. }) = &args.command { ..; return Ok(()) }`)
/// ahead of the serving code. Returns their line spans, and the names
/// `main` calls outside them (a callee also called there still runs).
fn cli_branches(
    graph: &CallGraph,
    main: FnId,
    body: &Block,
    serves: &BTreeSet<FnId>,
) -> (Vec<(u32, u32)>, BTreeSet<String>) {
    let edges: Vec<(u32, FnId)> = graph
        .graph
        .edges(graph.node(main))
        .map(|e| {
            (
                e.weight().line,
                graph.graph[petgraph::visit::EdgeRef::target(&e)],
            )
        })
        .collect();
    let span_of = |e: &Expr| -> Option<(u32, u32)> {
        let mut lines = Vec::new();
        e.walk(&mut |x| lines.extend(x.line()));
        Some((*lines.iter().min()?, *lines.iter().max()?))
    };
    let block_span = |b: &Block| -> Option<(u32, u32)> {
        let mut lines = Vec::new();
        b.walk(&mut |x| lines.extend(x.line()));
        Some((*lines.iter().min()?, *lines.iter().max()?))
    };
    let serves_in = |(lo, hi): (u32, u32)| {
        edges
            .iter()
            .any(|(l, to)| (lo..=hi).contains(l) && serves.contains(to))
    };
    let mut spans = Vec::new();
    body.walk(&mut |e| match e {
        Expr::Match { arms, .. } => {
            let arm_spans: Vec<Option<(u32, u32)>> = arms.iter().map(|(_, a)| span_of(a)).collect();
            let serving: Vec<bool> = arm_spans.iter().map(|s| s.is_some_and(serves_in)).collect();
            if serving.iter().any(|s| *s) {
                for (span, serving) in arm_spans.iter().zip(&serving) {
                    if let Some(span) = span
                        && !serving
                    {
                        spans.push(*span);
                    }
                }
            }
        }
        Expr::If { then, .. } => {
            if let Some(span) = block_span(then)
                && !serves_in(span)
                && returns(then)
            {
                spans.push(span);
            }
        }
        _ => {}
    });
    // What `main` names outside those spans.
    let mut outside = BTreeSet::new();
    body.walk(&mut |e| {
        let Some(line) = e.line() else { return };
        if spans.iter().any(|(lo, hi)| (*lo..=*hi).contains(&line)) {
            return;
        }
        match e {
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    outside.extend(path.last().map(str::to_owned));
                }
            }
            Expr::MethodCall { method, .. } => {
                outside.insert(method.to_string());
            }
            Expr::Path { path, .. } => {
                outside.extend(path.last().map(str::to_owned));
            }
            _ => {}
        }
    });
    spans.sort();
    spans.dedup();
    (spans, outside)
}

/// Whether a block ends the fn: a `return` in it (not in a closure).
fn returns(b: &Block) -> bool {
    let mut found = false;
    b.walk(&mut |e| {
        if let Expr::Wrap {
            kind: WrapKind::Return,
            ..
        } = e
        {
            found = true;
        }
    });
    found
}

/// What `main` reaches when the calls it makes only inside `spans` are
/// left out: an edge whose first call is in a span is dropped unless `main`
/// names the callee outside them too.
fn reachable_outside(
    defs: &DefMap<'_>,
    graph: &CallGraph,
    main: FnId,
    spans: &[(u32, u32)],
    outside: &BTreeSet<String>,
) -> Vec<FnId> {
    let roots: Vec<FnId> = graph
        .graph
        .edges(graph.node(main))
        .filter_map(|e| {
            let line = e.weight().line;
            let to = graph.graph[petgraph::visit::EdgeRef::target(&e)];
            let inside = spans.iter().any(|(lo, hi)| (*lo..=*hi).contains(&line));
            (!inside || outside.contains(defs.fns[to].name)).then_some(to)
        })
        .collect();
    let mut out = graph.reachable(&roots);
    out.push(main);
    out.sort();
    out.dedup();
    out
}

/// Adds to `scope` the methods of another crate's trait on a type the code
/// in scope uses (`impl Fairing for Cleanup`, attached in `main`): the
/// framework calls them, so their code runs too.
fn with_framework_calls(
    defs: &DefMap<'_>,
    graph: &CallGraph,
    mentions: &[BTreeSet<Def>],
    scope: &mut BTreeSet<FnId>,
) {
    loop {
        let used: BTreeSet<TypeId> = scope
            .iter()
            .flat_map(|f| mentions.get(*f).into_iter().flatten())
            .filter_map(|d| match d {
                Def::Type(t) => Some(*t),
                _ => None,
            })
            .collect();
        let called: Vec<FnId> = (0..defs.fns.len())
            .filter(|f| !scope.contains(f))
            .filter(|&f| {
                defs.fns[f].impl_.is_some_and(|i| {
                    let imp = &defs.impls[i];
                    imp.trait_.is_none()
                        && imp.trait_path.is_some()
                        && imp.self_def.is_some_and(|t| used.contains(&t))
                })
            })
            .collect();
        if called.is_empty() {
            break;
        }
        scope.extend(graph.reachable(&called));
    }
}

/// The statics and types a fn names in its signature and body.
fn fn_mentions(ctx: &Ctx<'_>, f: FnId) -> BTreeSet<Def> {
    let defs = ctx.defs;
    let data = &defs.fns[f];
    let scope = ctx.scope(f);
    let mut out = BTreeSet::new();
    let path = |p: &Path, out: &mut BTreeSet<Def>| {
        let names: Vec<&str> = p.names().collect();
        for d in defs.resolve_names(scope.module, &names, p.leading_colon) {
            match d {
                Def::Static(_) => {
                    out.insert(d);
                }
                Def::Type(t) => {
                    out.insert(Def::Type(defs.unalias(t)));
                }
                _ => {}
            }
        }
        if names.len() >= 2
            && let Some(t) = defs.resolve_type_path(
                scope.module,
                &Path::from_names(names.iter().take(names.len() - 1).copied()),
            )
        {
            out.insert(Def::Type(t));
        }
    };
    let mut tys: Vec<&Ty> = data.def.params.iter().map(|(_, t)| t).collect();
    tys.extend(data.def.ret.as_ref());
    if let Some(body) = &data.def.body {
        for b in body.blocks() {
            for s in &b.stmts {
                if let Stmt::Let { ty: Some(t), .. } = s {
                    tys.push(t);
                }
            }
        }
        body.walk(&mut |e| match e {
            Expr::Path { path: p, .. } | Expr::Struct { path: p, .. } => path(p, &mut out),
            Expr::MethodCall { turbofish, .. } => tys.extend(turbofish.iter()),
            Expr::Closure { params, .. } => {
                tys.extend(params.iter().filter_map(|(_, t)| t.as_ref()))
            }
            _ => {}
        });
    }
    for t in tys {
        for w in ctx.workspace_types(scope, t) {
            out.insert(Def::Type(w));
        }
    }
    out
}
