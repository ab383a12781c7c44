"""Every operation of the operation table through boto3, in the order a user
would call them, checking the shapes and values of the answers.

The operations called are recorded, and the test fails unless every
operation that `rolecall emulator --help` lists was called: a new
operation in the table needs its line here.
"""

import datetime
import json
import re

import rc
from rc import ACCOUNT_ID, POLICY, TRUST_ACCOUNT, TRUST_EC2, eq

called = set()


def recording(service):
    c = rc.client(service)
    c.meta.events.register("before-call", lambda model, **_: called.add(model.name))
    return c


def table_operations():
    """The operation names of the table, as the emulator's help lists them."""
    text = rc.rolecall("emulator", "--help").stdout
    names = set(re.findall(r"\(([A-Z][A-Za-z0-9]+)\)\s*$", text, re.MULTILINE))
    assert "CreateRole" in names and "GetCallerIdentity" in names, text
    return names


def tags(items):
    return {t["Key"]: t["Value"] for t in items}


def roles_(iam, op, **kwargs):
    """Every item of a paginated IAM list, pages of one item."""
    paginator = iam.get_paginator(op)
    items = []
    pages = 0
    for page in paginator.paginate(**kwargs, PaginationConfig={"PageSize": 1}):
        pages += 1
        key = {"list_roles": "Roles", "list_instance_profiles": "InstanceProfiles"}[op]
        items.extend(page[key])
    return items, pages


def test_every_operation():
    iam, ec2, sts = recording("iam"), recording("ec2"), recording("sts")

    # -- who am I
    me = sts.get_caller_identity()
    eq(me["Account"], ACCOUNT_ID, "GetCallerIdentity Account")
    eq(me["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:root", "GetCallerIdentity Arn")
    eq(me["UserId"], ACCOUNT_ID, "GetCallerIdentity UserId")

    # -- a role, created then read back
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    created = iam.create_role(
        RoleName="web",
        Path="/apps/",
        AssumeRolePolicyDocument=json.dumps(TRUST_EC2),
        Description="Serves the web tier",
        MaxSessionDuration=7200,
        PermissionsBoundary=boundary,
        Tags=[{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "prod"}],
    )["Role"]
    eq(created["RoleName"], "web", "CreateRole RoleName")
    eq(created["Path"], "/apps/", "CreateRole Path")
    eq(created["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:role/apps/web", "CreateRole Arn")
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", created["RoleId"]), created["RoleId"]
    assert isinstance(created["CreateDate"], datetime.datetime), created["CreateDate"]
    eq(created["AssumeRolePolicyDocument"], TRUST_EC2, "CreateRole trust policy (decoded)")
    eq(tags(created["Tags"]), {"team": "web", "env": "prod"}, "CreateRole Tags")

    role = iam.get_role(RoleName="web")["Role"]
    for field in ("RoleName", "Path", "Arn", "RoleId", "CreateDate"):
        eq(role[field], created[field], f"GetRole {field}")
    eq(role["AssumeRolePolicyDocument"], TRUST_EC2, "GetRole trust policy (decoded)")
    eq(role["Description"], "Serves the web tier", "GetRole Description")
    eq(role["MaxSessionDuration"], 7200, "GetRole MaxSessionDuration")
    eq(
        role["PermissionsBoundary"],
        {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary},
        "GetRole PermissionsBoundary",
    )
    eq(tags(role["Tags"]), {"team": "web", "env": "prod"}, "GetRole Tags")
    eq(iam.get_role(RoleName="WEB")["Role"]["RoleName"], "web", "GetRole ignoring case")

    iam.update_role(RoleName="web", Description="web tier", MaxSessionDuration=3600)
    role = iam.get_role(RoleName="web")["Role"]
    eq((role["Description"], role["MaxSessionDuration"]), ("web tier", 3600), "after UpdateRole")

    both = {
        "Version": "2012-10-17",
        "Statement": TRUST_EC2["Statement"] + TRUST_ACCOUNT["Statement"],
    }
    iam.update_assume_role_policy(RoleName="web", PolicyDocument=json.dumps(both))
    eq(iam.get_role(RoleName="web")["Role"]["AssumeRolePolicyDocument"], both, "after UpdateAssumeRolePolicy")

    iam.delete_role_permissions_boundary(RoleName="web")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="web")["Role"], "boundary still set"
    iam.put_role_permissions_boundary(RoleName="web", PermissionsBoundary=boundary)
    eq(
        iam.get_role(RoleName="web")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"],
        boundary,
        "after PutRolePermissionsBoundary",
    )

    # -- managed policies
    s3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    ssm = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    iam.attach_role_policy(RoleName="web", PolicyArn=s3)
    iam.attach_role_policy(RoleName="web", PolicyArn=ssm)
    attached = iam.list_attached_role_policies(RoleName="web")
    eq(
        sorted((p["PolicyName"], p["PolicyArn"]) for p in attached["AttachedPolicies"]),
        [("AmazonS3ReadOnlyAccess", s3), ("AmazonSSMManagedInstanceCore", ssm)],
        "ListAttachedRolePolicies",
    )
    eq(attached["IsTruncated"], False, "ListAttachedRolePolicies IsTruncated")
    iam.detach_role_policy(RoleName="web", PolicyArn=s3)
    eq(
        [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="web")["AttachedPolicies"]],
        [ssm],
        "after DetachRolePolicy",
    )

    # -- inline policies: sent as JSON text, read back decoded to a dict
    iam.put_role_policy(RoleName="web", PolicyName="read-assets", PolicyDocument=json.dumps(POLICY))
    iam.put_role_policy(RoleName="web", PolicyName="spare", PolicyDocument=json.dumps(POLICY))
    inline = iam.get_role_policy(RoleName="web", PolicyName="read-assets")
    eq(inline["RoleName"], "web", "GetRolePolicy RoleName")
    eq(inline["PolicyName"], "read-assets", "GetRolePolicy PolicyName")
    eq(inline["PolicyDocument"], POLICY, "GetRolePolicy PolicyDocument (decoded)")
    eq(iam.list_role_policies(RoleName="web")["PolicyNames"], ["read-assets", "spare"], "ListRolePolicies")
    iam.delete_role_policy(RoleName="web", PolicyName="spare")
    eq(iam.list_role_policies(RoleName="web")["PolicyNames"], ["read-assets"], "after DeleteRolePolicy")

    # -- tags
    iam.tag_role(RoleName="web", Tags=[{"Key": "owner", "Value": "platform"}, {"Key": "TEAM", "Value": "web2"}])
    iam.untag_role(RoleName="web", TagKeys=["env"])
    listed = iam.list_role_tags(RoleName="web")
    eq(tags(listed["Tags"]), {"TEAM": "web2", "owner": "platform"}, "ListRoleTags (keys ignore case)")
    eq(listed["IsTruncated"], False, "ListRoleTags IsTruncated")

    # -- more roles, listed a page at a time
    for name in ("api", "batch"):
        iam.create_role(RoleName=name, Path="/apps/", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    first = iam.list_roles(PathPrefix="/apps/", MaxItems=1)
    eq(len(first["Roles"]), 1, "ListRoles MaxItems=1")
    assert first["IsTruncated"] and first.get("Marker"), f"ListRoles page not truncated: {first}"
    listed, pages = roles_(iam, "list_roles", PathPrefix="/apps/")
    eq(sorted(r["RoleName"] for r in listed), ["api", "batch", "web"], "ListRoles /apps/")
    eq(pages, 3, "ListRoles pages of one")
    everything = iam.list_roles()["Roles"]
    eq(sorted(r["RoleName"] for r in everything), ["api", "batch", "deployer", "web"], "ListRoles")
    eq(
        next(r for r in everything if r["RoleName"] == "deployer")["AssumeRolePolicyDocument"],
        TRUST_ACCOUNT,
        "ListRoles trust policy (decoded)",
    )

    # -- instance profiles
    profile = iam.create_instance_profile(
        InstanceProfileName="web", Path="/apps/", Tags=[{"Key": "team", "Value": "web"}]
    )["InstanceProfile"]
    eq(profile["InstanceProfileName"], "web", "CreateInstanceProfile name")
    eq(profile["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/apps/web", "CreateInstanceProfile Arn")
    assert re.fullmatch(r"AIPA[A-Z0-9]{17}", profile["InstanceProfileId"]), profile["InstanceProfileId"]
    eq(profile["Roles"], [], "CreateInstanceProfile Roles")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    got = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    eq([r["RoleName"] for r in got["Roles"]], ["web"], "GetInstanceProfile Roles")
    eq(got["Roles"][0]["AssumeRolePolicyDocument"], both, "GetInstanceProfile role's trust (decoded)")
    eq(tags(got.get("Tags", [])), {"team": "web"}, "GetInstanceProfile Tags")

    iam.create_instance_profile(InstanceProfileName="api")
    iam.add_role_to_instance_profile(InstanceProfileName="api", RoleName="api")
    listed, pages = roles_(iam, "list_instance_profiles")
    eq(sorted(p["InstanceProfileName"] for p in listed), ["api", "web"], "ListInstanceProfiles")
    eq(pages, 2, "ListInstanceProfiles pages of one")
    eq(
        [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/apps/")["InstanceProfiles"]],
        ["web"],
        "ListInstanceProfiles /apps/",
    )
    eq(
        [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]],
        ["web"],
        "ListInstanceProfilesForRole",
    )
    iam.tag_instance_profile(InstanceProfileName="web", Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["team"])
    eq(
        tags(iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"]),
        {"env": "prod"},
        "ListInstanceProfileTags",
    )

    summary = iam.get_account_summary()["SummaryMap"]
    for key, want in (("Roles", 4), ("RolesQuota", 1000), ("InstanceProfiles", 2), ("InstanceProfilesQuota", 1000)):
        eq(summary.get(key), want, f"SummaryMap[{key}]")

    # -- every role with what is attached to it, one role per page
    details = []
    for page in iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["Role"], PaginationConfig={"PageSize": 1}
    ):
        eq(page.get("UserDetailList", []), [], "GetAccountAuthorizationDetails UserDetailList")
        details.extend(page["RoleDetailList"])
    listed = iam.list_roles()["Roles"]
    eq([d["RoleName"] for d in details], sorted((r["RoleName"] for r in listed), key=str.lower), "RoleDetailList names")
    for detail in details:
        name = detail["RoleName"]
        role = iam.get_role(RoleName=name)["Role"]
        for key in ("Path", "RoleId", "Arn", "AssumeRolePolicyDocument"):
            eq(detail[key], role[key], f"RoleDetail {name} {key}")
        eq(detail.get("PermissionsBoundary"), role.get("PermissionsBoundary"), f"RoleDetail {name} boundary")
        eq(tags(detail.get("Tags", [])), tags(role.get("Tags", [])), f"RoleDetail {name} Tags")
        inline = {
            p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }
        eq({p["PolicyName"]: p["PolicyDocument"] for p in detail["RolePolicyList"]}, inline, f"RoleDetail {name} RolePolicyList")
        eq(detail["AttachedManagedPolicies"], iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"], f"RoleDetail {name} AttachedManagedPolicies")
        profiles = iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
        eq([p["InstanceProfileName"] for p in detail["InstanceProfileList"]], [p["InstanceProfileName"] for p in profiles], f"RoleDetail {name} InstanceProfileList")
    rc.expect_error(
        lambda: iam.get_account_authorization_details(Filter=["Robot"]),
        "ValidationError",
        "1 validation error detected: Value '[Robot]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]",
        400,
    )

    # -- customer-managed policies: versions, attachments, tags, lists
    policy_arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/ops/deploy"
    made = iam.create_policy(
        PolicyName="deploy",
        Path="/ops/",
        PolicyDocument=json.dumps(POLICY),
        Description="Deploys the web tier",
        Tags=[{"Key": "team", "Value": "ops"}],
    )["Policy"]
    eq(made["Arn"], policy_arn, "CreatePolicy Arn")
    eq(made["DefaultVersionId"], "v1", "CreatePolicy DefaultVersionId")
    eq((made["AttachmentCount"], made["IsAttachable"]), (0, True), "CreatePolicy counts")
    assert re.fullmatch(r"ANPA[A-Z0-9]{17}", made["PolicyId"]), made["PolicyId"]
    assert isinstance(made["UpdateDate"], datetime.datetime), made
    eq(tags(made["Tags"]), {"team": "ops"}, "CreatePolicy Tags")
    second = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
    version = iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=json.dumps(second), SetAsDefault=True)[
        "PolicyVersion"
    ]
    eq((version["VersionId"], version["IsDefaultVersion"]), ("v2", True), "CreatePolicyVersion")
    got = iam.get_policy_version(PolicyArn=policy_arn, VersionId="v2")["PolicyVersion"]
    eq(got["Document"], second, "GetPolicyVersion Document (decoded)")
    eq(
        [(v["VersionId"], v["IsDefaultVersion"]) for v in iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]],
        [("v2", True), ("v1", False)],
        "ListPolicyVersions, newest first",
    )
    iam.set_default_policy_version(PolicyArn=policy_arn, VersionId="v1")
    iam.delete_policy_version(PolicyArn=policy_arn, VersionId="v2")
    iam.attach_role_policy(RoleName="web", PolicyArn=policy_arn)
    shown = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    eq(
        (shown["DefaultVersionId"], shown["AttachmentCount"], shown["Description"]),
        ("v1", 1, "Deploys the web tier"),
        "GetPolicy",
    )
    eq(
        [r["RoleName"] for r in iam.list_entities_for_policy(PolicyArn=policy_arn, EntityFilter="Role")["PolicyRoles"]],
        ["web"],
        "ListEntitiesForPolicy",
    )
    local = iam.list_policies(Scope="Local", OnlyAttached=True, PathPrefix="/ops/")["Policies"]
    eq([p["Arn"] for p in local], [policy_arn], "ListPolicies Local")
    assert "Tags" not in local[0] and "Description" not in local[0], local[0]
    aws = iam.list_policies(Scope="AWS", MaxItems=5)
    eq((len(aws["Policies"]), aws["IsTruncated"]), (5, True), "ListPolicies AWS, a page")
    iam.tag_policy(PolicyArn=policy_arn, Tags=[{"Key": "Team", "Value": "web"}])
    iam.untag_policy(PolicyArn=policy_arn, TagKeys=["team"])
    eq(tags(iam.list_policy_tags(PolicyArn=policy_arn)["Tags"]), {"Team": "web"}, "ListPolicyTags")
    policies = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])["Policies"]
    eq([p["Arn"] for p in policies], [policy_arn], "GetAccountAuthorizationDetails Policies")
    eq(policies[0]["PolicyVersionList"][0]["Document"], POLICY, "PolicyVersionList Document (decoded)")
    eq(iam.get_account_summary()["SummaryMap"]["Policies"], 1, "SummaryMap[Policies]")
    rc.expect_error(
        lambda: iam.delete_policy(PolicyArn=policy_arn),
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    )
    iam.detach_role_policy(RoleName="web", PolicyArn=policy_arn)
    iam.delete_policy(PolicyArn=policy_arn)
    rc.expect_error(
        lambda: iam.get_policy(PolicyArn=policy_arn), "NoSuchEntity", f"Policy {policy_arn} was not found.", 404
    )

    # -- instances and their profiles
    web1 = ec2.run_instances(
        MinCount=1,
        MaxCount=1,
        IamInstanceProfile={"Name": "web"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}],
    )
    eq(web1["OwnerId"], ACCOUNT_ID, "RunInstances OwnerId")
    assert web1["ReservationId"].startswith("r-"), web1["ReservationId"]
    instance = web1["Instances"][0]
    web1_id = instance["InstanceId"]
    assert re.fullmatch(r"i-[0-9a-f]{17}", web1_id), web1_id
    eq(instance["State"], {"Code": 16, "Name": "running"}, "RunInstances State")
    eq(instance["IamInstanceProfile"]["Arn"], profile["Arn"], "RunInstances IamInstanceProfile")
    eq(tags(instance["Tags"]), {"Name": "web-1"}, "RunInstances Tags")

    by_instance = [{"Name": "instance-id", "Values": [web1_id]}]
    assocs = ec2.describe_iam_instance_profile_associations(Filters=by_instance)["IamInstanceProfileAssociations"]
    eq(len(assocs), 1, "associations of web-1")
    assert assocs[0]["AssociationId"].startswith("iip-assoc-"), assocs[0]
    eq(assocs[0]["InstanceId"], web1_id, "association InstanceId")
    eq(assocs[0]["IamInstanceProfile"]["Arn"], profile["Arn"], "association profile")
    eq(assocs[0]["IamInstanceProfile"]["Id"], profile["InstanceProfileId"], "association profile id")
    eq(assocs[0]["State"], "associated", "association State")
    assert isinstance(assocs[0]["Timestamp"], datetime.datetime), assocs[0]

    web2 = ec2.run_instances(
        MinCount=2,
        MaxCount=2,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-2"}]}],
    )["Instances"]
    eq(len(web2), 2, "RunInstances MinCount=MaxCount=2")
    web2_id = web2[0]["InstanceId"]
    assert "IamInstanceProfile" not in web2[0], web2[0]
    assoc = ec2.associate_iam_instance_profile(InstanceId=web2_id, IamInstanceProfile={"Name": "web"})[
        "IamInstanceProfileAssociation"
    ]
    eq(assoc["InstanceId"], web2_id, "AssociateIamInstanceProfile InstanceId")
    assert assoc["State"] in ("associating", "associated"), assoc
    replaced = ec2.replace_iam_instance_profile_association(
        AssociationId=assoc["AssociationId"], IamInstanceProfile={"Name": "api"}
    )["IamInstanceProfileAssociation"]
    assert replaced["AssociationId"] != assoc["AssociationId"], "Replace kept the association id"
    eq(replaced["IamInstanceProfile"]["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/api", "Replace profile")
    current = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [web2_id]}, {"Name": "state", "Values": ["associated"]}]
    )["IamInstanceProfileAssociations"]
    eq([a["AssociationId"] for a in current], [replaced["AssociationId"]], "associated after Replace")
    eq(
        ec2.describe_iam_instance_profile_associations(AssociationIds=[replaced["AssociationId"]])[
            "IamInstanceProfileAssociations"
        ][0]["IamInstanceProfile"]["Arn"],
        replaced["IamInstanceProfile"]["Arn"],
        "DescribeIamInstanceProfileAssociations by id",
    )
    gone = ec2.disassociate_iam_instance_profile(AssociationId=replaced["AssociationId"])[
        "IamInstanceProfileAssociation"
    ]
    eq(gone["AssociationId"], replaced["AssociationId"], "Disassociate AssociationId")
    assert gone["State"] in ("disassociating", "disassociated"), gone
    eq(
        ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [web2_id]}, {"Name": "state", "Values": ["associated"]}]
        )["IamInstanceProfileAssociations"],
        [],
        "associated after Disassociate",
    )

    # -- DescribeInstances and its filters, tags
    def described(**kwargs):
        reservations = ec2.describe_instances(**kwargs)["Reservations"]
        return sorted(i["InstanceId"] for r in reservations for i in r["Instances"])

    every = sorted([web1_id] + [i["InstanceId"] for i in web2])
    eq(described(), every, "DescribeInstances")
    eq(described(Filters=[{"Name": "tag:Name", "Values": ["web-1"]}]), [web1_id], "filter tag:Name")
    eq(described(InstanceIds=[web1_id]), [web1_id], "DescribeInstances InstanceIds")
    eq(described(Filters=[{"Name": "instance-id", "Values": [web2_id]}]), [web2_id], "filter instance-id")
    ec2.create_tags(Resources=[web1_id, web2_id], Tags=[{"Key": "env", "Value": "prod"}, {"Key": "tier", "Value": "web"}])
    eq(described(Filters=[{"Name": "tag:env", "Values": ["prod"]}]), sorted([web1_id, web2_id]), "filter tag:env")
    eq(described(Filters=[{"Name": "tag-key", "Values": ["tier"]}]), sorted([web1_id, web2_id]), "filter tag-key")
    ec2.delete_tags(Resources=[web2_id], Tags=[{"Key": "env"}])
    eq(described(Filters=[{"Name": "tag:env", "Values": ["prod"]}]), [web1_id], "after DeleteTags")

    stopping = ec2.stop_instances(InstanceIds=[web1_id])["StoppingInstances"][0]
    eq(stopping["InstanceId"], web1_id, "StopInstances InstanceId")
    eq(stopping["PreviousState"]["Name"], "running", "StopInstances PreviousState")
    assert stopping["CurrentState"]["Name"] in ("stopping", "stopped"), stopping
    eq(described(Filters=[{"Name": "instance-state-name", "Values": ["running"]}]), sorted(i["InstanceId"] for i in web2), "filter running")
    starting = ec2.start_instances(InstanceIds=[web1_id])["StartingInstances"][0]
    assert starting["CurrentState"]["Name"] in ("pending", "running"), starting
    terminating = ec2.terminate_instances(InstanceIds=[web2_id])["TerminatingInstances"][0]
    assert terminating["CurrentState"]["Name"] in ("shutting-down", "terminated"), terminating
    eq(
        described(Filters=[{"Name": "instance-state-name", "Values": ["terminated", "shutting-down"]}]),
        [web2_id],
        "filter terminated",
    )

    # -- STS: a session of a role that trusts the account
    session = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/deployer", RoleSessionName="ops")
    assert session["Credentials"]["AccessKeyId"].startswith("ASIA"), session["Credentials"]
    eq(
        session["AssumedRoleUser"]["Arn"],
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/ops",
        "AssumeRole AssumedRoleUser.Arn",
    )

    # -- and everything removed again, in AWS's order
    iam.remove_role_from_instance_profile(InstanceProfileName="api", RoleName="api")
    iam.delete_instance_profile(InstanceProfileName="api")
    iam.delete_role_policy(RoleName="web", PolicyName="read-assets")
    iam.detach_role_policy(RoleName="web", PolicyArn=ssm)
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="web")
    iam.delete_role(RoleName="web")
    rc.expect_error(lambda: iam.get_role(RoleName="web"), "NoSuchEntity", "The role with name web cannot be found.", 404)
    eq(iam.get_account_summary()["SummaryMap"]["Roles"], 3, "SummaryMap[Roles] after DeleteRole")

    missing = table_operations() - called
    assert not missing, f"operations of the table never called through the endpoint: {sorted(missing)}"


if __name__ == "__main__":
    rc.main({"every_operation": test_every_operation})
