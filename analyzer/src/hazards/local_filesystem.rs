//! ### What it does
//! Finds use of the local disk as storage: writes (`std::fs`/`tokio::fs`/
//! `async_std::fs` `write`, `create_dir_all`, `remove_file`, `rename`, `copy`,
//! ..., `File::create`, `OpenOptions` opened to write, create or append,
//! Rocket's `TempFile::persist_to`), unless the path is under `/tmp` or
//! `temp_dir()`; storage abstractions set up on their local-disk backend
//! (opendal's `services::Fs`, object_store's `LocalFileSystem`) and writes
//! through an opendal `Operator` a workspace fn building the `Fs` backend
//! hands out (`operator.write(..)`, `writer_with(..)`, `delete(..)`); reads of files named by a relative path
//! (`fs::read_to_string("config.toml")`, `File::open("data/x.json")`,
//! `ServeDir::new("static")`, `FileServer::from("static")`,
//! `NamedFile::open("..")`, `Files::new("/", "./public")`, `Tera::new(..)`,
//! `FileServer::from(relative!(..))`, openssl's `set_certificate_chain_file("cert.pem")`),
//! the path written out or built from a relative one (a local, a const,
//! `PathBuf::from(dir).join("index.html")`, `env::current_dir()?.join("config")`,
//! `format!("static/{name}")`, the
//! default of `env::var("DIR").unwrap_or_else(|_| "web/dist".into())`);
//! configuration files the `config` crate looks up in the working directory
//! (`config::File::with_name("configuration")`, `File::from(path)`, unless
//! `.required(false)`); and SQLite databases in a file (`"sqlite:shop.db"`,
//! `Connection::open("app.db")`), also when only a field's attributes name
//! it as the default (clap's `#[arg(default_value = "sqlite:app.db")]`,
//! a builder's `#[builder(default = r#"Url::from("sqlite://app.db")"#)]`,
//! serde's `#[serde(default = "default_url")]` and that fn's literal).
//!
//! ### Why is this bad on Lambda
//! The deployment package (`/var/task`) is read-only and holds only the
//! binary: files next to the source are not there. Only `/tmp` is writable,
//! it is private to one instance, limited in size and wiped when the
//! instance is recycled. An uploaded file written by one instance cannot be
//! read by the next request on another; a SQLite file becomes one private
//! database per instance.
//!
//! ### Example
//! ```text
//! tokio::fs::write(config.upload_dir.join(name), bytes).await?;
//! let pool = SqlitePool::connect("sqlite:shop.db?mode=rwc").await?;
//! Router::new().nest_service("/static", ServeDir::new("static"));
//! ```
//!
//! ### Use instead
//! Store files in S3 (serve them through CloudFront or presigned URLs), data
//! in a shared database (RDS, Aurora Serverless, DynamoDB); embed small
//! read-only assets in the binary (`include_str!`, `include_dir`, `rust-embed`)
//! or ship them in a Lambda layer; use `/tmp` only for scratch space.

use std::collections::BTreeSet;
use std::fmt;

use super::{Ctx, Finding, Lint, Scope, Subject, bound_name, chain_root, ends, mentions_any};
use crate::diagnostic::Severity;
use crate::resolve::Def;
use crate::resolve::FnId;
use crate::syntax::{Expr, ItemKind, Lit, Stmt};

pub(crate) static LINT: Lint = Lint {
    code: "local-filesystem",
    // Writes outside /tmp fail (read-only file system); relative files are not deployed.
    severity: Severity::Error,
    summary: "files written to or read from the local disk; Lambda's disk is read-only except \
              a private /tmp",
    advice: "Keep files in S3 and data in a shared database; embed read-only assets in the binary \
             (include_str!, rust-embed) or a layer; use /tmp only for scratch space.",
    check,
};

/// `std::fs`/`tokio::fs` functions that change the disk.
const FS_WRITES: &[&str] = &[
    "write",
    "create_dir",
    "create_dir_all",
    "remove_file",
    "remove_dir",
    "remove_dir_all",
    "rename",
    "copy",
    "hard_link",
    "set_permissions",
    "symlink",
];

/// Functions whose first argument is a path read from disk.
const READS: &[&[&str]] = &[
    &["fs", "read"],
    &["fs", "read_to_string"],
    &["fs", "read_dir"],
    &["File", "open"],
    &["ServeDir", "new"],
    &["ServeFile", "new"],
    &["FileServer", "from"],
    &["FileServer", "new"],
    &["NamedFile", "open"],
    &["NamedFile", "open_async"],
    &["Tera", "new"],
    &["Connection", "open"],
    &["sled", "open"],
];

/// Methods whose first argument is a file read from disk: openssl's
/// `SslAcceptorBuilder` (TLS keys and certificates).
const METHOD_READS: &[&str] = &[
    "set_private_key_file",
    "set_certificate_chain_file",
    "set_certificate_file",
    "set_ca_file",
];

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    let operators = local_operator_fns(ctx);
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let name = ctx.fn_name(f);
        operator_writes(ctx, f, &operators, out);
        let temps = temp_locals(ctx, f);
        // `File::with_name("local").required(false)`: a config file that may be missing.
        let mut optional: BTreeSet<*const Expr> = BTreeSet::new();
        ctx.walk_body(f, |e| {
            if let Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } = e
                && method == "required"
                && matches!(
                    args.first(),
                    Some(Expr::Lit {
                        lit: Lit::Bool(false),
                        ..
                    })
                )
            {
                optional.insert(receiver.peel() as *const Expr);
            }
        });
        let cx = Reads {
            ctx,
            scope,
            name,
            temps: &temps,
            optional: &optional,
        };
        ctx.walk_body(f, |e| {
            if let Some(message) = cx.call_message(e) {
                let line = e.line().unwrap_or(ctx.defs.fns[f].line);
                out.push(Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message));
            }
            // `"sqlite:shop.db?mode=rwc"`, `"sqlite://data/app.db"`.
            if let Expr::Lit {
                lit: Lit::Str(s),
                line,
            } = e
                && let Some(path) = sqlite_file(s)
            {
                let message = format!(
                    "`{name}` names a SQLite database file (`{path}`): on Lambda each instance \
                     gets its own private copy (in /tmp at best; the package directory is \
                     read-only), so data is neither shared nor kept"
                );
                out.push(Finding::new(ctx.fn_file(f), *line, Subject::Fn(f), message).advice(
                    "Use a shared database (RDS/Aurora Serverless through RDS Proxy, or DynamoDB); \
                     SQLite fits only read-only data shipped with the function.",
                ));
            }
        });
    }
    // `const DATABASE_URL: &str = "sqlite:app.db";`
    for s in &ctx.statics {
        s.init.walk(&mut |e| {
            if let Expr::Lit {
                lit: Lit::Str(text),
                line,
            } = e
                && let Some(path) = sqlite_file(text)
            {
                let message = format!(
                    "`{}` names a SQLite database file (`{path}`): on Lambda each instance gets \
                     its own private copy, so data is neither shared nor kept",
                    s.item.name
                );
                out.push(Finding::new(s.file, *line, s.subject.clone(), message));
            }
        });
    }
    field_defaults(ctx, out);
}

/// Methods of an opendal `Operator` that change what it stores.
const OPERATOR_WRITES: &[&str] = &[
    "write",
    "write_with",
    "writer",
    "writer_with",
    "delete",
    "delete_with",
    "remove_all",
    "copy",
    "rename",
    "create_dir",
];

/// Fns that hand out an opendal `Operator` on the local disk: one that
/// builds an `Fs` backend and returns the operator, or returns what such a
/// fn gives (`Config::operator_for_path_type` over `storage::operator_for_path`),
/// a few fns deep.
fn local_operator_fns(ctx: &Ctx<'_>) -> BTreeSet<FnId> {
    let returns_operator = |f: FnId| {
        ctx.defs.fns[f]
            .def
            .ret
            .as_ref()
            .is_some_and(|t| crate::syntax::ty_text(t).contains("Operator"))
    };
    let mut found: BTreeSet<FnId> = BTreeSet::new();
    for (f, _) in ctx.bodies() {
        if !returns_operator(f) {
            continue;
        }
        let scope = ctx.scope(f);
        let mut builds = false;
        ctx.walk_body(f, |e| {
            if let Some((names, _, _)) = ctx.ext_call(scope, e)
                && mentions_any(&names, &["opendal"])
                && names.iter().any(|n| n == "Fs")
            {
                builds = true;
            }
        });
        if builds {
            found.insert(f);
        }
    }
    for _ in 0..3 {
        let more: Vec<FnId> = ctx
            .bodies()
            .map(|(f, _)| f)
            .filter(|f| !found.contains(f) && returns_operator(*f))
            .filter(|&f| {
                let mut calls = false;
                ctx.walk_body(f, |e| calls |= calls_one_of(ctx, f, e, &found));
                calls
            })
            .collect();
        if more.is_empty() {
            break;
        }
        found.extend(more);
    }
    found
}

/// Whether `e` (in fn `f`) calls one of `fns`: a path call that resolves
/// to one, or a method call of one's name (its receiver's type may be one
/// cleave cannot see, such as a struct a macro generates).
fn calls_one_of(ctx: &Ctx<'_>, f: FnId, e: &Expr, fns: &BTreeSet<FnId>) -> bool {
    match e {
        Expr::Call { func, .. } => match func.peel() {
            Expr::Path { path, .. } => ctx
                .defs
                .resolve_fn_path(f, path)
                .iter()
                .any(|g| fns.contains(g)),
            _ => false,
        },
        Expr::MethodCall { method, .. } => ctx
            .defs
            .methods_named(method)
            .iter()
            .any(|g| fns.contains(g)),
        _ => false,
    }
}

/// `let operator = CONFIG.operator_for_path_type(..)?; operator.write(..)`
/// where the operator comes from one of `operators`: a write to the local disk.
fn operator_writes(ctx: &Ctx<'_>, f: FnId, operators: &BTreeSet<FnId>, out: &mut Vec<Finding>) {
    if operators.is_empty() {
        return;
    }
    let mut locals: Vec<&str> = Vec::new();
    for b in ctx.body_blocks(f) {
        for s in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = s
                && let Some(n) = bound_name(pat)
            {
                let mut from = false;
                init.walk(&mut |e| from |= calls_one_of(ctx, f, e, operators));
                if from {
                    locals.push(n);
                }
            }
        }
    }
    if locals.is_empty() {
        return;
    }
    let name = ctx.fn_name(f);
    ctx.walk_body(f, |e| {
        if let Expr::MethodCall {
            receiver,
            method,
            line,
            ..
        } = e
            && OPERATOR_WRITES.contains(&method.as_str())
            && let Expr::Path { path, .. } = receiver.peel()
            && path.segments.len() == 1
            && locals.contains(&path.segments[0].name.as_str())
        {
            let message = format!(
                "`{name}` writes to the local disk through a storage operator on opendal's `Fs` \
                 backend (`.{method}(..)`): outside /tmp Lambda's disk is read-only, and /tmp is \
                 private to one instance and wiped when it is recycled"
            );
            out.push(Finding::new(ctx.fn_file(f), *line, Subject::Fn(f), message));
        }
    });
}

/// SQLite files a struct field defaults to by its attributes: clap's and
/// structopt's `default_value`/`default_value_t`, a builder's `default =
/// ".."` (code in a string), serde's `default = "path::to_fn"` (a literal
/// of that fn). The finding is the struct's: the fn building it (`Cli::parse()`,
/// `Config::builder()`) is what reaches it, and nothing calls a serde default fn by name.
fn field_defaults(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (t, data) in ctx.defs.types.iter().enumerate() {
        let ItemKind::Struct { field_attrs, .. } = &data.item.kind else {
            continue;
        };
        let file = ctx.defs.mods[data.module].file;
        for (i, a) in field_attrs.iter() {
            let field = data.fields.get(*i).map_or("", |(n, _)| n.as_str());
            let env = a
                .named
                .iter()
                .find(|(k, _)| k == "env")
                .map(|(_, v)| v.as_str());
            for (key, value) in &a.named {
                if !key.starts_with("default") {
                    continue;
                }
                // serde's `default = "fn"`: the SQLite literals that fn returns.
                let sites: Vec<(String, u32)> = if a.path.is_ident("serde") {
                    let names: Vec<&str> = value.split("::").collect();
                    ctx.defs
                        .resolve_names(data.module, &names, false)
                        .into_iter()
                        .filter_map(|d| match d {
                            Def::Fn(f) => Some(f),
                            _ => None,
                        })
                        .flat_map(|f| {
                            let mut lits = Vec::new();
                            ctx.walk_body(f, |e| {
                                if let Expr::Lit {
                                    lit: Lit::Str(s),
                                    line,
                                } = e
                                    && let Some(path) = sqlite_file(s)
                                {
                                    lits.push((path.to_owned(), *line));
                                }
                            });
                            lits
                        })
                        .collect()
                } else {
                    sqlite_in(value)
                        .map(|path| (path.to_owned(), a.line))
                        .into_iter()
                        .collect()
                };
                for (path, line) in sites {
                    let unset = env
                        .map(|v| format!(" when `{v}` is unset"))
                        .unwrap_or_default();
                    let message = format!(
                        "`{}.{field}` defaults to a SQLite database file (`{path}`){unset}: on \
                         Lambda each instance gets its own private copy (in /tmp at best; the \
                         package directory is read-only), so data is neither shared nor kept",
                        data.name
                    );
                    out.push(Finding::new(file, line, Subject::Type(t), message).advice(
                        "Use a shared database (RDS/Aurora Serverless through RDS Proxy, or \
                         DynamoDB) and set its URL in the function's environment; SQLite fits \
                         only read-only data shipped with the function.",
                    ));
                }
            }
        }
    }
}

/// The file of a `sqlite:` URL written somewhere inside `text` (an
/// attribute's value, which may be code: `Url::from("sqlite://app.db")`).
fn sqlite_in(text: &str) -> Option<&str> {
    let start = text.to_ascii_lowercase().find("sqlite:")?;
    let rest = text.get(start..)?;
    let end = rest
        .find(|c: char| c == '"' || c == '\'' || c.is_whitespace())
        .unwrap_or(rest.len());
    sqlite_file(rest.get(..end)?)
}

/// What [`Reads::call_message`] reads in one fn.
struct Reads<'c, 'a> {
    ctx: &'c Ctx<'a>,
    scope: Scope,
    name: &'a str,
    temps: &'c BTreeSet<&'a str>,
    optional: &'c BTreeSet<*const Expr>,
}

impl Reads<'_, '_> {
    fn call_message(&self, e: &Expr) -> Option<String> {
        let (ctx, scope, name) = (self.ctx, self.scope, self.name);
        let temp = |a: &Expr| is_temp(a, self.temps);
        match e {
            Expr::Call { .. } => {
                let (names, args, _) = ctx.ext_call(scope, e)?;
                let called = names.join("::");
                let last = names.last()?.as_str();
                let fs_write = names.len() >= 2
                    && names[names.len() - 2] == "fs"
                    && FS_WRITES.contains(&last)
                    && !mentions_any(&names, &["tempfile"]);
                // `fs::write(path, ..)`, `tokio::fs::create_dir_all(dir)`, `File::create(path)`.
                if fs_write
                    || ends(&names, &["File", "create"])
                    || ends(&names, &["File", "create_new"])
                {
                    if args.iter().any(temp) {
                        return None;
                    }
                    return Some(format!(
                        "`{name}` writes to the local disk (`{called}`): outside /tmp Lambda's \
                         disk is read-only, and /tmp is private to one instance and wiped when it \
                         is recycled"
                    ));
                }
                // A storage abstraction's local-disk backend: opendal's
                // `services::Fs`, object_store's `LocalFileSystem`.
                let local_backend = (mentions_any(&names, &["opendal"])
                    && names.iter().any(|n| n == "Fs"))
                    || names.iter().any(|n| n == "LocalFileSystem");
                if local_backend {
                    return Some(format!(
                        "`{name}` stores files on the local disk through a storage backend \
                         (`{called}`): outside /tmp Lambda's disk is read-only, and /tmp is \
                         private to one instance and wiped when it is recycled"
                    ));
                }
                // `config::File::with_name("configuration")`, `config::File::from(path)`.
                let config_file = ends(&names, &["File", "with_name"])
                    || (names.first().is_some_and(|n| n == "config")
                        && (ends(&names, &["File", "from"]) || ends(&names, &["File", "new"])));
                if config_file {
                    if self.optional.contains(&(e as *const Expr)) {
                        return None;
                    }
                    let path = self.packaged_path(args.first()?, 0)?;
                    return Some(format!(
                        "`{name}` reads its configuration from {path} relative to the working \
                         directory (`{called}`): only the binary is deployed to Lambda, the file \
                         is not there"
                    ));
                }
                // `ServeDir::new("static")`, `fs::read_to_string("config.toml")`, `Files::new("/", "./public")`.
                let read = READS.iter().any(|tail| ends(&names, tail));
                let files = ends(&names, &["Files", "new"]);
                if read || files {
                    let arg = if files { args.get(1) } else { args.first() }?;
                    let path = self.packaged_path(arg, 0)?;
                    return Some(format!(
                        "`{name}` reads {path} relative to the working directory (`{called}`): \
                         only the binary is deployed to Lambda, files beside the source are not \
                         there"
                    ));
                }
                None
            }
            Expr::MethodCall { method, args, .. } => {
                // `OpenOptions::new().append(true).create(true).open(path)`.
                if method == "open"
                    && opens_to_write(e)
                    && let Some((root, _, _)) = ctx.ext_call(scope, chain_root(e))
                    && ends(&root, &["OpenOptions", "new"])
                {
                    if args.iter().any(temp) {
                        return None;
                    }
                    return Some(format!(
                        "`{name}` opens a file for writing (`OpenOptions`): outside /tmp Lambda's \
                         disk is read-only, and /tmp is private to one instance"
                    ));
                }
                // Rocket `TempFile::persist_to(path)` / `move_copy_to(path)`: moves an upload to disk.
                if matches!(method.as_str(), "persist_to" | "move_copy_to")
                    && !args.iter().any(temp)
                {
                    return Some(format!(
                        "`{name}` saves an upload to the local disk (`.{method}(..)`): /tmp is \
                         private to one instance and wiped when it is recycled"
                    ));
                }
                // `builder.set_certificate_chain_file("cert.pem")`.
                if METHOD_READS.contains(&method.as_str()) {
                    let path = self.packaged_path(args.first()?, 0)?;
                    return Some(format!(
                        "`{name}` reads {path} relative to the working directory \
                         (`.{method}(..)`): only the binary is deployed to Lambda, files beside \
                         the source are not there"
                    ));
                }
                None
            }
            _ => None,
        }
    }

    /// The relative path a read names, when the code spells it out: a
    /// literal (`"static"`), `Path::new("data/x.json")`, `relative!("static")`,
    /// a local or const holding one, a `join` onto one
    /// (`PathBuf::from(&dir).join("index.html")`), a `format!` starting with
    /// one, or the default of an environment variable
    /// (`env::var("DIR").unwrap_or_else(|_| "web/dist".to_string())`).
    fn packaged_path(&self, arg: &Expr, depth: u32) -> Option<Rel> {
        if depth > 8 {
            return None;
        }
        let (ctx, scope) = (self.ctx, self.scope);
        match arg.peel() {
            Expr::Lit {
                lit: Lit::Str(s), ..
            } => (!s.is_empty() && !s.starts_with('/') && !s.contains("://"))
                .then(|| Rel::new(s.clone())),
            // Rocket's `relative!("static")`: an absolute path on the build machine.
            Expr::Macro { path, args, .. } if path.last() == Some("relative") => {
                let inner = args.first().and_then(Expr::as_str).unwrap_or("..");
                Some(Rel::new(format!("relative!(\"{inner}\")")))
            }
            // `format!("static/{name}")`, `format!("{}/index.html", dir)`.
            Expr::Macro { path, args, .. } if path.last() == Some("format") => {
                let template = args.first()?.as_str()?;
                match template.strip_prefix('{') {
                    None => self.packaged_path(args.first()?, depth + 1),
                    Some(rest) => {
                        let (hole, rest) = rest.split_once('}')?;
                        let base = match hole.split(':').next().unwrap_or("") {
                            "" | "0" => args.get(1)?,
                            _ => return None,
                        };
                        let mut base = self.packaged_path(base, depth + 1)?;
                        base.path.push_str(rest);
                        Some(base)
                    }
                }
            }
            // `Path::new("x")`, `PathBuf::from("x")`.
            Expr::Call { args, .. } => {
                let (names, _, _) = ctx.ext_call(scope, arg.peel())?;
                if ends(&names, &["Path", "new"]) || ends(&names, &["PathBuf", "from"]) {
                    self.packaged_path(args.first()?, depth + 1)
                } else if ends(&names, &["env", "current_dir"]) {
                    // `env::current_dir()?.join("config")`: the working directory.
                    Some(Rel::new("$PWD".to_owned()))
                } else {
                    None
                }
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } => match method.as_str() {
                // `dir.join("index.html")`: a path under a relative directory.
                "join" => {
                    let mut base = self.packaged_path(receiver, depth + 1)?;
                    let tail = args.first().and_then(Expr::as_str).unwrap_or("..");
                    if tail.starts_with('/') {
                        return None;
                    }
                    base.path = format!("{}/{tail}", base.path.trim_end_matches('/'));
                    Some(base)
                }
                "to_string" | "to_owned" | "into" | "as_str" | "as_ref" | "clone" | "trim"
                | "as_path" | "to_path_buf" | "into_os_string" | "expect" | "unwrap" => {
                    self.packaged_path(receiver, depth + 1)
                }
                // `env::var("WEB_DIST_DIR").unwrap_or_else(|_| "web/dist".to_string())`.
                "unwrap_or" | "unwrap_or_else" => {
                    let default = match args.first()?.peel() {
                        Expr::Closure { body, .. } => body,
                        other => other,
                    };
                    let mut path = self.packaged_path(default, depth + 1)?;
                    path.env = path.env.or_else(|| env_var(ctx, scope, receiver));
                    Some(path)
                }
                _ => None,
            },
            // A local or a const holding a relative path.
            Expr::Path { path, .. } => {
                if let Some(s) = ctx.const_named(scope, path) {
                    return self.packaged_path(s.init, depth + 1);
                }
                let local = path.segments.len() == 1 && !path.leading_colon;
                let f = scope.fn_.filter(|_| local)?;
                let var = path.last()?;
                if ctx.defs.fns[f]
                    .def
                    .params
                    .iter()
                    .any(|(p, _)| bound_name(p) == Some(var))
                {
                    return None;
                }
                let init = ctx
                    .body_blocks(f)
                    .iter()
                    .flat_map(|b| b.stmts.iter())
                    .filter_map(|s| match s {
                        Stmt::Let {
                            pat,
                            init: Some(init),
                            ..
                        } if bound_name(pat) == Some(var) => Some(init),
                        _ => None,
                    })
                    .next_back()?;
                self.packaged_path(init, depth + 1)
            }
            Expr::Block { block, .. } => self.packaged_path(block.tail()?, depth + 1),
            _ => None,
        }
    }
}

/// A relative path a read names, and the environment variable it is the
/// default of, if any.
#[derive(Debug)]
struct Rel {
    path: String,
    env: Option<String>,
}

impl Rel {
    fn new(path: String) -> Self {
        Rel { path, env: None }
    }
}

impl fmt::Display for Rel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.path)?;
        if let Some(var) = &self.env {
            write!(f, " (the default when `{var}` is unset)")?;
        }
        Ok(())
    }
}

/// The variable read by `std::env::var("NAME")` (through `.ok()` and the like).
fn env_var(ctx: &Ctx<'_>, scope: Scope, e: &Expr) -> Option<String> {
    match e.peel() {
        Expr::MethodCall { receiver, .. } => env_var(ctx, scope, receiver),
        Expr::Call { args, .. } => {
            let (names, _, _) = ctx.ext_call(scope, e.peel())?;
            (ends(&names, &["env", "var"]) || ends(&names, &["env", "var_os"]))
                .then(|| args.first()?.as_str().map(str::to_owned))
                .flatten()
        }
        _ => None,
    }
}

/// Whether an `OpenOptions` chain asks for writing.
fn opens_to_write(e: &Expr) -> bool {
    let mut cur = e;
    while let Expr::MethodCall {
        receiver, method, ..
    } = cur.peel()
    {
        if matches!(
            method.as_str(),
            "write" | "append" | "create" | "create_new" | "truncate"
        ) {
            return true;
        }
        cur = receiver;
    }
    false
}

/// Locals holding a path under `/tmp`: `let dir = std::env::temp_dir().join("x")`.
fn temp_locals<'a>(ctx: &Ctx<'a>, f: FnId) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for b in ctx.body_blocks(f) {
        for s in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = s
                && let Some(n) = bound_name(pat)
                && is_temp(init, &out)
            {
                out.insert(n);
            }
        }
    }
    out
}

/// A path under `/tmp` or `std::env::temp_dir()`, or a local holding one.
fn is_temp(e: &Expr, temps: &BTreeSet<&str>) -> bool {
    let mut temp = false;
    e.walk(&mut |x| match x {
        Expr::Lit {
            lit: Lit::Str(s), ..
        } if s.starts_with("/tmp") => temp = true,
        Expr::Path { path, .. }
            if path.segments.len() == 1 && path.last().is_some_and(|n| temps.contains(n)) =>
        {
            temp = true
        }
        Expr::Path { path, .. } if path.last() == Some("temp_dir") => temp = true,
        Expr::MethodCall { method, .. } if method == "temp_dir" => temp = true,
        _ => {}
    });
    temp
}

/// The file of a `sqlite:` URL, unless it is in memory or under /tmp.
fn sqlite_file(s: &str) -> Option<&str> {
    let lower = s.to_ascii_lowercase();
    if !lower.starts_with("sqlite:") {
        return None;
    }
    let rest = s.get("sqlite:".len()..)?;
    let rest = rest.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty()
        || path.contains(":memory:")
        || lower.contains("mode=memory")
        || path.starts_with("/tmp")
    {
        return None;
    }
    Some(path)
}
