//! `application/x-www-form-urlencoded` bodies, read strictly and written as
//! botocore writes them.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::WireError;

/// What botocore leaves unescaped: Python's `urlencode` (`quote_plus`)
/// keeps letters, digits and `-_.~`, and writes a space as `+`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Pairs as a form body: `name=value&…`, each side escaped as botocore does.
pub(crate) fn encode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_escaped(&mut out, name);
        out.push('=');
        push_escaped(&mut out, value);
    }
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for (i, part) in text.split(' ').enumerate() {
        if i > 0 {
            out.push('+');
        }
        out.extend(utf8_percent_encode(part, FORM));
    }
}

/// See [`crate::parse_form`].
pub(crate) fn parse(body: &[u8]) -> Result<Vec<(String, String)>, WireError> {
    let mut pairs = Vec::new();
    // Empty segments (`a=1&&b=2`, a trailing `&`) carry nothing; browsers
    // and AWS skip them.
    for (index, segment) in body.split(|&b| b == b'&').enumerate() {
        if segment.is_empty() {
            continue;
        }
        let (name, value) = match segment.iter().position(|&b| b == b'=') {
            Some(eq) => (&segment[..eq], &segment[eq + 1..]),
            None => (segment, &[][..]),
        };
        let name = decode(name, index)?;
        let value = decode(value, index)?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// One side of a pair: `+` is a space, `%XX` a byte; the bytes must be UTF-8.
/// `percent_encoding::percent_decode` would pass a bad escape through as
/// text, which would make a malformed body mean something.
fn decode(raw: &[u8], pair: usize) -> Result<String, WireError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => {
                bytes.push(b' ');
                i += 1;
            }
            b'%' => {
                let high = raw.get(i + 1).and_then(|&b| hex(b));
                let low = raw.get(i + 2).and_then(|&b| hex(b));
                match (high, low) {
                    (Some(high), Some(low)) => bytes.push(high << 4 | low),
                    _ => return Err(WireError::BadPercentEscape { pair: pair + 1 }),
                }
                i += 3;
            }
            b => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| WireError::InvalidUtf8 { pair: pair + 1 })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_python_urlencode() {
        let body = encode(&[
            ("Filter.1.Name".into(), "tag:Name".into()),
            ("V".into(), "a b+c&d=e~f_g-h.i/é".into()),
        ]);
        assert_eq!(
            body,
            "Filter.1.Name=tag%3AName&V=a+b%2Bc%26d%3De~f_g-h.i%2F%C3%A9"
        );
        assert_eq!(
            parse(body.as_bytes()).unwrap(),
            vec![
                ("Filter.1.Name".to_string(), "tag:Name".to_string()),
                ("V".to_string(), "a b+c&d=e~f_g-h.i/é".to_string()),
            ]
        );
    }

    #[test]
    fn bad_escapes_and_bad_utf8_are_refused() {
        assert_eq!(parse(b"a=%4"), Err(WireError::BadPercentEscape { pair: 1 }));
        assert_eq!(
            parse(b"a=1&b=%zz"),
            Err(WireError::BadPercentEscape { pair: 2 })
        );
        assert_eq!(parse(b"a=%C3%28"), Err(WireError::InvalidUtf8 { pair: 1 }));
        assert_eq!(parse(b"a=\xff"), Err(WireError::InvalidUtf8 { pair: 1 }));
        assert_eq!(parse(b"").unwrap(), vec![]);
        assert_eq!(
            parse(b"a&&b=").unwrap(),
            vec![
                ("a".to_string(), String::new()),
                ("b".to_string(), String::new())
            ]
        );
    }
}
