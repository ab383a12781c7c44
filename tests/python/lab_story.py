"""The instance-profile story, end to end in a lab: `rolecall apply` gives
an instance a profile; software on the instance, with no keys of its own,
gets the role's credentials from instance metadata; its calls are allowed
or denied by the role's policies, as AWS words it; the denied call is in
the audit trail; `rolecall apply` moves the instance to another profile and
a new session gets the new role while the old credentials keep working
until revoked; `revoke-sessions` denies them, and drift names who revoked."""

import json
import os
import tempfile

import imds
import rc
from rc import ACCOUNT_ID, eq

MANIFEST = """
kind: Stack
name: lab
---
kind: Role
name: app
path: /apps/
trust: ec2
inline_policies:
  read-roles: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "iam:GetRole", Resource: "*"}]}
---
kind: Role
name: ops
trust: ec2
managed_policies: [arn:aws:iam::aws:policy/IAMReadOnlyAccess]
---
kind: InstanceProfile
name: app
role: app
---
kind: InstanceProfile
name: ops
role: ops
---
kind: Instance
name: web-1
profile: PROFILE
"""

# Run on the instance: the SDK's own credential chain (instance metadata),
# then a few calls; prints the credentials and each call's outcome.
ON_INSTANCE = """
import json
import boto3
from botocore.exceptions import ClientError
session = boto3.Session()
frozen = session.get_credentials().get_frozen_credentials()
out = {"key": frozen.access_key, "secret": frozen.secret_key, "token": frozen.token,
       "method": session.get_credentials().method}
out["arn"] = session.client("sts").get_caller_identity()["Arn"]
iam = session.client("iam")
for name, call in [("GetRole", lambda: iam.get_role(RoleName="app")),
                   ("ListRoles", lambda: iam.list_roles())]:
    try:
        call()
        out[name] = "allowed"
    except ClientError as e:
        out[name] = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}
print(json.dumps(out))
"""


def on_instance(instance_id):
    """ON_INSTANCE with imds.on_instance's environment (no key, no profile)."""
    original = imds.ON_INSTANCE
    imds.ON_INSTANCE = ON_INSTANCE
    try:
        return imds.on_instance(instance_id)
    finally:
        imds.ON_INSTANCE = original


def apply(lab, profile):
    with open(os.path.join(lab, "stack.yaml"), "w") as f:
        f.write(MANIFEST.replace("PROFILE", profile))
    rc.rolecall("apply", "-f", "stack.yaml", "--auto-approve", cwd=lab)


def test_instance_story():
    lab = tempfile.mkdtemp()
    apply(lab, "app")
    ec2 = rc.client("ec2")
    found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["web-1"]}])
    instance = found["Reservations"][0]["Instances"][0]["InstanceId"]
    imds.association(instance)
    session_arn = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/app/{instance}"

    first = on_instance(instance)
    eq(first["method"], "iam-role", "credentials from instance metadata")
    eq(first["arn"], session_arn, "the instance's identity")
    eq(first["GetRole"], "allowed", "GetRole, which the role's policy allows")
    eq(
        first["ListRoles"],
        {
            "code": "AccessDenied",
            "message": f"User: {session_arn} is not authorized to perform: iam:ListRoles on resource: "
            f"arn:aws:iam::{ACCOUNT_ID}:role/ because no identity-based policy allows the iam:ListRoles action",
        },
        "ListRoles, which it does not",
    )

    # The denied call is in the trail, under the instance's session.
    events = rc.lookup_events(
        f"AttributeKey=Username,AttributeValue={instance}",
        until=lambda events: any(e["EventName"] == "ListRoles" for e in events),
    )
    denied = [e for e in events if e["EventName"] == "ListRoles"]
    assert denied, f"no ListRoles among {[e['EventName'] for e in events]}"
    record = json.loads(denied[0]["CloudTrailEvent"])
    eq(record["errorCode"], "AccessDenied", "errorCode")
    eq(record["userIdentity"]["arn"], session_arn, "who")
    eq(record["userIdentity"]["accessKeyId"], first["key"], "with which key")
    eq(record["userIdentity"]["sessionContext"]["ec2RoleDelivery"], "2.0", "instance credentials")
    eq(
        record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
        f"arn:aws:iam::{ACCOUNT_ID}:role/apps/app",
        "the session's role, with its path",
    )

    # The fix, in git: the instance moves to the ops profile.
    apply(lab, "ops")
    after = on_instance(instance)
    eq(after["arn"], f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/ops/{instance}", "a new session's role")
    eq(after["ListRoles"], "allowed", "ListRoles with IAMReadOnlyAccess")

    # The app session handed out before still works, until revoked.
    old = rc.client(
        "iam",
        aws_access_key_id=first["key"],
        aws_secret_access_key=first["secret"],
        aws_session_token=first["token"],
    )
    old.get_role(RoleName="app")
    rc.rolecall("emulator", "revoke-sessions", "--role-name", "app")
    rc.expect_error(
        lambda: old.get_role(RoleName="app"),
        "AccessDenied",
        message=f"User: {session_arn} is not authorized to perform: iam:GetRole on resource: "
        f"arn:aws:iam::{ACCOUNT_ID}:role/apps/app with an explicit deny in an identity-based policy",
    )

    # The revocation is drift on the role, naming who made it.
    drift = rc.rolecall("drift", "-f", "stack.yaml", "--format", "json", check=False, cwd=lab)
    eq(drift.returncode, 2, f"drift exit code: {drift.stderr}")
    entry = [e for e in json.loads(drift.stdout)["entries"] if e["resource"] == "role/app"][0]
    eq(entry["changed_by"][0]["event_name"], "PutRolePolicy", "the revocation's call")
    eq(entry["changed_by"][0]["principal"], f"arn:aws:iam::{ACCOUNT_ID}:root", "who revoked")


if __name__ == "__main__":
    rc.main({"instance_story": test_instance_story})
