//! AWS's limits on the resources rolecall manages, written once: manifest
//! validation refuses what the emulator would refuse, with the same numbers.
//! Sources: docs/aws-semantics.md (IAM and STS quotas, EC2 tag restrictions).

use std::ops::RangeInclusive;

/// Tags on one role, instance profile or EC2 instance.
pub const MAX_TAGS: usize = 50;
/// Managed policies attached to one role (quota PoliciesPerRole).
pub const MAX_MANAGED_POLICIES: usize = 10;
/// Characters of a trust policy, whitespace not counted (quota ACLSizePerRole).
pub const MAX_TRUST_SIZE: usize = 2048;
/// Characters of all inline policies of a role together, whitespace not
/// counted (quota RolePolicySizeQuota).
pub const MAX_INLINE_SIZE: usize = 10_240;
/// Characters of a customer-managed policy's document, whitespace not
/// counted (quota PolicySize: IAM answers `LimitExceeded: Cannot exceed
/// quota for PolicySize: 6144`).
pub const MAX_MANAGED_POLICY_SIZE: usize = 6_144;
/// Versions one customer-managed policy keeps, its default among them.
pub const MAX_POLICY_VERSIONS: usize = 5;
/// A role's maximum session duration, in seconds (1 to 12 hours).
pub const SESSION_DURATION: RangeInclusive<u32> = 3600..=43200;
