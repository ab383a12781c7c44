"""STS AssumeRole through the endpoint: allowed when the role's trust policy
trusts the caller, AccessDenied otherwise, and the temporary credentials it
returns work on the endpoint."""

import datetime
import json
import re

import rc
from rc import ACCOUNT_ID, TRUST_ACCOUNT, TRUST_EC2, eq


def denied_text(role):
    return (
        f"User: arn:aws:iam::{ACCOUNT_ID}:root is not authorized to perform: sts:AssumeRole "
        f"on resource: arn:aws:iam::{ACCOUNT_ID}:role/{role}"
    )


def test_assume_role_allowed():
    iam, sts = rc.client("iam"), rc.client("sts")
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT))["Role"]
    before = datetime.datetime.now(datetime.timezone.utc)
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ops")
    credentials = answer["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", credentials["AccessKeyId"]), credentials["AccessKeyId"]
    assert len(credentials["SecretAccessKey"]) >= 40, "SecretAccessKey too short"
    assert credentials["SessionToken"], "no SessionToken"
    expires = credentials["Expiration"]
    assert isinstance(expires, datetime.datetime), expires
    lifetime = (expires - before).total_seconds()
    assert 3500 <= lifetime <= 3700, f"a default session should last an hour: {lifetime} s"
    user = answer["AssumedRoleUser"]
    eq(user["Arn"], f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/ops", "AssumedRoleUser.Arn")
    eq(user["AssumedRoleId"], f"{role['RoleId']}:ops", "AssumedRoleUser.AssumedRoleId")

    temporary = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    me = rc.client("sts", **temporary).get_caller_identity()
    eq(me["Arn"], f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/ops", "GetCallerIdentity with the session")
    eq(me["Account"], ACCOUNT_ID, "Account of the session")
    eq(me["UserId"], f"{role['RoleId']}:ops", "UserId of the session")

    # The session's key without its token is not a key the account holds.
    keyless = dict(temporary)
    del keyless["aws_session_token"]
    response = rc.expect_error(lambda: rc.client("sts", **keyless).get_caller_identity(), "InvalidClientTokenId")
    eq(response["ResponseMetadata"]["HTTPStatusCode"], 403, "status without the session token")

    short = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)
    lifetime = (short["Credentials"]["Expiration"] - before).total_seconds()
    assert 850 <= lifetime <= 1000, f"DurationSeconds=900: {lifetime} s"


def test_assume_role_denied():
    iam, sts = rc.client("iam"), rc.client("sts")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    rc.expect_error(
        lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/web", RoleSessionName="ops"),
        "AccessDenied",
        denied_text("web"),
        403,
    )
    # A role that does not exist gets the same answer: it does not tell.
    rc.expect_error(
        lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/nope", RoleSessionName="ops"),
        "AccessDenied",
        denied_text("nope"),
        403,
    )


if __name__ == "__main__":
    rc.main({"assume_role_allowed": test_assume_role_allowed, "assume_role_denied": test_assume_role_denied})
