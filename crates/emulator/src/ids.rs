//! Identifiers, ARNs and timestamps in AWS's formats.

use rand::RngExt;

use rolecall_model::{DEFAULT_PARTITION, ProfileArn, RoleArn};

pub(crate) const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// `len` characters from `alphabet`, drawn from the thread's CSPRNG
/// (rand's `ThreadRng`, ChaCha-based and reseeded from the OS): good enough
/// for the secrets of `credentials` too.
pub(crate) fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// `AROA` + 17 uppercase alphanumerics (21 characters), as IAM role ids.
pub fn role_id() -> String {
    format!("AROA{}", random_chars(UPPER_ALNUM, 17))
}

/// `AIPA` + 17 uppercase alphanumerics, as instance-profile ids.
pub fn instance_profile_id() -> String {
    format!("AIPA{}", random_chars(UPPER_ALNUM, 17))
}

/// `ANPA` + 17 uppercase alphanumerics, as customer-managed policy ids.
pub fn policy_id() -> String {
    format!("ANPA{}", random_chars(UPPER_ALNUM, 17))
}

/// A stable `ANPA` id for an AWS-managed policy, derived from its ARN: the
/// bundled list has no ids, and GetPolicy must answer the same id each time.
pub fn aws_policy_id(arn: &str) -> String {
    // FNV-1a, continued one round per character: stable across Rust
    // releases (std's hasher is not), and an id needs no more.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut step = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        hash
    };
    arn.bytes().for_each(|b| {
        step(b);
    });
    let chars: String = (0..17u8)
        .map(|i| {
            let n = step(i) >> 32;
            char::from(UPPER_ALNUM[(n % UPPER_ALNUM.len() as u64) as usize])
        })
        .collect();
    format!("ANPA{chars}")
}

/// `i-` + 17 lowercase hex digits.
pub fn instance_id() -> String {
    format!("i-{}", random_chars(HEX, 17))
}

/// `iip-assoc-` + 17 lowercase hex digits.
pub fn association_id() -> String {
    format!("iip-assoc-{}", random_chars(HEX, 17))
}

/// `r-` + 17 lowercase hex digits.
pub fn reservation_id() -> String {
    format!("r-{}", random_chars(HEX, 17))
}

/// The partition of every emulated account, as its ARNs name it.
pub const PARTITION: &str = DEFAULT_PARTITION;

pub fn role_arn(account_id: &str, path: &str, name: &str) -> String {
    RoleArn::new(PARTITION, account_id, path, name).to_string()
}

pub fn instance_profile_arn(account_id: &str, path: &str, name: &str) -> String {
    ProfileArn::new(PARTITION, account_id, path, name).to_string()
}

pub fn policy_arn(account_id: &str, path: &str, name: &str) -> String {
    rolecall_model::policy_arn(PARTITION, account_id, path, name)
}

/// Whether `id` is an IAM unique id with this prefix (`AROA`, `AIPA`): the
/// prefix and 17 uppercase letters or digits.
pub fn is_unique_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 17 && rest.bytes().all(|b| UPPER_ALNUM.contains(&b)))
}

/// Whether `id` has the shape EC2 gives ids with this prefix (8 or 17 hex digits).
pub fn is_ec2_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| HEX.contains(&b))
    })
}

/// ISO 8601 in UTC with an explicit offset, as the AWS CLI prints dates.
pub fn timestamp(now_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(now_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(role_id().len(), 21);
        assert!(instance_profile_id().starts_with("AIPA"));
        assert!(is_ec2_id(&instance_id(), "i-"));
        assert!(is_ec2_id(&association_id(), "iip-assoc-"));
        assert!(!is_ec2_id("i-xyz", "i-"));
        assert_eq!(timestamp(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(role_arn("1", "/a/b/", "r"), "arn:aws:iam::1:role/a/b/r");
        assert_eq!(
            instance_profile_arn("1", "/", "p"),
            "arn:aws:iam::1:instance-profile/p"
        );
        assert!(is_unique_id(&role_id(), "AROA"));
        assert!(!is_unique_id("AROAabc", "AROA"));
        assert!(is_unique_id(&policy_id(), "ANPA"));
        let arn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        assert!(is_unique_id(&aws_policy_id(arn), "ANPA"));
        assert_eq!(aws_policy_id(arn), aws_policy_id(arn));
        assert_eq!(policy_arn("1", "/ops/", "p"), "arn:aws:iam::1:policy/ops/p");
    }
}
