import type Database from "better-sqlite3";

/**
 * The numbered-migration runner shared in shape with `@qntx/ats`: one `schema_migrations`
 * table per database, rows keyed by (namespace, version), so several packages can migrate
 * the same `qntx.db` independently. Migration N (1-based) is `migrations[N-1]`; a migration
 * is applied once, in its own IMMEDIATE transaction together with its bookkeeping row, so
 * two processes opening the same file at once cannot both apply it.
 *
 * @returns the number of migrations applied by this call.
 * @throws when the database is at a higher version than this build knows (a downgrade).
 */
export function migrate(db: Database.Database, namespace: string, migrations: readonly string[]): number {
  db.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       namespace  TEXT    NOT NULL,
       version    INTEGER NOT NULL,
       applied_at INTEGER NOT NULL,
       PRIMARY KEY (namespace, version)
     )`,
  );
  const current = db.prepare<[string], { v: number }>(
    "SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE namespace = ?",
  );
  const record = db.prepare("INSERT INTO schema_migrations (namespace, version, applied_at) VALUES (?, ?, ?)");
  let applied = 0;
  for (;;) {
    const step = db.transaction((): boolean => {
      const version = current.get(namespace)!.v;
      if (version > migrations.length) {
        throw new Error(
          `database schema "${namespace}" is at version ${version}, newer than this build knows (${migrations.length}); upgrade qntx`,
        );
      }
      if (version === migrations.length) return false;
      db.exec(migrations[version]!);
      record.run(namespace, version + 1, Date.now());
      return true;
    });
    if (!step.immediate()) return applied;
    applied++;
  }
}

/** The current schema version of `namespace` (0 when never migrated). */
export function schemaVersion(db: Database.Database, namespace: string): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!exists) return 0;
  return db.prepare<[string], { v: number }>("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE namespace = ?").get(namespace)!.v;
}
