import type Database from "better-sqlite3";
import { PulseError } from "./errors.js";
import { scheduleRecord, type ScheduleRow } from "./schedule-rows.js";
import type { SqliteJobStore } from "./sqlite-job-store.js";
import type { NewJobRecord, PulseJob } from "./types.js";

/** A durable recurring schedule, keyed by qualified handler. Times are unix ms. */
export interface ScheduleRecord {
  handler: string;
  plugin: string;
  handlerName: string;
  /** 0 = off. */
  intervalSeconds: number;
  enabled: boolean;
  description: string;
  atsCode: string;
  nextRunAt: number;
  lastRunAt: number | undefined;
  lastJobId: string | undefined;
  createdAt: number;
  updatedAt: number;
}

/** A schedule as a plugin announces it (ScheduleInfo with the handler name already raw). */
export interface ScheduleSpec {
  handlerName: string;
  intervalSeconds: number;
  enabledByDefault: boolean;
  description: string;
  atsCode: string;
}

/** Outcome of {@link ScheduleStore.fire}. */
export interface FireResult {
  /** The job enqueued, when the schedule fired. */
  job: PulseJob | undefined;
  /** Why it did not: another scheduler advanced it first, or its previous job has not finished. */
  skipped: "raced" | "previous-pending" | undefined;
}

/** Storage of schedules (the SQLite one shares the connection of the job store). */
export interface ScheduleStore {
  /**
   * Upserts the schedules of `plugin` (new rows: enabled = enabledByDefault, first run one
   * interval from now; existing rows keep their enabled flag and next run) and deletes the
   * plugin's schedules it no longer announces.
   */
  sync(plugin: string, specs: readonly ScheduleSpec[], now: number): Promise<ScheduleRecord[]>;
  list(plugin?: string): Promise<ScheduleRecord[]>;
  setEnabled(handler: string, enabled: boolean, now: number): Promise<ScheduleRecord>;
  /** Enabled schedules with an interval whose next run is due. */
  due(now: number): Promise<ScheduleRecord[]>;
  /**
   * Atomically advances a due schedule from `expectedNextRunAt` to `nextRunAt` and, unless its
   * previous job is still queued, paused or running, enqueues `job`.
   */
  fire(handler: string, expectedNextRunAt: number, nextRunAt: number, job: NewJobRecord, now: number): Promise<FireResult>;
}


/** SQLite {@link ScheduleStore}; fires and enqueues in one transaction through the job store's connection. */
export class SqliteScheduleStore implements ScheduleStore {
  private readonly st: ReturnType<typeof prepare>;
  private readonly syncTx: (plugin: string, specs: readonly ScheduleSpec[], now: number) => void;
  private readonly fireTx: (handler: string, expected: number, next: number, job: NewJobRecord, now: number) => FireResult;

  /** `jobs` must be open on the same connection (it ran the migrations). */
  constructor(
    readonly db: Database.Database,
    private readonly jobs: SqliteJobStore,
  ) {
    if (jobs.db !== db) throw new Error("SqliteScheduleStore needs the SqliteJobStore of the same connection");
    this.st = prepare(db);
    this.syncTx = db.transaction((plugin: string, specs: readonly ScheduleSpec[], now: number) => {
      for (const s of specs) {
        this.st.upsert.run({
          handler: `${plugin}/${s.handlerName}`,
          plugin,
          handlerName: s.handlerName,
          interval: s.intervalSeconds,
          enabled: s.enabledByDefault ? 1 : 0,
          description: s.description,
          atsCode: s.atsCode,
          next: now + s.intervalSeconds * 1000,
          now,
        });
      }
      this.st.prune.run({ plugin, handlers: JSON.stringify(specs.map((s) => `${plugin}/${s.handlerName}`)) });
    });
    this.fireTx = db.transaction((handler: string, expected: number, next: number, job: NewJobRecord, now: number): FireResult => {
      if (this.st.advance.run({ handler, expected, next, now }).changes === 0) return { job: undefined, skipped: "raced" };
      const last = this.st.lastJobStatus.get(handler) as { status: string } | undefined;
      if (last && (last.status === "queued" || last.status === "paused" || last.status === "running")) {
        return { job: undefined, skipped: "previous-pending" };
      }
      const [inserted] = this.jobs.insertSync([job]);
      this.st.recordRun.run({ handler, jobId: job.id, now });
      return { job: inserted, skipped: undefined };
    });
  }

  async sync(plugin: string, specs: readonly ScheduleSpec[], now: number): Promise<ScheduleRecord[]> {
    this.syncTx(plugin, specs, now);
    return this.list(plugin);
  }

  async list(plugin?: string): Promise<ScheduleRecord[]> {
    return (this.st.list.all({ plugin: plugin ?? null }) as ScheduleRow[]).map(scheduleRecord);
  }

  async setEnabled(handler: string, enabled: boolean, now: number): Promise<ScheduleRecord> {
    const row = this.st.setEnabled.get({ handler, enabled: enabled ? 1 : 0, now }) as ScheduleRow | undefined;
    if (!row) throw new PulseError("NOT_FOUND", `no schedule for handler ${handler}`);
    return scheduleRecord(row);
  }

  async due(now: number): Promise<ScheduleRecord[]> {
    return (this.st.due.all(now) as ScheduleRow[]).map(scheduleRecord);
  }

  async fire(handler: string, expectedNextRunAt: number, nextRunAt: number, job: NewJobRecord, now: number): Promise<FireResult> {
    return this.fireTx(handler, expectedNextRunAt, nextRunAt, job, now);
  }
}

function prepare(db: Database.Database) {
  return {
    upsert: db.prepare(`
      INSERT INTO pulse_schedules (handler, plugin, handler_name, interval_seconds, enabled, description, ats_code,
        next_run_at, created_at, updated_at)
      VALUES (@handler, @plugin, @handlerName, @interval, @enabled, @description, @atsCode, @next, @now, @now)
      ON CONFLICT (handler) DO UPDATE SET
        plugin = excluded.plugin, handler_name = excluded.handler_name, description = excluded.description,
        ats_code = excluded.ats_code, interval_seconds = excluded.interval_seconds, updated_at = excluded.updated_at,
        next_run_at = CASE
          WHEN pulse_schedules.interval_seconds = excluded.interval_seconds THEN pulse_schedules.next_run_at
          WHEN pulse_schedules.interval_seconds <= 0 THEN excluded.next_run_at
          ELSE MIN(pulse_schedules.next_run_at, excluded.next_run_at) END`),
    prune: db.prepare(`
      DELETE FROM pulse_schedules WHERE plugin = @plugin AND handler NOT IN (SELECT value FROM json_each(@handlers))`),
    list: db.prepare("SELECT * FROM pulse_schedules WHERE @plugin IS NULL OR plugin = @plugin ORDER BY handler"),
    setEnabled: db.prepare("UPDATE pulse_schedules SET enabled = @enabled, updated_at = @now WHERE handler = @handler RETURNING *"),
    due: db.prepare(`
      SELECT * FROM pulse_schedules WHERE enabled = 1 AND interval_seconds > 0 AND next_run_at <= ? ORDER BY next_run_at`),
    advance: db.prepare(`
      UPDATE pulse_schedules SET next_run_at = @next, updated_at = @now WHERE handler = @handler AND next_run_at = @expected`),
    lastJobStatus: db.prepare(`
      SELECT j.status FROM pulse_schedules s JOIN pulse_jobs j ON j.id = s.last_job_id WHERE s.handler = ?`),
    recordRun: db.prepare("UPDATE pulse_schedules SET last_run_at = @now, last_job_id = @jobId WHERE handler = @handler"),
  };
}
