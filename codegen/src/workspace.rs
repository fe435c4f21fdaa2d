//! Generate: [`Input`] (analysis, plan, read access to the monolith) ->
//! the function workspace as a [`Tree`] (DESIGN.md §7).
//!
//! Library packages are copied unchanged apart from their manifests
//! (`crates/`); the serving binary's modules become one library package
//! (`serving`); the server shim is written beside them (`shim`), and every
//! copied manifest's framework dependency is renamed to the shim's facade,
//! so the code reaches the shim without a source edit; each function
//! (`functions/<name>`) is a small generated `main` that hands its routes
//! to the shim and runs the monolith's `main`. The workspace manifest,
//! `template.yaml`, `MIGRATION.md` and `README.md` are rendered; the
//! monolith's `Cargo.lock` is kept so every dependency stays at the
//! version the monolith was tested with. The [`Adapter`] decides the
//! shim's Lambda side: in-process (`lambda_http`, and a `cargo lambda
//! watch` router), or none, the AWS Lambda Web Adapter layer in
//! `template.yaml` forwarding each event to the function's server.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use cleave_analyzer::analysis::{Analysis, PackageInfo};
use cleave_analyzer::entrypoints::Framework;
use cleave_analyzer::partition::Segment;
use cleave_analyzer::plan::Plan;
use cleave_analyzer::startup::BinMain;
use toml_edit::{DocumentMut, InlineTable, Item, Value};

use crate::docs::{self, Edit, Event, FunctionNote, HazardNote, SamFunction};
use crate::serving::{self, MainCrate, MainInput, strip_dir};
use crate::shim::{self, Asked, AskedOf, Facade};
use crate::worker;
use crate::write::MARKER;
use crate::{GenerateError, Source, Tree, input_err, manifest};

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
    /// `--monolith-url`: the running monolith, behind the HTTP API's
    /// default route, keeps the routes no deployed function takes.
    pub monolith_url: Option<&'a str>,
    /// Where the analysed directory and the generated workspace are, when
    /// known: a path dependency outside the analysed directory (a sibling
    /// package in a repository with no workspace root) is then referenced
    /// where it is, by a path relative to the generated workspace; without
    /// it such a dependency is an error.
    pub placement: Option<manifest::Placement<'a>>,
}

#[derive(Debug)]
pub struct Generated {
    pub tree: Tree,
    pub functions: Vec<String>,
    pub edits: usize,
    /// System C libraries the functions would link (MIGRATION.md lists them).
    pub native: Vec<crate::native::NativeDep>,
}

fn read_text(source: &dyn Source, rel: &str) -> Result<String, GenerateError> {
    let bytes = source
        .read(rel)
        .map_err(|e| input_err(rel, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|_| input_err(rel, "not UTF-8"))
}

/// The one framework of the monolith, its facade, and the checks on the
/// plan that do not depend on the code.
fn framework(input: &Input<'_>) -> Result<(Framework, &'static Facade), GenerateError> {
    let a = input.analysis;
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
            .packages()
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
    match frameworks.as_slice() {
        [one] => Ok((*one, shim::facade(*one))),
        _ => {
            let names: Vec<&str> = frameworks.iter().map(|f| f.name()).collect();
            Err(input_err(
                &a.project.root,
                format!(
                    "generating functions for {} is not implemented yet; `cleave analyze` and `cleave review` work",
                    names.join(" + ")
                ),
            ))
        }
    }
}

/// The version of a facade's package (the framework, or a companion such
/// as axum-server) for the facade: the one version the monolith's
/// `Cargo.lock` has (`=0.8.9`), else the requirement its manifests ask.
fn facade_version(
    input: &Input<'_>,
    facade: &Facade,
    asked: &Asked,
) -> Result<String, GenerateError> {
    let source = input.source;
    let locked: Vec<String> = source
        .read("Cargo.lock")
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.parse::<DocumentMut>().ok())
        .map(|doc| {
            doc.get("package")
                .and_then(Item::as_array_of_tables)
                .into_iter()
                .flatten()
                .filter(|p| p.get("name").and_then(Item::as_str) == Some(facade.package))
                .filter_map(|p| p.get("version").and_then(Item::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let version = match locked.as_slice() {
        [one] => format!("={one}"),
        _ => asked
            .versions
            .iter()
            .next()
            .cloned()
            .unwrap_or_else(|| "*".to_owned()),
    };
    // A member of a workspace whose root is above the analysed directory:
    // the version is in that root's `[workspace.dependencies]` and its
    // `Cargo.lock`, neither of which cleave reads.
    if version == "*"
        && let Some((manifest, line)) = inherited_from_above(input, facade.package)
    {
        return Err(input_err(
            format!("{manifest}:{line}"),
            format!(
                "`{}` is inherited from a workspace above the analysed directory (`workspace = true`), whose version cleave does not read from here; run cleave on that workspace's root",
                facade.package
            ),
        ));
    }
    if !shim::supported(facade, &version) {
        return Err(input_err(
            "Cargo.toml",
            format!(
                "{} {version}: cleave's server shim mirrors axum 0.3 to 0.8 (and axum-server from 0.6), actix-web 4 (releases) and rocket 0.5 (from 0.5.0-rc.1) so far; update {} to one of those (`cargo update -p {}` within its series) and run cleave again",
                facade.package, facade.package, facade.package
            ),
        ));
    }
    Ok(version)
}

/// The manifest (and line) of a package that takes `package` from its
/// workspace (`package = { workspace = true }`) when the analysed directory
/// holds no workspace root.
fn inherited_from_above(input: &Input<'_>, package: &str) -> Option<(String, usize)> {
    let read = |path: &str| {
        input
            .source
            .read(path)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    let root = read("Cargo.toml")?;
    if root.parse::<DocumentMut>().ok()?.get("workspace").is_some() {
        return None;
    }
    input.analysis.packages().iter().find_map(|p| {
        let manifest = if p.dir.is_empty() {
            "Cargo.toml".to_owned()
        } else {
            format!("{}/Cargo.toml", p.dir)
        };
        let text = read(&manifest)?;
        let line = text.lines().position(|l| {
            let l = l.trim_start();
            l.strip_prefix(package)
                .is_some_and(|rest| rest.trim_start().starts_with('=') || rest.starts_with('.'))
                && l.contains("workspace")
        })?;
        Some((manifest, line + 1))
    })
}

/// The binary functions are built from: the first whose `main` reaches a
/// server start.
fn serving_main<'a>(
    a: &'a Analysis,
    framework: Framework,
    facade: &Facade,
) -> Result<&'a BinMain, GenerateError> {
    let servers = || {
        cleave_analyzer::framework::profile(framework)
            .servers
            .iter()
            .filter(|s| s.mirrored)
            .map(|s| s.path.join("::"))
            .collect::<Vec<_>>()
            .join("`, `")
    };
    let main = a.serving_mains().first().copied();
    if let Some((file, line, item)) = main.and_then(|m| m.foreign_server.as_ref()) {
        return Err(input_err(
            format!("{file}:{line}"),
            format!(
                "the server starts with `{item}`, which cleave's server shim does not mirror yet \
                 (it mirrors `{}`): functions built from it would start that server on Lambda \
                 and answer no event; serve the app with one of those (keeping `{item}` behind a \
                 setting if you need it), then run cleave again",
                servers()
            ),
        ));
    }
    main.ok_or_else(|| {
        let message = if a.mains().is_empty() {
            "the project has no binary with a `main` (or rocket `#[launch]` fn); cleave builds each function from the binary that starts the service: add `src/main.rs` that starts it".to_owned()
        } else {
            format!(
                "no binary's `main` reaches a server start of {} (`{}`) through the call graph; cleave builds each function from the binary that starts the service",
                facade.package,
                servers()
            )
        };
        input_err(&a.project.root, message)
    })
}

/// `.cleave-generated`: the files cleave wrote, so a later run replaces
/// exactly these.
fn marker(header_hash: &str, tree: &Tree) -> String {
    let mut marker = format!(
        "{header_hash}\n# Files cleave wrote here; `cleave generate` replaces exactly these.\n"
    );
    for f in tree.keys() {
        marker.push_str(f);
        marker.push('\n');
    }
    marker
}

/// Compile-time inputs at the workspace's root that crates find by searching
/// upward from their own directory (diesel's `embed_migrations!()` and
/// `diesel.toml`, sqlx's offline `.sqlx/`): the same paths at the generated
/// root, where the copied crates' upward search ends too.
fn root_inputs(source: &dyn Source, tree: &mut Tree) {
    const DIRS: [&str; 2] = ["migrations", ".sqlx"];
    const FILES: [&str; 1] = ["diesel.toml"];
    let mut files: Vec<String> = DIRS.iter().flat_map(|d| source.files(d, &[])).collect();
    files.extend(FILES.iter().map(|f| (*f).to_owned()));
    for file in files {
        // A file that is not there (no `diesel.toml`) is simply not copied.
        if let Ok(bytes) = crate::contents(source, &file) {
            tree.insert(file, bytes);
        }
    }
}

/// The generated-file headers, in Rust and TOML comment syntax.
struct Headers {
    rs: String,
    hash: String,
}

impl Headers {
    fn new(app: &str, plan_file: &str) -> Self {
        let text = format!("@generated by cleave from `{app}` with plan `{plan_file}`.");
        Headers {
            rs: format!("// {text}"),
            hash: format!("# {text}"),
        }
    }
}

/// What the parts of [`generate`] add to as they go.
#[derive(Default)]
struct Parts {
    tree: Tree,
    edits: Vec<Edit>,
    asked: AskedOf,
    members: Vec<String>,
}

pub fn generate(input: &Input<'_>) -> Result<Generated, GenerateError> {
    // The plan's `pool_max` edits the monolith's files before anything is
    // copied: every later read sees the edited ones.
    // Scheduled workers need the Lambda runtime the native adapter brings.
    let planned = match input.adapter {
        Adapter::Native => worker::planned(input.plan, input.analysis),
        Adapter::WebAdapter => Vec::new(),
    };
    let loops: Vec<crate::code_edits::WorkerLoop<'_>> = planned
        .iter()
        .map(|w| crate::code_edits::WorkerLoop {
            name: &w.plan.name,
            drive: w.drive,
        })
        .collect();
    let code = crate::code_edits::plan(
        &input.analysis.hazards,
        input.source,
        input.plan.deploy.pool_max,
        &loops,
    );
    // A worker whose loop could not be edited gets no function.
    let workers: Vec<worker::Planned<'_>> = planned
        .into_iter()
        .filter(|w| matches!(code.workers.get(&w.plan.name), Some(Ok(()))))
        .collect();
    let overlay = crate::code_edits::Overlay {
        inner: input.source,
        files: &code.files,
    };
    let input = &Input {
        source: &overlay,
        ..*input
    };
    let a = input.analysis;
    let (framework, facade) = framework(input)?;
    let main = serving_main(a, framework, facade)?;
    let headers = Headers::new(&a.project.name, input.plan_file);
    let mut parts = Parts {
        edits: code.edits.clone(),
        ..Parts::default()
    };
    let cores = libraries(input, facade, &mut parts)?;
    let main_crate = main_crate(input, main, facade, &headers, &mut parts)?;
    let inherited = root_tables(input, facade, &mut parts)?;
    shim_crates(input, facade, &headers, &mut parts)?;
    root_inputs(input.source, &mut parts.tree);
    let owner = route_owners(input);
    let all_routes: Vec<(String, String)> = owner.keys().filter_map(|r| split_route(r)).collect();
    let crates = FunctionCrates {
        main_crate: &main_crate,
        facade,
        header_rs: &headers.rs,
        header_hash: &headers.hash,
        all_routes: &all_routes,
        // rocket's `<path..>` matches no segment too; axum's `{*rest}` does not.
        rest_matches_empty: framework == Framework::Rocket,
    };
    let (notes, mut sam) = functions(input, &mut parts, &crates);
    sam.extend(worker_functions(input, &mut parts, &crates, &workers));
    let moved = |old: &str| -> String { new_dir(&a.project.name, a.packages(), old) };
    worker::depend_on_shim(
        &mut parts.tree,
        a,
        &workers,
        &worker::Places {
            main,
            main_dir: &main_crate.dir,
            moved: &moved,
        },
    );
    let worker_notes: Vec<worker::WorkerNote> =
        workers.iter().map(worker::WorkerNote::new).collect();
    let workers_left_out = worker::left_out(
        input.plan,
        a,
        input.adapter == Adapter::Native,
        &code.workers,
    );
    workspace_manifest(input, &owner, inherited, &headers, &mut parts);
    let left_out: Vec<String> = a
        .mains()
        .iter()
        .filter(|m| !std::ptr::eq(*m, main))
        .map(|m| format!("`{}` ({})", m.krate, m.file))
        .collect();
    let Parts {
        mut tree,
        mut edits,
        ..
    } = parts;
    let native = native_deps(input);
    documents(
        input,
        &mut tree,
        Docs {
            header_hash: &headers.hash,
            main_crate: &main_crate,
            framework,
            facade,
            owner: &owner,
            notes: &notes,
            sam: &sam,
            cores: &cores,
            left_out: &left_out,
            workers: &worker_notes,
            workers_left_out: &workers_left_out,
            start_up: a.run_by(main),
            edits: &mut edits,
            native: &native,
            code: &code,
        },
    )?;
    tree.insert(MARKER.to_owned(), marker(&headers.hash, &tree).into_bytes());
    Ok(Generated {
        tree,
        functions: input
            .plan
            .functions
            .iter()
            .map(|f| f.name.clone())
            .collect(),
        edits: edits.len(),
        native,
    })
}

/// The system C libraries the monolith's `Cargo.lock` links, judged with
/// the features its packages' manifests (and the root's) ask.
fn native_deps(input: &Input<'_>) -> Vec<crate::native::NativeDep> {
    let Some(lock) = input
        .source
        .read("Cargo.lock")
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return Vec::new();
    };
    let mut paths: BTreeSet<String> = BTreeSet::from(["Cargo.toml".to_owned()]);
    for p in input.analysis.packages() {
        paths.insert(manifest::join(&p.dir, "Cargo.toml"));
    }
    let manifests: Vec<String> = paths
        .iter()
        .filter_map(|p| input.source.read(p).ok())
        .filter_map(|b| String::from_utf8(b).ok())
        .collect();
    crate::native::scan(&lock, &manifests)
}

/// The serving binary's modules, once, as the library every function runs.
fn main_crate(
    input: &Input<'_>,
    main: &BinMain,
    facade: &'static Facade,
    headers: &Headers,
    parts: &mut Parts,
) -> Result<MainCrate, GenerateError> {
    let a = input.analysis;
    let app = a.project.name.as_str();
    let moved = |old: &str| -> String { new_dir(app, a.packages(), old) };
    let bin_pkg = a
        .packages()
        .iter()
        .find(|p| p.name == main.package)
        .ok_or_else(|| input_err(&main.file, "the binary's package is not in the analysis"))?;
    let mut main_crate = serving::main_crate(
        &mut parts.tree,
        &mut parts.edits,
        &mut parts.asked,
        &MainInput {
            main,
            package: bin_pkg,
            packages: a.packages(),
            source: input.source,
            moved: &moved,
            placement: input.placement,
            facade,
            header: &headers.hash,
        },
    )?;
    main_crate.features = input
        .plan
        .features
        .iter()
        .filter_map(|f| match f.split_once('/') {
            Some((package, x)) => (package == bin_pkg.name).then(|| x.to_owned()),
            None => bin_pkg.features.contains(f).then(|| f.clone()),
        })
        .collect();
    parts.members.push(main_crate.dir.clone());
    Ok(main_crate)
}

/// The monolith root's inherited tables, the framework entry renamed.
fn root_tables(
    input: &Input<'_>,
    facade: &'static Facade,
    parts: &mut Parts,
) -> Result<Vec<(String, Item)>, GenerateError> {
    let app = input.analysis.project.name.as_str();
    let moved = |old: &str| -> String { new_dir(app, input.analysis.packages(), old) };
    let root_text = read_text(input.source, "Cargo.toml")?;
    let root_doc: DocumentMut = root_text
        .parse()
        .map_err(|e: toml_edit::TomlError| input_err("Cargo.toml", e.message().to_owned()))?;
    Ok(inherited(
        &root_doc,
        facade,
        &moved,
        &mut parts.asked,
        &mut parts.edits,
        &root_text,
    ))
}

/// `crates/cleave-lambda`, the framework's facade and the facades of its
/// companions the manifests name (axum-server), each at the version the
/// monolith uses, with every feature the workspace asks of its package.
fn shim_crates(
    input: &Input<'_>,
    facade: &'static Facade,
    headers: &Headers,
    parts: &mut Parts,
) -> Result<(), GenerateError> {
    let none = Asked::default();
    let asked = parts.asked.get(facade.name).unwrap_or(&none);
    let version = facade_version(input, facade, asked)?;
    let framework = shim::ShimCrates {
        header: &headers.rs,
        header_toml: &headers.hash,
        facade,
        version: &version,
        features: &asked.features,
        native: input.adapter == Adapter::Native,
    };
    shim::render(&mut parts.tree, &framework);
    parts.members.push(shim::SHIM_DIR.to_owned());
    parts.members.push(shim::facade_dir(facade));
    for companion in shim::companions(facade) {
        let Some(asked) = parts.asked.get(companion.name).filter(|a| a.named) else {
            continue;
        };
        let version = facade_version(input, companion, asked)?;
        shim::render_facade(
            &mut parts.tree,
            &shim::ShimCrates {
                facade: companion,
                version: &version,
                features: &asked.features,
                ..framework
            },
        );
        parts.members.push(shim::facade_dir(companion));
    }
    Ok(())
}

/// Every planned route and the function that owns it.
fn route_owners(input: &Input<'_>) -> BTreeMap<String, String> {
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for f in &input.plan.functions {
        for r in &f.routes {
            owner.insert(r.clone(), f.name.clone());
        }
    }
    owner
}

/// The workspace's `Cargo.toml` (members, inherited tables, the watch
/// router with the native adapter) and the monolith's `Cargo.lock`.
fn workspace_manifest(
    input: &Input<'_>,
    owner: &BTreeMap<String, String>,
    inherited: Vec<(String, Item)>,
    headers: &Headers,
    parts: &mut Parts,
) {
    let router = match input.adapter {
        Adapter::Native => Some(watch_router(owner)),
        Adapter::WebAdapter => None,
    };
    parts.members.sort();
    parts.members.dedup();
    let exclude = outside_packages(input.source, &mut parts.tree, &inherited);
    parts.edits.extend(exclude.iter().map(|dir| {
        Edit {
            file: manifest::join(dir, "Cargo.toml"),
            line: 1,
            what: format!("package copied to `{dir}` as it is, and excluded from the workspace"),
            why: "a copied package depends on it by path; the monolith's workspace excludes it too"
                .to_owned(),
        }
    }));
    parts.tree.insert(
        "Cargo.toml".to_owned(),
        manifest::root(&manifest::Root {
            header: &headers.hash,
            members: &parts.members,
            exclude: &exclude,
            inherited,
            dependencies: BTreeMap::new(),
            router,
        })
        .into_bytes(),
    );
    if let Ok(lock) = input.source.read("Cargo.lock") {
        parts
            .tree
            .insert("Cargo.lock".to_owned(), shim::lock_floors(&lock));
    }
}

/// Packages that are no member of the monolith's workspace (its `exclude`
/// keeps them out: pubky's test utilities) but that a copied manifest, or
/// the inherited `[workspace.dependencies]`, depends on by path: copied as
/// they are, at the same place, their own path dependencies followed.
/// Returns their directories, for the generated workspace's `exclude`.
fn outside_packages(
    source: &dyn Source,
    tree: &mut Tree,
    inherited: &[(String, Item)],
) -> Vec<String> {
    let mut todo: Vec<(String, DocumentMut)> = tree
        .iter()
        .filter_map(|(file, bytes)| {
            let dir = file.strip_suffix("Cargo.toml")?.trim_end_matches('/');
            let text = std::str::from_utf8(bytes).ok()?;
            Some((dir.to_owned(), text.parse().ok()?))
        })
        .collect();
    let mut root = DocumentMut::new();
    if let Some((_, deps)) = inherited.iter().find(|(k, _)| k == "dependencies") {
        let mut ws = toml_edit::Table::new();
        ws.insert("dependencies", deps.clone());
        root.insert("workspace", Item::Table(ws));
    }
    todo.push((String::new(), root));
    let mut copied: Vec<String> = Vec::new();
    while let Some((dir, doc)) = todo.pop() {
        for path in manifest::path_dependencies(&doc) {
            let package = manifest::join(&dir, &path);
            let manifest_path = manifest::join(&package, "Cargo.toml");
            if package.is_empty() || package.starts_with("..") || tree.contains_key(&manifest_path)
            {
                continue;
            }
            let Ok(text) = read_text(source, &manifest_path) else {
                continue;
            };
            for file in source.files(&package, &[]) {
                if let Ok(bytes) = crate::contents(source, &file) {
                    tree.insert(file, bytes);
                }
            }
            if let Ok(doc) = text.parse() {
                todo.push((package.clone(), doc));
            }
            copied.push(package);
        }
    }
    copied.sort();
    copied
}

/// What every function crate is rendered from.
struct FunctionCrates<'a> {
    main_crate: &'a MainCrate,
    facade: &'a Facade,
    header_rs: &'a str,
    header_hash: &'a str,
    /// Every route of the plan, `(method, path)`.
    all_routes: &'a [(String, String)],
    /// Whether `{*rest}` matches no segment in this framework.
    rest_matches_empty: bool,
}

/// One crate per plan function (`functions/<name>`: its manifest and its
/// `main`), into `tree` and `members`; returns the notes for MIGRATION.md
/// and the functions of `template.yaml`.
fn functions(
    input: &Input<'_>,
    parts: &mut Parts,
    c: &FunctionCrates<'_>,
) -> (Vec<FunctionNote>, Vec<SamFunction>) {
    let Parts { tree, members, .. } = parts;
    let mut notes = Vec::new();
    let mut sam = Vec::new();
    for f in &input.plan.functions {
        let dir = format!("functions/{}", f.name);
        let own: Vec<(String, String)> = f.routes.iter().filter_map(|r| split_route(r)).collect();
        let elsewhere: Vec<(String, String)> = c
            .all_routes
            .iter()
            .filter(|r| !own.contains(r))
            .cloned()
            .collect();
        function_crate(
            input,
            c,
            tree,
            &FunctionMainOf {
                name: &f.name,
                own: &own,
                elsewhere: &elsewhere,
                worker: None,
            },
        );
        members.push(dir);
        let route_set: BTreeSet<&str> = f.routes.iter().map(String::as_str).collect();
        let hazards = input
            .analysis
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
        sam.push(SamFunction {
            name: f.name.clone(),
            logical_id: format!("{}Function", docs::logical_id(&f.name)),
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            events: events(
                &docs::with_head(&own, c.all_routes),
                c.all_routes,
                c.rest_matches_empty,
            ),
            // The first function answers what no route matches, as the
            // monolith's app did (its 404s, 405s, fallback).
            default_route: sam.is_empty(),
            schedule: None,
        });
    }
    (notes, sam)
}

/// What differs between one function's crate and another's.
struct FunctionMainOf<'a> {
    name: &'a str,
    own: &'a [(String, String)],
    elsewhere: &'a [(String, String)],
    worker: Option<(&'a str, &'a str)>,
}

/// `functions/<name>/`: its manifest and its `main`, into `tree`.
fn function_crate(
    input: &Input<'_>,
    c: &FunctionCrates<'_>,
    tree: &mut Tree,
    f: &FunctionMainOf<'_>,
) {
    let dir = format!("functions/{}", f.name);
    tree.insert(
        format!("{dir}/Cargo.toml"),
        function_manifest(
            f.name,
            &dir,
            c.main_crate,
            c.facade,
            input.adapter,
            c.header_hash,
        )
        .into_bytes(),
    );
    tree.insert(
        format!("{dir}/src/main.rs"),
        shim::function_main(&shim::FunctionMain {
            header: c.header_rs,
            name: f.name,
            main_lib: &c.main_crate.lib,
            own: f.own,
            elsewhere: f.elsewhere,
            args: &input.plan.args,
            worker: f.worker,
        })
        .into_bytes(),
    );
}

/// One crate per planned worker (`functions/<name>`), into `tree` and
/// `members`; returns the functions of `template.yaml`.
fn worker_functions(
    input: &Input<'_>,
    parts: &mut Parts,
    c: &FunctionCrates<'_>,
    workers: &[worker::Planned<'_>],
) -> Vec<SamFunction> {
    let Parts { tree, members, .. } = parts;
    let mut sam = Vec::new();
    for w in workers {
        let name = &w.plan.name;
        let dir = format!("functions/{name}");
        function_crate(
            input,
            c,
            tree,
            &FunctionMainOf {
                name,
                own: &[],
                elsewhere: &[],
                worker: Some((name, &w.plan.source)),
            },
        );
        members.push(dir);
        sam.push(SamFunction {
            name: name.clone(),
            logical_id: format!("{}Function", docs::logical_id(name)),
            memory_mb: w.plan.memory_mb,
            timeout_s: w.plan.timeout_s,
            events: Vec::new(),
            default_route: false,
            schedule: Some(w.plan.schedule.clone()),
        });
    }
    sam
}

/// Library packages -> `crates/` (or their own directory in a workspace),
/// manifests rewritten (binaries off, paths re-pointed, the framework
/// renamed to the facade), as workspace members. Returns, for
/// MIGRATION.md, the packages as "`name` (in `dir/`)".
fn libraries(
    input: &Input<'_>,
    facade: &'static Facade,
    parts: &mut Parts,
) -> Result<Vec<String>, GenerateError> {
    let Parts {
        tree,
        edits,
        asked,
        members,
    } = parts;
    let a = input.analysis;
    let app = a.project.name.as_str();
    let moved = |old: &str| -> String { new_dir(app, a.packages(), old) };
    let package_dirs: Vec<String> = a.packages().iter().map(|p| p.dir.clone()).collect();
    let mut cores = Vec::new();
    for p in a.packages().iter().filter(|p| p.lib.is_some()) {
        let lib = p.lib.clone().unwrap_or_default();
        let to = moved(&p.dir);
        let manifest_path = manifest::join(&p.dir, "Cargo.toml");
        let text = read_text(input.source, &manifest_path)?;
        // The package keeps its name (code may read `CARGO_PKG_NAME`); only its
        // directory says it is the core.
        let mut doc = manifest::library(&text, None, &lib)
            .map_err(|e| input_err(&manifest_path, e.message().to_owned()))?;
        manifest::repoint_paths(&mut doc, &p.dir, &to, &moved, input.placement)
            .map_err(|e| input_err(&manifest_path, e))?;
        edits.extend(shim::point_at_facades(
            &mut doc,
            &to,
            facade,
            asked,
            (&manifest_path, &text),
        ));
        let skip: Vec<String> = package_dirs
            .iter()
            .filter(|d| **d != p.dir && (p.dir.is_empty() || d.starts_with(&format!("{}/", p.dir))))
            .cloned()
            .collect();
        let mut copied = Vec::new();
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
            let bytes = crate::contents(input.source, &file)
                .map_err(|e| input_err(&file, e.to_string()))?;
            for read in compile_time_reads(rel, &bytes) {
                copied.push(read);
            }
            tree.insert(manifest::join(&to, rel), bytes);
        }
        outside_inputs(input.source, tree, &p.dir, &to, &copied);
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
    Ok(cores)
}

/// Paths a package file reads while compiling, relative to the package
/// (`(base, path)`: `base` the directory `path` is relative to, within the
/// package): `askama.toml`'s template `dirs` and rust-embed's
/// `#[folder = ".."]` (relative to the package), `include_str!` and
/// `include_bytes!` (relative to the file). Only paths that leave their
/// base (`../`) matter: the rest is copied with the package.
fn compile_time_reads(rel: &str, bytes: &[u8]) -> Vec<(String, String)> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let file_dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    if rel == "askama.toml" {
        if let Ok(doc) = text.parse::<DocumentMut>() {
            let dirs = doc
                .get("general")
                .and_then(|g| g.get("dirs"))
                .and_then(Item::as_array);
            for d in dirs.into_iter().flatten().filter_map(Value::as_str) {
                out.push((String::new(), d.to_owned()));
            }
        }
    } else if rel.ends_with(".rs") {
        for (marker, base) in [
            ("folder = \"", ""),
            ("include_str!(\"", file_dir),
            ("include_bytes!(\"", file_dir),
        ] {
            for (at, _) in text.match_indices(marker) {
                let rest = &text[at + marker.len()..];
                if let Some(end) = rest.find('"') {
                    out.push((base.to_owned(), rest[..end].to_owned()));
                }
            }
        }
    }
    out.retain(|(_, path)| path.starts_with("../"));
    out
}

/// Copies what a package at `old_dir` (now `new_dir`) reads outside itself
/// while compiling ([`compile_time_reads`]), a file or a whole directory, to
/// the same place relative to its new directory: `../../templates` of
/// `src/data` is the project's `templates/`. Paths that leave the analysed
/// project or the generated workspace are left alone.
fn outside_inputs(
    source: &dyn Source,
    tree: &mut Tree,
    old_dir: &str,
    new_dir: &str,
    reads: &[(String, String)],
) {
    let inside = |p: &str| !(p == ".." || p.starts_with("../"));
    for (base, path) in reads {
        let from = manifest::join(&manifest::join(old_dir, base), path);
        let to = manifest::join(&manifest::join(new_dir, base), path);
        let in_package = old_dir.is_empty() || from.starts_with(&format!("{old_dir}/"));
        if from.is_empty() || !inside(&from) || !inside(&to) || in_package {
            continue;
        }
        let files = source.files(&from, &[]);
        if files.is_empty() {
            if let Ok(bytes) = source.read(&from) {
                tree.entry(to).or_insert(bytes);
            }
            continue;
        }
        for file in files {
            if let Ok(bytes) = crate::contents(source, &file) {
                let rel = strip_dir(&from, &file);
                tree.entry(manifest::join(&to, rel)).or_insert(bytes);
            }
        }
    }
}

/// The monolith root's `[workspace.package]`, `[workspace.dependencies]`
/// (paths re-pointed, the framework renamed to the facade),
/// `[workspace.lints]` and `[profile]` tables.
fn inherited(
    root_doc: &DocumentMut,
    facade: &'static Facade,
    moved: &dyn Fn(&str) -> String,
    asked: &mut AskedOf,
    edits: &mut Vec<Edit>,
    root_text: &str,
) -> Vec<(String, Item)> {
    let mut inherited = Vec::new();
    if let Some(ws) = root_doc.get("workspace").and_then(Item::as_table_like) {
        for key in ["package", "dependencies", "lints"] {
            let Some(item) = ws.get(key) else {
                continue;
            };
            let mut item = item.clone();
            if key == "dependencies" {
                // As a manifest of its own, so the facade rename is the one
                // every package's gets.
                let mut doc = DocumentMut::new();
                doc.insert("dependencies", item.clone());
                if let Some(t) = doc
                    .get_mut("dependencies")
                    .and_then(Item::as_table_like_mut)
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
                edits.extend(shim::point_at_facades(
                    &mut doc,
                    "",
                    facade,
                    asked,
                    ("Cargo.toml", root_text),
                ));
                if let Some(t) = doc.remove("dependencies") {
                    item = t;
                }
            }
            inherited.push((key.to_owned(), item));
        }
    }
    if let Some(profile) = root_doc.get("profile") {
        inherited.push(("profile".to_owned(), profile.clone()));
    }
    inherited
}

/// A function's manifest: its binary, the serving binary's library, the
/// shim, and (native adapter) the facade's `native` feature.
fn function_manifest(
    name: &str,
    dir: &str,
    main_crate: &MainCrate,
    facade: &Facade,
    adapter: Adapter,
    header: &str,
) -> String {
    let mut deps: BTreeMap<String, InlineTable> = BTreeMap::new();
    let mut main = InlineTable::new();
    main.insert(
        "path",
        manifest::relative(dir, &main_crate.dir).as_str().into(),
    );
    if main_crate.lib != main_crate.package {
        main.insert("package", main_crate.package.as_str().into());
    }
    if !main_crate.features.is_empty() {
        let features: toml_edit::Array = main_crate.features.iter().map(String::as_str).collect();
        main.insert("features", features.into());
    }
    deps.insert(main_crate.lib.clone(), main);
    let mut shim_dep = InlineTable::new();
    shim_dep.insert(
        "path",
        manifest::relative(dir, shim::SHIM_DIR).as_str().into(),
    );
    deps.insert("cleave-lambda".to_owned(), shim_dep);
    let mut facade_dep = InlineTable::new();
    facade_dep.insert(
        "path",
        manifest::relative(dir, &shim::facade_dir(facade))
            .as_str()
            .into(),
    );
    if adapter == Adapter::Native {
        let mut f = toml_edit::Array::new();
        f.push("native");
        facade_dep.insert("features", Value::Array(f));
    }
    deps.insert(facade.name.to_owned(), facade_dep);
    manifest::function(name, "2021", header, "src/main.rs", &deps)
}

/// What [`documents`] renders from.
struct Docs<'a> {
    header_hash: &'a str,
    main_crate: &'a MainCrate,
    framework: Framework,
    facade: &'a Facade,
    owner: &'a BTreeMap<String, String>,
    notes: &'a [FunctionNote],
    sam: &'a [SamFunction],
    cores: &'a [String],
    left_out: &'a [String],
    /// The scheduled workers generated, and those left out with why.
    workers: &'a [worker::WorkerNote],
    workers_left_out: &'a [String],
    /// The fns the serving binary's `main` reaches (`None`: not found).
    start_up: Option<BTreeSet<&'a str>>,
    edits: &'a mut Vec<Edit>,
    native: &'a [crate::native::NativeDep],
    code: &'a crate::code_edits::CodeEdits,
}

/// `template.yaml`, `MIGRATION.md`, `README.md` and `.gitignore`.
fn documents(input: &Input<'_>, tree: &mut Tree, d: Docs<'_>) -> Result<(), GenerateError> {
    let a = input.analysis;
    let app = a.project.name.as_str();
    let web_adapter = match input.adapter {
        Adapter::Native => None,
        Adapter::WebAdapter => Some(&docs::WEB_ADAPTER),
    };
    let render = |r: Result<String, askama::Error>, file: &str| {
        r.map_err(|e| input_err(file, format!("template failed: {e}")))
    };
    let monolith = input
        .monolith_url
        .map(docs::Monolith::parse)
        .transpose()
        .map_err(|e| input_err("--monolith-url", e))?;
    let mut deployment = docs::Deployment::new(a, input.plan, web_adapter, monolith);
    deployment.skip_migrations = d.code.gates_migrations();
    tree.insert(
        "template.yaml".to_owned(),
        render(
            docs::SamTemplate {
                header: d.header_hash.trim_start_matches("# "),
                app,
                functions: d.sam,
                web_adapter,
                deploy: &deployment,
            }
            .render(),
            "template.yaml",
        )?
        .into_bytes(),
    );
    // Hazards no route or worker reaches, in the start-up code the serving
    // binary's `main` reaches (a fn only another binary calls does not run
    // in the functions), which every function runs on each cold start.
    let in_start_up = |item: &str| match &d.start_up {
        Some(reached) => !a.has_fn(item) || reached.contains(item),
        None => true,
    };
    let startup_hazards: Vec<HazardNote> = a
        .hazards
        .iter()
        .filter(|h| h.entrypoints.is_empty() && in_start_up(&h.item))
        .map(HazardNote::from)
        .collect();
    d.edits.sort();
    d.edits.dedup();
    let header_md = d.header_hash.trim_start_matches("# ").to_owned();
    // The framework's facade, then each companion's that was rendered.
    let rendered = |f: &Facade| tree.contains_key(&format!("{}/Cargo.toml", shim::facade_dir(f)));
    let guard = std::iter::once(d.facade)
        .chain(
            shim::companions(d.facade)
                .filter(|c| rendered(c))
                .map(|c| c as &Facade),
        )
        .map(|f| match input.adapter {
            Adapter::Native => format!("{} {}", f.guard, f.in_process),
            Adapter::WebAdapter => f.guard.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let main_crate = format!("`{}` (in `{}/`)", d.main_crate.package, d.main_crate.dir);
    tree.insert(
        "MIGRATION.md".to_owned(),
        render(
            docs::Migration {
                header: &header_md,
                app,
                plan_file: input.plan_file,
                default_function: d.sam.first().map(|f| f.name.as_str()).unwrap_or(""),
                startup_hazards: &startup_hazards,
                routes: d.owner.len(),
                cores: d.cores,
                main_crate: &main_crate,
                framework: d.framework.name(),
                guard: &guard,
                web_adapter,
                functions: d.notes,
                workers: d.workers,
                workers_left_out: d.workers_left_out,
                left_out: d.left_out,
                edits: d.edits,
                variables: &deployment.rows,
                native: &d
                    .native
                    .iter()
                    .map(crate::native::NativeDep::line)
                    .collect::<Vec<_>>(),
                pools: &d.code.pools,
                migrations: &d.code.migrations,
                deploy: &deployment,
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
                first: d.notes.first().map(|n| n.name.as_str()).unwrap_or(""),
                functions: d.notes,
                web_adapter,
                deploy: &deployment,
            }
            .render(),
            "README.md",
        )?
        .into_bytes(),
    );
    tree.insert(".gitignore".to_owned(), b"/target\n".to_vec());
    Ok(())
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

/// The `cargo lambda watch` router: path -> `[(method, function)]`.
///
/// Its router (matchit) refuses two paths that differ only in a
/// parameter's name, so parameters are named by position (`{p1}`, `{*rest}`):
/// the function still receives the original URL. `ANY` matches no method
/// there: a path served only by `ANY` routes becomes one entry with method
/// `ANY` (written as a bare function name), and beside specific methods an
/// `ANY` route takes every standard method they leave. When two functions
/// claim one method on one path shape, the first route in sorted order keeps it.
pub(crate) fn watch_router(
    owner: &BTreeMap<String, String>,
) -> BTreeMap<String, Vec<(String, String)>> {
    const METHODS: [&str; 8] = [
        "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];
    let heads: BTreeSet<String> = owner
        .keys()
        .filter(|r| r.starts_with("HEAD "))
        .map(|r| cleave_analyzer::partition::route_shape(r))
        .collect();
    let mut by_path: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (route, function) in owner {
        let Some((m, p)) = split_route(route) else {
            continue;
        };
        let methods = by_path.entry(watch_path(&p)).or_default();
        methods.entry(m.clone()).or_insert_with(|| function.clone());
        // The monolith answers HEAD wherever it answers GET (as
        // `docs::with_head` gives the template's events).
        if m == "GET"
            && !heads.contains(&cleave_analyzer::partition::route_shape(&format!(
                "HEAD {p}"
            )))
        {
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

/// `"GET /a/{id}"` -> `("GET", "/a/{id}")`.
fn split_route(route: &str) -> Option<(String, String)> {
    let (m, p) = route.split_once(' ')?;
    Some((m.to_owned(), p.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace member reading templates, embedded files and an include
    /// from outside itself (rauthy's shape): each is copied to the same
    /// place; a path leaving the project is not.
    #[test]
    fn what_a_package_reads_outside_itself_is_carried_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write(
            "src/data/askama.toml",
            "[general]\ndirs = [\"../../templates\", \"own\"]\n",
        );
        write(
            "src/data/src/lib.rs",
            "#[derive(RustEmbed)]\n#[folder = \"../../static/v1/\"]\nstruct Assets;\nconst SQL: &str = include_str!(\"../../../sql/init.sql\");\nconst OUT: &[u8] = include_bytes!(\"../../../../outside.bin\");\n",
        );
        write("templates/mail.html", "<p>");
        write("static/v1/app.js", "js");
        write("sql/init.sql", "select 1;");
        let source = crate::DirSource::new(root);
        let mut reads = Vec::new();
        for file in source.files("src/data", &[]) {
            let rel = strip_dir("src/data", &file);
            let bytes = source.read(&file).expect("read");
            reads.extend(compile_time_reads(rel, &bytes));
        }
        let mut tree = Tree::new();
        outside_inputs(&source, &mut tree, "src/data", "src/data", &reads);
        let files: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(
            files,
            ["sql/init.sql", "static/v1/app.js", "templates/mail.html"]
        );
    }

    /// A member depending, through `[workspace.dependencies]`, on a package
    /// the monolith's `exclude` keeps out, which depends on another (pubky's
    /// test utilities): both are copied and excluded again; a path dependency
    /// that is a member, or that is not there, is left alone.
    #[test]
    fn excluded_packages_a_member_depends_on_are_carried_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write(
            "utils/test/Cargo.toml",
            "[package]\nname = \"test-utils\"\n\n[dependencies]\nmacros = { path = \"../macros\" }\n",
        );
        write("utils/test/src/lib.rs", "pub fn helper() {}\n");
        write("utils/macros/Cargo.toml", "[package]\nname = \"macros\"\n");
        write("utils/macros/src/lib.rs", "");
        write("utils/unused/Cargo.toml", "[package]\nname = \"unused\"\n");
        let source = crate::DirSource::new(root);
        let mut tree = Tree::new();
        tree.insert(
            "server/Cargo.toml".to_owned(),
            b"[package]\nname = \"server\"\n\n[dependencies]\ntest-utils.workspace = true\ncommon = { path = \"../common\" }\ngone = { path = \"../gone\" }\n".to_vec(),
        );
        tree.insert(
            "common/Cargo.toml".to_owned(),
            b"[package]\nname = \"common\"\n".to_vec(),
        );
        let mut spec = InlineTable::new();
        spec.insert("path", "utils/test".into());
        let mut deps = toml_edit::Table::new();
        deps.insert("test-utils", toml_edit::value(spec));
        let excluded = outside_packages(
            &source,
            &mut tree,
            &[("dependencies".to_owned(), Item::Table(deps))],
        );
        assert_eq!(excluded, ["utils/macros", "utils/test"]);
        let files: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(
            files,
            [
                "common/Cargo.toml",
                "server/Cargo.toml",
                "utils/macros/Cargo.toml",
                "utils/macros/src/lib.rs",
                "utils/test/Cargo.toml",
                "utils/test/src/lib.rs"
            ]
        );
    }

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
