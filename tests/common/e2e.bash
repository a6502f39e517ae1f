# Assertions shared by the bats suites (e2e.bats, e2e-registry.bats) on an
# AdmissionResponse held in $output, as `kwctl run` prints it: the decoded
# JSONPatch exactly, or the exact message.

# The decoded patch, compact, or "none".
patch() {
  echo "$output" | jq -c 'if .patch then (.patch | @base64d | fromjson) else "none" end'
}

# assert_patch EXPECTED_JSON: the response allows the request with exactly this patch.
assert_patch() {
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .allowed)" = "true" ]
  [ "$(echo "$output" | jq -r .patchType)" = "JSONPatch" ]
  local expected
  expected=$(echo "$1" | jq -c .)
  if [ "$(patch)" != "$expected" ]; then
    echo "expected: $expected"
    echo "actual:   $(patch)"
    return 1
  fi
}

# assert_unchanged: allowed, no patch, no message.
assert_unchanged() {
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -c '[.allowed, .patch, .status]')" = '[true,null,null]' ]
}

# assert_rejected MESSAGE: not allowed, with exactly this message.
assert_rejected() {
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .allowed)" = "false" ]
  local message
  message=$(echo "$output" | jq -r .status.message)
  if [ "$message" != "$1" ]; then
    echo "expected: $1"
    echo "actual:   $message"
    return 1
  fi
}

# What the default settings add to a container and a pod.
MOUNT='{"mountPath": "/cacerts", "name": "cainjector-ca-bundle", "readOnly": true}'
ENV='{"name": "SSL_CERT_FILE", "value": "/cacerts/ca.crt"}'
VOLUME='{"configMap": {"name": "ca-bundle"}, "name": "cainjector-ca-bundle"}'
