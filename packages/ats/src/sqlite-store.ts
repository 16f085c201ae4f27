/**
 * The SQLite implementation of {@link AttestationStore} (better-sqlite3, synchronous).
 *
 * Writes go through prepared statements inside one transaction per call (a batch is one
 * transaction), reads through the {@link QueryPlanner}. See schema.ts for the tables.
 */
import type { Attestation, AttestationCommand, AttestationFilter } from "@qntx/protocol";
import type { Statement, Transaction } from "better-sqlite3";
import {
  attestationFromCommand,
  attestationToInsert,
  prepareAttestation,
  rowToAttestation,
  type AttestationInsert,
  type GenerateDefaults,
} from "./codec.js";
import { AtsError } from "./errors.js";
import { normalizeFilter } from "./filter.js";
import { generateId } from "./ids.js";
import { migrate } from "./migrations.js";
import { openDatabase, type SqliteDatabase } from "./open.js";
import { QueryPlanner, type QueryPlan } from "./planner.js";
import { ATS_MIGRATIONS, ATS_NAMESPACE, Dim, DIM_NAMES } from "./schema.js";
import type { AttestationStore } from "./store.js";
import { WatchRegistry, type AttestationListener, type WatchErrorHandler } from "./watchers.js";

/** Options of {@link SqliteAttestationStore}. */
export interface SqliteAttestationStoreOptions {
  /**
   * Close the connection in `close()`. Default false: the host shares one connection
   * between the store and Pulse, so the store must not close it under Pulse.
   */
  readonly ownsDatabase?: boolean;
  /** Clock in unix ms (tests). Default `Date.now`. */
  readonly now?: () => number;
  /** Where exceptions thrown by watch listeners go. Default: `console.error`. */
  readonly onWatchError?: WatchErrorHandler;
}

/** A generated id clashing with a stored one is retried this often (odds ~1e-12 each). */
const ID_ATTEMPTS = 5;

function isDuplicateId(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === "SQLITE_CONSTRAINT_UNIQUE" && String(e.message).includes("attestations.id");
}

/** {@link AttestationStore} on a better-sqlite3 connection. */
export class SqliteAttestationStore implements AttestationStore {
  /** The connection the store works on. */
  readonly db: SqliteDatabase;
  private readonly ownsDatabase: boolean;
  private readonly clock: () => number;
  private lastNow = 0;
  private closed = false;
  private readonly planner: QueryPlanner;
  private readonly watches: WatchRegistry;
  private readonly insertRow: Statement<[AttestationInsert], unknown>;
  private readonly insertTerm: Statement<[number, string, number, number | bigint, number], unknown>;
  private readonly existsStmt: Statement<[string], { one: number }>;
  private readonly countStmt: Statement<[], { n: number }>;
  private readonly writeAll: Transaction<(attestations: readonly Attestation[], generated: boolean) => void>;

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
    this.clock = options.now ?? Date.now;
    const onWatchError =
      options.onWatchError ?? ((err: unknown, a: Attestation) => console.error(`ats: watch listener failed on ${a.id}:`, err));
    this.watches = new WatchRegistry(onWatchError);
    migrate(db, ATS_NAMESPACE, ATS_MIGRATIONS);

    this.insertRow = db.prepare(
      `INSERT INTO attestations (id, timestamp, created_at, source, attributes, signature, signer_did,
                                 subjects, predicates, contexts, actors)
       VALUES (@id, @timestamp, @created_at, @source, @attributes, @signature, @signer_did,
               @subjects, @predicates, @contexts, @actors)`,
    );
    // OR IGNORE: a value repeated within one list (subjects ["a","a"]) is one term.
    this.insertTerm = db.prepare(
      "INSERT OR IGNORE INTO attestation_terms (dim, value, created_at, att, timestamp) VALUES (?, ?, ?, ?, ?)",
    );
    this.existsStmt = db.prepare("SELECT 1 AS one FROM attestations WHERE id = ?");
    this.countStmt = db.prepare("SELECT count(*) AS n FROM attestations");
    this.planner = new QueryPlanner(db);
    this.writeAll = db.transaction((attestations: readonly Attestation[], generated: boolean) => {
      for (let i = 0; i < attestations.length; i++) {
        try {
          this.insertOne(attestations[i]!, generated);
        } catch (err) {
          if (attestations.length === 1) throw err;
          // Name the failing command, so a plugin can find it in a batch of thousands.
          if (err instanceof AtsError) throw new AtsError(err.code, `batch command ${i}: ${err.message}`, { cause: err });
          throw new Error(`batch command ${i}: storing attestation failed: ${(err as Error).message}`, { cause: err });
        }
      }
    });
  }

  /** {@inheritDoc AttestationStore.create} */
  create(attestation: Attestation): void {
    this.assertOpen();
    const stored = prepareAttestation(attestation, this.now());
    this.writeAll.immediate([stored], false);
    this.watches.notify([stored]);
  }

  /** {@inheritDoc AttestationStore.exists} */
  exists(id: string): boolean {
    this.assertOpen();
    return this.existsStmt.get(id) !== undefined;
  }

  /** {@inheritDoc AttestationStore.generateAndCreate} */
  generateAndCreate(command: AttestationCommand, defaults: GenerateDefaults): Attestation {
    this.assertOpen();
    const attestation = attestationFromCommand(command, defaults, this.now());
    this.writeAll.immediate([attestation], true);
    this.watches.notify([attestation]);
    return attestation;
  }

  /** {@inheritDoc AttestationStore.batchGenerateAndCreate} */
  batchGenerateAndCreate(commands: readonly AttestationCommand[], defaults: GenerateDefaults): Attestation[] {
    this.assertOpen();
    if (!Array.isArray(commands)) throw new AtsError("INVALID_ARGUMENT", "commands must be a list");
    // Validate and build everything before opening the transaction: a bad command fails
    // fast without holding the write lock, and the error names its index.
    const attestations = commands.map((command, i) => {
      try {
        return attestationFromCommand(command, defaults, this.now());
      } catch (err) {
        if (err instanceof AtsError) throw new AtsError(err.code, `batch command ${i}: ${err.message}`, { cause: err });
        throw err;
      }
    });
    if (attestations.length === 0) return attestations;
    this.writeAll.immediate(attestations, true);
    this.watches.notify(attestations);
    return attestations;
  }

  /** {@inheritDoc AttestationStore.query} */
  query(filter: AttestationFilter): Attestation[] {
    this.assertOpen();
    const { statement, params } = this.planner.prepare(normalizeFilter(filter));
    return statement.all(params).map(rowToAttestation);
  }

  /** {@inheritDoc AttestationStore.iterate} */
  iterate(filter: AttestationFilter): IterableIterator<Attestation> {
    // While the cursor is open better-sqlite3 refuses writes on this connection; a consumer
    // that awaits between rows (a gRPC stream honouring backpressure) should iterate on a
    // second, read-only connection (WAL lets it read while this one writes).
    this.assertOpen();
    // Plan eagerly so a bad filter throws here, not at the first next().
    const { statement, params } = this.planner.prepare(normalizeFilter(filter));
    return SqliteAttestationStore.stream(statement.iterate(params));
  }

  private static *stream(rows: IterableIterator<Parameters<typeof rowToAttestation>[0]>): IterableIterator<Attestation> {
    try {
      for (const row of rows) yield rowToAttestation(row);
    } finally {
      // Reached on exhaustion, error, or the consumer's return(): release the SQLite cursor,
      // which otherwise keeps the connection refusing writes.
      rows.return?.();
    }
  }

  /** {@inheritDoc AttestationStore.watch} */
  watch(filter: AttestationFilter, listener: AttestationListener): () => void {
    this.assertOpen();
    if (typeof listener !== "function") throw new AtsError("INVALID_ARGUMENT", "watch listener must be a function");
    return this.watches.add(normalizeFilter(filter), listener);
  }

  /** {@inheritDoc AttestationStore.count} Reads a whole index (~11 ms at 1M rows): not for hot paths. */
  count(): number {
    this.assertOpen();
    return this.countStmt.get()!.n;
  }

  /** How `filter` would be executed (strategy, driving dimension, probed counts, SQL). */
  explain(filter: AttestationFilter): QueryPlan {
    this.assertOpen();
    return this.planner.prepare(normalizeFilter(filter)).plan;
  }

  /** {@inheritDoc AttestationStore.close} Closes the connection only if the store owns it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watches.clear();
    if (this.ownsDatabase) this.db.close();
  }

  /**
   * Now in ms, never going backwards within this store even if the system clock does.
   * Equal stamps are fine: queries order by (created_at, seq), and seq follows write order.
   */
  private now(): number {
    this.lastNow = Math.max(this.lastNow, this.clock());
    return this.lastNow;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("attestation store is closed");
  }

  /** Inserts one attestation and its terms; must run inside `writeAll`'s transaction. */
  private insertOne(attestation: Attestation, generated: boolean): void {
    let seq: number | bigint | undefined;
    for (let attempt = 1; seq === undefined; attempt++) {
      try {
        seq = this.insertRow.run(attestationToInsert(attestation)).lastInsertRowid;
      } catch (err) {
        if (!isDuplicateId(err)) throw err;
        if (!generated) {
          throw new AtsError("ALREADY_EXISTS", `attestation ${attestation.id} already exists`, { cause: err });
        }
        if (attempt >= ID_ATTEMPTS) throw err;
        // A failed INSERT changes nothing (statement atomicity), so just draw a new id; a
        // self-certifying attestation's actor is its id, so it follows.
        const selfCertified = attestation.actors.length === 1 && attestation.actors[0] === attestation.id;
        attestation.id = generateId(attestation.subjects[0], attestation.predicates[0], attestation.contexts[0]);
        if (selfCertified) attestation.actors = [attestation.id];
      }
    }
    for (const dim of DIM_NAMES) {
      for (const value of attestation[dim]) {
        this.insertTerm.run(Dim[dim], value, attestation.createdAt, seq, attestation.timestamp);
      }
    }
  }
}
