//! The codec against bytes AWS and botocore are known to send
//! (docs/aws-wire.md §1, botocore's serialisers), and its errors.

use rolecall_cloud::ec2::{
    DescribeInstancesRequest, DescribeInstancesResponse, Filter, IamInstanceProfileSpecification,
    RunInstancesRequest, TagSpecification,
};
use rolecall_cloud::iam::{PutRolePolicyRequest, Tag, TagRoleRequest, UntagRoleRequest};
use rolecall_cloud::{Call, CloudError, ErrorCode, Operation, Service, operations};
use rolecall_wire::{
    WireError, decode_request, decode_response, encode_error, encode_request, encode_response,
    parse_form,
};
use serde_json::json;

/// The GetRole response of docs/aws-wire.md §1, as shown there (indented).
const GET_ROLE_XML: &str = r#"<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetRoleResult><Role><Path>/</Path><RoleName>web</RoleName><RoleId>AROAQXAMPLE7Q2RZ4TBKD</RoleId>
    <Arn>arn:aws:iam::111122223333:role/web</Arn><CreateDate>2026-01-15T08:30:00Z</CreateDate>
    <AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D</AssumeRolePolicyDocument>
    <Tags><member><Key>team</Key><Value>web</Value></member></Tags></Role></GetRoleResult>
  <ResponseMetadata><RequestId>0c9e4a52-7d1b-4f0e-9a36-2b8f5d7e1c40</RequestId></ResponseMetadata>
</GetRoleResponse>"#;

const NO_SUCH_ENTITY_XML: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name web cannot be found.</Message></Error>
  <RequestId>5d2f7c1e-3b9a-4c6d-8e21-9f0a4b7c3d18</RequestId></ErrorResponse>"#;

const ASSOCIATION_NOT_FOUND_XML: &str = r#"<Response><Errors><Error><Code>InvalidAssociationID.NotFound</Code><Message>…</Message></Error></Errors>
  <RequestID>a41e9b07-6c2d-4f85-b3e0-7d19c5a2e6f4</RequestID></Response>"#;

/// The document without the indentation between its elements: what the
/// codec writes (AWS's own bodies differ only there).
fn compact(xml: &str) -> String {
    let mut out = String::new();
    let mut pending = String::new();
    for c in xml.chars() {
        if c.is_whitespace() && out.ends_with('>') {
            pending.push(c);
            continue;
        }
        if c != '<' {
            out.push_str(&pending);
        }
        pending.clear();
        out.push(c);
    }
    out
}

fn get_role_json() -> serde_json::Value {
    json!({"Role": {
        "Path": "/",
        "RoleName": "web",
        "RoleId": "AROAQXAMPLE7Q2RZ4TBKD",
        "Arn": "arn:aws:iam::111122223333:role/web",
        "CreateDate": "2026-01-15T08:30:00Z",
        "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
        "Tags": [{"Key": "team", "Value": "web"}],
    }})
}

#[test]
fn get_role_is_written_and_read_as_aws_sends_it() {
    let body = encode_response(
        &operations::GET_ROLE,
        &get_role_json(),
        "0c9e4a52-7d1b-4f0e-9a36-2b8f5d7e1c40",
    );
    assert_eq!(body, compact(GET_ROLE_XML));
    // The policy document stays URL-encoded, as received.
    let read = decode_response(&operations::GET_ROLE, 200, GET_ROLE_XML.as_bytes()).unwrap();
    assert_eq!(read, get_role_json());
}

#[test]
fn errors_are_written_and_read_in_each_envelope() {
    let no_such = CloudError::new(
        "GetRole",
        ErrorCode::NoSuchEntity,
        "The role with name web cannot be found.",
    );
    let (status, body) = encode_error(
        Service::Iam,
        &no_such,
        "5d2f7c1e-3b9a-4c6d-8e21-9f0a4b7c3d18",
    );
    assert_eq!((status, body), (404, compact(NO_SUCH_ENTITY_XML)));
    let read = decode_response(&operations::GET_ROLE, 404, NO_SUCH_ENTITY_XML.as_bytes());
    assert_eq!(read, Err(no_such));

    let not_found = CloudError::new(
        "DisassociateIamInstanceProfile",
        ErrorCode::InvalidAssociationIdNotFound,
        "…",
    );
    let (status, body) = encode_error(
        Service::Ec2,
        &not_found,
        "a41e9b07-6c2d-4f85-b3e0-7d19c5a2e6f4",
    );
    assert_eq!((status, body), (400, compact(ASSOCIATION_NOT_FOUND_XML)));
    let read = decode_response(
        &operations::DISASSOCIATE_IAM_INSTANCE_PROFILE,
        400,
        ASSOCIATION_NOT_FOUND_XML.as_bytes(),
    );
    assert_eq!(read, Err(not_found));

    let throttled = CloudError::new("ListRoles", ErrorCode::Throttling, "Rate exceeded");
    let read = decode_response(
        &operations::LIST_ROLES,
        400,
        encode_error(Service::Iam, &throttled, "r").1.as_bytes(),
    )
    .unwrap_err();
    assert!(read.retryable);
}

/// An EC2 answer as AWS writes it: a declaration, elements rolecall does not
/// read, an instance with no `tagSet` at all.
#[test]
fn an_ec2_response_with_more_than_rolecall_reads_is_read() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
    <reservationSet>
        <item>
            <reservationId>r-1234567890abcdef0</reservationId>
            <ownerId>123456789012</ownerId>
            <groupSet/>
            <instancesSet>
                <item>
                    <instanceId>i-1234567890abcdef0</instanceId>
                    <imageId>ami-bff32ccc</imageId>
                    <instanceState><code>16</code><name>running</name></instanceState>
                    <privateDnsName>ip-192-168-1-88.eu-west-1.compute.internal</privateDnsName>
                    <instanceType>t2.micro</instanceType>
                    <launchTime>2018-05-08T16:46:19.000Z</launchTime>
                    <iamInstanceProfile>
                        <arn>arn:aws:iam::123456789012:instance-profile/web</arn>
                        <id>AIPAJQOLKZBLSFLIXQZEO</id>
                    </iamInstanceProfile>
                </item>
            </instancesSet>
        </item>
    </reservationSet>
</DescribeInstancesResponse>"#;
    let json = decode_response(&operations::DESCRIBE_INSTANCES, 200, body.as_bytes()).unwrap();
    let read: DescribeInstancesResponse = serde_json::from_value(json).unwrap();
    let instance = &read.reservations[0].instances[0];
    assert_eq!(instance.instance_id, "i-1234567890abcdef0");
    assert_eq!(instance.state.code, 16);
    assert_eq!(instance.state.name, "running");
    assert!(instance.tags.is_empty());
    assert_eq!(
        instance.iam_instance_profile.as_ref().unwrap().id,
        "AIPAJQOLKZBLSFLIXQZEO"
    );
    assert_eq!(read.next_token, None);
}

fn decode(operation: &'static Operation, body: &str) -> Result<Call, CloudError> {
    decode_request(operation, &parse_form(body.as_bytes()).unwrap())
}

#[test]
fn botocore_style_bodies_decode_to_their_calls() {
    let tag_role = "Action=TagRole&Version=2010-05-08&RoleName=web&Tags.member.1.Key=team&Tags.member.1.Value=web";
    let call = Call::TagRole(TagRoleRequest {
        role_name: "web".into(),
        tags: vec![Tag::new("team", "web")],
    });
    assert_eq!(decode(&operations::TAG_ROLE, tag_role), Ok(call.clone()));
    assert_eq!(encode_request(&call), tag_role);

    let describe = "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&Filter.1.Name=tag%3AName&Filter.1.Value.1=web-1";
    let call = Call::DescribeInstances(Box::new(DescribeInstancesRequest {
        instance_ids: vec!["i-1".into()],
        filters: vec![Filter {
            name: "tag:Name".into(),
            values: vec!["web-1".into()],
        }],
        max_results: None,
        next_token: None,
    }));
    assert_eq!(
        decode(&operations::DESCRIBE_INSTANCES, describe),
        Ok(call.clone())
    );
    assert_eq!(encode_request(&call), describe);
    // Unknown parameters (DryRun) are ignored, as AWS ignores them.
    assert_eq!(
        decode(
            &operations::DESCRIBE_INSTANCES,
            &format!("{describe}&DryRun=false&Foo.1=x")
        ),
        Ok(call)
    );

    let run = "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&InstanceType=t3.micro&MinCount=1&MaxCount=2\
               &IamInstanceProfile.Name=web&TagSpecification.1.ResourceType=instance\
               &TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web-1";
    let call = Call::RunInstances(Box::new(RunInstancesRequest {
        image_id: Some("ami-1".into()),
        instance_type: Some("t3.micro".into()),
        min_count: 1,
        max_count: 2,
        iam_instance_profile: Some(IamInstanceProfileSpecification::by_name("web")),
        tag_specifications: vec![TagSpecification {
            resource_type: "instance".into(),
            tags: vec![Tag::new("Name", "web-1")],
        }],
    }));
    assert_eq!(decode(&operations::RUN_INSTANCES, run), Ok(call.clone()));
    assert_eq!(encode_request(&call), run);

    // Python's urlencode leaves `*` escaped; any escaping decodes alike.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let put = "Action=PutRolePolicy&Version=2010-05-08&RoleName=web&PolicyName=read\
               &PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22\
               %2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
    let call = Call::PutRolePolicy(PutRolePolicyRequest {
        role_name: "web".into(),
        policy_name: "read".into(),
        policy_document: policy.into(),
    });
    assert_eq!(decode(&operations::PUT_ROLE_POLICY, put), Ok(call.clone()));
    assert_eq!(encode_request(&call), put);
    let spaced = put.replace("%22%3A%22", "%22%3A+%22");
    assert_eq!(
        decode(&operations::PUT_ROLE_POLICY, &spaced),
        Ok(Call::PutRolePolicy(PutRolePolicyRequest {
            role_name: "web".into(),
            policy_name: "read".into(),
            policy_document: policy.replace("\":\"", "\": \"").into(),
        }))
    );

    // The query protocol's empty list, as botocore sends it.
    let untag = "Action=UntagRole&Version=2010-05-08&RoleName=web&TagKeys=";
    let call = Call::UntagRole(UntagRoleRequest {
        role_name: "web".into(),
        tag_keys: vec![],
    });
    assert_eq!(decode(&operations::UNTAG_ROLE, untag), Ok(call.clone()));
    assert_eq!(encode_request(&call), untag);
}

fn error(operation: &'static Operation, body: &str) -> (ErrorCode, String) {
    let error = decode(operation, body).unwrap_err();
    assert_eq!(error.operation, operation.name);
    (error.code, error.message)
}

#[test]
fn missing_and_malformed_members_are_the_services_errors() {
    assert_eq!(
        error(&operations::GET_ROLE, "Action=GetRole&Version=2010-05-08"),
        (
            ErrorCode::ValidationError,
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null".into()
        )
    );
    assert_eq!(
        error(
            &operations::TAG_ROLE,
            "RoleName=web&Tags.member.1.Value=web"
        )
        .1,
        "1 validation error detected: Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        error(&operations::TAG_ROLE, "RoleName=web"),
        (
            ErrorCode::ValidationError,
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null".into()
        )
    );
    assert_eq!(
        error(&operations::LIST_ROLES, "MaxItems=ten"),
        (
            ErrorCode::ValidationError,
            "1 validation error detected: Value 'ten' at 'maxItems' failed to satisfy constraint: Member must be a number".into()
        )
    );
    assert_eq!(
        error(&operations::LIST_ROLES, "MaxItems=-1").0,
        ErrorCode::ValidationError
    );
    // Past u32: the walk reads a number, the request's type refuses it.
    assert_eq!(
        error(&operations::LIST_ROLES, "MaxItems=99999999999").0,
        ErrorCode::ValidationError
    );

    assert_eq!(
        error(
            &operations::ASSOCIATE_IAM_INSTANCE_PROFILE,
            "Action=AssociateIamInstanceProfile&IamInstanceProfile.Name=web"
        ),
        (
            ErrorCode::MissingParameter,
            "The request must contain the parameter InstanceId".into()
        )
    );
    assert_eq!(
        error(&operations::RUN_INSTANCES, "MaxCount=1"),
        (
            ErrorCode::MissingParameter,
            "The request must contain the parameter MinCount".into()
        )
    );
    assert_eq!(
        error(&operations::TERMINATE_INSTANCES, "InstanceIds.1=i-1"),
        (
            ErrorCode::MissingParameter,
            "The request must contain the parameter InstanceId".into()
        )
    );
    let (code, message) = error(&operations::RUN_INSTANCES, "MinCount=1&MaxCount=lots");
    assert_eq!(code, ErrorCode::InvalidParameterValue);
    assert!(message.contains("MaxCount"), "{message}");
    assert_eq!(
        error(&operations::RUN_INSTANCES, "MinCount=1&MaxCount=4294967296").0,
        ErrorCode::InvalidParameterValue
    );
}

#[test]
fn malformed_forms_are_refused() {
    assert_eq!(
        parse_form(b"Action=GetRole&RoleName=%E"),
        Err(WireError::BadPercentEscape { pair: 2 })
    );
    assert_eq!(
        parse_form(b"Action=GetRole&RoleName=%FF%FE"),
        Err(WireError::InvalidUtf8 { pair: 2 })
    );
    assert_eq!(
        parse_form(b"Role%GGName=web"),
        Err(WireError::BadPercentEscape { pair: 1 })
    );
}

/// botocore parses UpdateRole's (empty) result element and fails without
/// it; an operation with no output shape (DeleteRole) has none, as IAM
/// answers.
#[test]
fn an_empty_output_shape_keeps_its_result_element() {
    let update = encode_response(&operations::UPDATE_ROLE, &json!({}), "r");
    assert!(
        update.contains("<UpdateRoleResult></UpdateRoleResult>"),
        "{update}"
    );
    assert_eq!(
        decode_response(&operations::UPDATE_ROLE, 200, update.as_bytes()),
        Ok(json!({}))
    );
    let delete = encode_response(&operations::DELETE_ROLE, &serde_json::Value::Null, "r");
    assert!(!delete.contains("Result"), "{delete}");
}
