//! Requests: a [`Call`] as query parameters and back, for both protocols,
//! walked from the operation's [`Field`]s.

use std::collections::BTreeMap;

use rolecall_cloud::{Call, CloudError, ErrorCode, Field, Kind, Operation, Protocol};
use serde_json::{Map, Value};

use crate::{ec2_names, form};

/// The parameter name of `member` of `shape` (without prefix).
fn param_name(protocol: Protocol, shape: &str, member: &'static str) -> &'static str {
    match protocol {
        Protocol::Query => member,
        Protocol::Ec2 => ec2_names::query_name(shape, member),
    }
}

/// The prefix of item `n` (1-based) of the list at `key`: the query
/// protocol puts `member` between them, EC2 does not.
fn item_key(protocol: Protocol, key: &str, n: usize) -> String {
    match protocol {
        Protocol::Query => format!("{key}.member.{n}"),
        Protocol::Ec2 => format!("{key}.{n}"),
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// See [`crate::encode_request`].
pub(crate) fn encode(call: &Call) -> String {
    let operation = call.descriptor();
    let service = operation.service;
    let mut pairs = vec![
        ("Action".to_string(), operation.name.to_string()),
        ("Version".to_string(), service.api_version().to_string()),
    ];
    // `Call` serialises as {"operation": …, "params": {…}}: the params are
    // the request's JSON form, whose names are the fields'.
    let json = serde_json::to_value(call).unwrap_or(Value::Null);
    if let Some(params) = json.get("params").and_then(Value::as_object) {
        encode_members(
            service.protocol(),
            operation.input_shape,
            operation.fields,
            params,
            "",
            &mut pairs,
        );
    }
    form::encode(&pairs)
}

fn encode_members(
    protocol: Protocol,
    shape: &str,
    fields: &'static [Field],
    object: &Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    for field in fields {
        if let Kind::Flatten { shape, fields } = field.kind {
            encode_members(protocol, shape, fields, object, prefix, out);
            continue;
        }
        let Some(value) = object.get(field.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let key = join(prefix, param_name(protocol, shape, field.name));
        encode_value(protocol, field.kind, value, key, out);
    }
}

fn encode_value(
    protocol: Protocol,
    kind: Kind,
    value: &Value,
    key: String,
    out: &mut Vec<(String, String)>,
) {
    match kind {
        Kind::String | Kind::Bool | Kind::Int => {
            if let Some(text) = scalar_text(value) {
                out.push((key, text));
            }
        }
        Kind::StringList | Kind::StructList { .. } => {
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            // botocore's query serialiser sends an empty list as `Name=`;
            // its EC2 serialiser sends nothing.
            if items.is_empty() && protocol == Protocol::Query {
                out.push((key.clone(), String::new()));
            }
            let item_kind = match kind {
                Kind::StructList { shape, fields } => Kind::Struct { shape, fields },
                _ => Kind::String,
            };
            for (i, item) in items.iter().enumerate() {
                encode_value(
                    protocol,
                    item_kind,
                    item,
                    item_key(protocol, &key, i + 1),
                    out,
                );
            }
        }
        Kind::Struct { shape, fields } | Kind::Flatten { shape, fields } => {
            if let Some(object) = value.as_object() {
                encode_members(protocol, shape, fields, object, &key, out);
            }
        }
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The parameters, looked up by name and by prefix (is any `Tags.member.1.`
/// parameter there?) in logarithmic time, so a large body costs no more
/// than its size.
struct Params<'a> {
    map: BTreeMap<&'a str, &'a str>,
}

impl<'a> Params<'a> {
    fn new(pairs: &'a [(String, String)]) -> Self {
        let mut map = BTreeMap::new();
        for (name, value) in pairs {
            // The first of repeated names counts, as AWS's front ends read
            // a repeated parameter.
            map.entry(name.as_str()).or_insert(value.as_str());
        }
        Params { map }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.map.get(key).copied()
    }

    fn any_under(&self, key: &str) -> bool {
        let prefix = format!("{key}.");
        self.map
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|(name, _)| name.starts_with(&prefix))
    }
}

/// Where a member is, for messages: the parameter (`Tags.member.1.Key`),
/// and AWS's validation path (`tags.1.member.key`) for the query protocol.
struct Place {
    key: String,
    path: String,
}

/// See [`crate::decode_request`].
pub(crate) fn decode(
    operation: &'static Operation,
    pairs: &[(String, String)],
) -> Result<Call, CloudError> {
    let decoder = Decoder {
        operation,
        protocol: operation.service.protocol(),
        params: Params::new(pairs),
    };
    let root = Place {
        key: String::new(),
        path: String::new(),
    };
    let params = decoder.members(operation.input_shape, operation.fields, &root)?;
    let call = serde_json::json!({ "operation": operation.name, "params": params });
    serde_json::from_value(call).map_err(|error| {
        // The walk checked presence and syntax; what is left is a value out
        // of the member's range (a count over u32).
        decoder.invalid(&error.to_string())
    })
}

struct Decoder<'a> {
    operation: &'static Operation,
    protocol: Protocol,
    params: Params<'a>,
}

impl Decoder<'_> {
    fn members(
        &self,
        shape: &str,
        fields: &'static [Field],
        at: &Place,
    ) -> Result<Map<String, Value>, CloudError> {
        let mut object = Map::new();
        for field in fields {
            if let Kind::Flatten { shape, fields } = field.kind {
                object.extend(self.members(shape, fields, at)?);
                continue;
            }
            let place = Place {
                key: join(&at.key, param_name(self.protocol, shape, field.name)),
                path: join(&at.path, &lower_camel(field.name)),
            };
            match self.value(field.kind, &place)? {
                Some(value) => {
                    object.insert(field.name.to_string(), value);
                }
                None if field.required => return Err(self.missing(&place)),
                None => {}
            }
        }
        Ok(object)
    }

    fn value(&self, kind: Kind, at: &Place) -> Result<Option<Value>, CloudError> {
        let text = || self.params.get(&at.key);
        Ok(match kind {
            Kind::String => text().map(|t| Value::String(t.to_string())),
            Kind::Bool => match text() {
                None => None,
                Some("true") => Some(Value::Bool(true)),
                Some("false") => Some(Value::Bool(false)),
                Some(other) => return Err(self.bad_value(other, at, "a boolean")),
            },
            Kind::Int => match text() {
                None => None,
                Some(t) => match t.parse::<u64>() {
                    Ok(n) => Some(Value::from(n)),
                    Err(_) => return Err(self.bad_value(t, at, "a number")),
                },
            },
            Kind::StringList | Kind::StructList { .. } => {
                let mut items = Vec::new();
                for n in 1.. {
                    let item = Place {
                        key: item_key(self.protocol, &at.key, n),
                        path: format!("{}.{n}.member", at.path),
                    };
                    let value = match kind {
                        Kind::StructList { shape, fields } => {
                            if !self.params.any_under(&item.key) {
                                break;
                            }
                            Value::Object(self.members(shape, fields, &item)?)
                        }
                        _ => match self.params.get(&item.key) {
                            Some(t) => Value::String(t.to_string()),
                            None => break,
                        },
                    };
                    items.push(value);
                }
                // `Name=` is the query protocol's empty list.
                (!items.is_empty() || text().is_some()).then_some(Value::Array(items))
            }
            Kind::Struct { shape, fields } | Kind::Flatten { shape, fields } => {
                if self.params.any_under(&at.key) {
                    Some(Value::Object(self.members(shape, fields, at)?))
                } else {
                    None
                }
            }
        })
    }

    fn missing(&self, at: &Place) -> CloudError {
        match self.protocol {
            Protocol::Query => self.error(
                ErrorCode::ValidationError,
                format!(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    at.path
                ),
            ),
            Protocol::Ec2 => self.error(
                ErrorCode::MissingParameter,
                format!("The request must contain the parameter {}", at.key),
            ),
        }
    }

    fn bad_value(&self, value: &str, at: &Place, expected: &str) -> CloudError {
        match self.protocol {
            Protocol::Query => self.error(
                ErrorCode::ValidationError,
                format!(
                    "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: Member must be {expected}",
                    at.path
                ),
            ),
            Protocol::Ec2 => self.error(
                ErrorCode::InvalidParameterValue,
                format!("Value ({value}) for parameter {} is invalid. Expected {expected}.", at.key),
            ),
        }
    }

    fn invalid(&self, detail: &str) -> CloudError {
        let code = match self.protocol {
            Protocol::Query => ErrorCode::ValidationError,
            Protocol::Ec2 => ErrorCode::InvalidParameterValue,
        };
        self.error(code, format!("Invalid request: {detail}"))
    }

    fn error(&self, code: ErrorCode, message: String) -> CloudError {
        CloudError::new(self.operation.name, code, message)
    }
}

/// `RoleName` -> `roleName`: how AWS's validation messages name a member.
fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect()
}
