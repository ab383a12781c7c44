//! Lint findings for people (text), scripts (JSON) and GitHub code
//! scanning (SARIF 2.1.0, the format `github/codeql-action/upload-sarif`
//! takes: one run, the rules in `tool.driver.rules`, each result at its
//! file and line).

use std::fmt::Write;

use serde_json::{Value, json};

use super::rules::RULES;
use super::{Finding, Report};

/// `FILE:LINE:COL: warning[RULE]: SUBJECT of RESOURCE: MESSAGE`, then why
/// and how to fix it; silenced findings counted at the end.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let rule = finding.rule();
        let place = finding
            .location
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{place}warning[{}]: {}, {}: {}",
            finding.rule, finding.resource, finding.subject, finding.message
        );
        let _ = writeln!(out, "  why: {}", rule.why);
        let _ = writeln!(out, "  fix: {}", rule.fix);
    }
    for stale in &report.stale_ignores {
        let _ = writeln!(
            out,
            "{}: warning: lint_ignore silences `{}` on {}, which has no such finding: remove it, so it cannot hide the next one",
            stale.location,
            stale.rule,
            stale.owner()
        );
    }
    let count = report.findings.len();
    let silenced = match report.silenced.len() {
        0 => String::new(),
        n => format!(" ({n} silenced by lint_ignore)"),
    };
    match count {
        0 => {
            let _ = writeln!(out, "No lint findings{silenced}.");
        }
        1 => {
            let _ = writeln!(out, "1 lint finding{silenced}.");
        }
        n => {
            let _ = writeln!(out, "{n} lint findings{silenced}.");
        }
    }
    out
}

/// `{"format_version": 1, "findings": [...], "silenced": [...]}`, each
/// finding with its rule's why and fix.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    let finding = |finding: &Finding| {
        let rule = finding.rule();
        json!({
            "rule": finding.rule,
            "location": finding.location,
            "resource": finding.resource,
            "subject": finding.subject,
            "message": finding.message,
            "why": rule.why,
            "fix": rule.fix,
        })
    };
    let document = json!({
        "format_version": 1,
        "findings": report.findings.iter().map(finding).collect::<Vec<_>>(),
        "silenced": report.silenced.iter().map(|silenced| {
            let mut value = finding(&silenced.finding);
            if let Value::Object(map) = &mut value {
                map.insert("reason".into(), json!(silenced.reason));
            }
            value
        }).collect::<Vec<_>>(),
        "stale_ignores": report.stale_ignores,
    });
    serde_json::to_string_pretty(&document)
}

/// SARIF 2.1.0: every rule described, every finding a `warning` result at
/// its file, line and column. Code scanning wants paths relative to the
/// repository: an absolute path under `root` (the directory rolecall runs
/// in) is made relative to it. Silenced findings are results with a
/// `suppressions` entry carrying the reason.
pub fn sarif(report: &Report, root: Option<&std::path::Path>) -> Result<String, serde_json::Error> {
    let uri = |file: &str| {
        let path = std::path::Path::new(file);
        let relative = root
            .filter(|_| path.is_absolute())
            .and_then(|root| path.strip_prefix(root).ok())
            .unwrap_or(path);
        relative
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string()
    };
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.id,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.why},
                "help": {"text": rule.fix},
                "defaultConfiguration": {"level": "warning"},
            })
        })
        .collect();
    let result = |finding: &Finding| {
        let mut result = json!({
            "ruleId": finding.rule,
            "ruleIndex": RULES.iter().position(|rule| rule.id == finding.rule),
            "level": "warning",
            "message": {"text": format!("{}, {}: {}", finding.resource, finding.subject, finding.message)},
        });
        if let (Some(location), Value::Object(map)) = (&finding.location, &mut result) {
            map.insert(
                "locations".into(),
                json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&location.file)},
                        "region": {"startLine": location.line, "startColumn": location.column},
                    }
                }]),
            );
        }
        result
    };
    let mut results: Vec<Value> = report.findings.iter().map(result).collect();
    results.extend(report.silenced.iter().map(|silenced| {
        let mut value = result(&silenced.finding);
        if let Value::Object(map) = &mut value {
            map.insert(
                "suppressions".into(),
                json!([{"kind": "inSource", "justification": silenced.reason}]),
            );
        }
        value
    }));
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rolecall",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&document)
}
