//! Docs: a file's doc comments, blanked from its text before `syn` reads it.
//!
//! No stage reads a doc comment (`parse` drops `doc` attributes), yet the
//! lexer turns each `///` line into an attribute holding a string literal,
//! which `syn` then parses, copies and frees: about a fifth of the parse time
//! of a well-documented crate. [`Docs`] listens to the one pass over the text
//! that `nesting` makes (comments, brackets, tokens) and [`Docs::apply`]
//! rewrites the text: the first doc comment of a run becomes a bare `#[doc]`
//! (`#![doc]` for inner ones) at the same place, so the node it starts still
//! starts on that line and still has attributes; the rest of the run is
//! dropped; every newline stays, so every token keeps its line. Doc comments
//! inside a macro's or an attribute's brackets stay as written (a macro may
//! read them), and so does a whole file the pass may not read as the lexer
//! does (a shebang, an unterminated comment or bracket, a bare CR in a doc
//! comment, which the lexer refuses). Never touches the disk.

use std::borrow::Cow;

/// What a token is, as far as deciding what brackets hold goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    Bang,
    Pound,
    Ident,
    /// The keyword `macro` (a `macro name(..) {..}` definition).
    Macro,
    OuterDoc,
    InnerDoc,
    Other,
}

/// A doc comment to rewrite: its byte range and whether it opens a run.
#[derive(Debug)]
struct Edit {
    start: usize,
    end: usize,
    /// `Some("#[doc]")` for the first of a run, `None` for the others.
    with: Option<&'static str>,
}

/// The doc comments of one file, told by the pass over its text.
#[derive(Debug)]
pub(super) struct Docs {
    edits: Vec<Edit>,
    /// Per open bracket: whether the brackets around it hold tokens read
    /// as written (a macro's or an attribute's).
    outer: Vec<bool>,
    verbatim: bool,
    last: Tok,
    before_last: Tok,
    /// Something the pass may read differently from the lexer: no rewrite.
    unsure: bool,
}

impl Docs {
    pub(super) fn new() -> Self {
        Docs {
            edits: Vec::new(),
            outer: Vec::new(),
            verbatim: false,
            last: Tok::Other,
            before_last: Tok::Other,
            unsure: false,
        }
    }

    pub(super) fn token(&mut self, t: Tok) {
        self.before_last = self.last;
        self.last = t;
    }

    /// `(`, `[` or `{`. A macro's (`m!(..)`, `macro_rules! m {..}`,
    /// `macro m(..)`) and an attribute's (`#[..]`, `#![..]`) brackets hold
    /// tokens read as written; so does `!(..)`, which costs nothing.
    pub(super) fn open(&mut self) {
        let verbatim = self.verbatim
            || matches!(self.last, Tok::Bang | Tok::Pound)
            || matches!(self.before_last, Tok::Bang | Tok::Pound | Tok::Macro);
        self.outer.push(self.verbatim);
        self.verbatim = verbatim;
        self.token(Tok::Other);
    }

    pub(super) fn close(&mut self) {
        match self.outer.pop() {
            Some(v) => self.verbatim = v,
            None => self.unsure = true,
        }
        self.token(Tok::Other);
    }

    /// A comment that the lexer reads as one (a block comment with no end is
    /// not: the lexer reads its text as tokens).
    pub(super) fn comment(&mut self, b: &[u8], start: usize, end: usize) {
        let s = &b[start..end];
        let kind = if s.starts_with(b"//!") || s.starts_with(b"/*!") {
            Tok::InnerDoc
        } else if (s.starts_with(b"///") && !s.starts_with(b"////"))
            || (s.starts_with(b"/**") && !s.starts_with(b"/***") && !s.starts_with(b"/**/"))
        {
            Tok::OuterDoc
        } else {
            // Plain comments are not tokens.
            return;
        };
        let bare_cr = (start..end).any(|i| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n'));
        if bare_cr {
            self.unsure = true;
        }
        if self.verbatim {
            self.token(Tok::Other);
            return;
        }
        let with = match (self.last == kind, kind) {
            (true, _) => None,
            (false, Tok::InnerDoc) => Some("#![doc]"),
            (false, _) => Some("#[doc]"),
        };
        self.edits.push(Edit { start, end, with });
        self.token(kind);
    }

    /// The pass met something it does not read as the lexer does.
    pub(super) fn unsure(&mut self) {
        self.unsure = true;
    }

    /// `text` with the doc comments rewritten, or as it is.
    pub(super) fn apply(self, text: &str) -> Cow<'_, str> {
        let head = text.strip_prefix('\u{feff}').unwrap_or(text);
        // `syn` reads a first line `#!..` as a shebang unless `[` follows.
        let shebang = head.starts_with("#!") && !head.starts_with("#![");
        if self.edits.is_empty() || self.unsure || !self.outer.is_empty() || shebang {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for e in &self.edits {
            out.push_str(&text[copied..e.start]);
            out.push_str(e.with.unwrap_or(""));
            let newlines = text.as_bytes()[e.start..e.end]
                .iter()
                .filter(|&&c| c == b'\n')
                .count();
            out.extend(std::iter::repeat_n('\n', newlines));
            copied = e.end;
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    fn check(text: &str, expect: Expect) {
        let out = match super::super::nesting::scan(text, super::super::nesting::MAX_NESTING) {
            Ok(t) => t.into_owned(),
            Err(line) => format!("too deep at {line}"),
        };
        assert_eq!(
            out.matches('\n').count(),
            text.matches('\n').count(),
            "lines kept"
        );
        expect.assert_eq(&out);
    }

    #[test]
    fn runs_of_doc_comments_keep_their_first_line() {
        check(
            "//! Crate.\n//! More.\n\n#![deny(x)]\n\n/// A fn.\n// plain\n/// More.\n#[inline]\n/// After an attribute.\npub fn f() {}\n/** Block\n doc */ struct S;\n",
            expect![[r#"
                #![doc]


                #![deny(x)]

                #[doc]
                // plain

                #[inline]
                #[doc]
                pub fn f() {}
                #[doc]
                 struct S;
            "#]],
        );
    }

    #[test]
    fn what_is_not_a_doc_comment_stays() {
        check(
            "//// rule\n/**/ /*** x */ /* /// */\nconst A: &str = \"/// no\"; const B: &str = r#\"//! \"no\"\"#;\nconst C: char = '\"'; fn g<'a>(x: &'a str) {}\n",
            expect![[r##"
                //// rule
                /**/ /*** x */ /* /// */
                const A: &str = "/// no"; const B: &str = r#"//! "no""#;
                const C: char = '"'; fn g<'a>(x: &'a str) {}
            "##]],
        );
    }

    #[test]
    fn macro_and_attribute_tokens_stay() {
        check(
            "m! {\n    /// Kept.\n    const A: u8 = 1;\n}\nmacro_rules! n { () => {\n    /// Kept.\n    fn g() {}\n} }\nfn f() {\n    /// Dropped.\n    let x = 1;\n}\n",
            expect![[r#"
                m! {
                    /// Kept.
                    const A: u8 = 1;
                }
                macro_rules! n { () => {
                    /// Kept.
                    fn g() {}
                } }
                fn f() {
                    #[doc]
                    let x = 1;
                }
            "#]],
        );
    }

    #[test]
    fn files_the_pass_may_misread_stay_whole() {
        // A bare CR in a doc comment is a lex error; an unterminated block
        // comment is read as tokens; a shebang line is not code.
        for text in [
            "/// a\r b\nfn f() {}\n",
            "/// a\nfn f() {}\n/* open\n",
            "#!/usr/bin/env run\n/// a\nfn f() {}\n",
            "/// a\nfn f() {}\n}\n",
        ] {
            let out = super::super::nesting::scan(text, 100).ok();
            assert_eq!(out.as_deref(), Some(text));
        }
    }
}
