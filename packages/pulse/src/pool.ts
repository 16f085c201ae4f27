import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import type { JobLogEntry } from "@qntx/protocol";
import { backoffDelay, type BackoffOptions } from "./backoff.js";
import type { HandlerRegistry } from "./handlers.js";
import type { ClaimRequest, Fence, FinishOp, JobStore, RunOutput } from "./job-store.js";
import { silentLogger, systemClock, type Clock, type PulseLogger } from "./logger.js";
import type { PulseJob } from "./types.js";
import { abortReason, errorMessage, outputOf, type Executor, type ExecutorResult, type PulseEvents } from "./executor.js";

export type { Executor, ExecutorCall, ExecutorResult, PulseEvents } from "./executor.js";

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  store: JobStore;
  handlers: HandlerRegistry;
  executor: Executor;
  /** Jobs run at once. Default 4. */
  concurrency?: number;
  /** Lease length (ms), renewed every leaseMs/3 while a job runs. Default 30,000. */
  leaseMs?: number;
  /** Timeout of jobs that do not set one. Default 300. */
  defaultTimeoutSecs?: number;
  /** Default `max_attempts` of new jobs (used by the facade at enqueue). Default 3. */
  maxAttempts?: number;
  /** Retry backoff. Defaults: base 1 s, cap 60 s, jitter. */
  backoff?: BackoffOptions;
  /** Fallback poll (ms) for delayed retries and expired leases; enqueue wakes the pool at once. Default 1000. */
  pollMs?: number;
  /** Jobs of plugins for which this returns false are not claimed: they wait (call `wake()` when it changes). */
  isAvailable?: (plugin: string) => boolean;
  logger?: PulseLogger;
  clock?: Clock;
  /** Lease owner id. Default: `pulse-<pid>-<random>` (unique per pool). */
  owner?: string;
  /** Emitter for 'job' events (the facade passes its own). */
  events?: EventEmitter<PulseEvents>;
}

type Ending =
  | { kind: "response"; res: ExecutorResult }
  | { kind: "error"; err: unknown }
  | { kind: "timeout" }
  | { kind: "cancel" }
  | { kind: "stop" }
  | { kind: "lost" };

interface Run {
  job: PulseJob;
  fence: Fence;
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  timeoutSecs: number;
  settled: boolean;
}

/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A new lease-owner id: unique per process and per pool, so a restarted host never mistakes old leases for its own. */
export function newOwnerId(): string {
  return `pulse-${process.pid}-${randomBytes(6).toString("hex")}`;
}

/**
 * Claims jobs with a lease and runs them through the executor, `concurrency` at a time.
 *
 * Throughput path: one claim statement fills every free slot; run endings are buffered and
 * written in one transaction per event-loop turn (setImmediate), which then refills the slots.
 * Enqueue calls `wake()` (claim on the next microtask); `pollMs` is only a fallback for
 * delayed retries, expired leases and other processes' jobs.
 */
export class WorkerPool {
  readonly events: EventEmitter<PulseEvents>;
  readonly owner: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly defaultTimeoutSecs: number;
  readonly maxAttempts: number;
  readonly pollMs: number;
  private readonly store: JobStore;
  private readonly handlers: HandlerRegistry;
  private readonly executor: Executor;
  private readonly backoff: BackoffOptions;
  private readonly isAvailable: ((plugin: string) => boolean) | undefined;
  private readonly log: PulseLogger;
  private readonly clock: Clock;

  private readonly runs = new Map<string, Run>();
  private pending: FinishOp[] = [];
  private started = false;
  private stopping = false;
  private fillQueued = false;
  private filling = false;
  private refill = false;
  private flushQueued = false;
  private flushing: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeTimerAt = Infinity;
  private idleWaiters: (() => void)[] = [];
  private fillDone: Promise<void> = Promise.resolve();

  constructor(options: WorkerPoolOptions) {
    this.store = options.store;
    this.handlers = options.handlers;
    this.executor = options.executor;
    this.concurrency = positiveInt(options.concurrency ?? 4, "concurrency");
    this.leaseMs = positiveInt(options.leaseMs ?? 30_000, "leaseMs");
    this.defaultTimeoutSecs = positive(options.defaultTimeoutSecs ?? 300, "defaultTimeoutSecs");
    this.maxAttempts = positiveInt(options.maxAttempts ?? 3, "maxAttempts");
    this.pollMs = positiveInt(options.pollMs ?? 1000, "pollMs");
    this.backoff = { baseMs: 1000, maxMs: 60_000, jitter: true, ...options.backoff };
    this.isAvailable = options.isAvailable;
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.owner = options.owner ?? newOwnerId();
    this.events = options.events ?? new EventEmitter<PulseEvents>();
  }

  /** Number of jobs this pool is running now. */
  get active(): number {
    return this.runs.size;
  }

  /** True between start() and the end of stop(). */
  get isRunning(): boolean {
    return this.started;
  }

  /** Starts claiming: expires stale leases, arms the fallback poll and the lease renewal, fills the slots. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    void this.poll().then(() => this.armNextRun());
  }

  /**
   * Stops claiming and waits up to `graceMs` for running jobs; the ones still running are then
   * aborted and released back to `queued` (the attempt is not counted), so nothing is lost.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    clearInterval(this.pollTimer);
    this.clearWakeTimer();
    if (this.runs.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const run of [...this.runs.values()]) this.settle(run, { kind: "stop" });
    await this.fillDone;
    while (this.pending.length > 0 || this.flushing) await this.flushNow();
    clearInterval(this.renewTimer);
    this.clearWakeTimer();
    this.started = false;
    this.stopping = false;
  }

  /** Claims now if slots are free (coalesced: many calls in one tick make one claim). */
  wake(): void {
    if (!this.started || this.stopping || this.fillQueued) return;
    this.fillQueued = true;
    queueMicrotask(() => {
      this.fillQueued = false;
      void this.fill();
    });
  }

  /** Wakes the pool at `at` (unix ms), e.g. when a delayed job becomes due. */
  wakeAt(at: number): void {
    if (!this.started || this.stopping) return;
    const delay = at - this.clock.now();
    if (delay <= 0) return this.wake();
    if (at >= this.wakeTimerAt) return; // an earlier wake-up is armed; it re-arms for the rest via the claim
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
   * Cancels a job. Queued or paused: cancelled at once. Running here: its signal is aborted and
   * it is recorded `cancelled` before this resolves. Running in another process: marked, and its
   * owner aborts it at its next lease renewal. Never retried.
   */
  async cancel(id: string): Promise<PulseJob> {
    const now = this.clock.now();
    const job = await this.store.requestCancel(id, now);
    const run = this.runs.get(id);
    if (job.status === "running" && run && run.fence.attempt === job.attempts) {
      return this.cancelRun(run, "cancelled");
    }
    this.emit(job);
    return job;
  }

  private async cancelRun(run: Run, reason: string): Promise<PulseJob> {
    this.settle(run, { kind: "cancel" });
    const [done] = await this.store.finish([{ kind: "cancel", fence: run.fence, job: run.job, reason }], this.clock.now());
    const job = done ?? (await this.store.get(run.job.id)) ?? run.job;
    this.emit(job);
    this.wake();
    return job;
  }

  private emit(job: PulseJob): void {
    this.events.emit("job", job);
  }

  /** Qualified handlers whose plugin is available. */
  private eligible(): string[] {
    const all = this.handlers.list();
    const out: string[] = [];
    for (const e of all) if (!this.isAvailable || this.isAvailable(e.plugin)) out.push(e.qualified);
    return out;
  }

  private fill(): Promise<void> {
    if (this.filling) {
      this.refill = true;
      return this.fillDone;
    }
    this.filling = true;
    this.fillDone = this.fillLoop();
    return this.fillDone;
  }

  private async fillLoop(): Promise<void> {
    try {
      for (;;) {
        this.refill = false;
        const req = this.claimRequest();
        if (!req) break;
        const jobs = await this.store.claim(req.owner, req.limit, req.leaseMs, this.clock.now(), req.handlers);
        this.startClaimed(jobs);
        if (jobs.length < req.limit && !this.refill) break;
      }
    } catch (err) {
      this.log.error({ err }, "pulse: claiming jobs failed");
    } finally {
      this.filling = false;
    }
  }

  /** What to claim now: every free slot, for the handlers whose plugin is available (undefined: nothing). */
  private claimRequest(): ClaimRequest | undefined {
    const free = this.concurrency - this.runs.size;
    if (!this.started || this.stopping || free <= 0) return undefined;
    const handlers = this.eligible();
    if (handlers.length === 0) return undefined;
    return { owner: this.owner, limit: free, leaseMs: this.leaseMs, handlers };
  }

  private startClaimed(jobs: readonly PulseJob[]): void {
    if (this.stopping) {
      // Claimed while stop() began: give them straight back.
      for (const job of jobs) this.pending.push({ kind: "release", fence: fenceOf(job, this.owner), job });
      if (jobs.length) this.scheduleFlush();
      return;
    }
    for (const job of jobs) {
      this.emit(job);
      this.start1(job);
    }
  }

  /** Runs one claimed job. */
  private start1(job: PulseJob): void {
    const timeoutSecs = job.timeoutSecs ?? this.defaultTimeoutSecs;
    const run: Run = {
      job,
      fence: fenceOf(job, this.owner),
      controller: new AbortController(),
      timer: undefined,
      timeoutSecs,
      settled: false,
    };
    this.runs.set(job.id, run);
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.round(timeoutSecs * 1000)));
    run.timer = setTimeout(() => this.settle(run, { kind: "timeout" }), ms);
    let p: Promise<ExecutorResult>;
    try {
      // Promise.resolve: a built-in plugin's executor may answer synchronously.
      p = Promise.resolve(this.executor(job, {
        handlerName: job.handlerName,
        timeoutSecs,
        deadline: this.clock.now() + ms,
        signal: run.controller.signal,
        attempt: job.attempts,
      }));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => this.settle(run, { kind: "response", res }),
      (err: unknown) => this.settle(run, { kind: "error", err }),
    );
  }

  /** Ends a run exactly once, whatever comes first (response, throw, timeout, cancel, stop, lease loss). */
  private settle(run: Run, end: Ending): void {
    if (run.settled) return;
    run.settled = true;
    clearTimeout(run.timer);
    if (this.runs.get(run.job.id) === run) this.runs.delete(run.job.id);
    const { job, fence } = run;
    switch (end.kind) {
      case "response":
        if (end.res.success) this.pending.push({ kind: "complete", fence, job, output: outputOf(end.res) });
        else this.pending.push(this.failOp(run, end.res.error || "the handler reported failure without an error message", outputOf(end.res)));
        break;
      case "error":
        this.pending.push(this.failOp(run, errorMessage(end.err)));
        break;
      case "timeout":
        run.controller.abort(abortReason("TimeoutError", `job ${job.id} timed out after ${run.timeoutSecs}s`));
        this.pending.push(this.failOp(run, `timed out after ${run.timeoutSecs}s`));
        break;
      case "cancel":
        run.controller.abort(abortReason("AbortError", `job ${job.id} was cancelled`));
        break;
      case "stop":
        run.controller.abort(abortReason("AbortError", `the worker pool stopped while job ${job.id} ran; it goes back to the queue`));
        this.pending.push({ kind: "release", fence, job });
        break;
      case "lost":
        run.controller.abort(abortReason("AbortError", `job ${job.id}: lease lost (expired and taken over)`));
        this.log.warn({ jobId: job.id, handler: job.handler }, "pulse: lease lost while running; aborted the local run");
        break;
    }
    this.scheduleFlush();
  }

  private failOp(run: Run, error: string, output?: RunOutput): FinishOp {
    const { job, fence } = run;
    const now = this.clock.now();
    const retry = fence.attempt < job.maxAttempts;
    const delay = retry ? backoffDelay(fence.attempt, this.backoff) : 0;
    const note: JobLogEntry = {
      timestamp: new Date(now).toISOString(),
      level: retry ? "warn" : "error",
      message: retry
        ? `attempt ${fence.attempt} of ${job.maxAttempts} failed: ${error}; retrying in ${delay} ms`
        : `attempt ${fence.attempt} of ${job.maxAttempts} failed: ${error}; giving up`,
      stage: "pulse",
      metadata: "",
    };
    this.log.warn({ jobId: job.id, handler: job.handler, attempt: fence.attempt, error }, retry ? "pulse: job failed, will retry" : "pulse: job failed");
    return {
      kind: "fail",
      fence,
      job,
      error,
      retryAt: retry ? now + delay : undefined,
      output: { ...output, logs: [...(output?.logs ?? []), note] },
    };
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      void this.flushNow(true).then((needFill) => {
        if (needFill) void this.fill();
      });
    });
  }

  /**
   * Writes every buffered run ending in one transaction and, with `withClaim`, refills the
   * freed slots in that same transaction (one commit per event-loop turn on the hot path).
   * @returns true when a separate claim is still worth trying.
   */
  private async flushNow(withClaim = false): Promise<boolean> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) {
      this.checkIdle();
      return true;
    }
    const ops = this.pending;
    this.pending = [];
    const req = withClaim && !this.filling ? this.claimRequest() : undefined;
    if (req) this.filling = true;
    let needFill = true;
    this.flushing = (async () => {
      try {
        const { finished, claimed } = await this.store.finishAndClaim(ops, req, this.clock.now());
        for (const j of finished) {
          this.emit(j);
          if (j.status === "queued") this.wakeAt(j.runAt);
        }
        if (req) {
          this.startClaimed(claimed);
          needFill = false;
        }
      } catch (err) {
        // The leases of these jobs expire and they run again: nothing is lost.
        this.log.error({ err, jobs: ops.map((o) => o.fence.id) }, "pulse: recording job outcomes failed");
      } finally {
        if (req) this.filling = false;
      }
    })();
    await this.flushing;
    this.flushing = undefined;
    this.checkIdle();
    return needFill || this.refill;
  }

  private checkIdle(): void {
    if (this.runs.size > 0 || this.pending.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Fallback tick: expire leases (re-queued jobs are then claimed), fill. */
  private async poll(): Promise<void> {
    try {
      const expired = await this.store.expireLeases(this.clock.now());
      for (const job of expired) {
        const mine = this.runs.get(job.id);
        if (mine) this.settle(mine, { kind: "lost" });
        this.emit(job);
      }
    } catch (err) {
      this.log.error({ err }, "pulse: poll failed");
    }
    await this.fill();
  }

  /**
   * Arms the wake-up timer for the earliest delayed job in the store (at start, and when a
   * wake-up fired: jobs delayed by another process or before a restart run on time too).
   */
  private async armNextRun(): Promise<void> {
    try {
      const next = await this.store.nextRunAt(this.clock.now(), this.eligible());
      if (next !== undefined) this.wakeAt(next);
    } catch (err) {
      this.log.error({ err }, "pulse: reading the next run time failed");
    }
  }

  /** Renews the leases of every running job in one transaction; aborts lost ones, ends cancelled ones. */
  private async renew(): Promise<void> {
    if (this.runs.size === 0) return;
    const runs = [...this.runs.values()];
    try {
      const res = await this.store.renewLeases(this.owner, runs.map((r) => r.fence), this.leaseMs, this.clock.now());
      for (const id of res.lost) {
        const run = this.runs.get(id);
        if (run) this.settle(run, { kind: "lost" });
      }
      for (const id of res.cancelRequested) {
        const run = this.runs.get(id);
        if (run) await this.cancelRun(run, "cancelled");
      }
    } catch (err) {
      this.log.error({ err }, "pulse: renewing leases failed");
    }
  }

  private clearWakeTimer(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeTimerAt = Infinity;
  }
}

function fenceOf(job: PulseJob, owner: string): Fence {
  return { id: job.id, owner, attempt: job.attempts };
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

function positive(n: number, name: string): number {
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}
