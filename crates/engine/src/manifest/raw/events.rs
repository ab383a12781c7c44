//! The fast path of the YAML layer: a document's tree built straight from the
//! parser's events, without serde.
//!
//! Why: serde-saphyr reads a document through serde's visitors, with a
//! `Spanned` wrapper per positioned node and every mapping key buffered and
//! replayed, which costs more than twice the parse itself (the parse phase was
//! about 10 s of CPU for a stack of 300,000 resources). The events come from
//! the same parser (granit-parser, through serde-saphyr's re-export, so the
//! two can never differ in version), with the same options.
//!
//! The fast path vouches only for what it reproduces exactly: untagged plain
//! and quoted scalars, lists and mappings with scalar keys, inside every
//! budget. Anything else — a syntax error, a duplicate key, a tag, an anchor
//! or alias, a merge key (`<<`), a complex key, deep nesting, a spent budget —
//! makes it give up (`None`), and [`super::parse_file`] reads the text again
//! through serde-saphyr, whose results and error messages stay the reference.
//! Manifests almost never hold those, so the common path is the fast one.

use serde_saphyr::granit_parser::{
    Event, Marker, Options, Parser, ScalarStyle, Span as ParserSpan, StrInput,
};

use super::resolve::{KeySet, is_nullish, key_identity, resolve};
use super::{MAX_DEPTH, MAX_DOCUMENTS, MAX_VALUES, Node, POSITIONED_LEVELS, Pos, Span, Value};

/// Nesting the fast path builds; deeper input goes to serde-saphyr, which
/// reports the breach of [`MAX_DEPTH`]. Well under it, so that no way of
/// counting levels can make the two disagree; manifests need about eight.
const FAST_MAX_DEPTH: usize = 24;
const _: () = assert!(FAST_MAX_DEPTH < MAX_DEPTH);
#[cfg(test)]
pub(super) const FAST_DEPTH_FOR_TESTS: usize = FAST_MAX_DEPTH;
/// serde-saphyr's budget on events ([`super::options`]).
const MAX_EVENTS: usize = 4 * MAX_VALUES;
/// serde-saphyr's default budgets on scalar and comment text.
const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;

/// The parser's options exactly as serde-saphyr derives them from
/// [`super::options`] (`Budget::parser_options`), so that both paths see the
/// same events and the same syntax errors. Comments are emitted (and skipped
/// here) because serde-saphyr emits them: the parser's limit on buffered
/// comments is one of its errors.
fn parser_options() -> Options {
    let mut options = Options::default();
    options.simple_key_max_lookahead = 1024;
    options.flow_nesting_limit = 255;
    options.block_nesting_limit = options.block_nesting_limit.max(MAX_DEPTH + 1);
    options.emit_comments = true;
    options.max_buffered_comment_events = 32;
    options.strict_indentation = false;
    options
}

/// The roots of the documents of `text` (null documents skipped), as
/// serde-saphyr would build them, or `None` where the fast path does not
/// vouch for the result. `values_left` is the file's budget of values: spent
/// only on success, exactly as the serde path spends it.
pub(super) fn parse(text: &str, values_left: &mut usize) -> Option<Vec<Node>> {
    let mut builder = Builder {
        parser: Parser::with_options(StrInput::new(text), parser_options()),
        events: 0,
        nodes: 0,
        scalar_bytes: 0,
        comment_bytes: 0,
        values_left: *values_left,
    };
    let roots = builder.stream()?;
    *values_left = builder.values_left;
    Some(roots)
}

struct Builder<'t> {
    parser: Parser<'t, StrInput<'t>>,
    /// serde-saphyr's budget counters (`BudgetEnforcer`), for one text.
    events: usize,
    nodes: usize,
    scalar_bytes: usize,
    comment_bytes: usize,
    /// The file's values left ([`super::VALUES_LEFT`]).
    values_left: usize,
}

impl<'t> Builder<'t> {
    /// The next event that is not a comment, counted against the budgets.
    #[inline]
    fn next(&mut self) -> Option<(Event<'t>, ParserSpan)> {
        loop {
            let (event, span) = self.parser.next()?.ok()?;
            self.events += 1;
            if self.events > MAX_EVENTS {
                return None;
            }
            match &event {
                Event::Comment(text, _) => {
                    self.comment_bytes += text.len();
                    if self.comment_bytes > MAX_TEXT_BYTES {
                        return None;
                    }
                    continue;
                }
                Event::Scalar(value, ..) => {
                    self.scalar_bytes += value.len();
                    self.count_node()?;
                    if self.scalar_bytes > MAX_TEXT_BYTES {
                        return None;
                    }
                }
                Event::SequenceStart(..) | Event::MappingStart(..) => self.count_node()?,
                _ => {}
            }
            return Some((event, span));
        }
    }

    fn count_node(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_VALUES).then_some(())
    }

    fn stream(&mut self) -> Option<Vec<Node>> {
        let mut roots = Vec::new();
        let mut documents = 0;
        let (Event::StreamStart, _) = self.next()? else {
            return None;
        };
        loop {
            match self.next()? {
                (Event::StreamEnd, _) => return Some(roots),
                (Event::DocumentStart(..), _) => {
                    documents += 1;
                    if documents > MAX_DOCUMENTS {
                        return None;
                    }
                    let (event, span) = self.next()?;
                    // serde-saphyr skips a null document before reading it.
                    let null = matches!(
                        &event,
                        Event::Scalar(value, ScalarStyle::Plain, 0, None) if is_nullish(value)
                    );
                    if !null {
                        roots.push(self.node(event, span, 0, 0)?);
                    }
                    let (Event::DocumentEnd, _) = self.next()? else {
                        return None;
                    };
                }
                _ => return None,
            }
        }
    }

    /// One node (`event` is its first event) at `level` of its document,
    /// inside `depth` collections.
    fn node(
        &mut self,
        event: Event<'t>,
        span: ParserSpan,
        level: usize,
        depth: usize,
    ) -> Option<Node> {
        self.values_left = self.values_left.checked_sub(1)?;
        let value = match event {
            Event::Scalar(text, style, 0, None) => resolve(text, style == ScalarStyle::Plain),
            Event::SequenceStart(_, 0, None) => Value::Seq(self.items(level, depth + 1)?),
            Event::MappingStart(_, 0, None) => Value::Map(self.entries(level, depth + 1)?),
            // Anchors, aliases and tags: serde-saphyr's.
            _ => return None,
        };
        if level >= POSITIONED_LEVELS {
            return Some(Node {
                value,
                pos: Pos::default(),
                span: Span::default(),
            });
        }
        let bytes = match value {
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => byte_span(&span),
            _ => Span::default(),
        };
        Some(Node {
            value,
            pos: pos_of(&span.start),
            span: bytes,
        })
    }

    fn items(&mut self, level: usize, depth: usize) -> Option<Vec<Node>> {
        if depth > FAST_MAX_DEPTH {
            return None;
        }
        let mut items = Vec::new();
        loop {
            match self.next()? {
                (Event::SequenceEnd, _) => return Some(items),
                (event, span) => items.push(self.node(event, span, level + 1, depth)?),
            }
        }
    }

    fn entries(&mut self, level: usize, depth: usize) -> Option<Vec<(Node, Node)>> {
        if depth > FAST_MAX_DEPTH {
            return None;
        }
        let mut entries = Vec::new();
        let mut keys = KeySet::default();
        loop {
            let (key, span) = match self.next()? {
                (Event::MappingEnd, _) => return Some(entries),
                (key @ Event::Scalar(..), span) => (key, span),
                // A list or mapping as a key.
                _ => return None,
            };
            let Event::Scalar(text, style, 0, None) = &key else {
                return None;
            };
            // A merge key: serde-saphyr merges (or refuses) it.
            if text == "<<" || !keys.insert(key_identity(text, *style == ScalarStyle::Plain)) {
                return None;
            }
            let key = self.node(key, span, level + 1, depth)?;
            let (value, span) = self.next()?;
            let value = self.node(value, span, level + 1, depth)?;
            entries.push((key, value));
        }
    }
}

/// Where a node starts, as serde-saphyr's `Location` says it (column counted
/// from 1); unknown (line 0) reads as the default, as in [`super::pos_of`].
fn pos_of(start: &Marker) -> Pos {
    match (u32::try_from(start.line()), u32::try_from(start.col() + 1)) {
        (Ok(line), Ok(column)) if line > 0 => Pos { line, column },
        _ => Pos::default(),
    }
}

/// The bytes a scalar was written on, as serde-saphyr's `Location` keeps
/// them (none past 4 GiB).
fn byte_span(span: &ParserSpan) -> Span {
    let (Some(start), Some(end)) = (span.start.byte_offset(), span.end.byte_offset()) else {
        return Span::default();
    };
    match (
        u32::try_from(start),
        u32::try_from(end.saturating_sub(start)),
    ) {
        (Ok(start), Ok(len)) => Span {
            start,
            end: start.saturating_add(len),
        },
        _ => Span::default(),
    }
}
