#!/bin/sh
# Generates the Python gRPC stubs of ../../proto/*.proto into ./gen (gitignored), with Debian's
# protoc and grpc_python_plugin. `pnpm build` runs this (package.json "build").
# The stubs import each other as top-level modules (`import domain_pb2`): plugin.py puts gen/
# on sys.path.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
proto_dir="$here/../../proto"
out="$here/gen"
PROTOC=${PROTOC:-/usr/bin/protoc}
GRPC_PLUGIN=${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}
PYTHON=${PYTHON:-/usr/bin/python3}
APT="apt-get install -y python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc"

missing() {
  echo "python-plugin: $1" >&2
  echo "python-plugin: install the Debian packages: $APT" >&2
  exit 1
}

[ -x "$PROTOC" ] || missing "$PROTOC not found (Debian package protobuf-compiler)"
[ -x "$GRPC_PLUGIN" ] || missing "$GRPC_PLUGIN not found (Debian package protobuf-compiler-grpc)"
[ -x "$PYTHON" ] || missing "$PYTHON not found (Debian package python3)"
"$PYTHON" -c 'import grpc' 2>/dev/null || missing "$PYTHON cannot import grpc (Debian package python3-grpcio)"
"$PYTHON" -c 'import google.protobuf.struct_pb2' 2>/dev/null || missing "$PYTHON cannot import google.protobuf (Debian package python3-protobuf)"

# Generate beside the final folder, then swap it in, so a failed run never leaves half a gen/.
tmp="$here/.gen.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"
"$PROTOC" -I "$proto_dir" \
  --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" \
  --plugin=protoc-gen-grpc_python="$GRPC_PLUGIN" \
  "$proto_dir"/*.proto
rm -rf "$out"
mv "$tmp" "$out"
echo "python-plugin: generated $(ls "$out" | wc -l | tr -d ' ') files in gen/ from $(ls "$proto_dir"/*.proto | wc -l | tr -d ' ') protos"
