/**
 * PostgreSQL migrations: numbered files, applied once under the advisory lock even when
 * several hosts (processes) start together, a failing step rolled back, and a database newer
 * than the build refused with both versions named.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { createTestDatabase, type TestDatabase } from "@qntx/testing-pg";
import pg from "pg";
import {
  AtsError,
  ATS_NAMESPACE,
  loadSqlMigrations,
  migratePg,
  MIGRATION_LOCK_KEY,
  PG_ATS_MIGRATIONS_DIR,
  pgSchemaVersion,
  PostgresAttestationStore,
  type MigrateResult,
} from "../../src/index.js";
import { describePg, lastJson, runNode, waitFor } from "./support.js";

describe("migration files", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("are read in order and must be numbered 1, 2, 3… without gaps", () => {
    dir = mkdtempSync(join(tmpdir(), "qntx-migrations-"));
    writeFileSync(join(dir, "002_more.sql"), "SELECT 2");
    writeFileSync(join(dir, "001_first.sql"), "SELECT 1");
    writeFileSync(join(dir, "README.txt"), "not a migration");
    expect(loadSqlMigrations(dir).map((m) => [m.version, m.name, m.sql])).toEqual([
      [1, "001_first.sql", "SELECT 1"],
      [2, "002_more.sql", "SELECT 2"],
    ]);
    writeFileSync(join(dir, "004_gap.sql"), "SELECT 4");
    expect(() => loadSqlMigrations(dir)).toThrow(/expected version 3, found 004_gap\.sql/);
    rmSync(join(dir, "004_gap.sql"));
    writeFileSync(join(dir, "three.sql"), "SELECT 3");
    expect(() => loadSqlMigrations(dir)).toThrow(/migration file three\.sql .*name it NNN_what\.sql/);
  });

  it("of the store start at 001", () => {
    expect(loadSqlMigrations(PG_ATS_MIGRATIONS_DIR).map((m) => m.name)).toEqual(["001_attestations.sql"]);
  });
});

/** Sessions of `admin`'s database waiting for the migration lock (other test files migrate their own databases meanwhile). */
async function waitingForLock(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    [MIGRATION_LOCK_KEY],
  );
  return rows[0]!.n;
}

describePg("migratePg", () => {
  let db: TestDatabase;
  const clients: pg.Client[] = [];
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end();
  });
  afterAll(() => db.drop());

  const steps = (...sql: string[]) => sql.map((text, i) => ({ version: i + 1, name: `00${i + 1}_step.sql`, sql: text }));

  it("applies each version once, in order, and records it", async () => {
    const c = await connect();
    expect(await migratePg(c, "demo", steps("CREATE TABLE d1 (x int)"))).toEqual({ from: 0, to: 1, applied: [1] });
    expect(await migratePg(c, "demo", steps("CREATE TABLE d1 (x int)", "INSERT INTO d1 VALUES (7)"))).toEqual({ from: 1, to: 2, applied: [2] });
    expect(await migratePg(c, "demo", steps("CREATE TABLE d1 (x int)", "INSERT INTO d1 VALUES (7)"))).toEqual({ from: 2, to: 2, applied: [] });
    expect((await c.query("SELECT x FROM d1")).rows).toEqual([{ x: 7 }]);
    expect(await pgSchemaVersion(c, "demo")).toBe(2);
    expect(await pgSchemaVersion(c, "other")).toBe(0);
  });

  it("lets two openers that start together migrate once: the second waits on the advisory lock", async () => {
    const [holder, first, second] = [await connect(), await connect(), await connect()];
    // Hold the lock so both openers are certainly inside migratePg at the same time.
    await holder.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    // Not idempotent: applied twice, the CREATE TABLE would fail.
    const both = [migratePg(first, "race", steps("CREATE TABLE raced (x int)")), migratePg(second, "race", steps("CREATE TABLE raced (x int)"))];
    await waitFor("both openers waiting on the lock", async () => (await waitingForLock(holder)) === 2);
    await holder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    const results = await Promise.all(both);
    expect(results.map((r) => r.applied).sort()).toEqual([[], [1]]);
    expect((await holder.query("SELECT count(*)::int AS n FROM schema_migrations WHERE namespace = 'race'")).rows).toEqual([{ n: 1 }]);
  });

  it("rolls a failing step back entirely, keeps the earlier ones, and releases the lock", async () => {
    const c = await connect();
    await expect(migratePg(c, "half", steps("CREATE TABLE ok1 (x int)", "CREATE TABLE half1 (x int); SELECT * FROM no_such_table"))).rejects.toThrow(
      /migration half 002_step\.sql failed: .*no_such_table/,
    );
    expect(await pgSchemaVersion(c, "half")).toBe(1);
    expect((await c.query("SELECT to_regclass('half1') AS t")).rows).toEqual([{ t: null }]);
    const other = await connect();
    // The lock is free: another session takes it at once.
    expect((await other.query("SELECT pg_try_advisory_lock($1) AS got", [MIGRATION_LOCK_KEY])).rows).toEqual([{ got: true }]);
    await other.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    expect((await migratePg(c, "half", steps("CREATE TABLE ok1 (x int)", "CREATE TABLE half1 (x int)"))).applied).toEqual([2]);
  });
});

describePg("the store's schema on PostgreSQL", () => {
  const dbs: TestDatabase[] = [];
  const fresh = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    dbs.push(db);
    return db;
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it("is migrated once when two host processes open an empty database together", async () => {
    const db = await fresh();
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      const runs = [runNode("pg-open.mjs", [db.url]), runNode("pg-open.mjs", [db.url])];
      await waitFor(
        "both processes waiting on the migration lock",
        async () => (await waitingForLock(holder)) === 2,
        30_000,
      );
      await holder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
      const results = (await Promise.all(runs)).map((run) => lastJson<{ migrated: MigrateResult }>(run).migrated);
      expect(results.map((r) => r.applied).sort()).toEqual([[], [1]]);
      const { rows } = await holder.query("SELECT version FROM schema_migrations WHERE namespace = $1", [ATS_NAMESPACE]);
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await holder.end();
    }
  });

  it("refuses a database a newer build migrated, naming both versions, and changes nothing", async () => {
    const db = await fresh();
    await (await PostgresAttestationStore.open(db.url)).close();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query("INSERT INTO schema_migrations (namespace, version, applied_at) VALUES ('ats', 99, 0)");
      const error = await PostgresAttestationStore.open(db.url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AtsError);
      expect((error as AtsError).code).toBe("SCHEMA_TOO_NEW");
      expect((error as AtsError).message).toBe(
        'database schema "ats" is at version 99, newer than this build knows (1); upgrade qntx or point it at another database',
      );
      expect((error as AtsError).hint).toBe('this qntx understands "ats" up to version 1');
      expect((await admin.query("SELECT max(version) AS v FROM schema_migrations")).rows).toEqual([{ v: 99 }]);
      // Nothing is left connected by the refused open (the server ends a closed session a moment later).
      await waitFor("the refused open's sessions to end", async () => {
        const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        return rows[0].n === 0;
      });
    } finally {
      await admin.end();
    }
  });
});
