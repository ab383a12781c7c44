//! What the loader tells the user: an error or warning at a place in a file,
//! rendered as `FILE:LINE:COL: error: MESSAGE` with an optional `  help: ...` line.
//! Rendering escapes what could forge terminal output (`rolecall_model::printable`).

use std::fmt;
use std::sync::Arc;

use rolecall_model::printable::printable_line;

use super::raw::Pos;
use rolecall_model::Location;

/// A place in a manifest file, as diagnostics and the model's `locations` hold it.
pub fn location(file: &Arc<str>, pos: Pos) -> Location {
    Location {
        file: Arc::clone(file),
        line: pos.line as usize,
        column: pos.column as usize,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `None` only when there is no file to point at (e.g. a missing `-f` path).
    pub location: Option<Location>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(location: Option<Location>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            location,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(location: Option<Location>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(location, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One line, or two with the help: a file name, message or help holding a
/// line break (a name quoted from a manifest) cannot start a line of its own.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{}: ", printable_line(location))?;
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", printable_line(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", printable_line(help))?;
        }
        Ok(())
    }
}

/// Every finding of one load, errors and warnings, in file and line order.
/// Returned as the error of [`super::load`] when at least one is an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Option<Location> {
        Some(Location {
            file: "manifests/a.yaml".into(),
            line,
            column,
        })
    }

    #[test]
    fn escapes_what_could_forge_output() {
        let diagnostic = Diagnostic::error(
            Some(Location {
                file: "a\u{1b}[2J.yaml".into(),
                line: 1,
                column: 2,
            }),
            "role name `x\u{202e}gpj.exe` and\nm.yaml:9:9: error: forged",
        )
        .with_help("tab\there, bell\u{7}, zero\u{200b}width, \u{2066}isolate\u{2069}");
        assert_eq!(
            diagnostic.to_string(),
            "a\\u{1b}[2J.yaml:1:2: error: role name `x\\u{202e}gpj.exe` and\\nm.yaml:9:9: error: forged\n  \
             help: tab\\there, bell\\u{7}, zero\\u{200b}width, \\u{2066}isolate\\u{2069}"
        );
    }

    #[test]
    fn renders_place_severity_message_and_help() {
        let diagnostics = Diagnostics(vec![
            Diagnostic::error(at(3, 1), "unknown field `max_sesion_duration`")
                .with_help("did you mean `max_session_duration`?"),
            Diagnostic::warning(at(9, 7), "role `app` is not declared here"),
            Diagnostic::error(None, "cannot read `nope`"),
        ]);
        assert_eq!(
            diagnostics.to_string(),
            "manifests/a.yaml:3:1: error: unknown field `max_sesion_duration`\n  \
             help: did you mean `max_session_duration`?\n\
             manifests/a.yaml:9:7: warning: role `app` is not declared here\n\
             error: cannot read `nope`"
        );
        assert_eq!(diagnostics.error_count(), 2);
        assert_eq!(diagnostics.warning_count(), 1);
    }
}
