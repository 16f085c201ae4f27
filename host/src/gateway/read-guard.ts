/**
 * Who may read the host's own API without the admin token. A browser or script on this machine
 * reads plugins, attestations and jobs freely (as with QNTX's local web UI); a request from
 * another machine — possible once `[host] listen` is not loopback — needs the admin token for
 * reads too, since job payloads, results and attestations can hold anything. Plugin routes
 * (`/api/<plugin>/…`, `/ws/<plugin>`) are the plugin's business and are not guarded here.
 */
import type { FastifyInstance } from "fastify";
import { isIP } from "node:net";
import { requireAdmin } from "./admin-auth.js";

/**
 * The host's own read routes (as route patterns): the control, config and data APIs, the host
 * directory, the file store and `/metrics`. Every `/api/` prefix here is a reserved plugin name
 * (plugin-schema.ts).
 */
const HOST_API = /^\/(?:api\/(?:host|hosts|plugins|attestations|pulse|files)(?:[/?]|$)|metrics$)/;

/** Whether `address` (a socket's remote address) is this machine's loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return plain === "::1" || /^127\./.test(plain);
}

/** Adds the hook that asks remote readers of the host's API for the admin token. */
export function registerReadGuard(app: FastifyInstance, options: { adminToken: string; adminTokenFile: string }): void {
  // Callback style, not async: this runs on every proxied request too, and a promise per
  // request is measurable on the one-connection proxy latency.
  app.addHook("onRequest", (request, reply, done) => {
    // Decide on the route the router chose, not on the URL as sent: the router strips an
    // absolute-form target's scheme and host, decodes, and matches its own way; a check on
    // the raw URL can be walked around (`GET http://x/api/plugins`). A request that matched no
    // route reaches the 404 handler, which serves nothing.
    const route = request.routeOptions.url;
    if (isLoopbackAddress(request.socket.remoteAddress) || route === undefined || !HOST_API.test(route)) return done();
    // Writes check the token in their own route; this only closes the reads. On a missing
    // token the 401 is already sent, and fastify stops at a sent reply.
    if (requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) done();
  });
}
