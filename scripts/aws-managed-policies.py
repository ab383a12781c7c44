#!/usr/bin/env python3
"""Rebuilds crates/policy/src/aws_managed_policies.jsonl, the AWS-managed
policies rolecall knows (path, name, default version and that version's
document), from moto's bundled copy, moto/iam/aws_managed_policies.py.

    scripts/python-env.sh
    target/python-env/bin/python scripts/aws-managed-policies.py > crates/policy/src/aws_managed_policies.jsonl

moto (Apache-2.0) is pinned in tests/python/requirements.txt, so the tests'
environment holds the copy this list is built from. moto generates that
module from AWS's own IAM API (its scripts/update_managed_policies.py:
ListPolicies with Scope=AWS, then GetPolicyVersion of each default version;
"Imported via `make aws_managed_policies`"); it holds one JSON text,
{NAME: {"Path", "DefaultVersionId", "Document", "CreateDate", "UpdateDate",
...}}.

Without an argument the script finds the moto package of the Python running
it (importlib.util.find_spec, which does not import moto). An argument names
another copy: a moto package directory (.../site-packages/moto, or moto/ in a
checkout of github.com/getmoto/moto). moto's code is never run: the module is
parsed with `ast` and its string constant read, and the version is read the
same way from the package's __init__.py (`__version__`). Standard library
only.

Output: `#` header lines (source and version; `# As of DATE`, the newest
UpdateDate, which rolecall quotes as the list's date; licence), then one minified JSON object a line, sorted by path
and name:
{"path":"/","name":"ReadOnlyAccess","version":"v123","document":{...}}
Only these facts are kept (not the dates or usage counts). Policies without
a default version or document, or that a record marks deprecated, are left
out and named on stderr; moto's source lists only what ListPolicies returns,
which leaves out deprecated policies already, so none is expected.
"""

import ast
import importlib.util
import json
import os
import re
import sys

PREFIX = "arn:aws:iam::aws:policy"
MODULE = os.path.join("iam", "aws_managed_policies.py")
VARIABLE = "aws_managed_policies_data"
# IAM's grammar for paths and names; the Rust reader relies on it (no quotes
# or backslashes) to find the path and name without parsing the JSON.
PATH = re.compile(r"^/([\w+=,.@-]+/)*$")
NAME = re.compile(r"^[\w+=,.@-]+$")
VERSION = re.compile(r"^v[0-9]+$")


def string_constant(file, variable):
    """The string a module assigns to `variable` at top level, read without running it."""
    with open(file, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=file)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise SystemExit(f"{file}: no string assigned to {variable}")


def moto_package():
    """The directory of the moto package: the argument, or the one this Python would import."""
    if len(sys.argv) == 2:
        return sys.argv[1]
    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "this Python has no moto: run target/python-env/bin/python (scripts/python-env.sh "
            "builds it) or name a moto package directory"
        )
    return list(spec.submodule_search_locations)[0]


def main() -> int:
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    package = moto_package()
    version = string_constant(os.path.join(package, "__init__.py"), "__version__")
    data = json.loads(string_constant(os.path.join(package, MODULE), VARIABLE))
    if not isinstance(data, dict) or not data:
        raise SystemExit(f"{MODULE}: {VARIABLE} is not an object of policies")
    policies = {}
    newest = ""
    for name, record in data.items():
        if not isinstance(record, dict):
            raise SystemExit(f"{name}: not an object")
        policy_path = record.get("Path")
        default, document = record.get("DefaultVersionId"), record.get("Document")
        if (
            record.get("IsDeprecated")
            or record.get("Deprecated")
            or not isinstance(default, str)
            or not isinstance(document, dict)
        ):
            print(f"left out (deprecated, or no default version or document): {name}", file=sys.stderr)
            continue
        if not isinstance(policy_path, str) or not PATH.match(policy_path) or not NAME.match(name):
            raise SystemExit(f"{name}: path {policy_path!r} and name are not what IAM allows")
        if not VERSION.match(default):
            raise SystemExit(f"{name}: unexpected default version {default!r}")
        arn = record.get("Arn")
        if arn is not None and arn != PREFIX + policy_path + name:
            raise SystemExit(f"{name}: the ARN {arn} is not its path and name")
        newest = max(newest, str(record.get("UpdateDate", "")))
        policies[policy_path + name] = {
            "path": policy_path,
            "name": name,
            "version": default,
            "document": document,
        }
    if not re.match(r"^\d{4}-\d\d-\d\d", newest):
        raise SystemExit(f"no usable UpdateDate (newest: {newest!r})")
    print("# AWS-managed policies: path, name, default version and its document, one JSON object a line")
    print("# (ARN: arn:aws:iam::aws:policy + path + name).")
    print(f"# Source: moto {version}, moto/iam/aws_managed_policies.py (read from IAM's ListPolicies and")
    print("# GetPolicyVersion by moto's scripts/update_managed_policies.py).")
    # The Rust reader (aws_policies::list_date) reads the date from this line.
    print(f"# As of {newest[:10]} (the newest UpdateDate in it).")
    print("# Licence: moto is Apache-2.0 (github.com/getmoto/moto); the documents themselves are AWS's,")
    print("# as IAM's GetPolicyVersion returns them.")
    print("# Rebuild: scripts/python-env.sh, then target/python-env/bin/python scripts/aws-managed-policies.py")
    print("# > crates/policy/src/aws_managed_policies.jsonl. Do not edit by hand.")
    for key in sorted(policies):
        print(json.dumps(policies[key], separators=(",", ":"), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
