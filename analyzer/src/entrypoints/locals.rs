//! Locals: the `let` bindings of a fn body, as every detector reads them
//! (route lists held in locals, prefixes bound before a mount, workers
//! spawned from a bound closure). Plain reads of the lowered syntax.

use crate::syntax::{Block, Expr, Pat, Stmt};

/// The initialiser of the last `let name = ..` anywhere in a block, nested blocks and closures included.
pub(crate) fn find_let<'e>(b: &'e Block, name: &str) -> Option<&'e Expr> {
    let mut found = None;
    lets_in_block(b, &mut |n, init| {
        if n == name {
            found = Some(init);
        }
    });
    found
}

/// Calls `f` with every `let name = init` of a block, in source order.
pub(crate) fn lets_in_block<'e>(b: &'e Block, f: &mut dyn FnMut(&'e str, &'e Expr)) {
    for s in &b.stmts {
        match s {
            Stmt::Let { pat, init, .. } => {
                if let Some(init) = init {
                    lets_in_expr(init, f);
                    if let Some(n) = pat_name(pat) {
                        f(n, init);
                    }
                }
            }
            Stmt::Expr(e) | Stmt::Semi(e) => lets_in_expr(e, f),
            Stmt::Item(_) => {}
        }
    }
}

fn lets_in_expr<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e str, &'e Expr)) {
    let mut blocks: Vec<&'e Block> = Vec::new();
    e.walk(&mut |x| match x {
        Expr::Block { block, .. } => blocks.push(block),
        Expr::If { then, .. } => blocks.push(then),
        Expr::Loop { body, .. } => blocks.push(body),
        _ => {}
    });
    // `walk` already visits the expressions of nested blocks; only their
    // `let`s need reading, one level at a time.
    for b in blocks {
        for s in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = s
                && let Some(n) = pat_name(pat)
            {
                f(n, init);
            }
        }
    }
}

pub(crate) fn pat_name(p: &Pat) -> Option<&str> {
    match p {
        Pat::Ident(n) => Some(n),
        Pat::Ref(inner) => pat_name(inner),
        _ => None,
    }
}
