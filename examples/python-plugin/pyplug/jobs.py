"""ExecuteJob: the `wordcount` handler, announced in InitializeResponse.handler_names.

The host registers it as `pyplug/wordcount` and sends the raw name. Payload: JSON
`{"text": "…", "delay_ms": 0}` (`delay_ms`, optional, is a pause per line so progress can be
watched). Result: `{"words", "lines", "characters", "unique", "top": [{word, count}]}`.

Progress is counted in lines: it is in the response (`progress_current/total`) and, while the
job runs, sent live with QueueService.UpdateJob when the host offered a queue. A set
`timeout_secs` is checked for presence, not truthiness: set to N > 0 it is the deadline,
checked between lines; set to 0 it means no deadline; unset, DEFAULT_TIMEOUT_S applies. A cancelled
call (the host cancelled the job, or its own deadline passed) stops the count at once.
A failure answers `success: false` with the Python error (`ValueError: …`).
"""
import collections
import json
import re
import threading
import time

import domain_pb2
import queue_pb2

from . import VERSION, log
from .log import now_rfc3339

HANDLERS = ("wordcount",)
# Longest pause per line, so a typo cannot park a worker for hours.
MAX_DELAY_MS = 10_000
# Live progress is sent at most this often (and once at the end).
UPDATE_INTERVAL_S = 0.1
# Cost of one word, reported as cost_actual.
COST_PER_WORD = 0.0001
# The deadline of a job whose request leaves timeout_secs unset.
DEFAULT_TIMEOUT_S = 300
WORD = re.compile(r"[\w']+")


class JobFailed(Exception):
    """A failure with a message meant for the job's error as is."""


class Job:
    def __init__(self, request, context, host) -> None:
        self.request = request
        self.context = context
        self.host = host
        self.logs = []
        self.current = 0
        self.total = 0
        self.cancelled = threading.Event()
        self._last_update = 0.0
        self._updates_ok = bool(host.queue is not None and request.job_id)

    def log(self, level: str, message: str, stage: str, **metadata) -> None:
        self.logs.append(domain_pb2.JobLogEntry(
            timestamp=now_rfc3339(), level=level, message=message, stage=stage,
            metadata=json.dumps(metadata) if metadata else "",
        ))

    def response(self, success: bool, error: str = "", result=None, cost: float = 0.0) -> domain_pb2.ExecuteJobResponse:
        return domain_pb2.ExecuteJobResponse(
            success=success, error=error,
            result=json.dumps(result).encode("utf-8") if result is not None else b"",
            progress_current=self.current, progress_total=self.total,
            cost_actual=cost, log_entries=self.logs, plugin_version=VERSION,
        )

    def progress(self, current: int, final: bool = False) -> None:
        self.current = current
        now = time.monotonic()
        if not self._updates_ok or (not final and now - self._last_update < UPDATE_INTERVAL_S):
            return
        self._last_update = now
        job = queue_pb2.Job(id=self.request.job_id, progress=queue_pb2.Progress(current=current, total=self.total))
        try:
            answer = self.host.queue.UpdateJob(queue_pb2.UpdateJobRequest(auth_token=self.host.token, job=job), timeout=2.0)
            problem = "" if answer.success else answer.error
        except Exception as exc:  # grpc.RpcError, or a channel closed by a re-initialize
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            # A QNTX host may not know the job by this id: report once, then count silently.
            self._updates_ok = False
            log.warn("live progress disabled for this job: UpdateJob failed", job_id=self.request.job_id, error=problem)


def parse_payload(raw: bytes):
    try:
        payload = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"payload is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError(f'payload must be a JSON object {{"text": "…"}}, got {type(payload).__name__}')
    text = payload.get("text")
    if not isinstance(text, str):
        raise ValueError(f"payload.text must be a string, got {type(text).__name__}")
    delay_ms = payload.get("delay_ms", 0)
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, (int, float)) or not 0 <= delay_ms <= MAX_DELAY_MS:
        raise ValueError(f"payload.delay_ms must be a number from 0 to {MAX_DELAY_MS}, got {delay_ms!r}")
    return text, delay_ms / 1000.0


def wordcount(job: Job):
    request = job.request
    text, delay_s = parse_payload(request.payload)
    lines = text.splitlines() or [text]
    job.total = len(lines)
    # Presence, not truthiness: an explicit 0 is "no deadline", an unset field the default.
    timeout_s = request.timeout_secs if request.HasField("timeout_secs") else DEFAULT_TIMEOUT_S
    deadline = time.monotonic() + timeout_s if timeout_s > 0 else None
    job.log("info", f"counting words in {len(lines)} line(s)", "start", characters=len(text), timeout_secs=timeout_s, timeout_set=request.HasField("timeout_secs"))
    counts = collections.Counter()
    words = 0
    for i, line in enumerate(lines):
        if job.cancelled.is_set():
            raise JobFailed(f"cancelled after {i}/{len(lines)} lines")
        if deadline is not None and time.monotonic() > deadline:
            raise JobFailed(f"deadline of {timeout_s} s passed after {i}/{len(lines)} lines")
        tokens = line.split()
        words += len(tokens)
        counts.update(w.lower() for w in WORD.findall(line))
        job.progress(i + 1)
        if delay_s and i + 1 < len(lines):
            job.cancelled.wait(delay_s)
    job.progress(len(lines), final=True)
    top = [{"word": w, "count": c} for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
    result = {"words": words, "lines": len(lines), "characters": len(text), "unique": len(counts), "top": top}
    job.log("info", f"counted {words} word(s)", "done", words=words, unique=len(counts))
    return result, round(words * COST_PER_WORD, 6)


def execute(request, context, host) -> domain_pb2.ExecuteJobResponse:
    job = Job(request, context, host)
    # Fires when the call ends early: the host cancelled the job, or the call's deadline passed.
    context.add_callback(job.cancelled.set)
    handler = request.handler_name.rsplit("/", 1)[-1]  # the raw name; a qualified one works too
    started = time.monotonic()
    if handler not in HANDLERS:
        job.log("error", f"unknown handler {request.handler_name!r}", "start")
        return job.response(False, f"unknown handler {request.handler_name!r}: this plugin handles {', '.join(HANDLERS)}")
    try:
        result, cost = wordcount(job)
    except (JobFailed, ValueError) as exc:
        message = str(exc) if isinstance(exc, JobFailed) else f"{type(exc).__name__}: {exc}"
        job.log("error", message, "failed")
        log.warn("job failed", job_id=request.job_id, handler=handler, error=message)
        return job.response(False, message)
    except Exception as exc:  # a bug: the job fails with the Python error, the plugin lives on
        message = f"{type(exc).__name__}: {exc}"
        job.log("error", message, "failed")
        log.error("job crashed", exc, job_id=request.job_id, handler=handler)
        return job.response(False, message)
    log.info("job done", job_id=request.job_id, handler=handler, words=result["words"], ms=round((time.monotonic() - started) * 1000))
    return job.response(True, result=result, cost=cost)
