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

use crate::context::Context;
use crate::glob::{Case, Glob, Piece, Seg, matches_segs, pieces_of};

/// A compiled pattern or value that may hold policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Template {
    /// No variable: compiled once.
    Fixed(Glob),
    /// Wildcards parsed once; the variables resolved per request, borrowing
    /// their values from the request's context.
    Variable(Box<[Part]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// The policy's own text, split into literals and wildcards (a literal
    /// `*` or `?` from `${*}` or `${?}` is a literal).
    Piece(Piece),
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

/// Templates with at most this many parts resolve on the stack.
const INLINE_PARTS: usize = 16;

impl Template {
    /// Compiles `text`; `variables` is false for documents older than
    /// `2012-10-17`, which have none.
    pub(crate) fn compile(text: &str, variables: bool, wildcards: Wildcards) -> Template {
        let parts = parts(text, variables, wildcards);
        if parts
            .iter()
            .any(|part| matches!(part, Part::Variable { .. }))
        {
            return Template::Variable(parts.into_boxed_slice());
        }
        let pieces = parts
            .into_iter()
            .filter_map(|part| match part {
                Part::Piece(piece) => Some(piece),
                Part::Variable { .. } => None,
            })
            .collect();
        Template::Fixed(Glob::from_pieces(pieces, Case::Sensitive))
    }

    /// Whether `text` matches, the template resolved against `context`;
    /// false when a variable cannot be resolved.
    pub(crate) fn matches(&self, text: &str, context: &Context) -> bool {
        match self {
            Template::Fixed(glob) => glob.matches(text, Case::Sensitive),
            Template::Variable(parts) => {
                with_segs(parts, context, |segs| matches_segs(segs, text)).unwrap_or(false)
            }
        }
    }

    /// Whether `text` equals the template's text (compiled without
    /// wildcards), resolved against `context`; `ignore_case` compares with
    /// Unicode lowercase. False when a variable cannot be resolved.
    pub(crate) fn equals(&self, text: &str, context: &Context, ignore_case: bool) -> bool {
        let compare = |segs: &[Seg<'_>]| {
            let literal = segs.iter().filter_map(|seg| match seg {
                Seg::Literal(literal) => Some(*literal),
                // Compiled without wildcards: there are none.
                Seg::Star | Seg::One => None,
            });
            if ignore_case {
                literal
                    .flat_map(str::chars)
                    .flat_map(char::to_lowercase)
                    .eq(text.chars().flat_map(char::to_lowercase))
            } else {
                let mut rest = text;
                for piece in literal {
                    match rest.strip_prefix(piece) {
                        Some(after) => rest = after,
                        None => return false,
                    }
                }
                rest.is_empty()
            }
        };
        match self {
            Template::Fixed(Glob::Exact(literal)) => compare(&[Seg::Literal(literal)]),
            // Without wildcards a fixed template is one literal.
            Template::Fixed(_) => false,
            Template::Variable(parts) => with_segs(parts, context, compare).unwrap_or(false),
        }
    }

    /// The pieces with the variables replaced, owned (for ARN patterns,
    /// which split them into components); `None` when a variable cannot be
    /// resolved.
    pub(crate) fn resolve(parts: &[Part], context: &Context) -> Option<Vec<Piece>> {
        with_segs(parts, context, |segs| {
            segs.iter()
                .map(|seg| match seg {
                    Seg::Literal(text) => Piece::Literal((*text).into()),
                    Seg::Star => Piece::Star,
                    Seg::One => Piece::One,
                })
                .collect()
        })
    }
}

/// Runs `f` on the template's segments, its variables resolved; `None`
/// when one cannot be. Short templates (all real ones) use a stack buffer.
fn with_segs<'t, R>(
    parts: &'t [Part],
    context: &'t Context,
    f: impl FnOnce(&[Seg<'t>]) -> R,
) -> Option<R> {
    let seg = |part: &'t Part| -> Option<Seg<'t>> {
        match part {
            Part::Piece(piece) => Some(piece.seg()),
            Part::Variable { key, default } => {
                resolve(context, key, default.as_deref()).map(Seg::Literal)
            }
        }
    };
    if parts.len() <= INLINE_PARTS {
        let mut buffer = [Seg::Star; INLINE_PARTS];
        for (slot, part) in buffer.iter_mut().zip(parts) {
            *slot = seg(part)?;
        }
        Some(f(&buffer[..parts.len()]))
    } else {
        let segs: Vec<Seg<'t>> = parts.iter().map(seg).collect::<Option<_>>()?;
        Some(f(&segs))
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

/// Splits text into pieces and `${...}` variables; an unterminated `${`
/// is text.
pub(crate) fn parts(text: &str, variables: bool, wildcards: Wildcards) -> Vec<Part> {
    let mut parts = Vec::new();
    let push_text = |parts: &mut Vec<Part>, text: &str| {
        let pieces = match wildcards {
            Wildcards::Yes => pieces_of(text),
            Wildcards::No if text.is_empty() => Vec::new(),
            Wildcards::No => vec![Piece::Literal(text.into())],
        };
        parts.extend(pieces.into_iter().map(Part::Piece));
    };
    let mut rest = text;
    while let Some(start) = rest.find("${").filter(|_| variables) {
        let Some(length) = rest[start + 2..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + length];
        push_text(&mut parts, &rest[..start]);
        parts.push(match inner.trim() {
            special @ ("*" | "?" | "$") => Part::Piece(Piece::Literal(special.into())),
            _ => variable(inner),
        });
        rest = &rest[start + 2 + length + 1..];
    }
    push_text(&mut parts, rest);
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
        Template::compile(pattern, true, Wildcards::Yes).matches(text, context)
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
        assert!(template.matches("home/${aws:username}", &context));
        assert!(!template.matches("home/alice", &context));
    }

    #[test]
    fn unterminated_variables_are_text() {
        assert_eq!(
            parts("a${b", true, Wildcards::No),
            vec![Part::Piece(Piece::Literal("a${b".into()))]
        );
        assert_eq!(parts("", true, Wildcards::Yes), vec![]);
    }

    #[test]
    fn equality_joins_the_resolved_parts() {
        let context = Context::new().with("aws:userid", "AIDA1");
        let template = Template::compile("id-${aws:userid}-${x, 'd'}", true, Wildcards::No);
        assert!(template.equals("id-AIDA1-d", &context, false));
        assert!(!template.equals("id-AIDA1-", &context, false));
        assert!(template.equals("ID-aida1-D", &context, true));
        let template = Template::compile("a*b", true, Wildcards::No);
        assert!(template.equals("a*b", &context, false));
        assert!(!template.equals("axb", &context, false));
    }
}
