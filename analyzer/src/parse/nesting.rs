//! Nesting: how deeply a file's code may nest, estimated from its text
//! before `syn` reads it.
//!
//! `syn`, the lowering and every later stage walk expressions recursively,
//! so a pathological file (a million `(`, a chain of a hundred thousand
//! `.f()`, generated `Vec<Vec<..>>` towers) would overflow any stack. The
//! estimate is an upper bound of the depth of the syntax tree: the number of
//! open brackets plus, on each bracket level, the tokens since the last `,`,
//! `;` or closed `{..}` block (each token can open at most one level: `!x`,
//! `a + b`, `x.f()`, `|| e`, `Vec<T>`). Strings, chars and comments are
//! skipped. A file over [`MAX_NESTING`] is not parsed. The same pass tells
//! `docs` of the comments, brackets and tokens it meets, so that a file's
//! text is read once before `syn` reads it ([`scan`]). Never touches the disk.

use std::borrow::Cow;

use super::docs::{Docs, Tok};

/// The deepest estimate accepted. Real code stays far below it (a router
/// built from 600 chained `.route(..)` calls is about 2,000); the stack of
/// `stack::STACK_BYTES` holds it even in a debug build.
pub const MAX_NESTING: usize = 8_000;

/// The text `syn` is given (doc comments blanked, see `docs`), or the
/// 1-based line where the nesting estimate first exceeds `max`.
pub fn scan(text: &str, max: usize) -> Result<Cow<'_, str>, u32> {
    let b = text.as_bytes();
    let mut docs = Docs::new();
    // Per open bracket level: tokens since the last separator.
    let mut runs: Vec<usize> = vec![0];
    let mut sum = 0usize;
    // A `{..}` just closed on the current level: the next token starts a new
    // run unless it continues the expression (`else`, `.`, `?`).
    let mut after_block = false;
    let mut line = 1u32;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        i += 1;
        match c {
            b'\n' => {
                line += 1;
                continue;
            }
            // Indentation is most of a file's bytes: skipped as a run.
            b' ' | b'\t' | b'\r' => {
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r') {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i) == Some(&b'/') => {
                i = b[i..]
                    .iter()
                    .position(|x| *x == b'\n')
                    .map_or(b.len(), |n| i + n);
                docs.comment(b, start, i);
                continue;
            }
            b'/' if b.get(i) == Some(&b'*') => {
                let mut depth = 1;
                i += 1;
                while i < b.len() && depth > 0 {
                    match (b[i], b.get(i + 1)) {
                        (b'/', Some(b'*')) => (depth, i) = (depth + 1, i + 2),
                        (b'*', Some(b'/')) => (depth, i) = (depth - 1, i + 2),
                        (b'\n', _) => (line, i) = (line + 1, i + 1),
                        _ => i += 1,
                    }
                }
                if depth == 0 {
                    docs.comment(b, start, i);
                } else {
                    docs.unsure();
                }
                continue;
            }
            _ => {}
        }
        let continues = matches!(c, b'.' | b'?') || b[start..].starts_with(b"else");
        if after_block && !continues {
            let run = runs.last_mut().map(std::mem::take).unwrap_or(0);
            sum -= run;
        }
        after_block = false;
        match c {
            b'(' | b'[' | b'{' => {
                bump(&mut runs, &mut sum);
                runs.push(0);
                docs.open();
            }
            b')' | b']' | b'}' => {
                if runs.len() > 1 {
                    sum -= runs.pop().unwrap_or(0);
                }
                after_block = c == b'}';
                docs.close();
            }
            b',' | b';' => {
                let run = runs.last_mut().map(std::mem::take).unwrap_or(0);
                sum -= run;
                docs.token(Tok::Other);
            }
            b'"' => {
                i = skip_quoted(b, i, &mut line);
                bump(&mut runs, &mut sum);
                docs.token(Tok::Other);
            }
            b'\'' => {
                // A char literal (`'x'`, `'\n'`) or a lifetime (`'a`).
                if b.get(i) == Some(&b'\\') {
                    i = skip_quoted_by(b, i, b'\'', &mut line);
                } else if b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else if let Some(ch) = text[i..].chars().next()
                    && text[i + ch.len_utf8()..].starts_with('\'')
                {
                    i += ch.len_utf8() + 1;
                }
                bump(&mut runs, &mut sum);
                docs.token(Tok::Other);
            }
            c if c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80 => {
                // An identifier, keyword or number; `r"..", r#".."#, b"..", br".."`.
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric() || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                let end = i;
                if matches!(word, b"r" | b"br" | b"cr") && matches!(b.get(i), Some(b'"' | b'#')) {
                    let hashes = b[i..].iter().take_while(|x| **x == b'#').count();
                    if b.get(i + hashes) == Some(&b'"') {
                        i = skip_raw(b, i + hashes + 1, hashes, &mut line);
                    }
                } else if matches!(word, b"b" | b"c") && b.get(i) == Some(&b'"') {
                    i = skip_quoted(b, i + 1, &mut line);
                } else if word == b"b" && b.get(i) == Some(&b'\'') {
                    i = skip_quoted_by(b, i + 1, b'\'', &mut line);
                }
                bump(&mut runs, &mut sum);
                docs.token(match word {
                    _ if i != end => Tok::Other,
                    b"macro" => Tok::Macro,
                    [d, ..] if d.is_ascii_digit() => Tok::Other,
                    _ => Tok::Ident,
                });
            }
            _ => {
                bump(&mut runs, &mut sum);
                docs.token(match c {
                    b'!' => Tok::Bang,
                    b'#' => Tok::Pound,
                    _ => Tok::Other,
                });
            }
        }
        if sum + runs.len() > max {
            return Err(line);
        }
    }
    Ok(docs.apply(text))
}

fn bump(runs: &mut [usize], sum: &mut usize) {
    if let Some(r) = runs.last_mut() {
        *r += 1;
        *sum += 1;
    }
}

/// Past the closing `"` of a string whose body starts at `i`.
fn skip_quoted(b: &[u8], i: usize, line: &mut u32) -> usize {
    skip_quoted_by(b, i, b'"', line)
}

fn skip_quoted_by(b: &[u8], mut i: usize, quote: u8, line: &mut u32) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\n' => {
                *line += 1;
                i += 1;
            }
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Past the end of a raw string (`"` and `hashes` `#`) whose body starts at `i`.
fn skip_raw(b: &[u8], mut i: usize, hashes: usize, line: &mut u32) -> usize {
    while i < b.len() {
        if b[i] == b'\n' {
            *line += 1;
        }
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|x| **x == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    /// The line where the estimate first exceeds `max`.
    fn too_deep(text: &str, max: usize) -> Option<u32> {
        super::scan(text, max).err()
    }

    #[test]
    fn ordinary_code_is_shallow() {
        let text =
            "fn f(x: Vec<u8>) -> Option<u8> { let s = \"((((\"; // ((((\n x.first().copied() }\n";
        assert_eq!(too_deep(text, 20), None);
        let router = format!(
            "fn r() {{ Router::new(){} }}",
            ".route(\"/a\", get(h))".repeat(600)
        );
        assert_eq!(too_deep(&router, super::MAX_NESTING), None);
        let items = "fn a() { b(); }\n".repeat(100_000);
        assert_eq!(too_deep(&items, 50), None);
    }

    #[test]
    fn deep_code_is_found_with_its_line() {
        let parens = format!("fn f() {{\n{}1{} }}", "(".repeat(100), ")".repeat(100));
        assert_eq!(too_deep(&parens, 50), Some(2));
        let chain = format!("fn f() {{ x{} }}", ".m()".repeat(100));
        assert!(too_deep(&chain, 50).is_some());
        let unary = format!("fn f() {{ {}x }}", "!".repeat(100));
        assert!(too_deep(&unary, 50).is_some());
        let elses = format!("fn f() {{ {} {{}} }}", "if a {} else ".repeat(100));
        assert!(too_deep(&elses, 50).is_some());
    }
}
