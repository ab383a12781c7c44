//! Escaping what a manifest or account value could forge output with.

use std::fmt::{self, Write as _};

/// `text` as it can safely be printed to a terminal or a pull-request
/// comment: control characters (ESC starts terminal sequences, CR rewrites a
/// line) and the invisible characters that reorder or hide text (bidi
/// overrides such as U+202E, zero-width characters) are escaped as Rust
/// writes them (`\u{1b}`, `\u{202e}`). Line breaks are kept: `text` may
/// be several lines, such as every diagnostic of a load. Applied where
/// messages are printed, so no value from a manifest or an account can
/// forge output.
pub fn printable<T: fmt::Display>(text: T) -> impl fmt::Display {
    Printable {
        text,
        keep_newlines: true,
    }
}

/// [`printable`], with line breaks escaped too: `text` cannot start a line
/// of its own (a diagnostic's message must not forge the next diagnostic).
pub fn printable_line<T: fmt::Display>(text: T) -> impl fmt::Display {
    Printable {
        text,
        keep_newlines: false,
    }
}

/// Whether [`printable`] leaves `text` as it is: printable ASCII and line
/// breaks, as most text is. A renderer of millions of lines then writes
/// such text straight out, without formatting it through [`printable`].
pub fn is_printable_as_is(text: &str) -> bool {
    plain(text, true)
}

/// The byte scan that settles most text without decoding characters. By
/// sixteen bytes at a time, each block judged whole (a test the compiler
/// makes on all sixteen at once): a large plan's text is 150 MB of lines,
/// each scanned before it is written.
fn plain(text: &str, keep_newlines: bool) -> bool {
    let is_plain = |b: u8| matches!(b, b' '..=b'~') || (keep_newlines && b == b'\n');
    let mut blocks = text.as_bytes().chunks_exact(16);
    let blocks_plain = blocks.all(|block| block.iter().fold(true, |all, &b| all & is_plain(b)));
    blocks_plain && blocks.remainder().iter().all(|&b| is_plain(b))
}

struct Printable<T> {
    text: T,
    keep_newlines: bool,
}

impl<T: fmt::Display> fmt::Display for Printable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alternate = f.alternate();
        let mut out = Escaping {
            out: f,
            keep_newlines: self.keep_newlines,
        };
        // `{:#}` of an anyhow error is its whole chain: keep the flag.
        if alternate {
            write!(out, "{:#}", self.text)
        } else {
            write!(out, "{}", self.text)
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
        // Most text is printable ASCII (a large plan prints millions of lines).
        if plain(text, keep_newlines) {
            return self.out.write_str(text);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_forge_output_and_nothing_else() {
        // Several lines stay several lines; `{:#}` reaches the inner value.
        assert_eq!(
            printable("one\r\ntwo \u{1b}[31mred\u{9b}").to_string(),
            "one\\r\ntwo \\u{1b}[31mred\\u{9b}"
        );
        assert_eq!(printable_line("one\ntwo").to_string(), "one\\ntwo");
        // Printable ASCII is kept as it is; tab and DEL are control characters.
        assert_eq!(printable(" ~ok~ ").to_string(), " ~ok~ ");
        assert_eq!(printable("a\tb\u{7f}").to_string(), "a\\tb\\u{7f}");
        let error = anyhow::anyhow!("inner \u{202e}").context("outer");
        assert_eq!(format!("{:#}", printable(&error)), "outer: inner \\u{202e}");
        assert_eq!(
            printable("Équipe données, ok").to_string(),
            "Équipe données, ok"
        );
    }

    /// What is printable as it is, [`printable`] leaves as it is; what it
    /// is not, [`printable`] escapes or might (non-ASCII goes the long way).
    #[test]
    fn printable_as_is_is_what_printable_leaves_alone() {
        for text in [" ~ok~ ", "one\ntwo", "", "{\"a\": [1]}"] {
            assert!(is_printable_as_is(text), "{text:?}");
            assert_eq!(printable(text).to_string(), text);
        }
        for text in ["a\tb", "\u{1b}[31m", "x\r", "\u{7f}", "é", "\u{202e}"] {
            assert!(!is_printable_as_is(text), "{text:?}");
        }
    }

    /// Text is judged by blocks of sixteen bytes and a remainder: a
    /// character that is not printable is found at every place, in texts
    /// of every length around those blocks, and a line break anywhere is
    /// kept.
    #[test]
    fn a_character_not_printable_is_found_wherever_it_falls() {
        for length in 1..=50 {
            for at in 0..length {
                for odd in ['\t', '\u{7f}', '\u{1b}', 'é', '\n'] {
                    let text: String = (0..length)
                        .map(|position| if position == at { odd } else { 'a' })
                        .collect();
                    assert_eq!(is_printable_as_is(&text), odd == '\n', "{text:?}");
                    assert!(!plain(&text, false), "{text:?}");
                }
            }
            assert!(is_printable_as_is(&"~".repeat(length)));
        }
    }
}
