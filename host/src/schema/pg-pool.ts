/**
 * The host's own connections to PostgreSQL (the host directory, the usage record, `qntx db`):
 * the attestation store's pool settings under another `application_name`, and a connection
 * failure turned into an error that names the URL with its password masked.
 */
import { createPool, maskUrl, type PgPool } from "@qntx/ats";
import { QntxError, reasonOf } from "@qntx/protocol";
import type pg from "pg";

/** A small pool on `url` named `applicationName` (shown in `pg_stat_activity`). */
export function createHostPool(url: string, applicationName: string, maxConnections = 4): PgPool {
  const pool = createPool(url, { applicationName, maxConnections });
  // An idle connection the server drops is replaced at the next checkout; without a listener
  // the pool's error event would end the process.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * One connection of `pool`, or DATABASE_UNAVAILABLE naming the URL (password masked).
 * @param doing what the connection was for, as the start of the message
 */
export async function connectOrExplain(pool: PgPool, url: string, doing: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    throw new QntxError("DATABASE_UNAVAILABLE", `${doing}: cannot reach the database at ${maskUrl(url)}: ${reasonOf(err)}`, { cause: err });
  }
}
