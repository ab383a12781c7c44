"""Many clients at once, each with its own session, and one client reusing
its connection (keep-alive)."""

import http.client
import json
import logging
import threading

import rc
from rc import TRUST_EC2, eq

THREADS = 8
CALLS = 25
DEADLINE = 120  # seconds for all the threads together


def test_concurrent_clients():
    rc.client("iam").create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    rc.client("ec2").run_instances(
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-1"}]}],
    )
    errors = []
    done = []
    start = threading.Barrier(THREADS)

    def worker(n):
        try:
            iam, ec2 = rc.client("iam"), rc.client("ec2")  # a session each
            start.wait(timeout=60)
            for i in range(CALLS):
                if i % 3 == 0:
                    iam.tag_role(RoleName="web", Tags=[{"Key": f"t{n}", "Value": f"v{i}"}])
                elif i % 3 == 1:
                    eq(iam.get_role(RoleName="web")["Role"]["RoleName"], "web", "GetRole")
                else:
                    reservations = ec2.describe_instances()["Reservations"]
                    eq(len(reservations), 1, "DescribeInstances reservations")
            done.append(n)
        except Exception as e:
            errors.append(f"thread {n}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE)
    assert not any(t.is_alive() for t in threads), f"threads still running after {DEADLINE} s"
    assert not errors, "\n".join(errors)
    eq(sorted(done), list(range(THREADS)), "threads done")
    last = max(i for i in range(CALLS) if i % 3 == 0)
    got = {t["Key"]: t["Value"] for t in rc.client("iam").list_role_tags(RoleName="web")["Tags"]}
    eq(got, {f"t{n}": f"v{last}" for n in range(THREADS)}, "tags after the concurrent TagRoles")


class NewConnections(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if "Starting new HTTP connection" in record.getMessage():
            self.count += 1


def test_keep_alive():
    # boto3: one client, twenty calls, one connection.
    counter = NewConnections()
    log = logging.getLogger("urllib3.connectionpool")
    log.addHandler(counter)
    log.setLevel(logging.DEBUG)
    try:
        iam, sts = rc.client("iam"), rc.client("sts")
        for _ in range(10):
            iam.list_roles()
        rc.expect_error(lambda: iam.get_role(RoleName="nope"), "NoSuchEntity", status=404)
        for _ in range(10):
            iam.list_roles()
        eq(counter.count, 1, "connections opened by one IAM client for 21 calls (an error among them)")
        sts.get_caller_identity()
        eq(counter.count, 2, "connections after a second client's call")
    finally:
        log.removeHandler(counter)

    # Raw: ten requests on one socket, which must stay open between them.
    host, port = rc.endpoint()
    conn = http.client.HTTPConnection(host, port, timeout=rc.SOCKET_TIMEOUT)
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    status, headers, text = rc.send(*rc.signed("sts", body), connection=conn)
    eq(status, 200, f"first request: {text[:300]}")
    sock = conn.sock
    assert sock is not None, f"the server closed the connection after one request: {headers}"
    for i in range(9):
        status, headers, text = rc.send(*rc.signed("sts", body), connection=conn)
        eq(status, 200, f"request {i + 2} on the connection: {text[:300]}")
        assert conn.sock is sock, f"request {i + 2}: the connection was not kept alive ({headers})"
    conn.close()


if __name__ == "__main__":
    rc.main({"concurrent_clients": test_concurrent_clients, "keep_alive": test_keep_alive})
