/**
 * The request object route handlers receive.
 */
import { fromWireHeaders, type HTTPHeader, type HTTPRequest } from "@qntx/protocol";
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
  /**
   * The headers exactly as the host sent them: one `{name, values}` per header, names as sent
   * (QNTX and the qntx host send Go's canonical form, `Content-Type`). Prefer `headers` or
   * `header(name)`, which do not depend on the spelling.
   */
  readonly rawHeaders: readonly HTTPHeader[];
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

/**
 * The request object: headers, query, body text and JSON are worked out on first use and
 * cached, since most handlers read one or none of them and at one connection per-request work
 * is latency (bench/notes/06-proxy-one-connection.md). A class, so the lazy fields are prototype getters:
 * an object literal with getters was slower to build than the eager object in a
 * micro-benchmark, this class about 40 % faster.
 */
class WireRequest implements PluginRequest {
  readonly method: string;
  readonly path: string;
  readonly rawPath: string;
  readonly params: Readonly<Record<string, string>>;
  readonly body: Buffer;
  private readonly wireHeaders: HTTPRequest["headers"];
  private readonly queryText: string;
  private headerCache: Record<string, string[]> | undefined = undefined;
  private queryCache: URLSearchParams | undefined = undefined;
  private textCache: string | undefined = undefined;
  private jsonCache: { value: unknown } | undefined = undefined;

  constructor(wire: HTTPRequest, parts: RequestParts) {
    this.method = parts.method;
    this.path = parts.path;
    this.rawPath = wire.path;
    this.params = parts.params;
    this.body = wire.body ? Buffer.from(wire.body.buffer, wire.body.byteOffset, wire.body.byteLength) : Buffer.alloc(0);
    this.wireHeaders = wire.headers;
    this.queryText = parts.query;
    // Bound once: handlers may take these off the object (`({ json }) => json()`).
    this.header = this.header.bind(this);
    this.text = this.text.bind(this);
    this.json = this.json.bind(this);
  }

  get query(): URLSearchParams {
    return (this.queryCache ??= new URLSearchParams(this.queryText));
  }

  get rawHeaders(): readonly HTTPHeader[] {
    return this.wireHeaders ?? [];
  }

  get headers(): Readonly<Record<string, string[]>> {
    return (this.headerCache ??= fromWireHeaders(this.wireHeaders ?? []));
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  text(): string {
    return (this.textCache ??= this.body.toString("utf8"));
  }

  json<T = unknown>(): T {
    if (!this.jsonCache) {
      const source = this.text();
      if (source.trim() === "") throw new HttpError(400, "expected a JSON request body, got an empty body");
      try {
        this.jsonCache = { value: JSON.parse(source) };
      } catch (err) {
        throw new HttpError(400, `invalid JSON in request body: ${(err as Error).message}`, { cause: err });
      }
    }
    return this.jsonCache.value as T;
  }
}

/** Builds the handler's request object (lazy and cached: see {@link WireRequest}). */
export function createRequest(wire: HTTPRequest, parts: RequestParts): PluginRequest {
  return new WireRequest(wire, parts);
}
