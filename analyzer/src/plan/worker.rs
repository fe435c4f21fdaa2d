//! The plan's `[[worker]]` entries: one scheduled function per interval
//! loop of the served app (`name`, `source` = the loop's `file:line`,
//! `schedule` as EventBridge writes it, `memory_mb`, `timeout_s`).
//!
//! Read with lines, checked against the analysis (the loop exists and a
//! function can run it, the schedule parses, the timeout fits the pace),
//! proposed, and merged into an edited plan: a worker whose loop is still
//! there keeps everything a person set; one whose loop moved is found again
//! by name; a vanished one is removed with a notice.

use std::collections::BTreeSet;

use serde::Serialize;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use super::{DEFAULT_MEMORY_MB, Lines, MEMORY_RANGE, TIMEOUT_RANGE, valid_name};
use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
use crate::entrypoints::workers::work::Worker;
use crate::schedule;

/// A scheduled function's timeout unless the plan sets one: a round of a
/// worker is not bound by API Gateway's 30 s.
pub const DEFAULT_WORKER_TIMEOUT_S: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanWorker {
    pub name: String,
    /// The loop's `file:line`, as `cleave analyze` prints it.
    pub source: String,
    /// `rate(..)` or `cron(..)`.
    pub schedule: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    #[serde(skip)]
    pub line: u32,
    #[serde(skip)]
    pub name_line: u32,
    #[serde(skip)]
    pub source_line: u32,
    #[serde(skip)]
    pub schedule_line: u32,
    #[serde(skip)]
    pub timeout_line: u32,
}

/// The `file:line` a plan names a worker by: its loop, or the line
/// registering its job with a scheduler library.
pub fn source_of(w: &Worker) -> Option<String> {
    let work = w.work.as_ref()?;
    match (&work.gate, &work.job) {
        (Some(g), _) => Some(format!("{}:{}", g.file, g.loop_line)),
        (None, Some(j)) => Some(format!("{}:{}", j.file, j.line)),
        (None, None) => None,
    }
}

/// The workers a scheduled function can run: one per loop. Two start
/// sites can reach one loop (a fn joined beside the server that spawns the
/// loop, and that spawn itself); the first in entry point order names it.
pub fn schedulable(a: &Analysis) -> impl Iterator<Item = &Worker> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    a.workers
        .iter()
        .filter(move |w| source_of(w).is_some_and(|s| seen.insert(s)))
}

pub(super) fn read(
    root: &Table,
    lines: &Lines,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<PlanWorker> {
    let mut out = Vec::new();
    let line_of = |item: &Item| item.span().map(|s| lines.at(s.start)).unwrap_or(1);
    let Some(item) = root.get("worker") else {
        return out;
    };
    let Some(tables) = item.as_array_of_tables() else {
        diags.push(Diagnostic::new(
            "plan",
            Severity::Error,
            file,
            line_of(item),
            "`worker` must be written as `[[worker]]` tables".to_owned(),
        ));
        return out;
    };
    for t in tables.iter() {
        let header = t.span().map(|s| lines.at(s.start)).unwrap_or(1);
        let at = |key: &str| t.get(key).map(&line_of).unwrap_or(header);
        let mut err = |line: u32, msg: String| {
            diags.push(Diagnostic::new("plan", Severity::Error, file, line, msg))
        };
        let mut string = |key: &str, example: &str| match t.get(key) {
            Some(v) => match v.as_str() {
                Some(s) => s.to_owned(),
                None => {
                    err(
                        at(key),
                        format!("`{key}` must be a string: {key} = {example}"),
                    );
                    String::new()
                }
            },
            None => {
                err(
                    header,
                    format!("this `[[worker]]` has no `{key}` ({key} = {example})"),
                );
                String::new()
            }
        };
        let name = string("name", "\"cart-sweep\"");
        let source = string("source", "\"src/jobs.rs:14\"");
        let schedule = string("schedule", "\"rate(5 minutes)\"");
        let mut int = |key: &str, default: i64, (lo, hi): (i64, i64)| -> u32 {
            match t.get(key) {
                None => default as u32,
                Some(v) => match v.as_integer() {
                    Some(n) if (lo..=hi).contains(&n) => n as u32,
                    _ => {
                        err(
                            line_of(v),
                            format!("`{key}` must be an integer in {lo}..={hi}"),
                        );
                        default as u32
                    }
                },
            }
        };
        let memory_mb = int("memory_mb", DEFAULT_MEMORY_MB, MEMORY_RANGE);
        let timeout_s = int("timeout_s", DEFAULT_WORKER_TIMEOUT_S, TIMEOUT_RANGE);
        out.push(PlanWorker {
            name,
            source,
            schedule,
            memory_mb,
            timeout_s,
            line: header,
            name_line: at("name"),
            source_line: at("source"),
            schedule_line: at("schedule"),
            timeout_line: at("timeout_s"),
        });
    }
    out
}

/// Checks the plan's workers against the analysis: each names a loop a
/// function can run, once; names are crate-safe and unique among functions
/// and packages; the schedule is one EventBridge reads; a timeout longer
/// than the pace is a warning (the next event starts a second instance).
pub(super) fn validate(
    plan: &super::Plan,
    analysis: &Analysis,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let mut push = |severity, line, msg: String| {
        diags.push(Diagnostic::new("plan", severity, file, line, msg));
    };
    let mut names: BTreeSet<&str> = plan.functions.iter().map(|f| f.name.as_str()).collect();
    let mut sources: BTreeSet<&str> = BTreeSet::new();
    for w in &plan.workers {
        if !w.name.is_empty() && !valid_name(&w.name) {
            push(
                Severity::Error,
                w.name_line,
                format!(
                    "worker name {:?} is not crate-safe: use lower-case letters, digits and single `-`, starting with a letter, at most 48 characters (e.g. \"{}\")",
                    w.name,
                    crate::partition::crate_safe(&w.name)
                ),
            );
        } else if !w.name.is_empty() && !names.insert(&w.name) {
            push(
                Severity::Error,
                w.name_line,
                format!(
                    "worker name `{}` is already a function's or a worker's; rename it",
                    w.name
                ),
            );
        } else if analysis.packages.iter().any(|p| p.name == w.name) {
            push(
                Severity::Error,
                w.name_line,
                format!(
                    "worker name `{}` is the name of a package; the generated workspace holds both, so rename it (e.g. \"{}-worker\")",
                    w.name, w.name
                ),
            );
        }
        let known = analysis
            .workers
            .iter()
            .find(|k| source_of(k).as_deref() == Some(w.source.as_str()));
        match known {
            None if !w.source.is_empty() => {
                let listed: Vec<String> = schedulable(analysis).filter_map(source_of).collect();
                let blocked = analysis.workers.iter().find_map(|k| {
                    let work = k.work.as_ref()?;
                    let why = work.blocked.as_ref()?;
                    why.contains(&w.source).then(|| why.clone())
                });
                push(
                    Severity::Error,
                    w.source_line,
                    match blocked {
                        Some(why) => format!(
                            "worker `{}`: no function can run the loop at {}: {why}",
                            w.name, w.source
                        ),
                        None => format!(
                            "worker `{}`: no interval loop or scheduled job at {}; cleave found {}",
                            w.name,
                            w.source,
                            if listed.is_empty() {
                                "none".to_owned()
                            } else {
                                listed.join(", ")
                            }
                        ),
                    },
                );
            }
            _ => {}
        }
        if !w.source.is_empty() && !sources.insert(&w.source) {
            push(
                Severity::Error,
                w.source_line,
                format!("the loop at {} has two workers; keep one", w.source),
            );
        }
        if w.schedule.is_empty() {
            continue;
        }
        if let Err(e) = schedule::check(&w.schedule) {
            push(
                Severity::Error,
                w.schedule_line,
                format!("worker `{}`: schedule {:?}: {e}", w.name, w.schedule),
            );
            continue;
        }
        let period = schedule::period_secs(&w.schedule)
            .or_else(|| known.and_then(|k| k.work.as_ref()?.every_s));
        if let Some(p) = period
            && u64::from(w.timeout_s) > p
        {
            push(
                Severity::Warning,
                w.timeout_line,
                format!(
                    "worker `{}`: timeout_s = {} is longer than its pace ({p} s): a round still \
                     running when the next event comes runs beside a second instance, which the \
                     loop never did; lower the timeout or slow the schedule",
                    w.name, w.timeout_s
                ),
            );
        }
    }
}

/// A `[[worker]]` table for a worker the analysis found, with a comment
/// saying what it runs and how its schedule was read.
fn table(w: &Worker, name: &str) -> Option<Table> {
    let source = source_of(w)?;
    let work = w.work.as_ref()?;
    let mut t = Table::new();
    let mut comment = format!(
        "\n# runs one round of {} per event ({}:{}), started at {}:{}",
        w.handler, w.file, w.line, w.registered.file, w.registered.line
    );
    if let Some(note) = &work.note {
        comment.push_str(&format!("\n# schedule: {note}"));
    }
    t.decor_mut().set_prefix(format!("{comment}\n"));
    t["name"] = value(name);
    t["source"] = value(source);
    t["schedule"] = value(&work.schedule);
    t["memory_mb"] = value(DEFAULT_MEMORY_MB);
    t["timeout_s"] = value(DEFAULT_WORKER_TIMEOUT_S);
    Some(t)
}

/// A name for a proposed worker that no function or package has.
fn free_name(base: &str, taken: &BTreeSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_owned();
    }
    let mut name = format!("{base}-worker");
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-worker-{n}");
        n += 1;
    }
    name
}

/// The names a worker may not take: functions' (in `doc`) and packages'.
fn taken(doc: &DocumentMut, analysis: &Analysis) -> BTreeSet<String> {
    let mut taken: BTreeSet<String> = analysis.packages.iter().map(|p| p.name.clone()).collect();
    for key in ["function", "worker"] {
        if let Some(tables) = doc.get(key).and_then(Item::as_array_of_tables) {
            taken.extend(
                tables
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Item::as_str))
                    .map(str::to_owned),
            );
        }
    }
    taken
}

/// Adds a `[[worker]]` for every loop a function can run (fresh plans).
pub(super) fn propose(doc: &mut DocumentMut, analysis: &Analysis) {
    let mut tables = ArrayOfTables::new();
    let mut taken = taken(doc, analysis);
    for w in schedulable(analysis) {
        let name = free_name(&w.name, &taken);
        if let Some(t) = table(w, &name) {
            taken.insert(name);
            tables.push(t);
        }
    }
    if !tables.is_empty() {
        doc["worker"] = Item::ArrayOfTables(tables);
    }
}

/// Workers as `(name, source)`.
type Named = Vec<(String, String)>;

/// Merges the analysis's workers into an edited plan; returns the workers
/// added and removed.
pub(super) fn merge(doc: &mut DocumentMut, analysis: &Analysis) -> (Named, Named) {
    let known: Vec<(&Worker, String)> = schedulable(analysis)
        .filter_map(|w| Some((w, source_of(w)?)))
        .collect();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut held: BTreeSet<String> = BTreeSet::new();
    if let Some(tables) = doc.get_mut("worker").and_then(Item::as_array_of_tables_mut) {
        let mut i = 0;
        while i < tables.len() {
            let Some(t) = tables.get_mut(i) else { break };
            let name = t
                .get("name")
                .and_then(Item::as_str)
                .unwrap_or("")
                .to_owned();
            let source = t
                .get("source")
                .and_then(Item::as_str)
                .unwrap_or("")
                .to_owned();
            if known.iter().any(|(_, s)| *s == source) {
                held.insert(source);
                i += 1;
                continue;
            }
            // The loop moved: the worker of the same proposed name, if its
            // new place is held by no other entry.
            let moved = known
                .iter()
                .find(|(w, s)| w.name == name && !held.contains(s))
                .map(|(_, s)| s.clone());
            match moved {
                Some(s) => {
                    t["source"] = value(&s);
                    held.insert(s);
                    i += 1;
                }
                None => {
                    removed.push((name, source));
                    tables.remove(i);
                }
            }
        }
    }
    let mut taken = taken(doc, analysis);
    for (w, source) in &known {
        if held.contains(source) {
            continue;
        }
        let name = free_name(&w.name, &taken);
        let Some(mut t) = table(w, &name) else {
            continue;
        };
        let prefix = t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("\n")
            .to_owned();
        t.decor_mut()
            .set_prefix(format!("\n# new: proposed by cleave{prefix}"));
        taken.insert(name.clone());
        added.push((name, source.clone()));
        match doc.get_mut("worker").and_then(Item::as_array_of_tables_mut) {
            Some(tables) => tables.push(t),
            None => {
                let mut tables = ArrayOfTables::new();
                tables.push(t);
                doc["worker"] = Item::ArrayOfTables(tables);
            }
        }
    }
    (added, removed)
}
