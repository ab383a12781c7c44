"""The conformance table through the wire: every row of the table that
tests/emulator_conformance.rs runs in process, run here through `rolecall
serve` with boto3, must give the same answer: `ok`, or the same error code
and message.

The rows come from the Rust test as JSON (CONFORMANCE_CASES names the file),
so the table is written once: [{"name", "setup": [step], "call": step,
"expected"}], a step being {"operation", "params"} or {"quota": n}. `$I` and
`$A` in params and in `expected` stand for the last instance and
association the row created. Each row gets a fresh account and server.
Client-side parameter validation is off: the rows send what AWS refuses.
"""

import concurrent.futures
import json
import threading

import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

import rc

CONFIG = Config(
    parameter_validation=False,
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)
WORKERS = 3

local = threading.local()


def botocore_session():
    # One per thread: clients are thread-safe, creating them is not, and a
    # session caches the service models it loaded.
    if not hasattr(local, "session"):
        local.session = botocore.session.get_session()
        local.services = {}
        for service in ("iam", "ec2", "sts"):
            model = local.session.get_service_model(service)
            for op in model.operation_names:
                local.services.setdefault(op, service)
    return local.session


def substitute(value, instance, association):
    if isinstance(value, str):
        return value.replace("$I", instance).replace("$A", association)
    if isinstance(value, list):
        return [substitute(v, instance, association) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, instance, association) for k, v in value.items()}
    return value


def run_case(case):
    """Runs one row on a fresh server; returns a failure text or None."""
    session = botocore_session()
    with rc.Server() as server:
        clients = {}
        state = {"instance": "", "association": ""}

        def call(step):
            op = step["operation"]
            service = local.services.get(op)
            assert service, f"{op} is an operation of none of iam, ec2, sts"
            if service not in clients:
                clients[service] = session.create_client(
                    service,
                    region_name=rc.REGION,
                    endpoint_url=server.url,
                    aws_access_key_id=server.key,
                    aws_secret_access_key=server.secret,
                    config=CONFIG,
                )
            params = substitute(step["params"], state["instance"], state["association"])
            try:
                out = getattr(clients[service], xform_name(op))(**params)
            except ClientError as e:
                error = e.response["Error"]
                return f"{error.get('Code')}: {error.get('Message')}"
            if out.get("Instances"):
                state["instance"] = out["Instances"][0]["InstanceId"]
            if out.get("IamInstanceProfileAssociation"):
                state["association"] = out["IamInstanceProfileAssociation"]["AssociationId"]
            return "ok"

        problems = []
        for step in case["setup"]:
            if "quota" in step:
                n = str(step["quota"])
                server.run("emulator", "configure", "--max-roles", n, "--max-instance-profiles", n)
                continue
            got = call(step)
            if got != "ok":
                problems.append(f"setup {step['operation']} failed: {got}")
        got = call(case["call"])
        expected = case["expected"].replace("$I", state["instance"]).replace("$A", state["association"])
        if got != expected:
            problems.append(f"expected {expected}\n  got      {got}")
        # The server survived the row.
        assert server.process.poll() is None, f"the server died on this row\n{server.log()}"
    if problems:
        return f"{case['name']}:\n  " + "\n  ".join(problems)
    return None


def test_table():
    with open(rc.env("CONFORMANCE_CASES")) as f:
        cases = json.load(f)
    assert len(cases) > 100, f"only {len(cases)} rows: is the table read?"
    failures = []
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for case, result in zip(cases, pool.map(lambda c: _guarded(run_case, c), cases)):
            if result:
                failures.append(result)
    print(f"{len(cases) - len(failures)} of {len(cases)} rows as in process")
    assert not failures, f"{len(failures)} rows differ through the wire:\n" + "\n".join(failures)


def _guarded(function, case):
    try:
        return function(case)
    except Exception as e:  # one row's crash is that row's failure
        return f"{case['name']}: {type(e).__name__}: {e}"


if __name__ == "__main__":
    rc.main({"table": test_table})
