//! Arbitrary text survives the wire: form escaping on the way in, XML
//! escaping on the way out.

use proptest::prelude::*;
use rolecall_cloud::ec2::{DescribeInstancesRequest, Filter};
use rolecall_cloud::iam::{Role, RoleResponse, Tag, TagRoleRequest};
use rolecall_cloud::{Call, operations};
use rolecall_wire::{decode_request, decode_response, encode_request, encode_response, parse_form};

/// Pieces that trip escapers, mixed with any character.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<char>().prop_map(String::from),
        1 => prop::sample::select(vec!["&", "=", "+", "%", "%2", "%zz", "<", "]]>", "&amp;", " ", "\r\n", "\r", "é", "😀"])
            .prop_map(String::from),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..12).prop_map(|pieces| pieces.concat())
}

/// Text XML 1.0 can carry: most C0 controls cannot be written in a
/// document at all, even as references, and no AWS name or tag allows them.
fn xml_text() -> impl Strategy<Value = String> {
    text().prop_map(|t| {
        t.chars()
            .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
            .collect()
    })
}

fn through_form(call: &Call) -> Call {
    let body = encode_request(call);
    let params = parse_form(body.as_bytes()).unwrap();
    decode_request(call.descriptor(), &params).unwrap()
}

proptest! {
    #[test]
    fn any_text_survives_a_request(
        name in text(),
        tags in prop::collection::vec((text(), text()), 0..4),
        values in prop::collection::vec(text(), 1..4),
    ) {
        let tag_role = Call::TagRole(TagRoleRequest {
            role_name: name.clone(),
            tags: tags.iter().map(|(k, v)| Tag::new(k.clone(), v.clone())).collect(),
        });
        prop_assert_eq!(through_form(&tag_role), tag_role);
        let describe = Call::DescribeInstances(Box::new(DescribeInstancesRequest {
            instance_ids: vec![name.clone()],
            filters: vec![Filter { name, values }],
            max_results: Some(5),
            next_token: None,
        }));
        prop_assert_eq!(through_form(&describe), describe);
    }

    #[test]
    fn any_text_survives_a_response(
        name in xml_text(),
        document in xml_text(),
        description in proptest::option::of(xml_text()),
        tags in prop::collection::vec((xml_text(), xml_text()), 0..4),
    ) {
        let output = RoleResponse {
            role: Role {
                path: "/".into(),
                role_name: name,
                role_id: "AROA".into(),
                arn: "arn:aws:iam::111122223333:role/x".into(),
                create_date: "2026-01-15T08:30:00Z".into(),
                assume_role_policy_document: document,
                description,
                max_session_duration: 3600,
                permissions_boundary: None,
                tags: tags.into_iter().map(|(k, v)| Tag::new(k, v)).collect(),
            },
        };
        let json = serde_json::to_value(&output).unwrap();
        let body = encode_response(&operations::GET_ROLE, &json, "req");
        let read = decode_response(&operations::GET_ROLE, 200, body.as_bytes()).unwrap();
        prop_assert_eq!(&read, &json);
        let back: RoleResponse = serde_json::from_value(read).unwrap();
        prop_assert_eq!(back, output);
    }
}
