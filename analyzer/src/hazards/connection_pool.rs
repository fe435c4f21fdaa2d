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

use super::{Ctx, Finding, Lint, PoolSize, Subject, chain_root, ends, mentions_any};
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
        let mut sizes: BTreeMap<*const Expr, (&Expr, u32, &str)> = BTreeMap::new();
        ctx.walk_body(f, |e| {
            if let Expr::MethodCall {
                method, args, line, ..
            } = e
                && SIZE_METHODS.contains(&method.as_str())
                && let Some(arg) = args.first()
            {
                sizes.insert(chain_root(e) as *const Expr, (arg, *line, method.as_str()));
            }
        });
        ctx.walk_body(f, |e| {
            let (what, line, library) = match e {
                Expr::Call { .. } => {
                    let Some((names, _, line)) = ctx.ext_call(scope, e) else {
                        return;
                    };
                    let Some(library) = pool_constructor(&names) else {
                        return;
                    };
                    (names.join("::"), line, library)
                }
                // deadpool `cfg.create_pool(Some(Runtime::Tokio1), NoTls)`.
                Expr::MethodCall { method, line, .. } if method == "create_pool" => {
                    (format!(".{method}(..)"), *line, Library::DeadpoolConfig)
                }
                _ => return,
            };
            let size = sizes.get(&(e as *const Expr)).copied();
            let value = size.and_then(|(s, _, _)| ctx.eval_u64(scope, s));
            let sized = match (size, value) {
                (Some(_), Some(n)) => format!("of up to {n} connections"),
                (Some((s, _, _)), None) => format!("sized by `{}`", expr_text(s)),
                (None, _) => "of the library's default size".to_owned(),
            };
            let message = format!(
                "`{name}` builds a connection pool {sized} (`{what}`): every Lambda instance \
                 opens its own, so the database sees (instances x pool size) connections, kept \
                 open by frozen instances"
            );
            let pool = match size {
                Some((_, line, method)) => Some(PoolSize::Cap {
                    line,
                    method: method.to_owned(),
                    value,
                }),
                None => library.unsized_edit(&what, line),
            };
            let finding = Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message)
                .advice(library.advice())
                .pool(pool);
            out.push(if value.is_some_and(|n| n <= 2) {
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

/// The builder methods that set a pool's size.
const SIZE_METHODS: [&str; 3] = ["max_connections", "max_size", "max_open"];

/// Whose pool a constructor builds: decides the advice and how a size
/// can be written into the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Library {
    /// sqlx `PgPoolOptions::new()`.
    SqlxOptions,
    /// sqlx `PgPool::connect(url)`: the pool type (`PgPool`) and the call.
    SqlxConnect,
    /// sqlx's generic `Pool::<Postgres>::connect(url)`.
    SqlxGeneric,
    /// r2d2, bb8, diesel, deadpool or mobc `Pool::builder()`.
    Builder(&'static str),
    /// `r2d2::Pool::new(manager)`: the library's default size, no builder
    /// to add to.
    PoolNew(&'static str),
    /// deadpool's `cfg.create_pool(..)`, sized by its config.
    DeadpoolConfig,
    /// SeaORM `Database::connect(opts)`.
    SeaOrm,
}

impl Library {
    fn advice(self) -> String {
        let how = match self {
            Library::SqlxOptions | Library::SqlxConnect | Library::SqlxGeneric => {
                "sqlx: `PgPoolOptions::new().max_connections(2).min_connections(0)` (set \
                 `[deploy] pool_max = 2` in the plan and cleave writes the cap into the generated \
                 code)"
            }
            Library::Builder("mobc") => {
                "mobc: `Pool::builder().max_open(2).max_idle(1)` (or `[deploy] pool_max = 2` in \
                 the plan)"
            }
            Library::Builder(_) => {
                "r2d2/bb8/deadpool: `Pool::builder().max_size(2)`, with `min_idle(Some(0))` on \
                 r2d2 and bb8 (or `[deploy] pool_max = 2` in the plan)"
            }
            Library::PoolNew("mobc") => {
                "mobc: `Pool::new(manager)` keeps the default size: build it with \
                 `Pool::builder().max_open(2).max_idle(1).build(manager)`"
            }
            Library::PoolNew(_) => {
                "`Pool::new(manager)` keeps the library's default size (10 for r2d2): build it \
                 with `Pool::builder().max_size(2).min_idle(Some(0)).build(manager)`"
            }
            Library::DeadpoolConfig => {
                "deadpool: set `cfg.pool = Some(PoolConfig::new(2))` before `create_pool`"
            }
            Library::SeaOrm => {
                "SeaORM: pass `ConnectOptions::new(url).max_connections(2).min_connections(0)` \
                 to `Database::connect`"
            }
        };
        format!(
            "Size the pool for one request at a time: {how}. Build it once in init and reuse it \
             across invocations, and put RDS Proxy in front of the database (or use DynamoDB / \
             the RDS Data API)."
        )
    }

    /// Where a size can be written into a pool built without one.
    fn unsized_edit(self, what: &str, line: u32) -> Option<PoolSize> {
        let names: Vec<&str> = what.split("::").collect();
        let n = names.len();
        match self {
            Library::SqlxOptions => Some(PoolSize::Insert {
                line,
                ctor: names[n - 1].to_owned(),
                method: "max_connections".to_owned(),
            }),
            Library::Builder(library) => Some(PoolSize::Insert {
                line,
                ctor: names[n - 1].to_owned(),
                method: if library == "mobc" {
                    "max_open"
                } else {
                    "max_size"
                }
                .to_owned(),
            }),
            Library::SqlxConnect => {
                let owner = names[n - 2];
                let module = match owner {
                    "PgPool" => "postgres",
                    "SqlitePool" => "sqlite",
                    "MySqlPool" => "mysql",
                    "AnyPool" => "any",
                    _ => return None,
                };
                Some(PoolSize::Options {
                    line,
                    owner: owner.to_owned(),
                    call: names[n - 1].to_owned(),
                    options: format!("::{}::{module}::{owner}Options", names[0]),
                })
            }
            Library::SqlxGeneric
            | Library::PoolNew(_)
            | Library::DeadpoolConfig
            | Library::SeaOrm => None,
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
    .advice(format!(
        "Size the pool for one request at a time: in Rocket.toml `[default.databases.{db}]` set \
         `max_connections = 2` (rocket_db_pools) or `pool_size = 2` (rocket_sync_db_pools), or \
         set it through the environment (`ROCKET_DATABASES='{{{db}={{max_connections=2}}}}'`, \
         merged into the file's settings). Put RDS Proxy in front of the database (or use DynamoDB / the RDS Data \
         API)."
    ))
}

fn pool_constructor(names: &[String]) -> Option<Library> {
    let n = names.len();
    if n < 2 {
        return None;
    }
    let owner = names[n - 2].as_str();
    let f = names[n - 1].as_str();
    // sqlx `PgPoolOptions::new()`, `SqlitePoolOptions::new()`, `PoolOptions::<Postgres>::new()`.
    if owner.ends_with("PoolOptions") && f == "new" {
        return Some(Library::SqlxOptions);
    }
    // sqlx `PgPool::connect(url)`, `SqlitePool::connect_lazy(url)`, `AnyPool::connect_with(o)`.
    let connect = matches!(
        f,
        "connect" | "connect_lazy" | "connect_with" | "connect_lazy_with"
    );
    if connect && matches!(owner, "PgPool" | "SqlitePool" | "MySqlPool" | "AnyPool") {
        return Some(Library::SqlxConnect);
    }
    if connect && owner == "Pool" && mentions_any(names, &["sqlx"]) {
        return Some(Library::SqlxGeneric);
    }
    // r2d2 / bb8 / deadpool / mobc / diesel `Pool::builder()`, `r2d2::Pool::new(manager)`.
    if owner == "Pool" && matches!(f, "builder" | "new") {
        const BUILDERS: [&str; 6] = ["r2d2", "bb8", "deadpool", "mobc", "diesel", "diesel_async"];
        let library = BUILDERS.iter().find(|b| mentions_any(names, &[**b]))?;
        return Some(match f {
            "builder" => Library::Builder(library),
            _ => Library::PoolNew(library),
        });
    }
    // SeaORM `Database::connect(opts)`.
    (ends(names, &["Database", "connect"]) && mentions_any(names, &["sea_orm"]))
        .then_some(Library::SeaOrm)
}
