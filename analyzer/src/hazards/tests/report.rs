//! What a finding says and where it goes: the entry points that reach it,
//! its JSON fields, the tidy test over the lint files, and the bundled
//! fixtures' golden hazard lists.

use super::*;

fn http(defs: &DefMap<'_>, method: &str, path: &str, handler: &str) -> EntryPoint {
    let root = defs.fns.iter().position(|f| f.id == handler);
    EntryPoint {
        kind: EntryKind::Http,
        framework: Some(Framework::Axum),
        method: method.to_owned(),
        path: path.to_owned(),
        handler: handler.to_owned(),
        at: Location {
            file: "src/lib.rs".to_owned(),
            line: 1,
        },
        registered: Location {
            file: "src/lib.rs".to_owned(),
            line: 1,
        },
        middleware: Vec::new(),
        root,
    }
}

#[test]
fn hazards_name_the_entry_points_that_reach_them() {
    let hazards = run_with(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;

static HITS: AtomicU64 = AtomicU64::new(0);
static REQUEST_ID: AtomicU64 = AtomicU64::new(0);

#[derive(Clone)]
pub struct AppState {
    pub repo: Arc<dyn Repo>,
}

pub trait Repo: Send + Sync {
    fn put(&self, v: u64);
}

pub struct MemRepo {
    rows: Mutex<Vec<u64>>,
}

impl Repo for MemRepo {
    fn put(&self, v: u64) {
        self.rows.lock().unwrap().push(v);
    }
}

pub async fn hit(State(state): State<AppState>) {
    let n = HITS.fetch_add(1, Ordering::Relaxed);
    state.repo.put(n);
    notify();
}

pub async fn health() {}

fn notify() {
    tokio::spawn(async {});
}

pub async fn request_id() {
    REQUEST_ID.fetch_add(1, Ordering::Relaxed);
}

pub fn unused() {
    std::thread::sleep(std::time::Duration::from_secs(30));
}
"#
        ),
        |defs| {
            let mut hit = http(defs, "POST", "/hits", "app::hit");
            hit.middleware.push(Middleware {
                kind: "layer".to_owned(),
                name: "from_fn(request_id)".to_owned(),
                handler: Some("app::request_id".to_owned()),
                at: Location {
                    file: "src/lib.rs".to_owned(),
                    line: 1,
                },
            });
            vec![hit, http(defs, "GET", "/health", "app::health")]
        },
    );
    expect![[r#"
        global-mutable-state src/lib.rs:6 app::HITS <- [POST /hits]
        global-mutable-state src/lib.rs:7 app::REQUEST_ID <- [POST /hits]
        in-process-state src/lib.rs:18 app::MemRepo <- [POST /hits]
        background-task src/lib.rs:37 app::notify <- [POST /hits]
        long-running src/lib.rs:45 app::unused <- []
    "#]]
    .assert_eq(&render(&hazards));
}

#[test]
fn hazards_serialise_with_the_documented_fields() {
    let hazards = run(&format!(
        "{MANIFEST}{}",
        r#"
//- /src/lib.rs
static HITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
"#
    ));
    let json = serde_json::to_value(&hazards).expect("serialise");
    let first = json
        .as_array()
        .and_then(|a| a.first())
        .and_then(|h| h.as_object())
        .expect("one hazard");
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    let mut want = vec![
        "code",
        "severity",
        "file",
        "line",
        "item",
        "message",
        "advice",
        "entrypoints",
    ];
    want.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, want);
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["code"], "global-mutable-state");
}

/// Each lint: its own file with the four doc sections, registered once,
/// and at least one `//~` marked test.
#[test]
fn tidy_every_lint_is_documented_registered_and_tested() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/hazards");
    // The hazard tests: `tests.rs` and the files of `tests/`.
    let mut tests = std::fs::read_to_string(format!("{dir}/tests.rs")).expect("read tests.rs");
    let mut files: Vec<_> = std::fs::read_dir(format!("{dir}/tests"))
        .expect("read tests/")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        tests.push_str(&std::fs::read_to_string(&f).expect("read a test file"));
    }
    let mut codes = BTreeSet::new();
    for lint in LINTS {
        assert!(
            codes.insert(lint.code),
            "`{}` is registered twice",
            lint.code
        );
        assert!(
            lint.code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "`{}` is not kebab-case",
            lint.code
        );
        assert!(
            !lint.summary.is_empty() && !lint.advice.is_empty(),
            "{}",
            lint.code
        );
        let file = format!("{dir}/{}.rs", lint.code.replace('-', "_"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("`{}` has no file {file}: {e}", lint.code));
        assert!(
            text.starts_with("//! ### What it does"),
            "{file} must open with its doc block"
        );
        let mut at = 0;
        for section in [
            "//! ### What it does",
            "//! ### Why is this bad on Lambda",
            "//! ### Example",
            "//! ### Use instead",
        ] {
            let found = text[at..]
                .find(section)
                .unwrap_or_else(|| panic!("{file} lacks `{section}` (in order)"));
            at += found + section.len();
        }
        assert!(
            text.contains(&format!("code: \"{}\"", lint.code)),
            "{file} does not define `{}`",
            lint.code
        );
        assert!(
            tests.contains(&format!("//~ {}", lint.code)),
            "`{}` has no `//~` marked test",
            lint.code
        );
    }
    // Every lint file is registered.
    for entry in std::fs::read_dir(dir).expect("read hazards dir") {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_string_lossy();
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        // The two modules of `hazards/` that are not lints.
        if matches!(stem, "tests" | "reach") {
            continue;
        }
        assert!(
            codes.contains(stem.replace('_', "-").as_str()),
            "hazards/{name} is not in LINTS"
        );
    }
}

/// `expected/hazards.txt` of a bundled fixture (written by hand from its
/// code) against what `check` finds, as `code file:line` lines.
fn golden(fixture: &str) {
    let root = format!("{}/../fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let expected = std::fs::read_to_string(format!("{root}/expected/hazards.txt"))
        .expect("read expected/hazards.txt");
    let want: BTreeSet<String> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let project = crate::load(std::path::Path::new(&root)).expect("load fixture");
    let defs = DefMap::build(&project);
    let graph = callgraph::build(&defs);
    let hazards = check(&defs, &graph, &[]);
    let got: BTreeSet<String> = hazards
        .iter()
        .map(|h| format!("{} {}:{}", h.code, h.file, h.line))
        .collect();
    if got != want {
        let mut diff = String::new();
        for l in want.difference(&got) {
            diff.push_str(&format!("- {l}\n"));
        }
        for h in &hazards {
            let l = format!("{} {}:{}", h.code, h.file, h.line);
            if !want.contains(&l) {
                diff.push_str(&format!("+ {l}    ({})\n", h.message));
            }
        }
        panic!(
            "{fixture}: hazards differ from expected/hazards.txt (- expected, + found):\n{diff}"
        );
    }
}

#[test]
fn golden_shop_axum() {
    golden("shop-axum");
}

#[test]
fn golden_forum_actix() {
    golden("forum-actix");
}

#[test]
fn golden_notes_rocket() {
    golden("notes-rocket");
}
