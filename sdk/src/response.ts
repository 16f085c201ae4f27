/**
 * Response helpers for route handlers and the conversion of whatever a handler returned
 * into the wire `HTTPResponse`.
 */
import { toWireHeaders, type HTTPResponse } from "@qntx/protocol";

/** Response headers: a value may be a list, so several `Set-Cookie` headers survive. */
export type ResponseHeaders = Record<string, string | string[]>;

/** Options of {@link json} and {@link text}. */
export interface ResponseInit {
  /** HTTP status, default 200. */
  status?: number;
  /** Extra headers; a `content-type` here replaces the default one. */
  headers?: ResponseHeaders;
}

/** What {@link reply} takes: a full response. */
export interface ReplyInit {
  /** HTTP status, 100–599. */
  status: number;
  /** Response headers. */
  headers?: ResponseHeaders;
  /** Body: text is sent as UTF-8. No body when omitted. */
  body?: string | Uint8Array;
}

// A registry-wide symbol rather than `instanceof`, so a response built by another copy of
// the SDK (two versions in one node_modules tree) is still recognised.
const RESPONSE_BRAND = Symbol.for("qntx.sdk.PluginResponse");

/** A response built by {@link json}, {@link text} or {@link reply}. Treat as immutable. */
export interface PluginResponse {
  /** HTTP status code. */
  readonly status: number;
  /** Response headers as given (names keep their case). */
  readonly headers: ResponseHeaders;
  /** Response body bytes. */
  readonly body: Buffer;
}

/** True when `value` was built by one of the response helpers. */
export function isPluginResponse(value: unknown): value is PluginResponse {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[RESPONSE_BRAND] === true;
}

function checkStatus(status: number): number {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new TypeError(`invalid HTTP status ${String(status)}: expected an integer from 100 to 599`);
  }
  return status;
}

function hasHeader(headers: ResponseHeaders, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((key) => key.toLowerCase() === lower);
}

/** What the helpers build: the brand sits on the prototype, so building one is a plain allocation. */
class BuiltResponse implements PluginResponse {
  constructor(
    readonly status: number,
    readonly headers: ResponseHeaders,
    readonly body: Buffer,
  ) {}
}
// Non-enumerable and inherited, so logging or JSON-encoding a response does not show the brand.
Object.defineProperty(BuiltResponse.prototype, RESPONSE_BRAND, { value: true });

const NO_HEADERS: ResponseHeaders = Object.freeze({});

function build(status: number, headers: ResponseHeaders, body: Buffer, defaultType?: string): PluginResponse {
  let allHeaders: ResponseHeaders;
  if (headers === NO_HEADERS) allHeaders = defaultType ? { "content-type": defaultType } : {};
  else allHeaders = defaultType && !hasHeader(headers, "content-type") ? { "content-type": defaultType, ...headers } : { ...headers };
  return new BuiltResponse(checkStatus(status), allHeaders, body);
}

/** A JSON response (`application/json; charset=utf-8`), status 200 unless given. */
export function json(value: unknown, init: ResponseInit = {}): PluginResponse {
  // JSON.stringify(undefined) is undefined, which is not a JSON document; send `null` instead.
  const encoded = JSON.stringify(value) ?? "null";
  return build(init.status ?? 200, init.headers ?? NO_HEADERS, Buffer.from(encoded, "utf8"), "application/json; charset=utf-8");
}

/** A plain-text response (`text/plain; charset=utf-8`), status 200 unless given. */
export function text(body: string, init: ResponseInit = {}): PluginResponse {
  return build(init.status ?? 200, init.headers ?? NO_HEADERS, Buffer.from(body, "utf8"), "text/plain; charset=utf-8");
}

/** A response with exactly the status, headers and body given (no default content type). */
export function reply(init: ReplyInit): PluginResponse {
  const body = init.body === undefined ? Buffer.alloc(0) : typeof init.body === "string" ? Buffer.from(init.body, "utf8") : Buffer.from(init.body);
  return build(init.status, init.headers ?? NO_HEADERS, body);
}

/**
 * Turns a handler's return value into a wire response:
 * a helper-built response as is, `undefined` → 204, bytes → `application/octet-stream`,
 * anything else → JSON 200.
 */
export function toHttpResponse(result: unknown): HTTPResponse {
  let response: PluginResponse;
  if (isPluginResponse(result)) response = result;
  else if (result === undefined) response = reply({ status: 204 });
  else if (result instanceof Uint8Array) response = reply({ status: 200, headers: { "content-type": "application/octet-stream" }, body: result });
  else response = json(result);
  return { statusCode: response.status, headers: toWireHeaders(response.headers), body: response.body };
}
