//! Policy variables: `${key}` placeholders in `Resource` and in string and
//! ARN condition values, replaced by the request's value of the context key
//! (IAM User Guide, "IAM policy elements: Variables and tags").
//!
//! - `${aws:username}`, `${aws:PrincipalTag/team}`, any context key, its
//!   name case-insensitive;
//! - `${key, 'default'}`: the default when the request has no such key;
//! - `${*}`, `${?}`, `${$}`: a literal `*`, `?` and `$`, so a pattern can
//!   name those characters without them being wildcards;
//! - only in documents of `"Version": "2012-10-17"`: older documents treat
//!   `${...}` as text.
//!
//! A variable whose key is missing (and has no default), or has several
//! values, cannot be resolved: the `Resource` entry or condition value
//! holding it matches nothing, as AWS leaves such a variable unreplaced
//! and the entry then names no real resource. An empty value resolves to
//! the empty string.

use std::borrow::Cow;

use crate::context::Context;
use crate::glob::{Case, Glob, Piece, pieces_of};

/// A compiled pattern or value that may hold policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Template {
    /// No variable: compiled once.
    Fixed(Glob),
    /// Resolved per request, then matched.
    Variable(Box<[Part]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text of the policy (with wildcards when the template has them).
    Text(Box<str>),
    /// A character from `${*}`, `${?}` or `${$}`: always literal.
    Literal(char),
    Variable {
        /// The context key, lowercased.
        key: Box<str>,
        default: Option<Box<str>>,
    },
}

/// Whether `*` and `?` in the policy's text are wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wildcards {
    /// `Resource`, `StringLike`, `Arn*`.
    Yes,
    /// `StringEquals` and the other exact string operators.
    No,
}

impl Template {
    /// Compiles `text`; `variables` is false for documents older than
    /// `2012-10-17`, which have none.
    pub(crate) fn compile(text: &str, variables: bool, wildcards: Wildcards) -> Template {
        let parts = if variables {
            parse(text)
        } else {
            vec![Part::Text(text.into())]
        };
        if parts
            .iter()
            .any(|part| matches!(part, Part::Variable { .. }))
        {
            return Template::Variable(parts.into_boxed_slice());
        }
        Template::Fixed(Glob::from_pieces(
            fixed_parts(parts, wildcards),
            Case::Sensitive,
        ))
    }

    /// The glob this template is for `context`; `None` when a variable
    /// cannot be resolved.
    pub(crate) fn glob<'t>(
        &'t self,
        context: &Context,
        wildcards: Wildcards,
    ) -> Option<Cow<'t, Glob>> {
        match self {
            Template::Fixed(glob) => Some(Cow::Borrowed(glob)),
            Template::Variable(parts) => Some(Cow::Owned(Glob::from_pieces(
                resolve_parts(parts, context, wildcards)?,
                Case::Sensitive,
            ))),
        }
    }

    /// Whether `text` matches, the template resolved against `context`;
    /// false when a variable cannot be resolved.
    pub(crate) fn matches(&self, text: &str, context: &Context, wildcards: Wildcards) -> bool {
        self.glob(context, wildcards)
            .is_some_and(|glob| glob.matches(text, Case::Sensitive))
    }

    /// The template as one literal string (for the exact string operators
    /// and `IgnoreCase`); `None` when a variable cannot be resolved.
    pub(crate) fn text<'t>(&'t self, context: &Context) -> Option<Cow<'t, str>> {
        match self.glob(context, Wildcards::No)? {
            Cow::Borrowed(Glob::Exact(text)) => Some(Cow::Borrowed(text)),
            Cow::Owned(Glob::Exact(text)) => Some(Cow::Owned(text.into())),
            // Without wildcards every template compiles to one literal.
            _ => None,
        }
    }
}

/// The pieces of a template with its variables replaced; `None` when one
/// cannot be resolved.
pub(crate) fn resolve_parts(
    parts: &[Part],
    context: &Context,
    wildcards: Wildcards,
) -> Option<Vec<Piece>> {
    let mut pieces = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            Part::Text(text) => pieces.extend(text_pieces(text, wildcards)),
            Part::Literal(c) => pieces.push(Piece::Literal(c.to_string().into())),
            Part::Variable { key, default } => {
                let value = resolve(context, key, default.as_deref())?;
                pieces.push(Piece::Literal(value.into()));
            }
        }
    }
    Some(pieces)
}

/// The pieces of a template's own text (no variable in it).
pub(crate) fn fixed_parts(parts: Vec<Part>, wildcards: Wildcards) -> Vec<Piece> {
    parts
        .into_iter()
        .flat_map(|part| match part {
            Part::Text(text) => text_pieces(&text, wildcards),
            Part::Literal(c) => vec![Piece::Literal(c.to_string().into())],
            Part::Variable { .. } => Vec::new(),
        })
        .collect()
}

pub(crate) fn text_pieces(text: &str, wildcards: Wildcards) -> Vec<Piece> {
    match wildcards {
        Wildcards::Yes => pieces_of(text),
        Wildcards::No => vec![Piece::Literal(text.into())],
    }
}

/// The value of a variable: the key's single value, else the default.
fn resolve<'c>(context: &'c Context, key: &str, default: Option<&'c str>) -> Option<&'c str> {
    match context.get_lowercase(key) {
        Some([value]) => Some(value),
        Some([]) | None => default,
        // Several values: no single one to put in its place.
        Some(_) => None,
    }
}

/// Splits text at `${...}`; an unterminated `${` is text.
pub(crate) fn parse(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    let mut literal = String::new();
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + length];
        literal.push_str(&rest[..start]);
        let part = match inner.trim() {
            "*" => Part::Literal('*'),
            "?" => Part::Literal('?'),
            "$" => Part::Literal('$'),
            _ => variable(inner),
        };
        if !literal.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut literal).into()));
        }
        parts.push(part);
        rest = &rest[start + 2 + length + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() || parts.is_empty() {
        parts.push(Part::Text(literal.into()));
    }
    parts
}

/// `key` or `key, 'default'` (spaces around the comma allowed).
fn variable(inner: &str) -> Part {
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let unquoted = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(default);
            (key, Some(unquoted.into()))
        }
        None => (inner, None),
    };
    Part::Variable {
        key: key.trim().to_lowercase().into(),
        default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(pattern: &str, text: &str, context: &Context) -> bool {
        Template::compile(pattern, true, Wildcards::Yes).matches(text, context, Wildcards::Yes)
    }

    #[test]
    fn a_variable_takes_the_context_value_of_its_key_in_any_case() {
        let context = Context::new().with("aws:username", "alice");
        assert!(resource(
            "arn:aws:s3:::bucket/${aws:UserName}/*",
            "arn:aws:s3:::bucket/alice/notes.txt",
            &context
        ));
        assert!(!resource(
            "arn:aws:s3:::bucket/${aws:username}/*",
            "arn:aws:s3:::bucket/bob/notes.txt",
            &context
        ));
    }

    #[test]
    fn a_missing_key_takes_the_default_or_matches_nothing() {
        let empty = Context::new();
        assert!(resource(
            "arn:aws:s3:::bucket/${aws:username, 'shared'}/*",
            "arn:aws:s3:::bucket/shared/x",
            &empty
        ));
        assert!(resource(
            "team-${aws:PrincipalTag/team,'none'}",
            "team-none",
            &empty
        ));
        assert!(!resource("bucket/${aws:username}/*", "bucket//x", &empty));
        assert!(!resource("${aws:username}*", "anything", &empty));
    }

    #[test]
    fn a_multi_valued_key_cannot_be_a_variable() {
        let context = Context::new().with("k", "a").with("k", "b");
        assert!(!resource("${k}", "a", &context));
    }

    #[test]
    fn special_variables_are_literal_characters() {
        let context = Context::new();
        assert!(resource("a${*}b", "a*b", &context));
        assert!(!resource("a${*}b", "axyzb", &context));
        assert!(resource("a${?}b", "a?b", &context));
        assert!(!resource("a${?}b", "axb", &context));
        assert!(resource("cost${$}", "cost$", &context));
    }

    #[test]
    fn a_resolved_value_is_literal_even_with_wildcards_in_it() {
        let context = Context::new().with("aws:username", "a*");
        assert!(resource("user/${aws:username}", "user/a*", &context));
        assert!(!resource("user/${aws:username}", "user/abc", &context));
    }

    #[test]
    fn old_documents_have_no_variables() {
        let context = Context::new().with("aws:username", "alice");
        let template = Template::compile("home/${aws:username}", false, Wildcards::Yes);
        assert!(template.matches("home/${aws:username}", &context, Wildcards::Yes));
        assert!(!template.matches("home/alice", &context, Wildcards::Yes));
    }

    #[test]
    fn unterminated_variables_are_text() {
        assert_eq!(parse("a${b"), vec![Part::Text("a${b".into())]);
        assert_eq!(parse(""), vec![Part::Text("".into())]);
    }

    #[test]
    fn text_joins_the_resolved_parts() {
        let context = Context::new().with("aws:userid", "AIDA1");
        let template = Template::compile("id-${aws:userid}-${x, 'd'}", true, Wildcards::No);
        assert_eq!(template.text(&context).as_deref(), Some("id-AIDA1-d"));
        let template = Template::compile("a*b", true, Wildcards::No);
        assert_eq!(template.text(&context).as_deref(), Some("a*b"));
    }
}
