//! `cleave`: command-line glue over `cleave-analyzer` and `cleave-codegen`.
//! Parses arguments, runs a library entry point, prints data to stdout and
//! diagnostics to stderr, and maps failures to exit codes (0 ok, 1 bad input,
//! 2 usage). No analysis logic lives here.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(_) => Err(anyhow::anyhow!("`cleave analyze` is not implemented yet")),
        Command::Review(_) => Err(anyhow::anyhow!("`cleave review` is not implemented yet")),
        Command::Generate(_) => Err(anyhow::anyhow!("`cleave generate` is not implemented yet")),
        Command::Graph(args) => graph(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report_error(&err);
            ExitCode::from(1)
        }
    }
}

/// `cleave graph`: the call graph as JSON or DOT on stdout.
fn graph(args: &cli::GraphArgs) -> anyhow::Result<()> {
    let project = cleave_analyzer::load(&args.path)?;
    print_diagnostics(&project.diagnostics);
    let defs = cleave_analyzer::resolve::DefMap::build(&project);
    let graph = cleave_analyzer::callgraph::build(&defs);
    if args.entry.is_some() {
        anyhow::bail!("`--entry` needs entry point detection, which is not implemented yet");
    }
    let doc =
        cleave_analyzer::callgraph::render::document(&defs, &graph, &project.root_display, None);
    let text = match args.format {
        cli::GraphFormat::Json => serde_json::to_string_pretty(&doc)? + "\n",
        cli::GraphFormat::Dot => cleave_analyzer::callgraph::render::dot(&doc),
    };
    write_stdout(&text)
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
