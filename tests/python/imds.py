"""The lab instances' metadata service (IMDSv2) that `rolecall serve`
answers under /imds/<instance-id>/: SDKs "on an instance" get the
instance role's credentials from it with their own instance-metadata
provider, and the protocol answers as EC2's with HttpTokens=required.

The lab is set up with the administrator key (the environment's); what
runs "on the instance" runs in a subprocess whose environment holds no
key, profile or config at all: only AWS_EC2_METADATA_SERVICE_ENDPOINT,
AWS_ENDPOINT_URL and the region."""

import calendar
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

import rc
from rc import ACCOUNT_ID, REGION, TRUST_ACCOUNT, TRUST_EC2, eq

TTL = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN = "x-aws-ec2-metadata-token"
# What the instance's programs may do (GetCallerIdentity needs nothing).
READS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "ec2:Describe*"], "Resource": "*"}],
}
UNAUTHORIZED = (
    "EC2 cannot assume the role {}.  Please see documentation at "
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html"
    "#troubleshoot_roles_ec2-instance-profile."
)
# Run "on the instance": the SDK's own credential chain, which finds
# nothing before the instance-metadata provider. Prints JSON.
ON_INSTANCE = """
import json, sys
import boto3
session = boto3.Session()
credentials = session.get_credentials()
if credentials is None:
    print(json.dumps({"credentials": None}))
    sys.exit(0)
frozen = credentials.get_frozen_credentials()
identity = session.client("sts").get_caller_identity()
print(json.dumps({
    "credentials": {"method": credentials.method, "key": frozen.access_key,
                    "secret": frozen.secret_key, "token": frozen.token},
    "arn": identity["Arn"],
}))
"""


# -- the lab, through the endpoint with the administrator key --------------


def role(name, trust=TRUST_EC2, profile=True):
    """A role with `trust` and an inline policy, and (unless `profile` is
    False) an instance profile of the same name holding it."""
    iam = rc.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="reads", PolicyDocument=json.dumps(READS))
    if profile:
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def instance(profile=None):
    """A running instance, launched on `profile` if one is named; its id."""
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    return rc.client("ec2").run_instances(MinCount=1, MaxCount=1, **extra)["Instances"][0]["InstanceId"]


def association(instance_id):
    """The instance's association, once `associated` (polled, 30 s at most:
    AWS passes through `associating`, the emulator may be told to)."""
    ec2 = rc.client("ec2")
    deadline = time.monotonic() + 30
    while True:
        found = ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [instance_id]}]
        )["IamInstanceProfileAssociations"]
        live = [a for a in found if a["State"] == "associated"]
        if live:
            return live[0]
        assert time.monotonic() < deadline, f"no associated profile for {instance_id}: {found}"
        time.sleep(0.2)


# -- on the instance -------------------------------------------------------


def base_url(instance_id):
    return f"{rc.env('AWS_ENDPOINT_URL')}/imds/{instance_id}/"


def on_instance(instance_id):
    """ON_INSTANCE run as a program on the instance would: no key, no
    profile, empty AWS config files, IMDS at the instance's URL."""
    with tempfile.TemporaryDirectory(prefix="rolecall-instance-") as home:
        empty = os.path.join(home, "empty")
        open(empty, "w").close()
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # No ~/.aws, ~/.boto or /etc/boto.cfg of the user's.
            "HOME": home,
            "BOTO_CONFIG": empty,
            "AWS_CONFIG_FILE": empty,
            "AWS_SHARED_CREDENTIALS_FILE": empty,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": base_url(instance_id),
            "AWS_ENDPOINT_URL": rc.env("AWS_ENDPOINT_URL"),
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # botocore's default is one attempt with a 1 s timeout: room
            # for a loaded test machine.
            "AWS_METADATA_SERVICE_TIMEOUT": "5",
            "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        result = subprocess.run(
            [sys.executable, "-c", ON_INSTANCE],
            capture_output=True,
            text=True,
            timeout=60,
            env=environment,
            stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 0, f"on {instance_id}: exit {result.returncode}\n{result.stderr}"
    return json.loads(result.stdout)


def imds(instance_id, path, method="GET", headers=None):
    """One raw request to the instance's IMDS: (status, headers with
    lower-case names, body). Never waits more than rc.SOCKET_TIMEOUT."""
    host, port = rc.endpoint()
    conn = http.client.HTTPConnection(host, port, timeout=rc.SOCKET_TIMEOUT)
    try:
        conn.request(method, f"/imds/{instance_id}{path}", headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def token(instance_id, ttl="21600"):
    status, headers, body = imds(instance_id, "/latest/api/token", "PUT", {TTL: ttl})
    eq(status, 200, f"PUT token on {instance_id}")
    eq(headers.get(TTL), ttl, "the TTL header echoed")
    assert len(body) >= 32, f"token too short to be unguessable: {body!r}"
    return body


def get(instance_id, path, token_text):
    return imds(instance_id, path, headers={TOKEN: token_text})


def get_ok(instance_id, path, token_text):
    status, _, body = get(instance_id, path, token_text)
    eq(status, 200, f"GET {path} on {instance_id} ({body[:200]!r})")
    return body


def get_status(instance_id, path, token_text):
    return get(instance_id, path, token_text)[0]


# -- tests -----------------------------------------------------------------


def test_sdk_credentials():
    role("web")
    web = instance("web")
    association(web)

    seen = on_instance(web)
    credentials = seen["credentials"]
    assert credentials, f"the SDK found no credentials on {web}: {seen}"
    # botocore's InstanceMetadataProvider, not keys from anywhere else.
    eq(credentials["method"], "iam-role", "credential provider")
    assert credentials["key"].startswith("ASIA"), credentials["key"]
    eq(seen["arn"], f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/web/{web}", "GetCallerIdentity on the instance")

    # What the SDK read, as the protocol hands it out.
    t = token(web)
    eq(get_ok(web, "/latest/meta-data/iam/security-credentials/", t), "web", "security-credentials/")
    document = json.loads(get_ok(web, "/latest/meta-data/iam/security-credentials/web", t))
    eq(list(document), ["Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"], "keys")
    eq(document["Code"], "Success", "Code")
    eq(document["Type"], "AWS-HMAC", "Type")
    # The session the SDK got is the instance's current one: handed out again.
    eq(document["AccessKeyId"], credentials["key"], "the current session")
    eq(document["Token"], credentials["token"], "its token")
    lifetime = rc_seconds(document["Expiration"]) - rc_seconds(document["LastUpdated"])
    eq(lifetime, 6 * 3600, "instance sessions last 6 hours")

    profile = rc.client("iam").get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    info = json.loads(get_ok(web, "/latest/meta-data/iam/info", t))
    eq(list(info), ["Code", "LastUpdated", "InstanceProfileArn", "InstanceProfileId"], "iam/info keys")
    eq(info["Code"], "Success", "iam/info Code")
    eq(info["InstanceProfileArn"], profile["Arn"], "iam/info InstanceProfileArn")
    eq(info["InstanceProfileId"], profile["InstanceProfileId"], "iam/info InstanceProfileId")

    # rolecall itself (aws-sdk-rust's IMDS client, which needs the TTL
    # header echoed) reads the account with the instance's credentials.
    with tempfile.TemporaryDirectory(prefix="rolecall-instance-") as home:
        empty = os.path.join(home, "empty")
        open(empty, "w").close()
        manifests = os.path.join(home, "stack")
        os.mkdir(manifests)
        with open(os.path.join(manifests, "stack.yaml"), "w") as f:
            f.write("kind: Stack\nname: demo\n")
        result = subprocess.run(
            [rc.env("ROLECALL"), "--cloud", "aws", "plan", "-f", manifests],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=home,
            stdin=subprocess.DEVNULL,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": home,
                "NO_COLOR": "1",
                "AWS_CONFIG_FILE": empty,
                "AWS_SHARED_CREDENTIALS_FILE": empty,
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": base_url(web),
                "AWS_ENDPOINT_URL": rc.env("AWS_ENDPOINT_URL"),
                "AWS_REGION": REGION,
            },
        )
        eq(result.returncode, 0, f"rolecall --cloud aws plan on the instance (stderr: {result.stderr!r})")


def rc_seconds(text):
    """Seconds since the epoch of an IMDS time (`2026-12-03T17:00:00Z`)."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def test_profile_replacement():
    role("web")
    role("api")
    web = instance("web")
    old = association(web)
    before = on_instance(web)
    eq(before["arn"], f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/web/{web}", "before the replacement")

    rc.client("ec2").replace_iam_instance_profile_association(
        AssociationId=old["AssociationId"], IamInstanceProfile={"Name": "api"}
    )
    eq(association(web)["IamInstanceProfile"]["Arn"].rsplit("/", 1)[1], "api", "the new association")

    # A new session on the instance is of the new role, at once.
    after = on_instance(web)
    eq(after["credentials"]["method"], "iam-role", "credential provider after the replacement")
    eq(after["arn"], f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/api/{web}", "after the replacement")
    assert after["credentials"]["key"] != before["credentials"]["key"], "a new session"
    t = token(web)
    eq(get_ok(web, "/latest/meta-data/iam/security-credentials/", t), "api", "the role listed")
    eq(get_status(web, "/latest/meta-data/iam/security-credentials/web", t), 404, "the old role's path")

    # The session handed out before still works until it expires.
    old_sts = rc.client(
        "sts",
        aws_access_key_id=before["credentials"]["key"],
        aws_secret_access_key=before["credentials"]["secret"],
        aws_session_token=before["credentials"]["token"],
    )
    eq(
        old_sts.get_caller_identity()["Arn"],
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/web/{web}",
        "the old session after the replacement",
    )


def test_untrusted_role():
    # Trusts the account, not EC2: EC2 cannot assume it for the instance.
    role("admin", trust=TRUST_ACCOUNT)
    box = instance("admin")
    association(box)
    t = token(box)
    eq(get_ok(box, "/latest/meta-data/iam/security-credentials/", t), "admin", "the role is still listed")
    for path in ["/latest/meta-data/iam/info", "/latest/meta-data/iam/security-credentials/admin"]:
        document = json.loads(get_ok(box, path, t))
        eq(list(document), ["Code", "Message", "LastUpdated"], f"keys of {path}")
        eq(document["Code"], "AssumeRoleUnauthorizedAccess", f"Code of {path}")
        eq(document["Message"], UNAUTHORIZED.format("admin"), f"Message of {path}")
    eq(on_instance(box), {"credentials": None}, "what the SDK finds on the instance")


def test_no_profile():
    bare = instance()
    t = token(bare)
    listing = get_ok(bare, "/latest/meta-data/", t).split("\n")
    assert "iam/" not in listing and "instance-id" in listing, listing
    for path in ["iam/", "iam/info", "iam/security-credentials/"]:
        eq(get_status(bare, f"/latest/meta-data/{path}", t), 404, f"{path} without a profile")
    eq(on_instance(bare), {"credentials": None}, "what the SDK finds on an instance without a profile")

    # A profile without a role: the profile shows, no credentials.
    rc.client("iam").create_instance_profile(InstanceProfileName="empty")
    rc.client("ec2").associate_iam_instance_profile(InstanceId=bare, IamInstanceProfile={"Name": "empty"})
    association(bare)
    assert "iam/" in get_ok(bare, "/latest/meta-data/", t).split("\n"), "iam/ once associated"
    info = json.loads(get_ok(bare, "/latest/meta-data/iam/info", t))
    eq(info["Code"], "Success", "iam/info of a profile without a role")
    assert info["InstanceProfileArn"].endswith(":instance-profile/empty"), info
    eq(get_status(bare, "/latest/meta-data/iam/security-credentials/", t), 404, "no role to list")

    # While `associating` the instance has no profile yet.
    role("web")
    rc.rolecall("emulator", "configure", "--associating-ms", "600000")
    late = instance("web")
    t = token(late)
    eq(get_status(late, "/latest/meta-data/iam/info", t), 404, "iam/info while associating")
    assert "iam/" not in get_ok(late, "/latest/meta-data/", t).split("\n"), "no iam/ while associating"


def test_protocol():
    role("web")
    a, b = instance("web"), instance("web")

    # PUT /latest/api/token
    t = token(a, "21600")
    token(a, "1")
    for ttl in [None, "0", "21601", "-5", "abc", ""]:
        headers = {} if ttl is None else {TTL: ttl}
        eq(imds(a, "/latest/api/token", "PUT", headers)[0], 400, f"PUT token with TTL {ttl!r}")
    forwarded = {TTL: "60", "X-Forwarded-For": "203.0.113.7"}
    eq(imds(a, "/latest/api/token", "PUT", forwarded)[0], 403, "PUT token through a proxy")
    assert token(a) != t, "every token differs"

    # Every GET needs a live token of this instance.
    eq(imds(a, "/latest/meta-data/instance-id")[0], 401, "no token")
    eq(get_status(a, "/latest/meta-data/instance-id", "A" * 64), 401, "wrong token")
    eq(get_status(a, "/latest/meta-data/instance-id", t + "x"), 401, "token with a byte more")
    short = token(a, "1")
    eq(get_ok(a, "/latest/meta-data/instance-id", short), a, "a token before its TTL")
    time.sleep(1.1)
    eq(get_status(a, "/latest/meta-data/instance-id", short), 401, "expired token")
    eq(get_status(b, "/latest/meta-data/instance-id", t), 401, "another instance's token")
    eq(get_ok(b, "/latest/meta-data/instance-id", token(b)), b, "b's own token")

    # The keys, with EC2's values.
    eq(get_ok(a, "/latest/meta-data/instance-id", t), a, "instance-id")
    eq(get_ok(a, "//latest//meta-data/instance-id", t), a, "doubled slashes")
    eq(imds(a, "//latest/api/token", "PUT", {TTL: "60"})[0], 200, "PUT token with a doubled slash")
    eq(get_ok(a, "/latest/meta-data/placement/region", t), REGION, "placement/region")
    eq(get_ok(a, "/latest/meta-data/placement/availability-zone", t), REGION + "a", "availability-zone")
    listing = get_ok(a, "/latest/meta-data/", t).split("\n")
    for key in ["iam/", "instance-id", "placement/"]:
        assert key in listing, f"{key} not in meta-data/: {listing}"
    document = json.loads(get_ok(a, "/latest/dynamic/instance-identity/document", t))
    eq(document["accountId"], ACCOUNT_ID, "accountId")
    eq(document["instanceId"], a, "instanceId")
    eq(document["region"], REGION, "region")
    eq(document["availabilityZone"], REGION + "a", "availabilityZone")
    described = rc.client("ec2").describe_instances(InstanceIds=[a])["Reservations"][0]["Instances"][0]
    eq(document["instanceType"], described["InstanceType"], "instanceType")
    eq(document["imageId"], described["ImageId"], "imageId")
    status, headers, _ = get(a, "/latest/meta-data/instance-id", t)
    assert headers.get("content-type", "").startswith("text/plain"), headers
    for path in ["/latest/meta-data/nope", "/latest/meta-data/iam/security-credentials/other", "/nope"]:
        eq(get_status(a, path, t), 404, f"GET {path}")

    # No such instance, or one that no longer runs: 404 for everything.
    unknown = "i-0123456789abcdef0"
    eq(imds(unknown, "/latest/api/token", "PUT", {TTL: "60"})[0], 404, "PUT token of an unknown instance")
    eq(get_status(unknown, "/latest/meta-data/instance-id", t), 404, "GET on an unknown instance")
    eq(imds("not-an-id", "/latest/api/token", "PUT", {TTL: "60"})[0], 404, "PUT token of a junk id")
    rc.client("ec2").terminate_instances(InstanceIds=[b])
    eq(imds(b, "/latest/api/token", "PUT", {TTL: "60"})[0], 404, "PUT token of a terminated instance")
    eq(get_status(a, "/latest/meta-data/instance-id", t), 200, "a still answers")


if __name__ == "__main__":
    rc.main(
        {
            "sdk_credentials": test_sdk_credentials,
            "profile_replacement": test_profile_replacement,
            "untrusted_role": test_untrusted_role,
            "no_profile": test_no_profile,
            "protocol": test_protocol,
        }
    )
