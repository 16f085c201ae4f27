/**
 * The gateway's HTTP proxy (not to be confused with ExternalDomainProxy, the gRPC side of one
 * plugin, which this calls): `/api/<name>/…` → `HandleHTTP` with `/api/<name>` stripped and the
 * query kept. Request header names reach the plugin as QNTX sends them (Go's canonical form,
 * no `Host`; see {@link forwardedHeaders}). Multi-value headers survive both ways, every call
 * has a deadline (504 when it passes), a browser that disconnects cancels the call, a plugin
 * that is not running — or is running but left its last Health call unanswered — answers 503
 * with Retry-After, and a plugin's 404 is retried once with the full path as QNTX does.
 *
 * Two ways in, one way through: a request without a body for a registered plugin is served
 * straight from node:http ({@link HttpGatewayProxy.tryServe}, called before fastify sees it), and
 * every other proxied request comes through fastify's `/api/:name/*` route, which reads and
 * limits the body, then hands over the raw request and response. Both end in
 * {@link HttpGatewayProxy.forward}, which writes the answer itself. Why the bypass: at one connection
 * fastify's per-request work (request and reply objects, hooks, routing, its send path) was
 * the largest part of the host's latency over a bare node:http front making the same gRPC call
 * (bench/notes/06-proxy-one-connection.md); a GET has nothing for fastify to parse or limit.
 *
 * Every request is a span of a W3C trace: the plugin gets a `Traceparent` header and call
 * metadata naming the host's hop as parent (docs/tracing.md); with metrics on, each answer is
 * reported to the observer (docs/metrics.md).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { setMaxListeners } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  TRACEPARENT, TRACESTATE, canonicalHeaderName, errorBody, formatTraceparent, httpStatusOf, traceFromHeaders,
  type ErrorBody, type HTTPHeader, type HTTPRequest, type HTTPResponse, type QntxErrorCode, type TraceContext,
} from "@qntx/protocol";
import type { GatewayObserver } from "../metrics/plugin-metrics.js";
import { PropagatingTracer, type HostTracer } from "../tracing/tracer.js";
import { PluginCallError, type DomainPlugin } from "../plugin/domain-plugin.js";
import type { Registry } from "../plugin/registry.js";
import { RETRY_AFTER_SECONDS, notAnsweringBody, notRunningBody } from "../plugin/state.js";

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "http2-settings"]);

const API_PREFIX = "/api/";
const EMPTY_BODY = Buffer.alloc(0);
const JSON_TYPE = "application/json; charset=utf-8";

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

/** Options of the HTTP proxy. */
export interface HttpProxyOptions {
  readonly registry: Registry;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Told of every answered request to a configured plugin (metrics); none: nothing is timed. */
  readonly observer?: GatewayObserver | undefined;
  /** Starts each request's span (default: propagation only, docs/tracing.md). */
  readonly tracer?: HostTracer | undefined;
}

/**
 * `/api/<raw name><rest>` split at the end of the name segment: `rest` is what the plugin is
 * sent (with the query), the name is still percent-encoded as the client sent it.
 */
function splitPluginUrl(url: string): { rawName: string; rest: string } {
  let end = API_PREFIX.length;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  return { rawName: url.slice(API_PREFIX.length, end), rest: url.slice(end) };
}

/** Whether the request carries a body (RFC 9112 §6.3: a length or a transfer coding). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** The plugin HTTP proxy, shared by the node:http fast path and fastify's proxy routes. */
export class HttpGatewayProxy {
  private closing = false;
  private readonly tracer: HostTracer;

  /** @param options the registry, deadline and body limit (fastify's proxy routes read the limit here). */
  constructor(readonly options: HttpProxyOptions) {
    this.tracer = options.tracer ?? new PropagatingTracer();
  }

  /**
   * From now on every request goes through fastify, which answers 503 while the server closes.
   * The gateway calls it from fastify's `preClose` hook.
   */
  markClosing(): void {
    this.closing = true;
  }

  /**
   * Serves a request straight from node:http when it is for a registered plugin and has no
   * body; returns false (having touched nothing) when fastify must take it: another path, a
   * percent-encoded or unknown plugin name (fastify decodes and answers those), a request
   * with a body (fastify parses and limits it), or a server that is closing.
   */
  tryServe(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (this.closing || url === undefined || !url.startsWith(API_PREFIX)) return false;
    const { rawName, rest } = splitPluginUrl(url);
    // Host routes (`/api/plugins`, …) use reserved names, which the registry never holds.
    if (rawName.includes("%") || !this.options.registry.has(rawName) || hasBody(req)) return false;
    void this.forward(rawName, rest, req, res, EMPTY_BODY);
    return true;
  }

  /**
   * Forwards one request to plugin `name` and writes the answer to `res`. `rest` is the URL
   * after `/api/<name>`. Never rejects: every failure is an HTTP answer (or nothing, when the
   * client is gone).
   */
  async forward(name: string, rest: string, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const observer = this.options.observer;
    if (!observer) return this.serve(name, rest, req, res, body);
    const started = performance.now();
    await this.serve(name, rest, req, res, body);
    // Only configured plugins: an unknown name in the URL must not become a label value.
    if (this.options.registry.has(name)) observer.httpRequest(name, req.method ?? "GET", res.statusCode, (performance.now() - started) / 1000);
  }

  /** {@link forward} without the metrics. */
  private async serve(name: string, rest: string, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    // The request's span: a child of the caller's `traceparent`, or a new trace.
    const span = this.tracer.start(`${req.method ?? "GET"} /api/${name}`, "server", traceFromHeaders(single(req.headers.traceparent), single(req.headers.tracestate)), { "qntx.plugin": name });
    try {
      const plugin = this.options.registry.runningPlugin(name);
      if (!plugin) {
        const info = this.options.registry.get(name);
        if (!info) return writeError(res, "PLUGIN_NOT_FOUND", `no plugin named "${name}"`);
        return writeAnswer(res, notRunningBody(name, info.state, info.error), ["retry-after", RETRY_AFTER_SECONDS]);
      }
      // A plugin that left its last Health call unanswered would leave this request waiting
      // out its whole deadline too: refuse it now, until the plugin answers or is restarted.
      const missed = this.options.registry.unansweredHealthChecks(name);
      if (missed > 0) return writeAnswer(res, notAnsweringBody(name, missed), ["retry-after", RETRY_AFTER_SECONDS]);
      const prefix = API_PREFIX + name;
      // The hop to the plugin is a span of its own; the plugin's work is its child.
      const hop = this.tracer.start(`${name} HandleHTTP`, "client", span.context, { "rpc.method": "HandleHTTP", "qntx.plugin": name });
      const wire: HTTPRequest = {
        method: req.method ?? "GET",
        path: rest.startsWith("/") ? rest : `/${rest}`,
        headers: forwardedHeaders(req.rawHeaders, hop.context),
        body,
      };
      const signal = connectionSignal(req.socket);
      const deadline = Date.now() + this.options.requestTimeoutMs;
      try {
        let response = await plugin.handleHTTP(wire, { deadline, signal, trace: hop.context });
        if (response.statusCode === 404) response = await retryWithFullPath(plugin, wire, prefix, response, deadline, signal, hop.context);
        hop.end();
        writePluginResponse(res, name, response);
      } catch (error) {
        hop.end(error instanceof Error ? error.message : String(error));
        throw error;
      }
    } catch (error) {
      writeCallError(res, name, error, this.options.requestTimeoutMs);
    } finally {
      span.end(res.statusCode >= 500 ? `HTTP ${res.statusCode}` : undefined);
    }
  }
}

/**
 * Registers `/api/:name` and `/api/:name/*` in an encapsulated context that reads any body as
 * raw bytes (up to the proxy's body limit, else 413), then hands the request to `proxy`.
 */
export function registerProxyRoutes(app: FastifyInstance, proxy: HttpGatewayProxy): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: proxy.options.maxBodyBytes }, (_req, body, done) => done(null, body));
    const handler = (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<void> => {
      // The proxy writes the response itself, as on the fast path.
      reply.hijack();
      const body = Buffer.isBuffer(request.body) ? request.body : EMPTY_BODY;
      return proxy.forward(request.params.name, splitPluginUrl(request.raw.url!).rest, request.raw, reply.raw, body);
    };
    scope.all("/api/:name", handler);
    scope.all("/api/:name/*", handler);
  });
}

/** QNTX retries a 404 with the unstripped path, so plugins that only know full paths work. */
async function retryWithFullPath(plugin: DomainPlugin, wire: HTTPRequest, prefix: string, first: HTTPResponse, deadline: number, signal: AbortSignal, trace: TraceContext): Promise<HTTPResponse> {
  // `/` and `/?query` are the plugin's root: the full path is `/api/<name>` (and its query).
  const full = wire.path === "/" ? prefix : wire.path.startsWith("/?") ? prefix + wire.path.slice(1) : prefix + wire.path;
  const retried = await plugin.handleHTTP({ ...wire, path: full }, { deadline, signal, trace });
  return retried.statusCode === 404 ? first : retried;
}

/**
 * The request headers as QNTX hands them to plugins: Go's server puts them in a map keyed by
 * canonical name (`Content-Type`, `X-Request-Id`), so each name comes once with every value of
 * a repeated header, and moves `Host` out of that map into `r.Host`, so plugins never get it.
 * Hop-by-hop headers describe the connection to the host, not the request, and stay here too.
 */
function forwardedHeaders(raw: readonly string[], trace: TraceContext): HTTPHeader[] {
  const byName = new Map<string, HTTPHeader>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === "host" || HOP_BY_HOP.has(lower) || lower === TRACEPARENT || lower === TRACESTATE) continue;
    const same = byName.get(lower);
    if (same) same.values.push(raw[i + 1]!);
    else byName.set(lower, { name: canonicalHeaderName(raw[i]!), values: [raw[i + 1]!] });
  }
  // The trace goes on from the host's hop, not from the caller's span (W3C §3.2: each hop sends its own parent).
  const headers = [...byName.values()];
  headers.push({ name: "Traceparent", values: [formatTraceparent(trace)] });
  if (trace.state) headers.push({ name: "Tracestate", values: [trace.state] });
  return headers;
}

/** One value of a header node:http may have joined or listed. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** No body, so no Content-Length, for these statuses (RFC 9110 §8.6). */
function mayHaveBody(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

function writePluginResponse(res: ServerResponse, name: string, response: HTTPResponse): void {
  if (res.destroyed) return;
  const status = response.statusCode === 0 ? 200 : response.statusCode;
  // A HandleHTTP answer is the final response: a 1xx would leave the client waiting for one.
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return writeError(res, "PLUGIN_BAD_RESPONSE", `plugin ${name} answered an invalid HTTP status ${status}`);
  }
  // A flat [name, value, name, value…] list: a repeated name is sent once per value, and
  // Node writes it without building a header map.
  const head: string[] = [];
  for (const header of response.headers) {
    const lower = header.name.toLowerCase();
    if (!lower || HOP_BY_HOP.has(lower) || lower === "content-length") continue;
    for (const value of header.values) head.push(lower, value);
  }
  if (mayHaveBody(status)) head.push("content-length", String(response.body.length));
  try {
    res.writeHead(status, head);
  } catch (error) {
    // Node refuses a header name or value it cannot send (a control character, a bad token);
    // nothing has been written yet.
    return writeError(res, "PLUGIN_BAD_RESPONSE", `plugin ${name} answered a header that cannot be sent: ${(error as Error).message}`);
  }
  res.end(mayHaveBody(status) ? response.body : undefined);
}

/**
 * The answer to a failed call: 404, 504 or 502 by its gRPC status (the catalogue's
 * PLUGIN_UNIMPLEMENTED, PLUGIN_TIMEOUT, PLUGIN_CALL_FAILED), with `grpc_status`.
 */
function writeCallError(res: ServerResponse, name: string, error: unknown, timeoutMs: number): void {
  if (error instanceof PluginCallError) {
    const code = error.errorCode;
    const message = code === "PLUGIN_TIMEOUT" ? `plugin ${name} did not answer within ${timeoutMs} ms` : `plugin ${name} failed: ${error.message}`;
    return writeError(res, code, message, callHint(code, name), { grpc_status: error.grpcStatus });
  }
  const message = error instanceof Error ? error.message : String(error);
  writeError(res, "PLUGIN_CALL_FAILED", `plugin ${name} failed: ${message}`, callHint("PLUGIN_CALL_FAILED", name));
}

/**
 * What to do about a failed call to plugin `name`: the catalogue's hint with the plugin named
 * (undefined: the catalogue's own, for PLUGIN_UNIMPLEMENTED, which needs no name).
 */
function callHint(code: QntxErrorCode, name: string): string | undefined {
  if (code === "PLUGIN_TIMEOUT") return `plugin ${name} took longer than [host] request_timeout_ms: make the route answer sooner, or raise the setting`;
  if (code === "PLUGIN_CALL_FAILED") return `\`qntx plugin logs ${name}\` shows the plugin's output`;
  return undefined;
}

/**
 * Answers `{error, code, hint}` (plus `extra`) with the code's status from the catalogue;
 * `message` and `hint` default to the catalogue's.
 */
export function writeError(res: ServerResponse, code: QntxErrorCode, message?: string, hint?: string, extra?: object, extraHeaders?: string[]): void {
  writeAnswer(res, errorBody(code, message, hint, extra), extraHeaders);
}

/** Answers an error body with its code's status from the catalogue. */
function writeAnswer(res: ServerResponse, body: ErrorBody, extraHeaders?: string[]): void {
  writeJson(res, httpStatusOf(body.code), body, extraHeaders);
}

/** Answers with a JSON body, unless the client is gone or an answer has already started. */
export function writeJson(res: ServerResponse, status: number, value: unknown, extraHeaders: string[] = []): void {
  if (res.destroyed || res.headersSent) return;
  const text = Buffer.from(JSON.stringify(value), "utf8");
  res.writeHead(status, ["content-type", JSON_TYPE, "content-length", String(text.length), ...extraHeaders]);
  res.end(text);
}
