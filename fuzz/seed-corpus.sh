#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/, gitignored) from the fixtures in test_data/.
#   validate_payload: every fixture that is an AdmissionRequest, wrapped as a
#     waPC `validate` payload with each of a few settings, and re-kinded as each
#     workload kind (its object wrapped in a pod template).
#   validate_quick: the same payloads (`make fuzz` gives it validate_payload's
#     corpus as a second directory); it grows its own in corpus/validate_quick.
#   mutation: its input is the choices of an `arbitrary` generator, which no
#     fixture encodes; it gets a few random seeds and grows its own corpus.
#   java_store: the Java trust stores of test_data/trust-stores, as they are.
set -euo pipefail
cd "$(dirname "$0")"
payloads=corpus/validate_payload
choices=corpus/mutation
stores=corpus/java_store
mkdir -p "$payloads" "$choices" "$stores" corpus/validate_quick
cp ../test_data/trust-stores/*.p12 ../test_data/trust-stores/*.jks "$stores"/

settings=(
  '{"configMap":"ca-bundle"}'
  '{"secret":"my-org.com","mountPath":"/etc/ssl/certs","envVars":["SSL_CERT_FILE","NODE_EXTRA_CA_CERTS"],"excludeContainers":["istio-*"]}'
  '{"configMap":"ca-bundle","inject":false,"includeNamespaces":["team-*","payments"],"excludeNamespaces":["kube-*"]}'
  '{"configMap":"ca-bundle","allowedOverrides":["inject"],"injectInitContainers":false,"setEnvVar":false}'
)
kinds=(
  'apps Deployment .spec.template'
  'batch Job .spec.template'
  'batch CronJob .spec.jobTemplate.spec.template'
)

n=0
for fixture in ../test_data/*.json; do
  # Hostile fixtures are wrapped as text: jq would rewrite what makes them hostile.
  case "$(basename "$fixture")" in
    hostile-*)
      printf '{"request": %s, "settings": {"configMap": "ca-bundle"}}' "$(cat "$fixture")" \
        >"$payloads/$(basename "$fixture")"
      continue
      ;;
  esac
  # Only AdmissionRequests (with an object) make a payload.
  jq -e 'type == "object" and has("object") and has("kind")' "$fixture" >/dev/null 2>&1 || continue
  for s in "${settings[@]}"; do
    jq -c --argjson s "$s" '{request: ., settings: $s}' "$fixture" >"$payloads/$(basename "$fixture" .json)-$n.json"
    n=$((n + 1))
  done
  # A pod fixture's metadata and spec also make the template of each workload kind.
  jq -e '.kind.kind == "Pod"' "$fixture" >/dev/null || continue
  for k in "${kinds[@]}"; do
    read -r group kind path <<<"$k"
    jq -c --arg g "$group" --arg k "$kind" --arg p "$path" '
      (.object | {metadata, spec}) as $template
      | {request: (.kind = {group: $g, version: "v1", kind: $k}
                 | .object = ({apiVersion: ($g + "/v1"), kind: $k, metadata: {name: "w"}}
                              | setpath($p | ltrimstr(".") | split("."); $template))),
       settings: {configMap: "ca-bundle"}}' "$fixture" >"$payloads/$(basename "$fixture" .json)-$kind.json"
  done
done

for i in $(seq 1 16); do
  head -c 512 /dev/urandom >"$choices/random-$i"
done
echo "corpora: $(ls "$payloads" | wc -l) payloads, $(ls "$choices" | wc -l) mutation inputs, $(ls "$stores" | wc -l) Java stores"
