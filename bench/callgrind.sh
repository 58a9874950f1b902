#!/usr/bin/env bash
# User-space instructions per operation of one evq-bench case on each loop,
# counted by valgrind's callgrind (deterministic, unlike time). Runs the case
# with OPS and 2*OPS operations and divides the difference by OPS, so setup
# cancels out. The syscalls themselves (kernel time) are not counted.
#
#   bench/callgrind.sh SCENARIO CASE OPS     e.g. bench/callgrind.sh idle-poll 0 10000
#
# CASE is the case's index in the scenario's table, from 0. Builds the bench
# with line tables in $CARGO_TARGET_DIR (default /tmp/target-bench-callgrind)
# and leaves the callgrind.out files there, for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { sed -n '2,11p' "$0"; exit 2; }
scenario=$1 case=$2 ops=$3
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-bench-callgrind}
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --quiet --release -p evq-bench
bin=$CARGO_TARGET_DIR/release/evq-bench
for loop in evq mio polling raw-c; do
  counts=()
  for n in "$ops" "$((2 * ops))"; do
    out=$CARGO_TARGET_DIR/callgrind.out.$scenario.$case.$loop.$n
    valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$bin" single "$scenario" "$case" "$loop" "$n" >/dev/null 2>&1
    counts+=("$(awk '/^summary:/ {print $2}' "$out")")
  done
  echo "$loop: $(( (counts[1] - counts[0]) / ops )) instructions per operation"
done
