//! Responses and errors: XML bodies written from an output's JSON, and read
//! back into it, for both protocols, walked from the operation's output
//! [`Field`]s.

use rolecall_cloud::{CloudError, ErrorCode, Field, Kind, Operation, Protocol, Service};
use serde_json::{Map, Value};

use crate::{ec2_names, http_status};

/// IAM's `SummaryMap` is a map on the wire (`<entry><key>…</key><value>…`),
/// which rolecall's JSON holds as a structure of the keys it reads.
const SUMMARY_MAP: &str = "SummaryMap";

/// The code of a response rolecall cannot read (not AWS's: AWS never
/// sends it).
const MALFORMED: &str = "MalformedResponse";

/// Nesting deeper than any response of these services has: bounds the
/// parse (and the recursive drop of the tree) on hostile input.
const MAX_DEPTH: usize = 64;

fn element_name(protocol: Protocol, shape: &str, member: &'static str) -> &'static str {
    match protocol {
        Protocol::Query => member,
        Protocol::Ec2 => ec2_names::location_name(shape, member),
    }
}

/// The element of each list item.
fn item_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Query => "member",
        Protocol::Ec2 => "item",
    }
}

/// Text as XML character data. A carriage return is written as a reference,
/// since a parser turns a literal one into a line feed; characters XML 1.0
/// cannot carry at all (most C0 controls) become U+FFFD rather than make
/// the document unreadable.
fn push_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn push_element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_text(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// See [`crate::encode_response`].
pub(crate) fn encode(operation: &Operation, output: &Value, request_id: &str) -> String {
    let service = operation.service;
    let protocol = service.protocol();
    let name = operation.name;
    let mut out = format!("<{name}Response xmlns=\"{}\">", service.xml_namespace());
    let members = output.as_object();
    match protocol {
        Protocol::Query => {
            // An output shape, even an empty one, has its result element
            // (botocore looks for it); an operation with no output has none.
            if !operation.output_shape.is_empty() {
                out.push_str(&format!("<{name}Result>"));
                if let Some(members) = members {
                    encode_members(
                        protocol,
                        operation.output_shape,
                        operation.output_fields,
                        members,
                        &mut out,
                    );
                }
                out.push_str(&format!("</{name}Result>"));
            }
            out.push_str("<ResponseMetadata>");
            push_element(&mut out, "RequestId", request_id);
            out.push_str("</ResponseMetadata>");
        }
        Protocol::Ec2 => {
            push_element(&mut out, "requestId", request_id);
            if operation.output_shape.is_empty() {
                // EC2 answers an operation with no output (CreateTags,
                // DeleteTags) with `<return>true</return>` (EC2 API
                // Reference, each operation's example response).
                out.push_str("<return>true</return>");
            } else if let Some(members) = members {
                encode_members(
                    protocol,
                    operation.output_shape,
                    operation.output_fields,
                    members,
                    &mut out,
                );
            }
        }
    }
    out.push_str(&format!("</{name}Response>"));
    out
}

fn encode_members(
    protocol: Protocol,
    shape: &str,
    fields: &'static [Field],
    object: &Map<String, Value>,
    out: &mut String,
) {
    for field in fields {
        if let Kind::Flatten { shape, fields } = field.kind {
            encode_members(protocol, shape, fields, object, out);
            continue;
        }
        let Some(value) = object.get(field.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let name = element_name(protocol, shape, field.name);
        encode_value(protocol, field.kind, value, name, out);
    }
}

fn encode_value(protocol: Protocol, kind: Kind, value: &Value, name: &str, out: &mut String) {
    match kind {
        Kind::String | Kind::Bool | Kind::Int => {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return,
            };
            push_element(out, name, &text);
        }
        Kind::StringList | Kind::StructList { .. } => {
            let item_kind = match kind {
                Kind::StructList { shape, fields } => Kind::Struct { shape, fields },
                _ => Kind::String,
            };
            out.push_str(&format!("<{name}>"));
            for item in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                encode_value(protocol, item_kind, item, item_name(protocol), out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Kind::Struct { shape, fields } | Kind::Flatten { shape, fields } => {
            let Some(object) = value.as_object() else {
                return;
            };
            out.push_str(&format!("<{name}>"));
            if shape == SUMMARY_MAP && protocol == Protocol::Query {
                for field in fields {
                    if let Some(value) = object.get(field.name).filter(|v| !v.is_null()) {
                        out.push_str("<entry>");
                        push_element(out, "key", field.name);
                        push_element(out, "value", &value.to_string());
                        out.push_str("</entry>");
                    }
                }
            } else {
                encode_members(protocol, shape, fields, object, out);
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

/// See [`crate::encode_error`].
pub(crate) fn encode_error(
    service: Service,
    error: &CloudError,
    request_id: &str,
) -> (u16, String) {
    let status = http_status(service, &error.code);
    let mut out = String::new();
    match service.protocol() {
        Protocol::Query => {
            out.push_str(&format!(
                "<ErrorResponse xmlns=\"{}\"><Error>",
                service.xml_namespace()
            ));
            push_element(
                &mut out,
                "Type",
                if status >= 500 { "Receiver" } else { "Sender" },
            );
            push_element(&mut out, "Code", error.code.as_str());
            push_element(&mut out, "Message", &error.message);
            out.push_str("</Error>");
            push_element(&mut out, "RequestId", request_id);
            out.push_str("</ErrorResponse>");
        }
        Protocol::Ec2 => {
            out.push_str("<Response><Errors><Error>");
            push_element(&mut out, "Code", error.code.as_str());
            push_element(&mut out, "Message", &error.message);
            out.push_str("</Error></Errors>");
            push_element(&mut out, "RequestID", request_id);
            out.push_str("</Response>");
        }
    }
    (status, out)
}

/// An XML element, as far as these responses need: local name, text,
/// child elements (attributes and namespaces carry nothing here).
#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The first element named `name`, this one or below, depth first.
    fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|child| child.find(name))
    }
}

/// Why a body is not an XML document rolecall can read.
fn parse_xml(body: &[u8]) -> Result<Element, String> {
    use quick_xml::events::Event;

    let mut reader = quick_xml::Reader::from_reader(body);
    // Every start tag must be closed by its own name: a truncated or
    // mismatched body is refused, never half read.
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| format!("not XML at byte {}: {error}", reader.error_position()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err("content after the document's element".to_string());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} elements"));
                }
                let name = String::from_utf8(start.local_name().as_ref().to_vec())
                    .map_err(|_| "an element name is not UTF-8".to_string())?;
                let element = Element {
                    name,
                    ..Element::default()
                };
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("an end tag closes nothing")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let text = text
                    .xml10_content()
                    .map_err(|error| format!("text is not UTF-8: {error}"))?;
                if let Some(element) = stack.last_mut() {
                    element.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                let text = data
                    .decode()
                    .map_err(|error| format!("CDATA is not UTF-8: {error}"))?;
                if let Some(element) = stack.last_mut() {
                    element.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = reference
                            .decode()
                            .map_err(|error| format!("a reference is not UTF-8: {error}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_string()
                    }
                    Err(error) => return Err(format!("bad character reference: {error}")),
                };
                if let Some(element) = stack.last_mut() {
                    element.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions and DOCTYPEs
            // carry nothing for these responses (entities a DOCTYPE
            // declares are refused above as unknown).
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_string());
    }
    root.ok_or_else(|| "no document element".to_string())
}

/// See [`crate::decode_error_document`].
pub(crate) fn error_document(body: &[u8]) -> Option<(String, String)> {
    let root = parse_xml(body).ok()?;
    let error = root.find("Error")?;
    let code = error.child("Code")?.text.trim().to_string();
    let message = error
        .child("Message")
        .map(|m| m.text.clone())
        .unwrap_or_default();
    (!code.is_empty()).then_some((code, message))
}

/// See [`crate::decode_response`].
pub(crate) fn decode(operation: &Operation, status: u16, body: &[u8]) -> Result<Value, CloudError> {
    let success = (200..300).contains(&status);
    let root = match parse_xml(body) {
        Ok(root) => root,
        Err(why) if success => {
            return Err(malformed(
                operation,
                format!("the response is not readable: {why}"),
            ));
        }
        Err(_) => return Err(unreadable_error(operation, status, body)),
    };
    let is_error =
        root.name == "ErrorResponse" || (root.name == "Response" && root.child("Errors").is_some());
    if !success || is_error {
        return Err(match root.find("Error") {
            Some(error) => {
                let code = error
                    .child("Code")
                    .map(|c| c.text.trim())
                    .unwrap_or_default();
                let message = error
                    .child("Message")
                    .map(|m| m.text.as_str())
                    .unwrap_or_default();
                if code.is_empty() {
                    unreadable_error(operation, status, body)
                } else {
                    CloudError::new(operation.name, ErrorCode::parse(code), message)
                }
            }
            None => unreadable_error(operation, status, body),
        });
    }
    if operation.output_shape.is_empty() {
        // What `Call::invoke` returns for `()`.
        return Ok(Value::Null);
    }
    let protocol = operation.service.protocol();
    let result_name = format!("{}Result", operation.name);
    let empty = Element::default();
    let result = match protocol {
        // Parsing starts at the result wrapper (botocore's `resultWrapper`);
        // one missing holds no members.
        Protocol::Query => root.child(&result_name).unwrap_or(&empty),
        Protocol::Ec2 => &root,
    };
    let reader = Reader {
        operation,
        protocol,
    };
    reader
        .members(operation.output_shape, operation.output_fields, result)
        .map(Value::Object)
}

struct Reader<'a> {
    operation: &'a Operation,
    protocol: Protocol,
}

impl Reader<'_> {
    fn members(
        &self,
        shape: &str,
        fields: &'static [Field],
        element: &Element,
    ) -> Result<Map<String, Value>, CloudError> {
        let mut object = Map::new();
        for field in fields {
            if let Kind::Flatten { shape, fields } = field.kind {
                object.extend(self.members(shape, fields, element)?);
                continue;
            }
            let name = element_name(self.protocol, shape, field.name);
            match element.child(name) {
                Some(child) => {
                    object.insert(field.name.to_string(), self.value(field.kind, child)?);
                }
                // AWS leaves out an empty list (EC2's `tagSet`); a required
                // one is then empty, as the JSON form has it.
                None if field.required
                    && matches!(field.kind, Kind::StringList | Kind::StructList { .. }) =>
                {
                    object.insert(field.name.to_string(), Value::Array(Vec::new()));
                }
                None => {}
            }
        }
        Ok(object)
    }

    fn value(&self, kind: Kind, element: &Element) -> Result<Value, CloudError> {
        Ok(match kind {
            Kind::String => Value::String(element.text.clone()),
            Kind::Bool => match element.text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => return Err(self.bad(element, other)),
            },
            Kind::Int => Value::from(self.number(element)?),
            Kind::StringList => Value::Array(
                element
                    .children
                    .iter()
                    .map(|item| Value::String(item.text.clone()))
                    .collect(),
            ),
            Kind::StructList { shape, fields } => Value::Array(
                element
                    .children
                    .iter()
                    .map(|item| self.members(shape, fields, item).map(Value::Object))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Struct { shape, fields }
                if shape == SUMMARY_MAP && self.protocol == Protocol::Query =>
            {
                let mut object = Map::new();
                for entry in &element.children {
                    let (Some(key), Some(value)) = (entry.child("key"), entry.child("value"))
                    else {
                        continue;
                    };
                    // AWS counts more than rolecall reads (users, groups…).
                    if let Some(field) = fields.iter().find(|f| f.name == key.text) {
                        object.insert(field.name.to_string(), Value::from(self.number(value)?));
                    }
                }
                Value::Object(object)
            }
            Kind::Struct { shape, fields } | Kind::Flatten { shape, fields } => {
                Value::Object(self.members(shape, fields, element)?)
            }
        })
    }

    fn number(&self, element: &Element) -> Result<u64, CloudError> {
        let text = element.text.trim();
        text.parse().map_err(|_| self.bad(element, text))
    }

    fn bad(&self, element: &Element, text: &str) -> CloudError {
        malformed(
            self.operation,
            format!(
                "the response's {} holds {text:?}, not a value of its type",
                element.name
            ),
        )
    }
}

fn malformed(operation: &Operation, message: String) -> CloudError {
    CloudError::new(
        operation.name,
        ErrorCode::Other(MALFORMED.to_string()),
        message,
    )
}

/// An error response that is not AWS's envelope (a proxy's page, a
/// truncated body): named by its status, as botocore names it, and
/// retryable where the SDKs retry the status alone.
fn unreadable_error(operation: &Operation, status: u16, body: &[u8]) -> CloudError {
    let start: String = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let error = CloudError::new(
        operation.name,
        ErrorCode::Other(status.to_string()),
        format!("HTTP {status} without an AWS error in its body: {start:?}"),
    );
    if matches!(status, 500 | 502 | 503 | 504) {
        error.retryable()
    } else {
        error
    }
}
