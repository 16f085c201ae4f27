import type { FinishOp } from "./job-store.js";
import type { JobStatus, NewJobRecord, PulseJob } from "./types.js";

// The rows of pulse_jobs and how they become jobs: one mapping for the SQLite and PostgreSQL stores.

/** A row of pulse_jobs as both stores read it (the PostgreSQL store reads int8 as numbers). */
export interface JobRow {
  seq: number;
  id: string;
  handler: string;
  plugin: string;
  handler_name: string;
  payload: Buffer;
  source: string;
  status: JobStatus;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  timeout_secs: number | null;
  progress_current: number;
  progress_total: number;
  cost_estimate: number;
  cost_actual: number;
  result: Buffer | null;
  error: string;
  plugin_version: string;
  parent_job_id: string;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  cancel_requested: number;
}

/** The columns a run ending reads back. */
export type EndedRow = Pick<
  JobRow,
  "status" | "attempts" | "run_at" | "error" | "progress_current" | "progress_total" | "cost_actual" | "plugin_version" | "completed_at" | "updated_at" | "cancel_requested"
>;

/**
 * The job `op` ended, as `row` (what the ending's UPDATE returned) leaves it: the job as
 * claimed with the changed columns over it, lease cleared.
 */
export function endedJob(op: FinishOp, row: EndedRow): PulseJob {
  let result = op.job.result;
  if (op.kind === "complete") result = op.output.result ?? result;
  else if (op.kind === "fail") result = op.output?.result ?? result;
  return {
    ...op.job,
    status: row.status,
    attempts: row.attempts,
    runAt: row.run_at,
    error: row.error,
    progress: { current: row.progress_current, total: row.progress_total },
    costActual: row.cost_actual,
    pluginVersion: row.plugin_version,
    result,
    completedAt: row.completed_at ?? undefined,
    updatedAt: row.updated_at,
    cancelRequested: row.cancel_requested === 1,
    leaseOwner: undefined,
    leaseExpiresAt: undefined,
  };
}

/** The stored form of a freshly inserted record (what the column defaults give). */
export function newJob(j: NewJobRecord): PulseJob {
  return {
    id: j.id,
    handler: j.handler,
    plugin: j.plugin,
    handlerName: j.handlerName,
    payload: j.payload,
    source: j.source,
    status: j.status,
    priority: j.priority,
    runAt: j.runAt,
    attempts: 0,
    maxAttempts: j.maxAttempts,
    timeoutSecs: j.timeoutSecs,
    progress: { current: 0, total: 0 },
    costEstimate: j.costEstimate,
    costActual: 0,
    result: undefined,
    error: "",
    pluginVersion: "",
    parentJobId: j.parentJobId,
    createdAt: j.createdAt,
    startedAt: undefined,
    completedAt: undefined,
    updatedAt: j.createdAt,
    cancelRequested: false,
    leaseOwner: undefined,
    leaseExpiresAt: undefined,
  };
}

/** A job just inserted (or claimed from its fresh record) as the store now holds it: running under `owner`'s first lease. */
export function newRunningJob(j: NewJobRecord, owner: string, leaseExpiresAt: number, now: number): PulseJob {
  const job = newJob(j);
  job.status = "running";
  job.attempts = 1;
  job.leaseOwner = owner;
  job.leaseExpiresAt = leaseExpiresAt;
  job.startedAt = now;
  job.updatedAt = now;
  return job;
}

/** A whole row as a job. */
export function toJob(r: JobRow): PulseJob {
  return {
    id: r.id,
    handler: r.handler,
    plugin: r.plugin,
    handlerName: r.handler_name,
    payload: r.payload,
    source: r.source,
    status: r.status,
    priority: r.priority,
    runAt: r.run_at,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    timeoutSecs: r.timeout_secs ?? undefined,
    progress: { current: r.progress_current, total: r.progress_total },
    costEstimate: r.cost_estimate,
    costActual: r.cost_actual,
    result: r.result ?? undefined,
    error: r.error,
    pluginVersion: r.plugin_version,
    parentJobId: r.parent_job_id,
    createdAt: r.created_at,
    startedAt: r.started_at ?? undefined,
    completedAt: r.completed_at ?? undefined,
    updatedAt: r.updated_at,
    cancelRequested: r.cancel_requested === 1,
    leaseOwner: r.lease_owner ?? undefined,
    leaseExpiresAt: r.lease_expires_at ?? undefined,
  };
}
