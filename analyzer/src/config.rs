//! Config: the environment variables the served app reads, each with where
//! it is read, whether the app needs it or falls back to a default, whether
//! its name looks like a secret, and which entry points' code reads it.
//!
//! Input: the lowered workspace through the hazards' `Ctx` (paths expanded
//! through `use` items, `const`s known) and the environment files `load`
//! read ([`crate::load::EnvFile`]). Shapes it reads:
//! - `std::env::var("X")` / `var_os` (and `dotenv::var`), the name a
//!   literal, a `const`/`static`, or a parameter of a helper fn (`fn
//!   env_or(key, default)`: each call of the helper is a read, its default
//!   argument the default);
//! - `env!("X")` / `option_env!("X")` (read while compiling: `build_time`;
//!   Cargo's own `CARGO_*` variables left out);
//! - `dotenv()`/`dotenvy::dotenv()` and friends: the `.env` file (and a
//!   file named by `from_filename`) counts when the served app loads it;
//!   example files (`.env.example`, `.env.sample`, ..) always count;
//! - `.cargo/config.toml [env]`: each variable, its value the default;
//! - `envy::from_env::<T>()` / `envy::prefixed("P_")`: the fields of `T`,
//!   upper-cased, prefixed;
//! - `config::Environment::with_prefix("APP")` (`.prefix_separator`,
//!   `.separator`) and `figment`'s `Env::prefixed("APP_")` (`.split`): the
//!   fields of the struct the same fn deserializes, nested through the
//!   separator; without a struct, the prefix as a pattern (`APP_*`);
//! - clap / structopt `#[arg(env = "X")]`, `#[arg(env)]` (the field's name,
//!   upper-cased) with `default_value`; envconfig's `#[envconfig(from = "X")]`.
//!
//! Required or not is read from what the code does with the value:
//! `.unwrap_or(..)`, `.unwrap_or_else(..)`, `.ok()`, a `match` or `if let`
//! on it give a default or make it optional; `?`, `.expect(..)` or nothing
//! make it required. Only reads in code the served app runs are kept (the
//! hazards' scope). Knows nothing of Lambda; never reads the disk.

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::hazards::{Ctx, Scope, Subject, bound_name, chain_root};
use crate::load::EnvFile;
use crate::resolve::{FnId, TypeId};
use crate::syntax::{Attr, Expr, ItemKind, Lit, Path, Stmt, Ty, WrapKind};

/// An environment variable the app reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVar {
    /// As the app spells it; a pattern ends in `*` (`APP_*`: a prefix the
    /// app reads every variable of, its struct out of sight).
    pub name: String,
    /// The app fails or misbehaves without it: some read has no fallback.
    pub required: bool,
    /// The fallback the code spells out (a literal), or a file's value.
    pub default: Option<String>,
    /// The name looks like it holds a secret (KEY, TOKEN, PASSWORD, ..).
    pub secret: bool,
    /// Read only while compiling (`env!`, `option_env!`).
    pub build_time: bool,
    /// Every place that reads or sets it, sorted.
    pub reads: Vec<EnvRead>,
    /// Routes (`EntryPoint::route()`) whose code reads it, sorted.
    pub entrypoints: Vec<String>,
    /// The start-up code of the serving binary reads it, or a file sets it
    /// for the whole process: every function needs it.
    pub startup: bool,
}

/// One place a variable is read (or set, for a file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EnvRead {
    /// Relative to the analysed root, `/`-separated.
    pub file: String,
    pub line: u32,
    /// How: `std::env::var`, `env!`, `.env`, `envy`, `clap`, ...
    pub how: String,
}

/// Whether a name looks like it holds a secret.
pub fn secret_looking(name: &str) -> bool {
    const WORDS: [&str; 9] = [
        "SECRET",
        "KEY",
        "TOKEN",
        "PASSWORD",
        "PASS",
        "PRIVATE",
        "CREDENTIAL",
        "DATABASE_URL",
        "DSN",
    ];
    let upper = name.to_ascii_uppercase();
    WORDS.iter().any(|w| upper.contains(w))
}

/// What the code does when the variable is not set.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    Required,
    Optional,
    /// Falls back to this value (`None`: one the code computes).
    Default(Option<String>),
    /// Falls back to the enclosing helper fn's parameter of this index.
    DefaultParam(usize),
}

/// A read found in the code or a file, before it is tied to routes.
#[derive(Debug, Clone)]
pub(crate) struct Read {
    name: String,
    file: String,
    line: u32,
    how: String,
    need: Need,
    build_time: bool,
    /// What runs it; `None` for a file (it sets the whole process's environment).
    subject: Option<Subject>,
    /// A dotenv file that counts only when the app loads it.
    dotenv_file: bool,
}

/// Everything [`scan`] found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    reads: Vec<Read>,
    /// Calls that load a dotenv file: what makes them run, and the file's
    /// name when the call names one.
    dotenv: Vec<(Subject, Option<String>)>,
}

/// What an expression evaluates to, as far as the code spells it out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    Text(String),
    /// The enclosing fn's parameter of this index.
    Param(usize),
    /// A panic (`panic!`, `unreachable!`): no fallback at all.
    Panic,
    Opaque,
}

/// A helper fn whose parameter (of index `key`) names the variable it reads.
#[derive(Debug, Clone)]
struct Forward {
    f: FnId,
    key: usize,
    need: Need,
    how: String,
    build_time: bool,
}

/// Reads the whole workspace: the reads in fn bodies, the struct fields
/// with `env` attributes, and the environment files.
pub(crate) fn scan(ctx: &Ctx<'_>) -> Found {
    let per_fn: Vec<BodyFacts> = (0..ctx.defs.fns.len())
        .into_par_iter()
        .map(|f| scan_fn(ctx, f))
        .collect();
    let mut found = Found::default();
    let mut forwards = Vec::new();
    for (reads, fwd, dotenv) in per_fn {
        found.reads.extend(reads);
        forwards.extend(fwd);
        found.dotenv.extend(dotenv);
    }
    found.reads.extend(scan_statics(ctx));
    follow_forwards(ctx, forwards, &mut found.reads);
    attr_reads(ctx, &mut found.reads);
    file_reads(&ctx.defs.project.env_files, &found.dotenv, &mut found.reads);
    found
}

/// What one body holds: reads, the helper it is, dotenv loads.
type BodyFacts = (Vec<Read>, Vec<Forward>, Vec<(Subject, Option<String>)>);

/// One fn's reads, the helpers it is, and its dotenv loads.
fn scan_fn(ctx: &Ctx<'_>, f: FnId) -> BodyFacts {
    if ctx.defs.fns[f].def.body.is_none() {
        return Default::default();
    }
    let mut exprs = Vec::new();
    ctx.walk_body(f, |e| exprs.push(e));
    scan_body(
        ctx,
        ctx.scope(f),
        ctx.fn_file(f),
        Subject::Fn(f),
        &exprs,
        ctx.body_blocks(f),
    )
}

/// The reads in the initialisers of `const`s and `static`s
/// (`const BUILD: &str = env!("GIT_COMMIT")`).
fn scan_statics(ctx: &Ctx<'_>) -> Vec<Read> {
    let mut out = Vec::new();
    for site in &ctx.statics {
        if site.scope.fn_.is_some() {
            continue;
        }
        let mut exprs = Vec::new();
        site.init.walk(&mut |e| exprs.push(e));
        let (reads, _, _) = scan_body(
            ctx,
            site.scope,
            site.file,
            site.subject.clone(),
            &exprs,
            &[],
        );
        out.extend(reads);
    }
    out
}

/// [`scan_fn`] over a body given as its expressions and blocks.
fn scan_body<'a>(
    ctx: &Ctx<'a>,
    scope: Scope,
    file: &str,
    subject: Subject,
    exprs: &[&'a Expr],
    blocks: &[&'a crate::syntax::Block],
) -> BodyFacts {
    let mut facts = BodyFacts::default();
    let interesting = |e: &Expr| {
        read_site(ctx, scope, e).is_some()
            || env_source(ctx, scope, e).is_some()
            || dotenv_load(ctx, scope, e).is_some()
    };
    if !exprs.iter().any(|e| interesting(e)) {
        return facts;
    }
    let (reads, forwards, dotenv) = &mut facts;
    let uses = Uses::from_parts(exprs, blocks);
    for e in exprs.iter().copied() {
        if let Some((how, build_time, line)) = read_site(ctx, scope, e) {
            let need = if how == "env!" {
                Need::Required
            } else {
                classify(
                    ctx,
                    scope,
                    &uses,
                    e,
                    how.ends_with("var_os") || how == "option_env!",
                )
            };
            match key_of(ctx, scope, e_key(e)) {
                Some(Val::Text(name)) if !(build_time && cargo_sets(&name)) => {
                    reads.push(Read {
                        name,
                        file: file.to_owned(),
                        line,
                        how: how.to_owned(),
                        need: settle(need),
                        build_time,
                        subject: Some(subject.clone()),
                        dotenv_file: false,
                    });
                }
                Some(Val::Param(key)) => {
                    if let Some(f) = scope.fn_ {
                        forwards.push(Forward {
                            f,
                            key,
                            need,
                            how: how.to_owned(),
                            build_time,
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some(src) = env_source(ctx, scope, e)
            && let Some(f) = scope.fn_
        {
            reads.extend(source_reads(ctx, f, &uses, e, src));
        }
        if let Some(name) = dotenv_load(ctx, scope, e) {
            dotenv.push((subject.clone(), name));
        }
    }
    facts
}

/// A default taken from a helper's parameter, outside the helper: one
/// the code computes.
fn settle(need: Need) -> Need {
    match need {
        Need::DefaultParam(_) => Need::Default(None),
        other => other,
    }
}

/// Variables Cargo sets while compiling (`env!("CARGO_PKG_VERSION")`).
fn cargo_sets(name: &str) -> bool {
    name.starts_with("CARGO_")
        || matches!(
            name,
            "OUT_DIR" | "TARGET" | "HOST" | "PROFILE" | "OPT_LEVEL" | "DEBUG" | "RUSTC"
        )
}

/// The expression holding the variable's name in a read site.
fn e_key(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Call { args, .. } | Expr::Macro { args, .. } => args.first(),
        _ => None,
    }
}

/// A read of one variable: `std::env::var(..)`, `var_os`, `dotenv::var`,
/// `env!`, `option_env!`: how, whether at build time, and the line.
fn read_site(ctx: &Ctx<'_>, scope: Scope, e: &Expr) -> Option<(&'static str, bool, u32)> {
    match e {
        Expr::Call { .. } => {
            let (names, args, line) = ctx.ext_call(scope, e)?;
            if args.is_empty() {
                return None;
            }
            let n: Vec<&str> = names.iter().map(String::as_str).collect();
            let how = match n.as_slice() {
                [.., "env", "var"] if matches!(n[0], "std" | "core") => "std::env::var",
                [.., "env", "var_os"] if matches!(n[0], "std" | "core") => "std::env::var_os",
                ["dotenv" | "dotenvy", "var"] => "dotenv::var",
                _ => return None,
            };
            Some((how, false, line))
        }
        Expr::Macro {
            path, args, line, ..
        } if !args.is_empty() => match path.last()? {
            "env" if path.segments.len() == 1 || path.ends_with(&["std", "env"]) => {
                Some(("env!", true, *line))
            }
            "option_env" => Some(("option_env!", true, *line)),
            _ => None,
        },
        _ => None,
    }
}

/// A call that loads a dotenv file, with the file's name when it gives one.
fn dotenv_load(ctx: &Ctx<'_>, scope: Scope, e: &Expr) -> Option<Option<String>> {
    let (names, args, _) = ctx.ext_call(scope, e)?;
    let n: Vec<&str> = names.iter().map(String::as_str).collect();
    match n.as_slice() {
        [
            "dotenv" | "dotenvy" | "dotenv_codegen",
            "dotenv" | "dotenv_override",
        ] => Some(None),
        [
            "dotenv" | "dotenvy",
            "from_filename" | "from_filename_override" | "from_path" | "from_path_override",
        ] => Some(args.first().and_then(|a| {
            let s = a.peel().as_str()?;
            Some(s.rsplit(['/', '\\']).next().unwrap_or(s).to_owned())
        })),
        _ => None,
    }
}

/// The name (or the helper's parameter) an expression gives.
fn key_of(ctx: &Ctx<'_>, scope: Scope, e: Option<&Expr>) -> Option<Val> {
    let v = value_of(ctx, scope, e?, 0);
    match v {
        Val::Text(s) if !s.is_empty() && s.len() <= 256 => Some(Val::Text(s)),
        Val::Param(i) => Some(Val::Param(i)),
        _ => None,
    }
}

/// What an expression evaluates to: literals, `const`s and `static`s,
/// conversions of them (`"x".to_string()`, `String::from("x")`, `Some(3)`),
/// closures and blocks by their value, `concat!` of literals, the fn's
/// parameters by index.
fn value_of(ctx: &Ctx<'_>, scope: Scope, e: &Expr, depth: u32) -> Val {
    if depth > 8 {
        return Val::Opaque;
    }
    match e {
        Expr::Lit { lit, .. } => match lit {
            Lit::Str(s) => Val::Text(s.clone()),
            Lit::Int(n) => Val::Text(n.to_string()),
            Lit::Bool(b) => Val::Text(b.to_string()),
            Lit::Other => Val::Opaque,
        },
        Expr::Wrap {
            kind: WrapKind::Paren | WrapKind::Ref | WrapKind::Deref | WrapKind::Cast,
            inner,
        } => value_of(ctx, scope, inner, depth + 1),
        Expr::MethodCall {
            receiver,
            method,
            args,
            ..
        } if args.is_empty()
            && matches!(
                method.as_str(),
                "to_string" | "to_owned" | "into" | "clone" | "as_str" | "as_ref" | "borrow"
            ) =>
        {
            value_of(ctx, scope, receiver, depth + 1)
        }
        Expr::Call { func, args, .. } if args.len() == 1 => match func.peel() {
            Expr::Path { path, .. }
                if matches!(
                    path.last(),
                    Some("from" | "new" | "Some" | "Ok" | "from_str")
                ) =>
            {
                value_of(ctx, scope, &args[0], depth + 1)
            }
            _ => Val::Opaque,
        },
        Expr::Closure { body, .. } => value_of(ctx, scope, body, depth + 1),
        Expr::Block { block, .. } => match block.tail() {
            Some(t) if block.stmts.len() == 1 => value_of(ctx, scope, t, depth + 1),
            _ => Val::Opaque,
        },
        Expr::Macro { path, args, .. } => match path.last() {
            Some("panic" | "unreachable" | "todo" | "unimplemented") => Val::Panic,
            Some("concat") if !args.is_empty() => {
                let mut out = String::new();
                for a in args {
                    match value_of(ctx, scope, a, depth + 1) {
                        Val::Text(t) => out.push_str(&t),
                        _ => return Val::Opaque,
                    }
                }
                Val::Text(out)
            }
            _ => Val::Opaque,
        },
        Expr::Path { path, .. } => {
            if path.segments.len() == 1
                && let Some(name) = path.last()
                && let Some(f) = scope.fn_
                && let Some(i) = ctx.defs.fns[f]
                    .def
                    .params
                    .iter()
                    .position(|(p, _)| bound_name(p) == Some(name))
            {
                return Val::Param(i);
            }
            // A const's initialiser: a literal, or a size it spells out.
            match ctx.const_named(scope, path) {
                Some(site) => match site.init.peel().as_str() {
                    Some(s) => Val::Text(s.to_owned()),
                    None => match ctx.eval_u64(site.scope, site.init) {
                        Some(n) => Val::Text(n.to_string()),
                        None => Val::Opaque,
                    },
                },
                None => Val::Opaque,
            }
        }
        // A size spelled out as a product (`24 * 60 * 60`).
        _ => match ctx.eval_u64(scope, e) {
            Some(n) => Val::Text(n.to_string()),
            None => Val::Opaque,
        },
    }
}

/// A method call on a chain: its depth, name and arguments.
type Call<'a> = (usize, &'a str, &'a [Expr]);

/// What a fn does with the values its reads return: the method calls on
/// each chain (by the chain's root), and the `match`es and `if let`s on one.
struct Uses<'a> {
    /// Chain root -> (depth, method, args), innermost first.
    chains: BTreeMap<usize, Vec<Call<'a>>>,
    /// Chain root -> the arms of a `match` on it.
    matches: BTreeMap<usize, &'a [(crate::syntax::Pat, Expr)]>,
    /// Chain roots tested with `if let` / `while let`.
    lets: BTreeSet<usize>,
    /// Chain root -> the type a `let` gives the chain's value.
    let_types: BTreeMap<usize, &'a Ty>,
}

fn addr(e: &Expr) -> usize {
    e as *const Expr as usize
}

impl<'a> Uses<'a> {
    fn from_parts(exprs: &[&'a Expr], blocks: &[&'a crate::syntax::Block]) -> Self {
        let mut uses = Uses {
            chains: BTreeMap::new(),
            matches: BTreeMap::new(),
            lets: BTreeSet::new(),
            let_types: BTreeMap::new(),
        };
        for e in exprs.iter().copied() {
            match e {
                Expr::MethodCall { method, args, .. } => {
                    let (root, depth) = root_depth(e);
                    uses.chains.entry(addr(root)).or_default().push((
                        depth,
                        method.as_str(),
                        args.as_slice(),
                    ));
                }
                Expr::Match { expr, arms } => {
                    uses.matches.insert(addr(chain_root(expr)), arms.as_slice());
                }
                Expr::Let { expr, .. } => {
                    uses.lets.insert(addr(chain_root(expr)));
                }
                _ => {}
            }
        }
        for b in blocks {
            for s in &b.stmts {
                if let Stmt::Let {
                    ty: Some(t),
                    init: Some(e),
                    ..
                } = s
                {
                    uses.let_types.insert(addr(chain_root(e)), t);
                }
            }
        }
        for c in uses.chains.values_mut() {
            c.sort_by_key(|x| x.0);
        }
        uses
    }
}

/// The innermost receiver of a method chain and how many calls sit on it.
fn root_depth(e: &Expr) -> (&Expr, usize) {
    let mut depth = 0;
    let mut cur = e.peel();
    while let Expr::MethodCall { receiver, .. } = cur {
        depth += 1;
        cur = receiver.peel();
    }
    (cur, depth)
}

/// What the code does when the read at `e` finds nothing.
/// `gives_option`: the read returns an `Option` (`var_os`, `option_env!`),
/// which nothing forces to hold a value unless the code unwraps it.
fn classify(ctx: &Ctx<'_>, scope: Scope, uses: &Uses<'_>, e: &Expr, gives_option: bool) -> Need {
    let root = addr(e);
    let mut optional = false;
    for (_, method, args) in uses.chains.get(&root).into_iter().flatten() {
        let fallback = match *method {
            "unwrap_or" | "unwrap_or_else" | "map_or" | "map_or_else" | "or" | "or_else" => {
                args.first()
            }
            "unwrap_or_default" => return Need::Default(None),
            "ok" | "is_ok" | "is_err" | "is_some" | "is_none" | "err" => {
                optional = true;
                continue;
            }
            // An error or a panic when it is missing (`.ok().ok_or(..)?` too).
            "expect" | "unwrap" | "ok_or" | "ok_or_else" | "context" | "with_context" => {
                return Need::Required;
            }
            _ => continue,
        };
        return match fallback.map(|a| value_of(ctx, scope, a, 0)) {
            Some(Val::Text(t)) => Need::Default(Some(t)),
            Some(Val::Param(i)) => Need::DefaultParam(i),
            Some(Val::Panic) => Need::Required,
            _ if matches!(*method, "or" | "or_else") => Need::Optional,
            _ => Need::Default(None),
        };
    }
    if let Some(arms) = uses.matches.get(&root) {
        // The arm for "not set": `Err(_)`, `None`, `_`.
        let missing = arms.iter().find(|(p, _)| match p {
            crate::syntax::Pat::TupleStruct(path, _) => path.last() == Some("Err"),
            crate::syntax::Pat::Path(path) => path.last() == Some("None"),
            crate::syntax::Pat::Ident(n) => n == "_" || n == "None",
            crate::syntax::Pat::Other => true,
            _ => false,
        });
        return match missing.map(|(_, body)| value_of(ctx, scope, body, 0)) {
            Some(Val::Text(t)) => Need::Default(Some(t)),
            Some(Val::Panic) => Need::Required,
            Some(_) => Need::Default(None),
            None => Need::Optional,
        };
    }
    if optional || uses.lets.contains(&root) || gives_option {
        return Need::Optional;
    }
    Need::Required
}

/// A source that reads a struct's fields from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `envy::from_env` / `envy::prefixed(..)`: fields upper-cased, no nesting.
    Envy,
    /// `config::Environment`: prefix, prefix separator, nesting separator.
    Config,
    /// `figment::providers::Env::prefixed(..)` / `Env::raw()`.
    Figment,
}

/// A call that starts reading the environment into a struct.
fn env_source(ctx: &Ctx<'_>, scope: Scope, e: &Expr) -> Option<Source> {
    let (names, _, _) = ctx.ext_call(scope, e)?;
    let n: Vec<&str> = names.iter().map(String::as_str).collect();
    match n.as_slice() {
        ["envy", "from_env" | "prefixed"] => Some(Source::Envy),
        [
            "config",
            ..,
            "Environment",
            "with_prefix" | "default" | "new",
        ] => Some(Source::Config),
        ["figment", .., "Env", "prefixed" | "raw"] => Some(Source::Figment),
        _ => None,
    }
}

/// The variables a struct source reads: one per field of the struct it
/// fills, or the prefix as a pattern when the struct is out of sight.
fn source_reads(ctx: &Ctx<'_>, f: FnId, uses: &Uses<'_>, e: &Expr, src: Source) -> Vec<Read> {
    let scope = ctx.scope(f);
    let Expr::Call { args, line, .. } = e else {
        return Vec::new();
    };
    let chain = uses.chains.get(&addr(e));
    let method_arg = |name: &str| -> Option<String> {
        chain?
            .iter()
            .find(|(_, m, _)| *m == name)
            .and_then(|(_, _, a)| match key_of(ctx, scope, a.first()) {
                Some(Val::Text(t)) => Some(t),
                _ => None,
            })
    };
    let first_arg = match key_of(ctx, scope, args.first()) {
        Some(Val::Text(t)) => Some(t),
        _ => None,
    };
    let is_prefix_call = ctx.ext_call(scope, e).is_some_and(|(n, _, _)| {
        n.last()
            .is_some_and(|l| l == "prefixed" || l == "with_prefix")
    });
    let (prefix, nest, how) = match src {
        Source::Envy => (
            if is_prefix_call {
                first_arg.clone().unwrap_or_default()
            } else {
                String::new()
            },
            None,
            "envy",
        ),
        Source::Config => {
            let sep = method_arg("separator");
            let prefix = if is_prefix_call {
                first_arg.clone().unwrap_or_default()
            } else {
                method_arg("prefix").unwrap_or_default()
            };
            let pre_sep = method_arg("prefix_separator")
                .or_else(|| sep.clone())
                .unwrap_or_else(|| "_".to_owned());
            let prefix = if prefix.is_empty() {
                prefix
            } else {
                format!("{prefix}{pre_sep}")
            };
            (prefix, sep, "config::Environment")
        }
        Source::Figment => (
            if is_prefix_call {
                first_arg.clone().unwrap_or_default()
            } else {
                String::new()
            },
            method_arg("split"),
            "figment::Env",
        ),
    };
    let target = target_struct(ctx, f, uses, e, src);
    let file = ctx.fn_file(f).to_owned();
    let read = |name: String, need: Need| Read {
        name,
        file: file.clone(),
        line: *line,
        how: how.to_owned(),
        need,
        build_time: false,
        subject: Some(Subject::Fn(f)),
        dotenv_file: false,
    };
    let Some(t) = target else {
        if prefix.is_empty() {
            return Vec::new();
        }
        return vec![read(
            format!("{}*", prefix.to_ascii_uppercase()),
            Need::Optional,
        )];
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    fields_as_vars(
        ctx,
        t,
        &prefix,
        nest.as_deref(),
        0,
        &mut seen,
        &mut |name, optional| {
            // config and figment layer the environment over files: every
            // variable is an override.
            let need = if optional || src != Source::Envy {
                Need::Optional
            } else {
                Need::Required
            };
            out.push(read(name, need));
        },
    );
    out
}

/// The workspace struct a source fills: a turbofish on the call that
/// deserializes (`from_env::<T>()`, `try_deserialize::<T>()`,
/// `extract::<T>()`), the type of the `let` it is bound to, or the fn's
/// return type (`Result<T, _>`, `Self`).
fn target_struct(ctx: &Ctx<'_>, f: FnId, uses: &Uses<'_>, e: &Expr, src: Source) -> Option<TypeId> {
    let scope = ctx.scope(f);
    let ws = |t: &Ty| -> Option<TypeId> {
        let Ty::Path(p) = t else { return None };
        let last = p.segments.last()?;
        let id = if matches!(last.name.as_str(), "Result" | "Option" | "Box" | "Arc")
            && let Some(inner) = last.generics.first()
        {
            ctx.workspace_type(scope, type_path(inner)?)?
        } else {
            ctx.workspace_type(scope, p)?
        };
        named_struct(ctx, id).then_some(id)
    };
    // `envy::from_env::<T>()`: the turbofish on the call's path.
    if let Expr::Call { func, .. } = e
        && let Expr::Path { path, .. } = func.peel()
        && let Some(t) = path.segments.last().and_then(|s| s.generics.first())
        && let Some(id) = ws(t)
    {
        return Some(id);
    }
    let deserializers: &[&str] = match src {
        Source::Envy => &["from_env", "from_iter"],
        Source::Config => &["try_deserialize", "try_into", "deserialize", "get"],
        Source::Figment => &["extract", "extract_inner"],
    };
    // A turbofish on the deserializing call, anywhere in the fn.
    let mut found = None;
    let mut roots = Vec::new();
    ctx.walk_body(f, |x| {
        if let Expr::MethodCall {
            method, turbofish, ..
        } = x
            && deserializers.contains(&method.as_str())
        {
            if let Some(t) = turbofish.first().and_then(&ws) {
                found.get_or_insert(t);
            }
            roots.push(addr(chain_root(x)));
        }
    });
    if found.is_some() {
        return found;
    }
    // `let c: T = ...deserialize()?`.
    for r in roots.iter().chain([&addr(e)]) {
        if let Some(t) = uses.let_types.get(r).and_then(|t| ws(t)) {
            return Some(t);
        }
    }
    ctx.defs.fns[f].def.ret.as_ref().and_then(ws)
}

/// A struct with named fields (not a tuple struct, an enum or an alias).
fn named_struct(ctx: &Ctx<'_>, t: TypeId) -> bool {
    let data = &ctx.defs.types[t];
    data.kind == crate::resolve::TypeKind::Struct
        && data
            .fields
            .first()
            .is_some_and(|(n, _)| !n.starts_with(|c: char| c.is_ascii_digit()))
}

fn type_path(t: &Ty) -> Option<&Path> {
    match t {
        Ty::Path(p) => Some(p),
        _ => None,
    }
}

/// Calls `emit(NAME, optional)` for each field of `t` a source sets:
/// `prefix` + the field's name (its serde `rename` when there is one),
/// upper-cased; with a nesting separator, the fields of workspace structs
/// inside, joined by it.
fn fields_as_vars(
    ctx: &Ctx<'_>,
    t: TypeId,
    prefix: &str,
    nest: Option<&str>,
    depth: u32,
    seen: &mut BTreeSet<TypeId>,
    emit: &mut dyn FnMut(String, bool),
) {
    if depth > 4 || !seen.insert(t) {
        return;
    }
    let data = &ctx.defs.types[t];
    let scope = Scope {
        module: data.module,
        fn_: None,
    };
    let attrs: &[(usize, Attr)] = match &data.item.kind {
        ItemKind::Struct { field_attrs, .. } => field_attrs,
        _ => &[],
    };
    for (i, (field, ty)) in data.fields.iter().enumerate() {
        let serde: Vec<&Attr> = attrs
            .iter()
            .filter(|(j, a)| *j == i && a.path.is_ident("serde"))
            .map(|(_, a)| a)
            .collect();
        if serde.iter().any(|a| a.words.iter().any(|w| w == "skip")) {
            continue;
        }
        let name = serde
            .iter()
            .find_map(|a| a.named.iter().find(|(k, _)| k == "rename").map(|(_, v)| v))
            .unwrap_or(field);
        let defaulted = serde.iter().any(|a| {
            a.words.iter().any(|w| w == "default") || a.named.iter().any(|(k, _)| k == "default")
        });
        let (inner, optional) = match ty {
            Ty::Path(p)
                if p.last() == Some("Option")
                    && let Some(g) = p.segments.last().and_then(|s| s.generics.first()) =>
            {
                (g, true)
            }
            other => (other, false),
        };
        let flatten = serde.iter().any(|a| a.words.iter().any(|w| w == "flatten"));
        let nested = type_path(inner).and_then(|p| ctx.workspace_type(scope, p));
        match nested {
            Some(n) if flatten => fields_as_vars(ctx, n, prefix, nest, depth + 1, seen, emit),
            Some(n) if named_struct(ctx, n) => {
                if let Some(sep) = nest {
                    let p = format!("{prefix}{}{sep}", name.to_ascii_uppercase());
                    fields_as_vars(ctx, n, &p, nest, depth + 1, seen, emit);
                }
            }
            _ => emit(
                format!("{prefix}{}", name.to_ascii_uppercase()).to_ascii_uppercase(),
                optional || defaulted,
            ),
        }
    }
    seen.remove(&t);
}

/// Each call of a helper that reads the variable its parameter names
/// (`env_or("PORT", "3000")`) is a read at the call, with the call's
/// arguments; a caller that passes its own parameter is a helper too.
fn follow_forwards(ctx: &Ctx<'_>, mut forwards: Vec<Forward>, reads: &mut Vec<Read>) {
    let mut done: BTreeSet<(FnId, usize)> = BTreeSet::new();
    for _ in 0..4 {
        forwards.retain(|fw| done.insert((fw.f, fw.key)));
        if forwards.is_empty() {
            return;
        }
        let names: BTreeSet<&str> = forwards.iter().map(|fw| ctx.fn_name(fw.f)).collect();
        let by_fn: BTreeMap<FnId, Vec<&Forward>> =
            forwards.iter().fold(BTreeMap::new(), |mut m, fw| {
                m.entry(fw.f).or_insert_with(Vec::new).push(fw);
                m
            });
        let mut next = Vec::new();
        for (caller, _) in ctx.bodies() {
            let file = ctx.fn_file(caller);
            ctx.walk_body(caller, |e| {
                let Expr::Call { func, args, line } = e else {
                    return;
                };
                let Expr::Path { path, .. } = func.peel() else {
                    return;
                };
                if !path.last().is_some_and(|n| names.contains(n)) {
                    return;
                }
                for callee in ctx.defs.resolve_fn_path(caller, path) {
                    for fw in by_fn.get(&callee).into_iter().flatten() {
                        let need = match &fw.need {
                            Need::DefaultParam(j) => {
                                match args.get(*j).map(|a| value_of(ctx, ctx.scope(caller), a, 0)) {
                                    Some(Val::Text(t)) => Need::Default(Some(t)),
                                    Some(Val::Param(k)) => Need::DefaultParam(k),
                                    _ => Need::Default(None),
                                }
                            }
                            n => n.clone(),
                        };
                        match key_of(ctx, ctx.scope(caller), args.get(fw.key)) {
                            Some(Val::Text(name)) => {
                                if fw.build_time && cargo_sets(&name) {
                                    continue;
                                }
                                reads.push(Read {
                                    name,
                                    file: file.to_owned(),
                                    line: *line,
                                    how: format!("{} in `{}`", fw.how, ctx.fn_name(fw.f)),
                                    need: settle(need),
                                    build_time: fw.build_time,
                                    subject: Some(Subject::Fn(caller)),
                                    dotenv_file: false,
                                })
                            }
                            Some(Val::Param(i)) => next.push(Forward {
                                f: caller,
                                key: i,
                                need,
                                how: fw.how.clone(),
                                build_time: fw.build_time,
                            }),
                            _ => {}
                        }
                    }
                }
            });
        }
        forwards = next;
    }
}

/// Struct fields whose attributes read a variable: clap's and structopt's
/// `env`, envconfig's `from`.
fn attr_reads(ctx: &Ctx<'_>, reads: &mut Vec<Read>) {
    for (t, data) in ctx.defs.types.iter().enumerate() {
        let ItemKind::Struct { field_attrs, .. } = &data.item.kind else {
            continue;
        };
        let file = ctx.defs.mods[data.module].file;
        for (i, a) in field_attrs.iter() {
            let Some((field, ty)) = data.fields.get(*i) else {
                continue;
            };
            let named = |k: &str| a.named.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let (name, default, how) = match a.path.last() {
                Some("arg" | "clap" | "structopt") => {
                    let name = match named("env") {
                        Some(n) => n,
                        None if a.words.iter().any(|w| w == "env") => field.to_ascii_uppercase(),
                        None => continue,
                    };
                    let default = named("default_value")
                        .or_else(|| named("default_value_t"))
                        .or_else(|| named("default_value_os_t"));
                    (name, default, "clap")
                }
                Some("envconfig") => {
                    let Some(name) = named("from") else { continue };
                    (name, named("default"), "envconfig")
                }
                _ => continue,
            };
            let optional = match ty {
                Ty::Path(p) => matches!(p.last(), Some("Option" | "bool" | "Vec")),
                _ => false,
            };
            let need = match default {
                Some(d) => Need::Default(Some(d.trim_matches('"').to_owned())),
                None if optional => Need::Optional,
                None => Need::Required,
            };
            reads.push(Read {
                name,
                file: file.to_owned(),
                line: a.line,
                how: format!("{how} `{}::{field}`", data.name),
                need,
                build_time: false,
                subject: Some(Subject::Type(t)),
                dotenv_file: false,
            });
        }
    }
}

/// Example files: they document the environment the app expects.
fn example_file(name: &str) -> bool {
    matches!(
        name,
        ".env.example" | ".env.sample" | ".env.template" | ".env.dist" | ".env.defaults"
    )
}

/// The variables environment files set: dotenv files (a `.env` or a file a
/// `from_filename` names when the app loads one; example files always) and
/// `.cargo/config.toml [env]`.
fn file_reads(files: &[EnvFile], dotenv: &[(Subject, Option<String>)], reads: &mut Vec<Read>) {
    let named: BTreeSet<&str> = dotenv.iter().filter_map(|(_, n)| n.as_deref()).collect();
    for file in files {
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        if name == "config.toml" || name == "config" {
            cargo_env(file, reads);
            continue;
        }
        let example = example_file(name);
        let loaded = name == ".env" || named.contains(name);
        if !example && !loaded {
            continue;
        }
        for (line, key, value) in dotenv_lines(&file.text) {
            reads.push(Read {
                name: key,
                file: file.path.clone(),
                line,
                how: name.to_owned(),
                need: if value.is_empty() {
                    Need::Required
                } else {
                    Need::Default(Some(value))
                },
                build_time: false,
                subject: None,
                dotenv_file: !example,
            });
        }
    }
}

/// `KEY=value` lines of a dotenv file (`export` allowed, comments and
/// quotes stripped), with their line numbers.
fn dotenv_lines(text: &str) -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let ok = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
        if !ok {
            continue;
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_owned(),
            _ => value.split(" #").next().unwrap_or("").trim_end().to_owned(),
        };
        out.push((i as u32 + 1, key.to_owned(), value));
    }
    out
}

/// `[env]` of a `.cargo/config.toml`: `X = "v"` or `X = { value = "v", .. }`.
fn cargo_env(file: &EnvFile, reads: &mut Vec<Read>) {
    let Ok(doc) = file.text.parse::<toml_edit::Document<String>>() else {
        return;
    };
    let Some(env) = doc.get("env").and_then(|e| e.as_table_like()) else {
        return;
    };
    let line_of = |offset: usize| {
        1 + file.text[..offset.min(file.text.len())]
            .matches('\n')
            .count() as u32
    };
    for (key, item) in env.iter() {
        let value = item.as_str().map(str::to_owned).or_else(|| {
            item.as_table_like()
                .and_then(|t| t.get("value"))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        });
        let line = env
            .key(key)
            .and_then(|k| k.span())
            .map(|s| line_of(s.start))
            .unwrap_or(1);
        reads.push(Read {
            name: key.to_owned(),
            file: file.path.clone(),
            line,
            how: "[env] in .cargo/config.toml".to_owned(),
            need: match value {
                Some(v) => Need::Default(Some(v)),
                None => Need::Default(None),
            },
            build_time: false,
            subject: None,
            dotenv_file: false,
        });
    }
}

/// Where a read runs, as the hazards' reach sees it: `None` when the
/// served app never runs it; else the routes that reach it and whether the
/// start-up of the serving binary does.
pub(crate) type Reached<'r> = dyn Fn(&Subject) -> Option<(Vec<String>, bool)> + 'r;

/// The variables, each read tied to the routes that run it; reads in code
/// the served app never runs are left out. Sorted by name.
pub(crate) fn tie(found: Found, reached: &Reached<'_>) -> Vec<EnvVar> {
    let loaded = found.dotenv.iter().any(|(s, _)| reached(s).is_some());
    let mut by_name: BTreeMap<String, Vec<(Read, Vec<String>, bool)>> = BTreeMap::new();
    for r in found.reads {
        if r.dotenv_file && !loaded {
            continue;
        }
        let (routes, startup) = match &r.subject {
            Some(s) => match reached(s) {
                Some(x) => x,
                None => continue,
            },
            None => (Vec::new(), true),
        };
        by_name
            .entry(r.name.clone())
            .or_default()
            .push((r, routes, startup));
    }
    by_name
        .into_iter()
        .map(|(name, mut reads)| {
            reads.sort_by(|a, b| {
                (&a.0.file, a.0.line, &a.0.how).cmp(&(&b.0.file, b.0.line, &b.0.how))
            });
            let in_code: Vec<&Read> = reads
                .iter()
                .map(|(r, _, _)| r)
                .filter(|r| r.subject.is_some())
                .collect();
            // The code decides; files only for what no code shows.
            let deciding: Vec<&Read> = if in_code.is_empty() {
                reads.iter().map(|(r, _, _)| r).collect()
            } else {
                in_code.clone()
            };
            let required = deciding.iter().any(|r| r.need == Need::Required);
            let default = if required {
                None
            } else {
                deciding.iter().find_map(|r| match &r.need {
                    Need::Default(Some(v)) => Some(v.clone()),
                    _ => None,
                })
            };
            let build_time = !in_code.is_empty() && in_code.iter().all(|r| r.build_time);
            let mut entrypoints: Vec<String> = reads
                .iter()
                .flat_map(|(_, e, _)| e.iter().cloned())
                .collect();
            entrypoints.sort();
            entrypoints.dedup();
            let startup = reads.iter().any(|(_, _, s)| *s);
            let mut sites: Vec<EnvRead> = reads
                .iter()
                .map(|(r, _, _)| EnvRead {
                    file: r.file.clone(),
                    line: r.line,
                    how: r.how.clone(),
                })
                .collect();
            sites.sort();
            sites.dedup();
            EnvVar {
                secret: secret_looking(&name),
                name,
                required,
                default,
                build_time,
                reads: sites,
                entrypoints,
                startup,
            }
        })
        .collect()
}
