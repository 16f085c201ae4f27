/**
 * The storage-neutral contract of the attestation store.
 *
 * The host's ATSStoreService and built-in plugins depend on this interface only;
 * `SqliteAttestationStore` (embedded, the default) and `PostgresAttestationStore` (several
 * hosts on one database) implement it, and one conformance suite (test/conformance) runs
 * against both. Semantics are QNTX's (docs/protocol.md §1.2, atsstore.proto).
 *
 * Methods return promises because PostgreSQL answers over the network; the SQLite store does
 * its work synchronously inside them (better-sqlite3), so its promises are already settled
 * when they are returned. `watch` registration stays synchronous: a caller can arm a watch
 * and then write, knowing the watch sees the write.
 */
import type { Attestation, AttestationCommand, AttestationFilter } from "@qntx/protocol";
import type { GenerateDefaults } from "./codec.js";
import type { AttestationListener } from "./watchers.js";

/** Whether the store can reach its database; see {@link AttestationStore.health}. */
export interface StoreHealth {
  /** False while the database is unreachable and the store is retrying. */
  readonly healthy: boolean;
  /** Why it is not healthy (the last connection error, password masked), and what it does about it. */
  readonly detail?: string;
  /** Unix ms since when it has been unhealthy. */
  readonly since?: number;
}

/** A durable, queryable set of attestations. */
export interface AttestationStore {
  /**
   * Stores a client-built attestation under its own id (deprecated CreateAttestation).
   * `created_at` 0 is replaced by now; other fields are stored as given.
   * @throws AtsError ALREADY_EXISTS "attestation <id> already exists" (also while an expired
   *   one with that id waits for the sweep); INVALID_ARGUMENT when the id or subjects are missing
   */
  create(attestation: Attestation): Promise<void>;

  /** True when an attestation with this id is stored and has not expired. */
  exists(id: string): Promise<boolean>;

  /**
   * Builds an attestation from a command with QNTX's defaults (generated id `AS-S-P-C-xxxxxxxx`,
   * `_` for empty predicates/contexts, the id as the only actor when actors are empty, source → `defaults.source` → "plugin", source_version
   * in attributes, timestamp = now when absent) and stores it.
   * @returns the stored attestation
   * @throws AtsError INVALID_ARGUMENT, e.g. "attestation needs at least one subject"
   */
  generateAndCreate(command: AttestationCommand, defaults: GenerateDefaults): Promise<Attestation>;

  /**
   * {@link generateAndCreate} for many commands in ONE transaction: all are stored or none.
   * @returns the stored attestations, in command order
   * @throws AtsError naming the index of the first bad command; nothing is written
   */
  batchGenerateAndCreate(commands: readonly AttestationCommand[], defaults: GenerateDefaults): Promise<Attestation[]>;

  /**
   * Attestations matching `filter` (OR within a dimension, AND across; inclusive time bounds
   * on `timestamp`), newest `created_at` first, at most `limit` (unset/0 = all). Expired
   * attestations (attribute `expires_at` at or before now) are left out.
   * @throws AtsError INVALID_ARGUMENT on a missing or malformed filter
   */
  query(filter: AttestationFilter): Promise<Attestation[]>;

  /**
   * Same results as {@link query}, produced batch by batch from a database cursor instead of
   * loaded first. The filter is checked at once (a bad one throws here, not at the first
   * `next()`). Finish it or call `return()` (a `for await` with `break` does): the cursor holds
   * resources while open (SQLite: its connection refuses writes; PostgreSQL: a connection).
   */
  iterate(filter: AttestationFilter): AsyncIterableIterator<Attestation>;

  /**
   * Calls `listener` with every new attestation that matches `filter` (its `limit` is
   * ignored), after the write committed, once per watch. SQLite: attestations written
   * through this store instance, before the write's promise settles. PostgreSQL: also those
   * written by other store instances on the same database (other hosts), as soon as a
   * notification or the polling backstop brings them.
   * @returns unsubscribe (idempotent)
   */
  watch(filter: AttestationFilter, listener: AttestationListener): () => void;

  /** Number of stored attestations that have not expired. */
  count(): Promise<number>;

  /**
   * Deletes attestations whose expiry has passed (the host calls it on a timer; queries
   * already leave them out).
   * @returns how many were deleted
   */
  sweepExpired(): Promise<number>;

  /** Whether the database is reachable (an embedded one always is). */
  health(): StoreHealth;

  /** Releases the store: drops watches, ends connections it owns; further calls throw. Idempotent. */
  close(): Promise<void>;
}
