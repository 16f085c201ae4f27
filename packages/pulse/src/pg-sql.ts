/**
 * Talking to PostgreSQL for Pulse's stores: statements written with `@name` parameters (as
 * the SQLite statements are) turned into `$n` once, int8 read as numbers (every int8 Pulse
 * stores — seq, unix ms, progress — is far below 2^53, so rows match the SQLite store's), and
 * transactions on one pooled connection.
 */
import pg from "pg";
import { isConnectionError } from "@qntx/protocol";

// int8 (oid 20) arrives as a string by default.
const INT8_OID = 20;
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** Something that runs a query: the pool or a connection in a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/** A statement with `@name` parameters; `run` binds an object of them, by name. */
export interface Statement {
  readonly text: string;
  run<R extends pg.QueryResultRow = pg.QueryResultRow>(db: Queryable, params?: Record<string, unknown>): Promise<pg.QueryResult<R>>;
}

/** Compiles `text`'s `@name` parameters to `$1…$n` (the same name, the same number). */
export function sql(text: string): Statement {
  const names: string[] = [];
  const compiled = text.replace(/@([A-Za-z_]\w*)/g, (_m, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return {
    text: compiled,
    run: (db, params = {}) => {
      const values = names.map((n) => {
        if (!(n in params)) throw new Error(`statement parameter @${n} not given`);
        return params[n];
      });
      return db.query({ text: compiled, values, types: TYPES });
    },
  };
}

/**
 * Runs `work` in one transaction on one connection of `pool`: COMMIT when it resolves,
 * ROLLBACK when it throws. A connection that failed is destroyed rather than reused.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection the server ends between two statements emits `error` with no query to take
  // it; the next statement fails instead (without a listener the process would end).
  const ignore = (): void => undefined;
  client.on("error", ignore);
  let failed: unknown;
  try {
    await client.query("BEGIN");
    const out = await work(client);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    failed = err;
    if (!isConnectionError(err)) await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.off("error", ignore);
    client.release(isConnectionError(failed) ? (failed as Error) : undefined);
  }
}

/** True when `err` is PostgreSQL's unique_violation (23505). */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === "23505";
}
