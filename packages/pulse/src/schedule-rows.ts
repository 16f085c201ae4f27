import type { PluginScheduleRecord, PluginScheduleState } from "./plugin-schedule-store.js";
import type { ScheduleRecord } from "./schedule-store.js";

// The rows of the schedule tables and how they become records: one mapping for both stores.

/** A row of pulse_schedules. */
export interface ScheduleRow {
  handler: string;
  plugin: string;
  handler_name: string;
  interval_seconds: number;
  enabled: number;
  description: string;
  ats_code: string;
  next_run_at: number;
  last_run_at: number | null;
  last_job_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A pulse_schedules row as a record. */
export function scheduleRecord(r: ScheduleRow): ScheduleRecord {
  return {
    handler: r.handler,
    plugin: r.plugin,
    handlerName: r.handler_name,
    intervalSeconds: r.interval_seconds,
    enabled: r.enabled === 1,
    description: r.description,
    atsCode: r.ats_code,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at ?? undefined,
    lastJobId: r.last_job_id ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A row of pulse_plugin_schedules. */
export interface PluginScheduleRow {
  id: string;
  owner: string;
  handler: string;
  plugin: string;
  handler_name: string;
  interval_seconds: number;
  payload: Buffer;
  metadata: string;
  state: PluginScheduleState;
  next_run_at: number;
  last_run_at: number | null;
  last_job_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A pulse_plugin_schedules row as a record. */
export function pluginScheduleRecord(r: PluginScheduleRow): PluginScheduleRecord {
  return {
    id: r.id,
    owner: r.owner,
    handler: r.handler,
    plugin: r.plugin,
    handlerName: r.handler_name,
    intervalSeconds: r.interval_seconds,
    payload: r.payload,
    metadata: r.metadata,
    state: r.state,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at ?? undefined,
    lastJobId: r.last_job_id ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
