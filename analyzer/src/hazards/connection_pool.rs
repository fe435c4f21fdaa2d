//! ### What it does
//! Finds database connection pools: sqlx (`PgPoolOptions::new()`,
//! `SqlitePoolOptions`, `MySqlPoolOptions`, `PoolOptions`, `PgPool::connect`,
//! `connect_lazy`), r2d2 and bb8 (`Pool::builder()`, `r2d2::Pool::new`),
//! deadpool (`.create_pool(..)`, `Pool::builder(manager)`), SeaORM
//! (`sea_orm::Database::connect`) and Rocket's `#[database("..")]` pools;
//! with the `max_connections(N)`/`max_size(N)` written in the same chain,
//! when it is spelled out.
//!
//! ### Why is this bad on Lambda
//! A pool is sized for one long-lived server. On Lambda every instance opens
//! its own pool and serves one request at a time, so N instances hold up to
//! N x max_connections connections, and scaling out to hundreds of
//! instances exhausts the database's connection limit. Frozen instances
//! keep their connections open until the database times them out.
//!
//! ### Example
//! ```text
//! let pool = PgPoolOptions::new().max_connections(50).connect(&url).await?;
//! ```
//!
//! ### Use instead
//! One or two connections per instance (`max_connections(1)`), created in
//! init and reused across invocations; put RDS Proxy (or PgBouncer) in front
//! of the database; or use a connectionless store (DynamoDB, the RDS Data
//! API).

use crate::syntax::expr_text;
use std::collections::BTreeMap;

use super::{Ctx, Finding, Lint, Subject, chain_root, ends, mentions_any};
use crate::diagnostic::Severity;
use crate::resolve::TypeId;
use crate::syntax::Expr;

pub(crate) static LINT: Lint = Lint {
    code: "connection-pool",
    severity: Severity::Warning,
    summary: "a connection pool sized for a long-lived server; every Lambda instance opens its own",
    advice: "Size the pool for one request at a time (max_connections(1) or 2), build it once in \
             init and reuse it across invocations, and put RDS Proxy in front of the database (or \
             use DynamoDB / the RDS Data API).",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let name = ctx.fn_name(f);
        // `max_connections(n)` / `max_size(n)` anywhere in a chain, keyed by the chain's root.
        let mut sizes: BTreeMap<*const Expr, &Expr> = BTreeMap::new();
        ctx.walk_body(f, |e| {
            if let Expr::MethodCall { method, args, .. } = e
                && matches!(method.as_str(), "max_connections" | "max_size")
                && let Some(arg) = args.first()
            {
                sizes.insert(chain_root(e) as *const Expr, arg);
            }
        });
        ctx.walk_body(f, |e| {
            let (what, line) = match e {
                Expr::Call { .. } => {
                    let Some((names, _, line)) = ctx.ext_call(scope, e) else {
                        return;
                    };
                    if !is_pool_constructor(&names) {
                        return;
                    }
                    (names.join("::"), line)
                }
                // deadpool `cfg.create_pool(Some(Runtime::Tokio1), NoTls)`.
                Expr::MethodCall { method, line, .. } if method == "create_pool" => {
                    (format!(".{method}(..)"), *line)
                }
                _ => return,
            };
            let size = sizes.get(&(e as *const Expr)).copied();
            let sized = match size.map(|s| (s, ctx.eval_u64(scope, s))) {
                Some((_, Some(n))) => format!("of up to {n} connections"),
                Some((s, None)) => format!("sized by `{}`", expr_text(s)),
                None => "of the library's default size".to_owned(),
            };
            let small = size
                .and_then(|s| ctx.eval_u64(scope, s))
                .is_some_and(|n| n <= 2);
            let message = format!(
                "`{name}` builds a connection pool {sized} (`{what}`): every Lambda instance \
                 opens its own, so the database sees (instances x pool size) connections, kept \
                 open by frozen instances"
            );
            let finding = Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message);
            out.push(if small {
                finding.severity(Severity::Note)
            } else {
                finding
            });
        });
    }
    // Rocket `#[derive(Database)] #[database("notes")] struct Db(sqlx::SqlitePool);`
    for (t, data) in ctx.defs.types.iter().enumerate() {
        if let Some(attr) = data.item.attr("database") {
            let db = attr.strings.first().map(String::as_str).unwrap_or("..");
            out.push(rocket_pool(ctx, t, db));
        }
    }
}

fn rocket_pool(ctx: &Ctx<'_>, t: TypeId, db: &str) -> Finding {
    let data = &ctx.defs.types[t];
    let message = format!(
        "`{}` is a Rocket database pool (`#[database(\"{db}\")]`), sized by `databases.{db}` in \
         Rocket's config: every Lambda instance opens its own pool",
        data.name
    );
    Finding::new(
        ctx.defs.mods[data.module].file,
        data.item.line,
        Subject::Type(t),
        message,
    )
}

fn is_pool_constructor(names: &[String]) -> bool {
    let n = names.len();
    if n < 2 {
        return false;
    }
    let owner = names[n - 2].as_str();
    let f = names[n - 1].as_str();
    // sqlx `PgPoolOptions::new()`, `SqlitePoolOptions::new()`, `PoolOptions::<Postgres>::new()`.
    if owner.ends_with("PoolOptions") && f == "new" {
        return true;
    }
    // sqlx `PgPool::connect(url)`, `SqlitePool::connect_lazy(url)`, `AnyPool::connect_with(o)`.
    let sqlx_pool = matches!(owner, "PgPool" | "SqlitePool" | "MySqlPool" | "AnyPool")
        || (owner == "Pool" && mentions_any(names, &["sqlx"]));
    if sqlx_pool
        && matches!(
            f,
            "connect" | "connect_lazy" | "connect_with" | "connect_lazy_with"
        )
    {
        return true;
    }
    // r2d2 / bb8 / deadpool / mobc / diesel `Pool::builder()`, `r2d2::Pool::new(manager)`.
    if owner == "Pool"
        && matches!(f, "builder" | "new")
        && mentions_any(
            names,
            &["r2d2", "bb8", "deadpool", "mobc", "diesel", "diesel_async"],
        )
    {
        return true;
    }
    // SeaORM `Database::connect(opts)`.
    ends(names, &["Database", "connect"]) && mentions_any(names, &["sea_orm"])
}
