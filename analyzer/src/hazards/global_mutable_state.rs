//! ### What it does
//! Finds `static`s that requests change: `static mut`, statics holding a
//! lock, an atomic or a concurrent map (`Mutex`, `RwLock`, `AtomicU64`,
//! `DashMap`, directly or inside `LazyLock`/`OnceLock`/`once_cell::Lazy`/
//! `lazy_static!`, or inside a workspace type the static holds), and
//! `thread_local!` cells (`RefCell`, `Cell`). Not reported, by what the
//! code does with the static: a value only ever stored and never read (a
//! liveness stamp), a gauge of this process's in-flight work (an atomic only
//! incremented, decremented and read), and a memo (a fn that returns what
//! the static holds when it is there and fills it otherwise, every other
//! writer only clearing it: a cache safe to lose).
//!
//! ### Why is this bad on Lambda
//! Every Lambda instance is its own process with its own copy of every
//! static, and instances come and go with traffic. A counter, a cache or a
//! registry kept in a static silently diverges between instances, restarts
//! from its initial value on every cold start, and is never seen by the
//! other functions the monolith is split into. Ids taken from an atomic
//! counter repeat across instances.
//!
//! ### Example
//! ```text
//! static REQUEST_ID: AtomicU64 = AtomicU64::new(1);
//! static SESSIONS: LazyLock<Mutex<HashMap<String, UserId>>> = LazyLock::new(Default::default);
//! ```
//!
//! ### Use instead
//! Keep state that must be shared or must survive in a store outside the
//! process (DynamoDB, ElastiCache, the database), and ids from the database
//! or UUIDs. A static that is only a cache safe to lose and to differ per
//! instance can stay; an immutable table built once (`LazyLock<HashMap<..>>`
//! with no lock) is not flagged.

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, Finding, Lint, Subject};
use crate::diagnostic::Severity;
use crate::resolve::{Def, FnId, StaticId};
use crate::syntax::{Expr, Pat, Stmt, WrapKind};

pub(crate) static LINT: Lint = Lint {
    code: "global-mutable-state",
    severity: Severity::Warning,
    summary: "a static holds state that requests change; each Lambda instance has its own copy",
    advice: "Move shared or lasting state to an external store (DynamoDB, ElastiCache, the database) \
             and take ids from the database or UUIDs; keep in a static only what is safe to lose \
             and to differ between instances.",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let writers = static_writers(ctx);
    let uses = static_uses(ctx);
    for s in &ctx.statics {
        // `const` items are copied at each use: never shared state.
        if s.is_const {
            continue;
        }
        // Interior mutability in the type, or in the workspace types it holds.
        let mut parts = ctx.mutable_parts(s.scope, s.ty, 3);
        // `static mut X: T`: mutable whatever its type.
        if s.mutable {
            parts.insert(0, "`static mut`".to_owned());
        }
        // Only a bounded cache (moka, quick_cache, ..): safe to lose and to
        // differ per instance, which is what a cache is for.
        if parts.is_empty() || parts.iter().all(|p| p.ends_with("(cache)")) {
            continue;
        }
        let name = s.item.name.as_str();
        let (users, methods): (Vec<FnId>, BTreeSet<&str>) = match &s.subject {
            Subject::Static(id) => {
                let u = uses.get(id);
                (
                    u.map(|u| u.fns.clone()).unwrap_or_default(),
                    u.map(|u| u.methods.clone()).unwrap_or_default(),
                )
            }
            Subject::LocalStatic(f, _) => (vec![*f], methods_on(ctx, *f, name)),
            _ => (Vec::new(), BTreeSet::new()),
        };
        // Written and never read: nothing behaves by its value.
        let write_only =
            !methods.is_empty() && methods.iter().all(|m| matches!(*m, "store" | "swap"));
        // This process's in-flight work, meant to differ per instance.
        let gauge = methods.contains("fetch_add")
            && methods.contains("fetch_sub")
            && methods
                .iter()
                .all(|m| matches!(*m, "fetch_add" | "fetch_sub" | "load"));
        if !s.mutable && (write_only || gauge || memo(ctx, name, &users, &writers, &s.subject)) {
            continue;
        }
        let what = if s.thread_local {
            "thread-local state: one copy per thread of each Lambda instance"
        } else {
            "process-wide mutable state: one copy per Lambda instance"
        };
        let ids = if parts.iter().any(|p| p.contains("(atomic)")) {
            "; numbers taken from it repeat across instances"
        } else {
            ""
        };
        let message = format!(
            "`static {}: {}` is {what}, reset on every cold start and never shared with other instances or functions{ids} (holds {})",
            s.item.name,
            super::ty_text(s.ty),
            parts.join(", "),
        );
        let finding = Finding::new(s.file, s.item.line, s.subject.clone(), message);
        out.push(match &s.subject {
            Subject::Static(id) => finding.writers(writers.get(id).cloned().unwrap_or_default()),
            _ => finding,
        });
    }
}

/// Methods that change what a lock, atomic, cell or concurrent map holds
/// (a `lock()` may, so it counts).
const WRITES: &[&str] = &[
    "store",
    "swap",
    "fetch_add",
    "fetch_sub",
    "fetch_and",
    "fetch_or",
    "fetch_xor",
    "fetch_max",
    "fetch_min",
    "fetch_update",
    "compare_exchange",
    "compare_exchange_weak",
    "write",
    "lock",
    "try_lock",
    "try_write",
    "get_mut",
    "insert",
    "remove",
    "entry",
    "clear",
    "retain",
    "alter",
    "set",
    "replace",
    "borrow_mut",
    "rcu",
];

/// Per module-level static: the fns that call a changing method on it
/// (`FLAG.store(..)`, `CACHE.lock()`), in id order.
fn static_writers(ctx: &Ctx<'_>) -> BTreeMap<StaticId, Vec<FnId>> {
    let names: BTreeSet<&str> = ctx.statics.iter().map(|s| s.item.name.as_str()).collect();
    let mut out: BTreeMap<StaticId, Vec<FnId>> = BTreeMap::new();
    for (f, _) in ctx.bodies() {
        let module = ctx.defs.fns[f].module;
        ctx.walk_body(f, |e| {
            let Expr::MethodCall {
                receiver, method, ..
            } = e
            else {
                return;
            };
            if !WRITES.contains(&method.as_str()) {
                return;
            }
            let Expr::Path { path, .. } = receiver.peel() else {
                return;
            };
            if !path.last().is_some_and(|n| names.contains(n)) {
                return;
            }
            let parts: Vec<&str> = path.names().collect();
            for d in ctx.defs.resolve_names(module, &parts, path.leading_colon) {
                if let Def::Static(id) = d {
                    let ws = out.entry(id).or_default();
                    if ws.last() != Some(&f) {
                        ws.push(f);
                    }
                }
            }
        });
    }
    out
}

/// Where a module-level static is named: the fns, and the methods called
/// on it directly (`HITS.fetch_add(..)`).
#[derive(Debug, Default)]
struct Uses<'a> {
    fns: Vec<FnId>,
    methods: BTreeSet<&'a str>,
}

fn static_uses<'a>(ctx: &Ctx<'a>) -> BTreeMap<StaticId, Uses<'a>> {
    let names: BTreeSet<&str> = ctx.statics.iter().map(|s| s.item.name.as_str()).collect();
    let mut out: BTreeMap<StaticId, Uses<'a>> = BTreeMap::new();
    for (f, _) in ctx.bodies() {
        let module = ctx.defs.fns[f].module;
        ctx.walk_body(f, |e| {
            let (path, method) = match e {
                Expr::MethodCall {
                    receiver, method, ..
                } => match receiver.peel() {
                    Expr::Path { path, .. } => (path, Some(method.as_str())),
                    _ => return,
                },
                Expr::Path { path, .. } => (path, None),
                _ => return,
            };
            if !path.last().is_some_and(|n| names.contains(n)) {
                return;
            }
            let parts: Vec<&str> = path.names().collect();
            for d in ctx.defs.resolve_names(module, &parts, path.leading_colon) {
                if let Def::Static(id) = d {
                    let u = out.entry(id).or_default();
                    if u.fns.last() != Some(&f) {
                        u.fns.push(f);
                    }
                    u.methods.extend(method);
                }
            }
        });
    }
    for u in out.values_mut() {
        u.fns.sort();
        u.fns.dedup();
    }
    out
}

/// The methods `f` calls directly on its own `static NAME`.
fn methods_on<'a>(ctx: &Ctx<'a>, f: FnId, name: &str) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    ctx.walk_body(f, |e| {
        if let Expr::MethodCall {
            receiver, method, ..
        } = e
            && let Expr::Path { path, .. } = receiver.peel()
            && path.segments.len() == 1
            && path.last() == Some(name)
        {
            out.insert(method.as_str());
        }
    });
    out
}

/// Whether the static is a memo: some fn returns what it holds when it is
/// there (`if let Some(c) = CACHE.read().as_ref() { return c.clone() }`,
/// through a guard bound from it) and fills it otherwise, and every other
/// fn that changes it only clears it (`*CACHE.write() = None`).
fn memo(
    ctx: &Ctx<'_>,
    name: &str,
    users: &[FnId],
    writers: &BTreeMap<StaticId, Vec<FnId>>,
    subject: &Subject,
) -> bool {
    let Some(hit) = users.iter().copied().find(|&f| returns_held(ctx, f, name)) else {
        return false;
    };
    let changers: &[FnId] = match subject {
        Subject::Static(id) => writers.get(id).map_or(&[], Vec::as_slice),
        _ => &[],
    };
    changers.iter().all(|&w| w == hit || only_clears(ctx, w))
}

/// Whether `f` returns early with a value read from `name`: an `if` whose
/// condition reads it (or a local bound from it) and whose block returns
/// something that condition bound or read.
fn returns_held(ctx: &Ctx<'_>, f: FnId, name: &str) -> bool {
    let mut held: BTreeSet<&str> = BTreeSet::from([name]);
    // Locals bound from it: `let guard = CACHE.lock().unwrap();`.
    for _ in 0..2 {
        for b in ctx.body_blocks(f) {
            for st in &b.stmts {
                if let Stmt::Let {
                    pat,
                    init: Some(init),
                    ..
                } = st
                    && mentions(init, &held)
                {
                    bound_names(pat, &mut held);
                }
            }
        }
    }
    let mut found = false;
    ctx.walk_body(f, |e| {
        let Expr::If { cond, then, .. } = e else {
            return;
        };
        if found || !mentions(cond, &held) {
            return;
        }
        let mut hit = held.clone();
        cond.walk(&mut |x| {
            if let Expr::Let { pat, expr } = x
                && mentions(expr, &held)
            {
                bound_names(pat, &mut hit);
            }
        });
        then.walk(&mut |x| {
            if let Expr::Wrap {
                kind: WrapKind::Return,
                inner,
            } = x
                && mentions(inner, &hit)
            {
                found = true;
            }
        });
    });
    found
}

/// Whether a fn that changes a static only empties it: it names `None` or
/// calls `clear`/`take`, and fills nothing (`Some(..)`, `insert`).
fn only_clears(ctx: &Ctx<'_>, f: FnId) -> bool {
    let (mut clears, mut fills) = (false, false);
    ctx.walk_body(f, |e| match e {
        Expr::Path { path, .. } if path.is_ident("None") => clears = true,
        Expr::Call { func, .. }
            if matches!(func.peel(), Expr::Path { path, .. } if path.is_ident("Some")) =>
        {
            fills = true
        }
        Expr::MethodCall { method, .. } => match method.as_str() {
            "clear" | "take" => clears = true,
            "insert" | "push" | "set" | "store" | "replace" => fills = true,
            _ => {}
        },
        _ => {}
    });
    clears && !fills
}

fn mentions(e: &Expr, names: &BTreeSet<&str>) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let Expr::Path { path, .. } = x
            && path.last().is_some_and(|n| names.contains(n))
        {
            found = true;
        }
    });
    found
}

fn bound_names<'p>(p: &'p Pat, out: &mut BTreeSet<&'p str>) {
    match p {
        Pat::Ident(n) => {
            out.insert(n);
        }
        Pat::TupleStruct(_, ps) | Pat::Tuple(ps) | Pat::Or(ps) => {
            ps.iter().for_each(|p| bound_names(p, out))
        }
        Pat::Struct(_, fs) => fs.iter().for_each(|(_, p)| bound_names(p, out)),
        Pat::Ref(inner) => bound_names(inner, out),
        Pat::Path(_) | Pat::Other => {}
    }
}
