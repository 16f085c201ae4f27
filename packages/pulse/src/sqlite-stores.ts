/** Pulse's stores on one SQLite file, the embedded default (a shared store comes in as `stores`). */
import type Database from "better-sqlite3";
import { PulseError } from "./errors.js";
import type { JobStore } from "./job-store.js";
import { SqlitePluginScheduleStore, type PluginScheduleStore } from "./plugin-schedule-store.js";
import { SqliteScheduleStore, type ScheduleStore } from "./schedule-store.js";
import { SqliteJobStore } from "./sqlite-job-store.js";

/** Pulse's stores on the shared `qntx.db` connection. */
export function sqliteStores(db: Database.Database | undefined): { jobs: JobStore; schedules: ScheduleStore; pluginSchedules: PluginScheduleStore } {
  if (!db) throw new PulseError("INVALID_ARGUMENT", "Pulse needs a database: pass `db` (better-sqlite3) or `stores`");
  const jobs = new SqliteJobStore(db);
  return { jobs, schedules: new SqliteScheduleStore(db, jobs), pluginSchedules: new SqlitePluginScheduleStore(db, jobs) };
}
