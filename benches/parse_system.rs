//! `parse_system --parse-only DIR`: the parse-only baseline of
//! `benches/analyze.rs` with the system allocator, as a plain build of `syn`
//! parses. `tools/bench.sh` hands it to the `analyze` bench
//! (`--system-baseline`), which reports analyze's ratio to it beside the
//! ratio to the baseline with cleave's allocator.

#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::ExitCode;

#[path = "shared/parse_only.rs"]
mod parse_only;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = match args.as_slice() {
        [flag, dir] if flag == "--parse-only" => parse_only::parse_only(Path::new(dir)),
        // `cargo bench` with no arguments: nothing to measure.
        [] => Ok(()),
        _ => Err("usage: parse_system --parse-only DIR".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parse_system: {e}");
            ExitCode::from(1)
        }
    }
}
