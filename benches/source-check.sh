#!/usr/bin/env bash
# What sourceCheck costs when it reads the Java store of javaTrustStore.cacerts:
# instructions per call (benches/instructions.sh) with the bundle's ConfigMap
# answered from a recorded session, as trust-manager writes it for this
# machine's public roots (/etc/ssl/certs/ca-certificates.crt in `ca.crt`, the
# same certificates as a password-less PKCS#12 store in `binaryData`).
# usage: OURS=policy.wasm BASELINE=OTHER.wasm benches/source-check.sh
# BASELINE is another build of cainjector (the floor policy reads nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/common.sh
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

java tests/trust-matrix/MakeTrustStore.java "$OUT/store.p12" PKCS12 "" \
  /etc/ssl/certs/ca-certificates.crt >&2
# One exchange per call: more than instructions.sh's calls.
python3 - "$OUT" <<'PY'
import base64, json, sys
out = sys.argv[1]
config_map = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "ca-bundle", "namespace": "payments"},
              "data": {"ca.crt": open("/etc/ssl/certs/ca-certificates.crt").read()},
              "binaryData": {"truststore.p12": base64.b64encode(open(f"{out}/store.p12", "rb").read()).decode()}}
exchange = ("- type: Exchange\n  request: |\n    !KubernetesGetResource\n    api_version: v1\n"
            "    kind: ConfigMap\n    name: ca-bundle\n    namespace: payments\n"
            "    disable_cache: false\n    field_masks: null\n"
            f"  response:\n    type: Success\n    payload: {json.dumps(json.dumps(config_map))}\n")
open(f"{out}/session.yml", "w").write(exchange * 40)
PY
printf 'configMap: ca-bundle\njavaTrustStore: {key: truststore.p12, cacerts: true}\nsourceCheck: reject\n' \
  >"$OUT/settings.yml"
{ cat metadata.yml; printf 'contextAwareResources:\n  - apiVersion: v1\n    kind: ConfigMap\n'; } >"$OUT/metadata.yml"
for module in OURS BASELINE; do
  "$RUNNER" annotate -m "$OUT/metadata.yml" -o "$OUT/$module.wasm" "${!module}"
done
RUNNER_ARGS="--allow-context-aware --replay-host-capabilities-interactions $OUT/session.yml" \
  SETTINGS=$OUT/settings.yml REQUESTS=pod-realistic \
  OURS=$OUT/OURS.wasm BASELINE=$OUT/BASELINE.wasm benches/instructions.sh
