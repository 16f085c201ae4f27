/**
 * The host's HTTP surface (fastify): the control API under `/api/plugins`, and every other
 * `/api/<name>/…` proxied to plugin `<name>`. Static routes win over the `:name` parameter,
 * so the control API can never be shadowed (plugin names `plugins` etc. are reserved).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { registerControlRoutes, type ControlOptions } from "./control-api.js";
import { registerDataRoutes, type DataApiOptions } from "./data-api.js";
import { registerProxyRoutes } from "./proxy.js";

/** What the gateway needs. */
export interface GatewayOptions extends ControlOptions, DataApiOptions {
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
}

/** Builds the fastify app (not yet listening). */
export function createGateway(options: GatewayOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Per-request log lines would dominate the log (and the hot path) of a busy gateway.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    // Every proxied call already has its own deadline; a slow upload must not hold a socket forever.
    requestTimeout: options.requestTimeoutMs + 5_000,
    return503OnClosing: true,
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `no route for ${request.method} ${request.url.split("?")[0]}`, hint: "plugin routes live under /api/<plugin>/…; GET /api/plugins/routes lists them" });
  });
  registerControlRoutes(app, options);
  registerDataRoutes(app, options);
  registerProxyRoutes(app, { registry: options.registry, requestTimeoutMs: options.requestTimeoutMs, maxBodyBytes: options.maxBodyBytes });
  return app;
}
