//! Condition operators (IAM User Guide, "IAM JSON policy elements: Condition
//! operators"), compiled once per statement: the operator name is parsed
//! into its family, negation, `IfExists` suffix and `ForAnyValue:` /
//! `ForAllValues:` qualifier, and the policy's values into numbers, dates,
//! address ranges, bytes or patterns, so a request only parses its own
//! values.
//!
//! How one operator and key decide (the policy's values of one key OR
//! together; every key of an operator, and every operator of a block, AND):
//! - a plain operator holds when some request value matches some policy
//!   value; a negated one (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`,
//!   ...) when no request value matches any;
//! - a missing key makes a plain operator fail and a negated one hold;
//!   `...IfExists` makes any operator hold on a missing key;
//! - `ForAnyValue:` holds when some request value passes, and fails when
//!   the key is missing or empty; `ForAllValues:` holds when every request
//!   value passes, and holds when the key is missing or empty;
//! - `Null` asks only whether the key is present;
//! - an operator rolecall does not know never holds, and says so.

use std::net::IpAddr;

use serde_json::Value;

use crate::context::Context;
use crate::glob::{Case, Glob, Piece};
use crate::variables::{self, Template, Wildcards};

/// One operator applied to one key, as compiled.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    /// The operator as the policy writes it (`ForAnyValue:StringLike`).
    pub(crate) operator: Box<str>,
    /// The key as the policy writes it (`aws:PrincipalTag/team`).
    pub(crate) key: Box<str>,
    key_lowercase: Box<str>,
    qualifier: Qualifier,
    if_exists: bool,
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

impl Comparison {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Comparison::Equals => request == policy,
            Comparison::LessThan => request < policy,
            Comparison::LessThanEquals => request <= policy,
            Comparison::GreaterThan => request > policy,
            Comparison::GreaterThanEquals => request >= policy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StringMatch {
    Equals,
    EqualsIgnoreCase,
    Like,
}

/// An ARN pattern for `Arn*` operators: matched component by component.
#[derive(Debug, Clone)]
enum ArnPattern {
    /// The six colon-separated components, each a glob.
    Components(Box<[Glob; 6]>),
    /// Not six components (`*`): matched as one glob.
    Whole(Glob),
    /// Holds variables: resolved and split per request.
    Variable(Box<[variables::Part]>),
}

/// What the operator tests, with the policy's values parsed for it. A value
/// that does not parse for its operator (`NumericEquals: "ten"`) is `None`
/// and matches nothing.
#[derive(Debug, Clone)]
enum Test {
    String(StringMatch, Box<[Template]>),
    Numeric(Comparison, Box<[Option<f64>]>),
    Date(Comparison, Box<[Option<i128>]>),
    Bool(Box<[Box<str>]>),
    Binary(Box<[Option<Vec<u8>>]>),
    IpAddress(Box<[Option<Cidr>]>),
    Arn(Box<[ArnPattern]>),
    /// `true`: the key must be missing; `false`: present.
    Null(Box<[Option<bool>]>),
    /// An operator this engine does not know.
    Unknown,
}

/// How a condition came out for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Holds,
    Fails { key_missing: bool },
    UnknownOperator,
}

impl Condition {
    /// Compiles `operator: {key: values}`; `variables` is whether the
    /// document's version has policy variables.
    pub(crate) fn compile(operator: &str, key: &str, values: &Value, variables: bool) -> Self {
        let values: Vec<String> = match values {
            Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
            other => scalar_text(other).into_iter().collect(),
        };
        let (qualifier, rest) = if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, rest)
        } else if let Some(rest) = operator.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, rest)
        } else {
            (Qualifier::Single, operator)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(base) if base != "Null" => (true, base),
            _ => (false, rest),
        };
        let (negated, test) = compile_test(base, &values, variables);
        Condition {
            operator: operator.into(),
            key: key.into(),
            key_lowercase: key.to_lowercase().into(),
            qualifier,
            if_exists,
            negated,
            test,
        }
    }

    pub(crate) fn is_unknown(&self) -> bool {
        matches!(self.test, Test::Unknown)
    }

    /// How many of the policy's values do not parse for the operator (a
    /// number for `Numeric*`, a date, an address range, base64, `true` or
    /// `false` for `Null`): each matches nothing, which its author did not
    /// mean.
    pub(crate) fn unparsed_values(&self) -> usize {
        fn count<T>(values: &[Option<T>]) -> usize {
            values.iter().filter(|v| v.is_none()).count()
        }
        match &self.test {
            Test::Numeric(_, values) => count(values),
            Test::Date(_, values) => count(values),
            Test::Binary(values) => count(values),
            Test::IpAddress(values) => count(values),
            Test::Null(values) => count(values),
            Test::String(..) | Test::Bool(_) | Test::Arn(_) | Test::Unknown => 0,
        }
    }

    pub(crate) fn evaluate(&self, context: &Context) -> Outcome {
        if self.is_unknown() {
            return Outcome::UnknownOperator;
        }
        let request = context
            .get_lowercase(&self.key_lowercase)
            .filter(|values| !values.is_empty());
        let holds = match (&self.test, request) {
            (Test::Null(expected), _) => expected
                .iter()
                .flatten()
                .any(|&must_be_missing| must_be_missing == request.is_none()),
            (_, None) => {
                self.if_exists
                    || match self.qualifier {
                        Qualifier::ForAllValues => true,
                        Qualifier::ForAnyValue => false,
                        Qualifier::Single => self.negated,
                    }
            }
            (_, Some(values)) => {
                let passes = |value: &String| self.value_matches(value, context) != self.negated;
                match self.qualifier {
                    Qualifier::ForAllValues => values.iter().all(passes),
                    Qualifier::ForAnyValue => values.iter().any(passes),
                    // A negated operator holds when no value matches.
                    Qualifier::Single if self.negated => values.iter().all(passes),
                    Qualifier::Single => values.iter().any(passes),
                }
            }
        };
        if holds {
            Outcome::Holds
        } else {
            Outcome::Fails {
                key_missing: request.is_none(),
            }
        }
    }

    /// Whether one request value matches one of the policy's values, for
    /// the operator without its negation.
    fn value_matches(&self, value: &str, context: &Context) -> bool {
        match &self.test {
            Test::String(StringMatch::Equals, templates) => {
                templates.iter().any(|t| t.equals(value, context, false))
            }
            Test::String(StringMatch::EqualsIgnoreCase, templates) => {
                templates.iter().any(|t| t.equals(value, context, true))
            }
            Test::String(StringMatch::Like, templates) => {
                templates.iter().any(|t| t.matches(value, context))
            }
            Test::Numeric(comparison, numbers) => parse_number(value).is_some_and(|request| {
                numbers
                    .iter()
                    .flatten()
                    .any(|policy| comparison.holds(request, *policy))
            }),
            Test::Date(comparison, dates) => parse_date(value).is_some_and(|request| {
                dates
                    .iter()
                    .flatten()
                    .any(|policy| comparison.holds(request, *policy))
            }),
            Test::Bool(expected) => expected.iter().any(|b| b.eq_ignore_ascii_case(value)),
            Test::Binary(expected) => decode_base64(value)
                .is_some_and(|bytes| expected.iter().flatten().any(|e| *e == bytes)),
            Test::IpAddress(ranges) => parse_address(value)
                .is_some_and(|address| ranges.iter().flatten().any(|r| r.contains(address))),
            Test::Arn(patterns) => patterns.iter().any(|p| arn_matches(p, value, context)),
            Test::Null(_) | Test::Unknown => false,
        }
    }
}

/// A policy value as text: AWS accepts numbers and booleans unquoted.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The operator's family and negation, with the values parsed for it.
fn compile_test(base: &str, values: &[String], variables: bool) -> (bool, Test) {
    let strings = |how: StringMatch| {
        let wildcards = match how {
            StringMatch::Like => Wildcards::Yes,
            _ => Wildcards::No,
        };
        let templates = values
            .iter()
            .map(|v| Template::compile(v, variables, wildcards))
            .collect();
        Test::String(how, templates)
    };
    let numbers =
        |comparison| Test::Numeric(comparison, values.iter().map(|v| parse_number(v)).collect());
    let dates = |comparison| Test::Date(comparison, values.iter().map(|v| parse_date(v)).collect());
    let arns = || Test::Arn(values.iter().map(|v| arn_pattern(v, variables)).collect());
    match base {
        "StringEquals" => (false, strings(StringMatch::Equals)),
        "StringNotEquals" => (true, strings(StringMatch::Equals)),
        "StringEqualsIgnoreCase" => (false, strings(StringMatch::EqualsIgnoreCase)),
        "StringNotEqualsIgnoreCase" => (true, strings(StringMatch::EqualsIgnoreCase)),
        "StringLike" => (false, strings(StringMatch::Like)),
        "StringNotLike" => (true, strings(StringMatch::Like)),
        "NumericEquals" => (false, numbers(Comparison::Equals)),
        "NumericNotEquals" => (true, numbers(Comparison::Equals)),
        "NumericLessThan" => (false, numbers(Comparison::LessThan)),
        "NumericLessThanEquals" => (false, numbers(Comparison::LessThanEquals)),
        "NumericGreaterThan" => (false, numbers(Comparison::GreaterThan)),
        "NumericGreaterThanEquals" => (false, numbers(Comparison::GreaterThanEquals)),
        "DateEquals" => (false, dates(Comparison::Equals)),
        "DateNotEquals" => (true, dates(Comparison::Equals)),
        "DateLessThan" => (false, dates(Comparison::LessThan)),
        "DateLessThanEquals" => (false, dates(Comparison::LessThanEquals)),
        "DateGreaterThan" => (false, dates(Comparison::GreaterThan)),
        "DateGreaterThanEquals" => (false, dates(Comparison::GreaterThanEquals)),
        "Bool" => (
            false,
            Test::Bool(values.iter().map(|v| v.as_str().into()).collect()),
        ),
        "BinaryEquals" => (
            false,
            Test::Binary(values.iter().map(|v| decode_base64(v)).collect()),
        ),
        "IpAddress" => (
            false,
            Test::IpAddress(values.iter().map(|v| Cidr::parse(v)).collect()),
        ),
        "NotIpAddress" => (
            true,
            Test::IpAddress(values.iter().map(|v| Cidr::parse(v)).collect()),
        ),
        // ArnEquals and ArnLike decide alike: both take wildcards in each
        // component (Condition operators > ARN condition operators).
        "ArnEquals" | "ArnLike" => (false, arns()),
        "ArnNotEquals" | "ArnNotLike" => (true, arns()),
        "Null" => (
            false,
            Test::Null(
                values
                    .iter()
                    .map(|v| match v.to_ascii_lowercase().as_str() {
                        "true" => Some(true),
                        "false" => Some(false),
                        _ => None,
                    })
                    .collect(),
            ),
        ),
        _ => (false, Test::Unknown),
    }
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

// ---- ARNs ----

fn arn_pattern(value: &str, variables: bool) -> ArnPattern {
    let parts = variables::parts(value, variables, Wildcards::Yes);
    if parts
        .iter()
        .any(|part| matches!(part, variables::Part::Variable { .. }))
    {
        return ArnPattern::Variable(parts.into_boxed_slice());
    }
    arn_components(
        parts
            .into_iter()
            .filter_map(|part| match part {
                variables::Part::Piece(piece) => Some(piece),
                variables::Part::Variable { .. } => None,
            })
            .collect(),
    )
}

/// Splits a pattern's pieces at the first five colons of its literal text
/// (a colon in the resource component is part of it).
fn arn_components(pieces: Vec<Piece>) -> ArnPattern {
    let whole = pieces.clone();
    let mut components: Vec<Vec<Piece>> = vec![Vec::new()];
    for piece in pieces {
        let Piece::Literal(text) = piece else {
            if let Some(last) = components.last_mut() {
                last.push(piece);
            }
            continue;
        };
        let mut rest: &str = &text;
        while components.len() < 6 {
            let Some((before, after)) = rest.split_once(':') else {
                break;
            };
            if let Some(last) = components.last_mut() {
                last.push(Piece::Literal(before.into()));
            }
            components.push(Vec::new());
            rest = after;
        }
        if let Some(last) = components.last_mut() {
            last.push(Piece::Literal(rest.into()));
        }
    }
    let globs: Vec<Glob> = components
        .into_iter()
        .map(|c| Glob::from_pieces(c, Case::Sensitive))
        .collect();
    match <[Glob; 6]>::try_from(globs) {
        Ok(components) => ArnPattern::Components(Box::new(components)),
        Err(_) => ArnPattern::Whole(Glob::from_pieces(whole, Case::Sensitive)),
    }
}

fn arn_matches(pattern: &ArnPattern, value: &str, context: &Context) -> bool {
    match pattern {
        ArnPattern::Components(globs) => components_match(globs, value),
        ArnPattern::Whole(glob) => glob.matches(value, Case::Sensitive),
        ArnPattern::Variable(parts) => {
            match Template::resolve(parts, context).map(arn_components) {
                Some(ArnPattern::Components(globs)) => components_match(&globs, value),
                Some(ArnPattern::Whole(glob)) => glob.matches(value, Case::Sensitive),
                _ => false,
            }
        }
    }
}

fn components_match(globs: &[Glob; 6], value: &str) -> bool {
    let mut components = value.splitn(6, ':');
    globs.iter().all(|glob| {
        components
            .next()
            .is_some_and(|component| glob.matches(component, Case::Sensitive))
    })
}

// ---- dates ----

/// Milliseconds since the epoch, from ISO 8601 (`2020-01-01`,
/// `2020-01-01T12:00:00Z`, `2020-01-01T12:00:00.5+02:00`) or epoch seconds
/// (`1577880000`), the two forms the Date operators take.
pub(crate) fn parse_date(text: &str) -> Option<i128> {
    let text = text.trim();
    if let Some(seconds) = parse_epoch(text) {
        return Some(seconds);
    }
    let bytes = text.as_bytes();
    let digits = |from: usize, count: usize| -> Option<i64> {
        let slice = bytes.get(from..from + count)?;
        slice.iter().all(u8::is_ascii_digit).then_some(())?;
        std::str::from_utf8(slice).ok()?.parse().ok()
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut millis = i128::from(days_from_civil(year, month, day)) * 86_400_000;
    let mut at = 10;
    if matches!(bytes.get(at), Some(b'T' | b't' | b' ')) {
        let hour = digits(at + 1, 2)?;
        let minute = digits(at + 4, 2)?;
        if bytes.get(at + 3) != Some(&b':') || hour > 23 || minute > 59 {
            return None;
        }
        at += 6;
        let mut second = 0;
        if bytes.get(at) == Some(&b':') {
            second = digits(at + 1, 2)?;
            if second > 60 {
                return None;
            }
            at += 3;
        }
        millis += i128::from((hour * 60 + minute) * 60 + second) * 1000;
        if matches!(bytes.get(at), Some(b'.' | b',')) {
            let start = at + 1;
            at = start;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            let fraction = text.get(start..at).filter(|f| !f.is_empty())?;
            let padded: String = fraction.chars().chain("000".chars()).take(3).collect();
            millis += padded.parse::<i128>().ok()?;
        }
        match bytes.get(at) {
            None => {}
            Some(b'Z' | b'z') if at + 1 == bytes.len() => {}
            Some(sign @ (b'+' | b'-')) => {
                let offset_hours = digits(at + 1, 2)?;
                let minutes_at = if bytes.get(at + 3) == Some(&b':') {
                    at + 4
                } else {
                    at + 3
                };
                let offset_minutes = digits(minutes_at, 2)?;
                if minutes_at + 2 != bytes.len() {
                    return None;
                }
                let offset = i128::from(offset_hours * 60 + offset_minutes) * 60_000;
                // Local time minus its offset is UTC.
                millis -= if *sign == b'+' { offset } else { -offset };
            }
            Some(_) => return None,
        }
    } else if at != bytes.len() {
        return None;
    }
    Some(millis)
}

/// Epoch seconds, maybe with a fraction, in milliseconds.
fn parse_epoch(text: &str) -> Option<i128> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || whole.len() > 15
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let padded: String = fraction.chars().chain("000".chars()).take(3).collect();
    let millis = whole.parse::<i128>().ok()? * 1000 + padded.parse::<i128>().ok()?;
    Some(if text.starts_with('-') {
        -millis
    } else {
        millis
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

// ---- addresses ----

/// An address range: `203.0.113.0/24`, `2001:DB8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let width = match network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|p| *p <= width)?,
            None => width,
        };
        Some(Cidr { network, prefix })
    }

    /// Whether `address` is in the range; an IPv4 address is never in an
    /// IPv6 range nor the other way round.
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        let (network, address, width) = match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.prefix);
        shift >= 128 || (network >> shift) == (address >> shift)
    }
}

/// A request's address (`aws:SourceIp`), written alone or as a `/32`.
fn parse_address(text: &str) -> Option<IpAddr> {
    Cidr::parse(text).map(|cidr| cidr.network)
}

// ---- base64 ----

/// Standard base64 (padding optional), as `BinaryEquals` values are written.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push(((buffer >> bits) & 0xFF) as u8);
        }
    }
    // One character alone cannot end a byte.
    (bits < 6).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_iso_8601_and_epoch_seconds() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("1577880000"), Some(1_577_880_000_000));
        assert_eq!(parse_date("2020-01-01T12:00:00Z"), Some(1_577_880_000_000));
        assert_eq!(
            parse_date("2020-01-01T14:00:00+02:00"),
            Some(1_577_880_000_000)
        );
        assert_eq!(
            parse_date("2020-01-01T07:00:00-0500"),
            Some(1_577_880_000_000)
        );
        assert_eq!(
            parse_date("2020-01-01T12:00:00.250Z"),
            Some(1_577_880_000_250)
        );
        assert_eq!(parse_date("2020-01-01T12:00Z"), Some(1_577_880_000_000));
        assert_eq!(parse_date("2024-02-29"), Some(19_782 * 86_400_000));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2020-13-01"), None);
        assert_eq!(parse_date("2020-01-01T12:00:00Zjunk"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn address_ranges_hold_their_addresses_of_the_same_family() {
        let range = Cidr::parse("203.0.113.0/24").expect("a range");
        assert!(range.contains("203.0.113.77".parse().expect("address")));
        assert!(!range.contains("203.0.114.1".parse().expect("address")));
        let v6 = Cidr::parse("2001:DB8:1234:5678::/64").expect("a range");
        assert!(v6.contains("2001:db8:1234:5678::1".parse().expect("address")));
        assert!(!v6.contains("203.0.113.77".parse().expect("address")));
        let all = Cidr::parse("0.0.0.0/0").expect("a range");
        assert!(all.contains("8.8.8.8".parse().expect("address")));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("not an address"), None);
    }

    #[test]
    fn base64_decodes_with_or_without_padding() {
        assert_eq!(
            decode_base64("QmluYXJ5VmFsdWVJbkJhc2U2NA=="),
            Some(b"BinaryValueInBase64".to_vec())
        );
        assert_eq!(decode_base64("aGk"), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("a"), None);
        assert_eq!(decode_base64("a$b"), None);
    }

    #[test]
    fn arn_components_match_separately() {
        let pattern = arn_pattern("arn:aws:iam::*:role/*", true);
        let context = Context::new();
        assert!(arn_matches(
            &pattern,
            "arn:aws:iam::111122223333:role/a/b",
            &context
        ));
        assert!(!arn_matches(
            &pattern,
            "arn:aws:iam::111122223333:user/a",
            &context
        ));
        // `*` in the account component does not reach into the resource.
        let pattern = arn_pattern("arn:aws:sns:*:123456789012:topic", true);
        assert!(!arn_matches(
            &pattern,
            "arn:aws:sns:us-east-1:1:123456789012:topic",
            &context
        ));
        assert!(arn_matches(
            &pattern,
            "arn:aws:sns:us-east-1:123456789012:topic",
            &context
        ));
    }
}
