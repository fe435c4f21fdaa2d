//! Every bundled fixture monolith compiles and passes its own tests (which
//! exercise each of its routes). They are cleave's test input, so a fixture
//! that stopped compiling would make every other test meaningless.
//!
//! Builds share `CARGO_TARGET_DIR` when it is set (CI sets it), else
//! `target/fixtures` in this repository.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn every_fixture_builds_and_passes_its_own_tests() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/fixtures"));
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(repo.join("fixtures"))
        .expect("fixtures/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    fixtures.sort();
    assert!(
        fixtures.len() >= 5,
        "expected the five bundled fixtures, found {fixtures:?}"
    );
    for dir in fixtures {
        let out = Command::new(env!("CARGO"))
            .args(["test", "--workspace", "--quiet", "--locked"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "{}: cargo test failed:\n{}\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
