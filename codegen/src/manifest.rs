//! Cargo manifests of the generated workspace: library packages copied from
//! the monolith (path dependencies re-pointed, binaries switched off), one
//! manifest per function, and the workspace root. Edits go through
//! `toml_edit`, so what the monolith's manifests say survives as written.

use std::collections::BTreeMap;

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value, value};

/// Dependency tables of a manifest, including `[target.'cfg(..)'.dependencies]`.
const DEP_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// `a/./b/../c` -> `a/c`.
pub fn normalise(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
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

pub fn join(dir: &str, rel: &str) -> String {
    let joined = if dir.is_empty() {
        normalise(rel)
    } else {
        normalise(&format!("{dir}/{rel}"))
    };
    // An empty directory (`Source::files` lists it as `static/`) stays one.
    if rel.ends_with('/') && !joined.is_empty() {
        format!("{joined}/")
    } else {
        joined
    }
}

/// The relative path from directory `from` to `to` (both relative to one root).
pub fn relative(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// The analysed directory and the generated workspace's, absolute and
/// `/`-separated.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub root: &'a str,
    pub out: &'a str,
}

/// Re-points every `path = ..` dependency of a manifest that moved from
/// `old_dir` to `new_dir`; `moved` maps a dependency's old directory to its
/// new one. A path that leaves the analysed directory (`../core/db` from
/// the root) is not carried into the generated workspace: with a
/// `placement` it is referenced where it is, by a path relative to the
/// generated manifest; without one the error names the dependency and its
/// path.
pub fn repoint_paths(
    doc: &mut DocumentMut,
    old_dir: &str,
    new_dir: &str,
    moved: &dyn Fn(&str) -> String,
    placement: Option<Placement<'_>>,
) -> Result<(), String> {
    let mut outside: Vec<String> = Vec::new();
    let mut fix = |t: &mut dyn toml_edit::TableLike| {
        for (name, dep) in t.iter_mut() {
            let Some(dep) = dep.as_table_like_mut() else {
                continue;
            };
            let Some(path) = dep.get("path").and_then(Item::as_str).map(str::to_owned) else {
                continue;
            };
            let old = join(old_dir, &path);
            if old == ".." || old.starts_with("../") {
                match placement {
                    Some(at) => {
                        let from = normalise(&format!("{}/{new_dir}", at.out));
                        let to = normalise(&format!("{}/{old}", at.root));
                        dep.insert("path", value(relative(&from, &to)));
                    }
                    None => outside.push(format!("`{}` (path = \"{path}\")", name.get())),
                }
                continue;
            }
            dep.insert("path", value(relative(new_dir, &moved(&old))));
        }
    };
    for key in DEP_TABLES {
        if let Some(t) = doc.get_mut(key).and_then(Item::as_table_like_mut) {
            fix(t);
        }
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, t) in targets.iter_mut() {
            let Some(t) = t.as_table_like_mut() else {
                continue;
            };
            for key in DEP_TABLES {
                if let Some(d) = t.get_mut(key).and_then(Item::as_table_like_mut) {
                    fix(d);
                }
            }
        }
    }
    if outside.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "path dependencies outside the analysed directory: {}; run cleave on the directory \
             that holds them all (the workspace root), so they are part of the generated workspace",
            outside.join(", ")
        ))
    }
}

/// The `path` of every dependency in `doc` (every dependency table, per
/// target too, and `[workspace.dependencies]`), as written.
pub fn path_dependencies(doc: &DocumentMut) -> Vec<String> {
    let mut tables: Vec<Option<&Item>> = DEP_TABLES.iter().map(|k| doc.get(k)).collect();
    tables.push(doc.get("workspace").and_then(|w| w.get("dependencies")));
    if let Some(targets) = doc.get("target").and_then(Item::as_table_like) {
        for (_, target) in targets.iter() {
            tables.extend(DEP_TABLES.iter().map(|k| target.get(k)));
        }
    }
    tables
        .into_iter()
        .flatten()
        .filter_map(Item::as_table_like)
        .flat_map(|t| t.iter())
        .filter_map(|(_, dep)| dep.get("path").and_then(Item::as_str).map(str::to_owned))
        .collect()
}

/// A library package of the monolith as a member of the generated
/// workspace: renamed when asked (the lib keeps its crate name), its
/// binaries, examples, tests and benches switched off, its own
/// `[workspace]` table removed.
pub fn library(
    text: &str,
    rename: Option<&str>,
    lib_name: &str,
) -> Result<DocumentMut, toml_edit::TomlError> {
    let mut doc: DocumentMut = text.parse()?;
    doc.remove("workspace");
    doc.remove("bin");
    doc.remove("example");
    doc.remove("test");
    doc.remove("bench");
    doc.remove("profile");
    if let Some(pkg) = doc.get_mut("package").and_then(Item::as_table_like_mut) {
        if let Some(new) = rename {
            pkg.insert("name", value(new));
        }
        for key in ["autobins", "autoexamples", "autotests", "autobenches"] {
            pkg.insert(key, value(false));
        }
        pkg.remove("default-run");
    }
    let lib = doc.entry("lib").or_insert(Item::Table(Table::new()));
    if let Some(lib) = lib.as_table_like_mut() {
        lib.insert("name", value(lib_name));
    }
    Ok(doc)
}

/// The dependencies of a manifest, as `(name, spec)` in written order.
pub fn dependencies(doc: &DocumentMut) -> Vec<(String, Item)> {
    let mut out = Vec::new();
    if let Some(t) = doc.get("dependencies").and_then(Item::as_table_like) {
        for (k, v) in t.iter() {
            out.push((k.to_owned(), v.clone()));
        }
    }
    out
}

/// Makes an inline-table dependency spec out of any spec form.
pub fn inline_spec(item: &Item) -> InlineTable {
    match item {
        Item::Value(Value::String(s)) => {
            let mut t = InlineTable::new();
            t.insert("version", s.value().as_str().into());
            t
        }
        Item::Value(Value::InlineTable(t)) => {
            let mut t = t.clone();
            t.fmt();
            t
        }
        Item::Table(t) => {
            let mut out = t.clone().into_inline_table();
            out.fmt();
            out
        }
        _ => InlineTable::new(),
    }
}

/// A function's manifest: its own package and binary, the monolith's
/// dependencies of the binary it replaces, and the Lambda runtime.
pub fn function(
    name: &str,
    edition: &str,
    header: &str,
    main_path: &str,
    deps: &BTreeMap<String, InlineTable>,
) -> String {
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!("{header}\n"));
    let mut pkg = Table::new();
    pkg.insert("name", value(name));
    pkg.insert("version", value("0.1.0"));
    pkg.insert("edition", value(edition));
    pkg.insert("publish", value(false));
    doc.insert("package", Item::Table(pkg));
    let mut bin = Table::new();
    bin.insert("name", value(name));
    bin.insert("path", value(main_path));
    let mut bins = toml_edit::ArrayOfTables::new();
    bins.push(bin);
    doc.insert("bin", Item::ArrayOfTables(bins));
    let mut table = Table::new();
    for (k, spec) in deps {
        table.insert(k, Item::Value(Value::InlineTable(spec.clone())));
    }
    doc.insert("dependencies", Item::Table(table));
    doc.to_string()
}

/// The generated workspace's root manifest.
#[derive(Debug)]
pub struct Root<'a> {
    pub header: &'a str,
    pub members: &'a [String],
    /// Packages kept out of the workspace, as the monolith's `exclude`
    /// keeps them (path dependencies that are no member).
    pub exclude: &'a [String],
    /// The monolith root's `[workspace.package]`, `[workspace.dependencies]`
    /// (paths already re-pointed), `[workspace.lints]` and `[profile]` tables.
    pub inherited: Vec<(String, Item)>,
    pub dependencies: BTreeMap<String, InlineTable>,
    /// `path` -> `[(method, function)]`; a lone `ANY` is written as the
    /// bare function name (every method). `None`: no
    /// `[workspace.metadata.lambda.watch.router]`.
    pub router: Option<BTreeMap<String, Vec<(String, String)>>>,
}

pub fn root(r: &Root<'_>) -> String {
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!("{}\n", r.header));
    let mut ws = Table::new();
    ws.insert("resolver", value("2"));
    let mut members = toml_edit::Array::new();
    for m in r.members {
        let mut v = Value::from(m.as_str());
        v.decor_mut().set_prefix("\n    ");
        members.push_formatted(v);
    }
    members.set_trailing("\n");
    members.set_trailing_comma(true);
    ws.insert("members", value(members));
    if !r.exclude.is_empty() {
        let exclude: toml_edit::Array = r.exclude.iter().map(String::as_str).collect();
        ws.insert("exclude", value(exclude));
    }
    let mut deps = Table::new();
    for (k, v) in &r.inherited {
        if k == "dependencies" {
            if let Some(t) = v.as_table_like() {
                for (dk, dv) in t.iter() {
                    deps.insert(dk, Item::Value(Value::InlineTable(inline_spec(dv))));
                }
            }
        } else if k != "profile" {
            ws.insert(k, v.clone());
        }
    }
    for (k, spec) in &r.dependencies {
        if !deps.contains_key(k) {
            deps.insert(k, Item::Value(Value::InlineTable(spec.clone())));
        }
    }
    deps.sort_values();
    ws.insert("dependencies", Item::Table(deps));
    if let Some(routes) = &r.router {
        ws.insert("metadata", watch_router(routes));
    }
    doc.insert("workspace", Item::Table(ws));
    for (k, v) in &r.inherited {
        if k == "profile" {
            doc.insert("profile", v.clone());
        }
    }
    doc.to_string()
}

/// `[workspace.metadata.lambda.watch.router]`, for `cargo lambda watch`.
fn watch_router(routes: &BTreeMap<String, Vec<(String, String)>>) -> Item {
    let mut router = Table::new();
    for (path, routes) in routes {
        if let [(method, function)] = routes.as_slice()
            && method == "ANY"
        {
            router.insert(path, value(function.as_str()));
            continue;
        }
        let mut arr = toml_edit::Array::new();
        for (method, function) in routes {
            let mut t = InlineTable::new();
            t.insert("method", method.as_str().into());
            t.insert("function", function.as_str().into());
            let mut v = Value::InlineTable(t);
            v.decor_mut().set_prefix("\n    ");
            arr.push_formatted(v);
        }
        arr.set_trailing("\n");
        arr.set_trailing_comma(true);
        router.insert(path, value(arr));
    }
    let mut watch = Table::new();
    watch.set_implicit(true);
    watch.insert("router", Item::Table(router));
    let mut lambda = Table::new();
    lambda.set_implicit(true);
    lambda.insert("watch", Item::Table(watch));
    let mut metadata = Table::new();
    metadata.set_implicit(true);
    metadata.insert("lambda", Item::Table(lambda));
    Item::Table(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cleave generate backend --out gen` in a repository of sibling
    /// packages with no workspace root: `backend`'s `../mailer` stays where
    /// it is, referenced from the generated manifest.
    #[test]
    fn a_path_dependency_outside_the_analysed_directory_is_referenced_where_it_is() {
        let mut doc: DocumentMut = "[dependencies]\nmailer = { path = \"../mailer\", features = [\"x\"] }\ncore = { path = \"crates/core\" }\n"
            .parse()
            .expect("toml");
        let at = Placement {
            root: "/home/u/repo/backend",
            out: "/home/u/gen",
        };
        repoint_paths(
            &mut doc,
            "",
            "crates/backend-main",
            &|d| format!("crates/{d}"),
            Some(at),
        )
        .expect("placed");
        let text = doc.to_string();
        assert!(
            text.contains("mailer = { path = \"../../../repo/mailer\", features = [\"x\"] }"),
            "{text}"
        );
        assert!(
            text.contains("core = { path = \"../crates/core\" }"),
            "{text}"
        );
    }

    #[test]
    fn a_path_dependency_outside_the_analysed_directory_is_refused() {
        let mut doc: DocumentMut = "[dependencies]\ncore = { path = \"crates/core\" }\ndb = { path = \"../core/db\", features = [\"x\"] }\n\n[target.'cfg(unix)'.dependencies]\nsys = { path = \"../../sys\" }\n"
            .parse()
            .expect("toml");
        let err = repoint_paths(&mut doc, "", "crates/app-main", &|d| d.to_owned(), None)
            .expect_err("outside");
        assert_eq!(
            err,
            "path dependencies outside the analysed directory: `db` (path = \"../core/db\"), `sys` (path = \"../../sys\"); run cleave on the directory that holds them all (the workspace root), so they are part of the generated workspace"
        );
        let mut doc: DocumentMut = "[dependencies]\ncore = { path = \"../core\" }\n"
            .parse()
            .expect("toml");
        repoint_paths(
            &mut doc,
            "crates/api",
            "crates/api",
            &|d| d.to_owned(),
            None,
        )
        .expect("inside");
        assert!(
            doc.to_string().contains("core = { path = \"../core\" }"),
            "{doc}"
        );
    }

    #[test]
    fn joining_keeps_an_empty_directorys_slash() {
        assert_eq!(join("crates/a", "static/"), "crates/a/static/");
        assert_eq!(join("", "static/"), "static/");
        assert_eq!(join("crates/a", "./src/lib.rs"), "crates/a/src/lib.rs");
    }

    #[test]
    fn relative_paths_between_members() {
        assert_eq!(
            relative("functions/orders", "crates/shop-core"),
            "../../crates/shop-core"
        );
        assert_eq!(relative("crates/a", "crates/b"), "../b");
        assert_eq!(relative("", "crates/b"), "crates/b");
        assert_eq!(relative("crates/b", "crates/b"), ".");
    }

    #[test]
    fn library_manifest_keeps_the_crate_name_and_drops_binaries() {
        let doc = library(
            "[package]\nname = \"shop\"\n[[bin]]\nname = \"shop\"\n[dependencies]\nx = { path = \"../x\" }\n[workspace]\n",
            Some("shop-core"),
            "shop",
        )
        .expect("parses");
        let text = doc.to_string();
        assert!(text.contains("name = \"shop-core\""), "{text}");
        assert!(text.contains("[lib]\nname = \"shop\""), "{text}");
        assert!(
            !text.contains("[[bin]]") && !text.contains("[workspace]"),
            "{text}"
        );
    }
}
