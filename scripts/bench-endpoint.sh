#!/usr/bin/env bash
# What `rolecall serve` adds to a call: GetRole and TagRole in process and
# through the endpoint (benches/endpoint.rs), in release. Prints criterion's
# time lines and the summary table (calls/s, µs per call, µs added per call,
# target 250 µs). Full criterion reports land in target/criterion/endpoint/.
#   scripts/bench-endpoint.sh            the full run (about a minute)
#   scripts/bench-endpoint.sh --quick    criterion's quick mode
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet --bench endpoint -- "$@" 2>&1 | awk '
  /^ +time: / { print previous; print; next }
  /^endpoint summary/ { summary = 1 }
  summary { print; next }
  { previous = $0 }'
