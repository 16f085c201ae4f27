/**
 * WebSocket routes: `/ws/<name>` (and `/ws/<name>/<sub…>`, plus the seed's `/<name>-ws`
 * alias) become one `HandleWebSocket` session each. Upgrades are handled on the fastify
 * server's `upgrade` event with `ws` in `noServer` mode, so every refusal is a plain HTTP
 * answer *before* the upgrade: 404 unknown route or plugin, 403 origin not allowed, 503 (with
 * Retry-After) plugin not running or not answering its Health calls. After the upgrade, ws-session.ts bridges the two sides.
 */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { errorBody, httpStatusOf, type ErrorBody } from "@qntx/protocol";
import type { Registry } from "../plugin/registry.js";
import type { PluginStateChange } from "../plugin/plugin-info.js";
import { RETRY_AFTER_SECONDS, notAnsweringBody, notRunningBody } from "../plugin/state.js";
import type { GatewayDrain } from "./drain.js";
import type { GatewayObserver } from "../metrics/plugin-metrics.js";
import { sendCode } from "./http-errors.js";
import { createOriginCheck } from "./ws-origin.js";
import { WebSocketSession, type SessionSettings } from "./ws-session.js";

/** WebSocket settings (the `[host]` keys `ws_*` and `allowed_origins`). */
export interface WebSocketSettings extends SessionSettings {
  /** Origin globs allowed besides loopback. */
  readonly allowedOrigins: readonly string[];
}

/** Defaults, as in the config schema. */
export const DEFAULT_WEBSOCKET_SETTINGS: WebSocketSettings = {
  pingIntervalMs: 30_000,
  pongTimeoutMs: 10_000,
  maxFrameBytes: 1024 * 1024,
  allowedOrigins: [],
};

/** What the WebSocket gateway needs. */
export interface WebSocketGatewayOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly settings?: Partial<WebSocketSettings>;
  /** Counts sessions for a stopping host, which waits for them (then closes them with 1001). */
  readonly drain?: GatewayDrain;
  /** Told of each session (the host's metrics). */
  readonly observer?: GatewayObserver | undefined;
}

/** The subprotocol QNTX's upgrader offers; chosen when the browser asks for it. */
const QNTX_SUBPROTOCOL = "qntx-plugin-v1";
/** Upgrade request headers that describe the handshake, not the client: not passed to plugins. */
const HANDSHAKE_HEADERS = new Set(["connection", "upgrade", "keep-alive", "te", "trailer", "transfer-encoding", "proxy-connection", "http2-settings", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"]);
const NAME = "[A-Za-z0-9_-]+";
const WS_PATH = new RegExp(`^/ws/(${NAME})(?:/.*)?$`);
const ALIAS_PATH = new RegExp(`^/(${NAME})-ws(?:/.*)?$`);

/** The plugin a WebSocket path addresses, or undefined. */
export function webSocketTarget(pathname: string): string | undefined {
  return WS_PATH.exec(pathname)?.[1] ?? ALIAS_PATH.exec(pathname)?.[1];
}

/** Headers of the CONNECT frame: the request's headers plus `path` and `query`. */
export function connectHeaders(request: IncomingMessage, pathname: string, query: string): Record<string, string> {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || HANDSHAKE_HEADERS.has(name)) continue;
    headers.push([name, Array.isArray(value) ? value.join(", ") : value]);
  }
  headers.push(["path", pathname], ["query", query]);
  return Object.fromEntries(headers);
}

/** Answers an upgrade request with a plain HTTP error (the status of its code) and closes the socket. */
function refuse(socket: Duplex, body: ErrorBody, headers: Record<string, string> = {}): void {
  const status = httpStatusOf(body.code);
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(text)}`,
    "Connection: close",
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${text}`);
}

/** Registers the upgrade handler on `app.server`, a 426 for plain GETs, and cleanup on close. */
export function registerWebSocketGateway(app: FastifyInstance, options: WebSocketGatewayOptions): void {
  const settings: WebSocketSettings = { ...DEFAULT_WEBSOCKET_SETTINGS, ...options.settings };
  const { registry } = options;
  const logger = options.logger.child({ component: "ws" });
  const originAllowed = createOriginCheck(settings.allowedOrigins);
  const sessions = new Map<string, Set<WebSocketSession>>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxFrameBytes,
    // A browser that never answers our close frame must not hold the socket for ws's default 30 s.
    closeTimeout: 5_000,
    handleProtocols: (offered: Set<string>) => (offered.has(QNTX_SUBPROTOCOL) ? QNTX_SUBPROTOCOL : (offered.values().next().value ?? false)),
  } as ConstructorParameters<typeof WebSocketServer>[0]);

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => undefined);
    const url = request.url ?? "/";
    const at = url.indexOf("?");
    const pathname = at < 0 ? url : url.slice(0, at);
    const query = at < 0 ? "" : url.slice(at + 1);
    const name = webSocketTarget(pathname);
    if (options.drain?.isDraining) {
      return refuse(socket, errorBody("HOST_STOPPING", "the host is shutting down and takes no new sessions", "reconnect once the host is back"), { "Retry-After": "5" });
    }
    if (!name) {
      return refuse(socket, errorBody("ROUTE_NOT_FOUND", `no WebSocket route at ${pathname}`, "plugin WebSockets live at /ws/<plugin>"));
    }
    if (request.headers.upgrade?.toLowerCase() !== "websocket") {
      return refuse(socket, errorBody("INVALID_ARGUMENT", `cannot upgrade to ${request.headers.upgrade ?? "nothing"}`, "only WebSocket upgrades are served"));
    }
    const origin = request.headers.origin;
    if (!originAllowed(origin)) {
      logger.warn({ plugin: name, origin }, "WebSocket refused: origin not allowed");
      return refuse(socket, errorBody("ORIGIN_NOT_ALLOWED", `origin ${origin} is not allowed`));
    }
    const info = registry.get(name);
    if (!info) return refuse(socket, errorBody("PLUGIN_NOT_FOUND", `no plugin named "${name}"`));
    const plugin = registry.runningPlugin(name);
    if (!plugin) {
      return refuse(socket, notRunningBody(name, info.state, info.error), { "Retry-After": RETRY_AFTER_SECONDS });
    }
    // Hung (its last Health call unanswered): a session opened now would only wait on it.
    const missed = registry.unansweredHealthChecks(name);
    if (missed > 0) return refuse(socket, notAnsweringBody(name, missed), { "Retry-After": RETRY_AFTER_SECONDS });
    if (!plugin.handleWebSocket) {
      return refuse(socket, errorBody("PLUGIN_UNIMPLEMENTED", `plugin ${name} does not serve WebSocket connections`, "its HTTP routes are under /api/<plugin>/…; GET /api/plugins/routes lists them"));
    }
    const headers = connectHeaders(request, pathname, query);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const ended = options.drain?.sessionOpened();
      const counted = options.observer?.webSocketOpened(name);
      const session = new WebSocketSession(ws, name, headers, settings, logger, (done) => {
        const set = sessions.get(name);
        set?.delete(done);
        if (set?.size === 0) sessions.delete(name);
        ended?.();
        counted?.();
      });
      let set = sessions.get(name);
      if (!set) sessions.set(name, (set = new Set()));
      set.add(session);
      session.start(plugin);
    });
  };

  // A plugin that stops serving takes its sessions with it: the gRPC channel of a stopped
  // proxy does not cancel open streams by itself.
  // A crash or failure carries its reason (1011); a person's stop, pause or restart none: the
  // plugin is going away, which is 1001.
  const onState = ({ name, state, previous, reason }: PluginStateChange): void => {
    if (previous !== "running" || state === "running") return;
    const set = sessions.get(name);
    if (!set) return;
    for (const session of [...set]) session.shutdown(reason === undefined ? 1001 : 1011, `plugin ${name} is ${state}`);
  };

  const shutdownAll = (): void => {
    for (const set of sessions.values()) for (const session of [...set]) session.shutdown(1001, "host shutting down");
  };
  app.server.on("upgrade", onUpgrade);
  registry.on("plugin:state", onState);
  options.drain?.onForce(shutdownAll);
  app.get("/ws/*", (_request, reply) => sendCode(reply.header("upgrade", "websocket"), "UPGRADE_REQUIRED"));
  app.addHook("onClose", async () => {
    app.server.off("upgrade", onUpgrade);
    registry.off("plugin:state", onState);
    shutdownAll();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}
