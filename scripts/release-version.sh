#!/usr/bin/env bash
# The release's version check: the tag that triggered it must be v<version>,
# with the same <version> in Cargo.toml and in metadata.yml
# (io.kubewarden.policy.version). Prints the version when they agree; otherwise
# says which file differs and exits 1. Run by .github/workflows/release.yml on
# a tag, and by tests/release.rs.
# usage: scripts/release-version.sh TAG
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${1:?usage: scripts/release-version.sh TAG}
crate=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
metadata=$(sed -n 's/^ *io\.kubewarden\.policy\.version: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' metadata.yml)

if [ "$tag" != "v$crate" ]; then
  echo "error: the tag '$tag' is not v<version> for Cargo.toml's version $crate" >&2
  exit 1
fi
if [ "$metadata" != "$crate" ]; then
  echo "error: metadata.yml's io.kubewarden.policy.version '$metadata' is not Cargo.toml's version $crate" >&2
  exit 1
fi
echo "$crate"
