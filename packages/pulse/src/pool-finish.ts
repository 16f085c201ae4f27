import { emitRunEnds } from "./events.js";
import type { FinishOp } from "./job-store.js";
import type { Claims } from "./pool-claims.js";
import type { Dispatcher, RunSink } from "./pool-dispatch.js";
import type { Run } from "./pool-run.js";
import type { PoolCore } from "./pool-settings.js";
import type { PulseJob } from "./types.js";

/**
 * Batched completion: run endings (and the starts of jobs claimed ahead) are buffered and
 * written in one transaction per turn of the event loop (setImmediate), together with the
 * claim that refills the freed slots (one commit per turn on the hot path). Deferring the
 * write also lets the calls the dispatcher started in this turn leave first: grpc-js writes
 * them out before our setImmediate runs. A job is recorded `completed` only once its
 * transaction committed, and a run's slot is free for a claim only then (see Dispatcher).
 */
export class Finisher implements RunSink {
  private pending: FinishOp[] = [];
  /** The runs the pending ops end, to tell the dispatcher when they are written. */
  private pendingRuns: Run[] = [];
  private flushQueued = false;
  private flushing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Set once the pool is wired (the finisher and the claims refer to each other). */
  claims!: Claims;
  dispatcher!: Dispatcher;

  constructor(private readonly core: PoolCore) {}

  /** True while writes wait or a write is in flight. */
  get busy(): boolean {
    return this.pending.length > 0 || this.flushing !== undefined;
  }

  ended(op?: FinishOp, run?: Run): void {
    if (op) {
      this.pending.push(op);
      if (run) this.pendingRuns.push(run);
    }
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      void this.flush(true).then((needFill) => {
        if (needFill) void this.claims.fill();
      });
    });
  }

  /** Resolves once no job runs and no ending waits to be written. */
  whenIdle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /** Writes everything buffered (no claim): for stop. */
  async drain(): Promise<void> {
    while (this.busy) await this.flush(false);
  }

  /**
   * Writes every buffered op in one transaction and, with `withClaim`, refills the freed
   * slots in that same transaction.
   * @returns true when a separate claim is still worth trying.
   */
  private async flush(withClaim: boolean): Promise<boolean> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) {
      this.checkIdle();
      return true;
    }
    const ops = this.pending;
    const runs = this.pendingRuns;
    this.pending = [];
    this.pendingRuns = [];
    // Runs whose call returned and whose ending is in this batch: their slots are free for
    // the claim, which runs after the endings in the same transaction.
    let credit = 0;
    if (withClaim) for (const run of runs) if (run.returned) credit++;
    const req = withClaim ? this.claims.claimInside(true, credit) : undefined;
    let needFill = true;
    this.flushing = (async () => {
      let claimed;
      let finished: PulseJob[] = [];
      try {
        const out = await this.core.store.finishAndClaim(ops, req, this.core.clock.now());
        claimed = out.claimed;
        finished = out.finished;
        for (const j of finished) {
          this.core.emit(j);
          if (j.status === "queued") this.claims.wakeAt(j.runAt);
        }
        emitRunEnds(this.core.events, finished, new Set(ops.flatMap((o) => (o.kind === "fail" ? [o.fence.id] : []))));
        needFill = req === undefined;
      } catch (err) {
        // The leases of these jobs expire and they run again: nothing is lost.
        this.core.log.error({ err, jobs: ops.map((o) => o.fence.id) }, "pulse: recording job outcomes failed");
      } finally {
        for (const run of runs) {
          this.dispatcher.committed(run);
          run.onCommitted?.(finished.find((j) => j.id === run.job.id));
        }
        if (req) this.claims.claimedInside(claimed);
      }
    })();
    await this.flushing;
    this.flushing = undefined;
    // Nothing running or claimed, nothing left to write: the store may do its upkeep now.
    if (this.dispatcher.held === 0 && this.pending.length === 0) this.core.store.idle?.();
    this.checkIdle();
    return needFill;
  }

  private checkIdle(): void {
    if (this.dispatcher.runs.size > 0 || this.pending.length > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
