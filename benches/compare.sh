#!/usr/bin/env bash
# cainjector against the baseline policy (SDK parse, object returned unchanged),
# on the same requests and settings, through policy-runner's warm `bench`.
# Prints min and median µs per validate call and the ratio ours / baseline.
set -euo pipefail

RUNNER=${RUNNER:-target/runner/policy-runner}
OURS=${OURS:-policy.wasm}
BASELINE=${BASELINE:-target/wasm32-wasip1/release/baseline_policy.wasm}
ITERATIONS=${ITERATIONS:-3000}
WARMUP=${WARMUP:-300}
SETTINGS=${SETTINGS:-policy-settings/default.yaml}

# stats MODULE REQUEST -> "min median" of the validate calls, in µs
stats() {
  "$RUNNER" bench --iterations "$ITERATIONS" --warmup "$WARMUP" \
    --request-path "$2" --settings-path "$SETTINGS" "$1" 2>&1 |
    sed -n '/^validate \[/{n;s/.*\[\([0-9.]*\) µs \([0-9.]*\) µs .*/\1 \2/p;}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf '%-34s %21s %21s %14s\n' "request" "ours min/median" "baseline min/median" "ratio min/med"
declare -A median
for case in \
  "realistic pod (2+1 containers):test_data/pod-realistic.json" \
  "60-container pod:test_data/pod-60-containers.json" \
  "excluded namespace (accept path):test_data/pod-kube-system.json" \
  "Deployment:test_data/deployment.json"; do
  name=${case%%:*}
  request=${case#*:}
  read -r ours_min ours_med < <(stats "$OURS" "$request")
  read -r base_min base_med < <(stats "$BASELINE" "$request")
  median[$request]=$ours_med
  printf '%-34s %10s/%-10s %10s/%-10s %6s/%-6s\n' "$name" "$ours_min" "$ours_med" \
    "$base_min" "$base_med" "$(ratio "$ours_min" "$base_min")" "$(ratio "$ours_med" "$base_med")"
done
printf '\n60 containers / realistic pod (ours, median): %s\n' \
  "$(ratio "${median[test_data/pod-60-containers.json]}" "${median[test_data/pod-realistic.json]}")"
printf 'policy.wasm: %s bytes; baseline: %s bytes\n' "$(stat -c %s "$OURS")" "$(stat -c %s "$BASELINE")"
