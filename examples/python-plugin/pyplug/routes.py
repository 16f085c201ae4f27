"""HandleHTTP: the plugin's HTTP routes.

The host strips `/api/pyplug` (`/api/pyplug/hello?x` arrives as `/hello?x`) and, as QNTX does,
asks again with the full path when we answer 404, so both forms are accepted here.

    GET  /hello?name=      a greeting (the `greeting` config key)
    POST /notes            {subject, text} → an attestation in the host's store, 201 {id, …}
    GET  /notes?subject=   the notes (all, or of one subject), newest first

Every answer is JSON; errors are {"error", "hint"?}. A handler that raises answers 500 and the
plugin keeps serving; an error the host reports in a response body (`success: false`) is 502.
"""
import json
import sys
import urllib.parse

import grpc
from google.protobuf import json_format, struct_pb2

import atsstore_pb2
import domain_pb2

from . import NAME, log
from .host import CALL_TIMEOUT_S

PREFIX = f"/api/{NAME}"
# Longest subject or text accepted for a note.
MAX_FIELD_CHARS = 10_000


class HttpError(Exception):
    """An answer other than success: status, message and an optional hint."""

    def __init__(self, status: int, message: str, hint: str = "", headers=None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.headers = headers or {}


def json_response(status: int, body, headers=None) -> domain_pb2.HTTPResponse:
    out = [domain_pb2.HTTPHeader(name="Content-Type", values=["application/json; charset=utf-8"])]
    for name, value in (headers or {}).items():
        out.append(domain_pb2.HTTPHeader(name=name, values=value if isinstance(value, list) else [value]))
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return domain_pb2.HTTPResponse(status_code=status, headers=out, body=data)


def error_response(err: HttpError) -> domain_pb2.HTTPResponse:
    body = {"error": err.message}
    if err.hint:
        body["hint"] = err.hint
    return json_response(err.status, body, err.headers)


def relative_path(path: str) -> str:
    """`/api/pyplug/x` → `/x`, `/api/pyplug` → `/`; other paths are kept."""
    if path == PREFIX:
        return "/"
    if path.startswith(PREFIX + "/"):
        return path[len(PREFIX):]
    return path or "/"


def header(request: domain_pb2.HTTPRequest, name: str) -> str:
    for h in request.headers:
        if h.name.lower() == name.lower() and h.values:
            return h.values[0]
    return ""


def attestation_view(a: atsstore_pb2.Attestation) -> dict:
    return {
        "id": a.id,
        "subjects": list(a.subjects),
        "predicates": list(a.predicates),
        "contexts": list(a.contexts),
        "actors": list(a.actors),
        "timestamp": a.timestamp,
        "created_at": a.created_at,
        "source": a.source,
        "attributes": json_format.MessageToDict(a.attributes) if a.HasField("attributes") else {},
    }


class Routes:
    def __init__(self, plugin) -> None:
        # plugin: the servicer (config and host clients).
        self.plugin = plugin
        self.table = {
            "/hello": {"GET": self.hello},
            "/notes": {"GET": self.list_notes, "POST": self.create_note},
        }

    def route_infos(self):
        return [
            domain_pb2.RouteInfo(method="GET", path="/hello", description="Greets ?name= (default: world)"),
            domain_pb2.RouteInfo(method="POST", path="/notes", description="Stores a note {subject, text} as an attestation"),
            domain_pb2.RouteInfo(method="GET", path="/notes", description="Lists notes, of ?subject= when given"),
        ]

    def handle(self, request: domain_pb2.HTTPRequest) -> domain_pb2.HTTPResponse:
        parts = urllib.parse.urlsplit(request.path or "/")
        path = relative_path(parts.path)
        query = urllib.parse.parse_qs(parts.query)
        method = (request.method or "GET").upper()
        try:
            methods = self.table.get(path.rstrip("/") or "/")
            if methods is None:
                raise HttpError(404, f"no route {method} {path}", f"routes: {', '.join(f'{r.method} {r.path}' for r in self.route_infos())}")
            handler = methods.get(method)
            if handler is None:
                allowed = ", ".join(sorted(methods))
                raise HttpError(405, f"{method} not allowed on {path}", f"use {allowed}", {"Allow": allowed})
            status, body = handler(request, query)
            return json_response(status, body)
        except HttpError as err:
            return error_response(err)
        except Exception as exc:  # a bug in a handler: answer 500 and keep serving
            log.error("HTTP handler failed", exc, method=method, path=path)
            return json_response(500, {"error": f"{type(exc).__name__}: {exc}", "hint": "see the plugin's log"})

    # --- handlers: (request, query) → (status, JSON body) ---

    def hello(self, request, query):
        name = (query.get("name") or ["world"])[0] or "world"
        return 200, {
            "message": f"{self.plugin.greeting}, {name}!",
            "plugin": NAME,
            "language": "python",
            "python": sys.version.split()[0],
        }

    def _ats(self):
        ats = self.plugin.host.ats
        if ats is None:
            raise HttpError(503, "the host offered no attestation store", "the host must be initialized with ats_store_endpoint", {"Retry-After": "2"})
        return ats

    def create_note(self, request, query):
        try:
            body = json.loads(request.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HttpError(400, f"body is not JSON: {exc}", 'send {"subject": "…", "text": "…"}')
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object", 'send {"subject": "…", "text": "…"}')
        subject, text = body.get("subject"), body.get("text")
        for field, value in (("subject", subject), ("text", text)):
            if not isinstance(value, str) or not value.strip():
                raise HttpError(400, f"{field} must be a non-empty string", 'send {"subject": "…", "text": "…"}')
            if len(value) > MAX_FIELD_CHARS:
                raise HttpError(413, f"{field} is longer than {MAX_FIELD_CHARS} characters")
        attributes = struct_pb2.Struct()
        attributes.update({"text": text})
        command = atsstore_pb2.AttestationCommand(
            subjects=[subject], predicates=["note"], contexts=[NAME], attributes=attributes,
            source=NAME, source_version=self.plugin.version,
        )
        response = self._call("GenerateAndCreateAttestation", atsstore_pb2.GenerateAttestationRequest(auth_token=self.plugin.host.token, command=command))
        log.info("note stored", id=response.attestation.id, subject=subject)
        return 201, {"id": response.attestation.id, "attestation": attestation_view(response.attestation)}

    def list_notes(self, request, query):
        subject = (query.get("subject") or [""])[0]
        limit = (query.get("limit") or [""])[0]
        filt = atsstore_pb2.AttestationFilter(subjects=[subject] if subject else [], predicates=["note"], contexts=[NAME])
        if limit:
            if not limit.isdigit():
                raise HttpError(400, f"limit must be a whole number, got {limit!r}")
            filt.limit = int(limit)
        response = self._call("GetAttestations", atsstore_pb2.GetAttestationsRequest(auth_token=self.plugin.host.token, filter=filt))
        notes = []
        for a in response.attestations:
            view = attestation_view(a)
            notes.append({"id": a.id, "subject": a.subjects[0] if a.subjects else "", "text": view["attributes"].get("text", ""), "timestamp": a.timestamp, "source": a.source})
        return 200, {"notes": notes, "count": len(notes)}

    def _call(self, method: str, request):
        """Calls the host's ATSStoreService; its gRPC errors and body errors both become 502."""
        stub = self._ats()
        try:
            response = getattr(stub, method)(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise HttpError(502, f"host {method} failed: {exc.code().name}: {exc.details()}", f"the host's store at {self.plugin.host.ats_endpoint}")
        if not response.success:
            raise HttpError(502, response.error or f"host {method} failed", f"the host answered {method} with success=false")
        return response
