#!/usr/bin/env bash
# cainjector against the floor policy (the SDK decodes the request, the object goes
# back unchanged), on the same requests and settings, timed as `kwctl bench` times
# them: BENCH is `policy-runner bench` (tiny-bench, kwctl's closure) by default, or
# a real kwctl (BENCH="kwctl bench"). For each request the two modules run in
# alternation, ROUNDS times each, and the smallest tiny-bench `min` of each module
# is kept: on a shared machine the load only ever adds time.
# With CHECK set (CHECK="kwctl bench"), each round also times both modules with
# that command, in turn with BENCH, to see whether the two agree.
# Prints a Markdown table: minimum µs per validate call, ratio ours / floor.
set -euo pipefail

source "$(dirname "$0")/common.sh"
BENCH=${BENCH:-$RUNNER bench}
CHECK=${CHECK:-}
ROUNDS=${ROUNDS:-4}
# Whole seconds, as kwctl takes them.
MEASUREMENT_TIME=${MEASUREMENT_TIME:-2}
WARM_UP_TIME=${WARM_UP_TIME:-1}

# min_us BENCH MODULE REQUEST -> tiny-bench's `min` of the validate samples, in µs
min_us() {
  local out
  out=$($1 --measurement-time "$MEASUREMENT_TIME" --warm-up-time "$WARM_UP_TIME" \
    --request-path "$3" --settings-path "$SETTINGS" "$2" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g')
  # The `elapsed` line after the header of the `validate` benchmark:
  # "\telapsed\t[min mean max]:\t[96.12µs 101.30µs 180.02µs] (sample data: ...)".
  awk '
    /^validate \[/ { found = 1; next }
    found && /elapsed/ {
      sub(/.*:\t\[/, ""); split($0, v, " ")
      n = v[1]; unit = n; sub(/[0-9.]+/, "", unit); sub(/[^0-9.].*/, "", n)
      f = (unit == "ns") ? 0.001 : (unit == "ms") ? 1000 : (unit == "s") ? 1000000 : 1
      printf "%.2f\n", n * f; exit
    }' <<<"$out" | grep . || { echo "no validate result for $2 on $3 ($1)" >&2; exit 1; }
}

smaller() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }

echo "bench: $BENCH${CHECK:+, checked against: $CHECK}; $ROUNDS alternating rounds, --measurement-time $MEASUREMENT_TIME --warm-up-time $WARM_UP_TIME; settings $SETTINGS"
echo
if [ -n "$CHECK" ]; then
  echo "| request | ours min (µs) | floor min (µs) | ours / floor | check: ours | check: floor | check: ours / floor |"
  echo "|---|---|---|---|---|---|---|"
else
  echo "| request | ours min (µs) | floor min (µs) | ours / floor |"
  echo "|---|---|---|---|"
fi
for name in $REQUESTS; do
  request=test_data/$name.json
  ours="" floor="" check_ours="" check_floor=""
  for _ in $(seq "$ROUNDS"); do
    m=$(min_us "$BENCH" "$OURS" "$request")
    ours=$(smaller "$m" "$ours")
    if [ -n "$CHECK" ]; then
      m=$(min_us "$CHECK" "$OURS" "$request")
      check_ours=$(smaller "$m" "$check_ours")
    fi
    m=$(min_us "$BENCH" "$BASELINE" "$request")
    floor=$(smaller "$m" "$floor")
    if [ -n "$CHECK" ]; then
      m=$(min_us "$CHECK" "$BASELINE" "$request")
      check_floor=$(smaller "$m" "$check_floor")
    fi
  done
  row="| $name | $ours | $floor | $(ratio "$ours" "$floor") |"
  [ -z "$CHECK" ] || row="$row $check_ours | $check_floor | $(ratio "$check_ours" "$check_floor") |"
  echo "$row"
done
echo
printf 'policy.wasm: %s bytes; floor: %s bytes\n' "$(stat -c %s "$OURS")" "$(stat -c %s "$BASELINE")"
