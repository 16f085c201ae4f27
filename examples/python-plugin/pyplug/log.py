"""Logs as JSON lines with a `level` on stderr, the form the host keeps the level of."""
import datetime
import json
import sys
import threading
import traceback

_lock = threading.Lock()


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds (`2024-05-01T12:00:00.000Z`)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log(level: str, msg: str, **fields) -> None:
    """Writes one line `{"level", "time", "msg", **fields}`; values that are not JSON become strings."""
    record = {"level": level, "time": now_rfc3339(), "msg": msg}
    record.update(fields)
    line = json.dumps(record, default=str, ensure_ascii=False)
    with _lock:
        try:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # stderr closed (the host went away): logging must never take the plugin down


def debug(msg: str, **fields) -> None:
    log("debug", msg, **fields)


def info(msg: str, **fields) -> None:
    log("info", msg, **fields)


def warn(msg: str, **fields) -> None:
    log("warn", msg, **fields)


def error(msg: str, exc: BaseException = None, **fields) -> None:
    if exc is not None:
        fields["err"] = f"{type(exc).__name__}: {exc}"
        fields["stack"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log("error", msg, **fields)
