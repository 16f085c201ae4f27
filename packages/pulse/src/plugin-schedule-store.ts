import type Database from "better-sqlite3";
import { PulseError } from "./errors.js";
import { pluginScheduleRecord, type PluginScheduleRow } from "./schedule-rows.js";
import type { SqliteJobStore } from "./sqlite-job-store.js";
import type { NewJobRecord } from "./types.js";
import type { FireResult } from "./schedule-store.js";

/** The states of a schedule a plugin made (QNTX's ScheduleState; `stopping`/`inactive` are not used). */
export type PluginScheduleState = "active" | "paused" | "deleted";

/**
 * A schedule a plugin created at run time (ScheduleService), owned by it. Times are unix ms.
 * It enqueues `handler` with `payload` every `intervalSeconds` while `active`.
 */
export interface PluginScheduleRecord {
  id: string;
  /** The plugin that created it: the only one that may read or change it over the wire. */
  owner: string;
  /** Qualified handler, `<plugin>/<handler>`. */
  handler: string;
  plugin: string;
  handlerName: string;
  intervalSeconds: number;
  payload: Buffer;
  /** JSON text of the metadata map it was created with ("" when none). */
  metadata: string;
  state: PluginScheduleState;
  nextRunAt: number;
  lastRunAt: number | undefined;
  lastJobId: string | undefined;
  createdAt: number;
  updatedAt: number;
}

/** What creating one needs (the store fills the state and the times). */
export type NewPluginSchedule = Pick<PluginScheduleRecord, "id" | "owner" | "handler" | "plugin" | "handlerName" | "intervalSeconds" | "payload" | "metadata">;

/**
 * A schedule to create from what a plugin asked: `handler` split into plugin and name.
 * @throws PulseError INVALID_ARGUMENT for a handler that is not plugin/handler or an interval under 1 s
 */
export function newPluginSchedule(input: Omit<NewPluginSchedule, "plugin" | "handlerName">): NewPluginSchedule {
  const slash = input.handler.indexOf("/");
  if (slash <= 0 || slash === input.handler.length - 1) throw new PulseError("INVALID_ARGUMENT", `a schedule's handler must be plugin/handler, got "${input.handler}"`);
  if (!Number.isInteger(input.intervalSeconds) || input.intervalSeconds < 1 || input.intervalSeconds > 2_147_483_647) {
    throw new PulseError("INVALID_ARGUMENT", `interval_seconds must be a whole number of seconds >= 1, got ${input.intervalSeconds}`);
  }
  return { ...input, plugin: input.handler.slice(0, slash), handlerName: input.handler.slice(slash + 1) };
}

/** Storage of the schedules plugins create (the SQLite one shares the job store's connection). */
export interface PluginScheduleStore {
  /**
   * Stores a new active schedule, first run one interval from `now`; but when `owner` already
   * has an active one for the same handler, interval and payload, returns that one instead
   * (a plugin that creates its schedule at every Initialize keeps one).
   */
  create(schedule: NewPluginSchedule, now: number): Promise<{ record: PluginScheduleRecord; existed: boolean }>;
  get(id: string): Promise<PluginScheduleRecord | undefined>;
  /** Every schedule (deleted ones included), or those of one owner, oldest first. */
  list(owner?: string): Promise<PluginScheduleRecord[]>;
  /** Moves a schedule to `state`; resuming one whose run time passed makes it due at once. */
  setState(id: string, state: PluginScheduleState, now: number): Promise<PluginScheduleRecord>;
  /** Active schedules whose next run is due. */
  due(now: number): Promise<PluginScheduleRecord[]>;
  /** As ScheduleStore.fire, by id: advances the schedule and enqueues `job` unless its previous job is unfinished. */
  fire(id: string, expectedNextRunAt: number, nextRunAt: number, job: NewJobRecord, now: number): Promise<FireResult>;
}


/** SQLite {@link PluginScheduleStore}: fires and enqueues in one transaction through the job store's connection. */
export class SqlitePluginScheduleStore implements PluginScheduleStore {
  private readonly st: ReturnType<typeof prepare>;
  private readonly createTx: (s: NewPluginSchedule, now: number) => { record: PluginScheduleRecord; existed: boolean };
  private readonly fireTx: (id: string, expected: number, next: number, job: NewJobRecord, now: number) => FireResult;

  /** `jobs` must be open on the same connection (it ran the migrations). */
  constructor(
    readonly db: Database.Database,
    private readonly jobs: SqliteJobStore,
  ) {
    if (jobs.db !== db) throw new Error("SqlitePluginScheduleStore needs the SqliteJobStore of the same connection");
    this.st = prepare(db);
    this.createTx = db.transaction((s: NewPluginSchedule, now: number) => {
      const same = this.st.same.get({ owner: s.owner, handler: s.handler, interval: s.intervalSeconds, payload: s.payload }) as PluginScheduleRow | undefined;
      if (same) return { record: pluginScheduleRecord(same), existed: true };
      this.st.insert.run({ ...s, next: now + s.intervalSeconds * 1000, now });
      return { record: pluginScheduleRecord(this.st.get.get(s.id) as PluginScheduleRow), existed: false };
    });
    this.fireTx = db.transaction((id: string, expected: number, next: number, job: NewJobRecord, now: number): FireResult => {
      if (this.st.advance.run({ id, expected, next, now }).changes === 0) return { job: undefined, skipped: "raced" };
      const last = this.st.lastJobStatus.get(id) as { status: string } | undefined;
      if (last && (last.status === "queued" || last.status === "paused" || last.status === "running")) return { job: undefined, skipped: "previous-pending" };
      const [inserted] = this.jobs.insertSync([job]);
      this.st.recordRun.run({ id, jobId: job.id, now });
      return { job: inserted, skipped: undefined };
    });
  }

  async create(schedule: NewPluginSchedule, now: number): Promise<{ record: PluginScheduleRecord; existed: boolean }> {
    return this.createTx(schedule, now);
  }

  async get(id: string): Promise<PluginScheduleRecord | undefined> {
    const row = this.st.get.get(id) as PluginScheduleRow | undefined;
    return row && pluginScheduleRecord(row);
  }

  async list(owner?: string): Promise<PluginScheduleRecord[]> {
    return (this.st.list.all({ owner: owner ?? null }) as PluginScheduleRow[]).map(pluginScheduleRecord);
  }

  async setState(id: string, state: PluginScheduleState, now: number): Promise<PluginScheduleRecord> {
    const row = this.st.setState.get({ id, state, now }) as PluginScheduleRow | undefined;
    if (!row) throw new PulseError("NOT_FOUND", `no schedule with id ${id}`);
    return pluginScheduleRecord(row);
  }

  async due(now: number): Promise<PluginScheduleRecord[]> {
    return (this.st.due.all(now) as PluginScheduleRow[]).map(pluginScheduleRecord);
  }

  async fire(id: string, expectedNextRunAt: number, nextRunAt: number, job: NewJobRecord, now: number): Promise<FireResult> {
    return this.fireTx(id, expectedNextRunAt, nextRunAt, job, now);
  }
}

function prepare(db: Database.Database) {
  return {
    same: db.prepare(`
      SELECT * FROM pulse_plugin_schedules
      WHERE owner = @owner AND handler = @handler AND interval_seconds = @interval AND payload = @payload AND state = 'active'
      ORDER BY created_at LIMIT 1`),
    insert: db.prepare(`
      INSERT INTO pulse_plugin_schedules (id, owner, handler, plugin, handler_name, interval_seconds, payload, metadata, state,
        next_run_at, created_at, updated_at)
      VALUES (@id, @owner, @handler, @plugin, @handlerName, @intervalSeconds, @payload, @metadata, 'active', @next, @now, @now)`),
    get: db.prepare("SELECT * FROM pulse_plugin_schedules WHERE id = ?"),
    list: db.prepare("SELECT * FROM pulse_plugin_schedules WHERE @owner IS NULL OR owner = @owner ORDER BY created_at, id"),
    // A deleted schedule stays deleted; resuming one that missed runs makes it due now (one catch-up).
    setState: db.prepare(`
      UPDATE pulse_plugin_schedules SET state = @state, updated_at = @now,
        next_run_at = CASE WHEN @state = 'active' AND next_run_at < @now THEN @now ELSE next_run_at END
      WHERE id = @id AND (state <> 'deleted' OR @state = 'deleted') RETURNING *`),
    due: db.prepare("SELECT * FROM pulse_plugin_schedules WHERE state = 'active' AND next_run_at <= ? ORDER BY next_run_at"),
    advance: db.prepare(`
      UPDATE pulse_plugin_schedules SET next_run_at = @next, updated_at = @now
      WHERE id = @id AND next_run_at = @expected AND state = 'active'`),
    lastJobStatus: db.prepare(`
      SELECT j.status FROM pulse_plugin_schedules s JOIN pulse_jobs j ON j.id = s.last_job_id WHERE s.id = ?`),
    recordRun: db.prepare("UPDATE pulse_plugin_schedules SET last_run_at = @now, last_job_id = @jobId WHERE id = @id"),
  };
}
