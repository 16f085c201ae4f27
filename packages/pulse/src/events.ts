/**
 * What Pulse tells listeners, as graphile-worker's `WorkerEvents` do: one typed map for node's
 * `EventEmitter<PulseEvents>`, shared by the pool and the Pulse facade (`pulse.on(...)`). The
 * `job` event is every state change of a job (the SSE stream of `GET /api/pulse/jobs/<id>/events`
 * sends these); the others say what happened to a run, for dashboards and metrics, each once,
 * right after the `job` event of the same change, synchronously.
 */
import type { EventEmitter } from "node:events";
import type { PulseJob } from "./types.js";

/** See the file comment. Every payload but `job`'s is one object. */
export interface PulseEvents {
  /** Every state change of a job, with its new state. */
  job: [job: PulseJob];
  /**
   * This pool took the job for a run: it is `running` under this pool's lease, the attempt
   * counted (`job.attempts`), its executor call starting. A job claimed ahead counts when its
   * run starts (the store says `running` from the next write batch); one given back unstarted
   * never does.
   */
  "job:claimed": [event: { readonly job: PulseJob }];
  /** A run succeeded and is written: the job is `completed`. */
  "job:completed": [event: { readonly job: PulseJob }];
  /** A run failed (error, failure answer, timeout) with no attempt left: the job is `failed` for good. */
  "job:failed": [event: { readonly job: PulseJob; readonly error: string }];
  /** A run failed with attempts left: the job is `queued` again, due at `retryAt` (backoff). */
  "job:retried": [event: { readonly job: PulseJob; readonly error: string; readonly retryAt: number }];
  /**
   * A job running under a lease nobody renews went back to the queue (or failed, out of
   * attempts): `expired`, a worker stopped renewing it (found by the fallback poll);
   * `recovered`, a host that died left it running (found when Pulse starts).
   */
  "lease:reclaimed": [event: { readonly job: PulseJob; readonly cause: "expired" | "recovered" }];
}

/** The events of finished jobs: `job:completed`, `job:failed` or `job:retried`, as `finished` (a finish batch's written jobs) says. */
export function emitRunEnds(events: EventEmitter<PulseEvents>, finished: readonly PulseJob[], failedIds: ReadonlySet<string>): void {
  for (const job of finished) {
    if (job.status === "completed") events.emit("job:completed", { job });
    // A job ended by a failed run (not by a release or an unreservation, which also re-queue).
    else if (failedIds.has(job.id) && job.status === "failed") events.emit("job:failed", { job, error: job.error });
    else if (failedIds.has(job.id) && job.status === "queued") events.emit("job:retried", { job, error: job.error, retryAt: job.runAt });
  }
}
