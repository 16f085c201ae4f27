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

/** The host's own read routes: the control, config and data APIs. */
const HOST_API = /^\/api\/(?:host|plugins|attestations|pulse)(?:[/?]|$)/;

/** Whether `address` (a socket's remote address) is this machine's loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return plain === "::1" || /^127\./.test(plain);
}

/**
 * The path as the router matches it: percent-decoded, so `/%61pi/pulse/jobs` cannot slip past
 * the check on its way to `/api/pulse/jobs`. An undecodable path is checked as sent (the
 * router answers it with 400 anyway).
 */
function routedPath(url: string): string {
  const path = url.split("?", 1)[0]!;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Adds the hook that asks remote readers of the host's API for the admin token. */
export function registerReadGuard(app: FastifyInstance, options: { adminToken: string; adminTokenFile: string }): void {
  // Callback style, not async: this runs on every proxied request too, and a promise per
  // request is measurable on the one-connection proxy latency.
  app.addHook("onRequest", (request, reply, done) => {
    if (isLoopbackAddress(request.socket.remoteAddress) || !HOST_API.test(routedPath(request.url))) return done();
    // Writes check the token in their own route; this only closes the reads. On a missing
    // token the 401 is already sent, and fastify stops at a sent reply.
    if (requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) done();
  });
}
