#!/usr/bin/env bash
# Convergence after interrupted applies, measured with the release binary on
# a larger stack than tests/fault_sweep.rs uses (issue 9's reproduction):
# for a 40-service stack, apply a change that deletes, moves, releases,
# terminates and replaces with the Kth API call failing and no retries, then
# rerun without faults; likewise for destroy. Prints how many fault points
# did not converge (0 is the only good answer) and lists them.
#
#   scripts/fault_sweep.sh [SERVICES]      (default 40; takes a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-40}
cargo build --release --quiet
bin=$PWD/target/release/rolecall
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Service i: role, profile, a launched instance and an adopted one.
# The change: services 0-9 go away; 10-19 move their instances to service
# i+20; 20-29 move their profile to another path; 30-39 move their role.
stack() {
  local changed=$1
  echo "kind: Stack"
  echo "name: sweep"
  for ((i = 0; i < services; i++)); do
    local group=$((i * 40 / services / 10))
    if [[ $changed == yes && $group == 0 ]]; then continue; fi
    local role_path=/ profile_path=/ profile=svc-$i
    if [[ $changed == yes && $group == 3 ]]; then role_path=/moved/; fi
    if [[ $changed == yes && $group == 2 ]]; then profile_path=/moved/; fi
    if [[ $changed == yes && $group == 1 ]]; then profile=svc-$(((i + services / 2) % services)); fi
    cat <<EOF
---
kind: Role
name: svc-$i
path: $role_path
trust: ec2
managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]
inline_policies:
  logs: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: logs:PutLogEvents, Resource: "*"}]}
---
kind: InstanceProfile
name: svc-$i
path: $profile_path
role: svc-$i
---
kind: Instance
name: svc-$i-a
profile: $profile
---
kind: Instance
name: svc-$i-b
profile: $profile
EOF
  done
}
mkdir before after
stack no >before/stack.yaml
stack yes >after/stack.yaml

rc() { "$bin" --account "$work/account.db" "$@"; }
# The account before the change: the b instances launched by hand and adopted.
for ((i = 0; i < services; i++)); do
  rc emulator run-instances --name "svc-$i-b" >/dev/null
done
rc -q import --all-declared -f before >/dev/null
rc -q apply --auto-approve -f before >/dev/null
rc emulator export before.yaml
rc -q apply --auto-approve -f after >/dev/null
rc emulator export after.yaml

# sweep NAME START COMMAND...: K = 1, 2, ... until the run makes fewer calls.
failed=0 points=0
sweep() {
  local name=$1 start=$2
  shift 2
  local k=1
  while true; do
    rc emulator import "$start"
    rc emulator configure --fail-after "$k" >/dev/null
    if rc -q "$@" --retry-timeout 0s >/dev/null 2>&1; then
      break # fewer than K calls: every fault point was tried
    fi
    rc emulator configure --reset >/dev/null
    points=$((points + 1))
    if ! out=$(rc -q "$@" 2>&1); then
      failed=$((failed + 1))
      echo "$name K=$k: rerun failed: $out"
    elif [[ $name == apply ]] && ! rc -q plan --detailed-exitcode -f after >/dev/null 2>&1; then
      failed=$((failed + 1))
      echo "$name K=$k: not converged"
    fi
    k=$((k + 1))
  done
}
sweep apply before.yaml apply --auto-approve -f after
sweep destroy after.yaml destroy --auto-approve --force -f after
echo "$failed of $points fault points did not converge ($services services)"
[[ $failed == 0 ]]
