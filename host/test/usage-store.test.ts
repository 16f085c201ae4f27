/**
 * The usage record's conformance suite (helpers/usage-cases.ts) on both stores: SQLite files
 * (two connections to one file stand for two processes) and a real PostgreSQL database per
 * test, where several hosts share one record.
 */
import { join } from "node:path";
import { afterAll, afterEach } from "@jest/globals";
import { createPool, openDatabase, type SqliteDatabase } from "@qntx/ats";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { PgUsageStore } from "../src/budget/pg-usage-store.js";
import { SqliteUsageStore } from "../src/budget/usage-store.js";
import { usageStoreCases } from "./helpers/usage-cases.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => cleanupTempDirs());

let file = "";
const sqliteStore = (fresh: boolean) => async () => {
  if (fresh) file = join(makeTempDir(), "qntx.db");
  const db: SqliteDatabase = openDatabase(file);
  cleanups.push(() => void db.close());
  return new SqliteUsageStore(db);
};
usageStoreCases("SQLite", sqliteStore(true), sqliteStore(false));

let database: TestDatabase | undefined;
const pgStore = (fresh: boolean) => async () => {
  if (fresh) {
    database = await createTestDatabase();
    const made = database;
    cleanups.push(() => made.drop());
  }
  const pool = createPool(database!.url);
  const store = await PgUsageStore.open(pool, database!.url);
  cleanups.push(async () => {
    await store.close();
    await pool.end();
  });
  return store;
};
if (pgSkipReason()) console.log(`PostgreSQL usage record tests skipped: ${pgSkipReason()}`);
else usageStoreCases("PostgreSQL", pgStore(true), pgStore(false));
