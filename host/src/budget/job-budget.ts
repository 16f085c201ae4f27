/**
 * The budget's two hooks into Pulse: every job's `cost_actual` goes into the usage record (one
 * row per job, updated as the job reports more, whether by its ExecuteJob answer or by
 * UpdateJob), and before a job starts its `cost_estimate` is checked against what is left. Over
 * budget it waits — put back unrun until the window frees up, the reason and the window in its
 * `error` and its log — or, with `[pulse] over_budget = "fail"` (or an estimate no window can
 * ever hold), fails at once with that reason.
 */
import { JobDeferred, JobRefused, type Executor, type Pulse, type PulseJob } from "@qntx/pulse";
import type { Logger } from "pino";
import type { Budget } from "./budget.js";

/** Wraps the job executor with the budget check; unchanged when no limit is set. */
export function budgetedExecutor(executor: Executor, budget: Budget): Executor {
  if (!budget.limited) return executor;
  return async (job, call) => {
    const refusal = await budget.check(job.costEstimate);
    if (refusal) {
      if (budget.overBudget === "fail" || refusal.freesAt === undefined) throw new JobRefused(`over budget: ${refusal.message}`);
      throw new JobDeferred(refusal.freesAt, `over budget: ${refusal.message}`);
    }
    return executor(job, call);
  };
}

/** Records every job's reported cost in the usage record. Returns a detach function. */
export function recordJobSpend(pulse: Pulse, budget: Budget, logger: Logger): () => void {
  const seen = new Map<string, number>();
  const onJob = (job: PulseJob): void => {
    if (!(job.costActual > 0) || seen.get(job.id) === job.costActual) return;
    seen.set(job.id, job.costActual);
    // Forget finished jobs: a job's cost does not change after it ends.
    if (job.status === "completed" || job.status === "failed" || job.status === "cancelled") seen.delete(job.id);
    budget.usage
      .record({ at: Date.now(), plugin: job.plugin, kind: "job", name: job.handler, provider: "", costUsd: job.costActual, promptTokens: 0, completionTokens: 0, totalTokens: 0 }, `job:${job.id}`)
      .catch((error: unknown) => logger.error({ jobId: job.id, err: String(error) }, "could not record a job's cost: the budget does not count it"));
  };
  pulse.on("job", onJob);
  return () => void pulse.off("job", onJob);
}
