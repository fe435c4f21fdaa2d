//! Startup: how each binary of the workspace starts the service — the
//! statements of its `main` and what each does (spawns a worker, binds a
//! listener, serves the app), by line. Codegen turns this into a function's
//! `main`: the same start-up minus the server wiring.
//!
//! Input is the [`DefMap`] and the detected workers; output is plain data
//! with line ranges. Knows nothing of Lambda.

use serde::Serialize;

use crate::entrypoints::{EntryKind, EntryPoint};
use crate::load::TargetKind;
use crate::resolve::DefMap;
use crate::syntax::{Expr, ItemKind, Stmt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StmtKind {
    /// Starts a worker that outlives requests (`tokio::spawn`, `rt::spawn`).
    Spawn,
    /// Binds a listening socket (`TcpListener::bind`).
    Listen,
    /// Serves the app (`axum::serve`, `HttpServer::run`, `launch`).
    Serve,
    Other,
}

#[derive(Debug, Clone, Serialize)]
pub struct MainStmt {
    pub start: u32,
    pub end: u32,
    pub kind: StmtKind,
    /// The block's tail expression (no `;`).
    pub tail: bool,
    /// Names the statement binds with `let` (`listener`).
    pub binds: Vec<String>,
}

/// A binary target's `main`.
#[derive(Debug, Clone, Serialize)]
pub struct BinMain {
    /// The bin's crate name (`-` as `_`) and target name as Cargo knows it.
    pub krate: String,
    pub package: String,
    /// Package directory relative to the root (`""` for the root).
    pub package_dir: String,
    /// The file holding `main`, relative to the root.
    pub file: String,
    /// Every file of the bin's own module tree (main's file included).
    pub files: Vec<String>,
    /// First line of `fn main` (its signature) and last line.
    pub line: u32,
    pub end_line: u32,
    pub is_async: bool,
    pub returns: bool,
    pub stmts: Vec<MainStmt>,
    /// Set when the binary has no `main` but a rocket `#[launch]` fn, which
    /// rocket's macro turns into `main`; `line`..`end_line` are that fn's.
    pub launch: Option<Launch>,
    /// Set when `main` serves no app itself but calls a workspace fn that
    /// does (`run(listener)?.await`, `http::serve(config, db).await?`).
    pub serve_site: Option<ServeSite>,
}

/// A fn other than `main` whose body serves the app.
#[derive(Debug, Clone, Serialize)]
pub struct ServeSite {
    /// The crate it is in (`-` as `_`), and whether that is a library.
    pub krate: String,
    pub in_lib: bool,
    pub fn_name: String,
    pub file: String,
    /// First line of the fn's signature, and last line.
    pub line: u32,
    pub end_line: u32,
    pub stmts: Vec<MainStmt>,
}

/// A rocket `#[launch] fn NAME() -> _ { .. }`.
#[derive(Debug, Clone, Serialize)]
pub struct Launch {
    pub name: String,
    /// Line of the `#[launch]` attribute.
    pub attr_line: u32,
}

/// The `main` of every bin crate, sorted by package and crate.
pub fn bin_mains(defs: &DefMap<'_>, entrypoints: &[EntryPoint]) -> Vec<BinMain> {
    let project = defs.project;
    let mut out = Vec::new();
    for (ci, krate) in project.crates.iter().enumerate() {
        if krate.kind != TargetKind::Bin {
            continue;
        }
        let Some(root) = krate.modules.iter().find(|m| m.path.is_empty()) else {
            continue;
        };
        let is_fn = |i: &&crate::syntax::Item| matches!(i.kind, ItemKind::Fn(_));
        let launch_attr = |i: &crate::syntax::Item| {
            i.attrs
                .iter()
                .find(|a| a.path.last() == Some("launch") && a.path.segments.len() <= 2)
                .map(|a| a.line)
        };
        let (main, launch) = match root.items.iter().filter(is_fn).find(|i| i.name == "main") {
            Some(main) => (main, None),
            None => match root
                .items
                .iter()
                .filter(is_fn)
                .find_map(|i| launch_attr(i).map(|line| (i, line)))
            {
                Some((f, attr_line)) => (
                    f,
                    Some(Launch {
                        name: f.name.clone(),
                        attr_line,
                    }),
                ),
                None => continue,
            },
        };
        let ItemKind::Fn(def) = &main.kind else {
            continue;
        };
        let spawn_lines: Vec<u32> = entrypoints
            .iter()
            .filter(|e| e.kind != EntryKind::Http && e.registered.file == root.file)
            .map(|e| e.registered.line)
            .collect();
        let mut stmts = Vec::new();
        if let Some(body) = &def.body {
            let n = body.stmts.len();
            for (i, (s, (start, end))) in body.stmts.iter().zip(&body.lines).enumerate() {
                let kind = if spawn_lines.iter().any(|l| (start..=end).contains(&l)) {
                    StmtKind::Spawn
                } else {
                    classify(s)
                };
                let binds = match s {
                    Stmt::Let { pat, .. } => pat_names(pat),
                    _ => Vec::new(),
                };
                stmts.push(MainStmt {
                    start: *start,
                    end: *end,
                    kind,
                    tail: i + 1 == n && matches!(s, Stmt::Expr(_)),
                    binds,
                });
            }
        }
        let package = &project.packages[krate.package];
        let _ = ci;
        let mut files: Vec<String> = krate.modules.iter().map(|m| m.file.clone()).collect();
        files.sort();
        files.dedup();
        out.push(BinMain {
            krate: krate.name.clone(),
            package: package.name.clone(),
            package_dir: package.dir.clone(),
            file: root.file.clone(),
            files,
            line: main.line,
            end_line: main.end_line,
            is_async: def.is_async,
            returns: def.ret.is_some(),
            serve_site: None,
            // A `#[launch]` fn builds the app; rocket's macro serves it.
            stmts: if launch.is_some() { Vec::new() } else { stmts },
            launch,
        });
        // Which statement serves: one that strictly does; else a fn `main`
        // calls that strictly does; else the loose reading (`x.run()`).
        if let (Some(bin), Some(body)) = (out.last_mut(), &def.body)
            && bin.launch.is_none()
        {
            let own_serve = defs.fns.iter().any(|f| f.name == "serve");
            let strict: Vec<bool> = body
                .stmts
                .iter()
                .map(|s| serves_strictly(own_serve, s))
                .collect();
            let site = if strict.contains(&true) {
                None
            } else {
                serve_site(defs, body, own_serve)
            };
            if strict.contains(&true) || site.is_some() {
                for (st, strict) in bin.stmts.iter_mut().zip(strict) {
                    if st.kind == StmtKind::Serve && !strict {
                        st.kind = StmtKind::Other;
                    } else if strict && st.kind != StmtKind::Spawn {
                        st.kind = StmtKind::Serve;
                    }
                }
            }
            bin.serve_site = site;
        }
    }
    out.sort_by(|a, b| (&a.package, &a.krate).cmp(&(&b.package, &b.krate)));
    out
}

/// The first workspace fn (by file and line) that `main` calls by name and
/// whose body serves the app, by the strict reading of [`serves_strictly`].
fn serve_site(
    defs: &DefMap<'_>,
    main_body: &crate::syntax::Block,
    own_serve: bool,
) -> Option<ServeSite> {
    let mut called: Vec<&str> = Vec::new();
    main_body.walk(&mut |e| {
        if let Expr::Call { func, .. } = e
            && let Expr::Path { path, .. } = func.peel()
            && let Some(name) = path.last()
        {
            called.push(name);
        }
    });
    let mut found: Vec<ServeSite> = Vec::new();
    for f in defs
        .fns
        .iter()
        .filter(|f| f.name != "main" && called.contains(&f.name))
    {
        let Some(body) = &f.def.body else {
            continue;
        };
        if !body.stmts.iter().any(|s| serves_strictly(own_serve, s)) {
            continue;
        }
        let krate = &defs.project.crates[defs.mods[f.module].krate];
        let n = body.stmts.len();
        let stmts = body
            .stmts
            .iter()
            .zip(&body.lines)
            .enumerate()
            .map(|(i, (s, (start, end)))| MainStmt {
                start: *start,
                end: *end,
                // Outside `main`, `.run()` alone is not a server (`migrator.run(&pool)`).
                kind: match (serves_strictly(own_serve, s), classify(s)) {
                    (true, _) => StmtKind::Serve,
                    (false, StmtKind::Serve) => StmtKind::Other,
                    (false, k) => k,
                },
                tail: i + 1 == n && matches!(s, Stmt::Expr(_)),
                binds: match s {
                    Stmt::Let { pat, .. } => pat_names(pat),
                    _ => Vec::new(),
                },
            })
            .collect();
        found.push(ServeSite {
            krate: krate.name.clone(),
            in_lib: krate.kind != TargetKind::Bin,
            fn_name: f.name.to_owned(),
            file: f.file.to_owned(),
            line: f.line,
            end_line: f.end_line,
            stmts,
        });
    }
    found.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    found.into_iter().next()
}

/// Whether a statement serves the app, strictly: `axum::serve(l, app)`
/// (`serve(a, b)` unless the workspace has a fn `serve` of its own),
/// `HttpServer::new(..)...run()`, or `ROCKET.launch()`.
fn serves_strictly(own_serve: bool, s: &Stmt) -> bool {
    let (mut serve_call, mut http_server, mut run, mut launch) = (false, false, false, false);
    let mut visit = |e: &Expr| match e {
        Expr::Call { func, args, .. } => {
            if let Expr::Path { path, .. } = func.peel() {
                let axum = path.segments.first().is_some_and(|s| s.name == "axum");
                if path.last() == Some("serve") && args.len() == 2 && (axum || !own_serve) {
                    serve_call = true;
                }
                if path.ends_with(&["HttpServer", "new"]) {
                    http_server = true;
                }
            }
        }
        Expr::MethodCall { method, .. } if method == "run" => run = true,
        Expr::MethodCall { method, .. } if method == "launch" => launch = true,
        _ => {}
    };
    match s {
        Stmt::Let { init: Some(e), .. } | Stmt::Expr(e) | Stmt::Semi(e) => e.walk(&mut visit),
        _ => {}
    }
    serve_call || (http_server && run) || launch
}

fn pat_names(p: &crate::syntax::Pat) -> Vec<String> {
    use crate::syntax::Pat;
    match p {
        Pat::Ident(n) => vec![n.clone()],
        Pat::Ref(i) => pat_names(i),
        Pat::Tuple(xs) | Pat::TupleStruct(_, xs) | Pat::Or(xs) => {
            xs.iter().flat_map(pat_names).collect()
        }
        Pat::Struct(_, fs) => fs.iter().flat_map(|(_, p)| pat_names(p)).collect(),
        Pat::Path(_) | Pat::Other => Vec::new(),
    }
}

fn classify(s: &Stmt) -> StmtKind {
    let mut kind = StmtKind::Other;
    let mut visit = |e: &Expr| {
        let k = match e {
            // `axum::serve(listener, app)`, `serve(listener, app)`
            Expr::Call { func, args, .. } if args.len() == 2 => match func.peel() {
                Expr::Path { path, .. } if path.last() == Some("serve") => StmtKind::Serve,
                _ => StmtKind::Other,
            },
            // `HttpServer::new(..).bind(..)?.run()`, `rocket.launch()`, `Server::bind(..).serve(..)`
            Expr::MethodCall { method, .. }
                if method == "run" || method == "launch" || method == "serve" =>
            {
                StmtKind::Serve
            }
            // `tokio::net::TcpListener::bind(addr)`, `std::net::TcpListener::bind(..)`
            Expr::Call { func, .. } => match func.peel() {
                Expr::Path { path, .. } if path.ends_with(&["TcpListener", "bind"]) => {
                    StmtKind::Listen
                }
                _ => StmtKind::Other,
            },
            _ => StmtKind::Other,
        };
        // Serve wins over Listen when one statement does both.
        if k == StmtKind::Serve || (k == StmtKind::Listen && kind == StmtKind::Other) {
            kind = k;
        }
    };
    match s {
        Stmt::Let { init, .. } => {
            if let Some(e) = init {
                e.walk(&mut visit);
            }
        }
        Stmt::Expr(e) | Stmt::Semi(e) => e.walk(&mut visit),
        Stmt::Item(_) => {}
    }
    kind
}
