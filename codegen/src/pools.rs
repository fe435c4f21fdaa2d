//! `[deploy] pool_max = N`: every connection pool the analysis found gets
//! its size capped at N in the generated code, one edit per pool, listed in
//! MIGRATION.md with the monolith's file:line.
//!
//! The analyzer says where each pool's size is written, or can be written
//! ([`PoolSize`]): a call named by its method or path on a line. This
//! module finds that call in the file's syntax (syn, with line and byte
//! positions) and replaces or inserts text at its byte range; it does not
//! scan text. A pool whose site is not in the syntax (inside a macro's
//! tokens), or whose library takes its size elsewhere (a config struct,
//! Rocket.toml), is left as it is and listed with the library's own way to
//! size it.
//!
//! The edited files reach the rest of `generate` through [`Overlay`], a
//! [`Source`] that returns them in place of the monolith's, so every place
//! that copies a file copies the edited one.

use std::collections::BTreeMap;
use std::ops::Range;

use cleave_analyzer::hazards::{Hazard, PoolSize};
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::Source;
use crate::docs::Edit;

/// One connection pool and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolNote {
    pub file: String,
    pub line: u32,
    pub item: String,
    /// What cleave did, or what to do by hand, in a sentence.
    pub status: String,
}

/// The pools' edits, the files they change and a note per pool.
#[derive(Debug, Default)]
pub struct Caps {
    /// Edited contents, by the monolith's relative path.
    pub files: BTreeMap<String, Vec<u8>>,
    pub edits: Vec<Edit>,
    pub notes: Vec<PoolNote>,
}

/// Caps every `connection-pool` hazard's pool at `max` (`None`: no
/// `pool_max` in the plan, so only notes are made).
pub fn cap(hazards: &[Hazard], source: &dyn Source, max: Option<u32>) -> Caps {
    let mut out = Caps::default();
    let mut planned: BTreeMap<&str, Vec<Located>> = BTreeMap::new();
    for h in hazards.iter().filter(|h| h.code == "connection-pool") {
        let note = |status: String| PoolNote {
            file: h.file.clone(),
            line: h.line,
            item: h.item.clone(),
            status,
        };
        let Some(max) = max else {
            let status = match h.pool {
                Some(_) => "not capped: set `[deploy] pool_max = 2` in the plan and cleave writes the cap into the generated code".to_owned(),
                None => "not capped: size it by hand (see the advice above)".to_owned(),
            };
            out.notes.push(note(status));
            continue;
        };
        let Some(site) = &h.pool else {
            out.notes.push(note(format!(
                "not capped: this library takes its size elsewhere; set it to {max} by hand (see the advice above)"
            )));
            continue;
        };
        if let PoolSize::Cap { value: Some(v), .. } = site
            && *v <= u64::from(max)
        {
            out.notes.push(note(format!(
                "left as written: its size, {v}, is within pool_max"
            )));
            continue;
        }
        let text = source
            .read(&h.file)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some(edit) = text.as_deref().and_then(|t| locate(t, site, max)) else {
            out.notes.push(note(format!(
                "not capped: the call is not in the file's syntax as the analysis saw it (inside a macro?); set its size to {max} by hand"
            )));
            continue;
        };
        let (range, replacement, line, what) = edit;
        out.notes.push(note(format!(
            "capped at {max}: {what} (`{}:{line}`)",
            h.file
        )));
        planned
            .entry(h.file.as_str())
            .or_default()
            .push((range, replacement, line, what));
    }
    for (file, mut edits) in planned {
        let Some(mut text) = source
            .read(file)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            continue;
        };
        // Back to front, so earlier ranges stay put; one pool, one edit.
        edits.sort_by_key(|e| std::cmp::Reverse(e.0.start));
        edits.dedup_by(|a, b| a.0 == b.0);
        for (range, replacement, line, what) in edits {
            text.replace_range(range, &replacement);
            out.edits.push(Edit {
                file: file.to_owned(),
                line,
                what,
                why: format!(
                    "the plan's `[deploy] pool_max = {}`: each Lambda instance serves one request at a time, and every instance opens its own pool",
                    max.unwrap_or_default()
                ),
            });
        }
        out.files.insert(file.to_owned(), text.into_bytes());
    }
    out.edits.sort();
    out
}

/// An edit found in a file: the byte range to replace, its replacement,
/// the line and a description.
type Located = (Range<usize>, String, u32, String);

/// The edit a [`PoolSize`] makes in `text`; `None` when its call is not
/// found.
fn locate(text: &str, site: &PoolSize, max: u32) -> Option<Located> {
    let file = syn::parse_file(text).ok()?;
    let mut finder = Finder { site, found: None };
    finder.visit_file(&file);
    let (range, line) = finder.found?;
    let written = text.get(range.clone())?;
    Some(match site {
        PoolSize::Cap { method, .. } => (
            range,
            format!("::std::cmp::min({written}, {max})"),
            line,
            format!("`.{method}({written})` became `.{method}(::std::cmp::min({written}, {max}))`"),
        ),
        PoolSize::Insert { method, .. } => (
            range.end..range.end,
            format!(".{method}({max})"),
            line,
            format!("`.{method}({max})` added after `{written}`"),
        ),
        PoolSize::Options { options, call, .. } => {
            let replacement = format!("{options}::new().max_connections({max}).{call}");
            (
                range,
                replacement.clone(),
                line,
                format!("`{written}(..)` became `{replacement}(..)`"),
            )
        }
    })
}

/// Finds the call a [`PoolSize`] names: the first on its line.
struct Finder<'s> {
    site: &'s PoolSize,
    /// The byte range to edit and its line.
    found: Option<(Range<usize>, u32)>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if self.found.is_none()
            && let PoolSize::Cap { line, method, .. } = self.site
            && call.method == method
            && call.method.span().start().line as u32 == *line
            && call.args.len() == 1
        {
            let arg = &call.args[0];
            self.found = Some((arg.span().byte_range(), *line));
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if self.found.is_none()
            && let syn::Expr::Path(path) = &*call.func
        {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let last_line = path
                .path
                .segments
                .last()
                .map(|s| s.ident.span().start().line as u32);
            match self.site {
                PoolSize::Insert { line, ctor, .. }
                    if segments.last() == Some(ctor) && last_line == Some(*line) =>
                {
                    self.found = Some((call.span().byte_range(), *line));
                }
                PoolSize::Options {
                    line,
                    owner,
                    call: f,
                    ..
                } if segments.ends_with(&[owner.clone(), f.clone()])
                    && last_line == Some(*line) =>
                {
                    self.found = Some((call.func.span().byte_range(), *line));
                }
                _ => {}
            }
        }
        syn::visit::visit_expr_call(self, call);
    }
}

/// The monolith's files, with the edited ones in place of theirs.
pub struct Overlay<'a> {
    pub inner: &'a dyn Source,
    pub files: &'a BTreeMap<String, Vec<u8>>,
}

impl Source for Overlay<'_> {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        match self.files.get(rel) {
            Some(bytes) => Ok(bytes.clone()),
            None => self.inner.read(rel),
        }
    }

    fn files(&self, dir: &str, skip: &[String]) -> Vec<String> {
        self.inner.files(dir, skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_edit(text: &str, site: PoolSize) -> String {
        let (range, replacement, _, _) = locate(text, &site, 2).expect("found");
        let mut out = text.to_owned();
        out.replace_range(range, &replacement);
        out
    }

    #[test]
    fn a_written_size_is_capped() {
        let text = "/// Opens the pool.\n/// Twice.\nasync fn connect(url: &str, cfg: &Cfg) {\n    PgPoolOptions::new()\n        .max_connections(cfg.db.pool_size)\n        .connect(url)\n        .await;\n}\n";
        let site = PoolSize::Cap {
            line: 5,
            method: "max_connections".to_owned(),
            value: None,
        };
        expect_test::expect![[r#"
            /// Opens the pool.
            /// Twice.
            async fn connect(url: &str, cfg: &Cfg) {
                PgPoolOptions::new()
                    .max_connections(::std::cmp::min(cfg.db.pool_size, 2))
                    .connect(url)
                    .await;
            }
        "#]]
        .assert_eq(&site_edit(text, site));
    }

    #[test]
    fn a_size_is_added_after_the_constructor() {
        let text = "fn pool(m: M) -> Pool<M> {\n    let é = \"ü\";\n    r2d2::Pool::builder().min_idle(Some(1)).build(m).unwrap()\n}\n";
        let site = PoolSize::Insert {
            line: 3,
            ctor: "builder".to_owned(),
            method: "max_size".to_owned(),
        };
        expect_test::expect![[r#"
            fn pool(m: M) -> Pool<M> {
                let é = "ü";
                r2d2::Pool::builder().max_size(2).min_idle(Some(1)).build(m).unwrap()
            }
        "#]]
        .assert_eq(&site_edit(text, site));
    }

    #[test]
    fn a_pool_connect_becomes_options() {
        let text = "async fn db(url: &str) -> PgPool {\n    sqlx::PgPool::connect(url).await.unwrap()\n}\n";
        let site = PoolSize::Options {
            line: 2,
            owner: "PgPool".to_owned(),
            call: "connect".to_owned(),
            options: "::sqlx::postgres::PgPoolOptions".to_owned(),
        };
        expect_test::expect![[r#"
            async fn db(url: &str) -> PgPool {
                ::sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.unwrap()
            }
        "#]]
        .assert_eq(&site_edit(text, site));
    }

    #[test]
    fn a_call_inside_macro_tokens_is_not_found() {
        let text = "lazy_static! {\n    static ref P: Pool = Pool::builder().build(m);\n}\n";
        let site = PoolSize::Insert {
            line: 2,
            ctor: "builder".to_owned(),
            method: "max_size".to_owned(),
        };
        assert!(locate(text, &site, 2).is_none());
    }
}
