#!/usr/bin/env bash
# The AWS backend at scale, against `rolecall serve` on loopback (release):
# apply of a generated stack of N services (N roles, each with a managed
# and an inline policy and tags, and N instance profiles) with
# --parallelism 1 and 10, then a no-change plan: the read calls its
# snapshot made (counted in the server's call log) and how long it took.
#   scripts/bench-aws-backend.sh              N = 1000
#   scripts/bench-aws-backend.sh 5000         N = 5000
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
cargo build --release --quiet
cargo build --release --quiet --example gen_stack
bin="$PWD/target/release/rolecall"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/examples/gen_stack "$n" "$work/stack" 0 >/dev/null

# The AWS CLI's settings only: no profile, no instance metadata.
export HOME="$work/home" AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none"
export AWS_EC2_METADATA_DISABLED=true NO_COLOR=1
unset AWS_PROFILE ROLECALL_ACCOUNT ROLECALL_CLOUD

seconds() { date +%s.%N; }

for parallelism in 1 10; do
    account="$work/p$parallelism.db"
    "$bin" -q --account "$account" emulator configure \
        --max-roles $((n + 10)) --max-instance-profiles $((n + 10))
    "$bin" -v --account "$account" serve --listen 127.0.0.1:0 \
        >"$work/env" 2>"$work/serve-$parallelism.log" &
    server=$!
    for _ in $(seq 100); do grep -q AWS_ENDPOINT_URL "$work/env" 2>/dev/null && break; sleep 0.1; done
    eval "$(cat "$work/env")"
    eval "$("$bin" --account "$account" emulator credentials)"

    started=$(seconds)
    "$bin" -q --cloud aws apply --auto-approve --parallelism "$parallelism" -f "$work/stack" --file-root "$work"
    applied=$(seconds)
    calls_before=$(grep -c ' by ' "$work/serve-$parallelism.log" || true)
    code=0
    "$bin" -q --cloud aws plan --detailed-exitcode -f "$work/stack" --file-root "$work" >/dev/null || code=$?
    planned=$(seconds)
    calls_after=$(grep -c ' by ' "$work/serve-$parallelism.log" || true)
    [ "$code" -eq 0 ] || { echo "plan after apply found changes (exit $code)" >&2; exit 1; }
    writes=$(awk '/ by /' "$work/serve-$parallelism.log" | head -n "$calls_before" | grep -cv ' \(Get\|List\|Describe\)' || true)

    printf 'N=%d parallelism=%-2d apply: %6.1f s (%d calls, %d writes)   snapshot+plan: %5.1f s, %d read calls (%.1f per service)\n' \
        "$n" "$parallelism" "$(echo "$applied - $started" | bc)" "$calls_before" "$writes" \
        "$(echo "$planned - $applied" | bc)" "$((calls_after - calls_before))" \
        "$(echo "($calls_after - $calls_before) / $n" | bc -l)"
    kill "$server"; wait "$server" 2>/dev/null || true
done
