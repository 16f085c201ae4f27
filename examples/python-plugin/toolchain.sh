#!/bin/sh
# The Python example's toolchain: Debian's python3-grpcio and python3-protobuf (to run),
# protoc, grpc_python_plugin and the well-known .protos of libprotobuf-dev (to generate the
# stubs). The package list is in ./debian-packages (plugin.py reads it too).
#
#   sh toolchain.sh check     prints why the toolchain is incomplete and exits 1; silent, 0 when whole
#   sh toolchain.sh command   prints the command that installs it
#   sh toolchain.sh install   for `pnpm start`: as root with apt-get, installs what is missing
#                             (one line says so; QNTX_NO_APT=1 opts out); always exits 0, since a
#                             missing optional example must not stop the host
#
# gen.sh and run.sh source this file for its variables and functions. It looks for the tools
# themselves (an executable protoc, a real `import grpc`), never at dpkg: a package can be
# listed as installed while its files are gone.
#
# Overrides: PYPLUG_PYTHON (default /usr/bin/python3; not $PYTHON, which node-gyp users often
# point at a pyenv python that cannot see Debian's packages), PROTOC, GRPC_PYTHON_PLUGIN,
# PROTOBUF_INCLUDE (where google/protobuf/struct.proto lives, default /usr/include).

toolchain_dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
# When sourced, $0 is the sourcing script, which lives in this folder too.
read -r PYPLUG_PACKAGES < "$toolchain_dir/debian-packages"
PYPLUG_PYTHON=${PYPLUG_PYTHON:-/usr/bin/python3}
PROTOC=${PROTOC:-/usr/bin/protoc}
GRPC_PYTHON_PLUGIN=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}
PROTOBUF_INCLUDE=${PROTOBUF_INCLUDE:-/usr/include}

# The command a person runs to get the toolchain (sudo when not root).
toolchain_install_command() {
  if [ "$(id -u)" = 0 ]; then printf 'apt-get install -y %s\n' "$PYPLUG_PACKAGES"
  else printf 'sudo apt-get install -y %s\n' "$PYPLUG_PACKAGES"; fi
}

# Prints the first thing missing (naming its Debian package) and returns 1; returns 0 when
# everything gen.sh and the plugin need is there.
toolchain_check() {
  if [ ! -x "$PROTOC" ]; then echo "$PROTOC not found (Debian package protobuf-compiler)"; return 1; fi
  if [ ! -x "$GRPC_PYTHON_PLUGIN" ]; then echo "$GRPC_PYTHON_PLUGIN not found (Debian package protobuf-compiler-grpc)"; return 1; fi
  if [ ! -f "$PROTOBUF_INCLUDE/google/protobuf/struct.proto" ]; then
    echo "google/protobuf/struct.proto not found in $PROTOBUF_INCLUDE (Debian package libprotobuf-dev)"; return 1
  fi
  if [ ! -x "$PYPLUG_PYTHON" ]; then echo "$PYPLUG_PYTHON not found (Debian package python3)"; return 1; fi
  # `grpc.server`, not just `import grpc`: an empty grpc/ folder imports as a namespace package.
  if ! "$PYPLUG_PYTHON" -c 'import grpc; grpc.server' >/dev/null 2>&1; then
    echo "$PYPLUG_PYTHON cannot import grpc (Debian package python3-grpcio)"; return 1
  fi
  if ! "$PYPLUG_PYTHON" -c 'import google.protobuf.struct_pb2' >/dev/null 2>&1; then
    echo "$PYPLUG_PYTHON cannot import google.protobuf (Debian package python3-protobuf)"; return 1
  fi
  return 0
}

# `pnpm start`: installs the packages when that can work, else leaves it to the build's skip line.
toolchain_install() {
  toolchain_check >/dev/null && return 0
  case "${QNTX_NO_APT:-}" in ""|0|false) ;; *) return 0 ;; esac
  [ "$(id -u)" = 0 ] || return 0
  command -v apt-get >/dev/null 2>&1 || return 0
  echo "python-plugin: installing Debian packages for the Python example: apt-get install -y $PYPLUG_PACKAGES (QNTX_NO_APT=1 skips this)"
  log=$(mktemp)
  # Without `apt-get update` first: on a machine whose package lists are fresh enough (or that
  # has the packages already) it is not needed; a fresh image has no lists, so update on failure.
  if ! apt_get_install >"$log" 2>&1; then
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt_get_install; } >>"$log" 2>&1; then
      echo "python-plugin: apt-get install failed: $(grep -v '^ *$' "$log" | tail -n 1)"
    fi
  fi
  rm -f "$log"
  return 0
}

apt_get_install() {
  # Our list is complete (CI checks it with fresh-machine --keep): Recommends are not needed.
  # shellcheck disable=SC2086  # the list is meant to split into words
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PYPLUG_PACKAGES
}

# Run as a command (not sourced by gen.sh or run.sh).
case "$0" in
  */toolchain.sh|toolchain.sh)
    case "${1:-}" in
      check) toolchain_check ;;
      command) toolchain_install_command ;;
      install) toolchain_install ;;
      *) echo "usage: sh toolchain.sh check|command|install" >&2; exit 2 ;;
    esac
    ;;
esac
