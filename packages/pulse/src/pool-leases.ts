import type { Cancellation } from "./pool-cancel.js";
import type { Claims } from "./pool-claims.js";
import type { Dispatcher } from "./pool-dispatch.js";
import type { PoolCore } from "./pool-settings.js";

/**
 * Leases: every job this pool holds (running or claimed ahead) has a lease in the store,
 * renewed in one transaction every leaseMs/3. A lease found lost aborts the local run; a
 * cancel asked from another process is seen here and ends the job. The fallback poll expires
 * other workers' stale leases (their jobs go back to the queue) and claims.
 */
export class Leases {
  private pollTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: PoolCore,
    private readonly dispatcher: Dispatcher,
    private readonly claims: Claims,
    private readonly cancellation: Cancellation,
  ) {}

  /** Arms the fallback poll and the renewal; runs a first poll now. */
  start(pollMs: number): Promise<void> {
    this.pollTimer = setInterval(() => void this.poll(), pollMs);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.core.leaseMs / 3)));
    return this.poll();
  }

  /** Stops the poll (stop begins: no more claims), keeping the renewal for the jobs still running. */
  stopPolling(): void {
    clearInterval(this.pollTimer);
  }

  /** Stops the renewal too (every job has ended). */
  stop(): void {
    clearInterval(this.pollTimer);
    clearInterval(this.renewTimer);
  }

  /** Fallback tick: expire leases (re-queued jobs are then claimed), fill. */
  private async poll(): Promise<void> {
    try {
      const expired = await this.core.store.expireLeases(this.core.clock.now());
      for (const job of expired) {
        const mine = this.dispatcher.runs.get(job.id);
        if (mine) this.dispatcher.settle(mine, { kind: "lost" });
        this.dispatcher.takeReady(job.id);
        this.core.emit(job);
        this.core.events.emit("lease:reclaimed", { job, cause: "expired" });
      }
    } catch (err) {
      this.core.log.error({ err }, "pulse: poll failed");
    }
    await this.claims.fill();
  }

  /** Renews every lease this pool holds in one transaction; aborts lost runs, ends cancelled ones. */
  private async renew(): Promise<void> {
    const { runs, ready } = this.dispatcher;
    if (runs.size === 0 && ready.size === 0) return;
    const fences = [...[...runs.values()].map((r) => r.fence), ...[...ready.values()].map((r) => r.fence)];
    try {
      const res = await this.core.store.renewLeases(this.core.owner, fences, this.core.leaseMs, this.core.clock.now());
      for (const id of res.lost) {
        const run = runs.get(id);
        if (run) this.dispatcher.settle(run, { kind: "lost" });
        else this.dispatcher.takeReady(id);
      }
      for (const id of res.cancelRequested) {
        const run = runs.get(id);
        const r = ready.get(id);
        if (run) await this.cancellation.cancelRun(run);
        else if (r) await this.cancellation.cancelReady(r);
      }
    } catch (err) {
      this.core.log.error({ err }, "pulse: renewing leases failed");
    }
  }
}
