/**
 * The dashboard's sign-in, over the sessions of sessions.ts:
 *
 * - `POST /api/dashboard/login-link` (admin token): a one-time login URL (`qntx dashboard`);
 * - `GET /dashboard/login?token=…`: redeems it, sets the HttpOnly, SameSite=Strict session
 *   cookie and sends the browser to `/`; a used, unknown or expired link is refused;
 * - `GET /api/dashboard/session`: whether this browser is signed in, its CSRF token, and
 *   whether reads are open to it (the page shows how to sign in when they are not);
 * - `POST /api/dashboard/logout`: ends the session.
 *
 * The hook of {@link registerSessionRoutes} runs before every other: a request with a live
 * session cookie counts as carrying the admin token (admin-auth.ts), but one that changes
 * state must also come from this host's own pages (Origin / Sec-Fetch-Site) and send the
 * session's CSRF token, else it is refused with 403 before any route runs.
 */
import { parse as parseCookie, serialize as serializeCookie } from "cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { grantSession, hasAdminToken, hasBearerToken, requireAdmin } from "./admin-auth.js";
import { sendCode } from "./http-errors.js";
import { isLoopbackAddress } from "./read-guard.js";
import type { DashboardSessions } from "./sessions.js";

/** What the session routes need. */
export interface SessionApiOptions {
  readonly sessions: DashboardSessions;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  /** The host's base URL, which a login link starts with. */
  readonly baseUrl: () => string;
}

/** The session cookie's name. */
export const SESSION_COOKIE = "qntx_session";
/** The header carrying the session's CSRF token. */
export const CSRF_HEADER = "x-csrf-token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Adds the session hook and routes. Call before any other hook that reads the admin token. */
export function registerSessionRoutes(app: FastifyInstance, options: SessionApiOptions): void {
  const { sessions } = options;
  const sessionOf = (request: FastifyRequest) => {
    const header = request.headers.cookie;
    return header ? sessions.get(parseCookie(header)[SESSION_COOKIE]) : undefined;
  };

  // Callback style, not async: this runs on every request that reaches fastify.
  app.addHook("onRequest", (request, reply, done) => {
    if (!request.headers.cookie) return done();
    const session = sessionOf(request);
    // The admin token itself needs no session checks; no live session: the request is anonymous.
    if (!session || hasBearerToken(request, options.adminToken)) return done();
    if (!SAFE_METHODS.has(request.method)) {
      if (!sameOrigin(request, options.baseUrl())) {
        sendCode(reply, "CROSS_SITE_REQUEST", `refused ${request.method} ${request.url.split("?")[0]} from ${request.headers.origin ?? request.headers["sec-fetch-site"] ?? "another site"}`);
        return;
      }
      if (request.headers[CSRF_HEADER] !== session.csrf) {
        sendCode(reply, "CSRF_TOKEN_MISSING", `${request.method} ${request.url.split("?")[0]} came with a session cookie but without its CSRF token`);
        return;
      }
    }
    grantSession(request);
    done();
  });

  app.post("/api/dashboard/login-link", async (request, reply) => {
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    const { token, expiresAt } = sessions.issueLoginToken();
    return { url: `${options.baseUrl()}/dashboard/login?token=${token}`, expiresAt: new Date(expiresAt).toISOString() };
  });

  app.get("/dashboard/login", async (request: FastifyRequest<{ Querystring: { token?: string } }>, reply: FastifyReply) => {
    const token = typeof request.query.token === "string" ? request.query.token : "";
    const session = sessions.redeem(token);
    if (!session) return sendCode(reply, "LOGIN_LINK_INVALID");
    const cookie = serializeCookie(SESSION_COOKIE, session.id, {
      httpOnly: true, sameSite: "strict", path: "/", secure: options.baseUrl().startsWith("https:"), expires: new Date(session.expiresAt),
    });
    return reply.header("set-cookie", cookie).header("cache-control", "no-store").redirect("/", 303);
  });

  app.get("/api/dashboard/session", async (request, reply) => {
    const session = sessionOf(request);
    const loopback = isLoopbackAddress(request.socket.remoteAddress);
    reply.header("cache-control", "no-store");
    return {
      session: session !== undefined,
      // Only a signed-in page needs it, and only a same-origin page can read this answer.
      csrf: session?.csrf ?? null,
      expiresAt: session ? new Date(session.expiresAt).toISOString() : null,
      admin: hasAdminToken(request, options.adminToken),
      readsOpen: loopback || hasAdminToken(request, options.adminToken),
      tokenFile: options.adminTokenFile,
    };
  });

  app.post("/api/dashboard/logout", async (request, reply) => {
    const session = sessionOf(request);
    if (session) sessions.end(session.id);
    reply.header("set-cookie", serializeCookie(SESSION_COOKIE, "", { httpOnly: true, sameSite: "strict", path: "/", maxAge: 0 }));
    return { session: false };
  });
}

/**
 * Whether a state-changing request came from this host's own pages: its Origin is the host's
 * (or the Host header's) origin; without an Origin, Sec-Fetch-Site says same-origin or none
 * (typed by the user); a client that sends neither is not a browser acting for a page.
 */
function sameOrigin(request: FastifyRequest, baseUrl: string): boolean {
  const origin = request.headers.origin;
  if (typeof origin === "string") {
    const scheme = baseUrl.startsWith("https:") ? "https" : "http";
    return origin === new URL(baseUrl).origin || origin === `${scheme}://${request.headers.host}`;
  }
  const site = request.headers["sec-fetch-site"];
  return site === undefined || site === "same-origin" || site === "none";
}
