import type { Fence } from "./job-store.js";
import type { Claims } from "./pool-claims.js";
import type { Dispatcher, ReadyJob } from "./pool-dispatch.js";
import type { Run } from "./pool-run.js";
import type { PoolCore } from "./pool-settings.js";
import type { PulseJob } from "./types.js";

/**
 * Cancellation, and pausing a job this pool claimed ahead. Queued or paused: cancelled at
 * once by the store. Running here: the run's signal is aborted (the host's executor cancels
 * the gRPC call) and it is recorded `cancelled` before `cancel` resolves. Claimed ahead here
 * but not started: given back, and the store's cancel mark turns that into `cancelled`
 * without counting an attempt. Running or claimed ahead in another process: marked; its owner
 * ends it at its next lease renewal. Never retried.
 */
export class Cancellation {
  constructor(
    private readonly core: PoolCore,
    private readonly dispatcher: Dispatcher,
    private readonly claims: Claims,
  ) {}

  /** Cancels job `id` (see the class comment); resolves with its new state. */
  async cancel(id: string): Promise<PulseJob> {
    const job = await this.core.store.requestCancel(id, this.core.clock.now());
    const run = this.dispatcher.runs.get(id);
    if (run && holds(job, run.fence)) return this.cancelRun(run);
    const ready = this.dispatcher.ready.get(id);
    if (ready && holds(job, ready.fence)) return this.cancelReady(ready);
    this.core.emit(job);
    return job;
  }

  /** Ends a run of this pool as cancelled (its cancel was asked here or, seen at renewal, elsewhere). */
  async cancelRun(run: Run): Promise<PulseJob> {
    if (run.settled) return (await this.core.store.get(run.job.id)) ?? run.job; // it ended meanwhile
    // Written by the finisher, after the start of this run when that is not written yet.
    const written = new Promise<PulseJob | undefined>((resolve) => (run.onCommitted = resolve));
    this.dispatcher.settle(run, { kind: "cancel" });
    const done = await written;
    if (done) return done; // the finisher emitted it
    return this.after(undefined, run.job);
  }

  /** Gives back a job claimed ahead whose cancel was asked: it ends `cancelled` with its attempt uncounted. */
  async cancelReady(ready: ReadyJob): Promise<PulseJob> {
    if (this.dispatcher.takeReady(ready.job.id) !== ready) return (await this.core.store.get(ready.job.id)) ?? ready.job;
    const [done] = await this.core.store.finish([{ kind: "unreserve", fence: ready.fence, job: ready.job }], this.core.clock.now());
    return this.after(done, ready.job);
  }

  /**
   * Pauses job `id` (queued → paused). One this pool claimed ahead is taken off its list
   * first, so it cannot start while the pause is written; the pause gives up its reservation.
   */
  async pause(id: string): Promise<PulseJob> {
    const ready = this.dispatcher.takeReady(id);
    try {
      return await this.core.store.pause(id, this.core.clock.now(), this.core.owner);
    } catch (err) {
      if (ready) this.dispatcher.unreserve(ready); // fenced: skipped when no longer reserved here
      throw err;
    }
  }

  private async after(done: PulseJob | undefined, job: PulseJob): Promise<PulseJob> {
    const out = done ?? (await this.core.store.get(job.id)) ?? job;
    this.core.emit(out);
    this.claims.wake();
    return out;
  }
}

/** Whether `job` (as the store has it) is still the run or reservation `fence` names. */
function holds(job: PulseJob, fence: Fence): boolean {
  if (job.leaseOwner !== fence.owner) return false;
  if (job.status === "running") return job.attempts === fence.attempt;
  return job.status === "queued" && job.attempts === fence.attempt - 1;
}
