/**
 * @qntx/ats: the attestation store shared by all plugins (ADR-003).
 *
 * - {@link AttestationStore}: the storage-neutral contract the host serves over gRPC;
 * - {@link SqliteAttestationStore}: its SQLite implementation;
 * - {@link openDatabase} and {@link migrate}: opening the shared `qntx.db` and versioning a
 *   namespace's schema in it (Pulse uses the same pattern).
 */
export type { AttestationStore } from "./store.js";
export { SqliteAttestationStore, type SqliteAttestationStoreOptions } from "./sqlite-store.js";
export { AtsError, isAtsError, type AtsErrorCode } from "./errors.js";
export { openDatabase, type OpenDatabaseOptions, type SqliteDatabase } from "./open.js";
export { migrate, schemaVersion, type Migration, type MigrateResult } from "./migrations.js";
export { ATS_MIGRATIONS, ATS_NAMESPACE, Dim, DIM_NAMES, type DimName } from "./schema.js";
export {
  EMPTY_DIMENSION_VALUE,
  FALLBACK_SOURCE,
  SOURCE_VERSION_ATTRIBUTE,
  attestationFromCommand,
  type GenerateDefaults,
} from "./codec.js";
export { GENERATED_ID_PATTERN, ID_RANDOM_LENGTH, ID_TOKEN_MAX, generateId, idToken, randomSuffix } from "./ids.js";
export { matchesFilter, normalizeFilter, type DimConstraint, type NormalizedFilter } from "./filter.js";
export type { QueryPlan, Strategy } from "./planner.js";
export type { AttestationListener, WatchErrorHandler } from "./watchers.js";
