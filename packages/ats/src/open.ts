/**
 * Opening the SQLite database the store lives in.
 *
 * The host opens ONE file (`qntx.db`) and hands the same connection to the attestation store
 * and to Pulse; this helper applies the pragmas both rely on, so they are set in one place.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** The better-sqlite3 connection type, re-exported so dependants need no @types import. */
export type SqliteDatabase = Database.Database;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Open read-only (e.g. a second, reader connection for long streams). Default false. */
  readonly readonly?: boolean;
  /** Milliseconds a statement waits for another connection's write lock. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Page cache of this connection, in MiB (allocated as used). Default 64. */
  readonly cacheSizeMiB?: number;
}

/**
 * Opens (creating if needed, with its parent directory) a SQLite database tuned for the host:
 * - `journal_mode = WAL`: readers never block the writer and vice versa, so a long
 *   GetAttestationsStream on one connection does not stall job claims on another;
 * - `synchronous = NORMAL`: safe with WAL (a power cut may lose the last commits, never
 *   corrupts) and several times faster than FULL for many small transactions;
 * - `foreign_keys = ON`: SQLite leaves them off by default, per connection;
 * - `busy_timeout = 5000`: another process holding the write lock makes us wait, not fail
 *   at once with SQLITE_BUSY;
 * - `cache_size` 64 MiB instead of SQLite's ~16 MB: inserts touch random pages of the id and
 *   term B-trees, and with the small cache building 1M attestations took 118 s, with 64 MiB
 *   54 s (measured; 256 MiB gained nothing more). Pages are allocated only as used.
 *
 * `":memory:"` is accepted (WAL does not apply there; SQLite reports `memory`).
 *
 * @param path file path, or `":memory:"`
 * @returns the open connection; the caller owns it and closes it
 */
export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const inMemory = path === ":memory:" || path === "";
  if (!inMemory && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    if (!options.readonly) db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma(`cache_size = ${-Math.max(1, Math.trunc(options.cacheSizeMiB ?? 64)) * 1024}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
