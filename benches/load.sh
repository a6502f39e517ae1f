#!/usr/bin/env bash
# Throughput of the real policy-server with cainjector and with the floor, on
# loopback only: one policy-server (WORKERS workers) serving both modules, wrk
# posting the same AdmissionReview to each in turn, ROUNDS times, DURATION each.
# Prints requests/s and latency percentiles per round, and the ratio of the best
# rounds (ours / floor). Bounded: wrk stops after DURATION, the server is
# stopped by its PID at the end.
# usage: POLICY_SERVER=/path/to/policy-server KWCTL=/path/to/kwctl benches/load.sh
set -euo pipefail

POLICY_SERVER=${POLICY_SERVER:?set POLICY_SERVER to a policy-server binary (see BENCHMARKS.md)}
# policy-server loads only annotated modules (it needs their protocol version).
KWCTL=${KWCTL:-kwctl}
OURS=${OURS:-policy.wasm}
BASELINE=${BASELINE:-target/floor.wasm}
SETTINGS=${SETTINGS:-policy-settings/default.yaml}
REQUEST=${REQUEST:-test_data/pod-realistic.json}
WORKERS=${WORKERS:-2}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20s}
ROUNDS=${ROUNDS:-2}
PORT=${PORT:-3300}
ADDR=127.0.0.1

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing (apt-get install jq)" >&2; exit 1; }
DIR=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

# Both annotated with the policy's metadata.yml, so that policy-server treats them alike.
"$KWCTL" annotate -m metadata.yml -o "$DIR/cainjector.wasm" "$OURS" >/dev/null 2>&1
"$KWCTL" annotate -m metadata.yml -o "$DIR/floor.wasm" "$BASELINE" >/dev/null 2>&1
# A policies.yml entry per module, with the settings file's YAML as it is.
for name in cainjector floor; do
  printf '%s:\n  module: file://%s/%s.wasm\n  allowedToMutate: true\n  settings:\n' "$name" "$DIR" "$name"
  sed 's/^/    /' "$SETTINGS"
done >"$DIR/policies.yml"
jq -c '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: .}' "$REQUEST" >"$DIR/review.json"
cat >"$DIR/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$DIR/review.json", "r")
wrk.body = f:read("*a")
f:close()
EOF

"$POLICY_SERVER" --addr "$ADDR" --port "$PORT" --readiness-probe-port $((PORT + 1)) \
  --workers "$WORKERS" --policies "$DIR/policies.yml" --policies-download-dir "$DIR" \
  --sigstore-cache-dir "$DIR/sigstore" --ignore-kubernetes-connection-failure \
  --log-level warn >"$DIR/server.log" 2>&1 &
server=$!
for _ in $(seq 120); do
  curl -sf "http://$ADDR:$((PORT + 1))/readiness" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
  sleep 1
done

# One answer of each, to show both modules answer as expected.
for name in cainjector floor; do
  printf '%s: ' "$name"
  curl -sf -H 'Content-Type: application/json' --data-binary "@$DIR/review.json" \
    "http://$ADDR:$PORT/validate/$name" | jq -c '.response | {allowed, patched: (.patch != null)}'
done

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $REQUEST, $WORKERS policy-server workers"
declare -A best
for round in $(seq "$ROUNDS"); do
  for name in cainjector floor; do
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$DIR/post.lua" \
      "http://$ADDR:$PORT/validate/$name")
    rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
    lat=$(awk '$1 == "50%" || $1 == "99%" { printf "%s %s  ", $1, $2 }' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    echo "round $round $name: $rps req/s  $lat$errors"
    best[$name]=$(awk -v a="$rps" -v b="${best[$name]:-0}" 'BEGIN { print (a > b) ? a : b }')
  done
done
awk -v a="${best[cainjector]}" -v b="${best[floor]}" \
  'BEGIN { printf "best rounds: cainjector %s req/s, floor %s req/s, ratio %.2f\n", a, b, a / b }'
