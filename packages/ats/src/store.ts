/**
 * The storage-neutral contract of the attestation store.
 *
 * The host's ATSStoreService and built-in plugins depend on this interface only, so a
 * PostgreSQL (or other) implementation can replace `SqliteAttestationStore` when one machine
 * is no longer enough. Semantics are QNTX's (docs/protocol.md §1.2, atsstore.proto).
 */
import type { Attestation, AttestationCommand, AttestationFilter } from "@qntx/protocol";
import type { GenerateDefaults } from "./codec.js";
import type { AttestationListener } from "./watchers.js";

/** A durable, queryable set of attestations. All methods are synchronous. */
export interface AttestationStore {
  /**
   * Stores a client-built attestation under its own id (deprecated CreateAttestation).
   * `created_at` 0 is replaced by now; other fields are stored as given.
   * @throws AtsError ALREADY_EXISTS "attestation <id> already exists"; INVALID_ARGUMENT when
   *   the id or subjects are missing
   */
  create(attestation: Attestation): void;

  /** True when an attestation with this id is stored. */
  exists(id: string): boolean;

  /**
   * Builds an attestation from a command with QNTX's defaults (generated id `AS-S-P-C-xxxxxxxx`,
   * `_` for empty predicates/contexts, the id as the only actor when actors are empty, source → `defaults.source` → "plugin", source_version
   * in attributes, timestamp = now when absent) and stores it.
   * @returns the stored attestation
   * @throws AtsError INVALID_ARGUMENT, e.g. "attestation needs at least one subject"
   */
  generateAndCreate(command: AttestationCommand, defaults: GenerateDefaults): Attestation;

  /**
   * {@link generateAndCreate} for many commands in ONE transaction: all are stored or none.
   * @returns the stored attestations, in command order
   * @throws AtsError naming the index of the first bad command; nothing is written
   */
  batchGenerateAndCreate(commands: readonly AttestationCommand[], defaults: GenerateDefaults): Attestation[];

  /**
   * Attestations matching `filter` (OR within a dimension, AND across; inclusive time bounds
   * on `timestamp`), newest `created_at` first, at most `limit` (unset/0 = all).
   */
  query(filter: AttestationFilter): Attestation[];

  /**
   * Same results as {@link query}, produced one by one from the database instead of loaded
   * first. Finish it or call `return()` (a `for…of` with `break` does): implementations may
   * hold resources (SQLite: the connection refuses writes) while it is open.
   */
  iterate(filter: AttestationFilter): IterableIterator<Attestation>;

  /**
   * Calls `listener` with every attestation written through THIS store instance from now on
   * that matches `filter` (its `limit` is ignored), after the write committed.
   * @returns unsubscribe (idempotent)
   */
  watch(filter: AttestationFilter, listener: AttestationListener): () => void;

  /** Number of stored attestations. */
  count(): number;

  /** Releases the store: drops watches; further calls throw. Idempotent. */
  close(): void;
}
