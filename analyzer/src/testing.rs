//! Test support: multi-file fixtures written as one string.
//!
//! ```text
//! //- /Cargo.toml
//! [package]
//! name = "app"
//! //- /src/lib.rs
//! pub fn f() {}
//! ```
//! Files are written to a temporary directory; paths are relative to it.

use std::path::Path;

/// Analyses `fixture`, written to a temporary directory; `manifest` (a
/// `//- /Cargo.toml` file) is prepended unless the fixture has its own.
pub fn analyze(fixture: &str, manifest: &str) -> crate::analysis::Analysis {
    analyze_with(fixture, manifest, &crate::analysis::Options::default())
}

/// [`analyze`] with what a plan tells the analysis.
pub fn analyze_with(
    fixture: &str,
    manifest: &str,
    options: &crate::analysis::Options,
) -> crate::analysis::Analysis {
    let dir = tempfile::tempdir().expect("tempdir");
    if fixture.contains("//- /Cargo.toml") {
        write_fixture(dir.path(), fixture);
    } else {
        write_fixture(dir.path(), &format!("{manifest}{fixture}"));
    }
    crate::analysis::analyze_with(dir.path(), options).expect("analyse")
}

/// Writes the files of `fixture` under `dir`.
pub fn write_fixture(dir: &Path, fixture: &str) {
    let mut current: Option<(String, String)> = None;
    let mut files = Vec::new();
    for line in fixture.lines() {
        if let Some(path) = line.trim_start().strip_prefix("//- /") {
            if let Some(f) = current.take() {
                files.push(f);
            }
            current = Some((path.trim().to_owned(), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    files.extend(current);
    for (path, text) in files {
        let full = dir.join(&path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create fixture dir");
        }
        std::fs::write(full, dedent(&text)).expect("write fixture file");
    }
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// An analysis of routes and fns only, written as lines:
///
/// ```text
/// fn load 40 -> check        // a fn, its lines, the fns it calls
/// fn check 10
/// GET /users -> list load     // a route and the fns it calls
/// state COUNTER: GET /users, GET /orders
/// ```
/// A route reaches what its fns call, transitively. A fn named only in a
/// route or a call has one line. The monolith's lines are the fns' lines.
pub fn synthetic(text: &str) -> crate::analysis::Analysis {
    use crate::analysis::{Analysis, FnFact, ProjectInfo, SCHEMA};
    use crate::entrypoints::{EntryKind, EntryPoint, Location};
    use std::collections::BTreeMap;

    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut fns: Vec<FnFact> = Vec::new();
    let mut id = |name: &str, fns: &mut Vec<FnFact>| -> usize {
        *index.entry(name.to_owned()).or_insert_with(|| {
            fns.push(FnFact {
                id: format!("app::{name}"),
                file: "src/lib.rs".to_owned(),
                line: 1,
                lines: 1,
                module: format!("app::{}", name.split('_').next().unwrap_or(name)),
            });
            fns.len() - 1
        })
    };
    let mut edges = Vec::new();
    let mut routes: Vec<(String, String, Vec<usize>)> = Vec::new();
    let mut hazards = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("fn ") {
            let (head, calls) = rest.split_once("->").unwrap_or((rest, ""));
            let mut words = head.split_whitespace();
            let name = words.next().expect("fn name");
            let f = id(name, &mut fns);
            fns[f].lines = words.next().map_or(1, |n| n.parse().expect("lines"));
            for callee in calls.split_whitespace() {
                let g = id(callee, &mut fns);
                edges.push((f, g));
            }
        } else if let Some(rest) = line.strip_prefix("state ") {
            let (item, users) = rest.split_once(':').expect("state ITEM: routes");
            let mut entrypoints: Vec<String> =
                users.split(',').map(|r| r.trim().to_owned()).collect();
            entrypoints.sort();
            hazards.push(crate::hazards::Hazard {
                code: "in-process-state",
                severity: crate::Severity::Warning,
                file: "src/lib.rs".to_owned(),
                line: 1,
                item: format!("app::{}", item.trim()),
                message: String::new(),
                advice: String::new(),
                entrypoints,
                pool: None,
            });
        } else {
            let (route, calls) = line.split_once("->").unwrap_or((line, ""));
            let (method, path) = route.trim().split_once(' ').expect("METHOD /path");
            let roots = calls.split_whitespace().map(|c| id(c, &mut fns)).collect();
            routes.push((method.to_owned(), path.to_owned(), roots));
        }
    }
    edges.sort();
    edges.dedup();
    let reach: Vec<Vec<usize>> = routes
        .iter()
        .map(|(_, _, roots)| {
            let mut seen = vec![false; fns.len()];
            let mut stack = roots.clone();
            while let Some(f) = stack.pop() {
                if !std::mem::replace(&mut seen[f], true) {
                    stack.extend(edges.iter().filter(|(x, _)| *x == f).map(|(_, y)| *y));
                }
            }
            (0..fns.len()).filter(|f| seen[*f]).collect()
        })
        .collect();
    let at = Location {
        file: "src/lib.rs".to_owned(),
        line: 1,
    };
    let entrypoints = routes
        .iter()
        .map(|(method, path, _)| EntryPoint {
            kind: EntryKind::Http,
            framework: None,
            method: method.clone(),
            path: path.clone(),
            handler: "app::handler".to_owned(),
            at: at.clone(),
            registered: at.clone(),
            middleware: Vec::new(),
            root: None,
        })
        .collect();
    Analysis {
        schema: SCHEMA,
        project: ProjectInfo {
            name: "app".to_owned(),
            root: ".".to_owned(),
            crates: Vec::new(),
            frameworks: Vec::new(),
            files: 1,
            lines: fns.iter().map(|f| u64::from(f.lines)).sum(),
        },
        entrypoints,
        hazards,
        config: Vec::new(),
        workers: Vec::new(),
        diagnostics: Vec::new(),
        fns,
        edges,
        reach,
        mains: Vec::new(),
        serving: Vec::new(),
        features: Vec::new(),
        route_binaries: (Vec::new(), None),
        packages: Vec::new(),
    }
}
