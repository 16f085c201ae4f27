import type { ExecuteJobResponse } from "@qntx/protocol";
import type { RunOutput } from "./job-store.js";
import type { PulseJob } from "./types.js";

/** What the executor is told about one run of a job. */
export interface ExecutorCall {
  /** The raw handler name (without `plugin/`), as the plugin announced it. */
  handlerName: string;
  /** The job's timeout (per job, or the pool default); may be fractional when set in code: round up for the wire. */
  timeoutSecs: number;
  /** Unix ms after which the run counts as timed out (use it as the gRPC deadline). */
  deadline: number;
  /** Aborted on cancel, timeout, lease loss or pool stop; `signal.reason` says which. */
  signal: AbortSignal;
  /** 1-based attempt number of this run. */
  attempt: number;
}

/** An ExecuteJobResponse; only `success` is required (built-in plugins may return less). */
export type ExecutorResult = Pick<ExecuteJobResponse, "success"> & Partial<ExecuteJobResponse>;

/** Runs one job: the host wires it to `ExternalDomainProxy.executeJob` (or a built-in plugin). */
export type Executor = (job: PulseJob, call: ExecutorCall) => Promise<ExecutorResult>;

/**
 * Thrown by an executor to put a job back in the queue without running it, until `until`
 * (unix ms): the attempt is not counted, the message becomes the job's `error` and a log line
 * (the host's budget check uses it for a job over budget).
 */
export class JobDeferred extends Error {
  constructor(
    readonly until: number,
    message: string,
  ) {
    super(message);
    this.name = "JobDeferred";
  }
}

/** Thrown by an executor to fail a job at once, without its remaining attempts. */
export class JobRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobRefused";
  }
}

/** What a response stores (zero progress/cost and empty version mean "not reported": the stored values stay). */
export function outputOf(res: ExecutorResult): RunOutput {
  const current = res.progressCurrent ?? 0;
  const total = res.progressTotal ?? 0;
  return {
    result: res.result === undefined ? undefined : toBuffer(res.result),
    progress: current || total ? { current, total } : undefined,
    costActual: res.costActual ? res.costActual : undefined,
    pluginVersion: res.pluginVersion || undefined,
    logs: res.logEntries && res.logEntries.length > 0 ? res.logEntries : undefined,
  };
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
}

export function abortReason(name: "AbortError" | "TimeoutError", message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}
