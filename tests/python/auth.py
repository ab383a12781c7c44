"""Authentication: every request must be signed (SigV4) by a key the account
holds, within AWS's clock-skew window. A rejected request changes nothing,
and the server answers normally afterwards.
"""

import json
import urllib.parse

import rc
from rc import ACCOUNT_ID, TRUST_EC2, eq

IAM_BODY = "Action=ListRoles&Version=2010-05-08"
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
EC2_BODY = "Action=DescribeInstances&Version=2016-11-15"
UNKNOWN_KEY = "AKIAIOSFODNN7EXAMPLE"
UNKNOWN_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def still_answers():
    eq(rc.client("sts").get_caller_identity()["Arn"], f"arn:aws:iam::{ACCOUNT_ID}:root", "a normal call afterwards")


def raw(service, body, **signing):
    """A raw request signed for `service`; returns (status, code, message)."""
    headers, body = rc.signed(service, body, **signing)
    status, _, text = rc.send(headers, body)
    return status, rc.error_code(text), rc.error_message(text)


def test_unsigned():
    for body in (IAM_BODY, STS_BODY, EC2_BODY):
        status, _, text = rc.send({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, body)
        eq((status, rc.error_code(text)), (403, "MissingAuthenticationToken"), f"unsigned {body}")
    still_answers()


def test_unknown_key():
    other = {"aws_access_key_id": UNKNOWN_KEY, "aws_secret_access_key": UNKNOWN_SECRET}
    rc.expect_error(lambda: rc.client("iam", **other).list_roles(), "InvalidClientTokenId", status=403)
    rc.expect_error(lambda: rc.client("sts", **other).get_caller_identity(), "InvalidClientTokenId", status=403)
    rc.expect_error(lambda: rc.client("ec2", **other).describe_instances(), "AuthFailure", status=401)
    still_answers()


def test_wrong_secret():
    wrong = {
        "aws_access_key_id": rc.env("AWS_ACCESS_KEY_ID"),
        "aws_secret_access_key": rc.env("AWS_SECRET_ACCESS_KEY")[:-1] + "x",
    }
    if wrong["aws_secret_access_key"] == rc.env("AWS_SECRET_ACCESS_KEY"):
        wrong["aws_secret_access_key"] = wrong["aws_secret_access_key"][:-1] + "y"
    rc.expect_error(lambda: rc.client("iam", **wrong).list_roles(), "SignatureDoesNotMatch", status=403)
    rc.expect_error(lambda: rc.client("sts", **wrong).get_caller_identity(), "SignatureDoesNotMatch", status=403)
    rc.expect_error(lambda: rc.client("ec2", **wrong).describe_instances(), "SignatureDoesNotMatch", status=403)
    # A body changed after signing is a wrong signature too.
    headers, _ = rc.signed("iam", IAM_BODY)
    status, _, text = rc.send(headers, IAM_BODY + "&PathPrefix=%2Fx%2F")
    eq((status, rc.error_code(text)), (403, "SignatureDoesNotMatch"), "body changed after signing")
    still_answers()


def test_clock_skew():
    # AWS's texts: a request from the past has expired, one from the future
    # is not yet current.
    for minutes, prefix in ((-20, "Signature expired:"), (20, "Signature not yet current:")):
        with rc.clock_offset(minutes * 60):
            for service, body in (("iam", IAM_BODY), ("sts", STS_BODY)):
                status, code, message = raw(service, body)
                eq((status, code), (403, "SignatureDoesNotMatch"), f"{service} signed {minutes} min off")
                assert message and message.startswith(prefix), (
                    f"{service} {minutes} min off: message {message!r} should start {prefix!r}"
                )
            status, code, _ = raw("ec2", EC2_BODY)
            eq((status, code), (400, "RequestExpired"), f"ec2 signed {minutes} min off")
    # Within the window (AWS allows 15 minutes) a request is accepted.
    with rc.clock_offset(-4 * 60):
        status, _, text = rc.send(*rc.signed("sts", STS_BODY))
        eq(status, 200, f"signed 4 min off: {text[:300]}")
    still_answers()


def test_rejected_requests_change_nothing():
    before = rc.export()
    create = "Action=CreateRole&Version=2010-05-08&RoleName=intruder&AssumeRolePolicyDocument=" + urllib.parse.quote(
        json.dumps(TRUST_EC2), safe=""
    )
    # Unsigned, unknown key, wrong secret, out of the clock window.
    status, _, text = rc.send({"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, create)
    eq((status, rc.error_code(text)), (403, "MissingAuthenticationToken"), "unsigned CreateRole")
    eq(raw("iam", create, key=UNKNOWN_KEY, secret=UNKNOWN_SECRET)[:2], (403, "InvalidClientTokenId"), "unknown key")
    eq(
        raw("iam", create, secret=rc.env("AWS_SECRET_ACCESS_KEY") + "x")[:2],
        (403, "SignatureDoesNotMatch"),
        "wrong secret",
    )
    with rc.clock_offset(-20 * 60):
        eq(raw("iam", create)[:2], (403, "SignatureDoesNotMatch"), "CreateRole 20 min off")
    ec2_run = "Action=RunInstances&Version=2016-11-15&MinCount=1&MaxCount=1"
    eq(raw("ec2", ec2_run, key=UNKNOWN_KEY, secret=UNKNOWN_SECRET)[:2], (401, "AuthFailure"), "RunInstances unknown key")
    after = rc.export()
    assert before == after, f"a rejected request changed the account:\n--- before\n{before}\n--- after\n{after}"
    rc.expect_error(lambda: rc.client("iam").get_role(RoleName="intruder"), "NoSuchEntity", status=404)
    # The same request, signed properly, does change it: the rows above
    # could have.
    status, _, text = rc.send(*rc.signed("iam", create))
    eq(status, 200, f"signed CreateRole: {text[:300]}")
    assert rc.export() != before, "a signed CreateRole changed nothing"


def test_rotated_key():
    iam = rc.client("iam")
    iam.list_roles()
    rotated = rc.rolecall("emulator", "credentials", "--rotate", "--format", "json")
    new = json.loads(rotated.stdout)
    assert new["AccessKeyId"] != rc.env("AWS_ACCESS_KEY_ID"), f"--rotate kept the key: {new}"
    assert new["AccessKeyId"].startswith("AKIA"), new
    rc.expect_error(lambda: rc.client("iam").list_roles(), "InvalidClientTokenId", status=403)
    fresh = {"aws_access_key_id": new["AccessKeyId"], "aws_secret_access_key": new["SecretAccessKey"]}
    eq(rc.client("sts", **fresh).get_caller_identity()["Account"], ACCOUNT_ID, "the new key")
    shown = json.loads(rc.rolecall("emulator", "credentials", "--format", "json").stdout)
    eq(shown, new, "credentials after --rotate")
    env_lines = rc.rolecall("emulator", "credentials", "--format", "env").stdout.splitlines()
    for line in (f"export AWS_ACCESS_KEY_ID={new['AccessKeyId']}", f"export AWS_SECRET_ACCESS_KEY={new['SecretAccessKey']}"):
        assert line in env_lines, f"credentials --format env lacks {line!r}: {env_lines}"


if __name__ == "__main__":
    rc.main(
        {
            "unsigned": test_unsigned,
            "unknown_key": test_unknown_key,
            "wrong_secret": test_wrong_secret,
            "clock_skew": test_clock_skew,
            "rejected_requests_change_nothing": test_rejected_requests_change_nothing,
            "rotated_key": test_rotated_key,
        }
    )
