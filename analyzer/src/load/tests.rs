//! `load` of test modules: cut to the modules they declare, unless a module
//! shares their path.

use crate::load::{Module, load};
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
