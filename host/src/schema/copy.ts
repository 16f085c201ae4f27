/**
 * `qntx db copy`: moves an embedded installation (the SQLite file) into a PostgreSQL database —
 * attestations (with their term index; dynamic handlers are attestations), jobs with their
 * logs, schedules, plugin-made schedules, and the usage record. Rows go over in chunks, each
 * chunk in one transaction together with the copy's position (`qntx_copy_progress`), so a
 * copy killed at any moment resumes where the last committed chunk ended: no row twice, none
 * lost. The target is migrated first; a target or source a newer build migrated is refused.
 */
import { existsSync, realpathSync } from "node:fs";
import { openDatabase } from "@qntx/ats";
import { QntxError } from "@qntx/protocol";
import { migrateDatabase, refuseNewerSchema, withPg } from "./status.js";

/** Rows per transaction. */
const CHUNK = 500;

// The term index of the attestations a chunk inserted, built from their JSON lists (as the store does).
const ATTESTATION_TERMS = `INSERT INTO attestation_terms (dim, value, created_at, seq, timestamp)
SELECT 0, v, created_at, seq, timestamp FROM ins, json_array_elements_text(subjects::json) v
UNION ALL SELECT 1, v, created_at, seq, timestamp FROM ins, json_array_elements_text(predicates::json) v
UNION ALL SELECT 2, v, created_at, seq, timestamp FROM ins, json_array_elements_text(contexts::json) v
UNION ALL SELECT 3, v, created_at, seq, timestamp FROM ins, json_array_elements_text(actors::json) v
ON CONFLICT DO NOTHING`;

/** A table copied: its columns (all but the SQLite row key, which PostgreSQL draws anew). */
interface CopiedTable {
  readonly name: string;
  readonly columns: readonly string[];
  /** Runs after the chunk's insert, on its rows (`ins`). */
  readonly after?: string;
}

const TABLES: readonly CopiedTable[] = [
  { name: "attestations", columns: ["id", "timestamp", "created_at", "source", "attributes", "signature", "signer_did", "subjects", "predicates", "contexts", "actors", "expires_at"], after: ATTESTATION_TERMS },
  { name: "pulse_jobs", columns: ["id", "handler", "plugin", "handler_name", "payload", "source", "status", "priority", "run_at", "attempts", "max_attempts", "timeout_secs", "progress_current", "progress_total", "cost_estimate", "cost_actual", "result", "error", "plugin_version", "parent_job_id", "created_at", "started_at", "completed_at", "updated_at", "lease_owner", "lease_expires_at", "cancel_requested"] },
  { name: "pulse_job_logs", columns: ["job_id", "attempt", "timestamp", "level", "message", "stage", "metadata"] },
  { name: "pulse_schedules", columns: ["handler", "plugin", "handler_name", "interval_seconds", "enabled", "description", "ats_code", "next_run_at", "last_run_at", "last_job_id", "created_at", "updated_at"] },
  { name: "pulse_plugin_schedules", columns: ["id", "owner", "handler", "plugin", "handler_name", "interval_seconds", "payload", "metadata", "state", "next_run_at", "last_run_at", "last_job_id", "created_at", "updated_at"] },
  { name: "usage_records", columns: ["key", "at", "plugin", "kind", "name", "provider", "cost_usd", "prompt_tokens", "completion_tokens", "total_tokens"] },
];

const PROGRESS_TABLE = `CREATE TABLE IF NOT EXISTS qntx_copy_progress (
  source     text   NOT NULL,   -- the SQLite file copied from (real path)
  tbl        text   NOT NULL,
  last_rowid bigint NOT NULL,   -- the source rows up to this one are in
  copied     bigint NOT NULL,
  PRIMARY KEY (source, tbl))`;

/** How far one table is. */
export interface TableProgress {
  readonly table: string;
  /** Rows in the source. */
  readonly total: number;
  /** Rows copied, by this run and earlier ones. */
  readonly copied: number;
}

/**
 * Copies the SQLite installation at `from` into the PostgreSQL database at `to`.
 * @param onProgress hears each table's position after every chunk
 * @returns each table's rows in the source and copied
 */
export async function copyToPostgres(from: string, to: string, onProgress: (p: TableProgress) => void = () => undefined): Promise<TableProgress[]> {
  if (!existsSync(from)) throw new QntxError("INVALID_ARGUMENT", `there is no SQLite installation at ${from}`, { hint: "name it with --database FILE or --data-dir DIR" });
  await refuseNewerSchema(from);
  await migrateDatabase(to);
  const source = realpathSync(from);
  const db = openDatabase(from, { readonly: true });
  try {
    return await withPg(to, "copying", async (client) => {
      await client.query(PROGRESS_TABLE);
      const results: TableProgress[] = [];
      for (const table of TABLES) {
        // A part never used on this installation has no table: nothing to copy.
        if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table.name) === undefined) {
          results.push({ table: table.name, total: 0, copied: 0 });
          continue;
        }
        const total = (db.prepare(`SELECT count(*) AS n FROM ${table.name}`).get() as { n: number }).n;
        const done = (await client.query<{ last_rowid: number; copied: number }>("SELECT last_rowid, copied FROM qntx_copy_progress WHERE source = $1 AND tbl = $2", [source, table.name])).rows[0];
        let last = done?.last_rowid ?? 0;
        let copied = done?.copied ?? 0;
        const read = db.prepare(`SELECT rowid AS _rowid, ${table.columns.join(", ")} FROM ${table.name} WHERE rowid > ? ORDER BY rowid LIMIT ${CHUNK}`);
        const insert = `WITH ins AS (INSERT INTO ${table.name} (${table.columns.join(", ")})
          SELECT ${table.columns.join(", ")} FROM json_populate_recordset(NULL::${table.name}, $1::json) RETURNING *)
          ${table.after ?? "SELECT 1"}`;
        onProgress({ table: table.name, total, copied });
        for (;;) {
          const rows = read.all(last) as Array<Record<string, unknown> & { _rowid: number }>;
          if (rows.length === 0) break;
          const json = JSON.stringify(rows.map(({ _rowid, ...row }) => byteaAsHex(row)));
          await client.query("BEGIN");
          try {
            await client.query(insert, [json]);
            last = rows[rows.length - 1]!._rowid;
            copied += rows.length;
            await client.query(`INSERT INTO qntx_copy_progress (source, tbl, last_rowid, copied) VALUES ($1, $2, $3, $4)
              ON CONFLICT (source, tbl) DO UPDATE SET last_rowid = excluded.last_rowid, copied = excluded.copied`, [source, table.name, last, copied]);
            await client.query("COMMIT");
          } catch (err) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw new QntxError("INTERNAL", `copying ${table.name} after row ${last}: ${(err as Error).message}`, { hint: "fix the cause and run the same command again: it resumes after the last chunk copied", cause: err });
          }
          onProgress({ table: table.name, total, copied });
        }
        results.push({ table: table.name, total, copied });
      }
      return results;
    });
  } finally {
    db.close();
  }
}

/** The row with its blobs as PostgreSQL's bytea hex text (`\\x…`), which json_populate_recordset reads. */
function byteaAsHex(row: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(row)) if (value instanceof Uint8Array) row[key] = `\\x${Buffer.from(value).toString("hex")}`;
  return row;
}
