//! The first and last line of a statement, read from the spans of its first
//! and last tokens.
//!
//! `Spanned::span` would give the same lines by printing the statement back
//! to tokens and joining the first and last token's spans; every fn body
//! statement needs its lines, so that printing was like lowering each body
//! twice. Here the first and last tokens are found in the syntax tree
//! instead, for the shapes statements almost always have; any other shape
//! (an attribute on an expression, a label, a closure head, a cast's type,
//! generic arguments at the end of a path) falls back to `Spanned::span`.
//! Never touches the disk.

use proc_macro2::Span;
use syn::spanned::Spanned;

/// First and last line of a statement, as `Spanned::span` gives them.
pub(super) fn stmt_lines(s: &syn::Stmt) -> (u32, u32) {
    let fast = match s {
        syn::Stmt::Local(l) => Some((
            match l.attrs.first() {
                Some(a) => line(a.pound_token.span),
                None => line(l.let_token.span),
            },
            end(l.semi_token.span),
        )),
        syn::Stmt::Expr(e, semi) => first_line(e).zip(match semi {
            Some(semi) => Some(end(semi.span)),
            None => last_line(e),
        }),
        syn::Stmt::Macro(m) => {
            let first = match m.attrs.first() {
                Some(a) => Some(line(a.pound_token.span)),
                None => path_first_line(&m.mac.path),
            };
            first.map(|first| {
                let last = match &m.semi_token {
                    Some(semi) => end(semi.span),
                    None => end(m.mac.delimiter.span().close()),
                };
                (first, last)
            })
        }
        syn::Stmt::Item(_) => None,
    };
    fast.unwrap_or_else(|| {
        let span = s.span();
        (line(span), end(span))
    })
}

fn line(span: Span) -> u32 {
    span.start().line as u32
}

fn end(span: Span) -> u32 {
    span.end().line as u32
}

/// The line of a path's first token, without `<qself>`.
fn path_first_line(p: &syn::Path) -> Option<u32> {
    match (&p.leading_colon, p.segments.first()) {
        (Some(c), _) => Some(line(c.spans[0])),
        (None, Some(s)) => Some(line(s.ident.span())),
        (None, None) => None,
    }
}

/// The line of an expression's first token, where the tree shows it plainly.
fn first_line(e: &syn::Expr) -> Option<u32> {
    use syn::Expr as E;
    match e {
        E::Array(x) if x.attrs.is_empty() => Some(line(x.bracket_token.span.open())),
        E::Assign(x) if x.attrs.is_empty() => first_line(&x.left),
        E::Async(x) if x.attrs.is_empty() => Some(line(x.async_token.span)),
        E::Await(x) if x.attrs.is_empty() => first_line(&x.base),
        E::Binary(x) if x.attrs.is_empty() => first_line(&x.left),
        E::Block(x) if x.attrs.is_empty() && x.label.is_none() => {
            Some(line(x.block.brace_token.span.open()))
        }
        E::Break(x) if x.attrs.is_empty() => Some(line(x.break_token.span)),
        E::Call(x) if x.attrs.is_empty() => first_line(&x.func),
        E::Cast(x) if x.attrs.is_empty() => first_line(&x.expr),
        E::Continue(x) if x.attrs.is_empty() => Some(line(x.continue_token.span)),
        E::Field(x) if x.attrs.is_empty() => first_line(&x.base),
        E::ForLoop(x) if x.attrs.is_empty() && x.label.is_none() => Some(line(x.for_token.span)),
        E::If(x) if x.attrs.is_empty() => Some(line(x.if_token.span)),
        E::Index(x) if x.attrs.is_empty() => first_line(&x.expr),
        E::Let(x) if x.attrs.is_empty() => Some(line(x.let_token.span)),
        E::Lit(x) if x.attrs.is_empty() => Some(line(x.lit.span())),
        E::Loop(x) if x.attrs.is_empty() && x.label.is_none() => Some(line(x.loop_token.span)),
        E::Macro(x) if x.attrs.is_empty() => path_first_line(&x.mac.path),
        E::Match(x) if x.attrs.is_empty() => Some(line(x.match_token.span)),
        E::MethodCall(x) if x.attrs.is_empty() => first_line(&x.receiver),
        E::Paren(x) if x.attrs.is_empty() => Some(line(x.paren_token.span.open())),
        E::Path(x) if x.attrs.is_empty() && x.qself.is_none() => path_first_line(&x.path),
        E::Range(x) if x.attrs.is_empty() => first_line(x.start.as_deref()?),
        E::Reference(x) if x.attrs.is_empty() => Some(line(x.and_token.span)),
        E::Return(x) if x.attrs.is_empty() => Some(line(x.return_token.span)),
        E::Struct(x) if x.attrs.is_empty() && x.qself.is_none() => path_first_line(&x.path),
        E::Try(x) if x.attrs.is_empty() => first_line(&x.expr),
        E::Tuple(x) if x.attrs.is_empty() => Some(line(x.paren_token.span.open())),
        E::Unary(x) if x.attrs.is_empty() => Some(line(match &x.op {
            syn::UnOp::Deref(t) => t.span,
            syn::UnOp::Not(t) => t.span,
            syn::UnOp::Neg(t) => t.span,
            _ => return None,
        })),
        E::Unsafe(x) if x.attrs.is_empty() => Some(line(x.unsafe_token.span)),
        E::While(x) if x.attrs.is_empty() && x.label.is_none() => Some(line(x.while_token.span)),
        _ => None,
    }
}

/// The line an expression's last token ends on, where the tree shows it plainly.
fn last_line(e: &syn::Expr) -> Option<u32> {
    use syn::Expr as E;
    match e {
        E::Array(x) => Some(end(x.bracket_token.span.close())),
        E::Assign(x) => last_line(&x.right),
        E::Async(x) => Some(end(x.block.brace_token.span.close())),
        E::Await(x) => Some(end(x.await_token.span)),
        E::Binary(x) => last_line(&x.right),
        E::Block(x) => Some(end(x.block.brace_token.span.close())),
        E::Break(x) => match (&x.expr, &x.label) {
            (Some(e), _) => last_line(e),
            (None, None) => Some(end(x.break_token.span)),
            (None, Some(_)) => None,
        },
        E::Call(x) => Some(end(x.paren_token.span.close())),
        E::Closure(x) => last_line(&x.body),
        E::Const(x) => Some(end(x.block.brace_token.span.close())),
        E::Continue(x) if x.label.is_none() => Some(end(x.continue_token.span)),
        E::Field(x) => Some(end(match &x.member {
            syn::Member::Named(i) => i.span(),
            syn::Member::Unnamed(i) => i.span,
        })),
        E::ForLoop(x) => Some(end(x.body.brace_token.span.close())),
        E::If(x) => match &x.else_branch {
            Some((_, e)) => last_line(e),
            None => Some(end(x.then_branch.brace_token.span.close())),
        },
        E::Index(x) => Some(end(x.bracket_token.span.close())),
        E::Let(x) => last_line(&x.expr),
        E::Lit(x) => Some(end(x.lit.span())),
        E::Loop(x) => Some(end(x.body.brace_token.span.close())),
        E::Macro(x) => Some(end(x.mac.delimiter.span().close())),
        E::Match(x) => Some(end(x.brace_token.span.close())),
        E::MethodCall(x) => Some(end(x.paren_token.span.close())),
        E::Paren(x) => Some(end(x.paren_token.span.close())),
        E::Path(x) => {
            let last = x.path.segments.last()?;
            matches!(last.arguments, syn::PathArguments::None).then(|| end(last.ident.span()))
        }
        E::Range(x) => last_line(x.end.as_deref()?),
        E::Reference(x) => last_line(&x.expr),
        E::Return(x) => match &x.expr {
            Some(e) => last_line(e),
            None => Some(end(x.return_token.span)),
        },
        E::Struct(x) => Some(end(x.brace_token.span.close())),
        E::Try(x) => Some(end(x.question_token.span)),
        E::TryBlock(x) => Some(end(x.block.brace_token.span.close())),
        E::Tuple(x) => Some(end(x.paren_token.span.close())),
        E::Unary(x) => last_line(&x.expr),
        E::Unsafe(x) => Some(end(x.block.brace_token.span.close())),
        E::While(x) => Some(end(x.body.brace_token.span.close())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use syn::spanned::Spanned;
    use syn::visit::Visit;

    /// Every fn body statement of a file: the fast lines and `span()`'s agree.
    fn check_file(text: &str) -> usize {
        struct Bodies(usize);
        impl<'ast> Visit<'ast> for Bodies {
            fn visit_block(&mut self, b: &'ast syn::Block) {
                for s in &b.stmts {
                    let span = s.span();
                    let slow = (span.start().line as u32, span.end().line as u32);
                    assert_eq!(super::stmt_lines(s), slow, "statement at line {}", slow.0);
                    self.0 += 1;
                }
                syn::visit::visit_block(self, b);
            }
        }
        let Ok(file) = syn::parse_file(text) else {
            return 0;
        };
        let mut v = Bodies(0);
        v.visit_file(&file);
        proc_macro2::extra::invalidate_current_thread_spans();
        v.0
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn statement_shapes() {
        let text = r##"
fn f() {
    let x = 1;
    #[allow(unused)]
    let y: Vec<u8> = vec![
        1,
    ];
    x.foo(
        y,
    )
    .await?;
    if a { b } else if c { d } else {
        e
    }
    match m {
        _ => {}
    }
    'outer: loop { break 'outer; }
    for i in 0..n {}
    while let Some(x) = it.next() {}
    println!("{}",
        x);
    m! { a }
    Foo { a: 1 }.bar;
    a = b + c
        * d;
    (a, b);
    [1, 2][0];
    -x;
    !y;
    *z = 1;
    &w;
    x as u64;
    ::std::mem::drop(x);
    <T as Tr>::f();
    Vec::<u8>::new;
    let f = |a| a + 1;
    return;
    return x
        .y;
    async move { 1 }.await;
    unsafe { f() };
    x.0;
    x.field;
    r#"raw
"#;
    ..;
    a..b;
    fn inner() {}
    continue;
    #[cfg(x)] f();
    loop {}
}
"##;
        assert!(check_file(text) > 30);
    }

    /// The crates of this workspace, the fixtures, and whatever
    /// `CLEAVE_LINES_CORPUS` names (a directory of Rust files).
    #[test]
    fn agree_with_span_on_real_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["analyzer", "codegen", "src", "fixtures", "tests"] {
            rust_files(&root.join(dir), &mut files);
        }
        if let Ok(extra) = std::env::var("CLEAVE_LINES_CORPUS") {
            rust_files(std::path::Path::new(&extra), &mut files);
        }
        let mut stmts = 0;
        for f in &files {
            if let Ok(text) = std::fs::read_to_string(f) {
                stmts += check_file(&text);
            }
        }
        assert!(stmts > 1000, "{stmts} statements checked");
    }
}
