//! Property test: random sequences of operations against the emulator and
//! against a small model of AWS's rules must agree on every success and error
//! code, and the final snapshot must match the model.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use rolecall::cloud::ec2::*;
use rolecall::cloud::iam::*;
use rolecall::cloud::{Cloud, CloudError, ErrorCode};
use rolecall::emulator::Emulator;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
// Names differ in case on purpose: IAM names are unique ignoring case.
const ROLES: &[&str] = &["web", "Web", "api"];
const PROFILES: &[&str] = &["web", "WEB", "api"];
const INLINE: &[&str] = &["read", "write"];
const ARNS: &[&str] = &[
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/NotARealPolicy",
];
const TAG_KEYS: &[&str] = &["team", "Team", "env"];
const FAKE_ASSOCIATION: &str = "iip-assoc-0123456789abcdef0";

#[derive(Debug, Clone)]
enum Op {
    CreateRole(usize),
    DeleteRole(usize),
    GetRole(usize),
    PutRolePolicy(usize, usize),
    DeleteRolePolicy(usize, usize),
    Attach(usize, usize),
    Detach(usize, usize),
    TagRole(usize, usize),
    UntagRole(usize, usize),
    CreateProfile(usize),
    DeleteProfile(usize),
    AddRole(usize, usize),
    RemoveRole(usize, usize),
    TagProfile(usize, usize),
    Run,
    Associate(usize, usize),
    Disassociate(usize),
    Replace(usize, usize),
    Stop(usize),
    Start(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..ROLES.len();
    let p = 0..PROFILES.len();
    prop_oneof![
        3 => r.clone().prop_map(Op::CreateRole),
        1 => r.clone().prop_map(Op::DeleteRole),
        1 => r.clone().prop_map(Op::GetRole),
        1 => (r.clone(), 0..INLINE.len()).prop_map(|(a, b)| Op::PutRolePolicy(a, b)),
        1 => (r.clone(), 0..INLINE.len()).prop_map(|(a, b)| Op::DeleteRolePolicy(a, b)),
        1 => (r.clone(), 0..ARNS.len()).prop_map(|(a, b)| Op::Attach(a, b)),
        1 => (r.clone(), 0..ARNS.len()).prop_map(|(a, b)| Op::Detach(a, b)),
        1 => (r.clone(), 0..TAG_KEYS.len()).prop_map(|(a, b)| Op::TagRole(a, b)),
        1 => (r.clone(), 0..TAG_KEYS.len()).prop_map(|(a, b)| Op::UntagRole(a, b)),
        3 => p.clone().prop_map(Op::CreateProfile),
        1 => p.clone().prop_map(Op::DeleteProfile),
        3 => (p.clone(), r.clone()).prop_map(|(a, b)| Op::AddRole(a, b)),
        1 => (p.clone(), r.clone()).prop_map(|(a, b)| Op::RemoveRole(a, b)),
        1 => (p.clone(), 0..TAG_KEYS.len()).prop_map(|(a, b)| Op::TagProfile(a, b)),
        2 => Just(Op::Run),
        3 => (0..3usize, p.clone()).prop_map(|(a, b)| Op::Associate(a, b)),
        1 => (0..3usize).prop_map(Op::Disassociate),
        1 => (0..3usize, p.clone()).prop_map(|(a, b)| Op::Replace(a, b)),
        1 => (0..3usize).prop_map(Op::Stop),
        1 => (0..3usize).prop_map(Op::Start),
    ]
}

#[derive(Default, Debug)]
struct RoleM {
    name: String,
    inline: BTreeSet<String>,
    managed: BTreeSet<String>,
    /// Lower-cased key -> value: role tag keys ignore case.
    tags: BTreeMap<String, String>,
}

#[derive(Default, Debug)]
struct ProfileM {
    name: String,
    role: Option<String>,
    tags: BTreeSet<String>,
}

#[derive(Debug)]
struct InstanceM {
    id: String,
    running: bool,
    /// (association id, profile name as requested).
    association: Option<(String, String)>,
}

#[derive(Default, Debug)]
struct Model {
    roles: BTreeMap<String, RoleM>,
    profiles: BTreeMap<String, ProfileM>,
    instances: Vec<InstanceM>,
}

type Outcome = Result<(), ErrorCode>;

fn key(name: &str) -> String {
    name.to_lowercase()
}

impl Model {
    /// What AWS answers; `None` when the op cannot be formed (no instance yet).
    fn expect(&self, op: &Op) -> Option<Outcome> {
        use ErrorCode::*;
        let role = |i: usize| self.roles.get(&key(ROLES[i]));
        let profile = |i: usize| self.profiles.get(&key(PROFILES[i]));
        let instance = |i: usize| {
            (!self.instances.is_empty()).then(|| &self.instances[i % self.instances.len()])
        };
        Some(match *op {
            Op::CreateRole(r) => {
                if role(r).is_some() {
                    Err(EntityAlreadyExists)
                } else {
                    Ok(())
                }
            }
            Op::GetRole(r) => role(r).map(|_| ()).ok_or(NoSuchEntity),
            Op::DeleteRole(r) => match role(r) {
                None => Err(NoSuchEntity),
                Some(_)
                    if self
                        .profiles
                        .values()
                        .any(|p| p.role == Some(key(ROLES[r]))) =>
                {
                    Err(DeleteConflict)
                }
                Some(m) if !m.managed.is_empty() || !m.inline.is_empty() => Err(DeleteConflict),
                Some(_) => Ok(()),
            },
            Op::PutRolePolicy(r, _) | Op::TagRole(r, _) | Op::UntagRole(r, _) => {
                role(r).map(|_| ()).ok_or(NoSuchEntity)
            }
            Op::DeleteRolePolicy(r, p) => match role(r) {
                Some(m) if m.inline.contains(INLINE[p]) => Ok(()),
                _ => Err(NoSuchEntity),
            },
            Op::Attach(r, a) => {
                if role(r).is_none() || a == 2 {
                    Err(NoSuchEntity)
                } else {
                    Ok(())
                }
            }
            Op::Detach(r, a) => match role(r) {
                Some(m) if m.managed.contains(ARNS[a]) => Ok(()),
                _ => Err(NoSuchEntity),
            },
            Op::CreateProfile(p) => {
                if profile(p).is_some() {
                    Err(EntityAlreadyExists)
                } else {
                    Ok(())
                }
            }
            Op::DeleteProfile(p) => match profile(p) {
                None => Err(NoSuchEntity),
                Some(m) if m.role.is_some() => Err(DeleteConflict),
                Some(_) => Ok(()),
            },
            Op::AddRole(p, r) => match (profile(p), role(r)) {
                (None, _) | (_, None) => Err(NoSuchEntity),
                (Some(m), _) if m.role.is_some() => Err(LimitExceeded),
                _ => Ok(()),
            },
            Op::RemoveRole(p, r) => match profile(p) {
                Some(m) if role(r).is_some() && m.role == Some(key(ROLES[r])) => Ok(()),
                _ => Err(NoSuchEntity),
            },
            Op::TagProfile(p, _) => profile(p).map(|_| ()).ok_or(NoSuchEntity),
            Op::Run => Ok(()),
            Op::Associate(i, p) => {
                let inst = instance(i)?;
                if inst.association.is_some() {
                    Err(IncorrectState)
                } else if profile(p).is_none() {
                    Err(InvalidParameterValue)
                } else {
                    Ok(())
                }
            }
            Op::Disassociate(i) => {
                let inst = instance(i)?;
                inst.association
                    .as_ref()
                    .map(|_| ())
                    .ok_or(InvalidAssociationIdNotFound)
            }
            Op::Replace(i, p) => {
                let inst = instance(i)?;
                if inst.association.is_none() {
                    Err(InvalidAssociationIdNotFound)
                } else if !inst.running {
                    Err(IncorrectState)
                } else if profile(p).is_none() {
                    Err(InvalidParameterValue)
                } else {
                    Ok(())
                }
            }
            Op::Stop(i) | Op::Start(i) => {
                instance(i)?;
                Ok(())
            }
        })
    }

    fn apply(&mut self, op: &Op, instance_id: Option<String>, association_id: Option<String>) {
        let n = self.instances.len().max(1);
        match *op {
            Op::CreateRole(r) => {
                self.roles.insert(
                    key(ROLES[r]),
                    RoleM {
                        name: ROLES[r].into(),
                        ..Default::default()
                    },
                );
            }
            Op::DeleteRole(r) => {
                self.roles.remove(&key(ROLES[r]));
            }
            Op::PutRolePolicy(r, p) => {
                self.roles
                    .get_mut(&key(ROLES[r]))
                    .unwrap()
                    .inline
                    .insert(INLINE[p].into());
            }
            Op::DeleteRolePolicy(r, p) => {
                self.roles
                    .get_mut(&key(ROLES[r]))
                    .unwrap()
                    .inline
                    .remove(INLINE[p]);
            }
            Op::Attach(r, a) => {
                self.roles
                    .get_mut(&key(ROLES[r]))
                    .unwrap()
                    .managed
                    .insert(ARNS[a].into());
            }
            Op::Detach(r, a) => {
                self.roles
                    .get_mut(&key(ROLES[r]))
                    .unwrap()
                    .managed
                    .remove(ARNS[a]);
            }
            Op::TagRole(r, t) => {
                self.roles
                    .get_mut(&key(ROLES[r]))
                    .unwrap()
                    .tags
                    .insert(key(TAG_KEYS[t]), "v".into());
            }
            Op::UntagRole(r, t) => {
                self.roles
                    .get_mut(&key(ROLES[r]))
                    .unwrap()
                    .tags
                    .remove(&key(TAG_KEYS[t]));
            }
            Op::CreateProfile(p) => {
                self.profiles.insert(
                    key(PROFILES[p]),
                    ProfileM {
                        name: PROFILES[p].into(),
                        ..Default::default()
                    },
                );
            }
            Op::DeleteProfile(p) => {
                self.profiles.remove(&key(PROFILES[p]));
            }
            Op::AddRole(p, r) => {
                self.profiles.get_mut(&key(PROFILES[p])).unwrap().role = Some(key(ROLES[r]))
            }
            Op::RemoveRole(p, _) => self.profiles.get_mut(&key(PROFILES[p])).unwrap().role = None,
            Op::TagProfile(p, t) => {
                self.profiles
                    .get_mut(&key(PROFILES[p]))
                    .unwrap()
                    .tags
                    .insert(TAG_KEYS[t].into());
            }
            Op::Run => self.instances.push(InstanceM {
                id: instance_id.unwrap(),
                running: true,
                association: None,
            }),
            Op::Associate(i, p) | Op::Replace(i, p) => {
                self.instances[i % n].association =
                    Some((association_id.unwrap(), key(PROFILES[p])));
            }
            Op::Disassociate(i) => self.instances[i % n].association = None,
            Op::Stop(i) => self.instances[i % n].running = false,
            Op::Start(i) => self.instances[i % n].running = true,
            Op::GetRole(_) => {}
        }
    }
}

/// Runs the op on the emulator: its outcome, and any new instance/association id.
fn call(cloud: &dyn Cloud, model: &Model, op: &Op) -> (Outcome, Option<String>, Option<String>) {
    let code = |r: Result<(), CloudError>| r.map_err(|e| e.code);
    let n = model.instances.len().max(1);
    let instance = |i: usize| model.instances[i % n].id.clone();
    let association = |i: usize| {
        model.instances[i % n]
            .association
            .as_ref()
            .map_or(FAKE_ASSOCIATION.to_string(), |a| a.0.clone())
    };
    let role_req = |r: usize| RoleNameRequest {
        role_name: ROLES[r].into(),
    };
    let tag = |t: usize| vec![Tag::new(TAG_KEYS[t], "v")];
    match *op {
        Op::CreateRole(r) => (
            code(
                cloud
                    .create_role(&CreateRoleRequest {
                        role_name: ROLES[r].into(),
                        assume_role_policy_document: TRUST.into(),
                        ..Default::default()
                    })
                    .map(drop),
            ),
            None,
            None,
        ),
        Op::DeleteRole(r) => (code(cloud.delete_role(&role_req(r))), None, None),
        Op::GetRole(r) => (code(cloud.get_role(&role_req(r)).map(drop)), None, None),
        Op::PutRolePolicy(r, p) => (
            code(cloud.put_role_policy(&PutRolePolicyRequest {
                role_name: ROLES[r].into(),
                policy_name: INLINE[p].into(),
                policy_document: POLICY.into(),
            })),
            None,
            None,
        ),
        Op::DeleteRolePolicy(r, p) => (
            code(cloud.delete_role_policy(&RolePolicyNameRequest {
                role_name: ROLES[r].into(),
                policy_name: INLINE[p].into(),
            })),
            None,
            None,
        ),
        Op::Attach(r, a) => (
            code(cloud.attach_role_policy(&RolePolicyArnRequest {
                role_name: ROLES[r].into(),
                policy_arn: ARNS[a].into(),
            })),
            None,
            None,
        ),
        Op::Detach(r, a) => (
            code(cloud.detach_role_policy(&RolePolicyArnRequest {
                role_name: ROLES[r].into(),
                policy_arn: ARNS[a].into(),
            })),
            None,
            None,
        ),
        Op::TagRole(r, t) => (
            code(cloud.tag_role(&TagRoleRequest {
                role_name: ROLES[r].into(),
                tags: tag(t),
            })),
            None,
            None,
        ),
        Op::UntagRole(r, t) => (
            code(cloud.untag_role(&UntagRoleRequest {
                role_name: ROLES[r].into(),
                tag_keys: vec![TAG_KEYS[t].into()],
            })),
            None,
            None,
        ),
        Op::CreateProfile(p) => (
            code(
                cloud
                    .create_instance_profile(&CreateInstanceProfileRequest {
                        instance_profile_name: PROFILES[p].into(),
                        ..Default::default()
                    })
                    .map(drop),
            ),
            None,
            None,
        ),
        Op::DeleteProfile(p) => (
            code(cloud.delete_instance_profile(&InstanceProfileNameRequest {
                instance_profile_name: PROFILES[p].into(),
            })),
            None,
            None,
        ),
        Op::AddRole(p, r) => (
            code(
                cloud.add_role_to_instance_profile(&InstanceProfileRoleRequest {
                    instance_profile_name: PROFILES[p].into(),
                    role_name: ROLES[r].into(),
                }),
            ),
            None,
            None,
        ),
        Op::RemoveRole(p, r) => (
            code(
                cloud.remove_role_from_instance_profile(&InstanceProfileRoleRequest {
                    instance_profile_name: PROFILES[p].into(),
                    role_name: ROLES[r].into(),
                }),
            ),
            None,
            None,
        ),
        Op::TagProfile(p, t) => (
            code(cloud.tag_instance_profile(&TagInstanceProfileRequest {
                instance_profile_name: PROFILES[p].into(),
                tags: tag(t),
            })),
            None,
            None,
        ),
        Op::Run => match cloud.run_instances(&RunInstancesRequest {
            min_count: 1,
            max_count: 1,
            ..Default::default()
        }) {
            Ok(r) => (Ok(()), Some(r.instances[0].instance_id.clone()), None),
            Err(e) => (Err(e.code), None, None),
        },
        Op::Associate(i, p) => {
            match cloud.associate_iam_instance_profile(&AssociateIamInstanceProfileRequest {
                instance_id: instance(i),
                iam_instance_profile: IamInstanceProfileSpecification::by_name(PROFILES[p]),
            }) {
                Ok(r) => (
                    Ok(()),
                    None,
                    Some(r.iam_instance_profile_association.association_id),
                ),
                Err(e) => (Err(e.code), None, None),
            }
        }
        Op::Replace(i, p) => match cloud.replace_iam_instance_profile_association(
            &ReplaceIamInstanceProfileAssociationRequest {
                association_id: association(i),
                iam_instance_profile: IamInstanceProfileSpecification::by_name(PROFILES[p]),
            },
        ) {
            Ok(r) => (
                Ok(()),
                None,
                Some(r.iam_instance_profile_association.association_id),
            ),
            Err(e) => (Err(e.code), None, None),
        },
        Op::Disassociate(i) => (
            code(
                cloud
                    .disassociate_iam_instance_profile(&DisassociateIamInstanceProfileRequest {
                        association_id: association(i),
                    })
                    .map(drop),
            ),
            None,
            None,
        ),
        Op::Stop(i) => (
            code(
                cloud
                    .stop_instances(&InstanceIdsRequest {
                        instance_ids: vec![instance(i)],
                    })
                    .map(drop),
            ),
            None,
            None,
        ),
        Op::Start(i) => (
            code(
                cloud
                    .start_instances(&InstanceIdsRequest {
                        instance_ids: vec![instance(i)],
                    })
                    .map(drop),
            ),
            None,
            None,
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn emulator_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let cloud = Emulator::open(&dir.path().join("account.db")).unwrap();
        let mut model = Model::default();
        for (step, op) in ops.iter().enumerate() {
            let Some(expected) = model.expect(op) else { continue };
            let (got, instance, association) = call(&cloud, &model, op);
            prop_assert_eq!(&got, &expected, "step {} {:?}", step, op);
            if got.is_ok() {
                model.apply(op, instance, association);
            }
        }
        // The final state agrees too.
        let live = cloud.snapshot().unwrap();
        let roles: BTreeSet<String> = live.roles.keys().cloned().collect();
        prop_assert_eq!(roles, model.roles.values().map(|r| r.name.clone()).collect::<BTreeSet<_>>());
        for m in model.roles.values() {
            let role = &live.roles[&m.name].role;
            prop_assert_eq!(role.inline_policies.keys().cloned().collect::<BTreeSet<_>>(), m.inline.clone());
            prop_assert_eq!(&role.managed_policies, &m.managed);
            prop_assert_eq!(role.tags.keys().map(|k| key(k)).collect::<BTreeSet<_>>(), m.tags.keys().cloned().collect::<BTreeSet<_>>());
        }
        for m in model.profiles.values() {
            let profile = &live.profiles[&m.name].profile;
            prop_assert_eq!(profile.role.as_ref().map(|r| key(r)), m.role.clone());
            prop_assert_eq!(profile.tags.keys().cloned().collect::<BTreeSet<_>>(), m.tags.clone());
        }
        prop_assert_eq!(live.profiles.len(), model.profiles.len());
        for m in &model.instances {
            let association = live.instances[&m.id].association.as_ref();
            prop_assert_eq!(association.map(|a| a.association_id.clone()), m.association.as_ref().map(|a| a.0.clone()));
            prop_assert_eq!(association.map(|a| key(&a.profile_name)), m.association.as_ref().map(|a| a.1.clone()));
        }
    }
}
