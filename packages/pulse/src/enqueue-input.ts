/**
 * What a caller gives to enqueue a job (`EnqueueInput`, `JobUpdate`) and how it becomes a
 * complete row: validation, handler routing, defaults, the payload's bytes.
 */
import { randomUUID } from "node:crypto";
import type { JobLogEntry } from "@qntx/protocol";
import { PulseError } from "./errors.js";
import type { HandlerRegistry } from "./handlers.js";
import type { ProgressPatch } from "./job-store.js";
import type { NewJobRecord } from "./types.js";

/** A job payload: bytes, a string (UTF-8), or a value serialised as JSON. */
export type PayloadInput = Buffer | Uint8Array | string | object | null | undefined;

/** What a caller gives to enqueue a job. */
export interface EnqueueInput {
  /** `plugin/handler`, or a bare handler name announced by exactly one plugin. */
  handler: string;
  payload?: PayloadInput;
  /** Default: a generated UUID. */
  id?: string | undefined;
  source?: string | undefined;
  /** Higher runs first. Default 0. */
  priority?: number | undefined;
  /** Default: the pool's maxAttempts (3). */
  maxAttempts?: number | undefined;
  /** Default: the pool's defaultTimeoutSecs (300). */
  timeoutSecs?: number | undefined;
  /** Unix ms before which the job is not run. Default now. */
  runAt?: number | undefined;
  parentJobId?: string | undefined;
  costEstimate?: number | undefined;
  /** Enqueue as `paused` (runs after resume). */
  paused?: boolean | undefined;
}

/** A progress update (UpdateJob), optionally with log lines. */
export interface JobUpdate extends ProgressPatch {
  logs?: readonly JobLogEntry[] | undefined;
}

/**
 * Builds a complete row from an EnqueueInput: validates it, routes its handler through
 * `handlers` (with `shared`, a store several hosts share: also to plugins other hosts run, see
 * HandlerRegistry.resolveAnywhere), and applies the defaults (`maxAttempts` the pool's).
 * @throws PulseError UNKNOWN_HANDLER / AMBIGUOUS_HANDLER (naming the candidates) or INVALID_ARGUMENT.
 */
export function newJobRecord(i: EnqueueInput, now: number, handlers: HandlerRegistry, defaultMaxAttempts: number, shared = false): NewJobRecord {
  if (typeof i.handler !== "string" || i.handler === "") throw new PulseError("INVALID_ARGUMENT", "a job needs a handler name");
  const route = shared ? handlers.resolveAnywhere(i.handler) : handlers.resolve(i.handler);
  const maxAttempts = i.maxAttempts ?? defaultMaxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new PulseError("INVALID_ARGUMENT", `maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  const priority = i.priority ?? 0;
  if (!Number.isInteger(priority)) throw new PulseError("INVALID_ARGUMENT", `priority must be an integer, got ${priority}`);
  if (i.timeoutSecs !== undefined && !(i.timeoutSecs > 0 && Number.isFinite(i.timeoutSecs))) {
    throw new PulseError("INVALID_ARGUMENT", `timeoutSecs must be a positive number, got ${i.timeoutSecs}`);
  }
  const runAt = i.runAt ?? now;
  if (!Number.isFinite(runAt)) throw new PulseError("INVALID_ARGUMENT", `runAt must be a unix time in ms, got ${i.runAt}`);
  const costEstimate = i.costEstimate ?? 0;
  if (!Number.isFinite(costEstimate)) throw new PulseError("INVALID_ARGUMENT", `costEstimate must be a number, got ${i.costEstimate}`);
  return {
    id: i.id || randomUUID(),
    handler: route.qualified,
    plugin: route.plugin,
    handlerName: route.handler,
    payload: toPayload(i.payload),
    source: i.source ?? "",
    status: i.paused ? "paused" : "queued",
    priority,
    runAt,
    maxAttempts,
    timeoutSecs: i.timeoutSecs,
    costEstimate,
    parentJobId: i.parentJobId ?? "",
    createdAt: now,
  };
}

/** A payload as the bytes stored. */
export function toPayload(p: PayloadInput): Buffer {
  if (p === undefined || p === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(p)) return p;
  if (p instanceof Uint8Array) return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  if (typeof p === "string") return Buffer.from(p, "utf8");
  return Buffer.from(JSON.stringify(p), "utf8");
}
