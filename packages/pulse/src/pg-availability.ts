/**
 * Whether Pulse's database can be reached, and what the PostgreSQL job store does while it
 * cannot: the first connection error is logged once and marks the database down; while down,
 * polling work (claims, lease expiry) waits for its next retry time, doubling from 100 ms up to
 * 5 s, instead of failing every tick — jobs pause, none is failed for it; a run's ending is
 * retried until it is written (its job stays leased to this host meanwhile). The first success
 * marks it back, logged once. {@link health} is what the host shows.
 */
import { isConnectionError, QntxError, reasonOf } from "@qntx/protocol";
import { backoffDelay } from "./backoff.js";
import type { PulseLogger } from "./logger.js";

/** Whether the database is reachable, as the host's health shows it. */
export interface DatabaseHealth {
  readonly healthy: boolean;
  /** Why not, and what happens meanwhile. */
  readonly detail?: string;
  /** Unix ms since when it has been unreachable. */
  readonly since?: number;
}

/** How long a run's ending is retried before it is given up (its lease then expires and it runs again). */
const WRITE_RETRY_MS = 10 * 60_000;

/** See the module comment. */
export class DatabaseAvailability {
  private down: { since: number; detail: string; failures: number; retryAt: number } | undefined;

  constructor(private readonly log: PulseLogger) {}

  /** True while the database is down and its next retry is not due: skip polling work. */
  waiting(): boolean {
    return this.down !== undefined && Date.now() < this.down.retryAt;
  }

  /**
   * Runs `work`: a success marks the database up; a connection error marks it down and is
   * rethrown as QntxError `DATABASE_UNAVAILABLE` (503 to a client), the driver's error its cause.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      const out = await work();
      this.up();
      return out;
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.lost(err);
      throw new QntxError("DATABASE_UNAVAILABLE", this.down!.detail, { cause: err, hint: "the host retries by itself; check that PostgreSQL runs and is reachable from this host" });
    }
  }

  /** Runs `work`, retried through connection errors with backoff for up to `forMs` (default 10 minutes). */
  async retry<T>(work: () => Promise<T>, forMs = WRITE_RETRY_MS): Promise<T> {
    const giveUp = Date.now() + forMs;
    for (;;) {
      try {
        return await this.run(work);
      } catch (err) {
        if (!(err instanceof QntxError && err.code === "DATABASE_UNAVAILABLE") || Date.now() >= giveUp) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.down!.retryAt - Date.now())));
      }
    }
  }

  /** See {@link DatabaseHealth}. */
  health(): DatabaseHealth {
    return this.down ? { healthy: false, detail: this.down.detail, since: this.down.since } : { healthy: true };
  }

  private lost(err: unknown): void {
    const now = Date.now();
    const failures = (this.down?.failures ?? 0) + 1;
    const retryAt = now + backoffDelay(failures, { baseMs: 100, maxMs: 5000, jitter: false });
    if (this.down) {
      this.down = { ...this.down, failures, retryAt };
      return;
    }
    const detail = `Pulse's database is unreachable (${reasonOf(err)}): jobs pause, retrying with backoff`;
    this.down = { since: now, detail, failures, retryAt };
    this.log.warn({ err: reasonOf(err) }, `pulse: ${detail}`);
  }

  private up(): void {
    if (!this.down) return;
    this.log.info({ downMs: Date.now() - this.down.since }, "pulse: the database is back; jobs resume");
    this.down = undefined;
  }
}
