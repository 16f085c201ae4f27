/**
 * HTTP steps: every announced GET route without parameters is called with the path the host
 * sends (`/api/<name>` stripped) and with the full path QNTX retries with after a 404
 * (docs/protocol.md §3: plugins accept both); an unknown path must answer 404 in the body.
 * Other routes are listed as SKIP, so the author sees what was not exercised.
 */
import { randomBytes } from "node:crypto";
import type { HTTPRequest, HTTPResponse, RouteInfo } from "@qntx/protocol";
import type { CheckRun } from "./context.js";
import { hasParams } from "./validate.js";

const BOTH_FORMS_HINT = "strip a leading /api/<name> before routing: QNTX sends /api/<name>/… after a 404 on the stripped path, and docs/protocol.md §3 asks plugins to accept both forms";

/** A GET request as the gateway builds it (no body, a plain Accept header). */
function get(path: string): HTTPRequest {
  return { method: "GET", path, headers: [{ name: "Accept", values: ["*/*"] }], body: Buffer.alloc(0) };
}

/** "200 application/json, 27 bytes". */
function describeResponse(response: HTTPResponse): string {
  const type = response.headers.find((h) => h.name.toLowerCase() === "content-type")?.values[0];
  return `${response.statusCode}${type ? ` ${type}` : ""}, ${response.body.length} bytes`;
}

/** The first characters of a body, for a FAIL line. */
function excerpt(body: Uint8Array): string {
  const text = Buffer.from(body).toString("utf8").trim();
  return text ? `: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}` : "";
}

/** Calls one route by one path form; PASS for an answer that is not 404 and not a server error. */
async function callRoute(run: CheckRun, id: string, title: string, path: string, hint404: string): Promise<number | undefined> {
  if (run.skippedAsGone(id, title)) return undefined;
  let response: HTTPResponse;
  try {
    response = await run.client!.call(`HandleHTTP GET ${path}`, run.options.callTimeoutMs, (plugin, options) => plugin.handleHTTP(get(path), options));
  } catch (error) {
    run.failCall(id, title, error, "HandleHTTP answers every request with an HTTPResponse (status, headers, body); a gRPC error becomes a 502 in the host");
    return undefined;
  }
  if (response.statusCode === 404) run.rec.fail(id, title, `404 for a route the plugin announced${excerpt(response.body)}`, hint404);
  else if (response.statusCode >= 500) run.rec.fail(id, title, `server error ${response.statusCode}${excerpt(response.body)}`, "a GET route without parameters should answer without a server error; see the plugin's output");
  else if (response.statusCode < 100 || response.statusCode > 599) run.rec.fail(id, title, `status ${response.statusCode} is not an HTTP status`, "set HTTPResponse.status_code to 100..599");
  else run.rec.pass(id, title, describeResponse(response));
  return response.statusCode;
}

/** Every announced GET route without parameters, by the stripped path and by the full path. */
export async function stepRoutes(run: CheckRun): Promise<void> {
  if (run.skippedAsGone("http-routes", "HandleHTTP routes") || run.skippedAsLive("http-routes", "HandleHTTP routes")) return;
  if (!run.init) return run.rec.skip("http-routes", "HandleHTTP routes", "no routes known: Initialize failed");
  const routes: RouteInfo[] = run.init.httpRoutes;
  if (routes.length === 0) return run.rec.skip("http-routes", "HandleHTTP routes", "the plugin announces no HTTP routes");
  const prefix = `/api/${run.name}`;
  for (const route of routes) {
    const method = route.method.toUpperCase();
    if (method !== "GET" || hasParams(route.path) || !route.path.startsWith("/")) {
      const why = method !== "GET" ? "only GET routes are called (others may change data)" : hasParams(route.path) ? "it has path parameters" : "its path is not relative";
      run.rec.skip("http-route", `HandleHTTP ${method} ${route.path}`, `not called: ${why}`);
      continue;
    }
    await callRoute(run, "http-route", `HandleHTTP GET ${route.path}`, route.path, "the plugin does not answer its own route on the path the host sends (/api/<name> stripped); " + BOTH_FORMS_HINT);
    await callRoute(run, "http-route-full", `HandleHTTP GET ${prefix}${route.path === "/" ? "" : route.path}`, `${prefix}${route.path === "/" ? "" : route.path}`, BOTH_FORMS_HINT);
  }
}

/** An unknown path answers 404 in the HTTPResponse, not a gRPC error or a crash. */
export async function stepUnknownPath(run: CheckRun): Promise<void> {
  const title = "HandleHTTP unknown path → 404";
  if (run.skippedAsGone("http-unknown", title) || run.skippedAsLive("http-unknown", title)) return;
  const path = `/qntx-check-no-such-route-${randomBytes(4).toString("hex")}`;
  let response: HTTPResponse;
  try {
    response = await run.client!.call(`HandleHTTP GET ${path}`, run.options.callTimeoutMs, (plugin, options) => plugin.handleHTTP(get(path), options));
  } catch (error) {
    return run.failCall("http-unknown", title, error,
      "answer HTTPResponse{status_code: 404} for paths you do not serve: only then does QNTX retry with the full path");
  }
  if (response.statusCode === 404) return run.rec.pass("http-unknown", title, `404 for GET ${path}`);
  run.rec.fail("http-unknown", title, `GET ${path} answered ${response.statusCode}, not 404${excerpt(response.body)}`,
    "answer 404 for paths you do not serve: QNTX retries a 404 with the full path, and a browser should see 404");
}
