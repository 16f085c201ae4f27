/**
 * The PostgreSQL store's watch feed: brings attestations written by OTHER store instances
 * (other hosts) on the same database to this store's watches, exactly once each.
 *
 * - Writers `NOTIFY` the channel {@link NOTIFY_CHANNEL} in their write transaction (delivered
 *   at commit); the feed `LISTEN`s on a connection of its own and polls on each notification.
 * - A poll reads rows by the writing transaction's id (`tx`, xid8) up to the *horizon*: the
 *   oldest transaction id still running (`pg_snapshot_xmin`). Every transaction below it has
 *   ended, so nothing can still appear below it: the feed's position only moves forward and
 *   no row is read twice or skipped. (`seq` alone cannot do this: a transaction that drew a
 *   smaller seq may commit after one with a larger seq was read.) The price: a write is
 *   delivered once every write transaction that began before it has ended.
 * - A notification can be lost (the LISTEN connection drops, a writer without NOTIFY): a
 *   timer polls every `pollIntervalMs` as a backstop, and a reconnect polls at once.
 * - Rows this store wrote itself were handed to its watches at commit (like the SQLite
 *   store, before the write's promise settles): the feed skips them.
 * - While the database is unreachable the feed retries with backoff and {@link health} says so.
 */
import type { Attestation } from "@qntx/protocol";
import type pg from "pg";
import { ATTESTATION_COLUMNS, rowToAttestation, type AttestationRow } from "./codec.js";
import { backoffMs, createClient, isConnectionError, maskUrl, reasonOf, type PgPoolOptions } from "./pg-connection.js";
import type { StoreHealth } from "./store.js";
import type { WatchRegistry } from "./watchers.js";

/** The channel writers notify; the payload is the first new seq (informative only). */
export const NOTIFY_CHANNEL = "qntx_attestations";

/** Where the store reports background events (a lost database, its return). */
export type StoreLog = (level: "info" | "warn", message: string) => void;

/** Options of the feed. */
export interface FeedOptions {
  /** Backstop poll interval in ms (a lost notification waits at most this). Default 2000. */
  readonly pollIntervalMs?: number;
  readonly log?: StoreLog;
  readonly connection?: PgPoolOptions;
}

/** Rows read per poll query. */
const PAGE = 500;

const HORIZON_SQL = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x";
const PAGE_SQL = `SELECT ${ATTESTATION_COLUMNS}, a.tx::text AS tx FROM attestations AS a
WHERE (a.tx, a.seq) > ($1::xid8, $2::bigint) AND a.tx < $3::xid8
ORDER BY a.tx, a.seq LIMIT ${PAGE}`;

/** See the module comment. */
export class WatchFeed {
  /** Everything before (tx, seq) has been read. */
  private position = { tx: 0n, seq: 0 };
  /** Rows written through this store, already delivered: seq → tx (dropped once behind the horizon). */
  private readonly local = new Map<number, bigint>();
  private listener: pg.Client | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private pollFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollRetryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private down: { since: number; detail: string } | undefined;
  private readonly log: StoreLog;

  /**
   * @param pool the store's pool (polls run on it)
   * @param url the database, for the LISTEN connection and messages
   * @param watches the store's watches
   * @param wall unix ms, to leave out attestations that expired before they were delivered
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly watches: WatchRegistry,
    private readonly wall: () => number,
    private readonly options: FeedOptions = {},
  ) {
    this.log = options.log ?? ((level, message) => (level === "warn" ? console.warn : console.info)(`ats: ${message}`));
  }

  /**
   * Starts at the current horizon (rows committed before are not news) and listens.
   * @throws the driver's error when the database cannot be reached
   */
  async start(): Promise<void> {
    const { rows } = await this.pool.query<{ x: string }>(HORIZON_SQL);
    this.position = { tx: BigInt(rows[0]!.x), seq: 0 };
    await this.connectListener();
    this.timer = setInterval(() => this.requestPoll(), this.options.pollIntervalMs ?? 2000);
    this.timer.unref();
  }

  /** Records rows this store is about to commit, so the feed does not deliver them again. */
  markLocal(rows: readonly { seq: number; tx: bigint }[]): void {
    for (const { seq, tx } of rows) this.local.set(seq, tx);
  }

  /** Forgets rows of a write that failed (they never commit; or, if they did, the feed delivers them). */
  forgetLocal(rows: readonly { seq: number }[]): void {
    for (const { seq } of rows) this.local.delete(seq);
  }

  /** Hands attestations this store committed to its watches. */
  deliver(attestations: readonly Attestation[]): void {
    this.watches.deliver(attestations, this.wall());
  }

  /** Polls now, or once more after the poll under way. */
  requestPoll(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = this.pollLoop().finally(() => (this.polling = undefined));
  }

  /** Unhealthy while the database is unreachable; see {@link StoreHealth}. */
  health(): StoreHealth {
    return this.down ? { healthy: false, detail: this.down.detail, since: this.down.since } : { healthy: true };
  }

  /** Records that the database could not be reached (by the feed or by a store call). */
  markDown(err: unknown): void {
    if (this.stopped) return;
    const detail = `attestation database at ${maskUrl(this.url)} unreachable: ${reasonOf(err)}; retrying with backoff (watches catch up when it is back)`;
    if (!this.down) this.log("warn", detail);
    this.down = { since: this.down?.since ?? Date.now(), detail };
  }

  /** Stops listening and polling; waits for a poll under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.pollRetryTimer);
    await this.polling;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  private async connectListener(): Promise<void> {
    const client = createClient(this.url, this.options.connection);
    client.on("notification", () => this.requestPoll());
    client.on("error", (err) => this.lostListener(client, err));
    client.on("end", () => this.lostListener(client, new Error("the LISTEN connection ended")));
    try {
      await client.connect();
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) return void (await client.end().catch(() => undefined));
    this.listener = client;
  }

  private lostListener(client: pg.Client, err: unknown): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    void client.end().catch(() => undefined);
    this.markDown(err);
    this.reconnect(1);
  }

  private reconnect(attempt: number): void {
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(() => {
      this.connectListener().then(
        // Notifications sent while it was away are lost: read what they announced.
        () => this.requestPoll(),
        (err: unknown) => {
          this.markDown(err);
          this.reconnect(attempt + 1);
        },
      );
    }, backoffMs(attempt, 250));
    this.reconnectTimer.unref();
  }

  private async pollLoop(): Promise<void> {
    do {
      this.again = false;
      await this.pollOnce();
    } while (this.again && !this.stopped);
  }

  private async pollOnce(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ x: string }>(HORIZON_SQL);
      const horizon = BigInt(rows[0]!.x);
      // Without watches nothing needs reading: just move past what is settled.
      if (this.watches.size > 0) await this.readUpTo(horizon);
      if (horizon > this.position.tx) this.position = { tx: horizon, seq: 0 };
      for (const [seq, tx] of this.local) if (tx < horizon) this.local.delete(seq);
      this.pollFailures = 0;
      if (this.down && this.listener) {
        this.log("info", `attestation database at ${maskUrl(this.url)} reachable again`);
        this.down = undefined;
      }
    } catch (err) {
      if (this.stopped) return;
      if (!isConnectionError(err)) return void this.log("warn", `watch feed poll failed: ${reasonOf(err)}`);
      this.markDown(err);
      // The backstop timer keeps polling too; this brings the first retries sooner. (Without
      // a listener, its reconnect polls as soon as the database answers.)
      clearTimeout(this.pollRetryTimer);
      if (!this.listener) return;
      this.pollRetryTimer = setTimeout(() => this.requestPoll(), backoffMs(++this.pollFailures, 250));
      this.pollRetryTimer.unref();
    }
  }

  /** Delivers every row below `horizon` after the position, page by page, in (tx, seq) order. */
  private async readUpTo(horizon: bigint): Promise<void> {
    for (;;) {
      const { rows } = await this.pool.query<AttestationRow & { tx: string }>(PAGE_SQL, [
        this.position.tx.toString(), this.position.seq, horizon.toString(),
      ]);
      const fresh: Attestation[] = [];
      for (const row of rows) {
        this.position = { tx: BigInt(row.tx), seq: row.seq };
        if (!this.local.has(row.seq)) fresh.push(rowToAttestation(row));
      }
      this.deliver(fresh);
      if (rows.length < PAGE || this.stopped) return;
    }
  }
}
