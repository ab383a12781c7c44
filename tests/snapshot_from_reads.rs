//! Property test: the account read through the API's read calls alone
//! (`cloud::snapshot::from_reads_paged`, what a backend with no snapshot of
//! its own uses) is the account the emulator's one-transaction SQL snapshot
//! reads, on random accounts built through the write operations
//! (customer-managed policies with several versions, attached and as
//! boundaries, included), with pages small enough that every list spans
//! several.

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use rolecall::cloud::ec2::*;
use rolecall::cloud::iam::*;
use rolecall::cloud::snapshot;
use rolecall::cloud::{Cloud, ErrorCode};
use rolecall::emulator::{Emulator, Quotas};

// Names differ in case and sort differently as bytes and ignoring case, so
// paging by marker is tried where the two orders disagree.
const ROLE_NAMES: &[&str] = &["app", "Web", "db-1", "API", "_x", "zeta.Z"];
const PROFILE_NAMES: &[&str] = &["web", "API", "b", "Zed", "x_1"];
const PATHS: &[&str] = &["/", "/apps/", "/apps/Team/", "/a/b/c/"];
const DESCRIPTIONS: &[&str] = &["", "web tier", "lots\tof words"];
const SESSIONS: &[u32] = &[3600, 7200, 43200];
// Role tag keys are unique ignoring case (IAM), profile and instance tag
// keys are not.
const ROLE_TAG_KEYS: &[&str] = &["env", "Team", "cost:centre", "Name", "z"];
const TAG_KEYS: &[&str] = &["env", "Team", "team", "a.b"];
const TAG_VALUES: &[&str] = &["", "prod", "a b", "x/y"];
const INLINE: &[&str] = &["read", "Write", "s3-access", "Zeta", "alpha"];
const ACTIONS: &[&str] = &["s3:GetObject", "ec2:Describe*", "sqs:*"];
const MANAGED: &[&str] = &[
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
];
const BOUNDARIES: &[&str] = &[
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
];
const SERVICES: &[&str] = &["ec2.amazonaws.com", "lambda.amazonaws.com"];
// Customer-managed policy names are unique ignoring case; their paths are
// narrower than roles' (no `*`...), these all fit.
const POLICY_NAMES: &[&str] = &["deploy", "Logs", "s3.read", "ZED"];
const INSTANCE_NAMES: &[&str] = &["web-1", "web-2", "db"];

#[derive(Debug, Clone)]
struct RoleSpec {
    name: &'static str,
    path: &'static str,
    service: &'static str,
    description: Option<&'static str>,
    max_session: Option<u32>,
    /// Given at creation, then by TagRole.
    tags: Vec<(&'static str, &'static str)>,
    inline: Vec<(&'static str, &'static str)>,
    managed: Vec<&'static str>,
    boundary: Option<&'static str>,
    /// Indices into the account's own policies (taken modulo their number):
    /// attached, and the boundary (instead of `boundary`).
    customer: Vec<usize>,
    customer_boundary: Option<usize>,
}

#[derive(Debug, Clone)]
struct PolicySpec {
    name: &'static str,
    path: &'static str,
    description: Option<&'static str>,
    /// The document of each version in the order made (the action it
    /// allows), and whether it is made the default; at five versions the
    /// oldest that is not the default goes first, as a plan does.
    versions: Vec<(&'static str, bool)>,
    /// Given at creation, then by TagPolicy (keys case-sensitive).
    tags: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, Clone)]
struct ProfileSpec {
    name: &'static str,
    path: &'static str,
    tags: Vec<(&'static str, &'static str)>,
    /// An index into the roles, taken modulo their number.
    role: Option<usize>,
    /// Deleted once instances are associated with it: EC2 keeps an
    /// association to a deleted profile.
    deleted_after: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Running,
    Stopped,
    Terminated,
}

#[derive(Debug, Clone)]
struct InstanceSpec {
    name: Option<&'static str>,
    tags: Vec<(&'static str, &'static str)>,
    /// An index into the profiles, taken modulo their number.
    profile: Option<usize>,
    end: End,
}

#[derive(Debug, Clone)]
struct Account {
    policies: Vec<PolicySpec>,
    roles: Vec<RoleSpec>,
    profiles: Vec<ProfileSpec>,
    instances: Vec<InstanceSpec>,
    quotas: Option<(u32, u32)>,
    page: u32,
}

fn tags(
    keys: &'static [&'static str],
    most: usize,
) -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    subsequence(keys, 0..=most).prop_flat_map(|keys| {
        keys.into_iter()
            .map(|key| select(TAG_VALUES).prop_map(move |value| (key, value)))
            .collect::<Vec<_>>()
    })
}

fn role(name: &'static str) -> impl Strategy<Value = RoleSpec> {
    let inline = subsequence(INLINE, 0..=3).prop_flat_map(|names| {
        names
            .into_iter()
            .map(|name| select(ACTIONS).prop_map(move |action| (name, action)))
            .collect::<Vec<_>>()
    });
    (
        select(PATHS),
        select(SERVICES),
        proptest::option::of(select(DESCRIPTIONS)),
        proptest::option::of(select(SESSIONS)),
        tags(ROLE_TAG_KEYS, 4),
        inline,
        subsequence(MANAGED, 0..=3),
        proptest::option::of(select(BOUNDARIES)),
        (
            proptest::collection::btree_set(0..4usize, 0..=2),
            proptest::option::weighted(0.25, 0..4usize),
        ),
    )
        .prop_map(
            move |(
                path,
                service,
                description,
                max_session,
                tags,
                inline,
                managed,
                boundary,
                (customer, customer_boundary),
            )| {
                RoleSpec {
                    name,
                    path,
                    service,
                    description,
                    max_session,
                    tags,
                    inline,
                    managed,
                    boundary,
                    customer: customer.into_iter().collect(),
                    customer_boundary,
                }
            },
        )
}

fn managed_policy(name: &'static str) -> impl Strategy<Value = PolicySpec> {
    (
        select(PATHS),
        proptest::option::of(select(DESCRIPTIONS)),
        proptest::collection::vec((select(ACTIONS), any::<bool>()), 1..=8),
        tags(TAG_KEYS, 3),
    )
        .prop_map(move |(path, description, versions, tags)| PolicySpec {
            name,
            path,
            description,
            versions,
            tags,
        })
}

fn profile(name: &'static str) -> impl Strategy<Value = ProfileSpec> {
    (
        select(PATHS),
        tags(TAG_KEYS, 3),
        proptest::option::of(0..8usize),
        proptest::bool::weighted(0.15),
    )
        .prop_map(move |(path, tags, role, deleted_after)| ProfileSpec {
            name,
            path,
            tags,
            role,
            deleted_after,
        })
}

fn instance() -> impl Strategy<Value = InstanceSpec> {
    (
        proptest::option::of(select(INSTANCE_NAMES)),
        tags(TAG_KEYS, 3),
        proptest::option::of(0..8usize),
        prop_oneof![3 => Just(End::Running), 1 => Just(End::Stopped), 1 => Just(End::Terminated)],
    )
        .prop_map(|(name, tags, profile, end)| InstanceSpec {
            name,
            tags,
            profile,
            end,
        })
}

fn account() -> impl Strategy<Value = Account> {
    let policies = subsequence(POLICY_NAMES, 0..=3)
        .prop_flat_map(|names| names.into_iter().map(managed_policy).collect::<Vec<_>>());
    let roles = subsequence(ROLE_NAMES, 0..=5)
        .prop_flat_map(|names| names.into_iter().map(role).collect::<Vec<_>>());
    let profiles = subsequence(PROFILE_NAMES, 0..=4)
        .prop_flat_map(|names| names.into_iter().map(profile).collect::<Vec<_>>());
    (
        policies,
        roles,
        profiles,
        proptest::collection::vec(instance(), 0..=6),
        proptest::option::of((1000..1100u32, 1000..1100u32)),
        1..4u32,
    )
        .prop_map(
            |(policies, roles, profiles, instances, quotas, page)| Account {
                policies,
                roles,
                profiles,
                instances,
                quotas,
                page,
            },
        )
}

fn tag_list(tags: &[(&str, &str)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::new(*k, *v)).collect()
}

fn trust(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    })
    .to_string()
}

fn policy(action: &str) -> String {
    // Written with spaces and in another key order: what is read back is
    // the document, not the text.
    format!(
        r#"{{ "Statement": [ {{ "Resource": "*", "Action": "{action}", "Effect": "Allow" }} ], "Version": "2012-10-17" }}"#
    )
}

/// Builds `account` through the write operations. Every call is expected to
/// succeed but associations with a profile that holds no role (EC2 refuses
/// them) and deleting a profile, which the emulator may refuse.
fn build(cloud: &Emulator, account: &Account) {
    if let Some((roles, profiles)) = account.quotas {
        cloud
            .set_quotas(&Quotas {
                max_roles: roles,
                max_instance_profiles: profiles,
            })
            .unwrap();
    }
    let mut policy_arns = Vec::new();
    for policy in &account.policies {
        policy_arns.push(build_policy(cloud, policy));
    }
    let customer = |i: usize| policy_arns[i % policy_arns.len()].clone();
    for role in &account.roles {
        // Half the tags at creation, the rest by TagRole.
        let (first, rest) = role.tags.split_at(role.tags.len() / 2);
        cloud
            .create_role(&CreateRoleRequest {
                role_name: role.name.into(),
                assume_role_policy_document: trust(role.service).into(),
                path: Some(role.path.into()),
                description: role.description.map(Into::into),
                max_session_duration: role.max_session,
                permissions_boundary: None,
                tags: tag_list(first),
            })
            .unwrap();
        if !rest.is_empty() {
            cloud
                .tag_role(&TagRoleRequest {
                    role_name: role.name.into(),
                    tags: tag_list(rest),
                })
                .unwrap();
        }
        let boundary = match role.customer_boundary {
            Some(i) if !policy_arns.is_empty() => Some(customer(i)),
            _ => role.boundary.map(String::from),
        };
        if let Some(boundary) = boundary {
            cloud
                .put_role_permissions_boundary(&PutRolePermissionsBoundaryRequest {
                    role_name: role.name.into(),
                    permissions_boundary: boundary,
                })
                .unwrap();
        }
        for (name, action) in &role.inline {
            cloud
                .put_role_policy(&PutRolePolicyRequest {
                    role_name: role.name.into(),
                    policy_name: (*name).into(),
                    policy_document: policy(action).into(),
                })
                .unwrap();
        }
        let attached = role.managed.iter().map(|arn| arn.to_string()).chain(
            role.customer
                .iter()
                .filter(|_| !policy_arns.is_empty())
                .map(|i| customer(*i)),
        );
        for arn in attached {
            // Two indices may name one policy: attaching it again is a no-op.
            cloud
                .attach_role_policy(&AttachRolePolicyRequest {
                    role_name: role.name.into(),
                    policy_arn: arn,
                })
                .unwrap();
        }
    }
    for profile in &account.profiles {
        cloud
            .create_instance_profile(&CreateInstanceProfileRequest {
                instance_profile_name: profile.name.into(),
                path: Some(profile.path.into()),
                tags: tag_list(&profile.tags),
            })
            .unwrap();
        if let Some(i) = profile.role
            && !account.roles.is_empty()
        {
            cloud
                .add_role_to_instance_profile(&AddRoleToInstanceProfileRequest {
                    instance_profile_name: profile.name.into(),
                    role_name: account.roles[i % account.roles.len()].name.into(),
                })
                .unwrap();
        }
    }
    for instance in &account.instances {
        let mut tags = tag_list(&instance.tags);
        if let Some(name) = instance.name {
            tags.push(Tag::new("Name", name));
        }
        let launched = cloud
            .run_instances(&RunInstancesRequest {
                min_count: 1,
                max_count: 1,
                tag_specifications: vec![TagSpecification {
                    resource_type: "instance".into(),
                    tags,
                }],
                ..Default::default()
            })
            .unwrap();
        let id = launched.instances[0].instance_id.clone();
        if let Some(i) = instance.profile
            && !account.profiles.is_empty()
        {
            let profile = &account.profiles[i % account.profiles.len()];
            let associated =
                cloud.associate_iam_instance_profile(&AssociateIamInstanceProfileRequest {
                    iam_instance_profile: IamInstanceProfileSpecification::by_name(profile.name),
                    instance_id: id.clone(),
                });
            if let Err(error) = associated {
                // A profile with no role cannot be associated.
                assert!(
                    profile.role.is_none() || account.roles.is_empty(),
                    "{error}"
                );
            }
        }
        let ids = InstanceIdsRequest {
            instance_ids: vec![id],
        };
        match instance.end {
            End::Running => {}
            End::Stopped => drop(cloud.stop_instances(&ids).unwrap()),
            End::Terminated => drop(cloud.terminate_instances(&ids).unwrap()),
        }
    }
    for profile in account.profiles.iter().filter(|p| p.deleted_after) {
        if let Some(i) = profile.role
            && !account.roles.is_empty()
        {
            cloud
                .remove_role_from_instance_profile(&RemoveRoleFromInstanceProfileRequest {
                    instance_profile_name: profile.name.into(),
                    role_name: account.roles[i % account.roles.len()].name.into(),
                })
                .unwrap();
        }
        if let Err(error) = cloud.delete_instance_profile(&DeleteInstanceProfileRequest {
            instance_profile_name: profile.name.into(),
        }) {
            assert_eq!(error.code, ErrorCode::DeleteConflict, "{error}");
        }
    }
}

/// Makes one of the account's own policies through CreatePolicy,
/// CreatePolicyVersion (deleting the oldest version that is not the
/// default when five are kept), TagPolicy; returns its ARN.
fn build_policy(cloud: &Emulator, policy: &PolicySpec) -> String {
    let (first, rest) = policy.tags.split_at(policy.tags.len() / 2);
    let created = cloud
        .create_policy(&CreatePolicyRequest {
            policy_name: policy.name.into(),
            path: Some(policy.path.into()),
            policy_document: managed_document(policy.versions[0].0),
            description: policy.description.map(Into::into),
            tags: tag_list(first),
        })
        .unwrap()
        .policy;
    let arn = created.arn;
    for (action, set_as_default) in &policy.versions[1..] {
        let versions = cloud
            .list_policy_versions(&ListPolicyVersionsRequest {
                policy_arn: arn.clone(),
                page: Page::default(),
            })
            .unwrap()
            .versions;
        if versions.len() == 5 {
            let oldest = versions
                .iter()
                .filter(|v| !v.is_default_version)
                .min_by_key(|v| snapshot::version_number(&v.version_id))
                .unwrap();
            cloud
                .delete_policy_version(&DeletePolicyVersionRequest {
                    policy_arn: arn.clone(),
                    version_id: oldest.version_id.clone(),
                })
                .unwrap();
        }
        cloud
            .create_policy_version(&CreatePolicyVersionRequest {
                policy_arn: arn.clone(),
                policy_document: managed_document(action),
                set_as_default: Some(*set_as_default),
            })
            .unwrap();
    }
    if !rest.is_empty() {
        cloud
            .tag_policy(&TagPolicyRequest {
                policy_arn: arn.clone(),
                tags: tag_list(rest),
            })
            .unwrap();
    }
    arn
}

/// A managed policy's document: as `policy`, which states Version 2012-10-17.
fn managed_document(action: &str) -> String {
    policy(action)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_snapshot_from_read_calls_is_the_emulators(account in account()) {
        let dir = tempfile::tempdir().unwrap();
        let cloud = Emulator::open(&dir.path().join("account.db")).unwrap();
        build(&cloud, &account);
        let expected = cloud.snapshot().unwrap();
        prop_assert_eq!(expected.policies.len(), account.policies.len());
        let read = snapshot::from_reads_paged(&cloud, account.page).unwrap();
        prop_assert_eq!(&read, &expected);
        // In the largest pages too (one call per list).
        prop_assert_eq!(&snapshot::from_reads(&cloud).unwrap(), &expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Within a stack's scope, the read calls find exactly the instances
    /// it concerns (owned, declared by name or id, or using its profiles,
    /// declared or owned), and everything else as the full read does.
    #[test]
    fn reading_within_a_scope_finds_just_the_instances_the_stack_concerns(
        account in account(),
        names in subsequence(INSTANCE_NAMES, 0..=3),
        owned in proptest::collection::vec(any::<bool>(), 6),
        by_id in proptest::collection::vec(any::<bool>(), 6),
        declared_profiles in subsequence(PROFILE_NAMES, 0..=2),
        owned_profile in proptest::option::of(select(PROFILE_NAMES)),
    ) {
        const STACK: &str = "web";
        let dir = tempfile::tempdir().unwrap();
        let cloud = Emulator::open(&dir.path().join("account.db")).unwrap();
        build(&cloud, &account);
        let ids: Vec<String> = cloud.snapshot().unwrap().instances.into_keys().collect();
        let owned_ids: Vec<String> = ids.iter().zip(&owned).filter(|(_, o)| **o).map(|(id, _)| id.clone()).collect();
        if !owned_ids.is_empty() {
            cloud.create_tags(&CreateTagsRequest {
                resources: owned_ids,
                tags: vec![Tag::new("rolecall:stack", STACK)],
            }).unwrap();
        }
        if let Some(profile) = owned_profile {
            // Absent from this account, or deleted: nothing to own.
            let _ = cloud.tag_instance_profile(&TagInstanceProfileRequest {
                instance_profile_name: profile.into(),
                tags: vec![Tag::new("rolecall:stack", STACK)],
            });
        }
        let scope = snapshot::Scope {
            stack: STACK.into(),
            instance_names: names.iter().map(|n| n.to_string()).collect(),
            instance_ids: ids.iter().zip(&by_id).filter(|(_, b)| **b).map(|(id, _)| id.clone()).collect(),
            profile_names: declared_profiles.iter().map(|n| n.to_string()).collect(),
        };

        let mut expected = cloud.snapshot().unwrap();
        let profiles = expected.profiles.clone();
        expected.instances.retain(|id, instance| {
            let uses_the_stacks_profile = instance.association.as_ref().is_some_and(|a| {
                scope.profile_names.contains(&a.profile_name)
                    || profiles.get(&a.profile_name).is_some_and(|p| {
                        p.profile.tags.get("rolecall:stack").map(String::as_str) == Some(STACK)
                    })
            });
            instance.tags.get("rolecall:stack").map(String::as_str) == Some(STACK)
                || instance.name.as_ref().is_some_and(|n| scope.instance_names.contains(n))
                || scope.instance_ids.contains(id)
                || uses_the_stacks_profile
        });
        let read = snapshot::from_reads_within_paged(&cloud, &scope, account.page).unwrap();
        prop_assert_eq!(&read, &expected);
    }
}

/// An account never written reads as the emulator's empty account.
#[test]
fn an_empty_account_reads_as_the_emulators() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = Emulator::open(&dir.path().join("account.db")).unwrap();
    let live = snapshot::from_reads_paged(&cloud, 1).unwrap();
    assert_eq!(live, cloud.snapshot().unwrap());
    assert_eq!(live.partition.as_deref(), Some("aws"));
    assert_eq!(live.account_id, "123456789012");
}
