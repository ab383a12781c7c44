//! One change as signed lines: what is added, removed, changed, or context.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::plan::{Action, Change, Removal, View};
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

fn document_lines(sign: Sign, depth: usize, value: &Value, out: &mut Vec<Line>) {
    for text in pretty(value).lines() {
        out.push(line(sign, depth, text));
    }
}

/// Unchanged lines shown around each change of a long document: a one-word
/// edit in a long policy shows its neighbourhood, not the whole document.
const CONTEXT_LINES: usize = 4;
/// Documents up to this many lines are shown whole, changes in place.
const WHOLE_DOCUMENT_LINES: usize = 40;

fn document_diff(depth: usize, before: &Value, after: &Value, out: &mut Vec<Line>) {
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
            out.push(line(Sign::Context, depth, "..."));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Equal => Sign::Context,
                    ChangeTag::Delete => Sign::Remove,
                    ChangeTag::Insert => Sign::Add,
                };
                out.push(line(sign, depth, change.value().trim_end_matches('\n')));
            }
        }
        let is_last = index + 1 == groups.len();
        let ends_early = group
            .last()
            .is_some_and(|op| op.old_range().end < old_lines);
        if is_last && ends_early {
            out.push(line(Sign::Context, depth, "..."));
        }
    }
}

fn object(value: &Value) -> serde_json::Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Lines for a whole resource being created (everything it will have).
/// Borrowed: most of a first plan is creations, and copying each view's
/// tree cost as much as reading it.
fn created(after: &Value, out: &mut Vec<Line>) {
    let Some(after) = after.as_object() else {
        return;
    };
    for (key, value) in after {
        attribute_added(key, value, out);
    }
}

fn attribute_added(key: &str, value: &Value, out: &mut Vec<Line>) {
    match (key, value) {
        ("inline_policies", Value::Object(policies)) => {
            for (name, document) in policies {
                out.push(line(Sign::Add, 0, format!("inline_policies.{name}:")));
                document_lines(Sign::Add, 1, document, out);
            }
        }
        (key, Value::Object(_)) if is_document(key) => {
            out.push(line(Sign::Add, 0, format!("{key}:")));
            document_lines(Sign::Add, 1, value, out);
        }
        ("tags", Value::Object(tags)) => {
            for (k, v) in tags {
                out.push(line(Sign::Add, 0, format!("tags.{k} = {v}")));
            }
        }
        ("managed_policies", Value::Array(items)) => {
            for item in items {
                out.push(line(
                    Sign::Add,
                    0,
                    format!("managed_policies: {}", scalar(item)),
                ));
            }
        }
        (key, value) => out.push(line(Sign::Add, 0, format!("{key}: {}", scalar(value)))),
    }
}

fn attribute_changed(key: &str, before: &Value, after: &Value, out: &mut Vec<Line>) {
    match key {
        "inline_policies" => {
            let (old, new) = (object(before), object(after));
            for (name, document) in &old {
                match new.get(name) {
                    None => {
                        out.push(line(Sign::Remove, 0, format!("inline_policies.{name}")));
                    }
                    Some(changed) if changed != document => {
                        out.push(line(Sign::Change, 0, format!("inline_policies.{name}:")));
                        document_diff(1, document, changed, out);
                    }
                    Some(_) => {}
                }
            }
            for (name, document) in &new {
                if !old.contains_key(name) {
                    out.push(line(Sign::Add, 0, format!("inline_policies.{name}:")));
                    document_lines(Sign::Add, 1, document, out);
                }
            }
        }
        key if is_document(key) => {
            out.push(line(Sign::Change, 0, format!("{key}:")));
            document_diff(1, before, after, out);
        }
        "tags" => {
            let (old, new) = (object(before), object(after));
            for (k, v) in &old {
                match new.get(k) {
                    None => out.push(line(Sign::Remove, 0, format!("tags.{k} = {v}"))),
                    Some(n) if n != v => {
                        out.push(line(Sign::Change, 0, format!("tags.{k}: {v} -> {n}")))
                    }
                    Some(_) => {}
                }
            }
            for (k, v) in &new {
                if !old.contains_key(k) {
                    out.push(line(Sign::Add, 0, format!("tags.{k} = {v}")));
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
                out.push(line(Sign::Remove, 0, format!("managed_policies: {arn}")));
            }
            for arn in new.iter().filter(|a| !old.contains(a)) {
                out.push(line(Sign::Add, 0, format!("managed_policies: {arn}")));
            }
        }
        key => out.push(line(
            Sign::Change,
            0,
            format!("{key}: {} -> {}", scalar(before), scalar(after)),
        )),
    }
}

/// The lines that explain one change.
pub fn describe(change: &Change) -> Vec<Line> {
    let mut out = Vec::new();
    let parse = |view: &Option<View>| view.as_ref().map_or(Value::Null, View::parse);
    match change.action {
        Action::Create => created(&parse(&change.after), &mut out),
        Action::Delete | Action::Noop => {}
        Action::Update | Action::Replace => {
            let (before, after) = (parse(&change.before), parse(&change.after));
            let null = Value::Null;
            for attribute in &change.attributes {
                match (before.get(attribute), after.get(attribute)) {
                    (None, None) => out.push(line(Sign::Change, 0, attribute.clone())),
                    (b, a) => attribute_changed(
                        attribute,
                        b.unwrap_or(&null),
                        a.unwrap_or(&null),
                        &mut out,
                    ),
                }
            }
        }
    }
    out
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
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| format!("{} {}", l.sign.symbol(), l.text.trim()))
            .collect()
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
