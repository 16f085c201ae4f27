import type { ExecutorResult } from "./executor.js";
import type { Fence, FinishOp } from "./job-store.js";
import type { PoolCore } from "./pool-settings.js";
import { endRun, fenceOf, type Ending, type Run } from "./pool-run.js";
import type { PulseJob } from "./types.js";

/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long after its abort a call that has not returned is reported (it keeps its slot meanwhile). */
const LATE_RETURN_WARN_MS = 10_000;

/** A job this pool has claimed ahead (reserved: leased here, still `queued`) and not started yet. */
export interface ReadyJob {
  job: PulseJob;
  fence: Fence;
  /** performance.now() at the claim. */
  claimedAt: number;
}

/** Where the dispatcher sends its store writes (batched by the finisher). */
export interface RunSink {
  /**
   * Queues `op` (when given) and schedules a flush, which also refills free slots. `run`: the
   * run `op` ends; the dispatcher is told (`committed`) once the write is done.
   */
  ended(op?: FinishOp, run?: Run): void;
}

/**
 * Runs claimed jobs through the executor, `concurrency` at a time, and ends each run exactly
 * once (response, throw, timeout, cancel, stop or lost lease).
 *
 * What `concurrency` bounds (issue 15, finding 7): at no point are more than `concurrency`
 * executor calls in flight, nor more than `concurrency` jobs of this pool `running` in the
 * store. So a run keeps its slot after it is settled until both its executor call has
 * returned (a timed-out or cancelled call is aborted, but a plugin may take a moment to stop,
 * and an executor that ignores its signal keeps the slot for as long as it runs) and its
 * ending is committed (until then its row still says `running`).
 *
 * Dispatch-ahead: besides the running jobs it keeps a list of jobs claimed ahead ("ready"),
 * and when a run's call returns it starts the next ready job at once, in the same turn, before
 * the ending is written. The plugin thus works on the next jobs while the host commits the
 * last ones, instead of the two taking turns (measured: one finish transaction per wave of
 * `concurrency` jobs, each process idle while the other worked). It claims ahead only as many
 * jobs as runs just ended quickly (within `fastRunMs`), so long jobs never claim ahead, and a
 * ready job not started within `readyMaxMs` is given back. A job claimed ahead is reserved in
 * the store: leased here but still `queued` (before the fix it was `running` from its claim,
 * so a pool of 4 showed up to 8 jobs `running`). Its start (`start`) is queued after the
 * ending whose slot it took, so it is written in the same batch or a later one and the store
 * never shows both as running. Its timeout and its 'running' event start when its call does;
 * the store says `running` from that batch on (the next turn of the event loop).
 */
export class Dispatcher {
  /** Jobs running now (not settled), by id. */
  readonly runs = new Map<string, Run>();
  /** Jobs claimed ahead, in dispatch order, by id. */
  readonly ready = new Map<string, ReadyJob>();
  /** Settled runs that still hold a slot: their call has not returned or their ending is not committed. */
  readonly ending = new Set<Run>();
  /** Set while the pool stops: nothing starts, claimed jobs go straight back. */
  stopping = false;
  /** Settled runs whose executor call has not returned (they are in `ending`). */
  private unreturned = 0;
  private fastEnds = 0;
  private staleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: PoolCore,
    private readonly sink: RunSink,
  ) {}

  /** Jobs this pool holds a slot or a lease for: running, ending, and claimed ahead. */
  get held(): number {
    return this.runs.size + this.ending.size + this.ready.size;
  }

  /** Executor calls in flight: the runs, and the settled runs whose call has not returned. */
  get calls(): number {
    return this.runs.size + this.unreturned;
  }

  /**
   * How many jobs a claim may take now: `start` to run at once (the free slots, minus the
   * ready jobs that will take them) and `reserve` to claim ahead (up to `ahead`, at most
   * `concurrency`, minus those ready already). `credit`: settled runs whose ending commits in
   * the claim's own transaction, before it (their slots are free by then).
   */
  claimSizes(ahead: number, credit = 0): { start: number; reserve: number } {
    const c = this.core.concurrency;
    return {
      start: Math.max(0, c - this.runs.size - (this.ending.size - credit) - this.ready.size),
      reserve: Math.max(0, Math.min(ahead, c) - this.ready.size),
    };
  }

  /** How far ahead the next claim may go: the runs that ended quickly since the last call. */
  takeAhead(): number {
    const n = this.fastEnds;
    this.fastEnds = 0;
    return n;
  }

  /** Takes freshly claimed jobs: starts the `running` ones, keeps the reserved ones ready. */
  accept(jobs: readonly PulseJob[]): void {
    const now = performance.now();
    for (const job of jobs) {
      const fence = fenceOf(job, this.core.owner);
      const reserved = job.status !== "running";
      if (this.stopping) this.sink.ended({ kind: reserved ? "unreserve" : "release", fence, job });
      else if (reserved) this.ready.set(job.id, { job, fence, claimedAt: now });
      else this.begin(job, fence);
    }
    if (this.ready.size === 0) return;
    if (!this.stopping) this.startReady();
    if (this.ready.size > 0) this.armStale();
  }

  /**
   * Ends a run exactly once, whatever comes first: decides its outcome and queues its write.
   * Its slot goes to the next ready job once its call has returned (at once for an answer).
   */
  settle(run: Run, end: Ending): void {
    if (run.settled) return;
    run.settled = true;
    clearTimeout(run.timer);
    if (this.runs.get(run.job.id) === run) this.runs.delete(run.job.id);
    if (end.kind === "response" && performance.now() - run.startedAt < this.core.fastRunMs) this.fastEnds++;
    const op = endRun(this.core, run, end);
    run.committed = op === undefined;
    if (!run.returned || !run.committed) this.ending.add(run);
    if (!run.returned) {
      this.unreturned++;
      this.warnIfLate(run);
    }
    // Queued before any start of a ready job below: that start is written in the same batch
    // as this ending, or a later one, so the store never shows both running.
    this.sink.ended(op, run);
    if (this.ready.size > 0 && !this.stopping) this.startReady();
  }

  /** The ending of `run` is written (or failed to be: its lease then expires). */
  committed(run: Run): void {
    run.committed = true;
    if (run.returned) this.ending.delete(run);
  }

  /** Removes a ready job (cancelled, paused, or its lease lost) and returns it. */
  takeReady(id: string): ReadyJob | undefined {
    const r = this.ready.get(id);
    if (r) this.ready.delete(id);
    return r;
  }

  /** Gives a job claimed ahead back to the queue, unstarted (the attempt is not counted). */
  unreserve(r: ReadyJob): void {
    this.sink.ended({ kind: "unreserve", fence: r.fence, job: r.job });
  }

  /** Gives every ready job back to the queue (the attempt is not counted). */
  releaseReady(): void {
    for (const r of this.ready.values()) this.unreserve(r);
    this.ready.clear();
  }

  /** Stops the stale-ready timer (the pool stopped). */
  close(): void {
    clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  /** Starts ready jobs while executor slots are free; one whose plugin went away is given back instead. */
  private startReady(): void {
    for (const [id, r] of this.ready) {
      if (this.calls >= this.core.concurrency) break;
      this.ready.delete(id);
      if (this.core.isAvailable && !this.core.isAvailable(r.job.plugin)) {
        this.unreserve(r);
        continue;
      }
      const now = this.core.clock.now();
      const job: PulseJob = { ...r.job, status: "running", attempts: r.fence.attempt, startedAt: now, updatedAt: now };
      this.sink.ended({ kind: "start", fence: r.fence, job });
      this.begin(job, r.fence);
    }
  }

  /** Calls the executor for one claimed job, with its deadline and abort signal. */
  private begin(job: PulseJob, fence: Fence): void {
    const { core } = this;
    core.emit(job);
    core.events.emit("job:claimed", { job });
    const timeoutSecs = job.timeoutSecs ?? core.defaultTimeoutSecs;
    const run: Run = {
      job, fence, controller: new AbortController(), timer: undefined, timeoutSecs,
      settled: false, returned: false, committed: false, startedAt: performance.now(),
    };
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
      (res) => this.returned(run, { kind: "response", res }),
      (err: unknown) => this.returned(run, { kind: "error", err }),
    );
  }

  /** The executor call of `run` returned: settles it, or, ended before, frees its slot now. */
  private returned(run: Run, end: Ending): void {
    run.returned = true;
    if (!run.settled) return this.settle(run, end);
    this.unreturned--;
    clearTimeout(run.lateTimer);
    if (run.committed) this.ending.delete(run);
    if (this.stopping) return;
    if (this.ready.size > 0) this.startReady();
    this.sink.ended(); // a flush, then a claim for the slot
  }

  /** Logs once when an aborted call is still running long after: it is what holds the slot. */
  private warnIfLate(run: Run): void {
    run.lateTimer = setTimeout(() => {
      if (run.returned) return;
      this.core.log.warn(
        { jobId: run.job.id, handler: run.job.handler },
        `pulse: the executor call of job ${run.job.id} has not returned ${LATE_RETURN_WARN_MS} ms after its run ended; it keeps its slot until it does`,
      );
    }, LATE_RETURN_WARN_MS);
    run.lateTimer.unref();
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
        this.unreserve(r);
      }
      if (this.ready.size > 0) this.armStale();
    }, this.core.readyMaxMs);
    this.staleTimer.unref();
  }
}
