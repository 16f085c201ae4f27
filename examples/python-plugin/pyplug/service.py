"""The DomainPluginService servicer: every RPC of proto/domain.proto."""
import platform
import threading
import time

import grpc

import domain_pb2
import domain_pb2_grpc

from . import NAME, QNTX_VERSION, VERSION, jobs, log
from .host import HostServices
from .routes import Routes, json_response
from .websocket import Sessions

DEFAULT_GREETING = "Hello"


class PyPlugService(domain_pb2_grpc.DomainPluginServiceServicer):
    def __init__(self, on_shutdown) -> None:
        # on_shutdown(reason): asks the process to stop (plugin.py serves until then).
        self._on_shutdown = on_shutdown
        self._lock = threading.Lock()
        self.version = VERSION
        self.greeting = DEFAULT_GREETING
        self.initialized = False
        self.host = HostServices()
        self.routes = Routes(self)
        self.sessions = Sessions()
        self.started = time.monotonic()
        self.stats = {"http_requests": 0, "jobs_run": 0, "jobs_failed": 0}

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    def close(self) -> None:
        self.host.close()

    # --- lifecycle ---

    def Metadata(self, request, context):
        return domain_pb2.MetadataResponse(
            name=NAME, version=VERSION, qntx_version=QNTX_VERSION,
            description="Example plugin in Python: greetings, notes as attestations, a WebSocket echo, a wordcount job; provides LLM, embeddings and vector search",
            author="qntx", license="MIT",
        )

    def ConfigSchema(self, request, context):
        return domain_pb2.ConfigSchemaResponse(fields={
            "greeting": domain_pb2.ConfigFieldSchema(
                type="string", description="Word GET /hello greets with", default_value=DEFAULT_GREETING,
                required=False, pattern=r"^\S.{0,39}$",
            ),
        })

    def Initialize(self, request, context):
        # Initialize comes again when the host re-initializes (a config change): replace everything.
        self.greeting = request.config.get("greeting") or DEFAULT_GREETING
        self.host.configure(request.ats_store_endpoint, request.queue_endpoint, request.auth_token)
        self.initialized = True
        log.info("initialized", greeting=self.greeting, ats=request.ats_store_endpoint or "(none)", queue=request.queue_endpoint or "(none)")
        # The provider flags: the host routes other plugins' LLM, embedding and vector search
        # calls to the services plugin.py registers beside this one.
        return domain_pb2.InitializeResponse(
            handler_names=list(jobs.HANDLERS), http_routes=self.routes.route_infos(),
            llm_provider=True, embedding_provider=True, vector_search_provider=True,
        )

    def Shutdown(self, request, context):
        log.info("Shutdown requested")
        # The server drains in-flight calls (this one included) before the process exits.
        self._on_shutdown("Shutdown RPC")
        return domain_pb2.Empty()

    def Health(self, request, context):
        with self._lock:
            stats = dict(self.stats)
        details = {
            "version": VERSION,
            "python": platform.python_version(),
            "grpcio": grpc.__version__,
            "uptime_s": str(int(time.monotonic() - self.started)),
            "initialized": str(self.initialized).lower(),
            "ats_store": self.host.ats_endpoint or "",
            "ws_open": str(self.sessions.open),
            "ws_total": str(self.sessions.total),
            **{k: str(v) for k, v in stats.items()},
        }
        return domain_pb2.HealthResponse(healthy=True, message="ok" if self.initialized else "not initialized yet", details=details)

    # --- traffic ---

    def HandleHTTP(self, request, context):
        self._count("http_requests")
        try:
            return self.routes.handle(request)
        except Exception as exc:  # Routes.handle answers its own errors; this is a last resort
            log.error("HandleHTTP failed", exc, path=request.path)
            return json_response(500, {"error": f"{type(exc).__name__}: {exc}"})

    def HandleWebSocket(self, request_iterator, context):
        return self.sessions.handle(request_iterator, context)

    def ExecuteJob(self, request, context):
        response = jobs.execute(request, context, self.host)
        self._count("jobs_run")
        if not response.success:
            self._count("jobs_failed")
        return response

    def RegisterGlyphs(self, request, context):
        return domain_pb2.GlyphDefResponse(glyphs=[])  # no UI glyphs

    def ParseAxQuery(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{NAME} does not parse ax queries")
