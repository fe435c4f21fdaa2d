//! Edits of the monolith's code made while it is copied, each found in
//! the file's syntax (syn, with line and byte positions) from what the
//! analysis names on a line, never by scanning text, and each listed in
//! MIGRATION.md with the monolith's file:line:
//!
//! - `[deploy] pool_max = N`: every connection pool the analysis found gets
//!   its size capped at N ([`PoolSize`] says where the size is written, or
//!   can be). A pool whose library takes its size elsewhere (a config
//!   struct, Rocket.toml) is left as it is and listed with the library's
//!   own way to size it.
//! - Migrations and schema DDL the start-up code runs (`startup-work`) are
//!   wrapped in `if ::std::env::var_os("CLEAVE_SKIP_MIGRATIONS").is_none()`;
//!   template.yaml sets that variable, so deployed functions do not migrate
//!   on every cold start, while local runs and `cargo lambda watch` start
//!   as the monolith does. MIGRATION.md says how to run them once per
//!   deployment instead.
//! - Each scheduled worker's loop (`[[worker]]`): its body's first
//!   statement gets `::cleave_lambda::gate("<name>").await;` before it, and
//!   the statement that waits (`ticker.tick().await;`) is wrapped in
//!   `if !::cleave_lambda::paced("<name>") { .. }`, so that the worker's
//!   function runs one round per event (see `cleave-lambda/src/worker.rs`).
//! - Each scheduled job of a scheduler library (`[[worker]]`): its pace
//!   argument is wrapped in `::cleave_lambda::pace("<name>", .., <every
//!   second>)` and its closure's work starts with
//!   `let Some(_cleave_round) = ::cleave_lambda::round("<name>") else { return; };`
//!   (see [`job`]).
//!
//! A call that is not in the syntax (inside a macro's tokens) or a
//! statement that cannot be wrapped (one whose value is used) is left as
//! it is and listed. The edited files reach the rest of `generate` through
//! [`Overlay`], a [`Source`] that returns them in place of the monolith's,
//! so every place that copies a file copies the edited one. Lines do not
//! move: no edit adds or removes a line.

use std::collections::BTreeMap;
use std::ops::Range;

use cleave_analyzer::entrypoints::workers::work::Gate;
use cleave_analyzer::hazards::{Hazard, PoolSize};
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::Source;
use crate::docs::Edit;
use crate::worker::Drive;

mod job;

/// The variable whose presence makes the start-up code skip migrations.
pub const SKIP_MIGRATIONS: &str = "CLEAVE_SKIP_MIGRATIONS";

/// One pool or start-up step and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub file: String,
    pub line: u32,
    pub item: String,
    /// What cleave did, or what to do by hand, in a sentence.
    pub status: String,
}

/// The edits, the files they change, and a note per pool and per
/// start-up step.
#[derive(Debug, Default)]
pub struct CodeEdits {
    /// Edited contents, by the monolith's relative path.
    pub files: BTreeMap<String, Vec<u8>>,
    pub edits: Vec<Edit>,
    pub pools: Vec<Note>,
    pub migrations: Vec<Note>,
    /// Per worker of the plan (by name): `Ok` when its loop was edited,
    /// else why not.
    pub workers: BTreeMap<String, Result<(), String>>,
}

/// A worker's loop or job to edit: its name and the lines the analysis recorded.
pub struct WorkerLoop<'a> {
    pub name: &'a str,
    pub drive: Drive<'a>,
}

impl CodeEdits {
    /// Whether some start-up step was wrapped (template.yaml then sets
    /// [`SKIP_MIGRATIONS`]).
    pub fn gates_migrations(&self) -> bool {
        self.edits.iter().any(|e| e.what.contains(SKIP_MIGRATIONS))
    }
}

/// An edit waiting to be applied to its file.
struct Pending {
    range: Range<usize>,
    replacement: String,
    line: u32,
    what: String,
    why: String,
}

/// Every edit for these hazards: pools capped at `pool_max` (`None`: only
/// notes), start-up migrations wrapped; and the loops of `workers` gated.
pub fn plan(
    hazards: &[Hazard],
    source: &dyn Source,
    pool_max: Option<u32>,
    workers: &[WorkerLoop<'_>],
) -> CodeEdits {
    let mut out = CodeEdits::default();
    let mut pending: BTreeMap<&str, Vec<Pending>> = BTreeMap::new();
    let mut parsed: BTreeMap<String, Option<(String, syn::File)>> = BTreeMap::new();
    let mut syntax = |file: &str| -> Option<(String, syn::File)> {
        parsed
            .entry(file.to_owned())
            .or_insert_with(|| {
                let text = String::from_utf8(source.read(file).ok()?).ok()?;
                let tree = syn::parse_file(&text).ok()?;
                Some((text, tree))
            })
            .clone()
    };
    for h in hazards {
        let note = |status: String| Note {
            file: h.file.clone(),
            line: h.line,
            item: h.item.clone(),
            status,
        };
        match h.code {
            "connection-pool" => {
                let status = match pool(h, pool_max, &mut syntax) {
                    Ok(p) => {
                        let status = format!(
                            "capped at {}: {} (`{}:{}`)",
                            pool_max.unwrap_or(0),
                            p.what,
                            h.file,
                            p.line
                        );
                        pending.entry(h.file.as_str()).or_default().push(p);
                        status
                    }
                    Err(status) => status,
                };
                out.pools.push(note(status));
            }
            // Only what start-up alone runs: a route that migrates keeps it.
            "startup-work" if h.entrypoints.is_empty() => {
                let status = match gate(h, &mut syntax) {
                    Ok(p) => {
                        let status = format!("skipped on AWS (`{}:{}` is wrapped)", h.file, p.line);
                        pending.entry(h.file.as_str()).or_default().push(p);
                        status
                    }
                    Err(status) => status,
                };
                out.migrations.push(note(status));
            }
            _ => {}
        }
    }
    for w in workers {
        let edits = match w.drive {
            Drive::Loop(gate) => gate_loop(w.name, gate, &mut syntax),
            Drive::Job(job) => job::gate_job(w.name, job, &mut syntax),
        };
        let done = edits.map(|edits| pending.entry(w.drive.file()).or_default().extend(edits));
        out.workers.insert(w.name.to_owned(), done);
    }
    for (file, mut edits) in pending {
        let Some((mut text, _)) = syntax(file) else {
            continue;
        };
        // Of two edits that overlap, the first (the outer, a wrapped
        // statement) is kept; then back to front, so earlier ranges stay put.
        edits.sort_by_key(|e| (e.range.start, std::cmp::Reverse(e.range.end)));
        let mut kept: Vec<Pending> = Vec::new();
        for e in edits {
            if kept.last().is_none_or(|k| e.range.start >= k.range.end) {
                kept.push(e);
            }
        }
        for e in kept.into_iter().rev() {
            text.replace_range(e.range, &e.replacement);
            out.edits.push(Edit {
                file: file.to_owned(),
                line: e.line,
                what: e.what,
                why: e.why,
            });
        }
        out.files.insert(file.to_owned(), text.into_bytes());
    }
    out.edits.sort();
    out
}

/// A pool's cap, or why there is none.
fn pool(
    h: &Hazard,
    max: Option<u32>,
    syntax: &mut dyn FnMut(&str) -> Option<(String, syn::File)>,
) -> Result<Pending, String> {
    let Some(max) = max else {
        return Err(match h.pool {
            Some(_) => "not capped: set `[deploy] pool_max = 2` in the plan and cleave writes the cap into the generated code".to_owned(),
            None => "not capped: size it by hand (see the advice above)".to_owned(),
        });
    };
    let Some(site) = &h.pool else {
        return Err(format!(
            "not capped: this library takes its size elsewhere; set it to {max} by hand (see the advice above)"
        ));
    };
    if let PoolSize::Cap { value: Some(v), .. } = site
        && *v <= u64::from(max)
    {
        return Err(format!(
            "left as written: its size, {v}, is within pool_max"
        ));
    }
    let (range, replacement, line, what) = syntax(&h.file)
        .and_then(|(text, tree)| locate(&text, &tree, site, max))
        .ok_or_else(|| format!(
            "not capped: the call is not in the file's syntax as the analysis saw it (inside a macro?); set its size to {max} by hand"
        ))?;
    Ok(Pending {
        range,
        replacement,
        line,
        what,
        why: format!(
            "the plan's `[deploy] pool_max = {max}`: each Lambda instance serves one request at a time, and every instance opens its own pool"
        ),
    })
}

/// The statement of a start-up step, wrapped so deployed functions skip
/// it, or why it cannot be.
fn gate(
    h: &Hazard,
    syntax: &mut dyn FnMut(&str) -> Option<(String, syn::File)>,
) -> Result<Pending, String> {
    let keep = "runs on every cold start: run it once per deployment instead and remove it from the start-up code by hand";
    let Some((text, tree)) = syntax(&h.file) else {
        return Err(format!("not wrapped ({keep})"));
    };
    let mut finder = StmtFinder {
        line: h.line,
        found: None,
    };
    finder.visit_file(&tree);
    let Some((stmt, range)) = finder.found else {
        return Err(format!(
            "not wrapped: not a statement of a fn body ({keep})"
        ));
    };
    if !wrappable(stmt) {
        let why = match stmt {
            syn::Stmt::Expr(_, None) => "its value is its block's value",
            _ => "its statement's value is used later",
        };
        return Err(format!("not wrapped: {why} ({keep})"));
    }
    let written = text
        .get(range.clone())
        .ok_or_else(|| format!("not wrapped ({keep})"))?;
    let line = stmt.span().start().line as u32;
    Ok(Pending {
        range,
        replacement: format!(
            "if ::std::env::var_os(\"{SKIP_MIGRATIONS}\").is_none() {{ {written} }}"
        ),
        line,
        what: format!(
            "the statement is wrapped in `if ::std::env::var_os(\"{SKIP_MIGRATIONS}\").is_none() {{ .. }}`"
        ),
        why: format!(
            "it changes the database schema at start-up; template.yaml sets `{SKIP_MIGRATIONS}`, so deployed functions skip it and the migrations run once per deployment (MIGRATION.md)"
        ),
    })
}

/// The edits that let a worker's function drive its loop: the gate before
/// the body's first statement, the wait wrapped; one edit when the first
/// statement is the wait. `Err` says why the loop cannot be edited.
fn gate_loop(
    name: &str,
    g: &Gate,
    syntax: &mut dyn FnMut(&str) -> Option<(String, syn::File)>,
) -> Result<Vec<Pending>, String> {
    let Some((text, tree)) = syntax(&g.file) else {
        return Err(format!("`{}` cannot be read as Rust", g.file));
    };
    let stmt_at = |line: u32| {
        let mut finder = StmtStart { line, found: None };
        finder.visit_file(&tree);
        finder.found
    };
    let (Some((first, first_range)), Some((wait, wait_range))) =
        (stmt_at(g.first), stmt_at(g.wait.0))
    else {
        return Err(format!(
            "the loop at {}:{} is not in the syntax cleave edits (inside a macro's tokens?)",
            g.file, g.loop_line
        ));
    };
    if !wrappable(wait) {
        return Err(format!(
            "the wait at {}:{} is not a statement ending in `;`",
            g.file, g.wait.0
        ));
    }
    let (gate, awaited) = if g.awaits {
        ("gate", ".await")
    } else {
        ("gate_blocking", "")
    };
    let gate = format!("::cleave_lambda::{gate}({name:?}){awaited}; ");
    let written = |r: &Range<usize>| text.get(r.clone()).map(str::to_owned);
    let (Some(first_text), Some(wait_text)) = (written(&first_range), written(&wait_range)) else {
        return Err(format!("`{}` changed while read", g.file));
    };
    let paced = format!("if !::cleave_lambda::paced({name:?}) {{ {wait_text} }}");
    let why = format!(
        "worker `{name}` runs one round of this loop per scheduled event on Lambda; off Lambda \
         both do nothing, and on Lambda other functions never open the gate"
    );
    let line = first.span().start().line as u32;
    let what = format!(
        "in the loop at line {}, `::cleave_lambda::{}` before its first statement, and its wait \
         (line {}) run only `if !::cleave_lambda::paced({name:?})`",
        g.loop_line,
        gate.trim_end_matches("; ")
            .trim_start_matches("::cleave_lambda::"),
        g.wait.0
    );
    if first_range == wait_range {
        return Ok(vec![Pending {
            range: first_range,
            replacement: format!("{gate}{paced}"),
            line,
            what,
            why,
        }]);
    }
    Ok(vec![
        Pending {
            range: first_range,
            replacement: format!("{gate}{first_text}"),
            line,
            what,
            why: why.clone(),
        },
        Pending {
            range: wait_range,
            replacement: paced,
            line: wait.span().start().line as u32,
            what: format!("the wait of worker `{name}`'s loop, run only when no event paces it"),
            why,
        },
    ])
}

/// The outermost statement of a fn body starting on a line.
struct StmtStart<'ast> {
    line: u32,
    found: Option<(&'ast syn::Stmt, Range<usize>)>,
}

impl<'ast> Visit<'ast> for StmtStart<'ast> {
    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if self.found.is_some() {
            return;
        }
        let span = stmt.span();
        if span.start().line as u32 == self.line {
            self.found = Some((stmt, span.byte_range()));
            return;
        }
        syn::visit::visit_stmt(self, stmt);
    }
}

/// Whether a statement can sit inside an `if` block: an expression or
/// macro statement ending in `;`, or `let _ = ..;`.
fn wrappable(stmt: &syn::Stmt) -> bool {
    match stmt {
        syn::Stmt::Expr(_, Some(_)) => true,
        syn::Stmt::Macro(m) => m.semi_token.is_some(),
        syn::Stmt::Local(l) => matches!(l.pat, syn::Pat::Wild(_)),
        _ => false,
    }
}

/// The innermost statement of a fn body holding a line.
struct StmtFinder<'ast> {
    line: u32,
    found: Option<(&'ast syn::Stmt, Range<usize>)>,
}

impl<'ast> Visit<'ast> for StmtFinder<'ast> {
    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        let span = stmt.span();
        if (span.start().line as u32..=span.end().line as u32).contains(&self.line) {
            // Visited outer first: an inner statement holding the line replaces it.
            self.found = Some((stmt, span.byte_range()));
        }
        syn::visit::visit_stmt(self, stmt);
    }
}

/// An edit found in a file: the byte range to replace, its replacement,
/// the line and a description.
type Located = (Range<usize>, String, u32, String);

/// The edit a [`PoolSize`] makes in `text`; `None` when its call is not
/// found.
fn locate(text: &str, file: &syn::File, site: &PoolSize, max: u32) -> Option<Located> {
    let mut finder = Finder { site, found: None };
    finder.visit_file(file);
    let (range, line) = finder.found?;
    let written = text.get(range.clone())?;
    Some(match site {
        PoolSize::Cap { method, .. } => (
            range,
            format!("::std::cmp::min({written}, {max})"),
            line,
            format!("`.{method}({written})` became `.{method}(::std::cmp::min({written}, {max}))`"),
        ),
        PoolSize::Insert { method, .. } => (
            range.end..range.end,
            format!(".{method}({max})"),
            line,
            format!("`.{method}({max})` added after `{written}`"),
        ),
        PoolSize::Options { options, call, .. } => {
            let replacement = format!("{options}::new().max_connections({max}).{call}");
            (
                range,
                replacement.clone(),
                line,
                format!("`{written}(..)` became `{replacement}(..)`"),
            )
        }
    })
}

/// Finds the call a [`PoolSize`] names: the first on its line.
struct Finder<'s> {
    site: &'s PoolSize,
    /// The byte range to edit and its line.
    found: Option<(Range<usize>, u32)>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if self.found.is_none()
            && let PoolSize::Cap { line, method, .. } = self.site
            && call.method == method
            && call.method.span().start().line as u32 == *line
            && call.args.len() == 1
        {
            let arg = &call.args[0];
            self.found = Some((arg.span().byte_range(), *line));
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if self.found.is_none()
            && let syn::Expr::Path(path) = &*call.func
        {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let last_line = path
                .path
                .segments
                .last()
                .map(|s| s.ident.span().start().line as u32);
            match self.site {
                PoolSize::Insert { line, ctor, .. }
                    if segments.last() == Some(ctor) && last_line == Some(*line) =>
                {
                    self.found = Some((call.span().byte_range(), *line));
                }
                PoolSize::Options {
                    line,
                    owner,
                    call: f,
                    ..
                } if segments.ends_with(&[owner.clone(), f.clone()])
                    && last_line == Some(*line) =>
                {
                    self.found = Some((call.func.span().byte_range(), *line));
                }
                _ => {}
            }
        }
        syn::visit::visit_expr_call(self, call);
    }
}

/// The monolith's files, with the edited ones in place of theirs.
pub struct Overlay<'a> {
    pub inner: &'a dyn Source,
    pub files: &'a BTreeMap<String, Vec<u8>>,
}

impl Source for Overlay<'_> {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        match self.files.get(rel) {
            Some(bytes) => Ok(bytes.clone()),
            None => self.inner.read(rel),
        }
    }

    fn files(&self, dir: &str, skip: &[String]) -> Vec<String> {
        self.inner.files(dir, skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleave_analyzer::entrypoints::workers::work::{ArgAt, JobGate};

    fn site_edit(text: &str, site: PoolSize) -> String {
        let file = syn::parse_file(text).expect("parses");
        let (range, replacement, _, _) = locate(text, &file, &site, 2).expect("found");
        let mut out = text.to_owned();
        out.replace_range(range, &replacement);
        out
    }

    #[test]
    fn a_written_size_is_capped() {
        let text = "/// Opens the pool.\n/// Twice.\nasync fn connect(url: &str, cfg: &Cfg) {\n    PgPoolOptions::new()\n        .max_connections(cfg.db.pool_size)\n        .connect(url)\n        .await;\n}\n";
        let site = PoolSize::Cap {
            line: 5,
            method: "max_connections".to_owned(),
            value: None,
        };
        expect_test::expect![[r#"
            /// Opens the pool.
            /// Twice.
            async fn connect(url: &str, cfg: &Cfg) {
                PgPoolOptions::new()
                    .max_connections(::std::cmp::min(cfg.db.pool_size, 2))
                    .connect(url)
                    .await;
            }
        "#]]
        .assert_eq(&site_edit(text, site));
    }

    #[test]
    fn a_size_is_added_after_the_constructor() {
        let text = "fn pool(m: M) -> Pool<M> {\n    let é = \"ü\";\n    r2d2::Pool::builder().min_idle(Some(1)).build(m).unwrap()\n}\n";
        let site = PoolSize::Insert {
            line: 3,
            ctor: "builder".to_owned(),
            method: "max_size".to_owned(),
        };
        expect_test::expect![[r#"
            fn pool(m: M) -> Pool<M> {
                let é = "ü";
                r2d2::Pool::builder().max_size(2).min_idle(Some(1)).build(m).unwrap()
            }
        "#]]
        .assert_eq(&site_edit(text, site));
    }

    #[test]
    fn a_pool_connect_becomes_options() {
        let text = "async fn db(url: &str) -> PgPool {\n    sqlx::PgPool::connect(url).await.unwrap()\n}\n";
        let site = PoolSize::Options {
            line: 2,
            owner: "PgPool".to_owned(),
            call: "connect".to_owned(),
            options: "::sqlx::postgres::PgPoolOptions".to_owned(),
        };
        expect_test::expect![[r#"
            async fn db(url: &str) -> PgPool {
                ::sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.unwrap()
            }
        "#]]
        .assert_eq(&site_edit(text, site));
    }

    fn startup_step(line: u32) -> Hazard {
        Hazard {
            code: "startup-work",
            severity: cleave_analyzer::Severity::Warning,
            file: "src/db.rs".to_owned(),
            line,
            item: "app::db::migrate".to_owned(),
            message: String::new(),
            advice: String::new(),
            entrypoints: Vec::new(),
            pool: None,
        }
    }

    /// A start-up step's statement is wrapped where it can be: `expr;`,
    /// `macro!(..);` and `let _ = ..;` in any block; not a statement whose
    /// value is bound, nor a fn's tail expression.
    #[test]
    fn start_up_steps_are_wrapped_where_their_value_is_unused() {
        let text = "pub async fn migrate(db: &Db) -> Result<Db, E> {\n    let conn = db.get()?;\n    for s in SCHEMA {\n        sqlx::query(s)\n            .execute(&conn)\n            .await?;\n    }\n    let _ = Migrator::up(&conn, None).await;\n    let applied = run_pending(&conn)?;\n    sqlx::migrate!(\"./migrations\").run(&conn).await\n}\n";
        let files = crate::Tree::from([("src/db.rs".to_owned(), text.as_bytes().to_vec())]);
        let nothing = crate::DirSource::new("nothing-here");
        let source = Overlay {
            inner: &nothing,
            files: &files,
        };
        let hazards: Vec<Hazard> = [5, 8, 9, 10].map(startup_step).into();
        let out = plan(&hazards, &source, None, &[]);
        let status: Vec<&str> = out.migrations.iter().map(|n| n.status.as_str()).collect();
        expect_test::expect![[r#"
            [
                "skipped on AWS (`src/db.rs:4` is wrapped)",
                "skipped on AWS (`src/db.rs:8` is wrapped)",
                "not wrapped: its statement's value is used later (runs on every cold start: run it once per deployment instead and remove it from the start-up code by hand)",
                "not wrapped: its value is its block's value (runs on every cold start: run it once per deployment instead and remove it from the start-up code by hand)",
            ]
        "#]]
        .assert_debug_eq(&status);
        let edited = String::from_utf8(out.files["src/db.rs"].clone()).expect("UTF-8");
        expect_test::expect![[r#"
            pub async fn migrate(db: &Db) -> Result<Db, E> {
                let conn = db.get()?;
                for s in SCHEMA {
                    if ::std::env::var_os("CLEAVE_SKIP_MIGRATIONS").is_none() { sqlx::query(s)
                        .execute(&conn)
                        .await?; }
                }
                if ::std::env::var_os("CLEAVE_SKIP_MIGRATIONS").is_none() { let _ = Migrator::up(&conn, None).await; }
                let applied = run_pending(&conn)?;
                sqlx::migrate!("./migrations").run(&conn).await
            }
        "#]]
        .assert_eq(&edited);
        assert!(out.gates_migrations());
        assert_eq!(out.edits.len(), 2);
    }

    #[test]
    fn a_call_inside_macro_tokens_is_not_found() {
        let text = "lazy_static! {\n    static ref P: Pool = Pool::builder().build(m);\n}\n";
        let site = PoolSize::Insert {
            line: 2,
            ctor: "builder".to_owned(),
            method: "max_size".to_owned(),
        };
        let file = syn::parse_file(text).expect("parses");
        assert!(locate(text, &file, &site, 2).is_none());
    }

    #[test]
    fn a_workers_loop_gets_its_gate_and_its_wait_wrapped_on_the_same_lines() {
        let text = "pub async fn sweep(state: AppState, every: Duration) {\n    let mut ticker = time::interval(every);\n    loop {\n        ticker.tick().await;\n        purge(&state).await;\n    }\n}\n\npub fn reap() {\n    loop {\n        reap_once();\n        std::thread::sleep(EVERY);\n    }\n}\n";
        let files = crate::Tree::from([("src/jobs.rs".to_owned(), text.as_bytes().to_vec())]);
        let nothing = crate::DirSource::new("nothing-here");
        let source = Overlay {
            inner: &nothing,
            files: &files,
        };
        let gate = |loop_line, first, wait, awaits| Gate {
            file: "src/jobs.rs".to_owned(),
            loop_line,
            first,
            wait: (wait, wait),
            awaits,
        };
        let (sweep, reap) = (gate(3, 4, 4, true), gate(10, 11, 12, false));
        let out = plan(
            &[],
            &source,
            None,
            &[
                WorkerLoop {
                    name: "sweep",
                    drive: Drive::Loop(&sweep),
                },
                WorkerLoop {
                    name: "reap",
                    drive: Drive::Loop(&reap),
                },
            ],
        );
        assert_eq!(out.workers.get("sweep"), Some(&Ok(())));
        assert_eq!(out.workers.get("reap"), Some(&Ok(())));
        expect_test::expect![[r#"
            pub async fn sweep(state: AppState, every: Duration) {
                let mut ticker = time::interval(every);
                loop {
                    ::cleave_lambda::gate("sweep").await; if !::cleave_lambda::paced("sweep") { ticker.tick().await; }
                    purge(&state).await;
                }
            }

            pub fn reap() {
                loop {
                    ::cleave_lambda::gate_blocking("reap"); reap_once();
                    if !::cleave_lambda::paced("reap") { std::thread::sleep(EVERY); }
                }
            }
        "#]]
        .assert_eq(&String::from_utf8_lossy(&out.files["src/jobs.rs"]));
    }

    #[test]
    fn a_jobs_pace_gets_wrapped_and_its_work_a_round_on_the_same_lines() {
        let text = r#"async fn start(sched: &JobScheduler, pool: Pool) -> Result<()> {
    sched
        .add(Job::new_async("0 */5 * * * *", move |_uuid, _l| {
            let pool = pool.clone();
            Box::pin(async move {
                purge(&pool).await;
            })
        })?)
        .await?;
    let mut s = JobScheduler::new();
    s.add(Job::new("0 0 * * * *".parse().unwrap(), || refresh()));
    scheduler.every(10.minutes()).run(|| {
        rotate();
    });
    Ok(())
}
"#;
        let files = crate::Tree::from([("src/main.rs".to_owned(), text.as_bytes().to_vec())]);
        let nothing = crate::DirSource::new("nothing-here");
        let source = Overlay {
            inner: &nothing,
            files: &files,
        };
        let at = |call: &str, line, index| ArgAt {
            call: call.to_owned(),
            line,
            index,
        };
        let job = |line, pace: ArgAt, driven: &str, closure: ArgAt| JobGate {
            file: "src/main.rs".to_owned(),
            line,
            pace,
            driven: driven.to_owned(),
            closure,
        };
        let purge = job(
            3,
            at("new_async", 3, 0),
            "::cleave_lambda::every_second()",
            at("new_async", 3, 1),
        );
        let refresh = job(
            11,
            at("new", 11, 0),
            "\"* * * * * *\".parse().unwrap()",
            at("new", 11, 1),
        );
        let rotate = job(
            12,
            at("every", 12, 0),
            "::clokwerk::Interval::Seconds(1)",
            at("run", 12, 0),
        );
        let missing = job(5, at("new_async", 5, 0), "x", at("new_async", 5, 1));
        let out = plan(
            &[],
            &source,
            None,
            &[
                WorkerLoop {
                    name: "purge",
                    drive: Drive::Job(&purge),
                },
                WorkerLoop {
                    name: "refresh",
                    drive: Drive::Job(&refresh),
                },
                WorkerLoop {
                    name: "rotate",
                    drive: Drive::Job(&rotate),
                },
                WorkerLoop {
                    name: "missing",
                    drive: Drive::Job(&missing),
                },
            ],
        );
        assert_eq!(out.workers.get("purge"), Some(&Ok(())));
        assert!(
            out.workers["missing"]
                .as_ref()
                .is_err_and(|e| e.contains("src/main.rs:5")),
            "{:?}",
            out.workers["missing"]
        );
        expect_test::expect![[r#"
            async fn start(sched: &JobScheduler, pool: Pool) -> Result<()> {
                sched
                    .add(Job::new_async(::cleave_lambda::pace("purge", "0 */5 * * * *", ::cleave_lambda::every_second()), move |_uuid, _l| {
                        let pool = pool.clone();
                        Box::pin(async move { let ::std::option::Option::Some(_cleave_round) = ::cleave_lambda::round("purge") else { return; };
                            purge(&pool).await;
                        })
                    })?)
                    .await?;
                let mut s = JobScheduler::new();
                s.add(Job::new(::cleave_lambda::pace("refresh", "0 0 * * * *".parse().unwrap(), "* * * * * *".parse().unwrap()), || { let ::std::option::Option::Some(_cleave_round) = ::cleave_lambda::round("refresh") else { return; }; refresh() }));
                scheduler.every(::cleave_lambda::pace("rotate", 10.minutes(), ::clokwerk::Interval::Seconds(1))).run(|| { let ::std::option::Option::Some(_cleave_round) = ::cleave_lambda::round("rotate") else { return; };
                    rotate();
                });
                Ok(())
            }
        "#]]
        .assert_eq(&String::from_utf8_lossy(&out.files["src/main.rs"]));
    }
}
