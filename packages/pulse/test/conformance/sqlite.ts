/** SQLite as a conformance subject: a new database file per test (helpers.ts). */
import { SqliteJobStore, SqlitePluginScheduleStore, SqliteScheduleStore } from "../../src/index.js";
import { tempDb } from "../helpers.js";
import type { OpenedStores, Stores, StoreSubject } from "./subject.js";

function storesOn(db: ReturnType<typeof tempDb>["db"]): Stores {
  const jobs = new SqliteJobStore(db);
  return { jobs, schedules: new SqliteScheduleStore(db, jobs), pluginSchedules: new SqlitePluginScheduleStore(db, jobs) };
}

/** {@link StoreSubject} of the SQLite stores. */
export const sqlite: StoreSubject = {
  name: "sqlite",
  skip: undefined,
  setup: async () => undefined,
  teardown: async () => undefined,
  async open(): Promise<OpenedStores> {
    const t = tempDb();
    return { ...storesOn(t.db), another: async () => storesOn(t.open()), close: async () => t.cleanup() };
  },
};
