/**
 * Every part of the host that keeps tables in the installation's database, with the schema
 * version this build understands on each kind of database. `qntx db status` compares them
 * with what the database holds, `qntx db migrate` applies what is missing, and a host refuses
 * a database some part of which a newer build migrated.
 */
import { fileURLToPath } from "node:url";
import { ATS_MIGRATIONS, ATS_NAMESPACE, loadSqlMigrations, migrate as migrateAts, PG_ATS_MIGRATIONS_DIR, type SqliteDatabase, type SqlMigration } from "@qntx/ats";
import { migrate as migrateSqlite, PG_PULSE_MIGRATIONS_DIR, PULSE_MIGRATIONS } from "@qntx/pulse";
import { USAGE_MIGRATIONS } from "../budget/usage-store.js";
import { SEARCH_MIGRATIONS } from "../services/search-index.js";

/** One part's schema. */
export interface SchemaComponent {
  /** Its namespace in `schema_migrations`. */
  readonly namespace: string;
  /** What it keeps, for `qntx db status`. */
  readonly keeps: string;
  /** Its SQLite migrations, in order (undefined: it keeps nothing in the SQLite file). */
  readonly sqlite?: { readonly names: readonly string[]; migrate(db: SqliteDatabase): void };
  /** Its PostgreSQL migration files (undefined: it keeps nothing on PostgreSQL). */
  readonly pg?: () => SqlMigration[];
}

/** The host's own PostgreSQL migrations of `namespace` (`host/migrations/pg/<namespace>`). */
export function hostPgMigrations(namespace: string): SqlMigration[] {
  return loadSqlMigrations(fileURLToPath(new URL(`../../migrations/pg/${namespace}/`, import.meta.url)));
}

const numbered = (count: number): string[] => Array.from({ length: count }, (_, i) => `${i + 1}`);

/** The parts, in the order they are migrated. */
export const SCHEMA_COMPONENTS: readonly SchemaComponent[] = [
  {
    namespace: ATS_NAMESPACE, keeps: "attestations",
    sqlite: { names: numbered(ATS_MIGRATIONS.length), migrate: (db) => void migrateAts(db, ATS_NAMESPACE, ATS_MIGRATIONS) },
    pg: () => loadSqlMigrations(PG_ATS_MIGRATIONS_DIR),
  },
  {
    namespace: "pulse", keeps: "jobs, job logs, schedules",
    sqlite: { names: numbered(PULSE_MIGRATIONS.length), migrate: (db) => void migrateSqlite(db, "pulse", PULSE_MIGRATIONS) },
    pg: () => loadSqlMigrations(PG_PULSE_MIGRATIONS_DIR),
  },
  {
    namespace: "usage", keeps: "the usage record (budgets)",
    sqlite: { names: numbered(USAGE_MIGRATIONS.length), migrate: (db) => void migrateSqlite(db, "usage", USAGE_MIGRATIONS) },
    pg: () => hostPgMigrations("usage"),
  },
  {
    namespace: "search", keeps: "the built-in search index",
    sqlite: { names: numbered(SEARCH_MIGRATIONS.length), migrate: (db) => void migrateSqlite(db, "search", SEARCH_MIGRATIONS) },
  },
  { namespace: "hosts", keeps: "the hosts sharing the database", pg: () => hostPgMigrations("hosts") },
];
