/**
 * PostgreSQL as a conformance subject: the test file gets its own database, cloned from a
 * template migrated once per run (@qntx/testing-pg); each test starts on emptied tables.
 */
import { createTestDatabase, pgSkipReason, type TemplateSpec, type TestDatabase } from "@qntx/testing-pg";
import pg from "pg";
import { openPgPulseStores, type PgPulseStores } from "../../src/index.js";
import type { OpenedStores, StoreSubject } from "./subject.js";

/** The migrated template every test database is cloned from. */
export const PULSE_TEMPLATE: TemplateSpec = {
  name: "pulse",
  async prepare(url) {
    const pool = new pg.Pool({ connectionString: url });
    const stores = await openPgPulseStores(pool, url);
    await stores.close();
    await pool.end();
  },
};

/** A database of its own for the calling test file, cloned from {@link PULSE_TEMPLATE}. */
export function pulseTestDatabase(): Promise<TestDatabase> {
  return createTestDatabase(PULSE_TEMPLATE);
}

/** One host's stores: its pool and the stores on it; `close` ends both. */
export async function pgHostStores(url: string): Promise<PgPulseStores & { pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  const stores = await openPgPulseStores(pool, url);
  return { ...stores, jobs: stores.jobs, pool, close: async () => {
    await stores.close();
    await pool.end();
  } };
}

let db: TestDatabase | undefined;

/** {@link StoreSubject} of the PostgreSQL stores. */
export const postgres: StoreSubject = {
  name: "postgres",
  skip: pgSkipReason(),
  async setup() {
    db = await pulseTestDatabase();
  },
  async teardown() {
    await db?.drop();
  },
  async open(): Promise<OpenedStores> {
    const first = await pgHostStores(db!.url);
    await first.pool.query("TRUNCATE pulse_jobs, pulse_job_logs, pulse_schedules, pulse_plugin_schedules RESTART IDENTITY");
    const all = [first];
    return {
      jobs: first.jobs, schedules: first.schedules, pluginSchedules: first.pluginSchedules,
      another: async () => {
        const next = await pgHostStores(db!.url);
        all.push(next);
        return next;
      },
      close: async () => {
        for (const s of all) await s.close();
      },
    };
  },
};
