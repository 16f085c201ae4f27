import type { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import type { BackoffOptions } from "./backoff.js";
import type { HandlerRegistry } from "./handlers.js";
import type { JobStore } from "./job-store.js";
import type { Clock, PulseLogger } from "./logger.js";
import type { Executor } from "./executor.js";
import type { PulseEvents } from "./events.js";
import type { PulseJob } from "./types.js";

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  store: JobStore;
  handlers: HandlerRegistry;
  executor: Executor;
  /** Jobs run at once. Default 4. */
  concurrency?: number;
  /** Lease length (ms), renewed every leaseMs/3 while a job runs. Default 30,000. */
  leaseMs?: number;
  /** Timeout of jobs that do not set one. Default 300. */
  defaultTimeoutSecs?: number;
  /** Default `max_attempts` of new jobs (used by the facade at enqueue). Default 3. */
  maxAttempts?: number;
  /** Retry backoff. Defaults: base 1 s, cap 60 s, jitter. */
  backoff?: BackoffOptions;
  /** Fallback poll (ms) for delayed retries and expired leases; enqueue wakes the pool at once. Default 1000. */
  pollMs?: number;
  /** Jobs of plugins for which this returns false are not claimed: they wait (call `wake()` when it changes). */
  isAvailable?: (plugin: string) => boolean;
  logger?: PulseLogger;
  clock?: Clock;
  /** Lease owner id. Default: `pulse-<pid>-<random>` (unique per pool). */
  owner?: string;
  /** Emitter for 'job' events (the facade passes its own). */
  events?: EventEmitter<PulseEvents>;
  /**
   * Dispatch-ahead (see Dispatcher): a run that answered within this many ms lets the next
   * claim take one more job ahead. 0 turns claiming ahead off. Default 20.
   */
  fastRunMs?: number;
  /** A job claimed ahead that has not started after this many ms goes back to the queue. Default 250. */
  readyMaxMs?: number;
}

/**
 * What every part of the pool shares: its resolved settings and collaborators. The parts
 * (claims, dispatch, finishing, leases, cancellation) each hold this one object.
 */
export interface PoolCore {
  readonly store: JobStore;
  readonly handlers: HandlerRegistry;
  readonly executor: Executor;
  readonly owner: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly defaultTimeoutSecs: number;
  readonly backoff: BackoffOptions;
  readonly isAvailable: ((plugin: string) => boolean) | undefined;
  readonly fastRunMs: number;
  readonly readyMaxMs: number;
  readonly log: PulseLogger;
  readonly clock: Clock;
  /** Emits a 'job' event (every state change). */
  emit(job: PulseJob): void;
  /** Where the typed events (`job:claimed`, …, see events.ts) go. */
  readonly events: EventEmitter<PulseEvents>;
}

/** A new lease-owner id: unique per process and per pool, so a restarted host never mistakes old leases for its own. */
export function newOwnerId(): string {
  return `pulse-${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** A positive integer option, or a RangeError naming it. */
export function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

/** A finite option >= 0, or a RangeError naming it. */
export function nonNegative(n: number, name: string): number {
  if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`${name} must be a number >= 0, got ${n}`);
  return n;
}

/** A positive finite option, or a RangeError naming it. */
export function positive(n: number, name: string): number {
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`${name} must be a positive number, got ${n}`);
  return n;
}

/** Qualified handlers whose plugin is available now (what a claim may take). */
export function eligibleHandlers(core: PoolCore): string[] {
  const out: string[] = [];
  for (const e of core.handlers.list()) if (!core.isAvailable || core.isAvailable(e.plugin)) out.push(e.qualified);
  return out;
}
