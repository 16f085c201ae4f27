#!/bin/sh
# Generates the Go stubs of ../proto/*.proto into protocol/ (package protocol, import path
# qntx/sdk-go/protocol; the protos carry no go_package option, so -M maps each file), with
# Debian's protoc, protoc-gen-go and protoc-gen-go-grpc. The stubs are committed:
# `pnpm gen:go` runs this after a .proto changes, and `pnpm gen:check` checks they are fresh.
#
#   sh gen.sh [OUT_DIR]      default OUT_DIR: protocol/ beside this script
#
# Exits 3 with one line naming what is missing (and the install command) when a tool is not
# there. Overrides: PROTOC, PROTOC_GEN_GO, PROTOC_GEN_GO_GRPC.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
proto_dir="$here/../proto"
out=${1:-"$here/protocol"}
PROTOC=${PROTOC:-protoc}
PROTOC_GEN_GO=${PROTOC_GEN_GO:-protoc-gen-go}
PROTOC_GEN_GO_GRPC=${PROTOC_GEN_GO_GRPC:-protoc-gen-go-grpc}
IMPORT=qntx/sdk-go/protocol
GEN_PACKAGES="protobuf-compiler protoc-gen-go protoc-gen-go-grpc"

missing() {
  echo "sdk-go: cannot generate the Go stubs: $1 not found (Debian package $2); install: apt-get install -y $GEN_PACKAGES" >&2
  exit 3
}
command -v "$PROTOC" >/dev/null 2>&1 || missing "$PROTOC" protobuf-compiler
command -v "$PROTOC_GEN_GO" >/dev/null 2>&1 || missing "$PROTOC_GEN_GO" protoc-gen-go
command -v "$PROTOC_GEN_GO_GRPC" >/dev/null 2>&1 || missing "$PROTOC_GEN_GO_GRPC" protoc-gen-go-grpc

map=""
for proto in "$proto_dir"/*.proto; do
  map="$map,M$(basename "$proto")=$IMPORT"
done

# Generate beside the final folder, then swap the files in, so a failed run never leaves half
# a protocol/.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$proto_dir" && "$PROTOC" -I . \
  --plugin=protoc-gen-go="$(command -v "$PROTOC_GEN_GO")" \
  --plugin=protoc-gen-go-grpc="$(command -v "$PROTOC_GEN_GO_GRPC")" \
  --go_out="$tmp" --go_opt="paths=source_relative$map" \
  --go-grpc_out="$tmp" --go-grpc_opt="paths=source_relative$map" \
  ./*.proto)
mkdir -p "$out"
rm -f "$out"/*.pb.go
mv "$tmp"/*.pb.go "$out"/
echo "sdk-go: generated $(ls "$out"/*.pb.go | wc -l | tr -d ' ') files in $out from $(ls "$proto_dir"/*.proto | wc -l | tr -d ' ') protos"
