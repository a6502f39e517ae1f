#!/usr/bin/env bash
# Installs what `make run` and `make test` need and a fresh machine lacks, before
# anything is built: the wasm32-wasip1 target and the toolchain's components
# through rustup (rust-toolchain.toml names them, but rustup only adds them when
# it installs the toolchain itself), and jq, bats, wasm-opt (binaryen) and, for
# `make bench`, valgrind through apt-get when run as root; and the workflow
# linters of scripts/lint-requirements.txt with pip into .venv. Otherwise it
# stops at once and says what to install.
# usage: scripts/tools.sh TOOL...   (TOOL: wasm-target, components, jq, bats, wasm-opt, valgrind,
#                                    workflow-lint)
set -euo pipefail

TARGET=wasm32-wasip1
apt_updated=false

fail() {
  echo "error: $1 is missing and cannot be installed from here: $2" >&2
  exit 1
}

apt_install() { # COMMAND PACKAGE
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    fail "$1" "install the package '$2' (e.g. sudo apt-get install $2), then run make again"
  fi
  echo "installing $2 (for $1) with apt-get"
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  command -v "$1" >/dev/null || fail "$1" "apt-get installed '$2' but $1 is not on PATH"
}

rustup_needed() {
  command -v rustup >/dev/null ||
    fail "rustup" "install Rust with rustup (https://rustup.rs); rust-toolchain.toml names the toolchain"
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

for tool in "$@"; do
  case "$tool" in
  wasm-target)
    rustup_needed
    if ! rustup target list --installed | grep -qx "$TARGET"; then
      echo "adding the $TARGET target with rustup"
      rustup target add "$TARGET"
    fi
    ;;
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
  workflow-lint) lint_venv ;;
  *)
    echo "scripts/tools.sh: unknown tool '$tool'" >&2
    exit 2
    ;;
  esac
done
