/**
 * Waking hosts when another host enqueues: one connection per store LISTENs on
 * {@link JOBS_CHANNEL}; each notification (sent at the enqueue's commit, payload the earliest
 * run time) is handed to the subscribers — the worker pool, which claims at once or arms a
 * timer. A notification can be lost (the connection drops): it reconnects with backoff and
 * tells subscribers "something may have been missed" (no run time), and the pool's own poll
 * is the backstop either way.
 */
import pg from "pg";
import { backoffDelay } from "./backoff.js";
import type { PulseLogger } from "./logger.js";
import { JOBS_CHANNEL } from "./pg-job-statements.js";

/** Called with the earliest run time of new jobs, or undefined when notifications may have been missed. */
export type NewJobsListener = (runAt: number | undefined) => void;

/** See the module comment. */
export class JobListener {
  private readonly listeners = new Set<NewJobsListener>();
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly log: PulseLogger,
  ) {}

  /** Connects and LISTENs. @throws the connection's error (the caller's start fails with it). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Adds a subscriber; returns its removal. */
  subscribe(listener: NewJobsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends the connection and any reconnect. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: "qntx-pulse-listen", connectionTimeoutMillis: 5000 });
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (n) => {
      const runAt = Number(n.payload);
      this.emit(Number.isFinite(runAt) ? runAt : undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${JOBS_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  /** The LISTEN connection dropped: reconnect with backoff; once back, subscribers re-check. */
  private lost(client: pg.Client): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.removeAllListeners("end");
    client.end().catch(() => undefined);
    this.log.warn({}, "pulse: job notifications lost; reconnecting (the poll still finds new jobs)");
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    const delay = backoffDelay(++this.failures, { baseMs: 100, maxMs: 5000, jitter: false });
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.log.info({ attempts: this.failures }, "pulse: job notifications back");
          this.failures = 0;
          this.emit(undefined);
        },
        () => this.retry(),
      );
    }, delay);
    this.retryTimer.unref();
  }

  private emit(runAt: number | undefined): void {
    for (const l of this.listeners) l(runAt);
  }
}
