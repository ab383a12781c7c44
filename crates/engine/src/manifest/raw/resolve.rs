//! How an untagged scalar reads, as serde-saphyr resolves it under
//! [`super::options`], and when two mapping keys are the same key: shared by
//! both fast paths ([`super::scan`] and [`super::events`]), so that neither
//! can resolve a scalar differently from the other.

use std::borrow::Cow;
use std::collections::HashSet;

use super::Value;

/// An untagged scalar's value, resolved as serde-saphyr's `deserialize_any`
/// resolves it under [`super::options`]: YAML 1.2 booleans only, numbers with
/// a leading zero or an underscore kept as text, non-finite floats passed
/// through, integers read as `i64`/`u64` (larger ones as floats).
pub(super) fn resolve(text: Cow<'_, str>, plain: bool) -> Value {
    if !plain {
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
pub(super) fn is_nullish(text: &str) -> bool {
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
pub(super) fn key_identity(text: &str, plain: bool) -> u64 {
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
pub(super) struct KeySet {
    few: Vec<u64>,
    many: HashSet<u64>,
}

impl KeySet {
    const FEW: usize = 16;

    /// Adds a key; false if it was there.
    pub(super) fn insert(&mut self, key: u64) -> bool {
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
