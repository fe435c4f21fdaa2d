//! `cleave generate --check` on every bundled fixture: `cargo check` of the
//! generated workspace, then `cargo lambda build --arm64`, the build the
//! template deploys (`arm64` functions), so each function's `bootstrap` must
//! cross-build for `aarch64-unknown-linux-gnu` (cargo-lambda links with zig,
//! which also compiles the C some dependencies carry, such as SQLite). Each
//! built `bootstrap` must be an AArch64 ELF executable.
//!
//! Needs the Rust target (`rustup target add aarch64-unknown-linux-gnu`) and
//! cargo-lambda with zig in `.venv`; `tools/test.sh` installs both. The
//! builds share the e2e target dir, so the fixtures' common dependencies
//! cross-compile once.

mod support;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{E2e, cargo_lambda, parse_plan, progress, read, repo, reset_dir, tail};

const TEST: &str = "generate_arm64";
const TARGET: &str = "aarch64-unknown-linux-gnu";
/// `e_machine` of an AArch64 ELF file.
const EM_AARCH64: u16 = 183;

/// The fixtures with a `Cargo.toml`, sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(repo().join("fixtures"))
        .expect("fixtures/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Whether rustc has the standard library for `target`.
fn target_installed(target: &str) -> bool {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
}

/// The ELF machine of the file at `path`, if it is an ELF file.
fn elf_machine(path: &Path) -> Option<u16> {
    let bytes = fs::read(path).ok()?;
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return None;
    }
    // e_machine sits at offset 18, in the file's byte order (EI_DATA).
    let pair = [bytes[18], bytes[19]];
    Some(match bytes[5] {
        2 => u16::from_be_bytes(pair),
        _ => u16::from_le_bytes(pair),
    })
}

#[test]
fn elf_machine_reads_the_header() {
    let dir = std::env::temp_dir().join(format!("cleave-{TEST}-elf-{}", std::process::id()));
    reset_dir(&dir);
    let mut header = b"\x7fELF\x02\x01\x01".to_vec();
    header.resize(18, 0);
    header.extend_from_slice(&EM_AARCH64.to_le_bytes());
    fs::write(dir.join("arm"), &header).expect("write");
    fs::write(
        dir.join("text"),
        "#!/bin/sh\necho not an executable of any machine\n",
    )
    .expect("write");
    assert_eq!(elf_machine(&dir.join("arm")), Some(EM_AARCH64));
    assert_eq!(elf_machine(&dir.join("text")), None);
    fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn every_fixtures_functions_cross_build_for_arm64() {
    assert!(
        target_installed(TARGET),
        "the Rust target {TARGET} is not installed: run `rustup target add {TARGET}` \
         (tools/test.sh does)"
    );
    let lambda = cargo_lambda();
    // cargo-lambda finds zig (pip's ziglang) on PATH beside it.
    let mut path = OsString::from(lambda.parent().expect("cargo-lambda's dir"));
    if let Some(old) = std::env::var_os("PATH") {
        path.push(":");
        path.push(old);
    }
    let e2e = E2e::new(TEST);
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 5,
        "expected the bundled fixtures, found {fixtures:?}"
    );
    for fixture in fixtures {
        let name = fixture
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let run = e2e.root.join(&name);
        reset_dir(&run);
        let plan_path = run.join("cleave.toml");
        support::analyze(&fixture, &plan_path);
        let ws = run.join("ws");
        let functions = parse_plan(&read(&plan_path));
        assert!(!functions.is_empty(), "{name}: the plan has no functions");
        progress(TEST, &format!("{name}: cleave generate --check"));
        let out = Command::new(env!("CARGO_BIN_EXE_cleave"))
            .arg("generate")
            .arg(&fixture)
            .arg("--plan")
            .arg(&plan_path)
            .arg("--out")
            .arg(&ws)
            .arg("--check")
            .env("CARGO_TARGET_DIR", &e2e.target)
            .env("PATH", &path)
            .output()
            .expect("cleave runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{name}: cleave generate --check failed:\n{}",
            tail(&stderr, 60)
        );
        for step in ["cargo check: ok", "cargo lambda build --arm64: ok"] {
            assert!(
                stderr.contains(step),
                "{name}: no `{step}` in:\n{}",
                tail(&stderr, 30)
            );
        }
        for function in &functions {
            let bootstrap = e2e
                .target
                .join("lambda")
                .join(&function.name)
                .join("bootstrap");
            assert_eq!(
                elf_machine(&bootstrap),
                Some(EM_AARCH64),
                "{name}: {} is not an AArch64 executable",
                bootstrap.display()
            );
        }
    }
}
