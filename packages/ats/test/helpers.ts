/**
 * Test fixtures: every test gets its own SQLite FILE in a fresh temp dir (real WAL, real
 * fsync paths), removed afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Attestation, AttestationCommand, AttestationFilter } from "@qntx/protocol";
import { openDatabase, SqliteAttestationStore, type SqliteAttestationStoreOptions, type SqliteDatabase } from "../src/index.js";

/** A temp dir with a database file path in it. */
export interface TempDir {
  readonly dir: string;
  readonly file: string;
  /** Removes the directory (call after closing connections). */
  remove(): void;
}

/** Creates a fresh temp dir; the db file inside does not exist yet. */
export function tempDir(): TempDir {
  const dir = mkdtempSync(join(tmpdir(), "qntx-ats-"));
  return { dir, file: join(dir, "qntx.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A store on its own database file. */
export interface TempStore extends TempDir {
  readonly db: SqliteDatabase;
  readonly store: SqliteAttestationStore;
  /** Closes store and connection and removes the directory. Idempotent. */
  cleanup(): void;
}

/** Opens a store on a new file in a new temp dir. */
export function tempStore(options: SqliteAttestationStoreOptions = {}): TempStore {
  const tmp = tempDir();
  const db = openDatabase(tmp.file);
  const store = new SqliteAttestationStore(db, options);
  let done = false;
  return {
    ...tmp,
    db,
    store,
    cleanup() {
      if (done) return;
      done = true;
      // The SQLite store closes synchronously inside its async close().
      void store.close();
      if (db.open) db.close();
      tmp.remove();
    },
  };
}

/** A command with protocol defaults for whatever `partial` leaves out. */
export function cmd(partial: Partial<AttestationCommand> = {}): AttestationCommand {
  return { subjects: ["s"], predicates: [], contexts: [], actors: [], source: "", sourceVersion: "", ...partial };
}

/** A filter with protocol defaults for whatever `partial` leaves out. */
export function filter(partial: Partial<AttestationFilter> = {}): AttestationFilter {
  return { subjects: [], predicates: [], contexts: [], actors: [], ...partial };
}

/** A client-built attestation with protocol defaults for whatever `partial` leaves out. */
export function att(partial: Partial<Attestation> & { id: string }): Attestation {
  return {
    subjects: ["s"],
    predicates: ["p"],
    contexts: ["c"],
    actors: [],
    timestamp: 1000,
    source: "test",
    attributes: undefined,
    createdAt: 0,
    signature: Buffer.alloc(0),
    signerDid: "",
    ...partial,
  };
}

/** A manual clock for deterministic timestamps. */
export function manualClock(start = 1_000_000): { now: () => number; set(t: number): void; tick(ms?: number): void } {
  let t = start;
  return { now: () => t, set: (v) => void (t = v), tick: (ms = 1) => void (t += ms) };
}

/** Ids of a result list, for compact assertions. */
export function ids(list: readonly Attestation[]): string[] {
  return list.map((a) => a.id);
}
