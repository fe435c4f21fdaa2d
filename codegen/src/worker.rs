//! Scheduled workers: one function per `[[worker]]` of the plan, which
//! runs the monolith's start-up as every function does and then one round
//! of the worker's loop per EventBridge event.
//!
//! The loop is taken over where it waits, by `code_edits`:
//! `::cleave_lambda::gate("<name>")` before the loop body's first
//! statement, and the loop's own wait (`ticker.tick().await;`,
//! `sleep(d).await;`) run only `if !::cleave_lambda::paced("<name>")`.
//! Off Lambda both do nothing, so the monolith's binaries behave as
//! before; on Lambda the worker's own function runs a round per event, and
//! every other function leaves the loop waiting forever (it no longer runs
//! beside requests). Here: which plan workers have a loop to edit, the
//! `cleave-lambda` dependency of the package holding it, MIGRATION.md's
//! rows and the work left out.

use std::collections::BTreeMap;

use cleave_analyzer::analysis::Analysis;
use cleave_analyzer::entrypoints::workers::work::{Gate, JobGate, Worker};
use cleave_analyzer::plan::{self, PlanWorker};
use cleave_analyzer::startup::BinMain;
use toml_edit::{DocumentMut, InlineTable, Item, Table};

use crate::Tree;
use crate::manifest;

/// A plan worker with the loop or job the analysis found for it.
pub struct Planned<'a> {
    pub plan: &'a PlanWorker,
    pub found: &'a Worker,
    pub drive: Drive<'a>,
}

/// Where a worker's function takes over the work: a loop's gate, or a
/// scheduler library's job.
#[derive(Clone, Copy)]
pub enum Drive<'a> {
    Loop(&'a Gate),
    Job(&'a JobGate),
}

impl Drive<'_> {
    /// The monolith's file holding the loop or the job.
    pub fn file(&self) -> &str {
        match self {
            Drive::Loop(g) => &g.file,
            Drive::Job(j) => &j.file,
        }
    }
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
            let work = found.work.as_ref()?;
            let drive = match (&work.gate, &work.job) {
                (Some(g), _) => Drive::Loop(g),
                (None, Some(j)) => Drive::Job(j),
                (None, None) => return None,
            };
            Some(Planned {
                plan: w,
                found,
                drive,
            })
        })
        .collect()
}

/// The generated package directory holding a file of the monolith: the
/// serving binary's library crate for its own module files, else the copy
/// of the package the file belongs to.
fn place_of(
    file: &str,
    main: &BinMain,
    main_dir: &str,
    a: &Analysis,
    moved: &dyn Fn(&str) -> String,
) -> String {
    if main.files.iter().any(|f| f == file) {
        return main_dir.to_owned();
    }
    let pkg = a
        .packages()
        .iter()
        .filter(|p| p.dir.is_empty() || file.starts_with(&format!("{}/", p.dir)))
        .max_by_key(|p| p.dir.len());
    moved(pkg.map(|p| p.dir.as_str()).unwrap_or(""))
}

/// What [`depend_on_shim`] needs to find the copied packages.
pub struct Places<'a> {
    pub main: &'a BinMain,
    /// The serving binary's library crate directory.
    pub main_dir: &'a str,
    pub moved: &'a dyn Fn(&str) -> String,
}

/// Gives each package holding a gated loop or job a `cleave-lambda` dependency
/// (the loop's edits are `code_edits`').
pub fn depend_on_shim(tree: &mut Tree, a: &Analysis, workers: &[Planned<'_>], places: &Places<'_>) {
    let mut packages: Vec<String> = workers
        .iter()
        .map(|w| {
            place_of(
                w.drive.file(),
                places.main,
                places.main_dir,
                a,
                places.moved,
            )
        })
        .collect();
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
/// `edited` says, per plan worker's name, whether its loop was edited.
pub fn left_out(
    plan: &plan::Plan,
    a: &Analysis,
    native: bool,
    edited: &BTreeMap<String, Result<(), String>>,
) -> Vec<String> {
    let planned: Vec<&str> = plan.workers.iter().map(|w| w.source.as_str()).collect();
    let failed = |source: &str| {
        let w = plan.workers.iter().find(|w| w.source == source)?;
        edited.get(&w.name)?.clone().err()
    };
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
                (Some(_), Some(source)) if failed(&source).is_some() => {
                    failed(&source).unwrap_or_default()
                }
                _ => return None,
            };
            Some(format!("{at}: {why}"))
        })
        .collect()
}
