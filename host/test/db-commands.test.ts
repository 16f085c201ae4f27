/**
 * `qntx db status` and `qntx db migrate` through the real CLI, on a SQLite file and on a real
 * PostgreSQL database: what is pending, applying it once (also with two runs at once), the
 * password masked, an unreachable server named, and a database a newer build migrated refused
 * — by the commands and by a host starting on it — naming both versions.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { execa } from "execa";
import pg from "pg";
import { openDatabase } from "@qntx/ats";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { SCHEMA_COMPONENTS } from "../src/schema/components.js";
import { CLI, freePort, startTestHost } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

afterAll(() => cleanupTempDirs());
// Each CLI run loads the whole CLI: seconds apiece on the shared 2-core machine.
jest.setTimeout(120_000);

const qntx = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, env: { QNTX_DATABASE_URL: "" } });
const statusOf = async (database: string) => {
  const run = await qntx(["db", "status", "--database", database, "--json"]);
  expect(run.exitCode).toBe(0);
  return JSON.parse(run.stdout) as { components: Array<{ namespace: string; found: number; known: number | null; state: string; pending: string[] }> };
};
const part = (status: Awaited<ReturnType<typeof statusOf>>, ns: string) => status.components.find((c) => c.namespace === ns)!;

describe("on the embedded SQLite file", () => {
  const dataDir = join(makeTempDir(), "data");
  const file = join(dataDir, "qntx.db");

  it("shows every part pending on a file not created yet, migrates them once, then nothing is pending", async () => {
    const before = await qntx(["db", "status", "--data-dir", dataDir]);
    expect(before.stdout).toContain(`database  ${file}  (SQLite, not created yet)`);
    expect(before.stdout).toMatch(/ats\s+attestations\s+0\s+\d+\s+\d+ pending/);
    expect(before.stdout).toMatch(/hosts\s+.*\s+0\s+-\s+not kept here/);
    const migrated = await qntx(["db", "migrate", "--data-dir", dataDir]);
    expect(migrated.exitCode).toBe(0);
    expect(migrated.stdout).toMatch(/ats: applied 1, 2/);
    const after = await statusOf(file);
    for (const c of SCHEMA_COMPONENTS.filter((c) => c.sqlite)) expect(part(after, c.namespace)).toMatchObject({ state: "up to date", found: c.sqlite!.names.length });
    expect((await qntx(["db", "migrate", "--data-dir", dataDir])).stdout).toBe("Nothing to migrate: every part is up to date.");
  });

  it("refuses a file a newer build migrated, naming both versions: status says so, migrate and a host starting on it refuse", async () => {
    const db = openDatabase(file);
    db.prepare("INSERT INTO schema_migrations (namespace, version, applied_at) VALUES ('pulse', 99, 0)").run();
    db.close();
    const known = SCHEMA_COMPONENTS.find((c) => c.namespace === "pulse")!.sqlite!.names.length;
    const message = `database schema "pulse" is at version 99, newer than this build knows (${known}); upgrade qntx or use another data directory`;
    expect(part(await statusOf(file), "pulse")).toMatchObject({ state: "too new", found: 99, known });
    const migrate = await qntx(["db", "migrate", "--database", file]);
    expect(migrate.exitCode).toBe(1);
    expect(migrate.stderr).toContain(`error: ${message}`);
    await expect(startTestHost("", { data_dir: dataDir })).rejects.toThrow(message);
  });
});

const describePg = pgSkipReason() ? describe.skip : describe;

describePg("on PostgreSQL", () => {
  let database: TestDatabase;
  let secretUrl: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    // Trust authentication ignores the password: it is only there to be masked.
    const url = new URL(database.url);
    url.password = "s3cret";
    secretUrl = url.toString();
  });
  afterAll(async () => database?.drop());

  it("shows the server and what is pending with the password masked, and two migrations at once apply each step once", async () => {
    const before = await qntx(["db", "status", "--database", secretUrl]);
    expect(before.exitCode).toBe(0);
    expect(before.stdout).not.toContain("s3cret");
    expect(before.stdout).toMatch(/^database {2}postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+ {2}\(PostgreSQL \d+/);
    expect(before.stdout).toMatch(/hosts\s+.*\s+0\s+1\s+1 pending: 001_hosts\.sql/);
    const [one, two] = await Promise.all([qntx(["db", "migrate", "--database", secretUrl]), qntx(["db", "migrate", "--database", secretUrl])]);
    expect([one.exitCode, two.exitCode]).toEqual([0, 0]);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const rows = (await client.query<{ namespace: string; n: string }>("SELECT namespace, count(*) AS n FROM schema_migrations GROUP BY namespace ORDER BY namespace")).rows;
    await client.end();
    expect(rows.map((r) => [r.namespace, Number(r.n)])).toEqual(
      SCHEMA_COMPONENTS.filter((c) => c.pg).map((c) => [c.namespace, c.pg!().length]).sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
    const after = await statusOf(secretUrl);
    for (const c of SCHEMA_COMPONENTS.filter((c) => c.pg)) expect(part(after, c.namespace).state).toBe("up to date");
  });

  it("refuses a database a newer build migrated, naming both versions", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query("INSERT INTO schema_migrations (namespace, version, applied_at) VALUES ('ats', 7, 0)");
    await client.end();
    const known = SCHEMA_COMPONENTS.find((c) => c.namespace === "ats")!.pg!().length;
    const status = await qntx(["db", "status", "--database", secretUrl]);
    expect(status.stdout).toMatch(/ats\s+attestations\s+7\s+1\s+too new/);
    const migrate = await qntx(["db", "migrate", "--database", secretUrl]);
    expect(migrate.exitCode).toBe(1);
    expect(migrate.stderr).toContain(`database schema "ats" is at version 7, newer than this build knows (${known}); upgrade qntx or point it at another database`);
  });

  it("names an unreachable server with the password masked, and what to check", async () => {
    const nobody = `postgres://qntx:hunter2@127.0.0.1:${await freePort()}/qntx`;
    const run = await qntx(["db", "status", "--database", nobody]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/^error: reading the schema: cannot reach the database at postgres:\/\/qntx:\*\*\*@127\.0\.0\.1:\d+\/qntx: .*ECONNREFUSED/);
    expect(run.stderr).toContain("hint: check that PostgreSQL runs");
    expect(run.stderr).not.toContain("hunter2");
  });
});
