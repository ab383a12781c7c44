#!/usr/bin/env python3
"""Rebuilds crates/policy/src/aws_managed_policies.jsonl, the AWS-managed
policies rolecall knows (path, name, default version and that version's
document), from the public dataset https://github.com/iann0036/iam-dataset,
which records every AWS-managed policy in aws/managedpolicies/NAME.json.

    git clone https://github.com/iann0036/iam-dataset /tmp/iam-dataset
    scripts/aws-managed-policies.py /tmp/iam-dataset > crates/policy/src/aws_managed_policies.jsonl

The argument is a git repository of the dataset (work tree or bare); the
commit read is HEAD, or the second argument. Files are read with git, so the
header can name the commit and its date.

Output: `#` header lines (source, commit, licence), then one minified JSON
object a line, sorted by path and name:
{"path":"/","name":"ReadOnlyAccess","version":"v123","document":{...}}
Only these facts are kept; the dataset's own analysis (effective actions,
privilege-escalation flags) is not. Policies the dataset marks deprecated
(AWS no longer lists them) or records without an ARN are left out and named
on stderr.

A shallow or partial copy may lack a record's file (the largest records, such
as AdministratorAccess, whose expanded actions run to megabytes). Such a
record is then taken from the newest earlier commit that has it, and the
header names it with that commit, so the file says which entries may lag.
Standard library only.
"""

import json
import re
import subprocess
import sys

PREFIX = "arn:aws:iam::aws:policy"
FOLDER = "aws/managedpolicies/"
# IAM's grammar for paths and names; the Rust reader relies on it (no quotes
# or backslashes) to find the path and name without parsing the JSON.
PATH = re.compile(r"^/([\w+=,.@-]+/)*$")
NAME = re.compile(r"^[\w+=,.@-]+$")


def git(repo, *args, data=None):
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, input=data
    ).stdout


class Blobs:
    """Reads many blobs through one `git cat-file --batch`."""

    def __init__(self, repo):
        self.process = subprocess.Popen(
            ["git", "-C", repo, "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def read(self, oid):
        """The blob's bytes, or None when this copy of the repository lacks it."""
        self.process.stdin.write(oid.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if header[-1] == b"missing":
            return None
        size = int(header[2])
        body = self.process.stdout.read(size)
        self.process.stdout.read(1)  # the newline after each blob
        return body

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def older_copy(repo, blobs, path):
    """(record, commit, date) from the newest commit whose copy of `path` is present."""
    for line in git(repo, "log", "--format=%H %cs", "--", path).decode().splitlines():
        commit, date = line.split()
        oid = git(repo, "rev-parse", f"{commit}:{path}").decode().strip()
        body = blobs.read(oid)
        if body is not None:
            return json.loads(body), commit, date
    raise SystemExit(f"{path}: no commit of this copy holds it")


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    repo = sys.argv[1]
    sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    rev = sys.argv[2] if len(sys.argv) == 3 else "HEAD"
    commit, date = git(repo, "log", "-1", "--format=%H %cs", rev).decode().split()
    blobs = Blobs(repo)
    policies = {}
    older = []
    listing = git(repo, "ls-tree", "-r", commit, "--", FOLDER).decode().splitlines()
    for line in listing:
        meta, path = line.split("\t", 1)
        if not path.endswith(".json"):
            continue
        stem = path[len(FOLDER) : -len(".json")]
        body = blobs.read(meta.split()[2])
        if body is None:
            record, from_commit, from_date = older_copy(repo, blobs, path)
            older.append(f"{stem} from commit {from_commit} ({from_date})")
        else:
            record = json.loads(body)
        arn = record.get("arn")
        if record.get("deprecated") or not arn:
            print(f"left out (deprecated or no ARN): {stem}", file=sys.stderr)
            continue
        if not arn.startswith(PREFIX + "/"):
            raise SystemExit(f"{path}: unexpected ARN {arn}")
        policy_path, name = arn[len(PREFIX) :].rsplit("/", 1)
        policy_path += "/"
        if name != stem:
            raise SystemExit(f"{path}: the ARN {arn} names another policy")
        if not PATH.match(policy_path) or not NAME.match(name):
            raise SystemExit(f"{path}: {arn} is not a path and name IAM allows")
        version, document = record.get("version"), record.get("document")
        if not isinstance(version, str) or not isinstance(document, dict):
            raise SystemExit(f"{path}: no default version or document")
        policies[policy_path + name] = {
            "path": policy_path,
            "name": name,
            "version": version,
            "document": document,
        }
    blobs.close()
    print("# AWS-managed policies: path, name, default version and its document, one JSON object a line")
    print("# (ARN: arn:aws:iam::aws:policy + path + name).")
    print("# Source: github.com/iann0036/iam-dataset, aws/managedpolicies/*.json,")
    print(f"# commit {commit} ({date}); deprecated policies left out.")
    print("# Licence: the dataset is MIT (Copyright (c) 2021 Ian Mckay); its NOTICE credits the")
    print("# documents to github.com/z0ph/MAMIP (GPL-3.0), which records what IAM's GetPolicyVersion")
    print("# returns. The documents themselves are AWS's.")
    for entry in older:
        print(f"# Absent from that commit's copy, so taken from an earlier one: {entry}.")
    print("# Rebuilt by scripts/aws-managed-policies.py; do not edit by hand.")
    for key in sorted(policies):
        print(json.dumps(policies[key], separators=(",", ":"), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
