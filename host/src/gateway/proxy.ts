/**
 * The plugin HTTP proxy: `/api/<name>/…` → `HandleHTTP` with `/api/<name>` stripped and the
 * query kept. Multi-value headers survive both ways, every call has a deadline (504 when it
 * passes), a browser that disconnects cancels the call, a plugin that is not running answers
 * 503 with Retry-After, and a plugin's 404 is retried once with the full path as QNTX does.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { setMaxListeners } from "node:events";
import type { Socket } from "node:net";
import { grpcStatusName, grpcStatusToHttp, type HTTPHeader, type HTTPRequest, type HTTPResponse } from "@qntx/protocol";
import { PluginCallError, type DomainPlugin } from "../plugin/domain-plugin.js";
import type { Registry } from "../plugin/registry.js";
import { RETRY_AFTER_SECONDS, notRunningBody } from "../plugin/state.js";

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "http2-settings"]);

/**
 * One abort signal per client connection, aborted when the connection closes: a browser that
 * goes away cancels every call it has in flight. Per connection, not per request, because an
 * AbortController per request was 2.4 % of the gateway's CPU profile (Node builds its signal as
 * a full EventTarget), and on HTTP/1.1 a request's response can only be lost with its socket.
 */
const connectionSignals = new WeakMap<Socket, AbortSignal>();
/** Calls one connection may have in flight before Node warns of a listener leak on its signal. */
const MAX_PIPELINED_CALLS = 64;

function connectionSignal(socket: Socket): AbortSignal {
  let signal = connectionSignals.get(socket);
  if (!signal) {
    const controller = new AbortController();
    signal = controller.signal;
    // Pipelined requests each add a listener for their call (removed when it ends); a bound,
    // not 0, so a listener that is never removed still gets Node's leak warning.
    setMaxListeners(MAX_PIPELINED_CALLS, signal);
    connectionSignals.set(socket, signal);
    socket.once("close", () => controller.abort());
    // A client gone while its body was still being read: its close event has already fired.
    if (socket.destroyed) controller.abort();
  }
  return signal;
}

/** Options of the proxy routes. */
export interface ProxyOptions {
  readonly registry: Registry;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
}

/** Registers `/api/:name` and `/api/:name/*` in an encapsulated context that reads any body as raw bytes. */
export function registerProxyRoutes(app: FastifyInstance, options: ProxyOptions): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.maxBodyBytes }, (_req, body, done) => done(null, body));
    const handler = (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => proxyRequest(request, reply, options);
    scope.all("/api/:name", handler);
    scope.all("/api/:name/*", handler);
  });
}

async function proxyRequest(request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply, options: ProxyOptions): Promise<FastifyReply> {
  const { name } = request.params;
  const info = options.registry.get(name);
  if (!info) {
    return reply.code(404).send({ error: `no plugin named "${name}"`, hint: "GET /api/plugins lists the plugins" });
  }
  const plugin = options.registry.runningPlugin(name);
  if (!plugin) {
    reply.header("retry-after", RETRY_AFTER_SECONDS);
    return reply.code(503).send(notRunningBody(name, info.state, info.error));
  }

  const prefix = `/api/${name}`;
  const rest = request.raw.url!.slice(prefix.length);
  const path = rest.startsWith("/") ? rest : `/${rest}`;
  const wire: HTTPRequest = {
    method: request.method,
    path,
    headers: forwardedHeaders(request.raw.rawHeaders),
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
  };

  const signal = connectionSignal(request.raw.socket);
  const deadline = Date.now() + options.requestTimeoutMs;
  try {
    let response = await plugin.handleHTTP(wire, { deadline, signal });
    if (response.statusCode === 404) response = await retryWithFullPath(plugin, wire, prefix, response, deadline, signal);
    return sendPluginResponse(reply, name, response);
  } catch (error) {
    return sendCallError(reply, name, error, options.requestTimeoutMs);
  }
}

/** QNTX retries a 404 with the unstripped path, so plugins that only know full paths work. */
async function retryWithFullPath(plugin: DomainPlugin, wire: HTTPRequest, prefix: string, first: HTTPResponse, deadline: number, signal: AbortSignal): Promise<HTTPResponse> {
  const retried = await plugin.handleHTTP({ ...wire, path: prefix + (wire.path === "/" ? "" : wire.path) }, { deadline, signal });
  return retried.statusCode === 404 ? first : retried;
}

/** Groups Node's raw header list by lower-cased name, so repeated headers keep every value. */
function forwardedHeaders(raw: readonly string[]): HTTPHeader[] {
  const byName = new Map<string, HTTPHeader>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const same = byName.get(name);
    if (same) same.values.push(raw[i + 1]!);
    else byName.set(name, { name, values: [raw[i + 1]!] });
  }
  return [...byName.values()];
}

function sendPluginResponse(reply: FastifyReply, name: string, response: HTTPResponse): FastifyReply {
  const status = response.statusCode === 0 ? 200 : response.statusCode;
  if (status < 100 || status > 599) {
    return reply.code(502).send({ error: `plugin ${name} answered an invalid HTTP status ${status}` });
  }
  for (const header of response.headers) {
    const lower = header.name.toLowerCase();
    if (!lower || HOP_BY_HOP.has(lower) || lower === "content-length" || header.values.length === 0) continue;
    reply.header(lower, header.values.length === 1 ? header.values[0] : header.values);
  }
  return reply.code(status).send(response.body);
}

function sendCallError(reply: FastifyReply, name: string, error: unknown, timeoutMs: number): FastifyReply {
  if (reply.raw.destroyed) return reply;
  if (error instanceof PluginCallError) {
    const status = grpcStatusToHttp(error.code);
    const message = status === 504 ? `plugin ${name} did not answer within ${timeoutMs} ms` : `plugin ${name} failed: ${error.message}`;
    return reply.code(status).send({ error: message, grpc_status: grpcStatusName(error.code) });
  }
  const message = error instanceof Error ? error.message : String(error);
  return reply.code(502).send({ error: `plugin ${name} failed: ${message}` });
}
