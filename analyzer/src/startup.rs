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
            // A `#[launch]` fn builds the app; rocket's macro serves it.
            stmts: if launch.is_some() { Vec::new() } else { stmts },
            launch,
        });
    }
    out.sort_by(|a, b| (&a.package, &a.krate).cmp(&(&b.package, &b.krate)));
    out
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
