use expect_test::{Expect, expect};

use crate::callgraph::{EdgeKind, build};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

/// Renders the graph as sorted one-line facts: `from -> to (kind)` and `? from: call`.
fn check(fixture: &str, expect: Expect) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    let graph = build(&defs);
    let mut lines: Vec<String> = graph
        .edges()
        .into_iter()
        .map(|(a, b, e)| {
            let kind = match e.kind {
                EdgeKind::Call => "call",
                EdgeKind::Ref => "ref",
                EdgeKind::Dyn => "dyn",
            };
            format!("{} -> {} ({kind})", defs.fns[a].id, defs.fns[b].id)
        })
        .collect();
    for u in &graph.unresolved {
        lines.push(format!("? {}: {}", defs.fns[u.from].id, u.call));
    }
    for d in &project.diagnostics {
        lines.push(format!("! {d}"));
    }
    lines.sort();
    expect.assert_eq(&(lines.join("\n") + "\n"));
}

const MANIFEST: &str =
    "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

#[test]
fn lock_guard_and_field_receivers() {
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
use std::sync::{Arc, Mutex};
pub struct Store;
impl Store {
    pub fn insert(&mut self, s: &str) -> u32 { 0 }
}
pub struct AppState { pub store: Arc<Mutex<Store>> }
fn insert_locked(st: &AppState, body: &str) -> u32 {
    st.store.lock().unwrap().insert(body)
}
"#
        ),
        expect![[r#"
            app::insert_locked -> app::Store::insert (call)
        "#]],
    );
}
