import { EventEmitter } from "node:events";
import type Database from "better-sqlite3";
import type { Job } from "@qntx/protocol";
import { PulseError } from "./errors.js";
import { HandlerRegistry } from "./handlers.js";
import type { JobStore } from "./job-store.js";
import { newJobRecord, type EnqueueInput, type JobUpdate } from "./enqueue-input.js";
import { silentLogger, systemClock, type Clock, type PulseLogger } from "./logger.js";
import type { PulseEvents } from "./events.js";
import { WorkerPool, newOwnerId, type WorkerPoolOptions } from "./pool.js";
import { newPluginSchedule, type PluginScheduleRecord, type PluginScheduleState, type PluginScheduleStore } from "./plugin-schedule-store.js";
import type { ScheduleRecord, ScheduleStore } from "./schedule-store.js";
import { Scheduler, type ScheduleInput } from "./scheduler.js";
import { sqliteStores } from "./sqlite-stores.js";
import type { ListQuery, NewJobRecord, PulseJob, PulseJobDetail, PulseLogEntry } from "./types.js";

/** Options of {@link Pulse}: the pool's options plus where to store. */
export interface PulseOptions extends Omit<WorkerPoolOptions, "store" | "handlers" | "events" | "logger" | "clock"> {
  /** The shared `qntx.db` connection (Pulse migrates namespace "pulse" on it). Or pass `stores`. */
  db?: Database.Database;
  /** Other storage (e.g. PostgreSQL) instead of `db`; without `pluginSchedules`, plugins cannot create schedules. */
  stores?: { jobs: JobStore; schedules: ScheduleStore; pluginSchedules?: PluginScheduleStore };
  /** Schedule tick period (ms); 0 = only manual `scheduler.tick()`. Default 1000. */
  scheduleTickMs?: number;
  logger?: PulseLogger;
  clock?: Clock;
}

/**
 * Pulse, the durable job queue, as the host uses it: handler registry, enqueue with routing,
 * job queries and state changes, the worker pool and the scheduler, a 'job' event for every
 * state change, and typed events of runs and leases (events.ts).
 *
 * Ownership: every Pulse has a random lease-owner id (`owner`). On a SQLite file `start()`
 * re-queues every running job another owner leased (one host per file); on a shared store
 * only expired leases (the others belong to live hosts). The attempt counts either way.
 */
export class Pulse {
  readonly handlers = new HandlerRegistry();
  readonly events = new EventEmitter<PulseEvents>();
  readonly store: JobStore;
  readonly pool: WorkerPool;
  readonly scheduler: Scheduler;
  /** The schedules plugins create at run time (ScheduleService), when the storage has them. */
  readonly pluginSchedules: PluginScheduleStore | undefined;
  /** Lease-owner id of this instance (unique per process and per Pulse). */
  readonly owner: string;
  private readonly clock: Clock;
  private readonly log: PulseLogger;
  private started = false;
  private unsubscribe: (() => void) | undefined;

  constructor(options: PulseOptions) {
    const { db, stores, scheduleTickMs, ...poolOptions } = options;
    const { jobs, schedules, pluginSchedules } = stores ?? sqliteStores(db);
    this.store = jobs;
    this.pluginSchedules = pluginSchedules;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.owner = options.owner ?? newOwnerId();
    this.pool = new WorkerPool({
      ...poolOptions,
      owner: this.owner,
      store: this.store,
      handlers: this.handlers,
      events: this.events,
      logger: this.log,
      clock: this.clock,
    });
    this.scheduler = new Scheduler({
      store: schedules,
      handlers: this.handlers,
      tickMs: scheduleTickMs ?? 1000,
      clock: this.clock,
      logger: this.log,
      newJob: (s, now) => this.record({ handler: s.handler, payload: s.atsCode ? { ats_code: s.atsCode } : undefined, source: "schedule" }, now),
      pluginStore: this.pluginSchedules,
      newPluginJob: (s, now) => this.record({ handler: s.handler, payload: s.payload, source: `schedule:${s.id}` }, now),
      onEnqueued: (job) => {
        this.events.emit("job", job);
        this.pool.wake();
      },
    });
    // A plugin (re)registering may unblock waiting jobs.
    this.handlers.onChange(() => this.pool.wake());
  }

  /** Subscribes to one of Pulse's events (events.ts): `job` (every state change), `job:claimed`, `job:completed`, `job:failed`, `job:retried`, `lease:reclaimed`. */
  on<K extends keyof PulseEvents>(event: K, listener: (...args: PulseEvents[K]) => void): this {
    // node's listener type does not resolve for a generic K; the signature above is the check.
    this.events.on(event, listener as never);
    return this;
  }

  /** Unsubscribes a listener. */
  off<K extends keyof PulseEvents>(event: K, listener: (...args: PulseEvents[K]) => void): this {
    this.events.off(event, listener as never);
    return this;
  }

  /**
   * Recovers jobs left running by a previous host (every lease not owned by this instance; on
   * a store several hosts share, only the leases that expired), then starts the worker pool
   * and the scheduler.
   * @returns the jobs recovered.
   */
  async start(): Promise<PulseJob[]> {
    if (this.started) return [];
    this.started = true;
    // Jobs another host enqueues wake this pool (a shared store), at once or when they are due.
    this.unsubscribe = this.store.onNewJobs?.((runAt) => {
      if (runAt === undefined || runAt <= this.clock.now()) this.pool.wake();
      else this.pool.wakeAt(runAt);
    });
    // On a shared store other owners are live hosts: only their expired leases are taken.
    const now = this.clock.now();
    const recovered = this.store.shared ? await this.store.expireLeases(now) : await this.store.recoverAbandoned(this.owner, now);
    for (const job of recovered) {
      this.events.emit("job", job);
      this.events.emit("lease:reclaimed", { job, cause: "recovered" });
    }
    if (recovered.length) this.log.info({ jobs: recovered.map((j) => j.id) }, "pulse: recovered jobs left running by a previous host");
    this.pool.start();
    this.scheduler.start();
    return recovered;
  }

  /** Stops the scheduler and the pool (running jobs get `graceMs`, then go back to the queue). */
  async stop(graceMs?: number): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.scheduler.stop();
    await this.pool.stop(graceMs);
  }

  /**
   * Registers a plugin's handlers (as `plugin/handler`) and, when given, syncs its schedules.
   * @returns the qualified handler names.
   */
  async registerPlugin(plugin: string, handlerNames: readonly string[], schedules?: readonly ScheduleInput[]): Promise<string[]> {
    const qualified = this.handlers.register(plugin, handlerNames);
    if (schedules) await this.scheduler.sync(plugin, schedules);
    return qualified;
  }

  /** Unregisters a plugin's handlers: its jobs wait, its schedules stay but do not fire. */
  unregisterPlugin(plugin: string): void {
    this.handlers.unregister(plugin);
  }

  /** Claims at once (call when a plugin becomes available again). */
  wake(): void {
    this.pool.wake();
  }

  /**
   * Enqueues a job, routing its handler through the registry.
   * @throws PulseError UNKNOWN_HANDLER / AMBIGUOUS_HANDLER (naming the candidates) or INVALID_ARGUMENT.
   */
  async enqueue(input: EnqueueInput): Promise<PulseJob> {
    const [job] = await this.enqueueMany([input]);
    return job!;
  }

  /** Enqueues several jobs in one transaction (all or none). */
  async enqueueMany(inputs: readonly EnqueueInput[]): Promise<PulseJob[]> {
    const now = this.clock.now();
    return this.insert(inputs.map((i) => this.record(i, now)), now);
  }

  /**
   * Enqueues a wire `Job` (QueueService.Enqueue): fills id, status `queued` and created_at when
   * empty; `status` may be "", "queued" or "paused"; `source` defaults to `defaults.source`;
   * `defaults.traceparent` is the trace the caller's call came in (call metadata).
   */
  async enqueueWire(job: Job, defaults: { source?: string; traceparent?: string; tracestate?: string } = {}): Promise<PulseJob> {
    if (job.status !== "" && job.status !== "queued" && job.status !== "paused") {
      throw new PulseError("INVALID_ARGUMENT", `a new job must be "queued" or "paused", not "${job.status}"`, { hint: "leave status empty" });
    }
    const now = this.clock.now();
    const record = this.record(
      {
        handler: job.handlerName,
        payload: job.payload,
        id: job.id || undefined,
        source: job.source || defaults.source,
        parentJobId: job.parentJobId,
        traceparent: defaults.traceparent,
        tracestate: defaults.tracestate,
        costEstimate: job.costEstimate,
        paused: job.status === "paused",
      },
      now,
    );
    if (job.createdAt > 0) record.createdAt = job.createdAt * 1000;
    const [stored] = await this.insert([record], now);
    return stored!;
  }

  /**
   * Inserts new jobs. When some are due now and the pool has free slots, the pool's claim runs
   * in the same transaction (one commit from enqueue to dispatch), and the claimed jobs start
   * right after their 'queued' events; otherwise the pool is woken.
   */
  private async insert(records: readonly NewJobRecord[], now: number): Promise<PulseJob[]> {
    const due = records.some((r) => r.status === "queued" && r.runAt <= now);
    const claim = due ? this.pool.claimWithEnqueue() : undefined;
    if (!claim) {
      const jobs = await this.store.enqueue(records);
      this.afterEnqueue(jobs);
      return jobs;
    }
    let claimed: PulseJob[] | undefined;
    try {
      const out = await this.store.enqueueAndClaim(records, claim, now);
      claimed = out.claimed;
      this.afterEnqueue(out.enqueued, false);
      return out.enqueued;
    } finally {
      this.pool.claimedWithEnqueue(claimed);
    }
  }

  /** Emits the new jobs' events and wakes the pool for them (`wake` false: the enqueue claimed already). */
  private afterEnqueue(jobs: readonly PulseJob[], wake = true): void {
    const now = this.clock.now();
    let due = false;
    for (const job of jobs) {
      this.events.emit("job", job);
      if (job.status !== "queued") continue;
      if (job.runAt <= now) due = true;
      else this.pool.wakeAt(job.runAt);
    }
    if (due && wake) this.pool.wake();
  }

  /** A complete row from an EnqueueInput (see newJobRecord). */
  private record(i: EnqueueInput, now: number): NewJobRecord {
    return newJobRecord(i, now, this.handlers, this.pool.maxAttempts, this.store.shared === true);
  }

  /** A job with its logs, or undefined. */
  async get(id: string): Promise<PulseJobDetail | undefined> {
    const job = await this.store.get(id);
    return job && { ...job, logs: await this.store.logs(id) };
  }

  /** Jobs newest first; `status` "" = all; limit default 100. */
  list(query: ListQuery = {}): Promise<PulseJob[]> {
    return this.store.list(query);
  }

  /** Log lines of a job, oldest first. */
  logs(id: string): Promise<PulseLogEntry[]> {
    return this.store.logs(id);
  }

  /** Jobs per status. */
  counts(): Promise<Record<string, number>> {
    return this.store.counts();
  }

  /** Progress/cost (and log lines) of a job that has not finished (UpdateJob). */
  async update(id: string, patch: JobUpdate): Promise<PulseJob> {
    const job = await this.store.updateProgress(id, patch, this.clock.now());
    if (patch.logs?.length) await this.store.appendLogs(id, patch.logs);
    this.events.emit("job", job);
    return job;
  }

  /**
   * UpdateJob from the wire: applies `progress` (when present) and `cost_actual` (when non-zero).
   * Other fields, status included, are ignored: state changes go through cancel/pause/resume/retry.
   */
  updateWire(job: Job): Promise<PulseJob> {
    if (!job.id) throw new PulseError("INVALID_ARGUMENT", "UpdateJob needs job.id");
    return this.update(job.id, {
      progress: job.progress ? { current: job.progress.current, total: job.progress.total } : undefined,
      costActual: job.costActual ? job.costActual : undefined,
    });
  }

  /** Cancels a job (see WorkerPool.cancel). Never retried. */
  cancel(id: string): Promise<PulseJob> {
    return this.pool.cancel(id);
  }

  /** Re-queues a failed or cancelled job with its attempts reset. */
  async retry(id: string): Promise<PulseJob> {
    const job = await this.store.retry(id, this.clock.now());
    this.afterEnqueue([job]);
    return job;
  }

  /** Holds a queued job (it is not claimed until resumed). */
  async pause(id: string): Promise<PulseJob> {
    const job = await this.pool.pause(id);
    this.events.emit("job", job);
    return job;
  }

  /** Releases a paused job back to the queue. */
  async resume(id: string): Promise<PulseJob> {
    const job = await this.store.resume(id, this.clock.now());
    this.afterEnqueue([job]);
    return job;
  }

  /** Schedules, all or of one plugin. */
  schedules(plugin?: string): Promise<ScheduleRecord[]> {
    return this.scheduler.list(plugin);
  }

  /**
   * Creates a schedule owned by `owner` (ScheduleService.CreateSchedule): `handler` is qualified
   * and need not be registered yet (it fires once it is). An active schedule of the same owner,
   * handler, interval and payload is returned instead of a second one (`existed`).
   * @throws PulseError INVALID_ARGUMENT, or when the storage keeps no plugin schedules.
   */
  async createPluginSchedule(input: { id: string; owner: string; handler: string; intervalSeconds: number; payload: Buffer; metadata: string }): Promise<{ record: PluginScheduleRecord; existed: boolean }> {
    return this.requirePluginSchedules().create(newPluginSchedule(input), this.clock.now());
  }

  /** A schedule a plugin created, or undefined. */
  pluginSchedule(id: string): Promise<PluginScheduleRecord | undefined> {
    return this.requirePluginSchedules().get(id);
  }

  /** Schedules plugins created (deleted ones included), all or of one owner. */
  listPluginSchedules(owner?: string): Promise<PluginScheduleRecord[]> {
    return this.pluginSchedules ? this.pluginSchedules.list(owner) : Promise.resolve([]);
  }

  /** Pauses, resumes (`active`) or deletes a schedule a plugin created. */
  setPluginScheduleState(id: string, state: PluginScheduleState): Promise<PluginScheduleRecord> {
    return this.requirePluginSchedules().setState(id, state, this.clock.now());
  }

  private requirePluginSchedules(): PluginScheduleStore {
    if (!this.pluginSchedules) throw new PulseError("INVALID_STATE", "this Pulse's storage keeps no plugin schedules", { hint: "pass stores.pluginSchedules" });
    return this.pluginSchedules;
  }
}
