//! Customer-managed policies in the emulated account, beyond single error
//! rules (tests/conformance_table/mod.rs has those): versions over time,
//! attachments counted, conflicts, lists and their paging, the snapshot,
//! export and import, the trail, and an account of the schema before
//! policies. docs/aws-semantics.md §16 has the AWS facts.

use rolecall::cloud::iam::*;
use rolecall::cloud::trail::{Lookup, LookupKey};
use rolecall::cloud::{Cloud, ErrorCode};
use rolecall::emulator::{Emulator, Faults};
use rolecall::model::PolicyDocument;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ACCOUNT: &str = "123456789012";

fn account() -> (tempfile::TempDir, Emulator) {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Emulator::open(&dir.path().join("account.db")).unwrap();
    (dir, emulator)
}

/// A document allowing one action, written with spaces (what comes back
/// is the text as sent).
fn allowing(action: &str) -> String {
    format!(
        r#"{{ "Version": "2012-10-17", "Statement": [ {{ "Effect": "Allow", "Action": "{action}", "Resource": "*" }} ] }}"#
    )
}

fn arn(path_and_name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy{path_and_name}")
}

fn create_policy(cloud: &dyn Cloud, name: &str, path: &str, action: &str) -> Policy {
    cloud
        .create_policy(&CreatePolicyRequest {
            policy_name: name.into(),
            path: Some(path.into()),
            policy_document: allowing(action),
            ..Default::default()
        })
        .unwrap()
        .policy
}

fn new_version(cloud: &dyn Cloud, policy: &str, action: &str, default: bool) -> PolicyVersion {
    cloud
        .create_policy_version(&CreatePolicyVersionRequest {
            policy_arn: policy.into(),
            policy_document: allowing(action),
            set_as_default: Some(default),
        })
        .unwrap()
        .policy_version
}

fn versions(cloud: &dyn Cloud, policy: &str) -> Vec<(String, bool)> {
    cloud
        .list_policy_versions(&ListPolicyVersionsRequest {
            policy_arn: policy.into(),
            page: Page::default(),
        })
        .unwrap()
        .versions
        .into_iter()
        .map(|v| (v.version_id, v.is_default_version))
        .collect()
}

fn get(cloud: &dyn Cloud, policy: &str) -> Policy {
    cloud
        .get_policy(&PolicyArnRequest {
            policy_arn: policy.into(),
        })
        .unwrap()
        .policy
}

fn create_role(cloud: &dyn Cloud, name: &str) {
    cloud
        .create_role(&CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap();
}

fn attach(cloud: &dyn Cloud, role: &str, policy: &str) {
    cloud
        .attach_role_policy(&RolePolicyArnRequest {
            role_name: role.into(),
            policy_arn: policy.into(),
        })
        .unwrap();
}

fn delete_version(cloud: &dyn Cloud, policy: &str, version: &str) -> Result<(), ErrorCode> {
    cloud
        .delete_policy_version(&PolicyVersionRequest {
            policy_arn: policy.into(),
            version_id: version.into(),
        })
        .map_err(|e| e.code)
}

fn delete_policy(cloud: &dyn Cloud, policy: &str) -> Result<(), String> {
    cloud
        .delete_policy(&PolicyArnRequest {
            policy_arn: policy.into(),
        })
        .map_err(|e| format!("{}: {}", e.code, e.message))
}

/// Five versions at most; a number is never given twice, even after its
/// version is deleted; versions list newest first; the default one cannot
/// go; GetPolicyVersion gives the document as sent, URL-encoded.
#[test]
fn versions_are_numbered_once_and_five_at_most() {
    let (_dir, cloud) = account();
    let created = create_policy(&cloud, "deploy", "/ops/", "s3:GetObject");
    let policy = arn("/ops/deploy");
    assert_eq!(created.arn, policy);
    assert_eq!(created.default_version_id, "v1");
    assert!(created.policy_id.starts_with("ANPA") && created.policy_id.len() == 21);
    for (n, action) in ["s3:PutObject", "sqs:*", "sns:*", "ec2:Describe*"]
        .iter()
        .enumerate()
    {
        let made = new_version(&cloud, &policy, action, false);
        assert_eq!(made.version_id, format!("v{}", n + 2));
        assert!(
            made.document.is_none(),
            "CreatePolicyVersion gives no document"
        );
    }
    let sixth = cloud
        .create_policy_version(&CreatePolicyVersionRequest {
            policy_arn: policy.clone(),
            policy_document: allowing("kms:*"),
            set_as_default: None,
        })
        .unwrap_err();
    assert_eq!(sixth.code, ErrorCode::LimitExceeded);
    assert_eq!(
        delete_version(&cloud, &policy, "v1"),
        Err(ErrorCode::DeleteConflict)
    );
    delete_version(&cloud, &policy, "v3").unwrap();
    let made = new_version(&cloud, &policy, "kms:*", true);
    assert_eq!(made.version_id, "v6", "v3's number is not given again");
    assert!(made.is_default_version);
    assert_eq!(
        versions(&cloud, &policy),
        [
            ("v6".to_string(), true),
            ("v5".to_string(), false),
            ("v4".to_string(), false),
            ("v2".to_string(), false),
            ("v1".to_string(), false),
        ]
    );
    // Only now may v1 go: it is no longer the default.
    delete_version(&cloud, &policy, "v1").unwrap();
    cloud
        .set_default_policy_version(&PolicyVersionRequest {
            policy_arn: policy.clone(),
            version_id: "v2".into(),
        })
        .unwrap();
    assert_eq!(get(&cloud, &policy).default_version_id, "v2");
    let v2 = cloud
        .get_policy_version(&PolicyVersionRequest {
            policy_arn: policy.clone(),
            version_id: "v2".into(),
        })
        .unwrap()
        .policy_version;
    assert!(v2.is_default_version);
    let document = v2.document.unwrap();
    assert!(document.starts_with("%7B%20%22Version%22"), "{document}");
    assert_eq!(
        PolicyDocument::parse(&document).unwrap(),
        PolicyDocument::parse(&allowing("s3:PutObject")).unwrap()
    );
}

/// ListPolicyVersions pages newest first, each version once.
#[test]
fn policy_versions_page_newest_first() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    let policy = arn("/deploy");
    for action in ["a:b", "c:d", "e:f", "g:h"] {
        new_version(&cloud, &policy, action, false);
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = cloud
            .list_policy_versions(&ListPolicyVersionsRequest {
                policy_arn: policy.clone(),
                page: Page {
                    marker: marker.clone(),
                    max_items: Some(2),
                },
            })
            .unwrap();
        assert!(page.versions.len() <= 2);
        seen.extend(page.versions.into_iter().map(|v| v.version_id));
        if !page.is_truncated {
            break;
        }
        marker = page.marker;
    }
    assert_eq!(seen, ["v5", "v4", "v3", "v2", "v1"]);
}

/// AttachmentCount counts the roles a policy is attached to (AWS-managed
/// ones too), PermissionsBoundaryUsageCount those it bounds;
/// ListEntitiesForPolicy lists both, or one with PolicyUsageFilter, which
/// ListPolicies takes too.
#[test]
fn attachments_and_boundaries_are_counted() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    let policy = arn("/deploy");
    for role in ["web", "api", "db"] {
        create_role(&cloud, role);
    }
    attach(&cloud, "web", &policy);
    attach(&cloud, "api", &policy);
    // Attaching again changes nothing.
    attach(&cloud, "api", &policy);
    cloud
        .put_role_permissions_boundary(&PutRolePermissionsBoundaryRequest {
            role_name: "db".into(),
            permissions_boundary: policy.clone(),
        })
        .unwrap();
    let got = get(&cloud, &policy);
    assert_eq!(got.attachment_count, 2);
    assert_eq!(got.permissions_boundary_usage_count, 1);

    let entities = |filter: Option<&str>| -> Vec<String> {
        cloud
            .list_entities_for_policy(&ListEntitiesForPolicyRequest {
                policy_arn: policy.clone(),
                entity_filter: filter.map(Into::into),
                ..Default::default()
            })
            .unwrap()
            .policy_roles
            .into_iter()
            .map(|r| r.role_name)
            .collect()
    };
    assert_eq!(entities(None), ["api", "db", "web"]);
    assert_eq!(entities(Some("Role")), ["api", "db", "web"]);
    assert!(entities(Some("User")).is_empty());
    // PolicyUsageFilter keeps one use: attached, or bounding.
    let used_as = |usage: &str| -> Vec<String> {
        cloud
            .list_entities_for_policy(&ListEntitiesForPolicyRequest {
                policy_arn: policy.clone(),
                policy_usage_filter: Some(usage.into()),
                ..Default::default()
            })
            .unwrap()
            .policy_roles
            .into_iter()
            .map(|r| r.role_name)
            .collect()
    };
    assert_eq!(used_as("PermissionsPolicy"), ["api", "web"]);
    assert_eq!(used_as("PermissionsBoundary"), ["db"]);
    let listed = |usage: &str| -> Vec<String> {
        cloud
            .list_policies(&ListPoliciesRequest {
                scope: Some("Local".into()),
                policy_usage_filter: Some(usage.into()),
                ..Default::default()
            })
            .unwrap()
            .policies
            .into_iter()
            .map(|p| p.policy_name)
            .collect()
    };
    create_policy(&cloud, "unused", "/", "s3:GetObject");
    assert_eq!(listed("PermissionsBoundary"), ["deploy"]);
    assert_eq!(listed("PermissionsPolicy"), ["deploy"]);
    let refused = cloud
        .list_policies(&ListPoliciesRequest {
            policy_usage_filter: Some("Everything".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::ValidationError, "{refused}");
    let first = cloud
        .list_entities_for_policy(&ListEntitiesForPolicyRequest {
            policy_arn: policy.clone(),
            page: Page {
                marker: None,
                max_items: Some(2),
            },
            ..Default::default()
        })
        .unwrap();
    assert!(first.is_truncated);
    let rest = cloud
        .list_entities_for_policy(&ListEntitiesForPolicyRequest {
            policy_arn: policy.clone(),
            page: Page {
                marker: first.marker,
                max_items: Some(2),
            },
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rest.policy_roles.len(), 1);
    assert!(!rest.is_truncated);

    let aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    attach(&cloud, "web", aws);
    let aws_policy = get(&cloud, aws);
    assert_eq!(aws_policy.attachment_count, 1);
    assert_eq!(aws_policy.path, "/");
    assert!(aws_policy.policy_id.starts_with("ANPA"));

    cloud
        .detach_role_policy(&RolePolicyArnRequest {
            role_name: "web".into(),
            policy_arn: policy.clone(),
        })
        .unwrap();
    assert_eq!(get(&cloud, &policy).attachment_count, 1);
}

/// DeletePolicy waits for every attachment, boundary and non-default
/// version to go; then the policy is gone and cannot be attached.
#[test]
fn a_policy_is_deleted_only_when_nothing_holds_it() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    let policy = arn("/deploy");
    new_version(&cloud, &policy, "s3:PutObject", true);
    create_role(&cloud, "web");
    attach(&cloud, "web", &policy);
    let attached = delete_policy(&cloud, &policy).unwrap_err();
    assert_eq!(
        attached,
        "DeleteConflict: Cannot delete a policy attached to entities."
    );
    cloud
        .detach_role_policy(&RolePolicyArnRequest {
            role_name: "web".into(),
            policy_arn: policy.clone(),
        })
        .unwrap();
    let versioned = delete_policy(&cloud, &policy).unwrap_err();
    assert!(
        versioned.starts_with("DeleteConflict: This policy has more than one version."),
        "{versioned}"
    );
    delete_version(&cloud, &policy, "v1").unwrap();
    delete_policy(&cloud, &policy).unwrap();
    let missing = cloud
        .get_policy(&PolicyArnRequest {
            policy_arn: policy.clone(),
        })
        .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NoSuchEntity);
    let attach_again = cloud
        .attach_role_policy(&RolePolicyArnRequest {
            role_name: "web".into(),
            policy_arn: policy.clone(),
        })
        .unwrap_err();
    assert_eq!(attach_again.code, ErrorCode::NoSuchEntity);
    // The name is free again, and the new policy starts at v1.
    let again = create_policy(&cloud, "DEPLOY", "/", "s3:GetObject");
    assert_eq!(again.default_version_id, "v1");
}

fn list_policies(cloud: &dyn Cloud, request: ListPoliciesRequest) -> Vec<Policy> {
    let mut all = Vec::new();
    let mut request = request;
    loop {
        let page = cloud.list_policies(&request).unwrap();
        all.extend(page.policies);
        if !page.is_truncated {
            return all;
        }
        request.page.marker = page.marker;
    }
}

/// Scope, OnlyAttached and PathPrefix filter; pages of any size walk the
/// same list, each policy once; an account's policy may share an
/// AWS-managed one's name.
#[test]
fn list_policies_filters_and_pages() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/ops/", "s3:GetObject");
    create_policy(&cloud, "ReadOnlyAccess", "/", "s3:GetObject");
    create_policy(&cloud, "logs", "/ops/ci/", "logs:*");
    create_role(&cloud, "web");
    attach(&cloud, "web", &arn("/ops/deploy"));
    attach(
        &cloud,
        "web",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    );
    let names = |policies: &[Policy]| -> Vec<String> {
        policies.iter().map(|p| p.arn.clone()).collect::<Vec<_>>()
    };

    let local = list_policies(
        &cloud,
        ListPoliciesRequest {
            scope: Some("Local".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        names(&local),
        [
            arn("/ReadOnlyAccess"),
            arn("/ops/deploy"),
            arn("/ops/ci/logs")
        ]
    );
    assert!(
        local
            .iter()
            .all(|p| p.tags.is_empty() && p.description.is_none()),
        "ListPolicies shows neither tags nor description"
    );
    let aws = list_policies(
        &cloud,
        ListPoliciesRequest {
            scope: Some("AWS".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        aws.len(),
        rolecall::model::aws_policies::aws_policy_arns().count()
    );
    assert!(
        aws.iter()
            .all(|p| p.arn.starts_with("arn:aws:iam::aws:policy/"))
    );
    let all = list_policies(&cloud, ListPoliciesRequest::default());
    assert_eq!(all.len(), aws.len() + local.len());
    // Both ReadOnlyAccess policies, the account's and AWS's.
    assert_eq!(
        all.iter()
            .filter(|p| p.policy_name == "ReadOnlyAccess")
            .count(),
        2
    );

    let attached = list_policies(
        &cloud,
        ListPoliciesRequest {
            only_attached: Some(true),
            ..Default::default()
        },
    );
    assert_eq!(
        names(&attached),
        [
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".to_string(),
            arn("/ops/deploy")
        ]
    );
    let under_ops = list_policies(
        &cloud,
        ListPoliciesRequest {
            scope: Some("Local".into()),
            path_prefix: Some("/ops/".into()),
            ..Default::default()
        },
    );
    assert_eq!(names(&under_ops), [arn("/ops/deploy"), arn("/ops/ci/logs")]);

    for (scope, max_items, expected) in [
        ("Local", 1, &local),
        ("Local", 2, &local),
        ("All", 97, &all),
        ("All", 1000, &all),
    ] {
        let paged = list_policies(
            &cloud,
            ListPoliciesRequest {
                scope: Some(scope.into()),
                page: Page {
                    marker: None,
                    max_items: Some(max_items),
                },
                ..Default::default()
            },
        );
        assert_eq!(
            names(&paged),
            names(expected),
            "{scope} in pages of {max_items}"
        );
    }
}

/// Policy tag keys are case-sensitive; CreatePolicy answers the tags it was
/// given (no description), GetPolicy tags and description.
#[test]
fn policy_tags_and_what_each_call_shows() {
    let (_dir, cloud) = account();
    let created = cloud
        .create_policy(&CreatePolicyRequest {
            policy_name: "deploy".into(),
            policy_document: allowing("s3:GetObject"),
            description: Some("deploys things".into()),
            tags: vec![Tag::new("team", "a"), Tag::new("Team", "b")],
            ..Default::default()
        })
        .unwrap()
        .policy;
    assert_eq!(created.tags.len(), 2);
    assert_eq!(created.description, None);
    let policy = arn("/deploy");
    let got = get(&cloud, &policy);
    assert_eq!(got.description.as_deref(), Some("deploys things"));
    assert_eq!(got.tags.len(), 2);
    cloud
        .untag_policy(&UntagPolicyRequest {
            policy_arn: policy.clone(),
            tag_keys: vec!["team".into()],
        })
        .unwrap();
    cloud
        .tag_policy(&TagPolicyRequest {
            policy_arn: policy.clone(),
            tags: vec![Tag::new("Team", "c"), Tag::new("z", "")],
        })
        .unwrap();
    let tags = cloud
        .list_policy_tags(&ListPolicyTagsRequest {
            policy_arn: policy.clone(),
            page: Page::default(),
        })
        .unwrap()
        .tags;
    assert_eq!(tags, [Tag::new("Team", "c"), Tag::new("z", "")]);
    // AWS-managed policies can be read but not changed.
    let aws = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    let refused = cloud
        .tag_policy(&TagPolicyRequest {
            policy_arn: aws.into(),
            tags: vec![Tag::new("a", "b")],
        })
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::AccessDenied);
    let refused = cloud
        .create_policy_version(&CreatePolicyVersionRequest {
            policy_arn: aws.into(),
            policy_document: allowing("s3:GetObject"),
            set_as_default: None,
        })
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::AccessDenied);
    let aws_version = cloud
        .get_policy_version(&PolicyVersionRequest {
            policy_arn: aws.into(),
            version_id: get(&cloud, aws).default_version_id,
        })
        .unwrap()
        .policy_version;
    assert_eq!(
        PolicyDocument::parse(&aws_version.document.unwrap()).unwrap(),
        rolecall::model::aws_policies::aws_policy_document(aws).unwrap()
    );
}

/// GetAccountAuthorizationDetails walks roles, then policies, with one
/// marker, in pages of any size; each policy has every version and its
/// document. GetAccountSummary counts the policies.
#[test]
fn authorization_details_give_every_policy_with_its_versions() {
    let (_dir, cloud) = account();
    for name in ["a", "b", "c"] {
        create_role(&cloud, name);
        create_policy(&cloud, &format!("p-{name}"), "/", "s3:GetObject");
    }
    new_version(&cloud, &arn("/p-b"), "s3:PutObject", true);
    for max_items in [1, 2, 4, 100] {
        let mut roles = Vec::new();
        let mut policies = Vec::new();
        let mut marker = None;
        loop {
            let page = cloud
                .get_account_authorization_details(&GetAccountAuthorizationDetailsRequest {
                    filter: Vec::new(),
                    page: Page {
                        marker: marker.clone(),
                        max_items: Some(max_items),
                    },
                })
                .unwrap();
            assert!(page.role_detail_list.len() + page.policies.len() <= max_items as usize);
            roles.extend(page.role_detail_list.into_iter().map(|r| r.role_name));
            policies.extend(page.policies);
            if !page.is_truncated {
                break;
            }
            marker = page.marker;
        }
        assert_eq!(roles, ["a", "b", "c"], "pages of {max_items}");
        let names: Vec<&str> = policies.iter().map(|p| p.policy_name.as_str()).collect();
        assert_eq!(names, ["p-a", "p-b", "p-c"], "pages of {max_items}");
        let b = &policies[1];
        assert_eq!(b.default_version_id, "v2");
        assert_eq!(b.policy_version_list.len(), 2);
        let v2 = &b.policy_version_list[0];
        assert!(v2.is_default_version);
        assert_eq!(
            PolicyDocument::parse(v2.document.as_deref().unwrap()).unwrap(),
            PolicyDocument::parse(&allowing("s3:PutObject")).unwrap()
        );
    }
    let only_policies = cloud
        .get_account_authorization_details(&GetAccountAuthorizationDetailsRequest {
            filter: vec!["LocalManagedPolicy".into()],
            page: Page::default(),
        })
        .unwrap();
    assert!(only_policies.role_detail_list.is_empty());
    assert_eq!(only_policies.policies.len(), 3);
    let summary = cloud
        .get_account_summary(&GetAccountSummaryRequest {})
        .unwrap()
        .summary_map;
    assert_eq!(summary.policies, Some(3));
}

/// The snapshot holds each policy with its default version's document,
/// its versions oldest first, tags and attachments; export then import
/// gives the same account, and the next version's number is kept.
#[test]
fn snapshot_and_export_carry_policies() {
    let (dir, cloud) = account();
    cloud
        .create_policy(&CreatePolicyRequest {
            policy_name: "deploy".into(),
            path: Some("/ops/".into()),
            policy_document: allowing("s3:GetObject"),
            description: Some("deploys: \"things\"".into()),
            tags: vec![Tag::new("team", "ops")],
        })
        .unwrap();
    let policy = arn("/ops/deploy");
    for action in ["a:b", "c:d"] {
        new_version(&cloud, &policy, action, false);
    }
    new_version(&cloud, &policy, "s3:PutObject", true);
    delete_version(&cloud, &policy, "v2").unwrap();
    create_role(&cloud, "web");
    attach(&cloud, "web", &policy);

    let live = cloud.snapshot().unwrap();
    let held = &live.policies["deploy"];
    assert_eq!(held.arn, policy);
    assert_eq!(held.default_version_id, "v4");
    assert_eq!(held.versions, ["v1", "v3", "v4"]);
    assert_eq!(held.attachment_count, 1);
    assert_eq!(held.policy.description, "deploys: \"things\"");
    assert_eq!(held.policy.tags.get("team").unwrap(), "ops");
    assert_eq!(
        held.policy.document,
        PolicyDocument::parse(&allowing("s3:PutObject")).unwrap()
    );
    assert_eq!(live.policy_by_arn(&policy), Some(held));

    let file = dir.path().join("lab.yaml");
    cloud.export_to_file(&file).unwrap();
    let first = std::fs::read_to_string(&file).unwrap();
    assert!(first.contains("next_version: v5"), "{first}");
    let mut copy = Emulator::create(&dir.path().join("copy.db"), "111122223333").unwrap();
    copy.import_file(&file).unwrap();
    assert_eq!(copy.export_yaml().unwrap(), first);
    assert_eq!(copy.snapshot().unwrap(), live);
    let next = new_version(&copy, &policy, "kms:*", false);
    assert_eq!(next.version_id, "v5", "numbers are not reused after import");
}

/// An export that no sequence of calls could make is refused whole.
#[test]
fn import_refuses_impossible_policies() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    new_version(&cloud, &arn("/deploy"), "s3:PutObject", false);
    create_role(&cloud, "web");
    attach(&cloud, "web", &arn("/deploy"));
    let good = cloud.export().unwrap();
    type Break = fn(&mut rolecall::emulator::AccountExport);
    #[rustfmt::skip]
    let cases: &[(Break, &str)] = &[
        (|a| a.policies[0].default_version = "v7".into(), "policy deploy: default_version v7 is not one of its versions"),
        (|a| a.policies[0].next_version = "v2".into(), "policy deploy: version v2: not before next_version v2"),
        (|a| a.policies[0].versions[1].version_id = "v1".into(), "policy deploy: version v1: appears twice"),
        (|a| a.policies[0].versions[1].document = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(), "policy deploy: version v2: MalformedPolicyDocument: Policy document must be version 2012-10-17 or greater."),
        (|a| a.policies[0].policy_id = "AROA1".into(), "policy deploy: policy_id AROA1 is not ANPA and 17 letters or digits"),
        (|a| a.policies[0].path = "/a*/".into(), r"policy deploy: ValidationError: 1 validation error detected: Value '/a*/' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/"),
        (|a| { let p = a.policies[0].clone(); a.policies.push(p); }, "policy deploy: appears twice (names ignore case)"),
        (|a| a.policies.clear(), "role web: NoSuchEntity: Policy arn:aws:iam::123456789012:policy/deploy does not exist or is not attachable."),
    ];
    for (break_export, expected) in cases {
        let mut bad = good.clone();
        break_export(&mut bad);
        let (_dir, mut target) = account();
        let before = target.export_yaml().unwrap();
        let error = target.import(&bad).unwrap_err().to_string();
        assert_eq!(error, format!("account export: {expected}"));
        assert_eq!(target.export_yaml().unwrap(), before, "{expected}");
    }
    let (_dir, mut target) = account();
    target.import(&good).unwrap();
    assert_eq!(target.export().unwrap(), good);
}

/// An imported counter at the end of the number range: the next version is
/// refused with an error, never a crash or a wrapped-around id.
#[test]
fn the_last_version_number_is_refused_not_wrapped() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    let mut export = cloud.export().unwrap();
    export.policies[0].next_version = format!("v{}", i64::MAX - 1);
    let (_dir, mut target) = account();
    target.import(&export).unwrap();
    let policy = arn("/deploy");
    let last = new_version(&target, &policy, "s3:PutObject", false);
    assert_eq!(last.version_id, format!("v{}", i64::MAX - 1));
    let refused = target
        .create_policy_version(&CreatePolicyVersionRequest {
            policy_arn: policy.clone(),
            policy_document: allowing("kms:*"),
            set_as_default: None,
        })
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::LimitExceeded, "{refused}");
    assert_eq!(
        target.snapshot().unwrap().policies["deploy"].versions.len(),
        2
    );
}

/// The policy calls that change the account are in the trail, by the
/// policy's ARN (CreatePolicy's from its answer).
#[test]
fn policy_changes_are_in_the_trail() {
    let (_dir, cloud) = account();
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    let policy = arn("/deploy");
    new_version(&cloud, &policy, "s3:PutObject", true);
    let events = cloud
        .trail()
        .unwrap()
        .lookup_events(&Lookup {
            attribute: Some((LookupKey::ResourceName, policy.clone())),
            ..Default::default()
        })
        .unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(names, ["CreatePolicyVersion", "CreatePolicy"]);
    assert!(events.iter().all(|e| {
        e.resources
            .iter()
            .any(|r| r.resource_type == "AWS::IAM::Policy")
    }));
}

/// Faults apply to the new calls as to any: the Nth call fails with IAM's
/// failure and changes nothing.
#[test]
fn an_injected_failure_creates_no_policy() {
    let (_dir, cloud) = account();
    cloud
        .configure(&Faults {
            fail_after: Some(1),
            ..Default::default()
        })
        .unwrap();
    let failed = cloud
        .create_policy(&CreatePolicyRequest {
            policy_name: "deploy".into(),
            policy_document: allowing("s3:GetObject"),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(failed.code, ErrorCode::ServiceFailure);
    assert!(cloud.snapshot().unwrap().policies.is_empty());
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
}

/// An account of schema 3 (before policies) is read as it is, holding no
/// policies, and upgraded when first opened to change it.
#[test]
fn an_account_of_schema_3_reads_and_upgrades() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("account.db");
    {
        let cloud = Emulator::open(&path).unwrap();
        create_role(&cloud, "web");
        attach(&cloud, "web", "arn:aws:iam::aws:policy/ReadOnlyAccess");
    }
    {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "DROP TABLE policy_tags; DROP TABLE policy_versions; DROP TABLE policies;
             DROP INDEX role_managed_arn; DROP INDEX roles_boundary;",
        )
        .unwrap();
        db.pragma_update(None, "user_version", 3).unwrap();
    }
    let version = || -> i64 {
        let db = rusqlite::Connection::open(&path).unwrap();
        db.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    {
        let reader = Emulator::open_to_read(&path).unwrap().unwrap();
        let live = reader.snapshot().unwrap();
        assert!(live.policies.is_empty());
        assert_eq!(live.roles.len(), 1);
        let local = reader
            .list_policies(&ListPoliciesRequest {
                scope: Some("Local".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(local.policies.is_empty());
        assert_eq!(
            reader
                .get_policy(&PolicyArnRequest {
                    policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into()
                })
                .unwrap()
                .policy
                .attachment_count,
            1
        );
        assert!(reader.export().unwrap().policies.is_empty());
    }
    assert_eq!(version(), 3, "reading writes nothing");
    let cloud = Emulator::open(&path).unwrap();
    assert_eq!(version(), 4);
    create_policy(&cloud, "deploy", "/", "s3:GetObject");
    attach(&cloud, "web", &arn("/deploy"));
    let live = cloud.snapshot().unwrap();
    assert_eq!(live.policies["deploy"].attachment_count, 1);
    assert_eq!(live.roles["web"].role.managed_policies.len(), 2);
}
