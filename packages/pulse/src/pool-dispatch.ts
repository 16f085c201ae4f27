import type { ExecutorResult } from "./executor.js";
import type { Fence, FinishOp } from "./job-store.js";
import type { PoolCore } from "./pool-settings.js";
import { endRun, fenceOf, type Ending, type Run } from "./pool-run.js";
import type { PulseJob } from "./types.js";

/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A job this pool has claimed (and holds the lease of) but not started yet. */
export interface ReadyJob {
  job: PulseJob;
  fence: Fence;
  /** performance.now() at the claim. */
  claimedAt: number;
}

/** Where the dispatcher sends the store writes that end runs (batched by the finisher). */
export interface RunSink {
  /** Records `op` (when given) and schedules a flush, which also refills the freed slot. */
  ended(op?: FinishOp): void;
}

/**
 * Runs claimed jobs through the executor, `concurrency` at a time, and ends each run exactly
 * once (response, throw, timeout, cancel, stop or lost lease).
 *
 * Dispatch-ahead: besides the running jobs it keeps a list of jobs claimed ahead ("ready"),
 * and when a run ends it starts the next ready job at once, in the same turn, before the
 * ending is written. The plugin thus works on the next jobs while the host commits the last
 * ones, instead of the two taking turns (measured: one finish transaction per wave of
 * `concurrency` jobs, each process idle while the other worked). It claims ahead only as many
 * jobs as runs just ended quickly (within `fastRunMs`), so long jobs never claim ahead, and a
 * ready job not started within `readyMaxMs` is given back. A job claimed ahead is `running`
 * in the store (leased here) from its claim; its timeout and its 'running' event start when
 * its call does.
 */
export class Dispatcher {
  /** Jobs running now, by id. */
  readonly runs = new Map<string, Run>();
  /** Jobs claimed ahead, in dispatch order, by id. */
  readonly ready = new Map<string, ReadyJob>();
  /** Set while the pool stops: nothing starts, claimed jobs go straight back. */
  stopping = false;
  private fastEnds = 0;
  private staleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: PoolCore,
    private readonly sink: RunSink,
  ) {}

  /** Jobs holding a lease of this pool: running plus claimed ahead. */
  get held(): number {
    return this.runs.size + this.ready.size;
  }

  /**
   * How many jobs a claim may take now: the free slots, plus up to `ahead` (at most
   * `concurrency`) to keep ready.
   */
  claimLimit(ahead: number): number {
    return Math.max(0, this.core.concurrency + Math.min(ahead, this.core.concurrency) - this.held);
  }

  /** How far ahead the next claim may go: the runs that ended quickly since the last call. */
  takeAhead(): number {
    const n = this.fastEnds;
    this.fastEnds = 0;
    return n;
  }

  /** Takes freshly claimed jobs: starts as many as there are free slots, keeps the rest ready. */
  accept(jobs: readonly PulseJob[]): void {
    const now = performance.now();
    for (const job of jobs) {
      const fence = fenceOf(job, this.core.owner);
      if (this.stopping) this.sink.ended({ kind: "release", fence, job });
      else if (this.runs.size < this.core.concurrency) this.begin(job, fence);
      else this.ready.set(job.id, { job, fence, claimedAt: now });
    }
    if (this.ready.size > 0) this.armStale();
  }

  /** Ends a run exactly once, whatever comes first; starts the next ready job in its slot. */
  settle(run: Run, end: Ending): void {
    if (run.settled) return;
    run.settled = true;
    clearTimeout(run.timer);
    if (this.runs.get(run.job.id) === run) this.runs.delete(run.job.id);
    if (end.kind === "response" && performance.now() - run.startedAt < this.core.fastRunMs) this.fastEnds++;
    if (this.ready.size > 0 && !this.stopping) this.startReady();
    this.sink.ended(endRun(this.core, run, end));
  }

  /** Removes a ready job (cancelled, or its lease lost) and returns it. */
  takeReady(id: string): ReadyJob | undefined {
    const r = this.ready.get(id);
    if (r) this.ready.delete(id);
    return r;
  }

  /** Gives every ready job back to the queue (the attempt is not counted). */
  releaseReady(): void {
    for (const r of this.ready.values()) this.sink.ended({ kind: "release", fence: r.fence, job: r.job });
    this.ready.clear();
  }

  /** Stops the stale-ready timer (the pool stopped). */
  close(): void {
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  /** Starts ready jobs while slots are free; one whose plugin went away is given back instead. */
  private startReady(): void {
    for (const [id, r] of this.ready) {
      if (this.runs.size >= this.core.concurrency) break;
      this.ready.delete(id);
      if (this.core.isAvailable && !this.core.isAvailable(r.job.plugin)) this.sink.ended({ kind: "release", fence: r.fence, job: r.job });
      else this.begin(r.job, r.fence);
    }
  }

  /** Calls the executor for one claimed job, with its deadline and abort signal. */
  private begin(job: PulseJob, fence: Fence): void {
    const { core } = this;
    core.emit(job);
    const timeoutSecs = job.timeoutSecs ?? core.defaultTimeoutSecs;
    const run: Run = { job, fence, controller: new AbortController(), timer: undefined, timeoutSecs, settled: false, startedAt: performance.now() };
    this.runs.set(job.id, run);
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.round(timeoutSecs * 1000)));
    run.timer = setTimeout(() => this.settle(run, { kind: "timeout" }), ms);
    let p: Promise<ExecutorResult>;
    try {
      // Promise.resolve: a built-in plugin's executor may answer synchronously.
      p = Promise.resolve(core.executor(job, { handlerName: job.handlerName, timeoutSecs, deadline: core.clock.now() + ms, signal: run.controller.signal, attempt: job.attempts }));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => this.settle(run, { kind: "response", res }),
      (err: unknown) => this.settle(run, { kind: "error", err }),
    );
  }

  /** Gives back ready jobs that waited more than `readyMaxMs` (the runs ahead of them turned out slow). */
  private armStale(): void {
    if (this.staleTimer) return;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      const cutoff = performance.now() - this.core.readyMaxMs;
      for (const [id, r] of this.ready) {
        if (r.claimedAt > cutoff) continue;
        this.ready.delete(id);
        this.sink.ended({ kind: "release", fence: r.fence, job: r.job });
      }
      if (this.ready.size > 0) this.armStale();
    }, this.core.readyMaxMs);
    this.staleTimer.unref();
  }
}
