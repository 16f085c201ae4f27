#!/bin/sh
# The Go SDK's toolchain, from Debian, with no network: the go command (golang-go) and the
# libraries the SDK imports, as GOPATH sources under /usr/share/gocode (gRPC, protobuf, zap,
# cobra). The package list is in ./debian-packages. Generating the stubs in protocol/ needs
# protoc, protoc-gen-go and protoc-gen-go-grpc as well (gen.sh checks those itself); building
# does not, since the stubs are committed.
#
#   sh toolchain.sh check     prints the first thing missing and exits 1; silent, 0 when whole
#   sh toolchain.sh command   prints the command that installs the toolchain
#   sh toolchain.sh install   for `pnpm start`: as root with apt-get, installs what is missing
#                             (one line says so; QNTX_NO_APT=1 opts out); always exits 0, since
#                             a missing optional example must not stop the host
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

# `pnpm start`: installs the packages when that can work, else leaves it to the build's skip line.
go_install() {
  go_check >/dev/null && return 0
  case "${QNTX_NO_APT:-}" in ""|0|false) ;; *) return 0 ;; esac
  [ "$(id -u)" = 0 ] || return 0
  command -v apt-get >/dev/null 2>&1 || return 0
  echo "go-plugin: installing Debian packages for the Go example: apt-get install -y $GO_PACKAGES (QNTX_NO_APT=1 skips this)"
  log=$(mktemp)
  # Without `apt-get update` first when the lists are fresh enough; a fresh image has none.
  if ! go_apt_install >"$log" 2>&1; then
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq && go_apt_install; } >>"$log" 2>&1; then
      echo "go-plugin: apt-get install failed: $(grep -v '^ *$' "$log" | tail -n 1)"
    fi
  fi
  rm -f "$log"
  return 0
}

go_apt_install() {
  # The list is complete (CI checks it with fresh-machine --keep): Recommends are not needed.
  # shellcheck disable=SC2086  # the list is meant to split into words
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $GO_PACKAGES
}

# Run as a command (not sourced).
case "$0" in
  */toolchain.sh|toolchain.sh)
    case "${1:-}" in
      check) go_check ;;
      command) go_install_command ;;
      install) go_install ;;
      gopath) go_gopath ;;
      *) echo "usage: sh toolchain.sh check|command|install|gopath" >&2; exit 2 ;;
    esac
    ;;
esac
