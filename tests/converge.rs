//! Property: for random previous and desired states, with random changes
//! made outside rolecall in between, the plan's steps are accepted by the
//! emulated account (which enforces AWS's ordering rules and quotas) in plan
//! order, planning again afterwards finds nothing to do, resources rolecall
//! does not own are never touched, and each plan, saved and read back, is
//! planned again from its saved desired state into the same plan.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rolecall::apply::{self, ApplyOptions, Silent};
use rolecall::cloud::Cloud;
use rolecall::cloud::ec2::StopInstancesRequest;
use rolecall::emulator::Emulator;
use rolecall::model::*;
use rolecall::plan::{self, PlanOptions};
use serde_json::json;

const ROLES: &[&str] = &["web", "batch", "ci"];
const PROFILES: &[&str] = &["web", "batch", "spare"];
const INSTANCES: &[&str] = &["web-1", "web-2", "batch-1"];
/// Customer-managed policies the stacks may declare, and roles attach by name.
const POLICIES: &[&str] = &["alpha", "beta"];
const MANAGED: &[&str] = &[
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
];

fn policy(variant: u8) -> PolicyDocument {
    PolicyDocument::from_value(json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": format!("s3:Get{variant}"), "Resource": "*"}]
    }))
}

/// Trust policies: the shorthand a profile's role needs, and others.
fn trust(variant: u8) -> PolicyDocument {
    match variant {
        0 => PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
        1 => PolicyDocument::trusting_services(&["ec2.amazonaws.com", "lambda.amazonaws.com"]),
        _ => PolicyDocument::from_value(json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": ["ec2.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
            }]
        })),
    }
}

fn tags(keys: &BTreeSet<u8>, value: u8) -> Tags {
    keys.iter()
        .map(|k| (format!("k{k}"), format!("v{value}")))
        .collect()
}

prop_compose! {
    fn arb_policy(name: &'static str)(
        path in prop::sample::select(vec!["/", "/team/"]),
        description in prop::sample::select(vec!["", "described"]),
        document in 0u8..4,
        tag_keys in prop::collection::btree_set(0u8..4, 0..3),
        tag_value in 0u8..2,
    ) -> ManagedPolicy {
        ManagedPolicy {
            name: name.to_string(),
            path: path.to_string(),
            description: description.to_string(),
            document: policy(document),
            tags: tags(&tag_keys, tag_value),
        }
    }
}

prop_compose! {
    fn arb_role(name: &'static str)(
        path in prop::sample::select(vec!["/", "/apps/"]),
        description in prop::sample::select(vec!["", "serves", "other"]),
        duration in prop::sample::select(vec![3600u32, 7200]),
        boundary in any::<bool>(),
        managed in prop::sample::subsequence(MANAGED.to_vec(), 0..=MANAGED.len()),
        inline in prop::collection::btree_map(0u8..3, 0u8..3, 0..3),
        tag_keys in prop::collection::btree_set(0u8..4, 0..3),
        tag_value in 0u8..2,
        trust_variant in 0u8..3,
        customer in prop::sample::subsequence(POLICIES.to_vec(), 0..=POLICIES.len()),
    ) -> Role {
        Role {
            name: name.to_string(),
            path: path.to_string(),
            description: description.to_string(),
            trust: trust(trust_variant),
            max_session_duration: duration,
            permissions_boundary: boundary.then(|| "arn:aws:iam::aws:policy/PowerUserAccess".to_string()),
            // Customer-managed policies by name: the stack keeps those it
            // declares (see `arb_desired`).
            managed_policies: managed.into_iter().chain(customer).map(str::to_string).collect(),
            inline_policies: inline.into_iter().map(|(n, v)| (format!("p{n}"), policy(v))).collect(),
            tags: tags(&tag_keys, tag_value),
        }
    }
}

/// A whole declared stack: roles, profiles pointing at declared roles,
/// instances pointing at declared profiles.
fn arb_desired() -> impl Strategy<Value = Desired> {
    let roles = prop::sample::subsequence(ROLES.to_vec(), 0..=ROLES.len())
        .prop_flat_map(|names| names.into_iter().map(arb_role).collect::<Vec<_>>());
    let policies = prop::sample::subsequence(POLICIES.to_vec(), 0..=POLICIES.len())
        .prop_flat_map(|names| names.into_iter().map(arb_policy).collect::<Vec<_>>());
    (
        policies,
        roles,
        prop::collection::vec(
            (
                any::<bool>(),
                0usize..4,
                any::<bool>(),
                prop::collection::btree_set(0u8..4, 0..2),
            ),
            PROFILES.len(),
        ),
        prop::collection::vec((any::<bool>(), 0usize..4), INSTANCES.len()),
    )
        .prop_map(|(policies, roles, profile_choices, instance_choices)| {
            let policies: BTreeMap<String, ManagedPolicy> =
                policies.into_iter().map(|p| (p.name.clone(), p)).collect();
            let roles: BTreeMap<String, Role> = roles
                .into_iter()
                .map(|mut r| {
                    // A name the stack does not declare is no policy.
                    r.managed_policies
                        .retain(|entry| entry.starts_with("arn:") || policies.contains_key(entry));
                    (r.name.clone(), r)
                })
                .collect();
            let role_names: Vec<&String> = roles.keys().collect();
            let mut profiles = BTreeMap::new();
            for (name, (declared, role, moved, tag_keys)) in PROFILES.iter().zip(profile_choices) {
                if !declared {
                    continue;
                }
                profiles.insert(
                    name.to_string(),
                    InstanceProfile {
                        name: name.to_string(),
                        path: if moved { "/moved/" } else { "/" }.to_string(),
                        role: role_names.get(role).map(|r| r.to_string()),
                        tags: tags(&tag_keys, 1),
                    },
                );
            }
            let profile_names: Vec<&String> = profiles.keys().collect();
            let instances = INSTANCES
                .iter()
                .zip(instance_choices)
                .filter(|(_, (declared, _))| *declared)
                .map(|(name, (_, profile))| InstanceSpec {
                    selector: InstanceSelector::Name(name.to_string()),
                    profile: profile_names.get(profile).map(|p| p.to_string()),
                })
                .collect();
            Desired {
                stack: "lab".into(),
                stack_tags: Tags::new(),
                policies,
                roles,
                profiles,
                instances,
                locations: BTreeMap::new(),
                ..Desired::default()
            }
        })
}

fn converge(cloud: &Emulator, desired: &Desired, force: bool) -> Result<(), TestCaseError> {
    let options = PlanOptions {
        force,
        launch_instances: true,
    };
    let live = cloud
        .snapshot()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let plan = plan::plan(desired, &live, options)
        .map_err(|e| TestCaseError::fail(format!("plan failed: {e}")))?;
    saved_plan_round_trips(&plan, desired, &live, options)?;
    let options_apply = ApplyOptions {
        retry_timeout: std::time::Duration::from_secs(2),
        ..ApplyOptions::default()
    };
    let report = apply::execute(&plan, cloud, &options_apply, &Silent);
    for (id, outcome) in &report.outcomes {
        if let apply::Outcome::Failed(error) = outcome {
            let step = &plan.steps[id - 1];
            return Err(TestCaseError::fail(format!(
                "step {id} {} {} was rejected: {error}\nplan: {}",
                step.call.operation(),
                step.resource,
                rolecall::plan::render::json(&plan)
            )));
        }
    }
    prop_assert!(report.succeeded(), "{report:?}");
    let again = plan::plan(
        desired,
        &cloud
            .snapshot()
            .map_err(|e| TestCaseError::fail(e.to_string()))?,
        options,
    )
    .map_err(|e| TestCaseError::fail(format!("second plan failed: {e}")))?;
    prop_assert!(
        again.steps.is_empty(),
        "not converged; second plan: {}",
        rolecall::plan::render::json(&again)
    );
    Ok(())
}

/// The plan saved with `--out` reads back, and `apply FILE` would run it:
/// planned again from the saved desired state, it is the same plan.
fn saved_plan_round_trips(
    plan: &plan::Plan,
    desired: &Desired,
    live: &Live,
    options: PlanOptions,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let mut sealed = plan.clone();
    plan::saved::seal(&mut sealed, live, desired.clone(), options);
    plan::saved::write(&path, &sealed).unwrap();
    let read = plan::saved::read(&path).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(read.desired.as_ref(), Some(desired));
    let again = plan::saved::verify(read, live, options.launch_instances, &path)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, plan);
    Ok(())
}

/// Changes made outside rolecall to the stack's resources between two
/// applies, each switched on by one flag and made to the first resource it
/// applies to.
fn meddle(cloud: &Emulator, flags: &[bool]) {
    use rolecall::cloud::ec2::DisassociateIamInstanceProfileRequest;
    use rolecall::cloud::iam::*;
    let mut live = cloud.snapshot().unwrap();
    let ours = |tags: &Tags| tags.get(TAG_STACK).is_some_and(|s| s == "lab");
    live.roles.retain(|_, r| ours(&r.role.tags));
    live.profiles.retain(|_, p| ours(&p.profile.tags));
    live.instances.retain(|_, i| ours(&i.tags));
    live.policies.retain(|_, p| ours(&p.policy.tags));
    let on = |i: usize| flags.get(i).copied().unwrap_or(false);
    if on(0)
        && let Some(name) = live.roles.keys().next()
    {
        let tags = vec![Tag::new("by-hand", "yes")];
        let _ = cloud.tag_role(&TagRoleRequest {
            role_name: name.clone(),
            tags,
        });
    }
    if on(1)
        && let Some((name, arn)) = live
            .roles
            .iter()
            .find_map(|(n, r)| r.role.managed_policies.iter().next().map(|a| (n, a)))
    {
        let request = DetachRolePolicyRequest {
            role_name: name.clone(),
            policy_arn: arn.clone(),
        };
        cloud.detach_role_policy(&request).unwrap();
    }
    if on(2)
        && let Some((name, policy)) = live
            .roles
            .iter()
            .find_map(|(n, r)| r.role.inline_policies.keys().next().map(|p| (n, p)))
    {
        let request = DeleteRolePolicyRequest {
            role_name: name.clone(),
            policy_name: policy.clone(),
        };
        cloud.delete_role_policy(&request).unwrap();
    }
    if on(3)
        && let Some(association) = live.instances.values().find_map(|i| i.association.clone())
    {
        let request = DisassociateIamInstanceProfileRequest {
            association_id: association.association_id,
        };
        cloud.disassociate_iam_instance_profile(&request).unwrap();
    }
    if on(4)
        && let Some((name, role)) = live
            .profiles
            .iter()
            .find_map(|(n, p)| p.profile.role.as_ref().map(|r| (n, r)))
    {
        let request = RemoveRoleFromInstanceProfileRequest {
            instance_profile_name: name.clone(),
            role_name: role.clone(),
        };
        cloud.remove_role_from_instance_profile(&request).unwrap();
    }
    if on(5)
        && let Some(name) = live.roles.keys().last()
    {
        let request = UntagRoleRequest {
            role_name: name.clone(),
            tag_keys: vec![TAG_SPEC.into()],
        };
        cloud.untag_role(&request).unwrap();
    }
    // A new default version made by hand (refused at five versions, as
    // IAM refuses it: then nothing changed).
    if on(6)
        && let Some(found) = live.policies.values().next()
    {
        let _ = cloud.create_policy_version(&CreatePolicyVersionRequest {
            policy_arn: found.arn.clone(),
            policy_document: policy(9).to_json(),
            set_as_default: Some(true),
        });
    }
    if on(7)
        && let Some(found) = live.policies.values().next()
    {
        let tags = vec![Tag::new("by-hand", "yes")];
        let request = TagPolicyRequest {
            policy_arn: found.arn.clone(),
            tags,
        };
        cloud.tag_policy(&request).unwrap();
    }
    // A customer-managed policy detached by hand, from the roles as they
    // are now (the first flags may have detached one).
    let now = cloud.snapshot().unwrap();
    if on(8)
        && let Some((name, arn)) = now.roles.iter().rev().find_map(|(n, r)| {
            r.role
                .managed_policies
                .iter()
                .find(|arn| live.policies.values().any(|p| p.arn == **arn))
                .filter(|_| ours(&r.role.tags))
                .map(|a| (n, a))
        })
    {
        let request = DetachRolePolicyRequest {
            role_name: name.clone(),
            policy_arn: arn.clone(),
        };
        cloud.detach_role_policy(&request).unwrap();
    }
    if on(9)
        && let Some(found) = live.policies.values().last()
    {
        let request = UntagPolicyRequest {
            policy_arn: found.arn.clone(),
            tag_keys: vec![TAG_SPEC.into()],
        };
        cloud.untag_policy(&request).unwrap();
    }
    // Versions made by hand, none the default: DeletePolicy refuses a
    // policy with more than its default, and a new document may find five.
    if on(10)
        && let Some(found) = live.policies.values().last()
    {
        for variant in 4..8 {
            let _ = cloud.create_policy_version(&CreatePolicyVersionRequest {
                policy_arn: found.arn.clone(),
                policy_document: policy(variant).to_json(),
                set_as_default: Some(false),
            });
        }
    }
}

/// A role, a profile holding it and an instance using that, and a
/// customer-managed policy attached to the role, all made by hand and owned
/// by nobody: rolecall must never touch them.
fn outsiders(cloud: &Emulator) -> Live {
    use rolecall::cloud::ec2::{IamInstanceProfileSpecification, RunInstancesRequest};
    use rolecall::cloud::iam::*;
    let trust = trust(0).to_json();
    let role = CreateRoleRequest {
        role_name: "outsider".into(),
        assume_role_policy_document: trust.into(),
        tags: vec![Tag::new("team", "elsewhere")],
        ..CreateRoleRequest::default()
    };
    cloud.create_role(&role).unwrap();
    let created = cloud
        .create_policy(&CreatePolicyRequest {
            policy_name: "outsider".into(),
            policy_document: policy(0).to_json(),
            ..CreatePolicyRequest::default()
        })
        .unwrap();
    cloud
        .attach_role_policy(&AttachRolePolicyRequest {
            role_name: "outsider".into(),
            policy_arn: created.policy.arn,
        })
        .unwrap();
    let profile = CreateInstanceProfileRequest {
        instance_profile_name: "outsider".into(),
        ..CreateInstanceProfileRequest::default()
    };
    cloud.create_instance_profile(&profile).unwrap();
    cloud
        .add_role_to_instance_profile(&AddRoleToInstanceProfileRequest {
            instance_profile_name: "outsider".into(),
            role_name: "outsider".into(),
        })
        .unwrap();
    cloud
        .run_instances(&RunInstancesRequest {
            min_count: 1,
            max_count: 1,
            iam_instance_profile: Some(IamInstanceProfileSpecification::by_name("outsider")),
            ..RunInstancesRequest::default()
        })
        .unwrap();
    outsiders_in(cloud)
}

/// The outsiders as the account holds them now.
fn outsiders_in(cloud: &Emulator) -> Live {
    let live = cloud.snapshot().unwrap();
    Live {
        roles: live
            .roles
            .into_iter()
            .filter(|(n, _)| n == "outsider")
            .collect(),
        profiles: live
            .profiles
            .into_iter()
            .filter(|(n, _)| n == "outsider")
            .collect(),
        policies: live
            .policies
            .into_iter()
            .filter(|(n, _)| n == "outsider")
            .collect(),
        instances: live
            .instances
            .into_iter()
            .filter(|(_, i)| {
                i.association
                    .as_ref()
                    .is_some_and(|a| a.profile_name == "outsider")
            })
            .collect(),
        ..live
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_plan_applies_in_order_and_converges(
        before in arb_desired(),
        after in arb_desired(),
        stop in prop::collection::vec(any::<bool>(), INSTANCES.len()),
        meddling in prop::collection::vec(any::<bool>(), 11),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cloud = Emulator::open(&dir.path().join("account.db")).unwrap();
        let untouched = outsiders(&cloud);
        converge(&cloud, &before, false)?;
        meddle(&cloud, &meddling);
        // Some instances stopped out of band: switching their profile then
        // needs Disassociate + Associate instead of Replace.
        let live = cloud.snapshot().unwrap();
        let to_stop: Vec<String> = live
            .instances
            .values()
            .filter(|i| i.tags.contains_key(TAG_STACK))
            .zip(&stop)
            .filter(|(_, stop)| **stop)
            .map(|(i, _)| i.instance_id.clone())
            .collect();
        if !to_stop.is_empty() {
            cloud.stop_instances(&StopInstancesRequest { instance_ids: to_stop }).unwrap();
        }
        converge(&cloud, &after, false)?;
        prop_assert_eq!(&outsiders_in(&cloud), &untouched, "unowned resources changed");
        // And everything can be destroyed again. Instances released earlier
        // (no longer declared) keep their profile, so deleting it takes --force.
        converge(&cloud, &Desired { stack: "lab".into(), ..Desired::default() }, true)?;
        prop_assert_eq!(&outsiders_in(&cloud), &untouched, "unowned resources changed");
    }
}

/// The account's quota set to what it holds, or a little more: a plan either
/// is refused before any step (and then for a quota, rightly), or every step
/// is accepted, creates waiting for the deletes that make room.
fn converge_under_quota(
    cloud: &Emulator,
    desired: &Desired,
    headroom: (u32, u32),
) -> Result<(), TestCaseError> {
    use rolecall::emulator::Quotas;
    let live = cloud.snapshot().unwrap();
    let quotas = Quotas {
        max_roles: live.roles.len() as u32 + headroom.0,
        max_instance_profiles: live.profiles.len() as u32 + headroom.1,
    };
    cloud.set_quotas(&quotas).unwrap();
    let options = PlanOptions {
        force: false,
        launch_instances: true,
    };
    let live = cloud.snapshot().unwrap();
    // What plans badly without quotas is the other property's to find.
    let unlimited = Live {
        quotas: AccountQuotas::default(),
        ..live.clone()
    };
    if plan::plan(desired, &unlimited, options).is_err() {
        return Ok(());
    }
    let Err(refused) = plan::plan(desired, &live, options) else {
        return converge(cloud, desired, false);
    };
    let refused = refused.to_string();
    prop_assert!(
        refused
            .lines()
            .skip(1)
            .all(|line| line.starts_with("  account: ")),
        "refused for something else than a quota: {refused}"
    );
    // A refusal for the final count is right if the plan, applied under a
    // higher quota, ends above it.
    cloud.set_quotas(&Quotas::default()).unwrap();
    converge(cloud, desired, false)?;
    let after = cloud.snapshot().unwrap();
    let over = [
        (
            "(RolesPerAccount)",
            after.roles.len() as u32 > quotas.max_roles,
        ),
        (
            "(InstanceProfilesPerAccount)",
            after.profiles.len() as u32 > quotas.max_instance_profiles,
        ),
    ];
    for line in refused.lines().skip(1) {
        if line.contains("must run before its creates") {
            continue;
        }
        prop_assert!(
            over.iter()
                .any(|(quota, over)| *over && line.contains(quota)),
            "refused, yet it fits: {line}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn near_a_quota_a_plan_applies_or_is_refused_before_any_step(
        before in arb_desired(),
        after in arb_desired(),
        headroom in (0u32..3, 0u32..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cloud = Emulator::open(&dir.path().join("account.db")).unwrap();
        outsiders(&cloud);
        converge(&cloud, &before, false)?;
        converge_under_quota(&cloud, &after, headroom)?;
    }
}
