"""Calls through the endpoint decided by the caller's policies: a role
session gets its role's inline and managed policies and its permissions
boundary, with AWS's AccessDenied / UnauthorizedOperation messages; a
denied call changes nothing and is in the audit trail; a change made
through the endpoint by a session shows in drift naming that session."""

import json
import os
import tempfile

import rc
from rc import ACCOUNT_ID, TRUST_ACCOUNT, eq

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/app"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/app/ci"


def allow(*actions, resource="*", effect="Allow"):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": list(actions), "Resource": resource}],
        }
    )


def session(iam):
    """A role `app` trusting the account, and a session of it named `ci`."""
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    answer = rc.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="ci")
    credentials = answer["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def denied(action, resource, because):
    return f"User: {SESSION_ARN} is not authorized to perform: {action} on resource: {resource} {because}"


def test_role_sessions_are_decided_by_their_policies():
    admin = rc.client("iam")
    keys = session(admin)
    iam, ec2 = rc.client("iam", **keys), rc.client("ec2", **keys)

    # No policy: every call denied, as AWS words it, and nothing changes.
    rc.expect_error(
        lambda: iam.get_role(RoleName="app"),
        "AccessDenied",
        message=denied("iam:GetRole", ROLE_ARN, "because no identity-based policy allows the iam:GetRole action"),
        status=403,
    )
    rc.expect_error(
        lambda: ec2.describe_instances(),
        "UnauthorizedOperation",
        message="You are not authorized to perform this operation. "
        + denied("ec2:DescribeInstances", "*", "because no identity-based policy allows the ec2:DescribeInstances action"),
        status=403,
    )
    before = rc.export()
    rc.expect_error(lambda: iam.tag_role(RoleName="app", Tags=[{"Key": "k", "Value": "v"}]), "AccessDenied")
    eq(rc.export(), before, "a denied call changes nothing")
    # Who am I needs no permission.
    eq(rc.client("sts", **keys).get_caller_identity()["Arn"], SESSION_ARN, "GetCallerIdentity")

    # An inline policy allows at once; a resource outside it stays denied.
    admin.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=allow("iam:GetRole", resource=ROLE_ARN))
    eq(iam.get_role(RoleName="app")["Role"]["Arn"], ROLE_ARN, "allowed GetRole")
    admin.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    rc.expect_error(lambda: iam.get_role(RoleName="other"), "AccessDenied")

    # A managed policy (AWS-managed, with its real document) allows too.
    admin.attach_role_policy(RoleName="app", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    ec2.describe_instances()

    # An explicit deny wins.
    admin.put_role_policy(RoleName="app", PolicyName="deny", PolicyDocument=allow("ec2:Describe*", effect="Deny"))
    rc.expect_error(
        lambda: ec2.describe_instances(),
        "UnauthorizedOperation",
        message="You are not authorized to perform this operation. "
        + denied("ec2:DescribeInstances", "*", "with an explicit deny in an identity-based policy"),
    )
    admin.delete_role_policy(RoleName="app", PolicyName="deny")

    # The permissions boundary caps what the policies allow.
    admin.put_role_permissions_boundary(RoleName="app", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    ec2.describe_instances()
    rc.expect_error(
        lambda: iam.get_role(RoleName="app"),
        "AccessDenied",
        message=denied("iam:GetRole", ROLE_ARN, "because no permissions boundary allows the iam:GetRole action"),
    )


def test_pass_role_paths_and_recreated_roles():
    admin = rc.client("iam")
    keys = session(admin)
    iam, ec2 = rc.client("iam", **keys), rc.client("ec2", **keys)
    admin.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(rc.TRUST_EC2))
    admin.create_instance_profile(InstanceProfileName="web")
    admin.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    instance = rc.client("ec2").run_instances(MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]

    # Giving an instance a profile passes its role: iam:PassRole is needed.
    admin.put_role_policy(
        RoleName="app", PolicyName="ec2", PolicyDocument=allow("ec2:AssociateIamInstanceProfile")
    )
    before = rc.export()
    rc.expect_error(
        lambda: ec2.associate_iam_instance_profile(InstanceId=instance, IamInstanceProfile={"Name": "web"}),
        "UnauthorizedOperation",
        message="You are not authorized to perform this operation. "
        + denied(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT_ID}:role/web",
            "because no identity-based policy allows the iam:PassRole action",
        ),
    )
    eq(rc.export(), before, "a denied association changes nothing")
    admin.put_role_policy(
        RoleName="app",
        PolicyName="pass",
        PolicyDocument=allow("iam:PassRole", resource=f"arn:aws:iam::{ACCOUNT_ID}:role/web"),
    )
    ec2.associate_iam_instance_profile(InstanceId=instance, IamInstanceProfile={"Name": "web"})

    # A role is created at its path: a deny on the path holds.
    admin.put_role_policy(
        RoleName="app",
        PolicyName="create",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*"},
                    {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": f"arn:aws:iam::{ACCOUNT_ID}:role/admin/*"},
                ],
            }
        ),
    )
    rc.expect_error(
        lambda: iam.create_role(RoleName="x", Path="/admin/", AssumeRolePolicyDocument=json.dumps(rc.TRUST_EC2)),
        "AccessDenied",
        message=denied(
            "iam:CreateRole", f"arn:aws:iam::{ACCOUNT_ID}:role/admin/x", "with an explicit deny in an identity-based policy"
        ),
    )
    iam.create_role(RoleName="y", Path="/apps/", AssumeRolePolicyDocument=json.dumps(rc.TRUST_EC2))

    # The session of a deleted role keeps nothing, not even from a role
    # made since under the same name.
    for name in ["ec2", "pass", "create"]:
        admin.delete_role_policy(RoleName="app", PolicyName=name)
    admin.delete_role(RoleName="app")
    admin.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))
    admin.put_role_policy(RoleName="app", PolicyName="read", PolicyDocument=allow("iam:GetRole"))
    rc.expect_error(lambda: iam.get_role(RoleName="app"), "AccessDenied")


def test_denied_calls_are_in_the_trail_and_drift_names_the_session():
    admin = rc.client("iam")
    keys = session(admin)
    iam = rc.client("iam", **keys)
    rc.expect_error(lambda: iam.list_roles(), "AccessDenied")
    events = rc.lookup_events(
        "AttributeKey=Username,AttributeValue=ci",
        until=lambda events: events and events[0]["EventName"] == "ListRoles",
    )
    assert events, "no event of the session in the trail"
    eq(events[0]["EventName"], "ListRoles", "the denied call is the newest of the session's")
    record = json.loads(events[0]["CloudTrailEvent"])
    eq(record["errorCode"], "AccessDenied", "errorCode")
    eq(record["userIdentity"]["type"], "AssumedRole", "identity type")
    eq(record["userIdentity"]["arn"], SESSION_ARN, "identity ARN")
    eq(record["userIdentity"]["accessKeyId"], keys["aws_access_key_id"], "access key")
    eq(record["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"], "app", "issuer")
    eq(record["sourceIPAddress"], "127.0.0.1", "source address")
    assert record["userAgent"].startswith("Boto3/"), record["userAgent"]
    eq(events[0]["ReadOnly"], "true", "ReadOnly")

    # Each event carries the request id its caller was answered with.
    answer = admin.tag_role(RoleName="app", Tags=[{"Key": "k", "Value": "v"}])
    tagged = json.loads(
        rc.rolecall("emulator", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=TagRole").stdout
    )["Events"]
    eq(
        json.loads(tagged[0]["CloudTrailEvent"])["requestID"],
        answer["ResponseMetadata"]["RequestId"],
        "requestID",
    )

    # A stack that owns `app`; the session changes it by hand, allowed.
    manifest = "kind: Stack\nname: lab\n---\nkind: Role\nname: app\ntrust:\n  Version: '2012-10-17'\n  Statement:\n  - {Effect: Allow, Principal: {AWS: 'arn:aws:iam::" + ACCOUNT_ID + ":root'}, Action: 'sts:AssumeRole'}\ninline_policies:\n  tag: {Version: '2012-10-17', Statement: [{Effect: Allow, Action: 'iam:TagRole', Resource: '*'}]}\n"
    lab = tempfile.mkdtemp()
    with open(os.path.join(lab, "stack.yaml"), "w") as f:
        f.write(manifest)
    rc.rolecall("import", "-f", "stack.yaml", "--all-declared", cwd=lab)
    rc.rolecall("apply", "-f", "stack.yaml", "--auto-approve", cwd=lab)
    iam.tag_role(RoleName="app", Tags=[{"Key": "owner", "Value": "someone"}])
    drift = rc.rolecall("drift", "-f", "stack.yaml", "--format", "json", check=False, cwd=lab)
    eq(drift.returncode, 2, f"drift exit code: {drift.stderr}")
    entry = json.loads(drift.stdout)["entries"][0]
    who = entry["changed_by"][0]
    eq(who["attribute"], "tags", "changed attribute")
    eq(who["event_name"], "TagRole", "the call")
    eq(who["principal"], SESSION_ARN, "who")


if __name__ == "__main__":
    rc.main(
        {
            "sessions_decided_by_policies": test_role_sessions_are_decided_by_their_policies,
            "denied_calls_in_trail_and_drift": test_denied_calls_are_in_the_trail_and_drift_names_the_session,
            "pass_role_paths_and_recreated_roles": test_pass_role_paths_and_recreated_roles,
        }
    )
