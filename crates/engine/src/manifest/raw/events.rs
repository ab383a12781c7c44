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

use std::borrow::Cow;
use std::collections::HashSet;

use serde_saphyr::granit_parser::{
    Event, Marker, Options, Parser, ScalarStyle, Span as ParserSpan, StrInput,
};

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
            Event::Scalar(text, style, 0, None) => resolve(text, style),
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
            if text == "<<" || !keys.insert(key_identity(text, *style)) {
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

/// An untagged scalar's value, resolved as serde-saphyr's `deserialize_any`
/// resolves it under [`super::options`]: YAML 1.2 booleans only, numbers with
/// a leading zero or an underscore kept as text, non-finite floats passed
/// through, integers read as `i64`/`u64` (larger ones as floats).
fn resolve(text: Cow<'_, str>, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.into_owned());
    }
    if is_nullish(&text) {
        return Value::Null;
    }
    let trimmed = yaml_trim(&text);
    match trimmed {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if leading_zero_decimal(trimmed) || trimmed.contains('_') {
        return Value::String(text.into_owned());
    }
    let integer = match integer(trimmed) {
        Some((true, magnitude)) => 0i128
            .checked_sub_unsigned(magnitude)
            .filter(|&value| i64::try_from(value).is_ok()),
        Some((false, magnitude)) => u64::try_from(magnitude).ok().map(i128::from),
        None => None,
    };
    if let Some(value) = integer {
        return Value::Int(value);
    }
    match float(trimmed) {
        Some(value) => Value::Float(value),
        None => Value::String(text.into_owned()),
    }
}

/// serde-saphyr's `scalar_is_nullish` (for a plain scalar).
fn is_nullish(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// serde-saphyr's `yaml_trim`.
fn yaml_trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

/// serde-saphyr's `leading_zero_decimal`: `0127`, `+0127`, `-0127`.
fn leading_zero_decimal(trimmed: &str) -> bool {
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An integer as serde-saphyr reads one (`parse_int_signed` when it starts
/// with `-`, else `parse_int_unsigned`, without legacy octal): whether it is
/// written negative, and its magnitude, within `i128` when negative and
/// `u128` otherwise. `-0` is negative with magnitude 0.
fn integer(trimmed: &str) -> Option<(bool, u128)> {
    let (negative, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let (radix, digits) = if let Some(digits) = strip_radix(rest, "0x", "0X") {
        (16, digits)
    } else if let Some(digits) = strip_radix(rest, "0o", "0O") {
        (8, digits)
    } else if let Some(digits) = strip_radix(rest, "0b", "0B") {
        (2, digits)
    } else {
        if rest.starts_with('0') && rest != "0" {
            return None;
        }
        (10, rest)
    };
    let magnitude = digits_u128(digits, radix)?;
    // A negative `i128` reaches down to -2^127.
    let in_range = !negative || magnitude <= i128::MIN.unsigned_abs();
    in_range.then_some((negative, magnitude))
}

fn strip_radix<'a>(rest: &'a str, lower: &str, upper: &str) -> Option<&'a str> {
    rest.strip_prefix(lower)
        .or_else(|| rest.strip_prefix(upper))
}

/// serde-saphyr's `parse_digits_u128`: digits of `radix`, single
/// underscores between them.
fn digits_u128(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut value: u128 = 0;
    let mut saw_digit = false;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte == b'_' {
            let between_digits =
                i > 0 && bytes[i - 1] != b'_' && bytes.get(i + 1).is_some_and(|&b| b != b'_');
            if !between_digits {
                return None;
            }
            continue;
        }
        let digit = char::from(byte).to_digit(16)?;
        if digit >= radix {
            return None;
        }
        value = value
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(digit))?;
        saw_digit = true;
    }
    saw_digit.then_some(value)
}

/// serde-saphyr's `try_parse_float_incl_overflow`: YAML 1.2's `.inf` and
/// `.nan` spellings, any finite float Rust reads, and numerals too large for
/// `f64` (as infinities).
fn float(trimmed: &str) -> Option<f64> {
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    // Rust reads a finite float only from a digit or a `.` (its `inf` and
    // `nan` are not YAML's): most text stops here, unparsed.
    let first = unsigned.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'.') {
        return None;
    }
    let parsed = trimmed.parse::<f64>().ok()?;
    let numeral = first.is_ascii_digit();
    (parsed.is_finite() || (numeral && parsed.is_infinite())).then_some(parsed)
}

/// What serde-saphyr compares to find a duplicate key (`KeyFingerprint` of
/// an untagged scalar): a plain integer by its value (`0x1F` is `31`), a
/// plain null spelling as null, anything else as text. Kept as a hash: a
/// collision only sends the document to serde-saphyr, which then decides.
/// (A multiply-rotate hash, not SipHash: keys are hashed for every mapping
/// of every document, and SipHash cost 5% of the parse.)
fn key_identity(text: &str, style: ScalarStyle) -> u64 {
    let plain = style == ScalarStyle::Plain;
    match integer(yaml_trim(text)).filter(|_| plain) {
        Some((negative, magnitude)) => {
            let negative = negative && magnitude != 0;
            let bytes = [u8::from(negative)]
                .into_iter()
                .chain(magnitude.to_le_bytes());
            mix(0, bytes)
        }
        None if plain && is_nullish(text) => mix(1, text.bytes()),
        None => mix(2, text.bytes()),
    }
}

/// FxHash's step over bytes, from a seed that keeps the kinds of key apart.
fn mix(seed: u64, bytes: impl Iterator<Item = u8>) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = seed.wrapping_mul(K);
    let mut length = 0u64;
    for byte in bytes {
        hash = (hash.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        length += 1;
    }
    (hash.rotate_left(5) ^ length).wrapping_mul(K)
}

/// The keys of one mapping seen so far: a short list searched in place,
/// a set once the mapping is large.
#[derive(Default)]
struct KeySet {
    few: Vec<u64>,
    many: HashSet<u64>,
}

impl KeySet {
    const FEW: usize = 16;

    /// Adds a key; false if it was there.
    fn insert(&mut self, key: u64) -> bool {
        if self.few.len() < Self::FEW {
            if self.few.contains(&key) {
                return false;
            }
            self.few.push(key);
            return true;
        }
        if self.many.is_empty() {
            self.many.extend(self.few.iter().copied());
        }
        self.many.insert(key)
    }
}
