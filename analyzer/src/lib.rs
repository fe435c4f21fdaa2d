//! cleave's analysis library: from a Cargo project on disk to the facts the
//! rest of cleave decides on. The stages run in this order, each a plain
//! function over plain data:
//!
//! `load` (the only disk reader; drives `parse`) -> `resolve` -> `callgraph`
//! -> `entrypoints` -> `hazards` -> `partition` -> `plan`.

pub mod analysis;
pub mod callgraph;
pub mod config;
pub mod diagnostic;
pub mod entrypoints;
pub mod framework;
mod hash;
pub mod hazards;
pub mod load;
pub mod parse;
pub mod partition;
pub mod plan;
pub mod resolve;
pub mod review;
pub mod schedule;
pub mod stack;
pub mod startup;
pub mod syntax;

pub use diagnostic::{Diagnostic, Severity};
pub use load::{LoadError, Project, load, load_with};
pub use stack::with_big_stack;

#[cfg(test)]
mod testing;
