//! What the loader tells the user: an error or warning at a place in a file,
//! rendered as `FILE:LINE:COL: error: MESSAGE` with an optional `  help: ...` line.
//! Rendering escapes what could forge terminal output ([`printable`]).

use std::fmt::{self, Write as _};

use super::raw::Pos;
use crate::model::Location;

/// A place in a manifest file, as diagnostics and the model's `locations` hold it.
pub fn location(file: &str, pos: Pos) -> Location {
    Location {
        file: file.to_string(),
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
        let mut line = Escaping {
            out: f,
            keep_newlines: false,
        };
        if let Some(location) = &self.location {
            write!(line, "{location}: ")?;
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(line, "{severity}: {}", self.message)?;
        if let Some(help) = &self.help {
            line.out.write_str("\n  help: ")?;
            line.write_str(help)?;
        }
        Ok(())
    }
}

/// `text` as it can safely be printed to a terminal or a pull-request
/// comment: control characters (ESC starts terminal sequences, CR rewrites a
/// line) and the invisible characters that reorder or hide text (bidi
/// overrides such as U+202E, zero-width characters) are escaped as Rust
/// writes them (`\u{1b}`, `\u{202e}`). Line breaks are kept: `text` may
/// be several lines, such as every diagnostic of a load. Applied where
/// messages are printed, so no value from a manifest or an account can
/// forge output.
pub fn printable<T: fmt::Display>(text: T) -> impl fmt::Display {
    Printable(text)
}

struct Printable<T>(T);

impl<T: fmt::Display> fmt::Display for Printable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alternate = f.alternate();
        let mut out = Escaping {
            out: f,
            keep_newlines: true,
        };
        // `{:#}` of an anyhow error is its whole chain: keep the flag.
        if alternate {
            write!(out, "{:#}", self.0)
        } else {
            write!(out, "{}", self.0)
        }
    }
}

/// Writes through to `out`, escaping the characters [`printable`] names.
struct Escaping<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    keep_newlines: bool,
}

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let keep_newlines = self.keep_newlines;
        let escaped = |c: char| !(keep_newlines && c == '\n') && must_escape(c);
        let mut rest = text;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| escaped(c)) {
            self.out.write_str(&rest[..at])?;
            write!(self.out, "{}", c.escape_default())?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.out.write_str(rest)
    }
}

/// Control characters, and the format characters that reorder text (bidi
/// marks, embeddings, overrides and isolates) or hide it (zero-width).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
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
        // Several lines stay several lines; `{:#}` reaches the inner value.
        assert_eq!(
            printable("one\r\ntwo \u{1b}[31mred\u{9b}").to_string(),
            "one\\r\ntwo \\u{1b}[31mred\\u{9b}"
        );
        let error = anyhow::anyhow!("inner \u{202e}").context("outer");
        assert_eq!(format!("{:#}", printable(&error)), "outer: inner \\u{202e}");
        assert_eq!(
            printable("Équipe données, ok").to_string(),
            "Équipe données, ok"
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
