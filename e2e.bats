#!/usr/bin/env bats
# End to end: the real policy.wasm, run the way the cluster runs it, through kwctl
# (or policy-runner, which answers as kwctl does: `make e2e-tests` picks one).
# Each test decodes the JSONPatch and asserts it exactly, or the exact message.

bats_require_minimum_version 1.5.0
load tests/common/e2e

KWCTL=${KWCTL:-kwctl}
# kwctl puts a backtrace into a host error's text when these ask for one; the
# replayed sessions' messages are asserted whole.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
POLICY=${POLICY:-policy.wasm}
DEFAULT='{"configMap": "ca-bundle"}'

setup() {
  cd "$BATS_TEST_DIRNAME"
}

# evaluate REQUEST_FILE SETTINGS_JSON [extra kwctl args]
evaluate() {
  local request=$1 settings=$2
  shift 2
  run --separate-stderr "$KWCTL" run --request-path "test_data/$request" --settings-json "$settings" "$@" "$POLICY"
}

# evaluate_manifest MANIFEST SETTINGS_JSON: a manifest (YAML or JSON) sent as the
# request `kwctl scaffold admission-request` builds for it. policy-runner does both
# steps with `run --object`; the real kwctl scaffolds, then runs the request.
evaluate_manifest() {
  local manifest=$1 settings=$2
  if "$KWCTL" run --help 2>/dev/null | grep -qE -- '--object <PATH>'; then
    run --separate-stderr "$KWCTL" run --object "$manifest" --settings-json "$settings" "$POLICY"
  else
    "$KWCTL" scaffold admission-request --operation CREATE --object "$manifest" >"$BATS_TEST_TMPDIR/request.json"
    run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/request.json" --settings-json "$settings" "$POLICY"
  fi
}

@test "a pod gets the volume, a read-only mount and SSL_CERT_FILE" {
  evaluate pod-simple.json "$DEFAULT"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "a realistic pod: lists grow at their end, the excluded sidecar is untouched" {
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-realistic.json \
    --settings-path policy-settings/default.yaml "$POLICY"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env/2\", \"value\": $ENV},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts/2\", \"value\": $MOUNT},
    {\"op\": \"add\", \"path\": \"/spec/initContainers/0/env/1\", \"value\": $ENV},
    {\"op\": \"add\", \"path\": \"/spec/initContainers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes/2\", \"value\": $VOLUME}
  ]"
}

@test "the request may be an AdmissionReview" {
  evaluate admission-review-pod.json "$DEFAULT"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
  [ "$(echo "$output" | jq -r .uid)" = "e2e-pod-create" ]
}

@test "a YAML pod manifest, as kwctl scaffolds it: the sidecar excluded, the app's env kept" {
  evaluate_manifest examples/pod.yaml '{"configMap": "ca-bundle", "excludeContainers": ["istio-proxy"]}'
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env/1\", \"value\": $ENV},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
  [ "$(echo "$output" | jq -r .uid)" = "705ab4f5-6393-11e8-b7cc-42010a800002" ]
}

@test "a Deployment manifest: its pod template is injected, with the template's annotations" {
  evaluate_manifest examples/deployment.yaml "$DEFAULT"
  assert_patch '[
    {"op": "add", "path": "/spec/template/spec/containers/0/env", "value": [{"name": "SSL_CERT_FILE", "value": "/etc/ssl/corp/ca.crt"}]},
    {"op": "add", "path": "/spec/template/spec/containers/0/volumeMounts", "value": [{"mountPath": "/etc/ssl/corp", "name": "cainjector-ca-bundle", "readOnly": true}]},
    {"op": "add", "path": "/spec/template/spec/volumes", "value": [{"configMap": {"name": "ca-bundle"}, "name": "cainjector-ca-bundle"}]}
  ]'
}

@test "a ConfigMap named my-org.com gets a DNS-1123 volume name" {
  evaluate pod-simple.json '{"configMap": "my-org.com"}'
  assert_patch '[
    {"op": "add", "path": "/spec/containers/0/env", "value": [{"name": "SSL_CERT_FILE", "value": "/cacerts/ca.crt"}]},
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/cacerts", "name": "cainjector-my-org-com", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"configMap": {"name": "my-org.com"}, "name": "cainjector-my-org-com"}]}
  ]'
}

@test "a Secret source mounts the whole Secret" {
  evaluate pod-simple.json '{"secret": "ca-bundle", "certFile": "bundle.pem", "mountPath": "/etc/ssl/corp", "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"]}'
  assert_patch '[
    {"op": "add", "path": "/spec/containers/0/env", "value": [
      {"name": "SSL_CERT_FILE", "value": "/etc/ssl/corp/bundle.pem"},
      {"name": "NODE_EXTRA_CA_CERTS", "value": "/etc/ssl/corp/bundle.pem"}]},
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/etc/ssl/corp", "name": "cainjector-ca-bundle", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"name": "cainjector-ca-bundle", "secret": {"secretName": "ca-bundle"}}]}
  ]'
}

@test "sslCertFile and setEnvVar settings" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "sslCertFile": "/cacerts/all.pem"}'
  [ "$(patch | jq -c '.[0].value')" = '[{"name":"SSL_CERT_FILE","value":"/cacerts/all.pem"}]' ]
  evaluate pod-simple.json '{"configMap": "ca-bundle", "setEnvVar": false}'
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "init containers and native sidecars are injected, excluded containers are not" {
  evaluate pod-sidecars.json '{"configMap": "ca-bundle", "excludeContainers": ["istio-*"]}'
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/initContainers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/initContainers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/initContainers/1/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/initContainers/1/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "injectInitContainers false leaves init containers alone" {
  evaluate pod-sidecars.json '{"configMap": "ca-bundle", "excludeContainers": ["istio-proxy"], "injectInitContainers": false}'
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "an excluded namespace is accepted unchanged" {
  evaluate pod-kube-system.json '{"configMap": "ca-bundle", "excludeNamespaces": ["kube-*"]}'
  assert_unchanged
}

@test "includeNamespaces limits injection, exclusion wins" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "includeNamespaces": ["team-*"]}'
  assert_unchanged
  evaluate pod-simple.json '{"configMap": "ca-bundle", "includeNamespaces": ["def*"], "excludeNamespaces": ["default"]}'
  assert_unchanged
  evaluate pod-simple.json '{"configMap": "ca-bundle", "includeNamespaces": ["def*"]}'
  [ "$(patch | jq length)" -eq 3 ]
}

@test "opt-out: inject false skips the pod" {
  evaluate pod-opt-out.json "$DEFAULT"
  assert_unchanged
}

@test "opt-in: with inject false only annotated pods are injected" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "inject": false}'
  assert_unchanged
  evaluate pod-opt-in.json '{"configMap": "ca-bundle", "inject": false}'
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "annotations: configMap, certFile, mountPath, sslCertFile, setEnvVar, excludeContainers" {
  evaluate pod-annotations.json '{"secret": "cluster-bundle"}'
  assert_patch '[
    {"op": "add", "path": "/spec/containers/0/env", "value": [{"name": "SSL_CERT_FILE", "value": "/etc/ssl/team-a/bundle.pem"}]},
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/etc/ssl/team-a", "name": "cainjector-team-a-example-com", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"configMap": {"name": "team-a.example.com"}, "name": "cainjector-team-a-example-com"}]}
  ]'
}

@test "annotations: secret, and setEnvVar false" {
  evaluate pod-secret-annotation.json "$DEFAULT"
  assert_patch '[
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/cacerts", "name": "cainjector-team-ca", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"name": "cainjector-team-ca", "secret": {"secretName": "team-ca"}}]}
  ]'
}

@test "an annotation allowedOverrides does not permit rejects the pod" {
  evaluate pod-secret-annotation.json '{"configMap": "ca-bundle", "allowedOverrides": ["inject", "setEnvVar"]}'
  assert_rejected 'annotation "cainjector.lestak.sh/secret" is not allowed: the cluster'"'"'s cainjector policy lets pods use only inject, setEnvVar (setting allowedOverrides)'
}

@test "a white-labelled prefix replaces cainjector.lestak.sh" {
  evaluate pod-opt-out.json '{"configMap": "ca-bundle", "annotationPrefix": "trust.example.com"}'
  [ "$(patch | jq length)" -eq 3 ]
}

@test "an invalid annotation rejects the pod, naming it" {
  evaluate pod-bad-annotation.json "$DEFAULT"
  assert_rejected "annotation \"cainjector.lestak.sh/mountPath\": \"certs\" must be an absolute path (starting with '/')"
}

@test "a typo under the prefix rejects the pod with a hint" {
  evaluate pod-typo-annotation.json "$DEFAULT"
  assert_rejected 'annotation "cainjector.lestak.sh/mountpath" is not an annotation of cainjector (did you mean "cainjector.lestak.sh/mountPath"?); the annotations are: inject, configMap, secret, certFile, mountPath, sslCertFile, setEnvVar, excludeContainers, excludeNamespaces, includeNamespaces, javaTrustStore, systemTrustStore'
}

@test "a malformed pod is rejected with the field, not a trap" {
  evaluate pod-malformed.json "$DEFAULT"
  assert_rejected "malformed Pod: spec.containers[0].env must be a list, found a string"
}

@test "UPDATE of a pod is accepted unchanged" {
  evaluate pod-update.json "$DEFAULT"
  assert_unchanged
}

@test "Windows and mirror pods are accepted unchanged" {
  evaluate pod-windows.json "$DEFAULT"
  assert_unchanged
  evaluate pod-mirror.json "$DEFAULT"
  assert_unchanged
}

@test "Windows pods by node selector or required node affinity are accepted unchanged" {
  evaluate pod-windows-node-selector.json "$DEFAULT"
  assert_unchanged
  evaluate pod-windows-affinity.json "$DEFAULT"
  assert_unchanged
}

@test "a container's own device or mount at the mount path, however spelled, wins: env only" {
  evaluate pod-mount-path-taken.json "$DEFAULT"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/1/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/2/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/2/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes/2\", \"value\": $VOLUME}
  ]"
}

@test "a second run on the injected pod changes nothing" {
  evaluate pod-already-injected.json "$DEFAULT"
  assert_unchanged
}

@test "workload templates: Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job" {
  for kind in deployment statefulset daemonset replicaset replicationcontroller job; do
    evaluate "$kind.json" "$DEFAULT"
    assert_patch "[
      {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/env\", \"value\": [$ENV]},
      {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
      {\"op\": \"add\", \"path\": \"/spec/template/spec/volumes\", \"value\": [$VOLUME]}
    ]"
  done
}

@test "workload templates: CronJob" {
  evaluate cronjob.json "$DEFAULT"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/jobTemplate/spec/template/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/jobTemplate/spec/template/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/jobTemplate/spec/template/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "bad settings are refused before any evaluation" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "excludeNamespace": ["kube-system"]}'
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == *'setting "excludeNamespace" is not a known setting (did you mean "excludeNamespaces"?)'* ]]
  evaluate pod-simple.json '{"configMap": "ca-bundle", "secret": "x"}'
  [ "$status" -eq 1 ]
  [[ "$stderr" == *'the settings "configMap", "secret" and "clusterTrustBundle" are mutually exclusive'* ]]
  evaluate pod-simple.json '{"configMap": "ca-bundle", "mountPath": "/etc"}'
  [ "$status" -eq 1 ]
  [[ "$stderr" == *'setting "mountPath": "/etc" must not be /etc'* ]]
}

@test "Java: JAVA_TOOL_OPTIONS gets the trust store after the container's own options" {
  evaluate pod-java.json '{"configMap": "ca-bundle", "javaTrustStore": {"key": "truststore.p12"}}'
  assert_patch '[
    {"op": "replace", "path": "/spec/containers/0/env/0/value", "value": "-Xmx512m -Djavax.net.ssl.trustStore=/cacerts/truststore.p12 -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=changeit"},
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/cacerts", "name": "cainjector-ca-bundle", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"configMap": {"name": "ca-bundle"}, "name": "cainjector-ca-bundle"}]}
  ]'
}

@test "ClusterTrustBundle source: a projected volume" {
  evaluate pod-simple.json '{"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": {"matchLabels": {"trust": "corp"}}}}'
  assert_patch '[
    {"op": "add", "path": "/spec/containers/0/env", "value": [{"name": "SSL_CERT_FILE", "value": "/cacerts/ca.crt"}]},
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/cacerts", "name": "cainjector-example-com-corp", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"name": "cainjector-example-com-corp", "projected": {"sources": [{"clusterTrustBundle": {"labelSelector": {"matchLabels": {"trust": "corp"}}, "path": "ca.crt", "signerName": "example.com/corp"}}]}}]}
  ]'
}

@test "statusAnnotation records what was injected" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "statusAnnotation": true}'
  [ "$status" -eq 0 ]
  [ "$(patch | jq -c '.[0]')" = '{"op":"add","path":"/metadata/annotations","value":{"cainjector.lestak.sh/status":"{\"source\":{\"configMap\":\"ca-bundle\"},\"volume\":\"cainjector-ca-bundle\",\"mountPath\":\"/cacerts\",\"containers\":[\"app\"],\"initContainers\":[],\"envVars\":[\"SSL_CERT_FILE\"]}"}}' ]
}

@test "statusAnnotation at the 256 KiB annotation budget: injected, the status left out, with a warning" {
  local request="$BATS_TEST_TMPDIR/pod-full-annotations.json"
  jq '.object.metadata.annotations = {"example.com/notes": ("n" * 262000)}' test_data/pod-simple.json >"$request"
  run --separate-stderr "$KWCTL" run --request-path "$request" \
    --settings-json '{"configMap": "ca-bundle", "statusAnnotation": true}' "$POLICY"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
  [ "$(echo "$output" | jq -c .warnings)" = '["cainjector injected the trust bundle but left out its annotation \"cainjector.lestak.sh/status\": with it the annotations would take 262204 bytes, over the 262144 bytes the API server allows (keys and values together)"]' ]
}

@test "kubectl debug: a new ephemeral container gets the mount and env, the old one nothing" {
  evaluate pod-debug-container.json "$DEFAULT"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/ephemeralContainers/1/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/ephemeralContainers/1/volumeMounts\", \"value\": [$MOUNT]}
  ]"
}

@test "kubectl debug with an oldObject that cannot be read is rejected, naming the field" {
  evaluate pod-debug-unreadable-old.json "$DEFAULT"
  assert_rejected "malformed Pod: oldObject.spec.ephemeralContainers must be a list, found a string"
}

@test "clusterTrustBundle values the API server would refuse in every pod are refused" {
  evaluate pod-simple.json '{"clusterTrustBundle": {"name": "example.com:signer:-root"}}'
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == *'setting "clusterTrustBundle.name": "example.com:signer:-root" is not a ClusterTrustBundle name: after its signer prefix "example.com:signer:", "-root" must be a valid Kubernetes object name'* ]]
  evaluate pod-simple.json '{"clusterTrustBundle": {"signerName": "example/corp", "labelSelector": {}}}'
  [ "$status" -eq 1 ]
  [[ "$stderr" == *'setting "clusterTrustBundle.signerName": "example/corp" must have a domain of at least two labels separated by dots'* ]]
  evaluate pod-simple.json '{"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": {"matchExpressions": [{"key": "Bad Key", "operator": "Exists"}]}}}'
  [ "$status" -eq 1 ]
  [[ "$stderr" == *'setting "clusterTrustBundle.labelSelector": matchExpressions[0].key "Bad Key" must be a qualified name'* ]]
}

# ---- sourceCheck against recorded cluster answers (kubernetes/get_resource) ----
# The sessions in test_data/replay-*.yml are in the format of
# `kwctl run --record-host-capabilities-interactions`. kwctl lets a module read a
# Kubernetes resource only with --allow-context-aware and only when the module's
# metadata lists it (contextAwareResources). metadata.yml lists none (the default
# settings read nothing), so the copy run here is annotated with metadata.yml plus
# the grant of a policy resource with sourceCheck and a ConfigMap source.

# evaluate_replayed REQUEST_FILE SETTINGS_JSON SESSION_FILE [extra kwctl args]
evaluate_replayed() {
  local request=$1 settings=$2 session=$3
  shift 3
  # From the raw module: kwctl annotate on an already annotated one keeps its first
  # metadata (checked with kwctl 1.36), so POLICY=annotated-policy.wasm would lose the grant.
  local module=policy.wasm
  local POLICY="$BATS_TEST_TMPDIR/annotated-policy.wasm"
  {
    cat metadata.yml
    printf 'contextAwareResources:\n  - apiVersion: v1\n    kind: ConfigMap\n'
  } >"$BATS_TEST_TMPDIR/metadata.yml"
  "$KWCTL" annotate -m "$BATS_TEST_TMPDIR/metadata.yml" -u README.md -o "$POLICY" "$module"
  evaluate "$request" "$settings" --replay-host-capabilities-interactions "test_data/$session" "$@"
}

MISSING_BUNDLE="ConfigMap \"ca-bundle\" could not be read in namespace \"default\": Host error: Callback evaluation failure: Cannot find v1/ConfigMap named 'ca-bundle' inside of namespace 'Some(\"default\")'"

@test "sourceCheck warn, bundle missing in the cluster: allowed unchanged, with a warning" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "sourceCheck": "warn"}' \
    replay-bundle-missing.yml --allow-context-aware
  assert_unchanged
  [ "$(echo "$output" | jq -r '.warnings | length')" = 1 ]
  [ "$(echo "$output" | jq -r '.warnings[0]')" = "cainjector did not inject the trust bundle: $MISSING_BUNDLE" ]
}

@test "sourceCheck reject, bundle without the certFile key: rejected, naming the key" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "sourceCheck": "reject"}' \
    replay-bundle-no-key.yml --allow-context-aware
  assert_rejected 'the trust bundle cannot be injected: ConfigMap "ca-bundle" in namespace "default" has no key "ca.crt" (setting sourceCheck: reject)'
  [ "$(echo "$output" | jq -c .warnings)" = null ]
}

@test "sourceCheck reject, bundle missing in the cluster: rejected with the host's reason" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "sourceCheck": "reject"}' \
    replay-bundle-missing.yml --allow-context-aware
  assert_rejected "the trust bundle cannot be injected: $MISSING_BUNDLE (setting sourceCheck: reject)"
}

@test "sourceCheck reject, bundle present with its key: the usual patch" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "sourceCheck": "reject"}' \
    replay-bundle-present.yml --allow-context-aware
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
  [ "$(echo "$output" | jq -c .warnings)" = null ]
}

@test "sourceCheck without --allow-context-aware: the host refuses the lookup, as kwctl does" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "sourceCheck": "warn"}' \
    replay-bundle-present.yml
  assert_unchanged
  [ "$(echo "$output" | jq -r '.warnings[0]')" = 'cainjector did not inject the trust bundle: ConfigMap "ca-bundle" could not be read in namespace "default": Host error: Policy has not been granted access to Kubernetes v1/ConfigMap resources. The violation has been reported.' ]
}

# ---- systemTrustStore: the bundle file over the system trust store files ----

# store_mount FILE: the mount of ca.crt over FILE.
store_mount() {
  echo "{\"mountPath\": \"$1\", \"name\": \"cainjector-ca-bundle\", \"readOnly\": true, \"subPath\": \"ca.crt\"}"
}
STORE_MOUNTS="$(store_mount /etc/ssl/certs/ca-certificates.crt), $(store_mount /etc/pki/tls/certs/ca-bundle.crt),
  $(store_mount /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem), $(store_mount /etc/ssl/ca-bundle.pem),
  $(store_mount /etc/ssl/cert.pem)"
OVER_STANDARD="[
  {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
  {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT, $STORE_MOUNTS]},
  {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
]"
THIN="ConfigMap \"ca-bundle\" in namespace \"default\" holds 1 PEM certificate in key \"ca.crt\": put over the system trust store (systemTrustStore), a bundle of the private CA alone makes every public site untrusted; build it with the public roots (trust-manager useDefaultCAs: true)"

# with_annotation FILE KEY VALUE: the request in FILE with the pod annotation KEY set to VALUE.
with_annotation() {
  jq --arg k "$2" --arg v "$3" '.object.metadata.annotations[$k] = $v' "test_data/$1" \
    >"$BATS_TEST_TMPDIR/annotated.json"
}

@test "policy-settings/system-trust-store.yaml: the bundle file over each standard file, read-only, and a second run changes nothing" {
  settings_file system-trust-store.yaml pod-simple.json
  assert_patch "$OVER_STANDARD"
  patched_request pod-simple.json >"$BATS_TEST_TMPDIR/injected.json"
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/injected.json" \
    --settings-path policy-settings/system-trust-store.yaml "$POLICY"
  assert_unchanged
}

@test "systemTrustStore annotation: \"true\" turns the standard files on for one pod, \"false\" off" {
  with_annotation pod-simple.json cainjector.lestak.sh/systemTrustStore true
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/annotated.json" --settings-json "$DEFAULT" "$POLICY"
  assert_patch "$OVER_STANDARD"
  with_annotation pod-simple.json cainjector.lestak.sh/systemTrustStore false
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/annotated.json" \
    --settings-path policy-settings/system-trust-store.yaml "$POLICY"
  assert_patch "$STANDARD"
  with_annotation pod-simple.json cainjector.lestak.sh/systemTrustStore yes
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/annotated.json" --settings-json "$DEFAULT" "$POLICY"
  assert_rejected 'annotation "cainjector.lestak.sh/systemTrustStore": "yes" must be "true" or "false"'
}

@test "systemTrustStore list: only the files listed; the container's own mount above one wins" {
  jq '.object.spec.containers[0].volumeMounts = [{"name": "own", "mountPath": "/etc/ssl"}]' \
    test_data/pod-simple.json >"$BATS_TEST_TMPDIR/own.json"
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/own.json" \
    --settings-json '{"configMap": "ca-bundle", "systemTrustStore": ["/etc/ssl/cert.pem", "/etc/pki/tls/certs/ca-bundle.crt"]}' "$POLICY"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts/1\", \"value\": $MOUNT},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts/2\", \"value\": $(store_mount /etc/pki/tls/certs/ca-bundle.crt)},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "systemTrustStore values that cannot be mounted are refused, naming the item" {
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "systemTrustStore": ["/etc/ssl/cert.pem", "/proc/ca.pem"]}' "$POLICY"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *'setting "systemTrustStore"[1]: "/proc/ca.pem" must not be at or under /proc, which the container needs'* ]]
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "mountPath": "/etc/ssl/certs", "systemTrustStore": true}' "$POLICY"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *'setting "systemTrustStore": the system trust store file /etc/ssl/certs/ca-certificates.crt and the mount path /etc/ssl/certs overlap'* ]]
}

@test "systemTrustStore with sourceCheck: a bundle with the public roots goes over the system files" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "systemTrustStore": true, "sourceCheck": "reject"}' \
    replay-bundle-public-roots.yml --allow-context-aware
  assert_patch "$OVER_STANDARD"
  [ "$(echo "$output" | jq -c .warnings)" = null ]
}

@test "systemTrustStore with sourceCheck warn: a one-certificate bundle is injected without the system files, with a warning" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "systemTrustStore": true, "sourceCheck": "warn"}' \
    replay-bundle-present.yml --allow-context-aware
  assert_patch "$STANDARD"
  [ "$(echo "$output" | jq -r '.warnings | length')" = 1 ]
  [ "$(echo "$output" | jq -r '.warnings[0]')" = "cainjector injected the trust bundle but not over the system trust store: $THIN (setting sourceCheck: warn)" ]
}

@test "systemTrustStore with sourceCheck reject: a one-certificate bundle is refused, naming source, key and count" {
  evaluate_replayed pod-simple.json '{"configMap": "ca-bundle", "systemTrustStore": true, "sourceCheck": "reject"}' \
    replay-bundle-present.yml --allow-context-aware
  assert_rejected "the trust bundle cannot be injected: $THIN (setting sourceCheck: reject)"
}

@test "systemTrustStore with action require: the files a container lacks are named" {
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "systemTrustStore": ["/etc/ssl/cert.pem"], "action": "require"}' "$POLICY"
  assert_rejected 'pod lacks the trust bundle (ConfigMap "ca-bundle"): container "app" lacks the mount at /cacerts, the bundle over the system trust store file /etc/ssl/cert.pem and SSL_CERT_FILE'
}

# ---- the ready settings files of policy-settings/, each on a pod ----

# settings_file FILE REQUEST: run REQUEST with policy-settings/FILE.
settings_file() {
  run --separate-stderr "$KWCTL" run --request-path "test_data/$2" \
    --settings-path "policy-settings/$1" "$POLICY"
}

STANDARD="[
  {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
  {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
  {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
]"

@test "policy-settings/default.yaml and policy-settings/trust-manager.yaml: the standard injection" {
  for file in default.yaml trust-manager.yaml; do
    settings_file "$file" pod-simple.json
    assert_patch "$STANDARD"
  done
}

# language-env.yaml's variables, each pointing at the bundle, and the Java trust store options (the
# store has no password, as the example Bundle writes it: no password option).
LANGUAGE_VALUE='"/cacerts/ca.crt"'
LANGUAGE_ENV="      {\"name\": \"SSL_CERT_FILE\", \"value\": $LANGUAGE_VALUE},
      {\"name\": \"NODE_EXTRA_CA_CERTS\", \"value\": $LANGUAGE_VALUE},
      {\"name\": \"REQUESTS_CA_BUNDLE\", \"value\": $LANGUAGE_VALUE},
      {\"name\": \"CURL_CA_BUNDLE\", \"value\": $LANGUAGE_VALUE},
      {\"name\": \"GIT_SSL_CAINFO\", \"value\": $LANGUAGE_VALUE},
      {\"name\": \"AWS_CA_BUNDLE\", \"value\": $LANGUAGE_VALUE},
      {\"name\": \"JAVA_TOOL_OPTIONS\", \"value\": \"-Djavax.net.ssl.trustStore=/cacerts/truststore.p12 -Djavax.net.ssl.trustStoreType=PKCS12\"}"

@test "policy-settings/language-env.yaml: every runtime's variable and the Java trust store" {
  settings_file language-env.yaml pod-simple.json
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$LANGUAGE_ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "policy-settings/every-runtime.yaml: language-env.yaml's variables and the bundle over the system files" {
  settings_file every-runtime.yaml pod-simple.json
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$LANGUAGE_ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT, $STORE_MOUNTS]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "policy-settings/locked-overrides.yaml: injects, and refuses annotations it does not allow" {
  settings_file locked-overrides.yaml pod-simple.json
  assert_patch "$STANDARD"
  settings_file locked-overrides.yaml pod-annotations.json
  assert_rejected 'annotation "cainjector.lestak.sh/certFile" is not allowed: the cluster'"'"'s cainjector policy lets pods use only inject, excludeContainers (setting allowedOverrides)'
}

@test "policy-settings/opt-in.yaml: only pods that opt in" {
  settings_file opt-in.yaml pod-simple.json
  assert_unchanged
  settings_file opt-in.yaml pod-opt-in.json
  assert_patch "$STANDARD"
}

@test "policy-settings/secret-source.yaml: the bundle from a Secret" {
  settings_file secret-source.yaml pod-simple.json
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [{\"name\": \"cainjector-ca-bundle\", \"secret\": {\"secretName\": \"ca-bundle\"}}]}
  ]"
}

@test "policy-settings/webhook-migration.yaml: the webhook's config.yaml as it was" {
  settings_file webhook-migration.yaml pod-simple.json
  assert_patch '[
    {"op": "add", "path": "/spec/containers/0/env", "value": [{"name": "SSL_CERT_FILE", "value": "/cacerts/ca.crt"}]},
    {"op": "add", "path": "/spec/containers/0/volumeMounts", "value": [{"mountPath": "/cacerts", "name": "cainjector-my-org-com", "readOnly": true}]},
    {"op": "add", "path": "/spec/volumes", "value": [{"configMap": {"name": "my-org.com"}, "name": "cainjector-my-org-com"}]}
  ]'
  settings_file webhook-migration.yaml pod-kube-system.json
  assert_unchanged
}

# ---- action: require (coverage audit and guard) ----

# patched_request REQUEST_FILE: the request with the last answer's patch applied
# to its object, for the ops the policy emits (add, and replace for
# JAVA_TOOL_OPTIONS): JSON pointers unescaped (~1 is /, ~0 is ~), `-` appends.
patched_request() {
  jq --argjson ops "$(patch)" '
    def unescape: gsub("~1"; "/") | gsub("~0"; "~");
    def position($key): if $key == "-" then length else ($key | tonumber) end;
    def apply($op; $path):
      ($path[0] | unescape) as $key
      | if ($path | length) > 1 then
          if type == "array" then .[position($key)] |= apply($op; $path[1:])
          else .[$key] |= apply($op; $path[1:]) end
        elif $op.op == "add" and type == "array" then
          .[:position($key)] + [$op.value] + .[position($key):]
        elif $op.op == "add" or $op.op == "replace" then
          if type == "array" then .[position($key)] = $op.value else .[$key] = $op.value end
        else error("unexpected op \($op.op)") end;
    .object |= reduce $ops[] as $op (.; apply($op; $op.path | ltrimstr("/") | split("/")))
  ' "test_data/$1"
}

# inject_then_require REQUEST_FILE INJECT_SETTINGS_JSON: inject, apply the
# patch, and run the result through the same settings with action: require.
inject_then_require() {
  local request=$1 settings=$2
  evaluate "$request" "$settings"
  [ "$status" -eq 0 ]
  [ "$(patch)" != none ]
  patched_request "$request" > "$BATS_TEST_TMPDIR/injected.json"
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/injected.json" \
    --settings-json "$(echo "$settings" | jq -c '. + {action: "require"}')" "$POLICY"
}

@test "action require: a pod without the bundle is refused, naming what it lacks, and not mutated" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "action": "require"}'
  assert_rejected 'pod lacks the trust bundle (ConfigMap "ca-bundle"): container "app" lacks the mount at /cacerts and SSL_CERT_FILE'
  [ "$(echo "$output" | jq -c .patch)" = null ]
}

@test "action require: inject then require is always clean" {
  inject_then_require pod-simple.json "$DEFAULT"
  assert_unchanged
  inject_then_require pod-realistic.json '{"configMap": "ca-bundle", "excludeContainers": ["istio-proxy"], "statusAnnotation": true}'
  assert_unchanged
  inject_then_require pod-java.json '{"configMap": "ca-bundle", "envVars": ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"], "javaTrustStore": {"key": "truststore.p12"}}'
  assert_unchanged
  inject_then_require pod-annotations.json '{"secret": "cluster-bundle"}'
  assert_unchanged
  inject_then_require pod-realistic.json '{"configMap": "ca-bundle", "systemTrustStore": true, "statusAnnotation": true}'
  assert_unchanged
  inject_then_require pod-simple.json '{"clusterTrustBundle": {"signerName": "example.com/corp", "labelSelector": {"matchLabels": {"trust": "corp"}}}}'
  assert_unchanged
  for kind in deployment statefulset daemonset replicaset replicationcontroller job cronjob; do
    inject_then_require "$kind.json" "$DEFAULT"
    assert_unchanged
  done
}

@test "action require: the patch helper applies escaped pointers and appends" {
  evaluate pod-realistic.json '{"configMap": "ca-bundle", "statusAnnotation": true}'
  [ "$(patched_request pod-realistic.json | jq -c '.object.spec.containers[0].env[-1], (.object.metadata.annotations | has("cainjector.lestak.sh/status"))')" = "$(printf '%s\n%s' "$ENV" true | jq -c .)" ]
}

@test "action require: what injection skips is accepted" {
  for request in pod-windows.json pod-mirror.json pod-opt-out.json pod-update.json pod-kube-system.json pod-already-injected.json; do
    evaluate "$request" '{"configMap": "ca-bundle", "excludeNamespaces": ["kube-system"], "action": "require"}'
    assert_unchanged
  done
}

@test "action require: a bad value is refused naming the key and the values" {
  evaluate pod-simple.json '{"configMap": "ca-bundle", "action": "audit"}'
  [ "$status" -eq 1 ]
  [[ "$stderr" == *'setting "action": "audit" must be "inject" or "require"'* ]]
}

@test "policy-settings/require.yaml: the audit scanner's request for a running pod, before and after injection" {
  settings_file require.yaml audit-pod-running.json
  assert_rejected 'pod lacks the trust bundle (ConfigMap "ca-bundle"): container "api" lacks the mount at /cacerts and SSL_CERT_FILE; init container "migrate" lacks the mount at /cacerts and SSL_CERT_FILE'
  settings_file trust-manager.yaml audit-pod-running.json
  [ "$status" -eq 0 ]
  patched_request audit-pod-running.json > "$BATS_TEST_TMPDIR/injected.json"
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/injected.json" \
    --settings-path policy-settings/require.yaml "$POLICY"
  assert_unchanged
}

@test "every file of policy-settings/ has a test here" {
  for file in policy-settings/*.yaml; do
    grep -q "policy-settings/$(basename "$file")" "$BATS_TEST_FILENAME" || {
      echo "no e2e test for $file"
      return 1
    }
  done
}

# ---- javaTrustStore.cacerts and envValues ----

java_mount() {
  echo "{\"mountPath\": \"$1\", \"name\": \"cainjector-ca-bundle\", \"readOnly\": true, \"subPath\": \"truststore.p12\"}"
}
CACERTS_MOUNTS="$(java_mount /etc/ssl/certs/java/cacerts), $(java_mount /etc/pki/ca-trust/extracted/java/cacerts),
  $(java_mount /opt/java/openjdk/lib/security/cacerts)"

@test "policy-settings/java-cacerts.yaml: the store over each JDK default trust store, the pod's own JAVA_TOOL_OPTIONS and SSL_CERT_FILE kept, and a second run changes nothing" {
  settings_file java-cacerts.yaml pod-java.json
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT, $CACERTS_MOUNTS]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
  patched_request pod-java.json >"$BATS_TEST_TMPDIR/injected.json"
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/injected.json" \
    --settings-path policy-settings/java-cacerts.yaml "$POLICY"
  assert_unchanged
}

@test "javaTrustStore.cacerts: the javaTrustStore annotation turns it off per pod; require names the files" {
  with_annotation pod-simple.json cainjector.lestak.sh/javaTrustStore false
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/annotated.json" \
    --settings-path policy-settings/java-cacerts.yaml "$POLICY"
  assert_patch "$STANDARD"
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "javaTrustStore": {"key": "truststore.p12", "cacerts": ["/opt/jdk/cacerts"]}, "action": "require"}' "$POLICY"
  assert_rejected 'pod lacks the trust bundle (ConfigMap "ca-bundle"): container "app" lacks the mount at /cacerts, the Java trust store over the JDK trust store file /opt/jdk/cacerts and SSL_CERT_FILE'
}

@test "javaTrustStore.cacerts with a password, or over the mount path, is refused" {
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "javaTrustStore": {"key": "truststore.p12", "cacerts": true, "password": "changeit"}}' "$POLICY"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *'setting "javaTrustStore.password" cannot be used with "cacerts": the JDK reads its default trust store without a password, so the store must be readable without one (trust-manager'"'"'s PKCS#12 target with password "", or JKS): leave the password out'* ]]
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "mountPath": "/opt/java", "javaTrustStore": {"key": "truststore.p12", "cacerts": true}}' "$POLICY"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *'setting "javaTrustStore.cacerts": the JDK trust store file /opt/java/openjdk/lib/security/cacerts and the mount path /opt/java overlap'* ]]
}

# The ConfigMap of replay-bundle-locked-store.yml holds the PKCS#12 store in binaryData
# as trust-manager writes it given a password (test_data/trust-stores/changeit.p12).
LOCKED="ConfigMap \"ca-bundle\" in namespace \"default\" holds in key \"truststore.p12\" a PKCS#12 store whose certificates are encrypted, as trust-manager writes it given a password: put over the JDK's default cacerts (javaTrustStore.cacerts), which the JDK opens without a password, it leaves the JVM trusting no certificate at all; write the store without a password (trust-manager additionalFormats.pkcs12.password: \"\")"
CACERTS_CHECKED='{"configMap": "ca-bundle", "javaTrustStore": {"key": "truststore.p12", "cacerts": true}, "sourceCheck": "%s"}'

@test "javaTrustStore.cacerts with sourceCheck reject: a store under a password is refused, naming key and fix" {
  # shellcheck disable=SC2059 # the settings are the format
  evaluate_replayed pod-simple.json "$(printf "$CACERTS_CHECKED" reject)" \
    replay-bundle-locked-store.yml --allow-context-aware
  assert_rejected "the trust bundle cannot be injected: $LOCKED (setting sourceCheck: reject)"
}

@test "javaTrustStore.cacerts with sourceCheck warn: a store under a password is left off cacerts, with a warning" {
  # shellcheck disable=SC2059 # the settings are the format
  evaluate_replayed pod-simple.json "$(printf "$CACERTS_CHECKED" warn)" \
    replay-bundle-locked-store.yml --allow-context-aware
  assert_patch "$STANDARD"
  [ "$(echo "$output" | jq -r '.warnings | length')" = 1 ]
  [ "$(echo "$output" | jq -r '.warnings[0]')" = "cainjector injected the trust bundle but not over the JDK's default cacerts: $LOCKED (setting sourceCheck: warn)" ]
}

@test "policy-settings/env-values.yaml: the variables with their values after the path variables, the pod's own kept" {
  settings_file env-values.yaml pod-simple.json
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV,
      {\"name\": \"NODE_EXTRA_CA_CERTS\", \"value\": \"/cacerts/ca.crt\"},
      {\"name\": \"DENO_TLS_CA_STORE\", \"value\": \"system\"},
      {\"name\": \"NODE_USE_SYSTEM_CA\", \"value\": \"1\"},
      {\"name\": \"UV_NATIVE_TLS\", \"value\": \"1\"}]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
  jq '.object.spec.containers[0].env = [{"name": "NODE_USE_SYSTEM_CA", "value": "0"}]' \
    test_data/pod-simple.json >"$BATS_TEST_TMPDIR/own.json"
  run --separate-stderr "$KWCTL" run --request-path "$BATS_TEST_TMPDIR/own.json" \
    --settings-path policy-settings/env-values.yaml "$POLICY"
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env/1\", \"value\": $ENV},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env/2\", \"value\": {\"name\": \"NODE_EXTRA_CA_CERTS\", \"value\": \"/cacerts/ca.crt\"}},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env/3\", \"value\": {\"name\": \"DENO_TLS_CA_STORE\", \"value\": \"system\"}},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env/4\", \"value\": {\"name\": \"UV_NATIVE_TLS\", \"value\": \"1\"}},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "envValues that set what envVars sets are refused, naming it" {
  run --separate-stderr "$KWCTL" run --request-path test_data/pod-simple.json \
    --settings-json '{"configMap": "ca-bundle", "envValues": {"SSL_CERT_FILE": "/x"}}' "$POLICY"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *'setting "envValues" sets SSL_CERT_FILE, which "envVars" also sets to the bundle'"'"'s path: keep it in one of them'* ]]
}
