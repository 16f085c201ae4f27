/**
 * The HTTP router behind `HandleHTTP`.
 *
 * Routes are compiled once, when the plugin is defined, into a segment trie; a request walks
 * the trie (static segments before `:params`) and nothing is built per request except the
 * request object. QNTX's shipped TypeScript runtime re-registered every route on every
 * request (docs/protocol.md §8); this is the fix.
 */
import type { HTTPRequest, HTTPResponse, RouteInfo } from "@qntx/protocol";
import { isHttpError } from "./errors.js";
import { log as defaultLog, type Logger } from "./log.js";
import { createRequest } from "./request.js";
import { json, toHttpResponse } from "./response.js";
import type { RouteContext, RouteHandler, RouteSpec } from "./types.js";

/** A route after compilation. */
interface CompiledRoute {
  method: string;
  /** Normalised declared path, e.g. `/users/:id`. */
  path: string;
  paramNames: string[];
  handler: RouteHandler;
  description: string;
}

/** One trie node: one path segment position. */
interface TrieNode {
  statics: Map<string, TrieNode>;
  param: TrieNode | undefined;
  /** Routes that end here, by method (`*` = any method). */
  routes: Map<string, CompiledRoute>;
}

/** Result of {@link Router.match}. */
export type RouteMatch =
  | { kind: "found"; route: { method: string; path: string }; params: Record<string, string>; path: string; handler: RouteHandler; headOnly: boolean }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "not-found" };

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** Plugin name: requests for `/api/<name>/x` and `/api/<name>` are routed as `/x` and `/`. */
  pluginName?: string;
  /** Where handler failures are logged. Default: the SDK logger (stderr). */
  log?: Logger;
}

const METHOD_RE = /^(\*|[A-Z]+)$/;
const PARAM_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function newNode(): TrieNode {
  return { statics: new Map(), param: undefined, routes: new Map() };
}

/** Splits a path into non-empty segments, which makes `/x/`, `/x` and `//x` the same route. */
function segmentsOf(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    // Malformed percent-encoding: match the raw text rather than failing the request.
    return segment;
  }
}

function parseRouteKey(key: string): { method: string; path: string } {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(key);
  const method = match?.[1]?.toUpperCase();
  const path = match?.[2];
  if (!method || !path || !METHOD_RE.test(method) || !path.startsWith("/") || /[?#]/.test(path)) {
    throw new TypeError(`invalid route key "${key}": expected "<METHOD> <path>", e.g. "GET /hello" or "GET /users/:id"`);
  }
  return { method, path };
}

/**
 * Compiled routes of a plugin; answers wire `HTTPRequest`s. Build it with {@link createRouter}.
 * An interface (not the class) so routers from two copies of the SDK stay assignable.
 */
export interface Router {
  /** The routes as announced in `InitializeResponse.http_routes`, in declaration order. */
  readonly routes: readonly RouteInfo[];
  /** Finds the route for `method` and `path` (no query string). */
  match(method: string, path: string): RouteMatch;
  /**
   * Answers one `HandleHTTP` call; handlers get `ctx` as their second argument (a served
   * plugin's: the host's services; without it, a context with none). Never rejects: unknown
   * path → 404, wrong method → 405 with `Allow`, a thrown `HttpError` → its status, any other
   * error → 500 (logged).
   */
  handle(wire: HTTPRequest, ctx?: RouteContext): Promise<HTTPResponse>;
}

/** The segment-trie implementation of {@link Router}. */
class TrieRouter implements Router {
  readonly routes: readonly RouteInfo[];
  private readonly root: TrieNode = newNode();
  /**
   * Where each route without `:params` ends, by its normalised path: a request whose path is
   * already in that form is found with one lookup instead of a walk of the trie.
   */
  private readonly staticEnds = new Map<string, TrieNode>();
  /** `/api/<name>`, the prefix stripped before matching (see {@link candidates}). */
  private readonly mountPrefix: string | undefined;
  private readonly pluginName: string | undefined;
  private readonly log: Logger;
  /** The context of a router used on its own, without a served plugin behind it: no host services. */
  private readonly noHost: RouteContext;

  constructor(routes: Record<string, RouteHandler | RouteSpec>, options: RouterOptions = {}) {
    this.pluginName = options.pluginName;
    this.mountPrefix = options.pluginName ? `/api/${options.pluginName}` : undefined;
    this.log = options.log ?? defaultLog;
    this.noHost = Object.freeze({
      ats: undefined, queue: undefined, schedule: undefined, files: undefined, fetch: undefined, search: undefined, llm: undefined,
      embedding: undefined, vectors: undefined, config: {}, log: this.log, trace: undefined,
    });
    const infos: RouteInfo[] = [];
    for (const [key, value] of Object.entries(routes)) {
      const compiled = this.add(key, value);
      infos.push({ method: compiled.method, path: compiled.path, description: compiled.description });
    }
    this.routes = Object.freeze(infos);
  }

  private add(key: string, value: RouteHandler | RouteSpec): CompiledRoute {
    const { method, path } = parseRouteKey(key);
    const spec: RouteSpec = typeof value === "function" ? { handler: value } : value;
    if (!spec || typeof spec.handler !== "function") {
      throw new TypeError(`route "${key}" has no handler: give a function or { handler, description }`);
    }
    const segments = segmentsOf(path);
    const paramNames: string[] = [];
    let node = this.root;
    for (const segment of segments) {
      if (segment.startsWith(":")) {
        const name = segment.slice(1);
        if (!PARAM_RE.test(name)) throw new TypeError(`route "${key}": invalid parameter name "${segment}"`);
        if (paramNames.includes(name)) throw new TypeError(`route "${key}": parameter ":${name}" appears twice`);
        paramNames.push(name);
        node = node.param ??= newNode();
      } else {
        const decoded = decodeSegment(segment);
        let next = node.statics.get(decoded);
        if (!next) node.statics.set(decoded, (next = newNode()));
        node = next;
      }
    }
    const normalized = "/" + segments.join("/");
    if (paramNames.length === 0) this.staticEnds.set("/" + segments.map(decodeSegment).join("/"), node);
    const existing = node.routes.get(method);
    if (existing) {
      throw new TypeError(`route "${key}" duplicates route "${existing.method} ${existing.path}"`);
    }
    const compiled: CompiledRoute = { method, path: normalized, paramNames, handler: spec.handler, description: spec.description ?? "" };
    node.routes.set(method, compiled);
    return compiled;
  }

  /** Collects the nodes where `segments` end, best first (static segments beat `:params`). */
  private collect(node: TrieNode, segments: string[], index: number, values: string[], out: Array<{ node: TrieNode; values: string[] }>): void {
    if (index === segments.length) {
      if (node.routes.size > 0) out.push({ node, values });
      return;
    }
    const segment = segments[index]!;
    const next = node.statics.get(segment);
    if (next) this.collect(next, segments, index + 1, values, out);
    if (node.param) this.collect(node.param, segments, index + 1, [...values, segment], out);
  }

  /** Finds where `path` ends in the trie; `path` is the matched form, still URL-encoded. */
  private candidates(path: string): { path: string; ends: Array<{ node: TrieNode; values: string[] }> } {
    const raw = segmentsOf(path);
    const decoded = raw.map(decodeSegment);
    // `/api/<name>/x` is routed as `/x`: QNTX retries with the full path after a 404 and a
    // host that does not strip the prefix sends it too (docs/protocol.md §3).
    const skips = this.pluginName && decoded[0] === "api" && decoded[1] === this.pluginName ? [2, 0] : [0];
    for (const skip of skips) {
      const ends: Array<{ node: TrieNode; values: string[] }> = [];
      this.collect(this.root, skip === 0 ? decoded : decoded.slice(skip), 0, [], ends);
      if (ends.length > 0) return { path: "/" + raw.slice(skip).join("/"), ends };
    }
    return { path: "/" + raw.join("/"), ends: [] };
  }

  /**
   * The one-lookup answer for a path in normal form (no `%`, no empty segment) that ends at a
   * route without params which takes `method`; undefined sends the request through the trie,
   * which gives the same answer for these and handles everything else. A static end is the
   * trie's first candidate too (static segments beat params), so the two cannot disagree.
   */
  private matchStatic(method: string, path: string): RouteMatch | undefined {
    if (path.includes("%") || path.includes("//")) return undefined;
    let key = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
    const prefix = this.mountPrefix;
    if (prefix && key.startsWith(prefix) && (key.length === prefix.length || key.charCodeAt(prefix.length) === 0x2f /* / */)) {
      key = key.slice(prefix.length) || "/";
    }
    const node = this.staticEnds.get(key);
    if (!node) return undefined;
    const found = routeFor(node, method);
    if (!found) return undefined;
    return { kind: "found", route: { method: found.route.method, path: found.route.path }, params: {}, path: key, handler: found.route.handler, headOnly: found.headOnly };
  }

  /** Finds the route for `method` and `path` (no query string). Exposed for tests and tools. */
  match(method: string, path: string): RouteMatch {
    const upper = method.toUpperCase();
    const fast = this.matchStatic(upper, path);
    if (fast) return fast;
    const { path: matchedPath, ends } = this.candidates(path);
    if (ends.length === 0) return { kind: "not-found" };
    for (const { node, values } of ends) {
      const found = routeFor(node, upper);
      if (!found) continue;
      const { route, headOnly } = found;
      const params: Record<string, string> = {};
      route.paramNames.forEach((name, i) => {
        params[name] = values[i]!;
      });
      return {
        kind: "found",
        route: { method: route.method, path: route.path },
        params,
        path: matchedPath,
        handler: route.handler,
        headOnly,
      };
    }
    const allow = new Set<string>();
    for (const { node } of ends) for (const m of node.routes.keys()) allow.add(m);
    if (allow.has("GET")) allow.add("HEAD");
    return { kind: "method-not-allowed", allow: [...allow].sort() };
  }

  /**
   * Answers one `HandleHTTP` call. Never rejects: unknown path → 404, wrong method → 405 with
   * `Allow`, a thrown `HttpError` → its status, any other error → 500 (logged).
   */
  async handle(wire: HTTPRequest, ctx: RouteContext = this.noHost): Promise<HTTPResponse> {
    const method = (wire.method || "GET").toUpperCase();
    const full = wire.path || "/";
    const cut = full.search(/[?#]/);
    const pathOnly = cut === -1 ? full : full.slice(0, cut);
    const query = cut === -1 || full[cut] === "#" ? "" : full.slice(cut + 1).split("#")[0]!;

    const found = this.match(method, pathOnly);
    if (found.kind === "not-found") {
      return toHttpResponse(json({ error: `no route for ${method} ${pathOnly}` }, { status: 404 }));
    }
    if (found.kind === "method-not-allowed") {
      return toHttpResponse(
        json({ error: `method ${method} not allowed for ${pathOnly}; allowed: ${found.allow.join(", ")}` }, { status: 405, headers: { allow: found.allow.join(", ") } }),
      );
    }
    try {
      const req = createRequest(wire, { method, path: found.path, query, params: found.params });
      const response = toHttpResponse(await found.handler(req, ctx));
      if (found.headOnly) response.body = Buffer.alloc(0);
      return response;
    } catch (err) {
      return this.errorResponse(err, method, pathOnly, found.route);
    }
  }

  private errorResponse(err: unknown, method: string, path: string, route: { method: string; path: string }): HTTPResponse {
    if (isHttpError(err)) {
      if (err.status >= 500) this.log.error("route handler failed", { method, path, route: `${route.method} ${route.path}`, status: err.status, err });
      return toHttpResponse(json({ error: err.message }, { status: err.status, headers: err.headers ?? {} }));
    }
    // The plugin keeps serving: one failing request must not take the process down.
    this.log.error("route handler threw", { method, path, route: `${route.method} ${route.path}`, err });
    const message = err instanceof Error ? err.message : String(err);
    return toHttpResponse(json({ error: message || "internal error" }, { status: 500 }));
  }
}

/** The route at `node` that takes `method`: its own, GET for HEAD, else the `*` route. */
function routeFor(node: TrieNode, method: string): { route: CompiledRoute; headOnly: boolean } | undefined {
  const own = node.routes.get(method);
  if (own) return { route: own, headOnly: false };
  // HEAD is GET without a body, as in any HTTP server.
  if (method === "HEAD") {
    const get = node.routes.get("GET");
    if (get) return { route: get, headOnly: true };
  }
  const any = node.routes.get("*");
  return any && { route: any, headOnly: false };
}

/** Compiles `routes` (keys like `"GET /users/:id"`) into a {@link Router}. Throws on an invalid key. */
export function createRouter(routes: Record<string, RouteHandler | RouteSpec>, options: RouterOptions = {}): Router {
  return new TrieRouter(routes, options);
}
