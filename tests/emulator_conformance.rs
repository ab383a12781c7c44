//! Conformance of the emulated account to AWS, in process: every row of the
//! table in tests/conformance_table/mod.rs (which says how a row is written)
//! gives AWS's exact error code and message. tests/serve_clients.rs runs the
//! same table through `rolecall serve`.

mod conformance_table;

use conformance_table::{CASES, call_params, expand, long_values, substitute};
use rolecall::cloud::{Call, Cloud};
use rolecall::emulator::{Emulator, Quotas};
use serde_json::Value;

struct Vars {
    instance: String,
    association: String,
}

fn parse_call(text: &str, vars: &Vars) -> Call {
    let (op, mut params) = call_params(text);
    substitute(&mut params, &vars.instance, &vars.association);
    serde_json::from_value(serde_json::json!({"operation": op, "params": params}))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn run(cloud: &dyn Cloud, text: &str, vars: &mut Vars) -> Result<Value, String> {
    let call = parse_call(text, vars);
    match call.invoke(cloud) {
        Ok(out) => {
            if let Some(id) = out
                .pointer("/Instances/0/InstanceId")
                .and_then(Value::as_str)
            {
                vars.instance = id.to_string();
            }
            if let Some(id) = out
                .pointer("/IamInstanceProfileAssociation/AssociationId")
                .and_then(Value::as_str)
            {
                vars.association = id.to_string();
            }
            Ok(out)
        }
        Err(e) => Err(format!("{}: {}", e.code, e.message)),
    }
}

#[test]
fn conformance_table() {
    let mut failures = Vec::new();
    for (name, setup, call, expected) in CASES {
        let dir = tempfile::tempdir().unwrap();
        let emulator = Emulator::open(&dir.path().join("account.db")).unwrap();
        let mut vars = Vars {
            instance: String::new(),
            association: String::new(),
        };
        for step in setup.iter().flat_map(|s| expand(s)) {
            // `QUOTA n`: both account quotas lowered to n, so quota rows stay cheap.
            if let Some(n) = step.strip_prefix("QUOTA ") {
                let n: u32 = n.parse().unwrap();
                emulator
                    .set_quotas(&Quotas {
                        max_roles: n,
                        max_instance_profiles: n,
                    })
                    .unwrap();
                continue;
            }
            if let Err(e) = run(&emulator, &step, &mut vars) {
                failures.push(format!("{name}: setup {step} failed: {e}"));
            }
        }
        let got = match run(&emulator, call, &mut vars) {
            Ok(_) => "ok".to_string(),
            Err(e) => e,
        };
        let expected = long_values(expected)
            .replace("$I", &vars.instance)
            .replace("$A", &vars.association);
        if got != expected {
            failures.push(format!("{name}:\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
