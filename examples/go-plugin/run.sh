#!/bin/sh
# Launcher of the goplug example: the `binary` of [plugins.goplug] in am.plugins.toml. It runs
# bin/goplug (built by `pnpm build`, which is build.sh), with exec: the host's pid and signals
# reach the Go process itself.
#
# When there is no bin/goplug it says why on stderr, then prints a `goplug: hint: <what to
# run>` line and exits 3 before any port line: the host shows that hint for the failed plugin
# (docs/writing-plugins.md §1). Without Go the hint is the apt-get command of the toolchain.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
if [ -x "$here/bin/goplug" ]; then
  exec "$here/bin/goplug" "$@"
fi
QNTX_SDK_GO="$here/../../sdk-go"
. "$QNTX_SDK_GO/toolchain.sh"
if reason=$(go_check); then
  echo "goplug: $here/bin/goplug is not built" >&2
  echo "goplug: hint: pnpm build && pnpm -s qntx plugin start goplug" >&2
else
  echo "goplug: $reason: the Go example cannot be built" >&2
  echo "goplug: hint: $(go_install_command) && pnpm build && pnpm -s qntx plugin start goplug" >&2
fi
exit 3
