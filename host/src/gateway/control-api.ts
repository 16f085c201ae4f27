/**
 * The control API under `/api/plugins`: list plugins, their routes and glyphs (open), start, stop or
 * restart one, and read or follow its output (`GET /api/plugins/<name>/logs`, SSE) — these
 * need the host's admin token, which the CLI reads from the data dir; logs may hold secrets.
 * Plugin CLI commands (list, run) are in commands-api.ts, glyphs in glyphs-api.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QntxError } from "@qntx/protocol";
import { parseFollow, parseLines, streamPluginLog } from "../logs/log-sse.js";
import type { StreamRegistry } from "./event-stream.js";
import type { PluginLogs } from "../logs/plugin-logs.js";
import type { PluginManager } from "../plugin/manager.js";
import type { ReloadSummary } from "../plugin/reload.js";
import type { PluginInfo, Registry } from "../plugin/registry.js";
import { hasAdminToken, requireAdmin } from "./admin-auth.js";
import { registerCommandRoutes } from "./commands-api.js";
import { registerGlyphRoutes } from "./glyphs-api.js";
import { sendError } from "./http-errors.js";

/** What the control routes need. */
export interface ControlOptions {
  readonly registry: Registry;
  readonly manager: PluginManager;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  readonly hostInfo: () => Record<string, unknown>;
  /** Plugins' output; without it `GET /api/plugins/<name>/logs` answers 404. */
  readonly logs?: PluginLogs;
  /** Default deadline of a plugin command run (the gateway passes request_timeout_ms). */
  readonly requestTimeoutMs?: number;
  /** Where log-follow streams register, so a stopping host ends them. */
  readonly drain?: StreamRegistry;
  /** Reads the config again and applies it (`POST /api/plugins/reload`); absent: 404. */
  readonly reload?: () => Promise<ReloadSummary>;
}

/** Deadline of a command run when the options give none (request_timeout_ms's default). */
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

type Action = "start" | "stop" | "restart" | "pause" | "resume";
const ACTIONS: readonly Action[] = ["start", "stop", "restart", "pause", "resume"];

/** Registers the control routes. */
export function registerControlRoutes(app: FastifyInstance, options: ControlOptions): void {
  const { registry, manager } = options;

  app.get("/api/host", async () => options.hostInfo());

  // A failed plugin's error quotes its last output lines, which may hold secrets: without the
  // admin token only the first line (what happened) is shown; the CLI sends the token.
  const shown = (request: FastifyRequest, info: PluginInfo): PluginInfo => pluginInfoFor(info, hasAdminToken(request, options.adminToken));

  app.get("/api/plugins", async (request) => ({ plugins: registry.list().map((p) => shown(request, p)) }));

  app.get("/api/plugins/routes", async () => ({
    routes: registry.list().flatMap((p) =>
      p.routes.map((r) => ({ plugin: p.name, method: r.method, path: `/api/${p.name}${r.path === "/" ? "" : r.path}`, description: r.description })),
    ),
  }));

  registerCommandRoutes(app, { ...options, requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS });
  registerGlyphRoutes(app, options);

  app.get("/api/plugins/:name", async (request: FastifyRequest<{ Params: { name: string } }>, reply) => {
    const info = registry.get(request.params.name);
    if (!info) return sendError(reply, new QntxError("PLUGIN_NOT_FOUND", `no plugin named "${request.params.name}"`, { hint: "GET /api/plugins lists them" }));
    return { plugin: shown(request, info) };
  });

  app.get("/api/plugins/:name/logs", async (request: FastifyRequest<{ Params: { name: string }; Querystring: { lines?: string | string[]; follow?: string | string[] } }>, reply) => {
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    const { name } = request.params;
    if (!registry.get(name) || !options.logs) {
      return sendError(reply, new QntxError("PLUGIN_NOT_FOUND", `no plugin named "${name}"`, { hint: "GET /api/plugins lists them" }));
    }
    const lines = parseLines(lastOf(request.query.lines));
    if (lines === undefined) {
      return sendError(reply, new QntxError("INVALID_ARGUMENT", `lines must be a whole number (got "${lastOf(request.query.lines)}")`, { hint: "for example ?lines=100" }));
    }
    reply.hijack();
    streamPluginLog(reply.raw, options.logs.forPlugin(name), { lines, follow: parseFollow(lastOf(request.query.follow)) }, options.drain);
    return reply;
  });

  app.post("/api/plugins/reload", async (request, reply) => {
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    if (!options.reload) return sendError(reply, new QntxError("PLUGIN_NOT_FOUND", "this host cannot reload its config"));
    try {
      return { reload: await options.reload() };
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.post("/api/plugins/:name/:action", async (request: FastifyRequest<{ Params: { name: string; action: string } }>, reply: FastifyReply) => {
    const { name, action } = request.params;
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    if (!ACTIONS.includes(action as Action)) {
      return sendError(reply, new QntxError("INVALID_ARGUMENT", `unknown action "${action}"`, { hint: `use one of: ${ACTIONS.join(", ")}` }));
    }
    try {
      manager.entry(name);
      const force = (request.query as Record<string, string | undefined>).force;
      if (action === "stop") await manager.stop(name, { force: force === "1" || force === "true" });
      else await manager[action as Exclude<Action, "stop">](name);
      return { plugin: registry.get(name) };
    } catch (error) {
      return sendError(reply, error);
    }
  });
}

/**
 * A plugin's info as a reader may see it: a failed plugin's error quotes its last output
 * lines, which may hold secrets, so without the admin token only its first line is shown.
 */
export function pluginInfoFor(info: PluginInfo, admin: boolean): PluginInfo {
  return info.error && !admin ? { ...info, error: info.error.split("\n")[0]! } : info;
}

/** The last value of a query parameter given once or several times. */
function lastOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}
