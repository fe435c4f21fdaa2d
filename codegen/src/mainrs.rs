//! A function's `main.rs`: the monolith's `main.rs` with its server wiring
//! swapped for the function's runner and its workers taken out. Works on
//! the file's text with the statement lines the analysis found, so every
//! other line stays exactly as the monolith wrote it. Each change is an
//! [`Edit`] that MIGRATION.md lists.

use cleave_analyzer::startup::{BinMain, Launch, MainStmt, ServeSite, StmtKind};

use crate::runner::Backend;

/// One change made to the monolith's code, for MIGRATION.md.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edit {
    pub file: String,
    pub line: u32,
    pub what: String,
    pub why: String,
}

/// How the function's `main` reaches the runner.
#[derive(Debug, Clone, Copy)]
pub enum MainMode<'a> {
    /// `main` serves the app: its serve call becomes `runner_call(app)`.
    Serves,
    /// Another fn serves the app and was rewritten on its own; `main` only
    /// declares the module, and calls `init` first when given (the runner
    /// lives in a library and takes this function's routes from `main`).
    ServedElsewhere { init: Option<&'a str> },
}

/// The rewritten text and what changed, or why it could not be rewritten.
/// Whether `main` uses a name the spawn statement `st` binds after it
/// (`let worker = tokio::spawn(..);` .. `tokio::select! { o = worker => .. }`):
/// such a worker stays where it is. `text` is the file holding `main`.
pub fn handle_used_later(text: &str, main: &BinMain, st: &MainStmt) -> bool {
    if st.binds.is_empty() {
        return false;
    }
    let after: Vec<&str> = text
        .lines()
        .skip(st.end as usize)
        .take(main.end_line.saturating_sub(st.end) as usize)
        .collect();
    st.binds.iter().any(|name| {
        after.iter().any(|line| {
            line.match_indices(name.as_str()).any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let next = line[i + name.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(next)
            })
        })
    })
}

pub fn rewrite(
    text: &str,
    main: &BinMain,
    runner_mod: &str,
    runner_call: &str,
    backend: &Backend,
    header: &str,
    mode: MainMode<'_>,
) -> Result<(String, Vec<Edit>), String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut edits = Vec::new();
    if let Some(launch) = &main.launch {
        rewrite_launch(&mut lines, &mut edits, main, launch, runner_call)?;
        return Ok(finish(lines, edits, main, runner_mod, RUNNER_WHY, header));
    }
    // Replaced bottom-up so earlier line numbers stay valid.
    let mut changes: Vec<(usize, usize, Vec<String>)> = Vec::new();
    match mode {
        MainMode::Serves => {
            let (c, e) = replace_serve_stmt(
                &lines,
                &main.stmts,
                &main.file,
                main.line,
                runner_call,
                backend,
            )?;
            changes.extend(c);
            edits.extend(e);
        }
        MainMode::ServedElsewhere { init: Some(init) } => {
            // First thing in `main`'s body: after the line that opens it.
            let open = (main.line as usize..=main.end_line as usize)
                .find(|&l| lines.get(l - 1).is_some_and(|t| t.trim_end().ends_with('{')))
                .ok_or_else(|| {
                    format!(
                        "line {}: `main`'s body must start at the end of a line (`{{` then a line break) for cleave to add a statement",
                        main.line
                    )
                })?;
            let indent: String = lines
                .get(open)
                .map(|l| l.chars().take_while(|c| c.is_whitespace()).collect())
                .filter(|i: &String| !i.is_empty())
                .unwrap_or_else(|| "    ".to_owned());
            changes.push((open + 1, open, vec![format!("{indent}{init}")]));
            edits.push(Edit {
                file: main.file.clone(),
                line: open as u32 + 1,
                what: format!("`main` starts with `{init}`"),
                why: "the runner serving the app lives in the shared library; it learns from `main` which routes this function owns".to_owned(),
            });
        }
        MainMode::ServedElsewhere { init: None } => {}
    }
    // 3. Workers started beside the server (but those whose handle `main`
    // goes on to use: taking them out would leave the use dangling).
    for st in main
        .stmts
        .iter()
        .filter(|st| st.kind == StmtKind::Spawn && !handle_used_later(text, main, st))
    {
        changes.push(commented(
            &lines,
            st,
            "cleave: a background worker was started here; see MIGRATION.md",
        ));
        edits.push(Edit {
            file: main.file.clone(),
            line: st.start,
            what: "removed a background worker started in `main`".to_owned(),
            why: "a Lambda instance is frozen between requests, so the worker would not run on its schedule; deploy it as a scheduled function".to_owned(),
        });
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (s, e, new) in changes {
        // `e == s - 1` inserts before line `s`.
        if s >= 1 && e <= lines.len() && s <= e + 1 {
            lines.splice(s - 1..e, new);
        }
    }
    let why = match mode {
        MainMode::ServedElsewhere { init: Some(_) } => {
            "this function's routes (`ROUTES`, `ELSEWHERE`), handed to the shared runner by `main`"
        }
        _ => RUNNER_WHY,
    };
    Ok(finish(lines, edits, main, runner_mod, why, header))
}

const RUNNER_WHY: &str = "the generated runner: Lambda or local server, and the guard that keeps the function to its routes";

/// Adds the runner module, `#![allow(unused)]` and the header.
fn finish(
    mut lines: Vec<String>,
    mut edits: Vec<Edit>,
    main: &BinMain,
    runner_mod: &str,
    mod_why: &str,
    header: &str,
) -> (String, Vec<Edit>) {
    // The runner module, after the file's comments and inner attributes.
    let at = lines
        .iter()
        .position(|l| {
            let t = l.trim_start();
            !(t.is_empty() || t.starts_with("//") || t.starts_with("#!["))
        })
        .unwrap_or(lines.len());
    lines.insert(at, format!("mod {runner_mod};"));
    lines.insert(at, "#![allow(unused)]".to_owned());
    edits.push(Edit {
        file: main.file.clone(),
        line: at as u32 + 1,
        what: format!("added `mod {runner_mod};`"),
        why: mod_why.to_owned(),
    });
    edits.push(Edit {
        file: main.file.clone(),
        line: at as u32 + 1,
        what: "added `#![allow(unused)]`".to_owned(),
        why: "the server wiring and workers taken out of `main` leave imports, constants and bindings unused; the function builds without warnings".to_owned(),
    });
    lines.insert(0, header.to_owned());
    let mut out = lines.join("\n");
    out.push('\n');
    (out, edits)
}

/// Replaces the serve call among `stmts` of `file` with `runner_call(app)`
/// and comments out the listener it used, when a statement there binds it.
/// Returns the line changes and the edits.
#[allow(clippy::type_complexity)]
fn replace_serve_stmt(
    lines: &[String],
    stmts: &[MainStmt],
    file: &str,
    fn_line: u32,
    runner_call: &str,
    backend: &Backend,
) -> Result<(Vec<(usize, usize, Vec<String>)>, Vec<Edit>), String> {
    let Some(serve_stmt) = stmts.iter().find(|s| s.kind == StmtKind::Serve) else {
        return Err(format!(
            "the fn at line {fn_line} serves no app cleave recognises ({}); nothing to turn into a function",
            backend.expects
        ));
    };
    let (s, e) = (serve_stmt.start as usize, serve_stmt.end as usize);
    if s == 0 || e > lines.len() {
        return Err("statement lines are outside the file".to_owned());
    }
    let stmt_text = lines[s - 1..e].join("\n");
    let mut changes = Vec::new();
    let mut edits = Vec::new();
    let (replaced, listener) = match (backend.replace_serve)(&stmt_text, runner_call) {
        Some(r) => r,
        None => {
            // `let server = HttpServer::new(..).bind(..)?;` then
            // `server.run().await`: the builder's expression stands in for
            // its name, and its own statement goes.
            let built =
                builder_of(lines, stmts, serve_stmt, &stmt_text).and_then(|(st, name, init)| {
                    let joined = replace_word_once(&stmt_text, &name, &init)?;
                    (backend.replace_serve)(&joined, runner_call).map(|r| (st, r))
                });
            let Some((st, r)) = built else {
                return Err(format!(
                    "line {s}: cannot find {} in this statement",
                    backend.expects
                ));
            };
            changes.push(commented(
                lines,
                st,
                "cleave: the server built here is built below, by the function runner",
            ));
            edits.push(Edit {
                file: file.to_owned(),
                line: st.start,
                what: "moved the server's construction into the serve statement".to_owned(),
                why: "the function runner takes the app where the server is started".to_owned(),
            });
            r
        }
    };
    edits.push(Edit {
        file: file.to_owned(),
        line: serve_stmt.start,
        what: format!("the server call became `{runner_call}(app)`"),
        why: "the function runs the same router under lambda_http on Lambda, and on 127.0.0.1:$PORT elsewhere, answering only its own routes".to_owned(),
    });
    changes.push((s, e, replaced.lines().map(str::to_owned).collect()));
    for st in stmts.iter().filter(|st| st.kind == StmtKind::Listen) {
        if !listener.is_empty() && st.binds.contains(&listener) {
            changes.push(commented(
                lines,
                st,
                "cleave: the listener is bound by the function runner",
            ));
            edits.push(Edit {
                file: file.to_owned(),
                line: st.start,
                what: format!("removed the `{listener}` listener"),
                why:
                    "on Lambda there is no socket to bind; locally the runner binds 127.0.0.1:$PORT"
                        .to_owned(),
            });
        }
    }
    Ok((changes, edits))
}

/// A change that turns statement `st` into a comment line saying `why`.
fn commented(lines: &[String], st: &MainStmt, why: &str) -> (usize, usize, Vec<String>) {
    (
        st.start as usize,
        st.end as usize,
        vec![comment_line(lines, st.start, why)],
    )
}

/// The statement before `serve` that binds a name `serve` starts from
/// (`let server = HttpServer::new(..)..;`), the name, and its initialiser.
fn builder_of<'s>(
    lines: &[String],
    stmts: &'s [MainStmt],
    serve: &MainStmt,
    serve_text: &str,
) -> Option<(&'s MainStmt, String, String)> {
    let first = serve_text.trim_start();
    stmts
        .iter()
        .filter(|st| st.end < serve.start && st.binds.len() == 1)
        .rev()
        .find_map(|st| {
            let name = &st.binds[0];
            let rest = first.strip_prefix(name.as_str())?;
            if !rest.starts_with('.') {
                return None;
            }
            let (a, b) = (st.start as usize, st.end as usize);
            if a == 0 || b > lines.len() {
                return None;
            }
            let text = lines[a - 1..b].join("\n");
            let init = text.split_once('=')?.1.trim().strip_suffix(';')?.trim();
            init.contains("::new(")
                .then(|| (st, name.clone(), init.to_owned()))
        })
}

/// `text` with its first whole-word `name` replaced by `with`.
fn replace_word_once(text: &str, name: &str, with: &str) -> Option<String> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let (i, _) = text.match_indices(name).find(|(i, _)| {
        !word(text[..*i].chars().next_back()) && !word(text[i + name.len()..].chars().next())
    })?;
    Some(format!("{}{with}{}", &text[..i], &text[i + name.len()..]))
}

/// The file of a fn other than `main` that serves the app, with its serve
/// call replaced by `runner_call(app)`. The server must be awaited where it
/// is built: a fn that returns it (`Ok(server)`) keeps its return type, which
/// the runner's future is not.
pub fn rewrite_site(
    text: &str,
    site: &ServeSite,
    runner_call: &str,
    backend: &Backend,
) -> Result<(String, Vec<Edit>), String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let (mut changes, edits) = replace_serve_stmt(
        &lines,
        &site.stmts,
        &site.file,
        site.line,
        runner_call,
        backend,
    )?;
    let awaited = changes
        .first()
        .is_some_and(|(_, _, new)| new.iter().any(|l| l.contains(".await")));
    if !awaited {
        return Err(format!(
            "line {}: `{}` builds the server and returns it without awaiting it; cleave replaces the server with the function runner where it is awaited — await it in `{}` (or start it in `main`)",
            site.stmts
                .iter()
                .find(|s| s.kind == StmtKind::Serve)
                .map_or(site.line, |s| s.start),
            site.fn_name,
            site.fn_name
        ));
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (s, e, new) in changes {
        if s >= 1 && e <= lines.len() && s <= e {
            lines.splice(s - 1..e, new);
        }
    }
    // What only the server used (the listener's address, its import) is
    // unused now: allowed where it is, so the workspace builds without
    // warnings. Lines before the fn keep their numbers until the last step.
    let mut edits = edits;
    let at = site.line as usize;
    if at >= 1 && at <= lines.len() {
        let indent: String = lines[at - 1]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        lines.insert(at - 1, format!("{indent}#[allow(unused_variables)]"));
        edits.push(Edit {
            file: site.file.clone(),
            line: site.line,
            what: format!("`{}` allows unused variables", site.fn_name),
            why: "the parameters that configured the server (its address, its listener) are no longer read".to_owned(),
        });
    }
    let file_name = site.file.rsplit('/').next().unwrap_or(&site.file);
    if !matches!(file_name, "lib.rs" | "main.rs") {
        lines.insert(0, "#![allow(unused_imports)]".to_owned());
        edits.push(Edit {
            file: site.file.clone(),
            line: 1,
            what: "the module allows unused imports".to_owned(),
            why: "the imports only the server used (its listener type) are no longer read"
                .to_owned(),
        });
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok((out, edits))
}

/// A rocket `#[launch] fn NAME() -> _` becomes a plain fn returning
/// `Rocket<Build>`, and a `main` at the end of the file serves what it
/// builds through the runner, as rocket's macro would have launched it.
fn rewrite_launch(
    lines: &mut Vec<String>,
    edits: &mut Vec<Edit>,
    main: &BinMain,
    launch: &Launch,
    runner_call: &str,
) -> Result<(), String> {
    let attr = launch.attr_line as usize;
    let Some(line) = lines.get_mut(attr.wrapping_sub(1)) else {
        return Err(format!(
            "line {attr}: the `#[launch]` attribute is outside the file"
        ));
    };
    let Some(at) = ["#[rocket::launch]", "#[launch]"]
        .iter()
        .find_map(|a| line.find(a).map(|i| (i, a.len())))
    else {
        return Err(format!(
            "line {attr}: cannot find `#[launch]` on this line; write it on a line of its own"
        ));
    };
    line.replace_range(at.0..at.0 + at.1, "");
    if line.trim().is_empty() {
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        *line = format!("{indent}// cleave: `#[launch]` became the `main` at the end of this file");
    }
    // `-> _` is only valid under `#[launch]`: name the type it infers.
    let mut typed = false;
    let last = (main.end_line as usize).min(lines.len());
    for l in lines.iter_mut().take(last).skip(attr - 1) {
        if let Some(i) = find_infer_return(l) {
            l.replace_range(i..i + 4, "-> rocket::Rocket<rocket::Build>");
            typed = true;
            break;
        }
        if l.contains('{') {
            break;
        }
    }
    let call = if main.is_async {
        format!("{}().await", launch.name)
    } else {
        format!("{}()", launch.name)
    };
    lines.push(String::new());
    lines.push(
        "// cleave: rocket's `#[launch]` would have generated this `main`; it serves through the function runner."
            .to_owned(),
    );
    lines.push("#[rocket::main]".to_owned());
    lines.push("async fn main() -> Result<(), rocket::Error> {".to_owned());
    lines.push(format!("    let _rocket = {runner_call}({call}).await?;"));
    lines.push("    Ok(())".to_owned());
    lines.push("}".to_owned());
    edits.push(Edit {
        file: main.file.clone(),
        line: launch.attr_line,
        what: format!(
            "removed `#[launch]` from `{}`{} and added a `main` that serves it with `{runner_call}`",
            launch.name,
            if typed { ", whose `-> _` became `-> rocket::Rocket<rocket::Build>`" } else { "" }
        ),
        why: "rocket's `#[launch]` generates a `main` that launches the server; the function's `main` runs the same `Rocket` under lambda_http on Lambda, and on 127.0.0.1:$PORT elsewhere, answering only its own routes".to_owned(),
    });
    Ok(())
}

/// Byte offset of `-> _` (followed by a space, `{` or the line's end).
fn find_infer_return(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find("-> _") {
        let at = from + i;
        let after = line[at + 4..].chars().next();
        if after.is_none_or(|c| c.is_whitespace() || c == '{') {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

fn comment_line(lines: &[String], line: u32, text: &str) -> String {
    let indent: String = lines
        .get(line as usize - 1)
        .map(|l| l.chars().take_while(|c| c.is_whitespace()).collect())
        .unwrap_or_default();
    format!("{indent}// {text}")
}

/// In `stmt`, replaces `path::serve(A, B)` with `call(B)` (without a
/// trailing `.into_make_service()`); returns the text and `A`.
pub fn replace_serve(stmt: &str, call: &str) -> Option<(String, String)> {
    let bytes = stmt.as_bytes();
    let mut search = 0;
    while let Some(rel) = stmt[search..].find("serve(") {
        let at = search + rel;
        search = at + 1;
        // `serve` must be a whole word: not `.serve(` (a method) nor `observe(`.
        let before = stmt[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        // Walk back over a `a::b::` path.
        let mut start = at;
        while start >= 2 && &stmt[start - 2..start] == "::" {
            let seg_end = start - 2;
            let seg_start = stmt[..seg_end]
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
                .last()
                .map(|(i, _)| i)
                .unwrap_or(seg_end);
            if seg_start == seg_end {
                break;
            }
            start = seg_start;
        }
        let open = at + "serve".len();
        let close = matching_paren(bytes, open)?;
        let args = split_args(&stmt[open + 1..close]);
        if args.len() != 2 {
            continue;
        }
        let listener = args[0].trim().to_owned();
        let mut app = args[1].trim().to_owned();
        for suffix in [".into_make_service()"] {
            if let Some(s) = app.strip_suffix(suffix) {
                app = s.to_owned();
            }
        }
        if let Some(i) = app.find(".into_make_service_with_connect_info") {
            app.truncate(i);
        }
        let out = format!("{}{call}({app}){}", &stmt[..start], &stmt[close + 1..]);
        return Some((out, listener));
    }
    None
}

fn matching_paren(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut in_str = false;
    let mut i = open;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_str = false;
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut cur = String::new();
    let mut prev = '\0';
    for c in s.chars() {
        if in_str {
            if c == '"' && prev != '\\' {
                in_str = false;
            }
            cur.push(c);
        } else {
            match c {
                '"' => {
                    in_str = true;
                    cur.push(c);
                }
                '(' | '[' | '{' | '<' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' | ']' | '}' | '>' => {
                    depth -= 1;
                    cur.push(c);
                }
                ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        prev = c;
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_calls_are_replaced_with_the_runner() {
        let cases = [
            (
                "    axum::serve(listener, shop::app(state)).await?;",
                "    cleave_lambda::serve(shop::app(state)).await?;",
            ),
            (
                "    serve(l, app.into_make_service()).with_graceful_shutdown(s()).await.unwrap()",
                "    cleave_lambda::serve(app).with_graceful_shutdown(s()).await.unwrap()",
            ),
            (
                "let r = observe(x); axum::serve(a, b).await",
                "let r = observe(x); cleave_lambda::serve(b).await",
            ),
        ];
        for (input, want) in cases {
            let (got, _) = replace_serve(input, "cleave_lambda::serve").expect("replaced");
            assert_eq!(got, want);
        }
        assert!(replace_serve("server.serve(app)", "x").is_none());
    }

    /// The `main` of a one-binary package whose `src/main.rs` is `text`,
    /// with `deps` under `[dependencies]`, as the analysis describes it.
    fn analysed_main(deps: &str, text: &str) -> BinMain {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
            ),
        )
        .expect("manifest");
        std::fs::write(dir.path().join("src/main.rs"), text).expect("main");
        let a = cleave_analyzer::analysis::analyze(dir.path()).expect("analysed");
        a.mains.into_iter().next().expect("a main")
    }

    /// A project whose `main` spawns a worker bound to `worker`, then `rest`.
    fn main_spawning(rest: &str) -> (String, BinMain) {
        let text = format!(
            "async fn tick() {{}}\n#[tokio::main]\nasync fn main() {{\n    let worker = tokio::spawn(tick());\n{rest}\n}}\n"
        );
        let main = analysed_main("", &text);
        (text, main)
    }

    #[test]
    fn a_worker_whose_handle_main_uses_stays() {
        for (rest, used) in [
            ("    tokio::select! { _ = worker => {} }", true),
            ("    worker.await.ok();", true),
            ("    let workers = 2;", false),
            ("    let _ = 1;", false),
        ] {
            let (text, main) = main_spawning(rest);
            let spawn = main
                .stmts
                .iter()
                .find(|st| st.kind == StmtKind::Spawn)
                .expect("the spawn statement");
            assert_eq!(handle_used_later(&text, &main, spawn), used, "{rest}");
        }
    }

    #[test]
    fn a_server_built_in_one_statement_and_run_in_the_next_is_replaced() {
        let text = r#"use actix_web::{web, App, HttpServer};

async fn hello() -> &'static str {
    "hello"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let server = HttpServer::new(|| App::new().route("/", web::get().to(hello)))
        .bind("127.0.0.1:8080")?
        .workers(2);
    server.run().await
}
"#;
        let main = &analysed_main("actix-web = \"4\"\n", text);
        let backend = crate::runner::backend(cleave_analyzer::entrypoints::Framework::ActixWeb)
            .expect("the actix backend");
        let (out, edits) = rewrite(
            text,
            main,
            "cleave_lambda",
            "cleave_lambda::serve",
            &backend,
            "// header",
            MainMode::Serves,
        )
        .expect("rewritten");
        assert!(
            out.contains(
                "cleave_lambda::serve(|| App::new().route(\"/\", web::get().to(hello))).await"
            ),
            "{out}"
        );
        assert!(!out.contains("HttpServer::new"), "{out}");
        assert!(!out.contains("server.run()"), "{out}");
        assert!(
            edits.iter().any(|e| e.what.contains("construction")),
            "{edits:?}"
        );
    }
}
