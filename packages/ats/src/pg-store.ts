/**
 * The PostgreSQL implementation of {@link AttestationStore} (`pg`, no ORM): several hosts on
 * one database see each other's attestations in queries at once and in watches through the
 * feed (pg-feed.ts). Same layout as the SQLite store (migrations/pg), same plan choice
 * (pg-planner.ts), same codec, so the conformance suite holds for both.
 *
 * Reads that fail because the database is unreachable are retried with backoff for up to
 * `readRetryMs`; a write is retried only while no connection could be opened (nothing was
 * sent). `health()` says while the database is away.
 */
import type { Attestation, AttestationCommand, AttestationFilter } from "@qntx/protocol";
import type pg from "pg";
import { BatchIterator } from "./batch-iterator.js";
import { attestationFromCommand, prepareAttestation, rowToAttestation, type AttestationRow, type GenerateDefaults } from "./codec.js";
import { AtsError } from "./errors.js";
import { normalizeFilter } from "./filter.js";
import type { MigrateResult } from "./migrations.js";
import type { QueryPlan } from "./plan-choice.js";
import { backoffMs, createPool, isConnectionError, unreachable, type PgPoolOptions } from "./pg-connection.js";
import { NOTIFY_CHANNEL, WatchFeed, type FeedOptions, type StoreLog } from "./pg-feed.js";
import { loadSqlMigrations, migratePg, PG_ATS_MIGRATIONS_DIR, type SqlMigration } from "./pg-migrations.js";
import { planPgQuery } from "./pg-planner.js";
import { checkPgText, findRefused, insertAttestations } from "./pg-writes.js";
import { ATS_NAMESPACE } from "./schema.js";
import { buildBatch, MonotonicClock, storeClosed, SWEEP_CHUNK, watchErrorHandler, writeFailure, type StoreOptions } from "./store-common.js";
import type { AttestationStore, StoreHealth } from "./store.js";
import { WatchRegistry, type AttestationListener } from "./watchers.js";
import { checkServer, giveBack, ignoreBetweenStatements } from "./pg-store-support.js";

/** Options of {@link PostgresAttestationStore.open}. */
export interface PostgresAttestationStoreOptions extends StoreOptions, PgPoolOptions {
  /** Backstop poll of the watch feed, in ms. Default 2000. */
  readonly pollIntervalMs?: number;
  /** How long a read keeps retrying an unreachable database, in ms. Default 10 000. */
  readonly readRetryMs?: number;
  /** Where background events go (database lost, back). Default: the console. */
  readonly log?: StoreLog;
  /** The migrations to apply (tests). Default: the files of `migrations/pg`. */
  readonly migrations?: readonly SqlMigration[];
}

/** Rows a cursor fetches per round trip. */
const FETCH_ROWS = 256;

const COUNT_SQL = "SELECT count(*) - count(*) FILTER (WHERE expires_at <= $1) AS n FROM attestations";
const EXISTS_SQL = "SELECT 1 FROM attestations WHERE id = $1 AND (expires_at IS NULL OR expires_at > $2)";
// FOR UPDATE SKIP LOCKED: two hosts sweeping at once take different rows instead of waiting.
// The term rows of each deleted attestation are rebuilt from its JSON lists to be deleted by key.
const SWEEP_SQL = `WITH gone AS (
  DELETE FROM attestations WHERE seq IN (
    SELECT seq FROM attestations WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING seq, created_at, subjects, predicates, contexts, actors),
terms AS (
  SELECT 0::smallint AS dim, v AS value, g.created_at, g.seq FROM gone g, json_array_elements_text(g.subjects::json) v
  UNION ALL SELECT 1::smallint, v, g.created_at, g.seq FROM gone g, json_array_elements_text(g.predicates::json) v
  UNION ALL SELECT 2::smallint, v, g.created_at, g.seq FROM gone g, json_array_elements_text(g.contexts::json) v
  UNION ALL SELECT 3::smallint, v, g.created_at, g.seq FROM gone g, json_array_elements_text(g.actors::json) v),
swept_terms AS (
  DELETE FROM attestation_terms t USING terms x
  WHERE t.dim = x.dim AND t.value = x.value AND t.created_at = x.created_at AND t.seq = x.seq)
SELECT count(*) AS n FROM gone`;

/** {@link AttestationStore} on PostgreSQL. */
export class PostgresAttestationStore implements AttestationStore {
  /** What opening the store migrated. */
  readonly migrated: MigrateResult;
  private readonly clock: MonotonicClock;
  private readonly watches: WatchRegistry;
  private readonly feed: WatchFeed;
  /** Connections held by open cursors, handed back by close() if their consumers never end them. */
  private readonly cursors = new Set<(err?: Error) => void>();
  private closed = false;

  /**
   * Connects, checks the server, migrates under the advisory lock and starts the watch feed.
   * @param url `postgres://user:password@host:port/database` (libpq URL parameters allowed)
   * @throws AtsError DATABASE_UNAVAILABLE naming the URL with its password masked when the database
   *   cannot be reached; SCHEMA_TOO_NEW when a newer build migrated it; INVALID_ARGUMENT when
   *   its encoding is not UTF8
   */
  static async open(url: string, options: PostgresAttestationStoreOptions = {}): Promise<PostgresAttestationStore> {
    const pool = createPool(url, options);
    // Idle connections the server drops (restart, pg_terminate_backend) are replaced on the
    // next checkout; without a listener the pool's error event would crash the process.
    pool.on("error", () => undefined);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
      client.on("error", ignoreBetweenStatements);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw unreachable(url, err, "opening the attestation store");
    }
    let migrated: MigrateResult;
    try {
      await checkServer(client);
      migrated = await migratePg(client, ATS_NAMESPACE, options.migrations ?? loadSqlMigrations(PG_ATS_MIGRATIONS_DIR));
    } catch (err) {
      giveBack(client, isConnectionError(err) ? (err as Error) : undefined);
      await pool.end().catch(() => undefined);
      throw isConnectionError(err) ? unreachable(url, err, "opening the attestation store") : err;
    }
    giveBack(client);
    const store = new PostgresAttestationStore(pool, url, migrated, options);
    try {
      await store.feed.start();
    } catch (err) {
      await store.close();
      throw unreachable(url, err, "starting the attestation watch feed");
    }
    return store;
  }

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    migrated: MigrateResult,
    private readonly options: PostgresAttestationStoreOptions,
  ) {
    this.migrated = migrated;
    this.clock = new MonotonicClock(options.now);
    this.watches = new WatchRegistry(watchErrorHandler(options));
    const feedOptions: FeedOptions = { pollIntervalMs: options.pollIntervalMs, log: options.log, connection: options };
    this.feed = new WatchFeed(pool, url, this.watches, () => this.clock.wall(), feedOptions);
  }

  /** {@inheritDoc AttestationStore.create} */
  async create(attestation: Attestation): Promise<void> {
    this.assertOpen();
    const stored = prepareAttestation(attestation, this.clock.now());
    checkPgText(stored);
    await this.write([stored], false);
  }

  /** {@inheritDoc AttestationStore.exists} */
  async exists(id: string): Promise<boolean> {
    this.assertOpen();
    const { rowCount } = await this.read("checking an attestation id", (db) => db.query(EXISTS_SQL, [id, this.clock.wall()]));
    return (rowCount ?? 0) > 0;
  }

  /** {@inheritDoc AttestationStore.generateAndCreate} */
  async generateAndCreate(command: AttestationCommand, defaults: GenerateDefaults): Promise<Attestation> {
    this.assertOpen();
    const attestation = attestationFromCommand(command, defaults, this.clock.now());
    checkPgText(attestation);
    await this.write([attestation], true);
    return attestation;
  }

  /** {@inheritDoc AttestationStore.batchGenerateAndCreate} */
  async batchGenerateAndCreate(commands: readonly AttestationCommand[], defaults: GenerateDefaults): Promise<Attestation[]> {
    this.assertOpen();
    const attestations = buildBatch(commands, defaults, this.clock);
    attestations.forEach((a, i) => {
      try {
        checkPgText(a);
      } catch (err) {
        // Named like buildBatch's errors: "batch command <i>: …" even in a batch of one.
        const e = err as AtsError;
        throw new AtsError(e.code, `batch command ${i}: ${e.message}`, { cause: e, hint: e.hint });
      }
    });
    if (attestations.length > 0) await this.write(attestations, true);
    return attestations;
  }

  /** {@inheritDoc AttestationStore.query} */
  async query(filter: AttestationFilter): Promise<Attestation[]> {
    this.assertOpen();
    const normalized = normalizeFilter(filter);
    return this.read("querying attestations", async (db) => {
      const { text, values } = await planPgQuery(db, normalized, this.clock.wall());
      const { rows } = await db.query<AttestationRow>(text, values as unknown[]);
      return rows.map(rowToAttestation);
    });
  }

  /** {@inheritDoc AttestationStore.iterate} A server-side cursor in a read-only transaction, {@link FETCH_ROWS} rows per fetch. */
  iterate(filter: AttestationFilter): AsyncIterableIterator<Attestation> {
    this.assertOpen();
    const normalized = normalizeFilter(filter);
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    const release = (err?: Error): void => {
      if (!this.cursors.delete(release)) return;
      giveBack(client!, err);
    };
    const open = async (): Promise<pg.PoolClient> => {
      const c = await this.connect("streaming attestations");
      client = c;
      this.cursors.add(release);
      try {
        await c.query("BEGIN READ ONLY");
        const { text, values } = await planPgQuery(c, normalized, this.clock.wall());
        await c.query(`DECLARE qntx_iterate NO SCROLL CURSOR FOR ${text}`, values as unknown[]);
      } catch (err) {
        broken = err as Error;
        throw isConnectionError(err) ? unreachable(this.url, err, "streaming attestations") : err;
      }
      return c;
    };
    return new BatchIterator<Attestation>({
      fetch: async () => {
        const c = client ?? (await open());
        try {
          const { rows } = await c.query<AttestationRow>(`FETCH ${FETCH_ROWS} FROM qntx_iterate`);
          return rows.map(rowToAttestation);
        } catch (err) {
          broken = err as Error;
          throw isConnectionError(err) ? unreachable(this.url, err, "streaming attestations") : err;
        }
      },
      close: async () => {
        if (!client || !this.cursors.has(release)) return;
        // COMMIT closes the cursor; a connection that failed is destroyed, not reused.
        if (broken === undefined) await client.query("COMMIT").catch((err: Error) => (broken = err));
        release(broken);
      },
    });
  }

  /** {@inheritDoc AttestationStore.watch} */
  watch(filter: AttestationFilter, listener: AttestationListener): () => void {
    this.assertOpen();
    return this.watches.watch(filter, listener);
  }

  /** {@inheritDoc AttestationStore.count} Reads the whole table: not for hot paths. */
  async count(): Promise<number> {
    this.assertOpen();
    const { rows } = await this.read("counting attestations", (db) => db.query<{ n: number }>(COUNT_SQL, [this.clock.wall()]));
    return rows[0]!.n;
  }

  /** {@inheritDoc AttestationStore.sweepExpired} In transactions of {@link SWEEP_CHUNK} rows. */
  async sweepExpired(): Promise<number> {
    let swept = 0;
    while (!this.closed) {
      const { rows } = await this.read("sweeping expired attestations", (db) =>
        db.query<{ n: number }>(SWEEP_SQL, [this.clock.wall(), SWEEP_CHUNK]),
      );
      swept += rows[0]!.n;
      if (rows[0]!.n < SWEEP_CHUNK) break;
    }
    return swept;
  }

  /** {@inheritDoc AttestationStore.health} */
  health(): StoreHealth {
    return this.feed.health();
  }

  /** How `filter` would be executed (strategy, driving dimension, probed counts, SQL). */
  async explain(filter: AttestationFilter): Promise<QueryPlan> {
    this.assertOpen();
    const normalized = normalizeFilter(filter);
    return (await this.read("planning a query", (db) => planPgQuery(db, normalized, this.clock.wall()))).plan;
  }

  /** {@inheritDoc AttestationStore.close} Ends the feed and every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches.clear();
    await this.feed.stop();
    // A cursor nobody finished would keep pool.end() waiting for its connection.
    for (const release of [...this.cursors]) release(new Error("attestation store closed"));
    await this.pool.end().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw storeClosed();
  }

  /**
   * Runs a read, retrying with backoff while the database is unreachable, for up to
   * `readRetryMs`; then fails with the URL (password masked).
   */
  private async read<T>(doing: string, work: (db: pg.Pool) => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.options.readRetryMs ?? 10_000);
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(this.pool);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.feed.markDown(err);
        const wait = backoffMs(attempt);
        if (this.closed || Date.now() + wait > deadline) throw unreachable(this.url, err, doing);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * A connection of the pool, retried like a read (nothing has been sent yet). While checked
   * out it has an error listener: a connection the server ends between two statements emits
   * `error` with no query to take it, which without a listener would crash the process (the
   * next statement fails instead). Hand it back with {@link giveBack}.
   */
  private async connect(doing: string): Promise<pg.PoolClient> {
    const client = await this.read(doing, (pool) => pool.connect());
    client.on("error", ignoreBetweenStatements);
    return client;
  }

  /** Writes attestations in one transaction, notifies other hosts, then this store's watches. */
  private async write(attestations: Attestation[], generated: boolean): Promise<void> {
    const client = await this.connect("storing attestations");
    let written: { seq: number; tx: bigint }[] = [];
    let failed: unknown;
    try {
      await client.query("BEGIN");
      try {
        written = await insertAttestations(client, attestations, generated);
      } catch (err) {
        await client.query("ROLLBACK");
        if (attestations.length === 1 || err instanceof AtsError || isConnectionError(err)) throw err;
        const refused = await findRefused(client, attestations, generated);
        throw refused ? writeFailure(refused.error, refused.index, attestations.length) : err;
      }
      await client.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, String(written[0]!.seq)]);
      // Marked before COMMIT: a poll that sees the rows committed must already skip them.
      this.feed.markLocal(written);
      await client.query("COMMIT");
    } catch (err) {
      failed = err;
      this.feed.forgetLocal(written);
      if (isConnectionError(err)) {
        this.feed.markDown(err);
        const error = unreachable(this.url, err, "storing attestations");
        throw new AtsError("DATABASE_UNAVAILABLE", `${error.message} (if it was lost during COMMIT the write may have been stored)`, { cause: err, hint: error.hint });
      }
      throw err;
    } finally {
      // A connection that was lost is destroyed rather than handed out again; one whose
      // statement was refused was rolled back and is fine.
      giveBack(client, isConnectionError(failed) ? (failed as Error) : undefined);
    }
    this.feed.deliver(attestations);
  }
}
