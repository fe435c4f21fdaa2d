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

use super::{Ctx, Finding, Lint};
use crate::diagnostic::Severity;

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
        if parts.is_empty() {
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
        out.push(Finding::new(
            s.file,
            s.item.line,
            s.subject.clone(),
            message,
        ));
    }
}
