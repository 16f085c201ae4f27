#!/bin/sh
# Generates the Python gRPC stubs of ../../proto/*.proto into ./gen (gitignored), with Debian's
# protoc and grpc_python_plugin. `pnpm build` runs this (package.json "build").
# The stubs import each other as top-level modules (`import domain_pb2`): plugin.py puts gen/
# on sys.path.
#
# The toolchain is optional for the rest of the repository: when it is missing (see
# toolchain.sh) this prints one line saying the stubs were skipped, why, and what to install,
# and exits 0, so `pnpm build` still builds everything else (pyplug then fails to start with
# the same hint). It never runs apt-get: `pnpm start` does that (toolchain.sh install).
# QNTX_PYTHON_STUBS=required turns the skip into a failure (CI uses it to check its package list).
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$here/toolchain.sh"
proto_dir="$here/../../proto"
out="$here/gen"

if ! reason=$(toolchain_check); then
  if [ "${QNTX_PYTHON_STUBS:-}" = required ]; then
    echo "python-plugin: error: cannot generate the Python stubs: $reason; install: $(toolchain_install_command)" >&2
    exit 1
  fi
  # Any gen/ of an earlier build is left as it is: plugin.py checks its imports itself.
  echo "python-plugin: skipped the Python stubs (the pyplug example will not start): $reason; to build them: $(toolchain_install_command) && pnpm build" >&2
  exit 0
fi

# Generate beside the final folder, then swap it in, so a failed run never leaves half a gen/.
tmp="$here/.gen.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
"$PROTOC" -I "$proto_dir" -I "$PROTOBUF_INCLUDE" \
  --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" \
  --plugin=protoc-gen-grpc_python="$GRPC_PYTHON_PLUGIN" \
  "$proto_dir"/*.proto
rm -rf "$out"
mv "$tmp" "$out"
echo "python-plugin: generated $(ls "$out" | wc -l | tr -d ' ') files in gen/ from $(ls "$proto_dir"/*.proto | wc -l | tr -d ' ') protos"
