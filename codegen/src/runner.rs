//! The per-framework part of a function: how the monolith's serve
//! statement is replaced, and the runner module (`src/cleave_lambda.rs`)
//! that serves the app on Lambda or locally and keeps the function to its
//! routes. One backend per framework; `workspace` picks one.

use cleave_analyzer::entrypoints::Framework;
use toml_edit::InlineTable;

/// What a runner module is rendered from. Routes are `(method, path)` in
/// cleave's form (`{id}`, `{*rest}`).
#[derive(Debug)]
pub struct Runner<'a> {
    /// The `// @generated ...` line.
    pub header: &'a str,
    pub own: &'a [(String, String)],
    pub elsewhere: &'a [(String, String)],
}

#[derive(Debug, Clone, Copy)]
pub struct Backend {
    /// In `stmt` (the serve statement's text), replaces the server call with
    /// `call(APP)`; returns the new text and the name of the listener it
    /// used (empty when there is none).
    pub replace_serve: fn(stmt: &str, call: &str) -> Option<(String, String)>,
    /// The runner module's source.
    pub render: fn(&Runner<'_>) -> String,
    /// Dependencies the runner needs besides the monolith's own: `(name, spec)`.
    pub deps: fn() -> Vec<(String, InlineTable)>,
    /// What `main` must contain for `replace_serve` to apply, for messages.
    pub expects: &'static str,
    /// How a function keeps to its routes, for MIGRATION.md: one paragraph
    /// completing "Every function builds the monolith's whole app (...) and".
    pub guard: &'static str,
}

pub fn backend(framework: Framework) -> Option<Backend> {
    match framework {
        Framework::Axum => Some(crate::axum_fn::BACKEND),
        Framework::ActixWeb => crate::actix_fn::BACKEND,
        Framework::Rocket => crate::rocket_fn::BACKEND,
    }
}

/// `name = { version = .., features = [..] }`.
pub fn dep(name: &str, version: &str, features: &[&str]) -> (String, InlineTable) {
    let mut t = InlineTable::new();
    t.insert("version", version.into());
    if !features.is_empty() {
        let mut a = toml_edit::Array::new();
        for f in features {
            a.push(*f);
        }
        t.insert("features", toml_edit::Value::Array(a));
    }
    (name.to_owned(), t)
}
