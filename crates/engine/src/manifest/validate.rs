//! The rules AWS (and rolecall) put on declared values, checked before any
//! API call so a user learns every mistake at once, each at its place.
//! Limits come from `docs/aws-semantics.md` (IAM's API model and quotas:
//! §2 fields, §5 tags, §6 quotas); AWS-managed policy ARNs are checked
//! against the bundled list (`model::aws_policies`).

use std::borrow::Cow;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use rolecall_model::is_instance_id;

use super::convert::{
    At, Decl, Document, InlineDecl, InstanceDecl, PolicyDecl, PolicyDeclaration, ProfileDecl,
    RoleDecl, StackDecl, TagsDecl, did_you_mean,
};
use super::diagnostic::{self, Diagnostic};
use super::limits::{SESSION_RANGE, session_out_of_range};
use super::raw::Pos;
use super::tags::{merged_count, pairs, stack_tags};
use rolecall_model::arn::PolicyArn;
use rolecall_model::aws_policies::{self, AwsPolicy, SERVICE_ROLE_PATH, aws_policy};
use rolecall_model::limits::{
    MAX_INLINE_SIZE, MAX_MANAGED_POLICIES, MAX_MANAGED_POLICY_SIZE, MAX_TRUST_SIZE,
};
use rolecall_model::policy::{GrammarProblem, PolicyDocument};
use rolecall_model::{
    DEFAULT_PARTITION, Location, MAX_TAGS, OWNERSHIP_TAG_COUNT, RESERVED_TAG_PREFIX, TAG_SPEC,
    TAG_STACK, is_account_id, policy_arn,
};

const MAX_ROLE_NAME: usize = 64;
const MAX_PROFILE_NAME: usize = 128;
const MAX_POLICY_NAME: usize = 128;
const MAX_PATH: usize = 512;
const MAX_DESCRIPTION: usize = 1000;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;
/// Tags a user may declare: AWS's 50 minus rolecall's ownership tags.
const MAX_USER_TAGS: usize = MAX_TAGS - OWNERSHIP_TAG_COUNT;

/// "`what` is malformed: PROBLEM". A document read from a file is named, and
/// its problem told without quoting it: the file may hold secrets rather
/// than a policy, and this message may end up in a CI log or a PR comment.
fn malformed(what: &str, policy: &PolicyDecl, problem: &GrammarProblem) -> String {
    match &policy.file {
        None => format!("{what} is malformed: {problem}"),
        Some(file) => format!(
            "{what}: `{file}` is malformed: {}",
            problem.without_values()
        ),
    }
}

/// Checks every declaration and the relations between them. `some_unread`:
/// whether a document could not be read, so a reference may name a resource
/// it declared.
pub fn check(documents: &[Document], some_unread: bool, diagnostics: &mut Vec<Diagnostic>) {
    check_with(
        documents,
        some_unread,
        diagnostics,
        DOCUMENTS_WORTH_A_THREAD,
    );
}

/// [`check`], on several threads from `worth_a_thread` documents a thread.
fn check_with(
    documents: &[Document],
    some_unread: bool,
    diagnostics: &mut Vec<Diagnostic>,
    worth_a_thread: usize,
) {
    let mut policies = HashMap::new();
    let mut policy_names = Vec::new();
    for doc in documents {
        if let Decl::Policy(policy) = &doc.decl {
            // The first of a name declared twice, which `unique` reports.
            if let std::collections::hash_map::Entry::Vacant(vacant) =
                policies.entry(folded(&policy.name.value))
            {
                vacant.insert((doc, &**policy));
                policy_names.push(policy.name.value.as_str());
            }
        }
    }
    let stack = documents.iter().find_map(|doc| match &doc.decl {
        Decl::Stack(stack) => Some(stack),
        _ => None,
    });
    let stack_tags = stack_tags(documents);
    let mut checker = Checker {
        documents,
        some_unread,
        diagnostics: std::mem::take(diagnostics),
        stack_tags: &stack_tags,
        policies: &policies,
        policy_names: &policy_names,
        account_id: stack
            .and_then(|stack| stack.account_id.as_ref())
            .map(|account| account.value.as_str())
            .filter(|account| is_account_id(account)),
        partition: stack
            .and_then(|stack| stack.partition.as_ref())
            .map(|partition| partition.value.as_str()),
    };
    checker.run(worth_a_thread);
    *diagnostics = checker.diagnostics;
}

/// Below this many documents the own checks run on this thread alone:
/// a thread costs more than they do.
const DOCUMENTS_WORTH_A_THREAD: usize = 2_000;

struct Checker<'a> {
    documents: &'a [Document],
    some_unread: bool,
    diagnostics: Vec<Diagnostic>,
    stack_tags: &'a [(&'a str, &'a str)],
    /// The ManagedPolicies declared, by lower-cased name (IAM's policy
    /// names are unique in an account ignoring case): roles name them.
    policies: &'a HashMap<Cow<'a, str>, (&'a Document, &'a PolicyDeclaration)>,
    /// Their names as declared, for "did you mean".
    policy_names: &'a [&'a str],
    /// The Stack's account id, when it declares a valid one: a policy ARN
    /// of that account may name a declared ManagedPolicy.
    account_id: Option<&'a str>,
    /// The Stack's partition, when it declares one.
    partition: Option<&'a str>,
}

/// Names already seen, by their lower-cased form: the document and the name as declared.
type Seen<'a> = HashMap<Cow<'a, str>, (&'a Document, &'a At<String>)>;

/// A name as IAM compares it, ignoring case; borrowed when it is already
/// lower case, as most are, so that 300,000 names cost no copies.
fn folded(name: &str) -> Cow<'_, str> {
    if name
        .bytes()
        .any(|b| !b.is_ascii() || b.is_ascii_uppercase())
    {
        Cow::Owned(name.to_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

impl<'a> Checker<'a> {
    /// Every check: each document's own (on every core) beside those
    /// across documents (names declared twice, references; on this
    /// thread), their findings then put in the order one pass over the
    /// documents gives.
    fn run(&mut self, worth_a_thread: usize) {
        let reader = Checker {
            diagnostics: Vec::new(),
            ..*self
        };
        let found_before = self.diagnostics.len();
        let (own, ends) = if self.documents.len() < worth_a_thread {
            let own = reader.own_checks(worth_a_thread);
            (own, self.across())
        } else {
            std::thread::scope(|scope| {
                let own = scope.spawn(|| reader.own_checks(worth_a_thread));
                let ends = self.across();
                (crate::parallel::joined(own), ends)
            })
        };
        // Each document's findings across documents, then its own; the
        // references' last.
        let mut across = std::mem::take(&mut self.diagnostics).into_iter();
        self.diagnostics.extend(across.by_ref().take(found_before));
        let mut own = own.into_iter().peekable();
        let mut start = found_before;
        for (index, end) in ends.into_iter().enumerate() {
            self.diagnostics.extend(across.by_ref().take(end - start));
            start = end;
            while let Some((_, diagnostic)) = own.next_if(|(at, _)| *at == index) {
                self.diagnostics.push(diagnostic);
            }
        }
        debug_assert!(own.peek().is_none(), "every own finding has its document");
        self.diagnostics.extend(across);
    }

    /// The checks across documents: the stack, names declared twice,
    /// instances, then references. Returns, for each document, how many
    /// findings there are once it is checked (the references' come after
    /// the last).
    fn across(&mut self) -> Vec<usize> {
        let documents = self.documents;
        let mut ends = Vec::with_capacity(documents.len());
        let mut stack: Option<&Document> = None;
        // Sized up front: growing a map of 100,000 names rehashes them all
        // again and again.
        let count =
            |kind: fn(&Decl) -> bool| documents.iter().filter(|doc| kind(&doc.decl)).count();
        let mut roles: Seen<'a> =
            HashMap::with_capacity(count(|decl| matches!(decl, Decl::Role(_))));
        let mut profiles: Seen<'a> =
            HashMap::with_capacity(count(|decl| matches!(decl, Decl::Profile(_))));
        let mut policies: Seen<'a> =
            HashMap::with_capacity(count(|decl| matches!(decl, Decl::Policy(_))));
        let mut instances = HashMap::new();
        for doc in documents {
            match &doc.decl {
                Decl::Stack(decl) => {
                    if let Some(first) = stack {
                        let message = format!(
                            "a second `kind: Stack` document; only one is allowed, the first is at {}",
                            location(first, first.pos)
                        );
                        self.error(doc, doc.pos, message);
                    } else {
                        stack = Some(doc);
                    }
                    self.stack(doc, decl);
                }
                Decl::Role(decl) => self.unique(&mut roles, doc, &decl.name, "role"),
                Decl::Policy(decl) => self.unique(&mut policies, doc, &decl.name, "managed policy"),
                Decl::Profile(decl) => {
                    self.unique(&mut profiles, doc, &decl.name, "instance profile")
                }
                Decl::Instance(decl) => self.instance(doc, decl, &mut instances),
            }
            ends.push(self.diagnostics.len());
        }
        self.references(&roles, &profiles);
        ends
    }

    /// The checks of each role, profile and policy that need no other
    /// document (names, paths, documents, tags): most of the work, and
    /// independent, so they run on every core, each thread on a run of
    /// documents. Each finding with its document's index, in document
    /// order.
    fn own_checks(&self, worth_a_thread: usize) -> Vec<(usize, Diagnostic)> {
        crate::parallel::runs(self.documents, worth_a_thread, |first, run| {
            self.own_checks_of(first, run)
        })
        .concat()
    }

    /// [`Checker::own_checks`] of `documents`, the first of which is
    /// document `first`.
    fn own_checks_of(&self, first: usize, documents: &'a [Document]) -> Vec<(usize, Diagnostic)> {
        let mut checker = Checker {
            diagnostics: Vec::new(),
            ..*self
        };
        let mut found = Vec::new();
        let mut trust_checked = None;
        for (offset, doc) in documents.iter().enumerate() {
            match &doc.decl {
                Decl::Role(decl) => checker.role(doc, decl, &mut trust_checked),
                Decl::Policy(decl) => checker.policy(doc, decl),
                Decl::Profile(decl) => checker.profile(doc, decl),
                Decl::Stack(_) | Decl::Instance(_) => {}
            }
            found.extend(
                checker
                    .diagnostics
                    .drain(..)
                    .map(|diagnostic| (first + offset, diagnostic)),
            );
        }
        found
    }

    fn error(&mut self, doc: &Document, pos: Pos, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(Some(location(doc, pos)), message));
    }

    /// A document holding a character IAM's document pattern refuses: every
    /// call that sends it would fail with a ValidationError.
    fn characters(&mut self, doc: &Document, pos: Pos, what: &str, refused: Option<char>) {
        if let Some(c) = refused {
            let message = format!(
                "{what} holds `{c}` (U+{:04X}); IAM accepts only tab, line breaks and U+0020 to U+00FF in a policy document",
                u32::from(c)
            );
            self.error(doc, pos, message);
        }
    }

    fn error_with_help(&mut self, doc: &Document, pos: Pos, message: String, help: String) {
        self.diagnostics
            .push(Diagnostic::error(Some(location(doc, pos)), message).with_help(help));
    }

    /// Names are unique in the manifest set; IAM ignores case for roles,
    /// profiles and managed policies.
    fn unique(&mut self, seen: &mut Seen<'a>, doc: &'a Document, name: &'a At<String>, what: &str) {
        let key = folded(&name.value);
        if let Some((first, first_name)) = seen.get(&key) {
            let message = format!(
                "{what} `{}` is declared twice (names are unique ignoring case): first at {}",
                name.value,
                location(first, first_name.pos)
            );
            self.error(doc, name.pos, message);
        } else {
            seen.insert(key, (doc, name));
        }
    }

    fn stack(&mut self, doc: &Document, decl: &StackDecl) {
        /// The partitions a stack may name (ARNs' second field).
        const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];
        if let Some(name) = &decl.name {
            if name.value.is_empty() {
                self.error(doc, name.pos, "stack name is empty");
            } else if let Some(problem) =
                // The name is stored as the value of the `rolecall:stack` tag.
                tag_text_problem(&name.value, MAX_TAG_VALUE, "stack name")
            {
                self.error(doc, name.pos, problem);
            }
        }
        if let Some(account_id) = &decl.account_id
            && !(account_id.value.len() == 12
                && account_id.value.bytes().all(|b| b.is_ascii_digit()))
        {
            let message = format!(
                "account_id `{}` is not an AWS account id: 12 digits, quoted if it starts with 0 (account_id: \"012345678901\")",
                account_id.value
            );
            self.error(doc, account_id.pos, message);
        }
        if let Some(partition) = &decl.partition
            && !PARTITIONS.contains(&partition.value.as_str())
        {
            let message = format!(
                "partition `{}` is not an AWS partition: {}",
                partition.value,
                PARTITIONS.join(", ")
            );
            self.error(doc, partition.pos, message);
        }
        // Stack tags go on every role too.
        self.tags(
            doc,
            &decl.tags,
            TagKeys::IgnoreCase {
                why: "stack tags go on roles, whose tag keys ignore case",
            },
        );
        if let Some(tags) = &decl.tags {
            self.tag_count(doc, tags.pos, "the stack", tags.value.len(), 0);
        }
    }

    /// `trust_checked`: the last trust policy checked and its grammar
    /// problem. A file's roles that write out the same trust policy share
    /// one document, checked once, not once per role.
    fn role(
        &mut self,
        doc: &Document,
        role: &RoleDecl,
        trust_checked: &mut Option<(PolicyDocument, Option<GrammarProblem>)>,
    ) {
        self.name(
            doc,
            &role.name.value,
            role.name.pos,
            "role name",
            MAX_ROLE_NAME,
        );
        if let Some(path) = &role.path {
            self.path(doc, path);
        }
        if let Some(description) = &role.description {
            self.description(doc, description);
        }
        if let Some(duration) = &role.max_session_duration
            && !SESSION_RANGE.contains(&duration.value)
        {
            let found = format!("`{}`", duration.value);
            self.error(doc, duration.pos, session_out_of_range(&found));
        }
        if let Some(trust) = &role.trust {
            let document = &trust.value.document;
            let problem = match trust_checked {
                Some((checked, problem)) if checked.is_shared_with(document) => problem.clone(),
                _ => {
                    let problem = document.grammar_problem(true);
                    *trust_checked = Some((document.clone(), problem.clone()));
                    problem
                }
            };
            if let Some(problem) = problem {
                let message = malformed("trust policy", &trust.value, &problem);
                self.error(doc, trust.pos, message);
            }
            let text = trust.value.document.sent_text();
            self.characters(doc, trust.pos, "trust policy", text.refused_character);
            let size = text.quota_size;
            if size > MAX_TRUST_SIZE {
                self.error(
                    doc,
                    trust.pos,
                    format!(
                        "trust policy is {size} characters (whitespace not counted); AWS allows at most {MAX_TRUST_SIZE} (quota ACLSizePerRole)"
                    ),
                );
            }
        }
        if let Some(boundary) = &role.permissions_boundary {
            self.boundary(doc, boundary);
        }
        if let Some(managed) = &role.managed_policies {
            self.managed(doc, managed);
        }
        if let Some(inline) = &role.inline_policies {
            self.inline(doc, &role.name.value, inline);
        }
        let what = format!("role `{}`", role.name.value);
        let keys = TagKeys::IgnoreCase {
            why: "role tag keys ignore case",
        };
        self.resource_tags(doc, &role.tags, keys, role.name.pos, &what);
    }

    fn profile(&mut self, doc: &Document, profile: &ProfileDecl) {
        let name = &profile.name;
        self.name(
            doc,
            &name.value,
            name.pos,
            "instance profile name",
            MAX_PROFILE_NAME,
        );
        if let Some(path) = &profile.path {
            self.path(doc, path);
        }
        if let Some(role) = &profile.role {
            self.name(doc, &role.value, role.pos, "role name", MAX_ROLE_NAME);
        }
        let what = format!("instance profile `{}`", profile.name.value);
        self.resource_tags(doc, &profile.tags, TagKeys::Exact, name.pos, &what);
    }

    /// A ManagedPolicy: CreatePolicy's rules (botocore's `policyNameType`,
    /// `policyPathType`, `policyDescriptionType`), the grammar, the size
    /// quota, and tags as a role's.
    fn policy(&mut self, doc: &Document, policy: &PolicyDeclaration) {
        let name = &policy.name;
        self.name(
            doc,
            &name.value,
            name.pos,
            "managed policy name",
            MAX_POLICY_NAME,
        );
        if let Some(path) = &policy.path {
            self.policy_path(doc, path);
        }
        if let Some(description) = &policy.description {
            // IAM's model gives a policy's description a length and no
            // character set (a role's has one).
            let length = description.value.chars().count();
            if length > MAX_DESCRIPTION {
                self.error(
                    doc,
                    description.pos,
                    format!(
                        "description is {length} characters long; IAM allows at most {MAX_DESCRIPTION}"
                    ),
                );
            }
        }
        if let Some(document) = &policy.document {
            let what = format!("managed policy `{}`", name.value);
            if let Some(problem) = document.value.document.managed_grammar_problem() {
                let message = malformed(&what, &document.value, &problem);
                self.error(doc, document.pos, message);
            }
            let text = document.value.document.sent_text();
            self.characters(doc, document.pos, &what, text.refused_character);
            let size = text.quota_size;
            if size > MAX_MANAGED_POLICY_SIZE {
                self.error(
                    doc,
                    document.pos,
                    format!(
                        "{what} is {size} characters (whitespace not counted); AWS allows at most 6,144 (quota PolicySize)"
                    ),
                );
            }
        }
        // Case-sensitive, as a profile's: IAM keeps `Team` and `team` apart
        // on a policy (TagPolicy and CreatePolicy as localstack recorded
        // them, docs/aws-semantics.md §16), and so do the emulator and the
        // planner.
        let what = format!("managed policy `{}`", name.value);
        self.resource_tags(doc, &policy.tags, TagKeys::Exact, name.pos, &what);
    }

    /// A policy's path: a role's rules, and IAM's `policyPathType` pattern
    /// `((/[A-Za-z0-9\.,\+@=_-]+)*)/`: between single slashes, only
    /// letters, digits and `.,+@=_-`.
    fn policy_path(&mut self, doc: &Document, path: &At<String>) {
        let before = self.diagnostics.len();
        self.path(doc, path);
        if self.diagnostics.len() > before {
            return;
        }
        let value = &path.value;
        if value == "/" {
            return;
        }
        // Begins and ends with `/`, all ASCII: checked above.
        let inner = &value[1..value.len() - 1];
        let problem = if inner.split('/').any(str::is_empty) {
            Some(format!("`{value}` has an empty segment (`//`)"))
        } else {
            inner
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || ".,+@=_-/".contains(*c)))
                .map(|c| format!("`{value}` contains {}", show(c)))
        };
        if let Some(problem) = problem {
            self.error(
                doc,
                path.pos,
                format!(
                    "path {problem}; a policy's path allows only letters, digits and `.,+@=_-` between single slashes"
                ),
            );
        }
    }

    fn instance(
        &mut self,
        doc: &'a Document,
        instance: &InstanceDecl,
        seen: &mut HashMap<String, (&'a Document, Pos)>,
    ) {
        if let Some(profile) = &instance.profile.value {
            let pos = instance.profile.pos;
            self.name(doc, profile, pos, "instance profile name", MAX_PROFILE_NAME);
        }
        let selector = match (&instance.id, &instance.name) {
            (Some(_), Some(name)) => {
                self.error_with_help(
                    doc,
                    name.pos,
                    "Instance has both `id` and `name`".into(),
                    "give exactly one: `id` to match the instance id, or `name` to match its Name tag".into(),
                );
                return;
            }
            (None, None) => {
                self.error_with_help(
                    doc,
                    instance.pos,
                    "Instance has neither `id` nor `name`".into(),
                    "add `id: i-0123456789abcdef0`, or `name: web-1` to match the Name tag".into(),
                );
                return;
            }
            (Some(id), None) => {
                if !is_instance_id(&id.value) {
                    self.error(
                        doc,
                        id.pos,
                        format!(
                            "instance id `{}` is malformed: expected `i-` and 8 or 17 hexadecimal digits",
                            id.value
                        ),
                    );
                }
                (id, "instance")
            }
            (None, Some(name)) => {
                if name.value.is_empty() {
                    self.error(doc, name.pos, "instance name is empty");
                } else if is_instance_id(&name.value) {
                    // An instance is `instance/NAME` until it runs, then
                    // `instance/ID`: a Name shaped like an id is one key
                    // for two instances, and a plan could mistake one
                    // instance's change for the other's.
                    self.error_with_help(
                        doc,
                        name.pos,
                        format!(
                            "instance name `{}` has the form of an instance id: rolecall knows a running instance by its id, so this Name would share a key with instance `{}`",
                            name.value, name.value
                        ),
                        format!(
                            "to match the instance of that id, write `id: {}`; else give the instance another Name",
                            name.value
                        ),
                    );
                } else if let Some(problem) =
                    tag_text_problem(&name.value, MAX_TAG_VALUE, "instance name")
                {
                    self.error(doc, name.pos, problem);
                }
                (name, "instance named")
            }
        };
        // Instance ids and Name tags are case-sensitive.
        let (name, what) = selector;
        let key = format!("{what} {}", name.value);
        if let Some((first, pos)) = seen.get(&key) {
            let message = format!(
                "{what} `{}` is declared twice: first at {}",
                name.value,
                location(first, *pos)
            );
            self.error(doc, name.pos, message);
        } else {
            seen.insert(key, (doc, name.pos));
        }
    }

    /// Profile roles and instance profiles: declared here (spelt exactly as
    /// declared: rolecall looks names up as written), or a warning that the
    /// account must already hold them; a profile's role must trust EC2.
    /// Names that are not valid IAM names were reported already.
    fn references(&mut self, roles: &Seen<'a>, profiles: &Seen<'a>) {
        let mut role_names = Vec::new();
        let mut profile_names = Vec::new();
        for doc in self.documents {
            match &doc.decl {
                Decl::Role(role) => role_names.push(role.name.value.as_str()),
                Decl::Profile(profile) => profile_names.push(profile.name.value.as_str()),
                _ => {}
            }
        }
        let mut ec2_checked = HashSet::new();
        let documents = self.documents;
        for doc in documents {
            match &doc.decl {
                Decl::Profile(profile) => {
                    let Some(role) = &profile.role else { continue };
                    if name_problem(&role.value, MAX_ROLE_NAME).is_some() {
                        continue;
                    }
                    match roles.get(&folded(&role.value)) {
                        None => self.not_declared(doc, role, "role", &role_names),
                        Some(declared @ (role_doc, declared_name)) => {
                            if declared_name.value != role.value {
                                self.misspelt(doc, role, "role", "role: ", declared);
                            }
                            if ec2_checked.insert(folded(&role.value)) {
                                self.trusts_ec2(role_doc, doc, profile);
                            }
                        }
                    }
                }
                Decl::Instance(instance) => {
                    let Some(name) = &instance.profile.value else {
                        continue;
                    };
                    if name_problem(name, MAX_PROFILE_NAME).is_some() {
                        continue;
                    }
                    let reference = At {
                        value: name.clone(),
                        pos: instance.profile.pos,
                    };
                    match profiles.get(&folded(name)) {
                        None => {
                            self.not_declared(doc, &reference, "instance profile", &profile_names)
                        }
                        Some(declared @ (_, declared_name)) => {
                            if declared_name.value != *name {
                                let what = "instance profile";
                                self.misspelt(doc, &reference, what, "profile: ", declared);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A reference that names a declared resource in another case: IAM would
    /// find it, but rolecall sends names as written and plans by exact name.
    fn misspelt(
        &mut self,
        doc: &Document,
        reference: &At<String>,
        what: &str,
        field: &str,
        (declared_doc, declared): &(&Document, &At<String>),
    ) {
        let message = format!(
            "{what} `{}` is declared as `{}` at {}; names must match exactly",
            reference.value,
            declared.value,
            location(declared_doc, declared.pos)
        );
        let help = format!("write `{field}{}`", declared.value);
        self.error_with_help(doc, reference.pos, message, help);
    }

    fn not_declared(&mut self, doc: &Document, name: &At<String>, what: &str, declared: &[&str]) {
        // A document that could not be read may be where it is declared.
        let or_unread = if self.some_unread {
            ", or is declared in a document that could not be read"
        } else {
            ""
        };
        let mut diagnostic = Diagnostic::warning(
            Some(location(doc, name.pos)),
            format!(
                "{what} `{}` is not declared here: must already exist in the account{or_unread}",
                name.value
            ),
        );
        // Only worth scanning for a typo among a handful of names.
        if declared.len() <= 1000
            && let Some(help) = did_you_mean(&name.value, declared)
        {
            diagnostic = diagnostic.with_help(help);
        }
        self.diagnostics.push(diagnostic);
    }

    fn trusts_ec2(&mut self, role_doc: &Document, profile_doc: &Document, profile: &ProfileDecl) {
        let Decl::Role(role) = &role_doc.decl else {
            return;
        };
        let Some(trust) = &role.trust else { return };
        if trust.value.document.trusts_service("ec2.amazonaws.com") {
            return;
        }
        let profile_at = profile.role.as_ref().map_or(profile.name.pos, |r| r.pos);
        let message = format!(
            "role `{}` is held by instance profile `{}` ({}) but does not trust ec2.amazonaws.com with sts:AssumeRole: instances would get no credentials",
            role.name.value,
            profile.name.value,
            location(profile_doc, profile_at)
        );
        self.error_with_help(
            role_doc,
            trust.pos,
            message,
            "let EC2 assume the role: `trust: ec2` (or a list such as `trust: [ec2, lambda]`)"
                .into(),
        );
    }

    fn name(&mut self, doc: &Document, name: &str, pos: Pos, what: &str, max: usize) {
        if let Some(problem) = name_problem(name, max) {
            self.error(doc, pos, format!("{what} {problem}"));
        }
    }

    fn path(&mut self, doc: &Document, path: &At<String>) {
        let value = &path.value;
        let length = value.chars().count();
        let problem = if length > MAX_PATH {
            Some(format!(
                "is {length} characters long; IAM allows at most {MAX_PATH}"
            ))
        } else if !value.starts_with('/') || !value.ends_with('/') {
            Some(format!(
                "`{value}` must begin and end with `/`, e.g. `/apps/`"
            ))
        } else {
            value
                .chars()
                .find(|c| !('\u{21}'..='\u{7e}').contains(c))
                .map(|c| {
                    format!(
                        "`{value}` contains {}; only printable ASCII without spaces is allowed",
                        show(c)
                    )
                })
        };
        if let Some(problem) = problem {
            self.error(doc, path.pos, format!("path {problem}"));
        }
    }

    fn description(&mut self, doc: &Document, description: &At<String>) {
        let length = description.value.chars().count();
        if length > MAX_DESCRIPTION {
            self.error(
                doc,
                description.pos,
                format!(
                    "description is {length} characters long; IAM allows at most {MAX_DESCRIPTION}"
                ),
            );
        } else if let Some(c) = description.value.chars().find(|c| !is_description_char(*c)) {
            self.error(
                doc,
                description.pos,
                format!(
                    "description contains {}, which IAM does not accept",
                    show(c)
                ),
            );
        }
    }

    fn arn(&mut self, doc: &Document, arn: &At<String>, what: &str) {
        if !is_policy_arn(&arn.value) {
            self.error_with_help(
                doc,
                arn.pos,
                format!("{what} `{}` is not a well-formed policy ARN", arn.value),
                "expected `arn:aws:iam::aws:policy/NAME` (AWS managed) or `arn:aws:iam::123456789012:policy/NAME`".into(),
            );
            return;
        }
        // AWS-managed policies are known; customer-managed ones only to the account.
        match aws_policy(&arn.value) {
            None | Some(AwsPolicy::Attachable) => {}
            Some(AwsPolicy::Unknown) => {
                let help = match aws_policies::closest(&arn.value) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => format!(
                        "rolecall knows the AWS-managed policies as of {}",
                        aws_policies::list_date()
                    ),
                };
                let message = format!(
                    "{what} `{}` does not exist: AWS has no managed policy of that path and name",
                    arn.value
                );
                self.error_with_help(doc, arn.pos, message, help);
            }
            Some(AwsPolicy::ServiceRole) => {
                let message = format!(
                    "{what} `{}` is a service-linked role's policy: IAM refuses it on any other role (PolicyNotAttachable)",
                    arn.value
                );
                let help = format!(
                    "the policies under `{SERVICE_ROLE_PATH}` are for the roles AWS services create for themselves"
                );
                self.error_with_help(doc, arn.pos, message, help);
            }
        }
    }

    fn managed(&mut self, doc: &Document, managed: &At<Vec<At<String>>>) {
        if managed.value.len() > MAX_MANAGED_POLICIES {
            self.error(
                doc,
                managed.pos,
                format!(
                    "{} managed policies: AWS allows at most {MAX_MANAGED_POLICIES} per role (quota PoliciesPerRole)",
                    managed.value.len()
                ),
            );
        }
        // By the policy each entry stands for: a declared policy may be
        // listed by name and by ARN.
        let mut seen: HashMap<String, &At<String>> = HashMap::new();
        for entry in &managed.value {
            let declared = if entry.value.starts_with("arn:") {
                self.arn(doc, entry, "managed policy");
                self.declared_arn(doc, entry, "managed policy")
            } else {
                self.policy_name(doc, entry)
            };
            let same = match declared {
                Some(policy) => format!("policy/{}", policy.name.value.to_lowercase()),
                None => entry.value.clone(),
            };
            match (seen.get(&same), declared) {
                (None, _) => {
                    seen.insert(same, entry);
                }
                (Some(first), Some(policy)) if first.value != entry.value => {
                    let message = format!(
                        "managed policy `{}` is listed twice: first as `{}` at line {} (both are the ManagedPolicy `{}`)",
                        entry.value, first.value, first.pos.line, policy.name.value
                    );
                    self.error(doc, entry.pos, message);
                }
                (Some(first), _) => {
                    let message = format!(
                        "managed policy `{}` is listed twice: first at line {}",
                        entry.value, first.pos.line
                    );
                    self.error(doc, entry.pos, message);
                }
            }
        }
    }

    /// A `managed_policies` entry that is not an ARN: the name of a
    /// ManagedPolicy of the manifests, spelt as declared. The declaration
    /// it names, if it names one.
    fn policy_name(&mut self, doc: &Document, entry: &At<String>) -> Option<&'a PolicyDeclaration> {
        let Some(&(declared_doc, policy)) = self.policies.get(&folded(&entry.value)) else {
            self.undeclared_policy(doc, entry);
            return None;
        };
        if policy.name.value != entry.value {
            self.misspelt(
                doc,
                entry,
                "managed policy",
                "- ",
                &(declared_doc, &policy.name),
            );
        }
        Some(policy)
    }

    fn undeclared_policy(&mut self, doc: &Document, entry: &At<String>) {
        // A document that could not be read may be where it is declared.
        let or_unread = if self.some_unread {
            " (unless in a document that could not be read)"
        } else {
            ""
        };
        let message = format!(
            "managed policy `{}` is not declared{or_unread}: a `managed_policies` entry that is not an ARN names a `kind: ManagedPolicy` of the manifests",
            entry.value
        );
        let partition = self.partition.unwrap_or(DEFAULT_PARTITION);
        let aws_managed = aws_policies::closest(&format!(
            "{}/{}",
            aws_policies::AWS_POLICY_PREFIX,
            entry.value
        ))
        .filter(|arn| arn.rsplit('/').next() == Some(entry.value.as_str()));
        // Only worth scanning for a typo among a handful of names.
        let typo = (self.policy_names.len() <= 1000)
            .then(|| did_you_mean(&entry.value, self.policy_names))
            .flatten();
        let help = match (typo, aws_managed) {
            (Some(typo), _) => typo,
            (None, Some(arn)) => format!(
                "did you mean the AWS-managed policy `{}`?",
                arn.replacen("arn:aws:", &format!("arn:{partition}:"), 1)
            ),
            (None, None) => {
                "declare it (`kind: ManagedPolicy`), or give the ARN of a policy the account holds"
                    .into()
            }
        };
        self.error_with_help(doc, entry.pos, message, help);
    }

    /// A policy ARN of the stack's own account (`Stack.account_id`) whose
    /// name is a declared ManagedPolicy's: it must be that policy's ARN,
    /// path and partition included, since IAM's policy names are unique in
    /// an account ignoring case. The declaration, when it is.
    fn declared_arn(
        &mut self,
        doc: &Document,
        arn: &At<String>,
        what: &str,
    ) -> Option<&'a PolicyDeclaration> {
        let account = self.account_id?;
        if !is_policy_arn(&arn.value) {
            return None;
        }
        let parsed = PolicyArn::parse(&arn.value)?;
        if parsed.account != account {
            return None;
        }
        let &(declared_doc, policy) = self.policies.get(&folded(parsed.name))?;
        let partition = self.partition.unwrap_or(parsed.partition);
        let path = policy.path.as_ref().map_or("/", |p| p.value.as_str());
        let expected = policy_arn(partition, account, path, &policy.name.value);
        if arn.value == expected {
            return Some(policy);
        }
        let message = format!(
            "{what} `{}` names the ManagedPolicy `{}` of this account, declared at {}, whose ARN is `{expected}`",
            arn.value,
            policy.name.value,
            location(declared_doc, policy.name.pos)
        );
        let help = match what {
            "managed policy" => format!(
                "write `{expected}`, or the policy's name, `{}`",
                policy.name.value
            ),
            _ => format!("write `{expected}`"),
        };
        self.error_with_help(doc, arn.pos, message, help);
        None
    }

    /// A permissions boundary: a policy ARN (a declared ManagedPolicy is
    /// named by its ARN too: IAM takes only an ARN here).
    fn boundary(&mut self, doc: &Document, boundary: &At<String>) {
        let what = "permissions boundary";
        if !boundary.value.starts_with("arn:")
            && let Some(&(declared_doc, policy)) = self.policies.get(&folded(&boundary.value))
        {
            let path = policy.path.as_ref().map_or("/", |p| p.value.as_str());
            let partition = self.partition.unwrap_or(DEFAULT_PARTITION);
            let arn = policy_arn(
                partition,
                self.account_id.unwrap_or("ACCOUNT"),
                path,
                &policy.name.value,
            );
            let message = format!(
                "{what} `{}` is the name of the ManagedPolicy declared at {}; a boundary is given by its ARN",
                boundary.value,
                location(declared_doc, policy.name.pos)
            );
            let help = match self.account_id {
                Some(_) => format!("write `{arn}`"),
                None => format!(
                    "write `{arn}` with the account's id, and set the Stack's `account_id` so that rolecall knows it is this policy"
                ),
            };
            self.error_with_help(doc, boundary.pos, message, help);
            return;
        }
        self.arn(doc, boundary, what);
        self.declared_arn(doc, boundary, what);
    }

    fn inline(&mut self, doc: &Document, role: &str, inline: &InlineDecl) {
        let mut total = 0;
        // YAML sees `1:` and `"1":` as different keys; IAM sees one name.
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for (name, document) in &inline.value {
            self.name(
                doc,
                &name.value,
                name.pos,
                "inline policy name",
                MAX_POLICY_NAME,
            );
            if let Some(first) = seen.get(name.value.as_str()) {
                let message = format!(
                    "inline policy `{}` is declared twice in role `{role}`: first at {}",
                    name.value,
                    location(doc, *first)
                );
                self.error(doc, name.pos, message);
            } else {
                seen.insert(&name.value, name.pos);
            }
            let what = format!("inline policy `{}`", name.value);
            if let Some(problem) = document.value.document.grammar_problem(false) {
                let message = malformed(&what, &document.value, &problem);
                self.error(doc, document.pos, message);
            }
            let text = document.value.document.sent_text();
            self.characters(doc, document.pos, &what, text.refused_character);
            total += text.quota_size;
        }
        if total > MAX_INLINE_SIZE {
            self.error(
                doc,
                inline.pos,
                format!(
                    "inline policies of role `{role}` total {total} characters (whitespace not counted); AWS allows at most 10,240 per role"
                ),
            );
        }
    }

    /// A resource's own tags (`keys` as its kind compares them), then their
    /// count once the stack's are merged under them, reported at its tags
    /// or, with none of its own, at `name_pos`.
    fn resource_tags(
        &mut self,
        doc: &Document,
        tags: &Option<TagsDecl>,
        keys: TagKeys,
        name_pos: Pos,
        what: &str,
    ) {
        self.tags(doc, tags, keys);
        let own = pairs(tags);
        let ignore_case = matches!(keys, TagKeys::IgnoreCase { .. });
        let merged = merged_count(self.stack_tags, &own, ignore_case);
        let pos = tags.as_ref().map_or(name_pos, |t| t.pos);
        self.tag_count(doc, pos, what, merged, merged - own.len());
    }

    fn tags(&mut self, doc: &Document, tags: &Option<TagsDecl>, keys: TagKeys) {
        let Some(tags) = tags else { return };
        // By key, lower-cased when keys ignore case. YAML sees `1:` and `"1":`
        // as different keys; AWS sees one.
        let mut seen: HashMap<String, &At<String>> = HashMap::new();
        for tag in &tags.value {
            let key = &tag.key.value;
            let lower = key.to_lowercase();
            if lower.starts_with("aws:") {
                self.error(
                    doc,
                    tag.key.pos,
                    format!("tag key `{key}` is reserved: keys may not begin with `aws:`"),
                );
            } else if lower.starts_with(RESERVED_TAG_PREFIX) {
                self.error(
                    doc,
                    tag.key.pos,
                    format!(
                        "tag key `{key}` is reserved: rolecall keeps `{RESERVED_TAG_PREFIX}` for its ownership tags ({TAG_STACK}, {TAG_SPEC})"
                    ),
                );
            } else if key.is_empty() {
                self.error(doc, tag.key.pos, "tag key is empty");
            } else if let Some(problem) = tag_text_problem(key, MAX_TAG_KEY, "tag key") {
                self.error(doc, tag.key.pos, problem);
            }
            if let Some(problem) = tag_text_problem(&tag.value.value, MAX_TAG_VALUE, "tag value") {
                self.error(doc, tag.value.pos, problem);
            }
            let seen_as = match keys {
                TagKeys::Exact => key.clone(),
                TagKeys::IgnoreCase { .. } => lower,
            };
            match (seen.get(&seen_as), keys) {
                (None, _) => {
                    seen.insert(seen_as, &tag.key);
                }
                (Some(first), TagKeys::IgnoreCase { why }) if first.value != *key => {
                    let message = format!(
                        "tag key `{key}` repeats `{}` of line {} ({why})",
                        first.value, first.pos.line
                    );
                    self.error(doc, tag.key.pos, message);
                }
                (Some(first), _) => {
                    let message = format!(
                        "tag key `{key}` is declared twice: first at {}",
                        location(doc, first.pos)
                    );
                    self.error(doc, tag.key.pos, message);
                }
            }
        }
    }

    /// `what` says whose tags these are; `merged`, whether the stack's tags were merged in.
    /// `count` tags in all, `from_stack` of them the stack's.
    fn tag_count(&mut self, doc: &Document, pos: Pos, what: &str, count: usize, from_stack: usize) {
        if count > MAX_USER_TAGS {
            let merged = match from_stack {
                0 => String::new(),
                n => format!(" ({n} from the stack)"),
            };
            self.error(
                doc,
                pos,
                format!(
                    "{what} has {count} tags{merged}: AWS allows {MAX_TAGS} and rolecall adds {OWNERSHIP_TAG_COUNT} ownership tags ({TAG_STACK}, {TAG_SPEC}), so at most {MAX_USER_TAGS}"
                ),
            );
        }
    }
}

/// How the tag keys of a resource compare: IAM ignores case for role tag keys.
#[derive(Debug, Clone, Copy)]
enum TagKeys {
    Exact,
    IgnoreCase { why: &'static str },
}

fn location(doc: &Document, pos: Pos) -> Location {
    diagnostic::location(&doc.file, pos)
}

/// A character as the user would want to see it in a message.
fn show(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("{:?}", c)
    } else {
        format!("`{c}`")
    }
}

/// IAM names: `[\w+=,.@-]{1,max}`, `\w` being ASCII.
fn name_problem(name: &str, max: usize) -> Option<String> {
    let length = name.chars().count();
    if length == 0 {
        return Some("is empty".into());
    }
    if length > max {
        return Some(format!(
            "`{name}` is {length} characters long; IAM allows at most {max}"
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
        .map(|c| {
            format!(
                "`{name}` contains {}; IAM allows only letters, digits and `_+=,.@-`",
                show(c)
            )
        })
}

/// Tag keys and values: letters, digits, spaces and `_ . : / = + - @`.
/// `what` names the text in the message, e.g. "tag key `team`"; long texts
/// are not repeated in the message.
fn tag_text_problem(text: &str, max: usize, what: &str) -> Option<String> {
    let length = text.chars().count();
    if length > max {
        return Some(format!(
            "{what} is {length} characters long; AWS allows at most {max}"
        ));
    }
    text.chars().find(|c| !is_tag_char(*c)).map(|c| {
        format!(
            "{what} `{text}` contains {}; tags allow letters, digits, spaces and `_ . : / = + - @`",
            show(c)
        )
    })
}

fn is_tag_char(c: char) -> bool {
    // \p{L} \p{N} \p{Z}: Unicode letters, numbers and separators (not tabs or newlines).
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

fn is_description_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}')
}

/// `arn:<partition>:iam::<12 digits or aws>:policy/<path and name>`.
fn is_policy_arn(arn: &str) -> bool {
    let Some([partition, "iam", "", account, resource]) = rolecall_model::arn::fields(arn) else {
        return false;
    };
    let partition_ok = !partition.is_empty()
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let account_ok = account == "aws" || rolecall_model::is_account_id(account);
    let name_ok = resource
        .strip_prefix("policy/")
        .and_then(|rest| rest.rsplit('/').next())
        .is_some_and(|name| name_problem(name, MAX_POLICY_NAME).is_none());
    partition_ok && account_ok && name_ok && (20..=2048).contains(&arn.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The declarations of one manifest file's text.
    fn documents(text: &str) -> Vec<Document> {
        let parsed = crate::manifest::raw::parse_file(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let mut diagnostics = Vec::new();
        let mut ctx = crate::manifest::convert::Ctx::new(
            std::sync::Arc::from("stack.yaml"),
            std::path::Path::new(""),
            std::path::Path::new(""),
            &mut diagnostics,
        );
        (parsed.documents.iter())
            .filter_map(|document| crate::manifest::convert::document(document, &mut ctx))
            .collect()
    }

    /// A document's own checks run on every core beside the checks
    /// across documents: the findings are those of one pass, in its
    /// order (a document's name twice, then its own problems; references
    /// last), whatever the thread that found them.
    #[test]
    fn checks_on_several_threads_find_what_one_pass_finds_in_its_order() {
        let mut text = String::new();
        for n in 0..400 {
            // Every third role declared twice, with a bad path each time;
            // every fifth profile names an undeclared role in the wrong
            // case; instances by a name shaped like an id, now and then.
            let name = format!("role-{}", n - n % 3);
            text.push_str(&format!(
                "kind: Role\nname: {name}\npath: bad{n}\ntrust: ec2\n---\n\
                 kind: InstanceProfile\nname: profile-{n}\nrole: {}\npath: /x{n}\n---\n\
                 kind: Instance\nname: {}\nprofile: profile-{n}\n---\n",
                if n % 5 == 0 {
                    name.to_uppercase()
                } else {
                    name.clone()
                },
                if n % 7 == 0 {
                    format!("i-{n:08x}")
                } else {
                    format!("web-{n}")
                },
            ));
        }
        // A name declared twice and malformed: both findings at one place,
        // the one across documents first, as one pass gave them.
        text.push_str("kind: Role\nname: bad name!\ntrust: ec2\n---\n");
        text.push_str("kind: Role\nname: bad name!\ntrust: ec2\n---\n");
        let documents = documents(&text);
        let found = |worth_a_thread| {
            let mut diagnostics = Vec::new();
            check_with(&documents, false, &mut diagnostics, worth_a_thread);
            diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        let one_pass = found(usize::MAX);
        assert!(one_pass.len() > 800, "{}", one_pass.len());
        assert_eq!(found(10), one_pass);
        let twice = (one_pass.iter())
            .position(|found| found.contains("`bad name!` is declared twice"))
            .expect("the name declared twice");
        assert!(
            one_pass[twice + 1].contains("`bad name!` contains ' '"),
            "{:#?}",
            &one_pass[twice..]
        );
    }

    #[test]
    fn policy_arns() {
        assert!(is_policy_arn(
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        ));
        assert!(is_policy_arn(
            "arn:aws:iam::aws:policy/service-role/AmazonSSMRoleForInstancesQuickSetup"
        ));
        assert!(is_policy_arn(
            "arn:aws-cn:iam::123456789012:policy/team/Boundary"
        ));
        assert!(!is_policy_arn("arn:aws:iam:aws:policy/X"));
        assert!(!is_policy_arn("arn:aws:iam::12345:policy/X"));
        assert!(!is_policy_arn("arn:aws:iam::aws:role/X"));
        assert!(!is_policy_arn("arn:aws:iam::aws:policy/"));
        assert!(!is_policy_arn("AmazonS3ReadOnlyAccess"));
    }

    #[test]
    fn instance_ids() {
        assert!(is_instance_id("i-0123456789abcdef0"));
        assert!(is_instance_id("i-01234567"));
        assert!(!is_instance_id("i-0123456789ABCDEF0"));
        assert!(!is_instance_id("i-0123"));
        assert!(!is_instance_id("0123456789abcdef0"));
    }

    #[test]
    fn names_and_tag_text() {
        assert_eq!(name_problem("web-server", 64), None);
        assert_eq!(
            name_problem("web server", 64).as_deref(),
            Some("`web server` contains ' '; IAM allows only letters, digits and `_+=,.@-`")
        );
        assert_eq!(tag_text_problem("Équipe web: 1/2", 128, "tag key"), None);
        assert!(tag_text_problem("a#b", 128, "tag key").is_some());
        assert!(tag_text_problem("a\tb", 128, "tag key").is_some());
    }
}
