/**
 * The host's HTTP surface (fastify): the control API under `/api/plugins`, every other
 * `/api/<name>/…` proxied to plugin `<name>`, and WebSockets at `/ws/<name>` (ws-gateway.ts).
 * Static routes win over the `:name` parameter, so the control API can never be shadowed
 * (plugin names `plugins` etc. are reserved).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactoryHandler } from "fastify";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Logger } from "pino";
import { errorBody, jsonDepthExceeds, tooDeepMessage, type ErrorBody } from "@qntx/protocol";
import { registerConfigRoutes } from "./config-api.js";
import { registerControlRoutes, type ControlOptions } from "./control-api.js";
import { registerDataRoutes, type DataApiOptions } from "./data-api.js";
import { GatewayDrain } from "./drain.js";
import { sendCode } from "./http-errors.js";
import { HttpGatewayProxy, registerProxyRoutes, writeError } from "./http-proxy.js";
import { registerDashboardFiles } from "./dashboard-files.js";
import { registerLiveRoutes } from "./live-api.js";
import { registerReadGuard } from "./read-guard.js";
import { registerSessionRoutes } from "./session-api.js";
import { DashboardSessions } from "./sessions.js";
import { registerWebSocketGateway, type WebSocketSettings } from "./ws-gateway.js";

/** What the gateway needs. */
export interface GatewayOptions extends ControlOptions, DataApiOptions {
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** WebSocket limits and allowed origins (defaults as in the config schema). */
  readonly websocket?: Partial<WebSocketSettings>;
  /** In-flight work a stopping host waits for (server.ts owns it; a fresh one when not given). */
  readonly drain?: GatewayDrain;
  /** Serve HTTPS with this certificate and key (PEM), `[host] tls`; plaintext HTTP when not given. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** Dashboard login links and sessions (a fresh store when not given). */
  readonly sessions?: DashboardSessions;
}

/** Builds the fastify app (not yet listening). */
export function createGateway(options: GatewayOptions): FastifyInstance {
  const proxy = new HttpGatewayProxy({ registry: options.registry, requestTimeoutMs: options.requestTimeoutMs, maxBodyBytes: options.maxBodyBytes });
  const drain = options.drain ?? new GatewayDrain();
  const app = Fastify({
    serverFactory: (handler, serverOptions) => createGatewayServer(handler, serverOptions, proxy, drain, options.https),
    loggerInstance: options.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Per-request log lines would dominate the log (and the hot path) of a busy gateway.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    // Every proxied call already has its own deadline; a slow upload must not hold a socket forever.
    requestTimeout: options.requestTimeoutMs + 5_000,
    return503OnClosing: true,
  });
  // An action POST may come with `content-type: application/json` and no body (curl -H …):
  // treat it as {}, and answer bad JSON with the API's error shape.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === "") return done(null, {});
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return done(Object.assign(new Error(`request body is not JSON: ${(error as Error).message}`), { statusCode: 400 }), undefined);
    }
    // Parsed fine, but nothing that walks it recursively (stringify, storage) could read it back.
    if (jsonDepthExceeds(value)) return done(Object.assign(new Error(tooDeepMessage("the request body")), { statusCode: 400 }), undefined);
    done(null, value);
  });
  // Framework errors (body too large, bad JSON, timeouts) in the same `{error, code, hint}` shape as ours.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) options.logger.error({ err: error.message }, "HTTP handler failed");
    reply.code(status).send(frameworkErrorBody(error.message, status, options.maxBodyBytes));
  });
  app.setNotFoundHandler((request, reply) => {
    sendCode(reply, "ROUTE_NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0]}`);
  });
  // Before the read guard: a request with a dashboard session counts as carrying the admin token.
  registerSessionRoutes(app, { ...options, sessions: options.sessions ?? new DashboardSessions(), baseUrl: () => String(options.hostInfo().url) });
  registerReadGuard(app, options);
  registerControlRoutes(app, { ...options, drain });
  registerConfigRoutes(app, options);
  registerDataRoutes(app, { ...options, drain });
  registerLiveRoutes(app, { ...options, drain });
  registerDashboardFiles(app);
  registerProxyRoutes(app, proxy);
  // From the start of close(), fastify answers new requests with 503 (return503OnClosing).
  app.addHook("preClose", (done) => {
    proxy.markClosing();
    done();
  });
  registerWebSocketGateway(app, { registry: options.registry, logger: options.logger, settings: options.websocket, drain });
  return app;
}

/**
 * The answer to an error fastify itself raised, by its HTTP status: the catalogue's code for
 * 413, 415 and 408, INVALID_ARGUMENT for any other 4xx (the status stays fastify's), INTERNAL
 * for a 5xx.
 */
export function frameworkErrorBody(message: string, status: number, maxBodyBytes: number): ErrorBody {
  if (status === 413) return errorBody("PAYLOAD_TOO_LARGE", message, `send at most ${maxBodyBytes} bytes; the host's limit is [host] max_body_bytes`);
  if (status === 415) return errorBody("UNSUPPORTED_MEDIA_TYPE", message);
  if (status === 408) return errorBody("REQUEST_TIMEOUT", message);
  if (status < 500) return errorBody("INVALID_ARGUMENT", message);
  return errorBody("INTERNAL", message);
}

/** The parts of fastify's normalised options that configure its node:http server. */
interface HttpServerSettings {
  http?: object;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket?: number;
}

/**
 * The node:http server under fastify, set up as fastify sets up its own, with two differences:
 * every request is counted by the drain (and refused once the host is stopping), and a
 * bodyless request for a plugin is served by the proxy before fastify's handler runs.
 */
function createGatewayServer(handler: FastifyServerFactoryHandler, options: Record<string, unknown>, proxy: HttpGatewayProxy, drain: GatewayDrain, tls?: { cert: Buffer; key: Buffer }): Server {
  const settings = options as unknown as HttpServerSettings;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (drain.isDraining) {
      // The connection goes too: a client keeping it alive would only be refused again.
      res.shouldKeepAlive = false;
      return writeError(res, "HOST_STOPPING", undefined, undefined, undefined, ["retry-after", "5", "connection", "close"]);
    }
    drain.trackRequest(res);
    if (!proxy.tryServe(req, res)) handler(req, res);
  };
  // An https.Server is a tls.Server with the same request, upgrade and timeout surface as
  // http.Server (fastify and the WebSocket gateway use only that).
  const server = tls ? (createHttpsServer({ ...settings.http, cert: tls.cert, key: tls.key }, listener) as unknown as Server) : createServer(settings.http ?? {}, listener);
  server.keepAliveTimeout = settings.keepAliveTimeout;
  server.requestTimeout = settings.requestTimeout;
  server.setTimeout(settings.connectionTimeout);
  if (settings.maxRequestsPerSocket && settings.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
  return server;
}
