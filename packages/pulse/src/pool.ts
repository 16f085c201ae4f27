import { EventEmitter } from "node:events";
import type { PulseEvents } from "./events.js";
import { silentLogger, systemClock } from "./logger.js";
import { Cancellation } from "./pool-cancel.js";
import { Claims } from "./pool-claims.js";
import { Dispatcher } from "./pool-dispatch.js";
import { Finisher } from "./pool-finish.js";
import { Leases } from "./pool-leases.js";
import { newOwnerId, nonNegative, positive, positiveInt, type PoolCore, type WorkerPoolOptions } from "./pool-settings.js";
import type { ClaimRequest } from "./job-store.js";
import type { PulseJob } from "./types.js";

export type { Executor, ExecutorCall, ExecutorResult } from "./executor.js";
export type { PulseEvents } from "./events.js";
export { newOwnerId, type WorkerPoolOptions } from "./pool-settings.js";

/**
 * Claims jobs with a lease and runs them through the executor, `concurrency` at a time: at no
 * point are more than `concurrency` executor calls in flight or more than `concurrency` of its
 * jobs `running` in the store (see {@link Dispatcher}).
 *
 * The parts, one file each: {@link Claims} (when and how much to claim: enqueue wakes the pool
 * at once, a timer wakes it for delayed jobs, `pollMs` is only a fallback), {@link Dispatcher}
 * (runs and the jobs claimed ahead, each run ended exactly once), {@link Finisher} (run
 * endings written in one transaction per event-loop turn, together with the claim that
 * refills the slots), {@link Leases} (renewal, lost leases, expiry) and {@link Cancellation}.
 */
export class WorkerPool {
  readonly events: EventEmitter<PulseEvents>;
  readonly owner: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly defaultTimeoutSecs: number;
  readonly maxAttempts: number;
  readonly pollMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly claims: Claims;
  private readonly finisher: Finisher;
  private readonly leases: Leases;
  private readonly cancellation: Cancellation;
  private started = false;

  constructor(options: WorkerPoolOptions) {
    this.concurrency = positiveInt(options.concurrency ?? 4, "concurrency");
    this.leaseMs = positiveInt(options.leaseMs ?? 30_000, "leaseMs");
    this.defaultTimeoutSecs = positive(options.defaultTimeoutSecs ?? 300, "defaultTimeoutSecs");
    this.maxAttempts = positiveInt(options.maxAttempts ?? 3, "maxAttempts");
    this.pollMs = positiveInt(options.pollMs ?? 1000, "pollMs");
    this.owner = options.owner ?? newOwnerId();
    const events = (this.events = options.events ?? new EventEmitter<PulseEvents>());
    const core: PoolCore = {
      store: options.store,
      handlers: options.handlers,
      executor: options.executor,
      owner: this.owner,
      concurrency: this.concurrency,
      leaseMs: this.leaseMs,
      defaultTimeoutSecs: this.defaultTimeoutSecs,
      backoff: { baseMs: 1000, maxMs: 60_000, jitter: true, ...options.backoff },
      isAvailable: options.isAvailable,
      fastRunMs: nonNegative(options.fastRunMs ?? 20, "fastRunMs"),
      readyMaxMs: positive(options.readyMaxMs ?? 250, "readyMaxMs"),
      log: options.logger ?? silentLogger,
      clock: options.clock ?? systemClock,
      emit: (job) => events.emit("job", job),
      events,
    };
    this.finisher = new Finisher(core);
    this.dispatcher = new Dispatcher(core, this.finisher);
    this.claims = new Claims(core, this.dispatcher);
    this.finisher.claims = this.claims;
    this.finisher.dispatcher = this.dispatcher;
    this.cancellation = new Cancellation(core, this.dispatcher, this.claims);
    this.leases = new Leases(core, this.dispatcher, this.claims, this.cancellation);
  }

  /** Number of jobs this pool is running now. */
  get active(): number {
    return this.dispatcher.runs.size;
  }

  /** True between start() and the end of stop(). */
  get isRunning(): boolean {
    return this.started;
  }

  /** Starts claiming: expires stale leases, arms the fallback poll and the lease renewal, fills the slots. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.dispatcher.stopping = false;
    this.claims.active = true;
    void this.leases.start(this.pollMs).then(() => this.claims.armNextRun());
  }

  /**
   * Stops claiming and waits up to `graceMs` for running jobs; the ones still running are then
   * aborted and released back to `queued` (the attempt is not counted), so nothing is lost.
   * Jobs claimed ahead and not started go back at once. Aborted calls are not waited for.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.started) return;
    this.dispatcher.stopping = true;
    this.claims.stop();
    this.leases.stopPolling();
    this.dispatcher.releaseReady();
    if (this.dispatcher.runs.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.finisher.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (const run of [...this.dispatcher.runs.values()]) this.dispatcher.settle(run, { kind: "stop" });
    await this.claims.settled;
    await this.finisher.drain();
    this.leases.stop();
    this.dispatcher.close();
    this.started = false;
    this.dispatcher.stopping = false;
  }

  /** Claims now if slots are free (coalesced: many calls in one tick make one claim). */
  wake(): void {
    this.claims.wake();
  }

  /**
   * For the facade's enqueue of jobs due now: a claim to make in the enqueue's own transaction,
   * so an idle pool starts a new job without a second commit (undefined: none; wake() after the
   * insert instead). Always follow with `claimedWithEnqueue`.
   */
  claimWithEnqueue(): ClaimRequest | undefined {
    return this.claims.claimInside(false);
  }

  /** Ends a claim made by `claimWithEnqueue`: runs the jobs it took (undefined: the transaction failed). */
  claimedWithEnqueue(claimed: readonly PulseJob[] | undefined): void {
    this.claims.claimedInside(claimed);
  }

  /** Wakes the pool at `at` (unix ms), e.g. when a delayed job becomes due. */
  wakeAt(at: number): void {
    this.claims.wakeAt(at);
  }

  /**
   * Cancels a job. Queued or paused: cancelled at once. Running here: its signal is aborted and
   * it is recorded `cancelled` before this resolves. Running in another process: marked, and its
   * owner aborts it at its next lease renewal. Never retried.
   */
  cancel(id: string): Promise<PulseJob> {
    return this.cancellation.cancel(id);
  }

  /**
   * Pauses a queued job (it is not claimed until resumed). A job this pool claimed ahead is
   * given up first, so it never starts; one claimed ahead by another process: INVALID_STATE.
   */
  pause(id: string): Promise<PulseJob> {
    return this.cancellation.pause(id);
  }
}
