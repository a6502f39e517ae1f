#!/usr/bin/env bats
# The module as a cluster receives it: the annotated module pushed with kwctl to a
# real OCI registry (the distribution registry on 127.0.0.1 only: Debian's
# docker-registry started here, its storage in target/e2e-registry, or the one already
# serving at REGISTRY, as CI's registry service does), pulled and inspected back with
# kwctl, then fetched by a real policy-server from its registry:// reference and asked
# on its HTTP endpoint, as the API server asks it. `make e2e-registry` runs it; docs/development.md says what it
# needs. Everything it starts is stopped by its PID in teardown_file.

bats_require_minimum_version 1.5.0
load tests/common/e2e

MODULE=${MODULE:-annotated-policy.wasm}
# host:port of a registry that is already serving; when empty, docker-registry is started.
REGISTRY=${REGISTRY:-}
# Absolute: policy-server 1.36 creates a relative download directory's subfolders under
# the wrong parent (its store joins the root twice), then cannot write the module.
WORK="$BATS_TEST_DIRNAME/target/e2e-registry"
# Each wait is bounded: half a second apart, 60 tries for the registry (30 s),
# 240 for policy-server (120 s: it first tries to fetch Sigstore's trust root,
# which a machine without Internet access only gives up on after a while).
TRIES=60
SERVER_TRIES=240

# A free TCP port on 127.0.0.1, as the kernel hands one out.
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for NAME URL PID LOG TRIES: until URL answers 200, or fail with the process's log
# (PID empty: a server this file did not start).
wait_for() {
  local name=$1 url=$2 pid=$3 log=$4 tries=$5
  for _ in $(seq "$tries"); do
    curl -sf --max-time 2 -o /dev/null "$url" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it answered on $url:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "$name did not answer on $url within $((tries / 2)) s:" >&2
  cat "$log" >&2 2>/dev/null
  return 1
}

# start NAME COMMAND...: run it in the background, its output in $WORK/NAME.log and
# its PID in $WORK/NAME.pid (fd 3 closed, so that bats does not wait for it).
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 3>&- &
  echo $! >"$WORK/$name.pid"
}

# Debian's docker-registry on a free port of 127.0.0.1: no authentication, storage under
# target/.
start_registry() {
  REGISTRY="127.0.0.1:$(free_port)"
  cat >"$WORK/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: $REGISTRY
EOF
  start registry docker-registry serve "$WORK/registry.yml"
}

setup_file() {
  cd "$BATS_TEST_DIRNAME"
  rm -rf "$WORK"
  mkdir -p "$WORK/storage" "$WORK/policies"
  SERVER_PORT=$(free_port)
  READINESS_PORT=$(free_port)
  [ -n "$REGISTRY" ] || start_registry
  wait_for registry "http://$REGISTRY/v2/" "$(cat "$WORK/registry.pid" 2>/dev/null)" \
    "$WORK/registry.log" "$TRIES"
  REPOSITORY="$REGISTRY/cainjector/policies/cainjector"
  VERSION=$(sed -n 's/^ *io\.kubewarden\.policy\.version: *//p' metadata.yml)
  REFERENCE="registry://$REPOSITORY:v$VERSION"
  export REGISTRY SERVER_PORT REPOSITORY VERSION REFERENCE

  # Plain HTTP is allowed for this loopback registry only.
  printf 'insecure_sources:\n  - "%s"\n' "$REGISTRY" >"$WORK/sources.yml"
  kwctl push --sources-path "$WORK/sources.yml" --output json "$MODULE" "$REFERENCE" >"$WORK/push.json"

  # policy-server as the controller configures it: the policy by its registry://
  # reference, allowed to mutate, with the ready default settings.
  {
    printf 'cainjector:\n  module: %s\n  allowedToMutate: true\n  settings:\n' "$REFERENCE"
    sed 's/^/    /' policy-settings/default.yaml
  } >"$WORK/policies.yml"
  start policy-server policy-server --addr 127.0.0.1 --port "$SERVER_PORT" \
    --readiness-probe-port "$READINESS_PORT" --workers 1 \
    --policies "$WORK/policies.yml" --sources-path "$WORK/sources.yml" \
    --policies-download-dir "$WORK/policies" --sigstore-cache-dir "$WORK/sigstore" \
    --ignore-kubernetes-connection-failure --log-no-color
  wait_for policy-server "http://127.0.0.1:$READINESS_PORT/readiness" \
    "$(cat "$WORK/policy-server.pid")" "$WORK/policy-server.log" "$SERVER_TRIES"
}

teardown_file() {
  cd "$BATS_TEST_DIRNAME"
  local name pid
  for name in policy-server registry; do
    [ -f "$WORK/$name.pid" ] || continue
    pid=$(cat "$WORK/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq "$TRIES"); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
  done
}

setup() {
  cd "$BATS_TEST_DIRNAME"
}

# The digest the registry serves for the tag.
served_digest() {
  curl -sf --max-time 5 -I \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/cainjector/policies/cainjector/manifests/v$VERSION" |
    tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}

@test "kwctl push: the registry serves the tag at the digest kwctl reported" {
  local digest
  digest=$(served_digest)
  [[ "$digest" == sha256:* ]]
  [ "$(jq -r .immutable_ref "$WORK/push.json")" = "$REPOSITORY@$digest" ]
}

@test "kwctl pull: the module comes back byte for byte" {
  XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache" run kwctl pull --sources-path "$WORK/sources.yml" \
    --output-path "$BATS_TEST_TMPDIR/pulled.wasm" "$REFERENCE"
  [ "$status" -eq 0 ]
  cmp "$MODULE" "$BATS_TEST_TMPDIR/pulled.wasm"
}

@test "kwctl inspect: the registry's module carries the metadata that was annotated" {
  # kwctl inspect reads its local store: the module is pulled into it first.
  XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache" kwctl pull --sources-path "$WORK/sources.yml" "$REFERENCE"
  XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache" run --separate-stderr kwctl inspect --output yaml "$REFERENCE"
  [ "$status" -eq 0 ]
  local local_metadata
  local_metadata=$(kwctl inspect --output yaml "$MODULE")
  [ "$output" = "$local_metadata" ]
  [[ "$output" == *"io.kubewarden.policy.version: $VERSION"* ]]
  [[ "$output" == *"mutating: true"* ]]
}

# review REQUEST_FILE: the request sent to /validate/cainjector as the API server
# sends it (an AdmissionReview); $output is the response within the answer.
review() {
  local answer
  answer=$(jq -c '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: .}' \
    "test_data/$1" | curl -sf --max-time 10 -H 'Content-Type: application/json' \
    --data-binary @- "http://127.0.0.1:$SERVER_PORT/validate/cainjector")
  status=$?
  output=$(echo "$answer" | jq -c .response)
}

@test "policy-server: a pod gets the volume, the mount and SSL_CERT_FILE" {
  review pod-simple.json
  assert_patch "[
    {\"op\": \"add\", \"path\": \"/spec/containers/0/env\", \"value\": [$ENV]},
    {\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts\", \"value\": [$MOUNT]},
    {\"op\": \"add\", \"path\": \"/spec/volumes\", \"value\": [$VOLUME]}
  ]"
}

@test "policy-server: a pod with an invalid annotation is refused, naming it" {
  review pod-bad-annotation.json
  assert_rejected "annotation \"cainjector.lestak.sh/mountPath\": \"certs\" must be an absolute path (starting with '/')"
}

@test "policy-server: a pod in an excluded namespace is admitted unchanged" {
  review pod-kube-system.json
  assert_unchanged
}
