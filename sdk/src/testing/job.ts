/**
 * `TestPlugin.job`: runs a job handler through `ExecuteJob` as the host's Pulse worker does —
 * the job recorded in the fake host's queue as `running` first (so the plugin's live
 * `UpdateJob` progress lands on a real job), its end recorded after — and decodes the answer.
 */
import type { ExecuteJobRequest, ExecuteJobResponse, Job } from "@qntx/protocol";
import { decodePayload } from "../jobs.js";
import { fakeHostInternals, type FakeHost } from "./fake-host.js";
import type { TestPluginCalls } from "./plugin-client.js";

/** Options of {@link TestPlugin.job}. */
export interface JobOptions {
  /** Job id the plugin sees. Default: a new one from the fake host (`job-N`), or `test-job-N` without a host. */
  jobId?: string;
  /** `timeout_secs` of the request: the plugin aborts the handler's signal and fails the job after it. */
  timeoutSecs?: number;
  /** Deadline of the call. Default: `timeoutSecs` plus 5 s when given, else the handle's `timeoutMs`. */
  timeoutMs?: number;
}

/** One line of the job's log, its `metadata` parsed. */
export interface JobLogLine {
  /** RFC 3339. */
  readonly timestamp: string;
  readonly level: string;
  readonly message: string;
  readonly stage: string;
  /** The metadata object, or undefined when the line has none. */
  readonly metadata: unknown;
}

/** What a job run answered, decoded. */
export interface JobRun {
  readonly jobId: string;
  readonly success: boolean;
  /** The failure message ("" on success). */
  readonly error: string;
  /** The result as a handler's payload is decoded: parsed JSON, else the bytes, `undefined` when empty. */
  readonly result: unknown;
  /** The result bytes as sent. */
  readonly resultBytes: Buffer;
  readonly progress: { readonly current: number; readonly total: number };
  /** `cost_actual`. */
  readonly cost: number;
  readonly logs: readonly JobLogLine[];
  readonly pluginVersion: string;
  /** The live progress pushes (UpdateJob calls) the fake host received for this job. */
  readonly updates: readonly Job[];
  /** The result as UTF-8 text. */
  text(): string;
  /** The result parsed as JSON; throws with the text when it is not JSON. */
  json<T = unknown>(): T;
}

/** Grace added to `timeoutSecs` for the call's deadline: the plugin answers a timeout itself. */
const TIMEOUT_GRACE_MS = 5_000;
let standaloneJobs = 0;

function encodePayload(payload: unknown): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TypeError(`job: a payload of type ${typeof payload} cannot be sent as JSON`);
  return Buffer.from(text, "utf8");
}

function parseMetadata(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Runs `handler` with `payload` on the plugin and records the run in `host` when there is one. */
export async function runTestJob(
  client: TestPluginCalls,
  pluginName: string,
  host: FakeHost | undefined,
  handler: string,
  payload: unknown,
  options: JobOptions,
  defaultTimeoutMs: number,
): Promise<JobRun> {
  if (typeof handler !== "string" || handler === "") throw new TypeError("job: handler must be a non-empty name");
  if (options.timeoutSecs !== undefined && !(Number.isInteger(options.timeoutSecs) && options.timeoutSecs > 0)) {
    throw new TypeError(`job: timeoutSecs must be a positive integer, got ${String(options.timeoutSecs)}`);
  }
  const bytes = encodePayload(payload);
  const internals = host ? fakeHostInternals(host) : undefined;
  let jobId = options.jobId ?? "";
  if (host && internals) {
    const existing = jobId ? host.job(jobId) : undefined;
    // The host registers a plugin's handlers as `<plugin>/<handler>` and sends the raw name.
    if (existing) internals.patchJob(jobId, { status: "running", startedAt: Math.floor(Date.now() / 1000) });
    else jobId = internals.beginRun({ id: jobId, handlerName: handler.includes("/") ? handler : `${pluginName}/${handler}`, payload: bytes }, "").id;
  } else if (!jobId) {
    jobId = `test-job-${++standaloneJobs}`;
  }

  const request: ExecuteJobRequest = { jobId, handlerName: handler, payload: bytes, ...(options.timeoutSecs === undefined ? {} : { timeoutSecs: options.timeoutSecs }) };
  const timeoutMs = options.timeoutMs ?? (options.timeoutSecs !== undefined ? options.timeoutSecs * 1000 + TIMEOUT_GRACE_MS : defaultTimeoutMs);
  let response: ExecuteJobResponse;
  try {
    response = await client.call(`ExecuteJob ${handler} (job ${jobId})`, timeoutMs, (plugin, options) => plugin.executeJob(request, options));
  } catch (err) {
    internals?.patchJob(jobId, { status: "failed", error: (err as Error).message, completedAt: Math.floor(Date.now() / 1000) });
    throw err;
  }
  internals?.patchJob(jobId, {
    status: response.success ? "completed" : "failed",
    error: response.error,
    progress: { current: response.progressCurrent, total: response.progressTotal },
    costActual: response.costActual,
    completedAt: Math.floor(Date.now() / 1000),
  });

  const resultBytes = Buffer.from(response.result);
  return {
    jobId,
    success: response.success,
    error: response.error,
    result: decodePayload(resultBytes),
    resultBytes,
    progress: { current: response.progressCurrent, total: response.progressTotal },
    cost: response.costActual,
    logs: response.logEntries.map((entry) => ({ timestamp: entry.timestamp, level: entry.level, message: entry.message, stage: entry.stage, metadata: parseMetadata(entry.metadata) })),
    pluginVersion: response.pluginVersion,
    updates: host ? host.updates.filter((update) => update.id === jobId) : [],
    text: () => resultBytes.toString("utf8"),
    json<T>(): T {
      const text = resultBytes.toString("utf8");
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new SyntaxError(`result of job ${jobId} is not JSON: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
      }
    },
  };
}
