//! ### What it does
//! Finds the application state the framework hands to handlers (axum
//! `State<T>`, `.with_state(x)`, `Router<T>`, `Extension<T>`; actix
//! `web::Data<T>`, `.app_data(..)`; rocket `&State<T>`, `.manage(x)`) and
//! the middleware every request passes through (a rocket `impl Fairing`, an
//! actix `impl Transform` or tower `impl Layer` and the `Service` it builds),
//! follows their fields into the workspace types they hold (through `Arc`,
//! `Box`, generics, and `dyn Trait` to every workspace impl), and reports
//! each type that keeps a lock, an atomic, a concurrent map or a channel in
//! a field: in-memory tables, caches, session stores, counters, rate-limit
//! windows, pub/sub senders. A lock around a client of another service
//! (`Mutex<SentinelClient>`, `Mutex<Arc<OidcClient>>`, the type or the alias
//! it names ending in `Client`) guards a handle, not data: not reported.
//!
//! ### Why is this bad on Lambda
//! Each instance builds its own state at cold start. A write made by one
//! request lands in one instance's memory: requests served by other
//! instances, and the other functions the monolith is split into, never see
//! it, and it is gone when the instance is recycled. A session created by
//! `POST /login` is unknown to the instance serving the next request; a
//! broadcast sent by one instance reaches only subscribers connected to it.
//!
//! ### Example
//! ```text
//! #[derive(Clone)]
//! pub struct AppState {
//!     pub sessions: Arc<Mutex<HashMap<String, UserId>>>,
//!     pub events: broadcast::Sender<OrderEvent>,
//! }
//! async fn login(State(state): State<AppState>, ..) { state.sessions.lock().insert(..) }
//! ```
//!
//! ### Use instead
//! Keep the data in a store all instances share (DynamoDB, ElastiCache,
//! the database); publish events through SNS/EventBridge or API Gateway
//! WebSockets. A cache that is safe to lose and to differ per instance may
//! stay, with a bound and a TTL.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, VecDeque};

use super::{Ctx, Finding, Lint, Scope, Subject, bound_name, ty_text};
use crate::diagnostic::Severity;
use crate::resolve::{FnId, ImplData, TypeId, TypeKind};
use crate::syntax::{Expr, Stmt, Ty};

pub(crate) static LINT: Lint = Lint {
    code: "in-process-state",
    severity: Severity::Warning,
    summary: "application state kept in process memory is per instance on Lambda",
    advice: "Move this data to a store every instance shares (DynamoDB, ElastiCache, the database) \
             and events to SNS/EventBridge; keep in memory only caches that are safe to lose and \
             to differ per instance, bounded and with a TTL.",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let roots = state_roots(ctx);
    // Breadth first from the roots, so every type is explained by its shortest path.
    let mut via: BTreeMap<TypeId, Via> = BTreeMap::new();
    let mut queue: VecDeque<TypeId> = VecDeque::new();
    let mut locked: BTreeMap<TypeId, String> = BTreeMap::new();
    for (t, (how, lock, what)) in roots {
        locked.extend(lock.map(|l| (t, l)));
        via.insert(
            t,
            Via {
                root: t,
                how,
                what,
                chain: Vec::new(),
            },
        );
        queue.push_back(t);
    }
    while let Some(t) = queue.pop_front() {
        let data = &ctx.defs.types[t];
        let scope = Scope {
            module: data.module,
            fn_: None,
        };
        let Some(here) = via.get(&t).cloned() else {
            continue;
        };
        let mut held = Vec::new();
        // `State<Arc<RwLock<AppState>>>`: the whole state is mutable.
        if let Some(lock) = locked.get(&t) {
            held.push(format!("itself, behind `{lock}`"));
        }
        for (name, ty) in ctx.fields_of(t) {
            // A field whose type is (or wraps) a lock, atomic, concurrent map
            // or channel; not a lock around a client of another service.
            if !ctx.mutable_parts(scope, ty, 0).is_empty() && !guards_client(ctx, scope, ty) {
                let field = if name.is_empty() || name.parse::<u32>().is_ok() {
                    ty_text(ty)
                } else {
                    format!("{name}: {}", ty_text(ty))
                };
                held.push(format!("`{field}`"));
            }
            for inner in ctx.workspace_types(scope, ty) {
                if let Entry::Vacant(slot) = via.entry(inner) {
                    let mut chain = here.chain.clone();
                    chain.push(if name.is_empty() {
                        ty_text(ty)
                    } else {
                        name.to_owned()
                    });
                    slot.insert(Via {
                        root: here.root,
                        how: here.how.clone(),
                        what: here.what,
                        chain,
                    });
                    queue.push_back(inner);
                }
            }
        }
        if held.is_empty() {
            continue;
        }
        let role = if here.chain.is_empty() {
            format!("is {} ({})", here.what, here.how)
        } else {
            format!(
                "is {}, held at `{}.{}` ({})",
                here.what,
                ctx.defs.types[here.root].name,
                here.chain.join("."),
                here.how
            )
        };
        let message = format!(
            "`{}` {role} and keeps {} in process memory: each Lambda instance has its own copy, \
             so writes made by one request are invisible to requests served by other instances \
             or other functions, and are lost when the instance is recycled",
            data.name,
            held.join(", "),
        );
        let file = ctx.defs.mods[data.module].file;
        out.push(Finding::new(
            file,
            data.item.line,
            Subject::Type(t),
            message,
        ));
    }
}

/// How a type is reached from the state the framework hands out.
#[derive(Debug, Clone)]
struct Via {
    root: TypeId,
    /// Where the root was seen: "`State<AppState>` in `shop::handlers::cart::get_cart`".
    how: String,
    /// "application state", or "middleware state" for a fairing's or layer's own.
    what: &'static str,
    /// Field names from the root to this type.
    chain: Vec<String>,
}

/// How a state type was seen, best explanation first: where the app
/// registers it, then a handler's extractor, then a lookup by type.
const REGISTERED: u8 = 0;
const EXTRACTED: u8 = 1;
const LOOKED_UP: u8 = 2;
/// Middleware every request passes through (a fairing, a layer): its own fields.
const MIDDLEWARE: u8 = 3;

/// The workspace types the framework hands to handlers as shared state, and
/// the middleware types requests pass through (rocket `impl Fairing`, actix
/// `impl Transform` and tower `impl Layer` with the `Service` each builds),
/// each with where it was seen, the lock it is handed out behind, if any,
/// and which of the two it is.
fn state_roots(ctx: &Ctx<'_>) -> BTreeMap<TypeId, (String, Option<String>, &'static str)> {
    let mut roots: BTreeMap<TypeId, (u8, String)> = BTreeMap::new();
    let mut locks: BTreeMap<TypeId, String> = BTreeMap::new();
    let mut add = |t: Option<TypeId>, rank: u8, how: String| {
        let Some(t) = t else { return };
        match roots.get(&t) {
            Some((r, _)) if *r <= rank => {}
            _ => {
                roots.insert(t, (rank, how));
            }
        }
    };
    for (f, data) in ctx.defs.fns.iter().enumerate() {
        let scope = ctx.scope(f);
        // Extractor parameters and router types: `State<AppState>`, `web::Data<AppState>`,
        // `&State<AppState>`, `Extension<Config>`, `-> Router<AppState>`.
        let sig = data
            .def
            .params
            .iter()
            .map(|(_, t)| t)
            .chain(data.def.ret.as_ref());
        for ty in sig {
            if let Some((wrapper, t, lock)) = state_arg(ctx, scope, ty) {
                if let Some(lock) = lock {
                    locks.entry(t).or_insert(lock);
                }
                add(Some(t), EXTRACTED, format!("`{wrapper}` in `{}`", data.id));
            }
        }
        if data.def.body.is_none() {
            continue;
        }
        ctx.walk_body(f, |e| match e {
            // `.with_state(state)` (axum), `.manage(AppState::new())` (rocket),
            // `.app_data(web::Data::new(state))` / `.data(..)` (actix).
            Expr::MethodCall {
                method,
                args,
                turbofish,
                ..
            } => {
                if matches!(
                    method.as_str(),
                    "with_state" | "manage" | "app_data" | "data"
                ) && let Some(arg) = args.first()
                {
                    add(
                        infer(ctx, scope, arg, 0),
                        REGISTERED,
                        format!("`.{method}(..)` in `{}`", data.id),
                    );
                }
                // `req.rocket().state::<AppState>()`, `req.app_data::<web::Data<AppState>>()`,
                // `req.guard::<&State<AppState>>()`.
                if matches!(
                    method.as_str(),
                    "state" | "app_data" | "guard" | "try_state"
                ) && let Some(ty) = turbofish.first()
                {
                    let t = state_arg(ctx, scope, ty)
                        .map(|(_, t, _)| t)
                        .or_else(|| primary(ctx, scope, ty, 0));
                    add(
                        t,
                        LOOKED_UP,
                        format!("`.{method}::<..>()` in `{}`", data.id),
                    );
                }
            }
            // `web::Data::new(AppState::bootstrap()?)`, `Extension(state)` (axum layer).
            Expr::Call { .. } => {
                if let Some((names, args, _)) = ctx.ext_call(scope, e)
                    && (super::ends(&names, &["Data", "new"])
                        || super::ends(&names, &["ThinData"])
                        || super::ends(&names, &["Extension"]))
                    && let Some(arg) = args.first()
                {
                    add(
                        infer(ctx, scope, arg, 0),
                        REGISTERED,
                        format!("`{}(..)` in `{}`", names.join("::"), data.id),
                    );
                }
            }
            _ => {}
        });
    }
    // `impl Fairing for RateLimit { async fn on_request(&self, ..) { self.clients.lock() .. } }`,
    // `impl Transform<S, ServiceRequest> for RateLimit` building `RateLimitService { .. }`.
    for imp in &ctx.defs.impls {
        let (Some(t), None, Some(tr)) = (
            imp.self_def,
            imp.trait_,
            imp.trait_path.and_then(|p| p.last()),
        ) else {
            continue;
        };
        let name = ctx.defs.types[t].name;
        match tr {
            "Fairing" => add(
                Some(t),
                MIDDLEWARE,
                format!("`impl Fairing for {name}`, run for every request"),
            ),
            "Transform" | "Layer" => {
                let built = built_services(ctx, imp, t);
                if built.is_empty() {
                    add(
                        Some(t),
                        MIDDLEWARE,
                        format!("`impl {tr} for {name}`, run for every request"),
                    );
                }
                for u in built {
                    add(
                        Some(u),
                        MIDDLEWARE,
                        format!("the service `impl {tr} for {name}` builds, run for every request"),
                    );
                }
            }
            _ => {}
        }
    }
    roots
        .into_iter()
        .map(|(t, (rank, how))| {
            let what = if rank == MIDDLEWARE {
                "middleware state"
            } else {
                "application state"
            };
            (t, (how, locks.get(&t).cloned(), what))
        })
        .collect()
}

/// The workspace types with a `Service` impl that a middleware factory's
/// methods build (`new_transform` returning `RateLimitService { service, .. }`).
fn built_services(ctx: &Ctx<'_>, imp: &ImplData<'_>, t: TypeId) -> Vec<TypeId> {
    let mut out = Vec::new();
    for &m in imp.methods.values() {
        let scope = ctx.scope(m);
        ctx.walk_body(m, |e| {
            let path = match e {
                Expr::Struct { path, .. } => path,
                Expr::Call { func, .. } => match func.peel() {
                    Expr::Path { path, .. } => path,
                    _ => return,
                },
                _ => return,
            };
            if let Some(u) = ctx.workspace_type(scope, path)
                && u != t
                && !out.contains(&u)
                && ctx.defs.impls.iter().any(|i| {
                    i.self_def == Some(u) && i.trait_path.and_then(|p| p.last()) == Some("Service")
                })
            {
                out.push(u);
            }
        });
    }
    out
}

/// `State<T>`, `Data<T>`, `&State<T>`, `Extension<T>`, `Router<T>`: the wrapper,
/// the workspace type in `T`, and `T` when it puts that type behind a lock
/// (`State<Arc<RwLock<AppState>>>`).
fn state_arg(ctx: &Ctx<'_>, scope: Scope, ty: &Ty) -> Option<(String, TypeId, Option<String>)> {
    let ty = match ty {
        Ty::Ref(inner) => inner,
        other => other,
    };
    let Ty::Path(p) = ty else { return None };
    let names = ctx.expand(scope, p)?;
    let last = names.last()?.as_str();
    if !matches!(last, "State" | "Data" | "ThinData" | "Extension" | "Router") {
        return None;
    }
    let arg = p.segments.last()?.generics.first()?;
    let t = primary(ctx, scope, arg, 0)?;
    let lock = (!ctx.mutable_parts(scope, arg, 0).is_empty()).then(|| ty_text(arg));
    Some((ty_text(ty), t, lock))
}

/// The workspace type a type is "about": `AppState` for `AppState`,
/// `Arc<AppState>`, `Result<Self, E>` in `impl AppState`, `DomainResult<AppState>`.
fn primary(ctx: &Ctx<'_>, scope: Scope, ty: &Ty, depth: u32) -> Option<TypeId> {
    if depth > 6 {
        return None;
    }
    match ty {
        Ty::Ref(inner) => primary(ctx, scope, inner, depth + 1),
        Ty::Path(p) => {
            let first_arg = p.segments.last().and_then(|s| s.generics.first());
            if let Some(t) = ctx.workspace_type(scope, p) {
                // An alias of an outside type (`DomainResult<T> = Result<T, E>`): its argument.
                if ctx.defs.types[t].kind == TypeKind::Alias
                    && let Some(arg) = first_arg
                {
                    return primary(ctx, scope, arg, depth + 1);
                }
                return Some(t);
            }
            let names = ctx.expand(scope, p)?;
            let last = names.last()?.as_str();
            let wrapper = matches!(
                last,
                "Result"
                    | "Option"
                    | "Arc"
                    | "Rc"
                    | "Box"
                    | "Data"
                    | "State"
                    | "Extension"
                    | "ThinData"
                    | "Mutex"
                    | "RwLock"
                    | "LazyLock"
                    | "Lazy"
                    | "OnceLock"
                    | "OnceCell"
                    | "Pin"
            );
            if wrapper {
                return primary(ctx, scope, first_arg?, depth + 1);
            }
            None
        }
        _ => None,
    }
}

/// The workspace type an expression builds or holds, where the code shows it.
fn infer(ctx: &Ctx<'_>, scope: Scope, e: &Expr, depth: u32) -> Option<TypeId> {
    if depth > 6 {
        return None;
    }
    match e.peel() {
        Expr::Struct { path, .. } => ctx.workspace_type(scope, path),
        Expr::Call { func, args, .. } => {
            let Expr::Path { path, .. } = func.peel() else {
                return None;
            };
            if let Some(f) = scope.fn_ {
                for target in ctx.defs.resolve_fn_path(f, path) {
                    if let Some(t) = returned_type(ctx, target) {
                        return Some(t);
                    }
                }
            }
            if let Some(names) = ctx.expand(scope, path) {
                // `Arc::new(x)`, `web::Data::new(x)`, `Mutex::new(x)`, `Extension(x)`: look at `x`.
                let wraps = ["Arc", "Rc", "Box", "Data", "Mutex", "RwLock", "ThinData"]
                    .iter()
                    .any(|w| super::ends(&names, &[w, "new"]))
                    || super::ends(&names, &["Extension"]);
                if wraps {
                    return infer(ctx, scope, args.first()?, depth + 1);
                }
            }
            // `AppState::from_env()` where the fn is not readable: the type before the fn.
            if path.segments.len() >= 2 {
                let names: Vec<&str> = path.names().collect();
                let prefix =
                    crate::syntax::Path::from_names(names.iter().take(names.len() - 1).copied());
                return ctx.workspace_type(scope, &prefix);
            }
            None
        }
        Expr::MethodCall {
            receiver, method, ..
        } => {
            // `state.clone()`, `AppState::load().expect("..")`, `.map_err(..)?`.
            let passes = matches!(
                method.as_str(),
                "clone" | "into" | "unwrap" | "expect" | "map_err" | "unwrap_or_else" | "to_owned"
            );
            if passes {
                infer(ctx, scope, receiver, depth + 1)
            } else {
                None
            }
        }
        Expr::Path { path, .. } => {
            let name = path.last()?;
            if path.segments.len() != 1 {
                return None;
            }
            let f = scope.fn_?;
            let data = &ctx.defs.fns[f];
            // A parameter: its type.
            for (pat, ty) in &data.def.params {
                if bound_name(pat) == Some(name) {
                    return primary(ctx, scope, ty, 0);
                }
            }
            // A `let` in the same fn (the last one of that name): its type or its value.
            let mut found = None;
            for b in ctx.body_blocks(f) {
                for s in &b.stmts {
                    if let Stmt::Let { pat, ty, init, .. } = s
                        && bound_name(pat) == Some(name)
                    {
                        found = Some((ty.as_ref(), init.as_ref()));
                    }
                }
            }
            let (ty, init) = found?;
            if let Some(t) = ty.and_then(|t| primary(ctx, scope, t, 0)) {
                return Some(t);
            }
            infer(ctx, scope, init?, depth + 1)
        }
        _ => None,
    }
}

/// The workspace type a fn returns (`Self` in an impl included).
fn returned_type(ctx: &Ctx<'_>, f: FnId) -> Option<TypeId> {
    let ret = ctx.defs.fns[f].def.ret.as_ref()?;
    primary(ctx, ctx.scope(f), ret, 0)
}

/// Whether a field is a lock around a client handle (`Mutex<SentinelClient>`,
/// `RwLock<Arc<ConfiguredClient>>` with `type ConfiguredClient =
/// openidconnect::Client<..>`): each instance holding its own is fine.
fn guards_client(ctx: &Ctx<'_>, scope: Scope, ty: &Ty) -> bool {
    let Ty::Path(p) = ty else { return false };
    let mut p: &crate::syntax::Path = p;
    // `Arc<Mutex<SentinelClient>>`: the lock inside the shared pointer.
    while matches!(p.last(), Some("Arc" | "Box" | "Rc"))
        && let Some(Ty::Path(inner)) = p.segments.last().and_then(|s| s.generics.first())
    {
        p = inner;
    }
    if !matches!(p.last(), Some("Mutex" | "RwLock")) {
        return false;
    }
    let mut inner = p.segments.last().and_then(|s| s.generics.first());
    for _ in 0..4 {
        let Some(Ty::Path(q)) = inner else {
            return false;
        };
        if matches!(q.last(), Some("Arc" | "Box" | "Rc")) {
            inner = q.segments.last().and_then(|s| s.generics.first());
            continue;
        }
        let named = match ctx.workspace_type(scope, q) {
            Some(t) => match ctx.defs.types[t].alias_of {
                Some(Ty::Path(target)) => target.last(),
                _ => q.last(),
            },
            None => q.last(),
        };
        return named.is_some_and(|n| n.ends_with("Client"));
    }
    false
}
