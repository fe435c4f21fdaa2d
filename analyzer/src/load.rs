//! Load: a path on disk -> [`Project`]: every package of the Cargo package or
//! workspace at that path, every target (lib, bins) as a crate, and each
//! crate's module tree, parsed.
//!
//! Reads manifests with `toml` (no `cargo metadata`, no network, no build),
//! follows `mod` declarations from each target's root file (`x.rs`,
//! `x/mod.rs`, `#[path]`, inline modules), and parses all the files on all
//! cores as they are found. This is the only module that touches the disk,
//! and it never reads outside the root: a `#[path]` or member that escapes it,
//! a missing or unreadable file, a non-UTF-8 file, a syntax error or a module
//! file reached twice is a [`Diagnostic`], and loading goes on with the rest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Severity};
use crate::parse::parse_source_in;
use crate::syntax::{Item, ItemKind, Names, SourceFile};

#[cfg(test)]
mod tests;

/// The project could not be loaded at all (as opposed to a diagnostic).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: no Cargo.toml here; point cleave at a Cargo package or workspace")]
    NoManifest { path: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: invalid Cargo.toml: {message}")]
    Manifest {
        path: String,
        line: u32,
        message: String,
    },
    #[error("{path}: feature `{feature}`: no package of the workspace declares it ({declared})")]
    Feature {
        path: String,
        feature: String,
        declared: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetKind {
    Lib,
    Bin,
}

/// A dependency as a crate sees it: `extern_name` is what the code writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub extern_name: String,
    pub package: String,
    pub version: Option<String>,
    /// `Some` for a path dependency (relative to the root).
    pub path: Option<String>,
    /// The features it asks of the dependency (`features = [..]`).
    pub features: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// Directory of its manifest, relative to the root (`""` for the root itself).
    pub dir: String,
    pub dependencies: Vec<Dependency>,
    /// The features cleave assumes on, as `cargo build` of the workspace
    /// unifies them: `default`, what the workspace's packages depending on
    /// this one ask of it, and what those enable, transitively.
    pub features: BTreeSet<String>,
    /// The features it declares (`[features]` keys, optional
    /// dependencies): `#[cfg(feature = "x")]` code of one of these that is
    /// not on is left out (see `resolve`); a cfg on another name is kept.
    pub declared: BTreeSet<String>,
}

/// The (package, feature) pairs `--features` names: `x` in every package
/// that declares it, `package/x` in that one; a name no package declares
/// is an error, as cargo's.
fn asked_features(
    packages: &[Package],
    features: &[String],
    root: &FsPath,
) -> Result<Vec<(usize, String)>, LoadError> {
    let mut out = Vec::new();
    for f in features {
        let (package, feature) = match f.split_once('/') {
            Some((p, x)) => (Some(p), x),
            None => (None, f.as_str()),
        };
        let before = out.len();
        for (i, p) in packages.iter().enumerate() {
            if package.is_none_or(|name| name == p.name) && p.declared.contains(feature) {
                out.push((i, feature.to_owned()));
            }
        }
        if out.len() == before {
            let declared: BTreeSet<String> = packages
                .iter()
                .flat_map(|p| p.declared.iter().map(move |x| format!("{}/{x}", p.name)))
                .collect();
            let declared: Vec<String> = declared.into_iter().collect();
            return Err(LoadError::Feature {
                path: root.join("Cargo.toml").display().to_string(),
                feature: f.clone(),
                declared: if declared.is_empty() {
                    "the workspace declares no features".to_owned()
                } else {
                    format!(
                        "declared: {}; name one of those, as `feature` or `package/feature`",
                        declared.join(", ")
                    )
                },
            });
        }
    }
    Ok(out)
}

/// A manifest's `[features]`: each feature and what it enables.
fn feature_table(manifest: &toml::Table) -> BTreeMap<String, Vec<String>> {
    let Some(table) = manifest.get("features").and_then(|f| f.as_table()) else {
        return BTreeMap::new();
    };
    table
        .iter()
        .map(|(k, v)| (k.clone(), string_array(Some(v))))
        .collect()
}

/// The feature names a manifest declares: its `[features]` keys and its
/// optional dependencies (each an implicit feature).
fn declared_features(manifest: &toml::Table) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = feature_table(manifest).into_keys().collect();
    for key in ["dependencies", "build-dependencies"] {
        if let Some(t) = manifest.get(key).and_then(|t| t.as_table()) {
            for (name, spec) in t {
                if spec.get("optional").and_then(|o| o.as_bool()) == Some(true) {
                    out.insert(name.clone());
                }
            }
        }
    }
    out
}

/// Cargo's feature unification over the workspace: from each package's
/// `default`, every feature on enables what its `[features]` entry lists
/// (`x` of the package itself, `dep/x` or `dep?/x` of a workspace
/// dependency), and a package depending on another turns on the features
/// its dependency spec asks; to a fixpoint. `default` itself is dropped.
fn unify_features(
    packages: &mut [Package],
    tables: &[BTreeMap<String, Vec<String>>],
    asked: Vec<(usize, String)>,
) {
    let index: BTreeMap<String, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), i))
        .collect();
    let mut todo: Vec<(usize, String)> = (0..packages.len())
        .map(|i| (i, "default".to_owned()))
        .chain(asked)
        .collect();
    for p in packages.iter() {
        for d in &p.dependencies {
            if let Some(&j) = index.get(&d.package) {
                todo.extend(d.features.iter().map(|f| (j, f.clone())));
            }
        }
    }
    packages.iter_mut().for_each(|p| p.features.clear());
    while let Some((i, f)) = todo.pop() {
        if !packages[i].features.insert(f.clone()) {
            continue;
        }
        for e in tables[i].get(&f).into_iter().flatten() {
            let e = e.strip_prefix("dep:").unwrap_or(e);
            match e.split_once('/') {
                Some((dep, feature)) => {
                    let dep = dep.trim_end_matches('?').replace('-', "_");
                    let target = packages[i]
                        .dependencies
                        .iter()
                        .find(|d| d.extern_name == dep)
                        .and_then(|d| index.get(&d.package));
                    if let Some(&j) = target {
                        todo.push((j, feature.to_owned()));
                    }
                }
                None => todo.push((i, e.to_owned())),
            }
        }
    }
    for p in packages.iter_mut() {
        p.features.remove("default");
    }
}

/// One module of a crate: a file, or an inline `mod x { .. }` inside one.
#[derive(Debug, Clone)]
pub struct Module {
    /// Path from the crate root: `[]` for the root, `["routes", "orders"]`.
    pub path: Vec<String>,
    pub file: String,
    pub items: Vec<Item>,
    /// `cfg(..)` conditions on the `mod` declaration and the file's `#![cfg]`.
    pub cfg: Vec<String>,
    pub lines: u32,
    /// Whether this module is inline in its parent's file.
    pub inline: bool,
}

/// A compiled target: a lib or a bin, with its own crate name.
#[derive(Debug, Clone)]
pub struct Crate {
    /// As the code writes it: `-` replaced by `_`.
    pub name: String,
    pub kind: TargetKind,
    /// Index into [`Project::packages`].
    pub package: usize,
    pub root_file: String,
    pub modules: Vec<Module>,
}

impl Crate {
    /// This crate, without its modules.
    fn clone_empty(&self) -> Crate {
        Crate {
            name: self.name.clone(),
            kind: self.kind,
            package: self.package,
            root_file: self.root_file.clone(),
            modules: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    /// The root as given on the command line (kept for output, never resolved).
    pub root_display: String,
    pub packages: Vec<Package>,
    pub crates: Vec<Crate>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files that set the environment the app runs in, at the root and in
    /// each package's directory: dotenv files (`.env`, `.env.example`, ..)
    /// and Cargo's `.cargo/config.toml` (its `[env]` table). Sorted by path.
    pub env_files: Vec<EnvFile>,
}

/// A file that sets environment variables, as text (see [`Project::env_files`]).
#[derive(Debug, Clone)]
pub struct EnvFile {
    /// Relative to the root, `/`-separated.
    pub path: String,
    pub text: String,
}

impl Project {
    /// Total lines of the files in the module trees (each file once).
    pub fn lines(&self) -> u64 {
        let mut seen = BTreeSet::new();
        let mut n = 0u64;
        for m in self.crates.iter().flat_map(|c| &c.modules) {
            if !m.inline && seen.insert(m.file.as_str()) {
                n += u64::from(m.lines);
            }
        }
        n
    }

    pub fn files(&self) -> usize {
        self.crates
            .iter()
            .flat_map(|c| &c.modules)
            .filter(|m| !m.inline)
            .map(|m| m.file.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// Loads the package or workspace at `root` (on a thread with a stack deep
/// enough for any file `parse` accepts).
pub fn load(root: &FsPath) -> Result<Project, LoadError> {
    load_with(root, &[])
}

/// [`load`] with `features` on beside the defaults, as `cargo build
/// --features` turns them on: `x` in every workspace package that declares
/// it, `package/x` in that package.
pub fn load_with(root: &FsPath, features: &[String]) -> Result<Project, LoadError> {
    crate::stack::with_big_stack(|| load_here(root, features))
}

fn load_here(root: &FsPath, features: &[String]) -> Result<Project, LoadError> {
    let mut disk = Disk::new(root)?;
    let mut diagnostics = Vec::new();
    let root_manifest = disk.manifest("")?.ok_or_else(|| LoadError::NoManifest {
        path: root.display().to_string(),
    })?;

    let workspace_deps = root_manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .cloned()
        .unwrap_or_default();

    let mut package_dirs = Vec::new();
    if root_manifest.contains_key("package") {
        package_dirs.push(String::new());
    }
    if let Some(ws) = root_manifest.get("workspace").and_then(|w| w.as_table()) {
        let excluded: BTreeSet<String> = string_array(ws.get("exclude"))
            .into_iter()
            .map(|s| normalise(&s))
            .collect();
        for member in string_array(ws.get("members")) {
            if is_absolute(&member) || normalise(&member).starts_with("..") {
                diagnostics.push(Diagnostic::new(
                    "member-outside-root",
                    Severity::Error,
                    "Cargo.toml",
                    0,
                    format!(
                        "workspace member `{member}` is outside the analysed directory; it is not read"
                    ),
                ));
                continue;
            }
            for dir in disk.expand_member(&member) {
                if excluded.contains(&dir) || package_dirs.contains(&dir) {
                    continue;
                }
                package_dirs.push(dir);
            }
        }
    }

    // Cargo makes every path dependency inside the workspace's directory a
    // member too, listed or not: those join the list as they are found.
    let mut library_only = BTreeSet::new();
    let is_workspace = root_manifest.contains_key("workspace");
    let excluded: BTreeSet<String> = root_manifest
        .get("workspace")
        .map(|ws| {
            string_array(ws.get("exclude"))
                .into_iter()
                .map(|s| normalise(&s))
                .collect()
        })
        .unwrap_or_default();
    let mut packages = Vec::new();
    // Each package's `[features]`: feature -> what it enables.
    let mut feature_tables = Vec::new();
    let mut crates = Vec::new();
    let mut next = 0;
    while next < package_dirs.len() {
        let dir = package_dirs[next].clone();
        next += 1;
        let manifest = match disk.manifest(&dir) {
            Ok(Some(m)) => m,
            Ok(None) => {
                diagnostics.push(Diagnostic::new(
                    "missing-member",
                    Severity::Error,
                    "Cargo.toml",
                    0,
                    format!("workspace member `{dir}` has no Cargo.toml; it is skipped"),
                ));
                continue;
            }
            Err(e) => {
                diagnostics.push(Diagnostic::new(
                    "bad-manifest",
                    Severity::Error,
                    join(&dir, "Cargo.toml"),
                    0,
                    e.to_string(),
                ));
                continue;
            }
        };
        let Some(pkg) = manifest.get("package").and_then(|p| p.as_table()) else {
            continue;
        };
        let Some(name) = pkg.get("name").and_then(|n| n.as_str()).map(str::to_owned) else {
            diagnostics.push(Diagnostic::new(
                "bad-manifest",
                Severity::Error,
                join(&dir, "Cargo.toml"),
                0,
                "[package] has no name",
            ));
            continue;
        };
        let dependencies = dependencies(&manifest, &workspace_deps, &dir);
        for d in &dependencies {
            let Some(path) = d.path.as_deref().map(normalise) else {
                continue;
            };
            if path.starts_with("..") || is_absolute(&path) {
                diagnostics.push(outside_dependency(&disk, &dir, d, &path));
            } else if !excluded.contains(&path)
                && !package_dirs.contains(&path)
                && disk.is_file(&join(&path, "Cargo.toml"))
            {
                // Outside a workspace, a path dependency is a library the
                // package builds, not a member: its binaries are not built.
                if !is_workspace {
                    library_only.insert(path.clone());
                }
                package_dirs.push(path);
            }
        }
        let index = packages.len();
        packages.push(Package {
            name: name.clone(),
            dir: dir.clone(),
            dependencies,
            features: BTreeSet::from(["default".to_owned()]),
            declared: declared_features(&manifest),
        });
        feature_tables.push(feature_table(&manifest));
        for (kind, crate_name, file) in targets(&disk, &manifest, &name, &dir) {
            if kind != TargetKind::Lib && library_only.contains(&dir) {
                continue;
            }
            crates.push(Crate {
                name: crate_name,
                kind,
                package: index,
                root_file: file,
                modules: Vec::new(),
            });
        }
    }

    let asked = asked_features(&packages, features, root)?;
    unify_features(&mut packages, &feature_tables, asked);
    // Statements under a cfg are kept or left out as they are lowered,
    // by the features of the file's package.
    let gates: Vec<Arc<Package>> = packages.iter().cloned().map(Arc::new).collect();
    load_modules(&disk, &gates, &mut crates, &mut diagnostics);
    // Test modules were cut to their `mod` items, which no stage notices
    // unless a test module shares its path with another module of its
    // crate (`#[cfg(test)] mod imp` beside `#[cfg(not(test))] mod imp`):
    // then that crate is read again, uncut. Only a module under
    // `#[cfg(test)]` can have been cut, so paths shared by other modules
    // alone (`#[cfg(feature = "x")] mod imp` beside its `not`) need nothing.
    // Crates do not share modules, and cutting changes no diagnostic (the
    // same files are read), so the others stay as read.
    let shared: Vec<usize> = (0..crates.len())
        .filter(|i| {
            crates[*i]
                .modules
                .chunk_by(|a, b| a.path == b.path)
                .any(|same| {
                    same.len() > 1 && same.iter().any(|m| m.cfg.iter().any(|c| c == "test"))
                })
        })
        .collect();
    if !shared.is_empty() {
        disk.cut_tests = false;
        let mut again: Vec<Crate> = shared.iter().map(|i| crates[*i].clone_empty()).collect();
        load_modules(&disk, &gates, &mut again, &mut diagnostics);
        for (i, c) in shared.into_iter().zip(again) {
            crates[i] = c;
        }
    }
    diagnostics.sort();
    diagnostics.dedup();
    let env_files = disk.env_files(packages.iter().map(|p| p.dir.as_str()));
    Ok(Project {
        root_display: root.display().to_string(),
        packages,
        crates,
        diagnostics,
        env_files,
    })
}

/// A path dependency that leaves the analysed directory: never read, so
/// its routes and code are unknown and calls into it are external. Points
/// at its line in the manifest.
fn outside_dependency(disk: &Disk, dir: &str, d: &Dependency, path: &str) -> Diagnostic {
    let manifest = join(dir, "Cargo.toml");
    let key = d.extern_name.as_str();
    let line = fs::read_to_string(disk.full(&manifest))
        .ok()
        .and_then(|text| {
            text.lines().position(|l| {
                let l = l.trim_start().trim_start_matches('[');
                let l = l.rsplit_once("dependencies.").map_or(l, |(_, rest)| rest);
                l.strip_prefix(key)
                    .or_else(|| l.strip_prefix(key.replace('_', "-").as_str()))
                    .and_then(|rest| rest.trim_start().chars().next())
                    .is_some_and(|c| matches!(c, '=' | '.' | ']'))
            })
        })
        .map_or(0, |i| i as u32 + 1);
    Diagnostic::new(
        "path-dependency-outside-root",
        Severity::Warning,
        manifest,
        line,
        format!(
            "path dependency `{}` ({path}) is outside the analysed directory: its code is not read and calls into it are external (analyse the workspace root that holds both, if there is one); `generate` refers to it where it is",
            d.package
        ),
    )
}

fn string_array(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        normalise(rel)
    } else {
        normalise(&format!("{dir}/{rel}"))
    }
}

/// `/x`, `\x` and `C:\x` name a place regardless of where they are written.
fn is_absolute(p: &str) -> bool {
    p.starts_with(['/', '\\']) || p.as_bytes().get(1) == Some(&b':')
}

/// `a/./b/../c` -> `a/c`; a path that climbs above its start keeps its `..`.
fn normalise(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(out.last(), Some(l) if *l != "..") {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out.join("/")
}

fn dependencies(
    manifest: &toml::Table,
    workspace_deps: &toml::Table,
    dir: &str,
) -> Vec<Dependency> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    for key in ["dependencies", "build-dependencies"] {
        if let Some(t) = manifest.get(key).and_then(|t| t.as_table()) {
            tables.push(t);
        }
    }
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        for t in targets.values() {
            if let Some(d) = t.get("dependencies").and_then(|d| d.as_table()) {
                tables.push(d);
            }
        }
    }
    let mut out = BTreeMap::new();
    for table in tables {
        for (key, spec) in table {
            let inherited = spec.get("workspace").and_then(|w| w.as_bool()) == Some(true);
            let (spec, base) = if inherited {
                (workspace_deps.get(key).unwrap_or(spec), "")
            } else {
                (spec, dir)
            };
            let package = spec
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(key)
                .to_owned();
            let version = match spec {
                toml::Value::String(v) => Some(v.clone()),
                _ => spec
                    .get("version")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            };
            let path = spec
                .get("path")
                .and_then(|p| p.as_str())
                .map(|p| join(base, p));
            let mut features = string_array(spec.get("features"));
            if inherited {
                let own = table.get(key).and_then(|s| s.get("features"));
                features.extend(string_array(own));
            }
            let extern_name = key.replace('-', "_");
            out.insert(
                extern_name.clone(),
                Dependency {
                    extern_name,
                    package,
                    version,
                    path,
                    features,
                },
            );
        }
    }
    out.into_values().collect()
}

/// The targets of a package: `(kind, crate name, root file)`, sorted.
fn targets(
    disk: &Disk,
    manifest: &toml::Table,
    package: &str,
    dir: &str,
) -> Vec<(TargetKind, String, String)> {
    let pkg = manifest.get("package").and_then(|p| p.as_table());
    let auto = |key: &str| {
        pkg.and_then(|p| p.get(key))
            .and_then(|v| v.as_bool())
            .unwrap_or(true)
    };
    let underscore = package.replace('-', "_");
    let mut out = Vec::new();

    let lib = manifest.get("lib").and_then(|l| l.as_table());
    let lib_path = lib
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
        .map(|p| join(dir, p))
        .or_else(|| Some(join(dir, "src/lib.rs")).filter(|p| disk.is_file(p)));
    if let Some(path) = lib_path {
        let name = lib
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .map(|n| n.replace('-', "_"))
            .unwrap_or_else(|| underscore.clone());
        out.push((TargetKind::Lib, name, path));
    }

    // Cargo's inferred bins (`src/main.rs`, `src/bin/*`), less any an
    // explicit `[[bin]]` names or points at: `[[bin]] name = "x" path =
    // "src/main.rs"` is one binary, not two.
    let mut inferred: BTreeMap<String, String> = BTreeMap::new();
    if auto("autobins") {
        let main = join(dir, "src/main.rs");
        if disk.is_file(&main) {
            inferred.insert(package.to_owned(), main);
        }
        for (name, file) in disk.bin_dir(&join(dir, "src/bin")) {
            inferred.insert(name, file);
        }
    }
    let mut bins: BTreeMap<String, String> = BTreeMap::new();
    let mut explicit_paths = BTreeSet::new();
    if let Some(list) = manifest.get("bin").and_then(|b| b.as_array()) {
        for b in list {
            let Some(name) = b.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            let given = b.get("path").and_then(|p| p.as_str()).map(|p| join(dir, p));
            let path = given
                .clone()
                .or_else(|| inferred.get(name).cloned())
                .unwrap_or_else(|| join(dir, &format!("src/bin/{name}.rs")));
            explicit_paths.extend(given);
            bins.insert(name.to_owned(), path);
        }
    }
    for (name, path) in inferred {
        if !bins.contains_key(&name) && !explicit_paths.contains(&path) {
            bins.insert(name, path);
        }
    }
    for (name, path) in bins {
        if disk.is_file(&path) {
            out.push((TargetKind::Bin, name.replace('-', "_"), path));
        }
    }
    out
}

/// A module waiting to be read: which crate, its path, where its file should be.
struct Pending {
    krate: usize,
    path: Vec<String>,
    /// Candidate files, first existing wins.
    candidates: Vec<String>,
    /// Where it was declared, for diagnostics.
    declared_at: Option<(String, u32)>,
    /// Directory that this module's own `mod x;` children live in.
    child_dir_of: ChildDir,
    cfg: Vec<String>,
}

#[derive(Clone, Copy)]
enum ChildDir {
    /// `lib.rs`, `main.rs`, `mod.rs`, or a `#[path]` file: children beside the file.
    Beside,
    /// `x.rs`: children in `x/`.
    Named,
}

/// How deep module trees are followed (`mod` inside `mod` ...).
const MAX_DEPTH: usize = 64;

fn load_modules(
    disk: &Disk,
    packages: &[Arc<Package>],
    crates: &mut [Crate],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let gates: Vec<Gate> = crates
        .iter()
        .map(|c| (c.package, Arc::clone(&packages[c.package])))
        .collect();
    let mut wave: Vec<Pending> = crates
        .iter()
        .enumerate()
        .map(|(i, c)| Pending {
            krate: i,
            path: Vec::new(),
            candidates: vec![c.root_file.clone()],
            declared_at: None,
            child_dir_of: ChildDir::Beside,
            cfg: Vec::new(),
        })
        .collect();
    let parsed = prefetch(disk, &gates, &wave);
    let mut seen: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut depth = 0;
    while !wave.is_empty() && depth < MAX_DEPTH {
        depth += 1;
        // A file the crate already has a module of, from an earlier depth or
        // earlier in this one, is not read here: once the first of them is
        // read, this one reads the same and is skipped (see below).
        let mut here = BTreeSet::new();
        let twice: Vec<bool> = wave
            .iter()
            .map(|p| {
                p.candidates
                    .iter()
                    .find(|c| disk.is_file(c))
                    .map(|f| (p.krate, disk.identity(f)))
                    .is_some_and(|key| seen.contains(&key) || !here.insert(key))
            })
            .collect();
        let results: Vec<(Pending, Option<ModuleRead>)> = wave
            .into_par_iter()
            .zip(twice)
            .map(|(p, twice)| {
                let r = (!twice).then(|| read_module(disk, &gates[p.krate], &p, &parsed));
                (p, r)
            })
            .collect();
        let mut next = Vec::new();
        for (p, result) in results {
            let result = match result {
                Some(r) => r,
                None => {
                    let file = p.candidates.iter().find(|c| disk.is_file(c));
                    match file {
                        Some(f) if seen.contains(&(p.krate, disk.identity(f))) => {
                            diagnostics.push(module_twice(&p, f));
                            continue;
                        }
                        // The first declaration did not read: neither may this one.
                        _ => read_module(disk, &gates[p.krate], &p, &parsed),
                    }
                }
            };
            let (file, mut source) = match result {
                Ok(x) => x,
                Err(d) => {
                    diagnostics.push(d);
                    continue;
                }
            };
            if !seen.insert((p.krate, disk.identity(&file))) {
                diagnostics.push(module_twice(&p, &file));
                continue;
            }
            let mut cfg = p.cfg.clone();
            cfg.extend(
                source
                    .inner_attrs
                    .iter()
                    .filter(|a| a.path.is_ident("cfg"))
                    .map(|a| a.words.join(", ")),
            );
            let child_dir = match p.child_dir_of {
                ChildDir::Beside => parent_dir(&file),
                ChildDir::Named => file.trim_end_matches(".rs").to_owned(),
            };
            collect_children(
                disk,
                &p,
                &file,
                &child_dir,
                &source.items,
                &p.path,
                &cfg,
                &mut next,
                Some(&mut crates[p.krate].modules),
                diagnostics,
            );
            // The inline modules just recorded take their items out of this
            // file's tree (nothing reads them there), in the order recorded.
            let mut inline = Vec::new();
            take_inline(&mut source.items, &mut inline);
            let modules = &mut crates[p.krate].modules;
            let first = modules.len().saturating_sub(inline.len());
            for (m, items) in modules[first..].iter_mut().zip(inline) {
                m.items = items;
            }
            crates[p.krate].modules.push(Module {
                path: p.path.clone(),
                file,
                items: source.items,
                cfg,
                lines: source.lines,
                inline: false,
            });
        }
        wave = next;
    }
    for c in crates.iter_mut() {
        c.modules.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

/// A second `mod` declaration of a file the crate already has.
fn module_twice(p: &Pending, file: &str) -> Diagnostic {
    let (at, line) = p
        .declared_at
        .clone()
        .unwrap_or_else(|| (file.to_owned(), 0));
    Diagnostic::warning(
        "module-twice",
        at,
        line,
        format!("`{file}` is already a module of this crate; the second declaration is skipped"),
    )
}

/// Queues the `mod x;` children of `items` and records inline modules.
#[allow(clippy::too_many_arguments)]
fn collect_children(
    disk: &Disk,
    parent: &Pending,
    file: &str,
    dir: &str,
    items: &[Item],
    path: &[String],
    cfg: &[String],
    next: &mut Vec<Pending>,
    mut modules: Option<&mut Vec<Module>>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for item in items {
        // `cfg_rt! { pub mod runtime; }`: modules declared inside a macro call
        // whose tokens read as items are modules all the same.
        if let ItemKind::MacroCall { items: inner, .. } = &item.kind {
            collect_children(
                disk,
                parent,
                file,
                dir,
                inner,
                path,
                cfg,
                next,
                modules.as_deref_mut(),
                diagnostics,
            );
            continue;
        }
        let ItemKind::Mod { inline, path_attr } = &item.kind else {
            continue;
        };
        let mut child_path = path.to_vec();
        child_path.push(item.name.clone());
        let mut child_cfg = cfg.to_vec();
        child_cfg.extend(item.cfg.iter().cloned());
        match inline {
            Some(children) => {
                // Inline module: its own `mod y;` children live in `dir/x/`.
                let inner_dir = join(dir, path_attr.as_deref().unwrap_or(&item.name));
                collect_children(
                    disk,
                    parent,
                    file,
                    &inner_dir,
                    children,
                    &child_path,
                    &child_cfg,
                    next,
                    modules.as_deref_mut(),
                    diagnostics,
                );
                if let Some(modules) = modules.as_deref_mut() {
                    modules.push(Module {
                        path: child_path,
                        file: file.to_owned(),
                        // Filled by `take_inline`.
                        items: Vec::new(),
                        cfg: child_cfg,
                        lines: 0,
                        inline: true,
                    });
                }
            }
            None => {
                let (candidates, child_dir_of) = match path_attr {
                    // An absolute `#[path]` leaves the root whatever it names.
                    Some(p) if is_absolute(p) => (Vec::new(), ChildDir::Beside),
                    Some(p) => (
                        vec![join(&dir_for_path_attr(file, dir, parent, path), p)],
                        ChildDir::Beside,
                    ),
                    None => (
                        vec![
                            join(dir, &format!("{}.rs", item.name)),
                            join(dir, &format!("{}/mod.rs", item.name)),
                        ],
                        ChildDir::Named,
                    ),
                };
                let candidates_ok: Vec<String> = candidates
                    .iter()
                    .filter(|c| !c.starts_with(".."))
                    .cloned()
                    .collect();
                if candidates_ok.is_empty() {
                    diagnostics.push(Diagnostic::new(
                        "path-escapes-root",
                        Severity::Error,
                        file,
                        item.line,
                        format!("`#[path]` of module `{}` points outside the analysed directory; it is not read", item.name),
                    ));
                    continue;
                }
                let mut candidates = candidates_ok;
                // `x.rs` declares children in `x/`, but `x/mod.rs` beside them.
                let child_dir_of = if candidates.len() == 2
                    && !disk.is_file(&candidates[0])
                    && disk.is_file(&candidates[1])
                {
                    candidates.remove(0);
                    ChildDir::Beside
                } else {
                    child_dir_of
                };
                next.push(Pending {
                    krate: parent.krate,
                    path: child_path,
                    candidates,
                    declared_at: Some((file.to_owned(), item.line)),
                    child_dir_of,
                    cfg: child_cfg,
                });
            }
        }
    }
}

/// Moves the items of every inline module out of `items`, in the order in
/// which [`collect_children`] records inline modules (children first).
fn take_inline(items: &mut [Item], out: &mut Vec<Vec<Item>>) {
    for item in items {
        match &mut item.kind {
            ItemKind::MacroCall { items: inner, .. } => take_inline(inner, out),
            ItemKind::Mod {
                inline: Some(children),
                ..
            } => {
                take_inline(children, out);
                out.push(std::mem::take(children));
            }
            _ => {}
        }
    }
}

/// `#[path]` on a `mod` in a non-mod-rs file is relative to the file's own
/// directory plus the module path for inline modules; cleave uses the
/// directory the file's children live in for inline modules, else the file's directory.
fn dir_for_path_attr(file: &str, dir: &str, parent: &Pending, path: &[String]) -> String {
    if path.len() > parent.path.len() {
        dir.to_owned()
    } else {
        parent_dir(file)
    }
}

fn parent_dir(file: &str) -> String {
    match file.rfind('/') {
        Some(i) => file[..i].to_owned(),
        None => String::new(),
    }
}

/// A module file read and parsed, with its path; or why not.
type ModuleRead = Result<(String, SourceFile), Diagnostic>;

/// Files read and parsed ahead of the waves of [`load_modules`], by
/// package (its features decide the statements kept) and path.
type Parsed = Mutex<BTreeMap<(usize, String), Result<SourceFile, Diagnostic>>>;

/// A crate's package: its index, and the package its files are lowered for.
type Gate = (usize, Arc<Package>);

/// Reads and parses every file of the module trees below `roots` on all
/// cores, each file's `mod` children queued as soon as it is parsed, so no
/// core waits for the slowest file of a depth. It only fills a cache:
/// [`load_modules`] still decides, in its own deterministic order, which
/// file is which module (and reads whatever the cache lacks).
fn prefetch(disk: &Disk, gates: &[Gate], roots: &[Pending]) -> Parsed {
    let claimed = Mutex::new(BTreeSet::new());
    let parsed = Mutex::new(BTreeMap::new());
    rayon::scope(|scope| {
        for root in roots {
            let job = Pending {
                krate: root.krate,
                path: root.path.clone(),
                candidates: root.candidates.clone(),
                declared_at: None,
                child_dir_of: root.child_dir_of,
                cfg: Vec::new(),
            };
            let (claimed, parsed) = (&claimed, &parsed);
            scope.spawn(move |scope| fetch(scope, disk, gates, job, 1, claimed, parsed));
        }
    });
    parsed
}

fn fetch<'s>(
    scope: &rayon::Scope<'s>,
    disk: &'s Disk,
    gates: &'s [Gate],
    p: Pending,
    depth: usize,
    claimed: &'s Mutex<BTreeSet<(usize, String)>>,
    parsed: &'s Parsed,
) {
    let Some(file) = p.candidates.iter().find(|c| disk.is_file(c)).cloned() else {
        return;
    };
    let (package, gate) = &gates[p.krate];
    let key = (*package, file);
    let first = claimed
        .lock()
        .map(|mut c| c.insert(key.clone()))
        .unwrap_or(false);
    if !first {
        return;
    }
    let file = &key.1;
    let result = read_source(disk, gate, file);
    if let Ok(source) = &result
        && depth < MAX_DEPTH
    {
        let child_dir = match p.child_dir_of {
            ChildDir::Beside => parent_dir(file),
            ChildDir::Named => file.trim_end_matches(".rs").to_owned(),
        };
        let mut next = Vec::new();
        collect_children(
            disk,
            &p,
            file,
            &child_dir,
            &source.items,
            &p.path,
            &[],
            &mut next,
            None,
            &mut Vec::new(),
        );
        for child in next {
            scope.spawn(move |scope| fetch(scope, disk, gates, child, depth + 1, claimed, parsed));
        }
    }
    if let Ok(mut parsed) = parsed.lock() {
        parsed.insert(key, result);
    }
}

fn read_module(disk: &Disk, gate: &Gate, p: &Pending, parsed: &Parsed) -> ModuleRead {
    let (at, line) = p
        .declared_at
        .clone()
        .unwrap_or_else(|| (p.candidates[0].clone(), 0));
    let Some(file) = p.candidates.iter().find(|c| disk.is_file(c)).cloned() else {
        let name = p.path.last().cloned().unwrap_or_default();
        return Err(Diagnostic::new(
            "missing-module",
            Severity::Error,
            at,
            line,
            format!(
                "module `{name}`: none of {} exists; create it or remove the `mod` line",
                p.candidates.join(", ")
            ),
        ));
    };
    // A file reached twice (a lib and a bin sharing a module) is parsed again.
    let key = (gate.0, file);
    let cached = parsed.lock().ok().and_then(|mut c| c.remove(&key));
    let source = match cached {
        Some(r) => r?,
        None => read_source(disk, &gate.1, &key.1)?,
    };
    Ok((key.1, source))
}

/// One file read and parsed; unreadable, not UTF-8 and unparsable files are
/// diagnostics.
fn read_source(disk: &Disk, package: &Arc<Package>, file: &str) -> Result<SourceFile, Diagnostic> {
    let bytes = disk.read(file).map_err(|e| {
        Diagnostic::new(
            "unreadable-file",
            Severity::Error,
            file,
            0,
            format!("cannot read: {e}"),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32;
        Diagnostic::new(
            "not-utf8",
            Severity::Error,
            file,
            line,
            "file is not valid UTF-8; it is skipped",
        )
    })?;
    parse_source_in(&text, disk.names, disk.cut_tests, Some(package)).map_err(|e| {
        Diagnostic::new(
            "syntax-error",
            Severity::Error,
            file,
            e.line,
            format!("cannot parse: {}; this file is skipped", e.message),
        )
    })
}

/// The root directory and the only door to the disk.
struct Disk {
    root: PathBuf,
    canonical_root: PathBuf,
    /// What each relative path resolves to with symlinks followed, and
    /// whether that is a regular file: asked about every module file four
    /// or five times (candidate, prefetch, wave, identity), answered once.
    resolved: Mutex<HashMap<String, Option<(PathBuf, bool)>>>,
    /// The names of every file parsed for this load are shared ([`Names`]).
    names: u64,
    /// Whether files are parsed with their test modules cut ([`parse_source_in`]).
    cut_tests: bool,
}

impl Disk {
    fn new(root: &FsPath) -> Result<Self, LoadError> {
        let canonical_root = fs::canonicalize(root).map_err(|source| LoadError::Io {
            path: root.display().to_string(),
            source,
        })?;
        Ok(Disk {
            root: root.to_path_buf(),
            canonical_root,
            resolved: Mutex::new(HashMap::new()),
            names: Names::session(),
            cut_tests: true,
        })
    }

    fn full(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// `rel` with symlinks followed, and whether it is a regular file.
    fn resolve(&self, rel: &str) -> Option<(PathBuf, bool)> {
        let cached = self.resolved.lock().ok().and_then(|m| m.get(rel).cloned());
        if let Some(r) = cached {
            return r;
        }
        let r = fs::canonicalize(self.full(rel)).ok().map(|c| {
            let file = c.is_file();
            (c, file)
        });
        if let Ok(mut m) = self.resolved.lock() {
            m.insert(rel.to_owned(), r.clone());
        }
        r
    }

    /// Whether `rel` is a regular file that, with symlinks followed, stays inside the root.
    fn is_file(&self, rel: &str) -> bool {
        if rel.starts_with("..") {
            return false;
        }
        match self.resolve(rel) {
            Some((c, file)) => c.starts_with(&self.canonical_root) && file,
            None => false,
        }
    }

    /// A stable identity for a file (its canonical path relative to the root).
    fn identity(&self, rel: &str) -> String {
        self.resolve(rel)
            .and_then(|(c, _)| {
                c.strip_prefix(&self.canonical_root)
                    .ok()
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| rel.to_owned())
    }

    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        fs::read(self.full(rel))
    }

    fn manifest(&self, dir: &str) -> Result<Option<toml::Table>, LoadError> {
        let rel = join(dir, "Cargo.toml");
        if !self.is_file(&rel) {
            return Ok(None);
        }
        let text = fs::read_to_string(self.full(&rel)).map_err(|source| LoadError::Io {
            path: rel.clone(),
            source,
        })?;
        text.parse::<toml::Table>()
            .map(Some)
            .map_err(|e| LoadError::Manifest {
                line: e
                    .span()
                    .map(|s| 1 + text[..s.start.min(text.len())].matches('\n').count() as u32)
                    .unwrap_or(0),
                path: rel,
                message: e.message().to_owned(),
            })
    }

    /// The dotenv files (`.env*`) and `.cargo/config.toml` (or the older
    /// `.cargo/config`) of the root and of each package directory. A file
    /// that leaves the root, is not UTF-8 or is over 256 KiB is skipped.
    fn env_files<'a>(&self, dirs: impl Iterator<Item = &'a str>) -> Vec<EnvFile> {
        const MAX: u64 = 256 * 1024;
        let mut dirs: BTreeSet<&str> = dirs.collect();
        dirs.insert("");
        let mut paths = BTreeSet::new();
        for dir in dirs {
            for entry in fs::read_dir(self.full(dir)).into_iter().flatten().flatten() {
                if let Some(name) = entry.file_name().to_str()
                    && (name == ".env" || name.starts_with(".env."))
                {
                    paths.insert(join(dir, name));
                }
            }
            for name in [".cargo/config.toml", ".cargo/config"] {
                paths.insert(join(dir, name));
            }
        }
        paths
            .into_iter()
            .filter(|p| self.is_file(p))
            .filter(|p| fs::metadata(self.full(p)).is_ok_and(|m| m.len() <= MAX))
            .filter_map(|path| {
                let text = String::from_utf8(self.read(&path).ok()?).ok()?;
                Some(EnvFile { path, text })
            })
            .collect()
    }

    /// Workspace member patterns: plain directories and `dir/*`-style globs.
    fn expand_member(&self, pattern: &str) -> Vec<String> {
        let pattern = normalise(pattern);
        if pattern.starts_with("..") {
            return Vec::new();
        }
        if !pattern.contains(['*', '?', '[']) {
            return vec![pattern];
        }
        let mut dirs = vec![String::new()];
        for part in pattern.split('/') {
            let mut next = Vec::new();
            for d in &dirs {
                if part.contains(['*', '?', '[']) {
                    for name in self.list_dirs(d) {
                        if glob_match(part, &name) {
                            next.push(join(d, &name));
                        }
                    }
                } else {
                    next.push(join(d, part));
                }
            }
            dirs = next;
        }
        dirs.retain(|d| self.is_file(&join(d, "Cargo.toml")));
        dirs.sort();
        dirs
    }

    fn list_dirs(&self, rel: &str) -> Vec<String> {
        let mut out: Vec<String> = fs::read_dir(self.full(rel))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| n != "target" && !n.starts_with('.'))
            .collect();
        out.sort();
        out
    }

    /// `src/bin/x.rs` and `src/bin/x/main.rs`.
    fn bin_dir(&self, rel: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.full(rel)).into_iter().flatten().flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let path = join(rel, &name);
            if let Some(stem) = name.strip_suffix(".rs") {
                if self.is_file(&path) {
                    out.push((stem.to_owned(), path));
                }
            } else if self.is_file(&join(&path, "main.rs")) {
                out.push((name, join(&path, "main.rs")));
            }
        }
        out.sort();
        out
    }
}

/// Minimal glob for member patterns: `*` and `?` within one path segment.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}
