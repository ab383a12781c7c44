//! EC2's wire names of the members of rolecall's EC2 shapes.
//!
//! The EC2 protocol does not send members under their names: a request
//! parameter is named by the member's `queryName`, else its `locationName`
//! with the first letter capitalised, else the member name
//! (botocore `serialize.py`, `EC2Serializer._get_serialized_name`); a response
//! element is named by the member's `locationName`, else the member name
//! (`parsers.py`, `EC2QueryParser`). Those names are facts of AWS's model,
//! not derivable from the member names (`InstanceIds` is sent as
//! `InstanceId.N` and read back from `instancesSet`), so they are written
//! down here, once.
//!
//! Read from botocore's `botocore/data/ec2/2016-11-15/service-2.json`
//! (botocore 1.43.67; the same members as in 1.44.x), for every member of
//! every shape rolecall's EC2 operations send or receive. Shapes are named
//! as rolecall names them (`crates/cloud/src/ec2.rs`); where botocore's name
//! differs, the comment gives it. None of these members has a `queryName`.
//! A member whose names are both its own (no `locationName` in the model)
//! has no entry.

/// One member's names on the EC2 wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ec2Name {
    /// rolecall's shape (`Shape::NAME`).
    pub shape: &'static str,
    /// The member, as rolecall and botocore name it.
    pub member: &'static str,
    /// The request parameter's name (`InstanceId` in `InstanceId.1=`).
    pub query: &'static str,
    /// The response element's name (`instancesSet`).
    pub location: &'static str,
}

const fn name(
    shape: &'static str,
    member: &'static str,
    query: &'static str,
    location: &'static str,
) -> Ec2Name {
    Ec2Name {
        shape,
        member,
        query,
        location,
    }
}

/// Every EC2 member whose wire name is not its own.
pub const EC2_NAMES: &[Ec2Name] = &[
    // RunInstancesRequest (ImageId, InstanceType, MinCount, MaxCount: no locationName)
    name(
        "RunInstancesRequest",
        "IamInstanceProfile",
        "IamInstanceProfile",
        "iamInstanceProfile",
    ),
    name(
        "RunInstancesRequest",
        "TagSpecifications",
        "TagSpecification",
        "TagSpecification",
    ),
    name("IamInstanceProfileSpecification", "Arn", "Arn", "arn"),
    name("IamInstanceProfileSpecification", "Name", "Name", "name"),
    name(
        "TagSpecification",
        "ResourceType",
        "ResourceType",
        "resourceType",
    ),
    name("TagSpecification", "Tags", "Tag", "Tag"),
    name("Tag", "Key", "Key", "key"),
    name("Tag", "Value", "Value", "value"),
    // botocore: Tag (DeleteTags's TagList), where Value may be absent.
    name("TagKeyMaybeValue", "Key", "Key", "key"),
    name("TagKeyMaybeValue", "Value", "Value", "value"),
    // botocore: Terminate-, Stop- and StartInstancesRequest, alike here.
    name(
        "InstanceIdsRequest",
        "InstanceIds",
        "InstanceId",
        "InstanceId",
    ),
    // botocore: TerminateInstancesResult, StopInstancesResult, StartInstancesResult.
    name(
        "TerminateInstancesResponse",
        "TerminatingInstances",
        "InstancesSet",
        "instancesSet",
    ),
    name(
        "StopInstancesResponse",
        "StoppingInstances",
        "InstancesSet",
        "instancesSet",
    ),
    name(
        "StartInstancesResponse",
        "StartingInstances",
        "InstancesSet",
        "instancesSet",
    ),
    name(
        "InstanceStateChange",
        "InstanceId",
        "InstanceId",
        "instanceId",
    ),
    name(
        "InstanceStateChange",
        "CurrentState",
        "CurrentState",
        "currentState",
    ),
    name(
        "InstanceStateChange",
        "PreviousState",
        "PreviousState",
        "previousState",
    ),
    // botocore: InstanceState.
    name("InstanceStateInfo", "Code", "Code", "code"),
    name("InstanceStateInfo", "Name", "Name", "name"),
    name(
        "DescribeInstancesRequest",
        "InstanceIds",
        "InstanceId",
        "InstanceId",
    ),
    name("DescribeInstancesRequest", "Filters", "Filter", "Filter"),
    name(
        "DescribeInstancesRequest",
        "MaxResults",
        "MaxResults",
        "maxResults",
    ),
    name(
        "DescribeInstancesRequest",
        "NextToken",
        "NextToken",
        "nextToken",
    ),
    // botocore: DescribeInstancesResult.
    name(
        "DescribeInstancesResponse",
        "Reservations",
        "ReservationSet",
        "reservationSet",
    ),
    name(
        "DescribeInstancesResponse",
        "NextToken",
        "NextToken",
        "nextToken",
    ),
    // Filter: Name has no locationName; the values are sent as Value.N.
    name("Filter", "Values", "Value", "Value"),
    name(
        "Reservation",
        "ReservationId",
        "ReservationId",
        "reservationId",
    ),
    name("Reservation", "OwnerId", "OwnerId", "ownerId"),
    name("Reservation", "Instances", "InstancesSet", "instancesSet"),
    name("Instance", "InstanceId", "InstanceId", "instanceId"),
    name("Instance", "ImageId", "ImageId", "imageId"),
    name("Instance", "InstanceType", "InstanceType", "instanceType"),
    name("Instance", "LaunchTime", "LaunchTime", "launchTime"),
    name("Instance", "State", "InstanceState", "instanceState"),
    name(
        "Instance",
        "IamInstanceProfile",
        "IamInstanceProfile",
        "iamInstanceProfile",
    ),
    name("Instance", "Tags", "TagSet", "tagSet"),
    name("IamInstanceProfile", "Arn", "Arn", "arn"),
    name("IamInstanceProfile", "Id", "Id", "id"),
    name("CreateTagsRequest", "Resources", "ResourceId", "ResourceId"),
    name("CreateTagsRequest", "Tags", "Tag", "Tag"),
    // DeleteTags spells its locationNames in lower case, CreateTags does not;
    // the capitalised query names are the same.
    name("DeleteTagsRequest", "Resources", "ResourceId", "resourceId"),
    name("DeleteTagsRequest", "Tags", "Tag", "tag"),
    // AssociateIamInstanceProfileRequest, DisassociateIamInstanceProfileRequest,
    // ReplaceIamInstanceProfileAssociationRequest: no locationName.
    // botocore: Associate-, Disassociate-, ReplaceIamInstanceProfileAssociationResult.
    name(
        "AssociationResponse",
        "IamInstanceProfileAssociation",
        "IamInstanceProfileAssociation",
        "iamInstanceProfileAssociation",
    ),
    name(
        "IamInstanceProfileAssociation",
        "AssociationId",
        "AssociationId",
        "associationId",
    ),
    name(
        "IamInstanceProfileAssociation",
        "InstanceId",
        "InstanceId",
        "instanceId",
    ),
    name(
        "IamInstanceProfileAssociation",
        "IamInstanceProfile",
        "IamInstanceProfile",
        "iamInstanceProfile",
    ),
    name("IamInstanceProfileAssociation", "State", "State", "state"),
    name(
        "IamInstanceProfileAssociation",
        "Timestamp",
        "Timestamp",
        "timestamp",
    ),
    // MaxResults and NextToken of this request have no locationName, unlike
    // DescribeInstancesRequest's.
    name(
        "DescribeIamInstanceProfileAssociationsRequest",
        "AssociationIds",
        "AssociationId",
        "AssociationId",
    ),
    name(
        "DescribeIamInstanceProfileAssociationsRequest",
        "Filters",
        "Filter",
        "Filter",
    ),
    // botocore: DescribeIamInstanceProfileAssociationsResult.
    name(
        "DescribeIamInstanceProfileAssociationsResponse",
        "IamInstanceProfileAssociations",
        "IamInstanceProfileAssociationSet",
        "iamInstanceProfileAssociationSet",
    ),
    name(
        "DescribeIamInstanceProfileAssociationsResponse",
        "NextToken",
        "NextToken",
        "nextToken",
    ),
];

fn lookup(shape: &str, member: &str) -> Option<&'static Ec2Name> {
    EC2_NAMES
        .iter()
        .find(|entry| entry.shape == shape && entry.member == member)
}

/// The name of a request parameter for `member` of `shape`.
pub fn query_name(shape: &str, member: &'static str) -> &'static str {
    lookup(shape, member).map_or(member, |entry| entry.query)
}

/// The name of a response element for `member` of `shape`.
pub fn location_name(shape: &str, member: &'static str) -> &'static str {
    lookup(shape, member).map_or(member, |entry| entry.location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_cloud::{Field, Kind, OPERATIONS, Service};

    /// No query name here comes from a `queryName`: each is the location
    /// name capitalised, as botocore derives it.
    #[test]
    fn query_names_are_location_names_capitalised() {
        for entry in EC2_NAMES {
            let mut chars = entry.location.chars();
            let capitalised: String = chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect();
            assert_eq!(entry.query, capitalised, "{entry:?}");
        }
    }

    fn shapes(
        shape: &'static str,
        fields: &'static [Field],
        out: &mut Vec<(&'static str, &'static str)>,
    ) {
        for field in fields {
            out.push((shape, field.name));
            match field.kind {
                Kind::Struct { shape, fields }
                | Kind::StructList { shape, fields }
                | Kind::Flatten { shape, fields } => shapes(shape, fields, out),
                _ => {}
            }
        }
    }

    /// Every entry names a member rolecall has (a renamed member would leave
    /// its entry behind, and send the default name), and every member of an
    /// EC2 response has one: the model gives each a lower-camel
    /// `locationName`, so a new member without an entry would be read from
    /// the wrong element.
    #[test]
    fn the_table_matches_the_shapes() {
        let mut requests = Vec::new();
        let mut responses = Vec::new();
        for op in OPERATIONS.iter().filter(|op| op.service == Service::Ec2) {
            shapes(op.input_shape, op.fields, &mut requests);
            shapes(op.output_shape, op.output_fields, &mut responses);
        }
        for entry in EC2_NAMES {
            assert!(
                requests.contains(&(entry.shape, entry.member))
                    || responses.contains(&(entry.shape, entry.member)),
                "{entry:?} names no member of an EC2 shape"
            );
        }
        for (shape, member) in responses {
            assert!(
                lookup(shape, member).is_some(),
                "{shape}.{member} has no EC2 name"
            );
        }
    }
}
