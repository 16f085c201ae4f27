/**
 * A tiny, reusable schema-migration runner.
 *
 * The host keeps every store in ONE SQLite file, so several owners (ats, pulse, …) share the
 * bookkeeping table `schema_migrations` and keep apart by `namespace`. Migrations are an
 * append-only list: index 0 is version 1, and a released migration is never edited, only
 * followed by a new one.
 */
import { AtsError } from "./errors.js";
import type { MigrateResult } from "@qntx/protocol";
import type { SqliteDatabase } from "./open.js";

/**
 * One migration step: SQL text (may hold several statements) or, for data migrations that
 * need code, a function run inside the same transaction.
 */
export type Migration = string | ((db: SqliteDatabase) => void);

/** What {@link migrate} did. */
export type { MigrateResult };

const BOOKKEEPING_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  namespace  TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, version)
)`;

/**
 * Brings `namespace` up to `migrations.length`, applying each missing version in its own
 * IMMEDIATE transaction together with its bookkeeping row, so a crash leaves the schema at a
 * whole version and two processes opening the same file cannot both apply a step (the second
 * one waits for the write lock, re-reads the version and skips).
 *
 * @param db open connection (see `openDatabase`)
 * @param namespace owner of the migrations, e.g. `"ats"` or `"pulse"`
 * @param migrations the ordered steps; `migrations[i]` is version `i + 1`
 * @returns versions before/after and which ones ran
 * @throws AtsError SCHEMA_TOO_NEW when the database is at a version newer than
 *   `migrations.length` (it was written by a newer build; running old code on it could corrupt data)
 */
export function migrate(db: SqliteDatabase, namespace: string, migrations: readonly Migration[]): MigrateResult {
  if (namespace === "") throw new Error("migrate: namespace must be non-empty");
  db.exec(BOOKKEEPING_SQL);
  const currentStmt = db.prepare<[string], { v: number | null }>(
    "SELECT max(version) AS v FROM schema_migrations WHERE namespace = ?",
  );
  const recordStmt = db.prepare<[string, number, number]>(
    "INSERT INTO schema_migrations (namespace, version, applied_at) VALUES (?, ?, ?)",
  );
  const current = (): number => currentStmt.get(namespace)?.v ?? 0;

  const from = current();
  if (from > migrations.length) throw schemaTooNew(namespace, from, migrations.length, "use another data directory");
  const applied: number[] = [];
  for (let version = from + 1; version <= migrations.length; version++) {
    const step = migrations[version - 1]!;
    const ran = db
      .transaction((): boolean => {
        // Re-read under the write lock: another process may have applied it meanwhile.
        if (current() >= version) return false;
        if (typeof step === "string") db.exec(step);
        else step(db);
        recordStmt.run(namespace, version, Date.now());
        return true;
      })
      .immediate();
    if (ran) applied.push(version);
  }
  return { from, to: migrations.length, applied };
}

/**
 * The refusal of a database whose schema a newer build migrated: running old code on it
 * could corrupt data. Names both versions.
 * @param elsewhere the other way out, besides upgrading (e.g. "use another data directory")
 */
export function schemaTooNew(namespace: string, found: number, known: number, elsewhere: string): AtsError {
  return new AtsError(
    "SCHEMA_TOO_NEW",
    `database schema "${namespace}" is at version ${found}, newer than this build knows (${known}); upgrade qntx or ${elsewhere}`,
    { hint: `this qntx understands "${namespace}" up to version ${known}` },
  );
}

/** The highest applied version of `namespace` (0 when none, or no bookkeeping table yet). */
export function schemaVersion(db: SqliteDatabase, namespace: string): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return 0;
  const row = db
    .prepare<[string], { v: number | null }>("SELECT max(version) AS v FROM schema_migrations WHERE namespace = ?")
    .get(namespace);
  return row?.v ?? 0;
}
