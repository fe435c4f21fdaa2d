//! Nothing: this package only pins the benchmark's corpus (see Cargo.toml).
