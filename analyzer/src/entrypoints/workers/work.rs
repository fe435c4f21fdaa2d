//! What an interval loop does each round, for a scheduled function that
//! runs one round per event: the loop, the statement that waits (the
//! interval's `tick`, a `sleep`), the pace the code gives it as an
//! EventBridge rate, and what rules a function out (a wait cleave cannot
//! take over, state carried from one round to the next).
//!
//! Input: the lowered syntax of the fn or block holding the loop. Output:
//! [`Work`]. Reads lines only; never the disk.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::resolve::{Def, DefMap, FnId};
use crate::schedule;
use crate::syntax::{Block, Expr, ItemKind, Pat, Stmt, WrapKind};

/// A scheduled worker as a function could run it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Work {
    /// The EventBridge schedule of the loop's pace (`rate(5 minutes)`), or a
    /// default when the code computes the pace at run time.
    pub schedule: String,
    /// Seconds between rounds as the code writes them, when it fixes them.
    pub every_s: Option<u64>,
    /// How the schedule was read, when it is not the code's pace exactly.
    pub note: Option<String>,
    /// Where a scheduled function takes over the loop's pace; `None` when
    /// `blocked`.
    pub gate: Option<Gate>,
    /// Where a scheduled function takes over a scheduler library's job;
    /// `None` for a loop, or when `blocked`.
    pub job: Option<JobGate>,
    /// Why no scheduled function is generated for it, in one phrase.
    pub blocked: Option<String>,
}

/// The lines of a loop a scheduled function edits: a gate before the
/// body's first statement (it waits for the next event, and tells the
/// previous one its round is done), and the statement that waits, run only
/// where no gate drives the loop.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Gate {
    pub file: String,
    /// The loop's line.
    pub loop_line: u32,
    /// First line of the body's first statement.
    pub first: u32,
    /// First and last line of the statement that waits.
    pub wait: (u32, u32),
    /// Whether the loop runs in async code (`.await`) or blocks a thread.
    pub awaits: bool,
}

/// A job of a scheduler library a scheduled function edits: its pace
/// argument becomes `::cleave_lambda::pace("<name>", <pace>, <driven>)`
/// (every second where the worker function drives it), and the closure's
/// work starts with `let Some(..) = ::cleave_lambda::round("<name>") else
/// { return };`, which lets a run through only for an event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct JobGate {
    pub file: String,
    /// The job's line: where its pace is written.
    pub line: u32,
    pub pace: ArgAt,
    /// The pace argument in the job's worker function, as Rust.
    pub driven: String,
    pub closure: ArgAt,
}

/// An argument of a call: the called fn's or method's name, the line of
/// that name, and the argument's index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ArgAt {
    pub call: String,
    pub line: u32,
    pub index: usize,
}

/// Walks every expression of the code around a loop (the fn body or the
/// spawned block holding it).
pub(super) type Scope<'s> = &'s dyn Fn(&mut dyn FnMut(&Expr));

/// When the code's pace is computed at run time.
pub const DEFAULT_SCHEDULE: &str = "rate(5 minutes)";

/// What the loop `lp` (in fn `f`, whose locals are `lets`, inside `scope`)
/// does per round.
pub(super) fn read(
    defs: &DefMap<'_>,
    f: FnId,
    lets: &BTreeMap<&str, &Expr>,
    scope: Scope<'_>,
    lp: &Expr,
) -> Work {
    let file = defs.fns[f].file;
    let Expr::Loop { body, line, .. } = lp else {
        return blocked("no loop", None);
    };
    let pace = pace(defs, f, lets, scope, body);
    let (schedule, note) = match pace.secs {
        Some(secs) => {
            let c = schedule::rate(secs);
            (c.expression, c.note)
        }
        None => (
            DEFAULT_SCHEDULE.to_owned(),
            Some(format!(
                "the code computes its pace at run time ({}); {DEFAULT_SCHEDULE} is a guess, \
                 set `schedule`",
                pace.written
            )),
        ),
    };
    let mut work = Work {
        schedule,
        every_s: pace.secs,
        note,
        gate: None,
        job: None,
        blocked: None,
    };
    if let Some((name, at)) = carried(body) {
        // Nested blocks keep no lines: the loop's then.
        let at = if at == 0 { *line } else { at };
        work.blocked = Some(format!(
            "the loop carries `{name}` from one round to the next ({file}:{at}); a function \
             starts afresh on each cold start, so it would lose it"
        ));
        return work;
    }
    match gate(body, *line) {
        Ok(mut g) => {
            g.file = file.to_owned();
            work.gate = Some(g);
        }
        Err(why) => work.blocked = Some(format!("{why} ({file}:{line})")),
    }
    work
}

/// A worker no function can run, and why.
pub(super) fn blocked(why: &str, schedule: Option<String>) -> Work {
    Work {
        schedule: schedule.unwrap_or_else(|| DEFAULT_SCHEDULE.to_owned()),
        every_s: None,
        note: None,
        gate: None,
        job: None,
        blocked: Some(why.to_owned()),
    }
}

/// The loop's wait and where the gate goes: the wait must be a statement
/// of its own in the loop's body, on lines no other statement shares, and
/// the body's first statement on a line after the loop's.
fn gate(body: &Block, loop_line: u32) -> Result<Gate, &'static str> {
    let waits = body.stmts.iter().position(|s| match s {
        Stmt::Semi(e) | Stmt::Expr(e) => wait_kind(e).is_some(),
        _ => false,
    });
    let Some(i) = waits else {
        return Err(
            "the loop waits inside an expression (a `select!`, a `match`), not in a \
                    statement of its own, so cleave cannot take over its pace",
        );
    };
    let lines = |k: usize| body.lines.get(k).copied().unwrap_or((0, 0));
    let first = lines(0).0;
    let wait = lines(i);
    let shares = (i > 0 && lines(i - 1).1 >= wait.0)
        || (i + 1 < body.stmts.len() && lines(i + 1).0 <= wait.1);
    if first == 0 || wait.0 == 0 || first <= loop_line || shares {
        return Err(
            "the loop's statements share lines, so cleave cannot edit its pace \
                    line by line; put each statement on its own line (rustfmt does)",
        );
    }
    let awaits = match &body.stmts[i] {
        Stmt::Semi(e) | Stmt::Expr(e) => wait_kind(e) == Some(true),
        _ => false,
    };
    Ok(Gate {
        file: String::new(),
        loop_line,
        first,
        wait,
        awaits,
    })
}

/// `Some(true)` for an awaited wait (`ticker.tick().await`,
/// `sleep(d).await`), `Some(false)` for a blocking one
/// (`thread::sleep(d)`), `None` for anything else.
fn wait_kind(e: &Expr) -> Option<bool> {
    let (inner, awaits) = match e {
        Expr::Wrap {
            kind: WrapKind::Await,
            inner,
        } => (inner.as_ref(), true),
        other => (other, false),
    };
    match inner {
        Expr::MethodCall { method, .. } if awaits && method == "tick" => Some(true),
        Expr::Call { func, .. } => match func.peel() {
            Expr::Path { path, .. }
                if matches!(
                    path.last(),
                    Some("sleep" | "sleep_until" | "delay_for" | "delay_until")
                ) =>
            {
                Some(awaits)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The first local declared outside the loop that a statement in it
/// assigns (`last = id;`, `count += 1;`, `self.seen = ..;`), with the line.
fn carried(body: &Block) -> Option<(String, u32)> {
    let mut inner: BTreeSet<&str> = BTreeSet::new();
    super::super::locals::lets_in_block(body, &mut |n, _| {
        inner.insert(n);
    });
    collect_let_pats(body, &mut inner);
    let mut found = None;
    visit_stmts(body, &mut |s, line| {
        if found.is_some() {
            return;
        }
        // A binary expression alone as a statement is an assignment
        // (`a = b`, `a += b`): anything else would be unused.
        if let Stmt::Semi(Expr::Other(parts)) = s
            && let [target, _] = parts.as_slice()
            && let Some(name) = root_local(target)
            && !inner.contains(name)
        {
            found = Some((name.to_owned(), line));
        }
    });
    found
}

/// [`carried`] for the body of a job's closure.
pub(super) fn carried_in(body: &Expr) -> Option<(String, u32)> {
    match body {
        Expr::Block { block, .. } => carried(block),
        other => carried(&Block {
            stmts: vec![Stmt::Semi(other.clone())],
            lines: Box::new([(0, 0)]),
        }),
    }
}

/// Names bound by `let` patterns anywhere in a block (tuples and structs included).
fn collect_let_pats<'a>(b: &'a Block, out: &mut BTreeSet<&'a str>) {
    fn pat<'a>(p: &'a Pat, out: &mut BTreeSet<&'a str>) {
        match p {
            Pat::Ident(n) => {
                out.insert(n);
            }
            Pat::TupleStruct(_, ps) | Pat::Tuple(ps) | Pat::Or(ps) => {
                ps.iter().for_each(|p| pat(p, out))
            }
            Pat::Struct(_, fs) => fs.iter().for_each(|(_, p)| pat(p, out)),
            Pat::Ref(p) => pat(p, out),
            Pat::Path(_) | Pat::Other => {}
        }
    }
    visit_stmts(b, &mut |s, _| {
        if let Stmt::Let { pat: p, .. } = s {
            pat(p, out);
        }
    });
}

/// Every statement of a block and of the blocks nested in its expressions,
/// with its first line.
fn visit_stmts<'a>(b: &'a Block, f: &mut dyn FnMut(&'a Stmt, u32)) {
    for (i, s) in b.stmts.iter().enumerate() {
        f(s, b.lines.get(i).map_or(0, |l| l.0));
        let mut nested = |e: &'a Expr| {
            e.walk(&mut |x| {
                let block = match x {
                    Expr::Block { block, .. } | Expr::If { then: block, .. } => Some(block),
                    Expr::Loop { body, .. } => Some(body),
                    _ => None,
                };
                if let Some(block) = block {
                    for (j, s) in block.stmts.iter().enumerate() {
                        if let Stmt::Semi(_) = s {
                            f(s, block.lines.get(j).map_or(0, |l| l.0));
                        }
                    }
                }
            })
        };
        match s {
            Stmt::Let { init: Some(e), .. } | Stmt::Expr(e) | Stmt::Semi(e) => nested(e),
            _ => {}
        }
    }
}

/// The local an assignment's target starts from: `x`, `x.field`, `*x`, `x[i]`.
fn root_local(e: &Expr) -> Option<&str> {
    match e {
        Expr::Path { path, .. } if !path.leading_colon && path.segments.len() == 1 => path.last(),
        Expr::Field { base, .. } => root_local(base),
        Expr::Wrap { inner, .. } => root_local(inner),
        Expr::Other(parts) => parts.first().and_then(root_local),
        _ => None,
    }
}

/// The loop's pace: the seconds the code gives it, and how it is written.
struct Pace {
    secs: Option<u64>,
    written: String,
}

/// The duration of the interval the scope creates (`interval(d)`,
/// `interval_at(start, d)`), else of the loop's sleep.
fn pace(
    defs: &DefMap<'_>,
    f: FnId,
    lets: &BTreeMap<&str, &Expr>,
    scope: Scope<'_>,
    body: &Block,
) -> Pace {
    let mut arg: Option<Expr> = None;
    scope(&mut |x| {
        if arg.is_none()
            && let Expr::Call { func, args, .. } = x
            && let Expr::Path { path, .. } = func.peel()
        {
            match (path.last(), args.as_slice()) {
                (Some("interval"), [d]) | (Some("interval_at"), [_, d]) => arg = Some(d.clone()),
                _ => {}
            }
        }
    });
    if arg.is_none() {
        body.walk(&mut |x| {
            if arg.is_none()
                && let Expr::Call { func, args, .. } = x
                && let Expr::Path { path, .. } = func.peel()
                && matches!(path.last(), Some("sleep" | "delay_for"))
                && let [d] = args.as_slice()
            {
                arg = Some(d.clone());
            }
        });
    }
    match arg {
        Some(d) => Pace {
            secs: duration_secs(defs, f, lets, &d, 0),
            written: crate::syntax::expr_text(&d),
        },
        None => Pace {
            secs: None,
            written: "no interval or sleep cleave can read".to_owned(),
        },
    }
}

/// Seconds of a `Duration` written with literals: `Duration::from_secs(60)`,
/// `from_millis`, `from_mins`, `Duration::new(30, 0)`, through a local or a
/// `const`; `None` when computed at run time.
pub(super) fn duration_secs(
    defs: &DefMap<'_>,
    f: FnId,
    lets: &BTreeMap<&str, &Expr>,
    e: &Expr,
    depth: u32,
) -> Option<u64> {
    if depth > 4 {
        return None;
    }
    match e.peel() {
        Expr::Call { func, args, .. } => {
            let Expr::Path { path, .. } = func.peel() else {
                return None;
            };
            let n = match args.first().map(Expr::peel) {
                Some(Expr::Lit {
                    lit: crate::syntax::Lit::Int(n),
                    ..
                }) => *n,
                _ => return None,
            };
            match path.last()? {
                "from_secs" | "new" => Some(n),
                "from_millis" => Some(n.div_ceil(1000)),
                "from_mins" => n.checked_mul(60),
                "from_hours" => n.checked_mul(3600),
                _ => None,
            }
        }
        Expr::Path { path, .. } => {
            if let Some(init) = super::local(path).and_then(|n| lets.get(n)) {
                return duration_secs(defs, f, lets, init, depth + 1);
            }
            let names: Vec<&str> = path.names().collect();
            defs.resolve_names(defs.fns[f].module, &names, false)
                .into_iter()
                .find_map(|d| match d {
                    Def::Static(s) => match &defs.statics[s].item.kind {
                        ItemKind::Const { init, .. } | ItemKind::Static { init, .. } => {
                            duration_secs(defs, f, lets, init, depth + 1)
                        }
                        _ => None,
                    },
                    _ => None,
                })
        }
        _ => None,
    }
}

/// A worker of the served app, as the plan proposes it and codegen
/// generates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Worker {
    /// Proposed function name (crate-safe).
    pub name: String,
    pub handler: String,
    /// Where the handler is defined.
    pub file: String,
    pub line: u32,
    /// Where `main`'s start-up starts it.
    pub registered: super::super::Location,
    /// `None` for work that runs on no schedule (a consumer waiting on a
    /// channel, a task started once).
    pub work: Option<Work>,
}

/// The workers among `entrypoints`, each with what it does per round,
/// named after its handler (`shop::jobs::cart_expiry_sweep` ->
/// `cart-expiry-sweep`; a closure after the fn around it), in entry point
/// order, names made unique with `-2`, `-3`.
pub fn workers(
    entrypoints: &[super::super::EntryPoint],
    works: &BTreeMap<(String, super::super::Location), Work>,
) -> Vec<Worker> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for e in entrypoints.iter().filter(|e| !e.kind.is_route()) {
        let mut segments = e.handler.rsplit("::").filter(|s| *s != "{closure}");
        let base = match (e.handler.ends_with("::{closure}"), segments.next()) {
            (true, Some(f)) => format!("{f}-worker"),
            (false, Some(f)) => f.to_owned(),
            _ => "worker".to_owned(),
        };
        let base = crate::partition::crate_safe(&base);
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        out.push(Worker {
            name,
            handler: e.handler.clone(),
            file: e.at.file.clone(),
            line: e.at.line,
            registered: e.registered.clone(),
            work: works
                .get(&(e.handler.clone(), e.registered.clone()))
                .cloned(),
        });
    }
    out
}
