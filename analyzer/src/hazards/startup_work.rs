//! ### What it does
//! Finds schema work the service does itself: migrations (`sqlx::migrate!`,
//! `run_pending_migrations` (diesel), `Migrator::up` (SeaORM), refinery's
//! `migrations::runner()`) and DDL executed from code (`CREATE TABLE`,
//! `CREATE INDEX`, `ALTER TABLE`, ... in a string literal, a `const`, a
//! `.sql` file included with `include_str!`, or a local bound to one of
//! these, passed to a call such as `sqlx::query(..)` or `execute_batch`),
//! except in a fn whose only DDL is a temporary table it creates
//! (`CREATE TEMP TABLE`) and drops (`DROP TABLE IF EXISTS ..`): a query's
//! scratch space, not schema.
//!
//! ### Why is this bad on Lambda
//! The monolith runs this once per start; on Lambda "start" is every cold
//! start of every instance of every function. Init is capped at 10 s (then
//! the time is billed and counted against the first request), dozens of
//! instances race to migrate the same schema, and each function would need
//! the credentials and code to alter it.
//!
//! ### Example
//! ```text
//! #[tokio::main]
//! async fn main() {
//!     let pool = connect().await;
//!     sqlx::migrate!("./migrations").run(&pool).await?;
//!     sqlx::query("CREATE TABLE IF NOT EXISTS users (..)").execute(&pool).await?;
//! }
//! ```
//!
//! ### Use instead
//! Run migrations once per deployment: a deploy step in CI, a one-off
//! migration function invoked by the pipeline, or a CloudFormation custom
//! resource; functions then assume the schema exists.

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, Finding, Lint, Scope, Subject, bound_name, ends};
use crate::diagnostic::Severity;
use crate::resolve::FnId;
use crate::syntax::{Expr, Lit, Stmt, expr_text};

pub(crate) static LINT: Lint = Lint {
    code: "startup-work",
    severity: Severity::Warning,
    summary: "migrations or DDL run by the service at startup; on Lambda that is every cold start",
    advice: "Run migrations once per deployment (a CI step, a one-off migration function, or a \
             CloudFormation custom resource) and let functions assume the schema exists; Lambda \
             init is capped at 10 s.",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let name = ctx.fn_name(f);
        let ddl_locals = ddl_locals(ctx, f, scope);
        let scratch = scratch_tables_only(ctx, f);
        let dev_gates = dev_gated_lines(ctx, f);
        let mut lines = BTreeSet::new();
        ctx.walk_body(f, |e| {
            let (line, what) = match e {
                // `sqlx::migrate!("./migrations")`.
                Expr::Macro { path, line, .. } if path.last() == Some("migrate") => {
                    (*line, "runs database migrations (`migrate!`)".to_owned())
                }
                // diesel `conn.run_pending_migrations(MIGRATIONS)`.
                Expr::MethodCall { method, line, .. } if method == "run_pending_migrations" => {
                    (*line, format!("runs database migrations (`.{method}(..)`)"))
                }
                Expr::Call { args, line, .. } => {
                    let migration = ctx.ext_call(scope, e).is_some_and(|(names, _, _)| {
                        // SeaORM `Migrator::up(&db, None)`, refinery `migrations::runner()`.
                        ends(&names, &["Migrator", "up"]) || ends(&names, &["migrations", "runner"])
                    });
                    if migration {
                        (*line, "runs database migrations".to_owned())
                    } else if !scratch && args.iter().any(|a| is_ddl(ctx, scope, a, &ddl_locals, 0))
                    {
                        // `sqlx::query("CREATE TABLE ..")`, `query(statement)` over a DDL const.
                        (*line, "executes schema DDL (CREATE/ALTER ...)".to_owned())
                    } else {
                        return;
                    }
                }
                // `conn.execute_batch(SCHEMA)`, `client.batch_execute("CREATE TABLE ..")`.
                Expr::MethodCall { args, line, .. }
                    if !scratch && args.iter().any(|a| is_ddl(ctx, scope, a, &ddl_locals, 0)) =>
                {
                    (*line, "executes schema DDL (CREATE/ALTER ...)".to_owned())
                }
                _ => return,
            };
            if !lines.insert(line) {
                return;
            }
            let when = if ctx.is_main(f) {
                "at startup"
            } else {
                "from code"
            };
            let mut message = format!(
                "`{name}` {what} {when}: on Lambda that runs on every cold start of every \
                 instance, racing other instances and counting against the 10 s init limit"
            );
            if let Some(cond) = dev_gates.get(&line) {
                message.push_str(&dev_note(cond));
            }
            out.push(Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message));
        });
    }
    // `static MIGRATOR: Migrator = sqlx::migrate!();`
    for s in &ctx.statics {
        s.init.walk(&mut |e| {
            if let Expr::Macro { path, line, .. } = e
                && path.last() == Some("migrate")
            {
                let message = format!(
                    "`{}` embeds database migrations (`migrate!`) that the service runs itself: \
                     on Lambda that is every cold start",
                    s.item.name
                );
                out.push(Finding::new(s.file, *line, s.subject.clone(), message));
            }
        });
    }
}

/// The lines of `f`'s body that run only under a development or debug
/// condition (`if cfg!(debug_assertions)`, `if config.dev_mode`,
/// `if env == "development"`), each with that condition's text.
fn dev_gated_lines(ctx: &Ctx<'_>, f: FnId) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    ctx.walk_body(f, |e| {
        if let Expr::If { cond, then, .. } = e
            && let Some(token) = dev_condition(cond)
        {
            // The condition as written, where cleave's tree keeps it whole.
            let text = Some(expr_text(cond))
                .filter(|t| !t.contains(".."))
                .map_or_else(|| format!("a condition on {token}"), |t| format!("`{t}`"));
            then.walk(&mut |x| {
                if let Some(line) = x.line() {
                    out.entry(line).or_insert_with(|| text.clone());
                }
            });
        }
    });
    out
}

/// What makes a condition hold only in development, if something does:
/// it names `debug_assertions` or a dev/debug flag, or compares with a
/// dev-like name (`"development"`).
fn dev_condition(cond: &Expr) -> Option<String> {
    const FLAGS: [&str; 10] = [
        "debug_assertions",
        "dev",
        "development",
        "is_dev",
        "is_development",
        "dev_mode",
        "debug",
        "is_debug",
        "debug_mode",
        "is_local",
    ];
    const NAMES: [&str; 4] = ["dev", "development", "local", "debug"];
    let flag = |n: &str| FLAGS.contains(&n.to_ascii_lowercase().as_str());
    let mut found = None;
    cond.walk(&mut |x| {
        let token = match x {
            Expr::Path { path, .. } => path.last().filter(|n| flag(n)).map(|n| format!("`{n}`")),
            Expr::Field { member, .. } | Expr::MethodCall { method: member, .. } => {
                flag(member).then(|| format!("`{member}`"))
            }
            Expr::Lit {
                lit: Lit::Str(s), ..
            } => NAMES
                .contains(&s.to_ascii_lowercase().as_str())
                .then(|| format!("`\"{s}\"`")),
            _ => None,
        };
        if found.is_none() {
            found = token;
        }
    });
    found
}

/// What the message adds for work under a development condition.
fn dev_note(cond: &str) -> String {
    if cond.contains("debug_assertions") {
        format!(
            "; it runs only when {cond} holds, a debug build: `cargo lambda build` (a release \
             build) leaves it out"
        )
    } else {
        format!(
            "; it runs only when {cond} holds, the monolith's own development gate: keep that \
             condition false in the deployed configuration"
        )
    }
}

/// Locals bound to DDL: `let sql = "CREATE TABLE .."`, `for statement in SCHEMA`.
fn ddl_locals<'a>(ctx: &Ctx<'a>, f: FnId, scope: Scope) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for b in ctx.body_blocks(f) {
        for s in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = s
                && let Some(n) = bound_name(pat)
                && is_ddl(ctx, scope, init, &out, 0)
            {
                out.insert(n);
            }
        }
    }
    let mut loops = Vec::new();
    ctx.walk_body(f, |e| {
        if let Expr::Loop {
            pat: Some(pat),
            iter: Some(iter),
            ..
        } = e
        {
            loops.push((pat, iter));
        }
    });
    for (pat, iter) in loops {
        if let Some(n) = bound_name(pat)
            && is_ddl(ctx, scope, iter, &out, 0)
        {
            out.insert(n);
        }
    }
    out
}

/// Whether an argument is DDL text: a literal, a `const`/`static` holding
/// one, `include_str!("schema.sql")`, `format!("CREATE ..")`, or a local bound
/// to one. Does not look inside other calls (their own arguments are checked).
fn is_ddl(ctx: &Ctx<'_>, scope: Scope, e: &Expr, locals: &BTreeSet<&str>, depth: u32) -> bool {
    if depth > 6 {
        return false;
    }
    match e.peel() {
        Expr::Lit {
            lit: Lit::Str(s), ..
        } => text_is_ddl(s),
        Expr::Macro { path, args, .. } => {
            let include = matches!(path.last(), Some("include_str" | "include_bytes"))
                && args
                    .first()
                    .and_then(Expr::as_str)
                    .is_some_and(|f| f.ends_with(".sql"));
            include
                || args
                    .iter()
                    .any(|a| is_ddl(ctx, scope, a, locals, depth + 1))
        }
        Expr::Path { path, .. } => {
            if path.segments.len() == 1
                && let Some(n) = path.last()
                && locals.contains(n)
            {
                return true;
            }
            ctx.const_named(scope, path).is_some_and(|s| {
                let mut found = false;
                s.init.walk(&mut |x| {
                    if let Expr::Lit {
                        lit: Lit::Str(t), ..
                    } = x
                        && text_is_ddl(t)
                    {
                        found = true;
                    }
                });
                found
            })
        }
        // `&SCHEMA[..]`, `SCHEMA.iter()`, `sql.as_str()`.
        Expr::MethodCall {
            receiver, method, ..
        } if matches!(
            method.as_str(),
            "iter" | "as_str" | "as_ref" | "to_string" | "split"
        ) =>
        {
            is_ddl(ctx, scope, receiver, locals, depth + 1)
        }
        Expr::Other(xs) => xs.iter().any(|x| is_ddl(ctx, scope, x, locals, depth + 1)),
        _ => false,
    }
}

/// Whether the only DDL a fn writes is about temporary tables: it creates
/// one (`CREATE TEMP TABLE ..`) and otherwise only drops tables (that one,
/// `DROP TABLE IF EXISTS {temp}`): scratch space of a query, not schema.
fn scratch_tables_only(ctx: &Ctx<'_>, f: FnId) -> bool {
    let (mut temp, mut schema) = (false, false);
    ctx.walk_body(f, |e| {
        if let Expr::Lit {
            lit: Lit::Str(text),
            ..
        } = e
        {
            let words: Vec<String> = text
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
            let creates_temp = words
                .windows(2)
                .any(|w| w[0] == "CREATE" && matches!(w[1].as_str(), "TEMP" | "TEMPORARY"));
            let drops = words.windows(2).any(|w| w[0] == "DROP" && w[1] == "TABLE");
            temp |= creates_temp;
            schema |= text_is_ddl(text) && !drops;
        }
    });
    temp && !schema
}

fn text_is_ddl(s: &str) -> bool {
    let words: Vec<String> = s.split_whitespace().map(str::to_ascii_uppercase).collect();
    words.windows(2).any(|w| {
        matches!(
            (w[0].as_str(), w[1].as_str()),
            (
                "CREATE",
                "TABLE" | "INDEX" | "UNIQUE" | "SCHEMA" | "EXTENSION" | "TYPE" | "TRIGGER"
            ) | ("ALTER", "TABLE")
                | ("DROP", "TABLE")
        )
    })
}
