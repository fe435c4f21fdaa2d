//! Scheduled workers: one function per `[[worker]]` of the plan, which
//! runs the monolith's start-up as every function does and then one round
//! of the worker's loop per EventBridge event.
//!
//! The loop is taken over where it waits, by two line edits of the copied
//! source: `::cleave_lambda::gate("<name>")` before the loop body's first
//! statement, and the loop's own wait (`ticker.tick().await;`,
//! `sleep(d).await;`) run only `if !::cleave_lambda::paced("<name>")`.
//! Off Lambda both do nothing, so the monolith's binaries behave as
//! before; on Lambda the worker's own function runs a round per event, and
//! every other function leaves the loop waiting forever (it no longer runs
//! beside requests). The edited package gets a `cleave-lambda` dependency.
//! Works on the tree [`crate::workspace`] copied; reads no syntax tree.

use std::collections::BTreeMap;

use cleave_analyzer::analysis::Analysis;
use cleave_analyzer::entrypoints::workers::work::{Gate, Worker};
use cleave_analyzer::plan::{self, PlanWorker};
use cleave_analyzer::startup::BinMain;
use toml_edit::{DocumentMut, InlineTable, Item, Table};

use crate::Tree;
use crate::docs::Edit;
use crate::manifest;
use crate::serving::strip_dir;

/// A plan worker with the loop the analysis found for it.
pub struct Planned<'a> {
    pub plan: &'a PlanWorker,
    pub found: &'a Worker,
    pub gate: &'a Gate,
}

/// The plan's workers whose loop the analysis found and a function can run.
pub fn planned<'a>(plan: &'a plan::Plan, a: &'a Analysis) -> Vec<Planned<'a>> {
    plan.workers
        .iter()
        .filter_map(|w| {
            let found = a
                .workers
                .iter()
                .find(|k| plan::source_of(k).as_deref() == Some(w.source.as_str()))?;
            let gate = found.work.as_ref()?.gate.as_ref()?;
            Some(Planned {
                plan: w,
                found,
                gate,
            })
        })
        .collect()
}

/// Where a file of the monolith is in the generated workspace, and the
/// package directory holding it: the serving binary's own module files in
/// its library crate, others in their package's copy.
fn place_of(
    file: &str,
    main: &BinMain,
    main_dir: &str,
    bin_pkg_dir: &str,
    a: &Analysis,
    moved: &dyn Fn(&str) -> String,
) -> (String, String) {
    if main.files.iter().any(|f| f == file) {
        return (
            manifest::join(main_dir, strip_dir(bin_pkg_dir, file)),
            main_dir.to_owned(),
        );
    }
    let pkg = a
        .packages()
        .iter()
        .filter(|p| p.dir.is_empty() || file.starts_with(&format!("{}/", p.dir)))
        .max_by_key(|p| p.dir.len());
    let dir = pkg.map(|p| p.dir.as_str()).unwrap_or("");
    let to = moved(dir);
    (manifest::join(&to, strip_dir(dir, file)), to)
}

/// What [`edit_loops`] needs to find the copied files.
pub struct Places<'a> {
    pub main: &'a BinMain,
    /// The serving binary's library crate directory.
    pub main_dir: &'a str,
    /// The serving binary's package directory in the monolith.
    pub bin_pkg_dir: &'a str,
    pub moved: &'a dyn Fn(&str) -> String,
}

/// Edits each planned worker's loop in the copied tree and gives the
/// packages holding them a `cleave-lambda` dependency.
pub fn edit_loops(
    tree: &mut Tree,
    edits: &mut Vec<Edit>,
    a: &Analysis,
    workers: &[Planned<'_>],
    places: &Places<'_>,
) {
    // Lines to insert, per generated file: before line n, after line n.
    let mut inserts: BTreeMap<String, Vec<(u32, bool, String)>> = BTreeMap::new();
    let mut packages: Vec<String> = Vec::new();
    for w in workers {
        let g = w.gate;
        let (path, pkg) = place_of(
            &g.file,
            places.main,
            places.main_dir,
            places.bin_pkg_dir,
            a,
            places.moved,
        );
        let Some(text) = tree.get(&path).and_then(|b| std::str::from_utf8(b).ok()) else {
            continue;
        };
        let indent = |line: u32| -> String {
            text.lines()
                .nth(line.saturating_sub(1) as usize)
                .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
                .unwrap_or_default()
        };
        let name = &w.plan.name;
        let (gate, wait) = if g.awaits {
            ("::cleave_lambda::gate", ".await")
        } else {
            ("::cleave_lambda::gate_blocking", "")
        };
        let list = inserts.entry(path.clone()).or_default();
        list.push((
            g.first,
            false,
            format!(
                "{}{gate}({name:?}){wait}; // cleave: worker `{name}`",
                indent(g.first)
            ),
        ));
        let at = indent(g.wait.0);
        list.push((
            g.wait.0,
            false,
            format!("{at}if !::cleave_lambda::paced({name:?}) {{ // cleave: worker `{name}`"),
        ));
        list.push((g.wait.1, true, format!("{at}}}")));
        edits.push(Edit {
            file: g.file.clone(),
            line: g.first,
            what: format!(
                "in the loop at line {}, `{gate}({name:?})` before its first statement, and its \
                 wait (lines {}-{}) run only `if !::cleave_lambda::paced({name:?})`",
                g.loop_line, g.wait.0, g.wait.1
            ),
            why: format!(
                "worker `{name}` runs one round of this loop per scheduled event on Lambda; off \
                 Lambda both do nothing, and on Lambda other functions leave the loop waiting"
            ),
        });
        packages.push(pkg);
    }
    for (path, mut list) in inserts {
        let Some(text) = tree
            .get(&path)
            .and_then(|b| String::from_utf8(b.clone()).ok())
        else {
            continue;
        };
        list.sort_by_key(|(line, after, _)| (*line, *after));
        let mut out = String::with_capacity(text.len() + 256);
        let mut it = list.iter().peekable();
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let n = i as u32 + 1;
            while let Some((_, _, s)) = it.next_if(|(l, after, _)| *l == n && !after) {
                out.push_str(s);
                out.push('\n');
            }
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
            while let Some((_, _, s)) = it.next_if(|(l, after, _)| *l == n && *after) {
                out.push_str(s);
                out.push('\n');
            }
        }
        tree.insert(path, out.into_bytes());
    }
    packages.sort();
    packages.dedup();
    for dir in packages {
        add_shim_dependency(tree, &dir);
    }
}

/// `cleave-lambda = { path = .. }` in a copied package's `[dependencies]`.
fn add_shim_dependency(tree: &mut Tree, dir: &str) {
    let path = manifest::join(dir, "Cargo.toml");
    let Some(mut doc) = tree
        .get(&path)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| t.parse::<DocumentMut>().ok())
    else {
        return;
    };
    let deps = doc
        .entry("dependencies")
        .or_insert(Item::Table(Table::new()));
    if let Some(deps) = deps.as_table_like_mut()
        && !deps.contains_key("cleave-lambda")
    {
        let mut t = InlineTable::new();
        t.insert(
            "path",
            manifest::relative(dir, crate::shim::SHIM_DIR)
                .as_str()
                .into(),
        );
        deps.insert(
            "cleave-lambda",
            Item::Value(toml_edit::Value::InlineTable(t)),
        );
    }
    tree.insert(path, doc.to_string().into_bytes());
}

/// A worker as MIGRATION.md lists it.
pub struct WorkerNote {
    pub name: String,
    pub schedule: String,
    /// How the schedule was read, when it is not the code's pace exactly.
    pub note: Option<String>,
    pub handler: String,
    /// The loop, `file:line`.
    pub source: String,
    /// Where the handler is defined and where start-up starts it.
    pub defined: String,
    pub started: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
}

impl WorkerNote {
    pub fn new(w: &Planned<'_>) -> Self {
        let found = w.found;
        let note = found.work.as_ref().and_then(|k| {
            // The note is about the proposed schedule: moot once edited.
            (k.schedule == w.plan.schedule)
                .then(|| k.note.clone())
                .flatten()
        });
        WorkerNote {
            name: w.plan.name.clone(),
            schedule: w.plan.schedule.clone(),
            note,
            handler: found.handler.clone(),
            source: w.plan.source.clone(),
            defined: format!("{}:{}", found.file, found.line),
            started: format!("{}:{}", found.registered.file, found.registered.line),
            memory_mb: w.plan.memory_mb,
            timeout_s: w.plan.timeout_s,
        }
    }
}

/// Workers that get no function, one line each: what and why, with file:line.
pub fn left_out(plan: &plan::Plan, a: &Analysis, native: bool) -> Vec<String> {
    let planned: Vec<&str> = plan.workers.iter().map(|w| w.source.as_str()).collect();
    a.workers
        .iter()
        .filter_map(|k| {
            let at = format!(
                "`{}` ({}:{}, started at {}:{})",
                k.handler, k.file, k.line, k.registered.file, k.registered.line
            );
            let why = match (&k.work, plan::source_of(k)) {
                (None, _) => "it runs on no schedule (a task started once, or waiting on a \
                              channel): deploy it as a queue consumer or keep it in a service"
                    .to_owned(),
                (Some(w), None) => w
                    .blocked
                    .clone()
                    .unwrap_or_else(|| "no function can run it".to_owned()),
                (Some(_), Some(source)) if !native => format!(
                    "`--adapter web-adapter` has no Lambda runtime to take scheduled events \
                     (loop at {source})"
                ),
                (Some(_), Some(source)) if !planned.contains(&source.as_str()) => {
                    format!("the plan has no `[[worker]]` for its loop at {source}")
                }
                _ => return None,
            };
            Some(format!("{at}: {why}"))
        })
        .collect()
}
