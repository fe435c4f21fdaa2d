//! Diagnostics: problems found in the user's code or project, reported as
//! data beside a result, never as a failure of the run.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

/// One finding about the input: `file:line: message`, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// Relative to the analysed root, `/`-separated.
    pub file: String,
    pub line: u32,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        code: &'static str,
        severity: Severity,
        file: impl Into<String>,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            severity,
            code,
            message: message.into(),
        }
    }

    pub fn warning(
        code: &'static str,
        file: impl Into<String>,
        line: u32,
        message: impl Into<String>,
    ) -> Self {
        Self::new(code, Severity::Warning, file, line, message)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        if self.line > 0 {
            write!(
                f,
                "{sev}[{}]: {}:{}: {}",
                self.code, self.file, self.line, self.message
            )
        } else if !self.file.is_empty() {
            write!(f, "{sev}[{}]: {}: {}", self.code, self.file, self.message)
        } else {
            // A finding about the whole analysis names no file.
            write!(f, "{sev}[{}]: {}", self.code, self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Diagnostic, Severity};

    #[test]
    fn a_diagnostic_prints_the_location_it_has() {
        let at = |file: &str, line| {
            Diagnostic::new("code", Severity::Note, file, line, "what to do").to_string()
        };
        assert_eq!(at("src/a.rs", 3), "note[code]: src/a.rs:3: what to do");
        assert_eq!(at("Cargo.toml", 0), "note[code]: Cargo.toml: what to do");
        assert_eq!(at("", 0), "note[code]: what to do");
    }
}
