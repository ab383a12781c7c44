//! The plan for programs: the JSON of docs/design.md (format_version 1),
//! pretty-printed.
//!
//! The bytes are serde_json's pretty printing of the plan's published
//! fields, or for a saved plan of all its fields (the tests hold them to
//! it), but serde_json prints a value on one thread, and the changes and
//! the steps are nearly all of a large plan (650 MB at 100,000 roles). So
//! the top object is laid out here, and each element of those two arrays
//! is pretty-printed on its own, at its depth ([`PrettyAt`]), a batch at a
//! time over every core.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::value::RawValue;

use super::buffered;
use super::lines::pretty_lines;
use crate::plan::{Action, Change, Later, Plan, Shown, Step, View};

/// Streams the plan's JSON.
pub fn write(plan: &Plan, sink: &mut dyn Write) -> io::Result<()> {
    buffered(sink, |out| {
        write_public(plan, None, &|| Some(&plan.steps), out)?;
        out.write_all(b"\n}\n")
    })
}

/// Streams a saved plan's JSON: all of [`Plan`]'s fields, as serde_json
/// pretty-prints them. The saved-plan fields follow the published ones,
/// in [`Plan`]'s order, each only when it is set.
pub fn write_saved(plan: &Plan, sink: &mut dyn Write) -> io::Result<()> {
    buffered(sink, |out| {
        write_public(plan, None, &|| Some(&plan.steps), out)?;
        if let Some(account_id) = &plan.account_id {
            write_field(out, "account_id", account_id)?;
        }
        if !plan.fingerprints.is_empty() {
            write_field(out, "fingerprints", &plan.fingerprints)?;
        }
        if let Some(desired) = &plan.desired {
            write_field(out, "desired", desired)?;
        }
        if let Some(options) = &plan.options {
            write_field(out, "options", options)?;
        }
        out.write_all(b"\n}\n")
    })
}

/// [`write`] of a plan whose steps are still being put in order
/// ([`crate::plan::plan_owned_with`]): its changes are written meanwhile,
/// on this thread alone until the steps are ready (the ordering keeps a
/// core to itself), on every core after; the steps, which follow them,
/// once they are ready, on every core.
pub fn write_later(plan: &Plan, later: &Later, sink: &mut dyn Write) -> io::Result<()> {
    buffered(sink, |out| {
        write_public(plan, Some(later), &|| later.steps(), out)?;
        out.write_all(b"\n}\n")
    })
}

/// The top object's opening and the published fields of a plan, in order;
/// the caller adds any more and closes it. `steps()` waits for the steps
/// (`None`: they could not be put in order). With `later`, the steps are
/// being ordered: the changes are split over every core only once they
/// are, and their views are built as they are written.
fn write_public<'a, W: Write>(
    plan: &'a Plan,
    later: Option<&Later>,
    steps: &dyn Fn() -> Option<&'a [Step]>,
    out: &mut W,
) -> io::Result<()> {
    out.write_all(b"{")?;
    write_first_field(out, "format_version", &plan.format_version)?;
    write_field(out, "stack", &plan.stack)?;
    out.write_all(b",\n  \"changes\": ")?;
    let changes: Vec<ChangeJson> = (plan.changes.iter().enumerate())
        .map(|(index, change)| ChangeJson {
            index,
            change,
            later,
        })
        .collect();
    write_array(&changes, &|| later.is_none_or(Later::is_ready), out)?;
    out.write_all(b",\n  \"steps\": ")?;
    let steps = steps().ok_or_else(|| {
        io::Error::other("internal error: the plan's steps could not be put in order")
    })?;
    write_array(steps, &|| true, out)?;
    write_field(out, "warnings", &plan.warnings)?;
    write_field(out, "summary", &plan.summary)
}

/// `,` and a field of the top object, its value pretty-printed at its depth.
fn write_field<W: Write>(out: &mut W, name: &str, value: &impl Serialize) -> io::Result<()> {
    out.write_all(b",")?;
    write_first_field(out, name, value)
}

/// [`write_field`] without the comma before it.
fn write_first_field<W: Write>(out: &mut W, name: &str, value: &impl Serialize) -> io::Result<()> {
    out.write_all(b"\n")?;
    out.write_all(FIELD)?;
    serde_json::to_writer(&mut *out, name)?;
    out.write_all(b": ")?;
    write_pretty_at(value, FIELD, out)
}

/// The indentation of the top object's fields.
const FIELD: &[u8] = b"  ";
/// The indentation of the elements of the top object's arrays.
const ELEMENT: &[u8] = b"    ";

/// A field's array, as serde_json pretty-prints it at that depth: `[]`, or
/// one element a line, a batch at a time (split over the cores when
/// `every_core()` says so, see [`super::write_in_batches`]).
fn write_array<T: Serialize + Sync, W: Write>(
    items: &[T],
    every_core: &dyn Fn() -> bool,
    out: &mut W,
) -> io::Result<()> {
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    super::write_in_batches(items, every_core, out, |first, run, mut text| {
        for (n, item) in run.iter().enumerate() {
            text.extend_from_slice(if first + n == 0 { b"\n" } else { b",\n" });
            text.extend_from_slice(ELEMENT);
            write_pretty_at(item, ELEMENT, &mut text)?;
        }
        Ok(text)
    })?;
    out.write_all(b"\n  ]")
}

/// A change as its derived `Serialize` writes it, with its views as their
/// raw text, which [`PrettyAt`] lays out from the bytes: transcoding every
/// view (parsing it to print it again) was most of a large JSON plan's
/// changes.
struct ChangeJson<'a> {
    /// The change's index in the plan.
    index: usize,
    change: &'a Change,
    /// What builds the views the change is due, if it is.
    later: Option<&'a Later<'a>>,
}

impl Serialize for ChangeJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Fields<'a> {
            resource: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: &'a Option<String>,
            action: Action,
            before: Option<&'a RawValue>,
            after: Option<After<'a>>,
            attributes: &'a [String],
        }
        /// A view's text, or a created resource written as its view
        /// would be ([`Later::views_or_shown`]).
        #[derive(Serialize)]
        #[serde(untagged)]
        enum After<'a> {
            View(&'a RawValue),
            Shown(Shown<'a>),
        }
        let change = self.change;
        let views = super::views_of(self.later, self.index, change, None);
        let after = match views.created {
            Some(shown) => Some(After::Shown(shown)),
            None => views.after.as_deref().map(|view| After::View(view.raw())),
        };
        Fields {
            resource: &change.resource,
            name: &change.name,
            action: change.action,
            before: views.before.as_deref().map(View::raw),
            after,
            attributes: &change.attributes,
        }
        .serialize(serializer)
    }
}

/// Writes `value` to `out` as serde_json pretty-prints it `indent` deep.
fn write_pretty_at<W: Write>(value: &impl Serialize, indent: &[u8], out: &mut W) -> io::Result<()> {
    let formatter = PrettyAt {
        indent,
        depth: 0,
        has_value: false,
    };
    value.serialize(&mut serde_json::Serializer::with_formatter(out, formatter))?;
    Ok(())
}

/// serde_json's `PrettyFormatter` (two spaces a level) for a value that
/// starts `indent` deep: every line after the value's first begins with
/// `indent`. serde_json's own cannot start deeper than the margin.
struct PrettyAt<'a> {
    indent: &'a [u8],
    /// How many arrays and objects the layout is in.
    depth: usize,
    /// Whether the innermost open array or object has had a value yet:
    /// read as it closes (`[]` and `{}` stay on one line).
    has_value: bool,
}

impl PrettyAt<'_> {
    /// What begins a line at the current depth.
    fn margin(&self) -> Vec<u8> {
        let mut margin = self.indent.to_vec();
        for _ in 0..self.depth {
            margin.extend_from_slice(b"  ");
        }
        margin
    }

    fn new_line<W: Write + ?Sized>(&self, out: &mut W) -> io::Result<()> {
        out.write_all(b"\n")?;
        out.write_all(self.indent)?;
        for _ in 0..self.depth {
            out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: Write + ?Sized>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: Write + ?Sized>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(out)?;
        }
        out.write_all(bracket)
    }

    fn next_item<W: Write + ?Sized>(&self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.new_line(out)
    }
}

impl serde_json::ser::Formatter for PrettyAt<'_> {
    fn begin_array<W: Write + ?Sized>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: Write + ?Sized>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: Write + ?Sized>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.next_item(out, first)
    }

    fn end_array_value<W: Write + ?Sized>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: Write + ?Sized>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: Write + ?Sized>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: Write + ?Sized>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.next_item(out, first)
    }

    fn begin_object_value<W: Write + ?Sized>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: Write + ?Sized>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    /// Raw JSON text (a view's, serde_json's compact text of a value),
    /// laid out as serde_json prints the value here: its pretty lines,
    /// each after the first starting at the current depth.
    fn write_raw_fragment<W: Write + ?Sized>(
        &mut self,
        out: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let margin = self.margin();
        let mut first = true;
        let mut failed = None;
        pretty_lines(fragment, &mut |line| {
            if failed.is_some() {
                return;
            }
            let written = if first {
                first = false;
                out.write_all(line.as_bytes())
            } else {
                out.write_all(b"\n")
                    .and_then(|()| out.write_all(&margin))
                    .and_then(|()| out.write_all(line.as_bytes()))
            };
            if let Err(error) = written {
                failed = Some(error);
            }
        })
        .map_err(io::Error::other)?;
        failed.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::ownership::user_tags;
    use crate::plan::render::lines::tests::{profile, role};
    use proptest::prelude::*;
    use rolecall_model::{InstanceProfile, Role};

    /// What `write_pretty_at` writes at an element's depth.
    fn pretty_at(value: &impl Serialize) -> String {
        let mut out = Vec::new();
        write_pretty_at(value, ELEMENT, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    proptest! {
        /// A created role written into the JSON plan from its declaration
        /// is laid out as the model's own serialisation of it (with the
        /// user's tags only) is: escapes, tags, documents held as text,
        /// documents that are not objects.
        #[test]
        fn a_created_role_is_written_as_the_model_writes_it(role in role()) {
            let users = Role { tags: user_tags(&role.tags), ..role.clone() };
            let view = View::of(&users).unwrap();
            prop_assert_eq!(pretty_at(&Shown::Role(&role)), pretty_at(&view.raw()));
        }

        #[test]
        fn a_created_profile_is_written_as_the_model_writes_it(profile in profile()) {
            let users = InstanceProfile { tags: user_tags(&profile.tags), ..profile.clone() };
            let view = View::of(&users).unwrap();
            prop_assert_eq!(pretty_at(&Shown::Profile(&profile)), pretty_at(&view.raw()));
        }
    }

    /// `PrettyAt` at any depth is serde_json's pretty printing of the
    /// value as an element that deep: nested empty arrays and objects,
    /// raw JSON text (a view's), escapes and every kind of scalar.
    #[test]
    fn pretty_at_is_serde_jsons_pretty_layout_at_that_depth() {
        let raw = serde_json::value::RawValue::from_string(r#"{"r":[1,{}]}"#.into()).unwrap();
        let values = [
            serde_json::json!({"a": {}, "c": [[], {}], "d": {"e": [{}]}, "f": [1, [2, []]]}),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!("line\nbreak \"quoted\" ünï \u{1}"),
            serde_json::json!([null, true, 1.5, -2, {"k": [null]}]),
            serde_json::to_value(&raw).unwrap(),
        ];
        for value in &values {
            for levels in 0..4 {
                // The value as serde_json prints it `levels` arrays deep.
                let mut nested = value.clone();
                for _ in 0..levels {
                    nested = serde_json::Value::Array(vec![nested]);
                }
                let expected = serde_json::to_string_pretty(&nested).unwrap();
                let indent = "  ".repeat(levels);
                let mut text = Vec::new();
                for level in 1..=levels {
                    text.extend_from_slice(b"[\n");
                    text.extend_from_slice("  ".repeat(level).as_bytes());
                }
                write_pretty_at(value, indent.as_bytes(), &mut text).unwrap();
                for level in (0..levels).rev() {
                    text.push(b'\n');
                    text.extend_from_slice("  ".repeat(level).as_bytes());
                    text.push(b']');
                }
                assert_eq!(String::from_utf8(text).unwrap(), expected, "{value}");
            }
        }
    }

    /// A change is written as its derived `Serialize` writes it: every
    /// field, in order, `name` only when set, views as the values they hold.
    #[test]
    fn a_change_is_written_as_its_own_serialisation() {
        use crate::compare::View;
        let view = |value: serde_json::Value| View::of(&value);
        let changes = [
            Change {
                resource: "instance/i-0abc".into(),
                name: Some("web-1".into()),
                action: Action::Update,
                before: view(serde_json::json!({"profile": "a", "tags": {}})),
                after: view(serde_json::json!({"profile": "b \"quoted\"", "n": 1.5})),
                attributes: vec!["profile".into()],
            },
            Change {
                resource: "role/web".into(),
                name: None,
                action: Action::Create,
                before: None,
                after: view(serde_json::json!({"name": "web", "trust": {"Statement": []}})),
                attributes: vec![],
            },
        ];
        for change in &changes {
            for indent in ["", "    "] {
                let (mut ours, mut derived) = (Vec::new(), Vec::new());
                write_pretty_at(
                    &ChangeJson {
                        index: 0,
                        change,
                        later: None,
                    },
                    indent.as_bytes(),
                    &mut ours,
                )
                .unwrap();
                write_pretty_at(change, indent.as_bytes(), &mut derived).unwrap();
                assert_eq!(String::from_utf8(ours), String::from_utf8(derived));
            }
        }
    }

    /// Raw JSON text (a change's views) inside a value is laid out as
    /// serde_json prints the value it holds, at its depth: from the bytes
    /// when plain, from its tokens when it holds escapes or floats.
    #[test]
    fn raw_json_text_is_laid_out_as_its_value_would_be() {
        let held = [
            serde_json::json!({"a": {}, "c": [[], {"d": [1, -2]}], "e": "x,y:z]", "t": true}),
            serde_json::json!({"q": "say \"hi\"\n", "f": [1.5, 1e300]}),
            serde_json::json!([]),
            serde_json::json!("plain"),
            serde_json::json!(null),
        ];
        for value in &held {
            let raw = RawValue::from_string(value.to_string()).unwrap();
            let holder: std::collections::BTreeMap<&str, Vec<&RawValue>> =
                [("outer", vec![&*raw, &*raw])].into_iter().collect();
            let expected = serde_json::json!({"outer": [value, value]});
            for levels in 0..3 {
                let indent = "  ".repeat(levels);
                let mut text = Vec::new();
                write_pretty_at(&holder, indent.as_bytes(), &mut text).unwrap();
                let expected = serde_json::to_string_pretty(&expected)
                    .unwrap()
                    .replace('\n', &format!("\n{indent}"));
                assert_eq!(String::from_utf8(text).unwrap(), expected, "{value}");
            }
        }
    }
}
