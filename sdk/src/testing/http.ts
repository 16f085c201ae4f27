/**
 * `TestPlugin.http`: a request sent through `HandleHTTP` the way the host's gateway sends a
 * browser's request to `/api/<name>/…` — the path with `/api/<name>` stripped plus the query
 * string, headers named in Go's canonical form (`Content-Type`) with every value of a repeated
 * one and no `Host`, the raw body — and a 404
 * retried once with the full path, as QNTX does.
 */
import { canonicalHeaderName, fromWireHeaders, type HTTPHeader, type HTTPRequest, type HTTPResponse } from "@qntx/protocol";
import type { TestPluginCalls } from "./plugin-client.js";

/** Header values a test may give. */
export type HeaderInput = Record<string, string | number | readonly string[] | undefined>;

/** Options of {@link TestPlugin.http}. */
export interface HttpOptions {
  /** Query string: an object (arrays repeat the key), URLSearchParams, or text without `?`. */
  query?: Record<string, string | number | boolean | readonly string[] | undefined> | URLSearchParams | string;
  /** Request headers, any case; names are sent in Go's canonical form (`X-Request-Id`), as the gateway forwards them. */
  headers?: HeaderInput;
  /** Raw body. */
  body?: string | Uint8Array;
  /** Sent as JSON, with `content-type: application/json` unless a content type is given. */
  json?: unknown;
  /** Send the full path `/api/<name>/…` instead of the stripped one. Default false. */
  fullPath?: boolean;
  /** Retry a 404 once with the full path, as the host does. Default true. */
  retryFullPathOn404?: boolean;
  /** Deadline of the call (each try). Default: the handle's `timeoutMs`. */
  timeoutMs?: number;
}

/** The plugin's answer, as the gateway would relay it. */
export interface TestResponse {
  /** HTTP status as the gateway relays it: a plugin's 0 reads 200, one outside 100–599 reads 502. */
  readonly status: number;
  /** Headers by lower-cased name, every value kept (two `set-cookie` stay two). */
  readonly headers: Readonly<Record<string, string[]>>;
  /** The raw body. */
  readonly body: Buffer;
  /** The path the plugin answered (stripped, or full after a 404 retry). */
  readonly path: string;
  /** The first value of header `name` (any case), or undefined. */
  header(name: string): string | undefined;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; throws with the body in the message when it is not JSON. */
  json<T = unknown>(): T;
}

function queryString(query: HttpOptions["query"]): string {
  if (query === undefined) return "";
  if (typeof query === "string") return query.replace(/^\?/, "");
  if (query instanceof URLSearchParams) return query.toString();
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, String(value));
  }
  return params.toString();
}

/** Builds the wire request for `path` (relative to `/api/<name>`, may carry its own `?query`). */
export function buildRequest(pluginName: string, method: string, path: string, options: HttpOptions): HTTPRequest {
  if (typeof method !== "string" || !/^[A-Za-z]+$/.test(method)) throw new TypeError(`http: method must be a word like GET, got ${JSON.stringify(method)}`);
  if (typeof path !== "string" || !path.startsWith("/")) throw new TypeError(`http: path must start with "/", got ${JSON.stringify(path)} (it is relative to /api/${pluginName})`);
  if (options.body !== undefined && options.json !== undefined) throw new TypeError("http: give body or json, not both");
  const extra = queryString(options.query);
  const fullPath = path.includes("?") ? (extra ? `${path}&${extra}` : path) : extra ? `${path}?${extra}` : path;
  const body =
    options.json !== undefined ? Buffer.from(JSON.stringify(options.json), "utf8") : options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);

  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    byName.set(name.toLowerCase(), [...(byName.get(name.toLowerCase()) ?? []), ...values]);
  }
  // What a browser's request through the gateway carries besides the test's own headers.
  // (Not `host`: QNTX's Go server takes it out of the header map, and the gateway does too.)
  byName.delete("host");
  if (options.json !== undefined && !byName.has("content-type")) byName.set("content-type", ["application/json"]);
  if (body.length > 0 && !byName.has("content-length")) byName.set("content-length", [String(body.length)]);
  // Names in Go's canonical form (`Content-Type`), as QNTX and the gateway send them.
  const headers: HTTPHeader[] = [...byName].map(([name, values]) => ({ name: canonicalHeaderName(name), values }));

  const prefix = `/api/${pluginName}`;
  const wirePath = options.fullPath ? prefix + (fullPath === "/" ? "" : fullPath) : fullPath;
  return { method: method.toUpperCase(), path: wirePath, headers, body };
}

/** Wraps a wire response. */
export function toTestResponse(response: HTTPResponse, path: string, pluginName: string): TestResponse {
  let status = response.statusCode === 0 ? 200 : response.statusCode;
  let headers = fromWireHeaders(response.headers);
  let body = Buffer.from(response.body);
  if (status < 100 || status > 599) {
    // What the gateway answers a browser instead of a status HTTP cannot carry.
    body = Buffer.from(JSON.stringify({ error: `plugin ${pluginName} answered an invalid HTTP status ${status}` }));
    headers = { "content-type": ["application/json; charset=utf-8"] };
    status = 502;
  }
  return {
    status,
    headers,
    body,
    path,
    header: (name) => headers[name.toLowerCase()]?.[0],
    text: () => body.toString("utf8"),
    json<T>(): T {
      const text = body.toString("utf8");
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new SyntaxError(`response of ${path} is not JSON (status ${status}): ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
      }
    },
  };
}

/** Sends the request through `HandleHTTP`, with the host's 404 retry on the full path. */
export async function sendHttp(client: TestPluginCalls, pluginName: string, method: string, path: string, options: HttpOptions, timeoutMs: number): Promise<TestResponse> {
  const request = buildRequest(pluginName, method, path, options);
  const what = `HandleHTTP ${request.method} ${request.path}`;
  const first = await client.call(what, timeoutMs, (plugin, options) => plugin.handleHTTP(request, options));
  if (first.statusCode !== 404 || options.fullPath || options.retryFullPathOn404 === false) return toTestResponse(first, request.path, pluginName);
  const prefix = `/api/${pluginName}`;
  const retryPath = prefix + (request.path === "/" ? "" : request.path);
  const retried = await client.call(`HandleHTTP ${request.method} ${retryPath}`, timeoutMs, (plugin, options) => plugin.handleHTTP({ ...request, path: retryPath }, options));
  return retried.statusCode === 404 ? toTestResponse(first, request.path, pluginName) : toTestResponse(retried, retryPath, pluginName);
}
