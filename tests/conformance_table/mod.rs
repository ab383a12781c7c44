//! The conformance table of the emulated account, shared by the test that
//! runs it in process (tests/emulator_conformance.rs) and the one that runs it
//! through `rolecall serve` with boto3 (tests/serve_clients.rs).
//!
//! Conformance of the emulated account to AWS: one line per rule, each with
//! AWS's exact error code and message (see docs/aws-semantics.md, which names
//! each rule's source).
//!
//! A row is: name, setup calls, the call under test, and `ok` or
//! `CODE: message`. Calls are written `Operation {json params}`; `$TRUST` is a
//! valid trust policy, `$POLICY` a valid permissions policy (`$HUGEPOLICY`
//! one over a managed policy's 6,144 characters), `$I` the last
//! launched instance id and `$A` the last association id. A policy document
//! may be written as JSON rather than as a JSON string: it is sent as its text.
//! A row whose AWS text (or trigger) no AWS response confirms says UNCONFIRMED.
//! Setup shorthands: `ATTACH10` attaches ten managed policies to `web`,
//! `QUOTA n` lowers both account quotas to n.

#![allow(dead_code)] // each test binary uses part of it

use serde_json::Value;

pub const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
pub const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// A call written `Operation {json params}` as the table writes it: the
/// operation's name and its parameters, with the table's shorthands
/// expanded except `$I` and `$A` (the instance and association of the case,
/// known only as it runs: [`substitute`]). A policy document written as JSON
/// is sent as its text.
pub fn call_params(text: &str) -> (String, Value) {
    let (op, params) = text.split_once(' ').unwrap_or((text, "{}"));
    let big_trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"aws:SourceAccount":"{}"}}}}}}]}}"#,
        "1".repeat(2000)
    );
    let big_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "b".repeat(6000)
    );
    // Over a managed policy's 6,144 characters (whitespace not counted).
    let huge_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
        "b".repeat(6100)
    );
    let params = long_values(params)
        .replace("$HUGEPOLICY", &json_string(&huge_policy))
        .replace("$TRUST", &json_string(TRUST))
        .replace("$BIGTRUST", &json_string(&big_trust))
        .replace("$POLICY", &json_string(POLICY))
        .replace("$BIGPOLICY", &json_string(&big_policy));
    let mut params: Value = serde_json::from_str(&params).unwrap_or_else(|e| panic!("{text}: {e}"));
    if let Value::Object(fields) = &mut params {
        for (key, value) in fields.iter_mut() {
            if key.ends_with("PolicyDocument") && !value.is_string() {
                *value = Value::String(value.to_string());
            }
        }
    }
    (op.to_string(), params)
}

/// Replaces `$I` and `$A` in every string of `value` by the instance and
/// association ids.
pub fn substitute(value: &mut Value, instance: &str, association: &str) {
    match value {
        Value::String(s) => *s = s.replace("$I", instance).replace("$A", association),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| substitute(v, instance, association)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|v| substitute(v, instance, association)),
        _ => {}
    }
}

const ROLE: &str = r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":$TRUST}"#;
const ROLE2: &str = r#"CreateRole {"RoleName":"api","AssumeRolePolicyDocument":$TRUST}"#;
const PROFILE: &str = r#"CreateInstanceProfile {"InstanceProfileName":"web"}"#;
const ADD: &str = r#"AddRoleToInstanceProfile {"InstanceProfileName":"web","RoleName":"web"}"#;
const RUN: &str = r#"RunInstances {"MinCount":1,"MaxCount":1}"#;
const ASSOC: &str =
    r#"AssociateIamInstanceProfile {"InstanceId":"$I","IamInstanceProfile":{"Name":"web"}}"#;
const STOP: &str = r#"StopInstances {"InstanceIds":["$I"]}"#;
const POLICY_CREATE: &str = r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":$POLICY}"#;
const POLICY_VERSION: &str = r#"CreatePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}}"#;
const POLICY_ATTACH: &str =
    r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::123456789012:policy/deploy"}"#;

#[rustfmt::skip]
pub const CASES: &[(&str, &[&str], &str, &str)] = &[
    // names
    ("role name pattern", &[], r#"CreateRole {"RoleName":"bad name","AssumeRolePolicyDocument":$TRUST}"#, r"ValidationError: 1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"),
    ("role name length", &[], r#"CreateRole {"RoleName":"$LONGNAME","AssumeRolePolicyDocument":$TRUST}"#, "ValidationError: 1 validation error detected: Value '$LONGNAME' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"),
    ("role name empty", &[], r#"GetRole {"RoleName":""}"#, "ValidationError: 1 validation error detected: Value '' at 'roleName' failed to satisfy constraint: Member must have length greater than or equal to 1"),
    ("role path", &[], r#"CreateRole {"RoleName":"web","Path":"apps","AssumeRolePolicyDocument":$TRUST}"#, r"ValidationError: 1 validation error detected: Value 'apps' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"),
    ("max session too low", &[], r#"CreateRole {"RoleName":"web","MaxSessionDuration":100,"AssumeRolePolicyDocument":$TRUST}"#, "ValidationError: 1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"),
    ("max session too high", &[ROLE], r#"UpdateRole {"RoleName":"web","MaxSessionDuration":50000}"#, "ValidationError: 1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"),
    ("profile name length", &[], r#"CreateInstanceProfile {"InstanceProfileName":"$LONGPROFILE"}"#, "ValidationError: 1 validation error detected: Value '$LONGPROFILE' at 'instanceProfileName' failed to satisfy constraint: Member must have length less than or equal to 128"),
    ("path length", &[], r#"CreateRole {"RoleName":"web","Path":"$LONGPATH","AssumeRolePolicyDocument":$TRUST}"#, "ValidationError: 1 validation error detected: Value '$LONGPATH' at 'path' failed to satisfy constraint: Member must have length less than or equal to 512"),
    ("profile path length", &[], r#"CreateInstanceProfile {"InstanceProfileName":"web","Path":"$LONGPATH"}"#, "ValidationError: 1 validation error detected: Value '$LONGPATH' at 'path' failed to satisfy constraint: Member must have length less than or equal to 512"),
    ("profile name pattern", &[], r#"CreateInstanceProfile {"InstanceProfileName":"a/b"}"#, r"ValidationError: 1 validation error detected: Value 'a/b' at 'instanceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"),
    // uniqueness and existence
    ("role exists ignoring case", &[ROLE], r#"CreateRole {"RoleName":"WEB","AssumeRolePolicyDocument":$TRUST}"#, "EntityAlreadyExists: Role with name WEB already exists."),
    ("get missing role", &[], r#"GetRole {"RoleName":"nope"}"#, "NoSuchEntity: The role with name nope cannot be found."),
    ("get role ignores case", &[ROLE], r#"GetRole {"RoleName":"Web"}"#, "ok"),
    ("delete missing role", &[], r#"DeleteRole {"RoleName":"nope"}"#, "NoSuchEntity: The role with name nope cannot be found."),
    ("profile exists ignoring case", &[PROFILE], r#"CreateInstanceProfile {"InstanceProfileName":"Web"}"#, "EntityAlreadyExists: Instance Profile Web already exists."),
    ("get missing profile", &[], r#"GetInstanceProfile {"InstanceProfileName":"nope"}"#, "NoSuchEntity: Instance Profile nope cannot be found."),
    ("delete missing profile", &[], r#"DeleteInstanceProfile {"InstanceProfileName":"nope"}"#, "NoSuchEntity: Instance Profile nope cannot be found."),
    ("role and profile namespaces are separate", &[ROLE], PROFILE, "ok"),
    ("update missing role", &[], r#"UpdateRole {"RoleName":"nope","Description":"x"}"#, "NoSuchEntity: The role with name nope cannot be found."),
    ("tag missing profile", &[], r#"TagInstanceProfile {"InstanceProfileName":"nope","Tags":[{"Key":"a","Value":"1"}]}"#, "NoSuchEntity: Instance Profile nope cannot be found."),
    // account quotas (lowered to 1 so the row stays cheap)
    ("roles per account", &["QUOTA 1", ROLE], ROLE2, "LimitExceeded: Cannot exceed quota for RolesPerAccount: 1"), // UNCONFIRMED text (AWS's quota pattern)
    ("roles per account counts every role", &["QUOTA 2", ROLE], ROLE2, "ok"),
    ("instance profiles per account", &["QUOTA 1", PROFILE], r#"CreateInstanceProfile {"InstanceProfileName":"api"}"#, "LimitExceeded: Cannot exceed quota for InstanceProfilesPerAccount: 1"),
    // policy documents
    ("trust not json", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":"{nope"}"#, "MalformedPolicyDocument: This policy contains invalid Json"),
    ("trust without principal", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":$POLICY}"#, "MalformedPolicyDocument: Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"),
    ("trust with resource", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}}"#, "MalformedPolicyDocument: Has prohibited field Resource"),
    ("action is a number", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":5,"Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("action is an object", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":{"a":1},"Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("action list holds a number", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject",5],"Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("action list empty", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}}"#, "MalformedPolicyDocument: Policy statement must contain actions."),
    ("no action", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}}"#, "MalformedPolicyDocument: Policy statement must contain actions."),
    ("resource list empty", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":[]}]}}"#, "MalformedPolicyDocument: Policy statement must contain resources."),
    ("resource not an arn", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"my-bucket"}]}}"#, r#"MalformedPolicyDocument: Resource my-bucket must be in ARN format or "*"."#),
    ("condition is a string", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":"x"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("condition operator maps to a string", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":"x"}}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("condition well formed", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":["1","2"]},"Bool":{"aws:SecureTransport":true}}}]}}"#, "ok"),
    ("unknown statement key", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Actions":"s3:*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("unknown top-level key", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statment":[],"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("action and not-action", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("resource and not-resource", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","NotResource":"arn:aws:s3:::b"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("principal and not-principal", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("effect missing", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("effect in lower case", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: The policy failed legacy parsing"), // UNCONFIRMED (moto's text)
    ("statement list empty", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("action without vendor", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"nocolon","Resource":"*"}]}}"#, "MalformedPolicyDocument: Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("action with two colons", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"}]}}"#, "MalformedPolicyDocument: Actions/Condition can contain only one colon."),
    ("action vendor with bad characters", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s_3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Vendor s_3 is not valid"), // UNCONFIRMED (moto's text)
    ("vendor with a star", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3*:Get*","Resource":"*"}]}}"#, "MalformedPolicyDocument: Vendor s3* is not valid"), // UNCONFIRMED (moto's text)
    ("star vendor", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*:*","Resource":"*"}]}}"#, "ok"),
    ("empty vendor", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":":GetObject","Resource":"*"}]}}"#, "ok"), // UNCONFIRMED (moto accepts it)
    ("star action", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}"#, "ok"),
    ("trust principal a bare word", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"ec2","Action":"sts:AssumeRole"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."), // UNCONFIRMED
    ("trust principal star", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}}"#, "ok"),
    ("trust principal empty", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}]}}"#, "MalformedPolicyDocument: Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"), // UNCONFIRMED trigger
    ("trust principal of unknown type", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "BOGUS":"x""#), // UNCONFIRMED
    ("trust aws principal not an arn", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"not-an-arn"},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "AWS":"not-an-arn""#),
    ("trust service not a service", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ec2"]},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "SERVICE":"ec2""#),
    ("trust missing role of this account", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ci"},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/ci""#),
    ("trust role of this account at another path", &[r#"CreateRole {"RoleName":"ci","Path":"/a/","AssumeRolePolicyDocument":$TRUST}"#], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ci"},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/ci""#),
    ("trust existing role of this account", &[r#"CreateRole {"RoleName":"ci","Path":"/a/","AssumeRolePolicyDocument":$TRUST}"#], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/a/ci"},"Action":"sts:AssumeRole"}]}}"#, "ok"),
    ("trust role of another account", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/ci","111122223333","arn:aws:iam::111122223333:root"]},"Action":"sts:AssumeRole"}]}}"#, "ok"),
    ("update trust to a missing role", &[ROLE], r#"UpdateAssumeRolePolicy {"RoleName":"web","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ci"},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/ci""#),
    ("trust without version", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}"#, "ok"), // a missing Version means 2008-10-17 (AWS's policy grammar)
    ("inline without version", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "ok"),
    ("version 2008-10-17", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "ok"),
    ("version invalid", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: The policy must contain a valid version string"), // UNCONFIRMED text (S3's)
    ("trust aws principal with a wildcard", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"sts:AssumeRole"}]}}"#, r#"MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*""#), // UNCONFIRMED text (IAM's form for an invalid principal); trigger: AWS knowledge center, iam-trust-policy-error
    ("trust with not-principal", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}}"#, "MalformedPolicyDocument: Has prohibited field NotPrincipal"), // UNCONFIRMED text; trigger: IAM's NotPrincipal docs
    ("repeated sid", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Sid":"s3","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"s3","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Statement IDs (SID) in a single policy must be unique."), // aws-cloudformation/cfn-lint#3973, kubernetes/kops#4951
    ("repeated empty sid", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}}"#, "ok"), // UNCONFIRMED (moto skips empty Sids)
    ("sid not alphanumeric", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Sid":"read-logs","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
    ("trust url-encoded accepted", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"}"#, "ok"),
    ("trust too large", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":$BIGTRUST}"#, "LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048"),
    ("update trust too large", &[ROLE], r#"UpdateAssumeRolePolicy {"RoleName":"web","PolicyDocument":$BIGTRUST}"#, "LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048"),
    ("update trust malformed", &[ROLE], r#"UpdateAssumeRolePolicy {"RoleName":"web","PolicyDocument":"[]"}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("inline with principal", &[ROLE], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":$TRUST}"#, "MalformedPolicyDocument: Policy document should not specify a principal."),
    ("inline aggregate too large", &[ROLE, r#"PutRolePolicy {"RoleName":"web","PolicyName":"a","PolicyDocument":$BIGPOLICY}"#], r#"PutRolePolicy {"RoleName":"web","PolicyName":"b","PolicyDocument":$BIGPOLICY}"#, "LimitExceeded: Maximum policy size of 10240 bytes exceeded for role web"),
    ("inline overwrite does not count twice", &[ROLE, r#"PutRolePolicy {"RoleName":"web","PolicyName":"a","PolicyDocument":$BIGPOLICY}"#], r#"PutRolePolicy {"RoleName":"web","PolicyName":"a","PolicyDocument":$BIGPOLICY}"#, "ok"),
    ("inline on missing role", &[], r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":$POLICY}"#, "NoSuchEntity: The role with name web cannot be found."),
    ("get missing inline", &[ROLE], r#"GetRolePolicy {"RoleName":"web","PolicyName":"p"}"#, "NoSuchEntity: The role policy with name p cannot be found."),
    ("delete missing inline", &[ROLE], r#"DeleteRolePolicy {"RoleName":"web","PolicyName":"p"}"#, "NoSuchEntity: The role policy with name p cannot be found."),
    // managed policies and boundaries
    ("attach real aws policy", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}"#, "ok"),
    ("attach aws policy with path", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"}"#, "ok"),
    ("attach unknown aws policy", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/NoSuchPolicy"}"#, "NoSuchEntity: Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable."),
    ("attach customer policy", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::123456789012:policy/mine"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/mine does not exist or is not attachable."),
    ("attach malformed arn", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"not-an-arn-at-all-really"}"#, "InvalidInput: ARN not-an-arn-at-all-really is not valid."),
    ("attach service-linked policy", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy"}"#, "PolicyNotAttachable: Cannot attach a Service Role Policy to a Customer Role."),
    ("attach eleventh policy", &[ROLE, "ATTACH10"], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}"#, "LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10"),
    ("detach not attached", &[ROLE], r#"DetachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}"#, "NoSuchEntity: Policy arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess was not found."),
    ("boundary real", &[ROLE], r#"PutRolePermissionsBoundary {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::aws:policy/PowerUserAccess"}"#, "ok"),
    ("boundary unknown", &[ROLE], r#"PutRolePermissionsBoundary {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::aws:policy/Nope"}"#, "NoSuchEntity: Scope ARN: arn:aws:iam::aws:policy/Nope does not exist or is not attachable."),
    ("boundary service-linked policy", &[ROLE], r#"PutRolePermissionsBoundary {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy"}"#, "PolicyNotAttachable: Cannot attach a Service Role Policy to a Customer Role."), // UNCONFIRMED text for a boundary (AttachRolePolicy's)
    ("create role with service-linked boundary", &[], r#"CreateRole {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy","AssumeRolePolicyDocument":$TRUST}"#, "PolicyNotAttachable: Cannot attach a Service Role Policy to a Customer Role."), // UNCONFIRMED text for a boundary (AttachRolePolicy's)
    ("attach policy added to the bundled list", &[ROLE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/AmazonBedrockWebSearchReadOnly"}"#, "ok"),
    // customer-managed policies (docs/aws-semantics.md §16)
    ("create policy", &[], POLICY_CREATE, "ok"),
    ("policy exists ignoring case", &[POLICY_CREATE], r#"CreatePolicy {"PolicyName":"DEPLOY","PolicyDocument":$POLICY}"#, "EntityAlreadyExists: A policy called DEPLOY already exists. Duplicate names are not allowed."), // localstack's recording of IAM
    ("policy and role namespaces are separate", &[ROLE], r#"CreatePolicy {"PolicyName":"web","PolicyDocument":$POLICY}"#, "ok"),
    ("policy name pattern", &[], r#"CreatePolicy {"PolicyName":"bad name","PolicyDocument":$POLICY}"#, r"ValidationError: 1 validation error detected: Value 'bad name' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"),
    ("policy path pattern", &[], r#"CreatePolicy {"PolicyName":"deploy","Path":"/ops*/","PolicyDocument":$POLICY}"#, r"ValidationError: 1 validation error detected: Value '/ops*/' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/"),
    ("policy path with segments", &[], r#"CreatePolicy {"PolicyName":"deploy","Path":"/ops/ci/","PolicyDocument":$POLICY}"#, "ok"),
    ("policy description length", &[], r#"CreatePolicy {"PolicyName":"deploy","Description":"$LONGDESCRIPTION","PolicyDocument":$POLICY}"#, "ValidationError: 1 validation error detected: Value '$LONGDESCRIPTION' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000"),
    ("policy without version", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Policy document must be version 2012-10-17 or greater."), // localstack's recording of IAM
    ("policy of version 2008-10-17", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Policy document must be version 2012-10-17 or greater."),
    ("policy of an unknown version", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":{"Version":"2013-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Syntax errors in policy."),
    ("policy with principal", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":$TRUST}"#, "MalformedPolicyDocument: Policy document should not specify a principal."),
    ("policy too large", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":$HUGEPOLICY}"#, "LimitExceeded: Cannot exceed quota for PolicySize: 6144"), // ministryofjustice/cloud-platform-environments#14473
    ("version too large", &[POLICY_CREATE], r#"CreatePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","PolicyDocument":$HUGEPOLICY}"#, "LimitExceeded: Cannot exceed quota for PolicySize: 6144"),
    ("policy duplicate tag keys", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":$POLICY,"Tags":[{"Key":"a","Value":"1"},{"Key":"a","Value":"2"}]}"#, "InvalidInput: Duplicate tag keys found."), // localstack's recording of IAM
    ("policy tag keys are case-sensitive", &[], r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":$POLICY,"Tags":[{"Key":"a","Value":"1"},{"Key":"A","Value":"2"}]}"#, "ok"),
    ("policy fifty-first tag", &[r#"CreatePolicy {"PolicyName":"deploy","PolicyDocument":$POLICY,"Tags":$TAGS50}"#], r#"TagPolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","Tags":[{"Key":"k50","Value":"v"}]}"#, "LimitExceeded: Cannot exceed quota for TagsPerPolicy: 50"), // UNCONFIRMED text (AWS's quota pattern)
    ("get missing policy", &[], r#"GetPolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/nope"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope was not found."),
    ("get another account's policy", &[POLICY_CREATE], r#"GetPolicy {"PolicyArn":"arn:aws:iam::111122223333:policy/deploy"}"#, "NoSuchEntity: Policy arn:aws:iam::111122223333:policy/deploy was not found."),
    ("get aws-managed policy", &[], r#"GetPolicy {"PolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}"#, "ok"),
    ("get policy by malformed arn", &[], r#"GetPolicy {"PolicyArn":"not-an-arn-at-all-really"}"#, "InvalidInput: ARN not-an-arn-at-all-really is not valid."),
    ("sixth policy version", &[POLICY_CREATE, POLICY_VERSION, POLICY_VERSION, POLICY_VERSION, POLICY_VERSION], POLICY_VERSION, "LimitExceeded: A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."), // 99designs/iamy#21, localstack's recording
    ("version after deleting one at the limit", &[POLICY_CREATE, POLICY_VERSION, POLICY_VERSION, POLICY_VERSION, POLICY_VERSION, r#"DeletePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","VersionId":"v2"}"#], POLICY_VERSION, "ok"),
    ("version of missing policy", &[], POLICY_VERSION, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/deploy was not found."),
    ("version without version", &[POLICY_CREATE], r#"CreatePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}"#, "MalformedPolicyDocument: Policy document must be version 2012-10-17 or greater."),
    ("delete default version", &[POLICY_CREATE], r#"DeletePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","VersionId":"v1"}"#, "DeleteConflict: Cannot delete the default version of a policy."), // redradrat/aws-iam-operator#13, localstack's recording
    ("delete missing version", &[POLICY_CREATE], r#"DeletePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","VersionId":"v9"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/deploy version v9 does not exist or is not attachable."),
    ("get version of missing policy", &[], r#"GetPolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/nope","VersionId":"v1"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope version v1 does not exist or is not attachable."),
    ("set default to missing version", &[POLICY_CREATE], r#"SetDefaultPolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","VersionId":"v4"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/deploy version v4 does not exist or is not attachable."),
    ("version id pattern", &[POLICY_CREATE], r#"SetDefaultPolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","VersionId":"1"}"#, r"ValidationError: 1 validation error detected: Value '1' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?"),
    ("versions of missing policy", &[], r#"ListPolicyVersions {"PolicyArn":"arn:aws:iam::123456789012:policy/nope"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope was not found."), // UNCONFIRMED text
    ("delete attached policy", &[ROLE, POLICY_CREATE, POLICY_ATTACH], r#"DeletePolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy"}"#, "DeleteConflict: Cannot delete a policy attached to entities."), // hashicorp/terraform-provider-aws#32906
    ("delete policy used as boundary", &[ROLE, POLICY_CREATE, r#"PutRolePermissionsBoundary {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::123456789012:policy/deploy"}"#], r#"DeletePolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy"}"#, "DeleteConflict: Cannot delete a policy attached to entities."), // UNCONFIRMED text for a boundary
    ("delete policy with versions", &[POLICY_CREATE, POLICY_VERSION], r#"DeletePolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy"}"#, "DeleteConflict: This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy."), // rebuy-de/aws-nuke#1
    ("delete policy after its versions", &[POLICY_CREATE, POLICY_VERSION, r#"DeletePolicyVersion {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy","VersionId":"v2"}"#], r#"DeletePolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy"}"#, "ok"),
    ("delete missing policy", &[], r#"DeletePolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/nope"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope was not found."),
    ("delete aws-managed policy", &[], r#"DeletePolicy {"PolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}"#, "AccessDenied: User: arn:aws:iam::123456789012:root is not authorized to perform: iam:DeletePolicy on resource: policy arn:aws:iam::aws:policy/ReadOnlyAccess"), // UNCONFIRMED
    ("tag missing policy", &[], r#"TagPolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/nope","Tags":[{"Key":"a","Value":"1"}]}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope was not found."), // localstack's recording of IAM
    ("untag missing policy", &[], r#"UntagPolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/nope","TagKeys":["a"]}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope was not found."),
    ("entities for missing policy", &[], r#"ListEntitiesForPolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/nope"}"#, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/nope does not exist or is not attachable."), // localstack's recording of IAM
    ("list policies of a bad scope", &[], r#"ListPolicies {"Scope":"Mine"}"#, "ValidationError: 1 validation error detected: Value 'Mine' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"),
    ("attach the account's policy", &[ROLE, POLICY_CREATE], POLICY_ATTACH, "ok"),
    ("attach another account's policy", &[ROLE, POLICY_CREATE], r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::111122223333:policy/deploy"}"#, "NoSuchEntity: Policy arn:aws:iam::111122223333:policy/deploy does not exist or is not attachable."),
    ("attach a deleted policy", &[ROLE, POLICY_CREATE, r#"DeletePolicy {"PolicyArn":"arn:aws:iam::123456789012:policy/deploy"}"#], POLICY_ATTACH, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/deploy does not exist or is not attachable."),
    ("attach the account's policy by another path", &[ROLE, r#"CreatePolicy {"PolicyName":"deploy","Path":"/ops/","PolicyDocument":$POLICY}"#], POLICY_ATTACH, "NoSuchEntity: Policy arn:aws:iam::123456789012:policy/deploy does not exist or is not attachable."),
    ("boundary the account's policy", &[ROLE, POLICY_CREATE], r#"PutRolePermissionsBoundary {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::123456789012:policy/deploy"}"#, "ok"),
    ("create role with the account's policy as boundary", &[POLICY_CREATE], r#"CreateRole {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::123456789012:policy/deploy","AssumeRolePolicyDocument":$TRUST}"#, "ok"),
    ("boundary missing customer policy", &[ROLE], r#"PutRolePermissionsBoundary {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::123456789012:policy/deploy"}"#, "NoSuchEntity: Scope ARN: arn:aws:iam::123456789012:policy/deploy does not exist or is not attachable."),
    // delete conflicts
    ("delete role in profile", &[ROLE, PROFILE, ADD], r#"DeleteRole {"RoleName":"web"}"#, "DeleteConflict: Cannot delete entity, must remove roles from instance profile first."),
    ("delete role with managed", &[ROLE, r#"AttachRolePolicy {"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}"#], r#"DeleteRole {"RoleName":"web"}"#, "DeleteConflict: Cannot delete entity, must detach all policies first."),
    ("delete role with inline", &[ROLE, r#"PutRolePolicy {"RoleName":"web","PolicyName":"p","PolicyDocument":$POLICY}"#], r#"DeleteRole {"RoleName":"web"}"#, "DeleteConflict: Cannot delete entity, must delete policies first."),
    ("delete role with boundary", &[r#"CreateRole {"RoleName":"web","PermissionsBoundary":"arn:aws:iam::aws:policy/PowerUserAccess","AssumeRolePolicyDocument":$TRUST}"#], r#"DeleteRole {"RoleName":"web"}"#, "ok"),
    ("delete profile holding role", &[ROLE, PROFILE, ADD], r#"DeleteInstanceProfile {"InstanceProfileName":"web"}"#, "DeleteConflict: Cannot delete entity, must remove roles from instance profile first."),
    ("delete profile in use by instance", &[ROLE, PROFILE, ADD, RUN, ASSOC, r#"RemoveRoleFromInstanceProfile {"InstanceProfileName":"web","RoleName":"web"}"#], r#"DeleteInstanceProfile {"InstanceProfileName":"web"}"#, "ok"),
    // profile membership
    ("second role in profile", &[ROLE, ROLE2, PROFILE, ADD], r#"AddRoleToInstanceProfile {"InstanceProfileName":"web","RoleName":"api"}"#, "LimitExceeded: Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
    ("same role twice in profile", &[ROLE, PROFILE, ADD], ADD, "LimitExceeded: Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
    ("add missing role", &[PROFILE], ADD, "NoSuchEntity: The role with name web cannot be found."),
    ("add to missing profile", &[ROLE], ADD, "NoSuchEntity: Instance Profile web cannot be found."),
    ("remove role not in profile", &[ROLE, PROFILE], r#"RemoveRoleFromInstanceProfile {"InstanceProfileName":"web","RoleName":"web"}"#, "NoSuchEntity: The role with name web cannot be found."),
    ("profiles for missing role", &[], r#"ListInstanceProfilesForRole {"RoleName":"web"}"#, "NoSuchEntity: The role with name web cannot be found."),
    // tags
    ("role tag keys ignore case", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":$TRUST,"Tags":[{"Key":"Env","Value":"a"},{"Key":"env","Value":"b"}]}"#, "InvalidInput: Duplicate tag keys found. Please note that Tag keys are case insensitive."),
    ("profile tag keys are case-sensitive", &[PROFILE], r#"TagInstanceProfile {"InstanceProfileName":"web","Tags":[{"Key":"Env","Value":"a"},{"Key":"env","Value":"b"}]}"#, "ok"),
    ("profile duplicate tag keys", &[PROFILE], r#"TagInstanceProfile {"InstanceProfileName":"web","Tags":[{"Key":"env","Value":"a"},{"Key":"env","Value":"b"}]}"#, "InvalidInput: Duplicate tag keys found. Please note that Tag keys are case insensitive."),
    ("aws: tag prefix", &[ROLE], r#"TagRole {"RoleName":"web","Tags":[{"Key":"aws:x","Value":"a"}]}"#, "InvalidInput: User-defined tag keys can't start with 'aws:'."),
    ("multibyte tag key near the aws: check", &[ROLE], r#"TagRole {"RoleName":"web","Tags":[{"Key":"abcé","Value":"a"}]}"#, "ok"),
    ("tag key charset", &[ROLE], r#"TagRole {"RoleName":"web","Tags":[{"Key":"a*b","Value":"a"}]}"#, r"ValidationError: 1 validation error detected: Value 'a*b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+"),
    ("tag value too long", &[ROLE], r#"TagRole {"RoleName":"web","Tags":[{"Key":"k","Value":"$LONGVALUE"}]}"#, "ValidationError: 1 validation error detected: Value '$LONGVALUE' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"),
    ("create role with fifty-one tags", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":$TRUST,"Tags":$TAGS51}"#, "ValidationError: 1 validation error detected: Value '51 tags' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"), // UNCONFIRMED value rendering
    ("create role with fifty tags", &[], r#"CreateRole {"RoleName":"web","AssumeRolePolicyDocument":$TRUST,"Tags":$TAGS50}"#, "ok"),
    ("create profile with fifty-one tags", &[], r#"CreateInstanceProfile {"InstanceProfileName":"web","Tags":$TAGS51}"#, "ValidationError: 1 validation error detected: Value '51 tags' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"), // UNCONFIRMED value rendering
    ("fifty-first role tag", &[ROLE, r#"TagRole {"RoleName":"web","Tags":$TAGS50}"#], r#"TagRole {"RoleName":"web","Tags":[{"Key":"k50","Value":"v"}]}"#, "LimitExceeded: Cannot exceed quota for TagsPerRole: 50"),
    ("retagging a key does not count twice", &[ROLE, r#"TagRole {"RoleName":"web","Tags":$TAGS50}"#], r#"TagRole {"RoleName":"web","Tags":[{"Key":"K0","Value":"v"}]}"#, "ok"),
    ("fifty-first profile tag", &[PROFILE, r#"TagInstanceProfile {"InstanceProfileName":"web","Tags":$TAGS50}"#], r#"TagInstanceProfile {"InstanceProfileName":"web","Tags":[{"Key":"k0","Value":"v"}]}"#, "LimitExceeded: Cannot exceed quota for TagsPerInstanceProfile: 50"),
    ("untag missing role", &[], r#"UntagRole {"RoleName":"web","TagKeys":["a"]}"#, "NoSuchEntity: The role with name web cannot be found."),
    ("untag absent key", &[ROLE], r#"UntagRole {"RoleName":"web","TagKeys":["a"]}"#, "ok"),
    // EC2
    ("associate twice", &[ROLE, PROFILE, ADD, RUN, ASSOC], ASSOC, "IncorrectState: There is an existing association for instance $I"),
    ("associate unknown profile by name", &[RUN], r#"AssociateIamInstanceProfile {"InstanceId":"$I","IamInstanceProfile":{"Name":"nope"}}"#, "InvalidParameterValue: Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"),
    ("associate unknown profile by arn", &[RUN], r#"AssociateIamInstanceProfile {"InstanceId":"$I","IamInstanceProfile":{"Arn":"arn:aws:iam::123456789012:instance-profile/nope"}}"#, "InvalidParameterValue: Value (arn:aws:iam::123456789012:instance-profile/nope) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"),
    ("associate by arn", &[ROLE, PROFILE, ADD, RUN], r#"AssociateIamInstanceProfile {"InstanceId":"$I","IamInstanceProfile":{"Arn":"arn:aws:iam::123456789012:instance-profile/web"}}"#, "ok"),
    ("associate stopped instance", &[ROLE, PROFILE, ADD, RUN, STOP], ASSOC, "ok"),
    ("associate unknown instance", &[PROFILE], r#"AssociateIamInstanceProfile {"InstanceId":"i-0123456789abcdef0","IamInstanceProfile":{"Name":"web"}}"#, "InvalidInstanceID.NotFound: The instance ID 'i-0123456789abcdef0' does not exist"),
    ("malformed instance id", &[], r#"StopInstances {"InstanceIds":["web-1"]}"#, "InvalidInstanceID.Malformed: Invalid id: \"web-1\" (expecting \"i-...\")"),
    ("replace on stopped instance", &[ROLE, PROFILE, ADD, RUN, ASSOC, STOP], r#"ReplaceIamInstanceProfileAssociation {"AssociationId":"$A","IamInstanceProfile":{"Name":"web"}}"#, "IncorrectState: The association $A is not the active association"),
    ("replace on running instance", &[ROLE, PROFILE, ADD, RUN, ASSOC], r#"ReplaceIamInstanceProfileAssociation {"AssociationId":"$A","IamInstanceProfile":{"Name":"web"}}"#, "ok"),
    ("replace with unknown profile", &[ROLE, PROFILE, ADD, RUN, ASSOC], r#"ReplaceIamInstanceProfileAssociation {"AssociationId":"$A","IamInstanceProfile":{"Name":"nope"}}"#, "InvalidParameterValue: Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"),
    ("disassociate unknown", &[], r#"DisassociateIamInstanceProfile {"AssociationId":"iip-assoc-0123456789abcdef0"}"#, "InvalidAssociationID.NotFound: An invalid association-id of 'iip-assoc-0123456789abcdef0' was given"),
    ("disassociate malformed", &[], r#"DisassociateIamInstanceProfile {"AssociationId":"nope"}"#, "InvalidParameterValue: Invalid value for associationId."),
    ("disassociate then associate", &[ROLE, PROFILE, ADD, RUN, ASSOC, r#"DisassociateIamInstanceProfile {"AssociationId":"$A"}"#], ASSOC, "ok"),
    ("associate terminated instance", &[PROFILE, RUN, r#"TerminateInstances {"InstanceIds":["$I"]}"#], ASSOC, "IncorrectState: The instance '$I' is not in a valid state for this operation."),
    ("start terminated instance", &[RUN, r#"TerminateInstances {"InstanceIds":["$I"]}"#], r#"StartInstances {"InstanceIds":["$I"]}"#, "IncorrectState: The instance '$I' is not in a state from which it can be started."),
    ("run with roleless profile", &[PROFILE], r#"RunInstances {"MinCount":1,"MaxCount":1,"IamInstanceProfile":{"Name":"web"}}"#, "InvalidParameterValue: IAM Instance Profile \"arn:aws:iam::123456789012:instance-profile/web\" has no associated IAM Roles"),
    ("ec2 duplicate tag key", &[RUN], r#"CreateTags {"Resources":["$I"],"Tags":[{"Key":"a","Value":"1"},{"Key":"a","Value":"2"}]}"#, "InvalidParameterValue: Duplicate tag key 'a' specified."), // cloud-custodian/cloud-custodian#3792, scylladb/scylla-cluster-tests#1532
    ("ec2 tag keys are case-sensitive", &[RUN], r#"CreateTags {"Resources":["$I"],"Tags":[{"Key":"Name","Value":"1"},{"Key":"name","Value":"2"}]}"#, "ok"),
    ("run duplicate tag key", &[], r#"RunInstances {"MinCount":1,"MaxCount":1,"TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"Name","Value":"x"}]},{"ResourceType":"instance","Tags":[{"Key":"Name","Value":"y"}]}]}"#, "InvalidParameterValue: Duplicate tag key 'Name' specified."), // cloud-custodian/cloud-custodian#3792, scylladb/scylla-cluster-tests#1532
    ("ec2 fifty-first tag", &[RUN, r#"CreateTags {"Resources":["$I"],"Tags":$TAGS50}"#], r#"CreateTags {"Resources":["$I"],"Tags":[{"Key":"k50","Value":"v"}]}"#, "TagLimitExceeded: The maximum number of Tags for a resource has been reached."), // UNCONFIRMED text
    ("ec2 retagging a key does not count twice", &[RUN, r#"CreateTags {"Resources":["$I"],"Tags":$TAGS50}"#], r#"CreateTags {"Resources":["$I"],"Tags":[{"Key":"K0","Value":"w"}]}"#, "ok"),
    // botocore marks CreateTags.Tags required, and EC2's wire cannot carry an empty list.
    ("ec2 no tags to create", &[RUN], r#"CreateTags {"Resources":["$I"],"Tags":[]}"#, "MissingParameter: The request must contain the parameter Tag"),
    ("ec2 fifty-one tags at once", &[RUN], r#"CreateTags {"Resources":["$I"],"Tags":$TAGS51}"#, "TagLimitExceeded: The maximum number of Tags for a resource has been reached."), // UNCONFIRMED text
    ("run with fifty-one tags", &[], r#"RunInstances {"MinCount":1,"MaxCount":1,"TagSpecifications":[{"ResourceType":"instance","Tags":$TAGS51}]}"#, "TagLimitExceeded: The maximum number of Tags for a resource has been reached."), // UNCONFIRMED text
    ("run with fifty tags", &[], r#"RunInstances {"MinCount":1,"MaxCount":1,"TagSpecifications":[{"ResourceType":"instance","Tags":$TAGS50}]}"#, "ok"),
    ("ec2 aws: tag", &[RUN], r#"CreateTags {"Resources":["$I"],"Tags":[{"Key":"aws:x","Value":"1"}]}"#, "InvalidParameterValue: Tag keys starting with 'aws:' are reserved for internal use"),
    ("describe max results", &[], r#"DescribeIamInstanceProfileAssociations {"MaxResults":2}"#, "InvalidParameterValue: Value ( 2 ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."),
];

/// Long values the table cannot spell out: a role name of 65 characters, a
/// profile name of 129, a path of 513, a description of 1001; `$TAGS50` and `$TAGS51` are lists of
/// that many tags `K0`..`K50`.
pub fn long_values(text: &str) -> String {
    let tags = |n: usize| {
        let tags: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"Key":"K{i}","Value":"v"}}"#))
            .collect();
        format!("[{}]", tags.join(","))
    };
    text.replace("$LONGNAME", &"a".repeat(65))
        .replace("$LONGPROFILE", &"p".repeat(129))
        .replace("$LONGPATH", &format!("/{}/", "p".repeat(511)))
        .replace("$LONGVALUE", &"v".repeat(257))
        .replace("$LONGDESCRIPTION", &"d".repeat(1001))
        .replace("$TAGS50", &tags(50))
        .replace("$TAGS51", &tags(51))
}

/// Expands the shorthand setup step `ATTACH10`.
pub fn expand(step: &str) -> Vec<String> {
    if step == "ATTACH10" {
        let policies = [
            "AmazonS3ReadOnlyAccess",
            "AmazonS3FullAccess",
            "AmazonEC2ReadOnlyAccess",
            "AmazonEC2FullAccess",
            "AmazonDynamoDBReadOnlyAccess",
            "AmazonDynamoDBFullAccess",
            "AmazonSQSReadOnlyAccess",
            "AmazonSQSFullAccess",
            "AmazonSNSReadOnlyAccess",
            "AmazonSNSFullAccess",
        ];
        return policies
            .iter()
            .map(|p| format!(r#"AttachRolePolicy {{"RoleName":"web","PolicyArn":"arn:aws:iam::aws:policy/{p}"}}"#))
            .collect();
    }
    vec![step.to_string()]
}
