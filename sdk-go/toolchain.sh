#!/bin/sh
# The Go SDK's toolchain, from Debian, with no network: the go command (golang-go) and the
# libraries the SDK imports, as GOPATH sources under /usr/share/gocode (gRPC, protobuf, zap,
# cobra). The package list is in ./debian-packages. Generating the stubs in protocol/ needs
# protoc, protoc-gen-go and protoc-gen-go-grpc as well (gen.sh checks those itself); building
# does not, since the stubs are committed.
#
#   sh toolchain.sh check     prints the first thing missing and exits 1; silent, 0 when whole
#   sh toolchain.sh command   prints the command that installs the toolchain (nothing installs
#                             it by itself: at about 90 MB to fetch and 550 MB installed, not
#                             even `pnpm start` as root, unlike the Python example's packages)
#   sh toolchain.sh gopath    prints the GOPATH that builds the SDK and its users in GOPATH
#                             mode: <sdk-go>/.gopath (where src/qntx/sdk-go links back to this
#                             folder) and /usr/share/gocode
#
# Scripts that build Go (examples/go-plugin/build.sh, test.sh) source this file for its
# variables and functions. It looks for the tools themselves (an executable go, the library
# folders), never at dpkg: a package can be listed as installed while its files are gone.
#
# Overrides: GO (default: go on PATH), GOCODE (default /usr/share/gocode).

sdk_dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
# When sourced, $0 is the sourcing script: find this folder from there.
[ -f "$sdk_dir/debian-packages" ] || sdk_dir=${QNTX_SDK_GO:?set QNTX_SDK_GO to the sdk-go folder before sourcing toolchain.sh}
read -r GO_PACKAGES < "$sdk_dir/debian-packages"
GO=${GO:-go}
GOCODE=${GOCODE:-/usr/share/gocode}

# The command a person runs to get the toolchain (sudo when not root).
go_install_command() {
  if [ "$(id -u)" = 0 ]; then printf 'apt-get install -y %s\n' "$GO_PACKAGES"
  else printf 'sudo apt-get install -y %s\n' "$GO_PACKAGES"; fi
}

# Prints the first thing missing (naming its Debian package) and returns 1; 0 when whole.
go_check() {
  if ! command -v "$GO" >/dev/null 2>&1 || ! "$GO" version >/dev/null 2>&1; then
    echo "$GO not found (Debian package golang-go)"; return 1
  fi
  # One folder per library the SDK imports, with the package that ships it.
  for pair in \
    google.golang.org/grpc:golang-google-grpc-dev \
    google.golang.org/protobuf/proto:golang-google-protobuf-dev \
    github.com/golang/protobuf/proto:golang-github-golang-protobuf-1-5-dev \
    go.uber.org/zap:golang-go.uber-zap-dev \
    github.com/spf13/cobra:golang-github-spf13-cobra-dev; do
    dir=${pair%%:*}
    if ! ls "$GOCODE/src/$dir"/*.go >/dev/null 2>&1; then
      echo "$GOCODE/src/$dir not found (Debian package ${pair#*:})"; return 1
    fi
  done
  return 0
}

# Prints the GOPATH for GOPATH-mode builds, creating <sdk-go>/.gopath/src/qntx/sdk-go (a
# symbolic link to this folder) when needed. The link is made beside and renamed into place,
# so builds running at once never see it half made.
go_gopath() {
  gopath="$sdk_dir/.gopath"
  link="$gopath/src/qntx/sdk-go"
  if [ "$(readlink "$link" 2>/dev/null)" != "$sdk_dir" ]; then
    mkdir -p "$gopath/src/qntx"
    ln -sfn "$sdk_dir" "$link.$$"
    mv -Tf "$link.$$" "$link"
  fi
  printf '%s:%s\n' "$gopath" "$GOCODE"
}

# Exports what a GOPATH-mode build here needs: GO111MODULE=off, GOPATH (go_gopath), GOPROXY=off
# (nothing is ever fetched), and a GOCACHE when neither HOME nor XDG_CACHE_HOME would give one.
go_env() {
  GOPATH=$(go_gopath) || return 1
  export GOPATH GO111MODULE=off GOPROXY=off GOFLAGS=
  if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
    export GOCACHE="${TMPDIR:-/tmp}/qntx-go-build-cache"
  fi
}

# Run as a command (not sourced).
case "$0" in
  */toolchain.sh|toolchain.sh)
    case "${1:-}" in
      check) go_check ;;
      command) go_install_command ;;
      gopath) go_gopath ;;
      *) echo "usage: sh toolchain.sh check|command|gopath" >&2; exit 2 ;;
    esac
    ;;
esac
