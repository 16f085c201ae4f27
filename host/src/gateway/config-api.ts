/**
 * `GET/PUT /api/plugins/<name>/config`: read a plugin's config (its table with its own file
 * over it) and change it. PUT validates against the plugin's schema, writes the plugin's own
 * file (`<data_dir>/am.<name>.toml`, so the change survives restarts) and re-initializes a
 * running plugin. Both need the admin token: configs hold secrets.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QntxError } from "@qntx/protocol";
import type { PluginManager } from "../plugin/manager.js";
import type { Registry } from "../plugin/registry.js";
import { requireAdmin } from "./admin-auth.js";
import { sendError } from "./http-errors.js";

/** What the config routes need. */
export interface ConfigApiOptions {
  readonly registry: Registry;
  readonly manager: PluginManager;
  readonly adminToken: string;
  readonly adminTokenFile: string;
}

/** Registers the config routes. */
export function registerConfigRoutes(app: FastifyInstance, options: ConfigApiOptions): void {
  const { manager, registry } = options;

  app.get("/api/plugins/:name/config", async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    try {
      return manager.configOf(request.params.name);
    } catch (error) {
      return sendError(reply, error);
    }
  });

  app.put("/api/plugins/:name/config", async (request: FastifyRequest<{ Params: { name: string }; Body: { config?: unknown } }>, reply: FastifyReply) => {
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    try {
      const config = request.body?.config;
      if (config === null || typeof config !== "object" || Array.isArray(config)) {
        throw new QntxError("INVALID_ARGUMENT", "the body must be {\"config\": {\"key\": \"value\", …}}", { hint: "values may be strings, numbers or booleans" });
      }
      const flat: Record<string, string> = {};
      for (const [key, value] of Object.entries(config)) flat[key] = typeof value === "string" ? value : JSON.stringify(value);
      await manager.reconfigure(request.params.name, flat);
      return { plugin: registry.get(request.params.name), ...manager.configOf(request.params.name) };
    } catch (error) {
      return sendError(reply, error);
    }
  });
}
