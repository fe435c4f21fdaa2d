//! Startup: each binary's `main` (or rocket `#[launch]` fn), and the
//! workspace fns whose bodies start a server. Codegen picks the serving
//! binary from these: the one whose `main` reaches a server start through
//! the call graph, at any depth.
//!
//! Input is the [`DefMap`]; output is plain data with lines. What starts a
//! server is read from the framework profiles (`framework.rs`); this module
//! keeps no list of its own and knows nothing of Lambda.

use serde::Serialize;

use crate::entrypoints::EntryPoint;
use crate::framework::{PROFILES, Profile, ServerKind};
use crate::load::TargetKind;
use crate::resolve::DefMap;
use crate::syntax::{Expr, ItemKind};

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
    /// Set when the binary has no `main` but a rocket `#[launch]` fn, which
    /// rocket's macro turns into `main` (and serves); `line`..`end_line`
    /// are that fn's.
    pub launch: Option<Launch>,
    /// Every workspace fn (any crate) whose body names a server item of a
    /// framework the project uses (`axum::serve`, `HttpServer::new`,
    /// `.launch()`), as `(file, line)`: the same list for every binary.
    pub server_fns: Vec<(String, u32)>,
}

/// A rocket `#[launch] fn NAME() -> _ { .. }`.
#[derive(Debug, Clone, Serialize)]
pub struct Launch {
    pub name: String,
    /// Line of the `#[launch]` attribute.
    pub attr_line: u32,
}

/// The `main` of every bin crate, sorted by package and crate.
pub fn bin_mains(defs: &DefMap<'_>, _entrypoints: &[EntryPoint]) -> Vec<BinMain> {
    let project = defs.project;
    let profiles: Vec<&Profile> = PROFILES
        .iter()
        .copied()
        .filter(|p| p.used_in(project))
        .collect();
    let mut server_fns: Vec<(String, u32)> = defs
        .fns
        .iter()
        .filter(|f| {
            f.def
                .body
                .as_ref()
                .is_some_and(|b| names_server(&profiles, b))
        })
        .map(|f| (f.file.to_owned(), f.line))
        .collect();
    server_fns.sort();
    server_fns.dedup();
    let mut out = Vec::new();
    for krate in &project.crates {
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
        let package = &project.packages[krate.package];
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
            launch,
            server_fns: server_fns.clone(),
        });
    }
    out.sort_by(|a, b| (&a.package, &a.krate).cmp(&(&b.package, &b.krate)));
    out
}

/// Whether a fn body names a server item: a call of a server fn
/// (`axum::serve(..)`, `serve(..)`), a constructor or builder of a server
/// type (`HttpServer::new(..)`, `Server::bind(..)`), or a server method
/// (`.launch()`).
fn names_server(profiles: &[&Profile], body: &crate::syntax::Block) -> bool {
    let mut found = false;
    body.walk(&mut |e| {
        if found {
            return;
        }
        match e {
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    let names: Vec<&str> = path.names().collect();
                    found = profiles.iter().any(|p| {
                        p.server_named(&names)
                            .is_some_and(|s| s.kind == ServerKind::Fn)
                            || (names.len() > 1
                                && p.server_named(&names[..names.len() - 1])
                                    .is_some_and(|s| s.kind == ServerKind::Type))
                    });
                }
            }
            Expr::MethodCall { method, args, .. } if args.is_empty() => {
                found = profiles.iter().any(|p| {
                    p.servers.iter().any(|s| {
                        s.kind == ServerKind::Method && s.path.last() == Some(&method.as_str())
                    })
                });
            }
            _ => {}
        }
    });
    found
}
