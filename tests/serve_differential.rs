//! Differential property: random sequences of operations applied to an
//! account in process and to another through `rolecall serve` (with
//! rolecall's own client, built on the same wire codec) get the same
//! answers, step by step (the same output, or the same error code and
//! message), and leave the same export, ids and dates aside.
//!
//! The two accounts give their resources different ids, so operations are
//! symbolic ("instance #1", "the association of instance #0") and each side
//! resolves them against what it answered itself. Outputs, messages and
//! exports are compared with every id replaced by a placeholder numbered by
//! first appearance on that side (so references between resources must line
//! up too) and every date by `<date>`.

mod support;

use std::collections::HashMap;

use proptest::prelude::*;
use rolecall::cloud::ec2::{
    AssociateIamInstanceProfileRequest, CreateTagsRequest, DeleteTagsRequest,
    DescribeIamInstanceProfileAssociationsRequest, DescribeInstancesRequest,
    DisassociateIamInstanceProfileRequest, Filter, IamInstanceProfileSpecification,
    InstanceIdsRequest, ReplaceIamInstanceProfileAssociationRequest, RunInstancesRequest,
    TagKeyMaybeValue, TagSpecification,
};
use rolecall::cloud::iam::*;
use rolecall::cloud::sts::{AssumeRoleRequest, GetCallerIdentityRequest};
use rolecall::cloud::{Call, CloudError};
use rolecall::emulator::{AccountExport, Emulator, Quotas};
use serde_json::Value;
use support::masking::Masker;
use support::served::Served;

// -- The name space the operations draw from

/// Four names, one more than the roles quota (3), and two that IAM holds
/// to be the same name (names ignore case).
const ROLES: &[&str] = &["web", "batch", "Web", "ci"];
const PROFILES: &[&str] = &["web", "batch", "spare"];
/// Instance #k is the k-th launched on each side; beyond those, an id that
/// exists on neither.
const INSTANCES: usize = 3;
const NO_INSTANCE: &str = "i-0123456789abcdef0";
const NO_ASSOCIATION: &str = "iip-assoc-0123456789abcdef0";

// Each list: the values AWS accepts first, then those it refuses.
const PATHS: &[&str] = &["/", "/apps/", "/a/b/", "apps"];
const VALID_PATHS: usize = 3;
const DESCRIPTIONS: &[&str] = &["", "serves web", "équipe nº1 + ops", "bad \u{7}bell"];
const VALID_DESCRIPTIONS: usize = 3;
const DURATIONS: &[u32] = &[3600, 7200, 43200, 100, 50000];
const VALID_DURATIONS: usize = 3;
const TAG_KEYS: &[&str] = &[
    "team",
    "Team",
    "équipe",
    "a_b.c:d/e=f+g-h@i",
    "aws:reserved",
];
const VALID_TAG_KEYS: usize = 4;
const TAG_VALUES: &[&str] = &["web", "", "web + ops: équipe/1", "日本語 値", "bad*char"];
const VALID_TAG_VALUES: usize = 4;
const POLICY_NAMES: &[&str] = &["read", "write", "ü"];
const MANAGED: &[&str] = &[
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/NoSuchPolicyAtAll",
    "not-an-arn",
];
const VALID_MANAGED: usize = 3;

/// Trust policies: the account (AssumeRole succeeds), EC2 only (AccessDenied),
/// one whose text needs URL-encoding, and not JSON.
const TRUSTS: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Sid\": \"a+b %20 é\", \"Effect\": \"Allow\",\n    \"Principal\": {\"AWS\": \"123456789012\"}, \"Action\": [\"sts:AssumeRole\"]}]\n}",
    "{not json",
];
const VALID_TRUSTS: usize = 3;

const DOCUMENTS: usize = 4;
const VALID_DOCUMENTS: usize = 2;

fn policy_document(variant: usize) -> String {
    match variant {
        0 => r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#.into(),
        1 => "{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": [\"s3:Get*\", \"s3:List*\"], \"Resource\": \"arn:aws:s3:::bucket/a b+c%d/é&x=y\"}}".into(),
        2 => "[]".into(),
        // Over the 10,240 characters an inline policy may have.
        _ => format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}]}}"#,
            "b".repeat(10_300)
        ),
    }
}

// -- Symbolic operations

type TagChoice = (usize, usize);

#[derive(Debug, Clone)]
enum Op {
    CreateRole {
        role: usize,
        path: Option<usize>,
        description: Option<usize>,
        duration: Option<usize>,
        boundary: Option<usize>,
        tags: Vec<TagChoice>,
        trust: usize,
    },
    DeleteRole(usize),
    UpdateRole {
        role: usize,
        description: Option<usize>,
        duration: Option<usize>,
    },
    UpdateAssumeRolePolicy {
        role: usize,
        trust: usize,
    },
    PutRolePolicy {
        role: usize,
        policy: usize,
        document: usize,
    },
    DeleteRolePolicy {
        role: usize,
        policy: usize,
    },
    AttachRolePolicy {
        role: usize,
        arn: usize,
    },
    DetachRolePolicy {
        role: usize,
        arn: usize,
    },
    PutRolePermissionsBoundary {
        role: usize,
        arn: usize,
    },
    DeleteRolePermissionsBoundary(usize),
    TagRole {
        role: usize,
        tags: Vec<TagChoice>,
    },
    UntagRole {
        role: usize,
        keys: Vec<usize>,
    },
    CreateInstanceProfile {
        profile: usize,
        path: Option<usize>,
        tags: Vec<TagChoice>,
    },
    DeleteInstanceProfile(usize),
    AddRoleToInstanceProfile {
        profile: usize,
        role: usize,
    },
    RemoveRoleFromInstanceProfile {
        profile: usize,
        role: usize,
    },
    TagInstanceProfile {
        profile: usize,
        tags: Vec<TagChoice>,
    },
    UntagInstanceProfile {
        profile: usize,
        keys: Vec<usize>,
    },
    RunInstances {
        count: u32,
        profile: Option<usize>,
        tags: Vec<TagChoice>,
    },
    TerminateInstances(Vec<usize>),
    StopInstances(Vec<usize>),
    StartInstances(Vec<usize>),
    CreateTags {
        instances: Vec<usize>,
        tags: Vec<TagChoice>,
    },
    DeleteTags {
        instances: Vec<usize>,
        tags: Vec<(usize, Option<usize>)>,
    },
    AssociateIamInstanceProfile {
        instance: usize,
        profile: usize,
    },
    ReplaceIamInstanceProfileAssociation {
        instance: usize,
        profile: usize,
    },
    DisassociateIamInstanceProfile(usize),
    AssumeRole {
        role: usize,
        path: usize,
        duration: Option<u32>,
    },
    // Reads
    GetRole(usize),
    GetRolePolicy {
        role: usize,
        policy: usize,
    },
    ListRoles {
        path_prefix: Option<usize>,
        max_items: Option<u32>,
    },
    ListRoleDetails(usize),
    GetInstanceProfile(usize),
    ListInstanceProfiles {
        max_items: Option<u32>,
    },
    ListInstanceProfilesForRole(usize),
    DescribeInstances(Option<usize>),
    DescribeIamInstanceProfileAssociations(Option<usize>),
    GetAccountSummary,
    GetCallerIdentity,
}

/// An index into a list whose first `valid` values AWS accepts: mostly one
/// of those, sometimes one it refuses.
fn mostly(valid: usize, all: usize) -> BoxedStrategy<usize> {
    prop_oneof![8 => 0..valid, 1 => valid..all].boxed()
}

fn tag() -> impl Strategy<Value = TagChoice> {
    (
        mostly(VALID_TAG_KEYS, TAG_KEYS.len()),
        mostly(VALID_TAG_VALUES, TAG_VALUES.len()),
    )
}

fn tags() -> impl Strategy<Value = Vec<TagChoice>> {
    prop::collection::vec(tag(), 0..3)
}

fn keys() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(mostly(VALID_TAG_KEYS, TAG_KEYS.len()), 0..3)
}

/// Instance #k: mostly one that may have been launched.
fn instance() -> BoxedStrategy<usize> {
    mostly(INSTANCES, INSTANCES + 1)
}

fn instances() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(instance(), 1..3)
}

fn path() -> impl Strategy<Value = Option<usize>> {
    prop::option::of(mostly(VALID_PATHS, PATHS.len()))
}

fn description() -> impl Strategy<Value = Option<usize>> {
    prop::option::of(mostly(VALID_DESCRIPTIONS, DESCRIPTIONS.len()))
}

fn duration() -> impl Strategy<Value = Option<usize>> {
    prop::option::of(mostly(VALID_DURATIONS, DURATIONS.len()))
}

fn managed() -> BoxedStrategy<usize> {
    mostly(VALID_MANAGED, MANAGED.len())
}

fn trust() -> BoxedStrategy<usize> {
    prop_oneof![4 => Just(0usize), 1 => 1..VALID_TRUSTS, 1 => VALID_TRUSTS..TRUSTS.len()].boxed()
}

fn role() -> impl Strategy<Value = usize> {
    0..ROLES.len()
}

fn profile() -> impl Strategy<Value = usize> {
    0..PROFILES.len()
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Creations weigh more, so later operations find something to act on.
        6 => (
            role(),
            path(),
            description(),
            duration(),
            prop::option::weighted(0.3, managed()),
            tags(),
            trust(),
        )
            .prop_map(|(role, path, description, duration, boundary, tags, trust)| {
                Op::CreateRole { role, path, description, duration, boundary, tags, trust }
            }),
        1 => role().prop_map(Op::DeleteRole),
        1 => (role(), description(), duration())
            .prop_map(|(role, description, duration)| Op::UpdateRole { role, description, duration }),
        1 => (role(), trust()).prop_map(|(role, trust)| Op::UpdateAssumeRolePolicy { role, trust }),
        2 => (role(), 0..POLICY_NAMES.len(), mostly(VALID_DOCUMENTS, DOCUMENTS))
            .prop_map(|(role, policy, document)| Op::PutRolePolicy { role, policy, document }),
        1 => (role(), 0..POLICY_NAMES.len()).prop_map(|(role, policy)| Op::DeleteRolePolicy { role, policy }),
        2 => (role(), managed()).prop_map(|(role, arn)| Op::AttachRolePolicy { role, arn }),
        1 => (role(), managed()).prop_map(|(role, arn)| Op::DetachRolePolicy { role, arn }),
        1 => (role(), managed())
            .prop_map(|(role, arn)| Op::PutRolePermissionsBoundary { role, arn }),
        1 => role().prop_map(Op::DeleteRolePermissionsBoundary),
        2 => (role(), tags()).prop_map(|(role, tags)| Op::TagRole { role, tags }),
        1 => (role(), keys()).prop_map(|(role, keys)| Op::UntagRole { role, keys }),
        3 => (profile(), path(), tags())
            .prop_map(|(profile, path, tags)| Op::CreateInstanceProfile { profile, path, tags }),
        1 => profile().prop_map(Op::DeleteInstanceProfile),
        4 => (profile(), role()).prop_map(|(profile, role)| Op::AddRoleToInstanceProfile { profile, role }),
        1 => (profile(), role())
            .prop_map(|(profile, role)| Op::RemoveRoleFromInstanceProfile { profile, role }),
        1 => (profile(), tags()).prop_map(|(profile, tags)| Op::TagInstanceProfile { profile, tags }),
        1 => (profile(), keys()).prop_map(|(profile, keys)| Op::UntagInstanceProfile { profile, keys }),
        4 => (1u32..=2, prop::option::weighted(0.4, profile()), tags())
            .prop_map(|(count, profile, tags)| Op::RunInstances { count, profile, tags }),
        1 => instances().prop_map(Op::TerminateInstances),
        1 => instances().prop_map(Op::StopInstances),
        1 => instances().prop_map(Op::StartInstances),
        // At least one tag: EC2's wire cannot carry an empty list (botocore
        // sends none), so the endpoint answers MissingParameter (`Tag`)
        // where the emulator in process accepts an empty CreateTags.
        1 => (instances(), prop::collection::vec(tag(), 1..3))
            .prop_map(|(instances, tags)| Op::CreateTags { instances, tags }),
        1 => (
            instances(),
            prop::collection::vec(
                (mostly(VALID_TAG_KEYS, TAG_KEYS.len()), prop::option::of(0..TAG_VALUES.len())),
                0..3,
            ),
        )
            .prop_map(|(instances, tags)| Op::DeleteTags { instances, tags }),
        4 => (instance(), profile())
            .prop_map(|(instance, profile)| Op::AssociateIamInstanceProfile { instance, profile }),
        2 => (instance(), profile()).prop_map(|(instance, profile)| {
            Op::ReplaceIamInstanceProfileAssociation { instance, profile }
        }),
        1 => instance().prop_map(Op::DisassociateIamInstanceProfile),
        2 => (role(), 0..2usize, prop::option::of(prop::sample::select(vec![900u32, 3600, 7200, 800])))
            .prop_map(|(role, path, duration)| Op::AssumeRole { role, path, duration }),
        1 => role().prop_map(Op::GetRole),
        1 => (role(), 0..POLICY_NAMES.len()).prop_map(|(role, policy)| Op::GetRolePolicy { role, policy }),
        1 => (path(), prop::option::of(1u32..3))
            .prop_map(|(path_prefix, max_items)| Op::ListRoles { path_prefix, max_items }),
        1 => role().prop_map(Op::ListRoleDetails),
        1 => profile().prop_map(Op::GetInstanceProfile),
        1 => prop::option::of(1u32..3).prop_map(|max_items| Op::ListInstanceProfiles { max_items }),
        1 => role().prop_map(Op::ListInstanceProfilesForRole),
        1 => prop::option::of(instance()).prop_map(Op::DescribeInstances),
        1 => prop::option::of(instance()).prop_map(Op::DescribeIamInstanceProfileAssociations),
        1 => Just(Op::GetAccountSummary),
        1 => Just(Op::GetCallerIdentity),
    ]
}

/// Creations with valid inputs, which a sequence starts with so that the
/// random operations after them find roles in profiles and instances to act on.
fn setup_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (role(), prop::option::of(0..VALID_PATHS), tags()).prop_map(|(role, path, tags)| {
            Op::CreateRole {
                role,
                path,
                description: None,
                duration: None,
                boundary: None,
                tags: tags.into_iter().map(|(k, v)| (k % VALID_TAG_KEYS, v % VALID_TAG_VALUES)).collect(),
                trust: 0,
            }
        }),
        2 => (profile(), prop::option::of(0..VALID_PATHS)).prop_map(|(profile, path)| {
            Op::CreateInstanceProfile { profile, path, tags: Vec::new() }
        }),
        2 => (profile(), role()).prop_map(|(profile, role)| Op::AddRoleToInstanceProfile { profile, role }),
        2 => (1u32..=2, prop::option::weighted(0.5, profile())).prop_map(|(count, profile)| {
            Op::RunInstances { count, profile, tags: Vec::new() }
        }),
    ]
}

/// 24 to 44 operations, setup first. Each carries a flag that shrinks to
/// `false`, dropping it, so a failing sequence shrinks below the minimum
/// length to the few operations that matter.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let kept = |op: BoxedStrategy<Op>| (prop::bool::weighted(0.999), op);
    (
        prop::collection::vec(kept(setup_op().boxed()), 4..9),
        prop::collection::vec(kept(op().boxed()), 20..36),
    )
        .prop_map(|(setup, rest)| {
            setup
                .into_iter()
                .chain(rest)
                .filter(|(keep, _)| *keep)
                .map(|(_, op)| op)
                .collect()
        })
}

fn tag_list(choices: &[TagChoice]) -> Vec<Tag> {
    choices
        .iter()
        .map(|&(k, v)| Tag::new(TAG_KEYS[k], TAG_VALUES[v]))
        .collect()
}

fn key_list(choices: &[usize]) -> Vec<String> {
    choices.iter().map(|&k| TAG_KEYS[k].to_string()).collect()
}

// -- One account, reached in process or through the endpoint

/// An answer: the output as AWS-shaped JSON, or the error's code and message.
type Answer = Result<Value, (String, String)>;

/// How a side makes one call.
type Caller = Box<dyn Fn(&Call) -> Result<Value, CloudError>>;

struct Side {
    call: Caller,
    /// The ids this side's RunInstances answered, in order: instance #k.
    instances: Vec<String>,
    /// The last association id this side answered for instance #k.
    associations: HashMap<usize, String>,
    masker: Masker,
}

impl Side {
    fn new(call: impl Fn(&Call) -> Result<Value, CloudError> + 'static) -> Side {
        Side {
            call: Box::new(call),
            instances: Vec::new(),
            associations: HashMap::new(),
            masker: Masker::default(),
        }
    }

    fn instance(&self, k: usize) -> String {
        self.instances
            .get(k)
            .cloned()
            .unwrap_or_else(|| NO_INSTANCE.to_string())
    }

    fn instance_list(&self, ks: &[usize]) -> Vec<String> {
        ks.iter().map(|&k| self.instance(k)).collect()
    }

    /// The association of instance #k: its current one as EC2 describes it,
    /// else the last one this side answered (gone, so the call fails), else
    /// one that never existed.
    fn association(&self, k: usize) -> String {
        let describe = Call::DescribeIamInstanceProfileAssociations(Box::new(
            DescribeIamInstanceProfileAssociationsRequest {
                filters: vec![Filter {
                    name: "instance-id".into(),
                    values: vec![self.instance(k)],
                }],
                ..Default::default()
            },
        ));
        let current = (self.call)(&describe).ok().and_then(|out| {
            out["IamInstanceProfileAssociations"]
                .as_array()?
                .iter()
                .find(|a| a["State"] == "associated" || a["State"] == "associating")?["AssociationId"]
                .as_str()
                .map(str::to_string)
        });
        current
            .or_else(|| self.associations.get(&k).cloned())
            .unwrap_or_else(|| NO_ASSOCIATION.to_string())
    }

    fn send(&mut self, call: Call) -> Result<Value, CloudError> {
        (self.call)(&call)
    }

    /// Applies `op`: the masked answers of the calls it made.
    fn apply(&mut self, op: &Op) -> Vec<Answer> {
        let raw = self.apply_raw(op);
        let sort = matches!(
            op,
            Op::DescribeInstances(_) | Op::DescribeIamInstanceProfileAssociations(_)
        );
        raw.into_iter()
            .map(|answer| match answer {
                Ok(mut out) => {
                    self.masker.mask_value(&mut out);
                    if sort {
                        // EC2 lists these by id, which differ between the sides.
                        sort_arrays(&mut out);
                    }
                    Ok(out)
                }
                Err(error) => Err((error.code.to_string(), self.masker.mask(&error.message))),
            })
            .collect()
    }

    fn apply_raw(&mut self, op: &Op) -> Vec<Result<Value, CloudError>> {
        let one = |side: &mut Side, call: Call| vec![side.send(call)];
        match op {
            Op::CreateRole {
                role,
                path,
                description,
                duration,
                boundary,
                tags,
                trust,
            } => one(
                self,
                Call::CreateRole(Box::new(CreateRoleRequest {
                    role_name: ROLES[*role].into(),
                    assume_role_policy_document: TRUSTS[*trust].into(),
                    path: path.map(|p| PATHS[p].into()),
                    description: description.map(|d| DESCRIPTIONS[d].into()),
                    max_session_duration: duration.map(|d| DURATIONS[d]),
                    permissions_boundary: boundary.map(|b| MANAGED[b].into()),
                    tags: tag_list(tags),
                })),
            ),
            Op::DeleteRole(role) => one(
                self,
                Call::DeleteRole(RoleNameRequest {
                    role_name: ROLES[*role].into(),
                }),
            ),
            Op::UpdateRole {
                role,
                description,
                duration,
            } => one(
                self,
                Call::UpdateRole(UpdateRoleRequest {
                    role_name: ROLES[*role].into(),
                    description: description.map(|d| DESCRIPTIONS[d].into()),
                    max_session_duration: duration.map(|d| DURATIONS[d]),
                }),
            ),
            Op::UpdateAssumeRolePolicy { role, trust } => one(
                self,
                Call::UpdateAssumeRolePolicy(UpdateAssumeRolePolicyRequest {
                    role_name: ROLES[*role].into(),
                    policy_document: TRUSTS[*trust].into(),
                }),
            ),
            Op::PutRolePolicy {
                role,
                policy,
                document,
            } => one(
                self,
                Call::PutRolePolicy(PutRolePolicyRequest {
                    role_name: ROLES[*role].into(),
                    policy_name: POLICY_NAMES[*policy].into(),
                    policy_document: policy_document(*document).into(),
                }),
            ),
            Op::DeleteRolePolicy { role, policy } => one(
                self,
                Call::DeleteRolePolicy(RolePolicyNameRequest {
                    role_name: ROLES[*role].into(),
                    policy_name: POLICY_NAMES[*policy].into(),
                }),
            ),
            Op::AttachRolePolicy { role, arn } => one(
                self,
                Call::AttachRolePolicy(RolePolicyArnRequest {
                    role_name: ROLES[*role].into(),
                    policy_arn: MANAGED[*arn].into(),
                }),
            ),
            Op::DetachRolePolicy { role, arn } => one(
                self,
                Call::DetachRolePolicy(RolePolicyArnRequest {
                    role_name: ROLES[*role].into(),
                    policy_arn: MANAGED[*arn].into(),
                }),
            ),
            Op::PutRolePermissionsBoundary { role, arn } => one(
                self,
                Call::PutRolePermissionsBoundary(PutRolePermissionsBoundaryRequest {
                    role_name: ROLES[*role].into(),
                    permissions_boundary: MANAGED[*arn].into(),
                }),
            ),
            Op::DeleteRolePermissionsBoundary(role) => one(
                self,
                Call::DeleteRolePermissionsBoundary(RoleNameRequest {
                    role_name: ROLES[*role].into(),
                }),
            ),
            Op::TagRole { role, tags } => one(
                self,
                Call::TagRole(TagRoleRequest {
                    role_name: ROLES[*role].into(),
                    tags: tag_list(tags),
                }),
            ),
            Op::UntagRole { role, keys } => one(
                self,
                Call::UntagRole(UntagRoleRequest {
                    role_name: ROLES[*role].into(),
                    tag_keys: key_list(keys),
                }),
            ),
            Op::CreateInstanceProfile {
                profile,
                path,
                tags,
            } => one(
                self,
                Call::CreateInstanceProfile(CreateInstanceProfileRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                    path: path.map(|p| PATHS[p].into()),
                    tags: tag_list(tags),
                }),
            ),
            Op::DeleteInstanceProfile(profile) => one(
                self,
                Call::DeleteInstanceProfile(InstanceProfileNameRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                }),
            ),
            Op::AddRoleToInstanceProfile { profile, role } => one(
                self,
                Call::AddRoleToInstanceProfile(InstanceProfileRoleRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                    role_name: ROLES[*role].into(),
                }),
            ),
            Op::RemoveRoleFromInstanceProfile { profile, role } => one(
                self,
                Call::RemoveRoleFromInstanceProfile(InstanceProfileRoleRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                    role_name: ROLES[*role].into(),
                }),
            ),
            Op::TagInstanceProfile { profile, tags } => one(
                self,
                Call::TagInstanceProfile(TagInstanceProfileRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                    tags: tag_list(tags),
                }),
            ),
            Op::UntagInstanceProfile { profile, keys } => one(
                self,
                Call::UntagInstanceProfile(UntagInstanceProfileRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                    tag_keys: key_list(keys),
                }),
            ),
            Op::RunInstances {
                count,
                profile,
                tags,
            } => {
                let answer = self.send(Call::RunInstances(Box::new(RunInstancesRequest {
                    image_id: None,
                    instance_type: None,
                    min_count: *count,
                    max_count: *count,
                    iam_instance_profile: profile
                        .map(|p| IamInstanceProfileSpecification::by_name(PROFILES[p])),
                    tag_specifications: if tags.is_empty() {
                        Vec::new()
                    } else {
                        vec![TagSpecification {
                            resource_type: "instance".into(),
                            tags: tag_list(tags),
                        }]
                    },
                })));
                if let Ok(out) = &answer {
                    for instance in out["Instances"].as_array().into_iter().flatten() {
                        let id = instance["InstanceId"].as_str().unwrap().to_string();
                        self.instances.push(id);
                    }
                }
                vec![answer]
            }
            Op::TerminateInstances(ks) => {
                let instance_ids = self.instance_list(ks);
                one(
                    self,
                    Call::TerminateInstances(InstanceIdsRequest { instance_ids }),
                )
            }
            Op::StopInstances(ks) => {
                let instance_ids = self.instance_list(ks);
                one(
                    self,
                    Call::StopInstances(InstanceIdsRequest { instance_ids }),
                )
            }
            Op::StartInstances(ks) => {
                let instance_ids = self.instance_list(ks);
                one(
                    self,
                    Call::StartInstances(InstanceIdsRequest { instance_ids }),
                )
            }
            Op::CreateTags { instances, tags } => {
                let resources = self.instance_list(instances);
                one(
                    self,
                    Call::CreateTags(CreateTagsRequest {
                        resources,
                        tags: tag_list(tags),
                    }),
                )
            }
            Op::DeleteTags { instances, tags } => {
                let resources = self.instance_list(instances);
                one(
                    self,
                    Call::DeleteTags(DeleteTagsRequest {
                        resources,
                        tags: tags
                            .iter()
                            .map(|&(k, v)| TagKeyMaybeValue {
                                key: TAG_KEYS[k].into(),
                                value: v.map(|v| TAG_VALUES[v].into()),
                            })
                            .collect(),
                    }),
                )
            }
            Op::AssociateIamInstanceProfile { instance, profile } => {
                let answer = self.send(Call::AssociateIamInstanceProfile(
                    AssociateIamInstanceProfileRequest {
                        iam_instance_profile: IamInstanceProfileSpecification::by_name(
                            PROFILES[*profile],
                        ),
                        instance_id: self.instance(*instance),
                    },
                ));
                self.remember_association(*instance, &answer);
                vec![answer]
            }
            Op::ReplaceIamInstanceProfileAssociation { instance, profile } => {
                let answer = self.send(Call::ReplaceIamInstanceProfileAssociation(
                    ReplaceIamInstanceProfileAssociationRequest {
                        iam_instance_profile: IamInstanceProfileSpecification::by_name(
                            PROFILES[*profile],
                        ),
                        association_id: self.association(*instance),
                    },
                ));
                self.remember_association(*instance, &answer);
                vec![answer]
            }
            Op::DisassociateIamInstanceProfile(instance) => {
                let association_id = self.association(*instance);
                one(
                    self,
                    Call::DisassociateIamInstanceProfile(DisassociateIamInstanceProfileRequest {
                        association_id,
                    }),
                )
            }
            Op::AssumeRole {
                role,
                path,
                duration,
            } => one(
                self,
                Call::AssumeRole(Box::new(AssumeRoleRequest {
                    role_arn: format!(
                        "arn:aws:iam::123456789012:role{}{}",
                        ["/", "/apps/"][*path],
                        ROLES[*role]
                    ),
                    role_session_name: "diff-session".into(),
                    duration_seconds: *duration,
                    external_id: None,
                })),
            ),
            Op::GetRole(role) => one(
                self,
                Call::GetRole(RoleNameRequest {
                    role_name: ROLES[*role].into(),
                }),
            ),
            Op::GetRolePolicy { role, policy } => one(
                self,
                Call::GetRolePolicy(RolePolicyNameRequest {
                    role_name: ROLES[*role].into(),
                    policy_name: POLICY_NAMES[*policy].into(),
                }),
            ),
            Op::ListRoles {
                path_prefix,
                max_items,
            } => self.pages(|marker| {
                Call::ListRoles(ListByPathRequest {
                    path_prefix: path_prefix.map(|p| PATHS[p].into()),
                    page: Page {
                        marker,
                        max_items: *max_items,
                    },
                })
            }),
            Op::ListRoleDetails(role) => {
                let page = || ListForRoleRequest {
                    role_name: ROLES[*role].into(),
                    page: Page::default(),
                };
                vec![
                    self.send(Call::ListRolePolicies(page())),
                    self.send(Call::ListAttachedRolePolicies(page())),
                    self.send(Call::ListRoleTags(page())),
                ]
            }
            Op::GetInstanceProfile(profile) => one(
                self,
                Call::GetInstanceProfile(InstanceProfileNameRequest {
                    instance_profile_name: PROFILES[*profile].into(),
                }),
            ),
            Op::ListInstanceProfiles { max_items } => self.pages(|marker| {
                Call::ListInstanceProfiles(ListByPathRequest {
                    path_prefix: None,
                    page: Page {
                        marker,
                        max_items: *max_items,
                    },
                })
            }),
            Op::ListInstanceProfilesForRole(role) => one(
                self,
                Call::ListInstanceProfilesForRole(ListForRoleRequest {
                    role_name: ROLES[*role].into(),
                    page: Page::default(),
                }),
            ),
            Op::DescribeInstances(instance) => {
                let instance_ids = instance.map(|k| self.instance(k)).into_iter().collect();
                one(
                    self,
                    Call::DescribeInstances(Box::new(DescribeInstancesRequest {
                        instance_ids,
                        ..Default::default()
                    })),
                )
            }
            Op::DescribeIamInstanceProfileAssociations(instance) => {
                let filters = instance
                    .map(|k| Filter {
                        name: "instance-id".into(),
                        values: vec![self.instance(k)],
                    })
                    .into_iter()
                    .collect();
                one(
                    self,
                    Call::DescribeIamInstanceProfileAssociations(Box::new(
                        DescribeIamInstanceProfileAssociationsRequest {
                            filters,
                            ..Default::default()
                        },
                    )),
                )
            }
            Op::GetAccountSummary => {
                one(self, Call::GetAccountSummary(GetAccountSummaryRequest {}))
            }
            Op::GetCallerIdentity => {
                one(self, Call::GetCallerIdentity(GetCallerIdentityRequest {}))
            }
        }
    }

    /// Every page of a List operation, following this side's own markers.
    fn pages(&mut self, call: impl Fn(Option<String>) -> Call) -> Vec<Result<Value, CloudError>> {
        let mut answers = Vec::new();
        let mut marker = None;
        for _ in 0..10 {
            let answer = self.send(call(marker));
            marker = match &answer {
                Ok(out) if out["IsTruncated"] == true => out["Marker"].as_str().map(str::to_string),
                _ => None,
            };
            answers.push(answer);
            if marker.is_none() {
                break;
            }
        }
        answers
    }

    fn remember_association(&mut self, instance: usize, answer: &Result<Value, CloudError>) {
        if let Ok(out) = answer
            && let Some(id) = out["IamInstanceProfileAssociation"]["AssociationId"].as_str()
        {
            self.associations.insert(instance, id.to_string());
        }
    }

    /// The account's export, masked with this side's placeholders, its
    /// instances sorted by their placeholders, as YAML.
    fn masked_export(&mut self, export: AccountExport) -> String {
        let mut value = serde_json::to_value(&export).unwrap();
        // Instances in the order of their placeholders (every instance id
        // came back from RunInstances) before anything else is masked: an
        // association made at launch shows its id first here, and the
        // export lists instances by id, which differ between the sides.
        if let Some(instances) = value["instances"].as_array_mut() {
            let mut keyed: Vec<(String, Value)> = instances
                .drain(..)
                .map(|instance| {
                    let id = instance["instance_id"].as_str().unwrap_or("");
                    (self.masker.mask(id), instance)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            instances.extend(keyed.into_iter().map(|(_, instance)| instance));
        }
        self.masker.mask_value(&mut value);
        let export: AccountExport = serde_json::from_value(value).unwrap();
        serde_saphyr::to_string(&export).unwrap()
    }
}

fn sort_arrays(value: &mut Value) {
    match value {
        Value::Array(items) => {
            items.iter_mut().for_each(sort_arrays);
            items.sort_by_key(|v| v.to_string());
        }
        Value::Object(members) => members.values_mut().for_each(sort_arrays),
        _ => {}
    }
}

/// The answers as XML 1.0 can carry their messages: the codec writes a
/// character XML cannot hold (most C0 controls, which a rejected value may
/// bring into a message) as U+FFFD (`rolecall_wire`'s `push_text`), so an
/// error that quotes one cannot come through the endpoint unchanged.
fn as_xml_carries(answers: Vec<Answer>) -> Vec<Answer> {
    let carried = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    answers
        .into_iter()
        .map(|answer| {
            answer.map_err(|(code, message)| {
                let message = message
                    .chars()
                    .map(|c| if carried(c) { c } else { '\u{FFFD}' })
                    .collect();
                (code, message)
            })
        })
        .collect()
}

fn diff(left: &str, right: &str) -> String {
    similar::TextDiff::from_lines(left, right)
        .unified_diff()
        .header("in process", "through the endpoint")
        .to_string()
}

fn pretty(answers: &[Answer]) -> String {
    serde_json::to_string_pretty(
        &answers
            .iter()
            .map(|a| match a {
                Ok(out) => serde_json::json!({ "Ok": out }),
                Err((code, message)) => {
                    serde_json::json!({ "Err": { "Code": code, "Message": message } })
                }
            })
            .collect::<Vec<_>>(),
    )
    .unwrap()
}

/// Low quotas, on both accounts, so that LimitExceeded comes up.
fn quotas() -> Quotas {
    Quotas {
        max_roles: 3,
        max_instance_profiles: 2,
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let local = Emulator::open(&dir.path().join("local.db")).unwrap();
    local.set_quotas(&quotas()).unwrap();
    let served = Served::start();
    served.emulator().set_quotas(&quotas()).unwrap();
    let client = served.client();

    let local_export = {
        let mut here = Side::new(move |call| call.invoke(&local));
        let mut there = Side::new(move |call| client.call(call));
        for (step, op) in ops.iter().enumerate() {
            let a = as_xml_carries(here.apply(op));
            let b = there.apply(op);
            if std::env::var("DIFF_TRACE").is_ok() {
                let head = format!("{op:?}");
                let head = head.split([' ', '(']).next().unwrap_or("");
                for answer in &a {
                    match answer {
                        Ok(_) => eprintln!("TRACE {head} ok"),
                        Err((code, _)) => eprintln!("TRACE {head} {code}"),
                    }
                }
            }
            prop_assert!(
                a == b,
                "step {step}, {op:?}: the answers differ\n{}",
                diff(&pretty(&a), &pretty(&b))
            );
        }
        let local = Emulator::open(&dir.path().join("local.db")).unwrap();
        let mine = here.masked_export(local.export().unwrap());
        let theirs = there.masked_export(served.emulator().export().unwrap());
        prop_assert!(
            mine == theirs,
            "the exports differ after {} steps\n{}",
            ops.len(),
            diff(&mine, &theirs)
        );
        mine
    };
    // The comparison sees something: the ids are masked, not the account.
    prop_assert!(local_export.contains("format_version"));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24),
        max_shrink_iters: 1000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn in_process_and_through_the_endpoint_answer_alike(ops in ops()) {
        run(&ops)?;
    }
}

/// A fixed sequence through every kind of symbolic reference: an instance
/// launched on each side, its association found by describing it, then the
/// association gone (the last one remembered, so the call fails alike).
#[test]
fn symbolic_references_resolve_on_each_side() {
    let create_role = Op::CreateRole {
        role: 0,
        path: None,
        description: None,
        duration: None,
        boundary: None,
        tags: vec![(0, 2)],
        trust: 0,
    };
    let ops = vec![
        create_role,
        Op::CreateInstanceProfile {
            profile: 0,
            path: None,
            tags: Vec::new(),
        },
        Op::CreateInstanceProfile {
            profile: 1,
            path: Some(1),
            tags: Vec::new(),
        },
        Op::AddRoleToInstanceProfile {
            profile: 0,
            role: 0,
        },
        Op::RunInstances {
            count: 2,
            profile: None,
            tags: vec![(2, 3)],
        },
        Op::AssociateIamInstanceProfile {
            instance: 1,
            profile: 0,
        },
        Op::ReplaceIamInstanceProfileAssociation {
            instance: 1,
            profile: 1,
        },
        Op::DescribeIamInstanceProfileAssociations(None),
        Op::DisassociateIamInstanceProfile(1),
        Op::DisassociateIamInstanceProfile(1),
        Op::AssumeRole {
            role: 0,
            path: 0,
            duration: Some(900),
        },
        Op::DeleteRole(0),
    ];
    run(&ops).unwrap();
}
