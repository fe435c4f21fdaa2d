//! `cargo bench --bench analyze`: `cleave analyze` end to end against a
//! parse-only baseline, on the same tree, in the same run.
//!
//! The baseline walks the tree (`.rs` files, skipping hidden directories and
//! `target/`), reads every file and runs `syn::parse_file` on each, on all
//! cores, clearing proc-macro2's span map after each file as cleave does;
//! nothing else. It allocates with cleave's allocator (jemalloc), so the
//! ratio is cleave's own work and not a difference of allocators. Both sides run as fresh processes (the `cleave` binary, and
//! this binary in `--parse-only` mode), each under a `--measure` wrapper that
//! reports its wall time and peak RSS (`getrusage(RUSAGE_CHILDREN)` of a
//! process with one child). Runs alternate analyze/parse-only so that a noisy
//! machine slows both alike; each row reports medians, and the ratio is the
//! median of the per-repetition ratios.
//!
//! ```text
//! cargo bench --bench analyze                      # the fixtures
//! cargo bench --bench analyze -- [--reps N] [--markdown FILE] [--fit A,B,C] NAME=DIR...
//! cargo bench --bench analyze -- --generate-workspace DIR   # the 40-crate shape
//! ```
//! `--fit` names rows that are sizes of one tree: the growth exponent k of
//! `time ~ lines^k` and `rss ~ bytes^k` is fitted over them (least squares
//! on logs). `tools/bench.sh` prepares the large tree and runs all of it.

// A benchmark's report is its product: it prints.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

#[path = "shared/parse_only.rs"]
mod parse_only;
#[path = "shared/workspace.rs"]
mod workspace;

// The baseline allocates with cleave's own allocator, so that the ratio
// measures cleave's work beyond parsing and not a difference of allocators.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = match args.first().map(String::as_str) {
        Some("--measure") => measure(&args[1..]),
        Some("--parse-only") => match args.get(1) {
            Some(dir) => parse_only::parse_only(Path::new(dir)),
            None => Err("--parse-only DIR".to_owned()),
        },
        Some("--generate-workspace") => match args.get(1) {
            Some(dir) => workspace::generate(Path::new(dir)).map(|_| ()),
            None => Err("--generate-workspace DIR".to_owned()),
        },
        _ => bench(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(1)
        }
    }
}

/// `--measure CMD ARGS..`: runs CMD (stdout passed through, stderr dropped),
/// then prints `wall_ns max_rss_kb exit_code` as its last line.
fn measure(cmd: &[String]) -> Result<(), String> {
    let (program, args) = cmd.split_first().ok_or("--measure CMD")?;
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{program}: {e}"))?;
    let wall = start.elapsed();
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map_err(|e| format!("getrusage: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} {} {}",
        wall.as_nanos(),
        usage.max_rss(),
        status.code().unwrap_or(-1)
    )
    .map_err(|e| e.to_string())
}

/// One measured process: wall seconds and peak RSS in bytes, plus its stdout.
struct Run {
    wall: f64,
    rss: u64,
    stdout: String,
}

fn run_measured(cmd: &[&std::ffi::OsStr]) -> Result<Run, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(me)
        .arg("--measure")
        .args(cmd)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, last) = match text.trim_end().rsplit_once('\n') {
        Some((b, l)) => (b.to_owned(), l.to_owned()),
        None => (String::new(), text.trim_end().to_owned()),
    };
    let nums: Vec<i64> = last
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let [ns, kb, code] = nums[..] else {
        return Err(format!("unexpected measure output: {text:?}"));
    };
    if code != 0 {
        return Err(format!("{cmd:?} exited with {code}"));
    }
    Ok(Run {
        wall: ns as f64 / 1e9,
        rss: kb as u64 * 1024,
        stdout: body,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// One input's measured row.
struct Row {
    name: String,
    files: usize,
    lines: u64,
    /// Lines in cleave's module trees (files it reached from the targets).
    analysed_lines: u64,
    bytes: u64,
    analyze: f64,
    parse: f64,
    ratio: f64,
    rss: u64,
    parse_rss: u64,
    /// The baseline with the system allocator (`--system-baseline`): its
    /// median time and analyze's ratio to it.
    system: Option<(f64, f64)>,
}

fn bench(args: &[String]) -> Result<(), String> {
    let mut reps = 5usize;
    let mut markdown: Option<PathBuf> = None;
    let mut system: Option<PathBuf> = None;
    let mut fit: Vec<String> = Vec::new();
    let mut inputs: Vec<(String, PathBuf)> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => {
                reps = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--reps N (N >= 1)")?;
            }
            "--markdown" => markdown = Some(it.next().ok_or("--markdown FILE")?.into()),
            "--system-baseline" => {
                system = Some(it.next().ok_or("--system-baseline BINARY")?.into());
            }
            "--fit" => {
                fit = it
                    .next()
                    .ok_or("--fit NAME,NAME,..")?
                    .split(',')
                    .map(str::to_owned)
                    .collect();
            }
            other => match other.split_once('=') {
                Some((name, dir)) => inputs.push((name.to_owned(), dir.into())),
                None => inputs.push((other.to_owned(), other.into())),
            },
        }
    }
    if inputs.is_empty() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for f in ["shop-axum", "forum-actix", "notes-rocket"] {
            inputs.push((f.to_owned(), repo.join("fixtures").join(f)));
        }
    }
    let cleave = PathBuf::from(env!("CARGO_BIN_EXE_cleave"));
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let plan = scratch.path().join("cleave.toml");
    let me = std::env::current_exe().map_err(|e| e.to_string())?;

    // What a process costs before it reads anything: `cleave --version`.
    let idle = run_measured(&[cleave.as_os_str(), "--version".as_ref()])?.rss;
    eprintln!(
        "bench: {} input(s), {reps} repetition(s) each; cleave --version peaks at {:.1} MB",
        inputs.len(),
        idle as f64 / 1e6
    );

    let mut rows = Vec::new();
    for (name, dir) in &inputs {
        let analyze_cmd = [
            cleave.as_os_str(),
            "analyze".as_ref(),
            dir.as_os_str(),
            "--plan".as_ref(),
            plan.as_os_str(),
        ];
        let parse_cmd = [me.as_os_str(), "--parse-only".as_ref(), dir.as_os_str()];
        let system_cmd = system
            .as_ref()
            .map(|s| [s.as_os_str(), "--parse-only".as_ref(), dir.as_os_str()]);
        // Warm-up (page cache), and the counts.
        let counts = run_measured(&parse_cmd)?;
        let c: Vec<u64> = counts
            .stdout
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let [files, lines, bytes, _errors] = c[..] else {
            return Err(format!("unexpected parse-only output: {:?}", counts.stdout));
        };
        let _ = std::fs::remove_file(&plan);
        let json = Command::new(&cleave)
            .arg("analyze")
            .arg(dir)
            .arg("--format")
            .arg("json")
            .arg("--plan")
            .arg(&plan)
            .stderr(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        let analysed_lines = serde_json::from_slice::<serde_json::Value>(&json.stdout)
            .ok()
            .and_then(|v| v["project"]["lines"].as_u64())
            .ok_or_else(|| format!("{name}: cleave analyze failed"))?;

        let (mut a_wall, mut p_wall, mut ratios, mut a_rss, mut p_rss) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut s_wall, mut s_ratios) = (Vec::new(), Vec::new());
        for rep in 0..reps {
            let analyze = || {
                let _ = std::fs::remove_file(&plan);
                run_measured(&analyze_cmd)
            };
            // ABBA: neither side always runs first.
            let (a, p) = if rep % 2 == 0 {
                let a = analyze()?;
                (a, run_measured(&parse_cmd)?)
            } else {
                let p = run_measured(&parse_cmd)?;
                (analyze()?, p)
            };
            if let Some(cmd) = &system_cmd {
                let s = run_measured(cmd)?;
                s_ratios.push(a.wall / s.wall);
                s_wall.push(s.wall);
            }
            ratios.push(a.wall / p.wall);
            a_wall.push(a.wall);
            p_wall.push(p.wall);
            a_rss.push(a.rss as f64);
            p_rss.push(p.rss as f64);
        }
        let row = Row {
            name: name.clone(),
            files: files as usize,
            lines,
            analysed_lines,
            bytes,
            analyze: median(a_wall),
            parse: median(p_wall),
            ratio: median(ratios),
            rss: median(a_rss) as u64,
            parse_rss: median(p_rss) as u64,
            system: system_cmd
                .is_some()
                .then(|| (median(s_wall), median(s_ratios))),
        };
        eprintln!(
            "bench: {name}: analyze {:.3}s, parse-only {:.3}s, ratio {:.2}{}",
            row.analyze,
            row.parse,
            row.ratio,
            row.system
                .map(|(w, r)| format!("; system-malloc parse-only {w:.3}s, ratio {r:.2}"))
                .unwrap_or_default()
        );
        rows.push(row);
    }

    let mut table = String::new();
    table.push_str(&format!(
        "Medians of {reps} alternating runs; ratio = median of per-run analyze/parse-only; \
         `cleave --version` peaks at {:.1} MB RSS.\n\n",
        idle as f64 / 1e6
    ));
    let with_system = rows.iter().any(|r| r.system.is_some());
    if with_system {
        table.push_str(
            "parse-only allocates with cleave's allocator (jemalloc); the system-malloc \
             columns time the same baseline with the system allocator.\n\n",
        );
    }
    table.push_str(
        "| input | files | lines (analysed) | MB | analyze s | parse-only s | ratio | MB/s | \
         peak RSS MB (parse-only) | RSS / source |",
    );
    table.push_str(if with_system {
        " parse-only s (system malloc) | ratio to it |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    } else {
        "\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    });
    for r in &rows {
        let mb = r.bytes as f64 / 1e6;
        table.push_str(&format!(
            "| {} | {} | {} ({}) | {:.2} | {:.3} | {:.3} | {:.2} | {:.1} | {:.1} ({:.1}) | {:.1} |",
            r.name,
            r.files,
            r.lines,
            r.analysed_lines,
            mb,
            r.analyze,
            r.parse,
            r.ratio,
            mb / r.analyze,
            r.rss as f64 / 1e6,
            r.parse_rss as f64 / 1e6,
            r.rss as f64 / r.bytes as f64,
        ));
        match r.system {
            Some((wall, ratio)) => table.push_str(&format!(" {wall:.3} | {ratio:.2} |\n")),
            None if with_system => table.push_str(" | |\n"),
            None => table.push('\n'),
        }
    }
    if !fit.is_empty() {
        let series: Vec<&Row> = fit
            .iter()
            .filter_map(|n| rows.iter().find(|r| &r.name == n))
            .collect();
        if series.len() >= 2 {
            let k_time = slope(series.iter().map(|r| (r.lines as f64, r.analyze)));
            let k_parse = slope(series.iter().map(|r| (r.lines as f64, r.parse)));
            let k_rss = slope(series.iter().map(|r| (r.bytes as f64, r.rss as f64)));
            table.push_str(&format!(
                "\nGrowth over {}: analyze time ~ lines^{k_time:.2}, parse-only time ~ \
                 lines^{k_parse:.2}, analyze peak RSS ~ bytes^{k_rss:.2}.\n",
                fit.join(", ")
            ));
        }
    }
    print!("{table}");
    if let Some(path) = markdown {
        std::fs::write(&path, &table).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Least-squares slope of `ln y` over `ln x`.
fn slope(points: impl Iterator<Item = (f64, f64)>) -> f64 {
    let pts: Vec<(f64, f64)> = points.map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let cov: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let var: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    cov / var
}
