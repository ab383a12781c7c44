//! The account as the planner sees it ([`Live`]), read through the read
//! calls of [`Cloud`] alone: what a backend with no snapshot of its own
//! (the real AWS API) uses, and what the emulator's one-transaction SQL
//! snapshot must agree with (`tests/snapshot_from_reads.rs`).
//!
//! The calls, every list followed page by page (`Marker`/`IsTruncated`,
//! `NextToken`):
//! - GetCallerIdentity: the account id, and the partition from the caller's ARN;
//! - GetAccountSummary: the quotas on roles and instance profiles, and
//!   whether the account holds customer-managed policies;
//! - GetAccountAuthorizationDetails for customer-managed policies (every
//!   version, with documents), a page of policies per call, and
//!   ListPolicyTags per policy (the details leave tags out);
//! - ListRoles (description and maximum session duration) and
//!   GetAccountAuthorizationDetails for roles (trust, inline and attached
//!   policies, boundary, tags): two calls per 1000 roles; a role made
//!   between the two is read on its own (GetRole, ListRolePolicies with
//!   GetRolePolicy each, ListAttachedRolePolicies);
//! - ListInstanceProfiles, then GetInstanceProfile per profile: IAM lists
//!   no profile's tags, so this is one call per profile, the one read that
//!   grows with the account (ListInstanceProfileTags would cost the same);
//! - DescribeIamInstanceProfileAssociations, then DescribeInstances: every
//!   instance, or within a [`Scope`] only those a stack concerns, found by
//!   filters (its ownership tag, the declared `Name`s, the declared ids and
//!   those associated with the stack's profiles, 200 values a call): an
//!   account's thousands of other instances are never read.
//!
//! Unlike the emulator's, these reads are not one transaction: a change made
//! while they run may be seen in part. A plan made from it is checked by
//! AWS call by call, as any plan is.

use std::collections::{BTreeMap, BTreeSet};

use super::ec2::{DescribeIamInstanceProfileAssociationsRequest, DescribeInstancesRequest};
use super::ec2::{Filter, Instance as Ec2Instance};
use super::iam::{
    GetAccountAuthorizationDetailsRequest, InstanceProfileNameRequest, ListByPathRequest,
    ListForRoleRequest, ListPolicyTagsRequest, ManagedPolicyDetail, Page, Role as IamRole,
    RoleDetail, RoleNameRequest, RolePolicyNameRequest, Tag,
};
use super::sts::GetCallerIdentityRequest;
use super::{Cloud, CloudError, ErrorCode};
use rolecall_model::{
    AccountQuotas, Arn, AssociationState, Desired, InstanceProfile, InstanceSelector,
    InstanceState, Live, LiveAssociation, LiveInstance, LiveInstanceProfile, LivePolicy, LiveRole,
    ManagedPolicy, PolicyDocument, Role, SortedMap, TAG_STACK, Tags, name_from_arn,
};

/// The most items IAM's List calls and EC2's Describe calls return per page.
pub const MAX_PAGE: u32 = 1000;

/// EC2's smallest `MaxResults`.
const MIN_EC2_PAGE: u32 = 5;

/// The most values one EC2 filter takes.
const MAX_FILTER_VALUES: usize = 200;

/// The instances a stack's plan, drift report or import concerns: those it
/// owns (its ownership tag), those it declares (by `Name` tag or id), and
/// those using its profiles (found through their associations): a profile
/// the stack deletes or changes must be taken from them first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub stack: String,
    pub instance_names: BTreeSet<String>,
    pub instance_ids: BTreeSet<String>,
    /// Profiles the stack declares; those it owns are found by their tag.
    pub profile_names: BTreeSet<String>,
}

impl Scope {
    /// What `desired` concerns.
    pub fn of(desired: &Desired) -> Scope {
        let mut scope = Scope {
            stack: desired.stack.clone(),
            profile_names: desired.profiles.keys().cloned().collect(),
            ..Scope::default()
        };
        for instance in &desired.instances {
            match &instance.selector {
                InstanceSelector::Id(id) => scope.instance_ids.insert(id.clone()),
                InstanceSelector::Name(name) => scope.instance_names.insert(name.clone()),
            };
        }
        scope
    }
}

/// The whole account, in as few calls as the API allows (pages of
/// [`MAX_PAGE`]).
pub fn from_reads(cloud: &dyn Cloud) -> Result<Live, CloudError> {
    from_reads_paged(cloud, MAX_PAGE)
}

/// The whole account, asking for pages of `page_size` items (IAM takes
/// 1 to 1000, EC2 5 to 1000: the size is brought into each range), so
/// tests can make every list span several pages.
pub fn from_reads_paged(cloud: &dyn Cloud, page_size: u32) -> Result<Live, CloudError> {
    read(cloud, page_size, None)
}

/// Every role and profile, and the instances `scope` concerns.
pub fn from_reads_within(cloud: &dyn Cloud, scope: &Scope) -> Result<Live, CloudError> {
    read(cloud, MAX_PAGE, Some(scope))
}

/// [`from_reads_within`] in pages of `page_size`, for tests.
pub fn from_reads_within_paged(
    cloud: &dyn Cloud,
    scope: &Scope,
    page_size: u32,
) -> Result<Live, CloudError> {
    read(cloud, page_size, Some(scope))
}

fn read(cloud: &dyn Cloud, page_size: u32, scope: Option<&Scope>) -> Result<Live, CloudError> {
    let iam_page = page_size.clamp(1, MAX_PAGE);
    let ec2_page = page_size.clamp(MIN_EC2_PAGE, MAX_PAGE);

    let identity = cloud.get_caller_identity(&GetCallerIdentityRequest {})?;
    // Every ARN the account hands out names its partition; the caller's is at hand.
    let partition = Arn::parse(&identity.arn).map(|arn| arn.partition);
    let summary = cloud.get_account_summary(&Default::default())?.summary_map;

    let mut live = Live {
        account_id: identity.account,
        quotas: AccountQuotas {
            roles: summary.roles_quota,
            instance_profiles: summary.instance_profiles_quota,
        },
        partition,
        ..Live::default()
    };

    // Customer-managed policies with every version, a page of policies per
    // call, then each one's tags (which the details leave out): policies
    // are few beside roles. None to read when the summary counts none.
    if summary.policies != Some(0) {
        let details = iam_pages("GetAccountAuthorizationDetails", iam_page, |page| {
            let out = cloud.get_account_authorization_details(
                &GetAccountAuthorizationDetailsRequest {
                    filter: vec!["LocalManagedPolicy".into()],
                    page,
                },
            )?;
            Ok((out.policies, out.is_truncated, out.marker))
        })?;
        for detail in details {
            let tags = iam_pages("ListPolicyTags", iam_page, |page| {
                let out = cloud.list_policy_tags(&ListPolicyTagsRequest {
                    policy_arn: detail.arn.clone(),
                    page,
                })?;
                Ok((out.tags, out.is_truncated, out.marker))
            })?;
            let policy = policy_from_details(detail, tags)?;
            live.policies.insert(policy.policy.name.clone(), policy);
        }
    }

    let listed_roles = iam_pages("ListRoles", iam_page, |page| {
        let out = cloud.list_roles(&ListByPathRequest {
            path_prefix: None,
            page,
        })?;
        Ok((out.roles, out.is_truncated, out.marker))
    })?;
    // Everything attached to the roles, a page of roles per call.
    let mut details: BTreeMap<String, RoleDetail> =
        iam_pages("GetAccountAuthorizationDetails", iam_page, |page| {
            let out = cloud.get_account_authorization_details(
                &GetAccountAuthorizationDetailsRequest {
                    filter: vec!["Role".into()],
                    page,
                },
            )?;
            Ok((out.role_detail_list, out.is_truncated, out.marker))
        })?
        .into_iter()
        .map(|detail| (detail.role_name.clone(), detail))
        .collect();
    for listed in listed_roles {
        let role = match details.remove(&listed.role_name) {
            Some(detail) => role_from_details(listed, detail)?,
            // Made between the two reads: read on its own.
            None => read_role(cloud, &listed.role_name, iam_page)?,
        };
        live.roles.insert(role.role.name.clone(), role);
    }

    for listed in iam_pages("ListInstanceProfiles", iam_page, |page| {
        let out = cloud.list_instance_profiles(&ListByPathRequest {
            path_prefix: None,
            page,
        })?;
        Ok((out.instance_profiles, out.is_truncated, out.marker))
    })? {
        let name = listed.instance_profile_name;
        // GetInstanceProfile carries the tags (ListInstanceProfiles does
        // not): one call per profile, as ListInstanceProfileTags would be
        // (a profile has at most 50 tags, one page), and moto answers it,
        // where its ListInstanceProfileTags fails with a 500.
        let tags = cloud
            .get_instance_profile(&InstanceProfileNameRequest {
                instance_profile_name: name.clone(),
            })?
            .instance_profile
            .tags;
        let profile = LiveInstanceProfile {
            profile: InstanceProfile {
                name: name.clone(),
                path: listed.path,
                // A profile holds at most one role.
                role: listed.roles.into_iter().next().map(|r| r.role_name),
                tags: tag_map(tags),
            },
            arn: listed.arn,
            instance_profile_id: listed.instance_profile_id,
        };
        live.profiles.insert(name, profile);
    }

    // Associations first: within a scope, they say which instances use
    // the stack's profiles.
    let associations = ec2_pages(ec2_page, |next_token, max_results| {
        let out = cloud.describe_iam_instance_profile_associations(
            &DescribeIamInstanceProfileAssociationsRequest {
                max_results: Some(max_results),
                next_token,
                ..Default::default()
            },
        )?;
        Ok((out.iam_instance_profile_associations, out.next_token))
    })?;
    // Only an association that is or becomes active is the instance's.
    let mut active = Vec::new();
    for association in associations {
        let state = association_state(&association.state)?;
        if matches!(
            state,
            AssociationState::Associating | AssociationState::Associated
        ) {
            active.push((association, state));
        }
    }

    let instances = match scope {
        None => describe_instances(cloud, ec2_page, Vec::new())?,
        Some(scope) => {
            let mut ids = scope.instance_ids.clone();
            for (association, _) in &active {
                let profile = name_from_arn(&association.iam_instance_profile.arn);
                let stacks = live
                    .profiles
                    .get(profile)
                    .and_then(|p| p.profile.tags.get(TAG_STACK));
                if scope.profile_names.contains(profile) || stacks == Some(&scope.stack) {
                    ids.insert(association.instance_id.clone());
                }
            }
            let mut filters = vec![Filter {
                name: format!("tag:{TAG_STACK}"),
                values: vec![scope.stack.clone()],
            }];
            filters.extend(chunked("tag:Name", &scope.instance_names));
            filters.extend(chunked("instance-id", &ids));
            let mut found = Vec::new();
            for filter in filters {
                let by_name = filter.name == "tag:Name";
                let mut instances = describe_instances(cloud, ec2_page, vec![filter])?;
                // EC2 reads `*` and `?` in a filter value as wildcards: a
                // declared `web-*` would find every web instance. Only the
                // exact name counts.
                if by_name {
                    instances.retain(|instance| {
                        instance.tags.iter().any(|tag| {
                            &*tag.key == "Name" && scope.instance_names.contains(&*tag.value)
                        })
                    });
                }
                found.extend(instances);
            }
            found
        }
    };
    for instance in instances {
        let state = instance_state(&instance.state.name)?;
        // The planner never sees terminated instances (EC2 lists them for
        // about an hour after).
        if state == InstanceState::Terminated {
            continue;
        }
        let tags = tag_map(instance.tags);
        let live_instance = LiveInstance {
            instance_id: instance.instance_id.clone(),
            name: tags.get("Name").cloned(),
            state,
            tags,
            association: None,
        };
        // Found by two filters, it is still one instance.
        live.instances.insert(instance.instance_id, live_instance);
    }

    for (association, state) in active {
        if let Some(instance) = live.instances.get_mut(&association.instance_id) {
            let profile_arn = association.iam_instance_profile.arn;
            instance.association = Some(LiveAssociation {
                association_id: association.association_id,
                profile_name: name_from_arn(&profile_arn).to_string(),
                profile_arn,
                state,
            });
        }
    }

    Ok(live)
}

/// Every instance passing `filters` (all of them with none), page by page.
fn describe_instances(
    cloud: &dyn Cloud,
    page_size: u32,
    filters: Vec<Filter>,
) -> Result<Vec<Ec2Instance>, CloudError> {
    ec2_pages(page_size, |next_token, max_results| {
        let out = cloud.describe_instances(&DescribeInstancesRequest {
            max_results: Some(max_results),
            next_token,
            filters: filters.clone(),
            ..Default::default()
        })?;
        let instances = out
            .reservations
            .into_iter()
            .flat_map(|r| r.instances)
            .collect();
        Ok((instances, out.next_token))
    })
}

/// Filters named `name` matching any of `values`, at most
/// [`MAX_FILTER_VALUES`] values each (none for no values).
fn chunked(name: &str, values: &BTreeSet<String>) -> Vec<Filter> {
    let values: Vec<String> = values.iter().cloned().collect();
    values
        .chunks(MAX_FILTER_VALUES)
        .map(|chunk| Filter {
            name: name.to_string(),
            values: chunk.to_vec(),
        })
        .collect()
}

/// A role from what ListRoles says of it (description, maximum session)
/// and its details (the rest).
fn role_from_details(listed: IamRole, detail: RoleDetail) -> Result<LiveRole, CloudError> {
    let operation = "GetAccountAuthorizationDetails";
    let mut inline_policies = SortedMap::new();
    for policy in detail.role_policy_list {
        inline_policies.insert(
            policy.policy_name,
            document(operation, &policy.policy_document)?.into_text(),
        );
    }
    Ok(LiveRole {
        role: Role {
            name: detail.role_name,
            path: detail.path,
            description: listed.description.unwrap_or_default(),
            trust: document(operation, &detail.assume_role_policy_document)?,
            max_session_duration: listed.max_session_duration,
            permissions_boundary: detail
                .permissions_boundary
                .map(|boundary| boundary.permissions_boundary_arn),
            managed_policies: detail
                .attached_managed_policies
                .into_iter()
                .map(|attached| attached.policy_arn)
                .collect(),
            inline_policies,
            tags: tag_map(detail.tags),
        },
        arn: detail.arn,
        role_id: detail.role_id,
    })
}

/// A customer-managed policy from its details: the default version's
/// document, every version oldest first.
fn policy_from_details(
    detail: ManagedPolicyDetail,
    tags: Vec<Tag>,
) -> Result<LivePolicy, CloudError> {
    let operation = "GetAccountAuthorizationDetails";
    let default = detail
        .policy_version_list
        .iter()
        .find(|version| version.version_id == detail.default_version_id)
        .and_then(|version| version.document.as_deref())
        .ok_or_else(|| {
            bad_response(
                operation,
                &format!(
                    "policy {} lists no document for its default version {}",
                    detail.arn, detail.default_version_id
                ),
            )
        })?;
    let document = document(operation, default)?.into_text();
    let mut versions: Vec<String> = detail
        .policy_version_list
        .into_iter()
        .map(|version| version.version_id)
        .collect();
    versions.sort_by_key(|id| version_number(id));
    // moto leaves the name out; the ARN ends with it.
    let name = if detail.policy_name.is_empty() {
        rolecall_model::name_from_arn(&detail.arn).to_string()
    } else {
        detail.policy_name
    };
    Ok(LivePolicy {
        policy: ManagedPolicy {
            name,
            path: detail.path,
            description: detail.description.unwrap_or_default(),
            document,
            tags: tag_map(tags),
        },
        arn: detail.arn,
        policy_id: detail.policy_id,
        default_version_id: detail.default_version_id,
        versions,
        attachment_count: detail.attachment_count,
    })
}

/// The number of a policy version id (`v12` is 12): IAM numbers versions
/// in the order it made them and never reuses a number, so this orders
/// them oldest first. An id of another form sorts last.
pub fn version_number(id: &str) -> u64 {
    id.strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// One role read on its own: GetRole, its inline policies one by one, its
/// attached policies.
fn read_role(cloud: &dyn Cloud, name: &str, page_size: u32) -> Result<LiveRole, CloudError> {
    let role = cloud
        .get_role(&RoleNameRequest {
            role_name: name.to_string(),
        })?
        .role;
    let for_role = |page| ListForRoleRequest {
        role_name: name.to_string(),
        page,
    };
    let mut inline_policies = SortedMap::new();
    for policy_name in iam_pages("ListRolePolicies", page_size, |page| {
        let out = cloud.list_role_policies(&for_role(page))?;
        Ok((out.policy_names, out.is_truncated, out.marker))
    })? {
        let policy = cloud.get_role_policy(&RolePolicyNameRequest {
            role_name: name.to_string(),
            policy_name: policy_name.clone(),
        })?;
        let document = document("GetRolePolicy", &policy.policy_document)?.into_text();
        inline_policies.insert(policy_name, document);
    }
    let managed_policies = iam_pages("ListAttachedRolePolicies", page_size, |page| {
        let out = cloud.list_attached_role_policies(&for_role(page))?;
        Ok((out.attached_policies, out.is_truncated, out.marker))
    })?
    .into_iter()
    .map(|attached| attached.policy_arn)
    .collect();
    Ok(LiveRole {
        role: Role {
            name: role.role_name,
            path: role.path,
            description: role.description.unwrap_or_default(),
            trust: document("GetRole", &role.assume_role_policy_document)?,
            max_session_duration: role.max_session_duration,
            permissions_boundary: role
                .permissions_boundary
                .map(|boundary| boundary.permissions_boundary_arn),
            managed_policies,
            inline_policies,
            tags: tag_map(role.tags),
        },
        arn: role.arn,
        role_id: role.role_id,
    })
}

/// Every item of an IAM list: pages of `page_size` items, each asked for
/// with the `Marker` the previous one returned, until one is not truncated.
fn iam_pages<T>(
    operation: &str,
    page_size: u32,
    mut call: impl FnMut(Page) -> Result<(Vec<T>, bool, Option<String>), CloudError>,
) -> Result<Vec<T>, CloudError> {
    let mut items = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let (page, truncated, next) = call(Page {
            marker: marker.clone(),
            max_items: Some(page_size),
        })?;
        items.extend(page);
        if !truncated {
            return Ok(items);
        }
        // A truncated page must say where to go on, somewhere new: anything
        // else would read the same page for ever.
        match next {
            Some(next) if marker.as_ref() != Some(&next) => marker = Some(next),
            _ => {
                return Err(bad_response(
                    operation,
                    "a truncated page gave no new Marker to continue from",
                ));
            }
        }
    }
}

/// Every item of an EC2 Describe: pages of `page_size` items, each asked
/// for with the `NextToken` the previous one returned, until one has none.
fn ec2_pages<T>(
    page_size: u32,
    mut call: impl FnMut(Option<String>, u32) -> Result<(Vec<T>, Option<String>), CloudError>,
) -> Result<Vec<T>, CloudError> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (page, next) = call(token.clone(), page_size)?;
        items.extend(page);
        match next {
            None => return Ok(items),
            Some(next) if token.as_ref() == Some(&next) => {
                return Err(bad_response(
                    "Describe",
                    "a page gave the NextToken it was asked with",
                ));
            }
            Some(next) => token = Some(next),
        }
    }
}

/// An answer rolecall cannot read: not retried, the same call answers the same.
fn bad_response(operation: &str, why: &str) -> CloudError {
    CloudError::new(
        operation,
        ErrorCode::Other("InvalidResponse".into()),
        format!("unexpected response: {why}"),
    )
}

/// A policy document as IAM returns it (URL-encoded JSON), in canonical
/// form. Permissions policies are then held as their text
/// ([`PolicyDocument::into_text`]), as the emulator's snapshot holds them:
/// compared, hashed and shown by it; trust policies stay trees.
fn document(operation: &str, text: &str) -> Result<PolicyDocument, CloudError> {
    PolicyDocument::parse(text).map_err(|e| {
        bad_response(
            operation,
            &format!("a policy document that does not parse: {e}"),
        )
    })
}

fn tag_map(tags: Vec<Tag>) -> Tags {
    tags.into_iter()
        .map(|tag| (tag.key.to_string(), tag.value.to_string()))
        .collect()
}

fn instance_state(name: &str) -> Result<InstanceState, CloudError> {
    InstanceState::parse(name).ok_or_else(|| {
        bad_response(
            "DescribeInstances",
            &format!("unknown instance state {name:?}"),
        )
    })
}

fn association_state(name: &str) -> Result<AssociationState, CloudError> {
    AssociationState::parse(name).ok_or_else(|| {
        bad_response(
            "DescribeIamInstanceProfileAssociations",
            &format!("unknown association state {name:?}"),
        )
    })
}
