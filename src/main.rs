//! `cleave`: command-line glue over `cleave-analyzer` and `cleave-codegen`.
//! Parses arguments, runs a library entry point, prints data to stdout and
//! diagnostics to stderr, and maps failures to exit codes (0 ok, 1 bad input,
//! 2 usage). No analysis logic lives here.

// jemalloc, where it builds: see the note in Cargo.toml.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use anyhow::Context;
use cleave_analyzer::partition::{self, Granularity};
use cleave_analyzer::{analysis, plan, review};
use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut failed_plan = false;
    // Deeply nested code is walked recursively: every stage runs where the
    // stack is deep enough for it.
    let result = cleave_analyzer::with_big_stack(|| match cli.command {
        Command::Analyze(args) => analyze(&args),
        Command::Review(args) => review(&args).map(|ok| {
            if !ok {
                failed_plan = true;
            }
        }),
        Command::Generate(args) => generate(&args),
        Command::Graph(args) => graph(&args),
    });
    match result {
        Ok(()) if failed_plan => ExitCode::from(1),
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_error(&err);
            ExitCode::from(1)
        }
    }
}

fn granularity(g: cli::Granularity) -> Granularity {
    match g {
        cli::Granularity::Auto => Granularity::Auto,
        cli::Granularity::Route => Granularity::Route,
        cli::Granularity::Resource => Granularity::Resource,
        cli::Granularity::Single => Granularity::Single,
    }
}

/// `cleave analyze`: the report on stdout, the proposal into the plan file.
fn analyze(args: &cli::AnalyzeArgs) -> anyhow::Result<()> {
    let plan_path = args
        .plan
        .clone()
        .unwrap_or_else(|| args.path.join("cleave.toml"));
    // A plan a person edited may set the prefixes of mounts computed at
    // runtime, and which binary's routes to split.
    let mut options = std::fs::read_to_string(&plan_path)
        .map(|text| plan::options(&text))
        .unwrap_or_default();
    if !args.features.is_empty() {
        options.features.clone_from(&args.features);
    }
    let progress = Progress::start(&args.path);
    let analysis = analysis::analyze_with(&args.path, &options)?;
    drop(progress);
    print_diagnostics(&analysis.diagnostics);
    let preset = granularity(args.granularity);
    let band = (
        args.min_functions.map(|n| n as usize),
        args.max_functions.map(|n| n as usize),
    );
    let proposal = partition::propose_within(&analysis, preset, band);
    write_plan(&plan_path, &analysis, &proposal, preset)?;
    let groups: Vec<(String, Vec<String>)> = proposal
        .iter()
        .map(|g| (g.name.clone(), g.routes.clone()))
        .collect();
    let metrics = partition::metrics(&analysis, &groups);
    let text = match args.format {
        cli::ReportFormat::Text => {
            let mut text = analysis::render_text(&analysis);
            text.push_str(&analysis::render_proposal(
                &proposal,
                &metrics,
                preset.name(),
            ));
            text
        }
        cli::ReportFormat::Json => {
            serde_json::to_string_pretty(&analysis::report_json(&analysis, &proposal, &metrics))?
                + "\n"
        }
    };
    write_stdout(&text)
}

/// Writes a fresh plan, or merges the proposal into the one a person edited.
fn write_plan(
    path: &std::path::Path,
    analysis: &analysis::Analysis,
    proposal: &[partition::Group],
    preset: Granularity,
) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    if proposal.is_empty() {
        let _ = writeln!(err, "note: no HTTP routes, so no split plan was written");
        return Ok(());
    }
    let shown = path.display();
    if path.exists() {
        let existing = std::fs::read_to_string(path)
            .with_context(|| format!("{shown}: cannot read the plan"))?;
        let (merged, report) = plan::merge(&existing, analysis, proposal)
            .map_err(|e| anyhow::anyhow!("{shown}: {e}; the plan was left as it is"))?;
        for (f, r) in &report.removed {
            let _ = writeln!(
                err,
                "note: route \"{r}\" no longer exists; removed from function `{f}` in {shown}"
            );
        }
        for (w, source) in &report.workers_removed {
            let _ = writeln!(
                err,
                "note: worker `{w}`'s loop ({source}) no longer exists; removed from {shown}"
            );
        }
        for (w, source) in &report.workers_added {
            let _ = writeln!(err, "note: new worker `{w}` ({source}) proposed in {shown}");
        }
        for (f, r) in &report.added {
            let _ = writeln!(
                err,
                "note: new route \"{r}\" placed in function `{f}` in {shown}"
            );
        }
        if merged != existing {
            std::fs::write(path, merged)
                .with_context(|| format!("{shown}: cannot write the plan"))?;
        }
    } else {
        let text = plan::render(analysis, proposal, preset.name());
        std::fs::write(path, text).with_context(|| format!("{shown}: cannot write the plan"))?;
        let _ = writeln!(
            err,
            "wrote the split proposal to {shown}; edit it, then run `cleave review`"
        );
    }
    Ok(())
}

/// `cleave review`: validate the plan, print the review; false when the plan has errors.
fn review(args: &cli::ReviewArgs) -> anyhow::Result<bool> {
    let plan_path = args
        .plan
        .clone()
        .unwrap_or_else(|| args.path.join("cleave.toml"));
    let shown = plan_path.display().to_string();
    let text = std::fs::read_to_string(&plan_path).with_context(|| {
        format!("{shown}: cannot read the plan (run `cleave analyze` first to propose one)")
    })?;
    let progress = Progress::start(&args.path);
    let analysis = analysis::analyze_with(&args.path, &plan::options(&text))?;
    drop(progress);
    print_diagnostics(&analysis.diagnostics);
    let (plan, parse_diags) = plan::parse(&text, &shown);
    let Some(plan) = plan else {
        print_diagnostics(&parse_diags);
        return Ok(false);
    };
    let review = review::review(&analysis, &plan, &shown, parse_diags);
    let html_path = args.html.clone().unwrap_or_else(|| {
        plan_path
            .parent()
            .map(|p| p.join("cleave-report.html"))
            .unwrap_or_else(|| "cleave-report.html".into())
    });
    let excerpts = excerpts(&args.path, &review);
    let html = cleave_codegen::report::render_html(&review, &excerpts);
    std::fs::write(&html_path, html)
        .with_context(|| format!("{}: cannot write the HTML report", html_path.display()))?;
    let _ = writeln!(
        std::io::stderr(),
        "wrote the review report to {}",
        html_path.display()
    );
    let out = match args.format {
        cli::ReportFormat::Text => review::render_text(&review),
        cli::ReportFormat::Json => serde_json::to_string_pretty(&review)? + "\n",
    };
    write_stdout(&out)?;
    Ok(review.ok)
}

/// Five lines either side of each hazard, read from the analysed project.
fn excerpts(root: &std::path::Path, review: &review::Review) -> cleave_codegen::report::Excerpts {
    let mut out = cleave_codegen::report::Excerpts::new();
    let mut files: std::collections::BTreeMap<&str, Option<Vec<String>>> = Default::default();
    for h in &review.hazards {
        let lines = files.entry(h.file.as_str()).or_insert_with(|| {
            // Files come from the analysis: relative, inside the root.
            if h.file.split('/').any(|p| p == "..") {
                return None;
            }
            std::fs::read_to_string(root.join(&h.file))
                .ok()
                .map(|t| t.lines().map(str::to_owned).collect())
        });
        let Some(lines) = lines else { continue };
        let line = h.line as usize;
        let from = line.saturating_sub(5).max(1);
        let to = (line + 5).min(lines.len());
        let excerpt = (from..=to)
            .filter_map(|n| lines.get(n - 1).map(|t| (n as u32, t.clone())))
            .collect();
        out.insert((h.file.clone(), h.line), excerpt);
    }
    out
}

/// An absolute, lexically normalised form of `p` (it need not exist).
fn absolute(p: &std::path::Path) -> std::path::PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    // Resolve symlinks of the longest existing prefix, then append the rest.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_owned()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for part in rest.into_iter().rev() {
        if part == ".." {
            out.pop();
        } else if part != "." {
            out.push(part);
        }
    }
    out
}

/// `cleave generate`: the function workspace into `--out`.
fn generate(args: &cli::GenerateArgs) -> anyhow::Result<()> {
    let root = absolute(&args.path);
    let out = absolute(&args.out);
    if out.starts_with(&root) {
        anyhow::bail!(
            "{}: --out is inside the analysed project; choose a directory outside {}",
            args.out.display(),
            args.path.display()
        );
    }
    let plan_path = args
        .plan
        .clone()
        .unwrap_or_else(|| args.path.join("cleave.toml"));
    let shown = plan_path.display().to_string();
    let text = std::fs::read_to_string(&plan_path).with_context(|| {
        format!("{shown}: cannot read the plan (run `cleave analyze` first to propose one)")
    })?;
    let progress = Progress::start(&args.path);
    let analysis = analysis::analyze_with(&args.path, &plan::options(&text))?;
    drop(progress);
    print_diagnostics(&analysis.diagnostics);
    let (plan, mut problems) = plan::parse(&text, &shown);
    let Some(plan) = plan else {
        print_diagnostics(&problems);
        anyhow::bail!("{shown}: the plan cannot be read; fix it and run again");
    };
    problems.extend(plan::validate(&plan, &analysis, &shown));
    print_diagnostics(&problems);
    if problems
        .iter()
        .any(|d| d.severity == cleave_analyzer::Severity::Error)
    {
        anyhow::bail!("{shown}: the plan has errors; run `cleave review` for details");
    }
    let plan_file = plan_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cleave.toml".to_owned());
    let source = cleave_codegen::DirSource::new(&args.path);
    // A path dependency outside the analysed directory stays where it is.
    let (root_at, out_at) = (root.to_string_lossy(), out.to_string_lossy());
    let generated = cleave_codegen::generate(&cleave_codegen::Input {
        analysis: &analysis,
        plan: &plan,
        plan_file: &plan_file,
        source: &source,
        adapter: match args.adapter {
            cli::Adapter::Native => cleave_codegen::Adapter::Native,
            cli::Adapter::WebAdapter => cleave_codegen::Adapter::WebAdapter,
        },
        monolith_url: args.monolith_url.as_deref(),
        placement: Some(cleave_codegen::manifest::Placement {
            root: &root_at,
            out: &out_at,
        }),
    })?;
    cleave_codegen::write::write(&generated.tree, &args.out, args.force)?;
    let _ = writeln!(
        std::io::stderr(),
        "generated {} function(s) in {} ({} files); see MIGRATION.md there",
        generated.functions.len(),
        args.out.display(),
        generated.tree.len()
    );
    for n in &generated.native {
        let _ = writeln!(
            std::io::stderr(),
            "warning[native-dependency]: Cargo.lock: {}",
            n.line()
        );
    }
    if args.check {
        check(&args.out)?;
        arm64_build(&args.out, &generated.native)?;
    }
    Ok(())
}

/// `cargo lambda build --arm64` in the generated workspace, when
/// cargo-lambda is installed: the build the template deploys. A failure
/// prints cargo's error lines and the native libraries that likely caused it.
fn arm64_build(
    out: &std::path::Path,
    native: &[cleave_codegen::native::NativeDep],
) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    // As cargo runs a subcommand: `cargo-lambda lambda ...`.
    let installed = std::process::Command::new("cargo-lambda")
        .args(["lambda", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        let _ = writeln!(
            err,
            "note: cargo-lambda is not installed, so the arm64 build was not tried (pip install cargo-lambda, then `cargo lambda build --arm64` in {})",
            out.display()
        );
        return Ok(());
    }
    let _ = writeln!(
        err,
        "running cargo lambda build --arm64 in {}",
        out.display()
    );
    let result = std::process::Command::new("cargo-lambda")
        .args(["lambda", "build", "--arm64"])
        .current_dir(out)
        .output()
        .with_context(|| format!("{}: cannot run cargo-lambda", out.display()))?;
    if result.status.success() {
        let _ = writeln!(err, "cargo lambda build --arm64: ok");
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&result.stderr);
    for line in stderr
        .lines()
        .filter(|l| {
            l.contains("error") || l.contains("cannot find -l") || l.contains("undefined reference")
        })
        .take(40)
    {
        let _ = writeln!(err, "{line}");
    }
    for n in native {
        let _ = writeln!(err, "likely cause: {}", n.line());
    }
    anyhow::bail!(
        "{}: cargo lambda build --arm64 failed on the generated workspace",
        out.display()
    )
}

/// `cargo check --workspace` in the generated workspace; errors are mapped
/// back to the monolith's files where they come from copied code.
fn check(out: &std::path::Path) -> anyhow::Result<()> {
    let _ = writeln!(
        std::io::stderr(),
        "running cargo check --workspace in {}",
        out.display()
    );
    let result =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "check",
                "--workspace",
                "--quiet",
                "--message-format",
                "short",
            ])
            .current_dir(out)
            .output()
            .with_context(|| format!("{}: cannot run cargo", out.display()))?;
    if result.status.success() {
        let _ = writeln!(std::io::stderr(), "cargo check: ok");
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&result.stderr);
    let mut err = std::io::stderr().lock();
    for line in stderr.lines().filter(|l| l.contains("error")) {
        let _ = writeln!(err, "{line}");
    }
    anyhow::bail!(
        "{}: cargo check failed on the generated workspace",
        out.display()
    )
}

/// `cleave graph`: the call graph as JSON or DOT on stdout.
fn graph(args: &cli::GraphArgs) -> anyhow::Result<()> {
    let progress = Progress::start(&args.path);
    let graph = cleave_analyzer::callgraph::render::graph(
        &args.path,
        args.entry.as_deref(),
        &args.features,
    );
    drop(progress);
    let (doc, diagnostics) = graph?;
    print_diagnostics(&diagnostics);
    let text = match args.format {
        cli::GraphFormat::Json => serde_json::to_string_pretty(&doc)? + "\n",
        cli::GraphFormat::Dot => cleave_analyzer::callgraph::render::dot(&doc),
    };
    write_stdout(&text)
}

/// A spinner on stderr while cleave reads a project: drawn only when
/// stderr is a terminal and the work has taken over a second, cleared when
/// the guard is dropped. Nothing is drawn when stderr is a file or a pipe.
struct Progress {
    done: Option<std::sync::mpsc::Sender<()>>,
    spinner: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(path: &std::path::Path) -> Self {
        use std::io::IsTerminal;
        use std::sync::mpsc;
        use std::time::Duration;
        if !std::io::stderr().is_terminal() {
            return Progress {
                done: None,
                spinner: None,
            };
        }
        let message = format!("analysing {}", path.display());
        let (done, wait) = mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let spinner = std::thread::spawn(move || {
            if wait.recv_timeout(Duration::from_secs(1)) != Err(mpsc::RecvTimeoutError::Timeout) {
                return;
            }
            let bar = indicatif::ProgressBar::new_spinner().with_elapsed(started.elapsed());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            // Until the guard drops the sender.
            let _ = wait.recv();
            bar.finish_and_clear();
        });
        Progress {
            done: Some(done),
            spinner: Some(spinner),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(s) = self.spinner.take() {
            let _ = s.join();
        }
    }
}

/// Writes data to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Diagnostics about the user's code go to stderr, one line each.
fn print_diagnostics(diagnostics: &[cleave_analyzer::Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for d in diagnostics {
        let _ = writeln!(err, "{d}");
    }
}

/// One line on stderr: the error and its causes, joined.
fn report_error(err: &anyhow::Error) {
    let line = err
        .chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    #[allow(clippy::print_stderr)]
    {
        let _ = writeln!(std::io::stderr(), "error: {line}");
    }
}
