import type { ScheduleInfo } from "@qntx/protocol";
import { PulseError } from "./errors.js";
import type { HandlerRegistry } from "./handlers.js";
import { silentLogger, systemClock, type Clock, type PulseLogger } from "./logger.js";
import type { PluginScheduleRecord, PluginScheduleStore } from "./plugin-schedule-store.js";
import type { FireResult, ScheduleRecord, ScheduleSpec, ScheduleStore } from "./schedule-store.js";
import type { NewJobRecord, PulseJob } from "./types.js";

/** A ScheduleInfo as plugins send it; description and ats_code may be left out. */
export type ScheduleInput = Pick<ScheduleInfo, "handlerName" | "intervalSeconds"> & Partial<ScheduleInfo>;

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  store: ScheduleStore;
  handlers: HandlerRegistry;
  /** Builds the job a schedule enqueues (the facade fills ids and defaults). */
  newJob: (schedule: ScheduleRecord, now: number) => NewJobRecord;
  /** The schedules plugins create at run time (ScheduleService); none when not given. */
  pluginStore?: PluginScheduleStore;
  /** Builds the job a plugin's schedule enqueues. */
  newPluginJob?: (schedule: PluginScheduleRecord, now: number) => NewJobRecord;
  /** Called with each job a tick enqueued (the facade emits the event and wakes the pool). */
  onEnqueued?: (job: PulseJob) => void;
  /** Tick period (ms) once started; 0 = no timer (call tick() yourself). Default 1000. */
  tickMs?: number;
  clock?: Clock;
  logger?: PulseLogger;
}

/**
 * Turns plugins' `ScheduleInfo` into recurring jobs. Schedules are durable rows keyed by
 * qualified handler. A tick enqueues one job per due schedule and advances it by its interval;
 * after downtime a schedule fires once (one catch-up), then continues one interval from now.
 * A schedule whose previous job is still queued/paused/running skips that run (no pile-up
 * while a plugin is paused). Schedules of a plugin that is gone stay, but do not fire (nor
 * advance) while their handler is not registered.
 */
export class Scheduler {
  private readonly store: ScheduleStore;
  private readonly handlers: HandlerRegistry;
  private readonly newJob: SchedulerOptions["newJob"];
  private readonly pluginStore: PluginScheduleStore | undefined;
  private readonly newPluginJob: SchedulerOptions["newPluginJob"];
  private readonly onEnqueued: ((job: PulseJob) => void) | undefined;
  private readonly tickMs: number;
  private readonly clock: Clock;
  private readonly log: PulseLogger;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<PulseJob[]> | undefined;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.handlers = options.handlers;
    this.newJob = options.newJob;
    this.pluginStore = options.pluginStore;
    this.newPluginJob = options.newPluginJob;
    this.onEnqueued = options.onEnqueued;
    this.tickMs = options.tickMs ?? 1000;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Upserts the schedules `plugin` announced (handler names raw or `plugin/`-qualified) and
   * drops the ones it no longer announces. `interval_seconds` 0 keeps the row but never fires.
   */
  async sync(plugin: string, schedules: readonly ScheduleInput[]): Promise<ScheduleRecord[]> {
    const specs = new Map<string, ScheduleSpec>();
    for (const s of schedules) {
      const raw = s.handlerName.startsWith(`${plugin}/`) ? s.handlerName.slice(plugin.length + 1) : s.handlerName;
      if (!raw) throw new PulseError("INVALID_ARGUMENT", `plugin ${plugin} announced a schedule without a handler name`);
      if (!Number.isInteger(s.intervalSeconds) || s.intervalSeconds < 0) {
        throw new PulseError("INVALID_ARGUMENT", `schedule ${plugin}/${raw}: interval_seconds must be a non-negative integer, got ${s.intervalSeconds}`);
      }
      specs.set(raw, {
        handlerName: raw,
        intervalSeconds: s.intervalSeconds,
        enabledByDefault: s.enabledByDefault ?? false,
        description: s.description ?? "",
        atsCode: s.atsCode ?? "",
      });
    }
    return this.store.sync(plugin, [...specs.values()], this.clock.now());
  }

  /** Schedules, all or of one plugin. */
  list(plugin?: string): Promise<ScheduleRecord[]> {
    return this.store.list(plugin);
  }

  /** Turns a schedule on or off (kept across plugin restarts; enabled_by_default only applies to new rows). */
  setEnabled(handler: string, enabled: boolean): Promise<ScheduleRecord> {
    return this.store.setEnabled(handler, enabled, this.clock.now());
  }

  /** Enqueues a job for each due schedule whose handler is registered. Returns the jobs enqueued. */
  tick(): Promise<PulseJob[]> {
    // Serialise ticks so a slow store cannot fire the same schedule twice.
    const prev = this.ticking ?? Promise.resolve([]);
    const next = prev.then(() => this.tickOnce());
    this.ticking = next.catch(() => []);
    return next;
  }

  private async tickOnce(): Promise<PulseJob[]> {
    const now = this.clock.now();
    const out: PulseJob[] = [];
    for (const s of await this.store.due(now)) {
      if (!this.handlers.has(s.handler)) continue;
      const next = nextRun(s.nextRunAt, s.intervalSeconds, now);
      this.fired(await this.store.fire(s.handler, s.nextRunAt, next, this.newJob(s, now), now), s.handler, s.lastJobId, out);
    }
    if (this.pluginStore && this.newPluginJob) {
      for (const s of await this.pluginStore.due(now)) {
        if (!this.handlers.has(s.handler)) continue;
        const next = nextRun(s.nextRunAt, s.intervalSeconds, now);
        this.fired(await this.pluginStore.fire(s.id, s.nextRunAt, next, this.newPluginJob(s, now), now), `${s.handler} (schedule ${s.id})`, s.lastJobId, out);
      }
    }
    return out;
  }

  /** Announces a fired schedule's job, or logs the skipped run. */
  private fired(res: FireResult, what: string, previousJob: string | undefined, out: PulseJob[]): void {
    if (res.job) {
      out.push(res.job);
      this.onEnqueued?.(res.job);
    } else if (res.skipped === "previous-pending") {
      this.log.info({ handler: what, previousJob }, "pulse: schedule skipped a run, its previous job has not finished");
    }
  }

  /** Starts the periodic tick (no-op when tickMs is 0). */
  start(): void {
    if (this.timer || this.tickMs <= 0) return;
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.log.error({ err }, "pulse: schedule tick failed"));
    }, this.tickMs);
    this.tick().catch((err: unknown) => this.log.error({ err }, "pulse: schedule tick failed"));
  }

  /** Stops the periodic tick and waits for a tick in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}

/** The run after `due`: one interval later, or one interval from now after downtime (this run is the single catch-up). */
function nextRun(due: number, intervalSeconds: number, now: number): number {
  const interval = intervalSeconds * 1000;
  const next = due + interval;
  return next <= now ? now + interval : next;
}
