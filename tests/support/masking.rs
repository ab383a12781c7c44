//! Ids and dates masked, so two accounts that made the same resources
//! compare equal: each id becomes a placeholder numbered by its first
//! appearance (so references between resources must line up too), each
//! date `<date>`, each secret `<secret>`.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Clone, Copy)]
enum Alphabet {
    Upper,
    Hex,
}

impl Alphabet {
    fn has(self, c: u8) -> bool {
        match self {
            Alphabet::Upper => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Alphabet::Hex => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        }
    }
}

/// The ids the accounts make: prefix, alphabet, length after the prefix.
const ID_FORMS: &[(&str, Alphabet, usize)] = &[
    ("AROA", Alphabet::Upper, 17),
    ("AIPA", Alphabet::Upper, 17),
    ("ASIA", Alphabet::Upper, 16),
    ("AKIA", Alphabet::Upper, 16),
    ("iip-assoc-", Alphabet::Hex, 17),
    ("i-", Alphabet::Hex, 17),
    ("r-", Alphabet::Hex, 17),
];

/// Replaces ids with placeholders numbered by first appearance, dates with
/// `<date>` (what follows the seconds, the format, is kept), and secrets.
#[derive(Default)]
pub struct Masker {
    ids: HashMap<String, String>,
}

impl Masker {
    fn placeholder(&mut self, prefix: &str, id: &str) -> String {
        let next = self.ids.len();
        self.ids
            .entry(id.to_string())
            .or_insert_with(|| format!("<{prefix}{next}>"))
            .clone()
    }

    pub fn mask(&mut self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        'scan: while i < bytes.len() {
            let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if boundary {
                if is_date_at(bytes, i) {
                    out.push_str("<date>");
                    i += 19;
                    continue;
                }
                for &(prefix, alphabet, len) in ID_FORMS {
                    let end = i + prefix.len() + len;
                    if bytes[i..].starts_with(prefix.as_bytes())
                        && end <= bytes.len()
                        && bytes[i + prefix.len()..end]
                            .iter()
                            .all(|&c| alphabet.has(c))
                        && bytes.get(end).is_none_or(|c| !c.is_ascii_alphanumeric())
                    {
                        let placeholder = self.placeholder(prefix, &text[i..end]);
                        out.push_str(&placeholder);
                        i = end;
                        continue 'scan;
                    }
                }
            }
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
        out
    }

    pub fn mask_value(&mut self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.mask(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_value(v)),
            Value::Object(members) => {
                for (key, member) in members.iter_mut() {
                    if key == "SecretAccessKey" || key == "SessionToken" {
                        *member = Value::String("<secret>".into());
                    } else {
                        self.mask_value(member);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` at `i`.
fn is_date_at(bytes: &[u8], i: usize) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    bytes.len() >= i + SHAPE.len()
        && SHAPE.iter().zip(&bytes[i..]).all(|(&s, &c)| match s {
            b'd' => c.is_ascii_digit(),
            s => s == c,
        })
}
