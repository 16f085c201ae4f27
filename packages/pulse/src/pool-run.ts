import type { JobLogEntry } from "@qntx/protocol";
import { backoffDelay } from "./backoff.js";
import { JobDeferred, JobRefused, abortReason, errorMessage, outputOf, type ExecutorResult } from "./executor.js";
import type { Fence, FinishOp, RunOutput } from "./job-store.js";
import type { PoolCore } from "./pool-settings.js";
import type { PulseJob } from "./types.js";

/** How a run ended: whichever came first. */
export type Ending =
  | { kind: "response"; res: ExecutorResult }
  | { kind: "error"; err: unknown }
  | { kind: "timeout" }
  | { kind: "cancel" }
  | { kind: "stop" }
  | { kind: "lost" };

/**
 * One run of a job on this pool: from the executor call until it is settled (its outcome
 * decided), and beyond: it keeps its slot until its executor call has returned and its ending
 * is written (see Dispatcher).
 */
export interface Run {
  job: PulseJob;
  fence: Fence;
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  timeoutSecs: number;
  settled: boolean;
  /** The executor call has returned (answered or thrown). */
  returned: boolean;
  /** Its ending is committed, or there is none to write (lost lease). */
  committed: boolean;
  /** Warns when an aborted call does not return (see Dispatcher). */
  lateTimer?: NodeJS.Timeout | undefined;
  /** Set by a cancel made here: called with the job as the cancel left it, once committed. */
  onCommitted?: ((job: PulseJob | undefined) => void) | undefined;
  /** performance.now() at the executor call (tells short runs from long ones). */
  startedAt: number;
}

/**
 * The fence of a claimed job: this pool's lease on this attempt. A reserved job (claimed
 * ahead, still `queued`) gets the attempt its run will have.
 */
export function fenceOf(job: PulseJob, owner: string): Fence {
  return { id: job.id, owner, attempt: job.status === "running" ? job.attempts : job.attempts + 1 };
}

/**
 * Aborts the run's signal as the ending requires and returns the store write that records it
 * (undefined when there is nothing to write: a lost lease belongs to another run now).
 */
export function endRun(core: PoolCore, run: Run, end: Ending): FinishOp | undefined {
  const { job, fence } = run;
  switch (end.kind) {
    case "response":
      if (end.res.success) return { kind: "complete", fence, job, output: outputOf(end.res) };
      return failOp(core, run, end.res.error || "the handler reported failure without an error message", outputOf(end.res));
    case "error":
      if (end.err instanceof JobDeferred) return deferOp(core, run, end.err);
      return failOp(core, run, errorMessage(end.err), undefined, end.err instanceof JobRefused);
    case "timeout":
      run.controller.abort(abortReason("TimeoutError", `job ${job.id} timed out after ${run.timeoutSecs}s`));
      return failOp(core, run, `timed out after ${run.timeoutSecs}s`);
    case "cancel":
      run.controller.abort(abortReason("AbortError", `job ${job.id} was cancelled`));
      return { kind: "cancel", fence, job, reason: "cancelled" };
    case "stop":
      run.controller.abort(abortReason("AbortError", `the worker pool stopped while job ${job.id} ran; it goes back to the queue`));
      return { kind: "release", fence, job };
    case "lost":
      run.controller.abort(abortReason("AbortError", `job ${job.id}: lease lost (expired and taken over)`));
      core.log.warn({ jobId: job.id, handler: job.handler }, "pulse: lease lost while running; aborted the local run");
      return undefined;
  }
}

/** The executor put the job back unrun (JobDeferred): released until its time, the attempt not counted. */
function deferOp(core: PoolCore, run: Run, deferred: JobDeferred): FinishOp {
  const { job, fence } = run;
  const runAt = Math.max(deferred.until, core.clock.now());
  const log: JobLogEntry = {
    timestamp: new Date(core.clock.now()).toISOString(),
    level: "warn",
    message: `not started: ${deferred.message}; waits until ${new Date(runAt).toISOString()}`,
    stage: "pulse",
    metadata: "",
  };
  core.log.info({ jobId: job.id, handler: job.handler, until: runAt, reason: deferred.message }, "pulse: job deferred");
  return { kind: "release", fence, job, defer: { runAt, reason: deferred.message, log } };
}

/** A failed attempt: re-queued with backoff while attempts remain (`final`: never), with a log line saying which. */
function failOp(core: PoolCore, run: Run, error: string, output?: RunOutput, final = false): FinishOp {
  const { job, fence } = run;
  const now = core.clock.now();
  const retry = !final && fence.attempt < job.maxAttempts;
  const delay = retry ? backoffDelay(fence.attempt, core.backoff) : 0;
  const note: JobLogEntry = {
    timestamp: new Date(now).toISOString(),
    level: retry ? "warn" : "error",
    message: retry
      ? `attempt ${fence.attempt} of ${job.maxAttempts} failed: ${error}; retrying in ${delay} ms`
      : `attempt ${fence.attempt} of ${job.maxAttempts} failed: ${error}; giving up`,
    stage: "pulse",
    metadata: "",
  };
  core.log.warn({ jobId: job.id, handler: job.handler, attempt: fence.attempt, error }, retry ? "pulse: job failed, will retry" : "pulse: job failed");
  return {
    kind: "fail",
    fence,
    job,
    error,
    retryAt: retry ? now + delay : undefined,
    output: { ...output, logs: [...(output?.logs ?? []), note] },
  };
}
