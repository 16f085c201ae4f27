/**
 * @qntx/ats: the attestation store shared by all plugins (ADR-003).
 *
 * - {@link AttestationStore}: the storage-neutral contract the host serves over gRPC;
 * - {@link SqliteAttestationStore}: its embedded SQLite implementation (the default);
 * - {@link PostgresAttestationStore}: on PostgreSQL, for several hosts on one database;
 * - {@link openAttestationStore}: either, from a URL or a file path;
 * - {@link openDatabase} and {@link migrate}: opening the shared `qntx.db` and versioning a
 *   namespace's schema in it (Pulse uses the same pattern); {@link migratePg} on PostgreSQL.
 */
export type { AttestationStore, StoreHealth } from "./store.js";
export { SqliteAttestationStore, type SqliteAttestationStoreOptions } from "./sqlite-store.js";
export { PostgresAttestationStore, type PostgresAttestationStoreOptions } from "./pg-store.js";
export { isPostgresUrl, openAttestationStore, type OpenAttestationStoreOptions } from "./open-store.js";
export { AtsError, isAtsError, type AtsErrorCode } from "./errors.js";
export { openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from "./open.js";
export { migrate, schemaVersion, type Migration, type MigrateResult } from "./migrations.js";
export { loadSqlMigrations, migratePg, pgSchemaVersion, MIGRATION_LOCK_KEY, PG_ATS_MIGRATIONS_DIR, type SqlMigration } from "./pg-migrations.js";
export { createPool, maskUrl, type PgPoolOptions } from "./pg-connection.js";
/** The `pg` pool type, for packages that get a pool from {@link createPool} without depending on `pg` themselves. */
export type { Pool as PgPool } from "pg";
export { NOTIFY_CHANNEL, type StoreLog } from "./pg-feed.js";
export { ATS_MIGRATIONS, ATS_NAMESPACE, Dim, DIM_NAMES, type DimName } from "./schema.js";
export {
  EMPTY_DIMENSION_VALUE,
  EXPIRES_AT_ATTRIBUTE,
  FALLBACK_SOURCE,
  SOURCE_VERSION_ATTRIBUTE,
  attestationFromCommand,
  type GenerateDefaults,
} from "./codec.js";
export { GENERATED_ID_PATTERN, ID_RANDOM_LENGTH, ID_TOKEN_MAX, generateId, idToken, randomSuffix } from "./ids.js";
export { matchesFilter, normalizeFilter, type DimConstraint, type NormalizedFilter } from "./filter.js";
export type { QueryPlan, Strategy } from "./plan-choice.js";
export type { StoreOptions } from "./store-common.js";
export type { AttestationListener, WatchErrorHandler } from "./watchers.js";
