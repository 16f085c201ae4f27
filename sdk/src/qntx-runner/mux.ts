/**
 * The `mux` a QNTX module's `registerHTTP(mux)` fills. It only records routes: the runner
 * calls `registerHTTP` once and compiles what was recorded into the SDK's router (a segment
 * trie, which also routes `/api/<name>/x` as `/x`). QNTX's Bun runtime instead rebuilt its
 * route map inside every HandleHTTP call (docs/protocol.md §8).
 */
import type { Logger } from "../log.js";
import type { QntxHandler, QntxMux } from "./types.js";

/** One recorded route. */
export interface RecordedRoute {
  /** Upper-case method, or `*` for any. */
  method: string;
  /** Path in the SDK router's syntax (`:name` parameters). */
  path: string;
  handler: QntxHandler;
}

const METHOD_AND_PATH = /^([A-Za-z]+|\*)\s+(\/\S*)$/;

/** `/items/{id}` (Go's ServeMux syntax, which QNTX authors know) → `/items/:id`. */
function routerPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ":$1");
}

/** A mux that records routes; `routes()` returns them in registration order, the last of a duplicate winning. */
export function createRecordingMux(log: Logger): QntxMux & { routes(): RecordedRoute[] } {
  const recorded = new Map<string, RecordedRoute>();

  function add(method: string, path: string, handler: unknown): void {
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new TypeError(`mux.handle: path must be a string starting with "/", got ${JSON.stringify(path)}`);
    }
    if (typeof handler !== "function") throw new TypeError(`mux.handle(${method} ${path}): the handler must be a function (req, res) => …`);
    const route: RecordedRoute = { method: method.toUpperCase(), path: routerPath(path), handler: handler as QntxHandler };
    const key = `${route.method} ${route.path}`;
    // QNTX's runtime kept the last registration of a route; do the same, but say so.
    if (recorded.has(key)) log.warn("route registered twice; the last registration wins", { route: key });
    recorded.delete(key);
    recorded.set(key, route);
  }

  return {
    handle(method: string, path: string | QntxHandler, handler?: QntxHandler): void {
      if (typeof method !== "string") throw new TypeError("mux.handle: expected (method, path, handler) or (path, handler)");
      if (typeof path === "function" || path === undefined) {
        // Two arguments: `handle("/x", fn)` is GET (QNTX's runtime), `handle("POST /x", fn)` names its method.
        const match = METHOD_AND_PATH.exec(method.trim());
        if (match) add(match[1]!, match[2]!, path);
        else add("GET", method, path);
        return;
      }
      add(method, path, handler);
    },
    routes: () => [...recorded.values()],
  };
}
