/**
 * Live job progress: `ctx.progress()` pushes to the host's queue with `UpdateJob`, throttled
 * so a handler reporting in a tight loop does not flood the host.
 */
import type { Logger } from "./log.js";

/** One progress report. */
export interface ProgressValue {
  current: number;
  total: number;
}

/** Smallest gap between two pushes: at most ~10 a second. */
export const PROGRESS_MIN_INTERVAL_MS = 100;

/**
 * Coalesces progress reports: at most one push in flight, at most one per `minIntervalMs`,
 * and the latest value is always sent eventually (intermediate ones may be skipped).
 * Push failures are logged at debug: progress is advisory, the answer carries the final value.
 */
export class ProgressPusher {
  private pending: ProgressValue | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = -Infinity;
  private stopped = false;

  constructor(
    private readonly send: (value: ProgressValue) => Promise<void>,
    private readonly log: Logger,
    private readonly minIntervalMs = PROGRESS_MIN_INTERVAL_MS,
  ) {}

  /** Records `value` as the latest report and pushes it when the throttle allows. */
  push(value: ProgressValue): void {
    if (this.stopped) return;
    this.pending = value;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.inFlight || this.timer || !this.pending) return;
    const wait = this.lastSentAt + this.minIntervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    this.sendPending();
  }

  private sendPending(): void {
    const value = this.pending!;
    this.pending = undefined;
    this.lastSentAt = Date.now();
    this.inFlight = this.send(value)
      .catch((err: unknown) => this.log.debug("progress push failed", { err }))
      .finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
  }

  /**
   * Stops, after sending the pending report at once (the rate limit no longer matters) and
   * waiting up to `timeoutMs` for pushes in flight. Called before the job's answer goes out,
   * so a late "running" update cannot land after the host recorded the job's end.
   */
  async finish(timeoutMs: number): Promise<void> {
    // Stopped first: no new reports, and the throttle's timer and `schedule` stay quiet.
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Nothing left to send or wait for: no drain, no timer.
    if (!this.inFlight && !this.pending) return;
    let timeout: NodeJS.Timeout | undefined;
    const drain = (async () => {
      if (this.inFlight) await this.inFlight;
      if (this.pending) this.sendPending();
      if (this.inFlight) await this.inFlight;
    })();
    await Promise.race([drain, new Promise<void>((resolve) => (timeout = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timeout);
    this.pending = undefined;
  }

  /** Stops at once; pending reports are dropped. */
  stop(): void {
    this.stopped = true;
    this.pending = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
