//! Lab instances launched outside rolecall, as someone would by hand.

use rolecall::cloud::Cloud;
use rolecall::cloud::ec2::{RunInstancesRequest, TagSpecification};
use rolecall::cloud::iam::Tag;

/// Launches one instance carrying this Name tag; its id.
pub fn launch_named(cloud: &dyn Cloud, name: &str) -> String {
    let request = RunInstancesRequest {
        min_count: 1,
        max_count: 1,
        tag_specifications: vec![TagSpecification {
            resource_type: "instance".into(),
            tags: vec![Tag::new("Name", name)],
        }],
        ..RunInstancesRequest::default()
    };
    cloud.run_instances(&request).unwrap().instances[0]
        .instance_id
        .clone()
}
