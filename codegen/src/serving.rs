//! The serving binary: which binary of the monolith starts the service, and
//! its module tree as a library crate shared by every function.
//!
//! The serving binary is the one whose `main` reaches, through the call
//! graph at any depth, a fn that names a server item of the framework
//! (`axum::serve`, `HttpServer::new`, `.launch()`; `startup.rs` reads them
//! from the framework profiles), or a rocket `#[launch]` fn. Its module
//! tree becomes a library package once (`crates/<bin>-main`, `[lib] path`
//! the same root file), with one generated fn appended to the root file,
//! `__cleave_main`, that calls `main`. Nothing else in it is edited.

use cleave_analyzer::analysis::PackageInfo;
use cleave_analyzer::startup::BinMain;
use toml_edit::{InlineTable, Item, Table, value};

use crate::docs::Edit;
use crate::shim::{self, AskedOf, Facade};
use crate::{GenerateError, Source, Tree, input_err, manifest};

/// The fn appended to the serving binary's root file.
pub const ENTRY: &str = "__cleave_main";

/// The serving binary's library package in the generated workspace.
#[derive(Debug)]
pub struct MainCrate {
    pub dir: String,
    pub package: String,
    /// Its lib's crate name: the binary's own (`forum_server`), so
    /// `module_path!()`, log targets and `CARGO_CRATE_NAME` read as in the
    /// monolith; `<bin>_main` when a library of the workspace has that name
    /// (a package's lib and bin are often both `shop`, and two libs of one
    /// name collide in `target/`).
    pub lib: String,
    /// The plan's `features` its package declares (`x` or `package/x`):
    /// what the functions turn on in it.
    pub features: Vec<String>,
}

/// What [`main_crate`] reads.
pub struct MainInput<'a> {
    pub main: &'a BinMain,
    pub package: &'a PackageInfo,
    pub packages: &'a [PackageInfo],
    pub source: &'a dyn Source,
    pub moved: &'a dyn Fn(&str) -> String,
    pub placement: Option<manifest::Placement<'a>>,
    pub facade: &'static Facade,
    pub header: &'a str,
}

/// Where the main crate goes: `crates/<bin>-main`, unless a package of the
/// monolith has that name or directory.
pub fn place(main: &BinMain, packages: &[PackageInfo]) -> MainCrate {
    let base = format!("{}-main", main.krate.replace('_', "-"));
    let mut name = base.clone();
    let mut n = 2;
    while packages
        .iter()
        .any(|p| p.name == name || p.dir == format!("crates/{name}"))
    {
        name = format!("{base}{n}");
        n += 1;
    }
    MainCrate {
        dir: format!("crates/{name}"),
        lib: if packages
            .iter()
            .any(|p| p.lib.as_deref().map(|l| l.replace('-', "_")) == Some(main.krate.clone()))
        {
            name.replace('-', "_")
        } else {
            main.krate.clone()
        },
        package: name,
        features: Vec::new(),
    }
}

/// The main crate into `tree`: the binary's module tree at the same
/// relative paths, its compile-time inputs, and its manifest (the binary
/// package's, as a library, with the package's own lib as a dependency).
pub fn main_crate(
    tree: &mut Tree,
    edits: &mut Vec<Edit>,
    asked: &mut AskedOf,
    m: &MainInput<'_>,
) -> Result<MainCrate, GenerateError> {
    let place = place(m.main, m.packages);
    let pkg_dir = m.package.dir.as_str();
    let root_rel = strip_dir(pkg_dir, &m.main.file).to_owned();
    // Sources: the bin's own module tree.
    for file in &m.main.files {
        let rel = strip_dir(pkg_dir, file);
        let mut bytes = m
            .source
            .read(file)
            .map_err(|e| input_err(file, format!("cannot read: {e}")))?;
        if *file == m.main.file {
            let mut text = String::from_utf8(bytes).map_err(|_| input_err(file, "not UTF-8"))?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            let line = text.lines().count() as u32 + 2;
            text.push_str(&format!(
                "\n// cleave: each function's `main` runs this binary's `main` (see MIGRATION.md).\n#[doc(hidden)]\npub fn {ENTRY}() -> impl ::std::process::Termination {{\n    main()\n}}\n"
            ));
            edits.push(Edit {
                file: file.clone(),
                line,
                what: format!("appended `pub fn {ENTRY}() -> impl Termination {{ main() }}`"),
                why: format!(
                    "the binary's modules are the library `{}` (in `{}/`), shared by every function; each function's `main` calls its `main` through this fn",
                    place.package, place.dir
                ),
            });
            bytes = text.into_bytes();
        }
        tree.insert(manifest::join(&place.dir, rel), bytes);
    }
    // Compile-time inputs of the package: every file of it that is not
    // Rust source (what `include_str!`, `sqlx::migrate!("db/migrations")`,
    // sqlx's offline `.sqlx/`, askama's templates, rust-embed folders and
    // third-party macros such as `grass::include!` read, relative to the
    // file or to the manifest), but its manifest, lock file, tests, benches,
    // examples and `node_modules`; and its build script with what that
    // compiles beside itself (its `mod` files, what it `include!`s).
    const LEFT_OUT_DIRS: [&str; 4] = ["tests", "benches", "examples", "node_modules"];
    const LEFT_OUT_FILES: [&str; 2] = ["Cargo.toml", "Cargo.lock"];
    let skip: Vec<String> = m
        .packages
        .iter()
        .filter(|p| {
            p.dir != pkg_dir && (pkg_dir.is_empty() || p.dir.starts_with(&format!("{pkg_dir}/")))
        })
        .map(|p| p.dir.clone())
        .collect();
    let build_inputs = m
        .source
        .read(&manifest::join(pkg_dir, "build.rs"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(|text| build_script_inputs(&text))
        .unwrap_or_default();
    for file in m.source.files(pkg_dir, &skip) {
        let rel = strip_dir(pkg_dir, &file).to_owned();
        let left_out = match rel.split_once('/') {
            Some((top, _)) => LEFT_OUT_DIRS.contains(&top) || rel.contains("/node_modules/"),
            None => LEFT_OUT_FILES.contains(&rel.as_str()),
        };
        let built = rel == "build.rs"
            || build_inputs
                .iter()
                .any(|i| rel == *i || rel.starts_with(&format!("{}/", i.trim_end_matches(".rs"))));
        let data = !file.ends_with(".rs") && !left_out;
        if (data || built) && !m.main.files.contains(&file) {
            let bytes = crate::contents(m.source, &file)
                .map_err(|e| input_err(&file, format!("cannot read: {e}")))?;
            // rustc runs in the workspace root: a package at the monolith's
            // root read paths relative to it there (`grass::include!`), so
            // its data files are also at the generated root, under names
            // the generated workspace does not use.
            if pkg_dir.is_empty() && data && !tree.contains_key(&rel) && !generated_name(&rel) {
                tree.insert(rel.clone(), bytes.clone());
            }
            tree.insert(manifest::join(&place.dir, &rel), bytes);
        }
    }
    // The manifest.
    let manifest_path = manifest::join(pkg_dir, "Cargo.toml");
    let text = m
        .source
        .read(&manifest_path)
        .map_err(|e| input_err(&manifest_path, format!("cannot read: {e}")))?;
    let text = String::from_utf8(text).map_err(|_| input_err(&manifest_path, "not UTF-8"))?;
    let mut doc = manifest::library(&text, Some(&place.package), &place.lib)
        .map_err(|e| input_err(&manifest_path, e.message().to_owned()))?;
    let mut lib = Table::new();
    lib.insert("name", value(&place.lib));
    lib.insert("path", value(&root_rel));
    lib.insert("doctest", value(false));
    lib.insert("test", value(false));
    doc.insert("lib", Item::Table(lib));
    if let Some(pkg) = doc.get_mut("package").and_then(Item::as_table_like_mut) {
        pkg.remove("build");
        pkg.remove("links");
        pkg.insert("publish", value(false));
    }
    manifest::repoint_paths(&mut doc, pkg_dir, &place.dir, m.moved, m.placement)
        .map_err(|e| input_err(&manifest_path, e))?;
    edits.extend(shim::point_at_facades(
        &mut doc,
        &place.dir,
        m.facade,
        asked,
        (&manifest_path, &text),
    ));
    if let Some(own_lib) = &m.package.lib {
        let mut t = InlineTable::new();
        t.insert(
            "path",
            manifest::relative(&place.dir, &(m.moved)(pkg_dir))
                .as_str()
                .into(),
        );
        if *own_lib != m.package.name {
            t.insert("package", m.package.name.as_str().into());
        }
        let deps = doc
            .entry("dependencies")
            .or_insert(Item::Table(Table::new()));
        if let Some(deps) = deps.as_table_like_mut() {
            deps.insert(own_lib, Item::Value(toml_edit::Value::InlineTable(t)));
        }
    }
    let mut doc_text = doc.to_string();
    if !doc_text.starts_with(m.header) {
        doc_text = format!("{}\n{doc_text}", m.header);
    }
    tree.insert(
        manifest::join(&place.dir, "Cargo.toml"),
        doc_text.into_bytes(),
    );
    edits.push(Edit {
        file: manifest_path,
        line: 1,
        what: format!(
            "the binary `{}` became the library package `{}` in `{}/` (`[lib] path = \"{root_rel}\"`)",
            m.main.krate, place.package, place.dir
        ),
        why: "its modules are compiled once and shared by every function; each function is a small binary calling its `main`".to_owned(),
    });
    Ok(place)
}

pub fn strip_dir<'f>(dir: &str, file: &'f str) -> &'f str {
    if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(file)
    }
}

/// Whether `rel` is a name the generated workspace writes at its root.
fn generated_name(rel: &str) -> bool {
    let top = rel.split('/').next().unwrap_or(rel);
    matches!(
        top,
        "README.md"
            | "MIGRATION.md"
            | "template.yaml"
            | "samconfig.toml"
            | "crates"
            | "functions"
            | "events"
    )
}

/// The files a build script at a package's top level compiles beside
/// itself, relative to it: `mod x;` (`x.rs`, and `x/` for its submodules
/// or `x/mod.rs`; `#[path = ".."]` as written) and the string paths of
/// `include!`, `include_str!` and `include_bytes!` calls. A script that
/// does not parse gives none (cargo will say why).
fn build_script_inputs(text: &str) -> Vec<String> {
    struct Inputs(Vec<String>);
    impl<'a> syn::visit::Visit<'a> for Inputs {
        fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
            if m.content.is_none() {
                let path = m.attrs.iter().find_map(|a| match &a.meta {
                    syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => Some(s.value()),
                        _ => None,
                    },
                    _ => None,
                });
                self.0.push(
                    path.unwrap_or_else(|| format!("{}.rs", syn::ext::IdentExt::unraw(&m.ident))),
                );
            }
            syn::visit::visit_item_mod(self, m);
        }
        fn visit_macro(&mut self, mac: &'a syn::Macro) {
            let name = mac.path.segments.last().map(|s| s.ident.to_string());
            if matches!(
                name.as_deref(),
                Some("include" | "include_str" | "include_bytes")
            ) && let Ok(s) = mac.parse_body::<syn::LitStr>()
            {
                self.0.push(s.value().trim_start_matches("./").to_owned());
            }
            syn::visit::visit_macro(self, mac);
        }
    }
    let Ok(file) = syn::parse_file(text) else {
        return Vec::new();
    };
    let mut inputs = Inputs(Vec::new());
    syn::visit::Visit::visit_file(&mut inputs, &file);
    inputs.0.sort();
    inputs.0.dedup();
    inputs.0
}

#[cfg(test)]
mod build_script_tests {
    #[test]
    fn a_build_script_compiles_its_modules_and_includes() {
        let text = r#"
mod src;
#[path = "gen/tables.rs"]
mod tables;
mod inline { pub fn x() {} }
include!("src/cli.rs");
fn main() {
    let _ = include_str!("./assets/schema.sql");
    println!("cargo:rerun-if-changed=db/migrations");
}
"#;
        assert_eq!(
            super::build_script_inputs(text),
            ["assets/schema.sql", "gen/tables.rs", "src.rs", "src/cli.rs"]
        );
        assert!(super::build_script_inputs("fn main( {").is_empty());
    }
}
