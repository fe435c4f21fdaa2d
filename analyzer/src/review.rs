//! Review: a plan checked against the code, with what it costs.
//!
//! Input: an [`Analysis`] and a parsed [`Plan`]; output: a [`Review`] with
//! the plan's errors and warnings (as diagnostics naming plan lines), the
//! per-function numbers, the plan's metrics, and the same metrics for every
//! preset side by side so a reviewer sees what an edit costs. Pure data; the
//! HTML report renders it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
use crate::hazards::Hazard;
use crate::partition::{self, FunctionMetrics, Granularity, Move, PlanMetrics, STATE_HAZARDS};
use crate::plan::{self, Plan};

pub const SCHEMA: &str = "cleave.review/1";

/// How many moves the text review lists.
const MOVES_SHOWN: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct FunctionReview {
    pub name: String,
    pub routes: Vec<String>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub metrics: FunctionMetrics,
    /// Hazards its routes reach: `code file:line`.
    pub hazards: Vec<String>,
    /// Canonical ids of fns only this function reaches (its own code).
    pub exclusive_fns: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PresetMetrics {
    pub preset: &'static str,
    #[serde(flatten)]
    pub metrics: PlanMetrics,
}

/// The shared code of one module: fns two or more functions deploy.
#[derive(Debug, Clone, Serialize)]
pub struct CoreModule {
    /// Canonical module path.
    pub module: String,
    pub fns: usize,
    pub lines: u64,
    /// The functions deploying some of it, in plan order.
    pub deployed_by: Vec<CoreUse>,
}

/// How much of a module's shared code one function deploys.
#[derive(Debug, Clone, Serialize)]
pub struct CoreUse {
    pub function: String,
    pub lines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub schema: &'static str,
    pub project: String,
    pub plan_file: String,
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
    pub functions: Vec<FunctionReview>,
    pub metrics: PlanMetrics,
    pub presets: Vec<PresetMetrics>,
    /// What moving each route to the function sharing most of its code
    /// would change, best first.
    pub moves: Vec<Move>,
    /// Fns reached by more than one function: the shared core.
    pub shared_core: Vec<String>,
    /// The shared core by module, most lines first: what the report's
    /// graph draws between the functions.
    pub core_modules: Vec<CoreModule>,
    pub hazards: Vec<Hazard>,
}

/// Reviews `plan` (read from `file`) against `analysis`. `parse_diags` are
/// the problems found while reading the plan.
pub fn review(
    analysis: &Analysis,
    plan: &Plan,
    file: &str,
    parse_diags: Vec<Diagnostic>,
) -> Review {
    let mut diagnostics = parse_diags;
    diagnostics.extend(plan::validate(plan, analysis, file));
    let groups = plan::groups(plan);
    let metrics = partition::metrics(analysis, &groups);

    // Warnings: state split apart, blocking hazards, size over the user's limit.
    let owner: BTreeMap<&str, &str> = plan
        .functions
        .iter()
        .flat_map(|f| f.routes.iter().map(move |r| (r.as_str(), f.name.as_str())))
        .collect();
    for h in &analysis.hazards {
        if !STATE_HAZARDS.contains(&h.code) {
            continue;
        }
        let holders: BTreeSet<&str> = h
            .entrypoints
            .iter()
            .filter_map(|r| owner.get(r.as_str()).copied())
            .collect();
        if holders.len() > 1 {
            diagnostics.push(Diagnostic::new(
                "state-split",
                Severity::Warning,
                file,
                0,
                format!(
                    "`{}` ({}:{}) is in-process state used by routes in {} functions ({}); each function gets its own copy — move it to a shared store or keep these routes together",
                    h.item,
                    h.file,
                    h.line,
                    holders.len(),
                    holders.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut functions = Vec::new();
    for (f, m) in plan.functions.iter().zip(metrics.functions.iter()) {
        let route_set: BTreeSet<&str> = f.routes.iter().map(String::as_str).collect();
        let reached: Vec<&Hazard> = analysis
            .hazards
            .iter()
            .filter(|h| h.entrypoints.iter().any(|e| route_set.contains(e.as_str())))
            .collect();
        for h in reached.iter().filter(|h| h.severity == Severity::Error) {
            diagnostics.push(Diagnostic::new(
                "blocking-hazard",
                Severity::Warning,
                file,
                f.line,
                format!(
                    "function `{}` reaches [{}] at {}:{}: {}",
                    f.name, h.code, h.file, h.line, h.message
                ),
            ));
        }
        if let Some(max) = plan.max_reachable_lines
            && m.reachable_lines > max
        {
            diagnostics.push(Diagnostic::new(
                "too-large",
                Severity::Warning,
                file,
                f.line,
                format!(
                    "function `{}` reaches {} lines, over max_reachable_lines = {max}; split it",
                    f.name, m.reachable_lines
                ),
            ));
        }
        functions.push(FunctionReview {
            name: f.name.clone(),
            routes: f.routes.clone(),
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            metrics: m.clone(),
            hazards: reached
                .iter()
                .map(|h| format!("{} {}:{}", h.code, h.file, h.line))
                .collect(),
            exclusive_fns: Vec::new(),
        });
    }
    // Exclusive code and the shared core.
    let reaches: Vec<BTreeSet<usize>> = groups
        .iter()
        .map(|(_, rs)| partition::reach_of(analysis, rs))
        .collect();
    let mut count: BTreeMap<usize, usize> = BTreeMap::new();
    for r in &reaches {
        for f in r {
            *count.entry(*f).or_default() += 1;
        }
    }
    for (fr, r) in functions.iter_mut().zip(&reaches) {
        fr.exclusive_fns = r
            .iter()
            .filter(|f| count[f] == 1)
            .map(|f| analysis.fns[*f].id.clone())
            .collect();
        fr.exclusive_fns.sort();
    }
    let mut shared_core: Vec<String> = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(f, _)| analysis.fns[*f].id.clone())
        .collect();
    shared_core.sort();
    let core_modules = core_modules(analysis, plan, &reaches, &count);

    let presets = Granularity::ALL
        .iter()
        .map(|g| {
            let proposal = partition::propose(analysis, *g);
            let groups: Vec<(String, Vec<String>)> =
                proposal.into_iter().map(|g| (g.name, g.routes)).collect();
            PresetMetrics {
                preset: g.name(),
                metrics: partition::metrics(analysis, &groups).plan,
            }
        })
        .collect();
    diagnostics.sort();
    diagnostics.dedup();
    let ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    Review {
        schema: SCHEMA,
        project: analysis.project.name.clone(),
        plan_file: file.to_owned(),
        ok,
        diagnostics,
        functions,
        metrics: metrics.plan,
        presets,
        // Moves are costed on a plan that places every route once.
        moves: if ok {
            partition::moves(analysis, &groups)
        } else {
            Vec::new()
        },
        shared_core,
        core_modules,
        hazards: analysis.hazards.clone(),
    }
}

/// The shared core (fns `count` says two or more functions reach) by module.
fn core_modules(
    analysis: &Analysis,
    plan: &Plan,
    reaches: &[BTreeSet<usize>],
    count: &BTreeMap<usize, usize>,
) -> Vec<CoreModule> {
    let module = |f: &usize| analysis.fns[*f].module.as_str();
    let lines = |f: &usize| u64::from(analysis.fns[*f].lines);
    let mut by_module: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for f in count.iter().filter(|(_, n)| **n > 1).map(|(f, _)| f) {
        let e = by_module.entry(module(f)).or_default();
        e.0 += 1;
        e.1 += lines(f);
    }
    let mut out: Vec<CoreModule> = by_module
        .into_iter()
        .map(|(m, (fns, total))| CoreModule {
            module: m.to_owned(),
            fns,
            lines: total,
            deployed_by: plan
                .functions
                .iter()
                .zip(reaches)
                .filter_map(|(f, r)| {
                    let mine: u64 = r
                        .iter()
                        .filter(|x| count[x] > 1 && module(x) == m)
                        .map(lines)
                        .sum();
                    let uses = r.iter().any(|x| count[x] > 1 && module(x) == m);
                    uses.then(|| CoreUse {
                        function: f.name.clone(),
                        lines: mine,
                    })
                })
                .collect(),
        })
        .collect();
    out.sort_by(|x, y| y.lines.cmp(&x.lines).then(x.module.cmp(&y.module)));
    out
}

/// The review as text: problems, the function table, the metrics beside every preset's.
pub fn render_text(r: &Review) -> String {
    let mut out = String::new();
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = r.diagnostics.len() - errors;
    out.push_str(&format!(
        "Review of {} for `{}`: {} error(s), {} warning(s)\n",
        r.plan_file, r.project, errors, warnings
    ));
    for d in &r.diagnostics {
        out.push_str(&format!("  {d}\n"));
    }
    out.push_str(&format!("\nFunctions ({})\n", r.functions.len()));
    out.push_str(&format!(
        "  {:<28} {:>6} {:>10} {:>10} {:>8} {:>8}\n",
        "NAME", "ROUTES", "REACHABLE", "EXCLUSIVE", "SHARED", "HAZARDS"
    ));
    for f in &r.functions {
        out.push_str(&format!(
            "  {:<28} {:>6} {:>10} {:>10} {:>8} {:>8}\n",
            f.name,
            f.metrics.routes,
            f.metrics.reachable_lines,
            f.metrics.exclusive_lines,
            f.metrics.shared_lines,
            f.metrics.hazards
        ));
    }
    out.push_str("\nPlan metrics (this plan beside each preset)\n");
    out.push_str(&format!(
        "  {:<10} {:>9} {:>11} {:>14} {:>10} {:>7} {:>6} {:>6} {:>13}\n",
        "PLAN",
        "FUNCTIONS",
        "ROUTES/FN",
        "DEPLOYED/MONO",
        "CROSS-EDGE",
        "SM",
        "IFN",
        "NED",
        "HAZARDS/FN"
    ));
    let row = |name: &str, m: &PlanMetrics| {
        format!(
            "  {:<10} {:>9} {:>11.2} {:>14.2} {:>10.3} {:>7.3} {:>6.2} {:>6.2} {:>13.2}\n",
            name,
            m.functions,
            m.routes_per_function,
            m.deployed_over_monolith,
            m.cross_function_edges,
            m.sm,
            m.ifn,
            m.ned,
            m.hazards_per_function
        )
    };
    out.push_str(&row("yours", &r.metrics));
    for p in &r.presets {
        out.push_str(&row(p.preset, &p.metrics));
    }
    if !r.moves.is_empty() {
        out.push_str("\nBest moves (change of SM, X, D/M if the route moves; best first)\n");
        let shown: Vec<(String, &Move)> = r
            .moves
            .iter()
            .take(MOVES_SHOWN)
            .map(|m| {
                let route = match m.routes.as_slice() {
                    [first, rest @ ..] if !rest.is_empty() => format!("{first} (+{})", rest.len()),
                    routes => routes.join(""),
                };
                (route, m)
            })
            .collect();
        let w = |f: &dyn Fn(&(String, &Move)) -> usize, min: usize| {
            shown.iter().map(f).max().unwrap_or(0).max(min)
        };
        let (rw, fw, tw) = (
            w(&|(r, _)| r.len(), 5),
            w(&|(_, m)| m.from.len(), 4),
            w(&|(_, m)| m.to.len(), 2),
        );
        out.push_str(&format!(
            "  {:<rw$} {:<fw$} {:<tw$} {:>7} {:>7} {:>7}\n",
            "ROUTE", "FROM", "TO", "SM", "X", "D/M"
        ));
        for (route, m) in &shown {
            out.push_str(&format!(
                "  {:<rw$} {:<fw$} {:<tw$} {:>+7.3} {:>+7.3} {:>+7.3}\n",
                route, m.from, m.to, m.sm, m.x, m.dm
            ));
        }
        if r.moves.len() > MOVES_SHOWN {
            out.push_str(&format!(
                "  ({} more in --format json)\n",
                r.moves.len() - MOVES_SHOWN
            ));
        }
    }
    out.push_str(if r.ok {
        "\nThe plan is valid.\n"
    } else {
        "\nThe plan has errors; fix them and run `cleave review` again.\n"
    });
    out
}
