#!/bin/sh
# Launcher of the pyplug example: the `binary` of [plugins.pyplug] in am.plugins.toml.
# Debian's /usr/bin/python3 sees python3-grpcio and python3-protobuf (a pyenv or venv python3
# on PATH would not). exec: the host's pid and signals reach Python itself.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec /usr/bin/python3 "$here/plugin.py" "$@"
