//! Startup: each binary's `main` (or rocket `#[launch]` fn), and the
//! workspace fns whose bodies start a server. Codegen picks the serving
//! binary from these: the one whose `main` reaches a server start through
//! the call graph, at any depth.
//!
//! Input is the [`DefMap`]; output is plain data with lines. What starts a
//! server is read from the framework profiles (`framework.rs`); this module
//! keeps no list of its own and knows nothing of Lambda.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::entrypoints::EntryPoint;
use crate::framework::{PROFILES, Profile, ServerKind};
use crate::load::TargetKind;
use crate::resolve::DefMap;
use crate::syntax::{Expr, ItemKind, Pat};

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
    /// When `main` is a CLI whose serving is one subcommand: the arguments
    /// that select it (`["serve"]`), read from the one `match` arm of the
    /// dispatch that reaches a server. See [`serve_args`].
    pub serve_args: Option<ServeArgs>,
    /// Set when every server start this binary's `main` reaches is of an
    /// item cleave's shim does not mirror (`axum_server::bind`): the fn
    /// (file, line) and the item. Functions built from it would serve as
    /// the monolith does, not answer Lambda events.
    pub foreign_server: Option<(String, u32, String)>,
    /// When `main` hands its command line to code outside the workspace
    /// that dispatches to a subcommand's impl by derive (abscissa's
    /// `boot(&APP)` running `Runnable::run` of the variant's type): the
    /// method (file, line) that reaches a server, which `main` reaches
    /// through no call cleave can see. Set with [`BinMain::serve_args`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatched: Option<(String, u32)>,
}

impl BinMain {
    /// Whether this is its package's own binary, the one `cargo run`
    /// builds in it: `src/main.rs`, or a target named after the package
    /// (not one of the tools of `src/bin/`).
    pub fn is_packages_own(&self) -> bool {
        let main_rs = if self.package_dir.is_empty() {
            "src/main.rs".to_owned()
        } else {
            format!("{}/src/main.rs", self.package_dir)
        };
        self.file == main_rs || self.krate == self.package.replace('-', "_")
    }
}

/// The command-line arguments that make a CLI `main` serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServeArgs {
    pub args: Vec<String>,
    /// The serving call in the dispatch's arm (the outermost dispatch's,
    /// for nested subcommands).
    pub file: String,
    pub line: u32,
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
        // The `main` the build compiles: of two under opposite cfgs
        // (`#[cfg(feature = "x")] fn main` and `#[cfg(not(..))] fn main`),
        // the one the call graph holds.
        let built = |i: &&crate::syntax::Item| {
            defs.fns
                .iter()
                .any(|f| f.file == root.file && f.line == i.line)
        };
        let (main, launch) = match root
            .items
            .iter()
            .filter(is_fn)
            .filter(|i| i.name == "main")
            .find(built)
        {
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
            serve_args: None,
            foreign_server: None,
            dispatched: None,
        });
    }
    out.sort_by(|a, b| (&a.package, &a.krate).cmp(&(&b.package, &b.krate)));
    out
}

/// Which binaries serve, and which serve each entry point.
#[derive(Debug, Default)]
pub struct Serving {
    /// Indexes into the mains of the binaries whose `main` serves (a
    /// `#[launch]` fn, or a `main` reaching a server fn), in mains order.
    pub mains: Vec<usize>,
    /// Per entry point: the serving mains whose `main` reaches the fn that
    /// registers it (empty when none does: a router no binary is seen to
    /// serve, a library's).
    pub served_by: Vec<Vec<usize>>,
    /// Per main (all of them): see [`BinMain::foreign_server`].
    pub foreign: Vec<Option<(String, u32, String)>>,
}

/// Which of `mains` serve and which serve each of `entrypoints`, through
/// the call graph `edges`.
pub fn serving(
    defs: &DefMap<'_>,
    edges: &[(usize, usize, crate::callgraph::Edge)],
    mains: &[BinMain],
    entrypoints: &[EntryPoint],
) -> Serving {
    let Some(first) = mains.first() else {
        return Serving {
            mains: Vec::new(),
            served_by: vec![Vec::new(); entrypoints.len()],
            foreign: Vec::new(),
        };
    };
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); defs.fns.len()];
    for (from, to, _) in edges {
        if let Some(c) = callees.get_mut(*from) {
            c.push(*to);
        }
    }
    let server: std::collections::BTreeSet<(&str, u32)> = first
        .server_fns
        .iter()
        .map(|(f, l)| (f.as_str(), *l))
        .collect();
    let profiles: Vec<&Profile> = PROFILES
        .iter()
        .copied()
        .filter(|p| p.used_in(defs.project))
        .collect();
    let mut out = Serving {
        foreign: vec![None; mains.len()],
        ..Serving::default()
    };
    let mut reached: Vec<Vec<bool>> = Vec::new();
    for (i, m) in mains.iter().enumerate() {
        let Some(start) = defs
            .fns
            .iter()
            .position(|f| f.file == m.file && f.line == m.line)
        else {
            continue;
        };
        let mut seen = vec![false; defs.fns.len()];
        seen[start] = true;
        let mut todo = vec![start];
        // A subcommand's method run by derive-generated dispatch outside
        // the workspace (see `BinMain::dispatched`).
        if let Some((file, line)) = &m.dispatched
            && let Some(d) = defs
                .fns
                .iter()
                .position(|f| f.file == file && f.line == *line)
        {
            seen[d] = true;
            todo.push(d);
        }
        while let Some(f) = todo.pop() {
            for &to in &callees[f] {
                if !seen[to] {
                    seen[to] = true;
                    todo.push(to);
                }
            }
        }
        let serves = m.launch.is_some()
            || defs
                .fns
                .iter()
                .enumerate()
                .any(|(f, d)| seen[f] && server.contains(&(d.file, d.line)));
        if serves {
            // Every server start it reaches is one the shim does not mirror.
            let starts: Vec<Option<String>> = defs
                .fns
                .iter()
                .enumerate()
                .filter(|(f, d)| seen[*f] && server.contains(&(d.file, d.line)))
                .filter_map(|(_, d)| d.def.body.as_ref().and_then(|b| server_items(&profiles, b)))
                .collect();
            if m.launch.is_none() && !starts.is_empty() && starts.iter().all(Option::is_some) {
                let (_, d) = defs
                    .fns
                    .iter()
                    .enumerate()
                    .find(|(f, d)| {
                        seen[*f]
                            && server.contains(&(d.file, d.line))
                            && d.def.body.as_ref().is_some_and(|b| {
                                matches!(server_items(&profiles, b), Some(Some(_)))
                            })
                    })
                    .unwrap_or((0, &defs.fns[start]));
                let item = starts.into_iter().flatten().next().unwrap_or_default();
                out.foreign[i] = Some((d.file.to_owned(), d.line, item));
            }
            out.mains.push(i);
            reached.push(seen);
        }
    }
    // The fns of each file, in `defs.fns` order.
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in defs.fns.iter().enumerate() {
        by_file.entry(f.file).or_default().push(i);
    }
    out.served_by = entrypoints
        .iter()
        .map(|e| {
            // The innermost fn whose lines hold the registration; a route
            // attribute above its handler (`#[get("/")]`) registers the
            // handler itself, served where it is reached.
            let at = by_file
                .get(e.registered.file.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| {
                    let f = &defs.fns[i];
                    f.line <= e.registered.line && e.registered.line <= f.end_line
                })
                .max_by_key(|&i| defs.fns[i].line)
                .or(e
                    .root
                    .filter(|_| e.registered.file == e.at.file && e.registered.line < e.at.line));
            match at {
                Some(f) => out
                    .mains
                    .iter()
                    .zip(&reached)
                    .filter(|(_, seen)| seen[f])
                    .map(|(m, _)| *m)
                    .collect(),
                None => Vec::new(),
            }
        })
        .collect();
    out
}

/// Sets each binary's [`BinMain::serve_args`]: for a `main` that dispatches
/// on a clap subcommand (`match cli.command { Command::Serve(a) => .., .. }`,
/// in `main` or a fn it calls, within its crate, up to three calls deep),
/// where exactly one arm reaches a server (through `edges`, the call graph's
/// sorted edges with each edge's first call line), the subcommand that arm matches, in
/// clap's default spelling (`CreateKey` -> `create-key`) unless the variant
/// renames it (`#[command(name = "up")]`); nested subcommands append
/// (`Command::Db(Db::Serve)` -> `["db", "serve"]`). Nothing when the server
/// runs without a subcommand (`None =>`, `_ =>`) or the arm is not a
/// variant pattern: then `main` needs no arguments, or cleave cannot tell.
///
/// Returns a `cli-arguments` warning for each `main` whose serving runs
/// under a dispatch cleave cannot turn into arguments (several arms serve,
/// or clap's builder `match m.subcommand() { Some(("serve", a)) => .. }`):
/// Lambda starts a function with none, so the plan must say them.
pub fn set_serve_args(
    defs: &DefMap<'_>,
    edges: &[(usize, usize, crate::callgraph::Edge)],
    mains: &mut [BinMain],
) -> Vec<crate::diagnostic::Diagnostic> {
    let mut warnings = Vec::new();
    let Some(first) = mains.first() else {
        return warnings;
    };
    let server: std::collections::BTreeSet<(&str, u32)> = first
        .server_fns
        .iter()
        .map(|(f, l)| (f.as_str(), *l))
        .collect();
    // Which fns reach a server fn: backwards from the server fns.
    let mut serving = vec![false; defs.fns.len()];
    let mut todo: Vec<usize> = defs
        .fns
        .iter()
        .enumerate()
        .filter(|(_, f)| server.contains(&(f.file, f.line)))
        .map(|(i, _)| i)
        .collect();
    for &i in &todo {
        serving[i] = true;
    }
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); defs.fns.len()];
    for (from, to, _) in edges {
        if let Some(c) = callers.get_mut(*to) {
            c.push(*from);
        }
    }
    while let Some(f) = todo.pop() {
        for &c in &callers[f] {
            if !serving[c] {
                serving[c] = true;
                todo.push(c);
            }
        }
    }
    let dispatch = Dispatch {
        defs,
        edges,
        serving: &serving,
    };
    for m in mains.iter_mut().filter(|m| m.launch.is_none()) {
        let Some(main) = defs
            .fns
            .iter()
            .position(|f| f.file == m.file && f.line == m.line)
        else {
            continue;
        };
        // Breadth first from `main`, within the binary's own files and the
        // fns it calls directly from them.
        let mut seen = vec![main];
        let mut level = vec![main];
        'search: for _ in 0..4 {
            let mut next = Vec::new();
            for &f in &level {
                if !serving[f] {
                    continue;
                }
                if let Some((args, line)) = dispatch.of_fn(f) {
                    if !args.is_empty() {
                        m.serve_args = Some(ServeArgs {
                            args,
                            file: defs.fns[f].file.to_owned(),
                            line,
                        });
                    }
                    break 'search;
                }
                // A dispatch cleave cannot read: the arguments are not below it.
                if dispatch.unread(f).is_some() {
                    break 'search;
                }
                for (from, to, _) in edges {
                    if *from == f && !seen.contains(to) {
                        seen.push(*to);
                        next.push(*to);
                    }
                }
            }
            level = next;
        }
        if m.serve_args.is_none() && !serving[main] {
            derived_dispatch(defs, &serving, main, m);
        }
        if m.serve_args.is_none()
            && let Some((f, line)) = seen
                .iter()
                .find_map(|&f| dispatch.unread(f).map(|l| (f, l)))
        {
            warnings.push(crate::diagnostic::Diagnostic::new(
                "cli-arguments",
                crate::diagnostic::Severity::Warning,
                defs.fns[f].file,
                line,
                format!(
                    "`{}` starts its server under a command-line dispatch cleave cannot read \
                     into arguments (several subcommands serve, or clap's builder API); Lambda \
                     starts each function with no arguments: set `args = [..]` in cleave.toml",
                    m.krate
                ),
            ));
        }
    }
    warnings
}

/// For a `main` that reaches no server: the one subcommand of its
/// package's clap command line whose type has a method reaching a server,
/// when `main` hands the parsing and the dispatch to code outside the
/// workspace (abscissa's `boot(&APP)`, which runs the `Runnable::run` a
/// derive wrote for the enum, then the variant type's own). The enum
/// derives clap's `Parser`, or `Subcommand` and is a field of a struct
/// deriving `Parser` (the top-level command line: nested subcommands are
/// left alone); the variant holds one workspace type, one of whose impl
/// methods reaches a server. Sets `serve_args` and `dispatched`; nothing
/// when no variant or more than one qualifies.
fn derived_dispatch(defs: &DefMap<'_>, serving: &[bool], main: usize, m: &mut BinMain) {
    let project = defs.project;
    let package_of = |module: crate::resolve::ModId| {
        let krate = defs.mods[module].krate;
        project.packages[project.crates[krate].package]
            .name
            .as_str()
    };
    if package_of(defs.fns[main].module) != m.package {
        return;
    }
    let derives = |item: &crate::syntax::Item, what: &str| {
        item.attrs.iter().any(|a| {
            a.path.last() == Some("derive")
                && a.words.iter().any(|w| w.rsplit("::").next() == Some(what))
        })
    };
    let last_name = |ty: &crate::syntax::Ty| -> Option<String> {
        match ty {
            crate::syntax::Ty::Path(p) => p.names().last().map(str::to_owned),
            _ => None,
        }
    };
    // Types of fields of the package's `Parser` structs.
    let parser_fields: std::collections::BTreeSet<String> = defs
        .types
        .iter()
        .filter(|t| package_of(t.module) == m.package && derives(t.item, "Parser"))
        .flat_map(|t| t.fields.iter())
        .flat_map(|(_, ty)| {
            // `Option<Command>` too: the names the type mentions.
            crate::syntax::ty_text(ty)
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut found: Vec<(String, (String, u32))> = Vec::new();
    for t in defs.types.iter() {
        if t.kind != crate::resolve::TypeKind::Enum
            || package_of(t.module) != m.package
            || !(derives(t.item, "Parser")
                || (derives(t.item, "Subcommand") && parser_fields.contains(t.name)))
        {
            continue;
        }
        for (variant, fields) in t.variants.iter().zip(t.variant_fields) {
            let [(_, ty)] = fields.as_slice() else {
                continue;
            };
            let Some(name) = last_name(ty) else {
                continue;
            };
            let methods = defs
                .impls
                .iter()
                .filter(|i| {
                    i.self_def.is_some_and(|d| {
                        defs.types[d].name == name && package_of(defs.types[d].module) == m.package
                    })
                })
                .flat_map(|i| i.methods.values().copied());
            if let Some(f) = methods.filter(|&f| serving[f]).min() {
                let fd = &defs.fns[f];
                let path = crate::syntax::Path::from_names([t.name, variant.as_str()]);
                let word = variant_word(defs, &path).unwrap_or_else(|| kebab(variant));
                found.push((word, (fd.file.to_owned(), fd.line)));
            }
        }
    }
    if let [(word, (file, line))] = found.as_slice() {
        m.serve_args = Some(ServeArgs {
            args: vec![word.clone()],
            file: file.clone(),
            line: *line,
        });
        m.dispatched = Some((file.clone(), *line));
    }
}

/// Finds the serving arm of a subcommand dispatch.
struct Dispatch<'d, 'a> {
    defs: &'d DefMap<'a>,
    /// The call graph's edges, sorted ([`crate::callgraph::CallGraph::edges`]).
    edges: &'d [(usize, usize, crate::callgraph::Edge)],
    serving: &'d [bool],
}

impl Dispatch<'_, '_> {
    /// The arguments of the first dispatch in fn `f`'s body with exactly
    /// one serving arm, and the line of that arm's serving call.
    fn of_fn(&self, f: usize) -> Option<(Vec<String>, u32)> {
        let body = self.defs.fns[f].def.body.as_ref()?;
        let mut found = None;
        body.walk(&mut |e| {
            if found.is_none() {
                found = self.of_match(f, e);
            }
        });
        found
    }

    /// `e`, when it is a `match` with exactly one serving arm among others
    /// that do not serve: the arguments that arm selects, nested
    /// dispatches inside it appended.
    fn of_match(&self, f: usize, e: &Expr) -> Option<(Vec<String>, u32)> {
        let Expr::Match { arms, .. } = e else {
            return None;
        };
        if arms.len() < 2 {
            return None;
        }
        let serves: Vec<Option<u32>> = arms
            .iter()
            .map(|(_, body)| self.arm_serves(f, body))
            .collect();
        if serves.iter().filter(|s| s.is_some()).count() != 1 {
            return None;
        }
        let i = serves.iter().position(Option::is_some)?;
        let line = serves[i]?;
        let (pat, body) = &arms[i];
        let mut args = self.subcommand(pat)?;
        let mut nested = None;
        body.walk(&mut |e| {
            if nested.is_none() {
                nested = self.of_match(f, e);
            }
        });
        if let Some((more, _)) = nested {
            args.extend(more);
        }
        Some((args, line))
    }

    /// The line of a serving arm of a dispatch in fn `f`'s body that
    /// [`Self::of_match`] cannot read: a `match` on clap's builder
    /// (`.subcommand()`, `.subcommand_name()`) with an arm that serves, or
    /// one whose patterns are subcommands and where several arms serve.
    fn unread(&self, f: usize) -> Option<u32> {
        let body = self.defs.fns[f].def.body.as_ref()?;
        let mut found = None;
        body.walk(&mut |e| {
            let Expr::Match { expr, arms } = e else {
                return;
            };
            if found.is_some() || arms.len() < 2 {
                return;
            }
            let serving: Vec<(&Pat, u32)> = arms
                .iter()
                .filter_map(|(pat, body)| self.arm_serves(f, body).map(|l| (pat, l)))
                .collect();
            let builder = matches!(expr.peel(), Expr::MethodCall { method, .. }
                if method == "subcommand" || method == "subcommand_name");
            let several =
                serving.len() > 1 && serving.iter().all(|(pat, _)| self.clap_variant(f, pat));
            if builder || several {
                found = serving.first().map(|(_, l)| *l);
            }
        });
        found
    }

    /// Whether a pattern (in fn `f`) matches a variant of an enum deriving
    /// clap's `Parser` or `Subcommand` (`Command::Serve(..)`, `Some(Cmd::Api)`).
    fn clap_variant(&self, f: usize, pat: &Pat) -> bool {
        let path = match pat {
            Pat::Ref(inner) => return self.clap_variant(f, inner),
            Pat::Or(alts) => return alts.first().is_some_and(|p| self.clap_variant(f, p)),
            Pat::TupleStruct(path, inner) if path.names().eq(["Some"]) => {
                return inner.first().is_some_and(|p| self.clap_variant(f, p));
            }
            Pat::TupleStruct(path, _) | Pat::Struct(path, _) | Pat::Path(path) => path,
            _ => return false,
        };
        let names: Vec<&str> = path.names().collect();
        self.defs
            .resolve_names(self.defs.fns[f].module, &names, path.leading_colon)
            .into_iter()
            .any(|d| match d {
                crate::resolve::Def::Variant(t) => self.defs.types[t].item.attrs.iter().any(|a| {
                    a.path.last() == Some("derive")
                        && a.words
                            .iter()
                            .any(|w| matches!(w.rsplit("::").next(), Some("Parser" | "Subcommand")))
                }),
                _ => false,
            })
    }

    /// The first line where an arm's code calls a fn that reaches a
    /// server, or `None` when it calls none. A call is known by its line
    /// (an edge's first call site) or by the callee's name, for a fn the
    /// edge recorded at another arm's call.
    fn arm_serves(&self, f: usize, body: &Expr) -> Option<u32> {
        let mut lines = std::collections::BTreeSet::new();
        // Each call: the callee's name, the workspace fns its path resolves
        // to (empty for a method call, or a path cleave cannot resolve), its line.
        let mut calls: Vec<(&str, Vec<usize>, u32)> = Vec::new();
        body.walk(&mut |e| {
            if let Some(l) = e.line() {
                lines.insert(l);
            }
            match e {
                Expr::Call { func, line, .. } => {
                    if let Expr::Path { path, .. } = func.peel()
                        && let Some(name) = path.names().last()
                    {
                        calls.push((name, self.defs.resolve_fn_path(f, path), *line));
                    }
                }
                Expr::MethodCall { method, line, .. } => {
                    calls.push((method.as_str(), Vec::new(), *line));
                }
                _ => {}
            }
        });
        // The edges are sorted: `f`'s are one run of them.
        let first = self.edges.partition_point(|(from, _, _)| *from < f);
        let end = self.edges.partition_point(|(from, _, _)| *from <= f);
        self.edges[first..end]
            .iter()
            .filter(|(_, to, _)| *to != f && self.serving[*to])
            .filter_map(|(_, to, edge)| {
                if lines.contains(&edge.line) {
                    return Some(edge.line);
                }
                // By name, unless the call resolves to other fns
                // (`bootstrap::run(..)` is not the serving `server::run(..)`).
                let name = self.defs.fns[*to].name;
                calls
                    .iter()
                    .find(|(n, resolved, _)| {
                        *n == name && (resolved.is_empty() || resolved.contains(to))
                    })
                    .map(|(_, _, l)| *l)
            })
            .min()
    }

    /// The subcommand words a pattern selects: `Command::Serve(..)`,
    /// `Some(Cmd::Start { .. })`, `Cmd::Run(Run::Api)`; `Some(vec![])` for
    /// no subcommand (`None`, `_`), `None` when it cannot tell.
    fn subcommand(&self, pat: &Pat) -> Option<Vec<String>> {
        match pat {
            Pat::Ref(inner) => self.subcommand(inner),
            Pat::Or(alts) => alts.first().and_then(|p| self.subcommand(p)),
            Pat::Path(path) if path.names().eq(["None"]) => Some(Vec::new()),
            Pat::Ident(name) if name == "None" => Some(Vec::new()),
            Pat::Ident(name) if name == "_" => Some(Vec::new()),
            Pat::TupleStruct(path, inner) if path.names().eq(["Some"]) => {
                inner.first().and_then(|p| self.subcommand(p))
            }
            Pat::TupleStruct(path, inner) => {
                let mut words = vec![self.variant_name(path)?];
                // An inline nested subcommand: `Command::Db(Db::Serve)`.
                if let Some(more) = inner.first().and_then(|p| match p {
                    Pat::TupleStruct(..) | Pat::Path(_) | Pat::Struct(..) => self.subcommand(p),
                    _ => None,
                }) {
                    words.extend(more);
                }
                Some(words)
            }
            Pat::Struct(path, _) | Pat::Path(path) => Some(vec![self.variant_name(path)?]),
            _ => None,
        }
    }

    /// See [`variant_word`].
    fn variant_name(&self, path: &crate::syntax::Path) -> Option<String> {
        variant_word(self.defs, path)
    }
}

/// The subcommand name of the enum variant `path` names
/// (`Command::CreateKey`): its `name = ".."` attribute, else clap's
/// kebab-case of the variant. `None` for a path of one segment (a
/// binding or a constant, not a variant).
fn variant_word(defs: &DefMap<'_>, path: &crate::syntax::Path) -> Option<String> {
    let names: Vec<&str> = path.names().collect();
    let [.., enum_name, variant] = names.as_slice() else {
        return None;
    };
    let renamed = defs.types.iter().find_map(|t| {
        let ItemKind::Enum {
            variants,
            variant_attrs,
            ..
        } = &t.item.kind
        else {
            return None;
        };
        if t.name != *enum_name && *enum_name != "Self" {
            return None;
        }
        let i = variants.iter().position(|v| v == variant)?;
        variant_attrs
            .iter()
            .filter(|(v, _)| *v == i)
            .find_map(|(_, a)| {
                a.named
                    .iter()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v.clone())
            })
    });
    Some(renamed.unwrap_or_else(|| kebab(variant)))
}

/// clap's default subcommand spelling: `CreateKey` -> `create-key`,
/// `GenAPI` -> `gen-api`, `V2Import` -> `v2-import`.
fn kebab(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Whether a fn body names a server item: a call of a server fn
/// (`axum::serve(..)`, `serve(..)`), a constructor or builder of a server
/// type (`HttpServer::new(..)`, `Server::bind(..)`), or a server method
/// (`.launch()`).
fn names_server(profiles: &[&Profile], body: &crate::syntax::Block) -> bool {
    server_items(profiles, body).is_some()
}

/// The server items a fn body names (see [`names_server`]): `None` when
/// none; `Some(None)` when one the shim mirrors is among them;
/// `Some(Some(path))` when only items it does not mirror are, the first.
fn server_items(profiles: &[&Profile], body: &crate::syntax::Block) -> Option<Option<String>> {
    let mut mirrored = false;
    let mut foreign: Option<String> = None;
    body.walk(&mut |e| {
        if mirrored {
            return;
        }
        let item = match e {
            Expr::Call { func, .. } => match func.peel() {
                Expr::Path { path, .. } => {
                    let names: Vec<&str> = path.names().collect();
                    profiles.iter().find_map(|p| {
                        p.server_named(&names)
                            .filter(|s| s.kind == ServerKind::Fn)
                            .or_else(|| {
                                (names.len() > 1)
                                    .then(|| p.server_named(&names[..names.len() - 1]))
                                    .flatten()
                                    .filter(|s| s.kind == ServerKind::Type)
                            })
                    })
                }
                _ => None,
            },
            Expr::MethodCall { method, args, .. } => profiles.iter().find_map(|p| {
                p.servers.iter().find(|s| {
                    let kind = match s.kind {
                        ServerKind::Method => args.is_empty(),
                        ServerKind::Connection => true,
                        _ => false,
                    };
                    kind && s.path.last() == Some(&method.as_str())
                })
            }),
            _ => None,
        };
        match item {
            Some(s) if s.mirrored => mirrored = true,
            Some(s) => {
                foreign.get_or_insert_with(|| s.path.join("::"));
            }
            None => {}
        }
    });
    if mirrored {
        Some(None)
    } else {
        foreign.map(Some)
    }
}

#[cfg(test)]
mod tests;
