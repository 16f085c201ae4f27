/**
 * QNTX's `(req, res)` handler style on top of the SDK router: `req` is built from the SDK's
 * request object, and what the handler does to `res` becomes the SDK response.
 */
import type { HTTPHeader } from "@qntx/protocol";
import type { Logger } from "../log.js";
import type { PluginRequest } from "../request.js";
import { isPluginResponse, reply, type PluginResponse } from "../response.js";
import type { RouteHandler } from "../types.js";
import type { QntxHandler, QntxHeader, QntxHeaders, QntxRequest, QntxResponse } from "./types.js";

/**
 * `req.headers` (see {@link QntxHeaders}): QNTX's runtime passed the proto's header list
 * through, so modules written for it search an array; modules written for this runner read
 * `headers["content-type"]`. Both work: the list carries the lower-case names as extra,
 * non-enumerable properties (so iterating, spreading or JSON show only the list), never over
 * an index or an array member — a client sending a header named `find` must not break
 * `headers.find(…)`.
 */
export function qntxHeaders(raw: readonly HTTPHeader[], byLowerName: Readonly<Record<string, readonly string[]>>): QntxHeaders {
  const list: QntxHeader[] = raw.map((header) => ({ name: header.name, values: [...header.values] }));
  for (const [name, values] of Object.entries(byLowerName)) {
    if (name in list || /^\d+$/.test(name)) continue;
    Object.defineProperty(list, name, { value: values.join(", "), enumerable: false });
  }
  return list as unknown as QntxHeaders;
}

/** QNTX's `req` for one request. */
export function toQntxRequest(req: PluginRequest): QntxRequest {
  const headers = qntxHeaders(req.rawHeaders, req.headers);
  return {
    method: req.method,
    path: req.path,
    url: req.rawPath,
    query: Object.fromEntries(req.query),
    searchParams: req.query,
    headers,
    headersDistinct: req.headers,
    params: req.params,
    body: req.body,
    header: (name) => req.header(name),
    // Promises, as in QNTX's runtime (`await req.json()`); the SDK's parse error is a 400.
    json: <T>() => new Promise<T>((resolve) => resolve(req.json<T>())),
    text: () => Promise.resolve(req.text()),
  };
}

function headerValues(value: string | number | readonly string[]): string[] {
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** A `res` that records status, headers and body; `finish()` turns it into an SDK response. */
export function createQntxResponse(log: Logger, route: string): QntxResponse & { finish(returned: unknown): PluginResponse } {
  let statusCode = 200;
  // Keyed by lower-case name; keeps the name as first written.
  const headers = new Map<string, { name: string; values: string[] }>();
  let body: Buffer | undefined;
  let finished = false;

  const hasHeader = (name: string) => headers.has(name.toLowerCase());
  const setBody = (bytes: Buffer, defaultType: string): void => {
    if (finished) {
      log.warn("response written after the handler returned; it is lost (return or await the work)", { route });
      return;
    }
    if (!hasHeader("content-type")) headers.set("content-type", { name: "Content-Type", values: [defaultType] });
    body = bytes;
  };
  const checkName = (name: unknown): string => {
    if (typeof name !== "string" || name === "") throw new TypeError(`res.setHeader: header name must be a non-empty string, got ${JSON.stringify(name)}`);
    return name;
  };

  const res: QntxResponse & { finish(returned: unknown): PluginResponse } = {
    status(code: number) {
      if (!Number.isInteger(code) || code < 100 || code > 599) throw new TypeError(`res.status: ${String(code)} is not an HTTP status (100–599)`);
      statusCode = code;
      return res;
    },
    setHeader(name, value) {
      headers.set(checkName(name).toLowerCase(), { name, values: headerValues(value) });
      return res;
    },
    appendHeader(name, value) {
      const existing = headers.get(checkName(name).toLowerCase());
      if (existing) existing.values.push(...headerValues(value));
      else headers.set(name.toLowerCase(), { name, values: headerValues(value) });
      return res;
    },
    getHeader: (name) => headers.get(String(name).toLowerCase())?.values.slice(),
    json(value: unknown) {
      // JSON.stringify(undefined) is not JSON: send null.
      setBody(Buffer.from(JSON.stringify(value) ?? "null", "utf8"), "application/json; charset=utf-8");
      return res;
    },
    text(text: string) {
      setBody(Buffer.from(String(text), "utf8"), "text/plain; charset=utf-8");
      return res;
    },
    send(value?: unknown) {
      if (value === undefined || value === null) setBody(Buffer.alloc(0), "text/plain; charset=utf-8");
      else if (typeof value === "string") setBody(Buffer.from(value, "utf8"), "text/plain; charset=utf-8");
      else if (value instanceof Uint8Array) setBody(Buffer.from(value.buffer, value.byteOffset, value.byteLength), "application/octet-stream");
      else return res.json(value);
      return res;
    },
    get sent() {
      return body !== undefined;
    },
    finish(returned: unknown): PluginResponse {
      // A handler that answers by returning (SDK style) rather than through `res` works too.
      if (body === undefined && returned !== undefined) {
        if (isPluginResponse(returned)) {
          finished = true;
          return returned;
        }
        res.send(returned);
      }
      finished = true;
      const out: Record<string, string[]> = {};
      for (const { name, values } of headers.values()) out[name] = values;
      return reply({ status: statusCode, headers: out, ...(body === undefined ? {} : { body }) });
    },
  };
  return res;
}

/** Wraps a QNTX `(req, res)` handler as an SDK route handler; a throw reaches the router (→ 500 JSON, logged). */
export function toRouteHandler(handler: QntxHandler, route: string, log: Logger): RouteHandler {
  return async (req: PluginRequest) => {
    const res = createQntxResponse(log, route);
    const returned: unknown = await handler(toQntxRequest(req), res);
    return res.finish(returned === res ? undefined : returned);
  };
}
