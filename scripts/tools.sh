#!/usr/bin/env bash
# Installs what `make run` and `make test` need and a fresh machine lacks, before
# anything is built: the wasm32-wasip1 target and the toolchain's components
# through rustup (rust-toolchain.toml names them, but rustup only adds them when
# it installs the toolchain itself), and jq, bats, wasm-opt (binaryen) and, for
# `make bench`, valgrind through apt-get when run as root. Otherwise it stops at
# once and says what to install.
# usage: scripts/tools.sh TOOL...   (TOOL: wasm-target, components, jq, bats, wasm-opt, valgrind)
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
  *)
    echo "scripts/tools.sh: unknown tool '$tool'" >&2
    exit 2
    ;;
  esac
done
