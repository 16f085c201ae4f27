import type { Job, JobLogEntry } from "@qntx/protocol";

/** Every status a job can have. `completed`, `failed` and `cancelled` are terminal. */
export const JOB_STATUSES = ["queued", "running", "paused", "completed", "failed", "cancelled"] as const;

/** A job's status, as stored and as sent on the wire. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves on its own (only `retry` re-queues failed/cancelled jobs). */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);

/** True when `s` is one of {@link JOB_STATUSES}. */
export function isJobStatus(s: string): s is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(s);
}

/** Progress as a plugin reports it. */
export interface JobProgress {
  current: number;
  total: number;
}

/** A durable job as Pulse stores it. Times are unix milliseconds. */
export interface PulseJob {
  id: string;
  /** Qualified handler, `<plugin>/<handler>`. */
  handler: string;
  plugin: string;
  /** The raw handler name the plugin announced (what it sees in ExecuteJobRequest). */
  handlerName: string;
  payload: Buffer;
  source: string;
  status: JobStatus;
  /** Higher runs first. */
  priority: number;
  /** Not claimed before this time. */
  runAt: number;
  /** Claims so far, the current run included. */
  attempts: number;
  maxAttempts: number;
  /** Per-job deadline; undefined = the pool's default. */
  timeoutSecs: number | undefined;
  progress: JobProgress;
  costEstimate: number;
  costActual: number;
  result: Buffer | undefined;
  /** Last error ('' when none). */
  error: string;
  pluginVersion: string;
  parentJobId: string;
  /** W3C `traceparent` of the request that enqueued it ("" or absent when none): its runs join that trace. */
  traceparent?: string;
  /** W3C `tracestate` beside it ("" or absent when none). */
  tracestate?: string;
  createdAt: number;
  /** Start of the latest attempt. */
  startedAt: number | undefined;
  completedAt: number | undefined;
  updatedAt: number;
  /** A cancel was asked for while the job was running; the owner aborts it at once (or at its next lease renewal). */
  cancelRequested: boolean;
  /** Worker holding the job while it runs. */
  leaseOwner: string | undefined;
  leaseExpiresAt: number | undefined;
}

/** A stored log line of a job: the plugin's `JobLogEntry` plus the attempt that wrote it. */
export interface PulseLogEntry extends JobLogEntry {
  attempt: number;
}

/** A job with its logs, as `Pulse.get` returns it. */
export interface PulseJobDetail extends PulseJob {
  logs: PulseLogEntry[];
}

/** A fully resolved row to insert (the facade fills every field). */
export interface NewJobRecord {
  id: string;
  handler: string;
  plugin: string;
  handlerName: string;
  payload: Buffer;
  source: string;
  status: "queued" | "paused";
  priority: number;
  runAt: number;
  maxAttempts: number;
  timeoutSecs: number | undefined;
  costEstimate: number;
  parentJobId: string;
  /** The trace it was enqueued in (absent: none). */
  traceparent?: string;
  tracestate?: string;
  createdAt: number;
}

/** Filter of `list`. */
export interface ListQuery {
  /** "" or undefined = every status. */
  status?: string | undefined;
  /** Qualified handler. */
  handler?: string | undefined;
  /** Default 100, at most 10,000. Values <= 0 mean the default. */
  limit?: number | undefined;
}

/** Converts a stored job to the proto `Job` of queue.proto (times in unix seconds, 0 = unset). */
export function toWireJob(j: PulseJob): Job {
  return {
    id: j.id,
    handlerName: j.handler,
    payload: j.payload,
    source: j.source,
    status: j.status,
    progress: { current: j.progress.current, total: j.progress.total },
    costEstimate: j.costEstimate,
    costActual: j.costActual,
    pulseState: undefined,
    error: j.error,
    parentJobId: j.parentJobId,
    retryCount: Math.max(0, j.attempts - 1),
    createdAt: toSeconds(j.createdAt),
    startedAt: toSeconds(j.startedAt),
    completedAt: toSeconds(j.completedAt),
  };
}

function toSeconds(ms: number | undefined): number {
  return ms === undefined ? 0 : Math.floor(ms / 1000);
}
