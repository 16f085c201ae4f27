#!/bin/sh
# go vet and go test of every package of the SDK, in GOPATH mode from Debian's packages (no
# network). .ci/run runs it; extra arguments go to `go test` (e.g. -race, -v, -run X).
# Without the toolchain it fails, naming what is missing and the install command.
set -eu

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
QNTX_SDK_GO=$here
. "$here/toolchain.sh"
if ! reason=$(go_check); then
  echo "sdk-go: cannot test the Go SDK: $reason; install: $(go_install_command)" >&2
  exit 1
fi
go_env
# Every folder with Go files, as an import path (the pattern qntx/sdk-go/... would not
# follow the GOPATH's symbolic link).
packages=$(cd "$here" && find . -path ./.gopath -prune -o -name '*.go' -print | sed 's|/[^/]*$||; s|^\.|qntx/sdk-go|' | sort -u)
# shellcheck disable=SC2086  # one import path per word
"$GO" vet $packages
# shellcheck disable=SC2086
"$GO" test -count=1 "$@" $packages
