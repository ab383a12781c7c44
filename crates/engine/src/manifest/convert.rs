//! From positioned YAML trees to typed declarations, one document at a time.
//!
//! This step checks shape only: the `kind`, known fields (unknown ones get a
//! "did you mean"), value types (a field that wants text takes an unquoted
//! number or boolean as written), required fields, the trust shorthand, and
//! policy documents given inline, as JSON text or as `{file: path}`. Every
//! problem is reported and conversion carries on, so one run shows them all.
//! Value rules (lengths, patterns, quotas, references) live in `validate`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use foldhash::{HashSet, HashSetExt};

use serde_json::Value as Json;

use super::diagnostic::{self, Diagnostic};
use super::files;
use super::limits::{SESSION_RANGE, session_out_of_range};
use super::raw::{self, Node, Pos, Value};
use rolecall_model::policy::Rules;
use rolecall_model::{Location, PolicyDocument};

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub pos: Pos,
}

/// One tag as written.
#[derive(Debug, Clone, PartialEq)]
pub struct TagDecl {
    pub key: At<String>,
    pub value: At<String>,
}

/// Tags as written, with the position of the `tags` mapping itself.
pub type TagsDecl = At<Vec<TagDecl>>;

/// Inline policies by name, in manifest order, with the position of the mapping.
pub type InlineDecl = At<Vec<(At<String>, At<PolicyDecl>)>>;

/// A policy document, and the file it was read from when it came from
/// `{file: ...}` (as the user named it, joined to the manifest's directory).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDecl {
    pub document: PolicyDocument,
    /// Problems with a document read from a file are told without quoting
    /// it: the file may not be a policy at all, but credentials.
    pub file: Option<String>,
}

impl PolicyDecl {
    fn inline(document: PolicyDocument) -> Self {
        PolicyDecl {
            document,
            file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackDecl {
    pub name: Option<At<String>>,
    pub account_id: Option<At<String>>,
    pub partition: Option<At<String>>,
    /// Lint: every role an instance profile holds must have a boundary.
    pub require_permissions_boundary: Option<At<bool>>,
    pub tags: Option<TagsDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleDecl {
    pub name: At<String>,
    pub path: Option<At<String>>,
    pub description: Option<At<String>>,
    /// `None` only after an error was reported.
    pub trust: Option<At<PolicyDecl>>,
    pub max_session_duration: Option<At<i128>>,
    pub permissions_boundary: Option<At<String>>,
    pub managed_policies: Option<At<Vec<At<String>>>>,
    /// Name and document, in manifest order.
    pub inline_policies: Option<InlineDecl>,
    pub tags: Option<TagsDecl>,
    /// Lint rules silenced for this role: rule id and the reason.
    pub lint_ignore: Vec<(At<String>, At<String>)>,
}

/// A customer-managed policy (`kind: ManagedPolicy`).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDeclaration {
    pub name: At<String>,
    pub path: Option<At<String>>,
    pub description: Option<At<String>>,
    /// `None` only after an error was reported.
    pub document: Option<At<PolicyDecl>>,
    pub tags: Option<TagsDecl>,
    /// Lint rules silenced for this policy: rule id and the reason.
    pub lint_ignore: Vec<(At<String>, At<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileDecl {
    pub name: At<String>,
    pub path: Option<At<String>>,
    pub role: Option<At<String>>,
    pub tags: Option<TagsDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InstanceDecl {
    pub id: Option<At<String>>,
    pub name: Option<At<String>>,
    /// `value: None` is `profile: null`: the instance must have none.
    pub profile: At<Option<String>>,
    /// Where the document starts, for errors about the whole instance.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decl {
    Stack(StackDecl),
    // Boxed: a role is much larger than the other declarations.
    Role(Box<RoleDecl>),
    Policy(Box<PolicyDeclaration>),
    Profile(ProfileDecl),
    Instance(InstanceDecl),
}

/// A declaration and the file it came from (the path as the user gave it).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub file: Arc<str>,
    /// Where the document's mapping starts.
    pub pos: Pos,
    pub decl: Decl,
}

/// The kinds and their fields. `schema` describes the same fields; a test keeps them in step.
pub const KINDS: &[&str] = &[
    "Stack",
    "Role",
    "ManagedPolicy",
    "InstanceProfile",
    "Instance",
];
pub const STACK_FIELDS: &[&str] = &[
    "kind",
    "name",
    "account_id",
    "partition",
    "require_permissions_boundary",
    "tags",
];
pub const ROLE_FIELDS: &[&str] = &[
    "kind",
    "name",
    "path",
    "description",
    "trust",
    "max_session_duration",
    "permissions_boundary",
    "managed_policies",
    "inline_policies",
    "tags",
    "lint_ignore",
];
pub const POLICY_FIELDS: &[&str] = &[
    "kind",
    "name",
    "path",
    "description",
    "document",
    "tags",
    "lint_ignore",
];
pub const PROFILE_FIELDS: &[&str] = &["kind", "name", "path", "role", "tags"];
pub const INSTANCE_FIELDS: &[&str] = &["kind", "id", "name", "profile"];

/// Shorthand service names for `trust`, and the principal each stands for.
const SERVICE_SHORTHANDS: &[(&str, &str)] = &[
    ("ec2", "ec2.amazonaws.com"),
    ("lambda", "lambda.amazonaws.com"),
    ("ecs-tasks", "ecs-tasks.amazonaws.com"),
];

/// Where diagnostics go, what relative `{file: ...}` paths are relative to,
/// and the directory such files must lie in.
pub struct Ctx<'a> {
    pub file: Arc<str>,
    pub dir: &'a Path,
    /// Canonical: symlinks followed.
    pub root: &'a Path,
    pub diagnostics: &'a mut Vec<Diagnostic>,
    /// Trust documents already built for a list of services: most roles of a
    /// stack say `trust: ec2`, and building the document each time is most of
    /// converting a role.
    pub trust_cache: HashMap<Vec<String>, PolicyDocument>,
    /// Every policy document of the file so far, one of each text: the
    /// roles of a stack mostly hold the same trust policy written out in
    /// full, which is then held, checked and serialised once.
    documents: HashSet<ByText>,
    /// The document being converted, for the text of its unquoted scalars.
    document: Option<&'a raw::Document<'a>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        file: Arc<str>,
        dir: &'a Path,
        root: &'a Path,
        diagnostics: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Ctx {
            file,
            dir,
            root,
            diagnostics,
            trust_cache: HashMap::new(),
            documents: HashSet::new(),
            document: None,
        }
    }

    /// How a plain boolean or number was written (`0x1F`, `1.10`), where it has a position.
    fn source(&self, node: &Node) -> Option<&'a str> {
        self.document?.source(node)
    }

    /// A boolean or number as text: as written when plain (`0x1F`, `1.10`);
    /// quoted or tagged (`!!int "0x1F"`), as it reads (`31`). `None` deep in a
    /// document, where nothing tells how it was written.
    fn scalar_text(&self, node: &Node) -> Option<String> {
        if let Some(written) = self.source(node) {
            return Some(written.to_string());
        }
        match node.value {
            _ if !node.has_span() => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            // `3600.0`, not `3600`: it reads as a fraction.
            Value::Float(f) => Some(format!("{f:?}")),
            _ => None,
        }
    }

    /// A scalar as written, for messages: "`3600.0`", "the text `one hour`";
    /// other values, and text too long or not on one line, by their type.
    fn found(&self, node: &Node) -> String {
        const LONGEST_SHOWN: usize = 64;
        let shown = match &node.value {
            Value::String(text) => Some(format!("the text `{text}`")),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                self.scalar_text(node).map(|text| format!("`{text}`"))
            }
            _ => None,
        };
        shown
            .filter(|shown| {
                shown.chars().count() <= LONGEST_SHOWN && !shown.contains(char::is_control)
            })
            .unwrap_or_else(|| node.value.describe().to_string())
    }

    /// The file's earlier document of the same text as `document`, or `document`.
    fn share(&mut self, document: PolicyDocument) -> PolicyDocument {
        let document = ByText(document);
        if let Some(earlier) = self.documents.get(&document) {
            return earlier.0.clone();
        }
        self.documents.insert(ByText(document.0.clone()));
        document.0
    }

    fn trusting(&mut self, services: Vec<String>) -> PolicyDocument {
        self.trust_cache
            .entry(services)
            .or_insert_with_key(|services| PolicyDocument::trusting_services(services))
            .clone()
    }

    pub fn location(&self, pos: Pos) -> Option<Location> {
        Some(diagnostic::location(&self.file, pos))
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Diagnostic::error(self.location(pos), message));
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// "`what` must be `expected`, found ..." at the node.
    fn mismatch(&mut self, node: &Node, what: &str, expected: &str) {
        let found = self.found(node);
        self.error(
            node.pos,
            format!("{what} must be {expected}, found {found}"),
        );
    }
}

/// Converts one YAML document; `None` when it cannot be used (errors reported).
pub fn document<'a>(document: &'a raw::Document<'a>, ctx: &mut Ctx<'a>) -> Option<Document> {
    ctx.document = Some(document);
    let node = &document.root;
    let Value::Map(entries) = &node.value else {
        ctx.push(
            Diagnostic::error(
                ctx.location(node.pos),
                format!(
                    "a manifest document must be a mapping with a `kind`, found {}",
                    node.value.describe()
                ),
            )
            .with_help(kinds_help()),
        );
        return None;
    };
    let fields = Fields::new(entries, ctx);
    let kind_node = fields.get("kind");
    let Some(kind_node) = kind_node else {
        // `Kind: Role` or `kidn: Role`: point at the misspelt key.
        let misspelt = fields.entries.iter().find_map(|(name, key, _)| {
            did_you_mean(name, &["kind"]).map(|suggestion| (name, key, suggestion))
        });
        let diagnostic = match misspelt {
            Some((name, key, mut help)) => {
                if name.eq_ignore_ascii_case("kind") {
                    help.push_str(" field names are lower case");
                }
                Diagnostic::error(
                    ctx.location(key.pos),
                    format!("document has no `kind`, but a field `{name}`"),
                )
                .with_help(help)
            }
            None => Diagnostic::error(ctx.location(node.pos), "document has no `kind`")
                .with_help(kinds_help()),
        };
        ctx.push(diagnostic);
        return None;
    };
    let Value::String(kind) = &kind_node.value else {
        ctx.mismatch(kind_node, "`kind`", "a string");
        return None;
    };
    let decl = match kind.as_str() {
        "Stack" => {
            fields.check_known(STACK_FIELDS, "Stack", ctx);
            Some(Decl::Stack(StackDecl {
                name: fields.string("name", ctx),
                account_id: fields.string("account_id", ctx),
                partition: fields.string("partition", ctx),
                require_permissions_boundary: fields.bool("require_permissions_boundary", ctx),
                tags: fields.tags(ctx),
            }))
        }
        "Role" => {
            fields.check_known(ROLE_FIELDS, "Role", ctx);
            role(&fields, node.pos, ctx).map(|role| Decl::Role(Box::new(role)))
        }
        "ManagedPolicy" => {
            fields.check_known(POLICY_FIELDS, "ManagedPolicy", ctx);
            managed_policy(&fields, node.pos, ctx).map(|policy| Decl::Policy(Box::new(policy)))
        }
        "InstanceProfile" => {
            fields.check_known(PROFILE_FIELDS, "InstanceProfile", ctx);
            let name = fields.required_string("name", "InstanceProfile", node.pos, ctx);
            let path = fields.string("path", ctx);
            let role = fields.string("role", ctx);
            let tags = fields.tags(ctx);
            name.map(|name| {
                Decl::Profile(ProfileDecl {
                    name,
                    path,
                    role,
                    tags,
                })
            })
        }
        "Instance" => {
            fields.check_known(INSTANCE_FIELDS, "Instance", ctx);
            instance(&fields, node.pos, ctx).map(Decl::Instance)
        }
        other => {
            let mut diagnostic = Diagnostic::error(
                ctx.location(kind_node.pos),
                format!("unknown kind `{other}`"),
            );
            diagnostic = match did_you_mean(other, KINDS) {
                Some(suggestion) => diagnostic.with_help(suggestion),
                None => diagnostic.with_help(kinds_help()),
            };
            ctx.push(diagnostic);
            None
        }
    }?;
    Some(Document {
        file: ctx.file.clone(),
        pos: node.pos,
        decl,
    })
}

fn kinds_help() -> String {
    "every document starts with `kind: Role`, `kind: ManagedPolicy`, `kind: InstanceProfile`, `kind: Instance` or `kind: Stack`".into()
}

fn role(fields: &Fields<'_>, pos: Pos, ctx: &mut Ctx<'_>) -> Option<RoleDecl> {
    let name = fields.required_string("name", "Role", pos, ctx);
    let trust = match fields.get("trust") {
        Some(node) => trust(node, ctx),
        None => {
            ctx.push(
                Diagnostic::error(ctx.location(pos), "Role has no `trust`")
                    .with_help("say who may assume the role, e.g. `trust: ec2`"),
            );
            None
        }
    };
    let max_session_duration = fields
        .get("max_session_duration")
        .and_then(|node| session_duration(node, ctx));
    let managed_policies = fields.get("managed_policies").and_then(|node| {
        let Value::Seq(items) = &node.value else {
            ctx.mismatch(
                node,
                "`managed_policies`",
                "a list of policy ARNs and ManagedPolicy names",
            );
            return None;
        };
        let arns = items
            .iter()
            .filter_map(|item| {
                scalar_string(
                    item,
                    "each entry of `managed_policies`",
                    "a policy ARN or a ManagedPolicy name",
                    ctx,
                )
            })
            .collect();
        Some(At {
            value: arns,
            pos: node.pos,
        })
    });
    let inline_policies = fields.get("inline_policies").and_then(|node| {
        let Value::Map(entries) = &node.value else {
            ctx.mismatch(
                node,
                "`inline_policies`",
                "a mapping of policy name to document",
            );
            return None;
        };
        let policies = entries
            .iter()
            .filter_map(|(key, value)| {
                let name = scalar_string(key, "an inline policy name", "a string", ctx)?;
                let what = format!("inline policy `{}`", name.value);
                let document = policy(value, &what, Some(Rules::Permissions), ctx)?;
                Some((name, document))
            })
            .collect();
        Some(At {
            value: policies,
            pos: node.pos,
        })
    });
    let lint_ignore = fields
        .get("lint_ignore")
        .map(|node| lint_ignore(node, ctx))
        .unwrap_or_default();
    Some(RoleDecl {
        lint_ignore,
        path: fields.string("path", ctx),
        description: fields.string("description", ctx),
        permissions_boundary: fields.string("permissions_boundary", ctx),
        tags: fields.tags(ctx),
        name: name?,
        trust,
        max_session_duration,
        managed_policies,
        inline_policies,
    })
}

/// `kind: ManagedPolicy`: a name and a document, which conversion reads as
/// a role's inline policies are read (mapping, JSON text, `{file:}`).
fn managed_policy(fields: &Fields<'_>, pos: Pos, ctx: &mut Ctx<'_>) -> Option<PolicyDeclaration> {
    let name = fields.required_string("name", "ManagedPolicy", pos, ctx);
    let document = match fields.get("document") {
        Some(node) => {
            let what = match &name {
                Some(name) => format!("managed policy `{}`", name.value),
                None => "the managed policy's document".to_string(),
            };
            policy(node, &what, Some(Rules::Managed), ctx)
        }
        None => {
            ctx.push(
                Diagnostic::error(ctx.location(pos), "ManagedPolicy has no `document`").with_help(
                    "give the policy's JSON document: a mapping, a JSON string or `{file: path}`",
                ),
            );
            None
        }
    };
    let lint_ignore = fields
        .get("lint_ignore")
        .map(|node| lint_ignore(node, ctx))
        .unwrap_or_default();
    Some(PolicyDeclaration {
        path: fields.string("path", ctx),
        description: fields.string("description", ctx),
        tags: fields.tags(ctx),
        name: name?,
        document,
        lint_ignore,
    })
}

/// `lint_ignore`: a mapping of lint rule id to the reason it is silenced.
fn lint_ignore(node: &Node, ctx: &mut Ctx<'_>) -> Vec<(At<String>, At<String>)> {
    let Value::Map(entries) = &node.value else {
        ctx.mismatch(
            node,
            "`lint_ignore`",
            "a mapping of lint rule to the reason it is silenced",
        );
        return Vec::new();
    };
    let known: Vec<&str> = crate::lint::RULES.iter().map(|rule| rule.id).collect();
    entries
        .iter()
        .filter_map(|(key, value)| {
            let rule = scalar_string(key, "a lint rule", "a string", ctx)?;
            if !known.contains(&rule.value.as_str()) {
                let help = did_you_mean(&rule.value, &known)
                    .unwrap_or_else(|| format!("the rules are {}", known.join(", ")));
                ctx.push(
                    Diagnostic::error(
                        ctx.location(rule.pos),
                        format!("unknown lint rule `{}` in `lint_ignore`", rule.value),
                    )
                    .with_help(help),
                );
                return None;
            }
            let what = format!("the reason for silencing `{}`", rule.value);
            let reason = scalar_string(value, &what, "a string", ctx)?;
            if reason.value.trim().is_empty() {
                ctx.push(
                    Diagnostic::error(ctx.location(value.pos), format!("{what} is empty"))
                        .with_help("say why the finding does not apply, for the next reader"),
                );
                return None;
            }
            Some((rule, reason))
        })
        .collect()
}

/// `max_session_duration`: a whole number of seconds. The range of an integer
/// is checked in `validate`.
fn session_duration(node: &Node, ctx: &mut Ctx<'_>) -> Option<At<i128>> {
    if let Value::Int(seconds) = node.value {
        return Some(At {
            value: seconds,
            pos: node.pos,
        });
    }
    let (start, end) = (*SESSION_RANGE.start(), *SESSION_RANGE.end());
    let found = ctx.found(node);
    let diagnostic = match &node.value {
        // Whole but out of range, such as a number too long for an integer
        // (`99999999999999999999` reads as a float): the range is the mistake.
        Value::Float(seconds)
            if seconds.fract() == 0.0 && !(start as f64..=end as f64).contains(seconds) =>
        {
            Diagnostic::error(ctx.location(node.pos), session_out_of_range(&found))
        }
        value => {
            let help = match value {
                // `3600.0` or `!!float 3600`
                Value::Float(seconds) if seconds.fract() == 0.0 => format!("write `{seconds:.0}`"),
                // `7_200`: a YAML 1.1 spelling, read as text here.
                Value::String(text)
                    if text.contains('_') && text.replace('_', "").parse::<u64>().is_ok() =>
                {
                    format!("write `{}`, without `_`", text.replace('_', ""))
                }
                _ => format!("IAM allows {start} to {end} seconds (1 to 12 hours)"),
            };
            Diagnostic::error(
                ctx.location(node.pos),
                format!("`max_session_duration` must be a whole number of seconds, found {found}"),
            )
            .with_help(help)
        }
    };
    ctx.push(diagnostic);
    None
}

fn instance(fields: &Fields<'_>, pos: Pos, ctx: &mut Ctx<'_>) -> Option<InstanceDecl> {
    let id = fields.string("id", ctx);
    let name = fields.string("name", ctx);
    let profile = match fields.get("profile") {
        Some(Node {
            value: Value::Null,
            pos,
            ..
        }) => Some(At {
            value: None,
            pos: *pos,
        }),
        Some(node) => scalar_string(node, "`profile`", "an instance profile name or null", ctx)
            .map(|name| At {
                value: Some(name.value),
                pos: name.pos,
            }),
        None => {
            ctx.push(
                Diagnostic::error(ctx.location(pos), "Instance has no `profile`")
                    .with_help("name its instance profile, or write `profile: null` for none"),
            );
            None
        }
    };
    Some(InstanceDecl {
        id,
        name,
        profile: profile?,
        pos,
    })
}

/// `trust`: a service shorthand, a list of them, or a full policy document.
fn trust(node: &Node, ctx: &mut Ctx<'_>) -> Option<At<PolicyDecl>> {
    let at = |document| {
        Some(At {
            value: PolicyDecl::inline(document),
            pos: node.pos,
        })
    };
    match &node.value {
        Value::String(text) if !text.trim_start().starts_with('{') => {
            let service = service(text, node.pos, ctx)?;
            at(ctx.trusting(vec![service]))
        }
        Value::Seq(items) => {
            if items.is_empty() {
                ctx.error(node.pos, "`trust` lists no service");
                return None;
            }
            let mut services = Vec::new();
            for item in items {
                match &item.value {
                    Value::String(text) => services.extend(service(text, item.pos, ctx)),
                    _ => ctx.mismatch(item, "each entry of `trust`", "a service name"),
                }
            }
            // Each entry that is not a service was reported above.
            if services.len() < items.len() {
                return None;
            }
            at(ctx.trusting(services))
        }
        // Kept as a tree: a file's roles share their trust policy, and
        // planning reads its principals role by role.
        _ => policy(node, "trust policy", None, ctx),
    }
}

/// A service name as the trust shorthand allows it, expanded to its principal.
fn service(text: &str, pos: Pos, ctx: &mut Ctx<'_>) -> Option<String> {
    if let Some((_, principal)) = SERVICE_SHORTHANDS.iter().find(|(short, _)| *short == text) {
        return Some((*principal).to_string());
    }
    let is_principal = text.strip_suffix(".amazonaws.com").is_some_and(|name| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    });
    if is_principal {
        return Some(text.to_string());
    }
    let shorthands: Vec<&str> = SERVICE_SHORTHANDS.iter().map(|(short, _)| *short).collect();
    let help = did_you_mean(text, &shorthands).unwrap_or_else(|| {
        format!("write `ec2`, `lambda`, `ecs-tasks`, a service principal such as `{text}.amazonaws.com`, or a full policy document")
    });
    ctx.push(
        Diagnostic::error(
            ctx.location(pos),
            format!("unknown service `{text}` in `trust`"),
        )
        .with_help(help),
    );
    None
}

/// A policy document: a mapping, a JSON string, or `{file: path}` (relative
/// to the manifest). Held as text only when `text_only` names the rules to
/// check it against first ([`PolicyDocument::into_checked_text`]): validation
/// then asks for the verdict, not for a tree that would be parsed again.
fn policy(
    node: &Node,
    what: &str,
    text_only: Option<Rules>,
    ctx: &mut Ctx<'_>,
) -> Option<At<PolicyDecl>> {
    let document = match &node.value {
        Value::String(text) => match PolicyDocument::parse(text) {
            Ok(document) => document,
            Err(e) => {
                ctx.error(
                    node.pos,
                    format!("{what} is not a JSON policy document: {e}"),
                );
                return None;
            }
        },
        Value::Map(entries)
            if entries
                .iter()
                .any(|(k, _)| key_text(k, ctx).as_deref() == Some("file")) =>
        {
            return policy_file(node, entries, what, text_only, ctx);
        }
        Value::Map(_) => PolicyDocument::from_value(to_json(node, node.pos, ctx)?),
        _ => {
            ctx.error(
                node.pos,
                format!(
                    "{what} must be a policy document (a mapping, a JSON string or `{{file: path}}`), found {}",
                    node.value.describe()
                ),
            );
            return None;
        }
    };
    Some(At {
        value: PolicyDecl::inline(ctx.share(held(document, text_only))),
        pos: node.pos,
    })
}

/// `document` as [`policy`] holds it: as its text, checked against
/// `text_only`'s rules first, or as its tree.
fn held(document: PolicyDocument, text_only: Option<Rules>) -> PolicyDocument {
    match text_only {
        Some(rules) => document.into_checked_text(rules),
        None => document,
    }
}

/// A policy document compared and hashed by its compact JSON text, and
/// shared only with one held alike: a trust policy stays a tree even when
/// an inline policy of the file has its text.
struct ByText(PolicyDocument);

impl PartialEq for ByText {
    fn eq(&self, other: &Self) -> bool {
        self.0.json_text() == other.0.json_text() && self.0.is_text_only() == other.0.is_text_only()
    }
}

impl Eq for ByText {}

impl std::hash::Hash for ByText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.json_text().hash(state);
    }
}

/// `{file: path}`: a JSON file inside the file root. Errors say what is wrong
/// with the file and where, never what it holds.
fn policy_file(
    node: &Node,
    entries: &[(Node, Node)],
    what: &str,
    text_only: Option<Rules>,
    ctx: &mut Ctx<'_>,
) -> Option<At<PolicyDecl>> {
    if entries.len() != 1 {
        ctx.error(
            node.pos,
            format!("{what}: `file` must be the only key when a policy comes from a file"),
        );
        return None;
    }
    // The path may sit too deep in the document to carry a place: report at the mapping.
    let (_, value) = &entries[0];
    let value = &Node {
        value: value.value.clone(),
        pos: node.pos,
        span: raw::Span::default(),
    };
    let relative = scalar_string(value, "`file`", "a path", ctx)?;
    if relative.value.is_empty() {
        ctx.push(
            Diagnostic::error(
                ctx.location(value.pos),
                format!("{what}: `file` is empty, not a regular file"),
            )
            .with_help("name a JSON file, relative to this manifest"),
        );
        return None;
    }
    let path = ctx.dir.join(&relative.value);
    let shown = path.display().to_string();
    // Read through the real path, the one found inside the root.
    let read = files::confine(&path, ctx.root)
        .and_then(|real| files::read_text(&real, files::MAX_POLICY_BYTES));
    let text = match read {
        Ok(text) => text,
        Err(e) => {
            let place = e.pos.map_or_else(String::new, |pos| {
                format!(" (line {}, column {})", pos.line, pos.column)
            });
            let mut diagnostic = Diagnostic::error(
                ctx.location(value.pos),
                format!("{what}: `{shown}`{place}: {}", e.message),
            );
            diagnostic.help = e.help;
            ctx.push(diagnostic);
            return None;
        }
    };
    match PolicyDocument::parse(&text) {
        Ok(document) => Some(At {
            value: PolicyDecl {
                document: held(document, text_only),
                file: Some(shown),
            },
            pos: value.pos,
        }),
        // serde_json's messages give the line and column, never the text.
        Err(e) => {
            ctx.error(
                value.pos,
                format!("{what}: `{shown}` is not a JSON policy document: {e}"),
            );
            None
        }
    }
}

/// A YAML policy document as JSON. Keys must be scalars; JSON has no
/// `.inf` or `.nan`. Problems are reported at `at`, the document's place
/// (nodes inside a document carry no position).
fn to_json(node: &Node, at: Pos, ctx: &mut Ctx<'_>) -> Option<Json> {
    Some(match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => match (i64::try_from(*i), u64::try_from(*i)) {
            (Ok(i), _) => Json::from(i),
            (_, Ok(u)) => Json::from(u),
            _ => Json::String(i.to_string()),
        },
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(number) => Json::Number(number),
            None => {
                ctx.error(
                    at,
                    "a policy document cannot hold `.inf` or `.nan`: quote the value to mean the text",
                );
                return None;
            }
        },
        Value::String(s) => Json::String(s.clone()),
        // Sized exactly: a stack's documents are held for the whole plan, and
        // canonical form keeps a list's room (it rebuilds maps, exactly).
        Value::Seq(items) => {
            let mut array = Vec::with_capacity(items.len());
            for item in items {
                array.push(to_json(item, at, ctx)?);
            }
            Json::Array(array)
        }
        Value::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let Some(key) = key_text(key, ctx) else {
                    ctx.error(at, "policy document keys must be strings");
                    return None;
                };
                map.insert(key, to_json(value, at, ctx)?);
            }
            Json::Object(map)
        }
    })
}

/// The text of a scalar key (`1: x` has the key "1"), as written where the
/// key has a position; `None` for collections and null.
fn key_text(node: &Node, ctx: &Ctx<'_>) -> Option<String> {
    if let Some(text) = ctx.source(node) {
        return Some(text.to_string());
    }
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // Deep in a document, `.inf` could only be misspelt as `inf`.
        Value::Float(f) if f.is_finite() => Some(f.to_string()),
        Value::Float(_) | Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

/// A string. A boolean or number written without quotes is taken as the
/// text it was written as (`0x1F`, `1.10`, `true`): the field wants text, and
/// reading `1.10` as a number first would make it `1.1`. One with a tag or
/// quotes (`!!int "0x1F"`) asked to be read: it is the text of its value.
/// Deep in a document there is no source text: such scalars must be quoted.
/// `what` and `expected` make the message: "{what} must be {expected}, found ...".
fn scalar_string(node: &Node, what: &str, expected: &str, ctx: &mut Ctx<'_>) -> Option<At<String>> {
    let text = match &node.value {
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Int(_) | Value::Float(_) => match ctx.scalar_text(node) {
            Some(text) => text,
            None => {
                ctx.push(
                    Diagnostic::error(
                        ctx.location(node.pos),
                        format!("{what} must be {expected}, found {}", node.value.describe()),
                    )
                    .with_help("quote the value to keep it exactly as written, e.g. \"1.10\""),
                );
                return None;
            }
        },
        _ => {
            ctx.mismatch(node, what, expected);
            return None;
        }
    };
    Some(At {
        value: text,
        pos: node.pos,
    })
}

/// The top-level fields of one document, by name.
struct Fields<'a> {
    entries: Vec<(String, &'a Node, &'a Node)>,
}

impl<'a> Fields<'a> {
    fn new(entries: &'a [(Node, Node)], ctx: &mut Ctx<'_>) -> Self {
        let entries = entries
            .iter()
            .filter_map(|(key, value)| match key_text(key, ctx) {
                Some(name) => Some((name, key, value)),
                None => {
                    ctx.error(key.pos, "field names must be strings");
                    None
                }
            })
            .collect();
        Fields { entries }
    }

    fn get(&self, name: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(key, _, _)| key == name)
            .map(|(_, _, value)| *value)
    }

    fn check_known(&self, known: &[&str], kind: &str, ctx: &mut Ctx<'_>) {
        for (name, key, _) in &self.entries {
            if known.contains(&name.as_str()) {
                continue;
            }
            let help = did_you_mean(name, known).unwrap_or_else(|| {
                let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                format!("{kind} fields are {}", list.join(", "))
            });
            ctx.push(
                Diagnostic::error(
                    ctx.location(key.pos),
                    format!("unknown field `{name}` in {kind}"),
                )
                .with_help(help),
            );
        }
    }

    fn string(&self, name: &str, ctx: &mut Ctx<'_>) -> Option<At<String>> {
        self.get(name)
            .and_then(|node| scalar_string(node, &format!("`{name}`"), "a string", ctx))
    }

    fn required_string(
        &self,
        name: &str,
        kind: &str,
        pos: Pos,
        ctx: &mut Ctx<'_>,
    ) -> Option<At<String>> {
        if self.get(name).is_none() {
            ctx.error(pos, format!("{kind} has no `{name}`"));
            return None;
        }
        self.string(name, ctx)
    }

    fn bool(&self, name: &str, ctx: &mut Ctx<'_>) -> Option<At<bool>> {
        let node = self.get(name)?;
        match node.value {
            Value::Bool(value) => Some(At {
                value,
                pos: node.pos,
            }),
            _ => {
                ctx.mismatch(node, &format!("`{name}`"), "true or false");
                None
            }
        }
    }

    fn tags(&self, ctx: &mut Ctx<'_>) -> Option<TagsDecl> {
        let node = self.get("tags")?;
        let Value::Map(entries) = &node.value else {
            ctx.mismatch(node, "`tags`", "a mapping of key to value");
            return None;
        };
        let tags = entries
            .iter()
            .filter_map(|(key, value)| {
                let key = scalar_string(key, "a tag key", "a string", ctx)?;
                let what = format!("the value of tag `{}`", key.value);
                // `owner:` with nothing after it is null, not "": a value
                // left out by mistake must not become an empty tag.
                if let Value::Null = value.value {
                    ctx.push(
                        Diagnostic::error(
                            ctx.location(value.pos),
                            format!("{what} must be a string, found null"),
                        )
                        .with_help("write `\"\"` for an empty value"),
                    );
                    return None;
                }
                let value = scalar_string(value, &what, "a string", ctx)?;
                Some(TagDecl { key, value })
            })
            .collect();
        Some(At {
            value: tags,
            pos: node.pos,
        })
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough.
pub fn did_you_mean(input: &str, candidates: &[&str]) -> Option<String> {
    let lower = input.to_lowercase();
    candidates
        .iter()
        .map(|candidate| {
            (
                strsim::jaro_winkler(&lower, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("max_sesion_duration", ROLE_FIELDS).as_deref(),
            Some("did you mean `max_session_duration`?")
        );
        assert_eq!(
            did_you_mean("tag", ROLE_FIELDS).as_deref(),
            Some("did you mean `tags`?")
        );
        assert_eq!(
            did_you_mean("role", KINDS).as_deref(),
            Some("did you mean `Role`?")
        );
        assert_eq!(did_you_mean("zzz", ROLE_FIELDS), None);
    }
}
