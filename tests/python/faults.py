"""The emulator's misbehaviour switches (`rolecall emulator configure`)
apply to calls through the endpoint, with the codes botocore's retry logic
recognises."""

import json

from botocore.config import Config

import rc
from rc import TRUST_EC2, eq


def test_throttling():
    iam, ec2 = rc.client("iam"), rc.client("ec2")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    rc.rolecall("emulator", "configure", "--throttle-rate", "1", "--seed", "1")
    rc.expect_error(lambda: iam.get_role(RoleName="web"), "Throttling", "Rate exceeded")
    rc.expect_error(lambda: ec2.describe_instances(), "RequestLimitExceeded", "Request limit exceeded.")
    # botocore takes them for throttling: it retries, here twice.
    retrying = rc.client("iam", config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))
    response = rc.expect_error(lambda: retrying.list_roles(), "Throttling")
    eq(response["ResponseMetadata"]["RetryAttempts"], 2, "retries of a throttled call")

    rc.rolecall("emulator", "configure", "--reset")
    eq(iam.get_role(RoleName="web")["Role"]["RoleName"], "web", "GetRole after --reset")
    ec2.describe_instances()


def test_injected_failure():
    iam, ec2 = rc.client("iam"), rc.client("ec2")
    rc.rolecall("emulator", "configure", "--fail-after", "1")
    rc.expect_error(
        lambda: iam.list_roles(),
        "ServiceFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
    )
    iam.list_roles()  # only the first call fails
    rc.rolecall("emulator", "configure", "--fail-after", "1")
    rc.expect_error(lambda: ec2.describe_instances(), "InternalError", "An internal error has occurred", 500)
    ec2.describe_instances()


if __name__ == "__main__":
    rc.main({"throttling": test_throttling, "injected_failure": test_injected_failure})
