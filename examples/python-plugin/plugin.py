#!/usr/bin/python3
"""pyplug, an example qntx/QNTX plugin in Python: the process contract (docs/protocol.md §2),
and a provider of LLM, embeddings and vector search for other plugins (pyplug/providers.py).

    /usr/bin/python3 plugin.py --port N [args…]

Binds 127.0.0.1:N (N+1… up to N+63 when busy; N = 0 lets the OS pick), prints
`QNTX_PLUGIN_PORT=<port>` once on stdout, logs JSON lines with a `level` on stderr, and serves
DomainPluginService until the Shutdown RPC, SIGTERM/SIGINT, or the death of the host that
spawned it (`QNTX_HOST_PID`, polled every 0.5 s); then it drains and exits 0.
Runs on Debian's python3-grpcio/python3-protobuf; the stubs come from `sh gen.sh` (gen/).
"""
import argparse
import os
import signal
import socket
import sys
import threading
from concurrent import futures

HERE = os.path.dirname(os.path.abspath(__file__))
# The generated *_pb2_grpc.py import their siblings as top-level modules (`import domain_pb2`).
sys.path.insert(0, os.path.join(HERE, "gen"))

from pyplug import NAME, VERSION, log  # noqa: E402

# Ports tried from --port N: N … N+63, as QNTX's plugins do.
PORT_TRIES = 64
# How often the host pid is checked.
HOST_WATCH_INTERVAL_S = 0.5
# In-flight calls get this long to finish when stopping.
STOP_GRACE_S = 2.0
# Concurrent calls: each WebSocket session and each running job holds a thread.
MAX_WORKERS = 32


# Exit code when Python cannot run the plugin (grpc, protobuf or the stubs missing), as run.sh
# uses: distinct from 1 (a failure while running) so the cause is clear from the code alone.
EXIT_MISSING = 3


def install_command() -> str:
    """The apt-get command that installs the toolchain (the list in ./debian-packages)."""
    with open(os.path.join(HERE, "debian-packages"), encoding="utf-8") as f:
        packages = f.read().split()
    return ("" if os.geteuid() == 0 else "sudo ") + "apt-get install -y " + " ".join(packages)


def missing(what: str, hint: str) -> None:
    """Says what is missing and what to run, then exits EXIT_MISSING before the port line.

    The plain `pyplug: hint: …` line on stderr is what the host shows as the failed plugin's
    hint (docs/writing-plugins.md, the process contract); the JSON line is the usual log.
    """
    log.error(what)
    sys.stderr.write(f"{NAME}: hint: {hint}\n")
    sys.stderr.flush()
    sys.exit(EXIT_MISSING)


def load_grpc():
    """Imports grpc and the stubs, or exits EXIT_MISSING with what to install or run."""
    try:
        import grpc
        import google.protobuf.struct_pb2  # noqa: F401
        grpc.server  # an empty grpc/ folder imports as a namespace package: check the real one
    except (ImportError, AttributeError) as exc:
        missing(f"{sys.executable} cannot import Python's gRPC ({exc}): Debian packages python3-grpcio and python3-protobuf",
                f"{install_command()} && pnpm build && pnpm -s qntx plugin start {NAME}")
    try:
        import domain_pb2_grpc  # noqa: F401
    except ImportError as exc:
        missing(f"generated stubs missing ({exc}): gen.sh generates them at `pnpm build`",
                f"sh {os.path.join(HERE, 'gen.sh')} && pnpm -s qntx plugin start {NAME}")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=NAME, description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="first port to try on 127.0.0.1 (0: any)")
    # The host may pass more arguments after --port N (`args` in am.plugins.toml): ignored.
    args, _ = parser.parse_known_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0-65535, got {args.port}")
    return args


def port_looks_free(port: int) -> bool:
    """A quick probe, so a busy port is skipped without gRPC logging a bind error."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC's own listener does
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def bind(server, first: int) -> int:
    """Binds 127.0.0.1 at `first`, or the next free of the following PORT_TRIES - 1 ports."""
    if first == 0:
        return server.add_insecure_port("127.0.0.1:0")
    for port in range(first, min(first + PORT_TRIES, 65536)):
        if not port_looks_free(port):
            continue
        try:
            if server.add_insecure_port(f"127.0.0.1:{port}"):
                return port
        except RuntimeError:
            continue  # taken between the probe and the bind
    raise OSError(f"no free port in 127.0.0.1:{first}-{min(first + PORT_TRIES, 65536) - 1}")


class HostWatch:
    """Notices the death of the host that spawned us: its pid (QNTX_HOST_PID) gone, or a re-parent."""

    def __init__(self, value: str) -> None:
        try:
            pid = int(value)
        except (TypeError, ValueError):
            pid = 0
        self.pid = pid if pid > 0 else 0
        self.first_parent = os.getppid()

    def gone(self) -> str:
        if not self.pid:
            return ""  # started by hand: not watched
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return f"host process {self.pid} is gone"
        except PermissionError:
            pass  # exists, belongs to someone else: alive
        # A SIGKILLed host stays a zombie until its parent reaps it; being re-parented says it died.
        if self.first_parent == self.pid and os.getppid() != self.pid:
            return f"re-parented from host {self.pid} to {os.getppid()}"
        return ""


def main(argv) -> int:
    args = parse_args(argv)
    load_grpc()
    import grpc
    import domain_pb2_grpc
    from pyplug.providers import add_providers
    from pyplug.service import PyPlugService

    stop = threading.Event()
    reason = []

    def request_stop(why: str) -> None:
        if not reason:
            reason.append(why)
        stop.set()

    # Signal handlers only record the signal (taking the Event's lock in a handler could
    # deadlock with the main thread's wait); the main loop polls it. Installed before the port
    # line: a host may send SIGTERM the moment it reads it.
    signalled = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: signalled.append(signal.Signals(signum).name))

    service = PyPlugService(request_stop)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix=NAME),
        # gRPC sets SO_REUSEPORT by default, which would let two plugins share a port.
        options=[("grpc.so_reuseport", 0)],
    )
    domain_pb2_grpc.add_DomainPluginServiceServicer_to_server(service, server)
    # LLM, embeddings and vector search for other plugins, routed by the host (pyplug/providers.py).
    add_providers(server)
    try:
        port = bind(server, args.port)
    except OSError as exc:
        log.error(f"could not listen: {exc}")
        return 1
    server.start()
    print(f"QNTX_PLUGIN_PORT={port}", flush=True)
    log.info("listening", address=f"127.0.0.1:{port}", version=VERSION, pid=os.getpid())

    watch = HostWatch(os.environ.get("QNTX_HOST_PID", ""))
    ticks_per_watch = max(1, int(HOST_WATCH_INTERVAL_S / 0.1))
    tick = 0
    while not stop.wait(0.1):
        if signalled:
            request_stop(signalled[0])
            break
        tick += 1
        if tick % ticks_per_watch == 0:
            why = watch.gone()
            if why:
                request_stop(why)
                break

    log.info("stopping", reason=reason[0] if reason else "")
    server.stop(grace=STOP_GRACE_S).wait(STOP_GRACE_S + 1)
    service.close()
    log.info("stopped")
    sys.stdout.flush()
    sys.stderr.flush()
    # Worker threads still inside a handler would make a normal exit wait for them.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
