/**
 * The HTTP API of the host's services (docs/services.md):
 *
 * - `GET /api/plugins/services`: every service plugins can call, its endpoint, and who serves
 *   it — the host, or the provider plugin it routes to (with the candidates).
 * - `POST /api/files` (admin token): stores the request body as a file FileService can read;
 *   `?name=` gives its name, `Content-Type` its MIME type. 201 `{file}`. `GET /api/files` lists them.
 * - `GET /api/pulse/budget`: spend and what is left per budget window, and the latest spends.
 * - `GET /api/pulse/runtime-schedules`: the schedules plugins created at run time.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PluginScheduleRecord, Pulse } from "@qntx/pulse";
import { QntxError } from "@qntx/protocol";
import type { Budget } from "../budget/budget.js";
import type { FileStore } from "../services/file-store.js";
import type { ProviderRouter } from "../services/provider-router.js";
import { requireAdmin } from "./admin-auth.js";
import { sendError } from "./http-errors.js";

/** What the services routes need. */
export interface ServicesApiOptions {
  readonly router: ProviderRouter;
  readonly files: FileStore;
  readonly budget: Budget;
  readonly pulse: Pulse;
  /** `host:port` of the services server (every endpoint but Ground's). */
  readonly servicesAddress: () => string;
  readonly adminToken: string;
  readonly adminTokenFile: string;
}

/** The services the host serves itself, with the grant that names each. */
const HOST_SERVICES = [
  ["protocol.ATSStoreService", "ats_store_endpoint", "ats"],
  ["protocol.QueueService", "queue_endpoint", "queue"],
  ["protocol.ScheduleService", "schedule_endpoint", "schedule"],
  ["protocol.FileService", "file_service_endpoint", "files"],
  ["protocol.FetchService", "fetch_endpoint", "fetch"],
] as const;

/** The routed services: their role, endpoint field and grant. */
const ROUTED_SERVICES = [
  ["protocol.SearchService", "search_endpoint", "search", "search"],
  ["protocol.LLMService", "llm_endpoint", "llm", "llm"],
  ["protocol.EmbeddingService", "embedding_endpoint", "embedding", "embedding"],
  ["protocol.VectorSearchService", "vector_search_endpoint", "vector_search", "vectors"],
] as const;

/** Registers the routes. */
export function registerServicesRoutes(app: FastifyInstance, options: ServicesApiOptions): void {
  const { router, files, budget, pulse } = options;

  app.get("/api/plugins/services", () => {
    const address = options.servicesAddress();
    const routes = new Map(router.routes().map((r) => [r.role, r]));
    return {
      services: [
        ...HOST_SERVICES.map(([service, field, grant]) => ({ service, endpointField: field, endpoint: address, grant, servedBy: "host", provider: null, candidates: [], providerState: null })),
        ...ROUTED_SERVICES.map(([service, field, role, grant]) => {
          const route = routes.get(role)!;
          const builtin = role === "search" && !router.hasProvider("search");
          return {
            service, endpointField: field, endpoint: address, grant,
            servedBy: builtin ? "host (built-in index)" : route.provider ? "provider" : "nobody (no provider: calls get UNAVAILABLE)",
            provider: route.provider, chosenBy: route.chosenBy, candidates: route.candidates, providerState: route.state,
          };
        }),
        { service: "protocol.GroundService", endpointField: "ground_endpoint", endpoint: "", grant: null, servedBy: "not offered (QNTX's own tooling)", provider: null, candidates: [], providerState: null },
      ],
    };
  });

  app.get("/api/files", () => ({ files: files.list() }));

  // The body is the file, whatever its type, up to file_max_bytes (not the API's max_body_bytes).
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: files.maxBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      if (error.statusCode === 413) {
        return sendError(reply, new QntxError("PAYLOAD_TOO_LARGE", `the file is over the host's limit of ${files.maxBytes} bytes`, { hint: "raise [host] file_max_bytes (at most 12 MiB)" }));
      }
      return sendError(reply, new QntxError(error.statusCode === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "INVALID_ARGUMENT", error.message));
    });
    scope.post("/api/files", (request: FastifyRequest<{ Querystring: { name?: string }; Body: Buffer | undefined }>, reply: FastifyReply) => {
      if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
      try {
        const file = files.put(request.body ?? Buffer.alloc(0), { name: request.query.name, mimeType: request.headers["content-type"] });
        return reply.code(201).send({ file });
      } catch (error) {
        return sendError(reply, error);
      }
    });
  });

  app.get("/api/pulse/budget", async () => ({
    windows: await budget.status(),
    overBudget: budget.overBudget,
    recent: await budget.usage.recent(20),
  }));

  app.get("/api/pulse/runtime-schedules", async () => ({ schedules: (await pulse.listPluginSchedules()).map(scheduleView) }));
}

/** A plugin-made schedule as JSON: the payload as text when it is UTF-8 JSON, else base64. */
function scheduleView(s: PluginScheduleRecord): Record<string, unknown> {
  let payload: unknown = s.payload.toString("base64");
  try {
    payload = s.payload.length === 0 ? null : JSON.parse(s.payload.toString("utf8"));
  } catch {
    // not JSON: stays base64
  }
  return { ...s, payload, metadata: s.metadata ? (JSON.parse(s.metadata) as unknown) : {} };
}
