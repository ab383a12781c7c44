//! The quick path of the YAML layer: a document written in the plain corner
//! of YAML that manifests use, read byte by byte into its tree.
//!
//! Why: granit-parser's events cost about 3.6 s of CPU on a stack of 300,000
//! resources (19 MB/s), more than everything else `validate` does together.
//! Manifests are written in a small corner of YAML: block mappings and lists,
//! flow collections on one line, plain and quoted scalars on one line,
//! comments. That corner is simple enough to read here several times faster.
//!
//! What it reads: printable ASCII and line feeds only (no tabs, carriage
//! returns, byte order marks or other characters, so columns are bytes);
//! block mappings whose keys are one-line scalars followed by `: `; block
//! lists, a mapping on an item's line (`- Effect: Allow`) and a list at its
//! key's indentation included; one-line flow lists and mappings; plain
//! scalars on one line that start with no indicator (`-` only before a
//! digit, letter or `.`); quoted scalars on one line, double-quoted without
//! escapes; comments. It gives up (`None`) on anything else: empty values,
//! multi-line scalars, block scalars, tags, anchors, aliases, merge keys,
//! complex keys, duplicate keys, directives, content after `---`, a `...`
//! document end marker, deep nesting, long scalars, long runs of comments,
//! spent budgets and every syntax error. The document then goes to
//! [`super::events`] and serde-saphyr, which stay the reference: tests in
//! `raw.rs` (a property test among them) check that whenever this path
//! vouches, serde-saphyr builds the same tree, at the same places, and
//! spends the same values.

use std::borrow::Cow;

use super::resolve::{KeySet, key_identity, resolve};
use super::{MAX_VALUES, Node, POSITIONED_LEVELS, Pos, Span, Value};

/// Nesting read here (a policy document is about eight levels deep); deeper
/// input goes on to the other paths, which own the depth budget.
const MAX_DEPTH: usize = 16;
/// Longest scalar read here, in bytes. granit-parser refuses a key longer
/// than 1,024 characters (YAML's simple-key limit); staying well under it on
/// every scalar means no key here can be one it refuses.
const MAX_SCALAR_BYTES: usize = 512;
/// Comments in a row, with no value between them, read here. granit-parser
/// buffers comments while it resolves an entry and fails past its limit of 32
/// (`super::events::parser_options`).
const MAX_COMMENTS_IN_A_ROW: usize = 16;
/// Comments one document may hold here, so that values and comments stay far
/// inside serde-saphyr's budget of events (four per value).
const MAX_COMMENTS: usize = MAX_VALUES;
/// Longest text read here: under serde-saphyr's budgets on scalar and comment
/// bytes (64 MiB each), which no part of it can then reach.
const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// The root of the document `text` (none for an empty document, which
/// serde-saphyr skips), or `None` where this path does not vouch for the
/// result. `values_left` is the file's budget of values: spent only on
/// success, one per node, exactly as the other paths spend it.
pub(super) fn parse(text: &str, values_left: &mut usize) -> Option<Vec<Node>> {
    let readable = |byte: u8| byte == b'\n' || (b' '..=b'~').contains(&byte);
    if text.len() > MAX_TEXT_BYTES || !text.bytes().all(readable) {
        return None;
    }
    let mut reader = Reader {
        text: text.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
        values_left: *values_left,
        comments: 0,
        comments_in_a_row: 0,
    };
    let roots = reader.document()?;
    *values_left = reader.values_left;
    Some(roots)
}

/// A byte no checked text holds: the end of the text.
const END: u8 = 0;

struct Reader<'t> {
    text: &'t [u8],
    /// The next byte to read.
    at: usize,
    /// The line `at` is on (from 1) and where that line starts.
    line: u32,
    line_start: usize,
    /// The file's values left ([`super::VALUES_LEFT`]).
    values_left: usize,
    comments: usize,
    comments_in_a_row: usize,
}

impl<'t> Reader<'t> {
    fn byte(&self, at: usize) -> u8 {
        self.text.get(at).copied().unwrap_or(END)
    }

    fn peek(&self) -> u8 {
        self.byte(self.at)
    }

    fn at_end(&self) -> bool {
        self.at >= self.text.len()
    }

    /// The column of `at`, counted from 0.
    fn indent(&self) -> usize {
        self.at - self.line_start
    }

    fn pos(&self) -> Option<Pos> {
        self.position_of(self.at)
    }

    /// Text between `start` and `end` (checked ASCII, so any cut is a
    /// character boundary).
    fn slice(&self, start: usize, end: usize) -> &'t str {
        let bytes = &self.text[start..end];
        // Checked printable ASCII in `parse`: this cannot fail.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.at += 1;
        }
    }

    /// Past the line feed at `at`.
    fn next_line(&mut self) -> Option<()> {
        self.at += 1;
        self.line = self.line.checked_add(1)?;
        self.line_start = self.at;
        Some(())
    }

    /// One comment, from its `#` to the end of its line (left unread).
    fn comment(&mut self) -> Option<()> {
        self.comments += 1;
        self.comments_in_a_row += 1;
        if self.comments > MAX_COMMENTS || self.comments_in_a_row > MAX_COMMENTS_IN_A_ROW {
            return None;
        }
        let rest = &self.text[self.at..];
        self.at += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        Some(())
    }

    /// From the start of a line: past blank and comment lines, to the first
    /// content of the next line that has some (or the end).
    fn skip_blank_lines(&mut self) -> Option<()> {
        loop {
            self.skip_spaces();
            match self.peek() {
                b'\n' => self.next_line()?,
                b'#' => {
                    self.comment()?;
                    if self.peek() == b'\n' {
                        self.next_line()?;
                    }
                }
                _ => return Some(()),
            }
        }
    }

    /// The rest of a line whose content has been read: spaces, perhaps a
    /// comment (after a space), the line feed; then on to the next content.
    fn end_of_line(&mut self) -> Option<()> {
        let content_end = self.at;
        self.skip_spaces();
        if self.peek() == b'#' {
            if self.at == content_end {
                return None;
            }
            self.comment()?;
        }
        match self.peek() {
            b'\n' => self.next_line()?,
            END if self.at_end() => {}
            _ => return None,
        }
        self.skip_blank_lines()
    }

    fn document(&mut self) -> Option<Vec<Node>> {
        self.skip_blank_lines()?;
        if self.indent() == 0 && self.text[self.at..].starts_with(b"---") {
            self.at += 3;
            if !matches!(self.peek(), b' ' | b'\n' | END) {
                return None;
            }
            self.end_of_line()?;
        }
        if self.at_end() {
            return Some(Vec::new());
        }
        if self.indent() != 0 {
            return None;
        }
        let root = self.block_collection(0, 1)?;
        // A block collection at column 0 reads every line left.
        self.at_end().then_some(vec![root])
    }

    /// The block list or mapping whose first line's content is at `at`.
    fn block_collection(&mut self, level: usize, depth: usize) -> Option<Node> {
        if self.item_starts() {
            self.block_list(level, depth, false)
        } else {
            self.block_mapping(level, depth)
        }
    }

    /// Whether `at` is a `---` or `...` document marker (if at column 0).
    fn marker_starts(&self) -> bool {
        let rest = &self.text[self.at..];
        (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && matches!(self.byte(self.at + 3), b' ' | b'\n' | END)
    }

    /// Whether `at` is a `- ` that starts a list item.
    fn item_starts(&self) -> bool {
        self.peek() == b'-' && matches!(self.byte(self.at + 1), b' ' | b'\n' | END)
    }

    fn block_mapping(&mut self, level: usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let indent = self.indent();
        let pos = self.pos()?;
        let mut entries = Vec::new();
        let mut keys = KeySet::default();
        loop {
            let key = self.key(level + 1, &mut keys, false)?;
            let value = self.value_of_key(indent, level + 1, depth)?;
            entries.push((key, value));
            if self.at_end() || self.indent() < indent {
                break;
            }
            if self.indent() > indent {
                return None;
            }
        }
        self.node(Value::Map(entries), pos, Span::default(), level)
    }

    /// A mapping key and the `:` after it (followed by a space, or a line
    /// feed outside flow), checked against the mapping's `keys`.
    fn key(&mut self, level: usize, keys: &mut KeySet, flow: bool) -> Option<Node> {
        // `... x: 1` at column 0 is a document end marker with content
        // after it (an error), not a key; `---` cannot start a plain scalar.
        if self.indent() == 0 && self.marker_starts() {
            return None;
        }
        let (text, plain, start, end) = self.scalar_text(flow)?;
        let colon_then = self.byte(self.at + 1);
        let value_follows = colon_then == b' ' || (!flow && matches!(colon_then, b'\n' | END));
        // `a : b` (a space before the colon) is left to the other paths.
        if self.peek() != b':' || !value_follows || self.at != end {
            return None;
        }
        // A merge key: serde-saphyr merges (or refuses) it.
        if text == "<<" || !keys.insert(key_identity(&text, plain)) {
            return None;
        }
        let pos = self.position_of(start)?;
        let key = self.scalar(text, plain, pos, start, end, level)?;
        self.at += 1;
        Some(key)
    }

    /// What follows a block mapping's key: a value on its line, or a block
    /// collection on the next lines (a list may stand at the key's indent).
    fn value_of_key(&mut self, indent: usize, level: usize, depth: usize) -> Option<Node> {
        let after_colon = self.at;
        self.skip_spaces();
        if !matches!(self.peek(), b'\n' | b'#' | END) {
            let value = self.inline_value(level, depth)?;
            self.end_of_line()?;
            return Some(value);
        }
        // From the colon, so that a comment is seen to follow a space.
        self.at = after_colon;
        self.end_of_line()?;
        if self.at_end() {
            return None;
        }
        let below = self.indent();
        if below > indent || (below == indent && self.item_starts()) {
            if self.item_starts() {
                self.block_list(level, depth + 1, below == indent)
            } else {
                self.block_mapping(level, depth + 1)
            }
        } else {
            // An empty value (null): left to the other paths.
            None
        }
    }

    /// A block list whose first `-` is at `at`. `at_key_indent`: the list is
    /// a key's value written at the key's own indentation, so a line there
    /// that is not an item is the mapping's next key.
    fn block_list(&mut self, level: usize, depth: usize, at_key_indent: bool) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let indent = self.indent();
        let mut pos = self.pos()?;
        let mut items = Vec::new();
        loop {
            // Past `-` and the spaces after it; an empty item or one on the
            // next lines is left to the other paths.
            self.at += 1;
            self.skip_spaces();
            if at_key_indent && items.is_empty() {
                // A list at its key's indentation starts, for the parser,
                // where its first item does.
                pos = self.pos()?;
            }
            if matches!(self.peek(), b'\n' | b'#' | END) || self.item_starts() {
                return None;
            }
            let item = if self.key_starts() {
                self.block_mapping(level + 1, depth + 1)?
            } else {
                let item = self.inline_value(level + 1, depth)?;
                self.end_of_line()?;
                item
            };
            items.push(item);
            if self.at_end() || self.indent() < indent {
                break;
            }
            if self.indent() > indent {
                return None;
            }
            if !self.item_starts() {
                if at_key_indent {
                    break;
                }
                return None;
            }
        }
        self.node(Value::Seq(items), pos, Span::default(), level)
    }

    /// Whether a block mapping's key starts at `at` (`- Effect: Allow`).
    fn key_starts(&self) -> bool {
        let end = match self.peek() {
            b'"' | b'\'' => quoted_end(self.text, self.at),
            first if plain_starts(first, self.byte(self.at + 1)) => {
                Some(plain_end(self.text, self.at, false))
            }
            _ => None,
        };
        end.is_some_and(|end| {
            self.byte(end) == b':' && matches!(self.byte(end + 1), b' ' | b'\n' | END)
        })
    }

    /// A value on the line of its key or item: a scalar or a flow collection.
    fn inline_value(&mut self, level: usize, depth: usize) -> Option<Node> {
        let value = self.flow_value(level, depth, false)?;
        // `a: b: c` is a syntax error.
        (self.peek() != b':').then_some(value)
    }

    /// A scalar or flow collection at `at`; `flow`: inside a flow collection.
    fn flow_value(&mut self, level: usize, depth: usize, flow: bool) -> Option<Node> {
        match self.peek() {
            b'[' => self.flow_list(level, depth + 1),
            b'{' => self.flow_mapping(level, depth + 1),
            _ => {
                let (text, plain, start, end) = self.scalar_text(flow)?;
                let pos = self.position_of(start)?;
                self.scalar(text, plain, pos, start, end, level)
            }
        }
    }

    fn flow_list(&mut self, level: usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let pos = self.pos()?;
        let mut items = Vec::new();
        self.at += 1;
        self.skip_spaces();
        if self.peek() == b']' {
            self.at += 1;
        } else {
            loop {
                items.push(self.flow_value(level + 1, depth, true)?);
                // `[a: b]` (a mapping of one entry) is left to the other paths.
                if !self.flow_separator(b']')? {
                    break;
                }
            }
        }
        self.node(Value::Seq(items), pos, Span::default(), level)
    }

    fn flow_mapping(&mut self, level: usize, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let pos = self.pos()?;
        let mut entries = Vec::new();
        let mut keys = KeySet::default();
        self.at += 1;
        self.skip_spaces();
        if self.peek() == b'}' {
            self.at += 1;
        } else {
            loop {
                let key = self.key(level + 1, &mut keys, true)?;
                self.skip_spaces();
                // `{a: }`: an empty value, left to the other paths.
                if matches!(self.peek(), b',' | b'}') {
                    return None;
                }
                let value = self.flow_value(level + 1, depth, true)?;
                entries.push((key, value));
                if !self.flow_separator(b'}')? {
                    break;
                }
            }
        }
        self.node(Value::Map(entries), pos, Span::default(), level)
    }

    /// After a flow entry: `,` and another entry (true), or the collection's
    /// `close` (false). Anything else, a line break or comment included, and
    /// a `,` right before `close`, is left to the other paths.
    fn flow_separator(&mut self, close: u8) -> Option<bool> {
        self.skip_spaces();
        match self.peek() {
            b',' => {
                self.at += 1;
                self.skip_spaces();
                (!matches!(self.peek(), b']' | b'}' | b',')).then_some(true)
            }
            byte if byte == close => {
                self.at += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// The scalar at `at`: its text, whether it is plain, and the bytes it
    /// was written on (quotes included). Leaves `at` after it (after a plain
    /// scalar's trailing spaces).
    fn scalar_text(&mut self, flow: bool) -> Option<(Cow<'t, str>, bool, usize, usize)> {
        let start = self.at;
        let (text, plain, end) = match self.peek() {
            b'"' => {
                let end = quoted_end(self.text, start)?;
                (Cow::Borrowed(self.slice(start + 1, end - 1)), false, end)
            }
            b'\'' => {
                let end = quoted_end(self.text, start)?;
                let inner = self.slice(start + 1, end - 1);
                let text = if inner.contains('\'') {
                    Cow::Owned(inner.replace("''", "'"))
                } else {
                    Cow::Borrowed(inner)
                };
                (text, false, end)
            }
            first if plain_starts(first, self.byte(start + 1)) => {
                let scanned = plain_end(self.text, start, flow);
                let text = self.slice(start, scanned).trim_end_matches(' ');
                self.at = scanned;
                (Cow::Borrowed(text), true, start + text.len())
            }
            _ => return None,
        };
        if end - start > MAX_SCALAR_BYTES {
            return None;
        }
        self.at = self.at.max(end);
        Some((text, plain, start, end))
    }

    /// The place of byte `start` of the current line.
    fn position_of(&self, start: usize) -> Option<Pos> {
        Some(Pos {
            line: self.line,
            column: u32::try_from(start - self.line_start + 1).ok()?,
        })
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        plain: bool,
        pos: Pos,
        start: usize,
        end: usize,
        level: usize,
    ) -> Option<Node> {
        let value = resolve(text, plain);
        let span = match value {
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => Span {
                start: u32::try_from(start).ok()?,
                end: u32::try_from(end).ok()?,
            },
            _ => Span::default(),
        };
        self.node(value, pos, span, level)
    }

    /// A node, spending one of the file's values; positioned only at the
    /// first [`POSITIONED_LEVELS`] levels, as the other paths place them.
    fn node(&mut self, value: Value, pos: Pos, span: Span, level: usize) -> Option<Node> {
        self.values_left = self.values_left.checked_sub(1)?;
        self.comments_in_a_row = 0;
        if level >= POSITIONED_LEVELS {
            return Some(Node {
                value,
                pos: Pos::default(),
                span: Span::default(),
            });
        }
        Some(Node { value, pos, span })
    }
}

/// Whether a plain scalar may start with `first` (followed by `second`)
/// here: not with an indicator, except `-` before a digit, letter or `.`
/// (`-1`, `-.inf`).
fn plain_starts(first: u8, second: u8) -> bool {
    match first {
        b'-' => second.is_ascii_alphanumeric() || second == b'.',
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | END => false,
        _ => true,
    }
}

/// Where the plain scalar starting at `start` stops (trailing spaces
/// included): at the line's end, at a `: ` (or `:` before the line's end), at
/// a ` #`, and inside a flow collection also at a flow indicator or a `:`
/// before one.
fn plain_end(text: &[u8], start: usize, flow: bool) -> usize {
    let byte = |at: usize| text.get(at).copied().unwrap_or(END);
    let mut at = start;
    loop {
        match byte(at) {
            b'\n' | END => return at,
            b':' => {
                let next = byte(at + 1);
                let ends = matches!(next, b' ' | b'\n' | END)
                    || (flow && matches!(next, b',' | b'[' | b']' | b'{' | b'}'));
                if ends {
                    return at;
                }
            }
            b' ' if byte(at + 1) == b'#' => return at,
            b',' | b'[' | b']' | b'{' | b'}' if flow => return at,
            _ => {}
        }
        at += 1;
    }
}

/// The byte after the closing quote of the quoted scalar opening at `start`,
/// or `None` when it does not close on its line, or, double-quoted, holds a
/// `\` escape.
fn quoted_end(text: &[u8], start: usize) -> Option<usize> {
    let quote = text[start];
    let mut at = start + 1;
    loop {
        match text.get(at).copied() {
            None | Some(b'\n') => return None,
            Some(b'\\') if quote == b'"' => return None,
            // `''` inside single quotes is one quote.
            Some(b'\'') if quote == b'\'' && text.get(at + 1) == Some(&b'\'') => at += 2,
            Some(byte) if byte == quote => return Some(at + 1),
            Some(_) => at += 1,
        }
    }
}
