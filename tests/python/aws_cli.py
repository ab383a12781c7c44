"""The AWS CLI (v1, from the pinned venv) pointed at the endpoint."""

import datetime
import json
import os
import subprocess
import sys
import urllib.parse

import rc
from rc import ACCOUNT_ID, TRUST_EC2, eq

# The venv's `aws`, beside the Python running this script.
AWS = os.path.join(os.path.dirname(sys.executable), "aws")
# Fields the AWS CLI may show that rolecall's in-process answer lacks: AWS
# sends RoleLastUsed (empty for a role never used).
ONLY_ON_THE_WIRE = {"RoleLastUsed"}


def aws(*args, expect=0):
    result = subprocess.run(
        [AWS, *args, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    eq(result.returncode, expect, f"exit code of aws {' '.join(args)} (stderr: {result.stderr!r})")
    return result


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_get_role_matches_emulator():
    iam = rc.client("iam")
    iam.create_role(
        RoleName="web",
        Path="/apps/",
        AssumeRolePolicyDocument=json.dumps(TRUST_EC2),
        Description='Serves the <web> & "api" tiers',
        MaxSessionDuration=7200,
        PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess",
        Tags=[{"Key": "team", "Value": "web"}, {"Key": "note", "Value": "a b=c/d+e@f:g"}],
    )
    wire = json.loads(aws("iam", "get-role", "--role-name", "web").stdout)["Role"]
    local = json.loads(rc.rolecall("emulator", "get-role", "--role-name", "web").stdout)["Role"]

    extra = set(wire) - set(local) - ONLY_ON_THE_WIRE
    missing = set(local) - set(wire)
    assert not extra and not missing, (
        f"fields only through the endpoint: {sorted(extra)}; only in process: {sorted(missing)}\n"
        f"aws: {wire}\nrolecall: {local}"
    )
    for field, value in local.items():
        got = wire[field]
        if field == "AssumeRolePolicyDocument":
            # rolecall shows it URL-encoded, as IAM sends it; the AWS CLI decodes it.
            value = json.loads(urllib.parse.unquote(value))
        elif field == "CreateDate":
            value, got = instant(value), instant(got)
        eq(got, value, f"Role.{field}: aws iam get-role vs rolecall emulator get-role")
    eq(wire["AssumeRolePolicyDocument"], TRUST_EC2, "the trust policy")


def test_cli_calls():
    me = json.loads(aws("sts", "get-caller-identity").stdout)
    eq(me, {"UserId": ACCOUNT_ID, "Account": ACCOUNT_ID, "Arn": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "aws sts get-caller-identity")

    empty = json.loads(aws("ec2", "describe-iam-instance-profile-associations").stdout)
    eq(empty["IamInstanceProfileAssociations"], [], "no associations yet")
    iam, ec2 = rc.client("iam"), rc.client("ec2")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    instance = ec2.run_instances(MinCount=1, MaxCount=1, IamInstanceProfile={"Name": "web"})["Instances"][0]
    listed = json.loads(
        aws(
            "ec2",
            "describe-iam-instance-profile-associations",
            "--filters",
            f"Name=instance-id,Values={instance['InstanceId']}",
        ).stdout
    )["IamInstanceProfileAssociations"]
    eq(len(listed), 1, "associations of the instance")
    eq(listed[0]["InstanceId"], instance["InstanceId"], "association InstanceId")
    eq(listed[0]["State"], "associated", "association State")
    eq(
        listed[0]["IamInstanceProfile"]["Arn"],
        f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/web",
        "association profile",
    )

    # The AWS CLI v1 exits 255 on a service error (v2 exits 254).
    failed = aws("iam", "get-role", "--role-name", "nope", expect=255)
    eq(failed.stdout, "", "stdout of a failed call")
    line = "An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name nope cannot be found."
    assert line in failed.stderr, f"stderr should hold {line!r}: {failed.stderr!r}"
    # rolecall's own CLI prints the same line for the same call.
    local = rc.rolecall("emulator", "get-role", "--role-name", "nope", check=False)
    eq(local.stderr.strip(), line, "rolecall emulator get-role's error line")


if __name__ == "__main__":
    rc.main({"get_role_matches_emulator": test_get_role_matches_emulator, "cli_calls": test_cli_calls})
