/**
 * Connections to PostgreSQL for the attestation store: the pool, the URL as it may be shown
 * (password masked), telling a lost connection from a refused statement, and retrying reads
 * while the database is away.
 */
import pg from "pg";
import { isConnectionError, maskUrl, reasonOf } from "@qntx/protocol";
import { AtsError } from "./errors.js";

export { isConnectionError, maskUrl, reasonOf };

/** Connection settings of the store's pool. */
export interface PgPoolOptions {
  /** Most connections the pool opens (an iterate holds one while open). Default 10. */
  readonly maxConnections?: number;
  /** How long opening one connection may take, in ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** `application_name` the server shows in pg_stat_activity. Default "qntx-ats". */
  readonly applicationName?: string;
}

// int8 (oid 20) arrives as a string by default; every int8 the store reads (seq, unix ms,
// counts) is far below 2^53, so numbers are exact and match what the SQLite store returns.
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** A pool on `url`: int8 as numbers, TCP keepalive, and `application_name` (default qntx-ats). */
export function createPool(url: string, options: PgPoolOptions = {}): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: options.applicationName ?? "qntx-ats",
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
 * The store's error for a database it cannot reach: names the URL (password masked) and what
 * to check. `cause` keeps the driver's error.
 */
export function unreachable(url: string, err: unknown, doing: string): AtsError {
  // The catalogue's hint says what to check.
  return new AtsError("DATABASE_UNAVAILABLE", `${doing}: cannot reach the attestation database at ${maskUrl(url)}: ${reasonOf(err)}`, { cause: err });
}

/** Backoff of reconnects and read retries: doubling from `baseMs` up to `maxMs`. */
export function backoffMs(attempt: number, baseMs = 100, maxMs = 5000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
