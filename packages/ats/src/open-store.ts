/**
 * Opening an attestation store from one setting: a PostgreSQL URL or a SQLite file. The host
 * will read it from `[host] database` (issue 17 part 2); until then it opens SQLite itself.
 */
import { PostgresAttestationStore, type PostgresAttestationStoreOptions } from "./pg-store.js";
import { SqliteAttestationStore, type SqliteAttestationStoreOptions } from "./sqlite-store.js";
import type { AttestationStore } from "./store.js";

/** Options of {@link openAttestationStore}: each store takes those it knows. */
export type OpenAttestationStoreOptions = Omit<SqliteAttestationStoreOptions, "ownsDatabase"> & PostgresAttestationStoreOptions;

/** True when `target` names a PostgreSQL database (`postgres://…` or `postgresql://…`). */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * Opens the store `target` names: a `postgres://` / `postgresql://` URL opens a
 * {@link PostgresAttestationStore}; anything else is a SQLite file path (created with its
 * directory, or `:memory:`), opened as a store that owns its connection.
 * @throws AtsError DATABASE_UNAVAILABLE (URL with the password masked), SCHEMA_TOO_NEW, …
 */
export async function openAttestationStore(target: string, options: OpenAttestationStoreOptions = {}): Promise<AttestationStore> {
  if (isPostgresUrl(target)) return PostgresAttestationStore.open(target, options);
  return SqliteAttestationStore.open(target, options);
}
