#!/usr/bin/env bash
# Where a validate call's instructions go, host and module alike: callgrind on
# the runner's bench, counting inside kwctl's timed closure, with wasmtime's
# perf map naming the module's compiled functions. Build the module with its
# names first, e.g.
#   CARGO_TARGET_DIR=target/profile cargo build --release --target wasm32-wasip1 \
#     -p cainjector --config 'profile.release.strip=false'
# usage: benches/profile.sh MODULE.wasm REQUEST.json [CALLS]
# Writes target/profile.callgrind and prints the inclusive costs of the top functions.
set -euo pipefail

RUNNER=${RUNNER:-target/runner/policy-runner}
SETTINGS=${SETTINGS:-policy-settings/default.yaml}
MODULE=${1:?module}
REQUEST=${2:?request}
CALLS=${3:-20}
OUT=target/profile.callgrind
RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT

valgrind --tool=callgrind --callgrind-out-file="$RAW" \
  --toggle-collect='policy_runner::bench::evaluation' \
  "$RUNNER" bench --perf-map --warm-up-time 0 --iterations "$CALLS" \
  --request-path "$REQUEST" --settings-path "$SETTINGS" "$MODULE" >/dev/null 2>&1 &
pid=$!
wait "$pid"
MAP=/tmp/perf-$pid.map
# callgrind names compiled wasm code by address; the perf map says whose it is.
python3 - "$RAW" "$MAP" "$OUT" <<'PY'
import bisect, re, sys
raw, perf_map, out = sys.argv[1:4]
ranges = sorted((int(a, 16), int(n, 16), name) for a, n, name in
                (line.rstrip("\n").split(" ", 2) for line in open(perf_map)))
starts = [r[0] for r in ranges]
address = re.compile(r"0x([0-9a-f]{16})")
def name(match):
    at = int(match.group(1), 16)
    i = bisect.bisect_right(starts, at) - 1
    if i >= 0 and at < ranges[i][0] + ranges[i][1]:
        return "wasm:" + re.sub(r"\[[0-9a-f]{16}\]", "", ranges[i][2])
    return match.group(0)
with open(out, "w") as o:
    for line in open(raw):
        if line.startswith(("fn=", "cfn=")):
            line = address.sub(name, line, count=1)
        o.write(line)
PY
rm -f "$MAP"
echo "instructions over $((CALLS + 1)) calls (divide by that for one):"
callgrind_annotate --inclusive=yes "$OUT" | sed -n '/file:function/,$p' | head -60
