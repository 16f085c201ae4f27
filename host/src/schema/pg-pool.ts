/**
 * The host's own connections to PostgreSQL (the host directory, the usage record, `qntx db`):
 * a pool with int8 read as numbers, and a connection failure turned into a startup error that
 * names the URL with its password masked.
 */
import pg from "pg";
import { maskUrl } from "@qntx/ats";
import { QntxError } from "@qntx/protocol";

// int8 (oid 20) arrives as a string by default; every int8 the host reads (unix ms, counts,
// seq) is far below 2^53.
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** A small pool on `url` named `application_name` (shown in `pg_stat_activity`). */
export function createHostPool(url: string, applicationName: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, keepAlive: true, application_name: applicationName, types: TYPES });
  // An idle connection the server drops is replaced at the next checkout; without a listener
  // the pool's error event would end the process.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * One connection of `pool`, or DATABASE_UNAVAILABLE naming the URL (password masked).
 * @param doing what the connection was for, as the start of the message
 */
export async function connectOrExplain(pool: pg.Pool, url: string, doing: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    throw new QntxError("DATABASE_UNAVAILABLE", `${doing}: cannot reach the database at ${maskUrl(url)}: ${(err as Error).message || String(err)}`, { cause: err });
  }
}
