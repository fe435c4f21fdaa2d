//! Generate: [`Input`] (analysis, plan, read access to the monolith) ->
//! the function workspace as a [`Tree`] (DESIGN.md §7).
//!
//! Library packages are copied unchanged apart from their manifests
//! (`crates/`); the binary that serves the app becomes one crate per
//! function (`functions/<name>`), its `main` rewritten by `mainrs`; the
//! workspace manifest, `template.yaml`, `MIGRATION.md` and `README.md` are
//! rendered; the monolith's `Cargo.lock` is kept so every dependency stays
//! at the version the monolith was tested with. The [`Adapter`] decides the
//! runner's Lambda side: in-process (`lambda_http`, and a `cargo lambda
//! watch` router), or none, the AWS Lambda Web Adapter layer in
//! `template.yaml` forwarding each event to the function's server.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use cleave_analyzer::analysis::{Analysis, PackageInfo};
use cleave_analyzer::entrypoints::{EntryKind, Framework};
use cleave_analyzer::partition::Segment;
use cleave_analyzer::plan::Plan;
use cleave_analyzer::startup::{BinMain, ServeSite, StmtKind};
use toml_edit::{DocumentMut, InlineTable, Item};

use crate::docs::{self, Event, FunctionNote, HazardNote, SamFunction};
use crate::mainrs::{self, Edit, MainMode};
use crate::manifest;
use crate::runner::{self, Backend, Runner};
use crate::write::MARKER;
use crate::{GenerateError, Source, Tree};

/// How a function talks to Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// In-process, through `lambda_http`.
    Native,
    /// A plain HTTP server behind the AWS Lambda Web Adapter layer.
    WebAdapter,
}

#[allow(missing_debug_implementations)] // holds a `dyn Source`
pub struct Input<'a> {
    pub analysis: &'a Analysis,
    pub plan: &'a Plan,
    /// The plan's file name, as it appears in headers (no directories).
    pub plan_file: &'a str,
    pub source: &'a dyn Source,
    pub adapter: Adapter,
}

#[derive(Debug)]
pub struct Generated {
    pub tree: Tree,
    pub functions: Vec<String>,
    pub edits: usize,
}

const RUNNER_MOD: &str = "cleave_lambda";
/// A function's route sets, when the runner lives in a library.
const ROUTES_MOD: &str = "cleave_routes";

fn input_err(file: impl Into<String>, message: impl Into<String>) -> GenerateError {
    GenerateError::Input {
        file: file.into(),
        message: message.into(),
    }
}

fn read_text(source: &dyn Source, rel: &str) -> Result<String, GenerateError> {
    let bytes = source
        .read(rel)
        .map_err(|e| input_err(rel, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|_| input_err(rel, "not UTF-8"))
}

pub fn generate(input: &Input<'_>) -> Result<Generated, GenerateError> {
    let a = input.analysis;
    let app = a.project.name.as_str();
    let frameworks = &a.project.frameworks;
    if frameworks.is_empty() {
        return Err(input_err(
            &a.project.root,
            "no HTTP routes found; there is nothing to split",
        ));
    }
    // A function crate may not take the name of a library package it sits beside.
    for f in &input.plan.functions {
        if let Some(p) = a
            .packages
            .iter()
            .find(|p| p.lib.is_some() && p.name == f.name)
        {
            return Err(input_err(
                input.plan_file,
                format!(
                    "function `{}` has the name of the library package `{}`; rename the function in the plan",
                    f.name, p.name
                ),
            ));
        }
    }
    let names: Vec<&str> = frameworks.iter().map(|f| f.name()).collect();
    // rocket's `<path..>` matches no segment too; axum's `{*rest}` does not.
    let rest_matches_empty = frameworks.as_slice() == [Framework::Rocket];
    let backend = match frameworks.as_slice() {
        [one] => runner::backend(*one),
        _ => None,
    }
    .ok_or_else(|| {
        input_err(
            &a.project.root,
            format!(
                "generating functions for {} is not implemented yet; `cleave analyze` and `cleave review` work",
                names.join(" + ")
            ),
        )
    })?;
    let main = a
        .mains
        .iter()
        .find(|m| {
            m.launch.is_some()
                || m.serve_site.is_some()
                || m.stmts.iter().any(|s| s.kind == StmtKind::Serve)
        })
        .ok_or_else(|| {
            let message = if a.mains.is_empty() {
                "the project has no binary with a `main` (or rocket `#[launch]` fn); cleave builds each function from the binary that starts the service: add `src/main.rs` that starts it".to_owned()
            } else {
                format!(
                    "no binary's `main` serves the app (looked for {}, in `main` and in the fns `main` calls by name, one call deep: not through methods or builders); cleave needs `main`, or a fn it calls, to start the server",
                    backend.expects
                )
            };
            input_err(&a.project.root, message)
        })?;
    let header_rs = format!(
        "// @generated by cleave from `{app}` with plan `{}`.",
        input.plan_file
    );
    let header_hash = format!(
        "# @generated by cleave from `{app}` with plan `{}`.",
        input.plan_file
    );

    let mut tree = Tree::new();
    let mut edits: Vec<Edit> = Vec::new();

    // Library packages -> crates/ (or their own directory in a workspace).
    let moved = |old: &str| -> String { new_dir(app, &a.packages, old) };
    let package_dirs: Vec<String> = a.packages.iter().map(|p| p.dir.clone()).collect();
    let mut members = Vec::new();
    let mut cores = Vec::new();
    let root_manifest_text = read_text(input.source, "Cargo.toml")?;
    let root_doc: DocumentMut = root_manifest_text
        .parse()
        .map_err(|e: toml_edit::TomlError| input_err("Cargo.toml", e.message().to_owned()))?;
    let mut ws_deps: BTreeMap<String, InlineTable> = BTreeMap::new();
    // Where the app is served: by `main`, by a fn of the binary's own
    // modules, or by a library fn (then the runner lives in that library).
    let site = main.serve_site.as_ref();
    let site_in_lib = site.filter(|s| s.in_lib);
    if let Some(s) = site
        && !s.in_lib
        && !main.files.contains(&s.file)
    {
        return Err(input_err(
            &s.file,
            format!(
                "`{}` serves the app but is outside the binary's modules and no library of the workspace holds it",
                s.fn_name
            ),
        ));
    }
    let mut site_done = site_in_lib.is_none();
    for p in a.packages.iter().filter(|p| p.lib.is_some()) {
        let lib = p.lib.clone().unwrap_or_default();
        let to = moved(&p.dir);
        let manifest_path = manifest::join(&p.dir, "Cargo.toml");
        let text = read_text(input.source, &manifest_path)?;
        // The package keeps its name (code may read `CARGO_PKG_NAME`); only its
        // directory says it is the core.
        let mut doc = manifest::library(&text, None, &lib)
            .map_err(|e| input_err(&manifest_path, e.message().to_owned()))?;
        manifest::repoint_paths(&mut doc, &p.dir, &to, &moved);
        let skip: Vec<String> = package_dirs
            .iter()
            .filter(|d| **d != p.dir && (p.dir.is_empty() || d.starts_with(&format!("{}/", p.dir))))
            .cloned()
            .collect();
        for file in input.source.files(&p.dir, &skip) {
            let rel = strip_dir(&p.dir, &file);
            // Tests, benches and examples are not built in the core (`autotests = false`).
            let first = rel.split('/').next().unwrap_or("");
            if rel == "Cargo.toml"
                || rel == "Cargo.lock"
                || rel.starts_with("cleave")
                || matches!(first, "tests" | "benches" | "examples")
            {
                continue;
            }
            tree.insert(
                manifest::join(&to, rel),
                input
                    .source
                    .read(&file)
                    .map_err(|e| input_err(&file, e.to_string()))?,
            );
        }
        if let Some(site) = site_in_lib
            && site.krate == lib.replace('-', "_")
        {
            host_runner(
                &mut tree,
                &mut doc,
                &mut ws_deps,
                &mut edits,
                HostRunner {
                    site,
                    manifest_text: &text,
                    package_dir: &p.dir,
                    to: &to,
                    backend: &backend,
                    adapter: input.adapter,
                    header: &header_rs,
                },
            )?;
            site_done = true;
        }
        tree.insert(
            manifest::join(&to, "Cargo.toml"),
            doc.to_string().into_bytes(),
        );
        edits.push(Edit {
            file: manifest_path.clone(),
            line: 1,
            what: format!(
                "package `{}` moved to `{to}` with its binaries, tests, benches and examples switched off",
                p.name
            ),
            why: "the library is shared by every function; each function is its own binary"
                .to_owned(),
        });
        members.push(to.clone());
        cores.push(format!("`{}` (in `{to}/`)", p.name));
    }

    if !site_done {
        return Err(input_err(
            site_in_lib.map_or("", |s| s.file.as_str()),
            "the library whose fn serves the app is not a package of the workspace",
        ));
    }

    // The serving binary's package, manifest and files.
    let bin_pkg = a
        .packages
        .iter()
        .find(|p| p.name == main.package)
        .ok_or_else(|| input_err(&main.file, "the binary's package is not in the analysis"))?;
    let bin_manifest_path = manifest::join(&bin_pkg.dir, "Cargo.toml");
    let bin_doc: DocumentMut = read_text(input.source, &bin_manifest_path)?
        .parse()
        .map_err(|e: toml_edit::TomlError| input_err(&bin_manifest_path, e.message().to_owned()))?;
    let edition = bin_doc
        .get("package")
        .and_then(|p| p.get("edition"))
        .and_then(Item::as_str)
        .unwrap_or("2021")
        .to_owned();
    let main_text = read_text(input.source, &main.file)?;
    let main_dir = parent(&main.file);
    // Files of the binary's package that its code may read while it
    // compiles, copied into every function where the same relative path
    // finds them: non-Rust files beside its sources (`include_str!`), and
    // the conventional compile-time inputs at the package's top level
    // (`sqlx::migrate!("./migrations")`, sqlx's offline `.sqlx/`, askama's
    // `templates/` and `askama.toml`).
    const COMPILE_TIME_DIRS: [&str; 3] = ["migrations", "templates", ".sqlx"];
    const COMPILE_TIME_FILES: [&str; 2] = ["askama.toml", "sqlx-data.json"];
    let assets: Vec<(String, String)> = {
        let skip: Vec<String> = package_dirs
            .iter()
            .filter(|d| {
                **d != bin_pkg.dir
                    && (bin_pkg.dir.is_empty() || d.starts_with(&format!("{}/", bin_pkg.dir)))
            })
            .cloned()
            .collect();
        input
            .source
            .files(&bin_pkg.dir, &skip)
            .into_iter()
            .filter_map(|file| {
                if file.ends_with(".rs") {
                    return None;
                }
                if !main_dir.is_empty() && file.starts_with(&format!("{main_dir}/")) {
                    let to = format!("src/{}", strip_dir(&main_dir, &file));
                    return Some((file, to));
                }
                let rel = strip_dir(&bin_pkg.dir, &file).to_owned();
                let top = rel.split('/').next().unwrap_or("");
                let wanted = if rel.contains('/') {
                    COMPILE_TIME_DIRS.contains(&top)
                } else {
                    COMPILE_TIME_FILES.contains(&top)
                };
                wanted.then_some((file, rel))
            })
            .collect()
    };

    // Routes per function, and every route's owner.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for f in &input.plan.functions {
        for r in &f.routes {
            owner.insert(r.clone(), f.name.clone());
        }
    }
    let all_routes: Vec<(String, String)> = owner.keys().filter_map(|r| split_route(r)).collect();

    let mut notes = Vec::new();
    let mut sam = Vec::new();
    for f in &input.plan.functions {
        let dir = format!("functions/{}", f.name);
        let own: Vec<(String, String)> = f.routes.iter().filter_map(|r| split_route(r)).collect();
        let elsewhere: Vec<(String, String)> = all_routes
            .iter()
            .filter(|r| !own.contains(r))
            .cloned()
            .collect();
        // Cargo.toml
        let mut deps: BTreeMap<String, InlineTable> = BTreeMap::new();
        for (name, spec) in manifest::dependencies(&bin_doc) {
            let mut t = manifest::inline_spec(&spec);
            if let Some(path) = t.get("path").and_then(|v| v.as_str()).map(str::to_owned) {
                let target = moved(&manifest::join(&bin_pkg.dir, &path));
                t.insert("path", manifest::relative(&dir, &target).as_str().into());
                deps.insert(name, t);
            } else if t.get("workspace").is_some() {
                deps.insert(name, t);
            } else {
                // The monolith's version and features, shared by every function.
                ws_deps.entry(name.clone()).or_insert(t);
                let mut w = InlineTable::new();
                w.insert("workspace", true.into());
                deps.insert(name, w);
            }
        }
        if let Some(lib) = &bin_pkg.lib {
            let mut t = InlineTable::new();
            t.insert(
                "path",
                manifest::relative(&dir, &moved(&bin_pkg.dir))
                    .as_str()
                    .into(),
            );
            // The key is the lib's name (`my_app`); cargo finds a path
            // dependency by its package name (`my-app`), which may differ.
            if *lib != bin_pkg.name {
                t.insert("package", bin_pkg.name.as_str().into());
            }
            deps.insert(lib.clone(), t);
        }
        let runner_deps = if site_in_lib.is_some() {
            Vec::new()
        } else {
            (backend.deps)(input.adapter)
        };
        for (name, spec) in runner_deps {
            merge_features(
                ws_deps.entry(name.clone()).or_insert_with(|| spec.clone()),
                &spec,
            );
            let mut w = InlineTable::new();
            w.insert("workspace", true.into());
            deps.entry(name).or_insert(w);
        }
        tree.insert(
            format!("{dir}/Cargo.toml"),
            manifest::function(
                &f.name,
                &edition,
                &header_hash,
                // Where main's file lands: `src/main.rs`, or `src/server.rs`
                // for a `src/bin/server.rs`.
                &format!("src/{}", strip_dir(&main_dir, &main.file)),
                &deps,
            )
            .into_bytes(),
        );
        // src/: the binary's own modules, main.rs rewritten, the runner.
        for file in &main.files {
            let rel = strip_dir(&main_dir, file);
            let target = format!("{dir}/src/{rel}");
            let first = f.name == input.plan.functions[0].name;
            if *file == main.file {
                let (module, mode) = match (site, site_in_lib) {
                    (_, Some(lib_site)) => (
                        ROUTES_MOD,
                        MainMode::ServedElsewhere {
                            init: Some(&format!(
                                "::{}::{RUNNER_MOD}::init({ROUTES_MOD}::ROUTES, {ROUTES_MOD}::ELSEWHERE);",
                                lib_site.krate
                            )),
                        },
                    ),
                    (Some(_), None) => (RUNNER_MOD, MainMode::ServedElsewhere { init: None }),
                    (None, _) => (RUNNER_MOD, MainMode::Serves),
                };
                // The fn that serves may sit in `main`'s own file (`main`
                // calling `async_main().await`): it is rewritten first, on
                // the monolith's line numbers, and `main` after it, moved
                // by the lines that rewrite added above it.
                let (source_text, mut e, delta) =
                    match site.filter(|s| !s.in_lib && s.file == main.file) {
                        Some(s) => {
                            let (t, e) = mainrs::rewrite_site(
                                &main_text,
                                s,
                                &format!("crate::{RUNNER_MOD}::serve"),
                                &backend,
                            )
                            .map_err(|m| input_err(file, m))?;
                            let delta = if s.line < main.line {
                                t.lines().count() as i64 - main_text.lines().count() as i64
                            } else {
                                0
                            };
                            (t, e, delta)
                        }
                        None => (main_text.clone(), Vec::new(), 0),
                    };
                let moved_main = shifted(main, delta);
                let (text, main_edits) = mainrs::rewrite(
                    &source_text,
                    &moved_main,
                    module,
                    &format!("{RUNNER_MOD}::serve"),
                    &backend,
                    &header_rs,
                    mode,
                )
                .map_err(|m| input_err(&main.file, m))?;
                // Edits name the monolith's lines.
                e.extend(main_edits.into_iter().map(|mut edit| {
                    if edit.file == main.file && i64::from(edit.line) >= i64::from(moved_main.line)
                    {
                        edit.line = (i64::from(edit.line) - delta).max(1) as u32;
                    }
                    edit
                }));
                if first {
                    edits.extend(e.into_iter().map(|edit| for_adapter(edit, input.adapter)));
                }
                tree.insert(target, text.into_bytes());
            } else if let Some(s) = site.filter(|s| !s.in_lib && s.file == *file) {
                let text = read_text(input.source, file)?;
                let (text, e) = mainrs::rewrite_site(
                    &text,
                    s,
                    &format!("crate::{RUNNER_MOD}::serve"),
                    &backend,
                )
                .map_err(|m| input_err(file, m))?;
                if first {
                    edits.extend(e.into_iter().map(|edit| for_adapter(edit, input.adapter)));
                }
                tree.insert(target, text.into_bytes());
            } else {
                tree.insert(
                    target,
                    input
                        .source
                        .read(file)
                        .map_err(|e| input_err(file, e.to_string()))?,
                );
            }
        }
        for (file, to) in &assets {
            tree.insert(
                format!("{dir}/{to}"),
                input
                    .source
                    .read(file)
                    .map_err(|e| input_err(file, e.to_string()))?,
            );
        }
        if site_in_lib.is_some() {
            tree.insert(
                format!("{dir}/src/{ROUTES_MOD}.rs"),
                runner::render_route_consts(&header_rs, &own, &elsewhere).into_bytes(),
            );
        } else {
            let runner = (backend.render)(&Runner {
                header: &header_rs,
                own: &own,
                elsewhere: &elsewhere,
                adapter: input.adapter,
                routes_from: runner::RouteSource::Consts,
            });
            tree.insert(format!("{dir}/src/{RUNNER_MOD}.rs"), runner.into_bytes());
        }
        members.push(dir.clone());

        // Notes for MIGRATION.md and template.yaml.
        let route_set: BTreeSet<&str> = f.routes.iter().map(String::as_str).collect();
        let hazards = a
            .hazards
            .iter()
            .filter(|h| h.entrypoints.iter().any(|e| route_set.contains(e.as_str())))
            .map(HazardNote::from)
            .collect();
        notes.push(FunctionNote {
            name: f.name.clone(),
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            routes: f.routes.clone(),
            hazards,
        });
        let events = events(&own, &all_routes, rest_matches_empty);
        sam.push(SamFunction {
            name: f.name.clone(),
            logical_id: format!("{}Function", docs::logical_id(&f.name)),
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            events,
            // The first function answers what no route matches, as the
            // monolith's app did (its 404s, 405s, fallback).
            default_route: sam.is_empty(),
        });
    }

    // Workspace manifest.
    let mut inherited = Vec::new();
    if let Some(ws) = root_doc.get("workspace").and_then(Item::as_table_like) {
        for key in ["package", "dependencies", "lints"] {
            if let Some(item) = ws.get(key) {
                let mut item = item.clone();
                if key == "dependencies"
                    && let Some(t) = item.as_table_like_mut()
                {
                    for (_, dep) in t.iter_mut() {
                        if let Some(d) = dep.as_table_like_mut()
                            && let Some(path) =
                                d.get("path").and_then(Item::as_str).map(str::to_owned)
                        {
                            d.insert("path", toml_edit::value(moved(&manifest::normalise(&path))));
                        }
                    }
                }
                inherited.push((key.to_owned(), item));
            }
        }
    }
    if let Some(profile) = root_doc.get("profile") {
        inherited.push(("profile".to_owned(), profile.clone()));
    }
    // `cargo lambda watch` serves functions that speak the Runtime API;
    // behind the web adapter they do not, so there is no router for it.
    let router = match input.adapter {
        Adapter::Native => Some(watch_router(&owner)),
        Adapter::WebAdapter => None,
    };
    members.sort();
    members.dedup();
    tree.insert(
        "Cargo.toml".to_owned(),
        manifest::root(&manifest::Root {
            header: &header_hash,
            members: &members,
            inherited,
            dependencies: ws_deps,
            router,
        })
        .into_bytes(),
    );
    if let Ok(lock) = input.source.read("Cargo.lock") {
        tree.insert("Cargo.lock".to_owned(), lock);
    }

    // Documents.
    let web_adapter = match input.adapter {
        Adapter::Native => None,
        Adapter::WebAdapter => Some(&docs::WEB_ADAPTER),
    };
    let render = |r: Result<String, askama::Error>, file: &str| {
        r.map_err(|e| input_err(file, format!("template failed: {e}")))
    };
    tree.insert(
        "template.yaml".to_owned(),
        render(
            docs::SamTemplate {
                header: header_hash.trim_start_matches("# "),
                app,
                functions: &sam,
                web_adapter,
            }
            .render(),
            "template.yaml",
        )?
        .into_bytes(),
    );
    // Hazards no route or worker reaches: `main`'s start-up code, which
    // every function runs on each cold start (or code nothing calls); not
    // the statements starting workers, which cleave takes out of `main`.
    let taken_out = |file: &str, line: u32| {
        file == main.file
            && main
                .stmts
                .iter()
                .any(|st| st.kind == StmtKind::Spawn && (st.start..=st.end).contains(&line))
            && !main.stmts.iter().any(|st| {
                st.kind == StmtKind::Spawn
                    && (st.start..=st.end).contains(&line)
                    && mainrs::handle_used_later(&main_text, main, st)
            })
    };
    // ... and only what the serving binary's `main` reaches: a fn that only
    // another binary (a CLI) calls does not run in the functions.
    let from_main = reached_from(a, &main.file, main.line);
    let in_start_up = |item: &str| match &from_main {
        Some(reached) => {
            !a.fns.iter().any(|f| f.id == item)
                || a.fns
                    .iter()
                    .enumerate()
                    .any(|(i, f)| f.id == item && reached.contains(&i))
        }
        None => true,
    };
    let startup_hazards: Vec<HazardNote> = a
        .hazards
        .iter()
        .filter(|h| h.entrypoints.is_empty() && !taken_out(&h.file, h.line) && in_start_up(&h.item))
        .map(HazardNote::from)
        .collect();
    // Workers `main` started are taken out with their statement; the ones
    // started elsewhere (an app builder, a fairing) still start in every
    // function, on every cold start.
    let (workers, workers_kept): (Vec<_>, Vec<_>) = a
        .entrypoints
        .iter()
        .filter(|e| e.kind != EntryKind::Http)
        .partition(|e| {
            e.registered.file == main.file
                && main.stmts.iter().any(|st| {
                    st.kind == StmtKind::Spawn
                        && (st.start..=st.end).contains(&e.registered.line)
                        && !mainrs::handle_used_later(&main_text, main, st)
                })
        });
    let describe = |e: &&cleave_analyzer::entrypoints::EntryPoint| {
        format!(
            "{} (started at {}:{})",
            e.handler, e.registered.file, e.registered.line
        )
    };
    let workers: Vec<String> = workers.iter().map(describe).collect();
    let workers_kept: Vec<String> = workers_kept.iter().map(describe).collect();
    edits.sort();
    edits.dedup();
    let header_md = header_hash.trim_start_matches("# ").to_owned();
    let guard = backend.guard_text(input.adapter);
    tree.insert(
        "MIGRATION.md".to_owned(),
        render(
            docs::Migration {
                header: &header_md,
                app,
                plan_file: input.plan_file,
                default_function: sam.first().map(|f| f.name.as_str()).unwrap_or(""),
                startup_hazards: &startup_hazards,
                routes: owner.len(),
                cores: &cores,
                guard: &guard,
                web_adapter,
                functions: &notes,
                workers: &workers,
                workers_kept: &workers_kept,
                edits: &edits,
            }
            .render(),
            "MIGRATION.md",
        )?
        .into_bytes(),
    );
    tree.insert(
        "README.md".to_owned(),
        render(
            docs::Readme {
                header: &header_md,
                app,
                plan_file: input.plan_file,
                first: notes.first().map(|n| n.name.as_str()).unwrap_or(""),
                functions: &notes,
                web_adapter,
            }
            .render(),
            "README.md",
        )?
        .into_bytes(),
    );
    tree.insert(".gitignore".to_owned(), b"/target\n".to_vec());
    let mut marker = format!(
        "{header_hash}\n# Files cleave wrote here; `cleave generate` replaces exactly these.\n"
    );
    let mut listed: Vec<&String> = tree.keys().collect();
    listed.sort();
    for f in listed {
        marker.push_str(f);
        marker.push('\n');
    }
    tree.insert(MARKER.to_owned(), marker.into_bytes());
    Ok(Generated {
        tree,
        functions: input
            .plan
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect(),
        edits: edits.len(),
    })
}

/// What [`host_runner`] needs.
struct HostRunner<'a> {
    site: &'a ServeSite,
    manifest_text: &'a str,
    package_dir: &'a str,
    /// The package's directory in the generated workspace.
    to: &'a str,
    backend: &'a Backend,
    adapter: Adapter,
    header: &'a str,
}

/// The library whose fn serves the app hosts the runner: its serve call
/// becomes `crate::cleave_lambda::serve(app)`, the runner (route sets set by
/// each function's `main` through `init`) is a new module of it, and the
/// runner's dependencies join its manifest.
fn host_runner(
    tree: &mut Tree,
    doc: &mut DocumentMut,
    ws_deps: &mut BTreeMap<String, InlineTable>,
    edits: &mut Vec<Edit>,
    h: HostRunner<'_>,
) -> Result<(), GenerateError> {
    let site_rel = strip_dir(h.package_dir, &h.site.file);
    let site_target = manifest::join(h.to, site_rel);
    let text = tree
        .get(&site_target)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or_else(|| input_err(&h.site.file, "the file is not part of its package"))?;
    let (text, e) = mainrs::rewrite_site(
        &text,
        h.site,
        &format!("crate::{RUNNER_MOD}::serve"),
        h.backend,
    )
    .map_err(|m| input_err(&h.site.file, m))?;
    edits.extend(e.into_iter().map(|edit| for_adapter(edit, h.adapter)));
    tree.insert(site_target, text.into_bytes());
    // The lib root: `[lib] path`, or `src/lib.rs`.
    let lib_root = h
        .manifest_text
        .parse::<DocumentMut>()
        .ok()
        .and_then(|d| {
            d.get("lib")
                .and_then(|l| l.get("path"))
                .and_then(Item::as_str)
                .map(manifest::normalise)
        })
        .unwrap_or_else(|| "src/lib.rs".to_owned());
    let root_target = manifest::join(h.to, &lib_root);
    let mut root_text = tree
        .get(&root_target)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or_else(|| {
            input_err(
                manifest::join(h.package_dir, &lib_root),
                "the library's root file is missing",
            )
        })?;
    if !root_text.ends_with('\n') {
        root_text.push('\n');
    }
    let line = root_text.lines().count() as u32 + 2;
    root_text.push_str(&format!(
        "\n// cleave: the function runner, shared by every function (see MIGRATION.md).\npub mod {RUNNER_MOD};\n"
    ));
    tree.insert(root_target, root_text.into_bytes());
    edits.push(Edit {
        file: manifest::join(h.package_dir, &lib_root),
        line,
        what: format!("added `pub mod {RUNNER_MOD};`"),
        why: format!(
            "`{}` serves the app, so the runner lives beside it; each function's `main` tells it the function's routes",
            h.site.fn_name
        ),
    });
    let runner = (h.backend.render)(&Runner {
        header: h.header,
        own: &[],
        elsewhere: &[],
        adapter: h.adapter,
        routes_from: runner::RouteSource::Init,
    });
    tree.insert(
        manifest::join(h.to, &format!("{}/{RUNNER_MOD}.rs", parent(&lib_root))),
        runner.into_bytes(),
    );
    // The runner's dependencies.
    let deps = doc
        .entry("dependencies")
        .or_insert(Item::Table(toml_edit::Table::new()));
    if let Some(deps) = deps.as_table_like_mut() {
        for (name, spec) in (h.backend.deps)(h.adapter) {
            match deps.get_mut(&name) {
                Some(existing) => {
                    if let Some(t) = existing.as_inline_table_mut() {
                        merge_features(t, &spec);
                    } else if let Some(t) = existing.as_table_like_mut() {
                        let mut features = t
                            .get("features")
                            .and_then(Item::as_array)
                            .cloned()
                            .unwrap_or_default();
                        let wanted = spec.get("features").and_then(|v| v.as_array());
                        for v in wanted.into_iter().flatten() {
                            if !features.iter().any(|x| x.as_str() == v.as_str()) {
                                features.push(v.clone());
                            }
                        }
                        t.insert("features", toml_edit::value(features));
                    } else if let Some(version) = existing.as_str().map(str::to_owned) {
                        let mut t = InlineTable::new();
                        t.insert("version", version.as_str().into());
                        merge_features(&mut t, &spec);
                        *existing = Item::Value(toml_edit::Value::InlineTable(t));
                    }
                }
                None => {
                    merge_features(
                        ws_deps.entry(name.clone()).or_insert_with(|| spec.clone()),
                        &spec,
                    );
                    let mut w = InlineTable::new();
                    w.insert("workspace", true.into());
                    deps.insert(&name, Item::Value(toml_edit::Value::InlineTable(w)));
                }
            }
        }
    }
    Ok(())
}

/// `edit` as it reads for `adapter`: `mainrs` explains its edits for the
/// in-process runner; behind the web adapter the runner is only the local
/// server, on Lambda too.
fn for_adapter(mut edit: Edit, adapter: Adapter) -> Edit {
    if adapter == Adapter::WebAdapter {
        for (native, web) in [
            (
                "under lambda_http on Lambda, and on 127.0.0.1:$PORT elsewhere",
                "on 127.0.0.1:$PORT, where the Lambda Web Adapter forwards each event on Lambda",
            ),
            (
                "on Lambda there is no socket to bind; locally the runner binds 127.0.0.1:$PORT",
                "the runner binds 127.0.0.1:$PORT itself, locally and on Lambda",
            ),
            ("Lambda or local server", "the local server"),
        ] {
            edit.why = edit.why.replace(native, web);
        }
    }
    edit
}

/// Adds `extra`'s features to `spec`'s (a dependency the monolith and the
/// runner both need gets the union).
fn merge_features(spec: &mut InlineTable, extra: &InlineTable) {
    let Some(toml_edit::Value::Array(more)) = extra.get("features") else {
        return;
    };
    let mut have: Vec<String> = spec
        .get("features")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for f in more.iter().filter_map(|v| v.as_str()) {
        if !have.iter().any(|h| h == f) {
            have.push(f.to_owned());
        }
    }
    let mut arr = toml_edit::Array::new();
    for f in have {
        arr.push(f);
    }
    spec.insert("features", toml_edit::Value::Array(arr));
}

/// Where a package of the monolith lives in the generated workspace: the
/// root package in `crates/<app>-core`, workspace members where they were.
fn new_dir(app: &str, packages: &[PackageInfo], old: &str) -> String {
    if old.is_empty() && packages.iter().any(|p| p.dir.is_empty()) {
        format!("crates/{app}-core")
    } else {
        old.to_owned()
    }
}

fn strip_dir<'f>(dir: &str, file: &'f str) -> &'f str {
    if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(file)
    }
}

fn parent(file: &str) -> String {
    file.rfind('/')
        .map(|i| file[..i].to_owned())
        .unwrap_or_default()
}

/// `"GET /a/{id}"` -> `("GET", "/a/{id}")`.
/// The `cargo lambda watch` router: path -> `[(method, function)]`.
///
/// Its router (matchit) refuses two paths that differ only in a
/// parameter's name, so parameters are named by position (`{p1}`, `{*rest}`):
/// the function still receives the original URL. `ANY` matches no method
/// there: a path served only by `ANY` routes becomes one entry with method
/// `ANY` (written as a bare function name), and beside specific methods an
/// `ANY` route takes every standard method they leave. When two functions
/// claim one method on one path shape, the first route in sorted order keeps it.
/// The fns the fn at `file:line` reaches through the call graph (itself
/// included), or `None` when no fn of the analysis sits there.
fn reached_from(a: &Analysis, file: &str, line: u32) -> Option<BTreeSet<usize>> {
    let start = a
        .fns
        .iter()
        .position(|f| f.file == file && f.line == line)?;
    let mut out = BTreeSet::from([start]);
    let mut todo = vec![start];
    while let Some(f) = todo.pop() {
        for &(_, to) in a.edges.iter().filter(|(from, _)| *from == f) {
            if out.insert(to) {
                todo.push(to);
            }
        }
    }
    Some(out)
}

/// `main` as it sits after `delta` lines were added above it.
fn shifted(main: &BinMain, delta: i64) -> BinMain {
    let at = |line: u32| (i64::from(line) + delta).max(1) as u32;
    let mut m = main.clone();
    m.line = at(m.line);
    m.end_line = at(m.end_line);
    for st in &mut m.stmts {
        st.start = at(st.start);
        st.end = at(st.end);
    }
    if let Some(l) = &mut m.launch {
        l.attr_line = at(l.attr_line);
    }
    m
}

/// A function's `HttpApi` events: one per route shape of its own routes (API
/// Gateway cannot tell `/notes/{id}` from `/notes/{slug}`; the function's
/// own router still can). A route ending in a rest segment that also
/// matches nothing (rocket's `/files/<path..>` answers `/files`; an actix
/// `{tail:.*}`) gets a second event for the path without it, which API
/// Gateway's `{path+}` does not match, unless some route of the plan has
/// that shape already. `rest_matches_empty`: whether `{*rest}` matches no
/// segment in this framework.
fn events(
    own: &[(String, String)],
    all_routes: &[(String, String)],
    rest_matches_empty: bool,
) -> Vec<Event> {
    use cleave_analyzer::partition::route_shape;
    let taken: BTreeSet<String> = all_routes
        .iter()
        .map(|(m, p)| route_shape(&format!("{m} {p}")))
        .collect();
    let mut shapes = BTreeSet::new();
    let mut paths: Vec<(String, String)> = Vec::new();
    for (m, p) in own {
        if shapes.insert(route_shape(&format!("{m} {p}"))) {
            paths.push((m.clone(), p.clone()));
        }
    }
    for (m, p) in own {
        let (prefix, last) = p.rsplit_once('/').unwrap_or(("", p));
        let empty = match Segment::of(last) {
            Segment::Rest { empty, .. } => empty || (rest_matches_empty && last.starts_with("{*")),
            _ => false,
        };
        let bare = if prefix.is_empty() { "/" } else { prefix };
        let shape = route_shape(&format!("{m} {bare}"));
        if empty && !taken.contains(&shape) && shapes.insert(shape) {
            paths.push((m.clone(), bare.to_owned()));
        }
    }
    let mut used_ids = BTreeSet::new();
    paths
        .into_iter()
        .map(|(m, p)| {
            let base = docs::logical_id(&format!("{m} {p}"));
            let mut id = base.clone();
            let mut n = 2;
            while !used_ids.insert(id.clone()) {
                id = format!("{base}{n}");
                n += 1;
            }
            Event {
                id,
                path: docs::apigw_path(&p),
                method: m,
            }
        })
        .collect()
}

pub(crate) fn watch_router(
    owner: &BTreeMap<String, String>,
) -> BTreeMap<String, Vec<(String, String)>> {
    const METHODS: [&str; 8] = [
        "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];
    let mut by_path: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (route, function) in owner {
        let Some((m, p)) = split_route(route) else {
            continue;
        };
        let methods = by_path.entry(watch_path(&p)).or_default();
        methods.entry(m.clone()).or_insert_with(|| function.clone());
        // The monolith answers HEAD wherever it answers GET.
        if m == "GET" && !owner.contains_key(&format!("HEAD {p}")) {
            methods
                .entry("HEAD".to_owned())
                .or_insert_with(|| function.clone());
        }
    }
    let mut router = BTreeMap::new();
    for (path, mut methods) in by_path {
        if let Some(any) = methods.get("ANY").cloned()
            && methods.len() > 1
        {
            methods.remove("ANY");
            for m in METHODS {
                methods.entry(m.to_owned()).or_insert_with(|| any.clone());
            }
        }
        router.insert(path, methods.into_iter().collect());
    }
    router
}

/// `/notes/{id}/tags/{*rest}` -> `/notes/{p1}/tags/{*rest}`.
fn watch_path(path: &str) -> String {
    let mut n = 0;
    path.split('/')
        .map(|seg| match Segment::of(seg) {
            Segment::Rest { .. } => "{*rest}".to_owned(),
            Segment::Param(_) => {
                n += 1;
                format!("{{p{n}}}")
            }
            Segment::Literal => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn split_route(route: &str) -> Option<(String, String)> {
    let (m, p) = route.split_once(' ')?;
    Some((m.to_owned(), p.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(list: &[&str]) -> Vec<(String, String)> {
        list.iter().filter_map(|r| split_route(r)).collect()
    }

    fn event_paths(own: &[&str], all: &[&str], rest_matches_empty: bool) -> Vec<String> {
        events(&routes(own), &routes(all), rest_matches_empty)
            .into_iter()
            .map(|e| format!("{} {} {}", e.id, e.method, e.path))
            .collect()
    }

    #[test]
    fn a_rest_that_matches_nothing_gets_an_event_without_it() {
        // rocket: `/files/<path..>` answers `/files` too.
        let own = ["GET /files/{*path}", "GET /{*path}"];
        assert_eq!(
            event_paths(&own, &own, true),
            [
                "GETFilesPath GET /files/{path+}",
                "GETPath GET /{path+}",
                "GETFiles GET /files",
                "GET GET /",
            ]
        );
        // axum: `/files/{*path}` does not.
        assert_eq!(
            event_paths(&own, &own, false),
            ["GETFilesPath GET /files/{path+}", "GETPath GET /{path+}"]
        );
        // actix: the regex says; `.+` needs a segment, `.*` does not.
        let actix = [
            "GET /static/{tail:.*}",
            "GET /dl/{file:.+}",
            "GET /users/{id:\\d+}",
        ];
        assert_eq!(
            event_paths(&actix, &actix, false),
            [
                "GETStaticTail GET /static/{tail+}",
                "GETDlFile GET /dl/{file+}",
                "GETUsersIdD GET /users/{id}",
                "GETStatic GET /static",
            ]
        );
    }

    #[test]
    fn the_bare_path_is_left_to_a_route_that_has_it() {
        let own = ["GET /files/{*path}"];
        let all = ["GET /files/{*path}", "GET /files"];
        assert_eq!(
            event_paths(&own, &all, true),
            ["GETFilesPath GET /files/{path+}"]
        );
        // Another method on the bare path takes nothing from this one.
        let all = ["GET /files/{*path}", "POST /files"];
        assert_eq!(
            event_paths(&own, &all, true),
            ["GETFilesPath GET /files/{path+}", "GETFiles GET /files"]
        );
    }

    fn owner(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(r, f)| (r.to_string(), f.to_string()))
            .collect()
    }

    fn entries(router: &BTreeMap<String, Vec<(String, String)>>, path: &str) -> Vec<String> {
        router[path]
            .iter()
            .map(|(m, f)| format!("{m}={f}"))
            .collect()
    }

    #[test]
    fn paths_differing_only_in_parameter_names_share_one_key() {
        let r = watch_router(&owner(&[
            ("GET /notes/{id}", "read"),
            ("DELETE /notes/{slug}", "write"),
            ("GET /files/{*path}", "files"),
        ]));
        assert_eq!(
            r.keys().collect::<Vec<_>>(),
            ["/files/{*rest}", "/notes/{p1}"]
        );
        assert_eq!(
            entries(&r, "/notes/{p1}"),
            ["DELETE=write", "GET=read", "HEAD=read"]
        );
    }

    #[test]
    fn any_alone_stays_any_and_beside_methods_fills_the_rest() {
        let r = watch_router(&owner(&[
            ("ANY /hook", "hooks"),
            ("ANY /items", "items-any"),
            ("POST /items", "items-post"),
        ]));
        assert_eq!(entries(&r, "/hook"), ["ANY=hooks"]);
        let items = entries(&r, "/items");
        assert!(items.contains(&"POST=items-post".to_owned()), "{items:?}");
        assert!(items.contains(&"GET=items-any".to_owned()), "{items:?}");
        assert!(!items.iter().any(|e| e.starts_with("ANY=")), "{items:?}");
        assert_eq!(items.len(), 8, "{items:?}");
    }

    #[test]
    fn an_explicit_head_route_keeps_its_own_function() {
        let r = watch_router(&owner(&[("GET /x", "a"), ("HEAD /x", "b")]));
        assert_eq!(entries(&r, "/x"), ["GET=a", "HEAD=b"]);
    }
}
