import type { Claims } from "./pool-claims.js";
import type { Dispatcher, ReadyJob } from "./pool-dispatch.js";
import type { Run } from "./pool-run.js";
import type { PoolCore } from "./pool-settings.js";
import type { PulseJob } from "./types.js";

/**
 * Cancellation. Queued or paused: cancelled at once by the store. Running here: the run's
 * signal is aborted (the host's executor cancels the gRPC call) and it is recorded `cancelled`
 * before `cancel` resolves. Claimed ahead here but not started: given back, and the store's
 * cancel mark turns that into `cancelled` without counting an attempt. Running in another
 * process: marked; its owner ends it at its next lease renewal. Never retried.
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
    if (job.status === "running") {
      const run = this.dispatcher.runs.get(id);
      if (run && run.fence.attempt === job.attempts) return this.cancelRun(run);
      const ready = this.dispatcher.ready.get(id);
      if (ready && ready.fence.attempt === job.attempts) return this.cancelReady(ready);
    }
    this.core.emit(job);
    return job;
  }

  /** Ends a run of this pool as cancelled (its cancel was asked here or, seen at renewal, elsewhere). */
  async cancelRun(run: Run): Promise<PulseJob> {
    this.dispatcher.settle(run, { kind: "cancel" });
    const [done] = await this.core.store.finish([{ kind: "cancel", fence: run.fence, job: run.job, reason: "cancelled" }], this.core.clock.now());
    return this.after(done, run.job);
  }

  /** Gives back a job claimed ahead whose cancel was asked: it ends `cancelled` with its attempt uncounted. */
  async cancelReady(ready: ReadyJob): Promise<PulseJob> {
    if (this.dispatcher.takeReady(ready.job.id) !== ready) return (await this.core.store.get(ready.job.id)) ?? ready.job;
    const [done] = await this.core.store.finish([{ kind: "release", fence: ready.fence, job: ready.job }], this.core.clock.now());
    return this.after(done, ready.job);
  }

  private async after(done: PulseJob | undefined, job: PulseJob): Promise<PulseJob> {
    const out = done ?? (await this.core.store.get(job.id)) ?? job;
    this.core.emit(out);
    this.claims.wake();
    return out;
  }
}
