//! Analysis: the whole pipeline from a path to [`Analysis`], the owned,
//! serialisable result that `cleave analyze` prints and later stages
//! (partition, plan, codegen) consume.
//!
//! Runs load -> resolve -> callgraph -> entrypoints -> hazards and keeps, per
//! entry point, its reach: the workspace fns its call-graph closure contains
//! and their lines. Nothing here prints or writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path as FsPath;

use serde::Serialize;

use crate::callgraph::{self, CallGraph, EdgeKind};
use crate::config::EnvVar;
use crate::diagnostic::Diagnostic;
use crate::entrypoints::prefix::Overrides;
use crate::entrypoints::workers::work::{self, Worker};
use crate::entrypoints::{self, Detection, EntryKind, EntryPoint, Framework};
use crate::hazards::{self, Hazard};
use crate::load::{self, LoadError, Project, TargetKind};
use crate::partition::{FunctionMetrics, Group, Metrics, PlanMetrics};
use crate::resolve::DefMap;
use crate::startup::{self, BinMain};

pub const SCHEMA: &str = "cleave.analysis/1";

#[derive(Debug, Clone, Serialize)]
pub struct ProjectInfo {
    /// The root package's name, or the workspace directory's name.
    pub name: String,
    pub root: String,
    pub crates: Vec<CrateInfo>,
    pub frameworks: Vec<Framework>,
    pub files: usize,
    pub lines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CrateInfo {
    pub name: String,
    pub kind: &'static str,
    pub package: String,
    /// The package directory, relative to the root (`""` for the root).
    pub dir: String,
}

/// A workspace fn, as later stages need it.
#[derive(Debug, Clone, Serialize)]
pub struct FnFact {
    pub id: String,
    pub file: String,
    pub line: u32,
    /// Lines of the fn, signature to closing brace.
    pub lines: u32,
    /// Canonical path of the module it is defined in.
    pub module: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub schema: &'static str,
    pub project: ProjectInfo,
    pub entrypoints: Vec<EntryPoint>,
    pub hazards: Vec<Hazard>,
    /// The environment variables the served app reads, sorted by name.
    pub config: Vec<EnvVar>,
    /// The workers among `entrypoints`, with what each does per round.
    pub workers: Vec<Worker>,
    pub diagnostics: Vec<Diagnostic>,
    /// Every workspace fn (index = position).
    #[serde(skip)]
    pub(crate) fns: Vec<FnFact>,
    /// Call edges between `fns` (`call` and `dyn`; `ref` edges are kept too,
    /// because a handler registered by reference is deployed with its router).
    #[serde(skip)]
    pub(crate) edges: Vec<(usize, usize)>,
    /// Per entry point (same order as `entrypoints`): the fns it reaches, sorted.
    #[serde(skip)]
    pub(crate) reach: Vec<Vec<usize>>,
    /// How each binary starts the service.
    #[serde(skip)]
    pub(crate) mains: Vec<BinMain>,
    /// Indexes into `mains` of the binaries that serve, the one the
    /// analysis is narrowed to first (see [`Options::bin`]).
    #[serde(skip)]
    pub(crate) serving: Vec<usize>,
    /// The features asked on beside the defaults ([`Options::features`]).
    #[serde(skip)]
    pub(crate) features: Vec<String>,
    /// The serving binaries that serve routes, with how many (before the
    /// narrowing), in `mains` order; and the one narrowed to.
    #[serde(skip)]
    pub(crate) route_binaries: (Vec<(usize, usize)>, Option<usize>),
    /// Packages: name and directory relative to the root, with their targets.
    #[serde(skip)]
    pub(crate) packages: Vec<PackageInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageInfo {
    pub name: String,
    /// Relative to the root (`""` for the root package).
    pub dir: String,
    /// The lib crate's name, when the package has a lib.
    pub lib: Option<String>,
    pub bins: Vec<String>,
    /// The features it declares (`[features]` keys, optional dependencies).
    pub features: Vec<String>,
}

impl Analysis {
    pub fn http_routes(&self) -> impl Iterator<Item = (usize, &EntryPoint)> {
        self.entrypoints
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind.is_route())
    }

    /// The packages of the workspace, with their targets.
    pub fn packages(&self) -> &[PackageInfo] {
        &self.packages
    }

    /// Every binary's `main` (or `#[launch]` fn), sorted by package and crate.
    pub fn mains(&self) -> &[BinMain] {
        &self.mains
    }

    /// The binaries whose `main` serves (a `#[launch]` fn, or a `main`
    /// that reaches, through the call graph at any depth, a fn naming a
    /// server item), first the one functions are built from: the one the
    /// analysis is narrowed to.
    pub fn serving_mains(&self) -> Vec<&BinMain> {
        self.serving.iter().map(|&i| &self.mains[i]).collect()
    }

    /// When several binaries serve routes: each (crate name) with its
    /// number of routes, and the one this analysis is narrowed to (its
    /// routes only; see [`Options::bin`]). Empty when one binary or none
    /// serves routes.
    pub fn route_binaries(&self) -> (Vec<(&str, usize)>, Option<&str>) {
        let (list, chosen) = &self.route_binaries;
        (
            list.iter()
                .map(|&(m, n)| (self.mains[m].krate.as_str(), n))
                .collect(),
            chosen.map(|m| self.mains[m].krate.as_str()),
        )
    }

    /// The ids of the fns `main` runs (its call-graph closure), or `None`
    /// when no fn of the analysis sits at its line.
    pub fn run_by(&self, main: &BinMain) -> Option<BTreeSet<&str>> {
        let reached = self.reached_from(&main.file, main.line)?;
        Some(reached.iter().map(|&i| self.fns[i].id.as_str()).collect())
    }

    /// Whether `id` names a workspace fn.
    pub fn has_fn(&self, id: &str) -> bool {
        self.fns.iter().any(|f| f.id == id)
    }

    /// The fns the fn at `file:line` reaches through the call graph (itself
    /// included), or `None` when no fn of the analysis sits there.
    fn reached_from(&self, file: &str, line: u32) -> Option<BTreeSet<usize>> {
        let start = self
            .fns
            .iter()
            .position(|f| f.file == file && f.line == line)?;
        let mut out = BTreeSet::from([start]);
        let mut todo = vec![start];
        while let Some(f) = todo.pop() {
            for &(_, to) in self.edges.iter().filter(|(from, _)| *from == f) {
                if out.insert(to) {
                    todo.push(to);
                }
            }
        }
        Some(out)
    }

    /// Lines of code an entry point reaches.
    pub fn reach_lines(&self, entry: usize) -> u64 {
        self.reach[entry]
            .iter()
            .map(|f| u64::from(self.fns[*f].lines))
            .sum()
    }
}

/// What a plan tells the analysis before it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The plan's `[prefix]` table: the prefixes of mounts computed at
    /// runtime, by `file:line`.
    pub prefixes: Overrides,
    /// The plan's `bin`: when several binaries serve routes (a workspace of
    /// services), the one whose routes the analysis keeps; by default the
    /// one serving the most routes (see `narrow`). Routes no binary is seen
    /// to serve are kept too, unless only other serving binaries build the
    /// package registering them.
    pub bin: Option<String>,
    /// The plan's `features` (or `--features`): features on beside the
    /// defaults, as cargo's `--features` (see [`crate::load::load_with`]).
    pub features: Vec<String>,
}

/// Runs the analysis of the package or workspace at `root` (on a thread
/// with a stack deep enough for any file `parse` accepts).
pub fn analyze(root: &FsPath) -> Result<Analysis, LoadError> {
    analyze_with(root, &Options::default())
}

/// [`analyze`], with what the plan says (see [`Options`]).
pub fn analyze_with(root: &FsPath, options: &Options) -> Result<Analysis, LoadError> {
    crate::stack::with_big_stack(|| analyze_here(root, options))
}

fn analyze_here(root: &FsPath, options: &Options) -> Result<Analysis, LoadError> {
    let overrides = &options.prefixes;
    let project = load::load_with(root, &options.features)?;
    let defs = DefMap::build(&project);
    // The call graph, the entry points and the lints: none reads what
    // another builds, so they share the cores (the entry points, which
    // run on one core, start first).
    let (detection, (graph, scan)) = rayon::join(
        || entrypoints::detect_with(&defs, overrides),
        || rayon::join(|| callgraph::build(&defs), || hazards::Scan::new(&defs)),
    );
    let mut analysis = assemble(
        root,
        &project,
        &defs,
        &graph,
        detection,
        scan,
        options.bin.as_deref(),
    );
    analysis.features.clone_from(&options.features);
    // Freeing every syntax tree takes as long as a stage: it happens on a
    // worker thread while the caller goes on with the result.
    rayon::spawn(move || drop(graph));
    drop(defs);
    rayon::spawn(move || drop(project));
    Ok(analysis)
}

/// The analysis, from what the stages built.
fn assemble(
    root: &FsPath,
    project: &Project,
    defs: &DefMap<'_>,
    graph: &CallGraph,
    mut detection: Detection,
    scan: hazards::Scan<'_>,
    bin: Option<&str>,
) -> Analysis {
    let graph_edges = graph.edges();
    let mut mains = startup::bin_mains(defs, &detection.entrypoints);
    let cli_warnings = startup::set_serve_args(defs, &graph_edges, &mut mains);
    let (serving, route_binaries) = narrow(defs, &graph_edges, &mut mains, &mut detection, bin);
    let reach = entrypoints::reach_all(defs, graph, &detection.entrypoints);
    let (hazards, left_out, config) = scan.finish(graph, &detection.entrypoints, &reach);

    let fns: Vec<FnFact> = defs
        .fns
        .iter()
        .map(|f| FnFact {
            id: f.id.clone(),
            file: f.file.to_owned(),
            line: f.line,
            lines: f.end_line.saturating_sub(f.line) + 1,
            module: defs.mods[f.module].canonical.clone(),
        })
        .collect();
    let mut edges: Vec<(usize, usize)> = graph_edges
        .iter()
        .filter(|(a, b, e)| {
            a != b && matches!(e.kind, EdgeKind::Call | EdgeKind::Dyn | EdgeKind::Ref)
        })
        .map(|(a, b, _)| (*a, *b))
        .collect();
    edges.sort();
    edges.dedup();

    let packages = project
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| PackageInfo {
            name: p.name.clone(),
            dir: p.dir.clone(),
            lib: project
                .crates
                .iter()
                .find(|c| c.package == i && c.kind == TargetKind::Lib)
                .map(|c| c.name.clone()),
            bins: project
                .crates
                .iter()
                .filter(|c| c.package == i && c.kind == TargetKind::Bin)
                .map(|c| c.name.clone())
                .collect(),
            features: p.declared.iter().cloned().collect(),
        })
        .collect();
    let mut diagnostics = project.diagnostics.clone();
    diagnostics.extend(detection.diagnostics.iter().cloned());
    diagnostics.extend(cli_warnings);
    if left_out > 0 {
        diagnostics.push(Diagnostic::new(
            "hazard-scope",
            crate::diagnostic::Severity::Note,
            "",
            0,
            format!(
                "{left_out} hazard finding(s) are not listed: code the served app never runs \
                 (tests, tools, other binaries), exits only start-up runs (a failed start), and \
                 state only start-up changes"
            ),
        ));
    }
    diagnostics.sort();
    diagnostics.dedup();

    let name = project
        .packages
        .iter()
        .find(|p| p.dir.is_empty())
        .map(|p| p.name.clone())
        .or_else(|| {
            root.canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "project".to_owned());
    let crates = project
        .crates
        .iter()
        .map(|c| CrateInfo {
            name: c.name.clone(),
            kind: match c.kind {
                TargetKind::Lib => "lib",
                TargetKind::Bin => "bin",
            },
            package: project.packages[c.package].name.clone(),
            dir: project.packages[c.package].dir.clone(),
        })
        .collect();
    Analysis {
        schema: SCHEMA,
        project: ProjectInfo {
            name,
            root: project.root_display.clone(),
            crates,
            frameworks: detection.frameworks.clone(),
            files: project.files(),
            lines: project.lines(),
        },
        workers: work::workers(&detection.entrypoints, &detection.works),
        entrypoints: detection.entrypoints,
        hazards,
        config,
        diagnostics,
        fns,
        edges,
        reach,
        mains,
        serving,
        features: Vec::new(),
        route_binaries,
        packages,
    }
}

/// When several binaries serve routes, keeps the entry points of one: the
/// binary named `bin`, else the one serving the most routes, a package's
/// own binary first of those that tie, then the first (and the entry points no
/// binary is seen to serve, unless only other serving binaries build the
/// package registering them). Returns the serving mains, the kept one
/// first, and the route-serving binaries with their route counts and the
/// one kept.
#[allow(clippy::type_complexity)]
fn narrow(
    defs: &DefMap<'_>,
    edges: &[(usize, usize, callgraph::Edge)],
    mains: &mut [BinMain],
    detection: &mut Detection,
    bin: Option<&str>,
) -> (Vec<usize>, (Vec<(usize, usize)>, Option<usize>)) {
    let serving = startup::serving(defs, edges, mains, &detection.entrypoints);
    for (m, foreign) in mains.iter_mut().zip(&serving.foreign) {
        m.foreign_server.clone_from(foreign);
    }
    let routes: Vec<(usize, usize)> = serving
        .mains
        .iter()
        .map(|&m| {
            let n = detection
                .entrypoints
                .iter()
                .zip(&serving.served_by)
                .filter(|(e, by)| e.kind.is_route() && by.contains(&m))
                .count();
            (m, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let chosen = match bin {
        Some(name) => serving
            .mains
            .iter()
            .copied()
            .find(|&m| mains[m].krate == name),
        // The binary serving the most routes is most of the service (an
        // admin front end or a metrics sidecar beside the API serves few);
        // of those that tie, a package's own binary (its `src/main.rs`, or
        // named after it) before the tools and harnesses of `src/bin/`
        // that start the same server, then the first.
        None if routes.len() > 1 => routes
            .iter()
            .map(|&(m, n)| (m, (n, mains[m].is_packages_own())))
            .fold(
                None,
                |best: Option<(usize, (usize, bool))>, (m, k)| match best {
                    Some((_, most)) if most >= k => best,
                    _ => Some((m, k)),
                },
            )
            .map(|(m, _)| m),
        None => None,
    };
    if let Some(c) = chosen {
        // A route or worker no binary is seen to serve stays (a server
        // started through code cleave cannot follow), unless another
        // binary's own files register it, or only other serving binaries
        // build the package registering it: a test-support crate's mock
        // server that a bench tool serves is not the service's.
        let linked = linked_packages(defs.project, &mains[c].package);
        let others: BTreeSet<&str> = serving
            .mains
            .iter()
            .filter(|&&m| m != c)
            .flat_map(|&m| linked_packages(defs.project, &mains[m].package))
            .collect();
        let unserving: BTreeSet<&str> = mains
            .iter()
            .enumerate()
            .filter(|(m, _)| !serving.mains.contains(m))
            .flat_map(|(_, b)| linked_packages(defs.project, &b.package))
            .collect();
        // Another binary's own files (its `main` and the modules under it)
        // are built into that binary alone.
        let own_files: BTreeSet<&str> = mains[c].files.iter().map(String::as_str).collect();
        let other_files: BTreeSet<&str> = mains
            .iter()
            .flat_map(|b| b.files.iter().map(String::as_str))
            .filter(|f| !own_files.contains(f))
            .collect();
        let mut served_by = serving.served_by.iter();
        detection.entrypoints.retain(|e| {
            served_by.next().is_none_or(|by| {
                by.contains(&c)
                    || (by.is_empty()
                        && !other_files.contains(e.registered.file.as_str())
                        && package_of(defs.project, &e.registered.file).is_none_or(|p| {
                            linked.contains(p) || unserving.contains(p) || !others.contains(p)
                        }))
            })
        });
    }
    let mut order = serving.mains.clone();
    if let Some(c) = chosen {
        order.retain(|&m| m != c);
        order.insert(0, c);
    }
    if chosen.is_some() {
        // The frameworks of the routes kept (another binary's may differ).
        detection.frameworks.retain(|f| {
            detection
                .entrypoints
                .iter()
                .any(|e| e.framework == Some(*f))
        });
    }
    let routes = if routes.len() > 1 { routes } else { Vec::new() };
    (order, (routes, chosen))
}

/// The workspace packages `package` builds with: itself and its
/// dependencies (not dev-dependencies) among the workspace's packages,
/// transitively.
fn linked_packages<'p>(project: &'p Project, package: &str) -> BTreeSet<&'p str> {
    let mut linked = BTreeSet::new();
    let mut todo = vec![package];
    while let Some(name) = todo.pop() {
        let Some(p) = project.packages.iter().find(|p| p.name == name) else {
            continue;
        };
        if linked.insert(p.name.as_str()) {
            todo.extend(p.dependencies.iter().map(|d| d.package.as_str()));
        }
    }
    linked
}

/// The package whose directory holds `file` (the innermost one).
fn package_of<'p>(project: &'p Project, file: &str) -> Option<&'p str> {
    project
        .packages
        .iter()
        .filter(|p| {
            p.dir.is_empty()
                || file
                    .strip_prefix(p.dir.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|p| p.dir.len())
        .map(|p| p.name.as_str())
}

/// The text report of `cleave analyze`.
pub fn render_text(a: &Analysis) -> String {
    let mut out = String::new();
    let frameworks: Vec<&str> = a.project.frameworks.iter().map(|f| f.name()).collect();
    out.push_str(&format!(
        "{} — {} crate(s), {} files, {} lines; framework: {}\n\n",
        a.project.name,
        a.project.crates.len(),
        a.project.files,
        a.project.lines,
        if frameworks.is_empty() {
            "none found".to_owned()
        } else {
            frameworks.join(", ")
        }
    ));

    let routes: Vec<&EntryPoint> = a.entrypoints.iter().filter(|e| e.kind.is_route()).collect();
    if routes.is_empty() {
        out.push_str("No HTTP routes found (looked for axum, actix-web and rocket routers).\n");
    } else {
        out.push_str(&format!("Routes ({})\n", routes.len()));
        let rows: Vec<[String; 5]> = routes
            .iter()
            .map(|e| {
                [
                    e.method.clone(),
                    e.path.clone(),
                    match e.kind {
                        EntryKind::Static => format!("static: {}", e.handler),
                        EntryKind::External => format!("external: {}", e.handler),
                        _ => e.handler.clone(),
                    },
                    format!("{}:{}", e.at.file, e.at.line),
                    e.middleware
                        .iter()
                        .map(|m| m.name.clone())
                        .collect::<Vec<_>>()
                        .join(" > "),
                ]
            })
            .collect();
        table(
            &mut out,
            &["METHOD", "PATH", "HANDLER", "DEFINED AT", "MIDDLEWARE"],
            &rows,
        );
    }

    let workers: Vec<&EntryPoint> = a
        .entrypoints
        .iter()
        .filter(|e| !e.kind.is_route())
        .collect();
    if !workers.is_empty() {
        out.push_str(&format!("\nWorkers ({})\n", workers.len()));
        let rows: Vec<[String; 3]> = workers
            .iter()
            .map(|e| {
                [
                    format!("{:?}", e.kind).to_lowercase(),
                    e.handler.clone(),
                    format!("{}:{}", e.registered.file, e.registered.line),
                ]
            })
            .collect();
        table(&mut out, &["KIND", "RUNS", "STARTED AT"], &rows);
    }

    if a.hazards.is_empty() {
        out.push_str("\nNo Lambda hazards found.\n");
    } else {
        out.push_str(&format!("\nHazards ({})\n", a.hazards.len()));
        let mut by_severity: BTreeMap<_, Vec<&Hazard>> = BTreeMap::new();
        for h in &a.hazards {
            by_severity.entry(h.severity).or_default().push(h);
        }
        for (severity, hs) in by_severity {
            out.push_str(&format!("  {severity:?} ({})\n", hs.len()).to_lowercase());
            for h in hs {
                out.push_str(&format!(
                    "    [{}] {}:{} {} — {}\n",
                    h.code, h.file, h.line, h.item, h.message
                ));
                if !h.entrypoints.is_empty() {
                    let shown: Vec<&str> =
                        h.entrypoints.iter().take(6).map(String::as_str).collect();
                    let more = h.entrypoints.len().saturating_sub(shown.len());
                    out.push_str(&format!(
                        "        reached by: {}{}\n",
                        shown.join(", "),
                        if more > 0 {
                            format!(" and {more} more")
                        } else {
                            String::new()
                        }
                    ));
                }
                out.push_str(&format!("        advice: {}\n", h.advice));
            }
        }
    }

    let codes: BTreeSet<&str> = a.hazards.iter().map(|h| h.code).collect();
    out.push_str(&format!(
        "\n{} route(s), {} worker(s), {} hazard(s) of {} kind(s), {} diagnostic(s).\n",
        routes.len(),
        workers.len(),
        a.hazards.len(),
        codes.len(),
        a.diagnostics.len()
    ));
    out
}

/// A left-aligned text table, two spaces between columns.
fn table<const N: usize>(out: &mut String, header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(header.to_vec()));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
}

/// The proposal part of the text report.
pub fn render_proposal(groups: &[Group], metrics: &Metrics, preset: &str) -> String {
    let mut out = format!(
        "\nProposed split ({preset}): {} function(s)\n",
        groups.len()
    );
    for (g, m) in groups.iter().zip(&metrics.functions) {
        out.push_str(&format!(
            "  {} — {} route(s), {} reachable lines ({} exclusive), {} hazard(s)\n      why: {}\n",
            g.name, m.routes, m.reachable_lines, m.exclusive_lines, m.hazards, g.why
        ));
    }
    let p = &metrics.plan;
    out.push_str(&format!(
        "  deployed/monolith {:.2}, cross-function edges {:.3}, SM {:.3}, IFN {:.2}, NED {:.2}\n",
        p.deployed_over_monolith, p.cross_function_edges, p.sm, p.ifn, p.ned
    ));
    out
}

#[derive(Debug, Serialize)]
pub struct FunctionOut<'a> {
    pub name: &'a str,
    pub routes: &'a [String],
    pub why: &'a str,
    pub metrics: &'a FunctionMetrics,
}

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub schema: &'static str,
    pub project: &'a ProjectInfo,
    pub entrypoints: &'a [EntryPoint],
    pub hazards: &'a [Hazard],
    pub config: &'a [EnvVar],
    pub workers: &'a [Worker],
    pub functions: Vec<FunctionOut<'a>>,
    pub metrics: &'a PlanMetrics,
    pub diagnostics: &'a [Diagnostic],
}

/// The `cleave.analysis/1` document.
pub fn report_json<'a>(a: &'a Analysis, groups: &'a [Group], metrics: &'a Metrics) -> Report<'a> {
    Report {
        schema: SCHEMA,
        project: &a.project,
        entrypoints: &a.entrypoints,
        hazards: &a.hazards,
        config: &a.config,
        workers: &a.workers,
        functions: groups
            .iter()
            .zip(&metrics.functions)
            .map(|(g, m)| FunctionOut {
                name: &g.name,
                routes: &g.routes,
                why: &g.why,
                metrics: m,
            })
            .collect(),
        metrics: &metrics.plan,
        diagnostics: &a.diagnostics,
    }
}
