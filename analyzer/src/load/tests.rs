//! `load` of test modules: cut to the modules they declare, unless a module
//! shares their path.

use crate::load::{Module, TargetKind, load};
use crate::testing::write_fixture;

fn modules(fixture: &str) -> Vec<Module> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = load(dir.path()).expect("loads");
    project.crates.into_iter().flat_map(|c| c.modules).collect()
}

/// `path: item names` of each module, sorted by path.
fn outline(modules: &[Module]) -> Vec<String> {
    modules
        .iter()
        .map(|m| {
            let names: Vec<&str> = m.items.iter().map(|i| i.name.as_str()).collect();
            format!("{}: {}", m.path.join("::"), names.join(" "))
        })
        .collect()
}

#[test]
fn a_test_module_keeps_the_modules_it_declares() {
    let mods = modules(
        r#"
        //- /Cargo.toml
        [package]
        name = "app"
        //- /src/lib.rs
        pub fn f() {}
        #[cfg(test)]
        mod tests {
            use super::*;
            fn t() { f() }
            mod inner;
            mod nested { fn n() {} mod deeper; }
        }
        //- /src/tests/inner.rs
        pub fn g() {}
        //- /src/tests/nested/deeper.rs
        pub fn h() {}
        "#,
    );
    assert_eq!(
        outline(&mods),
        [
            ": f tests",
            "tests: inner nested",
            "tests::inner: g",
            "tests::nested: deeper",
            "tests::nested::deeper: h",
        ]
    );
    // Parsed on its own, a file keeps everything.
    let file = crate::parse::parse_source("#[cfg(test)] mod tests { fn t() {} }").expect("parses");
    let crate::syntax::ItemKind::Mod {
        inline: Some(items),
        ..
    } = &file.items[0].kind
    else {
        panic!("not an inline module");
    };
    assert_eq!(items.len(), 1);
}

#[test]
fn a_test_module_sharing_its_path_is_read_whole() {
    let mods = modules(
        r#"
        //- /Cargo.toml
        [package]
        name = "app"
        //- /src/lib.rs
        #[cfg(test)]
        mod imp { pub fn a() {} }
        #[cfg(not(test))]
        mod imp { pub fn b() {} }
        #[cfg(test)]
        mod tests { fn t() {} }
        "#,
    );
    assert_eq!(
        outline(&mods),
        [": imp imp tests", "imp: a", "imp: b", "tests: t"]
    );
}

/// Only a crate where a test module shares its path is read again: the
/// other crate, whose shared path is a feature-gated pair, keeps its test
/// module cut, as does a crate sharing no path.
#[test]
fn only_a_crate_whose_test_module_shares_a_path_is_read_whole() {
    let mods = modules(
        r#"
        //- /Cargo.toml
        [workspace]
        members = ["a", "b", "c"]
        //- /a/Cargo.toml
        [package]
        name = "a"
        //- /a/src/lib.rs
        #[cfg(test)]
        mod imp { pub fn mock() {} }
        #[cfg(not(test))]
        mod imp { pub fn real() {} }
        #[cfg(test)]
        mod tests { fn ta() {} }
        //- /b/Cargo.toml
        [package]
        name = "b"
        //- /b/src/lib.rs
        #[cfg(feature = "x")]
        mod imp { pub fn on() {} }
        #[cfg(not(feature = "x"))]
        mod imp { pub fn off() {} }
        #[cfg(test)]
        mod tests { fn tb() {} }
        //- /c/Cargo.toml
        [package]
        name = "c"
        //- /c/src/lib.rs
        pub fn f() {}
        #[cfg(test)]
        mod tests { fn tc() {} }
        "#,
    );
    assert_eq!(
        outline(&mods),
        [
            ": imp imp tests",
            "imp: mock",
            "imp: real",
            "tests: ta",
            ": imp imp tests",
            "imp: on",
            "imp: off",
            "tests: ",
            ": f tests",
            "tests: "
        ]
    );
}

/// Cargo makes a path dependency inside the workspace's directory a member
/// even when `members` does not list it; one outside it, or excluded, is not.
#[test]
fn path_dependencies_inside_the_workspace_are_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(
        dir.path(),
        r#"
        //- /Cargo.toml
        [workspace]
        members = ["app"]
        exclude = ["skipped"]
        [workspace.dependencies]
        views = { path = "crates/views" }
        //- /app/Cargo.toml
        [package]
        name = "app"
        [dependencies]
        views = { workspace = true }
        skipped = { path = "../skipped" }
        //- /app/src/main.rs
        fn main() {}
        //- /crates/views/Cargo.toml
        [package]
        name = "views"
        [dependencies]
        registration = { path = "../registration" }
        //- /crates/views/src/lib.rs
        pub fn v() {}
        //- /crates/registration/Cargo.toml
        [package]
        name = "registration"
        //- /crates/registration/src/lib.rs
        pub fn r() {}
        //- /skipped/Cargo.toml
        [package]
        name = "skipped"
        //- /skipped/src/lib.rs
        pub fn s() {}
        "#,
    );
    let project = load(dir.path()).expect("load");
    let names: Vec<&str> = project.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["app", "views", "registration"]);
}

/// A package that is no workspace still builds its path dependencies: their
/// libraries are read (their binaries are not built, so not read).
#[test]
fn a_single_packages_path_dependency_is_read_as_a_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(
        dir.path(),
        r#"
        //- /Cargo.toml
        [package]
        name = "app"
        [dependencies]
        shared-views = { path = "libs/views" }
        //- /src/main.rs
        fn main() { shared_views::v() }
        //- /libs/views/Cargo.toml
        [package]
        name = "shared-views"
        //- /libs/views/src/lib.rs
        pub fn v() {}
        //- /libs/views/src/main.rs
        fn main() {}
        "#,
    );
    let project = load(dir.path()).expect("load");
    let crates: Vec<(&str, TargetKind)> = project
        .crates
        .iter()
        .map(|c| (c.name.as_str(), c.kind))
        .collect();
    assert_eq!(
        crates,
        [("app", TargetKind::Bin), ("shared_views", TargetKind::Lib)]
    );
    assert!(project.diagnostics.is_empty(), "{:?}", project.diagnostics);
}

/// `[[bin]] name = "x" path = "src/main.rs"` names the binary Cargo would
/// have inferred from `src/main.rs`: one binary, not two; an inferred bin of
/// another path stays, and an explicit one without a path keeps the inferred
/// file of its name.
#[test]
fn an_explicit_bin_replaces_the_inferred_bin_of_its_path_or_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(
        dir.path(),
        r#"
        //- /Cargo.toml
        [package]
        name = "app-cloud"
        [[bin]]
        name = "app_cloud"
        path = "src/main.rs"
        [[bin]]
        name = "tool"
        //- /src/main.rs
        fn main() {}
        //- /src/bin/tool.rs
        fn main() {}
        //- /src/bin/other.rs
        fn main() {}
        "#,
    );
    let project = load(dir.path()).expect("load");
    let crates: Vec<(&str, &str)> = project
        .crates
        .iter()
        .map(|c| (c.name.as_str(), c.root_file.as_str()))
        .collect();
    assert_eq!(
        crates,
        [
            ("app_cloud", "src/main.rs"),
            ("other", "src/bin/other.rs"),
            ("tool", "src/bin/tool.rs"),
        ]
    );
}

/// A path dependency outside the analysed directory is never read; the
/// manifest line that names it says so, once per dependency.
#[test]
fn a_path_dependency_outside_the_root_is_a_diagnostic_at_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(
        dir.path(),
        r#"
        //- /service/Cargo.toml
        [package]
        name = "service"

        [dependencies]
        serde = "1"
        rate-limits = { path = "../core/limits", features = ["web"] }

        [target.'cfg(unix)'.dependencies.shared_io]
        path = "../core/io"
        //- /service/src/main.rs
        fn main() {}
        "#,
    );
    let project = load(&dir.path().join("service")).expect("load");
    let found: Vec<String> = project
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "warning[path-dependency-outside-root]: Cargo.toml:6: path dependency `rate-limits` (../core/limits) is outside the analysed directory: its code is not read and calls into it are external (analyse the workspace root that holds both, if there is one); `generate` refers to it where it is",
            "warning[path-dependency-outside-root]: Cargo.toml:8: path dependency `shared_io` (../core/io) is outside the analysed directory: its code is not read and calls into it are external (analyse the workspace root that holds both, if there is one); `generate` refers to it where it is",
        ]
    );
}
