//! What a plan's facts are about ([`Subject`]), as numbers.
//!
//! Each resource of the comparison is numbered by the position of its
//! diff ([`Numbering`], made once and shared by every builder); any other
//! name a fact is about (a policy's ARN, a resource no diff names) is
//! interned after them, by each builder for itself ([`Subjects`]).
//!
//! Interned by hash, the names and keys of a first plan's 300,000
//! resources were a quarter of drafting, and every builder drafting
//! beside the role pass interned its own again when it was taken in.
//! Numbered by diff, a resource's subject is the same in every builder,
//! and the pass drafting it knows it without a lookup ([`Subjects::focus`]).

use std::cell::{Cell, RefCell};
use std::hash::BuildHasher;

use foldhash::{HashMap, HashMapExt};
use hashbrown::HashTable;

use crate::compare::{Kind, ResourceDiff};
use rolecall_model::key;

/// What a fact is about: a resource, or another name such as a policy's
/// ARN. Plans of 100,000 resources hold millions of facts, hashed and
/// compared as numbers, not strings; 32 bits keep a fact to 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject(pub(super) u32);

/// How many kinds of resource there are: [`Numbering`] has a map for each.
const KINDS: usize = 4;

/// The comparison's resources, each numbered by the position of the
/// first diff of its key (only an instance's key may repeat: `name: i-…`
/// declares one the account's `i-…` is not).
pub struct Numbering<'c> {
    /// By kind (`Kind as usize`): each resource's number, by what its key
    /// names (a name, or an instance's id or Name tag).
    by_kind: [HashMap<&'c str, u32>; KINDS],
    /// By diff position: its resource's number.
    of_diff: Vec<u32>,
}

impl<'c> Numbering<'c> {
    pub fn of(diffs: &'c [ResourceDiff]) -> Self {
        let mut counts = [0; KINDS];
        for diff in diffs {
            counts[diff.kind as usize] += 1;
        }
        let mut by_kind = counts.map(HashMap::with_capacity);
        let of_diff = (diffs.iter().enumerate())
            .map(|(at, diff)| {
                let at = number(at);
                match key::parts(&diff.key) {
                    Some((kind, ident)) => *by_kind[kind as usize].entry(ident).or_insert(at),
                    // Not a key: nothing names it, so no one else asks.
                    None => at,
                }
            })
            .collect();
        Numbering { by_kind, of_diff }
    }

    /// The number after every resource's: where other names start.
    fn resources(&self) -> u32 {
        number(self.of_diff.len())
    }
}

/// A position as a subject's number. Four billion names would not fit in
/// memory long before.
fn number(at: usize) -> u32 {
    u32::try_from(at).expect("fewer than 2^32 subjects")
}

/// One builder's subjects: the resources' from the shared [`Numbering`],
/// others interned here and numbered after them. A `RefCell` so that
/// drafting code can name subjects while it holds other borrows of the
/// builder.
pub struct Subjects<'c> {
    numbering: &'c Numbering<'c>,
    /// The resource being drafted, which its steps ask about most: found
    /// without a lookup.
    focus: Cell<Option<(Kind, &'c str, Subject)>>,
    others: RefCell<Names>,
}

impl std::fmt::Debug for Subjects<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let others = self.others.borrow().ends.len();
        write!(
            f,
            "Subjects({} resources, {others} others)",
            self.numbering.of_diff.len()
        )
    }
}

impl<'c> Subjects<'c> {
    pub fn new(numbering: &'c Numbering<'c>) -> Self {
        Subjects {
            numbering,
            focus: Cell::new(None),
            others: RefCell::default(),
        }
    }

    /// Another builder's: the same numbering, no other names yet.
    pub fn sibling(&self) -> Self {
        Subjects::new(self.numbering)
    }

    /// The resource of the diff at `at` is the one drafted now.
    pub fn focus(&self, at: usize, diff: &'c ResourceDiff) {
        let focus = key::parts(&diff.key)
            .map(|(kind, ident)| (kind, ident, Subject(self.numbering.of_diff[at])));
        self.focus.set(focus);
    }

    /// The resource `key` names is the one drafted now (when a diff does).
    pub fn focus_on_key(&self, key: &str) {
        let focus = key::parts(key).and_then(|(kind, ident)| {
            let (ident, &number) = self.numbering.by_kind[kind as usize].get_key_value(ident)?;
            Some((kind, *ident, Subject(number)))
        });
        self.focus.set(focus);
    }

    /// The resource of this kind whose key names `ident` (a name, or an
    /// instance's id or Name tag).
    pub fn resource(&self, kind: Kind, ident: &str) -> Subject {
        if let Some((focus_kind, focus_ident, subject)) = self.focus.get()
            && focus_kind == kind
            && focus_ident == ident
        {
            return subject;
        }
        match self.numbering.by_kind[kind as usize].get(ident) {
            Some(&number) => Subject(number),
            // No diff names it (a role a profile names, neither declared
            // nor in the account): by its key, which no other name is.
            None => self.other(&format!("{}/{ident}", kind.prefix())),
        }
    }

    /// The resource of `key` (`role/NAME`, `instance/i-…`).
    pub fn key(&self, key: &str) -> Subject {
        match key::parts(key) {
            Some((kind, ident)) => self.resource(kind, ident),
            None => self.other(key),
        }
    }

    /// A name that is not a resource's: a policy's ARN.
    pub fn other(&self, name: &str) -> Subject {
        let mut others = self.others.borrow_mut();
        Subject(self.numbering.resources() + others.of(name))
    }

    /// Takes in `run`'s other names; what its subjects are here.
    pub fn absorb(&self, run: Subjects<'c>) -> Renamed {
        let run_others = run.others.into_inner();
        Renamed {
            first_other: self.numbering.resources(),
            others: (0..run_others.ends.len())
                .map(|number| self.other(run_others.name(number)))
                .collect(),
        }
    }
}

/// What the subjects of an absorbed builder are in the one that took it
/// in ([`Subjects::absorb`]): its resources' the same, its others'
/// renamed.
pub struct Renamed {
    first_other: u32,
    /// By the other's number in the absorbed builder.
    others: Vec<Subject>,
}

impl Renamed {
    /// Whether every subject stays as it is: the builder had no others.
    pub fn is_identity(&self) -> bool {
        self.others.is_empty()
    }

    pub fn subject(&self, Subject(number): Subject) -> Subject {
        match number.checked_sub(self.first_other) {
            Some(other) => self.others[other as usize],
            None => Subject(number),
        }
    }
}

/// Names, each once, numbered in the order first seen: one after another
/// in one buffer, and a table of their numbers found by hash.
#[derive(Default)]
struct Names {
    /// Numbers, hashed by their names.
    table: HashTable<u32>,
    /// Every name, one after another.
    text: String,
    /// Where each name ends in `text` (it starts where the one before ends).
    ends: Vec<usize>,
    hasher: foldhash::fast::RandomState,
}

impl Names {
    fn name(&self, number: usize) -> &str {
        name_in(&self.text, &self.ends, number)
    }

    fn of(&mut self, name: &str) -> u32 {
        let Names {
            table,
            text,
            ends,
            hasher,
        } = self;
        let hash = hasher.hash_one(name);
        if let Some(&number) = table.find(hash, |&n| name_in(text, ends, n as usize) == name) {
            return number;
        }
        let number = number(ends.len());
        text.push_str(name);
        ends.push(text.len());
        let (text, ends) = (&*text, &*ends);
        table.insert_unique(hash, number, |&n| {
            hasher.hash_one(name_in(text, ends, n as usize))
        });
        number
    }
}

/// A name, from [`Names`]' fields (borrowed apart while its table changes).
fn name_in<'a>(text: &'a str, ends: &[usize], number: usize) -> &'a str {
    let start = if number == 0 { 0 } else { ends[number - 1] };
    &text[start..ends[number]]
}

#[cfg(test)]
mod tests {
    use super::{Kind, Numbering, Subject, Subjects};
    use crate::compare::ResourceDiff;

    /// A diff of `key`: what it is about is all the numbering reads.
    fn diff(kind: Kind, key: &str) -> ResourceDiff {
        let name = key.split_once('/').map_or(key, |(_, name)| name);
        ResourceDiff::orphaned(key.to_string(), kind, name.to_string(), None)
    }

    /// A resource is its diff's position, by its name or its key, with or
    /// without focus; a repeated instance key is its first diff's; a
    /// role and a profile of one name are two resources.
    #[test]
    fn a_resource_is_numbered_by_its_first_diff() {
        let diffs = vec![
            diff(Kind::Policy, "policy/p"),
            diff(Kind::Role, "role/x"),
            diff(Kind::InstanceProfile, "instance-profile/x"),
            diff(Kind::Instance, "instance/i-0123456789abcdef0"),
            diff(Kind::Instance, "instance/i-0123456789abcdef0"),
        ];
        let numbering = Numbering::of(&diffs);
        let subjects = Subjects::new(&numbering);
        let every = || {
            [
                subjects.resource(Kind::Policy, "p"),
                subjects.key("role/x"),
                subjects.resource(Kind::Role, "x"),
                subjects.resource(Kind::InstanceProfile, "x"),
                subjects.key("instance-profile/x"),
                subjects.key("instance/i-0123456789abcdef0"),
            ]
        };
        let expected = [0, 1, 1, 2, 2, 3].map(Subject);
        assert_eq!(every(), expected);
        for (at, diff) in diffs.iter().enumerate() {
            subjects.focus(at, diff);
            assert_eq!(every(), expected);
        }
        subjects.focus_on_key("instance/i-0123456789abcdef0");
        assert_eq!(every(), expected);
        subjects.focus_on_key("role/not-a-diff");
        assert_eq!(every(), expected);
    }

    /// Other names are numbered after the resources, once each, however
    /// far their table grows; a resource no diff names is one of them, by
    /// its key; another builder's are renamed into these by number, its
    /// resources' kept.
    #[test]
    fn other_names_follow_the_resources_and_are_renamed_when_absorbed() {
        let diffs = vec![diff(Kind::Role, "role/x"), diff(Kind::Role, "role/y")];
        let numbering = Numbering::of(&diffs);
        let subjects = Subjects::new(&numbering);
        let arns: Vec<String> = (0..5000)
            .map(|n| format!("arn:aws:iam::1:policy/p{n}"))
            .collect();
        for (number, arn) in arns.iter().enumerate() {
            assert_eq!(subjects.other(arn), Subject(2 + number as u32));
        }
        for (number, arn) in arns.iter().enumerate().rev() {
            assert_eq!(subjects.other(arn), Subject(2 + number as u32));
        }
        let missing = subjects.resource(Kind::Role, "z");
        assert_eq!(missing, Subject(5002));
        assert_eq!(subjects.key("role/z"), missing);
        assert_eq!(subjects.other("role/z"), missing);
        assert_ne!(subjects.resource(Kind::InstanceProfile, "z"), missing);

        let run = Subjects::new(&numbering);
        let (new, known, role) = (
            run.other("arn:new"),
            run.other(&arns[42]),
            run.key("role/y"),
        );
        let renamed = subjects.absorb(run);
        assert!(!renamed.is_identity());
        assert_eq!(renamed.subject(new), Subject(5004));
        assert_eq!(renamed.subject(known), Subject(44));
        assert_eq!(renamed.subject(role), Subject(1));
        assert_eq!(subjects.other("arn:new"), Subject(5004));
        assert!(subjects.absorb(Subjects::new(&numbering)).is_identity());
    }
}
