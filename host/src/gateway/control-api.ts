/**
 * The control API under `/api/plugins`: list plugins and their routes (open), and start,
 * stop or restart one (needs the host's admin token, which the CLI reads from the data dir).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QntxError } from "@qntx/protocol";
import type { PluginManager } from "../plugin/manager.js";
import type { Registry } from "../plugin/registry.js";
import { requireAdmin } from "./admin-auth.js";
import { sendError } from "./http-errors.js";

/** What the control routes need. */
export interface ControlOptions {
  readonly registry: Registry;
  readonly manager: PluginManager;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  readonly hostInfo: () => Record<string, unknown>;
}

type Action = "start" | "stop" | "restart";
const ACTIONS: readonly Action[] = ["start", "stop", "restart"];

/** Registers the control routes. */
export function registerControlRoutes(app: FastifyInstance, options: ControlOptions): void {
  const { registry, manager } = options;

  app.get("/api/host", async () => options.hostInfo());

  app.get("/api/plugins", async () => ({ plugins: registry.list() }));

  app.get("/api/plugins/routes", async () => ({
    routes: registry.list().flatMap((p) =>
      p.routes.map((r) => ({ plugin: p.name, method: r.method, path: `/api/${p.name}${r.path === "/" ? "" : r.path}`, description: r.description })),
    ),
  }));

  app.get("/api/plugins/:name", async (request: FastifyRequest<{ Params: { name: string } }>, reply) => {
    const info = registry.get(request.params.name);
    if (!info) return sendError(reply, new QntxError("PLUGIN_NOT_FOUND", `no plugin named "${request.params.name}"`, { hint: "GET /api/plugins lists them" }));
    return { plugin: info };
  });

  app.post("/api/plugins/:name/:action", async (request: FastifyRequest<{ Params: { name: string; action: string } }>, reply: FastifyReply) => {
    const { name, action } = request.params;
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    if (!ACTIONS.includes(action as Action)) {
      return sendError(reply, new QntxError("INVALID_ARGUMENT", `unknown action "${action}"`, { hint: `use one of: ${ACTIONS.join(", ")}` }));
    }
    try {
      manager.entry(name);
      await manager[action as Action](name);
      return { plugin: registry.get(name) };
    } catch (error) {
      return sendError(reply, error);
    }
  });
}

