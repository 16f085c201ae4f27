/**
 * Small pieces of the PostgreSQL store kept apart from its class: handing connections back,
 * and refusing a server the store cannot work with.
 */
import type pg from "pg";
import { AtsError } from "./errors.js";

/** The checked-out connection's error listener (see `connect`): the failure surfaces at the next statement. */
export function ignoreBetweenStatements(): void {}

/** Returns a connection from `connect` to the pool; with `err` it is destroyed, not reused. */
export function giveBack(client: pg.PoolClient, err?: Error): void {
  client.off("error", ignoreBetweenStatements);
  client.release(err);
}

/**
 * Refuses a server the store cannot work with: xid8 and pg_snapshot_xmin need PostgreSQL 13,
 * and text is stored as UTF-8.
 */
export async function checkServer(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ version: number; encoding: string }>(
    "SELECT current_setting('server_version_num')::int AS version, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()",
  );
  const { version, encoding } = rows[0]!;
  if (version < 130000) {
    throw new AtsError("INVALID_ARGUMENT", `the attestation database runs PostgreSQL ${Math.floor(version / 10000)}; qntx needs 13 or newer`, {
      hint: "upgrade PostgreSQL, or keep the attestations in SQLite",
    });
  }
  if (encoding !== "UTF8") {
    throw new AtsError("INVALID_ARGUMENT", `the attestation database's encoding is ${encoding}; qntx needs UTF8`, {
      hint: "create the database with ENCODING 'UTF8' (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)",
    });
  }
}
