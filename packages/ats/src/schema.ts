/**
 * The attestation store's tables, as numbered migrations in namespace "ats".
 *
 * Layout, and why:
 * - `attestations` holds one row per attestation with its four string lists as JSON arrays,
 *   so reading a row back needs no join. `seq` is the INTEGER PRIMARY KEY (the rowid): the
 *   join key of the term table and the tie-break of "newest first" (rows stamped in the same
 *   millisecond keep write order).
 * - `attestation_terms` is an inverted index: one row per (dimension, value, attestation),
 *   WITHOUT ROWID with the key (dim, value, created_at, att) and `timestamp` alongside. So
 *   "subject X, newest first" is one backwards B-tree range walk that needs neither a sort
 *   nor a visit to `attestations`; "does attestation N have predicate Y" is one key lookup
 *   (all terms of N share its created_at); the time bounds are checked on the term row.
 *   Only the rows finally returned are read from `attestations`. The price: created_at and
 *   timestamp are stored once per term (~16 bytes each), and never change.
 *   `att` has no FOREIGN KEY on purpose: the check would cost a lookup per term on every
 *   insert; the store writes both tables in one transaction.
 * - `(created_at)` serves "newest first" when no dimension is filtered (SQLite appends the
 *   rowid to index entries, so it is ordered by (created_at, seq)); `(timestamp, created_at)`
 *   serves time-bounded filters and covers their first phase.
 * - Version 2: `expires_at` (unix ms, NULL = never), copied from the `expires_at` attribute
 *   when an attestation is written (codec.ts). The partial index holds only attestations that
 *   expire, so "which stored ones have expired" is a short range whatever the table's size,
 *   and a store without expiring attestations pays one empty-index descent per query.
 *   Attestations stored before version 2 are not back-filled: the attribute had no meaning
 *   when they were written, so they never expire.
 *
 * Released migrations are never edited; add a new entry instead.
 */
import type { Migration } from "./migrations.js";

/** Namespace of the store's rows in `schema_migrations`. */
export const ATS_NAMESPACE = "ats";

/** Dimension numbers used in `attestation_terms.dim`. Stored on disk: never renumber. */
export const Dim = { subjects: 0, predicates: 1, contexts: 2, actors: 3 } as const;

/** Name of a filterable string-list dimension of an attestation. */
export type DimName = keyof typeof Dim;

/** The dimensions in the order they are stored and checked. */
export const DIM_NAMES: readonly DimName[] = ["subjects", "predicates", "contexts", "actors"];

/** The store's migrations; `ATS_MIGRATIONS[i]` is version i + 1. */
export const ATS_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE attestations (
     seq        INTEGER PRIMARY KEY,
     id         TEXT    NOT NULL UNIQUE,
     timestamp  INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     source     TEXT    NOT NULL,
     attributes TEXT,
     signature  BLOB,
     signer_did TEXT    NOT NULL DEFAULT '',
     subjects   TEXT    NOT NULL,
     predicates TEXT    NOT NULL,
     contexts   TEXT    NOT NULL,
     actors     TEXT    NOT NULL
   );
   CREATE INDEX attestations_created_at ON attestations (created_at);
   CREATE INDEX attestations_timestamp ON attestations (timestamp, created_at);
   CREATE TABLE attestation_terms (
     dim        INTEGER NOT NULL,
     value      TEXT    NOT NULL,
     created_at INTEGER NOT NULL,
     att        INTEGER NOT NULL,
     timestamp  INTEGER NOT NULL,
     PRIMARY KEY (dim, value, created_at, att)
   ) WITHOUT ROWID;`,
  `ALTER TABLE attestations ADD COLUMN expires_at INTEGER;
   CREATE INDEX attestations_expires_at ON attestations (expires_at) WHERE expires_at IS NOT NULL;`,
];
