//! Plan tests: the plan a CLI-started app gets (`args`), read back, kept
//! and merged; and what a bad `args` value gets.

use expect_test::expect;

use crate::testing::write_fixture;

/// An axum app whose `main` serves on the `serve` subcommand.
const CLI_APP: &str = r#"
//- /Cargo.toml
[package]
name = "links"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
clap = { version = "4", features = ["derive"] }
//- /src/main.rs
use axum::{routing::get, Router};
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Migrate,
    Serve,
}

async fn list() -> &'static str {
    "[]"
}

async fn serve() {
    let app = Router::new().route("/links", get(list));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, app).await.unwrap();
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Migrate => println!("migrated"),
        Command::Serve => serve().await,
    }
}
"#;

fn analysis() -> crate::analysis::Analysis {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), CLI_APP);
    crate::analysis::analyze(dir.path()).expect("analyse")
}

fn groups(a: &crate::analysis::Analysis) -> Vec<crate::partition::Group> {
    crate::partition::propose(a, crate::partition::Granularity::Route)
}

#[test]
fn a_cli_app_gets_its_serving_arguments_in_the_plan() {
    let a = analysis();
    let text = super::render(&a, &groups(&a), "route");
    let head: String = text.lines().skip(3).take(5).collect::<Vec<_>>().join("\n");
    expect![[r#"
        version = 1
        target = "aws-lambda"

        # How each function starts `links`, whose `main` serves on a subcommand (src/main.rs:30); Lambda passes no arguments.
        args = ["serve"]"#]]
    .assert_eq(&head);
    let (plan, diags) = super::parse(&text, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(plan.expect("a plan").args, ["serve"]);
}

#[test]
fn re_analysis_adds_missing_arguments_and_keeps_edited_ones() {
    let a = analysis();
    let proposal = groups(&a);
    let fresh = super::render(&a, &proposal, "route");
    // A plan from before `args` existed gets them, marked as new.
    let old: String = fresh
        .lines()
        .filter(|l| !l.starts_with("args") && !l.starts_with("# How each"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (merged, _) = super::merge(&old, &a, &proposal).expect("merge");
    assert!(
        merged.contains("# new: proposed by cleave\n# How each function starts `links`"),
        "{merged}"
    );
    let (plan, diags) = super::parse(&merged, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}\n{merged}");
    assert_eq!(plan.expect("a plan").args, ["serve"]);
    // Arguments a person wrote are theirs.
    let edited = fresh.replace(
        "args = [\"serve\"]",
        "args = [\"serve\", \"--port\", \"9000\"]",
    );
    let (merged, _) = super::merge(&edited, &a, &proposal).expect("merge");
    let (plan, _) = super::parse(&merged, "cleave.toml");
    assert_eq!(plan.expect("a plan").args, ["serve", "--port", "9000"]);
}

#[test]
fn args_that_are_not_a_list_of_strings_are_an_error_at_their_line() {
    let text = "version = 1\ntarget = \"aws-lambda\"\nargs = \"serve\"\n\n[[function]]\nname = \"a\"\nroutes = []\n";
    let (_, diags) = super::parse(text, "cleave.toml");
    let errors: Vec<String> = diags.iter().map(ToString::to_string).collect();
    expect![[r#"
        [
            "error[plan]: cleave.toml:3: `args` must be a list of strings: args = [\"serve\"]",
        ]
    "#]]
    .assert_debug_eq(&errors);
}
