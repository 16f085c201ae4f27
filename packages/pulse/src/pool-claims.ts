import type { ClaimRequest } from "./job-store.js";
import type { Dispatcher } from "./pool-dispatch.js";
import { eligibleHandlers, type PoolCore } from "./pool-settings.js";
import type { PulseJob } from "./types.js";

/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Claiming: when to ask the store for jobs and how many. `wake()` claims on the next microtask
 * (coalesced); a delayed job arms `wakeAt`; the hot paths claim inside the finisher's or an
 * enqueue's transaction instead (`claimInside`). One claim is in flight at a time, so the pool
 * never holds more than its limit.
 */
export class Claims {
  /** True between start and the beginning of stop. */
  active = false;
  private filling = false;
  private refill = false;
  private fillQueued = false;
  private fillDone: Promise<void> = Promise.resolve();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = Infinity;

  constructor(
    private readonly core: PoolCore,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** Resolves when no claim of the fill loop is in flight. */
  get settled(): Promise<void> {
    return this.fillDone;
  }

  /** Claims now if slots are free (coalesced: many calls in one tick make one claim). */
  wake(): void {
    if (!this.active || this.fillQueued) return;
    this.fillQueued = true;
    queueMicrotask(() => {
      this.fillQueued = false;
      void this.fill();
    });
  }

  /** Wakes the pool at `at` (unix ms), e.g. when a delayed job becomes due. */
  wakeAt(at: number): void {
    if (!this.active) return;
    const delay = at - this.core.clock.now();
    if (delay <= 0) return this.wake();
    if (at >= this.wakeTimerAt) return; // an earlier wake-up is armed; it re-arms for the rest via armNextRun
    this.clearWakeTimer();
    this.wakeTimerAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeTimerAt = Infinity;
      this.wake();
      void this.armNextRun();
    }, Math.min(delay, MAX_TIMER_MS));
  }

  /**
   * Arms the wake-up timer for the earliest delayed job in the store (at start, and when a
   * wake-up fired: jobs delayed by another process or before a restart run on time too).
   */
  async armNextRun(): Promise<void> {
    try {
      const next = await this.core.store.nextRunAt(this.core.clock.now(), eligibleHandlers(this.core));
      if (next !== undefined) this.wakeAt(next);
    } catch (err) {
      this.core.log.error({ err }, "pulse: reading the next run time failed");
    }
  }

  /** Claims for the free slots until the store has no more (or a claim is already running: it loops again). */
  fill(): Promise<void> {
    if (this.filling) {
      this.refill = true;
      return this.fillDone;
    }
    this.filling = true;
    this.fillDone = this.fillLoop();
    return this.fillDone;
  }

  /**
   * A claim to make inside another transaction (undefined: none): the finisher's (sized for
   * the free slots plus, with `ahead`, the jobs to keep ready; `credit`: see
   * Dispatcher.claimSizes) or an enqueue's (free slots). Call `claimedInside` with its outcome.
   */
  claimInside(ahead: boolean, credit = 0): ClaimRequest | undefined {
    if (this.filling) return undefined;
    const req = this.request(ahead ? this.dispatcher.takeAhead() : 0, credit);
    if (req) this.filling = true;
    return req;
  }

  /** Ends a claim made inside another transaction: hands the claimed jobs (if it committed) to the dispatcher. */
  claimedInside(claimed: readonly PulseJob[] | undefined): void {
    this.filling = false;
    if (claimed) this.dispatcher.accept(claimed);
    // A wake() while the other transaction claimed: claim again for what it may have missed.
    if (this.refill) void this.fill();
  }

  /** Stops timers (the pool stops). */
  stop(): void {
    this.active = false;
    this.clearWakeTimer();
  }

  private async fillLoop(): Promise<void> {
    try {
      for (;;) {
        this.refill = false;
        const req = this.request(0, 0);
        if (!req) break;
        const jobs = await this.core.store.claim(req.owner, req.limit, req.leaseMs, this.core.clock.now(), req.handlers);
        this.dispatcher.accept(jobs);
        if (jobs.length < req.limit && !this.refill) break;
      }
    } catch (err) {
      this.core.log.error({ err }, "pulse: claiming jobs failed");
    } finally {
      this.filling = false;
    }
  }

  /** What to claim now (undefined: nothing): see Dispatcher.claimSizes, for the handlers whose plugin is available. */
  private request(ahead: number, credit: number): ClaimRequest | undefined {
    if (!this.active) return undefined;
    const { start, reserve } = this.dispatcher.claimSizes(ahead, credit);
    if (start + reserve <= 0) return undefined;
    const handlers = eligibleHandlers(this.core);
    if (handlers.length === 0) return undefined;
    return { owner: this.core.owner, limit: start, reserve, leaseMs: this.core.leaseMs, handlers };
  }

  private clearWakeTimer(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeTimerAt = Infinity;
  }
}
