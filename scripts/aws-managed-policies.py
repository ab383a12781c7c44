#!/usr/bin/env python3
"""Rebuilds crates/policy/src/aws_managed_policies.txt, the AWS-managed policies
rolecall knows (path and name of each), from a checkout of the public dataset
https://github.com/iann0036/iam-dataset, which records every AWS-managed policy
in aws/managedpolicies/NAME.json.

    git clone --depth 1 https://github.com/iann0036/iam-dataset /tmp/iam-dataset
    scripts/aws-managed-policies.py /tmp/iam-dataset > crates/policy/src/aws_managed_policies.txt

Only facts are kept: the path and name from each policy's ARN. Policies the
dataset marks deprecated (AWS no longer lists them) or records without an ARN
are left out and named on stderr. The commit and its date are read with git;
pass them as the second and third argument when the checkout is not a git
work tree. Standard library only.
"""

import json
import pathlib
import subprocess
import sys

PREFIX = "arn:aws:iam::aws:policy"


def main() -> int:
    if len(sys.argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    checkout = pathlib.Path(sys.argv[1])
    if len(sys.argv) == 4:
        commit, date = sys.argv[2], sys.argv[3]
    else:
        commit, date = subprocess.run(
            ["git", "-C", str(checkout), "log", "-1", "--format=%H %cs"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    policies = set()
    for file in sorted((checkout / "aws" / "managedpolicies").glob("*.json")):
        record = json.loads(file.read_text(encoding="utf-8"))
        arn = record.get("arn")
        if record.get("deprecated") or not arn:
            print(f"left out (deprecated or no ARN): {file.stem}", file=sys.stderr)
            continue
        if not arn.startswith(PREFIX + "/"):
            raise SystemExit(f"{file}: unexpected ARN {arn}")
        path_and_name = arn[len(PREFIX):]
        if path_and_name.rsplit("/", 1)[1] != file.stem:
            raise SystemExit(f"{file}: the ARN {arn} names another policy")
        policies.add(path_and_name)
    print("# AWS-managed policies: path and name, one a line (ARN: arn:aws:iam::aws:policy + line).")
    print("# Source: github.com/iann0036/iam-dataset, aws/managedpolicies/*.json,")
    print(f"# commit {commit} ({date}); deprecated policies left out.")
    print("# Rebuilt by scripts/aws-managed-policies.py; do not edit by hand.")
    for policy in sorted(policies):
        print(policy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
