#!/bin/sh
# Launcher of the pyplug example: the `binary` of [plugins.pyplug] in am.plugins.toml.
# Debian's /usr/bin/python3 sees python3-grpcio and python3-protobuf (a pyenv or venv python3
# on PATH would not); PYPLUG_PYTHON overrides it. exec: the host's pid and signals reach
# Python itself.
#
# When Python cannot run the plugin, this (or plugin.py, for a missing grpc or missing stubs)
# says why and prints a `pyplug: hint: <what to run>` line on stderr, then exits 3 before
# the port line: the host shows that hint for the failed plugin (docs/writing-plugins.md §1).
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
. "$here/toolchain.sh"
if [ ! -x "$PYPLUG_PYTHON" ]; then
  echo "pyplug: $PYPLUG_PYTHON not found (Debian package python3)" >&2
  echo "pyplug: hint: $(toolchain_install_command) && pnpm build && pnpm -s qntx plugin start pyplug" >&2
  exit 3
fi
exec "$PYPLUG_PYTHON" "$here/plugin.py" "$@"
