//! Wildcard matching as IAM does it: `*` any run of characters (`:` and
//! `/` included, so one `*` may span ARN segments), `?` exactly one.
//!
//! No regex: a pattern is a list of pieces matched by the classic iterative
//! algorithm that backtracks only to the last `*`, linear in practice and
//! never exponential. Patterns are compiled once into the cheapest form
//! that decides them (exact, prefix, anything) because most IAM patterns
//! are `s3:GetObject`, `s3:Get*` or `*`.

/// Whether the IAM action pattern `pattern` (`iam:Pass*`) names `action`:
/// ASCII case ignored, as IAM compares actions.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    Glob::parse(pattern, Case::AsciiInsensitive).matches(action, Case::AsciiInsensitive)
}

/// Whether the resource pattern `pattern` (`arn:aws:iam::*:role/*`) names
/// `resource`: case kept, as IAM compares ARNs.
pub fn resource_matches(pattern: &str, resource: &str) -> bool {
    Glob::parse(pattern, Case::Sensitive).matches(resource, Case::Sensitive)
}

/// One piece of a pattern. A literal keeps `*` and `?` that came from the
/// policy variables `${*}` and `${?}`: they match themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(Box<str>),
    /// `*`: any run of characters, empty included.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `*` alone: matches everything.
    Any,
    /// No wildcard.
    Exact(Box<str>),
    /// A literal then one trailing `*` (`s3:Get*`).
    Prefix(Box<str>),
    General(Box<[Piece]>),
}

/// How literal characters compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// ARNs and condition values.
    Sensitive,
    /// Actions: ASCII case ignored (the pattern is stored lowercased).
    AsciiInsensitive,
}

impl Glob {
    /// Parses `*` and `?` as wildcards and every other character as itself.
    pub(crate) fn parse(pattern: &str, case: Case) -> Glob {
        Glob::from_pieces(pieces_of(pattern), case)
    }

    /// The cheapest form deciding the same as `pieces`; literals are
    /// lowercased for [`Case::AsciiInsensitive`], which then lowers only
    /// the text's bytes while matching.
    pub(crate) fn from_pieces(pieces: Vec<Piece>, case: Case) -> Glob {
        let mut merged: Vec<Piece> = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let piece = match (piece, case) {
                (Piece::Literal(text), Case::AsciiInsensitive) => {
                    Piece::Literal(text.to_ascii_lowercase().into())
                }
                (piece, _) => piece,
            };
            match (merged.last_mut(), piece) {
                (Some(Piece::Literal(last)), Piece::Literal(text)) => {
                    *last = format!("{last}{text}").into();
                }
                // `**` matches what `*` matches.
                (Some(Piece::Star), Piece::Star) => {}
                (_, Piece::Literal(text)) if text.is_empty() => {}
                (_, piece) => merged.push(piece),
            }
        }
        match merged.as_slice() {
            [] => Glob::Exact("".into()),
            [Piece::Star] => Glob::Any,
            [Piece::Literal(text)] => Glob::Exact(text.clone()),
            [Piece::Literal(text), Piece::Star] => Glob::Prefix(text.clone()),
            _ => Glob::General(merged.into_boxed_slice()),
        }
    }

    pub(crate) fn matches(&self, text: &str, case: Case) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(literal) => same(literal.as_bytes(), text.as_bytes(), case),
            Glob::Prefix(prefix) => {
                text.len() >= prefix.len()
                    && same(prefix.as_bytes(), &text.as_bytes()[..prefix.len()], case)
            }
            Glob::General(pieces) => matches_pieces(pieces, text, case),
        }
    }

    /// Whether the pattern holds a wildcard (an `Arn*` condition value or a
    /// `StringLike` value without one can be compared as text).
    #[cfg(test)]
    pub(crate) fn is_literal(&self) -> bool {
        matches!(self, Glob::Exact(_))
    }
}

/// `*` and `?` as wildcards, everything else literal.
pub(crate) fn pieces_of(pattern: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    for (at, c) in pattern.char_indices() {
        let wildcard = match c {
            '*' => Piece::Star,
            '?' => Piece::One,
            _ => continue,
        };
        if literal_start < at {
            pieces.push(Piece::Literal(pattern[literal_start..at].into()));
        }
        pieces.push(wildcard);
        literal_start = at + 1;
    }
    if literal_start < pattern.len() {
        pieces.push(Piece::Literal(pattern[literal_start..].into()));
    }
    pieces
}

/// Whether `pattern` (lowercased when insensitive) equals `text`.
fn same(pattern: &[u8], text: &[u8], case: Case) -> bool {
    match case {
        Case::Sensitive => pattern == text,
        Case::AsciiInsensitive => {
            pattern.len() == text.len()
                && pattern
                    .iter()
                    .zip(text)
                    .all(|(p, t)| *p == t.to_ascii_lowercase())
        }
    }
}

/// The width of the UTF-8 character starting with `byte` (`?` matches a
/// character, not a byte).
fn char_width(byte: u8) -> usize {
    match byte {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// A piece borrowed: what the matcher walks, from a compiled pattern or
/// from a template whose variables were just resolved (their values
/// borrowed from the request, so matching allocates nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    Literal(&'a str),
    Star,
    One,
}

impl Piece {
    pub(crate) fn seg(&self) -> Seg<'_> {
        match self {
            Piece::Literal(text) => Seg::Literal(text),
            Piece::Star => Seg::Star,
            Piece::One => Seg::One,
        }
    }
}

fn matches_pieces(pieces: &[Piece], text: &str, case: Case) -> bool {
    matches_with(pieces.len(), |at| pieces[at].seg(), text, case)
}

/// [`Glob::matches`] for segments (case-sensitive: templates are ARNs and
/// condition values).
pub(crate) fn matches_segs(segs: &[Seg<'_>], text: &str) -> bool {
    matches_with(segs.len(), |at| segs[at], text, Case::Sensitive)
}

/// The iterative matcher: on a mismatch, go back to the last `*` and let it
/// swallow one more character. Backtracking further than the last `*` is
/// never needed, since that `*` could absorb anything an earlier one would.
fn matches_with<'p>(
    count: usize,
    piece: impl Fn(usize) -> Seg<'p>,
    text: &str,
    case: Case,
) -> bool {
    let text = text.as_bytes();
    let (mut p, mut t) = (0, 0);
    // The piece after the last `*`, and where in the text that `*` ends.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let step = match (p < count).then(|| piece(p)) {
            Some(Seg::Star) => {
                star = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(Seg::One) if t < text.len() => Some(char_width(text[t])),
            Some(Seg::Literal(literal)) => {
                let literal = literal.as_bytes();
                let end = t + literal.len();
                (end <= text.len() && same(literal, &text[t..end], case)).then_some(literal.len())
            }
            None if t == text.len() => return true,
            _ => None,
        };
        match step {
            Some(width) => {
                p += 1;
                t = (t + width).min(text.len());
            }
            None => match star {
                Some((after_star, from)) if from < text.len() => {
                    let from = (from + char_width(text[from])).min(text.len());
                    star = Some((after_star, from));
                    p = after_star;
                    t = from;
                }
                _ => return false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(pattern: &str, text: &str) -> bool {
        Glob::parse(pattern, Case::Sensitive).matches(text, Case::Sensitive)
    }

    fn action(pattern: &str, text: &str) -> bool {
        Glob::parse(pattern, Case::AsciiInsensitive).matches(text, Case::AsciiInsensitive)
    }

    #[test]
    fn star_matches_any_run_and_question_mark_one_character() {
        assert!(like("*", ""));
        assert!(like("*", "arn:aws:s3:::bucket"));
        assert!(like("a*c", "ac"));
        assert!(like("a*c", "abbbc"));
        assert!(!like("a*c", "abbbd"));
        assert!(like("a?c", "abc"));
        assert!(!like("a?c", "ac"));
        assert!(!like("a?c", "abbc"));
        assert!(like("??", "ab"));
        assert!(!like("??", "abc"));
    }

    #[test]
    fn one_star_spans_arn_segments() {
        assert!(like(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::111122223333:role/path/Admin"
        ));
        assert!(like("arn:aws:*", "arn:aws:s3:::bucket/key"));
        assert!(like(
            "arn:aws:s3:::bucket/*/report.csv",
            "arn:aws:s3:::bucket/a/b/report.csv"
        ));
    }

    #[test]
    fn backtracking_finds_a_later_occurrence() {
        assert!(like("*ab*ab", "xxabyyabab"));
        assert!(like("*a?c", "aaxc"));
        assert!(!like("*ab*ab", "xxabyyaba"));
        assert!(like("a*b*c*d", "aXXbYYcZZd"));
        assert!(!like("a*b*c*d", "aXXbYYcZZ"));
        // Many stars stay fast (no exponential backtracking).
        let text = "a".repeat(5_000);
        assert!(!like(&format!("{}b", "a*".repeat(50)), &text));
    }

    #[test]
    fn arn_values_are_case_sensitive_and_actions_are_not() {
        assert!(!like("arn:aws:s3:::Bucket", "arn:aws:s3:::bucket"));
        assert!(action("s3:getobject", "S3:GetObject"));
        assert!(action("S3:Get*", "s3:getobjectacl"));
        assert!(action("iam:*Role", "IAM:CreateROLE"));
        assert!(!action("s3:Get*", "s3:PutObject"));
    }

    #[test]
    fn question_mark_matches_one_character_not_one_byte() {
        assert!(like("caf?", "café"));
        assert!(like("?x", "éx"));
        assert!(like("*é", "ééé"));
        assert!(!like("caf?", "cafée"));
    }

    #[test]
    fn compiles_to_the_cheapest_form() {
        assert_eq!(Glob::parse("*", Case::Sensitive), Glob::Any);
        assert_eq!(Glob::parse("**", Case::Sensitive), Glob::Any);
        assert_eq!(
            Glob::parse("S3:Get*", Case::AsciiInsensitive),
            Glob::Prefix("s3:get".into())
        );
        assert!(Glob::parse("s3:GetObject", Case::Sensitive).is_literal());
        assert!(matches!(
            Glob::parse("a*b", Case::Sensitive),
            Glob::General(_)
        ));
    }

    #[test]
    fn literal_stars_from_variables_match_only_themselves() {
        let glob = Glob::from_pieces(
            vec![Piece::Literal("a*".into()), Piece::Star],
            Case::Sensitive,
        );
        assert!(glob.matches("a*xyz", Case::Sensitive));
        assert!(!glob.matches("abc", Case::Sensitive));
        let glob = Glob::from_pieces(vec![Piece::Literal("?".into())], Case::Sensitive);
        assert!(glob.matches("?", Case::Sensitive));
        assert!(!glob.matches("x", Case::Sensitive));
    }
}
