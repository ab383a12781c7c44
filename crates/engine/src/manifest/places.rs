//! Where each role's policies are declared: its trust policy, each inline
//! policy (at its name), each managed policy entry (ARN or ManagedPolicy
//! name) and its permissions boundary. `simulate` names the statement that
//! decided at its policy's place, and `lint` reports its findings there,
//! minus the rules a role or a ManagedPolicy silences (`lint_ignore`), plus
//! the stack's `require_permissions_boundary`. A ManagedPolicy's own place
//! is its resource's, in `Desired::locations` (`policy/NAME`).
//! Recorded only when asked (`load_with_policy_places`): a plan of a large
//! stack does not pay for it.

use std::sync::Arc;

use foldhash::HashMap;
use rolecall_model::Location;

use rolecall_model::{policy_key, role_key};

use super::convert::{At, PolicyDeclaration, RoleDecl};
use super::diagnostic::location;
use super::raw::Pos;

/// Which of a role's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Which {
    Trust,
    Inline(String),
    Managed(String),
    Boundary,
}

/// Policy places by role name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyPlaces {
    /// By role name, each role's few places in a list: one key per role,
    /// looked up without building one.
    places: HashMap<String, Vec<(Which, Location)>>,
    /// Lint rules silenced per resource: (resource key, rule) to the reason
    /// and the place it is given. Roles and ManagedPolicies silence rules.
    ignored: HashMap<(String, String), (String, Location)>,
    /// Where the stack requires a boundary on roles instance profiles hold.
    boundary_required: Option<Location>,
}

impl PolicyPlaces {
    /// Records the places of `role`'s policies, declared in `file`, its
    /// trust policy at `trust`.
    pub(super) fn record_role(&mut self, file: &Arc<str>, name: &str, role: &RoleDecl, trust: Pos) {
        let places = self.places.entry(name.to_string()).or_default();
        let mut put = |which: Which, pos: Pos| places.push((which, location(file, pos)));
        put(Which::Trust, trust);
        if let Some(boundary) = &role.permissions_boundary {
            put(Which::Boundary, boundary.pos);
        }
        for arn in role.managed_policies.iter().flat_map(|list| &list.value) {
            put(Which::Managed(arn.value.clone()), arn.pos);
        }
        for (policy, _) in role.inline_policies.iter().flat_map(|list| &list.value) {
            put(Which::Inline(policy.value.clone()), policy.pos);
        }
        self.record_ignores(file, role_key(name), &role.lint_ignore);
    }

    /// Records the lint rules the ManagedPolicy `policy`, declared in
    /// `file`, silences.
    pub(super) fn record_policy(&mut self, file: &Arc<str>, policy: &PolicyDeclaration) {
        self.record_ignores(file, policy_key(&policy.name.value), &policy.lint_ignore);
    }

    fn record_ignores(
        &mut self,
        file: &Arc<str>,
        resource: String,
        ignores: &[(At<String>, At<String>)],
    ) {
        for (rule, reason) in ignores {
            self.ignored.insert(
                (resource.clone(), rule.value.clone()),
                (reason.value.clone(), location(file, rule.pos)),
            );
        }
    }

    /// Takes in the places `later` recorded from the declarations after
    /// this one's, as if one had recorded them all in order.
    pub(super) fn absorb(&mut self, later: PolicyPlaces) {
        for (role, places) in later.places {
            self.places.entry(role).or_default().extend(places);
        }
        self.ignored.extend(later.ignored);
        if later.boundary_required.is_some() {
            self.boundary_required = later.boundary_required;
        }
    }

    /// The stack requires a boundary on profile-held roles, at `place`.
    pub(super) fn require_boundary(&mut self, place: Location) {
        self.boundary_required = Some(place);
    }

    /// Where the stack requires a permissions boundary on every role an
    /// instance profile holds, if it does.
    pub fn boundary_required(&self) -> Option<&Location> {
        self.boundary_required.as_ref()
    }

    /// The reason the resource `resource` (`role/NAME`, `policy/NAME`)
    /// gives for silencing lint rule `rule`, if it does.
    pub fn ignored(&self, resource: &str, rule: &str) -> Option<&str> {
        self.ignored
            .get(&(resource.to_string(), rule.to_string()))
            .map(|(reason, _)| reason.as_str())
    }

    /// Every silenced rule: resource key, rule and where it is silenced.
    pub fn ignores(&self) -> impl Iterator<Item = (&str, &str, &Location)> {
        self.ignored
            .iter()
            .map(|((resource, rule), (_, place))| (resource.as_str(), rule.as_str(), place))
    }

    /// Where `role`'s trust policy is declared.
    pub fn trust(&self, role: &str) -> Option<&Location> {
        self.get(role, |which| *which == Which::Trust)
    }

    /// Where `role`'s inline policy `policy` is declared (its name).
    pub fn inline(&self, role: &str, policy: &str) -> Option<&Location> {
        self.get(
            role,
            |which| matches!(which, Which::Inline(name) if name == policy),
        )
    }

    /// Where `role` names the managed policy `entry` (an ARN, or the name
    /// of a ManagedPolicy of the manifests).
    pub fn managed(&self, role: &str, entry: &str) -> Option<&Location> {
        self.get(
            role,
            |which| matches!(which, Which::Managed(name) if name == entry),
        )
    }

    /// Where `role` names its permissions boundary.
    pub fn boundary(&self, role: &str) -> Option<&Location> {
        self.get(role, |which| *which == Which::Boundary)
    }

    /// The place of `role`'s policy that `is` picks (the last recorded, as
    /// a map keyed by it would keep).
    fn get(&self, role: &str, is: impl Fn(&Which) -> bool) -> Option<&Location> {
        let places = self.places.get(role)?;
        places
            .iter()
            .rev()
            .find(|(which, _)| is(which))
            .map(|(_, place)| place)
    }
}
