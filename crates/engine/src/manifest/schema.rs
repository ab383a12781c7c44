//! The manifest format as JSON Schema (draft-07), for editors such as
//! yaml-language-server. These types exist only to describe the format; the
//! loader reads YAML through `raw` and `convert`, whose field lists a test
//! keeps equal to the properties here.
//!
//! The committed copy is `schema/rolecall.schema.json`; a test fails when it
//! differs from [`to_json`].

// The types are never built: they only carry the schema.
#![allow(dead_code)]

// How optional fields are written (doc comments would land in the schema):
// - `#[serde(default = "...")] T` with the loader's default: editors show it;
// - `#[serde(default)] #[schemars(transform = no_default)] T` for a field
//   that has no default value (schemars would show `T::default()`);
// - never `Option<T>`: the loader refuses `null` for them, so the schema must
//   not allow it either;
// - `#[schemars(transform = or_unquoted)]` on text where a number or boolean
//   can be a valid value (names, descriptions): the loader takes those as
//   written (`name: 1e3`), so the schema must accept them too.

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};

use rolecall_model::limits::SESSION_DURATION;
use rolecall_model::{DEFAULT_MAX_SESSION_DURATION, DEFAULT_STACK};

/// A rolecall manifest document: a Role, a ManagedPolicy, an InstanceProfile,
/// an Instance, or the Stack's settings, chosen by `kind`. A file may hold
/// several documents separated by `---`.
#[derive(JsonSchema)]
#[serde(tag = "kind", deny_unknown_fields)]
#[schemars(title = "rolecall manifest")]
enum Document {
    /// Stack-wide settings: at most one per manifest set.
    Stack(Stack),
    /// An IAM role.
    Role(Role),
    /// A customer-managed IAM policy: roles attach it by name in `managed_policies`.
    ManagedPolicy(ManagedPolicy),
    /// An IAM instance profile.
    InstanceProfile(InstanceProfile),
    /// An EC2 instance whose instance-profile association rolecall manages.
    Instance(Instance),
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Stack {
    /// Ownership scope: every managed resource is tagged `rolecall:stack = <name>`.
    #[schemars(length(min = 1, max = 256), transform = or_unquoted)]
    #[serde(default = "default_stack")]
    name: String,
    /// The AWS account the stack belongs to: plan, apply and destroy refuse to run
    /// against any other (a guard for pipelines with several accounts' credentials).
    #[schemars(regex(pattern = r"^[0-9]{12}$"), transform = or_unquoted)]
    #[serde(default)]
    account_id: Option<String>,
    /// The AWS partition the stack belongs to (aws, aws-cn, aws-us-gov): refused elsewhere.
    #[serde(default)]
    partition: Option<Partition>,
    /// `rolecall lint`: every role an instance profile holds must have a permissions boundary.
    #[serde(default)]
    require_permissions_boundary: bool,
    /// Default tags for every role and profile; a resource's own tags win.
    #[schemars(schema_with = "tags")]
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(JsonSchema)]
enum Partition {
    #[serde(rename = "aws")]
    Aws,
    #[serde(rename = "aws-cn")]
    China,
    #[serde(rename = "aws-us-gov")]
    GovCloud,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Role {
    /// Role name, unique in the account ignoring case.
    #[schemars(regex(pattern = r"^[\w+=,.@-]{1,64}$"), transform = or_unquoted)]
    name: String,
    /// Changing it replaces the role.
    #[schemars(schema_with = "path")]
    #[serde(default = "default_path")]
    path: String,
    #[schemars(length(max = 1000), transform = or_unquoted)]
    #[serde(default)]
    description: String,
    /// Who may assume the role: a service ("ec2", "lambda", "ecs-tasks", "x.amazonaws.com"),
    /// a list of them, or a full trust policy (mapping, JSON string, or {file: path}).
    trust: Trust,
    /// Seconds, 3600 to 43200.
    #[schemars(range(min = *SESSION_DURATION.start(), max = *SESSION_DURATION.end()))]
    #[serde(default = "default_max_session_duration")]
    max_session_duration: u32,
    /// ARN of the managed policy that bounds the role's permissions.
    #[schemars(schema_with = "policy_arn")]
    #[serde(default)]
    #[schemars(transform = no_default)]
    permissions_boundary: String,
    /// Managed policies to attach (at most 10, each once): ARNs, or the
    /// names of ManagedPolicy documents of the manifests.
    #[schemars(schema_with = "managed_policies")]
    #[serde(default)]
    managed_policies: Vec<String>,
    /// Inline policies by name: a mapping, a JSON string, or {file: path}.
    #[schemars(schema_with = "inline_policies")]
    #[serde(default)]
    inline_policies: BTreeMap<String, PolicyDocument>,
    #[schemars(schema_with = "tags")]
    #[serde(default)]
    tags: BTreeMap<String, String>,
    /// `rolecall lint` rules silenced for this role, each with the reason.
    #[schemars(schema_with = "lint_ignore")]
    #[serde(default)]
    lint_ignore: BTreeMap<String, String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct ManagedPolicy {
    /// Policy name, unique in the account ignoring case; a role's
    /// `managed_policies` names it.
    #[schemars(regex(pattern = r"^[\w+=,.@-]{1,128}$"), transform = or_unquoted)]
    name: String,
    /// Segments of letters, digits and `.,+@=_-` between slashes. Changing it replaces the policy.
    #[schemars(schema_with = "policy_path")]
    #[serde(default = "default_path")]
    path: String,
    /// IAM cannot change a policy's description once it is created.
    #[schemars(length(max = 1000), transform = or_unquoted)]
    #[serde(default)]
    description: String,
    /// The policy: a mapping, a JSON string, or {file: path}; at most 6,144
    /// characters, whitespace not counted.
    document: PolicyDocument,
    #[schemars(schema_with = "tags")]
    #[serde(default)]
    tags: BTreeMap<String, String>,
    /// `rolecall lint` rules silenced for this policy, each with the reason.
    #[schemars(schema_with = "lint_ignore")]
    #[serde(default)]
    lint_ignore: BTreeMap<String, String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct InstanceProfile {
    #[schemars(regex(pattern = r"^[\w+=,.@-]{1,128}$"), transform = or_unquoted)]
    name: String,
    #[schemars(schema_with = "path")]
    #[serde(default = "default_path")]
    path: String,
    /// The role it holds (zero or one): declared here or existing in the account.
    #[schemars(regex(pattern = r"^[\w+=,.@-]{1,64}$"), transform = or_unquoted)]
    #[serde(default)]
    #[schemars(transform = no_default)]
    role: String,
    #[schemars(schema_with = "tags")]
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["id"]}, {"required": ["name"]}]))]
struct Instance {
    /// The instance id. Give `id` or `name`, not both.
    #[schemars(regex(pattern = r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"))]
    #[serde(default)]
    #[schemars(transform = no_default)]
    id: String,
    /// Matched against the Name tag, not shaped like an id; exactly one instance must match.
    #[schemars(length(min = 1, max = 256), transform = or_unquoted)]
    #[schemars(extend("not" = {"pattern": r"^i-([0-9a-f]{8}|[0-9a-f]{17})$"}))]
    #[serde(default)]
    #[schemars(transform = no_default)]
    name: String,
    /// The instance profile it must have, or null for none.
    #[schemars(schema_with = "nullable_profile")]
    profile: String,
}

/// `trust`: shorthand or document.
#[derive(JsonSchema)]
#[serde(untagged)]
enum Trust {
    /// "ec2", "lambda", "ecs-tasks", "x.amazonaws.com", or a policy document as JSON text.
    Service(String),
    Services(Vec<String>),
    Document(PolicyDocument),
}

/// A policy document given in place or by file.
#[derive(JsonSchema)]
#[serde(untagged)]
enum PolicyDocument {
    /// The document as JSON text.
    Json(String),
    /// A JSON file, relative to the manifest that names it.
    File(FileRef),
    #[schemars(schema_with = "policy_object")]
    Inline(()),
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct FileRef {
    file: String,
}

/// Leaves out the `default` schemars takes from `T::default()`.
fn no_default(schema: &mut Schema) {
    schema.remove("default");
}

/// Text that may also be written as an unquoted number or boolean, which the
/// loader keeps as written. `pattern` and `length` check strings only, and the
/// text of a number or boolean is a valid name anyway. Not for paths, ARNs or
/// instance ids: no number is one, and the loader rejects it as the schema does.
fn or_unquoted(schema: &mut Schema) {
    schema.insert(
        "type".into(),
        serde_json::json!(["string", "number", "boolean"]),
    );
}

fn default_stack() -> String {
    DEFAULT_STACK.into()
}

fn default_path() -> String {
    "/".into()
}

fn default_max_session_duration() -> u32 {
    DEFAULT_MAX_SESSION_DURATION
}

/// Tag values may be unquoted numbers or booleans (see [`or_unquoted`]), not
/// null: `owner:` with nothing after it is refused, `owner: ""` is empty.
fn tags(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": 48,
        "propertyNames": {"minLength": 1, "maxLength": 128, "not": {"pattern": "^(aws|rolecall):"}},
        "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 256}
    })
}

/// Lint rule ids to a non-empty reason.
fn lint_ignore(_: &mut SchemaGenerator) -> Schema {
    let rules: Vec<&str> = crate::lint::RULES.iter().map(|rule| rule.id).collect();
    json_schema!({
        "type": "object",
        "propertyNames": {"enum": rules},
        "additionalProperties": {"type": "string", "minLength": 1}
    })
}

fn path(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": "^(/|/[\\x21-\\x7E]+/)$", "maxLength": 512})
}

/// Policy ARNs, or ManagedPolicy names (which, as names, may be written
/// as unquoted numbers or booleans: see [`or_unquoted`]).
fn managed_policies(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "maxItems": 10,
        "items": {
            "type": ["string", "number", "boolean"],
            "pattern": "^(arn:[a-z0-9-]+:iam::(aws|\\d{12}):policy/|[\\w+=,.@-]{1,128}$)"
        },
        "default": []
    })
}

/// IAM's `policyPathType`: stricter than a role's path.
fn policy_path(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": "^(/[A-Za-z0-9.,+@=_-]+)*/$", "maxLength": 512})
}

fn policy_arn(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "pattern": "^arn:[a-z0-9-]+:iam::(aws|\\d{12}):policy/"})
}

/// An instance profile name (see [`or_unquoted`]), or null for none.
fn nullable_profile(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["string", "number", "boolean", "null"], "pattern": "^[\\w+=,.@-]{1,128}$"})
}

fn inline_policies(generator: &mut SchemaGenerator) -> Schema {
    let document = generator.subschema_for::<PolicyDocument>();
    json_schema!({
        "type": "object",
        "propertyNames": {"pattern": "^[\\w+=,.@-]{1,128}$"},
        "additionalProperties": document
    })
}

fn policy_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "required": ["Version", "Statement"],
        "properties": {
            "Version": {"enum": ["2012-10-17", "2008-10-17"]},
            "Id": {"type": "string"},
            "Statement": {"type": ["object", "array"]}
        }
    })
}

/// The schema as pretty JSON, ending in a newline (the committed file's form).
pub fn to_json() -> String {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Document>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::convert::{
        INSTANCE_FIELDS, POLICY_FIELDS, PROFILE_FIELDS, ROLE_FIELDS, STACK_FIELDS,
    };
    use serde_json::Value;

    /// The properties the schema allows for `kind`, sorted.
    fn properties(schema: &Value, kind: &str) -> Vec<String> {
        let variants = schema["oneOf"].as_array().expect("oneOf");
        let variant = variants
            .iter()
            .find(|v| v["properties"]["kind"]["const"] == kind)
            .expect("kind");
        let mut names: Vec<String> = variant["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn sorted(fields: &[&str]) -> Vec<String> {
        let mut fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        fields.sort();
        fields
    }

    #[test]
    fn schema_fields_match_the_loader() {
        let schema: Value = serde_json::from_str(&to_json()).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(properties(&schema, "Stack"), sorted(STACK_FIELDS));
        assert_eq!(properties(&schema, "Role"), sorted(ROLE_FIELDS));
        assert_eq!(properties(&schema, "ManagedPolicy"), sorted(POLICY_FIELDS));
        assert_eq!(
            properties(&schema, "InstanceProfile"),
            sorted(PROFILE_FIELDS)
        );
        assert_eq!(properties(&schema, "Instance"), sorted(INSTANCE_FIELDS));
    }
}
