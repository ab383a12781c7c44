//! The operation table generates every piece an operation needs: each
//! operation listed in `rolecall::cloud::OPERATIONS` has a trait method the
//! emulator runs, a `Call` that round-trips through JSON, a service and an
//! access kind the emulator honours, a `rolecall emulator` verb with a flag
//! per request member and a help example that parses; lab operations are
//! exactly the instance lifecycle and are not the reconciler's trait.

use std::collections::BTreeSet;

use assert_cmd::Command;
use clap::CommandFactory;
use rolecall::cloud::{
    Access, Call, Cloud, CloudError, ErrorCode, Field, Kind, Lab, OPERATIONS, Operation,
};
use rolecall::emulator::{Emulator, Faults};
use rolecall::model::Live;
use serde_json::{Map, Value, json};

/// A value of every member, non-empty so serde writes each one back.
fn sample(kind: &Kind) -> Value {
    match kind {
        Kind::String => json!("web"),
        Kind::Bool => json!(true),
        Kind::Int => json!(7),
        Kind::StringList => json!(["web"]),
        Kind::Struct { fields, .. } => Value::Object(sample_object(fields)),
        Kind::StructList { fields, .. } => json!([sample_object(fields)]),
        Kind::Flatten { .. } => unreachable!("flattened members are written in place"),
    }
}

fn sample_object(fields: &[Field]) -> Map<String, Value> {
    let mut object = Map::new();
    for field in fields {
        match &field.kind {
            Kind::Flatten { fields, .. } => object.extend(sample_object(fields)),
            kind => {
                object.insert(field.name.to_string(), sample(kind));
            }
        }
    }
    object
}

/// `operation` with a value for every member, as a plan step's JSON holds it.
fn sample_call(operation: &Operation) -> Value {
    json!({"operation": operation.name, "params": sample_object(operation.fields)})
}

fn emulator(dir: &tempfile::TempDir) -> Emulator {
    Emulator::open(&dir.path().join("account.db")).unwrap()
}

#[test]
fn operations_are_found_by_aws_name_and_by_verb() {
    assert!(!OPERATIONS.is_empty());
    let names: BTreeSet<_> = OPERATIONS.iter().map(|op| op.name).collect();
    assert_eq!(names.len(), OPERATIONS.len(), "one entry per operation");
    for operation in OPERATIONS {
        assert_eq!(Operation::named(operation.name), Some(operation));
        assert_eq!(Operation::with_verb(operation.verb), Some(operation));
    }
    assert_eq!(Operation::named("CreateBucket"), None);
    assert_eq!(Operation::named("createrole"), None);
    assert_eq!(rolecall::cloud::operations::CREATE_ROLE.verb, "create-role");
}

/// Every member a request records (`FIELDS`) is one serde reads and writes
/// under that name: a request with all of them survives JSON unchanged.
#[test]
fn every_call_round_trips_through_json_with_every_member() {
    for operation in OPERATIONS {
        let json = sample_call(operation);
        let call: Call = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{operation}: {json} is not a Call: {e}"));
        assert_eq!(call.operation(), operation.name);
        assert_eq!(call.descriptor(), operation);
        assert_eq!(
            serde_json::to_value(&call).unwrap(),
            json,
            "{operation}: a member is missing from FIELDS or misnamed"
        );
    }
}

/// Every operation reaches its emulator body (an AWS error about the sample
/// values is fine; an unsupported operation is not), and an injected
/// failure comes with its service's code, as the table says.
#[test]
fn every_call_is_invocable_on_the_emulator_with_its_service_and_access() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = emulator(&dir);
    for operation in OPERATIONS {
        let call: Call = serde_json::from_value(sample_call(operation)).unwrap();
        if let Err(error) = call.invoke(&cloud) {
            assert_ne!(error.code, ErrorCode::UnsupportedOperation, "{error}");
            assert_eq!(error.operation, operation.name);
        }

        cloud
            .configure(&Faults {
                fail_after: Some(1),
                ..Faults::default()
            })
            .unwrap();
        let error = call.invoke(&cloud).unwrap_err();
        assert_eq!(error.code, operation.service.failure_code(), "{error}");
        cloud.configure(&Faults::default()).unwrap();

        // AWS names the operations that only read Get…, List…, Describe….
        let reads = ["Get", "List", "Describe"]
            .iter()
            .any(|prefix| operation.name.starts_with(prefix));
        assert_eq!(operation.access == Access::Read, reads, "{operation}");
    }
}

/// An operation the table marks as a read changes nothing in the account.
#[test]
fn the_read_operations_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = emulator(&dir);
    let launch = rolecall::cloud::ec2::RunInstancesRequest {
        min_count: 1,
        max_count: 1,
        ..Default::default()
    };
    cloud.run_instances(&launch).unwrap();
    let before = cloud.export().unwrap();
    for operation in OPERATIONS.iter().filter(|op| op.access == Access::Read) {
        let call: Call = serde_json::from_value(sample_call(operation)).unwrap();
        let _ = call.invoke(&cloud);
        assert_eq!(cloud.export().unwrap(), before, "{operation} wrote");
    }
}

/// Every operation is a `rolecall emulator` verb: its --help (the real
/// binary's) describes it, has a flag per request member and an example,
/// and the example parses as that verb.
#[test]
fn every_operation_is_an_emulator_verb_with_flags_help_and_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for operation in OPERATIONS {
        let output = Command::cargo_bin("rolecall")
            .unwrap()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(["emulator", operation.verb, "--help"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{operation}: {output:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        // Words as written, whatever the line width.
        let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.starts_with(&format!("{} ({operation})", operation.about)),
            "{operation}:\n{help}"
        );
        assert!(help.contains("Example:\n  rolecall emulator"), "{help}");
        // RunInstances keeps flags made for labs (--name, --count).
        if *operation != rolecall::cloud::operations::RUN_INSTANCES {
            for field in operation.parameters() {
                let flag = format!("--{} <", kebab(field.name));
                // A boolean's value may be left out (`--set-as-default`).
                let optional = format!("--{} [<", kebab(field.name));
                assert!(
                    help.contains(&flag) || help.contains(&optional),
                    "{operation}: no {flag}\n{help}"
                );
            }
        }

        assert!(!operation.about.is_empty() && !operation.example.is_empty());
        let args = ["rolecall", "emulator", operation.verb]
            .into_iter()
            .chain(operation.example.split_whitespace());
        let matches = rolecall::cli::Cli::command()
            .try_get_matches_from(args)
            .unwrap_or_else(|e| panic!("the example of {operation} does not parse: {e}"));
        let verb = matches
            .subcommand_matches("emulator")
            .and_then(|emulator| emulator.subcommand_name());
        assert_eq!(verb, Some(operation.verb));
    }
}

/// `RoleName` -> `role-name`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A backend with no lab: it implements `Cloud` with exactly the table's
/// non-lab operations (generated from the table, so this does not compile
/// if the trait wants a lab operation or lacks another one), forwarding
/// them to an emulator.
struct NoLab(Emulator);

macro_rules! no_lab_methods {
    ([] $(
        $op:ident {
            method: $method:ident, constant: $constant:ident,
            input: $input:ty, output: $output:ty, $(boxed: $boxed:tt,)?
            service: $service:ident, access: $access:ident, lab: $lab:tt,
            about: $about:literal, example: $example:literal $(,)?
        }
    )*) => {
        $( no_lab_method!($lab, $method, $input, $output); )*
    };
}

macro_rules! no_lab_method {
    (false, $method:ident, $input:ty, $output:ty) => {
        fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            self.0.$method(input)
        }
    };
    (true, $($rest:tt)*) => {};
}

impl Cloud for NoLab {
    fn snapshot(&self) -> Result<Live, CloudError> {
        self.0.snapshot()
    }

    rolecall::with_operations!(no_lab_methods);
}

#[test]
fn lab_operations_are_the_instance_lifecycle_and_need_a_lab() {
    let lab: BTreeSet<_> = OPERATIONS
        .iter()
        .filter(|op| op.lab)
        .map(|op| op.name)
        .collect();
    let expected: BTreeSet<_> = [
        "RunInstances",
        "StopInstances",
        "StartInstances",
        "TerminateInstances",
    ]
    .into();
    assert_eq!(lab, expected);

    let dir = tempfile::tempdir().unwrap();
    let emulated = emulator(&dir);
    assert!(emulated.lab().is_some(), "an emulated account is a lab");
    let backend = NoLab(emulator(&dir));
    assert!(backend.lab().is_none());
    for operation in OPERATIONS {
        let call: Call = serde_json::from_value(sample_call(operation)).unwrap();
        match call.invoke(&backend) {
            Err(error) if operation.lab => {
                assert_eq!(error.code, ErrorCode::UnsupportedOperation, "{error}");
                assert_eq!(error.operation, operation.name);
                assert!(!error.retryable);
            }
            Err(error) => assert_ne!(error.code, ErrorCode::UnsupportedOperation),
            Ok(_) => assert!(!operation.lab, "{operation} ran with no lab"),
        }
    }
    // The lab's methods through `dyn Cloud` ask for the lab too.
    let launch = rolecall::cloud::ec2::RunInstancesRequest {
        min_count: 1,
        max_count: 1,
        ..Default::default()
    };
    let no_lab: &dyn Cloud = &backend;
    assert_eq!(
        no_lab.run_instances(&launch).unwrap_err().code,
        ErrorCode::UnsupportedOperation
    );
    let with_lab: &dyn Cloud = &emulated;
    assert!(with_lab.run_instances(&launch).is_ok());
    let lab: &dyn Lab = emulated.lab().unwrap();
    assert!(lab.run_instances(&launch).is_ok());
}
