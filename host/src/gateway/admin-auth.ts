/**
 * The admin token guard of the control API: actions (start/stop, enqueue, cancel, writes) need
 * `Authorization: Bearer <token>` with the token from `<data_dir>/admin.token`, or a dashboard
 * session that passed its CSRF and same-origin checks (session-api.ts marks such a request).
 * The comparison takes the same time whatever the guess.
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { QntxError } from "@qntx/protocol";
import { sendError } from "./http-errors.js";

/** Requests that came with a valid dashboard session (and, when they change state, its CSRF token). */
const sessionRequests = new WeakSet<FastifyRequest>();

/** Marks a request as made with a valid dashboard session: it counts as carrying the admin token. */
export function grantSession(request: FastifyRequest): void {
  sessionRequests.add(request);
}

/** Whether the request carries the admin token, or a dashboard session standing for it (answers nothing). */
export function hasAdminToken(request: FastifyRequest, token: string): boolean {
  if (sessionRequests.has(request)) return true;
  return hasBearerToken(request, token);
}

/** Whether the request carries the admin token itself in its Authorization header. */
export function hasBearerToken(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization;
  const given = Buffer.from(typeof header === "string" && header.startsWith("Bearer ") ? header.slice(7).trim() : "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Checks the admin token; on failure answers 401 with a hint and returns false. */
export function requireAdmin(request: FastifyRequest, reply: FastifyReply, token: string, tokenFile: string): boolean {
  if (hasAdminToken(request, token)) return true;
  sendError(reply, new QntxError("UNAUTHORIZED", "this action needs the host's admin token", {
    hint: `send "Authorization: Bearer <token>" with the token from ${tokenFile} (the qntx CLI does this for you)`,
  }));
  return false;
}
