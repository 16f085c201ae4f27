#!/bin/sh
# Builds the goplug example into bin/goplug with Debian's Go toolchain in GOPATH mode (no
# network: the SDK and its libraries come from ../../sdk-go and /usr/share/gocode).
# `pnpm build` runs this (package.json "build"); the first build takes about 20 s, later ones
# reuse Go's build cache.
#
# Go is optional for the rest of the repository: when the toolchain is missing (see
# ../../sdk-go/toolchain.sh) this prints one line saying the example was skipped, why, and
# what to install, and exits 0, so `pnpm build` still builds everything else (goplug then
# fails to start with the same hint). It never runs apt-get.
# QNTX_GO_PLUGIN=required turns the skip into a failure (CI uses it to check its package list).
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
QNTX_SDK_GO="$here/../../sdk-go"
. "$QNTX_SDK_GO/toolchain.sh"

if ! reason=$(go_check); then
  if [ "${QNTX_GO_PLUGIN:-}" = required ]; then
    echo "go-plugin: error: cannot build the Go example: $reason; install: $(go_install_command)" >&2
    exit 1
  fi
  # A bin/goplug of an earlier build is left as it is: run.sh starts it if it is there.
  echo "go-plugin: skipped the Go example (the goplug plugin will not start): $reason; to build it: $(go_install_command) && pnpm build" >&2
  exit 0
fi

go_env
mkdir -p "$here/bin"
# Build beside, then rename into place: a host starting goplug meanwhile runs a whole binary.
tmp="$here/bin/.goplug.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$here" && "$GO" build -o "$tmp" .)
mv -f "$tmp" "$here/bin/goplug"
echo "go-plugin: built bin/goplug ($("$GO" version | cut -d' ' -f3))"
