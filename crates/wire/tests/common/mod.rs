//! Sample values built from field descriptors alone, so every operation in
//! the table is covered with no list of operations here.

use rolecall_cloud::{Call, Field, Kind, Operation};
use serde_json::{Map, Value, json};

/// Text that exercises both escapings: form (`&`, `=`, `+`, `%`, space) and
/// XML (`<`, `&`, `]]>`), and non-ASCII.
pub const TRICKY: &str = "a b&c=d+e%25f<g>]]>\"h'é😀";

/// A value for every member (optional ones too): strings named after their
/// member and `seed`, numbers, `true`, lists of two, nested structures.
pub fn sample(fields: &'static [Field], seed: &str) -> Map<String, Value> {
    let mut object = Map::new();
    for field in fields {
        let value = match field.kind {
            Kind::Flatten { fields, .. } => {
                object.extend(sample(fields, seed));
                continue;
            }
            kind => sample_value(field.name, kind, seed),
        };
        object.insert(field.name.to_string(), value);
    }
    object
}

fn sample_value(name: &str, kind: Kind, seed: &str) -> Value {
    match kind {
        Kind::String => json!(format!("{name}-{seed}-{TRICKY}")),
        Kind::Bool => json!(true),
        Kind::Int => json!(16),
        Kind::StringList => json!([
            format!("{name}-{seed}-1"),
            format!("{name}-{seed}-2 {TRICKY}")
        ]),
        Kind::Struct { fields, .. } | Kind::Flatten { fields, .. } => {
            Value::Object(sample(fields, seed))
        }
        Kind::StructList { fields, .. } => json!([
            Value::Object(sample(fields, &format!("{seed}.1"))),
            Value::Object(sample(fields, &format!("{seed}.2"))),
        ]),
    }
}

/// The operation's call with every member set.
pub fn sample_call(operation: &Operation) -> Call {
    let params = sample(operation.fields, "in");
    serde_json::from_value(json!({ "operation": operation.name, "params": params })).unwrap_or_else(
        |error| {
            panic!(
                "{}: sample input does not deserialise: {error}",
                operation.name
            )
        },
    )
}
