//! The plan people edit: `cleave analyze` keeps their edits when it runs
//! again, and `cleave review` names every mistake with its line.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn cleave() -> Command {
    let mut c = Command::cargo_bin("cleave").expect("binary");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn analyze(plan: &Path) -> std::process::Output {
    cleave()
        .args(["analyze", "fixtures/shop-axum", "--plan"])
        .arg(plan)
        .output()
        .expect("runs")
}

fn review(plan: &Path) -> (i32, String, String) {
    let html = plan.with_extension("html");
    let o = cleave()
        .args(["review", "fixtures/shop-axum", "--plan"])
        .arg(plan)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn fresh() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("cleave.toml");
    assert!(analyze(&plan).status.success());
    let text = std::fs::read_to_string(&plan).expect("plan");
    (dir, plan, text)
}

/// Line number (1-based) of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

#[test]
fn a_fresh_proposal_reviews_clean() {
    let (_d, plan, _) = fresh();
    let (code, out, _) = review(&plan);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("The plan is valid."), "{out}");
    for preset in ["route", "resource", "single", "auto", "yours"] {
        assert!(out.contains(preset), "preset {preset} missing:\n{out}");
    }
}

#[test]
fn unknown_route_names_the_line_and_suggests_the_nearest() {
    let (_d, plan, text) = fresh();
    let edited = text.replace("\"GET /api/orders/{id}\"", "\"GET /api/order/{id}\"");
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 1);
    let line = line_of(&edited, "GET /api/order/{id}");
    assert!(
        out.contains(&format!(":{line}: unknown route \"GET /api/order/{{id}}\"")),
        "{out}"
    );
    assert!(
        out.contains("did you mean \"GET /api/orders/{id}\""),
        "{out}"
    );
    // ... and the real route is now unassigned.
    assert!(
        out.contains("route \"GET /api/orders/{id}\" is in no function"),
        "{out}"
    );
}

#[test]
fn a_route_in_two_functions_is_an_error() {
    let (_d, plan, text) = fresh();
    let edited = text.replacen("routes = [", "routes = [\n    \"GET /version\",", 1);
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 1);
    assert!(out.contains("route \"GET /version\" is in"), "{out}");
    assert!(out.contains("keep it in one function"), "{out}");
}

#[test]
fn names_that_are_not_crate_safe_are_rejected() {
    for bad in [
        "../../x",
        "Orders",
        "a/b",
        "a\\u0000b",
        "örders",
        "a--b",
        "x-",
        "",
    ] {
        let (_d, plan, text) = fresh();
        let edited = text.replacen("name = \"admin\"", &format!("name = \"{bad}\""), 1);
        std::fs::write(&plan, &edited).expect("write");
        let (code, out, _) = review(&plan);
        assert_eq!(code, 1, "{bad}: {out}");
        assert!(out.contains("not crate-safe"), "{bad}: {out}");
        assert!(
            out.contains(&format!(":{}:", line_of(&edited, "name = \""))),
            "{bad}: {out}"
        );
    }
}

#[test]
fn a_function_named_like_a_package_is_rejected() {
    // The generated workspace holds the monolith's packages beside the
    // functions, so a function may not take a package's name.
    let manifest = std::fs::read_to_string("fixtures/shop-axum/Cargo.toml").expect("manifest");
    let package = manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("package name")
        .to_owned();
    let (_d, plan, text) = fresh();
    assert!(!text.contains(&format!("name = \"{package}\"")), "{text}");
    let edited = text.replacen("name = \"admin\"", &format!("name = \"{package}\""), 1);
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 1, "{out}");
    let line = line_of(&edited, &format!("name = \"{package}\""));
    assert!(
        out.contains(&format!(
            ":{line}: function name `{package}` is the name of the package"
        )),
        "{out}"
    );
}

#[test]
fn routes_of_one_shape_split_across_functions_are_an_error() {
    // notes-rocket answers `GET /api/notes/<id>` and, ranked after it,
    // `GET /api/notes/<slug>`: one gateway route, so one function.
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("cleave.toml");
    let run = |cmd: &str| {
        cleave()
            .args([
                cmd,
                "fixtures/notes-rocket",
                "--granularity",
                "route",
                "--plan",
            ])
            .arg(&plan)
            .output()
            .expect("runs")
    };
    assert!(run("analyze").status.success());
    let text = std::fs::read_to_string(&plan).expect("plan");
    // The proposal keeps them together, even one function per route.
    let together = text
        .split("[[function]]")
        .any(|f| f.contains("\"GET /api/notes/{id}\"") && f.contains("\"GET /api/notes/{slug}\""));
    assert!(together, "{text}");
    // Moved apart by hand, into another function: an error naming the line.
    let slug = "    \"GET /api/notes/{slug}\",\n";
    let mut blocks: Vec<String> = text.split("[[function]]").map(str::to_owned).collect();
    let home = blocks
        .iter()
        .position(|b| b.contains(slug))
        .expect("slug's function");
    // Another function after it, so that the moved route is the second seen.
    let other = (home + 1..blocks.len())
        .find(|&i| !blocks[i].contains("\"GET /api/notes/{id}\""))
        .expect("a function after it");
    blocks[home] = blocks[home].replacen(slug, "", 1);
    blocks[other] = blocks[other].replacen("routes = [\n", &format!("routes = [\n{slug}"), 1);
    let edited = blocks.join("[[function]]");
    std::fs::write(&plan, &edited).expect("write");
    let o = cleave()
        .args(["review", "fixtures/notes-rocket", "--plan"])
        .arg(&plan)
        .output()
        .expect("runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let line = line_of(&edited, "\"GET /api/notes/{slug}\"");
    assert!(
        out.contains(&format!(":{line}: route \"GET /api/notes/{{slug}}\" in `")),
        "{out}"
    );
    assert!(
        out.contains("API Gateway can send them to one function only"),
        "{out}"
    );
}

#[test]
fn memory_and_timeout_out_of_range() {
    let (_d, plan, text) = fresh();
    let edited = text
        .replacen("memory_mb = 256", "memory_mb = 64", 1)
        .replacen("timeout_s = 29", "timeout_s = 901", 1);
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 1);
    assert!(
        out.contains("`memory_mb = 64` is out of range 128..=10240"),
        "{out}"
    );
    assert!(
        out.contains("`timeout_s = 901` is out of range 1..=900"),
        "{out}"
    );
}

#[test]
fn toml_syntax_errors_name_the_line() {
    let (_d, plan, text) = fresh();
    let edited = text.replacen("memory_mb = 256", "memory_mb = = 256", 1);
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, err) = review(&plan);
    assert_eq!(code, 1);
    let line = line_of(&edited, "memory_mb = = 256");
    assert!(
        err.contains(&format!(":{line}: invalid TOML")),
        "{err}{out}"
    );
}

#[test]
fn splitting_shared_state_and_oversize_functions_are_warnings() {
    let (_d, plan, text) = fresh();
    let edited = format!("max_reachable_lines = 10\n{text}");
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 0, "warnings do not fail the review: {out}");
    assert!(out.contains("warning[state-split]"), "{out}");
    assert!(out.contains("over max_reachable_lines = 10"), "{out}");
}

#[test]
fn reanalysis_keeps_moves_names_settings_and_comments() {
    let (_d, plan, text) = fresh();
    // Move GET /api/products into `admin`, rename `carts`, change its memory, add a comment.
    let mut edited = text.replacen("    \"GET /api/products\",\n", "", 1);
    edited = edited.replacen(
        "name = \"admin\"\nroutes = [",
        "name = \"admin\"\nroutes = [\n    \"GET /api/products\",",
        1,
    );
    edited = edited.replacen("name = \"carts\"", "name = \"basket\" # renamed by me", 1);
    let basket_mem = line_of(&edited, "name = \"basket\"") + 10;
    let mut lines: Vec<String> = edited.lines().map(str::to_owned).collect();
    for l in lines.iter_mut().skip(basket_mem - 1) {
        if l.starts_with("memory_mb") {
            *l = "memory_mb = 1024".to_owned();
            break;
        }
    }
    let edited = lines.join("\n") + "\n";
    std::fs::write(&plan, &edited).expect("write");
    let o = analyze(&plan);
    assert!(o.status.success());
    let after = std::fs::read_to_string(&plan).expect("plan");
    assert_eq!(
        after, edited,
        "nothing new in the code: the edited plan is left exactly as it was"
    );
    let (code, out, _) = review(&plan);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn reanalysis_places_new_routes_and_removes_vanished_ones() {
    let (_d, plan, text) = fresh();
    // Forget a real route (as if it were new in the code) and keep one that no longer exists.
    let edited = text
        .replacen("    \"GET /api/orders/{id}\",\n", "", 1)
        .replacen("routes = [", "routes = [\n    \"GET /api/legacy\",", 1);
    std::fs::write(&plan, &edited).expect("write");
    let o = analyze(&plan);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("\"GET /api/legacy\" no longer exists"),
        "{err}"
    );
    assert!(
        err.contains("new route \"GET /api/orders/{id}\" placed in function `orders`"),
        "{err}"
    );
    let after = std::fs::read_to_string(&plan).expect("plan");
    assert!(!after.contains("/api/legacy"));
    assert!(
        after.contains("# new: placed by cleave\n    \"GET /api/orders/{id}\""),
        "{after}"
    );
    let (code, out, _) = review(&plan);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_broken_plan_is_never_overwritten_by_analyze() {
    let (_d, plan, _) = fresh();
    std::fs::write(&plan, "version = [\n").expect("write");
    let o = analyze(&plan);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("left as it is"));
    assert_eq!(
        std::fs::read_to_string(&plan).expect("plan"),
        "version = [\n"
    );
}

/// A mount whose prefix is read from configuration: `analyze` assumes the
/// runtime part empty and says how to set it; a `[prefix]` entry in the
/// plan moves the routes, survives re-analysis, and `review` accepts it.
#[test]
fn a_runtime_prefix_is_assumed_empty_until_the_plan_sets_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("src")).expect("mkdir");
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\naxum = \"0.8\"\ntokio = { version = \"1\", features = [\"full\"] }\n",
    )
    .expect("manifest");
    std::fs::write(
        app.join("src/main.rs"),
        "use axum::{routing::get, Router};\n\
         async fn list() {}\n\
         #[tokio::main]\n\
         async fn main() {\n\
         \x20   let base = std::env::var(\"BASE_PATH\").unwrap_or_default();\n\
         \x20   let app = Router::new().nest(&format!(\"{base}/api\"), Router::new().route(\"/items\", get(list)));\n\
         \x20   let listener = tokio::net::TcpListener::bind(\"127.0.0.1:3000\").await.unwrap();\n\
         \x20   axum::serve(listener, app).await.unwrap();\n\
         }\n",
    )
    .expect("main");
    let plan = dir.path().join("cleave.toml");
    let run = |plan: &Path| {
        let o = cleave()
            .arg("analyze")
            .arg(&app)
            .args(["--format", "json", "--plan"])
            .arg(plan)
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (out, err) = run(&plan);
    assert!(out.contains("\"path\": \"/api/items\""), "{out}");
    assert!(
        err.contains("src/main.rs:6") && err.contains("[prefix] \"src/main.rs:6\" = \"/base/api\""),
        "{err}"
    );

    let text = std::fs::read_to_string(&plan).expect("plan");
    let edited = format!(
        "{}\n[prefix]\n\"src/main.rs:6\" = \"/shop/api\"\n",
        text.trim_end()
    )
    .replace("GET /api/items", "GET /shop/api/items");
    std::fs::write(&plan, &edited).expect("edit");
    let (out, err) = run(&plan);
    assert!(out.contains("\"path\": \"/shop/api/items\""), "{out}");
    assert!(!out.contains("\"path\": \"/api/items\""), "{out}");
    assert!(err.contains("sets it to \"/shop/api\""), "{err}");
    let kept = std::fs::read_to_string(&plan).expect("plan");
    assert!(kept.contains("\"src/main.rs:6\" = \"/shop/api\""), "{kept}");
    assert!(kept.contains("GET /shop/api/items"), "{kept}");

    let o = cleave()
        .arg("review")
        .arg(&app)
        .arg("--plan")
        .arg(&plan)
        .arg("--html")
        .arg(dir.path().join("r.html"))
        .output()
        .expect("runs");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // A key that names no mount site is an error with its line.
    std::fs::write(&plan, format!("{edited}\"main.rs\" = \"/x\"\n")).expect("edit");
    let o = cleave()
        .arg("review")
        .arg(&app)
        .arg("--plan")
        .arg(&plan)
        .output()
        .expect("runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("must name a mount as \"FILE:LINE\""), "{all}");
}

/// A worker's schedule is checked where it is written, a timeout longer
/// than its pace is a warning, a loop that is not there an error; running
/// `analyze` again keeps the edited schedule and settings.
#[test]
fn workers_are_reviewed_and_kept_on_reanalysis() {
    let (_d, plan, text) = fresh();
    let worker = text.find("[[worker]]").expect("the cart sweep is proposed");
    let (head, tail) = text.split_at(worker);
    let edited = format!(
        "{head}{}",
        tail.replacen("rate(5 minutes)", "rate(5 minute)", 1)
            .replacen("src/jobs.rs:14", "src/jobs.rs:99", 1)
    );
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 1, "{out}");
    let line = line_of(&edited, "rate(5 minute)");
    assert!(
        out.contains(&format!(
            ":{line}: worker `cart-expiry-sweep`: schedule \"rate(5 minute)\": write `rate(5 minutes)`"
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "no interval loop or scheduled job at src/jobs.rs:99; cleave found src/jobs.rs:14"
        ),
        "{out}"
    );

    let edited = format!(
        "{head}{}",
        tail.replacen("rate(5 minutes)", "rate(2 minutes)", 1)
            .replacen("timeout_s = 60", "timeout_s = 300", 1)
    );
    std::fs::write(&plan, &edited).expect("write");
    let (code, out, _) = review(&plan);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("timeout_s = 300 is longer than its pace (120 s)"),
        "{out}"
    );
    assert!(analyze(&plan).status.success());
    let again = std::fs::read_to_string(&plan).expect("plan");
    assert_eq!(again, edited, "re-analysis keeps the worker as edited");
}
