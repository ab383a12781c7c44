//! One change as signed lines: what is added, removed, changed, or context.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use similar::{ChangeTag, TextDiff};

use crate::compare::ownership;
use crate::plan::{Action, Attribute, Change, ChangeViews, Removal, Shown, View};
use rolecall_model::{Kind, key};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Add,
    Remove,
    Change,
    Context,
}

impl Sign {
    pub fn symbol(self) -> &'static str {
        match self {
            Sign::Add => "+",
            Sign::Remove => "-",
            Sign::Change => "~",
            Sign::Context => " ",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sign: Sign,
    /// Nesting depth (0 = attribute level).
    pub depth: usize,
    pub text: String,
}

fn line(sign: Sign, depth: usize, text: impl Into<String>) -> Line {
    Line {
        sign,
        depth,
        text: text.into(),
    }
}

/// Where a change's lines go as they are made: a renderer writes each
/// straight out, with no string kept per line (a large plan's creations
/// are millions of lines).
pub trait LineSink {
    fn line(&mut self, sign: Sign, depth: usize, text: impl AsRef<str>);

    /// The lines of a document, `compact` its compact JSON, laid out as
    /// [`pretty_lines`] does (none if it is not JSON). A sink may write
    /// one it wrote a moment ago again without laying it out anew.
    fn document(&mut self, sign: Sign, depth: usize, compact: &str) {
        let _ = pretty_lines(compact, &mut |line| self.line(sign, depth, line));
    }
}

impl LineSink for Vec<Line> {
    fn line(&mut self, sign: Sign, depth: usize, text: impl AsRef<str>) {
        self.push(line(sign, depth, text.as_ref()));
    }
}

/// The symbol of a resource-level action, as in Terraform.
pub fn action_symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
        Action::Noop => " ",
    }
}

/// Attributes that hold policy documents: shown as canonical JSON, diffed line by line.
fn is_document(attribute: &str) -> bool {
    matches!(attribute, "trust" | "document")
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn document_lines(sign: Sign, depth: usize, value: &Value, out: &mut impl LineSink) {
    for text in pretty(value).lines() {
        out.line(sign, depth, text);
    }
}

/// Unchanged lines shown around each change of a long document: a one-word
/// edit in a long policy shows its neighbourhood, not the whole document.
const CONTEXT_LINES: usize = 4;
/// Documents up to this many lines are shown whole, changes in place.
const WHOLE_DOCUMENT_LINES: usize = 40;

fn document_diff(depth: usize, before: &Value, after: &Value, out: &mut impl LineSink) {
    let (old, new) = (pretty(before) + "\n", pretty(after) + "\n");
    let diff = TextDiff::from_lines(&old, &new);
    let old_lines = old.lines().count();
    let longest = old_lines.max(new.lines().count());
    let context = if longest <= WHOLE_DOCUMENT_LINES {
        longest
    } else {
        CONTEXT_LINES
    };
    let groups = diff.grouped_ops(context);
    for (index, group) in groups.iter().enumerate() {
        let starts_late = group.first().is_some_and(|op| op.old_range().start > 0);
        if index > 0 || starts_late {
            out.line(Sign::Context, depth, "...");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Equal => Sign::Context,
                    ChangeTag::Delete => Sign::Remove,
                    ChangeTag::Insert => Sign::Add,
                };
                out.line(sign, depth, change.value().trim_end_matches('\n'));
            }
        }
        let is_last = index + 1 == groups.len();
        let ends_early = group
            .last()
            .is_some_and(|op| op.old_range().end < old_lines);
        if is_last && ends_early {
            out.line(Sign::Context, depth, "...");
        }
    }
}

fn object(value: &Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Lines for a whole resource being created (everything it will have),
/// read from the view's text with each value left as its text: most of a
/// first plan is creations, and building each view's tree cost as much as
/// the rest of rendering it. The lines are those the tree would give: the
/// view is serde_json's compact text, so a value's text is what writing
/// its tree gives.
fn created(after: Option<&View>, out: &mut impl LineSink) {
    let Some(attributes) = after.and_then(|view| entries(view.raw())) else {
        return;
    };
    for (key, value) in attributes {
        attribute_added(&key, value, out);
    }
}

/// [`created`] of a declared role or profile, written from its
/// attributes: the lines its view would give, without writing the view
/// to read it again. A document's lines are laid out from its canonical
/// text, which the view would hold; strings are written as their JSON.
fn created_shown(shown: Shown, out: &mut impl LineSink) {
    // Each line made in one buffer: a large first plan writes millions of
    // them, and a string or two each was as many allocations.
    let mut line = String::new();
    shown.attributes(&mut |key, attribute| match attribute {
        Attribute::Text(text) => out.line(Sign::Add, 0, made(&mut line, &[key, ": "], Some(text))),
        Attribute::Number(number) => {
            made(&mut line, &[key, ": "], None);
            // Writing into a String cannot fail.
            let _ = write!(line, "{number}");
            out.line(Sign::Add, 0, &line);
        }
        Attribute::Document(document) => {
            let text = document.json_text();
            if text.starts_with('{') {
                out.line(Sign::Add, 0, made(&mut line, &[key, ":"], None));
                out.document(Sign::Add, 1, text);
            } else {
                let scalar = scalar_text(text);
                out.line(Sign::Add, 0, made(&mut line, &[key, ": ", scalar], None));
            }
        }
        Attribute::Documents(documents) => {
            for (name, document) in documents.iter() {
                out.line(
                    Sign::Add,
                    0,
                    made(&mut line, &["inline_policies.", name, ":"], None),
                );
                out.document(Sign::Add, 1, document.json_text());
            }
        }
        Attribute::Names(names) => {
            for name in names {
                out.line(Sign::Add, 0, made(&mut line, &[key, ": "], Some(name)));
            }
        }
        Attribute::Tags(tags) => {
            for (tag, value) in tags.iter().filter(|(tag, _)| ownership::is_users(tag)) {
                out.line(
                    Sign::Add,
                    0,
                    made(&mut line, &[key, ".", tag, " = "], Some(value)),
                );
            }
        }
    });
}

/// `line`, made anew of `parts` and then `json` as a JSON string. Pieces
/// put side by side, not formatted: a large first plan makes millions of
/// these lines.
fn made<'l>(line: &'l mut String, parts: &[&str], json: Option<&str>) -> &'l str {
    line.clear();
    for part in parts {
        line.push_str(part);
    }
    if let Some(text) = json {
        push_json_string(line, text);
    }
    line
}

/// A string as JSON text, as a view holds it.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// [`json_string`], onto `line`: quoted as it is when serde_json would
/// escape none of it (a quote, a backslash, a control character), as
/// nearly every name and tag is.
fn push_json_string(line: &mut String, text: &str) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        line.push_str(&json_string(text));
    } else {
        line.push('"');
        line.push_str(text);
        line.push('"');
    }
}

/// The entries of a JSON object, in order, each value as its text; `None`
/// for anything else. A view is serde_json's text of a tree, so its keys
/// are unique; they are borrowed unless they hold an escape (a large plan
/// reads millions of them).
fn entries(raw: &RawValue) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    serde_json::from_str::<Entries>(raw.get())
        .ok()
        .map(|entries| entries.0)
}

struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

/// A key, borrowed from the text where it can be.
#[derive(Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Entries<'de>, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((Key(key), value)) = map.next_entry::<Key, &RawValue>()? {
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

fn attribute_added(key: &str, value: &RawValue, out: &mut impl LineSink) {
    let object = || entries(value).unwrap_or_default();
    match key {
        "inline_policies" if is_object(value) => {
            for (name, document) in object() {
                out.line(Sign::Add, 0, format!("inline_policies.{name}:"));
                raw_document_lines(Sign::Add, 1, document, out);
            }
        }
        key if is_document(key) && is_object(value) => {
            out.line(Sign::Add, 0, format!("{key}:"));
            raw_document_lines(Sign::Add, 1, value, out);
        }
        "tags" if is_object(value) => {
            for (k, v) in object() {
                out.line(Sign::Add, 0, format!("tags.{k} = {}", v.get()));
            }
        }
        "managed_policies" if value.get().starts_with('[') => {
            let items: Vec<&RawValue> = serde_json::from_str(value.get()).unwrap_or_default();
            for item in items {
                out.line(
                    Sign::Add,
                    0,
                    format!("managed_policies: {}", raw_scalar(item)),
                );
            }
        }
        key => out.line(Sign::Add, 0, format!("{key}: {}", raw_scalar(value))),
    }
}

fn is_object(value: &RawValue) -> bool {
    value.get().starts_with('{')
}

/// [`scalar`] of a value's text.
fn raw_scalar(value: &RawValue) -> &str {
    scalar_text(value.get())
}

/// [`scalar`] of a value's JSON text.
fn scalar_text(text: &str) -> &str {
    match text {
        "null" => "(none)",
        text => text,
    }
}

/// [`document_lines`] of a document's text, laid out as [`pretty`] prints
/// its tree; no lines if it is not JSON.
fn raw_document_lines(sign: Sign, depth: usize, document: &RawValue, out: &mut impl LineSink) {
    out.document(sign, depth, document.get());
}

/// The lines serde_json's pretty printer gives for `compact`, serde_json's
/// compact text of a value, each given to `each`: laid out from its bytes
/// when it is plain ([`pretty_lines_of_plain_json`]), else printed again
/// from its tokens. Text that is not JSON is an error, and gives no line.
pub(super) fn pretty_lines(
    compact: &str,
    each: &mut dyn FnMut(&str),
) -> Result<(), serde_json::Error> {
    if pretty_lines_of_plain_json(compact, each) {
        return Ok(());
    }
    let mut text = Vec::new();
    let mut tokens = serde_json::Deserializer::from_str(compact);
    serde_transcode::transcode(&mut tokens, &mut serde_json::Serializer::pretty(&mut text))?;
    for line in String::from_utf8_lossy(&text).lines() {
        each(line);
    }
    Ok(())
}

/// Whether compact JSON text is plain enough to lay out from its bytes:
/// no escape, nothing between tokens, and no number serde_json would print
/// otherwise (a float; `-0`, which it reads as a float; an integer of more
/// than 18 digits, which may not fit 64 bits).
fn is_plain_json(bytes: &[u8]) -> bool {
    let mut in_string = false;
    let mut previous = 0u8;
    let mut digits = 0usize;
    for &b in bytes {
        if in_string {
            match b {
                b'"' => in_string = false,
                b'\\' => return false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'\\' | b'.' | b' ' | b'\t' | b'\n' | b'\r' => return false,
                // An exponent follows a digit (the `e` of `true` a letter).
                b'e' | b'E' if previous.is_ascii_digit() => return false,
                b'0' if previous == b'-' => return false,
                _ => {}
            }
            digits = if b.is_ascii_digit() { digits + 1 } else { 0 };
            if digits > 18 {
                return false;
            }
        }
        previous = b;
    }
    true
}

/// The lines serde_json's pretty printer gives for `compact`, serde_json's
/// compact text of a value, laid out from its bytes (most of a large
/// first plan's text is its documents, and parsing each to print it again
/// was a quarter of rendering). Only for plain text ([`is_plain_json`]).
/// Anything else (which a policy seldom holds) returns false before a line
/// is given, and is printed by serde_json itself.
fn pretty_lines_of_plain_json(compact: &str, each: &mut dyn FnMut(&str)) -> bool {
    let bytes = compact.as_bytes();
    if bytes.is_empty() || !is_plain_json(bytes) {
        return false;
    }
    let mut line = String::new();
    let mut indent = 0usize;
    let new_line = |line: &mut String, indent: usize, each: &mut dyn FnMut(&str)| {
        each(line);
        line.clear();
        for _ in 0..indent {
            line.push_str("  ");
        }
    };
    let mut at = 0;
    while at < compact.len() {
        let b = bytes[at];
        match b {
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if bytes.get(at + 1) == Some(&close) {
                    line.push(b as char);
                    line.push(close as char);
                    at += 2;
                    continue;
                }
                line.push(b as char);
                indent += 1;
                new_line(&mut line, indent, each);
            }
            b'}' | b']' => {
                indent = indent.saturating_sub(1);
                new_line(&mut line, indent, each);
                line.push(b as char);
            }
            b',' => {
                line.push(',');
                new_line(&mut line, indent, each);
            }
            b':' => line.push_str(": "),
            b'"' => {
                // No escapes: the string ends at the next quote. (Short
                // texts: a byte loop, not a search set up for each.)
                let end = bytes[at + 1..]
                    .iter()
                    .position(|&b| b == b'"')
                    .map_or(compact.len(), |n| at + n + 2);
                line.push_str(&compact[at..end]);
                at = end;
                continue;
            }
            _ => {
                let end = bytes[at..]
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b':'))
                    .map_or(compact.len(), |n| at + n);
                line.push_str(&compact[at..end]);
                at = end;
                continue;
            }
        }
        at += 1;
    }
    each(&line);
    true
}

fn attribute_changed(key: &str, before: &Value, after: &Value, out: &mut impl LineSink) {
    match key {
        "inline_policies" => {
            let (old, new) = (object(before), object(after));
            for (name, document) in &old {
                match new.get(name) {
                    None => {
                        out.line(Sign::Remove, 0, format!("inline_policies.{name}"));
                    }
                    Some(changed) if changed != document => {
                        out.line(Sign::Change, 0, format!("inline_policies.{name}:"));
                        document_diff(1, document, changed, out);
                    }
                    Some(_) => {}
                }
            }
            for (name, document) in &new {
                if !old.contains_key(name) {
                    out.line(Sign::Add, 0, format!("inline_policies.{name}:"));
                    document_lines(Sign::Add, 1, document, out);
                }
            }
        }
        key if is_document(key) => {
            out.line(Sign::Change, 0, format!("{key}:"));
            document_diff(1, before, after, out);
        }
        "tags" => {
            let (old, new) = (object(before), object(after));
            for (k, v) in &old {
                match new.get(k) {
                    None => out.line(Sign::Remove, 0, format!("tags.{k} = {v}")),
                    Some(n) if n != v => out.line(Sign::Change, 0, format!("tags.{k}: {v} -> {n}")),
                    Some(_) => {}
                }
            }
            for (k, v) in &new {
                if !old.contains_key(k) {
                    out.line(Sign::Add, 0, format!("tags.{k} = {v}"));
                }
            }
        }
        "managed_policies" => {
            let list = |v: &Value| -> Vec<String> {
                v.as_array()
                    .map(|a| a.iter().map(scalar).collect())
                    .unwrap_or_default()
            };
            let (old, new) = (list(before), list(after));
            for arn in old.iter().filter(|a| !new.contains(a)) {
                out.line(Sign::Remove, 0, format!("managed_policies: {arn}"));
            }
            for arn in new.iter().filter(|a| !old.contains(a)) {
                out.line(Sign::Add, 0, format!("managed_policies: {arn}"));
            }
        }
        key => out.line(
            Sign::Change,
            0,
            format!("{key}: {} -> {}", scalar(before), scalar(after)),
        ),
    }
}

/// The lines that explain one change.
pub fn describe(change: &Change) -> Vec<Line> {
    let mut out = Vec::new();
    describe_into(change, &mut out);
    out
}

/// [`describe`], each line given to `out` as it is made.
pub fn describe_into(change: &Change, out: &mut impl LineSink) {
    describe_views_into(change, &ChangeViews::of(change), out);
}

/// [`describe_into`] with the change's views given apart (see
/// [`crate::plan::Later::views`]).
pub fn describe_views_into(change: &Change, views: &ChangeViews, out: &mut impl LineSink) {
    let parse = |view: &Option<Cow<View>>| view.as_deref().map_or(Value::Null, View::parse);
    match change.action {
        Action::Create => match views.created {
            Some(shown) => created_shown(shown, out),
            None => created(views.after.as_deref(), out),
        },
        Action::Delete | Action::Noop => {}
        Action::Update | Action::Replace => {
            let (before, after) = (parse(&views.before), parse(&views.after));
            let null = Value::Null;
            for attribute in &change.attributes {
                match (before.get(attribute), after.get(attribute)) {
                    (None, None) => out.line(Sign::Change, 0, attribute),
                    (b, a) => {
                        attribute_changed(attribute, b.unwrap_or(&null), a.unwrap_or(&null), out)
                    }
                }
            }
        }
    }
}

/// Why a change is what it is, in a few words (for headers). A destroy
/// plan deletes what is still declared: it says what happens, not why.
pub fn reason(change: &Change, destroy: bool) -> String {
    let why = if destroy { "" } else { "no longer declared: " };
    match change.removal() {
        Some(Removal::Terminated) => {
            format!("{why}terminated, as rolecall launched it on the emulated account")
        }
        Some(Removal::Released) => format!("{why}released, the instance keeps running"),
        Some(Removal::Deleted) if destroy => String::new(),
        Some(Removal::Deleted) => "no longer declared".into(),
        None => match change.action {
            Action::Replace if key::kind_of(&change.resource) == Some(Kind::Policy) => {
                // IAM has no UpdatePolicy: its path and description are fixed.
                let fixed: Vec<&str> = change
                    .attributes
                    .iter()
                    .map(String::as_str)
                    .filter(|a| crate::compare::replaces(Kind::Policy, a))
                    .collect();
                format!(
                    "{} {}, which forces replacement (IAM has no UpdatePolicy)",
                    fixed.join(" and "),
                    if fixed.len() == 1 {
                        "changes"
                    } else {
                        "change"
                    }
                )
            }
            Action::Replace => "path changes, which forces replacement".into(),
            Action::Create if key::kind_of(&change.resource) == Some(Kind::Instance) => {
                "launched: emulated account only".into()
            }
            _ => String::new(),
        },
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;
    use rolecall_model::{InstanceProfile, PolicyDocument, Role, Tags};
    use serde_json::json;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("{} {}", l.sign.symbol(), l.text.trim()))
            .collect()
    }

    /// What a creation's lines were when they were read from the view's
    /// tree: the reference the text-only reading must match.
    fn created_from_tree(after: &Value) -> Vec<Line> {
        let mut out = Vec::new();
        for (key, value) in after.as_object().into_iter().flatten() {
            match (key.as_str(), value) {
                ("inline_policies", Value::Object(policies)) => {
                    for (name, document) in policies {
                        out.push(line(Sign::Add, 0, format!("inline_policies.{name}:")));
                        document_lines(Sign::Add, 1, document, &mut out);
                    }
                }
                (key, Value::Object(_)) if is_document(key) => {
                    out.push(line(Sign::Add, 0, format!("{key}:")));
                    document_lines(Sign::Add, 1, value, &mut out);
                }
                ("tags", Value::Object(tags)) => {
                    for (k, v) in tags {
                        out.push(line(Sign::Add, 0, format!("tags.{k} = {v}")));
                    }
                }
                ("managed_policies", Value::Array(items)) => {
                    for item in items {
                        let text = format!("managed_policies: {}", scalar(item));
                        out.push(line(Sign::Add, 0, text));
                    }
                }
                (key, value) => out.push(line(Sign::Add, 0, format!("{key}: {}", scalar(value)))),
            }
        }
        out
    }

    #[test]
    fn a_creation_reads_the_same_from_the_views_text_as_from_its_tree() {
        let document = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List\"\\é\u{1}"],
                "Resource": "*", "Condition": {"NumericLessThan": {"n": [1.5, -3, 1e300, 18446744073709551615_u64]}},
                "Empty": {}, "None": [], "Null": null}]
        });
        let views = [
            json!({
                "name": "web", "path": "/", "description": null, "max_session_duration": 3600,
                "trust": document, "document": "not a mapping",
                "inline_policies": {"read \"it\"": document, "empty": {}},
                "managed_policies": ["arn:aws:iam::aws:policy/A", null, 3],
                "tags": {"team": "web", "quote\"d": "va\\lue", "n": 1, "é": "日本"},
                "odd": {"a": [1, {"b": null}]}, "list": [], "flag": true,
            }),
            json!({"tags": "not a mapping", "managed_policies": {"a": 1}, "inline_policies": []}),
            json!({}),
            json!("not an object"),
        ];
        for after in views {
            let view = View::of(&after).unwrap();
            let mut from_text = Vec::new();
            created(Some(&view), &mut from_text);
            assert_eq!(from_text, created_from_tree(&view.parse()), "{after}");
        }
    }

    fn serde_json_pretty_lines(value: &Value) -> Vec<String> {
        pretty(value).lines().map(str::to_string).collect()
    }

    fn laid_out(compact: &str) -> Option<Vec<String>> {
        let mut lines = Vec::new();
        pretty_lines_of_plain_json(compact, &mut |line| lines.push(line.to_string()))
            .then_some(lines)
    }

    /// The byte layout gives serde_json's pretty lines for the plain
    /// documents it takes, and leaves the others (escapes, floats) to
    /// serde_json before giving a line.
    #[test]
    fn plain_documents_are_laid_out_as_serde_json_prints_them() {
        let plain = [
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"],
                "Resource": "*", "Condition": {"NumericLessThan": {"n": [1, -3, 999_999_999_999_999_999_u64, -999_999_999_999_999_999_i64]}},
                "Empty": {}, "None": [], "Null": null, "T": true, "F": false,
                "Nested": [[], [{}], [[1, [2]]], {"a": {"b": {}}}], "Punct": "a,b:c]d}e{f[g", "Uni": "é日本"}]}),
            json!({}),
            json!([]),
            json!("a string"),
            json!(42),
        ];
        for value in plain {
            let compact = value.to_string();
            assert_eq!(
                laid_out(&compact),
                Some(serde_json_pretty_lines(&value)),
                "{compact}"
            );
        }
        for value in [
            json!({"a": 1.5}),
            json!({"q": "say \"hi\""}),
            json!(["tab\t"]),
            json!(1e300),
        ] {
            let compact = value.to_string();
            assert_eq!(laid_out(&compact), None, "{compact}");
            let mut out = Vec::new();
            raw_document_lines(
                Sign::Add,
                0,
                &RawValue::from_string(compact).unwrap(),
                &mut out,
            );
            let texts: Vec<String> = out.into_iter().map(|line| line.text).collect();
            assert_eq!(texts, serde_json_pretty_lines(&value));
        }
        // Numbers serde_json reads as floats or may not fit 64 bits are
        // printed by serde_json, as a hand-edited saved plan may hold them.
        for text in [
            "-0",
            "{\"a\":[-0,1]}",
            "18446744073709551616",
            "[18446744073709551615,-9223372036854775808]",
        ] {
            assert_eq!(laid_out(text), None, "{text}");
            let mut out = Vec::new();
            raw_document_lines(
                Sign::Add,
                0,
                &RawValue::from_string(text.into()).unwrap(),
                &mut out,
            );
            let texts: Vec<String> = out.into_iter().map(|line| line.text).collect();
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(texts, serde_json_pretty_lines(&value), "{text}");
        }
    }

    /// Any JSON value (`plain`: only what the byte layout takes).
    fn json_value(plain: bool) -> impl Strategy<Value = Value> {
        let text = if plain {
            "[a-zA-Z0-9:,\\[\\]{}*/ é-]{0,12}"
        } else {
            ".{0,12}"
        };
        // Plain: integers of up to 18 digits (longer ones go to serde_json).
        const PLAIN: i64 = 999_999_999_999_999_999;
        let number = if plain {
            (-PLAIN..=PLAIN).prop_map(|n| json!(n)).boxed()
        } else {
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f))
                .boxed()
        };
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0..=PLAIN as u64).prop_map(|n| json!(n)),
            number,
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text, inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// A document's lines, laid out by whichever way takes it.
    fn document_texts(value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let raw = RawValue::from_string(value.to_string()).unwrap();
        raw_document_lines(Sign::Add, 1, &raw, &mut out);
        out.into_iter().map(|line| line.text).collect()
    }

    proptest! {
        /// Whatever a document holds, its lines are serde_json's pretty
        /// printing of it.
        #[test]
        fn a_documents_lines_are_serde_jsons_pretty_printing(value in json_value(false)) {
            prop_assert_eq!(document_texts(&value), serde_json_pretty_lines(&value));
        }

        /// A plain document is laid out from its bytes, as serde_json
        /// prints it.
        #[test]
        fn a_plain_documents_lines_are_laid_out_from_its_bytes(value in json_value(true)) {
            prop_assert_eq!(laid_out(&value.to_string()), Some(serde_json_pretty_lines(&value)));
            prop_assert_eq!(document_texts(&value), serde_json_pretty_lines(&value));
        }
    }

    /// A policy document of any content, held as a tree or as its text
    /// alone: mostly an object, as every valid document is, sometimes any
    /// JSON value (`null`, a list), which validation refuses.
    fn document() -> impl Strategy<Value = PolicyDocument> {
        let object = prop::collection::vec((".{0,8}", json_value(false)), 0..4)
            .prop_map(|entries| Value::Object(entries.into_iter().collect()));
        (
            prop_oneof![4 => object, 1 => json_value(false)],
            any::<bool>(),
        )
            .prop_map(|(value, text_only)| {
                let document = PolicyDocument::from_value(value);
                if text_only {
                    document.into_text()
                } else {
                    document
                }
            })
    }

    /// Tags, some of them rolecall's own (which a view leaves out).
    fn tags() -> impl Strategy<Value = Tags> {
        prop::collection::vec((prop_oneof![".{0,8}", "rolecall:.{0,4}"], ".{0,8}"), 0..4)
            .prop_map(|tags| tags.into_iter().collect())
    }

    prop_compose! {
        pub(in crate::plan::render) fn role()(
            name in ".{0,10}",
            path in ".{0,6}",
            description in prop_oneof![Just(String::new()), ".{0,10}"],
            trust in document(),
            max_session_duration in any::<u32>(),
            permissions_boundary in prop::option::of(".{0,10}"),
            managed_policies in prop::collection::btree_set(".{0,10}", 0..3),
            inline_policies in prop::collection::vec((".{0,8}", document()), 0..3),
            tags in tags(),
        ) -> Role {
            Role {
                name,
                path,
                description,
                trust,
                max_session_duration,
                permissions_boundary,
                managed_policies,
                inline_policies: inline_policies.into_iter().collect(),
                tags,
            }
        }
    }

    prop_compose! {
        pub(in crate::plan::render) fn profile()(
            name in ".{0,10}",
            path in ".{0,6}",
            role in prop::option::of(".{0,10}"),
            tags in tags(),
        ) -> InstanceProfile {
            InstanceProfile { name, path, role, tags }
        }
    }

    /// A creation's lines, written from the declaration.
    fn shown_lines(shown: Shown) -> Vec<Line> {
        let mut out = Vec::new();
        created_shown(shown, &mut out);
        out
    }

    /// A creation's lines, read from its view.
    fn view_lines(shown: Shown) -> Vec<Line> {
        let mut out = Vec::new();
        created(shown.view().as_ref(), &mut out);
        out
    }

    /// Documents that are not objects (which validation refuses) show as
    /// their view shows them too: `null` as `(none)`, a list on one line.
    #[test]
    fn a_role_whose_documents_are_not_objects_shows_as_its_view_would() {
        for (trust, inline) in [(json!(null), json!([1, "a"])), (json!([]), json!(null))] {
            let role = Role {
                name: "odd".into(),
                path: "/".into(),
                description: String::new(),
                trust: PolicyDocument::from_value(trust),
                max_session_duration: 3600,
                permissions_boundary: None,
                managed_policies: Default::default(),
                inline_policies: [("p".to_string(), PolicyDocument::from_value(inline))]
                    .into_iter()
                    .collect(),
                tags: Tags::new(),
            };
            assert_eq!(
                shown_lines(Shown::Role(&role)),
                view_lines(Shown::Role(&role))
            );
        }
    }

    proptest! {
        /// A role's view is the role as the model serialises it, with the
        /// user's tags only (rolecall's own are left out).
        #[test]
        fn a_roles_view_is_the_role_with_the_users_tags(role in role()) {
            let users = Role { tags: ownership::user_tags(&role.tags), ..role.clone() };
            prop_assert_eq!(Shown::Role(&role).view(), View::of(&users));
        }

        #[test]
        fn a_profiles_view_is_the_profile_with_the_users_tags(profile in profile()) {
            let users = InstanceProfile {
                tags: ownership::user_tags(&profile.tags),
                ..profile.clone()
            };
            prop_assert_eq!(Shown::Profile(&profile).view(), View::of(&users));
        }

        /// A created role written from its declaration shows the lines
        /// its view would: the text plan writes it so, without a view.
        #[test]
        fn a_created_role_shows_as_its_view_would(role in role()) {
            prop_assert_eq!(shown_lines(Shown::Role(&role)), view_lines(Shown::Role(&role)));
        }

        #[test]
        fn a_created_profile_shows_as_its_view_would(profile in profile()) {
            prop_assert_eq!(
                shown_lines(Shown::Profile(&profile)),
                view_lines(Shown::Profile(&profile))
            );
        }
    }

    #[test]
    fn a_small_change_in_a_long_document_shows_its_neighbourhood_only() {
        let statement =
            |n: usize| json!({"Effect": "Allow", "Action": format!("s3:Get{n}"), "Resource": "*"});
        let before = json!({"Version": "2012-10-17", "Statement": (0..20).map(statement).collect::<Vec<_>>()});
        let mut after = before.clone();
        after["Statement"][10]["Action"] = json!("s3:Put10");
        let mut out = Vec::new();
        document_diff(0, &before, &after, &mut out);
        let shown = texts(&out);
        assert!(
            shown.contains(&"- \"Action\": \"s3:Get10\",".to_string()),
            "{shown:#?}"
        );
        assert!(
            shown.contains(&"+ \"Action\": \"s3:Put10\",".to_string()),
            "{shown:#?}"
        );
        assert_eq!(
            shown.first().map(String::as_str),
            Some("  ..."),
            "{shown:#?}"
        );
        assert_eq!(
            shown.last().map(String::as_str),
            Some("  ..."),
            "{shown:#?}"
        );
        assert!(
            !shown.iter().any(|l| l.contains("s3:Get0\"")),
            "far lines hidden: {shown:#?}"
        );
        assert!(shown.len() < 15, "{shown:#?}");
    }
}
