/**
 * Dashboard sessions, the one owner of login links and sessions (in memory: a restarted host
 * forgets them, and `qntx dashboard` makes a new link). A login link is made by someone who
 * holds the admin token (`qntx dashboard`); it works once and only for a few minutes, and
 * turns into a session: an id that travels in an HttpOnly cookie and a CSRF token the page
 * sends back on every state-changing request. A session grants what the admin token grants,
 * never more, and ends after a fixed lifetime.
 */
import { randomBytes } from "node:crypto";

/** One signed-in browser. */
export interface DashboardSession {
  readonly id: string;
  /** Sent back by the page in X-CSRF-Token on state-changing requests. */
  readonly csrf: string;
  readonly expiresAt: number;
}

/** Options of {@link DashboardSessions}. */
export interface SessionOptions {
  /** How long a login link works (default 5 minutes). */
  readonly loginTtlMs?: number;
  /** How long a session lasts (default 12 hours). */
  readonly sessionTtlMs?: number;
  /** The clock (tests move it). */
  readonly now?: () => number;
}

/** Lifetime of a login link. */
export const LOGIN_TTL_MS = 5 * 60_000;
/** Lifetime of a session. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** At most this many links and sessions are kept; the oldest go first (a flood cannot grow memory). */
const MAX_ENTRIES = 1_000;

/** Login links and sessions. */
export class DashboardSessions {
  private readonly links = new Map<string, number>();
  private readonly sessions = new Map<string, DashboardSession>();
  private readonly now: () => number;
  private readonly loginTtlMs: number;
  private readonly sessionTtlMs: number;

  constructor(options: SessionOptions = {}) {
    this.now = options.now ?? Date.now;
    this.loginTtlMs = options.loginTtlMs ?? LOGIN_TTL_MS;
    this.sessionTtlMs = options.sessionTtlMs ?? SESSION_TTL_MS;
  }

  /** A new one-time login token and when it expires. */
  issueLoginToken(): { token: string; expiresAt: number } {
    this.sweep();
    const token = secret();
    const expiresAt = this.now() + this.loginTtlMs;
    bounded(this.links).set(token, expiresAt);
    return { token, expiresAt };
  }

  /** Turns a login token into a session; undefined when it is unknown, used or expired. */
  redeem(token: string): DashboardSession | undefined {
    const expiresAt = this.links.get(token);
    // Used once, whatever happens next: a second click on the same link never works.
    this.links.delete(token);
    if (expiresAt === undefined || expiresAt <= this.now()) return undefined;
    const session: DashboardSession = { id: secret(), csrf: secret(), expiresAt: this.now() + this.sessionTtlMs };
    bounded(this.sessions).set(session.id, session);
    return session;
  }

  /** The live session with this id, if any. */
  get(id: string | undefined): DashboardSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Ends a session (logout). */
  end(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, expiresAt] of this.links) if (expiresAt <= now) this.links.delete(token);
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
  }
}

/** 32 random bytes, URL-safe. */
function secret(): string {
  return randomBytes(32).toString("base64url");
}

/** The map, after dropping its oldest entry when it is full (maps iterate in insertion order). */
function bounded<V>(map: Map<string, V>): Map<string, V> {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  return map;
}
