"""One account used by `rolecall serve` and `rolecall apply` at once: while
clients read through the endpoint, apply brings up the sample stack
(manifests/), and both succeed; afterwards the plan is empty."""

import json
import threading
import time

import rc
from rc import TRUST_EC2, eq

READERS = 2


def test_apply_while_clients_read():
    rc.client("iam").create_role(RoleName="probe", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    stop = threading.Event()
    calls = [0] * READERS
    errors = []

    def reader(n):
        try:
            iam = rc.client("iam")
            while not stop.is_set():
                eq(iam.get_role(RoleName="probe")["Role"]["RoleName"], "probe", "GetRole")
                names = [r["RoleName"] for r in iam.list_roles()["Roles"]]
                assert "probe" in names, f"ListRoles lost a role: {names}"
                calls[n] += 2
        except Exception as e:
            errors.append(f"reader {n} after {calls[n]} calls: {type(e).__name__}: {e}")

    readers = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(READERS)]
    for t in readers:
        t.start()
    try:
        # The readers are under way (a call each done) before apply starts.
        deadline = time.monotonic() + 60
        while min(calls) == 0 and not errors:
            assert time.monotonic() < deadline, f"the readers made no call in 60 s: {calls}"
            time.sleep(0.01)
        at_start = sum(calls)
        # Run from the repository (the Rust test's working directory).
        applied = rc.rolecall("apply", "--auto-approve", "-f", "manifests/", check=False, timeout=300)
        during = sum(calls) - at_start
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert applied.returncode == 0, f"apply exited {applied.returncode}\n{applied.stdout}\n{applied.stderr}"
    assert not any(t.is_alive() for t in readers), "a reader hangs"
    assert not errors, "\n".join(errors)
    assert during > 0, f"no call through the endpoint completed while apply ran: {calls}"
    print(f"calls through the endpoint while apply ran: {during}")

    planned = rc.rolecall("plan", "--detailed-exitcode", "-f", "manifests/", check=False, timeout=120)
    eq(planned.returncode, 0, f"plan after apply (stdout: {planned.stdout}, stderr: {planned.stderr})")
    # What apply made is visible through the endpoint.
    names = {r["RoleName"] for r in rc.client("iam").list_roles()["Roles"]}
    for role in ("web-server", "batch-worker", "ci-runner", "log-shipper", "probe"):
        assert role in names, f"{role} not listed through the endpoint: {sorted(names)}"
    running = rc.client("ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "state", "Values": ["associated", "associating"]}]
    )["IamInstanceProfileAssociations"]
    assert running, "apply's instances have no association visible through the endpoint"


if __name__ == "__main__":
    rc.main({"apply_while_clients_read": test_apply_while_clients_read})
