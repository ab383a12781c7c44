//! The YAML layer: a file is cut into its documents, and every document
//! becomes a tree of [`Node`]s, each carrying the line and column it was written at.
//!
//! Why a tree and not one serde struct per kind: a struct stops at its first
//! unknown field or wrong type, and `#[serde(flatten)]` (the only way to catch
//! unknown keys) loses every position. A positioned tree accepts any YAML, so
//! the conversion step can report every mistake in a document, each with its place.
//!
//! Why documents are parsed one at a time: the parser stops at the first syntax
//! error or duplicate key of its input, so one mistake in the last document of a
//! file would hide every mistake of the others. A file is cut before each `---`
//! and after each `...` at column 0. YAML ends the document at such a line even
//! inside a quoted string, a flow collection or a block scalar, so a cut may
//! split a value, but only where YAML itself does: [`parse_file`] then reports
//! one error about the marker instead of a broken document and a bogus one
//! made of the value's rest. The budgets against hostile input are shared by
//! all documents of a file.
//!
//! Most documents are read byte by byte by [`scan`], the quick path for the
//! plain corner of YAML that manifests are written in; most of the rest are
//! built straight from the parser's events by [`events`]; serde-saphyr reads
//! what both leave (errors, tags, anchors, aliases, merge keys and the like)
//! and stays the reference for all three. This module and its children are
//! the only ones that talk to serde-saphyr.

mod events;
mod resolve;
mod scan;

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use serde_saphyr::granit_parser::ErrorKind;

/// A place in one manifest file (1-based; the column counts characters).
/// `u32` keeps [`Node`] small: a large stack builds millions of them, and
/// files are at most a few MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    /// A place from counts (saturating, as no file rolecall reads is that long).
    pub fn at(line: usize, column: usize) -> Pos {
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

/// One YAML value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// Where a boolean or number was written in its document's text, so that
    /// a field that wants text gets `0x1F` or `1.10` exactly as written (see
    /// [`Document::source`]). Kept at the positioned levels only; empty elsewhere.
    pub span: Span,
}

impl Node {
    /// Whether the parser said where this boolean or number was written.
    pub fn has_span(&self) -> bool {
        self.span.start < self.span.end
    }
}

/// A byte range in a document's text; empty when unknown (no scalar is empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: u32,
    end: u32,
}

/// A YAML value. Mappings keep their source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What a user would call this value, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// One parsed document: its tree (positions counted in the whole file) and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document<'t> {
    pub root: Node,
    text: &'t str,
}

impl<'t> Document<'t> {
    /// The text a boolean or number was written as (`true`, `0x1F`, `1.10`),
    /// for the positioned levels of the tree; `None` for other nodes. Only a
    /// plain scalar reads as it is written: for one that is quoted or tagged
    /// (`!!int "0x1F"`, `!!float 3600`) the text is not the value, so `None`.
    pub fn source(&self, node: &Node) -> Option<&'t str> {
        let Span { start, end } = node.span;
        let written = self
            .text
            .get(start as usize..end as usize)
            .filter(|_| node.has_span())?;
        let plain = !written.starts_with(['"', '\'', '!', '&', '*', '|', '>'])
            && !is_tagged(self.text, start as usize);
        plain.then_some(written)
    }
}

/// Whether the scalar at byte `start` has a tag. The parser's span leaves out
/// a scalar's tag and anchor (`!!float &a 3600`), which come before it,
/// each after a space, line break, or flow indicator.
fn is_tagged(text: &str, start: usize) -> bool {
    let mut before = text.get(..start).unwrap_or_default();
    loop {
        before = before.trim_end_matches([' ', '\t', '\r', '\n']);
        // All ASCII: the byte after one is where the property starts.
        let property_start = before
            .rfind([' ', '\t', '\r', '\n', '[', '{', ','])
            .map_or(0, |i| i + 1);
        match before[property_start..].chars().next() {
            Some('&') => before = &before[..property_start],
            Some('!') => return true,
            _ => return false,
        }
    }
}

/// A YAML error with the place it happened, if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub help: Option<String>,
    pub pos: Option<Pos>,
}

/// What one file holds: the documents that could be read, and the errors of
/// those that could not.
#[derive(Debug, Default)]
pub struct Parsed<'t> {
    pub documents: Vec<Document<'t>>,
    pub errors: Vec<YamlError>,
}

/// YAML values (scalars, lists, mappings, alias expansions included) one file
/// may hold. The benchmark's file of 5,000 roles holds about 185,000; a file
/// that reaches the limit is read in under a second in a release build.
const MAX_VALUES: usize = 1_000_000;
/// Documents one file may hold (empty ones included); the benchmark writes 5,000.
const MAX_DOCUMENTS: usize = 50_000;
/// Nesting depth: a policy document is about eight levels deep.
const MAX_DEPTH: usize = 32;
/// Alias expansion per document: manifests rarely use aliases at all, and an
/// alias bomb must stop after thousands of replayed events, not millions.
const MAX_REPLAYED_EVENTS: usize = 100_000;

/// Limits that keep hostile input cheap: deep nesting, alias bombs and
/// huge trees end with an error instead of a hang. They hold for one
/// document; [`MAX_VALUES`] and [`MAX_DOCUMENTS`] hold for the whole file.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Snippets are rendered by nobody here: skip building them.
        with_snippet: false,
        // YAML 1.2: only true/false are booleans. `name: no` is the text "no",
        // not `false` (the "Norway problem" of YAML 1.1).
        strict_booleans: true,
        // `cost-center: 0042` and `1_000` keep their spelling when read as text.
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        // `.inf` and `.nan` reach the tree as floats, positioned like other
        // numbers: a field that wants text takes them as written (`.NaN`),
        // one that wants a number or JSON refuses them with its own message.
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            // Backstops: the values a file holds are counted as they are built.
            max_documents: MAX_DOCUMENTS,
            max_nodes: MAX_VALUES,
            max_events: 4 * MAX_VALUES,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_recorded_anchor_events: MAX_REPLAYED_EVENTS,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
        },
    }
}

/// Stack a thread needs to run [`parse_file`]. Deserialising recurses
/// through several serde frames per nesting level (about 50 KiB a level in a
/// debug build), so the depth budget, not the thread's stack, must be what
/// stops deep input: callers parse on threads built with this stack size.
pub const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

thread_local! {
    /// Values the file being parsed on this thread may still build, alias
    /// expansions and documents that fail included. Thread-local because
    /// `Spanned` takes no `DeserializeSeed`: the `Deserialize` impls below
    /// have no other way to share a count.
    static VALUES_LEFT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Counts one value against the file's [`MAX_VALUES`].
fn spend_value<E: de::Error>() -> Result<(), E> {
    VALUES_LEFT.with(|left| match left.get() {
        0 => Err(E::custom("too many YAML values")),
        n => {
            left.set(n - 1);
            Ok(())
        }
    })
}

fn values_spent() -> bool {
    VALUES_LEFT.with(|left| left.get() == 0)
}

/// Parses every document of one file's text. Empty documents are skipped.
/// A syntax error or duplicate key spoils only its own document; once the
/// file's values are spent, parsing stops.
///
/// A `---` or `...` written at column 0 inside a value ends the document
/// there. The user meant the value to go on, so the part after the marker is
/// the value's rest, not a document: it is not reported on its own. One error
/// says what the marker did: at the unclosed quote or bracket it left behind,
/// or, when the part before it parsed (a block scalar ends quietly), at the
/// marker itself.
/// Run it on a thread with a [`PARSER_STACK_BYTES`] stack.
pub fn parse_file(text: &str) -> Parsed<'_> {
    let mut parsed = Parsed::default();
    VALUES_LEFT.with(|left| left.set(MAX_VALUES));
    // The marker that ended the previous document and, if that document
    // ended inside a quote or bracket, the index of its error.
    let mut previous_end: Option<Marker> = None;
    let mut unclosed: Option<usize> = None;
    for (index, chunk) in documents(text).enumerate() {
        let at_start = Some(Pos {
            line: chunk.first_line,
            column: 1,
        });
        if index == MAX_DOCUMENTS {
            parsed.errors.push(YamlError {
                message: format!(
                    "the file holds more than {} YAML documents",
                    thousands(MAX_DOCUMENTS)
                ),
                help: Some(SPLIT_HELP.into()),
                pos: at_start,
            });
            break;
        }
        let result = match parse_fast(chunk.text) {
            Some(roots) => Ok(roots),
            None => serde_saphyr::from_multiple_with_options::<Node>(chunk.text, options()),
        };
        if result.is_err() && values_spent() {
            parsed.errors.push(too_many_values(at_start));
            break;
        }
        let marker_before = std::mem::replace(&mut previous_end, chunk.end);
        let unclosed_before = unclosed.take();
        // The rest of a value fails to parse or reads as a scalar; a mapping
        // or list after a marker is a document of its own (and an unclosed
        // quote before it just a missing quote).
        let is_rest_of_value = (unclosed_before.is_some() || chunk.indented)
            && result.as_ref().map_or(true, |roots| {
                roots
                    .iter()
                    .any(|root| !matches!(root.value, Value::Map(_) | Value::Seq(_)))
            });
        if let (true, Some(marker)) = (is_rest_of_value, marker_before) {
            match unclosed_before.and_then(|index| parsed.errors.get_mut(index)) {
                Some(error) => {
                    error.message = format!(
                        "{}: the `{}` on line {} ends the document",
                        error.message, marker.text, marker.line
                    );
                    error.help = Some(MARKER_HELP.into());
                }
                // A block scalar ends quietly: the marker is the place to show.
                None => parsed.errors.push(YamlError {
                    message: format!(
                        "this `{}` ends the document in the middle of a value",
                        marker.text
                    ),
                    help: Some(MARKER_HELP.into()),
                    pos: Some(Pos {
                        line: marker.line,
                        column: 1,
                    }),
                }),
            }
            continue;
        }
        match result {
            Ok(roots) => {
                for mut root in roots {
                    shift_lines(&mut root, chunk.first_line - 1, POSITIONED_LEVELS);
                    parsed.documents.push(Document {
                        root,
                        text: chunk.text,
                    });
                }
            }
            Err(error) => {
                if chunk.end.is_some() && ends_inside_a_value(&error) {
                    unclosed = Some(parsed.errors.len());
                }
                parsed.errors.push(yaml_error(&error, &chunk));
            }
        }
    }
    VALUES_LEFT.with(|left| left.set(usize::MAX));
    parsed
}

/// The documents of `text` built by the fast path ([`events`]), spending the
/// file's values; `None` (nothing spent) where serde-saphyr must read it.
fn parse_fast(text: &str) -> Option<Vec<Node>> {
    VALUES_LEFT.with(|left| {
        let mut values_left = left.get();
        let roots = scan::parse(text, &mut values_left)
            .or_else(|| events::parse(text, &mut values_left))?;
        left.set(values_left);
        Some(roots)
    })
}

const SPLIT_HELP: &str = "split the manifests into several files";
const MARKER_HELP: &str = "a `---` or `...` at the start of a line ends the document, even inside quotes or a block scalar: indent it";

fn too_many_values(pos: Option<Pos>) -> YamlError {
    YamlError {
        message: format!(
            "the file holds more than {} YAML values",
            thousands(MAX_VALUES)
        ),
        help: Some(SPLIT_HELP.into()),
        pos,
    }
}

/// `1000000` as `1,000,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// One document's text and the file line it starts on.
struct Chunk<'t> {
    text: &'t str,
    first_line: u32,
    /// The `---` or `...` line that ends it; `None` at the end of the file.
    end: Option<Marker>,
    /// Whether its first content is on an indented line: after a marker, the
    /// rest of a value the marker cut (`---` at column 0 in a block scalar).
    indented: bool,
}

/// A `---` or `...` line that ends a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    text: &'static str,
    line: u32,
}

/// Cuts a file into documents: before every `---` line (unless only comments,
/// blank lines and directives precede it since the last cut) and after every
/// `...` line. A marker is `---` or `...` at column 0 followed by a space, a
/// tab or the end of the line; content may follow it (`--- {a: 1}`).
fn documents(text: &str) -> Documents<'_> {
    Documents {
        text,
        lines: lines(text),
        start: 0,
        first_line: 1,
        next_byte: 0,
        next_line: 1,
        begun: false,
    }
}

struct Documents<'t> {
    text: &'t str,
    lines: Lines<'t>,
    /// Where the current document starts.
    start: usize,
    first_line: u32,
    /// Where the next line starts.
    next_byte: usize,
    next_line: u32,
    /// Whether the current document has a `---` or content yet, so that the
    /// next `---` begins another one.
    begun: bool,
}

impl<'t> Documents<'t> {
    /// Ends the current document at `byte` (because of `end`); the next one
    /// starts there, on `line`.
    fn cut(&mut self, byte: usize, line: u32, end: Option<Marker>) -> Chunk<'t> {
        let text = &self.text[self.start..byte];
        let chunk = Chunk {
            text,
            first_line: self.first_line,
            end,
            indented: starts_indented(text),
        };
        self.start = byte;
        self.first_line = line;
        chunk
    }
}

impl<'t> Iterator for Documents<'t> {
    type Item = Chunk<'t>;

    fn next(&mut self) -> Option<Chunk<'t>> {
        for line in self.lines.by_ref() {
            let (line_start, number) = (self.next_byte, self.next_line);
            self.next_byte += line.len();
            self.next_line = self.next_line.saturating_add(1);
            // A byte order mark may open the file.
            let bare = line.strip_prefix('\u{feff}').unwrap_or(line);
            if is_marker(bare, "---") {
                let was_begun = std::mem::replace(&mut self.begun, true);
                if was_begun {
                    let end = Marker {
                        text: "---",
                        line: number,
                    };
                    return Some(self.cut(line_start, number, Some(end)));
                }
            } else if is_marker(bare, "...") {
                self.begun = false;
                let end = Marker {
                    text: "...",
                    line: number,
                };
                return Some(self.cut(self.next_byte, self.next_line, Some(end)));
            } else if !is_blank_comment_or_directive(bare) {
                self.begun = true;
            }
        }
        (self.start < self.text.len()).then(|| self.cut(self.text.len(), self.next_line, None))
    }
}

/// Whether a document's first content is on an indented line. Content on its
/// `---` line (`--- {a: 1}`) is not.
fn starts_indented(text: &str) -> bool {
    for (index, line) in lines(text).enumerate() {
        let after_marker = line.strip_prefix("---").filter(|_| is_marker(line, "---"));
        match after_marker {
            Some(rest) if index == 0 => {
                if !is_blank_comment_or_directive(rest) {
                    return false;
                }
            }
            _ if is_blank_comment_or_directive(line) => {}
            _ => return line.starts_with([' ', '\t']),
        }
    }
    false
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| matches!(rest.chars().next(), None | Some(' ' | '\t' | '\r' | '\n')))
}

/// Lines that cannot begin a document's content. `%` at column 0 is a
/// directive (`%YAML 1.2`) when no content precedes it.
fn is_blank_comment_or_directive(line: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t']);
    trimmed.is_empty() || trimmed.starts_with(['#', '\r', '\n']) || line.starts_with('%')
}

/// The lines of a text, each with its line break: `\n`, `\r\n` or a lone
/// `\r`, the breaks YAML counts.
fn lines(text: &str) -> Lines<'_> {
    Lines { text, next: 0 }
}

struct Lines<'t> {
    text: &'t str,
    next: usize,
}

impl<'t> Iterator for Lines<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let rest = self.text.get(self.next..).filter(|rest| !rest.is_empty())?;
        let bytes = rest.as_bytes();
        let end = match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            None => bytes.len(),
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
        };
        self.next += end;
        rest.get(..end)
    }
}

/// The byte offset of a place in a text (`None` past its end).
fn byte_of(text: &str, pos: Pos) -> Option<usize> {
    let mut line_start = 0;
    for line in lines(text).take((pos.line as usize).checked_sub(1)?) {
        line_start += line.len();
    }
    let line = &text[line_start..];
    let column = line
        .char_indices()
        .nth((pos.column as usize).checked_sub(1)?)
        .map_or(line.len(), |(i, _)| i);
    Some(line_start + column)
}

/// The place of a byte offset in a text.
pub fn pos_of_byte(text: &str, byte: usize) -> Pos {
    let mut line_number = 1;
    let mut line_start = 0;
    for line in lines(text) {
        if line_start + line.len() > byte || !line.ends_with(['\n', '\r']) {
            break;
        }
        line_start += line.len();
        line_number += 1;
    }
    let column = text
        .get(line_start..byte)
        .map_or(1, |prefix| prefix.chars().count() + 1);
    Pos::at(line_number, column)
}

/// The cause of an error: errors met while replaying an alias come wrapped.
fn cause(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    let mut error = error.without_snippet();
    while let serde_saphyr::Error::AliasError { error: inner, .. } = error {
        error = inner.without_snippet();
    }
    error
}

/// What the YAML parser found wrong, for the errors it reports itself.
fn parser_kind(error: &serde_saphyr::Error) -> Option<&ErrorKind> {
    match cause(error) {
        serde_saphyr::Error::ExternalMessage { source, .. } => match source.as_ref() {
            serde_saphyr::ExternalMessageSource::Parser(scan) => Some(scan.kind()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the text ended inside a quoted string or a flow collection.
fn ends_inside_a_value(error: &serde_saphyr::Error) -> bool {
    matches!(
        parser_kind(error),
        Some(
            ErrorKind::UnclosedQuotedScalar
                | ErrorKind::DocumentIndicatorInQuotedScalar
                | ErrorKind::UnclosedFlowCollection { .. }
        )
    )
}

/// A parser error as the user should read it, at its place in the file.
fn yaml_error(error: &serde_saphyr::Error, chunk: &Chunk<'_>) -> YamlError {
    use serde_saphyr::Error;
    use serde_saphyr::MessageFormatter;
    use serde_saphyr::budget::BudgetBreach;
    const TOO_DEEP: &str = "nesting is too deep (more than 32 levels); manifests need far fewer";
    const ALIAS_BOMB: &str =
        "YAML aliases expand to too much data (an alias bomb?); write the values out instead";
    // The place within the document (made a file place at the end). For an
    // error met while replaying an alias, the alias, not the anchored value.
    let mut pos = error.location().and_then(pos_of);
    let error = cause(error);
    let mut help = None;
    let message = match error {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => TOO_DEEP.into(),
            BudgetBreach::Aliases { .. }
            | BudgetBreach::Anchors { .. }
            | BudgetBreach::AliasAnchorRatio { .. }
            | BudgetBreach::RecordedAnchorEvents { .. }
            | BudgetBreach::RecordedAnchorBytes { .. } => ALIAS_BOMB.into(),
            BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
                return too_many_values(Some(Pos {
                    line: chunk.first_line,
                    column: 1,
                }));
            }
            _ => {
                help = Some(SPLIT_HELP.into());
                "the file is too large or too complex to read".into()
            }
        },
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => ALIAS_BOMB.into(),
        Error::UnknownAnchor { .. } => {
            let name = pos
                .and_then(|pos| byte_of(chunk.text, pos))
                .and_then(|byte| alias_name(&chunk.text[byte..]));
            match name {
                Some(name) => {
                    help = Some(format!(
                        "define `&{name}` on a value above it in the same document (anchors do not cross `---`)"
                    ));
                    format!("alias `*{name}` refers to no anchor")
                }
                None => "an alias refers to no anchor".into(),
            }
        }
        _ => {
            let kind = parser_kind(error);
            // These are reported where the scalar before the tab starts:
            // point at the tab itself.
            if let Some(ErrorKind::TabInPlainScalar | ErrorKind::TabAtBlockScalarStart) = kind {
                pos = pos.and_then(|pos| next_tab(chunk.text, pos)).or(pos);
            }
            if let Some(
                ErrorKind::TabNotAllowed
                | ErrorKind::TabInBlockIndentation
                | ErrorKind::TabInIndentation
                | ErrorKind::TabInPlainScalar
                | ErrorKind::TabAtBlockScalarStart,
            ) = kind
            {
                help = Some("YAML indents with spaces only: replace the tab with spaces".into());
            }
            match kind {
                // The parser's own limit on nested flow collections (`[[[[...`).
                Some(ErrorKind::RecursionLimitExceeded) => TOO_DEEP.into(),
                // A `...` came before the closing quote: the same mistake as
                // a quote still open at the end, so the same words.
                Some(ErrorKind::DocumentIndicatorInQuotedScalar) => "unclosed quote".into(),
                _ => serde_saphyr::UserMessageFormatter
                    .format_message(error)
                    .into_owned(),
            }
        }
    };
    YamlError {
        message,
        help,
        pos: pos.map(|pos| Pos {
            line: pos.line.saturating_add(chunk.first_line - 1),
            column: pos.column,
        }),
    }
}

/// The name of the alias at the start of `text` (`*name`).
fn alias_name(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('*')?;
    let end = rest
        .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The place of the first tab at or after `from` that indents a line (only
/// spaces and tabs before it, content after it). Tabs after content on a
/// line, trailing or between words, are allowed: they are not the mistake.
fn next_tab(text: &str, from: Pos) -> Option<Pos> {
    let start = byte_of(text, from)?;
    let mut line_start = 0;
    for line in lines(text) {
        let content = line.trim_start_matches([' ', '\t']);
        let indent = &line[..line.len() - content.len()];
        let tab = indent
            .find('\t')
            .map(|i| line_start + i)
            .filter(|&tab| tab >= start && !content.trim_end_matches(['\r', '\n']).is_empty());
        if let Some(tab) = tab {
            return Some(pos_of_byte(text, tab));
        }
        line_start += line.len();
    }
    None
}

fn pos_of(location: serde_saphyr::Location) -> Option<Pos> {
    let line = u32::try_from(location.line()).ok()?;
    let column = u32::try_from(location.column()).ok()?;
    (line > 0).then_some(Pos { line, column })
}

/// Levels of a document whose nodes carry a position (see below).
const POSITIONED_LEVELS: usize = 3;

/// Turns the positions of a document's `levels` first levels from lines of
/// the document into lines of the file.
fn shift_lines(node: &mut Node, lines_before: u32, levels: usize) {
    if levels == 0 {
        return;
    }
    if node.pos.line > 0 {
        node.pos.line = node.pos.line.saturating_add(lines_before);
    }
    match &mut node.value {
        Value::Seq(items) => {
            for item in items {
                shift_lines(item, lines_before, levels - 1);
            }
        }
        Value::Map(entries) => {
            for (key, value) in entries {
                shift_lines(key, lines_before, levels - 1);
                shift_lines(value, lines_before, levels - 1);
            }
        }
        _ => {}
    }
}

// Positions are kept for the first three levels of a document: the document,
// its fields, and their entries (tags, inline policies by name, managed
// policies, trust services). Nothing deeper is ever pointed at (the inside of a
// policy document is reported at the document), and `Spanned` costs about five
// times the parse itself, so deeper nodes are read plain, with no position.
// Each level is a type because `Spanned<T>` needs `T: Deserialize`.

/// A document's root: positioned, fields read as [`Field`].
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        spanned::<D, Field>(deserializer)
    }
}

/// A document field (key or value): positioned, children read as [`Entry`].
struct Field(Node);
/// An entry of a field's value: positioned, children read as [`Plain`].
struct Entry(Node);
/// Anything deeper: no position.
struct Plain(Node);

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        spanned::<D, Entry>(deserializer).map(Field)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        spanned::<D, Plain>(deserializer).map(Entry)
    }
}

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tree = Tree::<Plain>::deserialize(deserializer)?;
        Ok(Plain(Node {
            value: tree.0,
            pos: Pos::default(),
            span: Span::default(),
        }))
    }
}

impl From<Field> for Node {
    fn from(field: Field) -> Node {
        field.0
    }
}

impl From<Entry> for Node {
    fn from(entry: Entry) -> Node {
        entry.0
    }
}

impl From<Plain> for Node {
    fn from(plain: Plain) -> Node {
        plain.0
    }
}

/// A positioned node whose children are read as `C`.
fn spanned<'de, D, C>(deserializer: D) -> Result<Node, D::Error>
where
    D: Deserializer<'de>,
    C: Deserialize<'de> + Into<Node>,
{
    let spanned = Spanned::<Tree<C>>::deserialize(deserializer)?;
    let value = spanned.value.0;
    // The text of a scalar is where it is defined: for an alias (`*port`),
    // the anchored value, not the alias.
    let span = match value {
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            let span = spanned.defined.span();
            let start = span
                .byte_offset()
                .and_then(|start| u32::try_from(start).ok());
            let len = span.byte_len().and_then(|len| u32::try_from(len).ok());
            match (start, len) {
                (Some(start), Some(len)) => Span {
                    start,
                    end: start.saturating_add(len),
                },
                _ => Span::default(),
            }
        }
        _ => Span::default(),
    };
    Ok(Node {
        value,
        pos: pos_of(spanned.referenced).unwrap_or_default(),
        span,
    })
}

/// A value whose children are read as `C`.
struct Tree<C>(Value, PhantomData<C>);

impl<'de, C: Deserialize<'de> + Into<Node>> Deserialize<'de> for Tree<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        spend_value()?;
        deserializer
            .deserialize_any(ValueVisitor::<C>(PhantomData))
            .map(|value| Tree(value, PhantomData))
    }
}

struct ValueVisitor<C>(PhantomData<C>);

impl<'de, C: Deserialize<'de> + Into<Node>> Visitor<'de> for ValueVisitor<C> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::String(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<C>()? {
            items.push(item.into());
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<C>()? {
            let value = map.next_value::<C>()?;
            entries.push((key.into(), value.into()));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::events::FAST_DEPTH_FOR_TESTS;
    use super::*;

    /// Runs `check` on the parse of `text`, as the loader parses: on a thread
    /// with the parser's stack.
    fn with_parsed<R: Send>(text: &str, check: impl FnOnce(Parsed<'_>) -> R + Send) -> R {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(PARSER_STACK_BYTES)
                .spawn_scoped(scope, || check(parse_file(text)))
                .unwrap()
                .join()
                .unwrap()
        })
    }

    fn errors(text: &str) -> Vec<YamlError> {
        with_parsed(text, |parsed| parsed.errors)
    }

    /// The value of `key` in a document that is a mapping.
    fn field<'a>(document: &'a Document<'_>, key: &str) -> &'a Node {
        let Value::Map(entries) = &document.root.value else {
            panic!("not a map")
        };
        entries
            .iter()
            .find(|(k, _)| k.value == Value::String(key.into()))
            .map(|(_, v)| v)
            .unwrap()
    }

    fn at(line: u32, column: u32) -> Option<Pos> {
        Some(Pos { line, column })
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        with_parsed("---\n---\nkind: Role\ntags:\n  a: [1, x]\n", |parsed| {
            assert_eq!(parsed.documents.len(), 1, "empty documents are skipped");
            let Value::Map(entries) = &parsed.documents[0].root.value else {
                panic!("not a map")
            };
            assert_eq!(entries[0].0.pos, Pos { line: 3, column: 1 });
            assert_eq!(entries[0].1.pos, Pos { line: 3, column: 7 });
            assert_eq!(entries[1].1.pos, Pos { line: 5, column: 3 });
        });
    }

    #[test]
    fn only_true_and_false_are_booleans_and_numbers_keep_their_text() {
        let text = "a: no\nb: Yes\nc: 0x1F\nd: true\ne: 1.10\nf: 0042\ng: 42\nh: &n +1\ni: *n\n\
                    j: !!int \"0x1F\"\nk: !!float 3600\nl: !!int &t\n  5\nm: [!!str x,7]\n";
        with_parsed(text, |parsed| {
            let document = &parsed.documents[0];
            let value = |key| &field(document, key).value;
            let source = |key| document.source(field(document, key));
            assert_eq!(value("a"), &Value::String("no".into()));
            assert_eq!(value("b"), &Value::String("Yes".into()));
            assert_eq!(value("c"), &Value::Int(31));
            assert_eq!(source("c"), Some("0x1F"));
            assert_eq!(value("d"), &Value::Bool(true));
            assert_eq!(source("d"), Some("true"));
            assert_eq!(source("e"), Some("1.10"));
            assert_eq!(value("f"), &Value::String("0042".into()));
            assert_eq!(value("g"), &Value::Int(42));
            assert_eq!(source("i"), Some("+1"), "an alias has its anchor's text");
            assert_eq!(source("a"), None, "strings need no source");
            assert_eq!(source("j"), None, "quoted: the text is not the value");
            assert_eq!(source("k"), None, "tagged: the text is not the value");
            assert_eq!(source("l"), None, "tagged, with an anchor after the tag");
            let Value::Seq(items) = value("m") else {
                panic!("not a list")
            };
            assert_eq!(
                document.source(&items[1]),
                Some("7"),
                "the tag is another entry's"
            );
        });
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_have_a_place() {
        assert_eq!(
            errors("a: 1\na: 2\n"),
            [YamlError {
                message: "duplicate mapping key `a` is not allowed here".into(),
                help: None,
                pos: at(2, 1),
            }]
        );
        assert_eq!(errors("a: b: c\n")[0].pos, at(1, 5));
    }

    #[test]
    fn an_error_spoils_only_its_own_document() {
        let text = "a: 1\na: 2\n---\nb: 1\n---\nc: [\n---\nd: 1\n";
        with_parsed(text, |parsed| {
            let lines: Vec<_> = parsed.errors.iter().map(|e| e.pos.unwrap().line).collect();
            assert_eq!(lines, [2, 6], "{:?}", parsed.errors);
            let roots: Vec<_> = parsed.documents.iter().map(|d| &d.root).collect();
            assert_eq!(roots.len(), 2);
            let Value::Map(entries) = &roots[1].value else {
                panic!("not a map")
            };
            assert_eq!(entries[0].0.pos, Pos { line: 8, column: 1 });
        });
    }

    #[test]
    fn cuts_only_at_document_markers() {
        let cut = |text| -> Vec<(String, u32)> {
            documents(text)
                .map(|chunk| (chunk.text.to_string(), chunk.first_line))
                .collect()
        };
        // Comments and directives before the first `---` belong to its document.
        assert_eq!(
            cut("# head\n%YAML 1.2\n---\na: 1\n"),
            [("# head\n%YAML 1.2\n---\na: 1\n".into(), 1)]
        );
        // `---` inside a block scalar is indented; `----` and `--- x` differ.
        assert_eq!(
            cut("a: |\n  ---\n----\n--- x\n...\nb\n"),
            [
                ("a: |\n  ---\n----\n".into(), 1),
                ("--- x\n...\n".into(), 4),
                ("b\n".into(), 6)
            ]
        );
        // Windows and old Mac line breaks count as YAML counts them.
        assert_eq!(
            cut("a: 1\r\n---\r\nb: 2\r---\rc"),
            [
                ("a: 1\r\n".into(), 1),
                ("---\r\nb: 2\r".into(), 2),
                ("---\rc".into(), 4)
            ]
        );
        assert!(cut("").is_empty());
    }

    #[test]
    fn block_scalars_and_directives_survive_the_cut() {
        let text = "\u{feff}a: |\n  ---\n  x\n...\n%YAML 1.2\n---\nb: >\n  folded\n  text\n";
        with_parsed(text, |parsed| {
            assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
            let values: Vec<_> = parsed
                .documents
                .iter()
                .map(|d| {
                    let Value::Map(entries) = &d.root.value else {
                        panic!("not a map")
                    };
                    (entries[0].1.value.clone(), entries[0].1.pos.line)
                })
                .collect();
            // The parser places a block scalar at its first line of content.
            assert_eq!(
                values,
                [
                    (Value::String("---\nx\n".into()), 2),
                    (Value::String("folded text\n".into()), 8),
                ]
            );
        });
    }

    #[test]
    fn only_the_rest_of_a_cut_value_is_dropped() {
        // An indented mapping after `---` is a document, not a value's rest.
        with_parsed("a: |\n  x\n---\n  b: 1\n", |parsed| {
            assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
            assert_eq!(parsed.documents.len(), 2);
        });
        // A quote left open before a real document: a missing quote, not a cut.
        with_parsed("a: \"x\n---\nb: 1\n", |parsed| {
            assert_eq!(
                parsed.errors,
                [YamlError {
                    message: "unclosed quote".into(),
                    help: None,
                    pos: at(1, 4),
                }]
            );
            assert_eq!(parsed.documents.len(), 1);
        });
    }

    #[test]
    fn tab_errors_point_at_the_tab() {
        let error = &errors("kind: Role\ntrust: ec2\n\ttags: {}\n")[0];
        assert_eq!(error.pos, at(3, 1), "{error:?}");
        assert!(error.help.as_deref().unwrap().contains("spaces"));
        let error = &errors("a: 1\nb: |\n\tx\n")[0];
        assert_eq!(error.pos, at(3, 1), "{error:?}");
        // Tabs after content on a line (trailing, between words) are allowed:
        // the tab at fault is the one that indents.
        for text in ["x: é\t\n\tb: 2\n", "x: a\tb\n\tc: 1\n"] {
            let error = &errors(text)[0];
            assert_eq!(error.pos, at(2, 1), "{text:?}: {error:?}");
        }
    }

    #[test]
    fn unknown_alias_is_named() {
        let error = &errors("a: 1\n---\nb: &x 1\n---\nname: *x\n")[0];
        assert_eq!(error.message, "alias `*x` refers to no anchor");
        assert_eq!(error.pos, at(5, 7));
    }

    #[test]
    fn hostile_input_ends_in_an_error() {
        let deep_flow = format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let deep_block: String = (0..10_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        for text in [deep_flow, deep_block, bomb] {
            assert!(!errors(&text).is_empty());
        }
    }

    #[test]
    fn budgets_hold_for_the_whole_file() {
        // Each document expands aliases to about 80,000 values, under the
        // limit of one document; together they pass the file's limit.
        let mut document = String::from("---\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..5 {
            let refs = vec![format!("*a{}", i - 1); 8].join(", ");
            document.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let text = document.repeat(20);
        let found = errors(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("more than 1,000,000 YAML values"));

        let storm = "---\n".repeat(MAX_DOCUMENTS + 1);
        let found = errors(&storm);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "the file holds more than 50,000 YAML documents"
        );
        assert_eq!(found[0].pos, Some(Pos::at(MAX_DOCUMENTS + 1, 1)));
    }

    #[test]
    fn budget_breaches_are_told_in_words() {
        let text = "a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n";
        let tight = serde_saphyr::options! {
            budget: serde_saphyr::budget! { max_nodes: 10 },
        };
        let error = serde_saphyr::from_multiple_with_options::<Node>(text, tight).unwrap_err();
        let chunk = Chunk {
            text,
            first_line: 1,
            end: None,
            indented: false,
        };
        let error = yaml_error(&error, &chunk);
        assert_eq!(
            error.message,
            "the file holds more than 1,000,000 YAML values"
        );
        assert_eq!(error.help.as_deref(), Some(SPLIT_HELP));
    }

    #[test]
    fn nodes_stay_small() {
        // A stack of 100,000 resources builds millions of nodes; every byte
        // here is megabytes moved. (48: a 32-byte `Value`, `Pos` and `Span`.)
        assert!(std::mem::size_of::<Node>() <= 48);
    }

    /// Which fast paths vouched for a text.
    #[derive(Debug, Clone, Copy)]
    struct Vouched {
        scan: bool,
        events: bool,
    }

    /// Parses `text` every way, as [`parse_file`] would parse it alone:
    /// whenever a fast path vouches for a result, serde-saphyr must give the
    /// same tree and spend the same values.
    fn fast_paths_agree(text: &str) -> Vouched {
        VALUES_LEFT.with(|left| left.set(MAX_VALUES));
        let slow = serde_saphyr::from_multiple_with_options::<Node>(text, options());
        let slow_spent = MAX_VALUES - VALUES_LEFT.with(Cell::get);
        VALUES_LEFT.with(|left| left.set(usize::MAX));
        let check = |path: &str, fast: Option<Vec<Node>>, values_left: usize| {
            let Some(fast) = fast else {
                return false;
            };
            let slow = slow.as_ref().unwrap_or_else(|error| {
                panic!("{text:?}: the {path} path vouched, serde-saphyr failed: {error}")
            });
            // Debug text, not `==`: NaN is never equal to itself.
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{path}: {text:?}");
            assert_eq!(
                MAX_VALUES - values_left,
                slow_spent,
                "{path}: {text:?}: values spent"
            );
            true
        };
        let mut values_left = MAX_VALUES;
        let scan = check("scan", scan::parse(text, &mut values_left), values_left);
        let mut values_left = MAX_VALUES;
        let events = check("events", events::parse(text, &mut values_left), values_left);
        Vouched { scan, events }
    }

    fn agrees_on(text: &str) -> Vouched {
        let text = text.to_string();
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(PARSER_STACK_BYTES)
                .spawn_scoped(scope, move || fast_paths_agree(&text))
                .unwrap()
                .join()
                .unwrap()
        })
    }

    const SCALARS: &[&str] = &[
        "0",
        "-0",
        "+0",
        "1",
        "-1",
        "+1",
        "0x1F",
        "0X1f",
        "-0x10",
        "+0x10",
        "0o17",
        "0O17",
        "0b101",
        "0B11",
        "0x",
        "0b2",
        "0o8",
        "0xg",
        "1_000",
        "_1",
        "1_",
        "1__0",
        "0x_1",
        "0x1_f",
        "0042",
        "-0042",
        "+0042",
        "00",
        "-00",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551615",
        "18446744073709551616",
        "340282366920938463463374607431768211455",
        "340282366920938463463374607431768211456",
        "-170141183460469231731687303715884105728",
        "-170141183460469231731687303715884105729",
        "-0x80000000000000000000000000000000",
        "0xffffffffffffffffffffffffffffffff",
        "1.5",
        "-1.5",
        ".5",
        "1.",
        "1e3",
        "1E-3",
        "+1e3",
        "-1e3",
        "1e999",
        "-1e999",
        "+1e999",
        ".inf",
        "-.inf",
        "+.inf",
        ".Inf",
        ".INF",
        ".nan",
        ".NaN",
        ".NAN",
        "-.nan",
        "+.nan",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "Infinity",
        "infinity",
        "1.0e+3",
        "0x1p3",
        "1_0.5",
        "1.10",
        "0.0",
        "-0.0",
        "00.5",
        "0e0",
        "1,000",
        "1 000",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "tRue",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "~",
        "null",
        "Null",
        "NULL",
        "nUll",
        "\"\"",
        "''",
        "\"1\"",
        "'1'",
        "\"true\"",
        "'~'",
        "\"null\"",
        "\"0x1F\"",
        "\"a\\tb\"",
        "'it''s'",
        "é",
        "a b",
        "a:b",
        "-",
        "--",
        "- -",
        "?",
        "?x",
        "x?",
        "http://x/y",
        "\"<<\"",
        "'<<'",
        "<<x",
        "@x",
        "`x`",
        "%x",
        "a#b",
        "1 # c",
    ];

    #[test]
    fn the_fast_path_agrees_with_serde_saphyr_on_every_scalar() {
        let (mut vouched, mut scanned) = (0, 0);
        for scalar in SCALARS {
            let texts = [
                format!("v: {scalar}\n"),
                format!("{scalar}: v\n"),
                format!("- {scalar}\n"),
                format!("[{scalar}]\n"),
                format!("{{{scalar}: v, w: {scalar}}}\n"),
                format!("a:\n  b:\n    c:\n      d: {scalar}\n      {scalar}: e\n"),
                format!("{scalar}\n"),
                format!("--- {scalar}\n...\n"),
                format!("k: [{scalar}, {{{scalar}: [{scalar}]}}]\nl: {scalar}\n"),
            ];
            for text in texts {
                let paths = agrees_on(&text);
                vouched += usize::from(paths.events);
                scanned += usize::from(paths.scan);
            }
        }
        assert!(vouched > SCALARS.len() * 6, "{vouched}");
        assert!(scanned > SCALARS.len() * 4, "{scanned}");
    }

    #[test]
    fn the_fast_path_agrees_with_serde_saphyr_on_structure() {
        let fast = [
            "kind: Role\nname: a\ntags:\n  a: [1, x]\n  b: {c: d}\n",
            "# head\n---\n# c\na: 1 # c\n# c\nb:\n  # c\n  - 1\n  # c\n  - 2\n",
            "---\n---\nkind: Role\n",
            "",
            "---\n",
            "--- ~\n",
            "a:\nb: \nc: ~\n",
            "a: {}\nb: []\nc: [[], {}]\nd: [{a: 1}, {b: [2]}]\n",
            "a: |\n  x\n  y\nb: >\n  folded\n  text\n\nc: |-\n  z\n",
            "a: multi\n  line\n  plain\nb: \"quoted\n  folded\"\n",
            "a: 1\r\nb: 2\r\n",
            "\u{feff}a: 1\n",
            "- a\n- b: 1\n  c: 2\n- - x\n  - y\n",
            "? a\n: 1\n? b\n",
            "a: é\nb: 日本\nc: [é, 日本, 0x1F]\n",
            "a:\n  b:\n    c:\n      d:\n        e: [1, true, .inf]\n",
            "%YAML 1.2\n---\na: 1\n",
            "--- {a: 1}\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n...\n---\nb: 2\n...\n",
            "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12, m: 13, n: 14, o: 15, p: 16, q: 17, r: 18}\n",
            "a: \"\"\nb: ''\n\"\": 1\n",
            "1: a\n\"1\": b\n",
            "~: a\nnull: b\n",
            "01: a\n1: b\n",
        ];
        for text in fast {
            assert!(agrees_on(text).events, "the fast path should read {text:?}");
        }
        // Each of these must go to serde-saphyr (errors, or what the fast
        // path leaves to it); agreement is checked all the same.
        let slow = [
            "a: 1\na: 2\n",
            "a: b: c\n",
            "1: a\n0x1: b\n",
            "1_0: a\n10: b\n",
            "-0: a\n0: b\n",
            "true: a\n\"true\": b\n",
            "a: 1\n\"a\": 2\n",
            "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12, m: 13, n: 14, o: 15, p: 16, q: 17, a: 18}\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: !!int \"1\"\n",
            "!!map {a: 1}\n",
            "a: !custom x\n",
            "base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",
            "d:\n  <<: {x: 1}\n",
            "[a]: 1\n",
            "{a: 1}: 2\n",
            "a: \"x\n",
            "a: [1\n",
            "a: 1\n\tb: 2\n",
            "name: *x\n",
            "--- &a ~\n",
        ];
        for text in slow {
            let paths = agrees_on(text);
            assert!(
                !paths.events && !paths.scan,
                "the fast paths should leave {text:?}"
            );
        }
        let deep = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
        assert!(agrees_on(&deep(FAST_DEPTH_FOR_TESTS - 1)).events);
        assert!(!agrees_on(&deep(FAST_DEPTH_FOR_TESTS)).events);
        let deep_40 = agrees_on(&deep(40));
        assert!(!deep_40.events && !deep_40.scan);
    }

    /// The YAML files under the repository's `dir`.
    fn yaml_files(dir: &str) -> Vec<std::path::PathBuf> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut pending = vec![std::path::Path::new(root).join(dir)];
        let mut files = Vec::new();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(path);
                }
            }
        }
        files
    }

    #[test]
    fn the_fast_paths_agree_with_serde_saphyr_on_the_fixtures() {
        let (mut chunks, mut scanned) = (0, 0);
        let files = yaml_files("tests/fixtures");
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            for chunk in documents(&text) {
                chunks += 1;
                scanned += usize::from(agrees_on(chunk.text).scan);
            }
        }
        assert!(files.len() > 10, "{}", files.len());
        // Most fixtures are plain manifests: the quick path reads them.
        assert!(scanned * 4 > chunks * 3, "{scanned} of {chunks}");
    }

    #[test]
    fn the_quick_path_reads_what_manifests_are_written_in() {
        let read = [
            // The benchmark's heavy stack.
            "---\nkind: Role\nname: role-1\ntrust:\n  Version: \"2012-10-17\"\n  Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: \"sts:AssumeRole\"}]\nmanaged_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]\ninline_policies:\n  read-assets:\n    Version: \"2012-10-17\"\n    Statement:\n      - Effect: Allow\n        Action: [s3:GetObject, s3:ListBucket]\n        Resource: [\"arn:aws:s3:::b-1\", \"arn:aws:s3:::b-1/*\"]\ntags: {team: team-49, cost-center: cc-199}\n",
            "---\nkind: InstanceProfile\nname: profile-1\npath: /bench/\nrole: role-1\ntags:\n  team: team-49\n  service: service-999\n",
            "# a stack\nkind: Stack\nname: bench   # trailing\ntags:\n  owner: platform\n\n  environment: bench\n",
            // Lists at their key's indentation, mappings on an item's line,
            // quoted keys and values, numbers and booleans kept as written.
            "kind: Role\nmanaged_policies:\n- a\n- 'b''s'\nx:\n  - Effect: Allow\n    Action: \"s3:*\"\n  -   Sid: X\n      Effect: Deny\n\"quoted\": 'single'\nmax_session_duration: 3600\nflag: true\nratio: -1.5\nempty: {}\nnone: []\n",
            "- a\n- [1, [2, {x: y}]]\n- {a: 1, 'b': \"2\"}\n",
            "",
            "---\n# nothing\n",
        ];
        for text in read {
            assert!(agrees_on(text).scan, "the quick path should read {text:?}");
        }
        let left = [
            "a: |\n  x\n",
            "a: >\n  x\n",
            "a:\n",
            "a: \"x\\ty\"\n",
            "a: é\n",
            "a: 1\r\n",
            "a:\tb\n",
            "a: [1,\n  2]\n",
            "a: b\n  c\n",
            "- - a\n",
            "-\n  a: 1\n",
            "a : b\n",
            "{a: 1}\n",
            "x\n",
            "--- a: 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: [b, ]\n",
            "a: {b: }\n",
            "a: [b: c]\n",
            "a: \"b\"#c\n",
            "a: 1\n... x: 1\n",
            "... x: 1\n",
            "...\n",
            &format!("a: {}\n", "x".repeat(600)),
            &format!("a: 1\n{}b: 2\n", "# c\n".repeat(20)),
        ];
        for text in left {
            assert!(
                !agrees_on(text).scan,
                "the quick path should leave {text:?}"
            );
        }
    }

    #[test]
    fn the_quick_path_reads_the_sample_manifests() {
        let mut chunks = 0;
        for dir in ["manifests", "examples/lab"] {
            for path in yaml_files(dir) {
                let text = std::fs::read_to_string(&path).unwrap();
                // Block scalars (`|`, `>`) are the other paths' to read.
                for chunk in documents(&text).filter(|c| !c.text.contains(": |")) {
                    let read = agrees_on(chunk.text).scan;
                    assert!(read, "{}:{}", path.display(), chunk.first_line);
                    chunks += 1;
                }
            }
        }
        assert!(chunks > 10, "{chunks}");
    }

    mod quick_path {
        use proptest::prelude::*;

        use super::{SCALARS, agrees_on};

        /// A YAML tree and how each collection is written.
        #[derive(Debug, Clone)]
        enum Tree {
            Scalar(String),
            List(Vec<Tree>, Style),
            Map(Vec<(String, Tree)>, Style),
        }

        #[derive(Debug, Clone, Copy)]
        struct Style {
            flow: bool,
            /// Spaces a block collection is indented by under its key
            /// (0: a list at its key's indentation).
            indent: usize,
            comment: bool,
        }

        const KEYS: &[&str] = &[
            "kind", "name", "a", "b", "Version", "1", "0x1", "~", "\"q\"", "'s'", "\"a\"", "<<",
            "a b", "x:y", "-k", "true", "'it''s'", "\"\"",
        ];

        fn style() -> impl Strategy<Value = Style> {
            (any::<bool>(), 0..4usize, prop::bool::weighted(0.2)).prop_map(
                |(flow, indent, comment)| Style {
                    flow,
                    indent,
                    comment,
                },
            )
        }

        fn tree() -> impl Strategy<Value = Tree> {
            let leaf = prop::sample::select(SCALARS).prop_map(|s| Tree::Scalar(s.to_string()));
            leaf.prop_recursive(5, 40, 4, |inner| {
                prop_oneof![
                    (prop::collection::vec(inner.clone(), 0..4), style())
                        .prop_map(|(items, style)| Tree::List(items, style)),
                    (
                        prop::collection::vec((prop::sample::select(KEYS), inner), 0..4),
                        style()
                    )
                        .prop_map(|(entries, style)| Tree::Map(
                            entries
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                            style
                        )),
                ]
            })
        }

        fn flow(tree: &Tree) -> String {
            match tree {
                Tree::Scalar(text) => text.clone(),
                Tree::List(items, _) => {
                    let items: Vec<_> = items.iter().map(flow).collect();
                    format!("[{}]", items.join(", "))
                }
                Tree::Map(entries, _) => {
                    let entries: Vec<_> = entries
                        .iter()
                        .map(|(k, v)| format!("{k}: {}", flow(v)))
                        .collect();
                    format!("{{{}}}", entries.join(", "))
                }
            }
        }

        fn is_block(tree: &Tree) -> bool {
            match tree {
                Tree::List(items, style) => !style.flow && !items.is_empty(),
                Tree::Map(entries, style) => !style.flow && !entries.is_empty(),
                Tree::Scalar(_) => false,
            }
        }

        /// `tree` written as a block collection at `indent`, or on one line.
        fn block(tree: &Tree, indent: usize, out: &mut String) {
            let pad = " ".repeat(indent);
            match tree {
                Tree::List(items, style) if is_block(tree) => {
                    if style.comment {
                        out.push_str(&format!("{pad}# list\n"));
                    }
                    for item in items {
                        let mut inner = String::new();
                        value(item, indent + 2, style.indent.max(1), &mut inner);
                        out.push_str(&format!("{pad}- {}", inner.trim_start()));
                    }
                }
                Tree::Map(entries, style) if is_block(tree) => {
                    if style.comment {
                        out.push_str(&format!("{pad}# map\n"));
                    }
                    for (key, item) in entries {
                        out.push_str(&format!("{pad}{key}:"));
                        value(item, indent, style.indent, out);
                    }
                }
                _ => out.push_str(&format!("{pad}{}\n", flow(tree))),
            }
        }

        /// What follows a key's colon (or an item's dash, written over the
        /// first spaces of the line).
        fn value(tree: &Tree, indent: usize, by: usize, out: &mut String) {
            if is_block(tree) {
                let by = if matches!(tree, Tree::List(..)) {
                    by
                } else {
                    by.max(1)
                };
                out.push('\n');
                block(tree, indent + by, out);
            } else {
                out.push_str(&format!(" {}\n", flow(tree)));
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            /// Whatever the quick path reads, serde-saphyr reads the same
            /// way: documents of every shape, and the same with a few bytes
            /// inserted or removed anywhere.
            #[test]
            fn whatever_it_reads_serde_saphyr_reads_alike(
                tree in tree(),
                edits in prop::collection::vec(
                    (any::<prop::sample::Index>(), prop::sample::select(
                        &[None, Some(" "), Some("\n"), Some(":"), Some("#"), Some("-"), Some("\""),
                          Some("'"), Some("["), Some("]"), Some(","), Some("{"), Some("}"),
                          Some("\t"), Some("?"), Some("&"), Some("|"), Some("a"), Some("1"),
                          Some("."), Some("\\"), Some("!"), Some("*"),
                          // Tokens, which single characters rarely make.
                          Some("\n... "), Some("\n--- "), Some("\n..."), Some(" #"), Some(": "),
                          Some("- "), Some("''"), Some("\n  "), Some("\n- ")][..])),
                    0..4),
                marker in any::<bool>(),
            ) {
                let mut text = String::from(if marker { "---\n" } else { "" });
                block(&tree, 0, &mut text);
                agrees_on(&text);
                let mut bytes = text.into_bytes();
                for (at, edit) in edits {
                    let at = at.index(bytes.len() + 1);
                    match edit {
                        Some(token) => {
                            bytes.splice(at..at, token.bytes());
                        }
                        None if at < bytes.len() => { bytes.remove(at); }
                        None => {}
                    }
                }
                agrees_on(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
