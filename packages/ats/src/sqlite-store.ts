/**
 * The SQLite implementation of {@link AttestationStore} (better-sqlite3, synchronous).
 *
 * Writes go through prepared statements inside one transaction per call (a batch is one
 * transaction), reads through the {@link QueryPlanner}. See schema.ts for the tables. The
 * interface's methods are async; this store does its work synchronously inside them, so a
 * write's watchers have run by the time its promise settles.
 */
import type { Attestation, AttestationCommand, AttestationFilter } from "@qntx/protocol";
import type { Statement, Transaction } from "better-sqlite3";
import { BatchIterator } from "./batch-iterator.js";
import {
  attestationFromCommand,
  attestationToInsert,
  prepareAttestation,
  rowToAttestation,
  type AttestationInsert,
  type AttestationRow,
  type GenerateDefaults,
} from "./codec.js";
import { normalizeFilter } from "./filter.js";
import { migrate } from "./migrations.js";
import { openDatabase, type SqliteDatabase } from "./open.js";
import { QueryPlanner, type QueryPlan } from "./planner.js";
import { ATS_MIGRATIONS, ATS_NAMESPACE, Dim, DIM_NAMES } from "./schema.js";
import {
  alreadyExists,
  buildBatch,
  ID_ATTEMPTS,
  MonotonicClock,
  redrawId,
  storeClosed,
  SWEEP_CHUNK,
  watchErrorHandler,
  writeFailure,
  type StoreOptions,
} from "./store-common.js";
import type { AttestationStore, StoreHealth } from "./store.js";
import { WatchRegistry, type AttestationListener } from "./watchers.js";

/** Options of {@link SqliteAttestationStore}. */
export interface SqliteAttestationStoreOptions extends StoreOptions {
  /**
   * Close the connection in `close()`. Default false: the host shares one connection
   * between the store and Pulse, so the store must not close it under Pulse.
   */
  readonly ownsDatabase?: boolean;
}

function isDuplicateId(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === "SQLITE_CONSTRAINT_UNIQUE" && String(e.message).includes("attestations.id");
}

/** An expired row as the sweep reads it: enough to find its term rows. */
type ExpiredRow = Pick<AttestationRow, "seq" | "created_at" | "subjects" | "predicates" | "contexts" | "actors">;

/** {@link AttestationStore} on a better-sqlite3 connection. */
export class SqliteAttestationStore implements AttestationStore {
  /** The connection the store works on. */
  readonly db: SqliteDatabase;
  private readonly ownsDatabase: boolean;
  private readonly clock: MonotonicClock;
  private closed = false;
  private readonly planner: QueryPlanner;
  private readonly watches: WatchRegistry;
  private readonly insertRow: Statement<[AttestationInsert], unknown>;
  private readonly insertTerm: Statement<[number, string, number, number | bigint, number], unknown>;
  private readonly existsStmt: Statement<[string, number], { one: number }>;
  private readonly countStmt: Statement<[number], { n: number }>;
  private readonly writeAll: Transaction<(attestations: readonly Attestation[], generated: boolean) => void>;
  private readonly sweepChunk: Transaction<(now: number) => number>;

  /**
   * Opens a file-backed store that owns its connection (closes it in `close()`).
   * @param path database file (created with its directory), or ":memory:"
   */
  static open(path: string, options: Omit<SqliteAttestationStoreOptions, "ownsDatabase"> = {}): SqliteAttestationStore {
    return new SqliteAttestationStore(openDatabase(path), { ...options, ownsDatabase: true });
  }

  /**
   * Wraps an open connection and brings its "ats" schema up to date.
   * @param db connection from `openDatabase` (WAL, busy timeout…); possibly shared with Pulse
   */
  constructor(db: SqliteDatabase, options: SqliteAttestationStoreOptions = {}) {
    this.db = db;
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.clock = new MonotonicClock(options.now);
    this.watches = new WatchRegistry(watchErrorHandler(options));
    migrate(db, ATS_NAMESPACE, ATS_MIGRATIONS);

    this.insertRow = db.prepare(
      `INSERT INTO attestations (id, timestamp, created_at, source, attributes, signature, signer_did,
                                 subjects, predicates, contexts, actors, expires_at)
       VALUES (@id, @timestamp, @created_at, @source, @attributes, @signature, @signer_did,
               @subjects, @predicates, @contexts, @actors, @expires_at)`,
    );
    // OR IGNORE: a value repeated within one list (subjects ["a","a"]) is one term.
    this.insertTerm = db.prepare(
      "INSERT OR IGNORE INTO attestation_terms (dim, value, created_at, att, timestamp) VALUES (?, ?, ?, ?, ?)",
    );
    this.existsStmt = db.prepare("SELECT 1 AS one FROM attestations WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)");
    this.countStmt = db.prepare(
      "SELECT (SELECT count(*) FROM attestations) - " +
        "(SELECT count(*) FROM attestations WHERE expires_at IS NOT NULL AND expires_at <= ?) AS n",
    );
    this.planner = new QueryPlanner(db);
    this.writeAll = db.transaction((attestations: readonly Attestation[], generated: boolean) => {
      for (let i = 0; i < attestations.length; i++) {
        try {
          this.insertOne(attestations[i]!, generated);
        } catch (err) {
          throw writeFailure(err, i, attestations.length);
        }
      }
    });
    const selectExpired = db.prepare<[number, number], ExpiredRow>(
      `SELECT seq, created_at, subjects, predicates, contexts, actors FROM attestations
       WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
    );
    const deleteTerm = db.prepare<[number, string, number, number]>(
      "DELETE FROM attestation_terms WHERE dim = ? AND value = ? AND created_at = ? AND att = ?",
    );
    const deleteRow = db.prepare<[number]>("DELETE FROM attestations WHERE seq = ?");
    this.sweepChunk = db.transaction((now: number): number => {
      const rows = selectExpired.all(now, SWEEP_CHUNK);
      for (const row of rows) {
        for (const dim of DIM_NAMES) {
          for (const value of JSON.parse(row[dim]) as string[]) deleteTerm.run(Dim[dim], value, row.created_at, row.seq);
        }
        deleteRow.run(row.seq);
      }
      return rows.length;
    });
  }

  /** {@inheritDoc AttestationStore.create} */
  async create(attestation: Attestation): Promise<void> {
    this.assertOpen();
    const stored = prepareAttestation(attestation, this.clock.now());
    this.writeAll.immediate([stored], false);
    this.watches.deliver([stored], this.clock.wall());
  }

  /** {@inheritDoc AttestationStore.exists} */
  async exists(id: string): Promise<boolean> {
    this.assertOpen();
    return this.existsStmt.get(id, this.clock.wall()) !== undefined;
  }

  /** {@inheritDoc AttestationStore.generateAndCreate} */
  async generateAndCreate(command: AttestationCommand, defaults: GenerateDefaults): Promise<Attestation> {
    this.assertOpen();
    const attestation = attestationFromCommand(command, defaults, this.clock.now());
    this.writeAll.immediate([attestation], true);
    this.watches.deliver([attestation], this.clock.wall());
    return attestation;
  }

  /** {@inheritDoc AttestationStore.batchGenerateAndCreate} */
  async batchGenerateAndCreate(commands: readonly AttestationCommand[], defaults: GenerateDefaults): Promise<Attestation[]> {
    this.assertOpen();
    const attestations = buildBatch(commands, defaults, this.clock);
    if (attestations.length === 0) return attestations;
    this.writeAll.immediate(attestations, true);
    this.watches.deliver(attestations, this.clock.wall());
    return attestations;
  }

  /** {@inheritDoc AttestationStore.query} */
  async query(filter: AttestationFilter): Promise<Attestation[]> {
    this.assertOpen();
    const { statement, params } = this.planner.prepare(normalizeFilter(filter), this.clock.wall());
    return statement.all(params).map(rowToAttestation);
  }

  /** {@inheritDoc AttestationStore.iterate} */
  iterate(filter: AttestationFilter): AsyncIterableIterator<Attestation> {
    // While the cursor is open better-sqlite3 refuses writes on this connection; a consumer
    // that awaits between rows (a gRPC stream honouring backpressure) should iterate on a
    // second, read-only connection (WAL lets it read while this one writes).
    this.assertOpen();
    // Plan and open the cursor eagerly, so a bad filter throws here, not at the first next().
    const { statement, params } = this.planner.prepare(normalizeFilter(filter), this.clock.wall());
    const rows = statement.iterate(params);
    return new BatchIterator({
      // One row per batch: the cursor reads nothing ahead of the consumer.
      fetch: () => {
        const next = rows.next();
        return next.done ? [] : [rowToAttestation(next.value)];
      },
      // Release the SQLite cursor, which otherwise keeps the connection refusing writes.
      close: () => void rows.return?.(),
    });
  }

  /** {@inheritDoc AttestationStore.watch} */
  watch(filter: AttestationFilter, listener: AttestationListener): () => void {
    this.assertOpen();
    return this.watches.watch(filter, listener);
  }

  /** {@inheritDoc AttestationStore.count} Reads a whole index (~11 ms at 1M rows): not for hot paths. */
  async count(): Promise<number> {
    this.assertOpen();
    return this.countStmt.get(this.clock.wall())!.n;
  }

  /**
   * {@inheritDoc AttestationStore.sweepExpired} Deletes in transactions of {@link SWEEP_CHUNK}
   * rows and lets other work run between them.
   */
  async sweepExpired(): Promise<number> {
    let swept = 0;
    while (!this.closed) {
      const n = this.sweepChunk.immediate(this.clock.wall());
      swept += n;
      if (n < SWEEP_CHUNK) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return swept;
  }

  /** {@inheritDoc AttestationStore.health} An open SQLite file is always reachable. */
  health(): StoreHealth {
    return { healthy: true };
  }

  /** How `filter` would be executed (strategy, driving dimension, probed counts, SQL). */
  explain(filter: AttestationFilter): QueryPlan {
    this.assertOpen();
    return this.planner.prepare(normalizeFilter(filter), this.clock.wall()).plan;
  }

  /** {@inheritDoc AttestationStore.close} Closes the connection only if the store owns it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches.clear();
    if (this.ownsDatabase) this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed();
  }


  /** Inserts one attestation and its terms; must run inside `writeAll`'s transaction. */
  private insertOne(attestation: Attestation, generated: boolean): void {
    let seq: number | bigint | undefined;
    for (let attempt = 1; seq === undefined; attempt++) {
      try {
        seq = this.insertRow.run(attestationToInsert(attestation)).lastInsertRowid;
      } catch (err) {
        if (!isDuplicateId(err)) throw err;
        if (!generated) throw alreadyExists(attestation.id, err);
        if (attempt >= ID_ATTEMPTS) throw err;
        // A failed INSERT changes nothing (statement atomicity), so just draw a new id.
        redrawId(attestation);
      }
    }
    for (const dim of DIM_NAMES) {
      for (const value of attestation[dim]) {
        this.insertTerm.run(Dim[dim], value, attestation.createdAt, seq, attestation.timestamp);
      }
    }
  }
}
