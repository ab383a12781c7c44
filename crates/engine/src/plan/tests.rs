//! Planner unit tests on hand-built Desired/Live states. Behaviour against a
//! rule-enforcing account is tested end to end in tests/ with the emulator.

use super::*;
use crate::compare::ownership;
use rolecall_model::*;

const STACK: &str = "lab";

fn role(name: &str) -> Role {
    Role {
        name: name.into(),
        path: "/".into(),
        description: String::new(),
        trust: PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
        max_session_duration: DEFAULT_MAX_SESSION_DURATION,
        permissions_boundary: None,
        managed_policies: Default::default(),
        inline_policies: Default::default(),
        tags: Default::default(),
    }
}

fn profile(name: &str, role: Option<&str>) -> InstanceProfile {
    InstanceProfile {
        name: name.into(),
        path: "/".into(),
        role: role.map(str::to_string),
        tags: Default::default(),
    }
}

fn desired() -> Desired {
    Desired {
        stack: STACK.into(),
        ..Desired::default()
    }
}

fn owned(tags: &Tags, hash: Option<&str>) -> Tags {
    let mut tags = tags.clone();
    tags.insert(TAG_STACK.into(), STACK.into());
    if let Some(hash) = hash {
        tags.insert(TAG_SPEC.into(), hash.into());
    }
    tags
}

const ACCOUNT: &str = "123456789012";

/// A customer-managed policy allowing one action.
fn managed(name: &str, action: &str) -> ManagedPolicy {
    ManagedPolicy {
        name: name.into(),
        path: "/".into(),
        description: String::new(),
        document: PolicyDocument::from_value(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]
        })),
        tags: Default::default(),
    }
}

/// The ARN of the customer-managed policy `name` (path `/`) of the account.
fn arn_of(name: &str) -> String {
    policy_arn("aws", ACCOUNT, "/", name)
}

/// Live as if `desired` had been applied (ownership tags included), every
/// policy with one version.
fn converged(desired: &Desired) -> Live {
    let mut live = Live {
        account_id: ACCOUNT.into(),
        ..Live::default()
    };
    let desired = crate::compare::resolved(desired, &live).into_owned();
    for (name, p) in &desired.policies {
        let mut p = p.clone();
        p.tags = owned(
            &p.tags,
            Some(&ownership::spec_hash(&desired.policies[name])),
        );
        live.policies.insert(
            name.clone(),
            LivePolicy {
                arn: policy_arn("aws", ACCOUNT, &p.path, name),
                policy: p,
                policy_id: format!("ANPA{name}"),
                default_version_id: "v1".into(),
                versions: vec!["v1".into()],
                attachment_count: 0,
            },
        );
    }
    for (name, r) in &desired.roles {
        let mut r = r.clone();
        r.tags = owned(
            &r.tags,
            Some(&ownership::spec_hash(desired.roles.get(name).unwrap())),
        );
        live.roles.insert(
            name.clone(),
            LiveRole {
                role: r,
                arn: format!("arn:aws:iam::123456789012:role/{name}"),
                role_id: format!("AROA{name}"),
            },
        );
    }
    for (name, p) in &desired.profiles {
        let mut p = p.clone();
        p.tags = owned(
            &p.tags,
            Some(&ownership::spec_hash(desired.profiles.get(name).unwrap())),
        );
        live.profiles.insert(
            name.clone(),
            LiveInstanceProfile {
                profile: p,
                arn: format!("arn:aws:iam::123456789012:instance-profile/{name}"),
                instance_profile_id: format!("AIPA{name}"),
            },
        );
    }
    live
}

fn instance(id: &str, name: &str, state: InstanceState, profile: Option<&str>) -> LiveInstance {
    LiveInstance {
        instance_id: id.into(),
        name: Some(name.into()),
        state,
        tags: owned(
            &[("Name".to_string(), name.to_string())]
                .into_iter()
                .collect(),
            None,
        ),
        association: profile.map(|p| LiveAssociation {
            association_id: format!("iip-assoc-{id}"),
            profile_name: p.into(),
            profile_arn: format!("arn:aws:iam::123456789012:instance-profile/{p}"),
            state: AssociationState::Associated,
        }),
    }
}

fn ops(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| format!("{} {}", s.call.operation(), s.resource))
        .collect()
}

fn position(plan: &Plan, op: &str) -> usize {
    ops(plan)
        .iter()
        .position(|o| o == op)
        .unwrap_or_else(|| panic!("no step `{op}` in {:#?}", ops(plan)))
}

fn options() -> PlanOptions {
    PlanOptions {
        force: false,
        launch_instances: true,
    }
}

#[test]
fn converged_state_plans_nothing() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    d.profiles.insert("web".into(), profile("web", Some("web")));
    let plan = plan(&d, &converged(&d), options()).unwrap();
    assert!(plan.steps.is_empty(), "{:#?}", ops(&plan));
    assert!(plan.summary.is_empty());
}

#[test]
fn new_stack_creates_in_dependency_order() {
    let mut d = desired();
    let mut web = role("web");
    web.managed_policies
        .insert("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into());
    d.roles.insert("web".into(), web);
    d.profiles.insert("web".into(), profile("web", Some("web")));
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Name("web-1".into()),
        profile: Some("web".into()),
    });
    let plan = plan(&d, &Live::default(), options()).unwrap();
    let create_role = position(&plan, "CreateRole role/web");
    let create_profile = position(&plan, "CreateInstanceProfile instance-profile/web");
    let add = position(&plan, "AddRoleToInstanceProfile instance-profile/web");
    let attach = position(&plan, "AttachRolePolicy role/web");
    let run = position(&plan, "RunInstances instance/web-1");
    assert!(create_role < add && create_profile < add && add < run && create_role < attach);
    assert_eq!(plan.summary.create, 3);
    assert!(plan.steps[run].emulator_only());
}

#[test]
fn declared_instance_absent_is_an_error_off_the_emulator() {
    let mut d = desired();
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Name("web-1".into()),
        profile: None,
    });
    let error = plan(&d, &Live::default(), PlanOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("launches instances only on the emulated account"),
        "{error}"
    );
}

#[test]
fn running_instance_switching_profile_is_replaced_without_a_gap() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    d.profiles.insert("a".into(), profile("a", Some("web")));
    d.profiles.insert("b".into(), profile("b", Some("web")));
    let mut live = converged(&d);
    live.instances.insert(
        "i-1".into(),
        instance("i-1", "web-1", InstanceState::Running, Some("a")),
    );
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Name("web-1".into()),
        profile: Some("b".into()),
    });
    let plan = plan(&d, &live, options()).unwrap();
    assert_eq!(
        ops(&plan),
        vec![
            "ReplaceIamInstanceProfileAssociation instance/i-1",
            "CreateTags instance/i-1"
        ],
        "the spec tag records the new association, after it"
    );

    live.instances.get_mut("i-1").unwrap().state = InstanceState::Stopped;
    let plan = super::plan(&d, &live, options()).unwrap();
    assert_eq!(
        ops(&plan),
        vec![
            "DisassociateIamInstanceProfile instance/i-1",
            "AssociateIamInstanceProfile instance/i-1",
            "CreateTags instance/i-1"
        ]
    );
}

#[test]
fn deleting_a_role_empties_it_and_its_profile_first() {
    let mut old = desired();
    let mut web = role("web");
    web.managed_policies
        .insert("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
    web.inline_policies.insert(
        "logs".into(),
        PolicyDocument::from_value(serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]})),
    );
    web.permissions_boundary = Some("arn:aws:iam::aws:policy/PowerUserAccess".into());
    old.roles.insert("web".into(), web);
    old.profiles
        .insert("web".into(), profile("web", Some("web")));
    let mut live = converged(&old);
    live.instances.insert(
        "i-1".into(),
        instance("i-1", "web-1", InstanceState::Running, Some("web")),
    );
    let mut d = desired();
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Id("i-1".into()),
        profile: None,
    });
    let plan = plan(&d, &live, options()).unwrap();
    let disassociate = position(&plan, "DisassociateIamInstanceProfile instance/i-1");
    let remove = position(&plan, "RemoveRoleFromInstanceProfile instance-profile/web");
    let delete_profile = position(&plan, "DeleteInstanceProfile instance-profile/web");
    let delete_role = position(&plan, "DeleteRole role/web");
    assert!(disassociate < remove && remove < delete_profile && remove < delete_role);
    for op in [
        "DetachRolePolicy role/web",
        "DeleteRolePolicy role/web",
        "DeleteRolePermissionsBoundary role/web",
    ] {
        assert!(position(&plan, op) < delete_role, "{op}");
    }
    // One RemoveRoleFromInstanceProfile serves both deletions.
    assert_eq!(
        ops(&plan)
            .iter()
            .filter(|o| o.starts_with("RemoveRole"))
            .count(),
        1
    );
    assert_eq!(plan.summary.delete, 2);
}

#[test]
fn unmanaged_instance_on_a_dying_profile_needs_force() {
    let mut old = desired();
    old.profiles.insert("web".into(), profile("web", None));
    let mut live = converged(&old);
    let mut stranger = instance("i-9", "other", InstanceState::Running, Some("web"));
    stranger.tags.remove(TAG_STACK);
    live.instances.insert("i-9".into(), stranger);
    let error = plan(&desired(), &live, options()).unwrap_err();
    assert!(error.to_string().contains("--force"), "{error}");
    let forced = plan(
        &desired(),
        &live,
        PlanOptions {
            force: true,
            ..options()
        },
    )
    .unwrap();
    assert!(forced.warnings.iter().any(|w| w.starts_with("--force")));
    assert!(
        position(&forced, "DisassociateIamInstanceProfile instance/i-9")
            < position(&forced, "DeleteInstanceProfile instance-profile/web")
    );
}

#[test]
fn path_change_replaces_and_reassociates() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    d.profiles.insert("web".into(), profile("web", Some("web")));
    let mut live = converged(&d);
    live.instances.insert(
        "i-1".into(),
        instance("i-1", "web-1", InstanceState::Running, Some("web")),
    );
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Name("web-1".into()),
        profile: Some("web".into()),
    });
    d.profiles.get_mut("web").unwrap().path = "/apps/".into();
    d.roles.get_mut("web").unwrap().path = "/apps/".into();
    let plan = plan(&d, &live, options()).unwrap();
    assert_eq!(plan.summary.replace, 2);
    let steps = ops(&plan);
    let at = |op: &str| position(&plan, op);
    assert!(
        at("DisassociateIamInstanceProfile instance/i-1")
            < at("DeleteInstanceProfile instance-profile/web")
    );
    assert!(at("DeleteRole role/web") < at("CreateRole role/web"));
    assert!(
        at("DeleteInstanceProfile instance-profile/web")
            < at("CreateInstanceProfile instance-profile/web")
    );
    assert!(
        at("AddRoleToInstanceProfile instance-profile/web")
            < at("AssociateIamInstanceProfile instance/i-1")
    );
    assert_eq!(
        steps.iter().filter(|s| s.starts_with("RemoveRole")).count(),
        1,
        "{steps:#?}"
    );
}

#[test]
fn unowned_or_foreign_resources_are_refused() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    d.roles.insert("api".into(), role("api"));
    let mut live = converged(&d);
    live.roles.get_mut("web").unwrap().role.tags.clear();
    live.roles
        .get_mut("api")
        .unwrap()
        .role
        .tags
        .insert(TAG_STACK.into(), "other".into());
    let error = plan(&d, &live, options()).unwrap_err().to_string();
    assert!(error.contains("rolecall import role/web"), "{error}");
    assert!(error.contains("owned by stack `other`"), "{error}");
}

#[test]
fn tag_and_policy_updates_keep_the_spec_tag_last() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    let live = converged(&d);
    let web = d.roles.get_mut("web").unwrap();
    web.tags.insert("team".into(), "web".into());
    web.description = "serves".into();
    let plan = plan(&d, &live, options()).unwrap();
    assert_eq!(
        ops(&plan),
        vec!["UpdateRole role/web", "TagRole role/web"],
        "TagRole carries the new spec hash, so it comes last"
    );
    assert_eq!(plan.changes[0].attributes, vec!["description", "tags"]);
}

#[test]
fn same_input_same_plan_and_json_round_trips() {
    let mut d = desired();
    for i in 0..20 {
        d.roles.insert(format!("r{i}"), role(&format!("r{i}")));
        d.profiles.insert(
            format!("p{i}"),
            profile(&format!("p{i}"), Some(&format!("r{i}"))),
        );
    }
    let a = plan(&d, &Live::default(), options()).unwrap();
    let b = plan(&d, &Live::default(), options()).unwrap();
    let (ja, jb) = (render::json(&a), render::json(&b));
    assert_eq!(ja, jb);
    let back: Plan = serde_json::from_str(&ja).unwrap();
    assert_eq!(back.steps, a.steps);
    for step in &a.steps {
        assert!(step.depends_on.iter().all(|d| *d < step.id));
    }
}

#[test]
fn an_instance_declared_by_id_and_by_name_is_a_problem_naming_both() {
    let mut d = desired();
    d.profiles.insert("pa".into(), profile("pa", None));
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Name("host".into()),
        profile: Some("pa".into()),
    });
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Id("i-0123456789abcdef0".into()),
        profile: None,
    });
    for (key, line) in [("instance/host", 3), ("instance/i-0123456789abcdef0", 7)] {
        d.locations.insert(
            key.into(),
            Location {
                file: "stack.yaml".into(),
                line,
                column: 1,
            },
        );
    }
    let mut live = converged(&d);
    live.instances.insert(
        "i-0123456789abcdef0".into(),
        instance("i-0123456789abcdef0", "host", InstanceState::Running, None),
    );
    let error = plan(&d, &live, options()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("stack.yaml:7:1: instance/i-0123456789abcdef0: matches instance/i-0123456789abcdef0 (host), which is already declared as `instance/host` at stack.yaml:3:1"),
        "{message}"
    );
}

#[test]
fn a_create_with_more_steps_writes_its_spec_hash_last() {
    let mut d = desired();
    let mut r = role("web");
    r.managed_policies
        .insert("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
    d.roles.insert("web".into(), r);
    d.roles.insert("bare".into(), role("bare"));
    d.profiles.insert("web".into(), profile("web", Some("web")));
    let p = plan(&d, &Live::default(), options()).unwrap();
    let spec_of = |op: &str, resource: &str| -> Vec<String> {
        p.steps
            .iter()
            .filter(|s| s.call.operation() == op && *s.resource == *resource)
            .map(|s| {
                let json = serde_json::to_value(&s.call).unwrap();
                json["params"]["Tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|t| t["Key"] == TAG_SPEC)
                    .map(|t| t["Value"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join("")
            })
            .collect()
    };
    let web_hash = ownership::spec_hash(&d.roles["web"]);
    assert_eq!(
        spec_of("CreateRole", "role/web"),
        vec![ownership::PENDING_SPEC]
    );
    assert_eq!(spec_of("TagRole", "role/web"), vec![web_hash]);
    assert!(position(&p, "AttachRolePolicy role/web") < position(&p, "TagRole role/web"));
    // Nothing follows a bare role's create: it carries the real hash at once.
    let bare_hash = ownership::spec_hash(&d.roles["bare"]);
    assert_eq!(spec_of("CreateRole", "role/bare"), vec![bare_hash]);
    assert!(spec_of("TagRole", "role/bare").is_empty());
    // A profile with a role: its hash after AddRoleToInstanceProfile.
    assert_eq!(
        spec_of("CreateInstanceProfile", "instance-profile/web"),
        vec![ownership::PENDING_SPEC]
    );
    assert!(
        position(&p, "AddRoleToInstanceProfile instance-profile/web")
            < position(&p, "TagInstanceProfile instance-profile/web")
    );
}

#[test]
fn a_role_whose_trust_names_a_new_role_is_created_after_it() {
    let mut d = desired();
    let mut a = role("a");
    a.trust = PolicyDocument::from_value(serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/z"},
            "Action": "sts:AssumeRole"
        }]
    }));
    d.roles.insert("a".into(), a);
    d.roles.insert("z".into(), role("z"));
    let live = Live {
        account_id: "123456789012".into(),
        ..Live::default()
    };
    let p = plan(&d, &live, options()).unwrap();
    assert!(position(&p, "CreateRole role/z") < position(&p, "CreateRole role/a"));
    // Another account's role is not this plan's business.
    let other = Live {
        account_id: "111122223333".into(),
        ..Live::default()
    };
    let p = plan(&d, &other, options()).unwrap();
    assert!(position(&p, "CreateRole role/a") < position(&p, "CreateRole role/z"));
}

/// An account in another partition names its roles in that partition's
/// ARNs: the trust is judged by account and partition, not by `arn:aws:`.
#[test]
fn a_trust_naming_a_role_of_the_account_is_read_in_the_accounts_partition() {
    let trusting = |principal: &str| {
        let mut d = desired();
        let mut a = role("a");
        a.trust = PolicyDocument::from_value(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole"
            }]
        }));
        d.roles.insert("a".into(), a);
        d.roles.insert("z".into(), role("z"));
        d
    };
    let in_partition = |partition: &str| Live {
        account_id: "123456789012".into(),
        partition: Some(partition.into()),
        ..Live::default()
    };
    let d = trusting("arn:aws-cn:iam::123456789012:role/z");
    let p = plan(&d, &in_partition("aws-cn"), options()).unwrap();
    assert!(position(&p, "CreateRole role/z") < position(&p, "CreateRole role/a"));
    // The same account id in another partition is another account.
    let p = plan(&d, &in_partition("aws"), options()).unwrap();
    assert!(position(&p, "CreateRole role/a") < position(&p, "CreateRole role/z"));
    // A trust naming a role of the account that will not exist is refused,
    // in whichever partition the account is.
    let d = trusting("arn:aws-us-gov:iam::123456789012:role/gone");
    assert!(plan(&d, &in_partition("aws-us-gov"), options()).is_err());
    assert!(plan(&d, &in_partition("aws"), options()).is_ok());
}

#[test]
fn views_show_a_resource_as_the_model_serialises_it_minus_ownership_tags() {
    // The view structs mirror the model's: a field added to one and not the
    // other would vanish from every plan.
    let mut r = role("web");
    r.description = "serves".into();
    r.permissions_boundary = Some("arn:aws:iam::aws:policy/PowerUserAccess".into());
    r.managed_policies
        .insert("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
    r.inline_policies.insert(
        "p".into(),
        PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
    );
    r.tags.insert("team".into(), "web".into());
    let mut p = profile("web", Some("web"));
    p.tags.insert("team".into(), "web".into());
    let mut d = desired();
    d.roles.insert("web".into(), r.clone());
    d.profiles.insert("web".into(), p.clone());
    let created = plan(&d, &Live::default(), options()).unwrap();
    let after = |key: &str| {
        created
            .changes
            .iter()
            .find(|c| c.resource == key)
            .and_then(|c| c.after.as_ref())
            .map(View::parse)
            .unwrap()
    };
    assert_eq!(after("role/web"), serde_json::to_value(&r).unwrap());
    assert_eq!(
        after("instance-profile/web"),
        serde_json::to_value(&p).unwrap()
    );
    // As the account has them: the ownership tags are left out.
    let mut live = converged(&d);
    live.roles.get_mut("web").unwrap().role.description = "changed".into();
    let updated = plan(&d, &live, options()).unwrap();
    let before = updated
        .changes
        .iter()
        .find(|c| c.resource == "role/web")
        .and_then(|c| c.before.as_ref())
        .map(View::parse)
        .unwrap();
    assert_eq!(before["tags"], serde_json::json!({"team": "web"}));
}

/// The views a plan builds once its steps are drafted (`Views::Later`,
/// then `views_due_on`) are the ones `compare` builds as it compares: for a
/// created, an updated, an in-sync and an orphaned role and profile.
#[test]
fn views_built_after_the_steps_are_the_views_built_while_comparing() {
    let mut d = desired();
    for name in ["web", "db", "old"] {
        d.roles.insert(name.into(), role(name));
        d.profiles.insert(name.into(), profile(name, Some(name)));
    }
    let mut live = converged(&d);
    live.roles.get_mut("web").unwrap().role.description = "changed".into();
    live.profiles.get_mut("web").unwrap().profile.role = None;
    d.roles.remove("old");
    d.profiles.remove("old");
    d.roles.insert("new".into(), role("new"));
    d.profiles.insert("new".into(), profile("new", Some("new")));
    let now = crate::compare::compare(&d, &live);
    let later = crate::compare::compare_with(&d, &live, crate::compare::Views::Later);
    assert_eq!(now.diffs.len(), later.diffs.len());
    for (now, later) in now.diffs.iter().zip(&later.diffs) {
        let (before, after) =
            crate::compare::views_due_on(&d, &live, later.kind, &later.name, later.due);
        assert_eq!(
            (
                later.before.clone().or(before),
                later.after.clone().or(after)
            ),
            (now.before.clone(), now.after.clone()),
            "{}",
            now.key
        );
    }
    assert!(later.diffs.iter().any(|diff| diff.due.before));
    assert!(later.diffs.iter().any(|diff| diff.due.after));
    assert!(
        now.diffs
            .iter()
            .any(|diff| diff.before.is_some() && diff.after.is_none())
    );
}

#[test]
fn a_profile_whose_role_is_recreated_is_an_update_that_shows_itself() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    d.profiles.insert("web".into(), profile("web", Some("web")));
    let live = converged(&d);
    d.roles.get_mut("web").unwrap().path = "/moved/".into();
    let p = plan(&d, &live, options()).unwrap();
    let change = p
        .changes
        .iter()
        .find(|c| c.resource == "instance-profile/web")
        .unwrap();
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.attributes, vec!["role (recreated)".to_string()]);
    assert!(
        change.before.is_some() && change.after.is_some(),
        "{change:?}"
    );
}

#[test]
fn a_released_instance_keeps_its_profile_when_the_profile_is_replaced() {
    let mut d = desired();
    d.roles.insert("web".into(), role("web"));
    d.profiles.insert("web".into(), profile("web", Some("web")));
    let mut live = converged(&d);
    live.instances.insert(
        "i-0123456789abcdef0".into(),
        instance(
            "i-0123456789abcdef0",
            "old",
            InstanceState::Running,
            Some("web"),
        ),
    );
    // The instance is no longer declared (released); its profile moves path.
    d.profiles.get_mut("web").unwrap().path = "/moved/".into();
    let p = plan(&d, &live, options()).unwrap();
    let associate = "AssociateIamInstanceProfile instance/i-0123456789abcdef0";
    assert!(position(&p, "CreateInstanceProfile instance-profile/web") < position(&p, associate));
    assert!(
        ops(&p).contains(&"DeleteTags instance/i-0123456789abcdef0".to_string()),
        "released: {:#?}",
        ops(&p)
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("is replaced") && w.contains("i-0123456789abcdef0")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn customer_policies_are_checked_against_the_account_and_the_stack() {
    let mine = "arn:aws:iam::123456789012:policy/Mine";
    let declared = "arn:aws:iam::123456789012:policy/ops/Declared";
    let gone = "arn:aws:iam::123456789012:policy/Gone";
    let mut d = desired();
    let mut a = role("a");
    a.managed_policies.insert(mine.into());
    a.managed_policies.insert(declared.into());
    a.managed_policies.insert(gone.into());
    a.permissions_boundary = Some(mine.into());
    d.roles.insert("a".into(), a);
    d.policies.insert(
        "Declared".into(),
        rolecall_model::ManagedPolicy {
            name: "Declared".into(),
            path: "/ops/".into(),
            description: String::new(),
            document: PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":[]}"#).unwrap(),
            tags: Default::default(),
        },
    );
    let mut held = d.policies["Declared"].clone();
    held.name = "Mine".into();
    held.path = "/".into();
    let known = Live {
        account_id: "123456789012".into(),
        partition: Some("aws".into()),
        policies: [(
            "Mine".to_string(),
            rolecall_model::LivePolicy {
                policy: held,
                arn: mine.into(),
                policy_id: "ANPAMINE".into(),
                default_version_id: "v1".into(),
                versions: vec!["v1".into()],
                attachment_count: 0,
            },
        )]
        .into(),
        ..Live::default()
    };
    let problems = plan(&d, &known, options()).unwrap_err().0;
    let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [format!(
            "managed policy `{gone}`: the account holds no customer-managed policy of that name, nor does the stack declare one: IAM refuses it (NoSuchEntity: Policy {gone} does not exist or is not attachable.)"
        )]
    );
    // Another partition is refused whatever the account holds.
    let china = Live {
        partition: Some("aws-cn".into()),
        ..known
    };
    assert_eq!(plan(&d, &china, options()).unwrap_err().0.len(), 4);
}

// ---- customer-managed policies ----------------------------------------------

fn empty_account() -> Live {
    Live {
        account_id: ACCOUNT.into(),
        partition: Some("aws".into()),
        ..Live::default()
    }
}

/// The parameters of the only step `op` (as in `ops`).
fn params(plan: &Plan, op: &str) -> serde_json::Value {
    let at = position(plan, op);
    serde_json::to_value(&plan.steps[at].call).unwrap()["params"].clone()
}

fn count(plan: &Plan, op: &str) -> usize {
    ops(plan).iter().filter(|o| *o == op).count()
}

/// Stack `lab` with policy `P` and role `web` attaching it by name.
fn web_with_policy() -> Desired {
    let mut d = desired();
    d.policies.insert("P".into(), managed("P", "s3:GetObject"));
    let mut web = role("web");
    web.managed_policies.insert("P".into());
    d.roles.insert("web".into(), web);
    d
}

#[test]
fn a_new_policy_is_created_before_the_roles_that_attach_it_or_bound_by_it() {
    let mut d = web_with_policy();
    let mut bounded = role("bounded");
    bounded.permissions_boundary = Some(arn_of("P"));
    d.roles.insert("bounded".into(), bounded);
    let p = plan(&d, &empty_account(), options()).unwrap();
    let create = position(&p, "CreatePolicy policy/P");
    assert!(create < position(&p, "AttachRolePolicy role/web"));
    assert!(create < position(&p, "CreateRole role/bounded"));
    // The name became the policy's ARN in this account.
    assert_eq!(
        params(&p, "AttachRolePolicy role/web")["PolicyArn"],
        arn_of("P")
    );
    // One call makes all of it: it carries the final spec hash.
    let tags = params(&p, "CreatePolicy policy/P")["Tags"].clone();
    let hash = ownership::spec_hash(&d.policies["P"]);
    assert!(
        tags.as_array()
            .unwrap()
            .iter()
            .any(|t| t["Key"] == TAG_SPEC && t["Value"] == hash)
            && tags
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["Key"] == TAG_STACK && t["Value"] == STACK),
        "{tags}"
    );
    assert_eq!(
        count(&p, "TagPolicy policy/P"),
        0,
        "nothing follows the create"
    );
    let change = p.changes.iter().find(|c| c.resource == "policy/P").unwrap();
    assert_eq!(change.action, Action::Create);
    assert_eq!(
        change.after.as_ref().unwrap().parse()["document"]["Statement"][0]["Action"],
        "s3:GetObject"
    );
}

/// `plan_owned` resolves policy names in place rather than on a copy:
/// the same plan as `plan`, on an empty account and on a converged one.
#[test]
fn a_plan_from_owned_manifests_is_the_same_plan() {
    let d = web_with_policy();
    for live in [empty_account(), converged(&d)] {
        let borrowed = plan(&d, &live, options()).unwrap();
        let owned = super::plan_owned(d.clone(), &live, options()).unwrap();
        assert_eq!(owned, borrowed);
    }
    assert_eq!(
        params(
            &super::plan_owned(d.clone(), &empty_account(), options()).unwrap(),
            "AttachRolePolicy role/web"
        )["PolicyArn"],
        arn_of("P")
    );
}

/// `plan_owned_with` hands its closure the plan's changes and warnings
/// before the steps are in order, and the steps when they are; the JSON
/// and the text written meanwhile, views built as they are written, are
/// those of the plan `plan` makes, and so are the plan's steps and
/// changes returned (less the views built for the writing).
#[test]
fn a_plan_handed_out_before_its_steps_are_ordered_is_the_same_plan() {
    let d = web_with_policy();
    let without_views = |changes: &[Change]| -> Vec<Change> {
        (changes.iter())
            .map(|change| Change {
                before: None,
                after: None,
                ..change.clone()
            })
            .collect()
    };
    // Noops before changes that show views: a role updated (both views),
    // a role created, a profile replaced, and an orphan role deleted.
    let mut mixed = d.clone();
    mixed.roles.insert("aaa".into(), role("aaa"));
    mixed.roles.insert("zzz".into(), role("zzz"));
    mixed
        .profiles
        .insert("aaa".into(), profile("aaa", Some("aaa")));
    mixed
        .profiles
        .insert("web".into(), profile("web", Some("web")));
    let mut changed = converged(&mixed);
    changed.roles.remove("zzz");
    let web = changed.roles.get_mut("web").unwrap();
    web.role.max_session_duration = 7200;
    let mut orphan = changed.roles["aaa"].clone();
    orphan.role.name = "gone".into();
    changed.roles.insert("gone".into(), orphan);
    changed.profiles.get_mut("web").unwrap().profile.path = "/old/".into();
    let actions: Vec<(String, Action)> = (plan(&mixed, &changed, options()).unwrap().changes)
        .into_iter()
        .map(|c| (c.resource, c.action))
        .collect();
    for expected in [
        ("role/aaa", Action::Noop),
        ("role/gone", Action::Delete),
        ("role/web", Action::Update),
        ("role/zzz", Action::Create),
        ("instance-profile/web", Action::Replace),
    ] {
        assert!(
            actions.contains(&(expected.0.into(), expected.1)),
            "{actions:?}"
        );
    }
    let cases = [
        (d.clone(), empty_account()),
        (d.clone(), converged(&d)),
        (mixed, changed),
    ];
    for (d, live) in cases {
        let borrowed = plan(&d, &live, options()).unwrap();
        let (owned, (seen, steps, json, text)) =
            super::plan_owned_with(d.clone(), &live, options(), |early, later| {
                let mut json = Vec::new();
                render::write_json_later(early, later, &mut json).unwrap();
                let mut text = Vec::new();
                let text_options = render::text::TextOptions::default();
                render::text::write_changes_beside(early, later, text_options, &mut text).unwrap();
                let seen = (
                    early.steps.len(),
                    without_views(&early.changes),
                    early.summary,
                );
                (seen, later.steps().map(<[Step]>::to_vec), json, text)
            })
            .unwrap();
        assert_eq!(owned.steps, borrowed.steps);
        assert_eq!(owned.warnings, borrowed.warnings);
        assert_eq!(
            without_views(&owned.changes),
            without_views(&borrowed.changes)
        );
        assert_eq!(
            seen,
            (0, without_views(&borrowed.changes), borrowed.summary)
        );
        assert_eq!(steps, Some(borrowed.steps.clone()));
        assert_eq!(String::from_utf8(json).unwrap(), render::json(&borrowed));
        let mut expected = Vec::new();
        render::text::write_changes(&borrowed, Default::default(), &mut expected).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
    assert!(
        plan(&d, &empty_account(), options()).unwrap().changes[0]
            .after
            .is_some(),
        "a role created has a view to show"
    );
    // Problems found while drafting: the closure never runs.
    let mut broken = web_with_policy();
    broken
        .profiles
        .insert("web".into(), profile("web", Some("nowhere")));
    let mut ran = false;
    let refused = super::plan_owned_with(broken, &empty_account(), options(), |_, _| ran = true);
    assert!(refused.is_err() && !ran);
}

/// Steps that could not be put in order wake whoever waits for them, and
/// the JSON written meanwhile fails rather than waiting for ever.
#[test]
fn steps_that_never_come_fail_the_json_written_meanwhile() {
    let later = super::Later::default();
    drop(super::WakeOnDrop(&later));
    assert_eq!(later.steps(), None);
    let early = plan(&web_with_policy(), &empty_account(), options()).unwrap();
    let mut json = Vec::new();
    let written = render::write_json_later(&early, &later, &mut json);
    assert!(written.is_err());
}

#[test]
fn a_converged_stack_with_policies_plans_nothing() {
    let d = web_with_policy();
    let live = converged(&d);
    let p = plan(&d, &live, options()).unwrap();
    assert!(p.steps.is_empty(), "{:#?}", ops(&p));
    // A document that means the same, written otherwise, is no change.
    let mut same = d.clone();
    same.policies.get_mut("P").unwrap().document = PolicyDocument::from_value(serde_json::json!({
        "Statement": [{"Resource": ["*"], "Action": ["s3:GetObject", "s3:GetObject"], "Effect": "Allow"}],
        "Version": "2012-10-17"
    }));
    let p = plan(&same, &live, options()).unwrap();
    assert!(p.steps.is_empty(), "{:#?}", ops(&p));
}

#[test]
fn a_document_change_is_a_new_default_version_then_the_spec_tag() {
    let mut d = web_with_policy();
    let live = converged(&d);
    d.policies.get_mut("P").unwrap().document = managed("P", "s3:PutObject").document;
    let p = plan(&d, &live, options()).unwrap();
    assert_eq!(
        ops(&p),
        ["CreatePolicyVersion policy/P", "TagPolicy policy/P"]
    );
    let version = params(&p, "CreatePolicyVersion policy/P");
    assert_eq!(version["SetAsDefault"], true);
    assert_eq!(version["PolicyArn"], arn_of("P"));
    let change = p.changes.iter().find(|c| c.resource == "policy/P").unwrap();
    assert_eq!(
        (change.action, change.attributes.clone()),
        (Action::Update, vec!["document".to_string()])
    );
}

#[test]
fn at_five_versions_the_oldest_non_default_one_goes_first() {
    let mut d = web_with_policy();
    let mut live = converged(&d);
    {
        let held = live.policies.get_mut("P").unwrap();
        held.versions = ["v1", "v2", "v3", "v4", "v5"].map(String::from).to_vec();
        // The default is the oldest: the next one goes.
        held.default_version_id = "v1".into();
    }
    d.policies.get_mut("P").unwrap().document = managed("P", "s3:PutObject").document;
    let p = plan(&d, &live, options()).unwrap();
    assert_eq!(
        ops(&p),
        [
            "DeletePolicyVersion policy/P",
            "CreatePolicyVersion policy/P",
            "TagPolicy policy/P"
        ]
    );
    assert_eq!(
        params(&p, "DeletePolicyVersion policy/P")["VersionId"],
        "v2"
    );
    assert_eq!(p.steps[1].depends_on, vec![1]);
    // The text plan shows documents, not calls: the warning says which
    // version, a way back, is lost.
    assert_eq!(
        p.warnings,
        [
            "policy/P: version v2 is deleted to make room for the new document (IAM keeps 5 versions; it is the oldest not in effect)"
        ]
    );
    // Four versions: room for a fifth.
    live.policies.get_mut("P").unwrap().versions.pop();
    let p = plan(&d, &live, options()).unwrap();
    assert_eq!(
        count(&p, "DeletePolicyVersion policy/P"),
        0,
        "{:#?}",
        ops(&p)
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn policy_tags_are_removed_before_they_are_added() {
    let mut d = web_with_policy();
    d.policies
        .get_mut("P")
        .unwrap()
        .tags
        .insert("old".into(), "x".into());
    let live = converged(&d);
    let p = d.policies.get_mut("P").unwrap();
    p.tags.clear();
    p.tags.insert("new".into(), "y".into());
    let p = plan(&d, &live, options()).unwrap();
    assert_eq!(ops(&p), ["UntagPolicy policy/P", "TagPolicy policy/P"]);
    assert_eq!(
        params(&p, "UntagPolicy policy/P")["TagKeys"],
        serde_json::json!(["old"])
    );
}

#[test]
fn a_path_change_replaces_the_policy_and_moves_every_attachment() {
    let mut d = web_with_policy();
    let mut live = converged(&d);
    live.policies.get_mut("P").unwrap().versions = vec!["v1".into(), "v2".into()];
    live.policies.get_mut("P").unwrap().default_version_id = "v2".into();
    d.policies.get_mut("P").unwrap().path = "/moved/".into();
    let p = plan(&d, &live, options()).unwrap();
    let new_arn = policy_arn("aws", ACCOUNT, "/moved/", "P");
    let at = |op: &str| position(&p, op);
    assert!(at("DetachRolePolicy role/web") < at("DeletePolicy policy/P"));
    assert!(at("DeletePolicyVersion policy/P") < at("DeletePolicy policy/P"));
    assert!(at("DeletePolicy policy/P") < at("CreatePolicy policy/P"));
    assert!(at("CreatePolicy policy/P") < at("AttachRolePolicy role/web"));
    assert_eq!(
        params(&p, "DeletePolicyVersion policy/P")["VersionId"],
        "v1"
    );
    assert_eq!(
        params(&p, "DetachRolePolicy role/web")["PolicyArn"],
        arn_of("P")
    );
    assert_eq!(
        params(&p, "AttachRolePolicy role/web")["PolicyArn"],
        new_arn
    );
    assert_eq!(params(&p, "CreatePolicy policy/P")["Path"], "/moved/");
    let change = p.changes.iter().find(|c| c.resource == "policy/P").unwrap();
    assert_eq!(change.action, Action::Replace);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.starts_with("policy/P is replaced (its path changes")
                && w.contains("(role/web)")),
        "{:?}",
        p.warnings
    );
    let text = render::text::render(&p, Default::default());
    assert!(
        text.contains(
            "-/+ policy/P (path changes, which forces replacement (IAM has no UpdatePolicy))"
        ),
        "{text}"
    );
}

#[test]
fn a_description_change_replaces_the_policy_as_iam_cannot_change_it() {
    let mut d = web_with_policy();
    let live = converged(&d);
    d.policies.get_mut("P").unwrap().description = "now described".into();
    let p = plan(&d, &live, options()).unwrap();
    assert!(position(&p, "DeletePolicy policy/P") < position(&p, "CreatePolicy policy/P"));
    // Same ARN: the role detaches and attaches it again around the gap.
    assert!(position(&p, "DetachRolePolicy role/web") < position(&p, "DeletePolicy policy/P"));
    assert!(position(&p, "CreatePolicy policy/P") < position(&p, "AttachRolePolicy role/web"));
    assert_eq!(
        params(&p, "CreatePolicy policy/P")["Description"],
        "now described"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("its description changes")),
        "{:?}",
        p.warnings
    );
    let role = p.changes.iter().find(|c| c.resource == "role/web").unwrap();
    assert_eq!(
        (role.action, role.attributes.clone()),
        (
            Action::Update,
            vec!["managed policy (recreated)".to_string()]
        )
    );
}

#[test]
fn a_boundary_whose_policy_is_recreated_leaves_the_role_unbounded_so_needs_force() {
    let mut d = desired();
    d.policies.insert("P".into(), managed("P", "s3:*"));
    let mut web = role("web");
    web.permissions_boundary = Some(arn_of("P"));
    d.roles.insert("web".into(), web);
    let live = converged(&d);
    d.policies.get_mut("P").unwrap().description = "now described".into();
    let error = plan(&d, &live, options()).unwrap_err().to_string();
    assert!(
        error.contains("role/web: its permissions boundary `arn:aws:iam::123456789012:policy/P` is replaced by this plan")
            && error.contains("--force"),
        "{error}"
    );
    let p = plan(
        &d,
        &live,
        PlanOptions {
            force: true,
            ..options()
        },
    )
    .unwrap();
    let at = |op: &str| position(&p, op);
    assert!(at("DeleteRolePermissionsBoundary role/web") < at("DeletePolicy policy/P"));
    assert!(at("CreatePolicy policy/P") < at("PutRolePermissionsBoundary role/web"));
    // Moved to another path, named by its new ARN: the same.
    let mut moved = d.clone();
    moved.policies.get_mut("P").unwrap().description = String::new();
    moved.policies.get_mut("P").unwrap().path = "/moved/".into();
    let new = policy_arn("aws", ACCOUNT, "/moved/", "P");
    moved.roles.get_mut("web").unwrap().permissions_boundary = Some(new.clone());
    let p = plan(
        &moved,
        &live,
        PlanOptions {
            force: true,
            ..options()
        },
    )
    .unwrap();
    assert_eq!(
        params(&p, "PutRolePermissionsBoundary role/web")["PermissionsBoundary"],
        new
    );
    assert!(
        position(&p, "CreatePolicy policy/P") < position(&p, "PutRolePermissionsBoundary role/web")
    );
}

#[test]
fn a_renamed_policy_is_attached_before_the_old_one_is_detached_and_deleted() {
    let d = web_with_policy();
    let live = converged(&d);
    let mut renamed = desired();
    renamed
        .policies
        .insert("Q".into(), managed("Q", "s3:GetObject"));
    let mut web = role("web");
    web.managed_policies.insert("Q".into());
    renamed.roles.insert("web".into(), web);
    let p = plan(&renamed, &live, options()).unwrap();
    let at = |op: &str| position(&p, op);
    assert!(at("CreatePolicy policy/Q") < at("AttachRolePolicy role/web"));
    assert!(
        at("AttachRolePolicy role/web") < at("DetachRolePolicy role/web"),
        "never without either: {:#?}",
        ops(&p)
    );
    assert!(at("DetachRolePolicy role/web") < at("DeletePolicy policy/P"));
    assert_eq!(count(&p, "DetachRolePolicy role/web"), 1, "{:#?}", ops(&p));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_role_full_of_policies_detaches_before_it_attaches() {
    let with = |count: usize| {
        let mut d = desired();
        let mut web = role("web");
        for i in 0..count {
            web.managed_policies
                .insert(format!("arn:aws:iam::aws:policy/P{i}"));
        }
        d.roles.insert("web".into(), web);
        d
    };
    // Ten held: one must go before another comes.
    let mut d = with(10);
    let live = converged(&d);
    let web = d.roles.get_mut("web").unwrap();
    web.managed_policies.remove("arn:aws:iam::aws:policy/P0");
    web.managed_policies
        .insert("arn:aws:iam::aws:policy/Q".into());
    let p = plan(&d, &live, options()).unwrap();
    assert!(position(&p, "DetachRolePolicy role/web") < position(&p, "AttachRolePolicy role/web"));
    // The moment without either is said, as every gap the plan makes.
    assert_eq!(
        p.warnings,
        [
            "role/web cannot hold more than 10 managed policies: it detaches P0 before it attaches Q, so for a moment it has the permissions of neither"
        ]
    );
    // Nine held: room for the new one first, never without either.
    let mut d = with(9);
    let live = converged(&d);
    let web = d.roles.get_mut("web").unwrap();
    web.managed_policies.remove("arn:aws:iam::aws:policy/P0");
    web.managed_policies
        .insert("arn:aws:iam::aws:policy/Q".into());
    let p = plan(&d, &live, options()).unwrap();
    assert!(position(&p, "AttachRolePolicy role/web") < position(&p, "DetachRolePolicy role/web"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_policy_no_longer_declared_is_detached_its_versions_deleted_then_it_goes() {
    let d = web_with_policy();
    let mut live = converged(&d);
    live.policies.get_mut("P").unwrap().versions = ["v1", "v2", "v3"].map(String::from).to_vec();
    live.policies.get_mut("P").unwrap().default_version_id = "v2".into();
    let mut without = desired();
    without.roles.insert("web".into(), role("web"));
    let p = plan(&without, &live, options()).unwrap();
    let delete = position(&p, "DeletePolicy policy/P");
    assert!(position(&p, "DetachRolePolicy role/web") < delete);
    let versions: Vec<String> = p
        .steps
        .iter()
        .filter(|s| s.call.operation() == "DeletePolicyVersion")
        .map(|s| {
            serde_json::to_value(&s.call).unwrap()["params"]["VersionId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        versions,
        ["v1", "v3"],
        "every non-default version, not the default"
    );
    for step in &p.steps[..delete] {
        assert!(
            p.steps[delete].depends_on.contains(&step.id) || step.call.operation() == "TagRole",
            "{:#?}",
            ops(&p)
        );
    }
    assert_eq!(
        count(&p, "DetachRolePolicy role/web"),
        1,
        "one detach serves both"
    );
    let change = p.changes.iter().find(|c| c.resource == "policy/P").unwrap();
    assert_eq!(change.action, Action::Delete);
}

#[test]
fn a_dying_policy_on_a_role_rolecall_does_not_own_needs_force() {
    let mut d = desired();
    d.policies.insert("P".into(), managed("P", "s3:GetObject"));
    let mut live = converged(&d);
    let mut stranger = role("stranger");
    stranger.managed_policies.insert(arn_of("P"));
    live.roles.insert(
        "stranger".into(),
        LiveRole {
            role: stranger,
            arn: "arn:aws:iam::123456789012:role/stranger".into(),
            role_id: "AROASTRANGER".into(),
        },
    );
    let error = plan(&desired(), &live, options()).unwrap_err().to_string();
    assert!(
        error.contains("policy/P: role/stranger is not managed by this stack but has policy/P attached, which this plan deletes; rerun with --force to detach it anyway"),
        "{error}"
    );
    let forced = plan(
        &desired(),
        &live,
        PlanOptions {
            force: true,
            ..options()
        },
    )
    .unwrap();
    assert!(
        forced
            .warnings
            .iter()
            .any(|w| w.starts_with("--force: role/stranger")),
        "{:?}",
        forced.warnings
    );
    assert!(
        position(&forced, "DetachRolePolicy role/stranger")
            < position(&forced, "DeletePolicy policy/P")
    );
    // Replaced, with --force, it gets the new one.
    d.policies.get_mut("P").unwrap().path = "/moved/".into();
    assert!(
        plan(&d, &live, options())
            .unwrap_err()
            .to_string()
            .contains("rerun with --force to detach it and attach the new one")
    );
    let forced = plan(
        &d,
        &live,
        PlanOptions {
            force: true,
            ..options()
        },
    )
    .unwrap();
    assert!(
        position(&forced, "CreatePolicy policy/P")
            < position(&forced, "AttachRolePolicy role/stranger")
    );
}

#[test]
fn a_dying_policy_that_bounds_a_role_rolecall_does_not_own_is_refused_even_with_force() {
    let mut d = desired();
    d.policies.insert("P".into(), managed("P", "s3:GetObject"));
    let mut live = converged(&d);
    let mut stranger = role("stranger");
    stranger.permissions_boundary = Some(arn_of("P"));
    live.roles.insert(
        "stranger".into(),
        LiveRole {
            role: stranger,
            arn: "arn:aws:iam::123456789012:role/stranger".into(),
            role_id: "AROASTRANGER".into(),
        },
    );
    let error = plan(
        &desired(),
        &live,
        PlanOptions {
            force: true,
            ..options()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("as its permissions boundary"), "{error}");
}

#[test]
fn a_role_deleted_with_its_customer_policy_attached_detaches_it_first() {
    let d = web_with_policy();
    let live = converged(&d);
    // The role goes, the policy stays.
    let mut fewer = desired();
    fewer
        .policies
        .insert("P".into(), managed("P", "s3:GetObject"));
    let p = plan(&fewer, &live, options()).unwrap();
    assert_eq!(
        ops(&p),
        ["DetachRolePolicy role/web", "DeleteRole role/web"]
    );
    // Both go: one detach serves the role's delete and the policy's.
    let p = plan(&desired(), &live, options()).unwrap();
    assert_eq!(count(&p, "DetachRolePolicy role/web"), 1, "{:#?}", ops(&p));
    let detach = position(&p, "DetachRolePolicy role/web");
    assert!(detach < position(&p, "DeleteRole role/web"));
    assert!(detach < position(&p, "DeletePolicy policy/P"));
}

#[test]
fn a_role_still_attaching_a_dying_policy_by_arn_is_a_problem() {
    let d = web_with_policy();
    let live = converged(&d);
    let mut stale = desired();
    let mut web = role("web");
    web.managed_policies.insert(arn_of("P"));
    stale.roles.insert("web".into(), web);
    let error = plan(&stale, &live, options()).unwrap_err().to_string();
    assert!(
        error.contains(
            "role/web: attaches `arn:aws:iam::123456789012:policy/P`, policy/P no longer declared"
        ),
        "{error}"
    );
}

#[test]
fn a_declared_policy_the_account_holds_unowned_needs_import() {
    let d = web_with_policy();
    let mut live = converged(&d);
    live.policies.get_mut("P").unwrap().policy.tags.clear();
    let error = plan(&d, &live, options()).unwrap_err().to_string();
    assert!(error.contains("rolecall import policy/P"), "{error}");
    live.policies
        .get_mut("P")
        .unwrap()
        .policy
        .tags
        .insert(TAG_STACK.into(), "other".into());
    let error = plan(&d, &live, options()).unwrap_err().to_string();
    assert!(error.contains("owned by stack `other`"), "{error}");
    // A name differing in case only: IAM's names ignore case.
    let mut cased = d.clone();
    let p = cased.policies.remove("P").unwrap();
    cased.policies.insert(
        "p".into(),
        ManagedPolicy {
            name: "p".into(),
            ..p
        },
    );
    cased.roles.get_mut("web").unwrap().managed_policies = ["p".to_string()].into();
    let error = plan(&cased, &converged(&d), options())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("the account has a policy named `P`"),
        "{error}"
    );
}

#[test]
fn a_boundary_moving_off_a_dying_policy_lets_it_go() {
    let mut d = desired();
    d.policies.insert("P".into(), managed("P", "s3:GetObject"));
    let mut web = role("web");
    web.permissions_boundary = Some(arn_of("P"));
    d.roles.insert("web".into(), web);
    let live = converged(&d);
    let mut after = desired();
    after.roles.insert("web".into(), role("web"));
    let p = plan(&after, &live, options()).unwrap();
    assert!(
        position(&p, "DeleteRolePermissionsBoundary role/web")
            < position(&p, "DeletePolicy policy/P")
    );
}

/// A first plan of roles `r00000` to `r04999`, each tagged `n` with its
/// number: more changes than a renderer's batch.
fn plan_of_5000_tagged_roles() -> Plan {
    let mut d = desired();
    for n in 0..5000 {
        let name = format!("r{n:05}");
        let mut r = role(&name);
        r.tags.insert("n".into(), n.to_string());
        d.roles.insert(name, r);
    }
    plan(&d, &Live::default(), options()).unwrap()
}

#[test]
fn a_large_text_plan_renders_its_blocks_in_plan_order_whatever_the_threads() {
    // More changes than one batch, so the blocks are rendered in parts on
    // several threads and must still come out in the plan's order.
    let p = plan_of_5000_tagged_roles();
    let text = render::text::render(&p, Default::default());
    let headers: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("  + role/"))
        .collect();
    let expected: Vec<String> = (0..5000).map(|n| format!("r{n:05}")).collect();
    assert_eq!(headers, expected);
    // Each block holds its own role's lines.
    for n in [0, 4095, 4096, 4999] {
        let block = text
            .split("\n\n")
            .find(|block| block.contains(&format!("+ role/r{n:05}\n")))
            .unwrap();
        assert!(block.contains(&format!("+ tags.n = \"{n}\"")), "{block}");
    }
}

/// The JSON plan, laid out by hand and written in batches over the
/// threads, is byte for byte serde_json's pretty printing of the published
/// fields, whatever the size of the plan (from no changes at all to more
/// changes and steps than one batch, with texts that need escaping), and
/// whether its steps are ready or still being put in order; and a saved
/// plan is serde_json's pretty printing of all its fields.
#[test]
fn a_json_plan_is_serde_jsons_pretty_printing_of_its_published_fields() {
    #[derive(serde::Serialize)]
    struct PublicPlan<'a> {
        format_version: u32,
        stack: &'a str,
        changes: &'a [Change],
        steps: &'a [Step],
        warnings: &'a [String],
        summary: &'a super::Summary,
    }
    let mut large = desired();
    for n in 0..5000 {
        let name = format!("r{n:05}");
        let mut r = role(&name);
        r.tags
            .insert("odd".into(), format!("line\nbreak \"{n}\" \\ ünï 😀 \u{1}"));
        large.roles.insert(name, r);
    }
    let d = web_with_policy();
    let mut with_warnings = plan(&d, &empty_account(), options()).unwrap();
    with_warnings.warnings = vec!["one".into(), "two \"quoted\"\nlines".into()];
    let plans = [
        plan(&desired(), &Live::default(), options()).unwrap(),
        plan(&d, &converged(&d), options()).unwrap(),
        with_warnings,
        plan(&large, &Live::default(), options()).unwrap(),
    ];
    assert!(plans[3].changes.len() > 4096 && plans[3].steps.len() > 4096);
    for p in &plans {
        let public = PublicPlan {
            format_version: p.format_version,
            stack: &p.stack,
            changes: &p.changes,
            steps: &p.steps,
            warnings: &p.warnings,
            summary: &p.summary,
        };
        let expected = serde_json::to_string_pretty(&public).unwrap() + "\n";
        assert_eq!(render::json(p), expected);
        // Written while the steps are put in order: the same bytes, whenever
        // they come.
        let later = super::Later::default();
        let json = std::thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let mut json = Vec::new();
                render::write_json_later(p, &later, &mut json).map(|()| json)
            });
            let _ = later.steps.set(Ok(p.steps.clone()));
            writer.join().unwrap().unwrap()
        });
        assert_eq!(String::from_utf8(json).unwrap(), expected);
    }
    // A saved plan: every field of the plan, the saved ones after the
    // published ones, whether each is set or not.
    let sealed = |d: &Desired, live: &Live| {
        let mut p = plan(d, live, options()).unwrap();
        saved::seal(&mut p, live, d.clone(), options());
        p
    };
    let mut unsealed_but_for_the_account = plan(&d, &empty_account(), options()).unwrap();
    unsealed_but_for_the_account.account_id = Some("123456789012".into());
    for p in [
        sealed(&d, &empty_account()),
        sealed(&d, &converged(&d)),
        sealed(&large, &Live::default()),
        unsealed_but_for_the_account,
    ] {
        let mut json = Vec::new();
        render::write_saved_json(&p, &mut json).unwrap();
        let expected = serde_json::to_string_pretty(&p).unwrap() + "\n";
        assert_eq!(String::from_utf8(json).unwrap(), expected);
    }
}

/// The markdown plan too renders its sections in parts on several threads:
/// they come out in the plan's order, each with its own lines and its own
/// resource's API calls, after the summary table.
#[test]
fn a_large_markdown_plan_renders_its_sections_in_plan_order_whatever_the_threads() {
    let p = plan_of_5000_tagged_roles();
    let markdown = render::markdown::render(&p);
    assert!(
        markdown.starts_with("### rolecall plan for stack `"),
        "{markdown}"
    );
    assert!(markdown.contains(&format!("| 5000 | 0 | 0 | 0 | {} |", p.steps.len())));
    assert!(markdown.ends_with(&format!("**{}**\n", render::summary_line(&p))));
    let headers: Vec<&str> = markdown
        .lines()
        .filter_map(|line| line.strip_prefix("<details><summary><code>+ role/"))
        .map(|rest| rest.split('<').next().unwrap_or(rest))
        .collect();
    let expected: Vec<String> = (0..5000).map(|n| format!("r{n:05}")).collect();
    assert_eq!(headers, expected);
    let calls = |n: usize| -> Vec<String> {
        let resource = format!("role/r{n:05}");
        p.steps
            .iter()
            .filter(|step| *step.resource == *resource)
            .map(|step| format!("`{}`", step.call.operation()))
            .collect()
    };
    for n in [0, 4095, 4096, 4999] {
        let section = markdown
            .split("</details>")
            .find(|section| section.contains(&format!("+ role/r{n:05}</code>")))
            .unwrap();
        assert!(
            section.contains(&format!("+ tags.n = \"{n}\"\n")),
            "{section}"
        );
        let listed = format!("API calls: {}\n", calls(n).join(", "));
        assert!(section.contains(&listed), "{listed} not in {section}");
    }
}

/// The requests' tags share the texts that repeat (the stack's tags, the
/// ownership tags, every key) and keep each resource's own values apart;
/// their policy documents share the text of the manifests' documents.
#[test]
fn requests_share_the_texts_that_repeat() {
    let pairs = |pairs: &[(&str, &str)]| -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut d = desired();
    d.stack_tags = pairs(&[("owner", "platform")]);
    // As a manifest file's roles share the trust policy they spell alike.
    let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]);
    for name in ["a", "b"] {
        let mut r = role(name);
        r.trust = trust.clone();
        r.tags = pairs(&[("owner", "platform"), ("team", name)]);
        d.roles.insert(name.into(), r);
    }
    let p = plan(&d, &empty_account(), options()).unwrap();
    let creates: Vec<&rolecall_cloud::iam::CreateRoleRequest> = p
        .steps
        .iter()
        .filter_map(|step| match &step.call {
            Call::CreateRole(request) => Some(&**request),
            _ => None,
        })
        .collect();
    assert_eq!(creates.len(), 2);
    let tag = |at: usize, key: &str| {
        let found = creates[at].tags.iter().find(|t| &*t.key == key);
        found.unwrap_or_else(|| panic!("no tag {key}")).clone()
    };
    for key in ["owner", TAG_STACK, TAG_SPEC, "team"] {
        assert!(
            std::sync::Arc::ptr_eq(&tag(0, key).key, &tag(1, key).key),
            "{key}"
        );
    }
    for key in ["owner", TAG_STACK] {
        assert!(
            std::sync::Arc::ptr_eq(&tag(0, key).value, &tag(1, key).value),
            "{key}"
        );
    }
    assert_eq!((&*tag(0, "team").value, &*tag(1, "team").value), ("a", "b"));
    for create in creates {
        let sent = &create.assume_role_policy_document;
        assert!(std::sync::Arc::ptr_eq(sent, &trust.shared_json()));
    }
}

#[test]
fn each_shown_change_finds_its_diff_in_order_or_out_of_it() {
    fn diff(key: &str) -> compare::ResourceDiff {
        compare::ResourceDiff {
            key: key.into(),
            kind: Kind::Role,
            name: key.into(),
            instance_name: None,
            status: compare::Status::Missing,
            spec: None,
            attributes: Vec::new(),
            before: None,
            after: None,
            due: compare::ViewsDue::default(),
            location: None,
            declared_hash: None,
        }
    }
    fn change(resource: &str, action: Action) -> Change {
        Change {
            resource: resource.into(),
            name: None,
            action,
            before: None,
            after: None,
            attributes: Vec::new(),
        }
    }
    let diffs: Vec<_> = ["a", "b", "c", "d", "e"].into_iter().map(diff).collect();
    let changes = vec![
        change("a", Action::Create),
        // A noop shows nothing.
        change("b", Action::Noop),
        // Not the next diff: found by key, and the search goes on after it.
        change("c", Action::Update),
        change("e", Action::Delete),
        change("d", Action::Create),
        // No diff of its own, and a diff already taken.
        change("z", Action::Create),
        change("a", Action::Update),
    ];
    assert_eq!(
        shown_with_diffs(&changes, &diffs),
        vec![(0, 0), (2, 2), (3, 4), (4, 3)]
    );
    let noops: Vec<_> = ["a", "b"].map(|key| change(key, Action::Noop)).into();
    assert!(shown_with_diffs(&noops, &diffs).is_empty());

    // Against the map of every diff by key (the last of a key's diffs),
    // each taken once: any changes, over sorted diffs whose keys repeat.
    fn by_map(changes: &[Change], diffs: &[compare::ResourceDiff]) -> Vec<(usize, usize)> {
        let mut by_key: HashMap<&str, usize> = diffs
            .iter()
            .enumerate()
            .map(|(at, diff)| (diff.key.as_str(), at))
            .collect();
        changes
            .iter()
            .enumerate()
            .filter(|(_, change)| change.action != Action::Noop)
            .filter_map(|(at, change)| Some((at, by_key.remove(change.resource.as_str())?)))
            .collect()
    }
    let keys = ["a", "b", "c", "d"];
    let actions = [Action::Noop, Action::Create, Action::Update];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let cases = (
        proptest::collection::vec(0..keys.len(), 0..8),
        proptest::collection::vec((0..keys.len() + 1, 0..actions.len()), 0..10),
    );
    runner
        .run(&cases, |(mut diff_keys, change_keys)| {
            diff_keys.sort_unstable();
            let diffs: Vec<_> = diff_keys.iter().map(|&k| diff(keys[k])).collect();
            let changes: Vec<_> = change_keys
                .iter()
                .map(|&(k, a)| change(keys.get(k).copied().unwrap_or("z"), actions[a]))
                .collect();
            proptest::prop_assert_eq!(shown_with_diffs(&changes, &diffs), by_map(&changes, &diffs));
            Ok(())
        })
        .unwrap();
}

#[test]
fn an_instance_launched_under_an_orphans_id_is_tagged_with_its_own_spec_hash() {
    // `name: i-1` declares an instance named i-1; the account's i-1 is
    // another one, owned and no longer declared. Both diffs have the key
    // `instance/i-1`: the launch takes the declared one's hash.
    let mut d = desired();
    d.instances.push(InstanceSpec {
        selector: InstanceSelector::Name("i-1".into()),
        profile: None,
    });
    let mut live = Live::default();
    live.instances.insert(
        "i-1".into(),
        instance("i-1", "old", InstanceState::Running, None),
    );
    let plan = plan(&d, &live, options()).unwrap();
    let run = &plan.steps[position(&plan, "RunInstances instance/i-1")];
    let params = run
        .call
        .serialize_params(serde_json::value::Serializer)
        .unwrap()
        .to_string();
    let hash = compare::instance_hash(None);
    assert!(
        params.contains(&format!(r#"{{"Key":"rolecall:spec","Value":"{hash}"}}"#)),
        "{params}"
    );
}

/// A change's views show the user's tags and never rolecall's own, as
/// `ownership::user_tags` keeps them; a resource with no tags of the
/// user's shows none at all.
#[test]
fn views_show_the_users_tags_only() {
    let mut d = desired();
    let mut tagged = role("tagged");
    tagged.tags.insert("team".into(), "web".into());
    tagged.tags.insert("a".into(), "first".into());
    d.roles.insert("tagged".into(), tagged.clone());
    d.roles.insert("bare".into(), role("bare"));
    let mut live = empty_account();
    let mut held = tagged.clone();
    held.tags = owned(&tagged.tags, Some("0123456789abcdef"));
    held.max_session_duration = 7200;
    live.roles.insert(
        "tagged".into(),
        LiveRole {
            role: held,
            arn: "arn:aws:iam::123456789012:role/tagged".into(),
            role_id: "AROATAGGED".into(),
        },
    );
    let p = plan(&d, &live, options()).unwrap();
    let shown = |key: &str, side: fn(&Change) -> Option<&View>| {
        let change = p.changes.iter().find(|c| c.resource == key).unwrap();
        side(change).unwrap().parse()
    };
    let before = shown("role/tagged", |c| c.before.as_ref());
    assert_eq!(
        before["tags"],
        serde_json::json!({"a": "first", "team": "web"})
    );
    let after = shown("role/tagged", |c| c.after.as_ref());
    assert_eq!(after["tags"], before["tags"]);
    assert!(
        shown("role/bare", |c| c.after.as_ref())
            .get("tags")
            .is_none()
    );
}

/// The instance pass drafts in runs that two threads take in turn: a
/// stack of more instances than fit one run plans as one pass would.
/// Changes follow the declarations, then the released orphans; and each
/// instance launched, or found in the account (on either side of a run's
/// end) and given its profile, waits for its own profile's role,
/// whichever run drafted it.
#[test]
fn instances_drafted_in_runs_plan_as_one_pass() {
    const DECLARED: usize = 20_000;
    let mut d = desired();
    for k in 0..3 {
        d.roles.insert(format!("r{k}"), role(&format!("r{k}")));
        let name = format!("p{k}");
        d.profiles
            .insert(name.clone(), profile(&name, Some(&format!("r{k}"))));
    }
    let mut live = empty_account();
    let found = 8_190..8_195;
    for i in 0..DECLARED {
        d.instances.push(InstanceSpec {
            selector: InstanceSelector::Name(format!("host-{i}")),
            profile: Some(format!("p{}", i % 3)),
        });
    }
    for i in found.clone() {
        let id = format!("i-found-{i}");
        let found = instance(&id, &format!("host-{i}"), InstanceState::Running, None);
        live.instances.insert(id, found);
    }
    for k in 0..2 {
        let id = format!("i-orphan-{k}");
        let orphan = instance(&id, &format!("gone-{k}"), InstanceState::Running, None);
        live.instances.insert(id, orphan);
    }
    let plan = plan(&d, &live, options()).unwrap();

    let expected: Vec<String> = (0..DECLARED)
        .map(|i| match found.contains(&i) {
            true => format!("instance/i-found-{i}"),
            false => format!("instance/host-{i}"),
        })
        .chain((0..2).map(|k| format!("instance/i-orphan-{k}")))
        .collect();
    let instance_changes: Vec<&str> = (plan.changes.iter())
        .map(|c| c.resource.as_str())
        .filter(|r| r.starts_with("instance/"))
        .collect();
    assert_eq!(instance_changes, expected);

    let id_of = |op: &str| plan.steps[position(&plan, op)].id;
    let ready: Vec<usize> = (0..3)
        .map(|k| id_of(&format!("AddRoleToInstanceProfile instance-profile/p{k}")))
        .collect();
    let launches: Vec<&Step> = (plan.steps.iter())
        .filter(|s| s.call.operation() == "RunInstances")
        .collect();
    assert_eq!(launches.len(), DECLARED - found.len());
    for launch in launches {
        let host: usize = launch.resource["instance/host-".len()..].parse().unwrap();
        assert!(
            launch.depends_on.contains(&ready[host % 3]),
            "{} waits for {:?}",
            launch.resource,
            launch.depends_on
        );
    }
    for i in found {
        let associate = id_of(&format!("AssociateIamInstanceProfile instance/i-found-{i}"));
        assert!(plan.steps[associate - 1].depends_on.contains(&ready[i % 3]));
    }
}

/// The plan's steps, changes, warnings and problems, drafted with the
/// profile pass a run of its own from `profiles_worth_a_run` profiles.
fn drafted_with(
    d: &Desired,
    live: &Live,
    profiles_worth_a_run: usize,
) -> (Vec<Step>, Vec<Change>, Vec<String>, Vec<compare::Problem>) {
    let comparison = compare::compare_with(d, live, compare::Views::Later);
    let built = steps::build_with(d, live, &comparison, options(), profiles_worth_a_run);
    let steps = ordered(built.drafts, &built.changes, live).unwrap();
    (steps, built.changes, built.warnings, built.problems)
}

#[test]
fn profiles_drafted_as_a_run_plan_as_one_pass() {
    let mut old = desired();
    for name in ["a", "b", "gone"] {
        old.roles.insert(name.into(), role(name));
    }
    for (name, role) in [("swap", "a"), ("drop", "b"), ("keep", "a"), ("dying", "b")] {
        old.profiles.insert(name.into(), profile(name, Some(role)));
    }
    old.profiles
        .insert("holds-gone".into(), profile("holds-gone", Some("gone")));
    let mut live = converged(&old);
    let mut unmanaged = instance("i-3", "other-3", InstanceState::Running, Some("drop"));
    unmanaged.tags.remove(TAG_STACK);
    for used in [
        instance("i-1", "web-1", InstanceState::Running, Some("swap")),
        instance("i-2", "web-2", InstanceState::Running, Some("keep")),
        unmanaged,
    ] {
        live.instances.insert(used.instance_id.clone(), used);
    }

    // Profiles swap roles, lose one, keep one, go, and are created (one
    // naming a role nobody has); `gone` is deleted with the profile that
    // holds it (one RemoveRoleFromInstanceProfile for both).
    let mut roles_kept = desired();
    for name in ["a", "b"] {
        roles_kept.roles.insert(name.into(), role(name));
    }
    let mut roles_deleted = roles_kept.clone();
    for name in ["gone", "new"] {
        roles_kept.roles.insert(name.into(), role(name));
    }
    for d in [&mut roles_kept, &mut roles_deleted] {
        for (name, role) in [
            ("swap", Some("b")),
            ("drop", None),
            ("keep", Some("a")),
            ("created", Some("a")),
            ("nobody", Some("missing")),
        ] {
            d.profiles.insert(name.into(), profile(name, role));
        }
        for (id, profile) in [("i-1", "swap"), ("i-2", "keep")] {
            d.instances.push(InstanceSpec {
                selector: InstanceSelector::Id(id.into()),
                profile: Some(profile.into()),
            });
        }
    }
    roles_kept
        .profiles
        .insert("holds-gone".into(), profile("holds-gone", Some("new")));
    for d in [&roles_kept, &roles_deleted] {
        let one_pass = drafted_with(d, &live, usize::MAX);
        assert_eq!(drafted_with(d, &live, 0), one_pass);
        let (steps, _, warnings, problems) = one_pass;
        assert!(!steps.is_empty() && !warnings.is_empty() && !problems.is_empty());
    }
}
