//! The committed JSON Schema is current, and every sample manifest satisfies it.

use std::path::{Path, PathBuf};

use serde_json::Value;

const COMMITTED: &str = "schema/rolecall.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_schema_is_current() {
    let committed = std::fs::read_to_string(root().join(COMMITTED)).unwrap_or_default();
    let current = rolecall::manifest::schema::to_json();
    assert!(
        committed == current,
        "{COMMITTED} is stale: regenerate it with\n\n    cargo run -- schema > {COMMITTED}\n\nand commit the result"
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let output = assert_cmd::Command::cargo_bin("rolecall")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        rolecall::manifest::schema::to_json()
    );
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.ends_with("examples/github-actions") {
            // A CI workflow that runs rolecall, not a manifest.
            continue;
        }
        if path.is_dir() {
            yaml_files(&path, found);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            found.push(path);
        }
    }
}

/// Schema errors of every document in `path`, as "file#doc: path: message".
fn schema_errors(validator: &jsonschema::Validator, path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    // An editor reads `.inf` as a number; JSON has none, so it is checked as
    // its text (the schema allows both where the loader takes it as text).
    let options = serde_saphyr::options! {
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
    };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, options).unwrap();
    documents
        .iter()
        .enumerate()
        .flat_map(|(i, document)| {
            validator
                .iter_errors(document)
                .map(move |e| format!("{}#{i}: {}: {e}", path.display(), e.instance_path()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&rolecall::manifest::schema::to_json()).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

#[test]
fn sample_manifests_satisfy_the_schema() {
    let validator = validator();
    let mut files = Vec::new();
    yaml_files(&root().join("manifests"), &mut files);
    yaml_files(&root().join("examples"), &mut files);
    assert!(files.len() >= 6, "expected the samples, found {files:?}");
    let errors: Vec<String> = files
        .iter()
        .flat_map(|file| schema_errors(&validator, file))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// The loader and the schema agree on what is valid shape: whatever the
/// loader accepts (unquoted numbers as names, say), an editor must not flag.
#[test]
fn fixtures_the_loader_accepts_satisfy_the_schema() {
    let validator = validator();
    let mut files = Vec::new();
    yaml_files(&root().join("tests/fixtures/manifest"), &mut files);
    let accepted: Vec<&PathBuf> = files
        .iter()
        .filter(|file| rolecall::manifest::load(&[file.to_path_buf()], root()).is_ok())
        .collect();
    assert!(accepted.len() >= 3, "too few fixtures load: {accepted:?}");
    let errors: Vec<String> = accepted
        .iter()
        .flat_map(|file| schema_errors(&validator, file))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn schema_rejects_what_the_loader_rejects() {
    let validator = validator();
    let fixtures = root().join("tests/fixtures/manifest");
    for name in [
        "unknown-field.yaml",
        "instances.yaml",
        "document-shape.yaml",
        "managed-policy-fields.yaml",
        "instance-name-like-id.yaml",
    ] {
        assert!(
            !schema_errors(&validator, &fixtures.join(name)).is_empty(),
            "{name} should not satisfy the schema"
        );
    }
}

/// The properties of `kind`'s variant in the schema.
fn properties<'a>(schema: &'a Value, kind: &str) -> &'a Value {
    let variants = schema["oneOf"].as_array().expect("oneOf");
    let variant = variants
        .iter()
        .find(|v| v["properties"]["kind"]["const"] == kind)
        .expect("kind");
    &variant["properties"]
}

#[test]
fn defaults_shown_to_editors_are_the_loaders() {
    let schema: Value = serde_json::from_str(&rolecall::manifest::schema::to_json()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "kind: Role\nname: r\ntrust: ec2\n---\nkind: InstanceProfile\nname: p\n",
    )
    .unwrap();
    let desired = rolecall::manifest::load(&[dir.path().to_path_buf()], dir.path())
        .unwrap()
        .desired;
    let role = properties(&schema, "Role");
    let profile = properties(&schema, "InstanceProfile");
    let stack = properties(&schema, "Stack");
    let instance = properties(&schema, "Instance");
    assert_eq!(
        role["max_session_duration"]["default"],
        desired.roles["r"].max_session_duration
    );
    assert_eq!(role["path"]["default"], desired.roles["r"].path);
    assert_eq!(
        role["description"]["default"],
        desired.roles["r"].description
    );
    assert_eq!(profile["path"]["default"], desired.profiles["p"].path);
    assert_eq!(stack["name"]["default"], desired.stack);
    // Fields whose absence means "none" have no default value to show.
    for field in [
        &role["permissions_boundary"],
        &profile["role"],
        &instance["id"],
        &instance["name"],
    ] {
        assert!(field.get("default").is_none(), "{field}");
    }
}

/// Every `description` in `schema`, however deep.
fn descriptions<'a>(schema: &'a Value, found: &mut Vec<&'a str>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get("description") {
                found.push(text);
            }
            map.values().for_each(|value| descriptions(value, found));
        }
        Value::Array(items) => items.iter().for_each(|item| descriptions(item, found)),
        _ => {}
    }
}

/// Editors show these texts on hover: they come from doc comments, so Rust
/// (attributes, generics, paths, intra-doc links) can slip into them.
#[test]
fn descriptions_speak_to_users() {
    let schema: Value = serde_json::from_str(&rolecall::manifest::schema::to_json()).unwrap();
    let root = schema["description"].as_str().unwrap_or_default();
    let words: Vec<&str> = root.split(|c: char| !c.is_alphanumeric()).collect();
    let kinds: Vec<&str> = schema["oneOf"]
        .as_array()
        .expect("oneOf")
        .iter()
        .filter_map(|variant| variant["properties"]["kind"]["const"].as_str())
        .collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    for kind in kinds {
        assert!(
            words.contains(&kind),
            "the description names no {kind}: {root}"
        );
    }

    let mut found = Vec::new();
    descriptions(&schema, &mut found);
    assert!(found.len() >= 15, "descriptions not found: {found:?}");
    let rust = [
        "#[", "Option<", "Vec<", "T>", "::", "[`", "serde", "schemars", "Self",
    ];
    for text in found {
        for syntax in rust {
            assert!(
                !text.contains(syntax),
                "{syntax:?} in a description: {text}"
            );
        }
    }
}

/// A ManagedPolicy as editors see it: a policy's stricter path, a required
/// document, and a role's `managed_policies` naming it.
#[test]
fn managed_policies_are_described_as_the_loader_reads_them() {
    let validator = validator();
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": []});
    let policy = |path: &str| serde_json::json!({"kind": "ManagedPolicy", "name": "deploy-tools", "path": path, "document": document});
    assert!(validator.is_valid(&policy("/")));
    assert!(validator.is_valid(&policy("/ci/tools/")));
    for path in ["/a*/", "/a//b/", "apps", "/a b/"] {
        assert!(!validator.is_valid(&policy(path)), "{path}");
    }
    assert!(
        !validator.is_valid(&serde_json::json!({"kind": "ManagedPolicy", "name": "no-document"}))
    );
    let role = |entry: serde_json::Value| serde_json::json!({"kind": "Role", "name": "r", "trust": "ec2", "managed_policies": [entry]});
    assert!(validator.is_valid(&role("deploy-tools".into())));
    assert!(validator.is_valid(&role("arn:aws:iam::aws:policy/ReadOnlyAccess".into())));
    assert!(
        validator.is_valid(&role(2024.into())),
        "a name written as a number"
    );
    assert!(!validator.is_valid(&role("not a name".into())));
}
