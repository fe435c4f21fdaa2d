//! Plan: the split proposal as people edit it (`cleave.toml`) and as
//! codegen consumes it ([`Plan`]).
//!
//! Reads a plan with its line numbers (every error names the line), checks
//! it against an [`Analysis`] (unknown routes with the nearest real one
//! suggested, routes assigned twice or not at all, names that are not
//! crate-safe, memory and timeout out of range), writes a fresh proposal with
//! comments, and merges a new proposal into a file a person edited: their
//! assignments, names and settings stay; new routes are placed and marked;
//! vanished routes are removed with a notice. Knows nothing of the disk.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

use crate::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
use crate::entrypoints::prefix::Overrides;
use crate::partition::{self, Group};

mod deploy;
mod worker;

pub use deploy::{
    DEFAULT_RETENTION_DAYS, Deploy, EnvSource, LAMBDA_RESERVED, RETENTION_DAYS, lambda_reserved,
    valid_env_name,
};
pub use worker::{DEFAULT_WORKER_TIMEOUT_S, PlanWorker, schedulable, source_of};

pub const VERSION: i64 = 1;
pub const TARGET: &str = "aws-lambda";
pub const MEMORY_RANGE: (i64, i64) = (128, 10240);
pub const TIMEOUT_RANGE: (i64, i64) = (1, 900);
pub const DEFAULT_MEMORY_MB: i64 = 256;
/// API Gateway HTTP APIs stop waiting after 30 s.
pub const DEFAULT_TIMEOUT_S: i64 = 29;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanFunction {
    pub name: String,
    pub routes: Vec<String>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// Line of the `[[function]]` header.
    #[serde(skip)]
    pub line: u32,
    /// Line of the `name` value (the header's when there is none).
    #[serde(skip)]
    pub name_line: u32,
    /// Line of each route string.
    #[serde(skip)]
    pub route_lines: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub version: i64,
    pub target: String,
    /// Warn when a function reaches more lines than this (optional).
    pub max_reachable_lines: Option<u64>,
    pub functions: Vec<PlanFunction>,
    /// `[[worker]]`: the scheduled functions, one per interval loop.
    pub workers: Vec<PlanWorker>,
    /// `[prefix]`: the whole prefix of a mount whose prefix is computed at
    /// runtime, by the mount's `file:line` (`"src/main.rs:585" = "/vault"`).
    pub prefixes: Overrides,
    /// `[deploy]`: log retention and format, tracing, and the variables
    /// resolved from Secrets Manager or SSM at deploy time.
    pub deploy: Deploy,
    /// `args = ["serve"]`: the arguments each function starts the serving
    /// binary with, when its `main` is a CLI that serves on a subcommand
    /// (Lambda starts it with none). Empty: none.
    pub args: Vec<String>,
    /// `features = ["sqlite"]`: features on beside the defaults, as
    /// `cargo build --features` (see `analysis::Options::features`); the
    /// generated functions build with them.
    pub features: Vec<String>,
    /// `bin = "api"`: when several binaries serve routes, the one whose
    /// routes this plan splits (see `analysis::Options::bin`).
    pub bin: Option<String>,
    /// Line of `bin`.
    #[serde(skip)]
    pub bin_line: u32,
}

/// Whether a function name is crate-safe: `[a-z][a-z0-9-]*`, at most 48
/// characters, no `--`, not ending in `-`. Rules out separators, `..`, NUL and
/// anything that could leave a directory.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 48
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !name.contains("--")
        && !name.ends_with('-')
}

fn line_at(text: &str, offset: usize) -> u32 {
    Lines::new(text).at(offset)
}

/// Where a text's lines end, to turn many byte offsets into 1-based line
/// numbers without counting from the start each time (a plan may list
/// thousands of routes).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    fn at(&self, offset: usize) -> u32 {
        1 + self.0.partition_point(|&n| n < offset) as u32
    }
}

/// Reads a plan. Problems in it are diagnostics naming `file` and the line;
/// the plan is `None` only when nothing usable could be read.
pub fn parse(text: &str, file: &str) -> (Option<Plan>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let err = |diags: &mut Vec<Diagnostic>, line: u32, msg: String| {
        diags.push(Diagnostic::new("plan", Severity::Error, file, line, msg));
    };
    let doc = match toml_edit::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_owned();
            err(
                &mut diags,
                line,
                format!("invalid TOML: {msg}; fix the syntax and run again"),
            );
            return (None, diags);
        }
    };
    let root = doc.as_table();
    let lines = Lines::new(text);
    let line_of = |item: &Item| item.span().map(|s| lines.at(s.start)).unwrap_or(1);
    let version = match root.get("version") {
        Some(v) => match v.as_integer() {
            Some(n) if n == VERSION => n,
            Some(n) => {
                err(
                    &mut diags,
                    line_of(v),
                    format!(
                        "`version = {n}` is not supported; this cleave reads version {VERSION}"
                    ),
                );
                n
            }
            None => {
                err(
                    &mut diags,
                    line_of(v),
                    format!("`version` must be the integer {VERSION}"),
                );
                VERSION
            }
        },
        None => {
            err(
                &mut diags,
                1,
                format!("missing `version = {VERSION}` at the top of the plan"),
            );
            VERSION
        }
    };
    let target = match root.get("target") {
        Some(v) => match v.as_str() {
            Some(t) if t == TARGET => t.to_owned(),
            _ => {
                err(
                    &mut diags,
                    line_of(v),
                    format!("`target` must be \"{TARGET}\""),
                );
                TARGET.to_owned()
            }
        },
        None => TARGET.to_owned(),
    };
    let max_reachable_lines = match root.get("max_reachable_lines") {
        Some(v) => match v.as_integer() {
            Some(n) if n > 0 => Some(n as u64),
            _ => {
                err(
                    &mut diags,
                    line_of(v),
                    "`max_reachable_lines` must be a positive integer".to_owned(),
                );
                None
            }
        },
        None => None,
    };
    for (key, item) in root.iter() {
        if !matches!(
            key,
            "version"
                | "target"
                | "max_reachable_lines"
                | "function"
                | "worker"
                | "prefix"
                | "deploy"
                | "args"
                | "bin"
                | "features"
        ) {
            diags.push(Diagnostic::new(
                "plan",
                Severity::Warning,
                file,
                line_of(item),
                format!("unknown key `{key}` is ignored"),
            ));
        }
    }
    let prefixes = read_prefixes(root, &lines, file, &mut diags);
    let (bin, bin_line) = match root.get("bin") {
        None => (None, 0),
        Some(item) => match item.as_str() {
            Some(b) => (Some(b.to_owned()), line_of(item)),
            None => {
                err(
                    &mut diags,
                    line_of(item),
                    "`bin` must be a binary's name: bin = \"api\"".to_owned(),
                );
                (None, 0)
            }
        },
    };
    let args = match root.get("args") {
        None => Vec::new(),
        Some(item) => match strings(item) {
            Some(args) => args,
            _ => {
                err(
                    &mut diags,
                    line_of(item),
                    "`args` must be a list of strings: args = [\"serve\"]".to_owned(),
                );
                Vec::new()
            }
        },
    };
    let features = match root.get("features") {
        None => Vec::new(),
        Some(item) => match strings(item) {
            Some(features) => features,
            None => {
                err(
                    &mut diags,
                    line_of(item),
                    "`features` must be a list of feature names: features = [\"sqlite\"]"
                        .to_owned(),
                );
                Vec::new()
            }
        },
    };
    let deploy = deploy::read(root, &lines, file, &mut diags);
    let workers = worker::read(root, &lines, file, &mut diags);
    let mut functions = Vec::new();
    match root.get("function") {
        None => err(
            &mut diags,
            1,
            "no `[[function]]` tables; run `cleave analyze` to propose some".to_owned(),
        ),
        Some(item) => match item.as_array_of_tables() {
            None => err(
                &mut diags,
                line_of(item),
                "`function` must be written as `[[function]]` tables".to_owned(),
            ),
            Some(tables) => {
                for t in tables.iter() {
                    functions.push(read_function(t, &lines, file, &mut diags));
                }
            }
        },
    }
    (
        Some(Plan {
            version,
            target,
            max_reachable_lines,
            functions,
            workers,
            prefixes,
            deploy,
            args,
            bin,
            bin_line,
            features,
        }),
        diags,
    )
}

/// The `[prefix]` table: `"FILE:LINE" = "/path"` entries.
fn read_prefixes(
    root: &Table,
    lines: &Lines,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) -> Overrides {
    let mut out = Overrides::new();
    let Some(item) = root.get("prefix") else {
        return out;
    };
    let line_of = |item: &Item| item.span().map(|s| lines.at(s.start)).unwrap_or(1);
    let mut err = |line: u32, msg: String| {
        diags.push(Diagnostic::new("plan", Severity::Error, file, line, msg))
    };
    let Some(table) = item.as_table_like() else {
        err(
            line_of(item),
            "`prefix` must be a table: [prefix] \"src/main.rs:12\" = \"/base\"".to_owned(),
        );
        return out;
    };
    for (key, v) in table.iter() {
        let line = line_of(v);
        let site_ok = key
            .rsplit_once(':')
            .is_some_and(|(f, l)| !f.is_empty() && l.parse::<u32>().is_ok_and(|n| n > 0));
        if !site_ok {
            err(
                line,
                format!(
                    "[prefix] key {key:?} must name a mount as \"FILE:LINE\", as `cleave analyze` \
                     prints it (e.g. \"src/main.rs:585\")"
                ),
            );
            continue;
        }
        match v.as_str() {
            Some(p) if p.is_empty() || p.starts_with('/') => {
                out.insert(key.to_owned(), p.to_owned());
            }
            _ => err(
                line,
                format!("[prefix] {key:?} must be a path string starting with `/` (or \"\")"),
            ),
        }
    }
    out
}

/// The `[prefix]` table of a plan's text, for the analysis that precedes
/// reading the whole plan; empty when the text is not a plan.
/// A list of strings (`["serve"]`), or `None` for anything else.
fn strings(item: &Item) -> Option<Vec<String>> {
    item.as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

pub fn options(text: &str) -> crate::analysis::Options {
    match toml_edit::Document::parse(text) {
        Ok(doc) => {
            let mut ignored = Vec::new();
            crate::analysis::Options {
                prefixes: read_prefixes(doc.as_table(), &Lines::new(text), "", &mut ignored),
                bin: doc.get("bin").and_then(Item::as_str).map(str::to_owned),
                features: doc.get("features").and_then(strings).unwrap_or_default(),
            }
        }
        Err(_) => crate::analysis::Options::default(),
    }
}

fn read_function(
    t: &Table,
    lines: &Lines,
    file: &str,
    diags: &mut Vec<Diagnostic>,
) -> PlanFunction {
    let header = t.span().map(|s| lines.at(s.start)).unwrap_or(1);
    let line_of = |item: &Item| item.span().map(|s| lines.at(s.start)).unwrap_or(header);
    let mut err = |line: u32, msg: String| {
        diags.push(Diagnostic::new("plan", Severity::Error, file, line, msg))
    };
    let name_line = t.get("name").map(&line_of).unwrap_or(header);
    let name = match t.get("name") {
        Some(v) => match v.as_str() {
            Some(n) if valid_name(n) => n.to_owned(),
            Some(n) => {
                err(
                    line_of(v),
                    format!(
                        "function name {n:?} is not crate-safe: use lower-case letters, digits and single `-`, starting with a letter, at most 48 characters (e.g. \"{}\")",
                        partition::crate_safe(n)
                    ),
                );
                n.to_owned()
            }
            None => {
                err(line_of(v), "`name` must be a string".to_owned());
                String::new()
            }
        },
        None => {
            err(header, "this `[[function]]` has no `name`".to_owned());
            String::new()
        }
    };
    let mut routes = Vec::new();
    let mut route_lines = Vec::new();
    match t.get("routes") {
        Some(item) => match item.as_array() {
            Some(arr) => {
                for v in arr.iter() {
                    let line = v.span().map(|s| lines.at(s.start)).unwrap_or(line_of(item));
                    match v.as_str() {
                        Some(r) => {
                            routes.push(r.to_owned());
                            route_lines.push(line);
                        }
                        None => err(
                            line,
                            "each route must be a string like \"GET /orders/{id}\"".to_owned(),
                        ),
                    }
                }
            }
            None => err(
                line_of(item),
                "`routes` must be an array of strings".to_owned(),
            ),
        },
        None => err(header, format!("function `{name}` has no `routes`")),
    }
    let mut int = |key: &str, default: i64, (lo, hi): (i64, i64)| -> u32 {
        match t.get(key) {
            None => default as u32,
            Some(v) => match v.as_integer() {
                Some(n) if (lo..=hi).contains(&n) => n as u32,
                Some(n) => {
                    err(
                        line_of(v),
                        format!("`{key} = {n}` is out of range {lo}..={hi}"),
                    );
                    default as u32
                }
                None => {
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
    let timeout_s = int("timeout_s", DEFAULT_TIMEOUT_S, TIMEOUT_RANGE);
    PlanFunction {
        name,
        routes,
        memory_mb,
        timeout_s,
        line: header,
        name_line,
        route_lines,
    }
}

/// Checks a plan against the analysed code: every route exists and sits in
/// exactly one function; names are unique.
pub fn validate(plan: &Plan, analysis: &Analysis, file: &str) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let known: Vec<String> = partition::route_names(analysis);
    let known_set: BTreeSet<&str> = known.iter().map(String::as_str).collect();
    let mut seen: BTreeMap<&str, (&str, u32)> = BTreeMap::new();
    let mut names: BTreeMap<&str, u32> = BTreeMap::new();
    let mut shapes: BTreeMap<String, (&str, &str, u32)> = BTreeMap::new();
    // "Did you mean" costs a comparison with every known route: offered for
    // the first unknown routes of sensible length only, so that a plan of
    // 100,000 wrong routes is still refused at once.
    let mut hints_left = 64;
    for f in &plan.functions {
        if !f.name.is_empty()
            && let Some(first) = names.insert(&f.name, f.name_line)
        {
            diags.push(Diagnostic::new(
                "plan",
                Severity::Error,
                file,
                f.name_line,
                format!(
                    "function name `{}` is used twice (first at line {first}); rename one",
                    f.name
                ),
            ));
        }
        if let Some(p) = analysis.packages.iter().find(|p| p.name == f.name) {
            diags.push(Diagnostic::new(
                "plan",
                Severity::Error,
                file,
                f.name_line,
                format!(
                    "function name `{}` is the name of the package in `{}/Cargo.toml`; the generated workspace holds both, so rename the function (e.g. \"{}-fn\")",
                    f.name,
                    if p.dir.is_empty() { "." } else { p.dir.as_str() },
                    f.name
                ),
            ));
        }
        if f.routes.is_empty() {
            diags.push(Diagnostic::new(
                "plan",
                Severity::Warning,
                file,
                f.name_line,
                format!(
                    "function `{}` has no routes: it would deploy a function that serves nothing; remove it or move routes into it",
                    f.name
                ),
            ));
        }
        for (r, line) in f.routes.iter().zip(&f.route_lines) {
            if !known_set.contains(r.as_str()) {
                let hint = if hints_left > 0 && r.len() <= 256 {
                    hints_left -= 1;
                    nearest(r, &known)
                        .map(|n| format!("; did you mean \"{n}\"?"))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                diags.push(Diagnostic::new(
                    "plan",
                    Severity::Error,
                    file,
                    *line,
                    format!("unknown route \"{r}\" in function `{}`{hint}", f.name),
                ));
                continue;
            }
            if let Some((other, first)) = seen.insert(r, (&f.name, *line)) {
                diags.push(Diagnostic::new(
                    "plan",
                    Severity::Error,
                    file,
                    *line,
                    format!("route \"{r}\" is in `{}` and already in `{other}` (line {first}); keep it in one function", f.name),
                ));
                continue;
            }
            // Routes of one shape answer the same requests: a gateway can
            // send them to one function only.
            match shapes.entry(partition::route_shape(r)) {
                Entry::Vacant(v) => {
                    v.insert((r.as_str(), f.name.as_str(), *line));
                }
                Entry::Occupied(o) => {
                    let (other_route, other, first) = *o.get();
                    if other != f.name {
                        diags.push(Diagnostic::new(
                            "plan",
                            Severity::Error,
                            file,
                            *line,
                            format!(
                                "route \"{r}\" in `{}` matches the same requests as \"{other_route}\" in `{other}` (line {first}); API Gateway can send them to one function only, so put both in one function",
                                f.name
                            ),
                        ));
                    }
                }
            }
        }
    }
    if let Some(bin) = &plan.bin
        && !analysis.serving_mains().iter().any(|m| &m.krate == bin)
    {
        let serving: Vec<String> = analysis
            .serving_mains()
            .iter()
            .map(|m| format!("`{}`", m.krate))
            .collect();
        diags.push(Diagnostic::new(
            "plan",
            Severity::Error,
            file,
            plan.bin_line,
            format!(
                "bin `{bin}` is not a binary that serves (serving: {}); name one of them",
                if serving.is_empty() {
                    "none".to_owned()
                } else {
                    serving.join(", ")
                }
            ),
        ));
    }
    // A variable the analysis did not find is still set: the app may read
    // it in a way cleave cannot see.
    for (name, line) in &plan.deploy.env_lines {
        if !analysis.config.iter().any(|v| &v.name == name) {
            diags.push(Diagnostic::new(
                "plan",
                Severity::Warning,
                file,
                *line,
                format!(
                    "[deploy.env] {name}: cleave found no read of this variable in the app; it is set anyway"
                ),
            ));
        }
    }
    worker::validate(plan, analysis, file, &mut diags);
    for r in &known {
        if !seen.contains_key(r.as_str()) {
            diags.push(Diagnostic::new(
                "plan",
                Severity::Error,
                file,
                1,
                format!("route \"{r}\" is in no function; add it to one (or run `cleave analyze` to place it)"),
            ));
        }
    }
    diags
}

/// The known route closest to `r` by edit distance, if reasonably close.
fn nearest<'a>(r: &str, known: &'a [String]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = levenshtein(&r.to_ascii_uppercase(), &k.to_ascii_uppercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.filter(|(d, _)| *d <= r.len().max(4) / 2)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A fresh, commented `cleave.toml` for `groups`.
pub fn render(analysis: &Analysis, groups: &[Group], granularity: &str) -> String {
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!(
        "# Split plan for `{}`, proposed by cleave ({granularity}). Edit, then run `cleave review`.\n\
         # Each route belongs to exactly one function. Names: [a-z][a-z0-9-]*, at most 48 chars.\n\
         # memory_mb: 128..=10240; timeout_s: 1..=900 (HTTP APIs stop waiting at 30).\n",
        analysis.project.name
    ));
    doc["version"] = value(VERSION);
    doc["target"] = value(TARGET);
    set_bin(&mut doc, analysis, "");
    set_features(&mut doc, analysis, "");
    set_args(&mut doc, analysis, "");
    let mut tables = ArrayOfTables::new();
    for g in groups {
        tables.push(function_table(g));
    }
    doc["function"] = Item::ArrayOfTables(tables);
    worker::propose(&mut doc, analysis);
    doc.to_string()
}

/// `bin = ".."` when several binaries serve routes: the one this plan
/// splits, with a comment naming the others.
fn set_bin(doc: &mut DocumentMut, analysis: &Analysis, note: &str) {
    let (binaries, Some(chosen)) = analysis.route_binaries() else {
        return;
    };
    if binaries.len() < 2 {
        return;
    }
    let list: Vec<String> = binaries
        .iter()
        .map(|(b, n)| format!("`{b}` ({n} routes)"))
        .collect();
    doc["bin"] = value(chosen);
    if let Some(mut key) = doc.as_table_mut().key_mut("bin") {
        key.leaf_decor_mut().set_prefix(format!(
            "\n{note}# Several binaries serve routes: {}. This plan splits `{chosen}`'s; \
             name another here and run `cleave analyze` again for its own plan.\n",
            list.join(", ")
        ));
    }
}

/// `features = [..]`: the features the analysis turned on beside the
/// defaults (`cleave analyze --features`); none removes the key.
fn set_features(doc: &mut DocumentMut, analysis: &Analysis, note: &str) {
    if analysis.features.is_empty() {
        doc.remove("features");
        return;
    }
    let mut arr = Array::new();
    for f in &analysis.features {
        arr.push(f.as_str());
    }
    doc["features"] = value(arr);
    if let Some(mut key) = doc.as_table_mut().key_mut("features") {
        key.leaf_decor_mut().set_prefix(format!(
            "\n{note}# Features on beside the defaults, as `cargo build --features`: \
             the analysis and the generated functions use them.\n"
        ));
    }
}

/// `args = [..]` for the serving binary, when its `main` serves on a
/// subcommand: with a comment saying where cleave read it, after `note`.
fn set_args(doc: &mut DocumentMut, analysis: &Analysis, note: &str) {
    let Some((krate, args)) = analysis
        .mains
        .iter()
        .find_map(|m| m.serve_args.as_ref().map(|a| (&m.krate, a)))
    else {
        return;
    };
    let mut arr = Array::new();
    for a in &args.args {
        arr.push(a.as_str());
    }
    doc["args"] = value(arr);
    if let Some(mut key) = doc.as_table_mut().key_mut("args") {
        key.leaf_decor_mut().set_prefix(format!(
            "\n{note}# How each function starts `{krate}`, whose `main` serves on a subcommand \
             ({}:{}); Lambda passes no arguments.\n",
            args.file, args.line
        ));
    }
}

fn function_table(g: &Group) -> Table {
    let mut t = Table::new();
    t.decor_mut().set_prefix("\n");
    t["name"] = value(&g.name);
    t["routes"] = value(route_array(&g.routes));
    t["memory_mb"] = value(DEFAULT_MEMORY_MB);
    t["timeout_s"] = value(DEFAULT_TIMEOUT_S);
    t.decor_mut().set_suffix(format!("\n# why: {}", g.why));
    t
}

fn route_array(routes: &[String]) -> Array {
    let mut arr = Array::new();
    for r in routes {
        let mut v = Value::from(r.as_str());
        v.decor_mut().set_prefix("\n    ");
        arr.push_formatted(v);
    }
    arr.set_trailing("\n");
    arr.set_trailing_comma(true);
    arr
}

/// What a merge did, for the notices on stderr.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MergeReport {
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
    pub new_functions: Vec<String>,
    /// Workers proposed for new loops, as `(name, source)`.
    pub workers_added: Vec<(String, String)>,
    /// Workers whose loop is gone, as `(name, source)`.
    pub workers_removed: Vec<(String, String)>,
}

/// Merges a proposal into a plan a person edited. Their assignments, names
/// and settings are kept; routes that vanished from the code are removed;
/// new routes go to the function holding most of their proposed group's
/// routes (else a new function), marked with a comment. Errors (bad TOML)
/// leave the text untouched: the caller must not overwrite it.
pub fn merge(
    existing: &str,
    analysis: &Analysis,
    proposal: &[Group],
) -> Result<(String, MergeReport), String> {
    let mut doc: DocumentMut = existing.parse().map_err(|e: toml_edit::TomlError| {
        let line = e.span().map(|s| line_at(existing, s.start)).unwrap_or(1);
        format!(
            "line {line}: invalid TOML: {}",
            e.message().lines().next().unwrap_or("")
        )
    })?;
    if doc.get("bin").is_none() {
        set_bin(&mut doc, analysis, "# new: proposed by cleave\n");
    }
    if doc.get("args").is_none() {
        set_args(&mut doc, analysis, "# new: proposed by cleave\n");
    }
    let written = doc.get("features").and_then(strings).unwrap_or_default();
    if written != analysis.features {
        set_features(&mut doc, analysis, "# new: cleave analyze --features\n");
    }
    let known: BTreeSet<String> = partition::route_names(analysis).into_iter().collect();
    let mut report = MergeReport::default();
    (report.workers_added, report.workers_removed) = worker::merge(&mut doc, analysis);
    let mut assigned: BTreeSet<String> = BTreeSet::new();
    // A plan a person started with settings only (`[prefix]`, as a
    // runtime-prefix warning advises): the proposal's functions join them.
    if doc.get("function").is_none() {
        if doc.get("version").is_none() {
            doc["version"] = value(VERSION);
        }
        if doc.get("target").is_none() {
            doc["target"] = value(TARGET);
        }
        let mut tables = ArrayOfTables::new();
        for g in proposal {
            tables.push(function_table(g));
        }
        doc["function"] = Item::ArrayOfTables(tables);
        return Ok((doc.to_string(), report));
    }
    let Some(tables) = doc
        .get_mut("function")
        .and_then(Item::as_array_of_tables_mut)
    else {
        return Err("`function` is not a list of `[[function]]` tables".to_owned());
    };
    for t in tables.iter_mut() {
        let name = t
            .get("name")
            .and_then(Item::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(arr) = t.get_mut("routes").and_then(Item::as_array_mut) {
            let mut i = 0;
            while i < arr.len() {
                let r = arr.get(i).and_then(Value::as_str).map(str::to_owned);
                match r {
                    Some(r) if !known.contains(&r) => {
                        arr.remove(i);
                        report.removed.push((name.clone(), r));
                    }
                    Some(r) => {
                        assigned.insert(r);
                        i += 1;
                    }
                    None => i += 1,
                }
            }
        }
    }
    let missing: Vec<String> = known
        .iter()
        .filter(|r| !assigned.contains(*r))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok((doc.to_string(), report));
    }
    // Place each new route beside the routes of its proposed group.
    let mut holder: BTreeMap<String, String> = BTreeMap::new();
    for t in tables.iter() {
        let name = t
            .get("name")
            .and_then(Item::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(arr) = t.get("routes").and_then(Item::as_array) {
            for v in arr.iter().filter_map(Value::as_str) {
                holder.insert(v.to_owned(), name.clone());
            }
        }
    }
    let mut existing_names: BTreeSet<String> = tables
        .iter()
        .filter_map(|t| t.get("name").and_then(Item::as_str))
        .map(str::to_owned)
        .collect();
    let mut new_groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &missing {
        let group = proposal.iter().find(|g| g.routes.contains(r));
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for other in group.map(|g| g.routes.as_slice()).unwrap_or(&[]) {
            if let Some(h) = holder.get(other) {
                *votes.entry(h.as_str()).or_default() += 1;
            }
        }
        let target = votes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(n, _)| (*n).to_owned());
        match target {
            Some(name) => {
                for t in tables.iter_mut() {
                    if t.get("name").and_then(Item::as_str) == Some(name.as_str())
                        && let Some(arr) = t.get_mut("routes").and_then(Item::as_array_mut)
                    {
                        let mut v = Value::from(r.as_str());
                        v.decor_mut()
                            .set_prefix("\n    # new: placed by cleave\n    ");
                        arr.push_formatted(v);
                        arr.set_trailing("\n");
                        break;
                    }
                }
                report.added.push((name, r.clone()));
            }
            None => {
                let base = group
                    .map(|g| g.name.clone())
                    .unwrap_or_else(|| partition::route_slug(r));
                new_groups.entry(base).or_default().push(r.clone());
            }
        }
    }
    for (base, routes) in new_groups {
        let mut name = base.clone();
        let mut n = 2;
        while existing_names.contains(&name) {
            name = format!(
                "{}-{n}",
                base.chars()
                    .take(44)
                    .collect::<String>()
                    .trim_end_matches('-')
            );
            n += 1;
        }
        existing_names.insert(name.clone());
        let mut t = function_table(&Group {
            name: name.clone(),
            routes: routes.clone(),
            why: "new routes, placed by cleave".to_owned(),
        });
        t.decor_mut()
            .set_prefix("\n# new: proposed by cleave for routes no function held\n");
        tables.push(t);
        for r in routes {
            report.added.push((name.clone(), r));
        }
        report.new_functions.push(name);
    }
    Ok((doc.to_string(), report))
}

/// The groups a plan describes, as `(name, routes)`.
pub fn groups(plan: &Plan) -> Vec<(String, Vec<String>)> {
    plan.functions
        .iter()
        .map(|f| (f.name.clone(), f.routes.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
