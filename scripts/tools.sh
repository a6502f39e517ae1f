#!/usr/bin/env bash
# Installs what `make run` and `make test` need and a fresh machine lacks, before
# anything is built: the wasm32-wasip1 target and the toolchain's components
# through rustup (rust-toolchain.toml names them, but rustup only adds them when
# it installs the toolchain itself), and jq, bats, wasm-opt (binaryen), for
# `make bench` valgrind, for the fuzz targets' check build a C++ compiler (g++),
# and for `make trust-matrix` the TLS clients it measures and runc, through apt-get
# when run as root (its static Rust client's musl target through rustup); and the
# workflow linters of scripts/lint-requirements.txt with pip into .venv. Otherwise it stops at once
# and says what to install.
# For `make e2e-registry`: Debian's docker-registry through apt-get as root; kwctl
# and policy-server only checked (they are Kubewarden's releases, not Debian's), with
# where to get the release of KUBEWARDEN_VERSION when one is missing.
# usage: scripts/tools.sh TOOL...
#   (TOOL: wasm-target, components, jq, bats, wasm-opt, valgrind, c++, trust-matrix, workflow-lint,
#    docker-registry, kwctl, policy-server)
set -euo pipefail

TARGET=wasm32-wasip1
apt_updated=false

fail() {
  echo "error: $1 is missing and cannot be installed from here: $2" >&2
  exit 1
}

apt_get() { # WHAT PACKAGE...: installs the packages, which WHAT needs
  local what=$1
  shift
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    fail "$what" "install the packages '$*' (e.g. sudo apt-get install $*), then run make again"
  fi
  echo "installing $* (for $what) with apt-get"
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

apt_install() { # COMMAND PACKAGE
  command -v "$1" >/dev/null && return
  apt_get "$1" "$2"
  command -v "$1" >/dev/null || fail "$1" "apt-get installed '$2' but $1 is not on PATH"
}

# The TLS clients `make trust-matrix` runs (tests/trust-matrix): Debian's packages, as
# Debian-based images ship them, each checked the way the matrix uses it; one apt-get
# for all that are missing. Python is Debian's /usr/bin/python3, not a python3 that
# comes first on PATH.
have() { command -v "$1" >/dev/null; }
trust_matrix_packages() {
  local missing=()
  [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  have openssl || missing+=(openssl)
  have curl || missing+=(curl)
  have wget || missing+=(wget)
  [ -x /usr/bin/python3 ] || missing+=(python3)
  /usr/bin/python3 -c 'import requests' 2>/dev/null || missing+=(python3-requests)
  have node || missing+=(nodejs)
  { have java && have javac; } || missing+=(default-jdk-headless)
  have go || missing+=(golang-go)
  have ruby || missing+=(ruby)
  have php || missing+=(php-cli)
  php -m 2>/dev/null | grep -qx curl || missing+=(php-curl)
  have runc || missing+=(runc)             # runs each container from its OCI spec
  have unshare || missing+=(util-linux)    # the private mount namespace of the overlays
  have musl-gcc || missing+=(musl-tools)   # ring's C code in the static Rust client
  [ ${#missing[@]} = 0 ] || apt_get "make trust-matrix" "${missing[@]}"
}

# Python requests as pip installs it, with certifi's own roots (Debian's python3-requests
# reads the system file instead), into target/trust-matrix/pip: wheels for Debian's
# /usr/bin/python3 (`--python`, pip 22.3 or later), whichever python3 runs pip.
REQUESTS_PIP=(requests==2.34.2 certifi==2026.10.19.post1)
trust_matrix_pip() {
  local dir stamp
  dir="$(dirname "$0")/../target/trust-matrix/pip"
  stamp="$dir/.installed"
  [ "$(cat "$stamp" 2>/dev/null)" = "${REQUESTS_PIP[*]}" ] && return
  local python=python3
  if ! python3 -m pip --version >/dev/null 2>&1; then
    python=/usr/bin/python3
    $python -m pip --version >/dev/null 2>&1 || apt_get pip python3-pip
  fi
  echo "installing ${REQUESTS_PIP[*]} with pip into target/trust-matrix/pip"
  rm -rf "$dir"
  $python -m pip --python /usr/bin/python3 install -q --disable-pip-version-check --root-user-action=ignore \
    --no-compile --target "$dir" "${REQUESTS_PIP[@]}"
  echo "${REQUESTS_PIP[*]}" >"$stamp"
}

rustup_needed() {
  command -v rustup >/dev/null ||
    fail "rustup" "install Rust with rustup (https://rustup.rs); rust-toolchain.toml names the toolchain"
}

rustup_target() { # TARGET: added with rustup unless installed
  rustup_needed
  if ! rustup target list --installed | grep -qx "$1"; then
    echo "adding the $1 target with rustup"
    rustup target add "$1"
  fi
}

# The workflow linters come from PyPI, pinned, into a venv of the project's own
# (.venv, ignored by git), installed again only when the pins change.
VENV="$(cd "$(dirname "$0")/.." && pwd)/.venv"
LINT_REQUIREMENTS="$(dirname "$0")/lint-requirements.txt"
lint_venv() {
  if cmp -s "$LINT_REQUIREMENTS" "$VENV/lint-requirements.txt"; then return; fi
  apt_install python3 python3
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    # Debian ships venv's pip bootstrap as a package of its own.
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      fail "python3-venv" "install the package 'python3-venv' (e.g. sudo apt-get install python3-venv), then run make again"
    fi
    echo "installing python3-venv with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
  echo "installing the workflow linters ($LINT_REQUIREMENTS) into $VENV with pip"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$LINT_REQUIREMENTS"
  cp "$LINT_REQUIREMENTS" "$VENV/lint-requirements.txt"
}

# Kubewarden's own binaries: on PATH, or a stop that says where they come from.
KUBEWARDEN_VERSION=${KUBEWARDEN_VERSION:-(the Makefile names the version)}
kubewarden_needed() { # COMMAND WHERE
  command -v "$1" >/dev/null || fail "$1" "put $1 $KUBEWARDEN_VERSION on PATH: $2"
}

for tool in "$@"; do
  case "$tool" in
  wasm-target) rustup_target "$TARGET" ;;
  components)
    rustup_needed
    installed=$(rustup component list --installed)
    for component in rustfmt clippy; do
      grep -q "^$component" <<<"$installed" || rustup component add "$component"
    done
    ;;
  jq) apt_install jq jq ;;
  bats) apt_install bats bats ;;
  wasm-opt) apt_install wasm-opt binaryen ;;
  valgrind) apt_install valgrind valgrind ;;
  c++) apt_install c++ g++ ;;
  trust-matrix)
    trust_matrix_packages
    trust_matrix_pip
    rustup_target x86_64-unknown-linux-musl # the static Rust client, run over every image family
    ;;
  workflow-lint) lint_venv ;;
  docker-registry) apt_install docker-registry docker-registry ;;
  kwctl)
    kubewarden_needed kwctl "the kwctl-linux-x86_64.zip asset of its release at https://github.com/kubewarden/adm-controller/releases (https://docs.kubewarden.io/howtos/install-kwctl)"
    ;;
  policy-server)
    kubewarden_needed policy-server "the /policy-server binary of the image ghcr.io/kubewarden/adm-controller/policy-server:$KUBEWARDEN_VERSION (docker create, then docker cp <container>:/policy-server)"
    ;;
  *)
    echo "scripts/tools.sh: unknown tool '$tool'" >&2
    exit 2
    ;;
  esac
done
