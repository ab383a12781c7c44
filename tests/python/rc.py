"""Helpers shared by the client tests of `rolecall serve`.

tests/serve_clients.rs starts the server on a fresh account and runs one
function of a script here with the environment an AWS client needs
(AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
empty AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE) plus ROLECALL (the
binary) and ROLECALL_ACCOUNT (the account the server serves). A check that
fails raises AssertionError with the values compared; the script then exits
non-zero and the Rust test prints its output.
"""

import contextlib
import ctypes
import datetime
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
# No retries: a test sees the server's first answer, and a throttled call
# fails at once instead of being retried for long.
NO_RETRY = Config(
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)
# Timeout of one raw HTTP exchange: the server must answer well within it.
SOCKET_TIMEOUT = 10


def env(name):
    value = os.environ.get(name)
    assert value, f"environment variable {name} is not set"
    return value


def endpoint():
    """(host, port) of AWS_ENDPOINT_URL."""
    url = urllib.parse.urlsplit(env("AWS_ENDPOINT_URL"))
    assert url.scheme == "http" and url.hostname == "127.0.0.1", url
    return url.hostname, url.port


def client(service, config=NO_RETRY, **credentials):
    """A client configured as a user would: endpoint, region and keys from
    the environment (unless `credentials` gives aws_access_key_id...)."""
    return boto3.session.Session(**credentials).client(service, config=config)


def eq(got, want, what=""):
    assert got == want, f"{what}: expected {want!r}, got {got!r}"


def expect_error(call, code, message=None, status=None, prefix=None):
    """Runs `call`, which must fail with `code` (and `message`, the HTTP
    `status`, a message starting with `prefix`); returns the error response."""
    try:
        result = call()
    except ClientError as e:
        error = e.response["Error"]
        eq(error.get("Code"), code, "error code")
        if message is not None:
            eq(error.get("Message"), message, f"message of {code}")
        if prefix is not None:
            assert error.get("Message", "").startswith(prefix), (
                f"message of {code} should start {prefix!r}: {error.get('Message')!r}"
            )
        if status is not None:
            eq(e.response["ResponseMetadata"]["HTTPStatusCode"], status, f"status of {code}")
        assert e.response["ResponseMetadata"].get("RequestId"), f"{code} without a RequestId"
        return e.response
    raise AssertionError(f"expected {code}, got success: {result!r}")


def lookup_events(attribute, until, wait=10.0):
    """`rolecall emulator lookup-events --lookup-attributes ATTRIBUTE`, asked
    again until `until(events)` holds or `wait` seconds pass: a read or a
    denied call through serve reaches the trail a moment after its answer
    (the server's trail writer gathers them, as CloudTrail delivers events
    after the call), so a test looks for it as a CloudTrail reader would."""
    deadline = time.monotonic() + wait
    while True:
        events = json.loads(rolecall("emulator", "lookup-events", "--lookup-attributes", attribute).stdout)["Events"]
        if until(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def rolecall(*args, check=True, timeout=120, cwd=None, env_extra=None):
    """Runs the rolecall binary on the served account; returns the result."""
    environment = dict(os.environ)
    environment.update(env_extra or {})
    environment.setdefault("NO_COLOR", "1")
    result = subprocess.run(
        [env("ROLECALL"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    if check:
        assert result.returncode == 0, (
            f"rolecall {' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result


def export():
    """The whole account as `rolecall emulator export` writes it."""
    return rolecall("emulator", "export", "-").stdout


# -- raw requests ---------------------------------------------------------


@contextlib.contextmanager
def clock_offset(seconds):
    """Makes botocore sign as if the clock were `seconds` off."""
    real = botocore.auth.get_current_datetime

    def shifted(*args, **kwargs):
        return real(*args, **kwargs) + datetime.timedelta(seconds=seconds)

    botocore.auth.get_current_datetime = shifted
    try:
        yield
    finally:
        botocore.auth.get_current_datetime = real


def signed(service, body, key=None, secret=None, token=None, headers=None):
    """Headers and body of a POST / signed with SigV4 for `service`."""
    host, port = endpoint()
    request = botocore.awsrequest.AWSRequest(
        method="POST",
        url=f"http://{host}:{port}/",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            **(headers or {}),
        },
    )
    credentials = botocore.credentials.Credentials(
        key or env("AWS_ACCESS_KEY_ID"), secret or env("AWS_SECRET_ACCESS_KEY"), token
    )
    botocore.auth.SigV4Auth(credentials, service, REGION).add_auth(request)
    return dict(request.headers.items()), body


def send(headers, body, method="POST", path="/", connection=None):
    """Sends one request on a fresh connection (or `connection`); returns
    (status, headers, body text). Never waits more than SOCKET_TIMEOUT."""
    host, port = endpoint()
    conn = connection or http.client.HTTPConnection(host, port, timeout=SOCKET_TIMEOUT)
    if isinstance(body, str):
        body = body.encode()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read().decode("utf-8", "replace")
    if connection is None:
        conn.close()
    return response.status, dict(response.getheaders()), data


def error_code(text):
    """The <Code> of an AWS error envelope (query or EC2)."""
    start = text.find("<Code>")
    end = text.find("</Code>")
    assert start >= 0 and end > start, f"no <Code> in the response: {text[:500]!r}"
    return text[start + len("<Code>") : end]


def error_message(text):
    start = text.find("<Message>")
    end = text.find("</Message>")
    if start < 0 or end < start:
        return None
    return text[start + len("<Message>") : end]


# -- servers started by a script (conformance rows need fresh accounts) ---

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # The server ends when this script does, whatever kills it.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Server:
    """`rolecall serve` on a fresh account in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="rolecall-serve-")
        self.account = os.path.join(self.dir.name, "account.db")
        self.env = dict(os.environ, ROLECALL_ACCOUNT=self.account, NO_COLOR="1")
        creds = json.loads(self.run("emulator", "credentials", "--format", "json").stdout)
        self.key, self.secret = creds["AccessKeyId"], creds["SecretAccessKey"]
        self.stderr = open(os.path.join(self.dir.name, "serve.stderr"), "w+")
        self.process = subprocess.Popen(
            [env("ROLECALL"), "serve", "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
            preexec_fn=_die_with_parent,
        )
        self.url = None
        lines = []
        timer = threading.Timer(30, self.process.kill)
        timer.start()
        try:
            for line in self.process.stdout:
                lines.append(line)
                if line.startswith("export AWS_ENDPOINT_URL="):
                    self.url = line.strip().split("=", 1)[1]
                if line.startswith("export AWS_REGION="):
                    break
        finally:
            timer.cancel()
        if self.url is None:
            self.close()
            raise AssertionError(f"rolecall serve printed no endpoint: {lines!r}\n{self.log()}")

    def run(self, *args):
        result = subprocess.run(
            [env("ROLECALL"), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, f"rolecall {args} failed: {result.stderr}"
        return result

    def client(self, service, config=NO_RETRY):
        return boto3.session.Session(
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name=REGION,
        ).client(service, endpoint_url=self.url, config=config)

    def log(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def close(self):
        """SIGTERM; the server must exit 0 within 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"rolecall serve did not stop on SIGTERM\n{self.log()}")
        finally:
            self.process.stdout.close()
        log = self.log()
        self.stderr.close()
        self.dir.cleanup()
        assert code == 0, f"rolecall serve exited {code}\n{log}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- running a script's tests ---------------------------------------------


def main(tests):
    """Runs the test named by argv[1] (a function of `tests`), or all."""
    names = sys.argv[1:] or list(tests)
    for name in names:
        assert name in tests, f"no test {name!r}; known: {sorted(tests)}"
    failed = 0
    for name in names:
        started = time.monotonic()
        try:
            tests[name]()
        except Exception:
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
        else:
            print(f"ok {name} ({time.monotonic() - started:.2f}s)", flush=True)
    sys.exit(1 if failed else 0)
