/**
 * `ExecuteJob`: runs a job handler and turns what it did (result, error, progress, cost, log)
 * into an `ExecuteJobResponse`. Application errors travel in the body, never as a gRPC status.
 */
import { ExecuteJobResponse, type ExecuteJobRequest, type JobLogEntry } from "@qntx/protocol";
import type { PluginDefinition } from "./define.js";
import type { Logger } from "./log.js";
import { ProgressPusher, type ProgressValue } from "./progress.js";
import { currentTrace } from "./trace.js";
import type { PluginRuntime } from "./runtime.js";
import type { JobContext, JobLog, JobLogOptions } from "./types.js";

/** Log lines kept per job; later ones are counted and reported in one last line. */
export const MAX_JOB_LOG_ENTRIES = 1_000;

/** How long the answer waits for the last live progress push. */
const PROGRESS_FLUSH_TIMEOUT_MS = 1_000;

/** Largest delay `setTimeout` honours (~24.8 days); a longer timeout is no timeout. */
const MAX_TIMER_MS = 2_147_483_647;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The payload as a handler sees it: parsed JSON, else the bytes, `undefined` when empty. */
export function decodePayload(bytes: Uint8Array | undefined): unknown {
  if (!bytes || bytes.length === 0) return undefined;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return JSON.parse(buffer.toString("utf8"));
  } catch {
    return buffer;
  }
}

/** The result bytes of a handler's return value: bytes as is, string as UTF-8, `undefined` empty, else JSON. */
export function encodeResult(value: unknown): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string") return Buffer.from(value, "utf8");
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`a ${typeof value} cannot be encoded as JSON`);
  return Buffer.from(text, "utf8");
}

function toInt32(value: number, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError(`progress: ${what} must be a finite number, got ${String(value)}`);
  return Math.max(-2_147_483_648, Math.min(2_147_483_647, Math.trunc(value)));
}

function metadataText(metadata: Record<string, unknown> | undefined): string {
  if (metadata === undefined) return "";
  try {
    return JSON.stringify(metadata, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "";
  } catch (err) {
    return JSON.stringify({ metadataError: messageOf(err) });
  }
}

/**
 * How the host's cancellation of a job's call reaches the job: `runJob` hands it the function
 * that cancels the job, to be called if the host cancels. A callback instead of an AbortSignal,
 * so a job makes one AbortController (its handler's signal), not two.
 */
export type CancelWatch = (cancel: () => void) => void;

type Outcome = { kind: "ok"; value: unknown } | { kind: "error"; err: unknown } | { kind: "timeout"; seconds: number } | { kind: "cancelled" };

function abortError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/**
 * Runs the job of `request` with the handler it names. `watchCancel` gets the function that
 * cancels the job when the host cancels the call. Resolves with the answer; never rejects.
 */
export async function runJob(def: PluginDefinition, runtime: PluginRuntime, request: ExecuteJobRequest, watchCancel: CancelWatch): Promise<ExecuteJobResponse> {
  const { name: pluginName, version } = def.metadata;
  const progress = { current: 0, total: 0 };
  let cost = 0;
  const logEntries: JobLogEntry[] = [];
  let droppedLogs = 0;
  const answer = (fields: { success: boolean; error?: string; result?: Buffer }): ExecuteJobResponse => {
    const entries = droppedLogs === 0 ? [...logEntries] : [...logEntries, entry("warn", `${droppedLogs} more log entries dropped (limit ${MAX_JOB_LOG_ENTRIES})`, undefined)];
    return ExecuteJobResponse.fromPartial({
      ...fields,
      progressCurrent: progress.current,
      progressTotal: progress.total,
      costActual: cost,
      logEntries: entries,
      pluginVersion: version,
    });
  };

  const found = runtime.findHandler(request.handlerName);
  if (!found) {
    const names = runtime.handlerNames();
    return answer({
      success: false,
      error: `no job handler named ${request.handlerName} in plugin ${pluginName} (has: ${names.length > 0 ? names.join(", ") : "none"})`,
    });
  }

  // Made on first use, like the progress pusher below: most jobs never log or report progress.
  // A pusher made for every job cost about 30 µs of plugin CPU per job, mostly finishing it
  // (a timer and promises) before the answer (bench/notes/03-sdk-job-abort.md).
  let jobLogger: Logger | undefined;
  const jobLog = (): Logger => (jobLogger ??= def.log.child({ jobId: request.jobId, handler: found.name }));
  // Snapshot: a re-Initialize during the job does not change what this job sees.
  const { config } = runtime;
  const services = { ...runtime.services };
  const queue = services.queue;
  let pusher: ProgressPusher | undefined;
  const pushProgress = (value: ProgressValue): void => {
    if (!queue || !request.jobId) return;
    pusher ??= new ProgressPusher((v) => queue.update({ id: request.jobId, progress: v, status: "running" }, { timeoutMs: 5_000 }), jobLog());
    pusher.push(value);
  };
  const controller = new AbortController();
  let done = false;

  function entry(level: string, message: string, options: JobLogOptions | undefined): JobLogEntry {
    return { timestamp: new Date().toISOString(), level, message: String(message), stage: options?.stage ?? "", metadata: metadataText(options?.metadata) };
  }
  const logAt =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, options?: JobLogOptions): void => {
      if (done) return;
      if (logEntries.length >= MAX_JOB_LOG_ENTRIES) {
        droppedLogs++;
        return;
      }
      logEntries.push(entry(level, message, options));
      jobLog().debug(`job log: ${message}`, { jobLevel: level, ...(options?.stage ? { stage: options.stage } : {}) });
    };
  const log: JobLog = { debug: logAt("debug"), info: logAt("info"), warn: logAt("warn"), error: logAt("error") };

  const ctx: JobContext = {
    trace: currentTrace(),
    jobId: request.jobId,
    handlerName: found.name,
    config,
    signal: controller.signal,
    progress(current, total) {
      const next = { current: toInt32(current, "current"), total: total === undefined ? progress.total : toInt32(total, "total") };
      if (done) return;
      progress.current = next.current;
      progress.total = next.total;
      pushProgress({ ...next });
    },
    log,
    addCost(amount) {
      if (typeof amount !== "number" || !Number.isFinite(amount)) throw new TypeError(`addCost: amount must be a finite number, got ${String(amount)}`);
      if (!done) cost += amount;
    },
    ...services,
    pluginLog: def.log,
  };

  let timer: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const outcome = await new Promise<Outcome>((resolve) => {
    // Presence, not truthiness: an absent timeout and 0 both mean none.
    const seconds = request.timeoutSecs;
    if (seconds !== undefined && seconds > 0 && seconds * 1000 <= MAX_TIMER_MS) {
      timer = setTimeout(() => {
        controller.abort(abortError("TimeoutError", `job timed out after ${seconds}s`));
        resolve({ kind: "timeout", seconds });
      }, seconds * 1000);
    }
    onCancel = () => {
      controller.abort(abortError("AbortError", "job cancelled by the host"));
      resolve({ kind: "cancelled" });
    };
    // Watched once onCancel exists: a call already cancelled cancels the job here, at once.
    watchCancel(() => onCancel?.());
    Promise.resolve()
      .then(() => found.handler(decodePayload(request.payload), ctx))
      .then(
        (value) => resolve({ kind: "ok", value }),
        (err: unknown) => resolve({ kind: "error", err }),
      );
  });
  clearTimeout(timer);
  // A cancel that comes after the outcome no longer reaches the handler's signal.
  onCancel = () => undefined;

  let response: ExecuteJobResponse;
  switch (outcome.kind) {
    case "ok":
      try {
        response = answer({ success: true, result: encodeResult(outcome.value) });
      } catch (err) {
        response = answer({ success: false, error: `job result could not be encoded: ${messageOf(err)}` });
      }
      break;
    case "error":
      jobLog().warn("job failed", { err: outcome.err });
      response = answer({ success: false, error: messageOf(outcome.err) || "job handler failed without a message" });
      break;
    case "timeout":
      jobLog().warn("job timed out", { timeoutSecs: outcome.seconds });
      response = answer({ success: false, error: `job timed out after ${outcome.seconds}s` });
      break;
    case "cancelled":
      jobLog().info("job cancelled by the host");
      response = answer({ success: false, error: "job cancelled" });
      break;
  }
  done = true;
  if (outcome.kind === "cancelled") pusher?.stop();
  else await pusher?.finish(PROGRESS_FLUSH_TIMEOUT_MS);
  return response;
}
