//! Where each role's policies are declared: its trust policy, each inline
//! policy (at its name), each managed policy ARN and its permissions
//! boundary. `simulate` names the statement that decided at its policy's
//! place, and `lint` reports its findings there. Recorded only when asked
//! (`load_with_policy_places`): a plan of a large stack does not pay for it.

use std::collections::HashMap;

use rolecall_model::Location;

use super::convert::RoleDecl;
use super::diagnostic::location;
use super::raw::Pos;

/// Which of a role's policies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Which {
    Trust,
    Inline(String),
    Managed(String),
    Boundary,
}

/// Policy places by role name.
#[derive(Debug, Clone, Default)]
pub struct PolicyPlaces {
    places: HashMap<(String, Which), Location>,
}

impl PolicyPlaces {
    /// Records the places of `role`'s policies, declared in `file`, its
    /// trust policy at `trust`.
    pub(super) fn record_role(&mut self, file: &str, name: &str, role: &RoleDecl, trust: Pos) {
        let mut put = |which: Which, pos: Pos| {
            self.places
                .insert((name.to_string(), which), location(file, pos));
        };
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
    }

    /// Where `role`'s trust policy is declared.
    pub fn trust(&self, role: &str) -> Option<&Location> {
        self.get(role, Which::Trust)
    }

    /// Where `role`'s inline policy `policy` is declared (its name).
    pub fn inline(&self, role: &str, policy: &str) -> Option<&Location> {
        self.get(role, Which::Inline(policy.to_string()))
    }

    /// Where `role` names the managed policy `arn`.
    pub fn managed(&self, role: &str, arn: &str) -> Option<&Location> {
        self.get(role, Which::Managed(arn.to_string()))
    }

    /// Where `role` names its permissions boundary.
    pub fn boundary(&self, role: &str) -> Option<&Location> {
        self.get(role, Which::Boundary)
    }

    fn get(&self, role: &str, which: Which) -> Option<&Location> {
        self.places.get(&(role.to_string(), which))
    }
}
