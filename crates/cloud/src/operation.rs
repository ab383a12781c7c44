//! What rolecall knows about each API operation and each request shape, as
//! data: the descriptors the operation table (`with_operations!`) and the
//! `shapes!` macro generate, for code that works on every operation alike
//! (the emulator's faults, the `rolecall emulator` verbs, tests).

use std::fmt;

use super::ErrorCode;

/// The AWS service an operation belongs to: it decides the error codes of
/// throttling and internal failures, and (later) the wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// IAM, API version 2010-05-08 (query protocol).
    Iam,
    /// EC2, API version 2016-11-15 (EC2 query protocol).
    Ec2,
    /// STS, API version 2011-06-15 (query protocol, IAM's envelope).
    Sts,
}

impl Service {
    /// The code of an internal failure in this service (HTTP 500).
    pub fn failure_code(self) -> ErrorCode {
        match self {
            Service::Iam => ErrorCode::ServiceFailure,
            Service::Ec2 => ErrorCode::InternalError,
            // STS models no failure of its own: the query protocol's common one.
            Service::Sts => ErrorCode::InternalFailure,
        }
    }

    /// The wire protocol AWS serves this service with (botocore's
    /// `metadata.protocol`).
    pub fn protocol(self) -> Protocol {
        match self {
            Service::Iam | Service::Sts => Protocol::Query,
            Service::Ec2 => Protocol::Ec2,
        }
    }

    /// The API version every request names (`Version=`).
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Iam => "2010-05-08",
            Service::Ec2 => "2016-11-15",
            Service::Sts => "2011-06-15",
        }
    }

    /// The XML namespace of the service's responses. EC2's carries the
    /// trailing slash real EC2 sends, although botocore's model
    /// (`metadata.xmlNamespace`) leaves it out; parsers ignore it either way.
    pub fn xml_namespace(self) -> &'static str {
        match self {
            Service::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Service::Ec2 => "http://ec2.amazonaws.com/doc/2016-11-15/",
            Service::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
        }
    }

    /// The service in a SigV4 credential scope (`AKID/DATE/REGION/iam/aws4_request`):
    /// what a server routes on when one port serves every service.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Ec2 => "ec2",
            Service::Sts => "sts",
        }
    }

    /// The code this service throttles with.
    pub fn throttling_code(self) -> ErrorCode {
        match self {
            Service::Iam | Service::Sts => ErrorCode::Throttling,
            Service::Ec2 => ErrorCode::RequestLimitExceeded,
        }
    }
}

/// How a service's requests and responses are written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// AWS's query protocol (IAM, STS): form-encoded requests whose lists
    /// are `Name.member.N`; XML responses wrapped in `OpResult`.
    Query,
    /// EC2's variant: lists without `member`, names from the model's
    /// `queryName`/`locationName`, XML responses with no Result wrapper.
    Ec2,
}

/// Whether an operation changes the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Only reads (AWS names these Get…, List…, Describe…).
    Read,
    Write,
}

/// One API operation, as the operation table declares it.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// AWS's name, e.g. `CreateRole`.
    pub name: &'static str,
    /// The AWS CLI's name of the operation, e.g. `create-role`: the
    /// `rolecall emulator` verb.
    pub verb: &'static str,
    pub service: Service,
    pub access: Access,
    /// A lab operation (launching, stopping, starting, terminating
    /// instances): only a backend with a lab ([`super::Cloud::lab`]) runs it,
    /// never the reconciler's trait.
    pub lab: bool,
    /// What the operation does, in one line (the verb's help).
    pub about: &'static str,
    /// Example arguments of `rolecall emulator VERB`, without quotes (a test
    /// parses each one).
    pub example: &'static str,
    /// The request's parameters, as AWS names them.
    pub fields: &'static [Field],
    /// The name of the request's shape (rolecall's, which may differ from
    /// botocore's: operations with the same members share one struct), so
    /// a wire codec can look up per-shape facts such as EC2's member names.
    pub input_shape: &'static str,
    /// The response's members, as AWS names them; empty for an operation
    /// that returns nothing (`()`).
    pub output_fields: &'static [Field],
    /// The name of the response's shape; `""` for an operation that returns
    /// nothing (`()`), which differs on the wire from an empty shape
    /// (UpdateRole's): only a shape has a result element.
    pub output_shape: &'static str,
}

impl Operation {
    /// The operation AWS calls `name`, if rolecall has it.
    pub fn named(name: &str) -> Option<&'static Operation> {
        super::OPERATIONS.iter().find(|op| op.name == name)
    }

    /// The operation whose AWS CLI name is `verb`, if rolecall has it.
    pub fn with_verb(verb: &str) -> Option<&'static Operation> {
        super::OPERATIONS.iter().find(|op| op.verb == verb)
    }

    /// The request's parameters with flattened members in place (what is
    /// sent, e.g. `Marker` and `MaxItems` of a paged list).
    pub fn parameters(&self) -> Vec<&'static Field> {
        let mut out = Vec::new();
        flatten_into(self.fields, &mut out);
        out
    }
}

fn flatten_into(fields: &'static [Field], out: &mut Vec<&'static Field>) {
    for field in fields {
        match field.kind {
            Kind::Flatten { fields, .. } => flatten_into(fields, out),
            _ => out.push(field),
        }
    }
}

/// Operations are one per name.
impl PartialEq for Operation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Operation {}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// One member of a request or response shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// As AWS spells it (and serde writes it), e.g. `RoleName`.
    pub name: &'static str,
    pub kind: Kind,
    /// Whether a request without it is refused (before the operation runs).
    pub required: bool,
}

/// What a member holds, as far as code generic over shapes needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Bool,
    Int,
    StringList,
    /// A structure, named as the shape that declares it (`Tag`, `Filter`,
    /// `IamInstanceProfileSpecification`...).
    Struct {
        shape: &'static str,
        fields: &'static [Field],
    },
    /// A list of structures (`Tags` is a list of `Tag`).
    StructList {
        shape: &'static str,
        fields: &'static [Field],
    },
    /// Members of another shape written in place (`#[serde(flatten)]`), as
    /// the paging members `Marker` and `MaxItems` of the List operations.
    Flatten {
        shape: &'static str,
        fields: &'static [Field],
    },
}

impl Kind {
    /// The kind of a list of this kind; a compile error (this is evaluated
    /// in constants) for a list rolecall's shapes have no use for.
    pub const fn list(self) -> Kind {
        match self {
            Kind::String => Kind::StringList,
            Kind::Struct { shape, fields } => Kind::StructList { shape, fields },
            _ => panic!("shapes hold lists of strings and of structures only"),
        }
    }
}

/// A structure declared with `shapes!`: its AWS name and members.
pub trait Shape {
    const NAME: &'static str;
    const FIELDS: &'static [Field];
}

/// An operation that returns nothing has the empty response: no members,
/// no name, so the table can record every operation's output alike.
impl Shape for () {
    const NAME: &'static str = "";
    const FIELDS: &'static [Field] = &[];
}

/// The [`Kind`] of a member's Rust type, so `shapes!` can record it.
pub trait FieldType {
    const KIND: Kind;
    /// `false` for `Option`: absent is a value.
    const REQUIRED: bool = true;
}

impl FieldType for String {
    const KIND: Kind = Kind::String;
}

impl FieldType for std::sync::Arc<str> {
    const KIND: Kind = Kind::String;
}

impl FieldType for bool {
    const KIND: Kind = Kind::Bool;
}

impl FieldType for u16 {
    const KIND: Kind = Kind::Int;
}

impl FieldType for u32 {
    const KIND: Kind = Kind::Int;
}

impl<T: FieldType> FieldType for Option<T> {
    const KIND: Kind = T::KIND;
    const REQUIRED: bool = false;
}

impl<T: FieldType> FieldType for Vec<T> {
    const KIND: Kind = T::KIND.list();
}

impl<T: Shape> FieldType for T {
    const KIND: Kind = Kind::Struct {
        shape: T::NAME,
        fields: T::FIELDS,
    };
}

/// How [`case_len`] and [`to_case`] rewrite a name.
#[derive(Clone, Copy)]
pub enum Case {
    /// `role_name` -> `RoleName` (serde's `rename_all = "PascalCase"`).
    Pascal,
    /// `CreateRole` -> `create-role` (the AWS CLI's operation names).
    Kebab,
}

/// The length of `name` in `case` (names are ASCII).
pub const fn case_len(name: &str, case: Case) -> usize {
    let bytes = name.as_bytes();
    let mut len = 0;
    let mut i = 0;
    while i < bytes.len() {
        len += match case {
            Case::Pascal if bytes[i] == b'_' => 0,
            Case::Kebab if i > 0 && bytes[i].is_ascii_uppercase() => 2,
            _ => 1,
        };
        i += 1;
    }
    len
}

/// `name` in `case`, as bytes; `N` must be [`case_len`] of it. Evaluated at
/// compile time (`const_case!`), so every name is a `&'static str`.
pub const fn to_case<const N: usize>(name: &str, case: Case) -> [u8; N] {
    let bytes = name.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    let mut o = 0;
    let mut upper_next = true;
    while i < bytes.len() {
        let b = bytes[i];
        match case {
            Case::Pascal => {
                if b == b'_' {
                    upper_next = true;
                } else {
                    out[o] = if upper_next {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    };
                    upper_next = false;
                    o += 1;
                }
            }
            Case::Kebab => {
                if i > 0 && b.is_ascii_uppercase() {
                    out[o] = b'-';
                    o += 1;
                }
                out[o] = b.to_ascii_lowercase();
                o += 1;
            }
        }
        i += 1;
    }
    out
}

/// `name` (a constant expression) rewritten in `case`, as a `&'static str`
/// computed at compile time.
macro_rules! const_case {
    ($case:ident, $name:expr) => {{
        const NAME: &str = $name;
        const BYTES: [u8; $crate::operation::case_len(NAME, $crate::operation::Case::$case)] =
            $crate::operation::to_case(NAME, $crate::operation::Case::$case);
        match ::core::str::from_utf8(&BYTES) {
            Ok(text) => text,
            Err(_) => panic!("names are ASCII"),
        }
    }};
}
pub(crate) use const_case;

/// One member's [`Field`], from its serde attributes and Rust type: a member
/// with `#[serde(default...)]` or of an `Option` type may be absent, a
/// `#[serde(flatten)]` one stands for its shape's members.
macro_rules! shape_field {
    (@kind [] $ty:ty) => {
        <$ty as $crate::operation::FieldType>::KIND
    };
    (@kind [#[serde(flatten)] $($rest:tt)*] $ty:ty) => {
        $crate::operation::Kind::Flatten {
            shape: <$ty as $crate::operation::Shape>::NAME,
            fields: <$ty as $crate::operation::Shape>::FIELDS,
        }
    };
    (@kind [#[$($attr:tt)*] $($rest:tt)*] $ty:ty) => {
        $crate::operation::shape_field!(@kind [$($rest)*] $ty)
    };
    (@required []) => { true };
    (@required [#[serde(default $($args:tt)*)] $($rest:tt)*]) => { false };
    (@required [#[serde(flatten)] $($rest:tt)*]) => { false };
    (@required [#[$($attr:tt)*] $($rest:tt)*]) => {
        $crate::operation::shape_field!(@required [$($rest)*])
    };
    ($attrs:tt $field:ident : $ty:ty) => {
        $crate::operation::Field {
            name: $crate::operation::const_case!(Pascal, stringify!($field)),
            kind: $crate::operation::shape_field!(@kind $attrs $ty),
            required: $crate::operation::shape_field!(@required $attrs)
                && <$ty as $crate::operation::FieldType>::REQUIRED,
        }
    };
}
pub(crate) use shape_field;

#[cfg(test)]
mod tests {
    use crate::{Kind, OPERATIONS, Protocol, Service, operations};

    #[test]
    fn the_table_records_outputs_and_operations_without_one_have_none() {
        let get_role = &operations::GET_ROLE;
        assert_eq!(get_role.output_shape, "RoleResponse");
        assert_eq!(get_role.output_fields.len(), 1);
        assert_eq!(get_role.output_fields[0].name, "Role");
        assert!(matches!(
            get_role.output_fields[0].kind,
            Kind::Struct { shape: "Role", .. }
        ));
        assert_eq!(operations::DELETE_ROLE.output_shape, "");
        assert!(operations::DELETE_ROLE.output_fields.is_empty());
        assert_eq!(
            operations::DESCRIBE_INSTANCES.input_shape,
            "DescribeInstancesRequest"
        );
        assert!(OPERATIONS.iter().any(|op| op.output_fields.is_empty()));
        // An empty output shape is not no output.
        assert_eq!(operations::UPDATE_ROLE.output_shape, "UpdateRoleResponse");
        assert!(operations::UPDATE_ROLE.output_fields.is_empty());
    }

    #[test]
    fn services_name_their_protocol_version_and_namespace() {
        assert_eq!(Service::Ec2.protocol(), Protocol::Ec2);
        assert_eq!(Service::Sts.protocol(), Protocol::Query);
        assert_eq!(Service::Iam.api_version(), "2010-05-08");
        assert_eq!(Service::Sts.signing_name(), "sts");
        assert!(Service::Ec2.xml_namespace().contains("2016-11-15"));
    }

    #[test]
    fn names_are_rewritten_as_serde_and_the_aws_cli_write_them() {
        assert_eq!(const_case!(Pascal, "role_name"), "RoleName");
        assert_eq!(const_case!(Pascal, "instance_ids"), "InstanceIds");
        assert_eq!(
            const_case!(Kebab, "DescribeIamInstanceProfileAssociations"),
            "describe-iam-instance-profile-associations"
        );
    }
}
