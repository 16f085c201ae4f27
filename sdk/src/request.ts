/**
 * The request object route handlers receive.
 */
import { fromWireHeaders, type HTTPRequest } from "@qntx/protocol";
import { HttpError } from "./errors.js";

/** What a route handler sees of an HTTP request. */
export interface PluginRequest {
  /** Upper-case method, e.g. `GET`. */
  readonly method: string;
  /**
   * Path relative to the plugin's mount point, without the query string: `/users/7` whether
   * the host sent `/users/7` or `/api/<plugin>/users/7`.
   */
  readonly path: string;
  /** Path as the host sent it, with the query string. */
  readonly rawPath: string;
  /** Values of the route's `:name` segments, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Parsed query string. */
  readonly query: URLSearchParams;
  /** Request headers; names are lower-case and every value of a repeated header is kept. */
  readonly headers: Readonly<Record<string, string[]>>;
  /** First value of header `name` (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** Raw body bytes (empty when there is no body). */
  readonly body: Buffer;
  /** The body decoded as UTF-8. */
  text(): string;
  /**
   * The body parsed as JSON. Throws an {@link HttpError} 400 when the body is empty or not
   * valid JSON, so a handler that does not catch it answers 400, not 500.
   */
  json<T = unknown>(): T;
}

/** The parts of a request the router has already worked out. */
export interface RequestParts {
  method: string;
  path: string;
  query: string;
  params: Record<string, string>;
}

/** Builds the handler's request object. Body decoding and JSON parsing are lazy and cached. */
export function createRequest(wire: HTTPRequest, parts: RequestParts): PluginRequest {
  const headers = fromWireHeaders(wire.headers ?? []);
  const body = wire.body ? Buffer.from(wire.body.buffer, wire.body.byteOffset, wire.body.byteLength) : Buffer.alloc(0);
  let decoded: string | undefined;
  let parsed: { value: unknown } | undefined;

  const text = (): string => (decoded ??= body.toString("utf8"));

  return {
    method: parts.method,
    path: parts.path,
    rawPath: wire.path,
    params: parts.params,
    query: new URLSearchParams(parts.query),
    headers,
    body,
    header: (name) => headers[name.toLowerCase()]?.[0],
    text,
    json<T = unknown>(): T {
      if (!parsed) {
        const source = text();
        if (source.trim() === "") throw new HttpError(400, "expected a JSON request body, got an empty body");
        try {
          parsed = { value: JSON.parse(source) };
        } catch (err) {
          throw new HttpError(400, `invalid JSON in request body: ${(err as Error).message}`, { cause: err });
        }
      }
      return parsed.value as T;
    },
  };
}
