//! Robustness: cleave never panics, hangs or silently loses data, whatever
//! it is pointed at.
//!
//! Property tests (proptest, fixed seed, `CLEAVE_FUZZ_CASES` cases per
//! property, 64 by default) run the whole analysis (load, parse, resolve,
//! call graph, entry points, hazards, partition) through
//! `cleave_analyzer::analysis::analyze` on temporary projects built from
//! garbage bytes, truncated and line-mutated fixture files, token soup and
//! generated programs; and plan parsing and validation on arbitrary and
//! ill-typed plans. Each analysis must finish within [`LIMIT`].
//!
//! The CLI cases run the `cleave` binary (with a timeout): deep nesting, a
//! 5 MB file, 10,000 files, unreadable files, symlink loops, non-UTF-8
//! names, `#[path]` and members leaving the root, missing members, cyclic
//! glob re-exports, a module declared twice, empty projects, bad plans.
//! Cases already covered elsewhere (a syntax error, non-UTF-8 contents, a
//! missing module file, a self-symlinked module, `#[path = "../.."]`, no
//! manifest, a project without routes, plan names with `/`, `..`, NUL or
//! unicode, TOML syntax errors) live in cli_graph.rs, analyze_golden.rs and
//! plan_review.rs.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use cleave_analyzer::analysis::{self, Analysis};
use cleave_analyzer::partition::{self, Granularity};
use cleave_analyzer::{LoadError, plan};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// The longest any one analysis or command may take (debug build, noisy CI).
const LIMIT: Duration = Duration::from_secs(120);

const MANIFEST: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config(default_cases: u32) -> Config {
    let cases = std::env::var("CLEAVE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default_cases);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x0c1e_a7e5),
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// A project on disk from `(path, contents)` pairs.
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, bytes) in files {
        write(dir.path(), path, bytes);
    }
    dir
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let full = root.join(rel);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(full, bytes).expect("write");
}

/// `analysis::analyze` on another thread: a panic fails the test (with the
/// panic's message), and so does taking longer than [`LIMIT`].
fn analyze(dir: &Path) -> Result<Analysis, LoadError> {
    let (tx, rx) = mpsc::channel();
    let path = dir.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(analysis::analyze(&path));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("analysis hangs on {}", dir.display()),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("analysis panicked"),
    }
}

/// The whole library pipeline the CLI runs after the analysis.
fn analyze_and_propose(dir: &Path) {
    let Ok(a) = analyze(dir) else { return };
    for d in &a.diagnostics {
        assert!(!d.message.contains('\n'), "multi-line diagnostic: {d}");
    }
    for g in [Granularity::Auto, Granularity::Route, Granularity::Single] {
        let groups = partition::propose(&a, g);
        let text = plan::render(&a, &groups, g.name());
        let (parsed, diags) = plan::parse(&text, "cleave.toml");
        assert!(
            parsed.is_some(),
            "a proposal cleave wrote does not parse: {diags:?}"
        );
    }
}

fn cleave() -> Command {
    let mut c = Command::cargo_bin("cleave").expect("binary");
    c.timeout(LIMIT);
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 0 or 1, no panic, at most one `error:` line (a failed command's
/// reason; problems in the user's files are `error[code]: file:line` lines).
fn sane(o: &Output) {
    let err = stderr(o);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "exit {:?}: {err}",
        o.status
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    let errors = err.lines().filter(|l| l.starts_with("error: ")).count();
    assert!(errors <= 1, "one error line at most: {err}");
}

fn graph(dir: &Path) -> (Output, serde_json::Value) {
    let o = cleave()
        .arg("graph")
        .arg(dir)
        .output()
        .expect("runs within the limit");
    sane(&o);
    let doc = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o, doc)
}

fn has_edge(doc: &serde_json::Value, from: &str, to: &str) -> bool {
    doc["edges"]
        .as_array()
        .is_some_and(|es| es.iter().any(|e| e["from"] == from && e["to"] == to))
}

// ----- the front end fed garbage ------------------------------------------

/// Every `.rs` file of the three fixtures, relative to the repository.
fn fixture_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() && !p.ends_with("target") {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for f in ["shop-axum", "forum-actix", "notes-rocket"] {
        walk(&repo().join("fixtures").join(f).join("src"), &mut out);
        walk(&repo().join("fixtures").join(f).join("crates"), &mut out);
    }
    out
}

/// A copy of the fixture that holds `file`, with `file` replaced by `bytes`.
fn fixture_with(file: &Path, bytes: &[u8]) -> tempfile::TempDir {
    let fixtures = repo().join("fixtures");
    let rel = file.strip_prefix(&fixtures).expect("under fixtures");
    let name = rel.components().next().expect("fixture name");
    let src = fixtures.join(name);
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&src, dir.path());
    let inner = rel.strip_prefix(name).expect("inside the fixture");
    write(dir.path(), &inner.to_string_lossy(), bytes);
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let name = e.file_name();
        if name == "target" || name == "expected" || name == "tests" {
            continue;
        }
        if p.is_dir() {
            std::fs::create_dir_all(to.join(&name)).expect("mkdir");
            copy_tree(&p, &to.join(&name));
        } else {
            std::fs::copy(&p, to.join(&name)).expect("copy");
        }
    }
}

/// Pieces of Rust, some of them half of a pair, for token soup.
const VOCAB: &[&str] = &[
    "fn",
    "pub",
    "mod",
    "use",
    "impl",
    "trait",
    "struct",
    "enum",
    "static",
    "const",
    "let",
    "mut",
    "async",
    "await",
    "match",
    "if",
    "else",
    "loop",
    "for",
    "in",
    "while",
    "return",
    "move",
    "crate",
    "self",
    "super",
    "Self",
    "dyn",
    "where",
    "as",
    "::",
    ".",
    ",",
    ";",
    ":",
    "=",
    "=>",
    "->",
    "|",
    "&",
    "*",
    "!",
    "?",
    "#",
    "'a",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "<",
    ">",
    "a",
    "b",
    "h",
    "x",
    "Router",
    "route",
    "get",
    "post",
    "nest",
    "App",
    "web",
    "resource",
    "routes",
    "mount",
    "spawn",
    "tokio",
    "std",
    "fs",
    "\"/p\"",
    "\"/{id}\"",
    "1",
    "0.5",
    "'c'",
    "macro_rules!",
    "format!",
    "vec!",
    "json!",
    "#[get(\"/x\")]",
    "#[cfg(test)]",
    "#[path = \"x.rs\"]",
    "$x",
    "$($t:tt)*",
];

proptest! {
    #![proptest_config(config(64))]

    /// Arbitrary bytes as the crate root and as a module.
    #[test]
    fn garbage_bytes(root in prop::collection::vec(any::<u8>(), 0..2048),
                     module in "\\PC{0,400}") {
        let mut lib = b"mod m;\n".to_vec();
        lib.extend(&root);
        let dir = project(&[
            ("Cargo.toml", MANIFEST.as_bytes()),
            ("src/lib.rs", &lib),
            ("src/m.rs", module.as_bytes()),
        ]);
        analyze_and_propose(dir.path());
    }

    /// A fixture file cut at any byte.
    #[test]
    fn truncated_fixture_files(which in any::<prop::sample::Index>(), at in 0.0f64..1.0) {
        let files = fixture_sources();
        let file = which.get(&files);
        let text = std::fs::read(file).expect("fixture");
        let cut = ((text.len() as f64) * at) as usize;
        let dir = fixture_with(file, &text[..cut]);
        analyze_and_propose(dir.path());
    }

    /// A fixture file with lines deleted, duplicated, swapped or replaced
    /// by token soup: mostly still Rust, often strange.
    #[test]
    fn mutated_fixture_files(which in any::<prop::sample::Index>(),
                             edits in prop::collection::vec((0u8..4, any::<prop::sample::Index>(),
                                 prop::collection::vec(prop::sample::select(VOCAB), 0..8)), 1..6)) {
        let files = fixture_sources();
        let file = which.get(&files);
        let text = std::fs::read_to_string(file).expect("fixture");
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for (op, at, soup) in edits {
            if lines.is_empty() {
                break;
            }
            let i = at.index(lines.len());
            match op {
                0 => { lines.remove(i); }
                1 => { let l = lines[i].clone(); lines.insert(i, l); }
                2 => { let j = (i + 1) % lines.len(); lines.swap(i, j); }
                _ => lines[i] = soup.join(" "),
            }
        }
        let dir = fixture_with(file, lines.join("\n").as_bytes());
        analyze_and_propose(dir.path());
    }

    /// Token soup, with brackets balanced or not.
    #[test]
    fn token_soup(tokens in prop::collection::vec(prop::sample::select(VOCAB), 0..400)) {
        let text = tokens.join(" ");
        let dir = project(&[
            ("Cargo.toml", MANIFEST.as_bytes()),
            ("src/main.rs", text.as_bytes()),
        ]);
        analyze_and_propose(dir.path());
    }

    /// Programs that parse: modules, globs, re-exports, impls, traits,
    /// macros, routers and hazards in random combinations.
    #[test]
    fn generated_programs(files in prop::collection::vec(program_file(), 1..5)) {
        let mut all: Vec<(String, String)> = vec![("Cargo.toml".into(), format!(
            "{MANIFEST}\n[dependencies]\naxum = \"0.8\"\nactix-web = \"4\"\ntokio = \"1\"\n"))];
        let mut lib = String::new();
        for (i, f) in files.iter().enumerate() {
            if i > 0 {
                lib.push_str(&format!("pub mod m{i};\n"));
                all.push((format!("src/m{i}.rs"), f.clone()));
            } else {
                lib.push_str(f);
            }
        }
        all.push(("src/main.rs".into(), lib));
        let refs: Vec<(&str, &[u8])> = all.iter().map(|(p, t)| (p.as_str(), t.as_bytes())).collect();
        let dir = project(&refs);
        analyze_and_propose(dir.path());
    }

    /// Arbitrary text as Cargo.toml: a load error or a (maybe empty) analysis.
    #[test]
    fn garbage_manifests(text in manifest_text()) {
        let dir = project(&[
            ("Cargo.toml", text.as_bytes()),
            ("src/lib.rs", b"pub fn a() {}\n"),
            ("a/Cargo.toml", MANIFEST.as_bytes()),
            ("a/src/main.rs", b"fn main() {}\n"),
        ]);
        match analyze(dir.path()) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }

    /// Arbitrary and ill-typed plans: parsed and validated, every problem
    /// one line with the plan's name and a line number.
    #[test]
    fn garbage_plans(text in plan_text()) {
        let a = fixture_analysis();
        let (parsed, mut diags) = plan::parse(&text, "cleave.toml");
        if let Some(p) = &parsed {
            diags.extend(plan::validate(p, a, "cleave.toml"));
        }
        prop_assert!(parsed.is_some() || !diags.is_empty(), "refused without a reason");
        for d in &diags {
            prop_assert!(!d.message.contains('\n'), "multi-line: {}", d);
            prop_assert!(d.to_string().starts_with("error[") || d.to_string().starts_with("warning["), "{}", d);
            prop_assert!(d.to_string().contains("cleave.toml:"), "{}", d);
        }
    }
}

fn fixture_analysis() -> &'static Analysis {
    static A: std::sync::OnceLock<Analysis> = std::sync::OnceLock::new();
    A.get_or_init(|| analyze(&repo().join("fixtures/shop-axum")).expect("fixture analyses"))
}

/// One file of a generated program.
fn program_file() -> impl Strategy<Value = String> {
    prop::collection::vec(item(), 1..12).prop_map(|items| items.join("\n"))
}

const NAMES: &[&str] = &["a", "b", "c", "h", "run"];
const PATHS: &[&str] = &[
    "a",
    "b",
    "self::c",
    "super::a",
    "crate::b",
    "crate::m1::a",
    "crate::m2::h",
    "m1::c",
    "S::new",
    "Self::a",
    "<S as T>::b",
    "std::fs::write",
    "tokio::spawn",
    "std::process::exit",
];

fn expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        prop::sample::select(PATHS).prop_map(str::to_owned),
        Just("x".to_owned()),
        Just("\"/p/{id}\"".to_owned()),
        Just("1".to_owned()),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            (prop::sample::select(PATHS), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(p, args)| format!("{p}({})", args.join(", "))),
            (inner.clone(), prop::sample::select(NAMES), prop::collection::vec(inner.clone(), 0..2))
                .prop_map(|(r, m, args)| format!("{r}.{m}({})", args.join(", "))),
            inner.clone().prop_map(|e| format!("|x| {e}")),
            inner.clone().prop_map(|e| format!("async move {{ {e}.await }}")),
            inner.clone().prop_map(|e| format!("format!(\"{{}}\", {e})")),
            inner.clone().prop_map(|e| format!("mac!({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("if {a} {{ {b} }} else {{ {a} }}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("match {a} {{ _ => {b} }}")),
            (inner.clone(), prop::sample::select(NAMES))
                .prop_map(|(e, h)| format!("Router::new().route(\"/{h}\", get({h})).nest(\"/n\", {e})")),
            (inner.clone(), prop::sample::select(NAMES))
                .prop_map(|(e, h)| format!("App::new().service(web::resource(\"/{h}\").route(web::get().to({h}))).app_data({e})")),
            inner.clone().prop_map(|e| format!("{{ let y = {e}; y }}")),
        ]
    })
    .boxed()
}

fn item() -> impl Strategy<Value = String> {
    let f = (prop::sample::select(NAMES), any::<bool>(), expr())
        .prop_map(|(n, a, e)| {
            format!(
                "pub {}fn {n}(x: S) -> S {{ {e}; x }}",
                if a { "async " } else { "" }
            )
        })
        .boxed();
    prop_oneof![
        f.clone(),
        Just("pub struct S { pub r: std::sync::Arc<dyn T> }".to_owned()),
        Just("pub trait T { fn a(&self) -> S; fn b(&self) { self.a(); } }".to_owned()),
        (prop::sample::select(NAMES), expr())
            .prop_map(|(n, e)| format!("impl S {{ pub fn new() -> S {{ todo!() }} pub fn {n}(&self) -> S {{ {e}; S::new() }} }}")),
        expr().prop_map(|e| format!("impl T for S {{ fn a(&self) -> S {{ {e}; S::new() }} }}")),
        prop::sample::select(&["pub use crate::*;", "pub use self::*;", "pub use super::*;",
            "use crate::m1::*;", "pub use crate::m2::*;", "use crate::m1::a as b;",
            "pub use crate::{m1, m2::{self, *}};", "extern crate self as app;"][..]).prop_map(str::to_owned),
        expr().prop_map(|e| format!("mod inner {{ use super::*; pub fn c() {{ {e}; }} }}")),
        Just("macro_rules! mac { ($e:expr) => { a($e); mac!(@x $e) }; (@x $e:expr) => { mac!($e) }; }".to_owned()),
        expr().prop_map(|e| format!("static mut COUNT: u64 = 0;\nstatic CACHE: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());\npub fn main() {{ {e}; }}")),
        (prop::sample::select(NAMES), expr())
            .prop_map(|(n, e)| format!("#[get(\"/{n}\")]\npub async fn r_{n}() -> String {{ {e}; String::new() }}")),
        Just("#[path = \"m1.rs\"] pub mod again;".to_owned()),
        Just("pub mod m1;".to_owned()),
    ]
}

fn manifest_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,300}",
        prop::collection::vec(
            prop::sample::select(
                &[
                    "[package]",
                    "[workspace]",
                    "[lib]",
                    "[[bin]]",
                    "[dependencies]",
                    "[workspace.dependencies]",
                    "name = \"x\"",
                    "name = 5",
                    "name = \"\"",
                    "name = \"a/b\"",
                    "members = [\"a\", \"../out\", \"*\", \"a/**\"]",
                    "members = \"a\"",
                    "members = [1, 2]",
                    "exclude = [\"a\"]",
                    "path = \"../../etc/passwd\"",
                    "path = 3",
                    "path = \"/etc/hostname\"",
                    "autobins = \"no\"",
                    "bin = 5",
                    "workspace = true",
                    "a = { workspace = true }",
                    "b = { path = \"a\", package = 7 }",
                    "c = \"1\"",
                    "version = [1]",
                    "edition = \"2021\"",
                    "package = { name = \"y\" }",
                ][..]
            ),
            0..14
        )
        .prop_map(|lines| lines.join("\n")),
    ]
}

fn plan_text() -> impl Strategy<Value = String> {
    let value = prop::sample::select(
        &[
            "1",
            "2",
            "-1",
            "99999999999999999999",
            "\"aws-lambda\"",
            "\"x\"",
            "true",
            "1.5",
            "[]",
            "{}",
            "[\"GET /api/orders\", \"GET /api/orders\"]",
            "[\"GET /nope\"]",
            "[1, 2]",
            "\"a/b\"",
            "\"..\"",
            "\"a\\u0000b\"",
            "\"ünïcode\"",
            "\"orders\"",
            "\"GET /version\"",
            "2024-01-01",
            "{ a = 1 }",
        ][..],
    );
    let key = prop::sample::select(
        &[
            "version",
            "target",
            "name",
            "routes",
            "memory_mb",
            "timeout_s",
            "max_reachable_lines",
            "why",
            "x",
        ][..],
    );
    prop_oneof![
        "\\PC{0,300}",
        prop::collection::vec(
            prop_oneof![
                (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
                Just("[[function]]".to_owned()),
                Just("[function]".to_owned()),
                Just("function = 3".to_owned()),
            ],
            0..16
        )
        .prop_map(|lines| lines.join("\n")),
    ]
}

// ----- the binary on strange projects ---------------------------------------

#[test]
fn deeply_nested_code_is_read_or_refused_with_its_line() {
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "parens",
            format!(
                "pub fn f() -> i32 {{ {}1{} }}",
                "(".repeat(100_000),
                ")".repeat(100_000)
            ),
            false,
        ),
        (
            "blocks",
            format!(
                "pub fn f() {{ {}g();{} }} fn g() {{}}",
                "{".repeat(100_000),
                "}".repeat(100_000)
            ),
            false,
        ),
        (
            "unary",
            format!("pub fn f() -> bool {{ {}true }}", "!".repeat(1_000_000)),
            false,
        ),
        (
            "sum",
            format!("pub fn f() -> i32 {{ 1{} }}", "+1".repeat(500_000)),
            false,
        ),
        (
            "closures",
            format!("pub fn f() {{ let _x = {}1; }}", "|| ".repeat(100_000)),
            false,
        ),
        (
            "types",
            format!(
                "pub type X = {}u8{};",
                "Vec<".repeat(100_000),
                ">".repeat(100_000)
            ),
            false,
        ),
        // Deep but within what cleave reads: analysed, edges found.
        (
            "parens-1000",
            format!(
                "pub fn f() -> i32 {{ {}g(){} }} fn g() -> i32 {{ 1 }}",
                "(".repeat(1_000),
                ")".repeat(1_000)
            ),
            true,
        ),
        (
            "chain-2000",
            format!(
                "pub fn f(x: S) -> S {{ x{} }} pub struct S; impl S {{ pub fn g(self) -> S {{ self }} }}",
                ".g()".repeat(2_000)
            ),
            true,
        ),
        (
            "else-if-1000",
            format!(
                "pub fn f(x: i32) -> i32 {{ {} {{ g() }} }} fn g() -> i32 {{ 0 }}",
                "if x == 1 { 1 } else ".repeat(1_000)
            ),
            true,
        ),
    ];
    for (name, text, readable) in cases {
        let dir = project(&[
            ("Cargo.toml", MANIFEST.as_bytes()),
            ("src/lib.rs", text.as_bytes()),
        ]);
        let (o, doc) = graph(dir.path());
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        if readable {
            assert!(err.is_empty(), "{name}: {err}");
            let edges = doc["edges"].as_array().map_or(0, Vec::len);
            assert!(edges > 0, "{name}: no edges");
        } else {
            assert!(
                err.contains("src/lib.rs:1: cannot parse: code nested deeper"),
                "{name}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
        }
    }
}

#[test]
fn a_5_mb_file_is_analysed() {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 5 << 20 {
        text.push_str(&format!(
            "/// Doc for f{n}.\npub fn f{n}(x: u64) -> u64 {{\n    let y = x.wrapping_mul({n});\n    if y > 3 {{ f{}(y) }} else {{ y + 1 }}\n}}\n",
            n / 2
        ));
        n += 1;
    }
    let dir = project(&[
        ("Cargo.toml", MANIFEST.as_bytes()),
        ("src/lib.rs", text.as_bytes()),
    ]);
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(doc["nodes"].as_array().map_or(0, Vec::len), n);
    assert!(has_edge(&doc, "app::f3", "app::f1"));
}

#[test]
fn ten_thousand_files_are_analysed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "Cargo.toml", MANIFEST.as_bytes());
    let mut lib = String::new();
    for i in 0..10_000 {
        lib.push_str(&format!("pub mod m{i};\n"));
        let next = (i + 1) % 10_000;
        write(
            root,
            &format!("src/m{i}.rs"),
            format!("pub fn f() {{ crate::m{next}::g() }}\npub fn g() {{}}\n").as_bytes(),
        );
    }
    write(root, "src/lib.rs", lib.as_bytes());
    let o = cleave()
        .args(["analyze", "--format", "json"])
        .arg(root)
        .output()
        .expect("runs");
    sane(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(doc["project"]["files"], 10_001);
    assert!(stderr(&o).contains("No HTTP routes") || !stderr(&o).contains("error"));
}

/// Whether this process can be kept from reading a file (not as root).
fn permissions_apply(file: &Path) -> bool {
    std::fs::read(file).is_err()
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_diagnostics_or_one_line_errors() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[
        ("Cargo.toml", MANIFEST.as_bytes()),
        ("src/lib.rs", b"mod secret;\nmod closed;\npub fn a() {}\n"),
        ("src/secret.rs", b"pub fn s() {}\n"),
        ("src/closed/mod.rs", b"pub fn c() {}\n"),
    ]);
    let secret = dir.path().join("src/secret.rs");
    let closed = dir.path().join("src/closed");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let enforced = permissions_apply(&secret);
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        doc["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["id"] == "app::a"))
    );
    if enforced {
        let err = stderr(&o);
        assert!(
            err.contains("src/secret.rs") && err.contains("cannot read"),
            "{err}"
        );
        assert!(err.contains("closed"), "{err}");
    }
    // An unreadable manifest: one line, exit 1.
    let manifest = dir.path().join("Cargo.toml");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if permissions_apply(&manifest) {
        let (o, _) = graph(dir.path());
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains("Cargo.toml"), "{}", stderr(&o));
    }
    for p in [&secret, &closed, &manifest] {
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755));
    }
}

#[cfg(unix)]
#[test]
fn symlink_and_path_loops_end() {
    let dir = project(&[
        ("Cargo.toml", MANIFEST.as_bytes()),
        // `loop_dir` is `src` itself: `loop_dir/loop_dir/..` never ends on disk.
        ("src/lib.rs", b"pub mod loop_dir;\n#[path = \"lib.rs\"]\npub mod again;\n#[path = \"b.rs\"]\npub mod a;\npub fn root() {}\n"),
        ("src/mod.rs", b"pub mod loop_dir;\npub fn inner() {}\n"),
        ("src/b.rs", b"#[path = \"b.rs\"]\npub mod b;\npub fn bee() {}\n"),
        ("crates/app2/Cargo.toml", b"[package]\nname = \"app2\"\nversion = \"0.1.0\"\n"),
    ]);
    std::os::unix::fs::symlink(".", dir.path().join("src/loop_dir")).expect("symlink");
    std::os::unix::fs::symlink("..", dir.path().join("crates/up")).expect("symlink");
    write(
        dir.path(),
        "Cargo.toml",
        format!("{MANIFEST}\n[workspace]\nmembers = [\"crates/*\"]\n").as_bytes(),
    );
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<&str> = doc["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    for id in ["app::root", "app::loop_dir::inner", "app::a::bee"] {
        assert_eq!(
            ids.iter().filter(|i| **i == id).count(),
            1,
            "{id} once: {ids:?}"
        );
    }
    assert!(stderr(&o).contains("already a module"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn non_utf8_names_are_skipped_or_shown_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let base = tempfile::tempdir().expect("tempdir");
    let root = base.path().join(std::ffi::OsStr::from_bytes(b"proj\xff"));
    std::fs::create_dir_all(root.join("src/bin")).expect("mkdir");
    write(
        &root,
        "Cargo.toml",
        format!("{MANIFEST}\n[workspace]\nmembers = [\"crates/*\"]\n").as_bytes(),
    );
    write(&root, "src/lib.rs", b"pub fn a() {}\n");
    std::fs::write(
        root.join("src/bin")
            .join(std::ffi::OsStr::from_bytes(b"b\xfe.rs")),
        b"fn main() {}\n",
    )
    .expect("write");
    let member = root
        .join("crates")
        .join(std::ffi::OsStr::from_bytes(b"m\xfd"));
    std::fs::create_dir_all(member.join("src")).expect("mkdir");
    std::fs::write(
        member.join("Cargo.toml"),
        b"[package]\nname = \"m\"\nversion = \"0.1.0\"\n",
    )
    .expect("write");
    std::fs::write(member.join("src/lib.rs"), b"pub fn m() {}\n").expect("write");
    for cmd in ["graph", "analyze"] {
        let o = cleave()
            .arg(cmd)
            .arg(&root)
            .arg("--format")
            .arg("json")
            .output()
            .expect("runs");
        sane(&o);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        let text = String::from_utf8(o.stdout).expect("stdout stays UTF-8");
        assert!(
            text.contains("app::a") || text.contains("\"app\""),
            "{cmd}: {text}"
        );
    }
}

#[test]
fn paths_and_members_that_leave_the_root_are_diagnostics() {
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "secret.rs", b"pub fn leaked() {}\n");
    write(outside.path(), "Cargo.toml", MANIFEST.as_bytes());
    let abs = outside.path().join("secret.rs");
    let lib = format!(
        "#[path = \"{}\"]\nmod abs;\n#[path = \"../../../../../../../../../../etc/hostname\"]\nmod up;\npub fn a() {{}}\n",
        abs.display()
    );
    let ws = format!(
        "{MANIFEST}\n[workspace]\nmembers = [\"{}\", \"../sibling\", \"gone\"]\n",
        outside.path().display()
    );
    let dir = project(&[
        ("Cargo.toml", ws.as_bytes()),
        ("src/lib.rs", lib.as_bytes()),
    ]);
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = doc.to_string();
    assert!(!text.contains("leaked"), "read outside the root: {text}");
    let err = stderr(&o);
    assert!(
        err.contains("src/lib.rs:2") && err.contains("outside"),
        "{err}"
    );
    assert!(err.contains("src/lib.rs:4"), "{err}");
    assert!(err.contains("`gone`"), "missing member: {err}");
    assert!(err.contains("../sibling"), "member outside: {err}");
    assert!(has_edge(&doc, "app::a", "app::a") || text.contains("app::a"));
}

#[test]
fn a_missing_or_broken_member_leaves_the_rest() {
    let dir = project(&[
        (
            "Cargo.toml",
            b"[workspace]\nmembers = [\"good\", \"gone\", \"broken\", \"nameless\"]\n",
        ),
        (
            "good/Cargo.toml",
            b"[package]\nname = \"good\"\nversion = \"0.1.0\"\n",
        ),
        ("good/src/lib.rs", b"pub fn g() { h() }\nfn h() {}\n"),
        ("broken/Cargo.toml", b"[package\nname = \n"),
        ("nameless/Cargo.toml", b"[package]\nversion = \"0.1.0\"\n"),
    ]);
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(has_edge(&doc, "good::g", "good::h"));
    let err = stderr(&o);
    for needle in ["`gone`", "broken/Cargo.toml", "nameless/Cargo.toml"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

#[test]
fn cyclic_glob_reexports_resolve_and_end() {
    let dir = project(&[
        ("Cargo.toml", MANIFEST.as_bytes()),
        (
            "src/lib.rs",
            b"pub mod a { pub use crate::b::*; pub use self::*; pub fn fa() { fb() } }\n\
              pub mod b { pub use crate::a::*; pub use super::c::*; pub fn fb() { fc() } }\n\
              pub mod c { pub use crate::*; pub use crate::a::*; pub fn fc() { crate::c::fa() } }\n\
              pub use a::*;\npub fn top() { fc() }\n",
        ),
    ]);
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(has_edge(&doc, "app::a::fa", "app::b::fb"), "{doc}");
    assert!(has_edge(&doc, "app::b::fb", "app::c::fc"), "{doc}");
    assert!(has_edge(&doc, "app::c::fc", "app::a::fa"), "{doc}");
    assert!(has_edge(&doc, "app::top", "app::c::fc"), "{doc}");
}

#[test]
fn a_module_declared_twice_is_read_once() {
    let dir = project(&[
        ("Cargo.toml", MANIFEST.as_bytes()),
        (
            "src/lib.rs",
            b"mod a;\nmod a;\n#[path = \"a.rs\"]\nmod b;\npub fn top() { a::x() }\n",
        ),
        ("src/a.rs", b"pub fn x() {}\n"),
    ]);
    let (o, doc) = graph(dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<&str> = doc["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| i.ends_with("::x")).count(),
        1,
        "{ids:?}"
    );
    assert!(has_edge(&doc, "app::top", "app::a::x"));
    assert!(stderr(&o).contains("already a module"), "{}", stderr(&o));
}

#[test]
fn empty_projects_get_a_clean_report() {
    for (name, files) in [
        ("no sources", vec![("Cargo.toml", MANIFEST.as_bytes())]),
        ("empty manifest", vec![("Cargo.toml", &b""[..])]),
        (
            "empty workspace",
            vec![("Cargo.toml", &b"[workspace]\nmembers = []\n"[..])],
        ),
        (
            "empty files",
            vec![
                ("Cargo.toml", MANIFEST.as_bytes()),
                ("src/lib.rs", &b""[..]),
                ("src/main.rs", &b""[..]),
            ],
        ),
    ] {
        let dir = project(&files);
        let plan = dir.path().join("plan.toml");
        let o = cleave()
            .arg("analyze")
            .arg(dir.path())
            .arg("--plan")
            .arg(&plan)
            .output()
            .expect("runs");
        sane(&o);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("No HTTP routes found"), "{name}: {out}");
        assert!(!plan.exists(), "{name}: no plan for no routes");
        let (o, doc) = graph(dir.path());
        assert_eq!(o.status.code(), Some(0), "{name}");
        assert_eq!(doc["schema"], "cleave.callgraph/1", "{name}");
    }
}

#[test]
fn bad_plans_are_refused_one_line_each() {
    let base = tempfile::tempdir().expect("tempdir");
    let plan = base.path().join("cleave.toml");
    let fixture = repo().join("fixtures/shop-axum");
    let huge_routes: String = (0..100_000).map(|i| format!("\"GET /r{i}\",")).collect();
    let many_functions: String = (0..20_000)
        .map(|i| format!("[[function]]\nname = \"f{i}\"\nroutes = [\"GET /x{i}\"]\nmemory_mb = 256\ntimeout_s = 29\n"))
        .collect();
    let cases = [
        ("wrong types", "version = \"one\"\ntarget = 7\n[[function]]\nname = 42\nroutes = \"GET /\"\nmemory_mb = \"big\"\ntimeout_s = []\n".to_owned()),
        ("function not an array", "version = 1\ntarget = \"aws-lambda\"\nfunction = 3\n".to_owned()),
        ("huge array", format!("version = 1\ntarget = \"aws-lambda\"\n[[function]]\nname = \"all\"\nroutes = [{huge_routes}]\n")),
        ("many functions", format!("version = 1\ntarget = \"aws-lambda\"\n{many_functions}")),
        ("odd names and routes", "version = 1\ntarget = \"aws-lambda\"\n[[function]]\nname = \"\\u0000../ü/\"\nroutes = [\"GET /\\u0000\", \"ÜBER /x\", \"\"]\n".to_owned()),
        ("not TOML at all", "\u{0}\u{1}\u{2}[[[[".to_owned()),
    ];
    for (name, text) in cases {
        std::fs::write(&plan, &text).expect("write");
        let o = cleave()
            .arg("review")
            .arg(&fixture)
            .arg("--plan")
            .arg(&plan)
            .arg("--html")
            .arg(base.path().join("r.html"))
            .output()
            .expect("runs within the limit");
        sane(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        let problems: Vec<&str> = all.lines().filter(|l| l.contains("cleave.toml:")).collect();
        assert!(!problems.is_empty(), "{name}: no located problem in {all}");
        // `generate` refuses the same plan before writing anything.
        let out = base.path().join("out");
        let o = cleave()
            .arg("generate")
            .arg(&fixture)
            .arg("--plan")
            .arg(&plan)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("runs within the limit");
        sane(&o);
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(!out.exists(), "{name}: wrote output for an invalid plan");
    }
}
