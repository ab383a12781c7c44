//! EC2 request and response shapes for instances and instance-profile
//! associations, named and serialised as AWS names them.

use serde::{Deserialize, Serialize};

pub use super::iam::Tag;

/// `IamInstanceProfile` in requests: by name or by ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfileSpecification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl IamInstanceProfileSpecification {
    pub fn by_name(name: impl Into<String>) -> Self {
        IamInstanceProfileSpecification {
            arn: None,
            name: Some(name.into()),
        }
    }
}

/// `IamInstanceProfile` in responses: EC2 always answers with ARN and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfile {
    pub arn: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfileAssociation {
    pub association_id: String,
    pub instance_id: String,
    pub iam_instance_profile: IamInstanceProfile,
    /// `associating`, `associated`, `disassociating` or `disassociated`.
    pub state: String,
    pub timestamp: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceStateInfo {
    pub code: u16,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub launch_time: String,
    pub state: InstanceStateInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_instance_profile: Option<IamInstanceProfile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reservation {
    pub reservation_id: String,
    pub owner_id: String,
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagSpecification {
    /// `instance` is the only type rolecall uses.
    pub resource_type: String,
    pub tags: Vec<Tag>,
}

/// A `Filter` of the Describe operations: a name and the values any of which match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// A tag in DeleteTags: without a value, the key is removed whatever its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagKeyMaybeValue {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceStateChange {
    pub instance_id: String,
    pub current_state: InstanceStateInfo,
    pub previous_state: InstanceStateInfo,
}

shapes! {
    RunInstancesRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")] image_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] instance_type: Option<String>,
        min_count: u32,
        max_count: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")] iam_instance_profile: Option<IamInstanceProfileSpecification>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tag_specifications: Vec<TagSpecification>,
    }
    InstanceIdsRequest { instance_ids: Vec<String> }
    TerminateInstancesResponse { terminating_instances: Vec<InstanceStateChange> }
    StopInstancesResponse { stopping_instances: Vec<InstanceStateChange> }
    StartInstancesResponse { starting_instances: Vec<InstanceStateChange> }
    DescribeInstancesRequest {
        #[serde(default, skip_serializing_if = "Vec::is_empty")] instance_ids: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] filters: Vec<Filter>,
        #[serde(default, skip_serializing_if = "Option::is_none")] max_results: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] next_token: Option<String>,
    }
    DescribeInstancesResponse {
        reservations: Vec<Reservation>,
        #[serde(default, skip_serializing_if = "Option::is_none")] next_token: Option<String>,
    }
    CreateTagsRequest { resources: Vec<String>, tags: Vec<Tag> }
    DeleteTagsRequest { resources: Vec<String>, tags: Vec<TagKeyMaybeValue> }
    AssociateIamInstanceProfileRequest {
        iam_instance_profile: IamInstanceProfileSpecification,
        instance_id: String,
    }
    DisassociateIamInstanceProfileRequest { association_id: String }
    ReplaceIamInstanceProfileAssociationRequest {
        iam_instance_profile: IamInstanceProfileSpecification,
        association_id: String,
    }
    DescribeIamInstanceProfileAssociationsRequest {
        #[serde(default, skip_serializing_if = "Vec::is_empty")] association_ids: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] filters: Vec<Filter>,
        #[serde(default, skip_serializing_if = "Option::is_none")] max_results: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] next_token: Option<String>,
    }
    DescribeIamInstanceProfileAssociationsResponse {
        iam_instance_profile_associations: Vec<IamInstanceProfileAssociation>,
        #[serde(default, skip_serializing_if = "Option::is_none")] next_token: Option<String>,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssociationResponse {
    pub iam_instance_profile_association: IamInstanceProfileAssociation,
}

pub type RunInstancesResponse = Reservation;
pub type TerminateInstancesRequest = InstanceIdsRequest;
pub type StopInstancesRequest = InstanceIdsRequest;
pub type StartInstancesRequest = InstanceIdsRequest;
pub type AssociateIamInstanceProfileResponse = AssociationResponse;
pub type DisassociateIamInstanceProfileResponse = AssociationResponse;
pub type ReplaceIamInstanceProfileAssociationResponse = AssociationResponse;
