//! ### What it does
//! Finds `static`s that requests change: `static mut`, statics holding a
//! lock, an atomic or a concurrent map (`Mutex`, `RwLock`, `AtomicU64`,
//! `DashMap`, directly or inside `LazyLock`/`OnceLock`/`once_cell::Lazy`/
//! `lazy_static!`, or inside a workspace type the static holds), and
//! `thread_local!` cells (`RefCell`, `Cell`).
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
use crate::syntax::Expr;

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
