//! Behaviour of the emulated account beyond single error rules: identifiers,
//! state over time, misbehaviour, snapshot, paging, export/import.

use std::time::Duration;

mod support;

use rolecall::cloud::ec2::*;
use rolecall::cloud::iam::*;
use rolecall::cloud::{Cloud, ErrorCode};
use rolecall::emulator::{AccountExport, Emulator, Faults, Quotas};
use rolecall::model::{AssociationState, InstanceState, PolicyDocument};
use support::instances::launch_named;

const TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

fn account() -> (tempfile::TempDir, Emulator) {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::open(&dir.path().join("account.db")).unwrap();
    (dir, emulator)
}

fn create_role(cloud: &dyn Cloud, name: &str) -> Role {
    cloud
        .create_role(&CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap()
        .role
}

fn create_profile(cloud: &dyn Cloud, name: &str, role: &str) {
    cloud
        .create_instance_profile(&CreateInstanceProfileRequest {
            instance_profile_name: name.into(),
            ..Default::default()
        })
        .unwrap();
    cloud
        .add_role_to_instance_profile(&InstanceProfileRoleRequest {
            instance_profile_name: name.into(),
            role_name: role.into(),
        })
        .unwrap();
}

fn associate(cloud: &dyn Cloud, instance: &str, profile: &str) -> Result<String, ErrorCode> {
    cloud
        .associate_iam_instance_profile(&AssociateIamInstanceProfileRequest {
            instance_id: instance.into(),
            iam_instance_profile: IamInstanceProfileSpecification::by_name(profile),
        })
        .map(|r| r.iam_instance_profile_association.association_id)
        .map_err(|e| e.code)
}

#[test]
fn ids_arns_and_url_encoded_documents() {
    let (_dir, cloud) = account();
    assert_eq!(cloud.account_id(), "123456789012");
    let role = cloud
        .create_role(&CreateRoleRequest {
            role_name: "Web".into(),
            path: Some("/apps/".into()),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap()
        .role;
    assert_eq!(role.arn, "arn:aws:iam::123456789012:role/apps/Web");
    assert!(role.role_id.starts_with("AROA") && role.role_id.len() == 21);
    assert!(
        role.role_id[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(role.max_session_duration, 3600);
    // Returned URL-encoded, as submitted (whitespace kept).
    assert!(
        role.assume_role_policy_document
            .starts_with("%7B%22Version%22%3A%20")
    );
    let got = cloud
        .get_role(&RoleNameRequest {
            role_name: "web".into(),
        })
        .unwrap()
        .role;
    assert_eq!(got.role_name, "Web");
    assert_eq!(
        PolicyDocument::parse(&got.assume_role_policy_document).unwrap(),
        PolicyDocument::parse(TRUST).unwrap()
    );
    create_profile(&cloud, "web", "Web");
    let profile = cloud
        .get_instance_profile(&InstanceProfileNameRequest {
            instance_profile_name: "web".into(),
        })
        .unwrap()
        .instance_profile;
    assert!(
        profile.instance_profile_id.starts_with("AIPA") && profile.instance_profile_id.len() == 21
    );
    assert_eq!(profile.roles[0].role_name, "Web");
    let reservation = cloud
        .run_instances(&RunInstancesRequest {
            min_count: 2,
            max_count: 2,
            ..Default::default()
        })
        .unwrap();
    assert!(reservation.reservation_id.starts_with("r-"));
    assert_eq!(reservation.instances.len(), 2);
    let id = &reservation.instances[0].instance_id;
    assert!(id.starts_with("i-") && id.len() == 19);
    let association = associate(&cloud, id, "web").unwrap();
    assert!(association.starts_with("iip-assoc-") && association.len() == 27);
}

#[test]
fn a_document_sent_url_encoded_comes_back_encoded_once() {
    let (_dir, cloud) = account();
    let encoded = rolecall::model::policy::url_encode(TRUST);
    let role = cloud
        .create_role(&CreateRoleRequest {
            role_name: "web".into(),
            assume_role_policy_document: encoded.as_str().into(),
            ..Default::default()
        })
        .unwrap()
        .role;
    assert_eq!(role.assume_role_policy_document, encoded);
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    cloud
        .put_role_policy(&PutRolePolicyRequest {
            role_name: "web".into(),
            policy_name: "read".into(),
            policy_document: rolecall::model::policy::url_encode(policy).into(),
        })
        .unwrap();
    let got = cloud
        .get_role_policy(&GetRolePolicyRequest {
            role_name: "web".into(),
            policy_name: "read".into(),
        })
        .unwrap();
    assert_eq!(
        got.policy_document,
        rolecall::model::policy::url_encode(policy)
    );
    // And the account holds the document itself, not its encoding.
    let live = cloud.snapshot().unwrap();
    assert_eq!(
        live.roles["web"].role.trust,
        PolicyDocument::parse(TRUST).unwrap()
    );
}

#[test]
fn role_tag_keys_ignore_case_profile_tag_keys_do_not() {
    let (_dir, cloud) = account();
    create_role(&cloud, "web");
    let tag = |k: &str, v: &str| TagRoleRequest {
        role_name: "web".into(),
        tags: vec![Tag::new(k, v)],
    };
    cloud.tag_role(&tag("Department", "finance")).unwrap();
    cloud.tag_role(&tag("department", "hr")).unwrap();
    let tags = cloud
        .list_role_tags(&ListForRoleRequest {
            role_name: "web".into(),
            page: Page::default(),
        })
        .unwrap()
        .tags;
    assert_eq!(tags, vec![Tag::new("department", "hr")]);
    cloud
        .untag_role(&UntagRoleRequest {
            role_name: "web".into(),
            tag_keys: vec!["DEPARTMENT".into()],
        })
        .unwrap();
    assert!(cloud.snapshot().unwrap().roles["web"].role.tags.is_empty());

    cloud
        .create_instance_profile(&CreateInstanceProfileRequest {
            instance_profile_name: "p".into(),
            tags: vec![Tag::new("Costcenter", "1"), Tag::new("costcenter", "2")],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        cloud.snapshot().unwrap().profiles["p"].profile.tags.len(),
        2
    );
}

#[test]
fn rejected_call_changes_nothing() {
    let (_dir, cloud) = account();
    let err = cloud
        .create_role(&CreateRoleRequest {
            role_name: "web".into(),
            assume_role_policy_document: TRUST.into(),
            tags: vec![Tag::new("a", "1"), Tag::new("A", "2")],
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(!err.retryable);
    assert!(cloud.snapshot().unwrap().roles.is_empty());
}

#[test]
fn replace_gives_a_new_association_and_terminate_drops_it() {
    let (_dir, cloud) = account();
    create_role(&cloud, "web");
    create_profile(&cloud, "a", "web");
    cloud
        .create_instance_profile(&CreateInstanceProfileRequest {
            instance_profile_name: "b".into(),
            ..Default::default()
        })
        .unwrap();
    let instance = launch_named(&cloud, "web-1");
    let first = associate(&cloud, &instance, "a").unwrap();
    let replaced = cloud
        .replace_iam_instance_profile_association(&ReplaceIamInstanceProfileAssociationRequest {
            association_id: first.clone(),
            iam_instance_profile: IamInstanceProfileSpecification::by_name("b"),
        })
        .unwrap()
        .iam_instance_profile_association;
    assert_ne!(replaced.association_id, first);
    assert_eq!(replaced.state, "associating");
    let live = cloud.snapshot().unwrap();
    let association = live.instances[&instance].association.clone().unwrap();
    assert_eq!(association.profile_name, "b");
    assert_eq!(association.state, AssociationState::Associated);
    assert_eq!(live.instances[&instance].name.as_deref(), Some("web-1"));

    let all = cloud
        .describe_iam_instance_profile_associations(&Default::default())
        .unwrap()
        .iam_instance_profile_associations;
    assert_eq!(all.len(), 1);
    cloud
        .terminate_instances(&InstanceIdsRequest {
            instance_ids: vec![instance.clone()],
        })
        .unwrap();
    assert!(cloud.snapshot().unwrap().instances.is_empty());
    let described = cloud.describe_instances(&Default::default()).unwrap();
    assert_eq!(
        described.reservations[0].instances[0].state.name,
        "terminated"
    );
}

#[test]
fn associating_then_associated() {
    let (_dir, cloud) = account();
    cloud
        .configure(&Faults {
            associating_ms: 1000,
            ..Default::default()
        })
        .unwrap();
    create_role(&cloud, "web");
    create_profile(&cloud, "web", "web");
    let instance = launch_named(&cloud, "web-1");
    associate(&cloud, &instance, "web").unwrap();
    let state = |c: &Emulator| {
        c.snapshot().unwrap().instances[&instance]
            .association
            .clone()
            .unwrap()
            .state
    };
    assert_eq!(state(&cloud), AssociationState::Associating);
    let filtered = cloud
        .describe_iam_instance_profile_associations(
            &DescribeIamInstanceProfileAssociationsRequest {
                filters: vec![Filter {
                    name: "state".into(),
                    values: vec!["associating".into()],
                }],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(filtered.iam_instance_profile_associations.len(), 1);
    // Wide margins: a loaded CI runner must not see the window close early.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(state(&cloud), AssociationState::Associated);
}

#[test]
fn new_profile_is_invisible_to_ec2_for_the_propagation_delay() {
    let (_dir, cloud) = account();
    cloud
        .configure(&Faults {
            propagation_delay_ms: 1000,
            ..Default::default()
        })
        .unwrap();
    create_role(&cloud, "web");
    create_profile(&cloud, "web", "web");
    let instance = launch_named(&cloud, "web-1");
    let err = cloud
        .associate_iam_instance_profile(&AssociateIamInstanceProfileRequest {
            instance_id: instance.clone(),
            iam_instance_profile: IamInstanceProfileSpecification::by_name("web"),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParameterValue);
    assert_eq!(
        err.message,
        "Value (web) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
    );
    assert!(err.retryable, "a profile not yet visible is worth retrying");
    // IAM itself sees it at once.
    assert!(
        cloud
            .get_instance_profile(&InstanceProfileNameRequest {
                instance_profile_name: "web".into()
            })
            .is_ok()
    );
    // Wide margins: a loaded CI runner must not see the window close early.
    std::thread::sleep(Duration::from_millis(1100));
    associate(&cloud, &instance, "web").unwrap();
}

#[test]
fn throttling_and_nth_call_failure() {
    let (_dir, cloud) = account();
    cloud
        .configure(&Faults {
            throttle_rate: 1.0,
            seed: 7,
            ..Default::default()
        })
        .unwrap();
    let iam = cloud
        .get_role(&RoleNameRequest {
            role_name: "x".into(),
        })
        .unwrap_err();
    assert_eq!((iam.code, iam.retryable), (ErrorCode::Throttling, true));
    let ec2 = cloud.describe_instances(&Default::default()).unwrap_err();
    assert_eq!(
        (ec2.code, ec2.retryable),
        (ErrorCode::RequestLimitExceeded, true)
    );

    // Half the calls, reproducibly for one seed.
    let outcomes = |seed| {
        cloud
            .configure(&Faults {
                throttle_rate: 0.5,
                seed,
                ..Default::default()
            })
            .unwrap();
        (0..40)
            .map(|_| cloud.list_roles(&Default::default()).is_ok())
            .collect::<Vec<_>>()
    };
    let first = outcomes(42);
    assert_eq!(first, outcomes(42));
    let ok = first.iter().filter(|ok| **ok).count();
    assert!((8..=32).contains(&ok), "{ok} of 40 succeeded");

    cloud
        .configure(&Faults {
            fail_after: Some(2),
            ..Default::default()
        })
        .unwrap();
    create_role(&cloud, "a");
    let err = cloud
        .create_role(&CreateRoleRequest {
            role_name: "b".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ServiceFailure);
    assert!(err.retryable);
    create_role(&cloud, "b");
    cloud.configure(&Faults::default()).unwrap();
    assert_eq!(cloud.snapshot().unwrap().roles.len(), 2);
}

#[test]
fn account_quotas_are_configurable() {
    let (_dir, cloud) = account();
    assert_eq!(cloud.quotas().unwrap(), Quotas::default());
    cloud
        .set_quotas(&Quotas {
            max_roles: 1,
            max_instance_profiles: 1,
        })
        .unwrap();
    create_role(&cloud, "a");
    let err = cloud
        .create_role(&CreateRoleRequest {
            role_name: "b".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "An error occurred (LimitExceeded) when calling the CreateRole operation: Cannot exceed quota for RolesPerAccount: 1"
    );
    let profile = |name: &str| CreateInstanceProfileRequest {
        instance_profile_name: name.into(),
        ..Default::default()
    };
    cloud.create_instance_profile(&profile("a")).unwrap();
    let err = cloud.create_instance_profile(&profile("b")).unwrap_err();
    assert_eq!(
        err.message,
        "Cannot exceed quota for InstanceProfilesPerAccount: 1"
    );
}

#[test]
fn paging_walks_every_item_once() {
    let (_dir, cloud) = account();
    for i in 0..7 {
        create_role(&cloud, &format!("role-{i}"));
    }
    let mut marker = None;
    let mut seen = Vec::new();
    loop {
        let page = cloud
            .list_roles(&ListByPathRequest {
                path_prefix: None,
                page: Page {
                    marker: marker.clone(),
                    max_items: Some(3),
                },
            })
            .unwrap();
        seen.extend(page.roles.into_iter().map(|r| r.role_name));
        if !page.is_truncated {
            break;
        }
        marker = page.marker;
    }
    assert_eq!(seen.len(), 7);
    for _ in 0..6 {
        launch_named(&cloud, "x");
    }
    let mut token = None;
    let mut count = 0;
    loop {
        let page = cloud
            .describe_instances(&DescribeInstancesRequest {
                max_results: Some(5),
                next_token: token.clone(),
                ..Default::default()
            })
            .unwrap();
        count += page
            .reservations
            .iter()
            .map(|r| r.instances.len())
            .sum::<usize>();
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(count, 6);
}

#[test]
fn snapshot_reads_everything() {
    let (_dir, cloud) = account();
    create_role(&cloud, "web");
    cloud
        .put_role_policy(&PutRolePolicyRequest {
            role_name: "web".into(),
            policy_name: "read".into(),
            policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}"#.into(),
        })
        .unwrap();
    cloud
        .attach_role_policy(&RolePolicyArnRequest {
            role_name: "web".into(),
            policy_arn: "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
        })
        .unwrap();
    cloud
        .put_role_permissions_boundary(&PutRolePermissionsBoundaryRequest {
            role_name: "web".into(),
            permissions_boundary: "arn:aws:iam::aws:policy/PowerUserAccess".into(),
        })
        .unwrap();
    cloud
        .tag_role(&TagRoleRequest {
            role_name: "web".into(),
            tags: vec![Tag::new("rolecall:stack", "prod")],
        })
        .unwrap();
    create_profile(&cloud, "web", "web");
    let instance = launch_named(&cloud, "web-1");
    associate(&cloud, &instance, "web").unwrap();
    cloud
        .stop_instances(&InstanceIdsRequest {
            instance_ids: vec![instance.clone()],
        })
        .unwrap();

    let live = cloud.snapshot().unwrap();
    assert_eq!(live.account_id, "123456789012");
    let role = &live.roles["web"].role;
    assert_eq!(role.trust, PolicyDocument::parse(TRUST).unwrap());
    assert_eq!(role.inline_policies.len(), 1);
    assert!(
        role.managed_policies
            .contains("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    );
    assert_eq!(
        role.permissions_boundary.as_deref(),
        Some("arn:aws:iam::aws:policy/PowerUserAccess")
    );
    assert_eq!(
        role.tags.get("rolecall:stack").map(String::as_str),
        Some("prod")
    );
    assert_eq!(live.profiles["web"].profile.role.as_deref(), Some("web"));
    let live_instance = &live.instances[&instance];
    assert_eq!(live_instance.state, InstanceState::Stopped);
    assert_eq!(
        live_instance.association.as_ref().unwrap().profile_name,
        "web"
    );
}

#[test]
fn export_import_export_is_byte_identical() {
    let (_dir, cloud) = account();
    create_role(&cloud, "web");
    cloud
        .put_role_policy(&PutRolePolicyRequest {
            role_name: "web".into(),
            policy_name: "read".into(),
            policy_document: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]\n}".into(),
        })
        .unwrap();
    cloud
        .tag_role(&TagRoleRequest {
            role_name: "web".into(),
            tags: vec![Tag::new("b", "2"), Tag::new("a", "x: y = z/w")],
        })
        .unwrap();
    cloud
        .update_role(&UpdateRoleRequest {
            role_name: "web".into(),
            description: Some("it's: \"quoted\"\n# not a comment".into()),
            max_session_duration: Some(7200),
        })
        .unwrap();
    create_role(&cloud, "api");
    create_profile(&cloud, "web", "web");
    let instance = launch_named(&cloud, "web-1");
    associate(&cloud, &instance, "web").unwrap();
    cloud
        .configure(&Faults {
            associating_ms: 5,
            seed: 9,
            ..Default::default()
        })
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.yaml");
    cloud.export_to_file(&file).unwrap();
    let first = std::fs::read_to_string(&file).unwrap();

    let mut copy = Emulator::create(&dir.path().join("copy.db"), "111122223333").unwrap();
    copy.import_file(&file).unwrap();
    assert_eq!(copy.account_id(), "123456789012");
    assert_eq!(copy.export_yaml().unwrap(), first);
    assert_eq!(copy.snapshot().unwrap(), cloud.snapshot().unwrap());
    assert_eq!(copy.faults().unwrap().seed, 9);
}

#[test]
fn reopening_keeps_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    {
        let cloud = Emulator::create(&path, "111122223333").unwrap();
        create_role(&cloud, "web");
    }
    let cloud = Emulator::open(&path).unwrap();
    assert_eq!(cloud.account_id(), "111122223333");
    assert_eq!(
        cloud.snapshot().unwrap().roles["web"].arn,
        "arn:aws:iam::111122223333:role/web"
    );
    assert!(Emulator::create(&path, "999999999999").is_err());
    assert!(Emulator::create(&path, "12").is_err());
}

#[test]
fn a_held_account_fails_clearly_after_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    let cloud = Emulator::open(&path).unwrap();
    // Another process holding the write lock.
    let mut other = rusqlite::Connection::open(&path).unwrap();
    let tx = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let err = cloud
        .create_role(&CreateRoleRequest {
            role_name: "web".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ServiceFailure);
    assert!(!err.retryable);
    assert!(err.message.contains("is busy"), "{}", err.message);
    assert!(
        err.message.contains(&path.display().to_string()),
        "{}",
        err.message
    );
    drop(tx);
    create_role(&cloud, "web");
}

/// Reads never wait for a writer (WAL): while another connection holds a
/// write transaction, opening the account, Get/List/Describe calls and the
/// snapshot complete, and see what was committed before it. (Writes still
/// wait: `a_held_account_fails_clearly_after_the_busy_timeout`.)
#[test]
fn reads_complete_while_another_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    create_role(&Emulator::open(&path).unwrap(), "web");
    let mut writer = rusqlite::Connection::open(&path).unwrap();
    let tx = writer
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute("DELETE FROM roles", []).unwrap();

    // Each of these would wait the busy timeout, then fail, if it took a write lock.
    let reader = Emulator::open(&path).unwrap();
    let listed = reader.list_roles(&ListRolesRequest::default()).unwrap();
    assert_eq!(listed.roles.len(), 1);
    reader
        .get_role(&RoleNameRequest {
            role_name: "web".into(),
        })
        .unwrap();
    reader
        .describe_instances(&DescribeInstancesRequest::default())
        .unwrap();
    assert_eq!(reader.snapshot().unwrap().roles.len(), 1);
    tx.rollback().unwrap();
}

/// Group commit: a batch of independent calls commits once, yet each call is
/// atomic on its own: a rejected one leaves nothing, the others stand, and
/// results come back in order. A second handle on the file sees them all.
#[test]
fn a_batch_commits_its_successes_and_only_them() {
    let (dir, cloud) = account();
    let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]).to_json();
    let create = |name: &str| {
        rolecall::cloud::Call::CreateRole(Box::new(CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: trust.as_str().into(),
            ..CreateRoleRequest::default()
        }))
    };
    let calls = [create("a"), create("A"), create("b")];
    let results = cloud.invoke_batch(&calls.iter().collect::<Vec<_>>());
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().code,
        ErrorCode::EntityAlreadyExists,
        "names are unique ignoring case, within a batch too"
    );
    assert!(results[2].is_ok());
    let other = Emulator::open(&dir.path().join("account.db")).unwrap();
    let roles: Vec<String> = other.snapshot().unwrap().roles.into_keys().collect();
    assert_eq!(roles, vec!["a".to_string(), "b".to_string()]);
}

type BreakExport = fn(&mut AccountExport);

/// An import is checked with the API's own rules: each broken export is
/// refused with a message naming the entry, and the account is left as it was.
#[test]
fn import_refuses_what_the_api_would_refuse() {
    let (_dir, lab) = account();
    create_role(&lab, "web");
    lab.tag_role(&TagRoleRequest {
        role_name: "web".into(),
        tags: vec![Tag::new("Env", "a")],
    })
    .unwrap();
    create_role(&lab, "api");
    create_profile(&lab, "web", "web");
    lab.create_instance_profile(&CreateInstanceProfileRequest {
        instance_profile_name: "api".into(),
        ..Default::default()
    })
    .unwrap();
    let instance = launch_named(&lab, "web-1");
    associate(&lab, &instance, "web").unwrap();
    launch_named(&lab, "web-2");
    let good = lab.export().unwrap();

    #[rustfmt::skip]
    let cases: &[(BreakExport, &str)] = &[
        (|a| a.format_version = 2, "format_version 2 is not supported (expected 1)"),
        (|a| a.account_id = "abc".into(), "account_id \"abc\" is not 12 digits"),
        (|a| a.faults.throttle_rate = 2.0, "faults: throttle_rate 2 is not between 0 and 1"),
        (|a| a.roles[1].name = "bad name".into(), r"role bad name: ValidationError: 1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"),
        (|a| a.roles[1].path = "nopath".into(), r"role web: ValidationError: 1 validation error detected: Value 'nopath' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"),
        (|a| a.roles[1].arn = "arn:aws:iam::111122223333:role/web".into(), "role web: arn arn:aws:iam::111122223333:role/web does not match the name, path and account id (expected arn:aws:iam::123456789012:role/web)"),
        (|a| a.roles[1].role_id = "AROA1".into(), "role web: role_id AROA1 is not AROA and 17 letters or digits"),
        (|a| a.roles[1].role_id = a.roles[0].role_id.clone(), "role_id $ROLE_ID appears twice"),
        (|a| a.roles[1].max_session_duration = 5, "role web: ValidationError: 1 validation error detected: Value '5' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"),
        (|a| a.roles[1].assume_role_policy_document = "{}".into(), "role web: MalformedPolicyDocument: Syntax errors in policy."),
        (|a| a.roles[1].create_date = "yesterday".into(), "role web: create_date \"yesterday\" is not an ISO 8601 timestamp"),
        (|a| a.roles[1].managed_policies = vec!["arn:aws:iam::aws:policy/Nope".into()], "role web: NoSuchEntity: Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable."),
        (|a| { a.roles[1].tags.insert("env".into(), "b".into()); }, "role web: InvalidInput: Duplicate tag keys found. Please note that Tag keys are case insensitive."),
        (|a| { a.roles[1].name = "API".into(); a.roles[1].arn = "arn:aws:iam::123456789012:role/API".into(); }, "role API: appears twice (names ignore case)"),
        (|a| { a.instance_profiles[1].name = "API".into(); a.instance_profiles[1].arn = "arn:aws:iam::123456789012:instance-profile/API".into(); }, "instance profile API: appears twice (names ignore case)"),
        (|a| a.instance_profiles[1].role = Some("nope".into()), "instance profile web: role nope is not in the export"),
        (|a| a.instances[1].instance_id = a.instances[0].instance_id.clone(), "instance $INSTANCE: appears twice"),
        (|a| a.instances[0].state = "asleep".into(), "instance $INSTANCE: unknown state \"asleep\""),
        (|a| { a.instances[0].tags.insert("aws:x".into(), "1".into()); }, "instance $INSTANCE: InvalidParameterValue: Tag keys starting with 'aws:' are reserved for internal use"),
    ];
    for (break_export, expected) in cases {
        let mut bad = good.clone();
        break_export(&mut bad);
        let (_dir, mut target) = account();
        create_role(&target, "keep");
        let before = target.export_yaml().unwrap();
        let expected = expected
            .replace("$ROLE_ID", &good.roles[0].role_id)
            .replace("$INSTANCE", &good.instances[0].instance_id);
        let error = target.import(&bad).unwrap_err().to_string();
        assert_eq!(error, format!("account export: {expected}"));
        assert_eq!(
            target.export_yaml().unwrap(),
            before,
            "{expected}: the account changed"
        );
    }
    // Unbroken, the same export imports.
    let (_dir, mut target) = account();
    target.import(&good).unwrap();
    assert_eq!(target.export().unwrap(), good);
}

/// The API checks the account quotas only on create, so an account can hold
/// more than they allow (`configure --max-roles` lowered below the count):
/// its export still imports, byte for byte, and the quotas still apply to
/// the next create.
#[test]
fn an_account_over_its_quotas_round_trips() {
    let (dir, lab) = account();
    for name in ["a", "b", "c"] {
        create_role(&lab, name);
        create_profile(&lab, name, name);
    }
    lab.set_quotas(&Quotas {
        max_roles: 1,
        max_instance_profiles: 2,
    })
    .unwrap();
    let exported = lab.export_yaml().unwrap();

    let mut copy = Emulator::open(&dir.path().join("copy.db")).unwrap();
    copy.import_yaml(&exported, "lab.yaml").unwrap();
    assert_eq!(copy.export_yaml().unwrap(), exported);
    let error = copy
        .create_role(&CreateRoleRequest {
            role_name: "d".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::LimitExceeded);
}

/// A batch holds the account for its whole duration: a call made from
/// another thread meanwhile waits for the batch's commit, rather than joining
/// its transaction and reporting success for something not yet on disk.
#[test]
fn a_call_from_another_thread_does_not_join_a_batch() {
    let (dir, cloud) = account();
    let path = dir.path().join("account.db");
    cloud
        .set_quotas(&Quotas {
            max_roles: 10_000,
            max_instance_profiles: 10_000,
        })
        .unwrap();
    let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]).to_json();
    let calls: Vec<rolecall::cloud::Call> = (0..500)
        .map(|i| {
            rolecall::cloud::Call::CreateRole(Box::new(CreateRoleRequest {
                role_name: format!("batch-{i}"),
                assume_role_policy_document: trust.as_str().into(),
                ..CreateRoleRequest::default()
            }))
        })
        .collect();
    // Another process's view of the file: it sees only committed calls.
    let observer = Emulator::open(&path).unwrap();
    // Another process's attempt to write, without waiting: it fails exactly
    // while a transaction holds the account.
    let probe = rusqlite::Connection::open(&path).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let started = std::sync::Barrier::new(2);
    let batch_done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            started.wait();
            let results = cloud.invoke_batch(&calls.iter().collect::<Vec<_>>());
            assert!(results.iter().all(Result::is_ok));
            batch_done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        started.wait();
        // Until the batch holds the account: from then to its commit, a
        // call from this thread overlaps it.
        while probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_ok() {
            assert!(
                !batch_done.load(std::sync::atomic::Ordering::SeqCst),
                "the batch ended before this thread saw it hold the account"
            );
            // Leaves the batch room to take the lock.
            std::thread::sleep(Duration::from_micros(100));
        }
        create_role(&cloud, "other");
        let on_disk = |name: &str| {
            observer
                .get_role(&RoleNameRequest {
                    role_name: name.into(),
                })
                .is_ok()
        };
        assert!(on_disk("other"), "reported created but not on disk");
        assert!(
            on_disk("batch-499"),
            "answered before the batch it overlapped had committed"
        );
    });
}

// -- STS AssumeRole --------------------------------------------------------------

fn assume(
    cloud: &dyn Cloud,
    role_arn: &str,
    duration: Option<u32>,
) -> Result<rolecall::cloud::sts::AssumeRoleResponse, rolecall::cloud::CloudError> {
    cloud.assume_role(&rolecall::cloud::sts::AssumeRoleRequest {
        role_arn: role_arn.to_string(),
        role_session_name: "deploy".to_string(),
        duration_seconds: duration,
        external_id: None,
    })
}

/// The trust policy decides: a role trusting the account is assumed with
/// temporary credentials in AWS's shapes; one trusting only EC2 is not, and
/// neither is a role that does not exist, with the same AccessDenied.
#[test]
fn assume_role_follows_the_trust_policy() {
    let (_dir, emulator) = account();
    let trusting = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    let admin = emulator
        .create_role(&CreateRoleRequest {
            role_name: "admin".into(),
            assume_role_policy_document: trusting.into(),
            path: Some("/ops/".into()),
            ..Default::default()
        })
        .unwrap()
        .role;
    create_role(&emulator, "web");

    let session = assume(&emulator, &admin.arn, Some(900)).unwrap();
    let credentials = &session.credentials;
    assert!(
        credentials.access_key_id.starts_with("ASIA"),
        "{credentials:?}"
    );
    assert_eq!(credentials.access_key_id.len(), 20);
    assert_eq!(credentials.secret_access_key.len(), 40);
    assert!(credentials.session_token.len() > 100);
    assert_eq!(
        session.assumed_role_user.arn,
        "arn:aws:sts::123456789012:assumed-role/admin/deploy"
    );
    assert_eq!(
        session.assumed_role_user.assumed_role_id,
        format!("{}:deploy", admin.role_id)
    );
    let issued = emulator
        .credential(&credentials.access_key_id)
        .unwrap()
        .unwrap();
    assert_eq!(
        issued.session_token.as_deref(),
        Some(credentials.session_token.as_str())
    );
    assert_eq!(issued.secret_access_key, credentials.secret_access_key);

    let denied = |arn: &str| {
        let error = assume(&emulator, arn, None).unwrap_err();
        assert_eq!(error.code, ErrorCode::AccessDenied, "{arn}");
        assert_eq!(
            error.message,
            format!(
                "User: arn:aws:iam::123456789012:root is not authorized to perform: sts:AssumeRole on resource: {arn}"
            )
        );
    };
    denied("arn:aws:iam::123456789012:role/web");
    denied("arn:aws:iam::123456789012:role/nobody");
    denied("arn:aws:iam::123456789012:role/admin"); // the path is part of the ARN
    denied("arn:aws:iam::210987654321:role/ops/admin");

    let too_long = assume(&emulator, &admin.arn, Some(7200)).unwrap_err();
    assert_eq!(too_long.code, ErrorCode::ValidationError);
    assert_eq!(
        too_long.message,
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    let too_short = assume(&emulator, &admin.arn, Some(60)).unwrap_err();
    assert_eq!(too_short.code, ErrorCode::ValidationError);
    assert!(
        too_short.message.contains("'durationSeconds'"),
        "{}",
        too_short.message
    );
}
