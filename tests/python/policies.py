"""Customer-managed policies through `rolecall serve`, with boto3: a policy
rolled through its versions against IAM's limits, with AWS's codes,
messages and statuses; attached to a role, its default version decides
what the role's sessions may do, at once, as an AWS-managed policy's
document would, and as a permissions boundary it caps them."""

import json

import rc
from rc import ACCOUNT_ID, TRUST_ACCOUNT, eq

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/app"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/app/ci"
READER = f"arn:aws:iam::{ACCOUNT_ID}:policy/team/reader"
CAP = f"arn:aws:iam::{ACCOUNT_ID}:policy/cap"


def allowing(*actions):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def denied(action, resource, because):
    return f"User: {SESSION_ARN} is not authorized to perform: {action} on resource: {resource} {because}"


def test_customer_managed_story():
    admin = rc.client("iam")
    made = admin.create_policy(
        PolicyName="reader", Path="/team/", PolicyDocument=allowing("iam:GetRole", "iam:ListRoles")
    )["Policy"]
    eq(made["Arn"], READER, "CreatePolicy Arn")
    rc.expect_error(
        lambda: admin.create_policy(PolicyName="READER", PolicyDocument=allowing("iam:GetRole")),
        "EntityAlreadyExists",
        "A policy called READER already exists. Duplicate names are not allowed.",
        409,
    )
    rc.expect_error(
        lambda: admin.create_policy(
            PolicyName="old",
            PolicyDocument=json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        ),
        "MalformedPolicyDocument",
        "Policy document must be version 2012-10-17 or greater.",
        400,
    )

    # Versions v2..v5 next to the default; a sixth is refused.
    for action in ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "sns:Publish"]:
        admin.create_policy_version(PolicyArn=READER, PolicyDocument=allowing(action))
    eq(
        [v["VersionId"] for v in admin.list_policy_versions(PolicyArn=READER)["Versions"]],
        ["v5", "v4", "v3", "v2", "v1"],
        "versions, newest first",
    )
    before = rc.export()
    rc.expect_error(
        lambda: admin.create_policy_version(PolicyArn=READER, PolicyDocument=allowing("iam:ListRoles")),
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        409,
    )
    rc.expect_error(
        lambda: admin.delete_policy_version(PolicyArn=READER, VersionId="v1"),
        "DeleteConflict",
        "Cannot delete the default version of a policy.",
        409,
    )
    eq(rc.export(), before, "refused calls change nothing")

    # Attached to a role, the default version decides for its sessions.
    admin.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    admin.attach_role_policy(RoleName="app", PolicyArn=READER)
    eq(admin.get_policy(PolicyArn=READER)["Policy"]["AttachmentCount"], 1, "AttachmentCount")
    rc.expect_error(
        lambda: admin.delete_policy(PolicyArn=READER),
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        409,
    )
    answer = rc.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="ci")["Credentials"]
    iam = rc.client(
        "iam",
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
    )
    eq(iam.get_role(RoleName="app")["Role"]["Arn"], ROLE_ARN, "GetRole allowed by v1")

    # A new default version without iam:GetRole takes it away at once
    # (the oldest version that is not the default makes room, as a plan does).
    admin.delete_policy_version(PolicyArn=READER, VersionId="v2")
    made = admin.create_policy_version(PolicyArn=READER, PolicyDocument=allowing("iam:ListRoles"), SetAsDefault=True)
    eq(made["PolicyVersion"]["VersionId"], "v6", "a deleted version's number is not reused")
    rc.expect_error(
        lambda: iam.get_role(RoleName="app"),
        "AccessDenied",
        message=denied("iam:GetRole", ROLE_ARN, "because no identity-based policy allows the iam:GetRole action"),
        status=403,
    )
    iam.list_roles()

    # Back to v1, allowed again; a boundary of the account's own caps it.
    admin.set_default_policy_version(PolicyArn=READER, VersionId="v1")
    iam.get_role(RoleName="app")
    admin.create_policy(PolicyName="cap", PolicyDocument=allowing("iam:ListRoles"))
    admin.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=CAP)
    eq(admin.get_policy(PolicyArn=CAP)["Policy"]["PermissionsBoundaryUsageCount"], 1, "boundary usage")
    rc.expect_error(
        lambda: iam.get_role(RoleName="app"),
        "AccessDenied",
        message=denied("iam:GetRole", ROLE_ARN, "because no permissions boundary allows the iam:GetRole action"),
    )
    iam.list_roles()

    # The policy calls are decided too, on the policy's ARN.
    rc.expect_error(
        lambda: iam.create_policy_version(PolicyArn=READER, PolicyDocument=allowing("iam:*"), SetAsDefault=True),
        "AccessDenied",
        message=denied(
            "iam:CreatePolicyVersion",
            f"policy {READER}",
            "because no identity-based policy allows the iam:CreatePolicyVersion action",
        ),
    )

    # Deleting: attachments first, then the versions, then the policy.
    admin.delete_role_permissions_boundary(RoleName="app")
    admin.detach_role_policy(RoleName="app", PolicyArn=READER)
    rc.expect_error(
        lambda: admin.delete_policy(PolicyArn=READER),
        "DeleteConflict",
        "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        409,
    )
    for version in admin.list_policy_versions(PolicyArn=READER)["Versions"]:
        if not version["IsDefaultVersion"]:
            admin.delete_policy_version(PolicyArn=READER, VersionId=version["VersionId"])
    admin.delete_policy(PolicyArn=READER)
    rc.expect_error(
        lambda: admin.attach_role_policy(RoleName="app", PolicyArn=READER),
        "NoSuchEntity",
        f"Policy {READER} does not exist or is not attachable.",
        404,
    )
    eq(
        [p["Arn"] for p in admin.list_policies(Scope="Local")["Policies"]],
        [CAP],
        "the account's policies left",
    )


if __name__ == "__main__":
    rc.main({"customer_managed_story": test_customer_managed_story})
