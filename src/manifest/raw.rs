//! The YAML layer: every document becomes a tree of [`Node`]s, each carrying
//! the line and column it was written at.
//!
//! Why a tree and not one serde struct per kind: a struct stops at its first
//! unknown field or wrong type, and `#[serde(flatten)]` (the only way to catch
//! unknown keys) loses every position. A positioned tree accepts any YAML, so
//! the conversion step can report every mistake in a document, each with its place.
//! This is the only module that talks to serde-saphyr.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A place in one manifest file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One YAML value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
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

/// A YAML error with the place it happened, if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub pos: Option<Pos>,
}

/// Limits that keep hostile input cheap: deep nesting, alias bombs and
/// document storms end with an error instead of a hang.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        // Snippets are rendered by nobody here: skip building them.
        with_snippet: false,
        // `cost-center: 0042` and `1_000` keep their spelling when read as text.
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            // Manifests are shallow: a policy document is about eight levels deep.
            max_depth: 32,
            // Generated stacks hold many documents per file; the byte cap in
            // `files` bounds the total work anyway.
            max_documents: 1_000_000,
            max_nodes: 10_000_000,
            max_events: 20_000_000,
            // Anchors and aliases are rare in manifests; an alias bomb must stop
            // after thousands of replayed events, not millions.
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_recorded_anchor_events: 100_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
        },
    }
}

/// Stack a thread needs to run [`parse_documents`]. Deserialising recurses
/// through several serde frames per nesting level (about 50 KiB a level in a
/// debug build), so the depth budget, not the thread's stack, must be what
/// stops deep input: callers parse on threads built with this stack size.
pub const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Parses every document of one file. Empty documents are skipped.
/// Run it on a thread with a [`PARSER_STACK_BYTES`] stack.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    serde_saphyr::from_multiple_with_options::<Node>(text, options()).map_err(|error| {
        let error = error.without_snippet();
        YamlError {
            message: message_of(error),
            pos: error.location().and_then(pos_of),
        }
    })
}

/// The message alone: the place is printed by our own diagnostics, and the
/// user formatter leaves out advice aimed at the programmer ("set DuplicateKeyPolicy").
/// Budget breaches get a message that says what to change.
fn message_of(error: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error;
    use serde_saphyr::MessageFormatter;
    use serde_saphyr::budget::BudgetBreach;
    const TOO_DEEP: &str = "nesting is too deep (more than 32 levels); manifests need far fewer";
    const ALIAS_BOMB: &str =
        "YAML aliases expand to too much data (an alias bomb?); write the values out instead";
    // Errors met while replaying an alias come wrapped; the cause is inside.
    let mut error = error.without_snippet();
    while let Error::AliasError { error: inner, .. } = error {
        error = inner.without_snippet();
    }
    match error {
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => TOO_DEEP.into(),
            BudgetBreach::Aliases { .. }
            | BudgetBreach::Anchors { .. }
            | BudgetBreach::RecordedAnchorEvents { .. }
            | BudgetBreach::RecordedAnchorBytes { .. } => ALIAS_BOMB.into(),
            other => format!("file is too large or too complex to read ({other:?})"),
        },
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => ALIAS_BOMB.into(),
        _ => {
            let message = serde_saphyr::UserMessageFormatter.format_message(error);
            // The parser's own limit on flow collections (`[[[[...`).
            if message == "recursion limit exceeded" {
                TOO_DEEP.into()
            } else {
                message.into_owned()
            }
        }
    }
}

fn pos_of(location: serde_saphyr::Location) -> Option<Pos> {
    let line = usize::try_from(location.line()).ok()?;
    let column = usize::try_from(location.column()).ok()?;
    (line > 0).then_some(Pos { line, column })
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
    Ok(Node {
        value: spanned.value.0,
        pos: pos_of(spanned.referenced).unwrap_or_default(),
    })
}

/// A value whose children are read as `C`.
struct Tree<C>(Value, PhantomData<C>);

impl<'de, C: Deserialize<'de> + Into<Node>> Deserialize<'de> for Tree<C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
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
    use super::*;

    /// Parses as the loader does: on a thread with the parser's stack.
    fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
        let text = text.to_string();
        std::thread::Builder::new()
            .stack_size(PARSER_STACK_BYTES)
            .spawn(move || parse_documents(&text))
            .unwrap()
            .join()
            .unwrap()
    }

    fn error(text: &str) -> YamlError {
        parse(text).unwrap_err()
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let docs = parse("---\n---\nkind: Role\ntags:\n  a: [1, x]\n").unwrap();
        assert_eq!(docs.len(), 1, "empty documents are skipped");
        let Value::Map(entries) = &docs[0].value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.pos, Pos { line: 3, column: 1 });
        assert_eq!(entries[0].1.pos, Pos { line: 3, column: 7 });
        assert_eq!(entries[1].1.pos, Pos { line: 5, column: 3 });
    }

    #[test]
    fn leading_zeros_stay_text() {
        let docs = parse("a: 0042\nb: 42\n").unwrap();
        let Value::Map(entries) = &docs[0].value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1.value, Value::String("0042".into()));
        assert_eq!(entries[1].1.value, Value::Int(42));
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_have_a_place() {
        assert_eq!(
            error("a: 1\na: 2\n"),
            YamlError {
                message: "duplicate mapping key `a` is not allowed here".into(),
                pos: Some(Pos { line: 2, column: 1 })
            }
        );
        assert_eq!(error("a: b: c\n").pos, Some(Pos { line: 1, column: 5 }));
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
            assert!(parse(&text).is_err());
        }
    }
}
