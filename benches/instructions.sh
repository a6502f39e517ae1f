#!/usr/bin/env bash
# Instructions per validate call, which the machine's load does not change:
# valgrind's callgrind counts what the runner executes inside
# `policy_runner::bench::evaluation` (kwctl's timed closure: host and guest), and
# inside it `WapcHost::call` (the waPC call: the module's own work, JIT-compiled
# by wasmtime, and the copying of payload and answer). Two runs of N1 and N2
# calls are subtracted so that the first call's one-time costs cancel out.
# Prints a Markdown table.
set -euo pipefail

source "$(dirname "$0")/common.sh"
# More runner options, e.g. a recorded session (benches/source-check.sh).
RUNNER_ARGS=${RUNNER_ARGS:-}
N1=${N1:-2}
N2=${N2:-22}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# counts MODULE REQUEST N -> "total waPC" instructions over N+1 calls (warm-up included)
counts() {
  local file=$OUT/callgrind.out
  # shellcheck disable=SC2086 # RUNNER_ARGS is words
  valgrind --tool=callgrind --callgrind-out-file="$file" \
    --toggle-collect='policy_runner::bench::evaluation' \
    "$RUNNER" bench $RUNNER_ARGS --warm-up-time 0 --iterations "$3" \
    --request-path "$2" --settings-path "$SETTINGS" "$1" >"$OUT/log" 2>&1 ||
    { cat "$OUT/log" >&2; exit 1; }
  local total wapc
  total=$(sed -n 's/^totals: //p' "$file")
  wapc=$(callgrind_annotate --inclusive=yes "$file" |
    awk '/wapc::wapchost::host::WapcHost::call / && !n { gsub(",", "", $1); n = $1 } END { print n + 0 }')
  echo "$total $wapc"
}

# per_call MODULE REQUEST -> "total waPC" per call
per_call() {
  local t1 w1 t2 w2
  read -r t1 w1 < <(counts "$1" "$2" "$N1")
  read -r t2 w2 < <(counts "$1" "$2" "$N2")
  echo "$(((t2 - t1) / (N2 - N1))) $(((w2 - w1) / (N2 - N1)))"
}

k() { awk -v n="$1" 'BEGIN { printf "%.0f k", n / 1000 }'; }

echo "instructions per validate call (callgrind; ($N2 - $N1) calls; settings $SETTINGS)"
echo
echo "| request | ours: total / waPC call | floor: total / waPC call | ours / floor: total / waPC call |"
echo "|---|---|---|---|"
for name in $REQUESTS; do
  request=test_data/$name.json
  read -r ot ow < <(per_call "$OURS" "$request")
  read -r ft fw < <(per_call "$BASELINE" "$request")
  echo "| $name | $(k "$ot") / $(k "$ow") | $(k "$ft") / $(k "$fw") | $(ratio "$ot" "$ft") / $(ratio "$ow" "$fw") |"
done
