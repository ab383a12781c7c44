//! EC2 request and response shapes for instances and instance-profile
//! associations, named and serialised as AWS names them.

use serde::{Deserialize, Serialize};

pub use super::iam::Tag;

shapes! {
    /// `IamInstanceProfile` in requests: by name or by ARN.
    IamInstanceProfileSpecification {
        #[serde(default, skip_serializing_if = "Option::is_none")] arn: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] name: Option<String>,
    }

    /// `IamInstanceProfile` in responses: EC2 always answers with ARN and id.
    IamInstanceProfile {
        arn: String,
        id: String,
    }

    // Every EC2 member is optional in botocore: those rolecall needs are
    // required here, the others default, so an answer that leaves one out
    // (moto's association has no Timestamp) still reports the call done.
    IamInstanceProfileAssociation {
        association_id: String,
        instance_id: String,
        iam_instance_profile: IamInstanceProfile,
        /// `associating`, `associated`, `disassociating` or `disassociated`.
        state: String,
        #[serde(default)] timestamp: String,
    }

    InstanceStateInfo {
        code: u16,
        name: String,
    }

    Instance {
        instance_id: String,
        #[serde(default)] image_id: String,
        #[serde(default)] instance_type: String,
        #[serde(default)] launch_time: String,
        state: InstanceStateInfo,
        #[serde(default, skip_serializing_if = "Option::is_none")] iam_instance_profile: Option<IamInstanceProfile>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }

    Reservation {
        reservation_id: String,
        #[serde(default)] owner_id: String,
        instances: Vec<Instance>,
    }

    TagSpecification {
        /// `instance` is the only type rolecall uses.
        resource_type: String,
        tags: Vec<Tag>,
    }

    /// A `Filter` of the Describe operations: a name and the values any of which match.
    Filter {
        name: String,
        values: Vec<String>,
    }

    /// A tag in DeleteTags: without a value, the key is removed whatever its value.
    TagKeyMaybeValue {
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] value: Option<String>,
    }

    InstanceStateChange {
        instance_id: String,
        current_state: InstanceStateInfo,
        previous_state: InstanceStateInfo,
    }
}

impl IamInstanceProfileSpecification {
    pub fn by_name(name: impl Into<String>) -> Self {
        IamInstanceProfileSpecification {
            arn: None,
            name: Some(name.into()),
        }
    }
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
    DeleteTagsRequest {
        resources: Vec<String>,
        // Optional on AWS (none: every tag goes); always written, as before.
        #[serde(default)] tags: Vec<TagKeyMaybeValue>,
    }
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

shapes! {
    AssociationResponse { iam_instance_profile_association: IamInstanceProfileAssociation }
}

pub type RunInstancesResponse = Reservation;
pub type TerminateInstancesRequest = InstanceIdsRequest;
pub type StopInstancesRequest = InstanceIdsRequest;
pub type StartInstancesRequest = InstanceIdsRequest;
pub type AssociateIamInstanceProfileResponse = AssociationResponse;
pub type DisassociateIamInstanceProfileResponse = AssociationResponse;
pub type ReplaceIamInstanceProfileAssociationResponse = AssociationResponse;
