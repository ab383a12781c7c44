#!/usr/bin/env bash
# Creates or updates the Python environment of the tests of `rolecall serve`:
# a venv at target/python-env holding exactly tests/python/requirements.txt
# (boto3 and the AWS CLI, pinned by hash). Prints the venv's path on stdout.
#
# Fast when up to date: the venv keeps the sha256 of the requirements it was
# built from in a stamp file, and nothing is done while it matches and the
# venv's Python runs. Otherwise the venv is rebuilt from scratch, so a pin
# removed from the file leaves nothing behind. Safe when several test
# processes call it at once: they take turns on a lock file (flock).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/python/requirements.txt"
venv="$root/target/python-env"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

mkdir -p "$root/target"
exec 9>"$root/target/python-env.lock"
if ! flock -w 900 9; then
    echo "python-env: waited 15 minutes for $root/target/python-env.lock; giving up" >&2
    exit 1
fi

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    echo "$venv"
    exit 0
fi

echo "python-env: building $venv from tests/python/requirements.txt" >&2
rm -f "$stamp"
"$python" -m venv --clear "$venv" >&2
"$venv/bin/python" -m pip install \
    --disable-pip-version-check --no-input --quiet \
    --require-hashes --only-binary :all: \
    -r "$requirements" >&2
echo "$want" >"$stamp"
echo "$venv"
