/**
 * Connections to PostgreSQL for the attestation store: the pool, the URL as it may be shown
 * (password masked), telling a lost connection from a refused statement, and retrying reads
 * while the database is away.
 */
import pg from "pg";
import { AtsError } from "./errors.js";

/** Connection settings of the store's pool. */
export interface PgPoolOptions {
  /** Most connections the pool opens (an iterate holds one while open). Default 10. */
  readonly maxConnections?: number;
  /** How long opening one connection may take, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
}

// int8 (oid 20) arrives as a string by default; every int8 the store reads (seq, unix ms,
// counts) is far below 2^53, so numbers are exact and match what the SQLite store returns.
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** A pool on `url`: int8 as numbers, TCP keepalive, and `application_name` qntx-ats. */
export function createPool(url: string, options: PgPoolOptions = {}): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "qntx-ats",
    types: TYPES,
  });
}

/** A single connection with the pool's settings (the watch feed's LISTEN connection). */
export function createClient(url: string, options: PgPoolOptions = {}): pg.Client {
  return new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    keepAlive: true,
    application_name: "qntx-ats-listen",
    types: TYPES,
  });
}

/**
 * `url` with its password replaced by `***` (in the user-info part and in a `password=`
 * query parameter), fit for logs and error messages.
 */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***");
    // URL encodes the asterisks in a query; keep them readable.
    return parsed.toString().replace(/password=%2A%2A%2A/g, "password=***");
  } catch {
    // Not a URL: mask anything that looks like user:password@ or password=.
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@").replace(/(password=)[^&\s]*/gi, "$1***");
  }
}

// Node socket errors and PostgreSQL SQLSTATEs that mean "the connection, not the statement".
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
// 57P01 admin_shutdown (a terminated backend), 57P02 crash_shutdown, 57P03 cannot_connect_now
// (starting up or shutting down), 53300 too_many_connections.
const SERVER_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** True when `err` says the database could not be reached or the connection was lost. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : "";
  if (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith("08")) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  // pg's own wording when a socket ends under a query or a connect times out.
  return /Connection terminated|connection timeout|Client has encountered a connection error|Connection is closed/i.test(message);
}

/**
 * The store's error for a database it cannot reach: names the URL (password masked) and what
 * to check. `cause` keeps the driver's error.
 */
export function unreachable(url: string, err: unknown, doing: string): AtsError {
  // The catalogue's hint says what to check.
  return new AtsError("DATABASE_UNAVAILABLE", `${doing}: cannot reach the attestation database at ${maskUrl(url)}: ${reasonOf(err)}`, { cause: err });
}

/**
 * What went wrong, in words: the error's message, else its code. (Duck-typed: socket errors
 * come from Node's own realm, where `instanceof Error` of another realm, e.g. a test
 * sandbox, does not hold.)
 */
export function reasonOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown } | undefined;
  if (typeof e?.message === "string" && e.message !== "") return e.message;
  if (typeof e?.code === "string") return e.code;
  return String(err);
}

/** Backoff of reconnects and read retries: doubling from `baseMs` up to `maxMs`. */
export function backoffMs(attempt: number, baseMs = 100, maxMs = 5000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
