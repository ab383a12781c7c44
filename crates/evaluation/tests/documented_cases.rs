//! The decisions AWS documents, one table row each, naming the page and
//! section it comes from. Examples are AWS's where the page gives one
//! (account ids, bucket names and dates as written there); a row whose
//! request the page does not spell out applies the rule the section
//! states to the page's own policy.

use rolecall_evaluation::{Context, DecisionKind, NamedPolicy, Policies, PolicySet, Request};
use rolecall_policy::PolicyDocument;
use serde_json::{Value, json};

use DecisionKind::{Allowed, ExplicitDeny, ImplicitDeny};

const UG: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/";
const EVALUATION: &str = "reference_policies_evaluation-logic.html";
const BOUNDARIES: &str = "access_policies_boundaries.html";
const SESSION: &str = "access_policies.html#policies_session";
const EFFECT: &str = "reference_policies_elements_effect.html";
const ACTION: &str = "reference_policies_elements_action.html";
const NOT_ACTION: &str = "reference_policies_elements_notaction.html";
const RESOURCE: &str = "reference_policies_elements_resource.html";
const NOT_RESOURCE: &str = "reference_policies_elements_notresource.html";
const CONDITION: &str = "reference_policies_elements_condition.html";
const OPERATORS: &str = "reference_policies_elements_condition_operators.html";
const MULTIVALUED: &str = "reference_policies_condition-single-vs-multi-valued-context-keys.html";
const MULTIVALUED_EXAMPLES: &str =
    "reference_policies_condition_examples-multi-valued-context-keys.html";
const VARIABLES: &str = "reference_policies_variables.html";
const VERSION: &str = "reference_policies_elements_version.html";
const DATES: &str = "reference_policies_examples_aws-dates.html";

/// One documented decision.
struct Case {
    /// The User Guide page (relative to [`UG`]) and the section on it.
    page: &'static str,
    section: &'static str,
    identity: Vec<Value>,
    boundary: Option<Vec<Value>>,
    session: Option<Vec<Value>>,
    action: &'static str,
    resource: &'static str,
    context: Context,
    expected: DecisionKind,
}

fn case(page: &'static str, section: &'static str) -> Case {
    Case {
        page,
        section,
        identity: Vec::new(),
        boundary: None,
        session: None,
        action: "",
        resource: "",
        context: Context::new(),
        expected: ImplicitDeny,
    }
}

/// A 2012-10-17 document of these statements.
fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

impl Case {
    fn identity(mut self, statements: Value) -> Self {
        self.identity.push(doc(statements));
        self
    }
    fn identity_document(mut self, document: Value) -> Self {
        self.identity.push(document);
        self
    }
    fn boundary(mut self, statements: Value) -> Self {
        self.boundary
            .get_or_insert_with(Vec::new)
            .push(doc(statements));
        self
    }
    fn session(mut self, statements: Value) -> Self {
        self.session
            .get_or_insert_with(Vec::new)
            .push(doc(statements));
        self
    }
    fn request(mut self, action: &'static str, resource: &'static str) -> Self {
        self.action = action;
        self.resource = resource;
        self
    }
    fn with(mut self, key: &str, values: &[&str]) -> Self {
        self.context.set(key, values.iter().copied());
        self
    }
    fn expect(mut self, expected: DecisionKind) -> Self {
        self.expected = expected;
        self
    }
}

/// Allow every action on every resource when `condition` holds: the rows
/// that test one operator.
fn when(page: &'static str, section: &'static str, condition: Value) -> Case {
    case(page, section)
        .identity(
            json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}),
        )
        .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
}

fn allow_all() -> Value {
    json!({"Effect": "Allow", "Action": "*", "Resource": "*"})
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // ---- Policy evaluation logic ----
        case(EVALUATION, "Policy evaluation logic > By default, all requests are implicitly denied")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .request("ec2:RunInstances", "*").expect(ImplicitDeny),
        case(EVALUATION, "Policy evaluation logic > An explicit allow in an identity-based policy overrides the default")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(Allowed),
        case(EVALUATION, "Policy evaluation logic > An explicit deny in any policy overrides any allows (same policy)")
            .identity(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                             {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]))
            .request("s3:DeleteObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(ExplicitDeny),
        case(EVALUATION, "Policy evaluation logic > An explicit deny in any policy overrides any allows (another policy)")
            .identity(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}))
            .identity(json!({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}))
            .request("iam:CreateUser", "arn:aws:iam::123456789012:user/Bob").expect(ExplicitDeny),
        case(EVALUATION, "Policy evaluation logic > A deny that does not apply to the request leaves the allow")
            .identity(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                             {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket2/*"}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(Allowed),
        case(EVALUATION, "Policy evaluation logic > A deny whose condition is false does not apply")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "*", "Resource": "*",
                              "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:SecureTransport", &["true"]).expect(Allowed),
        case(EVALUATION, "Policy evaluation logic > Explicit deny in a permissions boundary overrides identity allows")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .boundary(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                             {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]))
            .request("s3:DeleteBucket", "arn:aws:s3:::amzn-s3-demo-bucket").expect(ExplicitDeny),
        case(EVALUATION, "Policy evaluation logic > Explicit deny in a session policy overrides identity allows")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .session(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]))
            .request("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(ExplicitDeny),
        case(EVALUATION, "Policy evaluation logic > Identity, boundary and session policies all allow")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .boundary(json!({"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}))
            .session(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(Allowed),
        case(EFFECT, "Effect > Deny: explicitly denies access, an allow elsewhere notwithstanding")
            .identity(json!([allow_all(), {"Effect": "Deny", "Action": "*", "Resource": "*"}]))
            .request("sqs:SendMessage", "arn:aws:sqs:us-east-2:123456789012:queue1").expect(ExplicitDeny),

        // ---- Permissions boundaries ----
        case(BOUNDARIES, "Permissions boundaries > example: boundary allows S3, CloudWatch, EC2; identity allows iam:CreateUser")
            .identity(json!({"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}))
            .boundary(json!({"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}))
            .request("iam:CreateUser", "arn:aws:iam::123456789012:user/Zhang").expect(ImplicitDeny),
        case(BOUNDARIES, "Permissions boundaries > effective permissions: both identity policy and boundary allow")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .boundary(json!({"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}))
            .request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket").expect(Allowed),
        case(BOUNDARIES, "Permissions boundaries > a boundary does not grant permissions on its own")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .boundary(json!({"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}))
            .request("ec2:DescribeInstances", "*").expect(ImplicitDeny),
        case(BOUNDARIES, "Permissions boundaries > boundary limits the resources too")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .boundary(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket2/key").expect(ImplicitDeny),

        // ---- Session policies ----
        case(SESSION, "Session policies > permissions are the intersection of identity and session policies")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .session(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .request("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(ImplicitDeny),
        case(SESSION, "Session policies > an action both allow is allowed")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .session(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(Allowed),
        case(SESSION, "Session policies > a session policy cannot grant more than the identity policies")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
            .session(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}))
            .request("iam:CreateRole", "arn:aws:iam::123456789012:role/x").expect(ImplicitDeny),

        // ---- Action ----
        case(ACTION, "Action > action names are case insensitive (iam:listaccesskeys)")
            .identity(json!({"Effect": "Allow", "Action": "iam:listaccesskeys", "Resource": "*"}))
            .request("IAM:ListAccessKeys", "arn:aws:iam::123456789012:user/Bob").expect(Allowed),
        case(ACTION, "Action > all actions of a service (s3:*)")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
            .request("s3:PutBucketPolicy", "arn:aws:s3:::amzn-s3-demo-bucket").expect(Allowed),
        case(ACTION, "Action > wildcard in the action name (iam:*AccessKey*) matches CreateAccessKey")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*"}))
            .request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/Bob").expect(Allowed),
        case(ACTION, "Action > wildcard in the action name (iam:*AccessKey*) does not match CreateUser")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*"}))
            .request("iam:CreateUser", "arn:aws:iam::123456789012:user/Bob").expect(ImplicitDeny),
        case(ACTION, "Action > a list of actions (sqs:SendMessage, sqs:ReceiveMessage)")
            .identity(json!({"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": "*"}))
            .request("sqs:ReceiveMessage", "arn:aws:sqs:us-east-2:123456789012:queue1").expect(Allowed),
        case(ACTION, "Action > ? matches a single character")
            .identity(json!({"Effect": "Allow", "Action": "iam:?etUser", "Resource": "*"}))
            .request("iam:GetUser", "arn:aws:iam::123456789012:user/Bob").expect(Allowed),
        case(ACTION, "Action > the service prefix must match (s3:Get* is not s3control:GetJob...)")
            .identity(json!({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}))
            .request("s3control:GetJobTagging", "*").expect(ImplicitDeny),
        case(ACTION, "Action > * alone names every action of every service")
            .identity(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}))
            .request("dynamodb:GetItem", "arn:aws:dynamodb:us-east-2:123456789012:table/books_table").expect(Allowed),

        // ---- NotAction ----
        case(NOT_ACTION, "NotAction with Allow > all actions except IAM: S3 is allowed")
            .identity(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
            .request("s3:ListAllMyBuckets", "*").expect(Allowed),
        case(NOT_ACTION, "NotAction with Allow > all actions except IAM: IAM is not")
            .identity(json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
            .request("iam:CreateUser", "arn:aws:iam::123456789012:user/Bob").expect(ImplicitDeny),
        case(NOT_ACTION, "NotAction with Allow > all S3 actions except DeleteBucket: ListBucket allowed")
            .identity(json!({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}))
            .request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket").expect(Allowed),
        case(NOT_ACTION, "NotAction with Allow > all S3 actions except DeleteBucket: DeleteBucket not allowed")
            .identity(json!({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}))
            .request("s3:DeleteBucket", "arn:aws:s3:::amzn-s3-demo-bucket").expect(ImplicitDeny),
        case(NOT_ACTION, "NotAction with Deny > deny everything but IAM without MFA (BoolIfExists, key missing)")
            .identity(json!([allow_all(),
                             {"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                              "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(ExplicitDeny),
        case(NOT_ACTION, "NotAction with Deny > deny everything but IAM without MFA (MFA present)")
            .identity(json!([allow_all(),
                             {"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                              "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:MultiFactorAuthPresent", &["true"]).expect(Allowed),
        case(NOT_ACTION, "NotAction with Deny > deny everything but IAM without MFA (IAM action still allowed)")
            .identity(json!([allow_all(),
                             {"Sid": "DenyAllUsersNotUsingMFA", "Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
                              "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]))
            .request("iam:ChangePassword", "arn:aws:iam::123456789012:user/Bob").expect(Allowed),

        // ---- Resource ----
        case(RESOURCE, "Resource > wildcard: every user of the account (user/*)")
            .identity(json!({"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::123456789012:user/*"}))
            .request("iam:GetUser", "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob").expect(Allowed),
        case(RESOURCE, "Resource > user/* names no role")
            .identity(json!({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "arn:aws:iam::123456789012:user/*"}))
            .request("iam:GetRole", "arn:aws:iam::123456789012:role/Bob").expect(ImplicitDeny),
        case(RESOURCE, "Resource > wildcards in paths: amzn-s3-demo-bucket/*/test/* matches 1/test/object.jpg")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/1/test/object.jpg").expect(Allowed),
        case(RESOURCE, "Resource > wildcards in paths: amzn-s3-demo-bucket/*/test/* matches 1/2/test/3/object.jpg")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg").expect(Allowed),
        case(RESOURCE, "Resource > wildcards in paths: amzn-s3-demo-bucket/*/test/* does not match 1/object.jpg")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/1/object.jpg").expect(ImplicitDeny),
        case(RESOURCE, "Resource > a trailing * expands beyond the colons of later ARN segments")
            .identity(json!({"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:ec2:us-east-1:*"}))
            .request("ec2:StartInstances", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0").expect(Allowed),
        case(RESOURCE, "Resource > * in region and account segments")
            .identity(json!({"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:ec2:*:*:instance/*"}))
            .request("ec2:StopInstances", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0").expect(Allowed),
        case(RESOURCE, "Resource > ARNs match with case (bucket names differ)")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}))
            .request("s3:GetObject", "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/key").expect(ImplicitDeny),
        case(RESOURCE, "Resource > multiple resources (books_table, magazines_table)")
            .identity(json!({"Effect": "Allow", "Action": "dynamodb:*", "Resource": [
                "arn:aws:dynamodb:us-east-2:123456789012:table/books_table",
                "arn:aws:dynamodb:us-east-2:123456789012:table/magazines_table"]}))
            .request("dynamodb:GetItem", "arn:aws:dynamodb:us-east-2:123456789012:table/magazines_table").expect(Allowed),
        case(RESOURCE, "Resource > multiple resources: a table not listed")
            .identity(json!({"Effect": "Allow", "Action": "dynamodb:*", "Resource": [
                "arn:aws:dynamodb:us-east-2:123456789012:table/books_table",
                "arn:aws:dynamodb:us-east-2:123456789012:table/magazines_table"]}))
            .request("dynamodb:GetItem", "arn:aws:dynamodb:us-east-2:123456789012:table/news_table").expect(ImplicitDeny),
        case(RESOURCE, "Resource > ? matches one character of a resource")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/file?.txt"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/file1.txt").expect(Allowed),

        // ---- NotResource ----
        case(NOT_RESOURCE, "NotResource with Allow > everything in S3 except HRBucket/Payroll: other objects")
            .identity(json!({"Effect": "Allow", "Action": "s3:*",
                             "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}))
            .request("s3:GetObject", "arn:aws:s3:::HRBucket/Handbook.pdf").expect(Allowed),
        case(NOT_RESOURCE, "NotResource with Allow > everything in S3 except HRBucket/Payroll: Payroll")
            .identity(json!({"Effect": "Allow", "Action": "s3:*",
                             "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}))
            .request("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv").expect(ImplicitDeny),
        case(NOT_RESOURCE, "NotResource with Deny > deny all but Payroll: another bucket is denied")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "s3:*",
                              "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(ExplicitDeny),
        case(NOT_RESOURCE, "NotResource with Deny > deny all but Payroll: Payroll stays allowed")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "s3:*",
                              "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]))
            .request("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv").expect(Allowed),

        // ---- Condition element ----
        when(CONDITION, "Condition > context key names are not case-sensitive (aws:SourceIP vs AWS:SourceIp)",
             json!({"IpAddress": {"aws:SourceIP": "203.0.113.0/24"}}))
            .with("AWS:SourceIp", &["203.0.113.7"]).expect(Allowed),
        when(CONDITION, "Condition > StringEquals is case-sensitive: johndoe does not match JohnDoe",
             json!({"StringEquals": {"aws:username": "johndoe"}}))
            .with("aws:username", &["JohnDoe"]).expect(ImplicitDeny),
        when(CONDITION, "Condition > StringEqualsIgnoreCase matches johndoe and JohnDoe",
             json!({"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}))
            .with("aws:username", &["JohnDoe"]).expect(Allowed),
        when(CONDITION, "Condition with multiple context keys > all keys must match (both match)",
             json!({"StringEquals": {"aws:PrincipalTag/department": "finance", "aws:PrincipalTag/role": "audit"}}))
            .with("aws:PrincipalTag/department", &["finance"]).with("aws:PrincipalTag/role", &["audit"]).expect(Allowed),
        when(CONDITION, "Condition with multiple context keys > all keys must match (one differs)",
             json!({"StringEquals": {"aws:PrincipalTag/department": "finance", "aws:PrincipalTag/role": "audit"}}))
            .with("aws:PrincipalTag/department", &["finance"]).with("aws:PrincipalTag/role", &["dev"]).expect(ImplicitDeny),
        when(CONDITION, "Condition with multiple values for one key > values are ORed",
             json!({"StringEquals": {"aws:PrincipalTag/department": ["finance", "hr", "legal"]}}))
            .with("aws:PrincipalTag/department", &["hr"]).expect(Allowed),
        when(CONDITION, "Condition with multiple operators > all operators are ANDed",
             json!({"StringEquals": {"aws:PrincipalTag/department": "finance"},
                    "Bool": {"aws:SecureTransport": "true"}}))
            .with("aws:PrincipalTag/department", &["finance"]).with("aws:SecureTransport", &["false"]).expect(ImplicitDeny),

        // ---- String condition operators ----
        case(OPERATORS, "String condition operators > StringEquals example: job-category iamuser-admin")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::123456789012:user/*",
                             "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}}))
            .request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/Bob")
            .with("aws:PrincipalTag/job-category", &["iamuser-admin"]).expect(Allowed),
        case(OPERATORS, "String condition operators > StringEquals example: another job-category")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::123456789012:user/*",
                             "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}}))
            .request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/Bob")
            .with("aws:PrincipalTag/job-category", &["iamuser-viewer"]).expect(ImplicitDeny),
        case(OPERATORS, "String condition operators > StringEquals example: key missing, condition false")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::123456789012:user/*",
                             "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}}))
            .request("iam:CreateAccessKey", "arn:aws:iam::123456789012:user/Bob").expect(ImplicitDeny),
        when(OPERATORS, "Condition operators > key not present: a negated operator (StringNotEquals) is true",
             json!({"StringNotEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}})).expect(Allowed),
        when(OPERATORS, "String condition operators > StringNotEquals: equal value fails",
             json!({"StringNotEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}))
            .with("aws:PrincipalTag/job-category", &["iamuser-admin"]).expect(ImplicitDeny),
        when(OPERATORS, "String condition operators > StringNotEquals: different value holds",
             json!({"StringNotEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}))
            .with("aws:PrincipalTag/job-category", &["viewer"]).expect(Allowed),
        when(OPERATORS, "String condition operators > StringNotEqualsIgnoreCase: JOHNDOE equals johndoe ignoring case",
             json!({"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}}))
            .with("aws:username", &["JOHNDOE"]).expect(ImplicitDeny),
        case(OPERATORS, "String condition operators > StringLike example: s3:prefix home/${aws:username}/")
            .identity(json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
                             "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}}))
            .request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket")
            .with("s3:prefix", &["home/alice/"]).with("aws:username", &["alice"]).expect(Allowed),
        case(OPERATORS, "String condition operators > StringLike example: another user's home prefix")
            .identity(json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
                             "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}}))
            .request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket")
            .with("s3:prefix", &["home/bob/"]).with("aws:username", &["alice"]).expect(ImplicitDeny),
        case(OPERATORS, "String condition operators > StringLike example: the empty prefix (bucket root)")
            .identity(json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
                             "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}}))
            .request("s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket")
            .with("s3:prefix", &[""]).with("aws:username", &["alice"]).expect(Allowed),
        when(OPERATORS, "String condition operators > StringLike: multi-character wildcard",
             json!({"StringLike": {"aws:PrincipalTag/team": "dev-*"}}))
            .with("aws:PrincipalTag/team", &["dev-platform"]).expect(Allowed),
        when(OPERATORS, "String condition operators > StringLike is case-sensitive",
             json!({"StringLike": {"aws:PrincipalTag/team": "dev-*"}}))
            .with("aws:PrincipalTag/team", &["DEV-platform"]).expect(ImplicitDeny),
        when(OPERATORS, "Condition operators > key not present: StringNotLike is true",
             json!({"StringNotLike": {"aws:PrincipalTag/team": "dev-*"}})).expect(Allowed),
        when(OPERATORS, "String condition operators > StringNotLike: a matching value fails",
             json!({"StringNotLike": {"aws:PrincipalTag/team": "dev-*"}}))
            .with("aws:PrincipalTag/team", &["dev-ops"]).expect(ImplicitDeny),

        // ---- Numeric condition operators ----
        when(OPERATORS, "Numeric condition operators > NumericLessThanEquals s3:max-keys 10: 10 allowed",
             json!({"NumericLessThanEquals": {"s3:max-keys": "10"}}))
            .with("s3:max-keys", &["10"]).expect(Allowed),
        when(OPERATORS, "Numeric condition operators > NumericLessThanEquals s3:max-keys 10: 11 denied",
             json!({"NumericLessThanEquals": {"s3:max-keys": "10"}}))
            .with("s3:max-keys", &["11"]).expect(ImplicitDeny),
        when(OPERATORS, "Numeric condition operators > NumericLessThanEquals s3:max-keys 10: key missing",
             json!({"NumericLessThanEquals": {"s3:max-keys": "10"}})).expect(ImplicitDeny),
        when(OPERATORS, "Numeric condition operators > NumericEquals compares numbers, not text",
             json!({"NumericEquals": {"s3:max-keys": "10"}}))
            .with("s3:max-keys", &["10.0"]).expect(Allowed),
        when(OPERATORS, "Numeric condition operators > NumericNotEquals with the key missing is true",
             json!({"NumericNotEquals": {"s3:max-keys": "10"}})).expect(Allowed),
        when(OPERATORS, "Numeric condition operators > NumericLessThan",
             json!({"NumericLessThan": {"s3:max-keys": "10"}}))
            .with("s3:max-keys", &["10"]).expect(ImplicitDeny),
        when(OPERATORS, "Numeric condition operators > NumericGreaterThan",
             json!({"NumericGreaterThan": {"s3:max-keys": "10"}}))
            .with("s3:max-keys", &["11"]).expect(Allowed),
        when(OPERATORS, "Numeric condition operators > NumericGreaterThanEquals",
             json!({"NumericGreaterThanEquals": {"s3:max-keys": "10"}}))
            .with("s3:max-keys", &["9"]).expect(ImplicitDeny),

        // ---- Date condition operators ----
        case(DATES, "AWS: Allows access based on date and time > within the window")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                             "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                                           "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:CurrentTime", &["2020-05-15T12:00:00Z"]).expect(Allowed),
        case(DATES, "AWS: Allows access based on date and time > after the window")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                             "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                                           "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:CurrentTime", &["2020-07-01T00:00:00Z"]).expect(ImplicitDeny),
        case(DATES, "AWS: Allows access based on date and time > the time as epoch seconds")
            .identity(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                             "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                                           "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:CurrentTime", &["1589544000"]).expect(Allowed),
        when(OPERATORS, "Date condition operators > DateGreaterThan aws:TokenIssueTime 2020-01-01T00:00:01Z",
             json!({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}))
            .with("aws:TokenIssueTime", &["2020-01-01T00:00:00Z"]).expect(ImplicitDeny),
        when(OPERATORS, "Date condition operators > policy date as epoch seconds",
             json!({"DateLessThan": {"aws:CurrentTime": "1577836800"}}))
            .with("aws:CurrentTime", &["2019-12-31T23:59:59Z"]).expect(Allowed),
        when(OPERATORS, "Date condition operators > DateEquals across time zones",
             json!({"DateEquals": {"aws:CurrentTime": "2020-01-01T12:00:00Z"}}))
            .with("aws:CurrentTime", &["2020-01-01T14:00:00+02:00"]).expect(Allowed),
        when(OPERATORS, "Date condition operators > DateNotEquals with the key missing is true",
             json!({"DateNotEquals": {"aws:CurrentTime": "2020-01-01T12:00:00Z"}})).expect(Allowed),
        when(OPERATORS, "Date condition operators > DateLessThanEquals includes the instant",
             json!({"DateLessThanEquals": {"aws:CurrentTime": "2020-01-01T12:00:00Z"}}))
            .with("aws:CurrentTime", &["2020-01-01T12:00:00Z"]).expect(Allowed),
        when(OPERATORS, "Date condition operators > DateGreaterThanEquals excludes earlier instants",
             json!({"DateGreaterThanEquals": {"aws:CurrentTime": "2020-01-01T12:00:00Z"}}))
            .with("aws:CurrentTime", &["2020-01-01T11:59:59Z"]).expect(ImplicitDeny),

        // ---- Boolean condition operators ----
        when(OPERATORS, "Boolean condition operators > Bool aws:SecureTransport true: HTTPS",
             json!({"Bool": {"aws:SecureTransport": "true"}}))
            .with("aws:SecureTransport", &["true"]).expect(Allowed),
        when(OPERATORS, "Boolean condition operators > Bool aws:SecureTransport true: plain HTTP",
             json!({"Bool": {"aws:SecureTransport": "true"}}))
            .with("aws:SecureTransport", &["false"]).expect(ImplicitDeny),
        when(OPERATORS, "Boolean condition operators > Bool with the key missing is false",
             json!({"Bool": {"aws:SecureTransport": "true"}})).expect(ImplicitDeny),
        case(OPERATORS, "Boolean condition operators > deny when aws:SecureTransport is false")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                              "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:SecureTransport", &["false"]).expect(ExplicitDeny),

        // ---- Binary condition operators ----
        when(OPERATORS, "Binary condition operators > BinaryEquals base64 QmluYXJ5VmFsdWVJbkJhc2U2NA==",
             json!({"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}))
            .with("key", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="]).expect(Allowed),
        when(OPERATORS, "Binary condition operators > BinaryEquals with other bytes",
             json!({"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}))
            .with("key", &["b3RoZXI="]).expect(ImplicitDeny),

        // ---- IP address condition operators ----
        case(OPERATORS, "IP address condition operators > IpAddress 203.0.113.0/24: inside the range")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::123456789012:user/*",
                             "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}))
            .request("iam:ListAccessKeys", "arn:aws:iam::123456789012:user/Bob")
            .with("aws:SourceIp", &["203.0.113.45"]).expect(Allowed),
        case(OPERATORS, "IP address condition operators > IpAddress 203.0.113.0/24: outside the range")
            .identity(json!({"Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "arn:aws:iam::123456789012:user/*",
                             "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}))
            .request("iam:ListAccessKeys", "arn:aws:iam::123456789012:user/Bob")
            .with("aws:SourceIp", &["198.51.100.1"]).expect(ImplicitDeny),
        when(OPERATORS, "IP address condition operators > IPv4 and IPv6 ranges: an IPv6 address inside",
             json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}))
            .with("aws:SourceIp", &["2001:DB8:1234:5678::1"]).expect(Allowed),
        when(OPERATORS, "IP address condition operators > IPv4 and IPv6 ranges: an IPv6 address outside",
             json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}))
            .with("aws:SourceIp", &["2001:DB8:1234:5679::1"]).expect(ImplicitDeny),
        case(OPERATORS, "IP address condition operators > deny NotIpAddress: from an allowed range")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "*", "Resource": "*",
                              "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:SourceIp", &["192.0.2.10"]).expect(Allowed),
        case(OPERATORS, "IP address condition operators > deny NotIpAddress: from elsewhere")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "*", "Resource": "*",
                              "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key")
            .with("aws:SourceIp", &["198.51.100.1"]).expect(ExplicitDeny),
        case(OPERATORS, "Condition operators > key not present: NotIpAddress is true, so the deny applies")
            .identity(json!([allow_all(),
                             {"Effect": "Deny", "Action": "*", "Resource": "*",
                              "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}}]))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key").expect(ExplicitDeny),

        // ---- ARN condition operators ----
        when(OPERATORS, "Amazon Resource Name (ARN) condition operators > ArnEquals aws:SourceArn: the topic",
             json!({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-west-2:123456789012:my-topic"}}))
            .with("aws:SourceArn", &["arn:aws:sns:us-west-2:123456789012:my-topic"]).expect(Allowed),
        when(OPERATORS, "Amazon Resource Name (ARN) condition operators > ArnEquals aws:SourceArn: another topic",
             json!({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-west-2:123456789012:my-topic"}}))
            .with("aws:SourceArn", &["arn:aws:sns:us-west-2:123456789012:other-topic"]).expect(ImplicitDeny),
        when(OPERATORS, "Amazon Resource Name (ARN) condition operators > ArnLike: wildcards per component",
             json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:*"}}))
            .with("aws:SourceArn", &["arn:aws:sns:eu-west-1:123456789012:alerts"]).expect(Allowed),
        when(OPERATORS, "Amazon Resource Name (ARN) condition operators > ArnLike: components checked separately",
             json!({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:*"}}))
            .with("aws:SourceArn", &["arn:aws:sns:eu-west-1:999999999999:alerts"]).expect(ImplicitDeny),
        when(OPERATORS, "Condition operators > key not present: ArnNotLike is true",
             json!({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:*"}})).expect(Allowed),
        when(OPERATORS, "Amazon Resource Name (ARN) condition operators > ArnNotEquals: the same ARN fails",
             json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-west-2:123456789012:my-topic"}}))
            .with("aws:SourceArn", &["arn:aws:sns:us-west-2:123456789012:my-topic"]).expect(ImplicitDeny),

        // ---- ...IfExists ----
        case(OPERATORS, "...IfExists condition operators > StringLikeIfExists ec2:InstanceType: t2.micro")
            .identity(json!({"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                             "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}))
            .request("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*")
            .with("ec2:InstanceType", &["t2.micro"]).expect(Allowed),
        case(OPERATORS, "...IfExists condition operators > StringLikeIfExists ec2:InstanceType: m5.large")
            .identity(json!({"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                             "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}))
            .request("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*")
            .with("ec2:InstanceType", &["m5.large"]).expect(ImplicitDeny),
        case(OPERATORS, "...IfExists condition operators > StringLikeIfExists: resources without the key (a volume)")
            .identity(json!({"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                             "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}))
            .request("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:volume/*").expect(Allowed),
        case(OPERATORS, "...IfExists condition operators > without IfExists a missing key fails the condition")
            .identity(json!({"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                             "Condition": {"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}))
            .request("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:volume/*").expect(ImplicitDeny),

        // ---- Null ----
        when(OPERATORS, "Condition operator to check existence of condition keys > Null true: long-term credentials",
             json!({"Null": {"aws:TokenIssueTime": "true"}})).expect(Allowed),
        when(OPERATORS, "Condition operator to check existence of condition keys > Null true: temporary credentials",
             json!({"Null": {"aws:TokenIssueTime": "true"}}))
            .with("aws:TokenIssueTime", &["2020-01-01T00:00:00Z"]).expect(ImplicitDeny),
        when(OPERATORS, "Condition operator to check existence of condition keys > Null false: key present",
             json!({"Null": {"aws:TokenIssueTime": "false"}}))
            .with("aws:TokenIssueTime", &["2020-01-01T00:00:00Z"]).expect(Allowed),
        when(OPERATORS, "Condition operator to check existence of condition keys > Null false: key missing",
             json!({"Null": {"aws:TokenIssueTime": "false"}})).expect(ImplicitDeny),

        // ---- Multivalued context keys ----
        when(MULTIVALUED, "Condition set operators > ForAllValues:StringEquals: every value in the set",
             json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["environment", "cost-center"]).expect(Allowed),
        when(MULTIVALUED, "Condition set operators > ForAllValues:StringEquals: a subset",
             json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["environment"]).expect(Allowed),
        when(MULTIVALUED, "Condition set operators > ForAllValues:StringEquals: a value outside the set",
             json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["environment", "dept"]).expect(ImplicitDeny),
        when(MULTIVALUED, "Condition set operators > ForAllValues returns true if the key is missing",
             json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}})).expect(Allowed),
        when(MULTIVALUED, "Condition set operators > ForAllValues returns true for an empty key",
             json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &[]).expect(Allowed),
        when(MULTIVALUED, "Condition set operators > ForAnyValue:StringEquals: one value in the set",
             json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["environment", "dept"]).expect(Allowed),
        when(MULTIVALUED, "Condition set operators > ForAnyValue:StringEquals: no value in the set",
             json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["dept", "owner"]).expect(ImplicitDeny),
        when(MULTIVALUED, "Condition set operators > ForAnyValue returns false if the key is missing",
             json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}})).expect(ImplicitDeny),
        when(MULTIVALUED, "Condition set operators > ForAnyValue returns false for an empty key",
             json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &[]).expect(ImplicitDeny),
        when(MULTIVALUED, "Condition set operators > ForAllValues:StringNotEquals: no value in the set",
             json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["dept", "owner"]).expect(Allowed),
        when(MULTIVALUED, "Condition set operators > ForAllValues:StringNotEquals: one value in the set",
             json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["dept", "environment"]).expect(ImplicitDeny),
        when(MULTIVALUED, "Condition set operators > ForAnyValue:StringNotEquals: one value outside the set",
             json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))
            .with("aws:TagKeys", &["environment", "dept"]).expect(Allowed),
        case(MULTIVALUED_EXAMPLES, "Deny policy with condition set operator ForAllValues > tag keys not starting with key1")
            .identity(json!([allow_all(),
                             {"Sid": "DenyRestrictedTags", "Effect": "Deny", "Action": ["iam:Tag*", "iam:UnTag*"], "Resource": "*",
                              "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}}]))
            .request("iam:TagRole", "arn:aws:iam::123456789012:role/app")
            .with("aws:TagKeys", &["key2-team"]).expect(ExplicitDeny),
        case(MULTIVALUED_EXAMPLES, "Deny policy with condition set operator ForAllValues > tag keys starting with key1")
            .identity(json!([allow_all(),
                             {"Sid": "DenyRestrictedTags", "Effect": "Deny", "Action": ["iam:Tag*", "iam:UnTag*"], "Resource": "*",
                              "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}}]))
            .request("iam:TagRole", "arn:aws:iam::123456789012:role/app")
            .with("aws:TagKeys", &["key1-team"]).expect(Allowed),
        when(MULTIVALUED_EXAMPLES, "Multivalued context key examples > Null false guards ForAllValues: key missing",
             json!({"ForAllValues:StringLike": {"aws:TagKeys": "key1*"}, "Null": {"aws:TagKeys": "false"}})).expect(ImplicitDeny),
        when(MULTIVALUED_EXAMPLES, "Multivalued context key examples > Null false guards ForAllValues: key present",
             json!({"ForAllValues:StringLike": {"aws:TagKeys": "key1*"}, "Null": {"aws:TagKeys": "false"}}))
            .with("aws:TagKeys", &["key1-team"]).expect(Allowed),

        // ---- Policy variables ----
        case(VARIABLES, "Introduction > ${aws:username} in the Resource: the user's own folder")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/alice/notes.txt")
            .with("aws:username", &["alice"]).expect(Allowed),
        case(VARIABLES, "Introduction > ${aws:username} in the Resource: another user's folder")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/bob/notes.txt")
            .with("aws:username", &["alice"]).expect(ImplicitDeny),
        case(VARIABLES, "Request information that you can use for policy variables > key absent (a role has no aws:username)")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket//notes.txt").expect(ImplicitDeny),
        case(VARIABLES, "Specifying default values > ${aws:PrincipalTag/team, 'company-wide'} without the tag")
            .identity(json!({"Effect": "Allow", "Action": "s3:*",
                             "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/company-wide/x").expect(Allowed),
        case(VARIABLES, "Specifying default values > ${aws:PrincipalTag/team, 'company-wide'} with the tag")
            .identity(json!({"Effect": "Allow", "Action": "s3:*",
                             "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/red/x")
            .with("aws:PrincipalTag/team", &["red"]).expect(Allowed),
        case(VARIABLES, "Specifying default values > the default does not apply when the tag is set")
            .identity(json!({"Effect": "Allow", "Action": "s3:*",
                             "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:PrincipalTag/team, 'company-wide'}/*"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/company-wide/x")
            .with("aws:PrincipalTag/team", &["red"]).expect(ImplicitDeny),
        case(VARIABLES, "Request information that you can use for policy variables > ${aws:userid}")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:userid}/*"}))
            .request("s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/home/AIDAJQABLZS4A3QDU576Q/x")
            .with("aws:userid", &["AIDAJQABLZS4A3QDU576Q"]).expect(Allowed),
        case(VARIABLES, "Special characters > ${*} is a literal asterisk")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${*}"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*").expect(Allowed),
        case(VARIABLES, "Special characters > ${*} is not a wildcard")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${*}"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/anything").expect(ImplicitDeny),
        case(VARIABLES, "Special characters > ${?} is a literal question mark")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/what${?}"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/whatX").expect(ImplicitDeny),
        case(VARIABLES, "Special characters > ${$} is a literal dollar sign")
            .identity(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${$}{aws:username}"}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}")
            .with("aws:username", &["alice"]).expect(Allowed),
        when(VARIABLES, "Using policy variables in conditions > resource tag equals the principal's tag",
             json!({"StringEquals": {"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}}))
            .with("aws:ResourceTag/project", &["apollo"]).with("aws:PrincipalTag/project", &["apollo"]).expect(Allowed),
        when(VARIABLES, "Using policy variables in conditions > tags differ",
             json!({"StringEquals": {"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}}))
            .with("aws:ResourceTag/project", &["apollo"]).with("aws:PrincipalTag/project", &["gemini"]).expect(ImplicitDeny),
        when(VARIABLES, "Using policy variables in conditions > the variable's key is absent",
             json!({"StringEquals": {"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}}))
            .with("aws:ResourceTag/project", &["apollo"]).expect(ImplicitDeny),

        // ---- Version ----
        case(VERSION, "Version > 2008-10-17: policy variables are literal text")
            .identity_document(json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}]}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/alice/notes.txt")
            .with("aws:username", &["alice"]).expect(ImplicitDeny),
        case(VERSION, "Version > no Version element: policy variables are literal text")
            .identity_document(json!({"Statement": [{"Effect": "Allow", "Action": "s3:*",
                "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}]}))
            .request("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/notes.txt")
            .with("aws:username", &["alice"]).expect(Allowed),
    ]
}

fn evaluate(case: &Case) -> Result<DecisionKind, String> {
    let named = |documents: &[Value], layer: &str| -> Vec<NamedPolicy<String>> {
        documents
            .iter()
            .enumerate()
            .map(|(i, document)| {
                NamedPolicy::new(
                    format!("{layer}[{i}]"),
                    format!("{layer}-{i}"),
                    PolicyDocument::from_value(document.clone()),
                )
            })
            .collect()
    };
    let policies = Policies {
        identity: named(&case.identity, "identity"),
        permissions_boundary: case.boundary.as_deref().map(|d| named(d, "boundary")),
        session: case.session.as_deref().map(|d| named(d, "session")),
    };
    let set = PolicySet::compile(policies).map_err(|e| e.to_string())?;
    let request = Request::new(case.action, case.resource).with_context(case.context.clone());
    Ok(set.evaluate(&request).kind)
}

#[test]
fn every_documented_case_decides_as_aws_documents() {
    let cases = cases();
    assert!(cases.len() >= 80, "{} cases, fewer than 80", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        assert!(!case.section.is_empty() && !case.page.is_empty());
        match evaluate(case) {
            Ok(kind) if kind == case.expected => {}
            outcome => failures.push(format!(
                "{UG}{} ({}): expected {:?}, got {:?}",
                case.page, case.section, case.expected, outcome
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_covers_every_outcome_and_every_page() {
    let cases = cases();
    for kind in [Allowed, ExplicitDeny, ImplicitDeny] {
        assert!(
            cases.iter().any(|c| c.expected == kind),
            "no case expects {kind:?}"
        );
    }
    for page in [
        EVALUATION,
        BOUNDARIES,
        SESSION,
        EFFECT,
        ACTION,
        NOT_ACTION,
        RESOURCE,
        NOT_RESOURCE,
        CONDITION,
        OPERATORS,
        MULTIVALUED,
        MULTIVALUED_EXAMPLES,
        VARIABLES,
        VERSION,
        DATES,
    ] {
        assert!(cases.iter().any(|c| c.page == page), "no case from {page}");
    }
}
