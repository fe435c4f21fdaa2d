//! The edits that let a worker function run a scheduler library's job once
//! per scheduled event.
//!
//! A job is no loop with a wait to take over: the library calls its
//! closure when its own schedule says. So two edits, on the lines the
//! analysis named (a [`JobGate`]): the pace argument (the cron expression,
//! the interval) becomes `::cleave_lambda::pace("<name>", <pace>,
//! <driven>)`, which in the job's worker function on Lambda is every
//! second and elsewhere the job's own; and the closure's work (the body of
//! its `async` block, else its body) starts with `let Some(_cleave_round)
//! = ::cleave_lambda::round("<name>") else { return; };`, which lets a run
//! through off Lambda always, in the job's worker function only when an
//! event waits (answered when the run ends), and in other functions never.
//! Lines do not move.

use std::ops::Range;

use cleave_analyzer::entrypoints::workers::work::{ArgAt, JobGate};
use syn::spanned::Spanned;
use syn::visit::Visit;

use super::Pending;

/// The two edits of a job, or why it cannot be edited.
pub(super) fn gate_job(
    name: &str,
    job: &JobGate,
    syntax: &mut dyn FnMut(&str) -> Option<(String, syn::File)>,
) -> Result<Vec<Pending>, String> {
    let Some((text, tree)) = syntax(&job.file) else {
        return Err(format!("`{}` cannot be read as Rust", job.file));
    };
    let at = format!("{}:{}", job.file, job.line);
    let not_found = |what: &str| {
        format!(
            "the job at {at}: its {what} is not in the syntax cleave edits (inside a macro's \
             tokens?)"
        )
    };
    let pace = argument(&tree, &job.pace).ok_or_else(|| not_found("pace"))?;
    let closure = argument(&tree, &job.closure).ok_or_else(|| not_found("closure"))?;
    let syn::Expr::Closure(closure) = peel(closure) else {
        return Err(format!("the job at {at} is not a closure"));
    };
    let pace_range = pace.span().byte_range();
    let Some(pace_text) = text.get(pace_range.clone()) else {
        return Err(format!("`{}` changed while read", job.file));
    };
    let why = format!(
        "worker `{name}` runs this job once per scheduled event on Lambda: its scheduler looks \
         for an event every second there; off Lambda the job runs on its own schedule, and \
         other functions never run it"
    );
    let guard = format!(
        "let ::std::option::Option::Some(_cleave_round) = ::cleave_lambda::round({name:?}) else \
         {{ return; }};"
    );
    let body = match first_async_block(&closure.body) {
        Some(open) => (open..open, format!(" {guard}")),
        None => match closure.body.as_ref() {
            syn::Expr::Block(b) if b.label.is_none() => {
                let open = b.block.brace_token.span.open().byte_range().end;
                (open..open, format!(" {guard}"))
            }
            other => {
                let r = other.span().byte_range();
                let Some(written) = text.get(r.clone()) else {
                    return Err(format!("`{}` changed while read", job.file));
                };
                (r, format!("{{ {guard} {written} }}"))
            }
        },
    };
    let line = |r: &Range<usize>| 1 + text.get(..r.start).map_or(0, |t| t.matches('\n').count());
    Ok(vec![
        Pending {
            range: pace_range.clone(),
            replacement: format!(
                "::cleave_lambda::pace({name:?}, {pace_text}, {})",
                job.driven
            ),
            line: line(&pace_range) as u32,
            what: format!(
                "the job's pace `{pace_text}` wrapped in `::cleave_lambda::pace({name:?}, .., \
                 {})`",
                job.driven
            ),
            why: why.clone(),
        },
        Pending {
            line: line(&body.0) as u32,
            range: body.0,
            replacement: body.1,
            what: format!(
                "the job's work starts with `let Some(_cleave_round) = \
                 ::cleave_lambda::round({name:?}) else {{ return; }};`"
            ),
            why,
        },
    ])
}

fn peel(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => peel(&p.expr),
        syn::Expr::Group(g) => peel(&g.expr),
        other => other,
    }
}

/// The argument `at` names: of the call whose path's first segment, or
/// of the method call whose name, is on `at.line`.
fn argument<'t>(tree: &'t syn::File, at: &ArgAt) -> Option<&'t syn::Expr> {
    struct Find<'t, 'a> {
        at: &'a ArgAt,
        found: Option<&'t syn::Expr>,
    }
    impl<'t> Visit<'t> for Find<'t, '_> {
        fn visit_expr_call(&mut self, c: &'t syn::ExprCall) {
            if self.found.is_none()
                && let syn::Expr::Path(p) = peel(&c.func)
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == self.at.call)
            {
                let line = match (&p.path.leading_colon, p.path.segments.first()) {
                    (Some(c), _) => c.spans[0].start().line,
                    (None, Some(s)) => s.ident.span().start().line,
                    (None, None) => 0,
                };
                if line as u32 == self.at.line {
                    self.found = c.args.iter().nth(self.at.index);
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'t syn::ExprMethodCall) {
            if self.found.is_none()
                && m.method == self.at.call
                && m.method.span().start().line as u32 == self.at.line
            {
                self.found = m.args.iter().nth(self.at.index);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut f = Find { at, found: None };
    f.visit_file(tree);
    f.found
}

/// Where the first `async` block of a closure's body opens (just after
/// its `{`); closures nested in it are not entered.
fn first_async_block(body: &syn::Expr) -> Option<usize> {
    struct Find(Option<usize>);
    impl<'t> Visit<'t> for Find {
        fn visit_expr_async(&mut self, a: &'t syn::ExprAsync) {
            if self.0.is_none() {
                self.0 = Some(a.block.brace_token.span.open().byte_range().end);
            }
        }
        fn visit_expr_closure(&mut self, _: &'t syn::ExprClosure) {}
    }
    let mut f = Find(None);
    f.visit_expr(body);
    f.0
}
