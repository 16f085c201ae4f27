/**
 * Opening Pulse's stores on a PostgreSQL database: migrations first (the numbered files of
 * `migrations/pg`, under the advisory lock every qntx migration takes, so hosts starting
 * together migrate once), then the job store, both schedule stores and the LISTEN connection
 * that wakes this host when another enqueues.
 */
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { loadSqlMigrations, migratePg, type MigrateResult, type SqlMigration } from "@qntx/protocol";
import { silentLogger, type PulseLogger } from "./logger.js";
import { DatabaseAvailability } from "./pg-availability.js";
import { JobListener } from "./pg-job-listener.js";
import { PgJobStore } from "./pg-job-store.js";
import { PgPluginScheduleStore, PgScheduleStore } from "./pg-schedule-stores.js";

/** Pulse's PostgreSQL migrations (`packages/pulse/migrations/pg`). */
export const PG_PULSE_MIGRATIONS_DIR = fileURLToPath(new URL("../migrations/pg/", import.meta.url));

/** The namespace of Pulse's rows in `schema_migrations` (as on SQLite). */
export const PULSE_NAMESPACE = "pulse";

/** Pulse's stores on one database, as `PulseOptions.stores` takes them. */
export interface PgPulseStores {
  readonly jobs: PgJobStore;
  readonly schedules: PgScheduleStore;
  readonly pluginSchedules: PgPluginScheduleStore;
  /** What opening migrated. */
  readonly migrated: MigrateResult;
  /** Ends the LISTEN connection (the pool is the caller's). */
  close(): Promise<void>;
}

/** Options of {@link openPgPulseStores}. */
export interface OpenPgPulseOptions {
  readonly logger?: PulseLogger;
  /** The migrations to apply (tests). Default: the files of `migrations/pg`. */
  readonly migrations?: readonly SqlMigration[];
}

/**
 * Migrates Pulse's tables on `pool`'s database and opens its stores.
 * @param url the same database, for the LISTEN connection
 * @throws QntxError SCHEMA_TOO_NEW when a newer build migrated it; the driver's error when the
 *   database cannot be reached
 */
export async function openPgPulseStores(pool: pg.Pool, url: string, options: OpenPgPulseOptions = {}): Promise<PgPulseStores> {
  const client = await pool.connect();
  let migrated: MigrateResult;
  try {
    migrated = await migratePg(client, PULSE_NAMESPACE, options.migrations ?? loadSqlMigrations(PG_PULSE_MIGRATIONS_DIR));
  } finally {
    client.release();
  }
  const logger = options.logger ?? silentLogger;
  const listener = new JobListener(url, logger);
  await listener.start();
  const jobs = new PgJobStore(pool, listener, new DatabaseAvailability(logger));
  return {
    jobs,
    schedules: new PgScheduleStore(jobs),
    pluginSchedules: new PgPluginScheduleStore(jobs),
    migrated,
    close: () => listener.stop(),
  };
}
