/**
 * Pulse jobs for QNTX modules. QNTX's Bun runtime answered every ExecuteJob with "not
 * implemented"; here a job for one of the module's `handler_names` calls its `execute_job`
 * (or `executeJob`) function through the SDK's job machinery (deadline and cancel signal,
 * progress pushed live, cost, log lines, result encoding).
 *
 * Contract: `execute_job(job, ctx)` gets `job = { job_id, jobId, handler_name, handlerName,
 * payload }` (payload parsed as JSON, the raw bytes when not JSON, undefined when empty) and
 * the SDK's `JobContext`. What it returns (or resolves to):
 * - an object with a boolean `success` is an ExecuteJobResponse-shaped answer: `result`,
 *   `error`, `progress_current`/`progress_total`, `cost_actual`, `log_entries` are taken from it
 *   (camelCase spellings too), and `success: false` fails the job with `error`;
 * - anything else is the job's result (bytes as is, a string as UTF-8, other values as JSON).
 * A throw fails the job with the error's message.
 */
import type { JobContext, JobHandler } from "../types.js";
import type { QntxExecuteJob, QntxJob, QntxModule } from "./types.js";

/** The module's job function, under either spelling. */
export function executeFunctionOf(mod: QntxModule): QntxExecuteJob | undefined {
  const candidate = mod.execute_job ?? mod.executeJob;
  return typeof candidate === "function" ? candidate : undefined;
}

function pick(answer: Record<string, unknown>, snake: string, camel: string): unknown {
  return answer[snake] ?? answer[camel];
}

function finiteNumber(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError(`execute_job answer: ${field} must be a number, got ${JSON.stringify(value)}`);
  return value;
}

function metadataObject(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value === "string") {
    // On the wire, metadata is JSON text: keep an object as one.
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      /* not JSON: kept as text below */
    }
  }
  return { value };
}

const LEVELS = { debug: "debug", info: "info", warn: "warn", warning: "warn", error: "error" } as const;

/** Applies an ExecuteJobResponse-shaped answer to `ctx` and returns the result, or throws its error. */
function applyAnswer(answer: Record<string, unknown>, ctx: JobContext): unknown {
  const entries = pick(answer, "log_entries", "logEntries");
  if (entries !== undefined && entries !== null) {
    if (!Array.isArray(entries)) throw new TypeError("execute_job answer: log_entries must be an array");
    for (const raw of entries) {
      const entry = (typeof raw === "object" && raw !== null ? raw : { message: String(raw) }) as Record<string, unknown>;
      const level = LEVELS[String(entry.level ?? "info").toLowerCase() as keyof typeof LEVELS] ?? "info";
      const stage = typeof entry.stage === "string" && entry.stage !== "" ? entry.stage : undefined;
      const metadata = metadataObject(entry.metadata);
      ctx.log[level](String(entry.message ?? ""), { ...(stage ? { stage } : {}), ...(metadata ? { metadata } : {}) });
    }
  }
  const current = finiteNumber(pick(answer, "progress_current", "progressCurrent"), "progress_current");
  const total = finiteNumber(pick(answer, "progress_total", "progressTotal"), "progress_total");
  if (current !== undefined || total !== undefined) ctx.progress(current ?? 0, total);
  const cost = finiteNumber(pick(answer, "cost_actual", "costActual"), "cost_actual");
  if (cost !== undefined) ctx.addCost(cost);
  if (answer.success !== true) {
    const error = answer.error;
    throw new Error(typeof error === "string" && error !== "" ? error : `job ${ctx.handlerName} reported success: false without an error`);
  }
  return answer.result;
}

/** The SDK job handler that runs a module's job function for every announced handler name. */
export function toJobHandler(mod: QntxModule, file: string): JobHandler {
  return async (payload: unknown, ctx: JobContext) => {
    const execute = executeFunctionOf(mod);
    if (!execute) {
      throw new Error(`${file} announces handler ${ctx.handlerName} in handler_names but has no execute_job(job, ctx) or executeJob(job, ctx) function`);
    }
    const job: QntxJob = { job_id: ctx.jobId, jobId: ctx.jobId, handler_name: ctx.handlerName, handlerName: ctx.handlerName, payload };
    const value: unknown = await execute.call(mod, job, ctx);
    if (typeof value === "object" && value !== null && typeof (value as { success?: unknown }).success === "boolean") {
      return applyAnswer(value as Record<string, unknown>, ctx);
    }
    return value;
  };
}
