#!/usr/bin/env bash
# Writes policy-server VERSION to DIR/policy-server. Kubewarden publishes policy-server
# as an image only, so its static binary is copied out of
# ghcr.io/kubewarden/adm-controller/policy-server:VERSION, pulled by the digest whose
# Sigstore signature, made by Kubewarden's release workflow for that tag, cosign has
# verified. Needs docker, cosign and jq; used by the workflows (ci.yml, release.yml).
# usage: scripts/policy-server-image.sh VERSION DIR
set -euo pipefail

version=${1:?usage: scripts/policy-server-image.sh VERSION DIR}
dir=${2:?usage: scripts/policy-server-image.sh VERSION DIR}
image=ghcr.io/kubewarden/adm-controller/policy-server
identity="^https://github\.com/kubewarden/adm-controller/\.github/workflows/[^@]+@refs/tags/${version//./\\.}\$"

digest=$(cosign verify --certificate-oidc-issuer https://token.actions.githubusercontent.com \
  --certificate-identity-regexp "$identity" "$image:$version" |
  jq -r '.[0].critical.image."docker-manifest-digest"')
container=$(docker create "$image@$digest")
trap 'docker rm "$container" >/dev/null' EXIT
mkdir -p "$dir"
docker cp "$container:/policy-server" "$dir/policy-server"
"$dir/policy-server" --version
