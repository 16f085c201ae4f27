/**
 * Pulse's schedule stores on PostgreSQL: the schedules plugins announce and the ones they
 * create. A schedule fires once per slot across every host on the database: `fire` advances
 * `next_run_at` from the value the caller read, in the transaction that enqueues the job; a
 * second host firing the same slot waits for the first's row lock, then finds the value moved
 * and skips ("raced").
 */
import type pg from "pg";
import { PulseError } from "./errors.js";
import { newJob } from "./job-rows.js";
import type { PgJobStore } from "./pg-job-store.js";
import { inTransaction, sql } from "./pg-sql.js";
import type { NewPluginSchedule, PluginScheduleRecord, PluginScheduleState, PluginScheduleStore } from "./plugin-schedule-store.js";
import { scheduleRecord, pluginScheduleRecord, type PluginScheduleRow, type ScheduleRow } from "./schedule-rows.js";
import type { FireResult, ScheduleRecord, ScheduleSpec, ScheduleStore } from "./schedule-store.js";
import type { NewJobRecord } from "./types.js";

const UNFINISHED = new Set(["queued", "paused", "running"]);

const S = {
  upsert: sql(`INSERT INTO pulse_schedules (handler, plugin, handler_name, interval_seconds, enabled, description, ats_code,
      next_run_at, created_at, updated_at)
    VALUES (@handler, @plugin, @handlerName, @interval, @enabled, @description, @atsCode, @next, @now, @now)
    ON CONFLICT (handler) DO UPDATE SET
      plugin = excluded.plugin, handler_name = excluded.handler_name, description = excluded.description,
      ats_code = excluded.ats_code, interval_seconds = excluded.interval_seconds, updated_at = excluded.updated_at,
      next_run_at = CASE
        WHEN pulse_schedules.interval_seconds = excluded.interval_seconds THEN pulse_schedules.next_run_at
        WHEN pulse_schedules.interval_seconds <= 0 THEN excluded.next_run_at
        ELSE LEAST(pulse_schedules.next_run_at, excluded.next_run_at) END`),
  prune: sql("DELETE FROM pulse_schedules WHERE plugin = @plugin AND NOT (handler = ANY(@handlers::text[]))"),
  list: sql("SELECT * FROM pulse_schedules WHERE @plugin::text IS NULL OR plugin = @plugin::text ORDER BY handler"),
  setEnabled: sql("UPDATE pulse_schedules SET enabled = @enabled, updated_at = @now WHERE handler = @handler RETURNING *"),
  due: sql("SELECT * FROM pulse_schedules WHERE enabled = 1 AND interval_seconds > 0 AND next_run_at <= @now ORDER BY next_run_at"),
  advance: sql("UPDATE pulse_schedules SET next_run_at = @next, updated_at = @now WHERE handler = @handler AND next_run_at = @expected"),
  lastJobStatus: sql("SELECT j.status FROM pulse_schedules s JOIN pulse_jobs j ON j.id = s.last_job_id WHERE s.handler = @handler"),
  recordRun: sql("UPDATE pulse_schedules SET last_run_at = @now, last_job_id = @jobId WHERE handler = @handler"),
};

const P = {
  // One creator at a time per owner: two hosts initializing the same plugin keep one schedule.
  lockOwner: sql("SELECT pg_advisory_xact_lock(hashtext('pulse_plugin_schedules:' || @owner::text))"),
  same: sql(`SELECT * FROM pulse_plugin_schedules
    WHERE owner = @owner AND handler = @handler AND interval_seconds = @interval AND payload = @payload AND state = 'active'
    ORDER BY created_at LIMIT 1`),
  insert: sql(`INSERT INTO pulse_plugin_schedules (id, owner, handler, plugin, handler_name, interval_seconds, payload, metadata, state,
      next_run_at, created_at, updated_at)
    VALUES (@id, @owner, @handler, @plugin, @handlerName, @interval, @payload, @metadata, 'active', @next, @now, @now) RETURNING *`),
  get: sql("SELECT * FROM pulse_plugin_schedules WHERE id = @id"),
  list: sql("SELECT * FROM pulse_plugin_schedules WHERE @owner::text IS NULL OR owner = @owner::text ORDER BY created_at, id"),
  // A deleted schedule stays deleted; resuming one that missed runs makes it due now (one catch-up).
  setState: sql(`UPDATE pulse_plugin_schedules SET state = @state::text, updated_at = @now,
      next_run_at = CASE WHEN @state::text = 'active' AND next_run_at < @now::bigint THEN @now::bigint ELSE next_run_at END
    WHERE id = @id AND (state <> 'deleted' OR @state::text = 'deleted') RETURNING *`),
  due: sql("SELECT * FROM pulse_plugin_schedules WHERE state = 'active' AND next_run_at <= @now ORDER BY next_run_at"),
  advance: sql(`UPDATE pulse_plugin_schedules SET next_run_at = @next, updated_at = @now
    WHERE id = @id AND next_run_at = @expected AND state = 'active'`),
  lastJobStatus: sql("SELECT j.status FROM pulse_plugin_schedules s JOIN pulse_jobs j ON j.id = s.last_job_id WHERE s.id = @id"),
  recordRun: sql("UPDATE pulse_plugin_schedules SET last_run_at = @now, last_job_id = @jobId WHERE id = @id"),
};

/**
 * The transaction of a fire, for both kinds: advance (a host that lost the race stops), skip
 * while the previous job is unfinished, else enqueue (with its NOTIFY) and record the run.
 */
async function fireIn(jobs: PgJobStore, statements: typeof S | typeof P, key: Record<string, string>, expected: number, next: number, job: NewJobRecord, now: number): Promise<FireResult> {
  return inTransaction(jobs.pool, async (c): Promise<FireResult> => {
    if ((await statements.advance.run(c, { ...key, expected, next, now })).rowCount === 0) return { job: undefined, skipped: "raced" };
    const last = (await statements.lastJobStatus.run<{ status: string }>(c, key)).rows[0];
    if (last && UNFINISHED.has(last.status)) return { job: undefined, skipped: "previous-pending" };
    await jobs.insert(c, [job]);
    await jobs.notify(c, [job]);
    await statements.recordRun.run(c, { ...key, jobId: job.id, now });
    return { job: newJob(job), skipped: undefined };
  });
}

/** {@link ScheduleStore} on PostgreSQL. */
export class PgScheduleStore implements ScheduleStore {
  constructor(private readonly jobs: PgJobStore) {}

  private get pool(): pg.Pool {
    return this.jobs.pool;
  }

  async sync(plugin: string, specs: readonly ScheduleSpec[], now: number): Promise<ScheduleRecord[]> {
    await inTransaction(this.pool, async (c) => {
      for (const s of specs) {
        await S.upsert.run(c, {
          handler: `${plugin}/${s.handlerName}`, plugin, handlerName: s.handlerName, interval: s.intervalSeconds, enabled: s.enabledByDefault ? 1 : 0,
          description: s.description, atsCode: s.atsCode, next: now + s.intervalSeconds * 1000, now,
        });
      }
      await S.prune.run(c, { plugin, handlers: specs.map((s) => `${plugin}/${s.handlerName}`) });
    });
    return this.list(plugin);
  }

  async list(plugin?: string): Promise<ScheduleRecord[]> {
    return (await S.list.run<ScheduleRow>(this.pool, { plugin: plugin ?? null })).rows.map(scheduleRecord);
  }

  async setEnabled(handler: string, enabled: boolean, now: number): Promise<ScheduleRecord> {
    const row = (await S.setEnabled.run<ScheduleRow>(this.pool, { handler, enabled: enabled ? 1 : 0, now })).rows[0];
    if (!row) throw new PulseError("NOT_FOUND", `no schedule for handler ${handler}`);
    return scheduleRecord(row);
  }

  async due(now: number): Promise<ScheduleRecord[]> {
    return (await S.due.run<ScheduleRow>(this.pool, { now })).rows.map(scheduleRecord);
  }

  fire(handler: string, expectedNextRunAt: number, nextRunAt: number, job: NewJobRecord, now: number): Promise<FireResult> {
    return fireIn(this.jobs, S, { handler }, expectedNextRunAt, nextRunAt, job, now);
  }
}

/** {@link PluginScheduleStore} on PostgreSQL. */
export class PgPluginScheduleStore implements PluginScheduleStore {
  constructor(private readonly jobs: PgJobStore) {}

  private get pool(): pg.Pool {
    return this.jobs.pool;
  }

  async create(s: NewPluginSchedule, now: number): Promise<{ record: PluginScheduleRecord; existed: boolean }> {
    return inTransaction(this.pool, async (c) => {
      await P.lockOwner.run(c, { owner: s.owner });
      const same = (await P.same.run<PluginScheduleRow>(c, { owner: s.owner, handler: s.handler, interval: s.intervalSeconds, payload: s.payload })).rows[0];
      if (same) return { record: pluginScheduleRecord(same), existed: true };
      const row = (await P.insert.run<PluginScheduleRow>(c, {
        id: s.id, owner: s.owner, handler: s.handler, plugin: s.plugin, handlerName: s.handlerName, interval: s.intervalSeconds,
        payload: s.payload, metadata: s.metadata, next: now + s.intervalSeconds * 1000, now,
      })).rows[0]!;
      return { record: pluginScheduleRecord(row), existed: false };
    });
  }

  async get(id: string): Promise<PluginScheduleRecord | undefined> {
    const row = (await P.get.run<PluginScheduleRow>(this.pool, { id })).rows[0];
    return row && pluginScheduleRecord(row);
  }

  async list(owner?: string): Promise<PluginScheduleRecord[]> {
    return (await P.list.run<PluginScheduleRow>(this.pool, { owner: owner ?? null })).rows.map(pluginScheduleRecord);
  }

  async setState(id: string, state: PluginScheduleState, now: number): Promise<PluginScheduleRecord> {
    const row = (await P.setState.run<PluginScheduleRow>(this.pool, { id, state, now })).rows[0];
    if (!row) throw new PulseError("NOT_FOUND", `no schedule with id ${id}`);
    return pluginScheduleRecord(row);
  }

  async due(now: number): Promise<PluginScheduleRecord[]> {
    return (await P.due.run<PluginScheduleRow>(this.pool, { now })).rows.map(pluginScheduleRecord);
  }

  fire(id: string, expectedNextRunAt: number, nextRunAt: number, job: NewJobRecord, now: number): Promise<FireResult> {
    return fireIn(this.jobs, P, { id }, expectedNextRunAt, nextRunAt, job, now);
  }
}
