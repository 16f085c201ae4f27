/**
 * The attestation store's schema migrations on PostgreSQL: the files of `migrations/pg`, run
 * by the runner the stores share (`@qntx/protocol` sql-migrations.ts: numbered files, one
 * advisory lock, a database newer than this build refused with both versions named).
 */
import { fileURLToPath } from "node:url";
import { migratePg as runMigrations, type MigrateResult, type SqlClient, type SqlMigration } from "@qntx/protocol";
import { schemaTooNew } from "./migrations.js";

export { loadSqlMigrations, MIGRATION_LOCK_KEY, pgSchemaVersion, type SqlMigration } from "@qntx/protocol";

/** The attestation store's PostgreSQL migrations (`packages/ats/migrations/pg`). */
export const PG_ATS_MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/pg/", import.meta.url));

/**
 * Brings `namespace` up to the last of `migrations` under the migration advisory lock.
 * @throws AtsError SCHEMA_TOO_NEW when a newer build migrated the database
 */
export function migratePg(client: SqlClient, namespace: string, migrations: readonly SqlMigration[]): Promise<MigrateResult> {
  return runMigrations(client, namespace, migrations, schemaTooNew);
}
