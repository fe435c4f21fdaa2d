//! The per-framework part of a function: how the monolith's serve
//! statement is replaced, and the runner module (`src/cleave_lambda.rs`)
//! that serves the app and keeps the function to its routes. With the
//! `native` adapter the runner answers Lambda events in-process
//! (`lambda_http`) and serves on 127.0.0.1:$PORT elsewhere; with
//! `web-adapter` it is only that local server, the AWS Lambda Web Adapter
//! layer forwarding each event to it. One backend per framework;
//! `workspace` picks one.

use cleave_analyzer::entrypoints::Framework;
use toml_edit::InlineTable;

use crate::workspace::Adapter;

/// What a runner module is rendered from. Routes are `(method, path)` in
/// cleave's form (`{id}`, `{*rest}`).
#[derive(Debug)]
pub struct Runner<'a> {
    /// The `// @generated ...` line.
    pub header: &'a str,
    pub own: &'a [(String, String)],
    pub elsewhere: &'a [(String, String)],
    /// `Native`: on Lambda too, through `lambda_http`; `WebAdapter`: the
    /// framework's own server on `$PORT` only, and no `lambda_http`.
    pub adapter: Adapter,
    /// Where the runner finds its route sets.
    pub routes_from: RouteSource,
}

/// Where a runner's route sets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteSource {
    /// Constants in the runner: it lives in the function's own crate.
    Consts,
    /// Set once by `init(..)` from each function's `main`: the runner lives
    /// in the shared library, whose fn serves the app.
    Init,
}

/// `&[("GET", "/a"), ..]`.
fn pairs(list: &[(String, String)]) -> proc_macro2::TokenStream {
    let items = list.iter().map(|(m, p)| quote::quote!((#m, #p)));
    quote::quote!(&[#(#items),*])
}

/// The runner's route sets, read through `own_routes()` and `other_routes()`.
pub fn route_items(r: &Runner<'_>) -> proc_macro2::TokenStream {
    match r.routes_from {
        RouteSource::Consts => {
            let own = pairs(r.own);
            let elsewhere = pairs(r.elsewhere);
            quote::quote! {
                /// The routes this function serves: `(method, path)`.
                pub const ROUTES: &[(&str, &str)] = #own;

                /// The monolith's routes that other functions serve: answered with 404 here.
                pub const ELSEWHERE: &[(&str, &str)] = #elsewhere;

                fn own_routes() -> &'static [(&'static str, &'static str)] {
                    ROUTES
                }

                fn other_routes() -> &'static [(&'static str, &'static str)] {
                    ELSEWHERE
                }
            }
        }
        RouteSource::Init => quote::quote! {
            type RouteList = &'static [(&'static str, &'static str)];

            static ROUTE_SETS: std::sync::OnceLock<(RouteList, RouteList)> = std::sync::OnceLock::new();

            /// Called first by each function's `main`: the routes it serves
            /// (`(method, path)`), and the monolith's routes other functions
            /// serve, answered with 404 here.
            pub fn init(own: RouteList, elsewhere: RouteList) {
                let _ = ROUTE_SETS.set((own, elsewhere));
            }

            fn own_routes() -> RouteList {
                ROUTE_SETS.get().map_or(&[], |r| r.0)
            }

            fn other_routes() -> RouteList {
                ROUTE_SETS.get().map_or(&[], |r| r.1)
            }
        },
    }
}

/// The function's own route sets, for `init` (`src/cleave_routes.rs`).
pub fn render_route_consts(
    header: &str,
    own: &[(String, String)],
    elsewhere: &[(String, String)],
) -> String {
    let own = pairs(own);
    let elsewhere = pairs(elsewhere);
    let file: syn::File = syn::parse_quote! {
        //! This function's routes, handed to the shared runner by `main`.

        /// The routes this function serves: `(method, path)`.
        pub const ROUTES: &[(&str, &str)] = #own;

        /// The monolith's routes that other functions serve: answered with 404 here.
        pub const ELSEWHERE: &[(&str, &str)] = #elsewhere;
    };
    format!("{header}\n{}", prettyplease::unparse(&file))
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
    pub deps: fn(Adapter) -> Vec<(String, InlineTable)>,
    /// What `main` must contain for `replace_serve` to apply, for messages.
    pub expects: &'static str,
    /// How a function keeps to its routes, for MIGRATION.md: one paragraph
    /// completing "Every function builds the monolith's whole app (...) and".
    pub guard: &'static str,
    /// With the `native` adapter, how a Lambda event reaches the app, for
    /// MIGRATION.md after `guard` (empty when there is nothing to add).
    pub in_process: &'static str,
}

impl Backend {
    /// The MIGRATION.md paragraph on the guard, for `adapter`.
    pub fn guard_text(&self, adapter: Adapter) -> String {
        match adapter {
            Adapter::Native if !self.in_process.is_empty() => {
                format!("{} {}", self.guard, self.in_process)
            }
            _ => self.guard.to_owned(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every backend's runner, with each adapter: valid Rust, and
    /// `lambda_http` (in the code and the dependencies) only with `native`.
    #[test]
    fn only_native_runners_use_lambda_http() {
        let own = vec![("GET".to_owned(), "/a/{id}".to_owned())];
        let elsewhere = vec![("POST".to_owned(), "/b".to_owned())];
        for framework in [Framework::Axum, Framework::ActixWeb, Framework::Rocket] {
            let backend = backend(framework).expect("a backend for every framework");
            for adapter in [Adapter::Native, Adapter::WebAdapter] {
                let runner = Runner {
                    header: "// @generated by cleave",
                    own: &own,
                    elsewhere: &elsewhere,
                    adapter,
                    routes_from: RouteSource::Consts,
                };
                let text = (backend.render)(&runner);
                let what = format!("{framework:?} {adapter:?}");
                assert!(text.starts_with("// @generated by cleave\n"), "{what}");
                assert_eq!(text, (backend.render)(&runner), "{what}: deterministic");
                syn::parse_file(&text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
                let deps: Vec<String> = (backend.deps)(adapter)
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect();
                let native = adapter == Adapter::Native;
                assert_eq!(text.contains("lambda_http"), native, "{what}:\n{text}");
                assert_eq!(
                    text.contains("AWS_LAMBDA_RUNTIME_API"),
                    native,
                    "{what}:\n{text}"
                );
                assert_eq!(
                    deps.iter().any(|d| d == "lambda_http"),
                    native,
                    "{what}: {deps:?}"
                );
            }
        }
    }

    #[test]
    fn the_in_process_paragraph_is_for_the_native_adapter_only() {
        for framework in [Framework::Axum, Framework::ActixWeb, Framework::Rocket] {
            let backend = backend(framework).expect("a backend for every framework");
            let native = backend.guard_text(Adapter::Native);
            let web = backend.guard_text(Adapter::WebAdapter);
            assert!(native.starts_with(backend.guard), "{framework:?}");
            assert_eq!(web, backend.guard, "{framework:?}");
            assert!(!web.contains("in-process"), "{framework:?}: {web}");
        }
    }
}
